"""The local web server that receives the browser after the user signs in.

OAuth for a desktop app without a client secret: the browser is sent to the service,
the user signs in, and the service redirects to ``http://127.0.0.1:PORT/callback`` with
``?code=…&state=…``. This server answers that one request, checks ``state`` (a redirect
nobody asked for is an attack, not a sign-in), hands the code to the waiting thread and
shows a page saying the window may be closed. It listens on the loopback interface
only, so nothing on the network can reach it.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit, urlunsplit

from base.errors import UserFacingError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

_PAGE = """<!doctype html><meta charset="utf-8"><title>Infinite Player</title>
<body style="font-family:sans-serif;margin:3em"><h1>{title}</h1><p>{body}</p></body>"""


class LoopbackRedirectServer:
    """Context manager: listen, then :meth:`wait` for the redirect's ``code``."""

    def __init__(self, redirect_uri: str, state: str) -> None:
        parts = urlsplit(redirect_uri)
        if (
            parts.scheme != "http"
            or parts.hostname is None
            or (parts.netloc.rsplit(":", 1)[0] not in LOOPBACK_HOSTS)
        ):
            raise UserFacingError(
                f"redirect URI {redirect_uri!r} must be http://127.0.0.1:PORT/PATH (a loopback "
                "address, as registered in your Spotify app)"
            )
        self._parts = parts
        self._host = "::1" if parts.hostname == "::1" else "127.0.0.1"
        self._port = parts.port or 80
        self._path = parts.path or "/"
        self._state = state
        self._done = threading.Event()
        self._code: str | None = None
        self._error: str | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def redirect_uri(self) -> str:
        """The URI to send to the service, with the real port when 0 was asked for."""
        port = self._server.server_address[1] if self._server else self._port
        host = self._parts.hostname if self._parts.hostname != "::1" else "[::1]"
        return urlunsplit(("http", f"{host}:{port}", self._path, "", ""))

    def __enter__(self) -> LoopbackRedirectServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the terminal is the user's, not an access log

        server_class = ThreadingHTTPServer
        if self._host == "::1":
            import socket

            class V6Server(ThreadingHTTPServer):
                address_family = socket.AF_INET6

            server_class = V6Server
        try:
            self._server = server_class((self._host, self._port), Handler)
        except OSError as exc:
            raise UserFacingError(
                f"cannot listen on {self._host}:{self._port} for the sign-in redirect ({exc}); "
                "close what uses that port or register another port in your Spotify app "
                "and pass it with --redirect-uri"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oauth-redirect", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        if url.path != self._path:
            self._respond(request, 404, "Not found", "This address is not the sign-in page.")
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if self._done.is_set():
            self._respond(request, 409, "Already done", "Sign-in was already handled.")
            return
        if query.get("state") != self._state:
            self._error = (
                "the sign-in reply did not carry the state this app sent (possible forgery)"
            )
            self._respond(request, 400, "Sign-in refused", "The reply did not match this request.")
        elif "error" in query:
            reason = query["error"]
            self._error = (
                "you declined access"
                if reason == "access_denied"
                else f"the service said {reason!r}"
            )
            self._respond(request, 400, "Not connected", html.escape(self._error))
        elif query.get("code"):
            self._code = query["code"]
            self._respond(
                request,
                200,
                "Connected",
                "You can close this window and return to Infinite Player.",
            )
        else:
            self._error = "the sign-in reply carried no code"
            self._respond(request, 400, "Sign-in failed", "The reply carried no code.")
        self._done.set()

    @staticmethod
    def _respond(request: BaseHTTPRequestHandler, status: int, title: str, body: str) -> None:
        payload = _PAGE.format(title=html.escape(title), body=body).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        request.wfile.write(payload)

    def wait(self, timeout_s: float) -> str:
        """The authorization code; raises naming why there is none."""
        if not self._done.wait(timeout_s):
            raise UserFacingError(
                f"no sign-in arrived within {timeout_s:.0f} s; run the command again and finish "
                "signing in in the browser"
            )
        if self._error is not None or self._code is None:
            raise UserFacingError(f"not connected: {self._error or 'no code'}")
        return self._code

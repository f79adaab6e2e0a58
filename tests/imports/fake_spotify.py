"""A fake Spotify (accounts + Web API) on loopback, speaking the documented shapes.

It plays the server side honestly: ``/authorize`` redirects to the app's redirect URI
with a code, ``/api/token`` checks the PKCE verifier against the challenge (S256) and
that no client secret is sent, API endpoints require a live bearer token and page with
``next`` URLs. Tests can queue raw responses (429 with Retry-After, 500) and revoke
tokens to force the client's recovery paths. No request ever leaves the machine.

The catalogue endpoints the genre prior uses answer from ``catalogue_tracks`` and
``catalogue_artists``: ``GET /v1/tracks?ids=`` and ``GET /v1/artists?ids=`` refuse more
than 50 ids with a 400 as Spotify does, and ``GET /v1/search?type=artist`` finds artists
by name (case-insensitive, the ``artist:"…"`` filter understood).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "test-client-id"


@dataclass
class Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


def artist(name: str, artist_id: str, genres: list[str]) -> dict[str, Any]:
    """An artist object as the Web API returns it (the fields the genre prior reads)."""
    return {
        "id": artist_id,
        "name": name,
        "genres": genres,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


def track(name: str, artist: str, album: str, track_id: str) -> dict[str, Any]:
    """A track object as the Web API returns it (simplified to the fields the app reads)."""
    return {
        "album": {
            "album_type": "album",
            "name": album,
            "id": f"al{track_id}",
            "uri": f"spotify:album:al{track_id}",
        },
        "artists": [
            {
                "name": artist,
                "id": f"ar{track_id}",
                "type": "artist",
                "uri": f"spotify:artist:ar{track_id}",
            }
        ],
        "duration_ms": 215000,
        "explicit": False,
        "id": track_id,
        "is_local": False,
        "name": name,
        "type": "track",
        "uri": f"spotify:track:{track_id}",
    }


class FakeSpotify:
    def __init__(self) -> None:
        self.page_size = 2
        self.expires_in = 3600
        self.recently_played: list[dict[str, Any]] = []  # newest first, like Spotify
        self.saved: list[dict[str, Any]] = []  # newest first
        self.top_artists: list[str] = []
        self.catalogue_tracks: dict[str, dict[str, Any]] = {}  # id -> track object
        self.catalogue_artists: dict[str, dict[str, Any]] = {}  # id -> artist object
        self.script: dict[str, list[Scripted]] = {}
        self.log: list[tuple[str, str, dict[str, list[str]], str | None]] = []
        self.grants: list[dict[str, str]] = []
        self.challenges: dict[str, tuple[str, str]] = {}  # code -> (challenge, redirect_uri)
        self.live_access: set[str] = set()
        self.live_refresh: set[str] = set()
        self.issued: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSpotify:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- helpers for tests ----------------------------------------------------------------

    def issue_tokens(self) -> dict[str, Any]:
        access, refresh = "AT-" + secrets.token_hex(16), "RT-" + secrets.token_hex(16)
        self.live_access.add(access)
        self.live_refresh.add(refresh)
        self.issued.extend([access, refresh])
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "scope": "user-read-recently-played user-top-read user-library-read",
        }

    def revoke_access_tokens(self) -> None:
        self.live_access.clear()

    def api_calls(self, path: str) -> list[tuple[dict[str, list[str]], str | None]]:
        return [(q, auth) for method, p, q, auth in self.log if p == path and method == "GET"]

    # -- server -----------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                auth = self.headers.get("Authorization")
                with fake._lock:
                    fake.log.append(("GET", url.path, query, auth))
                    scripted = fake.script.get(url.path)
                    queued = scripted.pop(0) if scripted else None
                if url.path == "/authorize":
                    self._authorize(query)
                    return
                if queued is not None:
                    self._send(queued.status, queued.body, queued.headers)
                    return
                token = (auth or "").removeprefix("Bearer ")
                if token not in fake.live_access:
                    self._send(
                        401, {"error": {"status": 401, "message": "The access token expired"}}
                    )
                    return
                if url.path == "/v1/me/player/recently-played":
                    after = int(query.get("after", ["0"])[0])
                    items = [i for i in fake.recently_played if i["_ms"] > after]
                    self._page(url.path, items, query, {"after": str(after)})
                elif url.path == "/v1/me/tracks":
                    self._page(url.path, fake.saved, query, {})
                elif url.path == "/v1/me/top/artists":
                    items = [{"name": n, "type": "artist"} for n in fake.top_artists]
                    self._send(200, {"items": items, "next": None, "total": len(items)})
                elif url.path.rstrip("/") in ("/v1/tracks", "/v1/artists"):
                    kind = url.path.strip("/").split("/")[1]
                    table = fake.catalogue_tracks if kind == "tracks" else fake.catalogue_artists
                    ids = [i for i in query.get("ids", [""])[0].split(",") if i]
                    if len(ids) > 50:
                        self._send(400, {"error": {"status": 400, "message": "Too many ids"}})
                        return
                    self._send(200, {kind: [table.get(i) for i in ids]})
                elif url.path.rstrip("/") == "/v1/search":
                    wanted = query.get("q", [""])[0].removeprefix("artist:").strip('"').lower()
                    items = [
                        a for a in fake.catalogue_artists.values() if a["name"].lower() == wanted
                    ]
                    self._send(
                        200, {"artists": {"items": items, "next": None, "total": len(items)}}
                    )
                else:
                    self._send(404, {"error": {"status": 404, "message": "Not found"}})

            def _page(self, path: str, items: list[dict[str, Any]], query, keep: dict[str, str]):
                offset = int(query.get("offset", ["0"])[0])
                chunk = items[offset : offset + fake.page_size]
                more = offset + fake.page_size < len(items)
                params = urlencode({**keep, "offset": offset + fake.page_size, "limit": 50})
                body = {
                    "href": f"{fake.base}{path}",
                    "items": [{k: v for k, v in i.items() if k != "_ms"} for i in chunk],
                    "limit": 50,
                    "next": f"{fake.base}{path}?{params}" if more else None,
                    "total": len(items),
                }
                self._send(200, body)

            def _authorize(self, query: dict[str, list[str]]) -> None:
                one = {k: v[0] for k, v in query.items()}
                assert one["client_id"] == CLIENT_ID
                assert one["response_type"] == "code"
                assert one["code_challenge_method"] == "S256"
                code = "code-" + secrets.token_hex(8)
                fake.challenges[code] = (one["code_challenge"], one["redirect_uri"])
                target = (
                    one["redirect_uri"]
                    + "?"
                    + urlencode({"code": code, "state": one.get("state", "")})
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake._lock:
                    fake.log.append(("POST", url.path, {}, self.headers.get("Authorization")))
                    fake.grants.append(form)
                if url.path != "/api/token":
                    self._send(404, {"error": "not_found"})
                    return
                if "client_secret" in form or self.headers.get("Authorization"):
                    self._send(
                        400,
                        {
                            "error": "invalid_client",
                            "error_description": "public client sent a secret",
                        },
                    )
                    return
                if form.get("client_id") != CLIENT_ID:
                    self._send(400, {"error": "invalid_client"})
                    return
                if form.get("grant_type") == "authorization_code":
                    challenge, redirect = fake.challenges.pop(form.get("code", ""), ("", ""))
                    verifier = form.get("code_verifier", "")
                    digest = hashlib.sha256(verifier.encode()).digest()
                    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
                    if (
                        not challenge
                        or expected != challenge
                        or redirect != form.get("redirect_uri")
                    ):
                        self._send(
                            400,
                            {
                                "error": "invalid_grant",
                                "error_description": "code_verifier was incorrect",
                            },
                        )
                        return
                    self._send(200, fake.issue_tokens())
                elif form.get("grant_type") == "refresh_token":
                    if form.get("refresh_token") not in fake.live_refresh:
                        self._send(
                            400,
                            {
                                "error": "invalid_grant",
                                "error_description": "Refresh token revoked",
                            },
                        )
                        return
                    tokens = fake.issue_tokens()
                    del tokens["refresh_token"]  # Spotify may keep the old refresh token
                    self._send(200, tokens)
                else:
                    self._send(400, {"error": "unsupported_grant_type"})

        return Handler

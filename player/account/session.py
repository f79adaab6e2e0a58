"""Sign-in with Supabase Auth through supabase-py, and the access token the sync uses.

Refresh tokens rotate: using one gives a new one and retires the old, and Auth treats a
retired one coming back as a stolen token. Two app processes (the player and a CLI sync)
must therefore never refresh from the same token. Every refresh happens under a file lock
shared by all processes of this profile, and re-reads the stored token inside it, so the
second process refreshes from the token the first one just stored.
"""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlparse

from filelock import FileLock, Timeout

from base.errors import UserFacingError
from player.account.config import AccountConfig
from player.account.vault import SessionVault, default_vault

#: Refresh this long before the access token expires (a sync must not start with a token
#: that dies half way).
REFRESH_MARGIN = 60.0
#: Seconds to wait for another process's refresh.
LOCK_WAIT = 30.0


class SignInError(UserFacingError):
    """Sign-in, refresh or sign-out failed; the message says why and what to do."""


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    email: str


def _auth_message(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc)


def _unreachable(exc: Exception) -> bool:
    """supabase-auth reports a network failure as AuthRetryableError (or lets httpx's out)."""
    import httpx
    from supabase_auth.errors import AuthRetryableError

    return isinstance(exc, AuthRetryableError | httpx.TransportError | OSError)


class Account:
    """One Supabase project's account on this device."""

    def __init__(
        self,
        config: AccountConfig,
        vault: SessionVault | None = None,
        lock_path: Path | None = None,
    ) -> None:
        from supabase import ClientOptions, create_client

        from base.paths import data_dir

        keys = data_dir() / "keys"
        self.config = config
        self.vault = vault or default_vault(config.url, keys)
        self.lock = FileLock(str(lock_path or keys / "supabase-session.lock"))
        # No timers and no persistence inside supabase-py: this class refreshes (under the
        # lock) and stores (in the vault) itself.
        self.client = create_client(
            config.url,
            config.key,
            options=ClientOptions(
                auto_refresh_token=False, persist_session=False, flow_type="pkce"
            ),
        )
        self._access: tuple[str, float] | None = None
        self._mutex = threading.Lock()

    # -- who ---------------------------------------------------------------------------------

    def signed_in(self) -> SignedIn | None:
        stored = self.vault.load()
        if not stored or not stored.get("refresh_token"):
            return None
        return SignedIn(str(stored["user_id"]), str(stored.get("email") or ""))

    # -- sign-in -----------------------------------------------------------------------------

    def send_code(self, email: str) -> None:
        """Mail a one-time code to ``email`` (creating the account on first use)."""

        email = email.strip()
        if "@" not in email:
            raise SignInError(f"{email!r} is not an email address.")
        try:
            self.client.auth.sign_in_with_otp({"email": email})
        except Exception as exc:
            self._raise_for(exc, f"Could not send a code to {email}")

    def verify_code(self, email: str, code: str) -> SignedIn:

        code = code.strip()
        if not code.isdigit():
            raise SignInError("The code is the six digits from the email.")
        try:
            got = self.client.auth.verify_otp(
                {"email": email.strip(), "token": code, "type": "email"}
            )
        except Exception as exc:
            self._raise_for(exc, "That code was not accepted")
        return self.keep_session(got.session)

    def _raise_for(self, exc: Exception, what: str) -> NoReturn:
        """A clear SignInError for an Auth failure; anything else is a bug and stays one."""
        from supabase_auth.errors import AuthError

        if _unreachable(exc):
            raise SignInError(
                f"Cannot reach Supabase Auth at {self.config.url} ({_auth_message(exc)}); "
                "check the connection and try again."
            ) from exc
        if isinstance(exc, AuthError):
            raise SignInError(f"{what}: {_auth_message(exc)}") from exc
        raise exc

    def sign_in_with_provider(
        self,
        provider: str,
        open_url: Callable[[str], Any] = webbrowser.open,
        timeout: float = 300.0,
    ) -> SignedIn:
        """OAuth with PKCE: the browser comes back to a one-shot server on 127.0.0.1."""

        got: dict[str, str] = {}

        class Callback(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                got.update({k: v[0] for k, v in query.items()})
                body = b"Signed in. You can close this tab and return to Infinite Player."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = HTTPServer(("127.0.0.1", 0), Callback)
        server.timeout = 0.5
        try:
            redirect = f"http://127.0.0.1:{server.server_address[1]}/callback"
            oauth = self.client.auth.sign_in_with_oauth(
                {"provider": provider, "options": {"redirect_to": redirect}}  # type: ignore[typeddict-item]
            )
            open_url(oauth.url)
            deadline = time.monotonic() + timeout
            while "code" not in got and "error" not in got:
                if time.monotonic() > deadline:
                    raise SignInError(f"No answer from {provider} sign-in within {timeout:.0f} s.")
                server.handle_request()
        finally:
            server.server_close()
        if "code" not in got:
            raise SignInError(f"{provider} sign-in failed: {got.get('error_description', got)}")
        try:
            done = self.client.auth.exchange_code_for_session(
                {"auth_code": got["code"], "redirect_to": redirect}
            )
        except Exception as exc:
            self._raise_for(exc, f"{provider} sign-in failed")
        return self.keep_session(done.session)

    def keep_session(self, session: Any) -> SignedIn:
        """Store a session got from supabase-py (sign-in of any kind) as this account's."""
        if session is None:
            raise SignInError("Supabase Auth answered without a session; try again.")
        who = SignedIn(str(session.user.id), str(session.user.email or ""))
        with self._lock():
            self.vault.save(
                {
                    "refresh_token": session.refresh_token,
                    "user_id": who.user_id,
                    "email": who.email,
                }
            )
        with self._mutex:
            self._access = (session.access_token, float(session.expires_at or 0))
        return who

    # -- the token the Data API and Storage get -------------------------------------------------

    def _lock(self) -> FileLock:
        Path(self.lock.lock_file).parent.mkdir(parents=True, exist_ok=True)
        return self.lock

    def access_token(self) -> str:
        """A valid access token, refreshed when it expires within ``REFRESH_MARGIN``."""
        with self._mutex:
            if self._access and self._access[1] - time.time() > REFRESH_MARGIN:
                return self._access[0]
            return self._refresh()

    def _refresh(self) -> str:
        from supabase_auth.errors import AuthError

        try:
            with self._lock().acquire(timeout=LOCK_WAIT):
                stored = self.vault.load()
                if not stored or not stored.get("refresh_token"):
                    raise SignInError("Not signed in: sign in under Settings > Account.")
                try:
                    got = self.client.auth.refresh_session(stored["refresh_token"])
                except Exception as exc:
                    if _unreachable(exc):
                        self._raise_for(exc, "")
                    if not isinstance(exc, AuthError):
                        raise
                    raise SignInError(
                        f"The session could not be renewed ({_auth_message(exc)}); sign in again."
                    ) from exc
                session = got.session
                if session is None:
                    raise SignInError("Supabase Auth did not renew the session; sign in again.")
                self.vault.save({**stored, "refresh_token": session.refresh_token})
        except Timeout as exc:
            raise SignInError(
                "Another Infinite Player process is renewing the session and has not finished; "
                "try again."
            ) from exc
        self._access = (session.access_token, float(session.expires_at or 0))
        return session.access_token

    # -- sign-out ------------------------------------------------------------------------------

    def sign_out(self) -> str | None:
        """Revoke the session on the server when reachable; always wipe it here. Returns a
        note when the server could not be told (the refresh token is gone from this device
        either way)."""
        note = None
        with self._mutex:
            try:
                if self.signed_in() is not None:
                    if self._access is None or self._access[1] <= time.time():
                        self._refresh()  # supabase-py signs out the session it holds
                    self.client.auth.sign_out({"scope": "global"})
            except Exception as exc:
                note = f"The server was not told ({_auth_message(exc)}); this device is signed out."
            with self._lock():
                self.vault.wipe()
            self._access = None
        return note

    # -- what the sync uses ----------------------------------------------------------------------

    def remote(self) -> Any:
        """The sync functions over the Data API, as this account."""
        from db.sync.rpc import RpcRemote

        return RpcRemote(self.config.url, self.config.key, self.access_token)

    def audio_storage(self, bucket: str = "tracks") -> Any:
        """Supabase Storage with this account's token (the per-user folder policies)."""
        from player.storage import SupabaseStorage

        return SupabaseStorage(
            self.config.url, bucket=bucket, api_key=self.config.key, access_token=self.access_token
        )

"""Spotify through its Web API, with spotipy: sign in once, then import incrementally.

- **Sign-in**: Authorization Code with PKCE (``spotipy.SpotifyPKCE``) — a desktop app
  cannot keep a client secret, so none is shipped; the client id is a setting. The
  browser comes back to :class:`~player.imports.loopback.LoopbackRedirectServer`.
- **Tokens**: spotipy's cache is replaced by :class:`DatabaseCacheHandler`, which keeps
  them encrypted in ``oauth_connections`` (:mod:`player.imports.tokens`). spotipy
  refreshes a token that expires within 60 s before using it; a 401 anyway (revoked,
  clock skew) triggers one forced refresh and a retry.
- **Rate limits and flaky networks**: spotipy's own retry adapter is not used (it would
  sleep for whatever ``Retry-After`` says, unbounded and untestable); :meth:`_call`
  honours ``Retry-After`` up to ``max_wait_s``, backs off exponentially on network
  errors and 5xx, and gives up with a message.
- **Incremental**: ``last_synced_at`` bounds what is fetched next time; duplicates are
  anyway dropped by the history's unique index.

What is imported: recently played tracks (when they were played) and saved tracks (at
the time they were saved — a save is as strong a taste signal as a play).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import uuid
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from spotipy.cache_handler import CacheHandler
from spotipy.exceptions import SpotifyException, SpotifyOauthError

from base.errors import UserFacingError
from player.imports.base import Play, RecordReader, iso_time
from player.imports.history import ImportResult, rebuild_taste_after_import, store_plays
from player.imports.loopback import LoopbackRedirectServer
from player.imports.tokens import Connection, TokenStore

if TYPE_CHECKING:
    import spotipy

    from db.database import Database

log = logging.getLogger(__name__)

PLATFORM = "spotify"
SCOPES = ("user-read-recently-played", "user-top-read", "user-library-read")
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
CLIENT_ID_ENV = "INFINITE_PLAYER_SPOTIFY_CLIENT_ID"
MAX_PAGES = 200

T = TypeVar("T")


@dataclass(frozen=True)
class SpotifyConfig:
    """Where and how to talk to Spotify (tests point the URLs at a local fake)."""

    client_id: str
    redirect_uri: str = DEFAULT_REDIRECT_URI
    accounts_url: str = "https://accounts.spotify.com"
    api_url: str = "https://api.spotify.com/v1/"
    timeout_s: float = 15.0
    max_attempts: int = 5
    max_wait_s: float = 120.0


def spotify_config(client_id: str | None = None, redirect_uri: str | None = None) -> SpotifyConfig:
    """The config from explicit values, else ``$INFINITE_PLAYER_SPOTIFY_CLIENT_ID`` or settings."""
    client_id = client_id or os.environ.get(CLIENT_ID_ENV) or _setting("spotify_client_id")
    if not client_id:
        raise UserFacingError(
            "connecting to Spotify needs the client id of a Spotify app: create one at "
            f"https://developer.spotify.com/dashboard with redirect URI {DEFAULT_REDIRECT_URI}, "
            f"then pass --client-id or set {CLIENT_ID_ENV}"
        )
    redirect = redirect_uri or _setting("spotify_redirect_uri") or DEFAULT_REDIRECT_URI
    return SpotifyConfig(client_id=client_id, redirect_uri=redirect)


def _setting(key: str) -> str | None:
    """A string setting if the settings module declares it (another area owns that file)."""
    try:
        from player.settings import OPTIONS, Settings
    except ImportError:
        return None
    if key not in OPTIONS:
        return None
    value = Settings.load().get(key)
    return value if isinstance(value, str) and value else None


class DatabaseCacheHandler(CacheHandler):
    """spotipy's token cache, backed by encrypted ``oauth_connections`` rows.

    The scope is not a column of the spec's table; the connector's scope is reported
    back, since tokens are only ever obtained with it.
    """

    def __init__(self, store: TokenStore, user_id: uuid.UUID, scope: str) -> None:
        self.store = store
        self.user_id = user_id
        self.scope = scope

    def get_cached_token(self) -> dict[str, Any] | None:
        connection = self.store.load(self.user_id, PLATFORM)
        if connection is None:
            return None
        expires = connection.expires_at
        return {
            "access_token": connection.access_token,
            "refresh_token": connection.refresh_token,
            "token_type": "Bearer",
            "scope": self.scope,
            "expires_at": int(expires.timestamp()) if expires else 0,
        }

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        expires_at = datetime.fromtimestamp(int(token_info["expires_at"]), UTC)
        self.store.save(
            self.user_id,
            PLATFORM,
            token_info["access_token"],
            token_info.get("refresh_token"),
            expires_at,
        )


class SpotifyConnector:
    """One user's Spotify connection: sign in, sync history, disconnect."""

    def __init__(
        self,
        database: Database,
        user_id: uuid.UUID,
        config: SpotifyConfig,
        *,
        store: TokenStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import spotipy

        self.database = database
        self.user_id = user_id
        self.config = config
        self.store = store if store is not None else TokenStore(database)
        self._sleep = sleep
        self._session = requests.Session()
        scope = " ".join(SCOPES)
        self.auth = spotipy.SpotifyPKCE(
            client_id=config.client_id,
            redirect_uri=config.redirect_uri,
            scope=scope,
            cache_handler=DatabaseCacheHandler(self.store, user_id, scope),
            requests_session=self._session,
            requests_timeout=config.timeout_s,
            open_browser=False,
        )
        self.auth.OAUTH_AUTHORIZE_URL = config.accounts_url.rstrip("/") + "/authorize"
        self.auth.OAUTH_TOKEN_URL = config.accounts_url.rstrip("/") + "/api/token"
        self.client: spotipy.Spotify = spotipy.Spotify(
            auth_manager=self.auth,
            requests_session=self._session,
            requests_timeout=config.timeout_s,
            retries=0,
            status_retries=0,
        )
        self.client.prefix = config.api_url

    # -- sign-in ----------------------------------------------------------------------

    def authorize(
        self,
        open_browser: Callable[[str], object] = webbrowser.open,
        timeout_s: float = 300.0,
    ) -> None:
        """Run the PKCE sign-in through the browser and store the tokens encrypted."""
        state = secrets.token_urlsafe(24)
        with LoopbackRedirectServer(self.config.redirect_uri, state) as server:
            self.auth.redirect_uri = server.redirect_uri
            self.auth.get_pkce_handshake_parameters()
            open_browser(self.auth.get_authorize_url(state))
            code = server.wait(timeout_s)
        self._call(lambda: self.auth.get_access_token(code, check_cache=False))

    def disconnect(self) -> bool:
        return self.store.delete(self.user_id, PLATFORM)

    # -- sync -------------------------------------------------------------------------

    def _connection(self) -> Connection:
        # Without stored tokens spotipy would start an interactive sign-in on stdin.
        connection = self.store.load(self.user_id, PLATFORM)
        if connection is None:
            raise UserFacingError("Spotify is not connected; run `infinite-player connect spotify`")
        return connection

    def sync(self) -> ImportResult:
        """Import what was played (and saved) since the last sync, all or nothing."""
        connection = self._connection()
        since = connection.last_synced_at
        started = datetime.now(UTC)
        # Fetch first, then write: no transaction stays open across network calls.
        plays = [*self._recently_played(since), *self._saved_tracks(since)]
        result = store_plays(self.database, self.user_id, plays)
        self.store.mark_synced(self.user_id, PLATFORM, started)
        if result.imported:
            rebuild_taste_after_import(self.database, self.user_id)
        return result

    def top_artist_names(self, n: int = 10) -> list[str]:
        """Spotify's own view of the user's top artists (onboarding suggestions)."""
        self._connection()
        page = self._call(lambda: self.client.current_user_top_artists(limit=min(n, 50)))
        return [a["name"] for a in (page or {}).get("items", []) if isinstance(a, dict)][:n]

    def _recently_played(self, since: datetime | None) -> Iterator[Play]:
        after = int(since.timestamp() * 1000) if since else None
        page = self._call(lambda: self.client.current_user_recently_played(limit=50, after=after))
        for number, item in enumerate(self._pages(page), start=1):
            record = RecordReader("recently played", number, item)
            play = self._play(record, record.timestamp("played_at", iso_time))
            if play is not None:
                yield play

    def _saved_tracks(self, since: datetime | None) -> Iterator[Play]:
        page = self._call(lambda: self.client.current_user_saved_tracks(limit=50))
        for number, item in enumerate(self._pages(page), start=1):
            record = RecordReader("saved tracks", number, item)
            added = record.timestamp("added_at", iso_time)
            if since is not None and added <= since:
                return  # newest first: everything after this was seen by an earlier sync
            play = self._play(record, added)
            if play is not None:
                yield play

    def _pages(self, page: dict[str, Any] | None) -> Iterator[object]:
        for _ in range(MAX_PAGES):
            if not page:
                return
            items = page.get("items") or []
            if not isinstance(items, list):
                raise UserFacingError("Spotify sent a page whose items are not a list")
            yield from items
            if not page.get("next"):
                return
            page = self._call(partial(self.client.next, page))

    @staticmethod
    def _play(record: RecordReader, when: datetime) -> Play | None:
        track = record.nested("track", record.raw("track"))
        name = track.text("name")
        artists = track.raw("artists")
        if name is None or not isinstance(artists, list) or not artists:
            return None
        artist = track.nested("artists[0]", artists[0]).text("name")
        if artist is None:
            return None
        album_raw = track.raw("album")
        album = track.nested("album", album_raw).text("name") if album_raw is not None else None
        return Play(PLATFORM, name, artist, when, album, track.text("uri"))

    # -- resilience -------------------------------------------------------------------

    def _call(self, request: Callable[[], T]) -> T:
        """Run one Spotify request with Retry-After, backoff and one forced refresh on 401."""
        refreshed = False
        for attempt in range(self.config.max_attempts):
            try:
                return request()
            except SpotifyOauthError as exc:
                raise UserFacingError(
                    f"Spotify refused the sign-in ({exc.error or exc}); run "
                    "`infinite-player connect spotify` again"
                ) from None
            except SpotifyException as exc:
                status = exc.http_status
                if status == 401 and not refreshed:
                    refreshed = True
                    self._force_refresh()
                    continue
                if status == 429:
                    wait = _retry_after(exc.headers, default=2.0**attempt)
                    if wait > self.config.max_wait_s:
                        raise UserFacingError(
                            f"Spotify asks to wait {wait:.0f} s before the next request; "
                            "try again later"
                        ) from None
                    log.info("Spotify rate limit: waiting %.1f s", wait)
                    self._sleep(wait)
                    continue
                if status is not None and status >= 500:
                    self._sleep(min(2.0**attempt, self.config.max_wait_s))
                    continue
                raise UserFacingError(f"Spotify said {status}: {exc.msg}") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 == self.config.max_attempts:
                    raise UserFacingError(f"cannot reach Spotify ({exc})") from None
                self._sleep(min(2.0**attempt, self.config.max_wait_s))
        raise UserFacingError(
            f"Spotify did not answer after {self.config.max_attempts} attempts; try again later"
        )

    def _force_refresh(self) -> None:
        connection = self.store.load(self.user_id, PLATFORM)
        if connection is None or not connection.refresh_token:
            raise UserFacingError("Spotify sign-in expired; run `infinite-player connect spotify`")
        try:
            self.auth.refresh_access_token(connection.refresh_token)
        except SpotifyOauthError as exc:
            raise UserFacingError(
                f"Spotify refused to renew the sign-in ({exc.error or exc}); run "
                "`infinite-player connect spotify` again"
            ) from None
        except requests.RequestException as exc:
            raise UserFacingError(f"cannot reach Spotify ({exc})") from None


def _retry_after(headers: Any, default: float) -> float:
    raw = headers.get("Retry-After") if headers else None
    try:
        return max(float(raw), 0.0) if raw is not None else default
    except (TypeError, ValueError):
        return default

"""The real spotipy client against a fake Spotify on loopback: sign-in, sync, recovery."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select, text

from base.errors import UserFacingError
from db.models import OAuthConnection, UserHistory
from player.imports.spotify_connect import SpotifyConfig, SpotifyConnector
from player.imports.tokens import TokenStore
from tests.imports.fake_spotify import CLIENT_ID, FakeSpotify, Scripted, track


def played(name: str, artist: str, when: datetime, track_id: str) -> dict:
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "track": track(name, artist, "Album " + name, track_id),
        "played_at": stamp,
        "context": None,
        "_ms": int(when.timestamp() * 1000),
    }


T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake():
    with FakeSpotify() as server:
        server.recently_played = [
            played("Nights", "Frank Ocean", T0, "1"),
            played("Holocene", "Bon Iver", T0 - timedelta(minutes=5), "2"),
            played("Teardrop", "Massive Attack", T0 - timedelta(minutes=11), "3"),
        ]
        server.saved = [
            {"added_at": "2026-11-19T08:00:00Z", "track": track("Xtal", "Aphex Twin", "SAW", "4")},
            {
                "added_at": "2026-10-01T08:00:00Z",
                "track": track("Kyoto", "Phoebe Bridgers", "Punisher", "5"),
            },
        ]
        yield server


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def connector(database, make_user, fake, sleeps):
    config = SpotifyConfig(
        client_id=CLIENT_ID,
        redirect_uri="http://127.0.0.1:0/callback",
        accounts_url=fake.base,
        api_url=fake.base + "/v1/",
        timeout_s=5,
    )
    return SpotifyConnector(database, make_user(), config, sleep=sleeps.append)


def browser(url: str) -> bool:
    """Plays the user's browser: follow the authorize redirect back to the loopback server."""
    response = requests.get(url, timeout=5)
    assert response.status_code == 200, response.text
    assert "close this window" in response.text
    return True


def test_pkce_sign_in_through_loopback_stores_encrypted_tokens(connector, fake, database):
    seen = []
    connector.authorize(open_browser=lambda url: seen.append(url) or browser(url))
    assert "code_challenge_method=S256" in seen[0]
    assert "scope=user-read-recently-played+user-top-read+user-library-read" in seen[0]
    grant = fake.grants[-1]
    assert grant["grant_type"] == "authorization_code"
    # RFC 7636: 43-128 unreserved characters; the fake checked S256(verifier) == challenge.
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", grant["code_verifier"])
    stored = connector.store.load(connector.user_id, "spotify")
    assert stored is not None and stored.access_token in fake.live_access
    assert stored.expires_at > datetime.now(UTC) + timedelta(minutes=50)


def test_no_token_appears_in_plaintext_anywhere_in_the_database(connector, fake, database):
    connector.authorize(open_browser=browser)
    connector.sync()
    with database.service_session() as s:
        # Every table, the sync outbox and state included: a copy anywhere is a leak.
        tables = s.scalars(
            text("select tablename from pg_tables where schemaname = 'public'")
        ).all()
        dump = " ".join(
            s.scalar(text(f"select coalesce(string_agg(t::text, ' '), '') from {name} t")) or ""
            for name in tables
        )
        row = s.scalars(select(OAuthConnection)).one()
    assert row.access_token.startswith("aesgcm1:") and row.refresh_token.startswith("aesgcm1:")
    for token in fake.issued:
        assert token not in dump


def test_sync_pages_through_history_and_saves(connector, fake, database):
    connector.authorize(open_browser=browser)
    result = connector.sync()
    assert (result.read, result.imported, result.duplicates) == (5, 5, 0)
    assert len(fake.api_calls("/v1/me/player/recently-played")) == 2  # two pages of 2 + 1
    with database.user_session(connector.user_id) as s:
        rows = s.execute(
            select(UserHistory.track_id, UserHistory.played_at).order_by(
                UserHistory.played_at.desc()
            )
        ).all()
    assert rows[0] == ("spotify:track:1", T0)


def test_second_sync_is_incremental(connector, fake, database):
    connector.authorize(open_browser=browser)
    connector.sync()
    synced = connector.store.load(connector.user_id, "spotify").last_synced_at
    fake.recently_played.insert(
        0, played("Angel", "Massive Attack", synced + timedelta(seconds=5), "9")
    )
    second = connector.sync()
    after = fake.api_calls("/v1/me/player/recently-played")[-1][0]["after"][0]
    assert int(after) == int(synced.timestamp() * 1000)
    assert (second.read, second.imported) == (1, 1)  # saved tracks older than the sync stop paging


def test_token_is_refreshed_before_it_expires(connector, fake, database):
    connector.authorize(open_browser=browser)
    old = connector.store.load(connector.user_id, "spotify")
    connector.store.save(
        connector.user_id,
        "spotify",
        old.access_token,
        old.refresh_token,
        datetime.now(UTC) + timedelta(seconds=30),
    )
    connector.sync()
    assert fake.grants[-1]["grant_type"] == "refresh_token"
    used = {auth for _, auth in fake.api_calls("/v1/me/player/recently-played")}
    assert f"Bearer {old.access_token}" not in used  # never sent the nearly expired token
    new = connector.store.load(connector.user_id, "spotify")
    assert new.access_token != old.access_token and new.refresh_token == old.refresh_token


def test_401_forces_one_refresh_and_retries(connector, fake, database):
    connector.authorize(open_browser=browser)
    fake.revoke_access_tokens()  # server-side revocation; local expiry still far away
    result = connector.sync()
    assert result.imported == 5
    assert [g["grant_type"] for g in fake.grants] == ["authorization_code", "refresh_token"]


def test_revoked_refresh_token_asks_to_connect_again(connector, fake, database):
    connector.authorize(open_browser=browser)
    fake.revoke_access_tokens()
    fake.live_refresh.clear()
    with pytest.raises(UserFacingError, match="connect spotify"):
        connector.sync()


def test_429_waits_for_retry_after(connector, fake, sleeps, database):
    connector.authorize(open_browser=browser)
    fake.script["/v1/me/tracks"] = [
        Scripted(
            429,
            {"Retry-After": "3"},
            {"error": {"status": 429, "message": "API rate limit exceeded"}},
        )
    ]
    result = connector.sync()
    assert sleeps == [3.0]
    assert result.imported == 5


def test_429_with_a_long_wait_gives_up_and_imports_nothing(connector, fake, database):
    connector.authorize(open_browser=browser)
    fake.script["/v1/me/tracks"] = [Scripted(429, {"Retry-After": "3600"}, {})]
    with pytest.raises(UserFacingError, match="wait 3600 s"):
        connector.sync()
    with database.user_session(connector.user_id) as s:
        assert s.scalar(select(func.count()).select_from(UserHistory)) == 0
    assert connector.store.load(connector.user_id, "spotify").last_synced_at is None


def test_server_errors_back_off_then_succeed(connector, fake, sleeps, database):
    connector.authorize(open_browser=browser)
    fake.script["/v1/me/player/recently-played"] = [Scripted(503), Scripted(502)]
    assert connector.sync().imported == 5
    assert sleeps == [1.0, 2.0]


def test_unreachable_spotify_backs_off_then_explains(database, make_user, sleeps):
    with FakeSpotify() as dead:
        dead_url = dead.base  # the port is closed once the fake stops
    config = SpotifyConfig(
        client_id=CLIENT_ID,
        accounts_url=dead_url,
        api_url=dead_url + "/v1/",
        timeout_s=2,
        max_attempts=4,
    )
    user = make_user()
    connector = SpotifyConnector(database, user, config, sleep=sleeps.append)
    connector.store.save(user, "spotify", "AT", "RT", datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(UserFacingError, match="cannot reach Spotify"):
        connector.sync()
    assert sleeps == [1.0, 2.0, 4.0]


def test_top_artists_for_onboarding(connector, fake):
    fake.top_artists = ["Aphex Twin", "Björk"]
    connector.authorize(open_browser=browser)
    assert connector.top_artist_names(5) == ["Aphex Twin", "Björk"]


def test_disconnect_deletes_the_tokens(connector, fake, database):
    connector.authorize(open_browser=browser)
    assert connector.disconnect() is True
    assert connector.store.load(connector.user_id, "spotify") is None
    assert connector.disconnect() is False
    with pytest.raises(UserFacingError, match="not connected"):
        connector.sync()


def test_connections_are_inserted_by_service_role_only(database, make_user):
    """Why TokenStore inserts through service_session: RLS refuses a user's own insert."""
    from sqlalchemy.exc import ProgrammingError

    user = make_user()
    with (
        pytest.raises(ProgrammingError, match="row-level security"),
        database.user_session(user) as s,
    ):
        s.add(OAuthConnection(user_id=user, platform="spotify", access_token="x"))
        s.flush()
    TokenStore(database).save(user, "spotify", "access", "refresh", None)
    assert TokenStore(database).load(user, "spotify").access_token == "access"

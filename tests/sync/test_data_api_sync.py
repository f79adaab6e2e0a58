"""Sync through the Data API with the real supabase-py stack, against the loopback
PostgREST/Auth/Storage stand-in (``tests/supabase_stub``) over the real PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text

from base.errors import UserFacingError
from db.sync import RemoteUnreachable, sync
from db.sync.rpc import RpcRemote
from player.account import Account, AccountConfig, FileVault
from tests.sync.helpers import add_history, add_playlist, add_track, assert_same, one, pending


def _account(stub: Any, home: Path, name: str = "a") -> Account:
    keys = home / f"keys-{name}"
    return Account(
        AccountConfig(stub.url, stub.anon_key),
        vault=FileVault(keys / "session.bin", keys / "session.key"),
        lock_path=home / "session.lock",
    )


def _sign_in(stub: Any, account: Account, email: str) -> uuid.UUID:
    account.send_code(email)
    who = account.verify_code(email, stub.last_code(email))
    return uuid.UUID(who.user_id)


def _local_account(db: Any, uid: uuid.UUID, email: str) -> None:
    with db.user_session(uid) as s:
        s.execute(text("insert into users (id, email) values (:i, :e)"), {"i": uid, "e": email})


def test_email_code_sign_in_then_sync_through_the_data_api(
    supabase: Any, database: Any, second_device: Any, tmp_path: Path
) -> None:
    account = _account(supabase, tmp_path)
    uid = _sign_in(supabase, account, "ann@example.com")
    assert account.signed_in() is not None and account.signed_in().email == "ann@example.com"
    _local_account(database, uid, "ann@example.com")
    track = add_track(database, uid)
    add_playlist(database, uid, "road trip", [str(track)])
    add_history(database, uid, 25)

    first = sync(database, account.remote(), uid)
    assert first.errors == []
    assert first.pushed == 1 + 1 + 1 + 25  # users, track, playlist, history
    assert pending(database) == 0
    shared = supabase.db
    assert one(shared, "select count(*) from user_history where user_id = :u", u=uid) == 25
    assert one(shared, "select name from user_playlists where user_id = :u", u=uid) == "road trip"

    again = sync(database, account.remote(), uid)
    assert (again.pushed, again.pulled) == (0, 0)

    # A second device signs in to the same account and gets everything.
    other = _account(supabase, tmp_path, "b")
    assert _sign_in(supabase, other, "ann@example.com") == uid
    got = sync(second_device, other.remote(), uid)
    assert got.errors == [] and got.pulled >= 28
    assert_same(database, second_device, uid)


def test_the_data_api_refuses_forged_and_expired_tokens(supabase: Any, tmp_path: Path) -> None:
    account = _account(supabase, tmp_path)
    uid = _sign_in(supabase, account, "bea@example.com")
    now = int(time.time())
    wrong_secret = "not-the-projects-secret-but-long-enough"
    claims = {"sub": str(uid), "role": "service_role", "exp": now + 600}
    forged = jwt.encode(claims, wrong_secret, "HS256")
    expired = supabase.sign({"sub": str(uid), "role": "authenticated", "exp": now - 5})
    for token, why in ((forged, "Signature verification failed"), (expired, "JWT expired")):
        remote = RpcRemote(supabase.url, supabase.anon_key, lambda t=token: t)
        with pytest.raises(RemoteUnreachable, match=why):
            remote.call("sync_begin", p_lo="1", p_device="x")
        remote.close()
    calls = supabase.rpc_calls
    assert calls == 0  # refused before any SQL ran


def test_oauth_with_pkce_through_a_loopback_redirect(supabase: Any, tmp_path: Path) -> None:
    account = _account(supabase, tmp_path)
    visited: list[str] = []

    def browser(url: str) -> None:
        """The user's browser: follows the provider's redirect back to the app."""
        visited.append(url)
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True)).start()

    who = account.sign_in_with_provider("github", open_url=browser, timeout=20)
    assert who.email == "github-user@example.com"
    assert "code_challenge=" in visited[0] and "redirect_to=http%3A%2F%2F127.0.0.1" in visited[0]
    assert account.access_token()


def test_refreshed_before_expiry_and_wiped_on_sign_out(supabase: Any, tmp_path: Path) -> None:
    account = _account(supabase, tmp_path)
    _sign_in(supabase, account, "cat@example.com")
    first = account.access_token()
    assert supabase.auth.refreshes == 0  # fresh from sign-in, an hour to go
    supabase.access_ttl = 30  # inside the 60 s margin: every use renews it
    account._access = (first, time.time() + 30)
    stored_before = account.vault.load()
    renewed = account.access_token()
    assert supabase.auth.refreshes == 1 and renewed != first
    assert account.vault.load()["refresh_token"] != stored_before["refresh_token"]
    old_refresh = account.vault.load()["refresh_token"]

    assert account.sign_out() is None
    assert account.vault.load() is None and account.signed_in() is None
    assert not (tmp_path / "keys-a" / "session.bin").exists()
    # Revoked on the server too: the last refresh token no longer works.
    r = httpx.post(
        f"{supabase.url}/auth/v1/token?grant_type=refresh_token",
        json={"refresh_token": old_refresh},
        headers={"apikey": supabase.anon_key},
    )
    assert r.status_code == 400


def test_session_file_is_private_and_sealed(supabase: Any, tmp_path: Path) -> None:
    account = _account(supabase, tmp_path)
    _sign_in(supabase, account, "dan@example.com")
    path = tmp_path / "keys-a" / "session.bin"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys-a" / "session.key").stat().st_mode & 0o777 == 0o600
    refresh = account.vault.load()["refresh_token"]
    assert refresh.encode() not in path.read_bytes()


def test_a_device_that_synced_directly_moves_to_the_data_api_without_duplicates(
    supabase: Any, database: Any, tmp_path: Path
) -> None:
    account = _account(supabase, tmp_path)
    uid = _sign_in(supabase, account, "eve@example.com")
    _local_account(database, uid, "eve@example.com")
    add_history(database, uid, 10, prefix="old")
    pl = add_playlist(database, uid, "before")
    old = sync(database, supabase.db, uid)  # the old way: a direct URL
    assert old.errors == [] and old.pushed == 12
    device = one(database, "select device_id::text from sync_state where user_id = :u", u=uid)

    # Changes made before the switch are pending; then the app moves to the Data API.
    add_history(database, uid, 3, prefix="new")
    with database.user_session(uid) as s:
        s.execute(text("update user_playlists set name = 'after' where id = :p"), {"p": pl})
    moved = sync(database, account.remote(), uid)
    assert moved.errors == []
    assert (moved.pushed, moved.pulled, moved.conflicts) == (4, 0, 0)
    assert pending(database) == 0
    shared = supabase.db
    assert one(shared, "select count(*) from user_history where user_id = :u", u=uid) == 13
    assert one(shared, "select name from user_playlists where id = :p", p=pl) == "after"
    states = {
        r.remote: str(r.device_id)
        for r in database.engine.connect().execute(
            text("select remote, device_id from sync_state where user_id = :u"), {"u": uid}
        )
    }
    assert states[f"supabase {supabase.url}"] == device  # the same device, cursor kept
    assert sync(database, account.remote(), uid).pulled == 0


def test_audio_goes_to_storage_under_the_users_folder(
    supabase: Any, database: Any, second_device: Any, tmp_path: Path
) -> None:
    account = _account(supabase, tmp_path)
    uid = _sign_in(supabase, account, "fay@example.com")
    _local_account(database, uid, "fay@example.com")
    wav = tmp_path / "song.wav"
    wav.write_bytes(b"RIFF....WAVEfmt fake audio")
    track = add_track(database, uid, url=wav.as_uri(), status="completed")
    result = sync(database, account.remote(), uid, storage=account.audio_storage())
    assert result.uploaded == 1 and result.errors == []
    assert ("tracks", f"{uid}/{track}.wav") in supabase.objects
    url = one(supabase.db, "select url from generated_tracks where id = :t", t=track)
    assert f"/tracks/{uid}/{track}.wav" in url

    other = _account(supabase, tmp_path, "b")
    _sign_in(supabase, other, "fay@example.com")
    storage = other.audio_storage()
    got = storage.fetch(url, tmp_path / "fetched.wav")
    assert got.read_bytes() == wav.read_bytes()

    # Another user's token cannot read it, nor write into that folder.
    stranger = _account(supabase, tmp_path, "c")
    _sign_in(supabase, stranger, "gus@example.com")
    from player.storage import StorageError

    with pytest.raises(StorageError, match="HTTP 400"):
        stranger.audio_storage().fetch(url, tmp_path / "stolen.wav")
    with pytest.raises(StorageError, match="row-level security"):
        stranger.audio_storage().put(f"{uid}/evil.wav", wav)


def test_the_refresh_token_goes_to_the_os_keyring_when_there_is_one(
    supabase: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyrings.alt's file keyring stands in for the OS one (no Secret Service daemon runs
    here); the app picks the keyring because a usable backend is there."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    from player.account import KeyringVault, default_vault

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[misc]
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        vault = default_vault(supabase.url, tmp_path / "keys")
        assert isinstance(vault, KeyringVault)
        account = Account(AccountConfig(supabase.url, supabase.anon_key), vault=vault,
                          lock_path=tmp_path / "lock")  # fmt: skip
        _sign_in(supabase, account, "kim@example.com")
        stored = account.vault.load()
        in_keyring = backend.get_password("InfinitePlayer", vault.entry)
        assert in_keyring is not None and stored["refresh_token"] in in_keyring
        assert not (tmp_path / "keys").exists()  # no file fallback written
        account.sign_out()
        assert account.vault.load() is None
        assert backend.get_password("InfinitePlayer", vault.entry) is None
    finally:
        keyring.set_keyring(previous)


def test_an_unreachable_data_api_is_a_clear_error_kept_in_status(
    supabase: Any, database: Any, tmp_path: Path
) -> None:
    import socket

    from db.sync import status

    account = _account(supabase, tmp_path)
    uid = _sign_in(supabase, account, "lou@example.com")
    _local_account(database, uid, "lou@example.com")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = RpcRemote(f"http://127.0.0.1:{port}", supabase.anon_key, account.access_token)
    with pytest.raises(RemoteUnreachable, match="Cannot reach the Data API"):
        sync(database, gone, uid)
    assert "Cannot reach the Data API" in status(database, uid)["last_error"]
    assert pending(database) == 1  # the users row waits for the next sync


def test_a_shared_schema_that_differs_is_refused_by_name_over_the_data_api(
    supabase: Any, database: Any, tmp_path: Path
) -> None:
    from db.sync import SchemaMismatch

    account = _account(supabase, tmp_path)
    uid = _sign_in(supabase, account, "max@example.com")
    _local_account(database, uid, "max@example.com")
    with supabase.db.engine.begin() as conn:
        conn.execute(
            text(
                "insert into supabase_migrations.schema_migrations (version, name) "
                "values ('29990101000000', 'from_the_future')"
            )
        )
    with pytest.raises(SchemaMismatch, match="29990101000000_from_the_future"):
        sync(database, account.remote(), uid)
    assert one(supabase.db, "select count(*) from users where id = :u", u=uid) == 0


def test_sign_in_errors_name_the_problem(supabase: Any, tmp_path: Path) -> None:
    from player.account import SignInError

    dead = Account(
        AccountConfig("http://127.0.0.1:9", supabase.anon_key),
        vault=FileVault(tmp_path / "d.bin", tmp_path / "d.key"),
        lock_path=tmp_path / "d.lock",
    )
    with pytest.raises(SignInError, match=r"Cannot reach Supabase Auth at http://127\.0\.0\.1:9"):
        dead.send_code("nia@example.com")
    account = _account(supabase, tmp_path)
    with pytest.raises(SignInError, match="is not an email address"):
        account.send_code("nia")
    account.send_code("nia@example.com")
    with pytest.raises(SignInError, match="six digits"):
        account.verify_code("nia@example.com", "abc")
    with pytest.raises(SignInError, match="That code was not accepted: Token has expired"):
        account.verify_code("nia@example.com", "999999" if supabase.last_code(
            "nia@example.com") != "999999" else "000000")  # fmt: skip
    with pytest.raises(SignInError, match="Not signed in"):
        account.access_token()
    with pytest.raises(UserFacingError, match="service-role"):
        AccountConfig(supabase.url, supabase.service_key)

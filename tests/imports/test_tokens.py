"""Token encryption at rest and where its key lives (keyring, else a private file)."""

from __future__ import annotations

import stat
import uuid

import keyring
import pytest
from keyring.backend import KeyringBackend

from base.paths import data_dir
from player.imports.tokens import (
    KEY_FILE,
    KEYRING_ENTRY,
    KEYRING_SERVICE,
    TokenCipher,
    TokenDecryptError,
    TokenStore,
)


class MemoryKeyring(KeyringBackend):
    """A real keyring backend (the library's interface) that keeps secrets in a dict."""

    priority = -1  # type: ignore[assignment]  # never chosen by keyring's own discovery

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    backend = MemoryKeyring()
    keyring.set_keyring(backend)  # conftest restores the previous one
    return backend


def test_round_trip_and_ciphertext_hides_the_token():
    cipher = TokenCipher.default()
    user = uuid.uuid4()
    sealed = cipher.seal("BQDx-secret-token", user, "spotify", "access_token")
    assert "secret" not in sealed and sealed.startswith("aesgcm1:")
    assert cipher.open(sealed, user, "spotify", "access_token") == "BQDx-secret-token"
    # A fresh nonce each time: equal tokens do not give equal ciphertexts.
    assert cipher.seal("BQDx-secret-token", user, "spotify", "access_token") != sealed


def test_ciphertext_is_bound_to_its_row_and_column():
    cipher = TokenCipher.default()
    user = uuid.uuid4()
    sealed = cipher.seal("tok", user, "spotify", "access_token")
    for args in (
        (uuid.uuid4(), "spotify", "access_token"),
        (user, "apple", "access_token"),
        (user, "spotify", "refresh_token"),
    ):
        with pytest.raises(TokenDecryptError, match="connect"):
            cipher.open(sealed, *args)
    with pytest.raises(TokenDecryptError):
        cipher.open(sealed[:-4] + "AAAA", user, "spotify", "access_token")


def test_without_keyring_the_key_is_a_private_file_that_is_reported():
    cipher = TokenCipher.default()
    path = data_dir() / KEY_FILE
    assert cipher.key_location == f"file {path}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    sealed = cipher.seal("tok", uuid.UUID(int=1), "spotify", "access_token")
    assert TokenCipher.default().open(sealed, uuid.UUID(int=1), "spotify", "access_token") == "tok"


def test_keyring_holds_the_key_when_there_is_one(memory_keyring):
    cipher = TokenCipher.default()
    assert cipher.key_location == "the OS keyring (MemoryKeyring)"
    assert (KEYRING_SERVICE, KEYRING_ENTRY) in memory_keyring.secrets
    assert not (data_dir() / KEY_FILE).exists()
    sealed = cipher.seal("tok", uuid.UUID(int=2), "spotify", "refresh_token")
    assert TokenCipher.default().open(sealed, uuid.UUID(int=2), "spotify", "refresh_token") == "tok"


def test_existing_key_file_wins_over_a_keyring_that_appears_later(memory_keyring):
    keyring.set_keyring(memory_keyring)
    path = data_dir() / KEY_FILE
    path.parent.mkdir(parents=True)
    from player.imports.tokens import _file_key

    _file_key(path)
    assert TokenCipher.default().key_location == f"file {path}"


def test_damaged_key_file_is_a_clear_error():
    from base.errors import UserFacingError

    path = data_dir() / KEY_FILE
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    with pytest.raises(UserFacingError, match=r"token key in .* is damaged"):
        TokenCipher.default()


def test_store_round_trip_and_update_keeps_one_row(database, make_user):
    from datetime import UTC, datetime

    user = make_user()
    store = TokenStore(database)
    store.save(user, "spotify", "a1", "r1", None)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    store.mark_synced(user, "spotify", when)
    store.save(user, "spotify", "a2", None, when)
    loaded = store.load(user, "spotify")
    assert (loaded.access_token, loaded.refresh_token, loaded.last_synced_at) == ("a2", None, when)
    assert store.load(make_user(), "spotify") is None

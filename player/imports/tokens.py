"""OAuth tokens in ``oauth_connections``, encrypted at rest.

The database may be synced to a shared server, backed up or copied with the profile, so
tokens never reach it in plaintext: each column value is sealed with AES-256-GCM, bound
to its row (user, platform, column) as associated data so a ciphertext copied into
another user's row does not decrypt.

The key lives in the OS keyring (``keyring``) when there is one. Headless machines and
some Linux desktops have none; then the key is a file in the data folder, readable only
by the user, and :attr:`TokenCipher.key_location` says so, so the app can tell the user
where the secret is (and that copying the data folder copies it too). Once a key file
exists it is always used, so a keyring appearing later cannot orphan stored tokens.

Row access follows the spec's RLS: users read, update and delete their own connection
through their own session; only the service role may insert one, so the first save of a
connection goes through ``service_session()`` (the app acts as the backend there, as the
web product's OAuth callback does on the server).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from base.errors import UserFacingError
from base.paths import data_dir

if TYPE_CHECKING:
    from db.database import Database

KEYRING_SERVICE = "InfinitePlayer"
KEYRING_ENTRY = "oauth-token-key"
KEY_FILE = Path("keys") / "oauth-token.key"
PREFIX = "aesgcm1:"
_NONCE = 12


class TokenDecryptError(UserFacingError):
    """Stored tokens cannot be opened with this machine's key."""


def _key_file() -> Path:
    return data_dir() / KEY_FILE


def _encode(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise UserFacingError(f"the token key in {where} is damaged (expected 32 bytes)")
    return key


def _keyring_key() -> tuple[bytes, str] | None:
    """The key from the OS keyring (created there if missing); None when there is no keyring."""
    import keyring
    from keyring.errors import KeyringError

    try:
        stored = keyring.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
        where = f"the OS keyring ({type(keyring.get_keyring()).__name__})"
        if stored is not None:
            return _decode(stored, where), where
        key = AESGCM.generate_key(bit_length=256)
        keyring.set_password(KEYRING_SERVICE, KEYRING_ENTRY, _encode(key))
        return key, where
    except KeyringError:
        return None


def _file_key(path: Path) -> bytes:
    """Read the key file, creating it (mode 0600, in a 0700 folder) atomically if missing."""
    if path.exists():
        return _decode(path.read_text(encoding="ascii"), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = AESGCM.generate_key(bit_length=256)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return _decode(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(_encode(key))
    return key


class TokenCipher:
    """AES-GCM sealing of token strings with the key from the keyring or the key file."""

    def __init__(self, key: bytes, key_location: str) -> None:
        self._aead = AESGCM(key)
        #: Human-readable: "the OS keyring (SecretService Keyring)" or "file /…/oauth-token.key".
        self.key_location = key_location

    @classmethod
    def default(cls) -> TokenCipher:
        path = _key_file()
        if not path.exists():
            found = _keyring_key()
            if found is not None:
                return cls(*found)
        return cls(_file_key(path), f"file {path}")

    @staticmethod
    def _context(user_id: uuid.UUID, platform: str, column: str) -> bytes:
        return f"oauth_connections:{user_id}:{platform}:{column}".encode()

    def seal(self, plaintext: str, user_id: uuid.UUID, platform: str, column: str) -> str:
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(
            nonce, plaintext.encode("utf-8"), self._context(user_id, platform, column)
        )
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, user_id: uuid.UUID, platform: str, column: str) -> str:
        problem = (
            f"the stored {platform} sign-in cannot be decrypted with the key in "
            f"{self.key_location}; run `infinite-player connect {platform}` again"
        )
        if not stored.startswith(PREFIX):
            raise TokenDecryptError(problem)
        try:
            blob = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode("ascii"))
            plain = self._aead.decrypt(
                blob[:_NONCE], blob[_NONCE:], self._context(user_id, platform, column)
            )
        except (InvalidTag, ValueError, binascii.Error):
            raise TokenDecryptError(problem) from None
        return plain.decode("utf-8")


@dataclass(frozen=True)
class Connection:
    """A decrypted ``oauth_connections`` row."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    last_synced_at: datetime | None


class TokenStore:
    """Encrypted reads and writes of one user's ``oauth_connections`` rows."""

    def __init__(self, database: Database, cipher: TokenCipher | None = None) -> None:
        self.database = database
        self.cipher = cipher if cipher is not None else TokenCipher.default()

    def load(self, user_id: uuid.UUID, platform: str) -> Connection | None:
        from sqlalchemy import select

        from db.models import OAuthConnection

        with self.database.user_session(user_id) as session:
            row = session.scalar(
                select(OAuthConnection).where(
                    OAuthConnection.user_id == user_id, OAuthConnection.platform == platform
                )
            )
            if row is None:
                return None
            refresh = row.refresh_token
            return Connection(
                self.cipher.open(row.access_token, user_id, platform, "access_token"),
                self.cipher.open(refresh, user_id, platform, "refresh_token") if refresh else None,
                row.expires_at,
                row.last_synced_at,
            )

    def save(
        self,
        user_id: uuid.UUID,
        platform: str,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
    ) -> None:
        """Store new tokens; keeps ``last_synced_at`` of an existing connection."""
        from sqlalchemy import update
        from sqlalchemy.dialects.postgresql import insert

        from db.models import OAuthConnection

        values = {
            "access_token": self.cipher.seal(access_token, user_id, platform, "access_token"),
            "refresh_token": (
                self.cipher.seal(refresh_token, user_id, platform, "refresh_token")
                if refresh_token
                else None
            ),
            "expires_at": expires_at,
        }
        mine = (OAuthConnection.user_id == user_id) & (OAuthConnection.platform == platform)
        with self.database.user_session(user_id) as session:
            updated = session.execute(
                update(OAuthConnection).where(mine).values(**values).returning(OAuthConnection.id)
            ).all()
        if updated:
            return
        # First connection: the spec lets only the service role insert (see module doc).
        statement = insert(OAuthConnection).values(user_id=user_id, platform=platform, **values)
        statement = statement.on_conflict_do_update(
            index_elements=["user_id", "platform"], set_=values
        )
        with self.database.service_session() as session:
            session.execute(statement)

    def mark_synced(self, user_id: uuid.UUID, platform: str, when: datetime) -> None:
        from sqlalchemy import update

        from db.models import OAuthConnection

        with self.database.user_session(user_id) as session:
            session.execute(
                update(OAuthConnection)
                .where(OAuthConnection.user_id == user_id, OAuthConnection.platform == platform)
                .values(last_synced_at=when)
            )

    def delete(self, user_id: uuid.UUID, platform: str) -> bool:
        """Forget the connection ("disconnect"); True when there was one."""
        from sqlalchemy import delete

        from db.models import OAuthConnection

        with self.database.user_session(user_id) as session:
            removed = session.execute(
                delete(OAuthConnection)
                .where(OAuthConnection.user_id == user_id, OAuthConnection.platform == platform)
                .returning(OAuthConnection.id)
            ).all()
        return bool(removed)

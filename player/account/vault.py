"""Where the session's refresh token lives between runs.

The OS keyring (``keyring``: macOS Keychain, Windows Credential Locker, Secret Service)
when there is a usable one. Otherwise a file, mode 0600, sealed with AES-256-GCM under a
key in a second 0600 file. Honestly, that encryption protects against the session file
alone leaking (copied into a bug report, a sync folder or a backup that leaves out
``keys/``); it does NOT protect against anyone who can read this user's files, who can
read the key as well. Only the refresh token and who it belongs to are stored; access
tokens stay in memory.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SERVICE = "InfinitePlayer"


class SessionVault(Protocol):
    def load(self) -> dict[str, Any] | None: ...

    def save(self, data: dict[str, Any]) -> None: ...

    def wipe(self) -> None: ...

    def describe(self) -> str: ...


class KeyringVault:
    def __init__(self, entry: str) -> None:
        self.entry = entry

    def describe(self) -> str:
        import keyring

        return f"the OS keyring ({type(keyring.get_keyring()).__name__})"

    def load(self) -> dict[str, Any] | None:
        import keyring

        raw = keyring.get_password(SERVICE, self.entry)
        return json.loads(raw) if raw else None

    def save(self, data: dict[str, Any]) -> None:
        import keyring

        keyring.set_password(SERVICE, self.entry, json.dumps(data))

    def wipe(self) -> None:
        import keyring
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):  # nothing stored
            keyring.delete_password(SERVICE, self.entry)


def _write_private(path: Path, data: bytes) -> None:
    """Atomically, created 0600 (never readable by others, not even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


class FileVault:
    def __init__(self, path: Path, key_path: Path) -> None:
        self.path = path
        self.key_path = key_path

    def describe(self) -> str:
        return f"the encrypted file {self.path}"

    def _key(self) -> bytes:
        if not self.key_path.exists():
            # Created in place with O_EXCL: two processes starting at once agree on one key.
            self.key_path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(self.key_path.parent, 0o700)
            with contextlib.suppress(FileExistsError):
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(base64.b64encode(AESGCM.generate_key(256)))
        return base64.b64decode(self.key_path.read_bytes())

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        blob = self.path.read_bytes()
        try:
            plain = AESGCM(self._key()).decrypt(blob[:12], blob[12:], b"supabase-session")
        except (InvalidTag, ValueError):
            return None  # another key (a copied profile): sign in again
        data: dict[str, Any] = json.loads(plain)
        return data

    def save(self, data: dict[str, Any]) -> None:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._key()).encrypt(nonce, json.dumps(data).encode(), b"supabase-session")
        _write_private(self.path, nonce + sealed)

    def wipe(self) -> None:
        self.path.unlink(missing_ok=True)


def keyring_usable() -> bool:
    """A real backend is there (not keyring's 'fail' or 'null' ones)."""
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    priority = getattr(backend, "priority", 0)
    return not isinstance(backend, fail.Keyring) and bool(priority and priority > 0)


def default_vault(project_url: str, folder: Path) -> SessionVault:
    """The keyring when usable, else the encrypted file under ``folder`` (the data folder's
    ``keys/``); one entry per project."""
    from urllib.parse import urlparse

    host = urlparse(project_url).netloc or "project"
    entry = f"supabase-session:{host}"
    if keyring_usable():
        return KeyringVault(entry)
    safe = host.replace(":", "_")
    return FileVault(folder / f"supabase-session-{safe}.bin", folder / "supabase-session.key")

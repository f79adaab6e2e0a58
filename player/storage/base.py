"""The storage interface every backend implements."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from base.errors import UserFacingError


class StorageError(UserFacingError):
    """Audio could not be stored or fetched; the message names the file and the reason."""


@runtime_checkable
class AudioStorage(Protocol):
    """Shared audio storage: objects addressed by a key like ``<user>/<track>.wav``."""

    def describe(self) -> str:
        """Where the storage is, for messages."""
        ...

    def put(self, key: str, source: Path) -> str:
        """Store ``source`` under ``key`` (replacing it); returns the URL to record."""
        ...

    def fetch(self, url: str, target: Path) -> Path:
        """Write the object at ``url`` to ``target`` atomically; returns ``target``."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing one is not an error."""
        ...

    def owns(self, url: str) -> bool:
        """True when ``url`` points into this storage."""
        ...

    def key_of(self, url: str) -> str:
        """The key of a URL this storage owns."""
        ...

    def local_file(self, url: str) -> Path | None:
        """The file on this device ``url`` names (``base.paths.path_from_url``); None for
        remote URLs. Lets the sync find audio to upload without importing this package."""
        ...


def check_key(key: str) -> str:
    """Keys are relative POSIX paths without ``..``: they become file names and URL paths."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise StorageError(f"{key!r} is not a valid storage key (a relative path like a/b.wav).")
    return key

"""What the sync needs from shared audio storage, as a protocol: ``db/sync`` does not import
the storage backends (``player/storage``); the CLI and the app pass one in."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class SharedAudio(Protocol):
    def owns(self, url: str) -> bool:
        """True when ``url`` already points into the shared storage."""
        ...

    def local_file(self, url: str) -> Path | None:
        """The file on this device a track URL names; None for a remote URL."""
        ...

    def put(self, key: str, source: Path) -> str:
        """Store ``source`` under ``key`` (``<user>/<track>.<ext>``); the URL to record.
        Raises ``base.errors.UserFacingError`` naming the file when it cannot."""
        ...

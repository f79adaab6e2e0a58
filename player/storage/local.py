"""Shared storage in a folder (a NAS, a synced folder, or just this disk by default)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from base.paths import path_from_url
from player.storage.base import StorageError, check_key


class LocalFolderStorage:
    """Objects are files under ``root``; URLs are ``file://`` URIs of those files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def describe(self) -> str:
        return f"folder {self.root}"

    def local_file(self, url: str) -> Path | None:
        return path_from_url(url)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, source: Path) -> str:
        target = self._path(key)
        try:
            _atomic_copy(Path(source), target)
        except OSError as exc:
            raise StorageError(f"Cannot store {source} in {self.root}: {exc}.") from exc
        return target.as_uri()

    def fetch(self, url: str, target: Path) -> Path:
        source = self._path(self.key_of(url))
        if not source.is_file():
            raise StorageError(f"{url} is not in {self.describe()}.")
        try:
            _atomic_copy(source, target)
        except OSError as exc:
            raise StorageError(f"Cannot copy {source} to {target}: {exc}.") from exc
        return target

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def owns(self, url: str) -> bool:
        parsed = urlparse(url)
        if parsed.scheme != "file":
            return False
        return Path(unquote(parsed.path)).resolve().is_relative_to(self.root)

    def key_of(self, url: str) -> str:
        if not self.owns(url):
            raise StorageError(f"{url} is not in {self.describe()}.")
        path = Path(unquote(urlparse(url).path)).resolve()
        return check_key(path.relative_to(self.root).as_posix())


def _atomic_copy(source: Path, target: Path) -> None:
    """Copy through a temporary file and rename, so a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

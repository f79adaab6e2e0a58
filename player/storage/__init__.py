"""Where a track's audio lives once it is shared: one small interface, several backends.

A ``generated_tracks.url`` starts as this device's file and, once the sync uploads it,
points at shared storage so every device of the user can play it. ``ensure_local`` turns
any such URL back into a local file, fetching it when it is missing here (on play).
"""

from __future__ import annotations

import os
from pathlib import Path

from base.paths import path_from_url
from player.storage.base import AudioStorage, StorageError
from player.storage.local import LocalFolderStorage
from player.storage.supabase import SupabaseStorage

__all__ = [
    "AudioStorage",
    "LocalFolderStorage",
    "StorageError",
    "SupabaseStorage",
    "ensure_local",
    "storage_from_env",
]

STORAGE_ENV = "INFINITE_PLAYER_STORAGE"


def ensure_local(url: str, storage: AudioStorage | None = None, cache: Path | None = None) -> Path:
    """A local file with the audio of ``url``, fetched into ``cache`` when missing here."""
    path = path_from_url(url)
    if path is not None:
        if path.is_file():
            return path
        if storage is None or not storage.owns(url):
            raise StorageError(f"The audio file {path} is missing and has no shared copy.")
    if storage is None:
        raise StorageError(f"No shared storage is configured to fetch {url}.")
    if not storage.owns(url):
        raise StorageError(f"{url} is not in the configured storage ({storage.describe()}).")
    if cache is None:
        from base.paths import audio_dir

        cache = audio_dir() / "shared"
    target = cache / storage.key_of(url)
    if target.is_file():
        return target
    return storage.fetch(url, target)


def storage_from_env(value: str | None = None) -> AudioStorage | None:
    """The storage named by ``value`` or ``INFINITE_PLAYER_STORAGE``: a folder or a Supabase
    project URL; None when neither names one.

    For Supabase, ``SUPABASE_ANON_KEY`` (the project's public API key), ``SUPABASE_ACCESS_TOKEN``
    (the signed-in user's JWT) and optionally ``INFINITE_PLAYER_BUCKET`` are read too.
    """
    value = (value or os.environ.get(STORAGE_ENV, "")).strip()
    if not value:
        return None
    if value.startswith(("http://", "https://")):
        return SupabaseStorage(
            value,
            bucket=os.environ.get("INFINITE_PLAYER_BUCKET", "tracks"),
            api_key=os.environ.get("SUPABASE_ANON_KEY", ""),
            access_token=os.environ.get("SUPABASE_ACCESS_TOKEN") or None,
        )
    if value.startswith("file://"):
        path = path_from_url(value)
        assert path is not None
        return LocalFolderStorage(path)
    if "://" in value:
        raise StorageError(
            f"{value!r} is not a storage location: use a folder or a Supabase project URL "
            "(https://<ref>.supabase.co)."
        )
    return LocalFolderStorage(Path(value).expanduser())

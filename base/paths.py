"""Where the app keeps its data.

One folder holds everything a user owns on this machine (database cluster, audio,
covers, settings, keys) so that backing up or moving a profile is one copy, and tests
can isolate a whole profile with ``INFINITE_PLAYER_HOME``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import platformdirs

from base.errors import UserFacingError

APP_NAME = "InfinitePlayer"
HOME_ENV = "INFINITE_PLAYER_HOME"


def data_dir(create: bool = True) -> Path:
    """The data folder: ``$INFINITE_PLAYER_HOME`` or the platform's user data dir."""
    override = os.environ.get(HOME_ENV)
    path = Path(override).expanduser() if override else platformdirs.user_data_path(APP_NAME, False)
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserFacingError(
                f"The data folder {path} is not writable and cannot be created "
                f"({exc.strerror or exc}). Set {HOME_ENV} to a folder you can write to."
            ) from exc
    return path


def pgdata_dir() -> Path:
    """The embedded PostgreSQL cluster's data directory."""
    return data_dir() / "pgdata"


def audio_dir() -> Path:
    """Generated audio files."""
    path = data_dir() / "audio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def covers_dir() -> Path:
    """Band covers rendered by the app."""
    path = data_dir() / "covers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_from_url(url: str) -> Path | None:
    """The local file a track's URL names: a ``file://`` URL (percent-decoded) or a plain
    path; None for a remote URL (``https://``…), which only storage can fetch.

    The one reading of stored ``url`` columns: generation, playback, bands, re-embedding
    and sync must agree on which rows have a file here.
    """
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(url)
    return None


def bundled_folder(package: str, folder: str) -> Path:
    """A folder shipped with the app: the data package ``package`` when installed (the
    wheel maps the top-level ``folder`` into it), else ``folder`` in the source tree."""
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / folder  # a checkout never installed

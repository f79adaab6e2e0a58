"""What is on this machine: model folders, their manifests, the download lock, licences.

A model lives in ``<data folder>/models/<name>/`` with the Hub's file names, so the
engines load it like any checkpoint folder. Two markers say how far a download got:

* ``.download/`` holds partial files while a download is unfinished (interrupted,
  cancelled or crashed); its presence is what "half-downloaded" means;
* ``manifest.json`` is written last, after every file passed its checksum, and records
  the commit and each file's sha256 so ``verify`` works without the network.

A folder with a ``config.json`` and neither marker was put there by hand: it is used, but
``verify`` needs the Hub to check it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.errors import UserFacingError
from base.paths import data_dir
from player.models.catalogue import ModelEntry

if TYPE_CHECKING:
    from player.settings import Settings

MANIFEST = "manifest.json"
PARTIAL = ".download"
LICENCE_SETTING = "accepted_model_licences"


def models_dir() -> Path:
    return data_dir() / "models"


def model_dir(entry: ModelEntry) -> Path:
    return models_dir() / entry.name


@dataclass(frozen=True)
class LocalState:
    """``installed`` (downloaded and verified), ``partial``, ``manual`` (a folder put there
    by hand), or ``absent``; with the bytes on disk and the recorded commit."""

    state: str
    folder: Path
    bytes_on_disk: int = 0
    commit: str = ""

    @property
    def usable(self) -> bool:
        return self.state in ("installed", "manual")


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Atomically, so a crash never leaves a manifest that vouches for half the files."""
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def local_state(entry: ModelEntry) -> LocalState:
    folder = model_dir(entry)
    if not folder.is_dir():
        return LocalState("absent", folder)
    size = _folder_bytes(folder)
    if (folder / PARTIAL).exists():
        return LocalState("partial", folder, size)
    manifest = read_manifest(folder)
    if manifest is not None:
        return LocalState("installed", folder, size, str(manifest.get("commit", "")))
    if (folder / "config.json").is_file():
        return LocalState("manual", folder, size)
    return LocalState("absent", folder, size)


def usable_folder(entry: ModelEntry) -> Path | None:
    """The model's folder when it can be loaded now (never a half-downloaded one)."""
    state = local_state(entry)
    return state.folder if state.usable else None


class ModelBusy(UserFacingError):
    """Another process (or window) is downloading or removing the same model."""


@contextmanager
def model_lock(entry: ModelEntry) -> Iterator[None]:
    """One writer per model across processes: a second ``get`` says who holds it instead
    of writing into the same partial files."""
    from filelock import FileLock, Timeout

    models_dir().mkdir(parents=True, exist_ok=True)
    path = models_dir() / f".{entry.name}.lock"
    owner = models_dir() / f".{entry.name}.owner"
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        who = owner.read_text(encoding="utf-8").strip() if owner.is_file() else "another process"
        raise ModelBusy(
            f"{entry.name} is already being downloaded or removed by {who}; "
            "wait for it to finish (or cancel it there) and try again."
        ) from None
    try:
        owner.write_text(f"process {os.getpid()}", encoding="utf-8")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def remove(entry: ModelEntry) -> int:
    """Delete the model's folder (partial files included); returns the bytes freed."""
    with model_lock(entry):
        folder = model_dir(entry)
        if not folder.exists():
            raise UserFacingError(f"{entry.name} is not downloaded (nothing in {folder}).")
        size = _folder_bytes(folder)
        shutil.rmtree(folder)
        return size


# -- licences ---------------------------------------------------------------------------------
def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from player.settings import Settings

    return Settings.load()


def licence_accepted(entry: ModelEntry, settings: Settings | None = None) -> bool:
    accepted = _settings(settings).get(LICENCE_SETTING) or {}
    return accepted.get(entry.name) == entry.licence.id


def accept_licence(entry: ModelEntry, settings: Settings | None = None) -> None:
    """Record, in the settings file, that the listener accepted this model's licence."""
    settings = _settings(settings)
    accepted = dict(settings.get(LICENCE_SETTING) or {})
    accepted[entry.name] = entry.licence.id
    settings.set(LICENCE_SETTING, accepted)
    settings.save()


def licence_text(entry: ModelEntry) -> str:
    lic = entry.licence
    return (
        f"{entry.title} ({entry.repo}) by {entry.authors} is licensed under {lic.name} "
        f"({lic.id}), {lic.url}.\n{lic.summary}"
    )

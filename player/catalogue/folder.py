# SPDX-License-Identifier: MIT
"""A folder of the listener's audio files into the catalogue, resumable and cancellable.

Each file becomes one ``embeddings`` row with ``source = 'local'`` in the active
embedder's space, its tags as ``track_name``/``artist``/``genre`` and, as ``track_id``,
its MusicBrainz recording id, else ``isrc:<ISRC>``, else ``local:<absolute path>``
(the convention of :mod:`player.embedding.store`). An external id makes the file join
history and the shared catalogue by that id; when the shared catalogue already holds that
recording (a row of another source), the shared row is left alone and the file is
counted as already catalogued.

Resume and re-runs: a small JSON ledger in the data folder (``catalogue/files.json``)
remembers, per absolute path, the size, modification time, space and ``track_id`` of
every file stored. A file whose size, mtime and space are unchanged is skipped without
being decoded. The ledger is written (atomically, by rename) only after the file's row is
committed, so a crash or a cancel between the two re-embeds that one file next time
(an idempotent upsert), and nothing is ever half-written: each file is one transaction.

Files that cannot be read (corrupt, or a format neither mutagen nor libsndfile knows)
are named in the report with the reason and skipped; the rest of the folder continues.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from base.errors import UserFacingError
from db.models import Embedding, User
from player.background import BackgroundJob
from player.catalogue.tags import read_tags
from player.embedding.store import LOCAL_PREFIX, store_vector

if TYPE_CHECKING:
    from db.database import Database
    from player.embedding.base import Embedder

log = logging.getLogger(__name__)

#: What a folder scan looks at; other files (covers, playlists, notes) are not audio.
AUDIO_SUFFIXES = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".aif", ".aiff", ".m4a", ".wma", ".ape"}
)

Progress = Callable[[int, int, str], None]


@dataclass
class FolderReport:
    total: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    already_catalogued: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False

    def summary(self) -> str:
        parts = [
            f"{self.added} added",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.already_catalogued:
            parts.append(f"{self.already_catalogued} already in the shared catalogue")
        if self.failed:
            parts.append(f"{len(self.failed)} skipped")
        text = ", ".join(parts) + f" of {self.total} audio files"
        return text + (" (cancelled; run again to resume)" if self.cancelled else "")


def default_ledger() -> Path:
    from base.paths import data_dir

    return data_dir() / "catalogue" / "files.json"


def audio_files(folder: Path) -> list[Path]:
    """Audio files under ``folder`` (recursively), in a stable order."""
    if not folder.is_dir():
        raise UserFacingError(f"not a folder: {folder}")
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
    )


class _Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            self.entries = {}
        except (OSError, ValueError):
            log.warning("catalogue ledger %s unreadable; every file will be checked", path)
            self.entries = {}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=0, sort_keys=True), "utf-8")
        os.replace(tmp, self.path)


def _fingerprint(path: Path, space: str) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "space": space}


def add_folder(
    database: Database,
    folder: str | Path,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    state_file: Path | None = None,
) -> FolderReport:
    """Embed and store every new or changed audio file under ``folder``."""
    if embedder is None:
        from player.embedding import active_embedder

        embedder = active_embedder()
    root = Path(folder).expanduser().resolve()
    files = audio_files(root)
    ledger = _Ledger(state_file or default_ledger())
    report = FolderReport(total=len(files))
    space = embedder.space
    for i, path in enumerate(files):
        if should_stop is not None and should_stop():
            report.cancelled = True
            break
        key = str(path)
        if progress is not None:
            progress(i, len(files), path.name)
        try:
            fingerprint = _fingerprint(path, space)
        except OSError as exc:
            report.failed.append((key, str(exc)))
            continue
        known = ledger.entries.get(key)
        if known and all(known.get(k) == v for k, v in fingerprint.items()):
            report.unchanged += 1
            continue
        try:
            tags = read_tags(path)
            vector = embedder.embed_file(path)
        except UserFacingError as exc:
            report.failed.append((key, str(exc)))
            continue
        except Exception as exc:  # a decoder crash on one bad file must not end the run
            log.warning("catalogue: %s failed", path, exc_info=True)
            report.failed.append((key, f"{type(exc).__name__}: {exc}"))
            continue
        track_id = tags.external_id or LOCAL_PREFIX + key
        with database.service_session() as session:
            existing = session.execute(
                select(Embedding.source).where(Embedding.track_id == track_id)
            ).scalar_one_or_none()
            old_id = known.get("track_id") if known else None
            if old_id and old_id != track_id:
                session.execute(
                    delete(Embedding).where(
                        Embedding.track_id == old_id, Embedding.source == "local"
                    )
                )
            if existing is not None and existing != "local":
                report.already_catalogued += 1
            else:
                store_vector(
                    session,
                    track_id=track_id,
                    track_name=tags.title,
                    artist=tags.artist,
                    vector=vector,
                    space=space,
                    source="local",
                    genre=list(tags.genres),
                )
                if known:
                    report.updated += 1
                else:
                    report.added += 1
        ledger.entries[key] = {**fingerprint, "track_id": track_id}
        ledger.save()
    if report.added or report.updated:
        _rebuild_tastes(database, embedder)
    if progress is not None and not report.cancelled:
        progress(len(files), len(files), "")
    return report


def _rebuild_tastes(database: Database, embedder: Embedder) -> None:
    """The listener's own files are strong taste evidence (``player.taste``): rebuild the
    taste of this device's listeners, so the radio hears the new files now, not at the
    next import. Only this device holds ``local`` rows, so its listeners are theirs."""
    from player.taste import rebuild_taste

    with database.engine.connect() as conn:
        users = list(conn.execute(select(User.id)).scalars())
    for uid in users:
        rebuild_taste(database, uid, embedder)


class FolderJob(BackgroundJob[FolderReport]):
    """:func:`add_folder` on a daemon thread; ``cancel()`` stops it between files."""

    def __init__(
        self,
        database: Database,
        folder: str | Path,
        *,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
        state_file: Path | None = None,
    ) -> None:
        super().__init__(
            lambda should_stop: add_folder(
                database,
                folder,
                embedder=embedder,
                progress=progress,
                should_stop=should_stop,
                state_file=state_file,
            ),
            name="catalogue-add",
        )

"""Writing imported listens into ``user_history`` and reading back what they say.

Rules the user can rely on:

- **All or nothing per file.** Every row of one import goes in through one transaction
  of the user's own session (RLS applies, as on Supabase); a malformed record anywhere
  rolls the whole file back, so a half-imported export never exists.
- **Importing again adds nothing.** A unique index on (user_id, platform, played_at,
  track_name, artist) plus ``ON CONFLICT DO NOTHING`` turns repeats into counted
  duplicates, in the same file or across imports.
- **Constant memory.** Rows stream from the parser into batched writes.

How rows go in: ``COPY`` (psycopg's ``cursor.copy``) into a temporary staging table,
then one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per batch, in the same
transaction. COPY is PostgreSQL's bulk path (no per-statement planning, rows stream in
the wire format); the final ``INSERT`` is made by the user's own session, so RLS checks
every row exactly as a plain insert would, and the conflict clause still turns repeats
into counted duplicates. The staging table is the session's own (``on commit drop``);
nothing of it outlives the transaction. The previous path (one ``unnest`` insert per
2000 rows) stays as ``method="unnest"`` so the benchmark can compare both in one run.

Reading and writing overlap: the export is parsed in a reader thread up to one batch
ahead (:func:`_read_ahead`), so the Python parser works while the server inserts the
previous batch instead of both taking turns. The database's per-row work (indexes, the
foreign key, the sync outbox) is most of an import's time; profiled in
``docs/areas/imports.md``.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import CursorResult, func, select, text

from player.imports.base import (
    NO_ARTIST,
    NO_METADATA,
    NOT_A_PLAY,
    NOT_MUSIC,
    SHORT_PLAY,
    Play,
    Record,
    Skip,
)
from player.imports.progress import ImportProgress

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from db.database import Database

log = logging.getLogger(__name__)

#: rows per ``unnest`` insert (the previous path)
BATCH_ROWS = 2_000
#: rows per COPY into staging before they move on into user_history; bounds the staging
#: table, and a cancel is noticed between batches as well as between chunks read
COPY_BATCH_ROWS = 50_000
METHODS = ("copy", "unnest")
#: plays handed from the reader thread to the writer at a time, and how many such chunks
#: may wait: one COPY batch, so memory stays bounded whatever the export's size
READ_AHEAD_CHUNK = 2_000
READ_AHEAD_CHUNKS = COPY_BATCH_ROWS // READ_AHEAD_CHUNK

T = TypeVar("T")

#: How each skip reason reads in a sentence after its count.
_REASON_WORDS = {
    SHORT_PLAY: "{were} shorter than 30 seconds",
    NOT_MUSIC: "{were} not music (podcasts, audiobooks, videos, ads)",
    NO_METADATA: "had no track name or time",
    NOT_A_PLAY: "{were} not plays (starts, searches, lyrics views)",
    NO_ARTIST: "had no artist in the export",
}


@dataclass
class ImportResult:
    """Counts of one import: ``read == imported + skipped + duplicates``."""

    read: int = 0
    imported: int = 0
    skipped: int = 0
    duplicates: int = 0
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    #: fields filled in from another file of the export ("artist from Daily Tracks": 120)
    recovered: Counter[str] = field(default_factory=Counter)
    #: what the parser wants the listener to know, as sentences
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """What happened, in plain words, for the CLI and the app's import dialog."""
        lines = [f"Imported {_plays(self.imported)}."]
        if self.duplicates:
            lines.append(f"{_plays(self.duplicates, capital=True)} were already in your history.")
        if self.skipped:
            reasons = [
                f"{count:,} "
                + _REASON_WORDS.get(reason, f"{{were}} skipped ({reason})").format(
                    were="was" if count == 1 else "were"
                )
                for reason, count in sorted(self.skipped_reasons.items(), key=lambda i: -i[1])
            ]
            lines.append(f"Skipped {_plays(self.skipped)}: " + "; ".join(reasons) + ".")
        if self.recovered:
            found = ", ".join(
                f"{what} for {_plays(count)}" for what, count in sorted(self.recovered.items())
            )
            lines.append(f"Recovered from other files of the export: {found}.")
        lines.extend(self.notes)
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "read": self.read,
                "imported": self.imported,
                "skipped": self.skipped,
                "duplicates": self.duplicates,
                "skipped_reasons": dict(sorted(self.skipped_reasons.items())),
                "recovered": dict(sorted(self.recovered.items())),
                "notes": self.notes,
                "summary": self.summary(),
            },
            ensure_ascii=False,
        )


def _plays(count: int, *, capital: bool = False) -> str:
    word = "play" if count == 1 else "plays"
    return f"{count:,} {word}" if not capital or count else f"No {word}"


#: One statement per batch with one array per column: a fixed SQL text (no per-batch
#: compilation, unlike a multi-row VALUES list) that Postgres unnests server-side.
_INSERT_BATCH = text(
    """
    insert into public.user_history
      (user_id, platform, track_id, track_name, artist, album, played_at)
    select :user_id, platform, track_id, track_name, artist, album, played_at
      from unnest(
        cast(:platform as text[]), cast(:track_id as text[]), cast(:track_name as text[]),
        cast(:artist as text[]), cast(:album as text[]), cast(:played_at as timestamptz[])
      ) as batch(platform, track_id, track_name, artist, album, played_at)
    on conflict (user_id, platform, played_at, track_name, artist) do nothing
    """
)
_COLUMNS = ("platform", "track_id", "track_name", "artist", "album", "played_at")


_CREATE_STAGING = """
    create temporary table if not exists import_staging
      (platform text, track_id text, track_name text, artist text, album text,
       played_at timestamptz)
    on commit drop
"""
_COPY_STAGING = (
    "copy import_staging (platform, track_id, track_name, artist, album, played_at) from stdin"
)
_MOVE_STAGED = text(
    """
    insert into public.user_history
      (user_id, platform, track_id, track_name, artist, album, played_at)
    select :user_id, platform, track_id, track_name, artist, album, played_at
      from import_staging
    on conflict (user_id, platform, played_at, track_name, artist) do nothing
    """
)


def store_plays(
    database: Database,
    user_id: uuid.UUID,
    records: Iterable[Record],
    *,
    method: str = "copy",
    progress: ImportProgress | None = None,
    read_ahead: bool = True,
) -> ImportResult:
    """Insert ``records`` for ``user_id`` in one transaction; on error nothing is kept.

    ``method`` is ``"copy"`` (COPY into staging, then insert; the default) or
    ``"unnest"`` (the earlier batched insert, kept for the benchmark's comparison).
    ``read_ahead=False`` parses in the writing thread, taking turns with the server
    (the COPY path as it was before; for the benchmark).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    result = ImportResult()
    with database.user_session(user_id) as session:
        if method == "copy" and read_ahead:
            with _read_ahead(_counted(records, result)) as plays:
                _copy_plays(session, user_id, plays, result, progress)
        elif method == "copy":
            _copy_plays(session, user_id, _counted(records, result), result, progress)
        else:
            _insert_plays(session, user_id, _counted(records, result), result, progress)
        if progress is not None:
            progress.check()  # a cancel during the last batch still rolls everything back
            progress.report("Saving")
    return result


def _counted(records: Iterable[Record], result: ImportResult) -> Iterator[Play]:
    for record in records:
        result.read += 1
        if isinstance(record, Skip):
            result.skipped += 1
            result.skipped_reasons[record.reason] += 1
        else:
            yield record


@contextmanager
def _read_ahead(
    items: Iterator[T], *, chunk: int = READ_AHEAD_CHUNK, depth: int = READ_AHEAD_CHUNKS
) -> Iterator[Iterator[T]]:
    """``items``, produced in a thread up to ``chunk * depth`` ahead of the consumer.

    The reader (zip inflate, JSON/CSV decode, the parser) is Python and holds the GIL;
    the writer mostly waits for the server, which releases it. Run one after the other,
    their times add up; overlapped, the slower one sets the pace. Whatever the reader
    raises (a format error, ``ImportCancelled``) is raised in the consumer, at the
    point where that item would have come, so the transaction rolls back as before.
    Leaving the ``with`` early (an error while writing) stops the reader and closes
    its files before returning.
    """
    handoff: queue.Queue[list[T] | BaseException | None] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item: list[T] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            batch: list[T] = []
            for item in items:
                batch.append(item)
                if len(batch) >= chunk:
                    if not put(batch):
                        return
                    batch = []
            if batch and not put(batch):
                return
            put(None)
        except BaseException as exc:  # handed over and raised in the consumer
            put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator[T]:
        while True:
            got = handoff.get()
            if got is None:
                return
            if isinstance(got, BaseException):
                raise got
            yield from got

    reader = threading.Thread(target=produce, name="import-reader", daemon=True)
    reader.start()
    try:
        yield consume()
    finally:
        stop.set()
        reader.join()


def _copy_plays(
    session: Session,
    user_id: uuid.UUID,
    plays: Iterator[Play],
    result: ImportResult,
    progress: ImportProgress | None,
) -> None:
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(_CREATE_STAGING)
        cursor.execute("truncate import_staging")
    more = True
    while more:
        staged = 0
        with driver.cursor() as cursor, cursor.copy(_COPY_STAGING) as copy:
            for play in plays:
                copy.write_row(
                    (
                        play.platform,
                        play.track_id,
                        play.track_name,
                        play.artist,
                        play.album,
                        play.played_at,
                    )
                )
                staged += 1
                if staged >= COPY_BATCH_ROWS:
                    break
            else:
                more = False
        if not staged:
            break
        if progress is not None:
            progress.check()
        moved = cast(
            CursorResult[Any], session.execute(_MOVE_STAGED, {"user_id": user_id})
        ).rowcount
        result.imported += moved
        result.duplicates += staged - moved
        with driver.cursor() as cursor:
            cursor.execute("truncate import_staging")


def _insert_plays(
    session: Session,
    user_id: uuid.UUID,
    plays: Iterator[Play],
    result: ImportResult,
    progress: ImportProgress | None,
) -> None:
    batch: list[Play] = []

    def flush() -> None:
        params: dict[str, Any] = {
            column: [getattr(play, column) for play in batch] for column in _COLUMNS
        }
        params["user_id"] = user_id
        inserted = cast(CursorResult[Any], session.execute(_INSERT_BATCH, params)).rowcount
        result.imported += inserted
        result.duplicates += len(batch) - inserted
        batch.clear()
        if progress is not None:
            progress.check()

    for play in plays:
        batch.append(play)
        if len(batch) >= BATCH_ROWS:
            flush()
    if batch:
        flush()


def import_history(
    database: Database,
    user_id: uuid.UUID,
    kind: str,
    path: Path,
    *,
    progress: ImportProgress | None = None,
    method: str = "copy",
) -> ImportResult:
    """Import the export at ``path`` (zip, folder or file) of format ``kind`` for ``user_id``.

    Afterwards the taste profile is rebuilt when anything new arrived, so radio and
    onboarding see the imported listening at once. ``progress`` reports bytes read and
    carries the cancel request (:class:`~player.imports.progress.ImportCancelled`).
    """
    from player.imports import importer_for, read_records

    importer = importer_for(kind)
    result = store_plays(
        database, user_id, read_records(importer, path, progress), method=method, progress=progress
    )
    result.recovered.update(importer.recovered)
    result.notes.extend(importer.notes)
    log.info("imported %s from %s for %s: %s", kind, path, user_id, result.to_json())
    if result.imported:
        rebuild_taste_after_import(database, user_id)
    return result


def rebuild_taste_after_import(database: Database, user_id: uuid.UUID) -> None:
    """The taste vector reflects the history just imported (the onboarding promise)."""
    from player.taste import rebuild_taste

    rebuild_taste(database, user_id)


def top_artists(database: Database, user_id: uuid.UUID, n: int = 10) -> list[str]:
    """The user's ``n`` most played artists, most played first (onboarding suggestions).

    Counts ``play_count`` over all platforms, so an artist heard on Spotify and scrobbled
    to Last.fm ranks by both; ties break alphabetically for a stable list.
    """
    from db.models import UserHistory

    plays = func.sum(func.coalesce(UserHistory.play_count, 1))
    query = (
        select(UserHistory.artist)
        .where(UserHistory.user_id == user_id)
        .group_by(UserHistory.artist)
        .order_by(plays.desc(), UserHistory.artist)
        .limit(max(n, 0))
    )
    with database.user_session(user_id) as session:
        return list(session.scalars(query))

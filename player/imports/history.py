"""Writing imported listens into ``user_history`` and reading back what they say.

Rules the user can rely on:

- **All or nothing per file.** Every row of one import goes in through one transaction
  of the user's own session (RLS applies, as on Supabase); a malformed record anywhere
  rolls the whole file back, so a half-imported export never exists.
- **Importing again adds nothing.** A unique index on (user_id, platform, played_at,
  track_name, artist) plus ``ON CONFLICT DO NOTHING`` turns repeats into counted
  duplicates, in the same file or across imports.
- **Constant memory.** Rows stream from the parser into batched inserts.
"""

from __future__ import annotations

import importlib
import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, func, select, text

from player.imports.base import Play, Record, Skip

if TYPE_CHECKING:
    from db.database import Database

log = logging.getLogger(__name__)

BATCH_ROWS = 2_000


@dataclass
class ImportResult:
    """Counts of one import: ``read == imported + skipped + duplicates``."""

    read: int = 0
    imported: int = 0
    skipped: int = 0
    duplicates: int = 0
    skipped_reasons: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> str:
        return json.dumps(
            {
                "read": self.read,
                "imported": self.imported,
                "skipped": self.skipped,
                "duplicates": self.duplicates,
                "skipped_reasons": dict(sorted(self.skipped_reasons.items())),
            },
            ensure_ascii=False,
        )


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


def store_plays(database: Database, user_id: uuid.UUID, records: Iterable[Record]) -> ImportResult:
    """Insert ``records`` for ``user_id`` in one transaction; on error nothing is kept."""
    result = ImportResult()
    batch: list[Play] = []
    with database.user_session(user_id) as session:

        def flush() -> None:
            params: dict[str, Any] = {
                column: [getattr(play, column) for play in batch] for column in _COLUMNS
            }
            params["user_id"] = user_id
            inserted = cast(CursorResult[Any], session.execute(_INSERT_BATCH, params)).rowcount
            result.imported += inserted
            result.duplicates += len(batch) - inserted
            batch.clear()

        for record in records:
            result.read += 1
            if isinstance(record, Skip):
                result.skipped += 1
                result.skipped_reasons[record.reason] += 1
                continue
            batch.append(record)
            if len(batch) >= BATCH_ROWS:
                flush()
        if batch:
            flush()
    return result


def import_history(database: Database, user_id: uuid.UUID, kind: str, path: Path) -> ImportResult:
    """Import the export at ``path`` (zip, folder or file) of format ``kind`` for ``user_id``.

    Afterwards the taste profile is rebuilt when anything new arrived, so radio and
    onboarding see the imported listening at once.
    """
    from player.imports import importer_for, read_records

    importer = importer_for(kind)
    result = store_plays(database, user_id, read_records(importer, path))
    log.info("imported %s from %s for %s: %s", kind, path, user_id, result.to_json())
    if result.imported:
        rebuild_taste_if_available(database, user_id)
    return result


def rebuild_taste_if_available(database: Database, user_id: uuid.UUID) -> bool:
    """Call ``player.taste.rebuild_taste`` when that module exists; False when it does not.

    Imported lazily: the taste module is another area's and may not be installed in a
    minimal build; history is still worth importing without it.
    """
    try:
        taste = importlib.import_module("player.taste")
    except ModuleNotFoundError as exc:
        if exc.name != "player.taste":
            raise
        return False
    rebuild = getattr(taste, "rebuild_taste", None)
    if rebuild is None:
        return False
    rebuild(database, user_id)
    return True


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

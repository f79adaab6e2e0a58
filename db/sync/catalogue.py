# SPDX-License-Identifier: MIT
"""The shared catalogue (``embeddings``) pulled from the shared database, one space only.

``embeddings`` is public to read and written by the service, so it is not one of the
user's synced tables (``tables.SYNCED_TABLES``: nothing is pushed, no outbox). A device
pulls the shared catalogue entries of *its* embedding space (vectors of another space
mean nothing here) as the anonymous role, newest last, in pages keyed by
``(created_at, id)`` so an interrupted pull resumes where it stopped. Entries are upserted
by ``track_id``; the listener's own files (``source = 'local'``) are never overwritten,
and each page is one local transaction, so nothing is half-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from db.database import Database

PAGE = 1000


@dataclass
class CataloguePull:
    pulled: int = 0
    pages: int = 0
    #: where the next pull starts: (created_at, id) of the last entry taken
    cursor: tuple[datetime, str] | None = None


def pull_catalogue(
    local: Database,
    remote: Database,
    space: str,
    *,
    cursor: tuple[datetime, str] | None = None,
    page: int = PAGE,
) -> CataloguePull:
    """Copy the remote catalogue entries of ``space`` newer than ``cursor`` into ``local``."""
    result = CataloguePull(cursor=cursor)
    while True:
        with remote.anon_session() as rs:
            rows = (
                rs.execute(
                    text(
                        "select id::text as id, track_id, track_name, artist, "
                        "vector::text as vector, genre, source, created_at, embedding_space "
                        "from public.embeddings where embedding_space = :space "
                        "and source <> 'local' and track_id is not null "
                        "and (cast(:after as timestamptz) is null "
                        "     or (created_at, id) > (cast(:after as timestamptz), "
                        "                            cast(:after_id as uuid))) "
                        "order by created_at, id limit :page"
                    ),
                    {
                        "space": space,
                        "after": result.cursor[0] if result.cursor else None,
                        "after_id": result.cursor[1] if result.cursor else None,
                        "page": page,
                    },
                )
                .mappings()
                .all()
            )
        if not rows:
            return result
        with local.service_session() as ls:
            for row in rows:
                _upsert(ls, dict(row))
        result.pulled += len(rows)
        result.pages += 1
        result.cursor = (rows[-1]["created_at"], rows[-1]["id"])
        if len(rows) < page:
            return result


def _upsert(session: Any, row: dict[str, Any]) -> None:
    session.execute(
        text(
            "insert into public.embeddings (id, track_id, track_name, artist, vector, genre, "
            "source, created_at, embedding_space) values (cast(:id as uuid), :track_id, "
            ":track_name, :artist, cast(:vector as vector), :genre, :source, :created_at, "
            ":embedding_space) "
            "on conflict (track_id) do update set track_name = excluded.track_name, "
            "artist = excluded.artist, vector = excluded.vector, genre = excluded.genre, "
            "source = excluded.source, embedding_space = excluded.embedding_space "
            "where public.embeddings.source <> 'local'"
        ),
        row,
    )

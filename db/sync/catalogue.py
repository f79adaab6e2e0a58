# SPDX-License-Identifier: MIT
"""The shared catalogue (``embeddings``) pulled from the shared database, one space only.

``embeddings`` is public to read and written by the service, so it is not one of the
user's synced tables (``tables.SYNCED_TABLES``: nothing is pushed, no outbox). Every sync
pulls the shared entries of *this device's* embedding space (vectors of another space
mean nothing here) through the SQL function ``catalogue_pull`` (migration
``20261129150000_catalogue_pull.sql``), over either transport (``db/sync/remote.py``).

The cursor is the writing transaction of each shared row (``change_txid``): a pull takes
the window ``cursor <= txid < hi`` with ``hi`` the oldest transaction still running there,
so a slow writer is never skipped and a re-embedded entry comes again; with nothing new
the whole pull is one call answering an empty page. Entries are upserted by ``track_id``,
one local transaction per page; the listener's own files (``source = 'local'``) are never
overwritten. Deletions travel the same way (migration ``20261129170000_catalogue_deletions``):
an entry deleted on the shared side, or moved to another space, leaves a tombstone there
that comes in the page of its transaction (``deleted``: ids), and is removed here from
that space, before the page's rows are upserted (an entry deleted and then re-added under
the same ``track_id`` with a new id arrives as a tombstone of the old id and a row of the
new one; a tombstone of an entry that is live again is never sent). The listener's own
files are never removed by it. The cursor is saved with each page (the last transaction
the page finished) and after the last page: a pull killed half way resumes from that
transaction, taking again at most the entries of one transaction, which changes nothing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from db.sync.remote import Remote

#: Entries per call (the function caps pages at 5,000; a page of 500 768-d vectors is
#: about 4 MB of JSON).
PAGE = 500
#: The function's own cap.
MAX_PAGE = 5000
#: Where a device that never pulled a space starts: before every transaction.
START = "0"


@dataclass
class CataloguePull:
    pulled: int = 0
    #: entries removed here because the shared side deleted them or moved them away
    deleted: int = 0
    pages: int = 0
    #: where the next pull of this space starts (a transaction id, as text)
    cursor: str = START


def active_space(conn: Connection, user_id: uuid.UUID) -> str | None:
    """The device's embedding space: the one its listener's taste vector is in (set by
    the taste rebuild with the active embedder). None before any taste exists."""
    space = conn.execute(
        text("select embedding_space from public.users where id = :u"), {"u": user_id}
    ).scalar()
    return str(space) if space else None


def load_cursor(conn: Connection, user_id: uuid.UUID, remote_key: str, space: str) -> str:
    found = conn.execute(
        text(
            "select catalogue_cursor ->> cast(:s as text) from public.sync_state "
            "where user_id = :u and remote = :r"
        ),
        {"s": space, "u": user_id, "r": remote_key},
    ).scalar()
    return str(found) if found else START


def save_cursor(
    conn: Connection, user_id: uuid.UUID, remote_key: str, space: str, cursor: str
) -> None:
    conn.execute(
        text(
            "update public.sync_state set catalogue_cursor = "
            "catalogue_cursor || jsonb_build_object(cast(:s as text), cast(:c as text)) "
            "where user_id = :u and remote = :r"
        ),
        {"s": space, "c": cursor, "u": user_id, "r": remote_key},
    )


def pull_catalogue(
    local: Any,
    remote: Remote,
    user_id: uuid.UUID,
    space: str,
    *,
    page: int | None = None,
) -> CataloguePull:
    """Copy the shared catalogue entries of ``space`` written since the last pull into
    ``local`` (a ``db.database.Database``); the sync state row must exist."""
    with local.engine.connect() as conn:
        lo = load_cursor(conn, user_id, remote.key, space)
    page = min(page or PAGE, MAX_PAGE)
    result = CataloguePull(cursor=lo)
    hi: str | None = None
    after_tx: str | None = None
    after_id: str | None = None
    while True:
        got = remote.call(
            "catalogue_pull",
            p_space=space,
            p_lo=lo,
            p_hi=hi,
            p_after_tx=after_tx,
            p_after_id=after_id,
            p_limit=page,
        )
        hi = str(got["hi"])
        rows = got["rows"]
        gone = got.get("deleted") or []  # a shared database before tombstones has none
        more = int(got["scanned"]) >= page
        if more:
            after_tx, after_id = str(got["after_tx"]), str(got["after_id"])
        if rows or gone or more:
            with local.engine.begin() as conn:
                result.deleted += _remove(conn, gone, space) if gone else 0
                result.pulled += _upsert(conn, rows) if rows else 0
                if more:
                    # Every entry of a transaction below the page's last one is taken: a
                    # pull cut short resumes from that transaction, not from the start.
                    save_cursor(conn, user_id, remote.key, space, str(after_tx))
            result.pages += 1
        if not more:
            break
    if hi != lo:
        with local.engine.begin() as conn:
            save_cursor(conn, user_id, remote.key, space, hi)
        result.cursor = hi
    return result


def _remove(conn: Connection, ids: list[str], space: str) -> int:
    """Drop the pulled copies of entries that left ``space`` on the shared side; never the
    listener's own files. Returns how many were here."""
    gone = conn.execute(
        text(
            "delete from public.embeddings where id = any(cast(:ids as uuid[])) "
            "and embedding_space = :space and source <> 'local' returning 1"
        ),
        {"ids": [str(uuid.UUID(str(i))) for i in ids], "space": space},
    ).all()
    return len(gone)


def _upsert(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """One statement for the page; returns the entries taken (not the listener's files)."""
    page = json.dumps(rows)
    # An entry whose track_id changed on the shared side keeps its id: drop the old copy,
    # or the insert would collide on the primary key instead of updating.
    conn.execute(
        text(
            "delete from public.embeddings e "
            "using jsonb_to_recordset(cast(:rows as jsonb)) as r(id uuid, track_id text) "
            "where e.id = r.id and e.track_id is distinct from r.track_id "
            "and e.source <> 'local'"
        ),
        {"rows": page},
    )
    taken = conn.execute(
        text(
            "insert into public.embeddings (id, track_id, track_name, artist, vector, genre, "
            "source, created_at, embedding_space) "
            "select r.id, r.track_id, r.track_name, r.artist, cast(r.vector as vector), "
            "coalesce(r.genre, '{}'), r.source, r.created_at, r.embedding_space "
            "from jsonb_to_recordset(cast(:rows as jsonb)) as r(id uuid, track_id text, "
            "track_name text, artist text, vector text, genre text[], source text, "
            "created_at timestamptz, embedding_space text) "
            # The copy takes the shared id, so a later tombstone of that id finds it.
            "on conflict (track_id) do update set id = excluded.id, "
            "track_name = excluded.track_name, "
            "artist = excluded.artist, vector = excluded.vector, genre = excluded.genre, "
            "source = excluded.source, embedding_space = excluded.embedding_space "
            "where public.embeddings.source <> 'local' "
            "returning 1"
        ),
        {"rows": page},
    ).all()
    return len(taken)

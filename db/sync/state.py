"""What a device remembers about one shared database: cursor, device id, last outcome.

Kept in the local table ``sync_state`` so that it moves with the database and is written
in the same transactions as the rows it describes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from db.sync.tables import SYNCED_TABLES


@dataclass(frozen=True)
class SyncState:
    user_id: uuid.UUID
    remote: str
    device_id: uuid.UUID
    pull_cursor: str
    last_sync_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    last_result: dict[str, Any]


def load_state(conn: Connection, user_id: uuid.UUID, remote: str) -> SyncState:
    """The state row for ``(user, remote)``, created on first use."""
    conn.execute(
        text(
            "insert into public.sync_state (user_id, remote) values (:u, :r) "
            "on conflict (user_id, remote) do nothing"
        ),
        {"u": user_id, "r": remote},
    )
    row = conn.execute(
        text("select * from public.sync_state where user_id = :u and remote = :r"),
        {"u": user_id, "r": remote},
    ).one()
    return _state(row)


def _state(row: Any) -> SyncState:
    return SyncState(
        user_id=row.user_id,
        remote=row.remote,
        device_id=row.device_id,
        pull_cursor=row.pull_cursor,
        last_sync_at=row.last_sync_at,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
        last_result=dict(row.last_result or {}),
    )


def save_cursor(conn: Connection, user_id: uuid.UUID, remote: str, cursor: str) -> None:
    conn.execute(
        text("update public.sync_state set pull_cursor = :c where user_id = :u and remote = :r"),
        {"c": cursor, "u": user_id, "r": remote},
    )


def record_outcome(
    engine: Engine,
    user_id: uuid.UUID,
    remote: str,
    result: dict[str, Any],
    error: str | None,
) -> None:
    """Remember the last attempt (and, when it succeeded, the last sync) for the status view."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "update public.sync_state set last_attempt_at = now(), "
                "last_error = cast(:e as text), last_result = cast(:res as jsonb), "
                "last_sync_at = case when cast(:e as text) is null then now() "
                "else last_sync_at end where user_id = :u and remote = :r"
            ),
            {"e": error, "res": json.dumps(result), "u": user_id, "r": remote},
        )


def remember_failure(
    engine: Engine, user_id: uuid.UUID, remote: str, result: dict[str, Any], error: str
) -> None:
    """Record a failed attempt for the status view (when this device has the account)."""
    with engine.begin() as conn:
        if not conn.execute(
            text("select 1 from public.users where id = :u"), {"u": user_id}
        ).first():
            return
        load_state(conn, user_id, remote)
    record_outcome(engine, user_id, remote, result, error)


def pending_count(conn: Connection, user_id: uuid.UUID) -> int:
    """Local changes not yet pushed (what the Settings view shows as "pending")."""
    return int(
        conn.execute(
            text(
                "select count(*) from public.sync_changes "
                "where pending and user_id = :u and table_name = any(:t)"
            ),
            {"u": user_id, "t": [t.name for t in SYNCED_TABLES]},
        ).scalar_one()
    )


def status(engine: Engine, user_id: uuid.UUID) -> dict[str, Any]:
    """Last sync, pending changes, last error and conflicts kept, for one user."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select * from public.sync_state where user_id = :u "
                "order by last_attempt_at desc nulls last"
            ),
            {"u": user_id},
        ).all()
        conflicts = conn.execute(
            text("select count(*) from public.sync_conflicts where user_id = :u"), {"u": user_id}
        ).scalar_one()
        pending = pending_count(conn, user_id)
    latest = _state(rows[0]) if rows else None
    return {
        "user_id": str(user_id),
        "remote": latest.remote if latest else None,
        "last_sync_at": latest.last_sync_at.isoformat() if latest and latest.last_sync_at else None,
        "last_attempt_at": (
            latest.last_attempt_at.isoformat() if latest and latest.last_attempt_at else None
        ),
        "last_error": latest.last_error if latest else None,
        "last_result": latest.last_result if latest else {},
        "pending": pending,
        "conflicts_kept": int(conflicts),
    }


def has_state(conn: Connection, user_id: uuid.UUID, remote: str) -> bool:
    return (
        conn.execute(
            text("select 1 from public.sync_state where user_id = :u and remote = :r"),
            {"u": user_id, "r": remote},
        ).first()
        is not None
    )


def other_states(conn: Connection, user_id: uuid.UUID, remote: str) -> list[SyncState]:
    """The user's states with other shared databases (or the same one reached another
    way), the most recently synced first."""
    rows = conn.execute(
        text(
            "select * from public.sync_state where user_id = :u and remote <> :r "
            "and pull_cursor <> '1' order by last_sync_at desc nulls last"
        ),
        {"u": user_id, "r": remote},
    ).all()
    return [_state(r) for r in rows]


def adopt_state(conn: Connection, user_id: uuid.UUID, remote: str, earlier: SyncState) -> None:
    """Continue ``earlier``'s cursor and device id under the key ``remote``: the same shared
    database reached another way (a direct URL before, the Data API now). The device id
    keeps our own pushed entries from coming back as someone else's changes."""
    conn.execute(
        text(
            "insert into public.sync_state (user_id, remote, device_id, pull_cursor) "
            "values (:u, :r, :d, :c) on conflict (user_id, remote) do nothing"
        ),
        {"u": user_id, "r": remote, "d": earlier.device_id, "c": earlier.pull_cursor},
    )

"""Sync between this device's database and the shared Postgres (Supabase in production).

``sync(local, remote)`` is the whole job; ``status(local)`` is what the Settings view shows.
The design (outbox, feed, cursor, conflicts) is explained in ``db/sync/engine.py`` and
``docs/areas/sync.md``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from base.errors import UserFacingError
from db.sync.engine import BATCH, Syncer, SyncError, SyncResult
from db.sync.schema_guard import SchemaMismatch, check_remote_schema
from db.sync.state import record_outcome, remember_failure
from db.sync.state import status as _status
from db.sync.tables import SYNCED_TABLES

__all__ = [
    "SYNCED_TABLES",
    "SchemaMismatch",
    "SyncError",
    "SyncResult",
    "default_user",
    "open_remote",
    "status",
    "sync",
]

#: Seconds to wait for the shared database to answer a connection.
CONNECT_TIMEOUT = 10


def open_remote(url: str) -> Any:
    """A ``Database`` on the shared Postgres that gives up quickly when it is unreachable."""
    from db.database import Database
    from db.url import parse_database_url

    parsed = parse_database_url(url, "the shared database URL (--remote)")
    if "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})
    return Database(parsed, origin="the shared database URL (--remote)")


def default_user(local: Any) -> uuid.UUID:
    """The device's account: the one users row there is."""
    with local.engine.connect() as conn:
        found = list(
            conn.execute(text("select id from public.users order by created_at limit 2")).scalars()
        )
    if not found:
        raise UserFacingError("There is no account on this device yet; finish onboarding first.")
    if len(found) > 1:
        raise UserFacingError("This device holds several accounts; name one with --user ID.")
    return uuid.UUID(str(found[0]))


def sync(
    local: Any,
    remote: Any,
    user_id: uuid.UUID | str | None = None,
    storage: Any = None,
    batch: int | None = None,
) -> SyncResult:
    """Pull then push one user's rows; ``remote`` is a ``Database`` or a URL.

    Raises ``SchemaMismatch`` before touching anything when the two schemas differ, and
    ``SyncError`` when the connection breaks (what was done is kept; run it again).
    """
    from db.database import Database, explain_connect_error
    from db.url import describe

    owned = not isinstance(remote, Database)
    remote_db = open_remote(remote) if owned else remote
    try:
        uid = uuid.UUID(str(user_id)) if user_id else default_user(local)
        key = describe(remote_db.url)
        syncer = Syncer(local, remote_db, uid, key, storage=storage, batch=batch or BATCH)
        try:
            try:
                check_remote_schema(remote_db.engine)
            except OperationalError as exc:
                reason = explain_connect_error(exc, remote_db.url)
                raise SyncError(f"Cannot reach the shared database: {reason}") from exc
            result = syncer.run()
        except UserFacingError as exc:
            # What got through before the failure is kept; callers may report it.
            exc.partial = syncer.result  # type: ignore[attr-defined]
            remember_failure(local.engine, uid, key, syncer.result.as_dict(), str(exc))
            raise
        record_outcome(local.engine, uid, key, result.as_dict(), None)
        return result
    finally:
        if owned:
            remote_db.close()


def status(local: Any, user_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    """Last sync, pending changes, last error, conflicts kept."""
    uid = uuid.UUID(str(user_id)) if user_id else default_user(local)
    return _status(local.engine, uid)

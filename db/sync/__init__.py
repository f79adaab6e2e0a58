"""Sync between this device's database and the shared Postgres (Supabase in production).

``sync(local, remote)`` is the whole job; ``status(local)`` is what the Settings view shows.
The design (outbox, feed, cursor, conflicts) is explained in ``db/sync/syncer.py`` and
``docs/areas/sync.md``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from base.errors import UserFacingError
from db.sync.audio import SharedAudio
from db.sync.errors import RemoteRejected, RemoteUnreachable, SyncError
from db.sync.remote import DirectRemote, Remote
from db.sync.schema_guard import SchemaMismatch, check_remote_schema, check_versions
from db.sync.state import adopt_state, has_state, other_states, record_outcome, remember_failure
from db.sync.state import status as _status
from db.sync.syncer import BATCH, Syncer, SyncResult
from db.sync.tables import SYNCED_TABLES

__all__ = [
    "SYNCED_TABLES",
    "Remote",
    "RemoteUnreachable",
    "SchemaMismatch",
    "SharedAudio",
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
    storage: SharedAudio | None = None,
    batch: int | None = None,
    catalogue_space: str | None = None,
) -> SyncResult:
    """Pull then push one user's rows, then pull the shared catalogue entries of
    ``catalogue_space`` (default: the space of the listener's taste vector here).

    ``remote`` is a ``Remote`` (the Data API with the user's token: ``db.sync.rpc``), or a
    ``Database``/PostgreSQL URL of a database the listener owns (direct mode). Raises
    ``SchemaMismatch`` before touching anything when the two schemas differ, and
    ``SyncError`` when the connection breaks (what was done is kept; run it again).
    """
    from db.database import Database, explain_connect_error
    from db.url import describe

    transport: Remote
    remote_db: Any = None
    owned = False
    if hasattr(remote, "call"):
        transport = remote
    else:
        owned = not isinstance(remote, Database)
        remote_db = open_remote(remote) if owned else remote
    try:
        uid = uuid.UUID(str(user_id)) if user_id else default_user(local)
        if remote_db is not None:
            transport = DirectRemote(remote_db, uid, describe(remote_db.url))
        syncer = Syncer(
            local,
            transport,
            uid,
            storage=storage,
            batch=batch or BATCH,
            catalogue_space=catalogue_space,
        )
        try:
            if remote_db is not None:
                try:
                    check_remote_schema(remote_db.engine)
                except OperationalError as exc:
                    reason = explain_connect_error(exc, remote_db.url)
                    raise SyncError(f"Cannot reach the shared database: {reason}") from exc
            else:
                check_versions(_ledger(transport))
            _continue_earlier_state(local, transport, uid)
            result = syncer.run()
        except UserFacingError as exc:
            # What got through before the failure is kept; callers may report it.
            exc.partial = syncer.result  # type: ignore[attr-defined]
            remember_failure(local.engine, uid, transport.key, syncer.result.as_dict(), str(exc))
            raise
        record_outcome(local.engine, uid, transport.key, result.as_dict(), None)
        return result
    finally:
        if owned:
            remote_db.close()


def _ledger(transport: Remote) -> dict[str, str]:
    try:
        return dict(transport.call("sync_schema"))
    except RemoteRejected as exc:
        raise SchemaMismatch(
            f"The shared database has no sync functions ({exc}); apply this app's migrations "
            "there (supabase db push)."
        ) from exc


def _continue_earlier_state(local: Any, transport: Remote, uid: uuid.UUID) -> None:
    """A device that synced with this database another way (a direct URL, before the Data
    API) keeps its cursor and device id: nothing is pulled again, and nothing it pushed
    comes back as someone else's change. Checked on the shared side, never assumed."""
    with local.engine.begin() as conn:
        if has_state(conn, uid, transport.key):
            return
        earlier = other_states(conn, uid, transport.key)
    for state in earlier:
        try:
            known = transport.call("sync_knows_device", p_device=str(state.device_id))
        except RemoteRejected:
            return  # an older shared schema: start afresh, which loses nothing either
        if known:
            with local.engine.begin() as conn:
                adopt_state(conn, uid, transport.key, state)
            return


def status(local: Any, user_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    """Last sync, pending changes, last error, conflicts kept."""
    uid = uuid.UUID(str(user_id)) if user_id else default_user(local)
    return _status(local.engine, uid)

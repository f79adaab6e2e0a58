"""Refuse to sync with a shared database whose schema is not the app's.

Rows copied between two schemas that differ would be silently truncated or rejected half
way; naming the migrations that differ tells the user which side to update.
"""

from __future__ import annotations

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from base.errors import UserFacingError
from db import migrate


class SchemaMismatch(UserFacingError):
    """The shared database's applied migrations are not the app's."""


def remote_versions(engine: Engine) -> dict[str, str]:
    """``{version: name}`` applied on the remote (read as the login role, never service_role)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "select version, coalesce(name, '') from supabase_migrations.schema_migrations"
                )
            ).all()
    except OperationalError:
        raise  # unreachable: the caller explains it
    except ProgrammingError as exc:
        if isinstance(exc.orig, psycopg.errors.UndefinedTable):
            return {}  # never migrated: every migration is missing
        raise _unreadable(exc) from exc
    except DBAPIError as exc:
        raise _unreadable(exc) from exc
    return {str(v): str(n) for v, n in rows}


def _unreadable(exc: DBAPIError) -> SchemaMismatch:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return SchemaMismatch(f"Cannot read the shared database's migration ledger: {reason}.")


def check_remote_schema(engine: Engine) -> None:
    """Raise ``SchemaMismatch`` naming every migration applied on one side only."""
    check_versions(remote_versions(engine))


def check_versions(remote: dict[str, str]) -> None:
    """``check_remote_schema`` for a ledger already read (over the Data API: ``sync_schema``)."""
    local = {f.version: f.name for f in migrate.discover()}
    missing = sorted(set(local) - set(remote))
    extra = sorted(set(remote) - set(local))
    if not missing and not extra:
        return
    parts = []
    if missing:
        names = ", ".join(f"{v}_{local[v]}" for v in missing)
        parts.append(f"it lacks {names} (apply them there: supabase db push)")
    if extra:
        names = ", ".join(f"{v}_{remote[v] or '?'}" for v in extra)
        parts.append(f"it has {names}, which this app does not know (update the app)")
    raise SchemaMismatch(
        "The shared database's schema differs from this app's: " + "; ".join(parts) + "."
    )

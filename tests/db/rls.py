"""Run one statement as a given actor, report whether it took effect, and roll back."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def act(database: Any, actor: str, user_id: uuid.UUID | None) -> tuple[str, str]:
    if actor == "service":
        return "service_role", ""
    if actor == "anon":
        return "anon", json.dumps({"role": "anon"})
    return "authenticated", json.dumps({"sub": str(user_id), "role": "authenticated"})


def attempt(database: Any, actor: str, user_id: uuid.UUID | None, sql: str, **params: Any) -> bool:
    """True when the statement affected or returned at least one row as ``actor``."""
    role, claims = act(database, actor, user_id)
    with database.engine.connect() as conn:
        tx = conn.begin()
        try:
            conn.exec_driver_sql(f"set local role {role}")
            conn.execute(text("select set_config('request.jwt.claims', :c, true)"), {"c": claims})
            result = conn.execute(text(sql), params)
            return bool(result.fetchall()) if result.returns_rows else result.rowcount > 0
        except DBAPIError as exc:
            message = str(exc.orig)
            assert "permission denied" in message or "row-level security" in message, message
            return False
        finally:
            tx.rollback()

"""Real PostgreSQL for tests: one embedded server per session, one database per test.

The schema is migrated once into a template database owned by a NON-superuser (as on
Supabase, where ``postgres`` is not a superuser); each test gets a copy made with
``CREATE DATABASE … TEMPLATE``, which takes a fraction of a second.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from db import compat, migrate
from db.embedded import EmbeddedServer

OWNER_ROLE = "ip_owner"
TEMPLATE_DB = "ip_template"


def start_server(folder: Path) -> tuple[EmbeddedServer, URL]:
    server = EmbeddedServer(folder)
    url = make_url(server.start()).set(drivername="postgresql+psycopg")
    return server, url


def _autocommit(url: URL):  # type: ignore[no-untyped-def]
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=None)


def create_owner_database(superuser: URL, name: str, template: str | None = None) -> URL:
    """A database owned by the non-superuser owner role, with the Supabase compat objects."""
    admin = _autocommit(superuser)
    with admin.connect() as conn:
        exists = conn.execute(
            text("select 1 from pg_roles where rolname = :r"), {"r": OWNER_ROLE}
        ).first()
        if not exists:
            conn.exec_driver_sql(f"create role {OWNER_ROLE} login nosuperuser nocreaterole")
        tmpl = f" template {template}" if template else ""
        conn.exec_driver_sql(f'create database "{name}" owner {OWNER_ROLE}{tmpl}')
    admin.dispose()
    db_superuser = superuser.set(database=name)
    if template is None:
        eng = create_engine(db_superuser)
        with eng.begin() as conn:
            compat.apply_compat(conn, member=OWNER_ROLE)
        eng.dispose()
    return db_superuser.set(username=OWNER_ROLE, password=None)


def prepare_template(superuser: URL) -> URL:
    """Create and migrate the template database; returns its owner URL."""
    owner_url = create_owner_database(superuser, TEMPLATE_DB)
    eng = create_engine(owner_url)
    migrate.migrate(eng)
    eng.dispose()
    return owner_url


def fresh_database(superuser: URL) -> URL:
    """A new migrated database (copy of the template); returns its owner URL."""
    return create_owner_database(superuser, f"t_{uuid.uuid4().hex[:12]}", template=TEMPLATE_DB)


def drop_database(superuser: URL, name: str) -> None:
    admin = _autocommit(superuser)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
    admin.dispose()


class HoldsTheUsersRow:
    """Another connection holding the user's row (as another device's booking would), so
    this service's booking waits; ``then`` runs in that transaction before it commits."""

    def __init__(self, database: Any, user: Any, then: Any = None) -> None:
        self.locked, self.release = threading.Event(), threading.Event()
        self._database, self._user, self._then = database, user, then
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        with self._database.service_session() as s:
            s.execute(
                text("select 1 from public.users where id = :u for update"), {"u": self._user}
            )
            self.locked.set()
            self.release.wait(60)
            if self._then is not None:
                s.execute(text(self._then), {"u": self._user})

    def __enter__(self) -> HoldsTheUsersRow:
        self._thread.start()
        assert self.locked.wait(30)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self._thread.join(30)

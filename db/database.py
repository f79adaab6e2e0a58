"""One object for "the database": connect, migrate, and sessions with the right identity.

Every user-facing query runs as Postgres role ``authenticated`` with the user's id in
``request.jwt.claims`` — what PostgREST does on Supabase — so row-level security guards the
local database exactly as it guards the shared one. The service session (role
``service_role``) is for migrations' neighbours: maintenance, quotas, seeding.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from base.errors import UserFacingError
from base.paths import pgdata_dir
from db import compat
from db import migrate as migrations
from db.embedded import EmbeddedServer
from db.migrate import MigrationFile, MigrationState
from db.url import configured_url, describe, parse_database_url

log = logging.getLogger(__name__)


class DatabaseUnavailable(UserFacingError):
    """The server cannot be reached or refused us."""


class Database:
    """An engine plus the sessions the app needs; ``close()`` releases the server."""

    def __init__(
        self,
        url: str | URL,
        *,
        embedded: EmbeddedServer | None = None,
        origin: str = "the database URL",
    ) -> None:
        self.url = url if isinstance(url, URL) else parse_database_url(url, origin)
        self.embedded = embedded
        self.engine: Engine = create_engine(
            self.url, pool_pre_ping=True, pool_size=5, max_overflow=20
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # -- opening --------------------------------------------------------------------------

    @classmethod
    def open_default(cls, *, migrate_schema: bool = True) -> Database:
        """The app's database: ``DATABASE_URL`` if set, else the embedded server, migrated."""
        raw = configured_url()
        if raw:
            database = cls(raw, origin="DATABASE_URL")
        else:
            server = EmbeddedServer(pgdata_dir())
            database = cls(server.start(), embedded=server, origin="the embedded database")
        try:
            database.check()
            if database.embedded is not None:
                database.ensure_compat()
            if migrate_schema:
                database.migrate()
        except BaseException:
            database.close()
            raise
        return database

    @property
    def is_embedded(self) -> bool:
        return self.embedded is not None

    def describe(self) -> str:
        return "embedded PostgreSQL" if self.is_embedded else describe(self.url)

    def check(self) -> None:
        """Connect once, turning driver errors into an explanation."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("select 1"))
        except OperationalError as exc:
            raise DatabaseUnavailable(explain_connect_error(exc, self.url)) from exc

    def ensure_compat(self) -> None:
        with self.engine.begin() as conn:
            compat.apply_compat(conn)

    def migrate(self) -> list[MigrationFile]:
        return migrations.migrate(self.engine)

    def migration_status(self) -> list[MigrationState]:
        return migrations.status(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    # -- sessions -------------------------------------------------------------------------

    @contextmanager
    def service_session(self) -> Iterator[Session]:
        """Role ``service_role`` (bypasses RLS): maintenance and server-side rules."""
        with self._session("service_role", None) as s:
            yield s

    @contextmanager
    def user_session(self, user_id: uuid.UUID | str) -> Iterator[Session]:
        """Role ``authenticated`` as ``user_id``: RLS decides what is visible."""
        claims = {"sub": str(uuid.UUID(str(user_id))), "role": "authenticated"}
        with self._session("authenticated", claims) as s:
            yield s

    @contextmanager
    def anon_session(self) -> Iterator[Session]:
        """Role ``anon``: what someone signed out may see."""
        with self._session("anon", {"role": "anon"}) as s:
            yield s

    @contextmanager
    def _session(self, role: str, claims: dict[str, Any] | None) -> Iterator[Session]:
        session = self._sessions()
        claims_json = json.dumps(claims) if claims else ""

        # Re-applied at the start of every transaction: SET LOCAL ends with each commit.
        @event.listens_for(session, "after_begin")
        def _act_as(_session: Session, _tx: Any, connection: Any) -> None:
            connection.exec_driver_sql(f"set local role {role}")
            connection.execute(
                text("select set_config('request.jwt.claims', :c, true)"), {"c": claims_json}
            )

        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def explain_connect_error(exc: OperationalError, url: URL) -> str:
    """A sentence for the most common ways a connection fails."""
    where = describe(url)
    message = str(exc.orig).lower() if exc.orig else str(exc).lower()
    if "authentication failed" in message or ("role" in message and "does not exist" in message):
        return f"The database at {where} refused the login for user {url.username!r}."
    if "does not exist" in message and "database" in message:
        return f"The database {url.database!r} does not exist on {where}."
    if "connection refused" in message or "no such file" in message:
        return f"No database server is answering at {where} (connection refused). Is it running?"
    if "timeout" in message or "timed out" in message:
        return f"The database server at {where} did not answer in time."
    if "could not translate host name" in message or "name or service not known" in message:
        return f"The database host in {where} cannot be found."
    first = (str(exc.orig) if exc.orig else str(exc)).strip().splitlines()[0]
    return f"Cannot connect to the database at {where}: {first}"

"""Two real PostgreSQL servers: the session's (the device) and a second one (the shared DB).

The second server is started and migrated with the same helpers as the first
(``tests/pgtools.py``), so both sides run exactly the migrations the app ships.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from tests import pgtools


class RemoteServer:
    """The shared database's server; tests may stop and start it (the network going away)."""

    def __init__(self, folder: Any) -> None:
        self.folder = folder
        self.server, self.superuser = pgtools.start_server(folder)

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server, self.superuser = pgtools.start_server(self.folder)


@pytest.fixture(scope="session")
def remote_server() -> Iterator[RemoteServer]:
    # Outside pytest's basetemp (mode 0700): as root, the server runs as the unprivileged
    # ``pgserver`` user, who must reach the folder (as the lead's ``pg_server``).
    folder = Path(tempfile.mkdtemp(prefix="ip-test-pg-remote-"))
    server = RemoteServer(folder / "pgdata")
    try:
        pgtools.prepare_template(server.superuser)
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def remote(remote_server: RemoteServer) -> Iterator[Any]:
    """The shared database, shared by the tests: each test's account is its own (RLS keeps
    the accounts apart, as on the real thing), and one database is much cheaper than many."""
    from db.database import Database

    url = pgtools.fresh_database(remote_server.superuser)
    db = Database(url)
    yield db
    db.close()


@pytest.fixture
def private_remote(remote_server: RemoteServer) -> Iterator[Any]:
    """A shared database of this test's own, for tests that break or inspect all of it."""
    from db.database import Database

    db = Database(pgtools.fresh_database(remote_server.superuser))
    yield db
    db.close()  # not dropped: the server goes at the end of the session, and a drop costs
    # seconds on a busy machine


@pytest.fixture
def second_device(pg_server: URL) -> Iterator[Any]:
    """Another device of the same user: a second local database."""
    from db.database import Database

    db = Database(pgtools.fresh_database(pg_server))
    yield db
    db.close()  # not dropped, as private_remote


@pytest.fixture
def account(database: Any) -> uuid.UUID:
    """The device's user, created locally only (the first sync creates it remotely)."""
    uid = uuid.uuid4()
    with database.user_session(uid) as s:
        s.execute(
            text("insert into users (id, email) values (:i, :e)"),
            {"i": uid, "e": f"{uid.hex[:8]}@example.com"},
        )
    return uid


@pytest.fixture
def as_user() -> Callable[..., Any]:
    """``with as_user(db, uid) as s:`` — the app's way of writing (role authenticated)."""

    def _session(db: Any, uid: uuid.UUID) -> Any:
        return db.user_session(uid)

    return _session


class ApiDatabase:
    """A shared database reached the way the Data API reaches it (``tests/supabase_stub``),
    with the owner's ``Database`` beside it for the test's own checks."""

    def __init__(self, db: Any, api: Any) -> None:
        self.db = db
        self.api = api


@pytest.fixture
def api_database(remote_server: RemoteServer) -> Iterator[ApiDatabase]:
    from db.database import Database
    from tests.supabase_stub.data_api import DataApi, create_authenticator

    create_authenticator(remote_server.superuser)
    owner_url = pgtools.fresh_database(remote_server.superuser)
    db = Database(owner_url)
    api = DataApi(owner_url)
    yield ApiDatabase(db, api)
    api.close()
    db.close()


@pytest.fixture
def supabase(api_database: ApiDatabase) -> Iterator[Any]:
    """The loopback Data API + Auth + Storage stand-in (``tests/supabase_stub``) over a
    shared database of this test's own, with the app configured for it."""
    from tests.supabase_stub.server import SupabaseStub

    stub = SupabaseStub(api_database.api).start()
    stub.db = api_database.db  # type: ignore[attr-defined]
    yield stub
    stub.stop()

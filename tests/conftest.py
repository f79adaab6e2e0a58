"""Fixtures shared by every test area.

Isolation first: each test gets its own data folder (``INFINITE_PLAYER_HOME``), offscreen
Qt and no ``DATABASE_URL``, so nothing a developer has on their machine leaks in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from tests import pgtools

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_profile(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("INFINITE_PLAYER_HOME", str(home))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return home


@pytest.fixture
def pg_home() -> Iterator[Path]:
    """A data folder for tests that start their own embedded server.

    Outside pytest's basetemp: pytest resets its root to mode 0700, and as root the server
    runs as the unprivileged ``pgserver`` user, who must be able to reach the folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="ip-test-home-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """Superuser URL of the session's embedded PostgreSQL, with the template migrated."""
    # Not under pytest's basetemp: pytest prunes old basetemps, and a concurrent pytest run
    # would delete a live cluster from under this one.
    folder = Path(tempfile.mkdtemp(prefix="ip-test-pg-"))
    server, superuser = pgtools.start_server(folder / "pgdata")
    try:
        pgtools.prepare_template(superuser)
        yield superuser
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database_url(pg_server: URL) -> Iterator[URL]:
    """Owner URL of a fresh, migrated database for this test."""
    url = pgtools.fresh_database(pg_server)
    yield url
    pgtools.drop_database(pg_server, str(url.database))


@pytest.fixture
def database(database_url: URL) -> Iterator[Any]:
    from db.database import Database

    db = Database(database_url)
    yield db
    db.close()


@pytest.fixture
def make_user(database: Any) -> Callable[..., uuid.UUID]:
    """Create a users row through the service role; returns its id."""
    from db.models import User

    def _make(email: str | None = None, **cols: Any) -> uuid.UUID:
        with database.service_session() as s:
            user = User(email=email or f"{uuid.uuid4().hex[:10]}@example.com", **cols)
            s.add(user)
            s.flush()
            return user.id

    return _make

"""Every way of pointing the app at the wrong database ends in a sentence, not a trace."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from base.errors import UserFacingError
from db.database import Database, DatabaseUnavailable


@pytest.mark.parametrize(
    "url,expected",
    [
        ("not a url", "DATABASE_URL is not a valid database URL"),
        ("mysql://u:p@localhost/db", "needs PostgreSQL"),
        ("postgresql://u:p@localhost:5432", "names no database"),
    ],
)
def test_malformed_database_url(monkeypatch, url, expected):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(UserFacingError, match=expected):
        Database.open_default()


def test_password_never_appears_in_errors(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://me:hunter2@127.0.0.1:1/music")
    with pytest.raises(DatabaseUnavailable) as info:
        Database.open_default()
    assert "hunter2" not in str(info.value)
    assert "connection refused" in str(info.value) and "127.0.0.1:1" in str(info.value)


def test_server_refusing_the_login(pg_server):
    url = pg_server.set(username="nobody_here")
    with pytest.raises(DatabaseUnavailable, match="refused the login for user 'nobody_here'"):
        Database(url).check()


def test_missing_database_is_named(pg_server):
    with pytest.raises(DatabaseUnavailable, match="'no_such_db' does not exist"):
        Database(pg_server.set(database="no_such_db")).check()


def test_cli_prints_the_error_and_exits_2(tmp_path):
    env = {**os.environ, "DATABASE_URL": "definitely not a url"}
    proc = subprocess.run(
        [sys.executable, "-m", "player", "db", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "error: DATABASE_URL is not a valid database URL" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unwritable_data_folder(tmp_path, monkeypatch):
    home = tmp_path / "locked"
    home.mkdir()
    if os.geteuid() == 0:
        # Root ignores permission bits; the immutable attribute stops root too.
        if subprocess.run(["chattr", "+i", str(home)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a folder read-only for root here (no chattr +i)")
    else:
        home.chmod(0o555)
    try:
        monkeypatch.setenv("INFINITE_PLAYER_HOME", str(home))
        with pytest.raises(UserFacingError, match="is not writable"):
            Database.open_default()
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(home)], check=False)
        else:
            home.chmod(0o755)


def test_data_folder_that_cannot_exist(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("INFINITE_PLAYER_HOME", str(blocker / "home"))
    with pytest.raises(UserFacingError, match="not writable"):
        Database.open_default()

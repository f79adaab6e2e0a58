"""The network breaks and the process dies mid-sync; the next sync still converges."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from db.sync import SyncError, status, sync
from tests.sync.helpers import add_history, add_playlist, add_track, assert_same, pending, run_sql

ROOT = Path(__file__).resolve().parents[2]


def _outage(superuser: URL, database: str, after: float, stop: threading.Event) -> None:
    """After ``after`` seconds the database refuses connections and drops the open ones."""
    engine = create_engine(superuser.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        if stop.wait(after):
            return
        with engine.connect() as conn:
            conn.exec_driver_sql(f'alter database "{database}" allow_connections false')
            conn.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = :d and pid <> pg_backend_pid()"
                ),
                {"d": database},
            )
    finally:
        engine.dispose()


def _end_outage(superuser: URL, database: str) -> None:
    engine = create_engine(superuser.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'alter database "{database}" allow_connections true')
    engine.dispose()


def test_the_shared_database_going_away_mid_sync(database, private_remote, remote_server, account):
    remote = private_remote
    add_history(database, account, 600)
    for i in range(20):
        add_playlist(database, account, f"list {i}")
    before = pending(database)
    broke = False
    for attempt in range(8):
        stop = threading.Event()
        name = str(remote.url.database)
        cutter = threading.Thread(
            target=_outage, args=(remote_server.superuser, name, 0.2 + 0.15 * attempt, stop)
        )
        cutter.start()
        try:
            sync(database, remote, account, batch=20)
        except SyncError as exc:
            assert "run the sync again" in str(exc) or "Cannot reach" in str(exc)
            broke = 0 < pending(database) < before  # stopped half way, not before or after
        finally:
            stop.set()
            cutter.join()
            _end_outage(remote_server.superuser, name)
        if broke or pending(database) == 0:
            break
    assert broke, "the outage never hit mid-sync; the test proves nothing"
    assert "run the sync again" in status(database, account)["last_error"]
    result = sync(database, remote, account)
    assert result.errors == []
    assert pending(database) == 0
    assert status(database, account)["last_error"] is None
    snap = assert_same(database, remote, account)
    assert len(snap["user_history"]) == 600 and len(snap["user_playlists"]) == 20


def test_an_unreachable_shared_database_is_a_clear_error(database, account, tmp_path):
    url = f"postgresql://nobody@/postgres?host={tmp_path}&port=1"
    with pytest.raises(SyncError, match="Cannot reach the shared database"):
        sync(database, url, account)
    shown = status(database, account)
    assert "Cannot reach" in shown["last_error"] and shown["pending"] == 1


def _cli(local: URL, remote: URL, home: Path, action: str = "run") -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": local.render_as_string(hide_password=False),
        "INFINITE_PLAYER_HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "player",
            "sync",
            action,
            "--batch",
            "5",
            "--remote",
            remote.render_as_string(hide_password=False),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _timed(proc) -> float:
    started = time.perf_counter()
    proc.communicate()
    assert proc.returncode == 0
    return time.perf_counter() - started


def test_sigkill_at_random_points_loses_and_duplicates_nothing(database, remote, account, tmp_path):
    rng = random.Random(8)
    add_history(database, account, 200)
    track = add_track(database, account)
    playlist = add_playlist(database, account, "Kill me", [{"id": str(track)}])
    # Another device writes on the shared side meanwhile (it has the account already).
    run_sql(
        remote,
        account,
        "insert into users (id, email) values (:i, :e)",
        i=account,
        e=f"{account.hex[:8]}@example.com",
    )

    def new_changes_on_both_sides(round_: int) -> None:
        add_history(database, account, 40, prefix=f"r{round_}-")
        run_sql(
            database,
            account,
            "update user_playlists set name = :n where id = :i",
            n=f"round {round_}",
            i=playlist,
        )
        run_sql(
            remote,
            account,
            "insert into user_playlists (user_id, name) values (:u, :n)",
            u=account,
            n=f"remote {round_}",
        )

    # Timed first: a process that only opens the database (`sync status`), and a whole
    # round; the kills then land inside the sync proper, on a fast machine and a slow one.
    assert sync(database, remote, account).errors == []
    # Start-up is timed on warm caches (the best of two): in a fresh clone the first
    # process also compiles every module, and sleeping that long would outlast a sync.
    startup = min(_timed(_cli(database.url, remote.url, tmp_path, "status")) for _ in range(2))
    new_changes_on_both_sides(0)
    started = time.perf_counter()
    proc = _cli(database.url, remote.url, tmp_path)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert json.loads(out)["errors"] == []
    work = max(time.perf_counter() - started - startup, 0.2)
    rounds, killed = 0, 0
    # Six kills at random points, in at most twelve rounds; when a sync finishes before its
    # kill, the start-up estimate was too long and shrinks, so later kills land inside.
    while killed < 6 and rounds < 12:
        rounds += 1
        new_changes_on_both_sides(rounds)
        proc = _cli(database.url, remote.url, tmp_path)
        time.sleep(startup + rng.uniform(0.0, 0.8) * work)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        else:
            startup *= 0.7
        proc.communicate()
    assert killed >= 3, f"only {killed} kills landed mid-sync"
    result = sync(database, remote, account)
    assert result.errors == []
    snap = assert_same(database, remote, account)
    assert len(snap["user_history"]) == 200 + (rounds + 1) * 40
    assert len(snap["user_playlists"]) == 1 + rounds + 1
    names = [r for r in snap["user_playlists"] if str(playlist) in r]
    assert f'"name": "round {rounds}"' in names[0]

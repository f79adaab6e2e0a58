"""The embedded server as a listener meets it: first start, a second window, a crash."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

HOLDER = textwrap.dedent(
    """
    import sys
    from sqlalchemy import text
    from db.database import Database
    db = Database.open_default()
    print("ready", flush=True)
    for line in sys.stdin:
        with db.engine.connect() as c:
            print(c.execute(text("select count(*) from users")).scalar_one(), flush=True)
    db.close()
    """
)


def _env(home):
    return {**os.environ, "INFINITE_PLAYER_HOME": str(home)}


def _cli(home, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "player", *args],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=timeout,
    )


def _postgres_running(pgdata) -> bool:
    for proc in psutil.process_iter(attrs=("name", "cmdline")):
        cmd = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(cmd):
            return True
    return False


def _start_holder(home):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(home),
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _ask(proc) -> str:
    proc.stdin.write("q\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


def test_migrate_then_status_on_a_fresh_home(pg_home):
    first = _cli(pg_home, "db", "migrate")
    assert first.returncode == 0, first.stderr
    assert "applied 20261125000000_initial_schema.sql" in first.stdout
    status = _cli(pg_home, "db", "status", "--json")
    assert status.returncode == 0, status.stderr
    states = json.loads(status.stdout)["migrations"]
    assert states and {s["state"] for s in states} == {"applied"}
    again = _cli(pg_home, "db", "migrate")
    assert "up to date" in again.stdout
    assert not _postgres_running(pg_home / "pgdata"), "the server outlived the last process"


def test_doctor_says_plainly_what_is_missing(pg_home):
    proc = _cli(pg_home, "doctor")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"Data folder: {pg_home}" in out
    assert "embedded PostgreSQL (embedded), NOT migrated" in out
    report = json.loads(_cli(pg_home, "doctor", "--json", "--no-database").stdout)
    assert set(report) == {"data_folder", "database", "audio", "gpu", "checkpoints"}
    if not report["gpu"]["cuda"] and not report["gpu"]["mps"]:
        assert "GPU:         none" in out
    if not report["audio"]["devices"]:
        assert "no output device" in out


def test_second_process_attaches_and_server_stops_after_the_last(pg_home):
    a = _start_holder(pg_home)
    b = _start_holder(pg_home)
    try:
        assert _ask(a) == "0" and _ask(b) == "0"
        b.stdin.close()
        assert b.wait(30) == 0
        assert _ask(a) == "0", "the first process lost its database when the second left"
        assert _postgres_running(pg_home / "pgdata")
    finally:
        a.stdin.close()
        a.wait(30)
    deadline = time.monotonic() + 10
    while _postgres_running(pg_home / "pgdata") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_running(pg_home / "pgdata")


@pytest.mark.parametrize("victim", ["app", "app-and-postgres"])
def test_recovers_after_a_crash(pg_home, victim):
    a = _start_holder(pg_home)
    pgdata = pg_home / "pgdata"
    postmaster = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    a.kill()
    a.wait(30)
    if victim == "app-and-postgres":  # a power cut: postmaster.pid stays behind, stale
        os.kill(postmaster, signal.SIGKILL)
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(postmaster).wait(10)
    b = _start_holder(pg_home)
    try:
        assert _ask(b) == "0"
    finally:
        b.stdin.close()
        b.wait(30)
    # The app that crashed never said goodbye; stop a server it left behind.
    for proc in psutil.process_iter(attrs=("name", "cmdline")):
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(proc.info["cmdline"] or []):
            proc.terminate()

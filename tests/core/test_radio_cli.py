"""`infinite-player radio --json`: the lock-step protocol over real pipes, on the real database."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from base.errors import UserFacingError
from player.cli.radio_cmd import parse_station
from player.generation.genres import GENRES
from tests.listener_sim import radio_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def radio_env(database, database_url, make_user):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    make_user(email, preferences_profile={"genres": ["house", "lo-fi"], "vibe": "chill"})
    env = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "INFINITE_PLAYER_DAILY_LIMIT": "0",
        "PYTHONPATH": str(ROOT),
    }
    return email, env


def _start(email: str, env: dict, tracks: int) -> subprocess.Popen:
    return subprocess.Popen(
        radio_command(email, tracks, 3.0),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(ROOT),
    )


def _say(proc: subprocess.Popen, line: str) -> None:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def test_bad_lines_and_unknown_ids_are_named_and_the_session_goes_on(radio_env):
    email, env = radio_env
    proc = _start(email, env, 2)
    try:
        first = json.loads(proc.stdout.readline())
        assert Path(first["path"]).is_file() and first["genre"] in GENRES
        assert first["request"]["genre"] == first["genre"] and "seed" in first["request"]
        _say(proc, "this is not json")
        _say(proc, json.dumps({"like": str(uuid.uuid4())}))
        _say(proc, json.dumps({"skip": first["track_id"], "at": "soon"}))
        _say(proc, json.dumps({"dance": first["track_id"]}))
        _say(proc, json.dumps({"skip": first["track_id"], "at": 4.5}))
        second = json.loads(proc.stdout.readline())
        assert second["track_id"] != first["track_id"]
        _say(proc, json.dumps({"played": second["track_id"]}))
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == ""  # two feedback lines were asked for: exactly two tracks were printed
    lines = err.strip().splitlines()
    assert len(lines) == 4, err
    assert "line 1: not JSON" in lines[0]
    assert "line 2: unknown track id" in lines[1]
    assert "line 3:" in lines[2] and '"at"' in lines[2]
    assert "line 4: expected exactly one of like, skip, played" in lines[3]


def test_end_of_input_ends_the_session(radio_env):
    email, env = radio_env
    proc = _start(email, env, 5)
    out, err = proc.communicate("", timeout=120)
    assert proc.returncode == 0, err
    assert len(out.splitlines()) == 1  # the first track, then the listener left


def test_the_daily_quota_applies(radio_env):
    email, env = radio_env
    proc = _start(email, {**env, "INFINITE_PLAYER_DAILY_LIMIT": "1"}, 3)
    try:
        first = json.loads(proc.stdout.readline())
        _say(proc, json.dumps({"like": first["track_id"]}))
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3 and out == ""
    assert "free generations" in err


def test_stations_are_parsed_with_clear_errors():
    assert parse_station("genre:house").genre == "house"
    assert parse_station("taste").kind == "taste"
    track = uuid.uuid4()
    assert parse_station(f"track:{track}").track_id == track
    with pytest.raises(UserFacingError, match="not a band id"):
        parse_station("band:nope")
    with pytest.raises(UserFacingError, match="is not one of"):
        parse_station("mood:happy")

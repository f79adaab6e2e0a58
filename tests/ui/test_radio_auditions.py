"""Issue 13: the app's radio auditions its candidates in the engine's process, so the
window's process never loads the synthesis modules (nor ``scipy.signal``) and never
renders on its own interpreter lock; issue 17: nor describes what was rendered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

HOST = """
import json, sys, time, uuid
from db.database import Database
from player.generation.isolated import IsolatedGenerator
from player.radio import RadioSeed, RadioService
from player.settings import Settings
from ui.context import make_generation

def ready(radio, known):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        item = radio.next_ready()
        if item is not None and item.track_id not in known:
            return item
        time.sleep(0.05)
    raise SystemExit(f"no track: {radio.items()} {radio.halted}")

if __name__ == "__main__":
    import player.taste.sound as sound
    described, files = [], []  # descriptions computed in this (the app's) process
    real_describe, real_file = sound.describe, sound.Auditioner.describe_file
    sound.describe = lambda *a, **k: described.append(1) or real_describe(*a, **k)
    sound.Auditioner.describe_file = (
        lambda *a, **k: files.append(1) or real_file(*a, **k))
    url, user, home = sys.argv[1], uuid.UUID(sys.argv[2]), sys.argv[3]
    database = Database(url)
    settings = Settings(home + "/settings.json", {"daily_limit": 50})
    engine = IsolatedGenerator("procedural")
    service = make_generation(database, settings, engine)
    radio = RadioService(database, user, service, ahead=1, track_seconds=10.0,
                         preferences={"genres": ["house", "jazz"]}, rng_seed=3,
                         remember=False, score=False, lockstep=True)
    radio.start(RadioSeed("taste"))
    seen, previews, sounds = [], [], []
    for verdict in ("like", "skip", "like", None):
        item = ready(radio, seen)
        seen.append(item.track_id)
        previews.append(item.previews)
        sounds.append(None if item.sound is None else [float(x) for x in item.sound])
        radio.track_started(item.track_id)
        if verdict == "like":
            radio.like(item.track_id)
        elif verdict == "skip":
            radio.skip(item.track_id, 2.0)
        if verdict is not None:
            radio.advance()
    auditioner = radio.planner.auditioner
    report = {
        "previews": previews,
        "renders": auditioner.renders,
        "in_child": auditioner.generator is engine,
        "described_here": len(described),
        "files_described_here": len(files),
        "sounds": sounds,
        "sound_rows": len(radio.planner.model.sound),
        "loaded": [m for m in ("scipy.signal", "player.generation.procedural",
                               "player.generation.render") if m in sys.modules],
    }
    radio.close()
    service.close()
    database.close()
    print(json.dumps(report))
"""


def test_the_apps_radio_auditions_in_the_engine_process(
    tmp_path: Path, database_url: Any, make_user: Any
) -> None:
    user = make_user()
    script = tmp_path / "host.py"
    script.write_text(HOST)
    env = {**os.environ, "INFINITE_PLAYER_HOME": str(tmp_path / "home")}
    env.pop("INFINITE_PLAYER_MUSICGEN", None)
    url = database_url.render_as_string(hide_password=False)
    proc = subprocess.run(
        [sys.executable, str(script), url, str(user), str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["in_child"]
    # After two verdicts the planner auditions: the third and fourth tracks were chosen
    # from rendered previews, and every render happened in the engine's process.
    assert report["previews"][:2] == [0, 0]
    assert report["previews"][2] > 1 and report["renders"] >= report["previews"][2]
    assert report["loaded"] == []
    # Issue 17: the previews were described in the engine's process too: the only
    # descriptions made here are of made tracks' files (the two chosen without an
    # audition); every track carries its description, and the sound model learned from
    # the verdicts on them.
    assert report["files_described_here"] == 2
    assert report["described_here"] == report["files_described_here"]
    assert all(s is not None and len(s) == 8 for s in report["sounds"])
    assert report["sound_rows"] == 3


def test_a_failing_engine_process_costs_the_auditions_not_the_radio(
    database: Any, make_user: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    """Through a process, a preview can fail (the engine crashed, the app is closing, or
    it cannot start): the radio thread must not die with it; the track is made from the
    plan as it stood."""
    from player.generation.isolated import IsolatedGenerator
    from player.generation.service import GenerationService
    from player.radio import RadioSeed
    from player.taste.sound import Auditioner

    monkeypatch.setenv("INFINITE_PLAYER_MUSICGEN", str(tmp_path))  # no checkpoint there
    broken = IsolatedGenerator("musicgen")  # its process cannot start: every preview fails
    service = GenerationService(database, IsolatedGenerator("procedural"), daily_limit=50)
    radio = _lockstep_radio(database, make_user(), service, rng_seed=3)
    try:
        planner = radio.prepare()
        planner.auditioner = Auditioner(seconds=4.0, generator=broken)
        _two_verdicts(planner)
        radio.start(RadioSeed("taste"))
        first = _wait_ready(radio, None)
        radio.track_started(first.track_id)
        radio.like(first.track_id)
        radio.advance()
        second = _wait_ready(radio, first.track_id)
        assert second.previews == 0  # auditions failed, the track was still made
        assert radio.halted == ""
    finally:
        radio.close()
        service.close()
        broken.close()


def _lockstep_radio(database: Any, user: Any, service: Any, rng_seed: int) -> Any:
    """A lock-step radio of 6-s tracks that plans one ahead and stores nothing."""
    from player.radio import RadioService

    return RadioService(
        database,
        user,
        service,
        ahead=1,
        track_seconds=6.0,
        preferences={"genres": ["house", "jazz"]},
        rng_seed=rng_seed,
        remember=False,
        score=False,
        lockstep=True,
    )


def _two_verdicts(planner: Any) -> None:
    """A bright sound liked, a dark one skipped: from now on every plan (after a station's
    first track) carries alternatives to audition."""
    planner.model.sound.observe([7.0, 7.0, 0.0, 11.8, 2.7, -18.0, 0.75, 0.55], 1.0)
    planner.model.sound.observe([7.0, 7.0, 0.0, 9.6, 2.7, -18.0, 0.75, 0.55], -1.0)


def _wait_ready(radio: Any, after: Any) -> Any:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        item = radio.next_ready()
        if item is not None and item.track_id != after:
            return item
        time.sleep(0.05)
    raise AssertionError(f"no track made: {radio.items()}")


def test_a_stations_first_track_is_not_auditioned_while_the_listener_waits(
    database: Any, make_user: Any
) -> None:
    """Issue 17: with a model that has heard two verdicts (a returning listener), every
    plan carries candidates to audition; the station's first track, which the listener
    waits for in silence, is made without them (four previews held "Start my radio" up
    by seconds), described from its file instead, and the next one is auditioned."""
    from player.generation.procedural import ProceduralGenerator
    from player.generation.service import GenerationService
    from player.radio import RadioSeed
    from player.taste.sound import Auditioner

    service = GenerationService(database, ProceduralGenerator(), daily_limit=50)
    radio = _lockstep_radio(database, make_user(), service, rng_seed=5)
    try:
        planner = radio.prepare()
        auditioner = planner.auditioner = Auditioner(seconds=2.0)
        _two_verdicts(planner)
        radio.start(RadioSeed("taste"))
        first = _wait_ready(radio, None)
        assert first.previews == 0 and auditioner.renders == 0
        assert first.sound is not None  # described from the made file
        radio.track_started(first.track_id)
        radio.advance()
        second = _wait_ready(radio, first.track_id)
        assert second.previews > 1 and auditioner.renders == second.previews
        # A new station: its first track is waited for again, so not auditioned.
        renders = auditioner.renders
        radio.start(RadioSeed("genre", genre="jazz"))
        radio.advance()  # lock-step: the first track still counts as playing
        third = _wait_ready(radio, second.track_id)
        assert third.previews == 0 and auditioner.renders == renders
    finally:
        radio.close()

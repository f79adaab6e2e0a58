"""Radio start (issue 17): the engine's process and the radio's planner are ready before
the first "Start my radio", so the first click waits for neither."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from player.radio import RadioSeed
from player.settings import Settings


def test_the_engine_process_starts_with_the_app_beside_the_database(
    qtbot, database, database_url, onboarded_user, monkeypatch, tmp_path
):
    """The engine's process starts (and warms up) while the database is still opening,
    and the window's generation service uses that very process."""
    import ui.app
    from ui.tasks import TaskRunner

    gate = threading.Event()
    really_open = ui.app.open_database

    def open_database_when_let(settings: Settings) -> Any:
        assert gate.wait(120)  # the database takes its time: the engine must not wait
        return really_open(settings)

    monkeypatch.setattr(ui.app, "open_database", open_database_when_let)
    failures: list[str] = []
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    settings = Settings(tmp_path / "settings.json", {"user_email": "listener@example.com"})
    tasks = TaskRunner(QApplication.instance())
    launcher = ui.app.Launcher(QApplication.instance(), settings, tasks)
    # A start-up failure shows a modal box, which would block this test forever: say it.
    launcher._fatal = lambda exc: failures.append(repr(exc))  # type: ignore[method-assign]
    ready: list[Any] = []
    launcher.on_ready = ready.append
    try:
        launcher.start()
        if launcher.frame is not None:
            qtbot.addWidget(launcher.frame)
        qtbot.waitUntil(
            lambda: launcher.engine_process is not None or bool(failures), timeout=60000
        )
        assert not failures, failures
        generator = launcher.engine_process
        assert launcher.database is None  # still opening
        assert generator.ready(timeout=120)  # imported and warmed up meanwhile
        pid = generator.pid
        gate.set()
        qtbot.waitUntil(lambda: bool(ready or failures), timeout=60000)
        assert not failures, failures
        assert ready[0].ctx.generation.generator is generator
        assert generator.pid == pid  # the same process, not a second one
        assert launcher.engine_process is None  # claimed by the window
    finally:
        gate.set()
        launcher.shutdown()
        tasks.shutdown()


def test_the_radio_planner_is_made_before_the_first_click(qtbot, session):
    radio = session.window.radio
    service = radio.service
    qtbot.waitUntil(lambda: service.planner is not None, timeout=60000)
    prepared = service.planner
    radio.start(RadioSeed("taste"))
    qtbot.waitUntil(lambda: bool(service.items()), timeout=60000)
    assert service.planner is prepared  # the click used it; it did not make one


def test_preferences_changed_after_preparing_get_a_planner_of_their_own(qtbot, session):
    radio = session.window.radio
    service = radio.service
    qtbot.waitUntil(lambda: service.planner is not None, timeout=60000)
    prepared = service.planner
    session.ctx.profile.preferences["genres"] = ["techno"]
    radio.start(RadioSeed("taste"))
    qtbot.waitUntil(lambda: bool(service.items()), timeout=60000)
    assert service.planner is not prepared
    assert service.preferences["genres"] == ["techno"]


@pytest.mark.parametrize("genre", ["house", "jazz"])
def test_a_new_track_starts_with_a_short_chunk_and_grows_to_two_bars(genre):
    """The first chunk is what the radio waits for before it sounds: a quarter bar, not
    two; the blocks double up to two bars, so rendering stays far ahead of playback."""
    from player.generation.procedural import ProceduralGenerator
    from player.generation.protocol import GenerationRequest

    result = ProceduralGenerator().generate(
        GenerationRequest(genres=[genre], seed=4, duration_seconds=40.0)
    )
    bar = 4 * 60.0 / result.bpm * result.samplerate
    sizes = [len(c) for c in result]
    assert sizes[0] <= 0.25 * bar
    assert sizes[1] > 1.5 * sizes[0] and sizes[2] > 1.5 * sizes[1]
    assert max(sizes) == pytest.approx(2 * bar, abs=300)  # (the limiter holds back 256)
    assert sum(sizes) == pytest.approx(40.0 * result.samplerate, rel=0.05)


def _first_ready(radio: Any) -> Any:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        item = radio.next_ready()
        if item is not None:
            return item
        time.sleep(0.05)
    raise AssertionError(f"no track made: {radio.items()} {radio.halted}")


def test_the_first_track_is_planned_and_rendered_before_the_click(database, make_user):
    """Before "Start my radio", the radio plans the taste station's first track and the
    engine's process renders its opening; the click makes exactly that track, answered
    from the render begun ahead. A click on another station plans afresh."""
    from player.generation.isolated import IsolatedGenerator
    from player.generation.service import GenerationService
    from player.radio import RadioService

    engine = IsolatedGenerator("procedural")
    service = GenerationService(database, engine, daily_limit=50)
    user = make_user()
    radios = []

    def radio() -> RadioService:
        made = RadioService(
            database,
            user,
            service,
            ahead=1,
            track_seconds=6.0,
            preferences={"genres": ["house", "lo-fi"]},
            rng_seed=2,
            remember=False,
            score=False,
        )
        radios.append(made)
        return made

    try:
        taste = radio()
        assert taste.prepare_start(RadioSeed("taste"))
        planned = taste._ready_plan[1].request
        taste.start(RadioSeed("taste"))
        first = _first_ready(taste)
        assert first.request == planned
        assert engine.prerendered == 1  # the child answered from the opening made ahead
        assert not taste.prepare_start(RadioSeed("taste"))  # a station plays: nothing to do

        jazz = radio()
        assert jazz.prepare_start(RadioSeed("taste"))
        jazz.start(RadioSeed("genre", genre="jazz"))
        other = _first_ready(jazz)
        assert other.genre == "jazz" and engine.prerendered == 1
    finally:
        for made in radios:
            made.close()
        service.close()

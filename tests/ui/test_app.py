"""Start-up as the app does it: database off the GUI thread, onboarding, then the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from player.settings import Settings
from ui.app import Launcher
from ui.tasks import TaskRunner


@pytest.fixture
def no_sound_device(monkeypatch):
    """Hide the PulseAudio null sink another test area may have left PortAudio pointing at."""
    import sounddevice as sd

    monkeypatch.delenv("PULSE_SERVER", raising=False)
    sd._terminate()
    sd._initialize()
    yield
    monkeypatch.undo()
    sd._terminate()
    sd._initialize()


def test_first_run_goes_through_onboarding_to_the_window(
    qtbot, database_url, monkeypatch, no_sound_device
):
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    settings = Settings()
    tasks = TaskRunner(QApplication.instance())
    launcher = Launcher(QApplication.instance(), settings, tasks)
    ready = []
    launcher.on_ready = ready.append
    launcher.start()
    qtbot.waitUntil(lambda: launcher.onboarding is not None, timeout=30000)
    view = launcher.onboarding
    qtbot.addWidget(view)
    assert launcher.splash.isHidden()
    qtbot.keyClicks(view.email, "first@example.com")
    qtbot.mouseClick(view.genre_buttons["ambient"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.vibe_buttons["dreamy"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.finish, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(ready), timeout=30000)
    session = ready[0]
    qtbot.addWidget(session.window)
    assert session.window.isVisible() and not view.isVisible()
    assert session.ctx.profile.email == "first@example.com"
    # no sound card here: the engine fell back to a null output and the window says so,
    # with an indicator that stays (not a status line that scrolls away)
    assert session.ctx.playback.engine.output_kind == "null"
    assert session.window.device_indicator.isVisible()
    assert "No sound device" in session.window.device_indicator.text()
    # the onboarding window was fitted to the screen it opened on
    available = view.screen().availableGeometry()
    assert view.width() <= available.width() and view.height() <= available.height()
    qtbot.waitUntil(lambda: Settings.load().user_email == "first@example.com")
    launcher.shutdown()

    # The next start shows the window at once, before the database is open, and
    # fills it in; a view picked while it loads is the one shown.
    again = Launcher(QApplication.instance(), Settings.load(), TaskRunner(QApplication.instance()))
    ready.clear()
    again.on_ready = ready.append
    again.start()
    frame = again.frame
    assert frame is not None and frame.isVisible() and not frame.attached
    qtbot.addWidget(frame)
    assert again.splash.isHidden() and again.database is None
    assert frame.app_subtitle.text() == "first@example.com"
    assert frame.stack.currentWidget() is frame.loading
    frame.show_view("bands")
    qtbot.waitUntil(lambda: bool(ready), timeout=30000)
    assert ready[0].window is frame and frame.attached
    assert frame.current_view == "bands" and frame.stack.currentWidget() is frame.bands_view
    assert again.onboarding is None
    again.shutdown()


def test_onboarding_is_not_built_while_the_warm_up_still_imports(
    qtbot, database_url, monkeypatch, no_sound_device
):
    """Two threads importing Qt views at once crashed the app (PySide6 makes its types
    on first use): the GUI thread builds what it shows only once the warm-up's imports
    are done, even when the database opened first."""
    import threading
    import time

    import ui.app

    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    spans: dict[str, float] = {}
    warming = threading.Event()

    def slow_warm_up() -> None:
        spans["warm_start"] = time.monotonic()
        warming.set()
        # Outlast the database's opening (a fixed 2 s did not on a loaded CI machine), so
        # the GUI thread has a database and must still wait for the imports.
        deadline = time.monotonic() + 30.0
        while launcher.database is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if launcher.database is not None:
            spans["opened"] = time.monotonic()
        time.sleep(0.5)
        spans["warm_end"] = time.monotonic()

    monkeypatch.setattr(ui.app, "warm_imports", slow_warm_up)
    launcher = Launcher(QApplication.instance(), Settings(), TaskRunner(QApplication.instance()))
    launcher.prestart_engine = False
    launcher.start()
    assert warming.wait(10)
    qtbot.waitUntil(lambda: launcher.onboarding is not None, timeout=30000)
    shown = time.monotonic()
    qtbot.addWidget(launcher.onboarding)
    assert "opened" in spans, "the database did not open during the warm-up"
    assert shown >= spans["warm_end"]
    launcher.shutdown()

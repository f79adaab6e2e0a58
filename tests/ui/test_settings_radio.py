"""Settings → "Reset what the radio learned": asks first, deletes the model off the GUI
thread, says it is done; cancelling keeps everything."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from player.taste.store import load_state, save_state

LEARNED = {"format": 1, "genres": {"house": [3.0, 1.0]}}


@pytest.fixture
def tasks():
    from ui.tasks import TaskRunner

    runner = TaskRunner(QApplication.instance())  # real worker threads
    yield runner
    runner.shutdown()


def _open_confirmation(qtbot, box):
    qtbot.mouseClick(box.reset_button, Qt.MouseButton.LeftButton)
    dialog = box.confirm_box
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert "cannot be undone" in dialog.text()
    return dialog


def test_the_settings_view_resets_what_the_radio_learned(qtbot, session):
    window, ctx = session.window, session.ctx
    save_state(ctx.database, ctx.user_id, LEARNED, "descriptor-v1")
    from player.taste.listener import Controls

    # the running radio holds a model in memory too: it must forget it, or save it back
    model = window.radio.service.prepare().model
    model.observe(Controls("house", 124.0, "minor", 0.7, 0.6, 0.8, 0.1, "medium", 0), 1.0)
    window.show_view("settings")
    box = window.settings_view.radio_memory
    assert box.isVisibleTo(window.settings_view)
    _open_confirmation(qtbot, box)
    with qtbot.waitSignal(box.learned_reset, timeout=10000):
        qtbot.mouseClick(box.confirm_button(), Qt.MouseButton.LeftButton)
    assert load_state(ctx.database, ctx.user_id) is None
    assert box.message.text().startswith("Done")
    assert box.reset_button.isEnabled()
    qtbot.waitUntil(lambda: window.radio.service.planner.model.observations == [], timeout=10000)


def test_cancel_keeps_the_model(qtbot, database, make_user, tasks):
    from ui.views.settings_radio import RadioMemoryBox

    uid = make_user()
    save_state(database, uid, LEARNED, "descriptor-v1")
    box = RadioMemoryBox(database, uid, tasks)
    qtbot.addWidget(box)
    box.show()
    dialog = _open_confirmation(qtbot, box)
    qtbot.mouseClick(dialog.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert box.confirm_box is None and tasks.active == []
    assert load_state(database, uid) == (LEARNED, "descriptor-v1")
    assert not box.message.text().startswith("Done")


def test_a_failed_reset_is_said_in_the_box(qtbot, make_user, tasks):
    from db.database import Database
    from ui.views.settings_radio import RadioMemoryBox

    gone = Database("postgresql://nobody@127.0.0.1:1/gone?connect_timeout=2")  # nothing there
    box = RadioMemoryBox(gone, make_user(), tasks)
    qtbot.addWidget(box)
    box.show()
    _open_confirmation(qtbot, box)
    qtbot.mouseClick(box.confirm_button(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.message.text().startswith("Could not reset"), timeout=20000)
    assert "\n" not in box.message.text()  # one line, not a driver traceback
    assert box.reset_button.isEnabled()
    gone.close()

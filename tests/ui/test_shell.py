"""The main window shell: views, now-playing bar, status area, shortcuts, window state."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.main_window import VIEWS


def test_window_composes_views_and_bar(qtbot, session):
    window = session.window
    assert [window.sidebar.item(i).text() for i in range(window.sidebar.count())] == [
        "Radio",
        "Library",
        "Bands",
        "Settings",
    ]
    for name in VIEWS:
        window.show_view(name)
        assert window.current_view == name
    bar = window.now_playing
    assert bar.isVisible() and bar.title.text() == "Nothing playing"
    # no track yet: like is disabled, the seek slider too
    assert not window.actions_["like"].isEnabled()
    assert not bar.seek.isEnabled()


def test_ctrl_f_goes_to_library_search(qtbot, session):
    window = session.window
    window.show_view("radio")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.current_view == "library"
    assert window.library_view.search.hasFocus()


def test_shortcuts_drive_playback(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    make_tracks(ctx.user_id, 2, seconds=6.0)
    tracks = ctx.library.tracks(sort="match", descending=False)
    with qtbot.waitSignal(ctx.playback.track_changed, timeout=20000):
        ctx.playback.play_tracks(tracks)
    qtbot.waitUntil(lambda: ctx.playback.state == "playing")
    window.show_view("radio")
    window.radio_view.queue.setFocus()
    with qtbot.waitSignal(ctx.playback.state_changed, timeout=10000) as paused:
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert paused.args == ["paused"]
    assert window.actions_["play_pause"].text() == "Play"
    with qtbot.waitSignal(ctx.playback.state_changed, timeout=10000) as resumed:
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert resumed.args == ["playing"]
    with qtbot.waitSignal(ctx.playback.track_changed, timeout=10000) as nxt:
        qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert nxt.args[0]["track_id"] == str(tracks[1].id)
    assert window.now_playing.title.text() == tracks[1].title
    # typing a space in the search box types, it does not pause
    window.show_view("library")
    window.library_view.search.setFocus()
    qtbot.keyClicks(window.library_view.search, "a b")
    assert window.library_view.search.text() == "a b"
    assert ctx.playback.state == "playing"


def test_window_geometry_and_last_view_are_remembered(qtbot, session):
    from ui.main_window import window_settings

    window = session.window
    window.resize(1111, 777)
    window.show_view("bands")
    window.save_state()
    stored = window_settings()
    assert stored.value("view") == "bands"
    fresh_view = window_settings().value("view")
    assert fresh_view == "bands"


def test_settings_are_validated_saved_and_applied(qtbot, session):
    from player.settings import Settings

    window, ctx = session.window, session.ctx
    window.show_view("settings")
    view = window.settings_view
    view.crossfade.setValue(2.5)
    view.external.setChecked(True)
    view.db_url.setText("mysql://nope")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert "PostgreSQL" in view.message.text()
    assert ctx.settings.crossfade_seconds == 0.0  # nothing was applied
    view.embedded.setChecked(True)
    view.daily_limit.setValue(35)
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert view.message.text() == "Saved."
    assert ctx.playback.engine.crossfade_seconds == 2.5
    qtbot.waitUntil(lambda: ctx.settings.path.exists())
    qtbot.waitUntil(lambda: Settings.load(ctx.settings.path).daily_limit == 35)
    assert Settings.load(ctx.settings.path).crossfade_seconds == 2.5


def test_settings_show_pending_changes_from_the_sync_outbox(qtbot, session):
    """The Settings view reads last sync, pending changes and errors off the GUI thread."""
    window, ctx = session.window, session.ctx
    window.show_view("settings")
    view = window.settings_view
    qtbot.waitUntil(lambda: "waiting to sync" in view.sync_status.text(), timeout=10000)
    before = view.sync_status.text()
    assert "Never synced" in before
    ctx.library.create_playlist("Outbox check")  # a local change goes into the outbox
    view.refresh_sync_status()
    qtbot.waitUntil(lambda: view.sync_status.text() != before, timeout=10000)
    waiting = int(view.sync_status.text().split(" change")[0].split("· ")[-1])
    assert waiting >= 1

"""The keyboard: a visible focus at every Tab stop, arrows for seek and volume (but not in
controls that use them), and the "Keyboard shortcuts" sheet on F1 or ?."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QToolButton, QWidget

from ui.main_window import VIEWS
from ui.shortcuts import ShortcutsDialog

MAX_STOPS = 80


def focus_shows(qtbot, widget: QWidget) -> bool:
    """The widget renders differently with the focus than without it."""
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    assert widget.hasFocus()
    focused = widget.grab().toImage()
    widget.clearFocus()
    QApplication.processEvents()
    unfocused = widget.grab().toImage()
    return focused != unfocused


def tab_walk(qtbot, window, view: QWidget) -> list[QWidget]:
    """Tab from the view's first control until the focus comes back round."""
    view.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    if QApplication.focusWidget() is view or QApplication.focusWidget() is None:
        window.focusNextChild()
    seen: list[QWidget] = []
    for _ in range(MAX_STOPS):
        widget = QApplication.focusWidget()
        assert widget is not None
        if widget in seen:
            break
        seen.append(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
        QApplication.processEvents()
    return seen


def test_every_tab_stop_shows_where_the_focus_is(qtbot, session):
    window = session.window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    views = {
        "radio": window.radio_view,
        "library": window.library_view,
        "bands": window.bands_view,
        "settings": window.settings_view,
    }
    for name in VIEWS:
        window.show_view(name)
        QApplication.processEvents()
        stops = tab_walk(qtbot, window, views[name])
        assert len(stops) >= 5, name
        invisible = [
            f"{type(w).__name__}:{w.objectName() or w.accessibleName()}"
            for w in stops
            if w.isVisible() and not focus_shows(qtbot, w)
        ]
        assert invisible == [], (name, invisible)


def test_arrows_seek_and_change_volume_outside_text_fields(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    make_tracks(ctx.user_id, 1, seconds=30.0)
    tracks = ctx.library.tracks()
    with qtbot.waitSignal(ctx.playback.track_changed, timeout=20000):
        ctx.playback.play_tracks(tracks)
    qtbot.waitUntil(lambda: ctx.playback.state == "playing" and ctx.playback.duration > 0)
    window.activateWindow()
    bar = window.now_playing
    bar.play_button.setFocus()
    start = ctx.playback.position
    qtbot.keyClick(bar.play_button, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: ctx.playback.position >= start + 4.5, timeout=5000)
    ahead = ctx.playback.position
    qtbot.keyClick(bar.play_button, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: ctx.playback.position <= ahead - 3.5, timeout=5000)

    volume = bar.volume.value()
    qtbot.keyClick(bar.play_button, Qt.Key.Key_Down)
    assert bar.volume.value() == volume - 5
    assert abs(ctx.playback.volume - (volume - 5) / 100) < 1e-6
    qtbot.keyClick(bar.play_button, Qt.Key.Key_Up)
    assert bar.volume.value() == volume

    # a text field keeps its keys: the cursor moves, the track and volume do not
    window.show_view("library")
    search = window.library_view.search
    search.setFocus()
    qtbot.keyClicks(search, "abc")
    before = ctx.playback.position
    qtbot.keyClick(search, Qt.Key.Key_Left)
    assert search.cursorPosition() == 2
    qtbot.keyClick(search, Qt.Key.Key_Up)
    assert bar.volume.value() == volume
    assert abs(ctx.playback.position - before) < 2.0
    # a list keeps them too: Down moves through the views
    window.sidebar.setFocus()
    row = window.sidebar.currentRow()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Down)
    assert window.sidebar.currentRow() == row + 1 and bar.volume.value() == volume


def test_shortcuts_sheet_opens_on_f1_and_question_mark(qtbot, session):
    window = session.window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    window.now_playing.play_button.setFocus()
    qtbot.keyClick(window.now_playing.play_button, Qt.Key.Key_F1)
    sheet = window.shortcuts_dialog
    assert isinstance(sheet, ShortcutsDialog) and sheet.isVisible()
    rows = {
        sheet.table.item(r, 1).text(): sheet.table.item(r, 0).text()
        for r in range(sheet.table.rowCount())
    }
    assert rows["Back 5 seconds"] == "Left" and rows["Volume up"] == "Up"
    assert rows["Play or pause"] == "Space" and rows["Keyboard shortcuts"] == "F1 or ?"
    sheet.close()
    qtbot.waitUntil(lambda: not sheet.isVisible())
    window.activateWindow()
    window.now_playing.play_button.setFocus()
    qtbot.keyClick(window.now_playing.play_button, "?")
    qtbot.waitUntil(lambda: sheet.isVisible(), timeout=3000)
    sheet.close()


def test_icon_only_buttons_have_accessible_names(qtbot, session):
    window = session.window
    nameless = [
        b.objectName()
        for b in window.findChildren(QToolButton)
        if b.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
        and not isinstance(b.parent(), QLineEdit)  # a field's own icons: the field is named
        and not b.accessibleName().strip()
    ]
    assert nameless == []
    bar = window.now_playing
    assert bar.play_button.accessibleName() == "Play"
    assert bar.volume.accessibleName() == "Volume" and bar.seek.accessibleName()
    # the name follows the action: Play becomes Pause while playing
    window.actions_["play_pause"].setText("Pause")
    assert bar.play_button.accessibleName() == "Pause"

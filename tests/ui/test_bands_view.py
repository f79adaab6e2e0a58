"""Bands: create one from selected tracks, open its page, follow it, play its radio."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from ui.views.bands import CreateBandDialog


def menu_action(menu, text: str):
    for action in menu.actions():
        if action.text() == text:
            return action
        if action.menu() is not None:
            found = menu_action(action.menu(), text)
            if found is not None:
                return found
    return None


def test_create_a_band_from_tracks_and_follow_it(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    ids = make_tracks(ctx.user_id, 3)
    window.show_view("library")
    view = window.library_view
    view.show_kind("tracks")
    qtbot.waitUntil(lambda: view.tracks_model.rowCount() == 3 and not view.tracks_model.loading)
    selection = view.table.selectionModel()
    for row in (0, 2):
        selection.select(
            view.table.model().index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    chosen = {t.id for t in view.selected_tracks()}
    assert len(chosen) == 2 and chosen <= set(ids)

    def fill_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, CreateBandDialog)
        for i in range(dialog.genre_list.count()):
            item = dialog.genre_list.item(i)
            item.setCheckState(
                Qt.CheckState.Checked if item.text() == "jazz" else Qt.CheckState.Unchecked
            )
        dialog.vibe_box.setCurrentText("dreamy")
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    menu = view.build_menu(view.selected_tracks())
    QTimer.singleShot(0, fill_dialog)
    with qtbot.waitSignal(view.bands_changed, timeout=20000):
        menu_action(menu, "New band from selection…").trigger()

    bands = window.bands_view
    window.show_view("bands")
    qtbot.waitUntil(lambda: bands.mine.model_.rowCount() == 1, timeout=20000)
    band = bands.mine.model_.bands()[0]
    assert band.track_count == 2 and band.genres == ("jazz",) and band.vibe == "dreamy"
    assert band.cover_url and band.name
    # the library's "Add to band" menu now offers it
    assert menu_action(view.build_menu(view.selected_tracks()), band.name) is not None

    rect = bands.mine.visualRect(bands.mine.model().index(0, 0))
    qtbot.mouseClick(bands.mine.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    page = bands.page
    qtbot.waitUntil(lambda: bands.stack.currentWidget() is page and page.tracks.rowCount() == 2)
    assert page.name.text() == band.name
    assert {t.id for t in page.tracks.rows()} == chosen
    assert page.follow_button.text() == "Follow"
    qtbot.mouseClick(page.follow_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.follow_button.text() == "Unfollow", timeout=20000)
    assert page.band.follower_count == 1
    assert "1 follower" in page.meta.text()
    qtbot.waitUntil(lambda: bands.followed.model_.rowCount() == 1)
    qtbot.mouseClick(page.follow_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.follow_button.text() == "Follow", timeout=20000)
    assert page.band.follower_count == 0
    # band radio: the window goes to the Radio view playing this band's station
    qtbot.mouseClick(page.radio_button, Qt.MouseButton.LeftButton)
    assert window.current_view == "radio"
    assert window.radio_view.station.text() == f"Playing: {band.name} radio"
    qtbot.waitUntil(lambda: ctx.playback.state == "playing", timeout=60000)

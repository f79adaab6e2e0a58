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
        # nothing is ticked for the listener (their onboarding genres included)
        assert dialog.genres() == [] and not dialog.is_public()
        qtbot.mouseClick(dialog.genre_boxes["jazz"], Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.name_edit, "The Night Owls")
        dialog.vibe_box.setCurrentText("dreamy")
        assert "jazz, dreamy" in dialog.summary.text()
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
    assert band.cover_url and band.name == "The Night Owls" and not band.is_public
    assert "The Night Owls" in band.bio
    # the library's "Add to band" menu now offers it
    assert menu_action(view.build_menu(view.selected_tracks()), band.name) is not None

    rect = bands.mine.visualRect(bands.mine.model().index(0, 0))
    qtbot.mouseClick(bands.mine.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    page = bands.page
    qtbot.waitUntil(lambda: bands.stack.currentWidget() is page and page.tracks.rowCount() == 2)
    assert page.name.text() == band.name
    assert {t.id for t in page.tracks.rows()} == chosen
    # one's own band offers no Follow (it is in "My bands" already)
    assert page.follow_button.isHidden() and page.radio_button.isVisible()
    # band radio: the window goes to the Radio view playing this band's station
    qtbot.mouseClick(page.radio_button, Qt.MouseButton.LeftButton)
    assert window.current_view == "radio"
    assert window.radio_view.station.text() == f"Playing: {band.name} radio"
    qtbot.waitUntil(lambda: ctx.playback.state == "playing", timeout=60000)


def test_follow_and_unfollow_someone_elses_band(qtbot, session, database):
    from player.bands.service import BandService
    from player.onboarding import OnboardingAnswers, complete_onboarding

    window = session.window
    other = complete_onboarding(
        database, OnboardingAnswers(email="friend@example.com", genres=["jazz"], vibe="dreamy")
    )
    theirs = BandService(database).create_band(other, genres=["jazz"], is_public=True)
    bands = window.bands_view
    window.show_view("bands")
    qtbot.waitUntil(lambda: bands.discover.model_.rowCount() == 1, timeout=20000)
    bands.open_band(bands.discover.model_.bands()[0])
    page = bands.page
    qtbot.waitUntil(lambda: bands.stack.currentWidget() is page, timeout=10000)
    assert page.band.id == theirs.id
    assert page.follow_button.isVisible() and page.follow_button.text() == "Follow"
    assert page.radio_button.isHidden()  # band radio adds to the band: only its creator's
    qtbot.mouseClick(page.follow_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.follow_button.text() == "Unfollow", timeout=20000)
    assert page.band.follower_count == 1
    assert "1 follower" in page.meta.text()
    qtbot.waitUntil(lambda: bands.followed.model_.rowCount() == 1)
    qtbot.mouseClick(page.follow_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.follow_button.text() == "Follow", timeout=20000)
    assert page.band.follower_count == 0


def test_band_page_card_and_database_agree_after_band_radio(qtbot, session, database):
    import re

    from db.models import Band
    from player.bands.service import BandService
    from player.generation.genres import GENRES

    window, ctx = session.window, session.ctx
    band = BandService(database).create_band(
        ctx.user_id, genres=["house", "lo-fi"], vibe="chill", name_seed=3
    )
    # the bio speaks of the band's own genres only
    others = [g for g in GENRES if g not in band.genres]
    assert not [g for g in others if re.search(rf"(?<![\w-]){re.escape(g)}(?![\w-])", band.bio)]
    bands = window.bands_view
    window.show_view("bands")
    qtbot.waitUntil(lambda: bands.mine.model_.rowCount() == 1, timeout=20000)
    bands.open_band(bands.mine.model_.bands()[0])
    page = bands.page
    qtbot.waitUntil(lambda: bands.stack.currentWidget() is page, timeout=10000)
    assert page.band.track_count == 0 and page.empty.isVisible()
    qtbot.mouseClick(page.radio_button, Qt.MouseButton.LeftButton)
    assert window.current_view == "radio"

    def stored_count() -> int:
        with database.service_session() as s:
            return int(s.get(Band, band.id).track_count)

    qtbot.waitUntil(lambda: stored_count() >= 2, timeout=120000)
    # every track the station planned is in the band's genres, none in another
    assert {item.genre for item in window.radio.items()} <= {"house", "lo-fi"}
    window.radio.stop()
    window.show_view("bands")  # back to the page the listener left open

    def agree() -> bool:
        card = next(b for b in bands.mine.model_.bands() if b.id == band.id)
        count = stored_count()
        return (
            card.track_count == count
            and page.band.track_count == count
            and page.tracks.rowCount() == count
            and f"{count} tracks" in page.meta.text()
        )

    qtbot.waitUntil(agree, timeout=20000)
    assert not page.empty.isVisible()

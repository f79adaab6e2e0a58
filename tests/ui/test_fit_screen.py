"""Every view and dialog on a 1024×600 and a 1366×768 screen: the primary actions are on
screen, name columns are wide enough for a name's first word, status texts never overlap.

The window is sized by :func:`ui.fit.fit_window` for a screen of that size, the function
the app calls with the real screen's available geometry. Run under Xvfb with a real
screen of each size too (see ``docs/areas/ui.md``): then
``test_window_fits_the_real_screen`` checks the real window manager geometry.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from ui.fit import clamp_into, fit_window, fitted_size
from ui.main_window import PREFERRED_SIZE, VIEWS

SCREENS = {"1024x600": QRect(0, 0, 1024, 600), "1366x768": QRect(0, 0, 1366, 768)}
NAME_COLUMNS = ("Title", "Band", "Track", "Artist")


def settle(qtbot, ms: int = 60) -> None:
    QApplication.processEvents()
    qtbot.wait(ms)


def fully_on_screen(widget: QWidget, window: QWidget) -> bool:
    """Shown, not clipped by a scroll area or its parents, and inside the window."""
    if not widget.isVisible():
        return False
    if widget.visibleRegion().boundingRect() != widget.rect():
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


def primary_actions(window, view: str) -> list[QWidget]:
    bar = window.now_playing
    common = [bar.play_button, bar.next_button, bar.previous_button, bar.seek, bar.volume]
    common += [window.statusBar(), window.keys_button]
    per_view = {
        "radio": [window.radio_view.start_taste, window.radio_view.skip, window.radio_view.stop],
        "library": [window.library_view.new_playlist, window.library_view.search],
        "bands": [window.bands_view.new_band],
        "settings": [window.settings_view.save_button],
    }
    return per_view[view] + common


def first_word_width(table, text: str) -> int:
    word = (text.split() or [""])[0]
    return table.fontMetrics().horizontalAdvance(word)


def check_name_columns(table) -> None:
    model = table.model()
    header = table.horizontalHeader()
    assert model.rowCount() > 0
    for column in range(model.columnCount()):
        name = model.headerData(column, Qt.Orientation.Horizontal)
        if name not in NAME_COLUMNS or table.isColumnHidden(column):
            continue
        width = header.sectionSize(column)
        for row in range(model.rowCount()):
            text = str(model.index(row, column).data() or "")
            # the cell's padding (QSS: 4 px each side) on top of the word itself
            assert width >= first_word_width(table, text) + 8, (name, text, width)
            assert model.index(row, column).data(Qt.ItemDataRole.ToolTipRole).startswith(text)


def status_texts_do_not_overlap(window) -> None:
    bar = window.statusBar()
    assert bar.currentMessage() == ""  # nothing drawn over the widgets by showMessage
    labels = [
        label for label in bar.findChildren(QLabel) if label.isVisible() and label.text().strip()
    ]
    rects = [QRect(label.mapTo(bar, QPoint(0, 0)), label.size()) for label in labels]
    for n, a in enumerate(rects):
        for b in rects[n + 1 :]:
            assert not a.intersects(b), [label.text() for label in labels]


@pytest.mark.parametrize("screen_name", list(SCREENS))
def test_every_view_keeps_its_actions_on_screen(qtbot, session, make_tracks, screen_name):
    screen = SCREENS[screen_name]
    window, ctx = session.window, session.ctx
    # A long first word and a long title: the worst case for a name column.
    make_tracks(ctx.user_id, 4)
    window.setMinimumSize(QSize(0, 0))
    fit_window(window, PREFERRED_SIZE, screen)
    settle(qtbot)
    frame = window.size() + QSize(16, 40)  # the window manager's frame
    assert frame.width() <= screen.width() and frame.height() <= screen.height()
    for view in VIEWS:
        window.show_view(view)
        settle(qtbot)
        for widget in primary_actions(window, view):
            assert fully_on_screen(widget, window), (screen_name, view, widget.objectName())
        status_texts_do_not_overlap(window)

    library = window.library_view
    for kind in ("liked", "tracks", "history"):
        window.show_view("library")
        if kind == "liked":
            for track in ctx.library.tracks()[:2]:
                ctx.library.like(track.id)
        library.show_kind(kind)
        model = library.model
        model.reload()
        qtbot.waitUntil(lambda m=model: not m.loading, timeout=10000)
        if kind == "history":
            for track in ctx.library.tracks()[:2]:
                ctx.library.record_play(track)
            model.reload()
            qtbot.waitUntil(lambda m=model: not m.loading and m.rowCount() > 0, timeout=10000)
        settle(qtbot)
        check_name_columns(library.table)


@pytest.mark.parametrize("screen_name", list(SCREENS))
def test_onboarding_start_button_stays_on_screen_with_errors(
    qtbot, database, screen_name, onboarded_user
):
    from player.accounts import load_profile
    from ui.app import ONBOARDING_SIZE, genre_and_vibe_lists
    from ui.tasks import SyncTaskRunner
    from ui.views.onboarding import OnboardingView

    genres, vibes = genre_and_vibe_lists()
    view = OnboardingView(database, SyncTaskRunner(), genres, vibes)
    qtbot.addWidget(view)
    fit_window(view, ONBOARDING_SIZE, SCREENS[screen_name])
    view.show()
    settle(qtbot)
    assert fully_on_screen(view.finish, view)
    # every validation message showing makes the form longer: the button stays
    qtbot.mouseClick(view.finish, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert sum(label.isVisible() for label in view.errors.values()) >= 3
    assert fully_on_screen(view.finish, view)
    assert fully_on_screen(view.status, view) and view.status.text()
    # a returning listener's answers fit the same way
    view.load(load_profile(database, onboarded_user))
    assert fully_on_screen(view.finish, view)


@pytest.mark.parametrize("screen_name", list(SCREENS))
def test_dialogs_fit_with_their_buttons_on_screen(qtbot, session, screen_name):
    from ui.shortcuts import ShortcutsDialog
    from ui.views.bands import CreateBandDialog
    from ui.views.library import NameDialog

    screen = SCREENS[screen_name]
    window = session.window
    dialogs = {
        "new band": (CreateBandDialog(session.ctx, window), "ok"),
        "playlist name": (NameDialog("New playlist", "", window), "ok"),
        "shortcuts": (ShortcutsDialog(window.actions_, window), None),
    }
    for name, (dialog, button) in dialogs.items():
        hint = dialog.sizeHint()
        assert fitted_size(hint, screen) == hint, (name, hint)  # fits as it opens
        fit_window(dialog, hint, screen)
        dialog.show()
        settle(qtbot)
        if button:
            assert fully_on_screen(getattr(dialog, button), dialog), name
        dialog.close()
    window.rerun_onboarding()
    dialog = window.onboarding_dialog
    settle(qtbot)
    # sized for the screen the window is on; here the test screen, then the one asked
    fit_window(dialog, QSize(820, 760), screen)
    settle(qtbot)
    view = dialog.findChild(QWidget, "OnboardingFooter")
    assert view is not None and fully_on_screen(view, dialog)
    dialog.reject()


def test_restored_geometry_is_clamped_to_the_screen():
    small = SCREENS["1024x600"]
    # saved on a big monitor, far to the right and larger than this screen
    clamped = clamp_into(QRect(1900, 900, 1600, 1000), small)
    assert small.contains(clamped)
    assert clamped.width() <= small.width() and clamped.height() <= small.height()
    # a geometry that fits is left where it was
    assert clamp_into(QRect(10, 10, 800, 500), small) == QRect(10, 10, 800, 500)


def test_window_restores_a_huge_geometry_onto_this_screen(qtbot, session):
    from ui.main_window import MainWindow, window_settings

    window = session.window
    window.setMinimumSize(QSize(0, 0))
    window.setGeometry(5000, 4000, 3000, 2000)
    window.save_state()
    assert window_settings().value("geometry") is not None
    again = MainWindow(email="listener@example.com")
    qtbot.addWidget(again)
    available = again.screen().availableGeometry()
    assert available.contains(again.geometry()), (available, again.geometry())


def test_window_fits_the_real_screen(qtbot, session):
    """Under Xvfb this is a real X screen (1024×600 or 1366×768) with its geometry."""
    window = session.window
    available = window.screen().availableGeometry()
    assert window.frameGeometry().width() <= available.width()
    assert window.frameGeometry().height() <= available.height() + 1
    assert window.minimumSize().width() <= available.width()
    assert window.minimumSize().height() <= available.height()

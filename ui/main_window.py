"""The main window: it only composes the views, the now-playing bar and the status area.

It is built in two steps so it can paint before the database is open: the frame (sidebar,
status bar, the geometry and view the listener left it in) needs nothing but Qt and is
shown at launch; :meth:`MainWindow.attach` adds the views once the session exists. The
views, the radio and the playback bar are imported there, not here, because importing
them (SQLAlchemy, numpy, the audio engine) is most of a second and a half of start-up.

Shared ``QAction`` s own the shortcuts (Space, Ctrl+Right/Left, Ctrl+L, Ctrl+F) and are
reused by the now-playing bar, the tray menu and MPRIS, so every way of saying "next"
does the same thing. Geometry and the last view are kept in an INI file in the data
folder (``QSettings``), so a test's isolated profile never touches the real one.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from player.paths import data_dir
from ui.theme import app_icon, icon

if TYPE_CHECKING:
    from ui.context import AppContext

log = logging.getLogger(__name__)

VIEWS = ("radio", "library", "bands", "settings")
VIEW_LABELS = {"radio": "Radio", "library": "Library", "bands": "Bands", "settings": "Settings"}


def window_settings() -> QSettings:
    return QSettings(str(data_dir() / "window.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """``MainWindow(ctx, genres, vibes)`` is ready at once; ``MainWindow(email=…)`` is the
    frame alone, shown while the database opens, until :meth:`attach`."""

    def __init__(
        self,
        ctx: AppContext | None = None,
        genres: list[str] | None = None,
        vibes: list[str] | None = None,
        parent: Any = None,
        *,
        email: str = "",
    ) -> None:
        super().__init__(parent)
        self.ctx: Any = None
        self.tray: Any = None
        self.mpris: Any = None
        self.setWindowTitle("Infinite Player")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(QSize(960, 620))

        # -- sidebar --------------------------------------------------------------------
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("Sidebar")
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setFixedWidth(200)
        for name in VIEWS:
            item = QListWidgetItem(icon(name), VIEW_LABELS[name])
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.sidebar.addItem(item)
        app_title = QLabel("Infinite Player")
        app_title.setObjectName("AppTitle")
        self.app_subtitle = QLabel(ctx.profile.email if ctx is not None else email)
        self.app_subtitle.setObjectName("AppSubtitle")
        side = QWidget()
        side.setObjectName("SidebarPanel")
        side.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(0)
        side_layout.addWidget(app_title)
        side_layout.addWidget(self.app_subtitle)
        side_layout.addWidget(self.sidebar, 1)

        # -- content: a "loading" page until attach() brings the views ------------------
        self.stack = QStackedWidget()
        self.loading = QLabel("Opening your library…")
        self.loading.setObjectName("Hint")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.loading)
        body = QWidget()
        body_layout = QHBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.setSpacing(0)
        body_layout.addWidget(side)
        body_layout.addWidget(self.stack, 1)
        central = QWidget()
        self.central_layout = QVBoxLayout(central)
        self.central_layout.setContentsMargins(0, 0, 0, 0)
        self.central_layout.setSpacing(0)
        self.central_layout.addWidget(body, 1)
        self.setCentralWidget(central)
        self.where = QLabel("  Opening the database…")
        self.statusBar().addWidget(self.where)
        self._restore()
        if ctx is not None:
            self.attach(ctx, genres or [], vibes or [])

    @property
    def attached(self) -> bool:
        return self.ctx is not None

    def attach(self, ctx: AppContext, genres: list[str], vibes: list[str]) -> None:
        """Build the views, the playback bar and the radio for the signed-in session."""
        from ui.now_playing import NowPlayingBar
        from ui.radio_controller import RadioController
        from ui.status import TaskStatus
        from ui.views.bands import BandsView
        from ui.views.library import LibraryView
        from ui.views.radio import RadioView
        from ui.views.settings import SettingsView

        self.ctx = ctx
        self.genres, self.vibes = genres, vibes
        self.app_subtitle.setText(ctx.profile.email)
        self.radio = RadioController(ctx, self)
        self.actions_ = self._make_actions()

        # -- views ----------------------------------------------------------------------
        self.radio_view = RadioView(self.radio, genres, vibes)
        self.library_view = LibraryView(ctx, self.radio)
        self.bands_view = BandsView(ctx, self.radio)
        self.settings_view = SettingsView(ctx)
        self.settings_view.radio_memory.learned_reset.connect(self.radio.forget_learned)
        self.stack.removeWidget(self.loading)
        self.loading.deleteLater()
        for view in (self.radio_view, self.library_view, self.bands_view, self.settings_view):
            self.stack.addWidget(view)
        self.library_view.show_radio.connect(lambda: self.show_view("radio"))
        self.library_view.bands_changed.connect(self.bands_view.reload)
        self.settings_view.onboarding_requested.connect(self.rerun_onboarding)
        self.now_playing = NowPlayingBar(ctx.playback, self.actions_)
        self.central_layout.addWidget(self.now_playing)

        # -- status area ----------------------------------------------------------------
        self.where.setText(self._where_text())
        # Slots on ctx's longer-lived objects are bound methods, not lambdas, so Qt drops
        # them when this window is destroyed.
        ctx.playback.device_message.connect(self._on_device_message)
        self.task_status = TaskStatus(ctx.tasks)
        self.statusBar().addPermanentWidget(self.task_status)
        ctx.tasks.failed.connect(self._on_task_failed)
        self.radio.message.connect(lambda text: self.say(text, 10000))
        ctx.playback.track_error.connect(self._on_track_error)
        if ctx.playback.device_problem:
            self.say(ctx.playback.device_problem)

        # -- state ----------------------------------------------------------------------
        ctx.playback.track_changed.connect(self._on_track_changed)
        ctx.playback.state_changed.connect(self._on_state_changed)
        self.radio.like_changed.connect(self._on_like_changed)
        self._update_actions()
        # The view the sidebar shows: the one restored, or one picked while loading.
        self.sidebar.currentRowChanged.connect(self._on_sidebar)
        self._on_sidebar(self.sidebar.currentRow())
        self.radio.refresh_quota()
        self.bands_view.reload()

    def _where_text(self) -> str:
        engine = self.ctx.playback.engine
        if getattr(engine, "output_kind", "") == "null":
            audio = "no sound device (playing silently)"
        else:
            audio = str(getattr(engine, "device_name", None) or "default output")
        return f"  {self.ctx.database.describe()}  ·  Audio: {audio}"

    # -- actions --------------------------------------------------------------------------

    def _make_actions(self) -> dict[str, QAction]:
        playback = self.ctx.playback

        def make(
            name: str, text: str, shortcut: str | None, slot: Any, icon_name: str = ""
        ) -> QAction:
            action = QAction(text, self)
            action.setObjectName(f"action_{name}")
            if icon_name:
                action.setIcon(icon(icon_name))
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setToolTip(f"{text} ({QKeySequence(shortcut).toString()})")
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            return action

        actions = {
            "play_pause": make("play_pause", "Play", "Space", playback.toggle, "play"),
            "next": make("next", "Next", "Ctrl+Right", self.radio_aware_next, "next"),
            "previous": make("previous", "Previous", "Ctrl+Left", playback.previous, "previous"),
            "like": make("like", "Like", "Ctrl+L", lambda: self.radio.toggle_like(), "heart"),
            "search": make("search", "Search", "Ctrl+F", self.focus_search, "search"),
            "quit": make("quit", "Quit", "Ctrl+Q", self.quit),
        }
        actions["like"].setCheckable(True)
        return actions

    def radio_aware_next(self) -> None:
        """Next; during radio it is a skip, so the radio learns from it."""
        if self.radio.active:
            self.radio.skip()
        else:
            self.ctx.playback.next()

    def focus_search(self) -> None:
        self.show_view("library")
        self.library_view.focus_search()

    def _update_actions(self) -> None:
        has_track = bool(self.ctx.playback.current)
        self.actions_["like"].setEnabled(has_track)

    def _on_track_changed(self, metadata: dict[str, Any]) -> None:
        self._update_actions()
        self.now_playing.set_liked(False)
        raw = metadata.get("track_id")
        if not raw:
            return
        track_id, lib = uuid.UUID(raw), self.ctx.library

        def shown(liked: bool) -> None:
            if self.ctx.playback.current.get("track_id") == raw:
                self.now_playing.set_liked(liked)

        self.ctx.tasks.run(
            lambda _c: lib.is_liked(track_id), description="Like", visible=False, on_done=shown
        )

    def _on_like_changed(self, track_id: str, liked: bool) -> None:
        if self.ctx.playback.current.get("track_id") == track_id:
            self.now_playing.set_liked(liked)
        self.say("Added to Liked songs" if liked else "Removed from Liked songs", 3000)

    # -- views ----------------------------------------------------------------------------

    @property
    def current_view(self) -> str:
        return VIEWS[max(0, self.sidebar.currentRow())]

    def show_view(self, name: str) -> None:
        self.sidebar.setCurrentRow(VIEWS.index(name))

    def _on_sidebar(self, row: int) -> None:
        if row < 0 or not self.attached:
            return
        self.stack.setCurrentIndex(row)
        if VIEWS[row] == "library":
            self.library_view.refresh()
        elif VIEWS[row] == "bands":
            self.bands_view.reload()

    def _on_state_changed(self, _state: str) -> None:
        self._update_actions()

    def _on_device_message(self, text: str, problem: bool) -> None:
        self.where.setText(self._where_text())
        self.say(text, 0 if problem else 5000)

    def _on_task_failed(self, what: str, why: str) -> None:
        self.say(f"{what} failed: {why}", 10000)

    def _on_track_error(self, text: str) -> None:
        self.say(f"Skipped a track: {text}", 10000)

    def say(self, text: str, timeout_ms: int = 5000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def rerun_onboarding(self) -> None:
        from ui.views.onboarding import OnboardingView

        dialog = QDialog(self)
        dialog.setWindowTitle("Your taste")
        dialog.resize(820, 760)
        view = OnboardingView(
            self.ctx.database, self.ctx.tasks, self.genres, self.vibes, self.ctx.profile, dialog
        )
        layout = QVBoxLayout(dialog)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(view)

        def done(_user: Any) -> None:
            ctx = self.ctx
            ctx.tasks.run(
                lambda _c: ctx.reload_profile(),
                description="Reloading profile",
                visible=False,
                on_done=lambda _p: self.say("Your preferences were saved.", 4000),
            )
            dialog.accept()

        view.completed.connect(done)
        self.onboarding_dialog = dialog
        dialog.open()

    # -- window state ---------------------------------------------------------------------

    def _restore(self) -> None:
        stored = window_settings()
        geometry = stored.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1240, 800)
        last = str(stored.value("view", "radio"))
        self.show_view(last if last in VIEWS else "radio")

    def save_state(self) -> None:
        stored = window_settings()
        stored.setValue("geometry", self.saveGeometry())
        stored.setValue("view", self.current_view)
        stored.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.attached:  # closed while the database was still opening
            self.save_state()
            super().closeEvent(event)
            return
        if (
            self.tray is not None
            and self.ctx.settings.minimize_to_tray
            and self.tray.isVisible()
            and not getattr(self, "_quitting", False)
        ):
            self.hide()
            event.ignore()
            return
        self.save_state()
        self.radio.close()
        super().closeEvent(event)

    def quit(self) -> None:
        self._quitting = True
        self.close()

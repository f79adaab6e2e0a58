"""The main window: it only composes the views, the now-playing bar and the status area.

It is built in two steps so it can paint before the database is open: the frame (sidebar,
status bar, the geometry and view the listener left it in) needs nothing but Qt and is
shown at launch; :meth:`MainWindow.attach` adds the views once the session exists. The
views, the radio and the playback bar are imported there, not here, because importing
them (SQLAlchemy, numpy, the audio engine) is most of a second and a half of start-up.

Shared ``QAction`` s own the shortcuts (Space, Ctrl+Right/Left, Ctrl+L, Ctrl+F, the
arrow keys for seek and volume, F1 or ? for the list of them) and are reused by the
now-playing bar, the tray menu and MPRIS, so every way of saying "next" does the same
thing. Geometry and the last view are kept in an INI file in the data folder
(``QSettings``), so a test's isolated profile never touches the real one; a restored
geometry is clamped to the screen the window opens on (:mod:`ui.fit`).

What the window says in passing goes through one :class:`ui.status.StatusMessages`;
a lasting condition (no sound device) is an indicator in the sidebar instead.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from base.paths import data_dir
from ui.fit import clamp_window, fit_window
from ui.shortcuts import SEEK_STEP_SECONDS, VOLUME_STEP, ArrowKeyGuard, ShortcutsDialog
from ui.status import StatusMessages
from ui.theme import app_icon, icon

if TYPE_CHECKING:
    from ui.context import AppContext

log = logging.getLogger(__name__)

VIEWS = ("radio", "library", "bands", "settings")
VIEW_LABELS = {"radio": "Radio", "library": "Library", "bands": "Bands", "settings": "Settings"}
#: The size a first start asks for; smaller screens get what they have (``ui.fit``).
PREFERRED_SIZE = QSize(1240, 800)
#: Fits a 1024×600 screen with its panel and the window's title bar.
MINIMUM_SIZE = QSize(900, 500)
NO_DEVICE_TEXT = "No sound device: playing silently"


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
        self.setMinimumSize(MINIMUM_SIZE)
        self.actions_: dict[str, QAction] = {}
        self.shortcuts_dialog: ShortcutsDialog | None = None

        # -- sidebar --------------------------------------------------------------------
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("Sidebar")
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setFixedWidth(184)
        self.sidebar.setAccessibleName("Views")
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
        # A lasting condition is shown here, where it stays in sight, not as a message.
        self.device_indicator = QLabel(NO_DEVICE_TEXT)
        self.device_indicator.setObjectName("DeviceIndicator")
        self.device_indicator.setWordWrap(True)
        self.device_indicator.hide()
        side_layout.addWidget(self.device_indicator)
        self.keys_button = QToolButton()
        self.keys_button.setObjectName("KeysButton")
        self.keys_button.setText("Keyboard shortcuts (F1)")
        self.keys_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.keys_button.setAccessibleName("Keyboard shortcuts")
        self.keys_button.clicked.connect(self.show_shortcuts)
        side_layout.addWidget(self.keys_button)

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
        self.messages = StatusMessages()
        self.statusBar().setSizeGripEnabled(False)
        self.statusBar().addWidget(self.messages, 1)
        self._arrow_guard = ArrowKeyGuard(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._arrow_guard)
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
        self.bands_view.my_bands_changed.connect(self.library_view.set_my_bands)
        self.bands_view.show_radio.connect(lambda: self.show_view("radio"))
        self.settings_view.onboarding_requested.connect(self.rerun_onboarding)
        self.now_playing = NowPlayingBar(ctx.playback, self.actions_)
        self.central_layout.addWidget(self.now_playing)

        # -- status area ----------------------------------------------------------------
        self.messages.clear()
        self._show_device()
        # Slots on ctx's longer-lived objects are bound methods, not lambdas, so Qt drops
        # them when this window is destroyed.
        ctx.playback.device_message.connect(self._on_device_message)
        self.task_status = TaskStatus(ctx.tasks)
        self.statusBar().addPermanentWidget(self.task_status)
        ctx.tasks.failed.connect(self._on_task_failed)
        self.radio.message.connect(lambda text: self.say(text, 10000, "warning"))
        ctx.playback.track_error.connect(self._on_track_error)
        self.settings_view.saved.connect(self._on_settings_saved)
        self.library_view.message_for_window.connect(self.say)

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

    def _show_device(self) -> None:
        """The lasting "no sound device" indicator, shown while it is true."""
        engine = self.ctx.playback.engine
        silent = engine.output_kind == "null"
        problem = self.ctx.playback.device_problem
        self.device_indicator.setVisible(silent or bool(problem))
        self.device_indicator.setText(NO_DEVICE_TEXT if silent else "Sound device problem")
        self.device_indicator.setToolTip(
            problem
            or "No audio output was found, so tracks play silently. Connect "
            "headphones or speakers and pick them in Settings → Audio."
        )

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
            "play_pause": make("play_pause", "Play", "Space", self.play_or_start_radio, "play"),
            "next": make("next", "Next", "Ctrl+Right", self.radio_aware_next, "next"),
            "previous": make("previous", "Previous", "Ctrl+Left", playback.previous, "previous"),
            "seek_back": make("seek_back", "Back 5 seconds", "Left", lambda: self.seek_by(-1)),
            "seek_forward": make(
                "seek_forward", "Forward 5 seconds", "Right", lambda: self.seek_by(1)
            ),
            "volume_up": make("volume_up", "Volume up", "Up", lambda: self.volume_by(1)),
            "volume_down": make("volume_down", "Volume down", "Down", lambda: self.volume_by(-1)),
            "like": make("like", "Like", "Ctrl+L", lambda: self.radio.toggle_like(), "heart"),
            "search": make("search", "Search", "Ctrl+F", self.focus_search, "search"),
            "shortcuts": make("shortcuts", "Keyboard shortcuts", "F1", self.show_shortcuts),
            "quit": make("quit", "Quit", "Ctrl+Q", self.quit),
        }
        actions["shortcuts"].setShortcuts([QKeySequence("F1"), QKeySequence("?")])
        actions["play_pause"].setProperty("lasting_name", "Play or pause")
        actions["like"].setProperty("lasting_name", "Like or unlike")
        actions["like"].setCheckable(True)
        return actions

    def play_or_start_radio(self) -> None:
        """Play/pause; with nothing queued, Play starts the listener's radio, which is
        what a newcomer pressing Play expects."""
        playback = self.ctx.playback
        if playback.current or playback.state != "stopped" or playback.can_go_next:
            playback.toggle()
            return
        if not self.radio.available:
            self.say("Nothing to play yet: pick a track in the Library.", 6000, "warning")
            return
        self.show_view("radio")
        self.radio_view.start_taste.click()

    def seek_by(self, steps: int) -> None:
        playback = self.ctx.playback
        if playback.current and playback.duration > 0:
            target = playback.position + steps * SEEK_STEP_SECONDS
            playback.seek(min(max(0.0, target), max(0.0, playback.duration - 0.5)))

    def volume_by(self, steps: int) -> None:
        slider = self.now_playing.volume  # the slider drives playback and shows the level
        slider.setValue(slider.value() + steps * VOLUME_STEP)

    def show_shortcuts(self) -> None:
        if not self.actions_:
            return
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self.actions_, self)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        self.shortcuts_dialog.activateWindow()

    def radio_aware_next(self) -> None:
        """Next; during radio it is a skip, so the radio learns from it."""
        if self.radio.active:
            if not self.ctx.playback.can_go_next and self.radio.remaining == 0:
                # Nothing more can be made today: say so rather than do nothing.
                self.say(
                    "No next track: today's free generations are used up. Play something "
                    "from your Library, or come back after midnight UTC.",
                    10000,
                    "warning",
                )
                return
            self.radio.skip()
        elif not self.ctx.playback.next():
            self.say("That was the last track in the queue.", 5000)

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
        self.say("Added to Liked songs" if liked else "Removed from Liked songs", 4000)

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
        self._show_device()
        if not problem:  # a device came back or changed: worth a passing word
            self.say(text, 5000)

    def _on_task_failed(self, what: str, why: str) -> None:
        self.say(f"{what} failed: {why}", 15000, "error")

    def _on_track_error(self, text: str) -> None:
        self.say(f"Skipped a track: {text}", 10000, "warning")

    def _on_settings_saved(self) -> None:
        """What the window derives from settings follows them at once."""
        settings, generation = self.ctx.settings, self.ctx.generation
        generation.daily_limit = int(settings.daily_limit)
        service = self.radio.service
        if service is not None:
            service.track_seconds = float(settings.track_seconds)
        self.radio.refresh_quota()

    def say(self, text: str, timeout_ms: int = 5000, severity: str = "info") -> None:
        """A passing message (queued; see :class:`ui.status.StatusMessages`)."""
        self.messages.say(text, severity, timeout_ms)

    def rerun_onboarding(self) -> None:
        from ui.views.onboarding import OnboardingView

        dialog = QDialog(self)
        dialog.setWindowTitle("Your taste")
        fit_window(dialog, QSize(820, 760))
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
        fit_window(self, PREFERRED_SIZE)
        if geometry is not None and self.restoreGeometry(geometry):
            # Saved on another screen or resolution: keep it, but on this screen.
            clamp_window(self)
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

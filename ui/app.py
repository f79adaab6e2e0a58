"""Start-up: splash, open the database off the GUI thread, onboarding, then the window.

Nothing heavy is imported before the first paint: the splash shows while the database
(an embedded PostgreSQL by default) starts and migrates on a worker thread. The app
starts with no sound card (the engine falls back to a null output and says so) and no
GPU (the procedural generator needs none).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from player.settings import Settings
from ui.fit import fit_window
from ui.splash import Splash
from ui.tasks import TaskRunner
from ui.theme import app_icon, apply_theme

if TYPE_CHECKING:
    from db.database import Database
    from player.accounts import Profile
    from player.generation.isolated import IsolatedGenerator
    from ui.context import AppContext
    from ui.main_window import MainWindow
    from ui.views.onboarding import OnboardingView

#: Onboarding's preferred size; a smaller screen gets what it has, and the form scrolls
#: above a "Start listening" button that stays in view (``ui.views.onboarding``).
ONBOARDING_SIZE = QSize(900, 820)

log = logging.getLogger(__name__)


def genre_and_vibe_lists() -> tuple[list[str], list[str]]:
    """The engine's genres and vibes, the only ones onboarding and bands may offer."""
    from player.generation.genres import GENRES, VIBES

    return list(GENRES), list(VIBES)


def open_database(settings: Settings) -> Database:
    """``DATABASE_URL`` wins, then the URL in Settings, else the embedded server."""
    from db.database import Database

    if os.environ.get("DATABASE_URL") or not settings.database_url:
        return Database.open_default()
    database = Database(settings.database_url, origin="the database URL in Settings")
    try:
        database.check()
        database.migrate()
    except BaseException:
        database.close()
        raise
    return database


#: Start-up's module imports run one thread at a time. PySide6 makes its classes' Python
#: types on first use, and a worker importing the views while the GUI thread built the
#: window crashed the app (SIGSEGV in three of 40 benchmark launches, 2026-11-29: the
#: worker in ``from PySide6.QtGui import ...`` of ``ui/views/radio.py``, the GUI thread
#: importing for ``MainWindow.attach``). Held by :func:`warm_imports`' caller, the
#: engine's start and the GUI thread while it builds the window or onboarding; the GUI
#: thread waits only when the database opened before the warm-up ended.
STARTUP_IMPORTS = threading.Lock()


def _warm_alone() -> None:
    with STARTUP_IMPORTS:
        warm_imports()


def warm_imports() -> None:
    """Import what the main window will need (numpy, the engines, the views)."""
    import importlib

    # Everything the radio's first track touches: an import on a worker later holds the
    # interpreter long enough to stall the GUI (measured 100-150 ms for descriptor_stats).
    for name in (
        "player.audio.engine",
        "player.generation.service",
        "player.embedding.descriptor",
        "player.embedding.descriptor_stats",
        "player.embedding.store",
        "player.taste",
        "player.similarity",
        "player.bands.service",
        "player.radio",
        # What MainWindow.attach() imports (class definitions only: no widget is made here).
        "ui.context",
        "ui.radio_controller",
        "ui.now_playing",
        "ui.views.radio",
        "ui.views.library",
        "ui.views.bands",
        "ui.views.settings",
        "ui.views.onboarding",
    ):
        importlib.import_module(name)


@dataclass
class Session:
    """One signed-in window and what it owns (closed together)."""

    ctx: AppContext
    window: MainWindow

    def close(self) -> None:
        self.window.radio.close()
        self.ctx.playback.close()
        self.ctx.generation.close()  # the engine's child process


def build_session(
    database: Database,
    settings: Settings,
    user_id: uuid.UUID,
    tasks: TaskRunner,
    *,
    output: str = "sounddevice",
    desktop: bool = True,
    profile: Profile | None = None,
    window: MainWindow | None = None,
    generator: IsolatedGenerator | None = None,
) -> Session:
    """The context and main window for ``user_id`` (tests pass ``output="null"``).

    ``window``: a frame already on screen (``MainWindow(email=…)``) to fill in.
    ``generator``: the engine's process, started early (``start_engine_process``).
    """
    from player.accounts import load_profile
    from ui.context import AppContext, make_bands, make_engine, make_generation
    from ui.main_window import MainWindow
    from ui.playback import Playback

    playback = Playback(make_engine(settings, output))
    generation = make_generation(database, settings, generator)
    ctx = AppContext(
        database=database,
        settings=settings,
        tasks=tasks,
        playback=playback,
        user_id=user_id,
        profile=profile or load_profile(database, user_id),
        generation=generation,
        bands=make_bands(database, generation),
    )
    genres, vibes = genre_and_vibe_lists()
    if window is None:
        window = MainWindow(ctx, genres, vibes)
    else:
        window.attach(ctx, genres, vibes)
    # Owned by the window from now on: a parentless QObject left to Python's cyclic
    # garbage collector could be destroyed on whatever thread the collector runs on.
    playback.setParent(window)
    if desktop:
        from ui.mpris import start_mpris
        from ui.tray import make_tray

        window.tray = make_tray(window, window.actions_)
        try:
            window.mpris = start_mpris(window, window.actions_)
        except Exception:  # a broken bus must never stop the player
            log.exception("MPRIS unavailable")
    return Session(ctx, window)


def _start_engine_process(settings: Settings) -> Any:
    with STARTUP_IMPORTS:
        from ui.context import start_engine_process

    return start_engine_process(settings)


class Launcher:
    """Drives start-up as a small state machine on the GUI thread."""

    def __init__(self, app: QApplication, settings: Settings, tasks: TaskRunner) -> None:
        self.app = app
        self.settings = settings
        self.tasks = tasks
        self.database: Database | None = None
        self.session: Session | None = None
        self.onboarding: OnboardingView | None = None
        self.splash = Splash()
        self.frame: MainWindow | None = None
        self.on_ready: Callable[[Session], None] | None = None
        #: Start the engine's process with the app, beside the database (issue 17: the
        #: first "Start my radio" then finds it imported and warm). False: started
        #: once the window shows, as before (the UI benchmark compares the two).
        self.prestart_engine = True
        self.engine_process: IsolatedGenerator | None = None

    def start(self) -> None:
        if self.settings.user_email:
            # Someone who has been here before: their window, where they left it, at
            # once; the views fill in when the database is open.
            from ui.main_window import MainWindow

            self.frame = MainWindow(email=self.settings.user_email)
            self.frame.show()
        else:
            self.splash.set_message("Opening your library…")
            self.splash.show()
        settings = self.settings
        self.tasks.run(
            lambda _c: open_database(settings),
            description="Opening the database",
            on_done=self._database_ready,
            on_error=self._fatal,
        )
        # While the database starts (another process), load the heavy modules the window
        # needs on a second thread, so the two waits overlap instead of adding up.
        self.tasks.run(lambda _c: _warm_alone(), description="Loading", visible=False)
        if self.prestart_engine:
            self.tasks.run(
                lambda _c: _start_engine_process(settings),
                description="Starting the music engine",
                visible=False,
                on_done=self._engine_started,
            )

    def _engine_started(self, generator: Any) -> None:
        if self.session is None and self.engine_process is None:
            self.engine_process = generator  # the window takes it when it opens
        else:  # (the window opened first and made its own; or the app is closing)
            self.tasks.run(lambda _c: generator.close(), description="", visible=False)

    def _database_ready(self, database: Database) -> None:
        self.database = database
        email = self.settings.user_email

        def find(_c: Any) -> Any:
            from player.accounts import find_user, load_profile

            user_id = find_user(database, email) if email else None
            return load_profile(database, user_id) if user_id else None

        self.tasks.run(
            find, description="Loading your profile", on_done=self._profile, on_error=self._fatal
        )

    def _profile(self, profile: Profile | None) -> None:
        if profile is not None and profile.onboarding_completed:
            self._open_window(profile.id, profile)
        else:
            self._show_onboarding(profile)

    def _show_onboarding(self, profile: Profile | None) -> None:
        with STARTUP_IMPORTS:
            from ui.views.onboarding import OnboardingView

        assert self.database is not None, "onboarding opens only once the database is"
        genres, vibes = genre_and_vibe_lists()
        view = OnboardingView(self.database, self.tasks, genres, vibes, profile)
        view.setWindowTitle("Welcome — Infinite Player")
        view.setWindowIcon(app_icon())
        fit_window(view, ONBOARDING_SIZE)
        view.completed.connect(self._onboarded)
        self.onboarding = view
        view.show()
        self.splash.close()
        if self.frame is not None:  # the remembered account is gone (another database)
            self.frame.close()
            self.frame = None

    def _onboarded(self, user_id: uuid.UUID) -> None:
        assert self.onboarding is not None
        email = self.onboarding.answers().email
        self.settings.set("user_email", email)
        self.tasks.run(lambda _c: self.settings.save(), description="Saving settings", serial=True)
        # It stays open until the window replaces it: with no window on screen in
        # between, Qt would take the last one closing as the app quitting.
        self.onboarding.setEnabled(False)
        self._open_window(user_id, None)

    def _open_window(self, user_id: uuid.UUID, profile: Profile | None) -> None:
        database, settings = self.database, self.settings
        assert database is not None, "a window opens only once the database is"

        def load(_c: Any) -> Any:
            from player.accounts import load_profile

            return profile or load_profile(database, user_id)

        def show(loaded: Any) -> None:
            generator, self.engine_process = self.engine_process, None
            with STARTUP_IMPORTS:
                self.session = build_session(
                    database,
                    settings,
                    user_id,
                    self.tasks,
                    profile=loaded,
                    window=self.frame,
                    generator=generator,
                )
            self.session.window.show()
            self.splash.close()
            if self.onboarding is not None:
                self.onboarding.close()
            generation = self.session.ctx.generation

            def tidy(_c: Any) -> None:
                # Tracks a crash left half-made are marked failed, and the engine's
                # process starts now rather than when the first track is wanted.
                from player.generation.isolated import IsolatedGenerator

                generation.fail_interrupted(user_id)
                if isinstance(generation.generator, IsolatedGenerator):
                    generation.generator.start()

            self.tasks.run(tidy, description="Tidying up", visible=False)
            if self.on_ready is not None:
                self.on_ready(self.session)

        self.tasks.run(load, description="Loading your profile", on_done=show, on_error=self._fatal)

    def _fatal(self, exc: BaseException) -> None:
        log.error("start-up failed", exc_info=exc)
        self.splash.close()
        if self.frame is not None:
            self.frame.close()
        QMessageBox.critical(None, "Infinite Player cannot start", str(exc))
        self.app.exit(1)

    def shutdown(self) -> None:
        if self.engine_process is not None:  # started, never claimed by a window
            self.engine_process.close()
            self.engine_process = None
        if self.session is not None:
            self.session.window.save_state()
            self.session.close()
        self.tasks.shutdown()
        if self.database is not None:
            self.database.close()


def make_application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv)
    app.setApplicationName("Infinite Player")
    app.setOrganizationName("InfinitePlayer")
    app.setDesktopFileName("infinite-player")
    QGuiApplication.setQuitOnLastWindowClosed(True)
    apply_theme(app)
    return app


def run_app() -> int:
    """The desktop app; returns the process exit status."""
    logging.basicConfig(level=os.environ.get("INFINITE_PLAYER_LOG", "WARNING"))
    app = make_application()
    try:
        settings = Settings.load()
    except Exception as exc:
        QMessageBox.critical(None, "Infinite Player cannot start", str(exc))
        return 2
    tasks = TaskRunner(app)
    launcher = Launcher(app, settings, tasks)
    launcher.start()
    try:
        return int(app.exec())
    finally:
        launcher.shutdown()

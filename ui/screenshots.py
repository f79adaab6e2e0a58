"""``infinite-player screenshots OUT_DIR [--size WxH]``: one PNG per view of a demo profile.

Starts the real app on a temporary data folder (embedded database, null audio output),
makes a demo profile — a few generated tracks, likes, a playlist, a band of mine and a
followed one — and writes ``onboarding.png``, ``radio.png``, ``library.png``,
``history.png``, ``playlist.png``, ``bands.png``, ``band-page.png``, ``settings.png`` and
the dialogs (``new-band.png``, ``new-playlist.png``, ``shortcuts.png``). Each window is
sized the way the app sizes it on a screen of ``--size`` (default 1366x768): its
preferred size, fitted into that screen (:mod:`ui.fit`). Used for documentation and to
check the layout on small screens.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from PySide6.QtCore import QRect

    from db.database import Database
    from player.onboarding import OnboardingAnswers
    from ui.main_window import MainWindow

VIEWS = ("onboarding", "radio", "library", "bands", "settings")
DEFAULT_SIZE = (1366, 768)
#: A desktop panel's height taken off the screen, as a window manager would.
PANEL = 28


def parse_size(text: str) -> tuple[int, int]:
    """``"1024x600"`` → ``(1024, 600)``, or a clear error."""
    from base.errors import UserFacingError

    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise UserFacingError(f"--size must look like 1024x600, not {text!r}.")
    size = (int(width), int(height))
    if size[0] < 640 or size[1] < 480:
        raise UserFacingError(f"--size {text} is smaller than any screen the app supports.")
    return size


def _pump(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _wait(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        _pump(50)


def _demo_profile(database: Database) -> tuple[uuid.UUID, OnboardingAnswers]:
    from player.bands.service import BandService
    from player.generation import GenerationRequest
    from player.generation.service import GenerationService
    from player.library import Library
    from player.onboarding import OnboardingAnswers, complete_onboarding

    answers = OnboardingAnswers(
        email="demo@infinite.local",
        genres=["lo-fi", "house", "jazz"],
        favorite_artists=["Nujabes", "Bonobo"],
        vibe="chill",
        bass_level="medium",
        tempo_min=80,
        tempo_max=124,
    )
    user = complete_onboarding(database, answers)
    generation = GenerationService(database, daily_limit=50)
    made = []
    for n, genre in enumerate(("lo-fi", "house", "jazz", "lo-fi", "ambient")):
        request = GenerationRequest(
            mode="new", genres=[genre], vibe="chill", seed=100 + n, duration_seconds=20
        )
        made.append(generation.generate(user, request))
    from player.radio import score_track

    for track, genre in zip(made, ("lo-fi", "house", "jazz", "lo-fi", "ambient"), strict=True):
        score_track(database, user, track, genre)
    library = Library(database, user)
    for track in made[:3]:
        library.like(track)
    playlist = library.create_playlist("Late night focus")
    library.add_to_playlist(playlist.id, made[1:4])
    bands = BandService(database)
    bands.create_band(user, genres=["lo-fi"], vibe="chill", name_seed=4, track_ids=made[::2])
    other = complete_onboarding(
        database,
        OnboardingAnswers(email="friend@infinite.local", genres=["house"], vibe="energetic"),
    )
    theirs = bands.create_band(other, genres=["house"], vibe="energetic", name_seed=9)
    bands.create_band(other, genres=["jazz"], vibe="romantic", name_seed=2)
    bands.follow(user, theirs.id)
    return user, answers


def take_screenshots(out_dir: Path, size: tuple[int, int] = DEFAULT_SIZE) -> list[Path]:
    """Write one PNG per view into ``out_dir``; returns the paths."""
    from PySide6.QtCore import QRect

    from db.database import Database
    from player.accounts import load_profile
    from player.settings import Settings
    from ui.app import build_session, genre_and_vibe_lists, make_application
    from ui.fit import fit_window
    from ui.main_window import PREFERRED_SIZE
    from ui.tasks import TaskRunner
    from ui.views.onboarding import OnboardingView

    out_dir.mkdir(parents=True, exist_ok=True)
    screen = QRect(0, PANEL, size[0], size[1] - PANEL)
    app = make_application()
    database = Database.open_default()
    tasks = TaskRunner(app)
    written: list[Path] = []
    session = None
    try:
        user, _answers = _demo_profile(database)
        settings = Settings(values={"track_seconds": 20, "user_email": "demo@infinite.local"})
        profile = load_profile(database, user)
        genres, vibes = genre_and_vibe_lists()

        from ui.app import ONBOARDING_SIZE

        onboarding = OnboardingView(database, tasks, genres, vibes, profile)
        fit_window(onboarding, ONBOARDING_SIZE, screen)
        onboarding.show()
        _pump(300)
        written.append(_save(onboarding, out_dir / "onboarding.png"))
        onboarding.close()

        session = build_session(
            database, settings, user, tasks, output="null", desktop=False, profile=profile
        )
        window = session.window
        fit_window(window, PREFERRED_SIZE, screen)
        window.show()
        window.show_view("radio")
        window.radio_view.start_taste.click()
        _wait(lambda: bool(session.ctx.playback.current), 60)
        _wait(lambda: any(i.status == "ready" for i in window.radio.items()), 30)
        _pump(600)
        written.append(_save(window, out_dir / "radio.png"))
        window.radio.stop()
        window.show_view("library")
        window.library_view.show_kind("liked")
        _wait(lambda: window.library_view.liked_model.rowCount() >= 3, 20)
        _pump(500)
        written.append(_save(window, out_dir / "library.png"))
        library = window.library_view
        library.show_kind("history")
        _pump(800)
        written.append(_save(window, out_dir / "history.png"))
        _wait(lambda: bool(library.playlists), 10)
        library.show_kind(f"playlist:{library.playlists[0].id}")
        _wait(lambda: library.playlist_model.rowCount() >= 1, 10)
        _pump(500)
        written.append(_save(window, out_dir / "playlist.png"))
        window.show_view("bands")
        _wait(lambda: window.bands_view.mine.model_.rowCount() >= 1, 20)
        _pump(800)
        written.append(_save(window, out_dir / "bands.png"))
        bands = window.bands_view
        bands.open_band(bands.mine.model_.bands()[0])
        _wait(lambda: bands.page.tracks.rowCount() >= 1, 20)
        _pump(500)
        written.append(_save(window, out_dir / "band-page.png"))
        window.show_view("settings")
        _pump(500)
        written.append(_save(window, out_dir / "settings.png"))
        written.extend(_dialogs(window, out_dir, screen))
    finally:
        if session is not None:
            session.window.radio.close()
            session.ctx.playback.close()
        tasks.shutdown()
        database.close()
    return written


def _dialogs(window: MainWindow, out_dir: Path, screen: QRect) -> list[Path]:
    """The dialogs a newcomer meets, sized as the app sizes them."""

    from ui.fit import clamp_window, fit_window
    from ui.shortcuts import ShortcutsDialog
    from ui.views.bands import CreateBandDialog
    from ui.views.library import NameDialog

    written = []
    for name, dialog in (
        ("new-band", CreateBandDialog(window.ctx, window)),
        ("new-playlist", NameDialog("New playlist", "", window)),
        ("shortcuts", ShortcutsDialog(window.actions_, window)),
    ):
        fit_window(dialog, dialog.size().expandedTo(dialog.sizeHint()), screen)
        dialog.show()
        clamp_window(dialog, screen)
        _pump(300)
        written.append(_save(dialog, out_dir / f"{name}.png"))
        dialog.close()
    return written


def _save(widget: Any, path: Path) -> Path:
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


def run_screenshots(out_dir: str | Path, size: str = "") -> int:
    """Entry point for the CLI: a temporary profile, so nothing of the user's is touched."""
    screen = parse_size(size) if size else DEFAULT_SIZE
    target = Path(out_dir).expanduser().resolve()
    previous = os.environ.get("INFINITE_PLAYER_HOME")
    database_url = os.environ.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="infinite-demo-") as home:
        os.environ["INFINITE_PLAYER_HOME"] = home
        try:
            for path in take_screenshots(target, screen):
                print(path)
        finally:
            if previous is None:
                os.environ.pop("INFINITE_PLAYER_HOME", None)
            else:
                os.environ["INFINITE_PLAYER_HOME"] = previous
            if database_url is not None:
                os.environ["DATABASE_URL"] = database_url
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m ui.screenshots OUT_DIR", file=sys.stderr)
        raise SystemExit(2)
    app = QApplication.instance() or QApplication(sys.argv)
    raise SystemExit(run_screenshots(sys.argv[1]))

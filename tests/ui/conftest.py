"""A signed-in window on the real test database, with a null audio output."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from player.onboarding import OnboardingAnswers, complete_onboarding
from player.settings import Settings


@pytest.fixture(autouse=True)
def themed(qapp) -> None:
    """The app's own look (Fusion, the dark palette, theme.qss), as ``make_application``
    applies it: focus rings, sizes and colours are part of what the tests check."""
    from ui.theme import apply_theme

    if not qapp.styleSheet():
        apply_theme(qapp)


@pytest.fixture
def app_settings(tmp_path) -> Settings:
    # Short radio tracks keep generation quick on a busy CI machine.
    return Settings(tmp_path / "settings.json", {"track_seconds": 12, "radio_ahead": 2})


@pytest.fixture
def onboarded_user(database) -> Any:
    answers = OnboardingAnswers(
        email="listener@example.com",
        genres=["house", "lo-fi"],
        vibe="chill",
        bass_level="high",
        tempo_min=100,
        tempo_max=124,
    )
    return complete_onboarding(database, answers)


@pytest.fixture
def session(qtbot, database, onboarded_user, app_settings) -> Iterator[Any]:
    from PySide6.QtWidgets import QApplication

    from ui.app import build_session
    from ui.tasks import TaskRunner

    tasks = TaskRunner(QApplication.instance())  # owned by Qt, never by the GC
    built = build_session(
        database, app_settings, onboarded_user, tasks, output="null", desktop=False
    )
    qtbot.addWidget(built.window)
    built.window.show()
    qtbot.waitExposed(built.window)
    yield built
    built.window.radio.close()
    tasks.shutdown()
    built.close()


@pytest.fixture
def make_tracks(database, tmp_path):
    """Real generated_tracks rows backed by short WAV files the engine can play."""
    import numpy as np
    import soundfile as sf

    from db.models import GeneratedTrack

    def _make(user_id, n: int, seconds: float = 3.0, band_id=None) -> list:
        ids = []
        with database.service_session() as s:
            for i in range(n):
                path = tmp_path / f"track-{len(list(tmp_path.glob('track-*.wav')))}.wav"
                t = np.arange(int(seconds * 44100)) / 44100
                tone = 0.2 * np.sin(2 * np.pi * (220 + 40 * i) * t)
                sf.write(path, np.stack([tone, tone], axis=1).astype(np.float32), 44100)
                row = GeneratedTrack(
                    user_id=user_id,
                    url=path.as_uri(),
                    duration=int(seconds),
                    mode="new",
                    match_percentage=50 + i,
                    explanation=f"Because you like tone {i}",
                    band_id=band_id,
                )
                s.add(row)
                s.flush()
                ids.append(row.id)
        return ids

    return _make

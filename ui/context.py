"""The services one signed-in window works with, passed in rather than global.

Views take an :class:`AppContext` and use only what they need from it; tests build one
on the test database with a null audio output. Nothing here is a singleton.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from player.accounts import Profile, load_profile
from player.library import Library
from player.settings import Settings
from ui.playback import Playback
from ui.tasks import TaskRunner

if TYPE_CHECKING:  # the services load on the worker that opens the session, not at import
    from db.database import Database
    from player.bands.service import BandService
    from player.generation.service import GenerationService

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    database: Database
    settings: Settings
    tasks: TaskRunner
    playback: Playback
    user_id: uuid.UUID
    profile: Profile
    generation: GenerationService
    bands: BandService

    def __post_init__(self) -> None:
        self.library = Library(self.database, self.user_id)
        self.playback.loudness_measured.connect(self._store_loudness)

    def _store_loudness(self, track_id: str, lufs: float, peak: float) -> None:
        library = self.library
        self.tasks.run(
            lambda _ctx: library.store_loudness(uuid.UUID(track_id), lufs, peak),
            description="Saving loudness",
            serial=True,
            visible=False,
        )

    def reload_profile(self) -> Profile:
        """Re-read the profile (call off the GUI thread)."""
        self.profile = load_profile(self.database, self.user_id)
        return self.profile


def make_generation(database: Database, settings: Settings) -> GenerationService:
    """The generation service with the engine the settings name.

    The engine renders in a child process (:mod:`player.generation.isolated`): seconds
    of numpy per track on this process's interpreter lock stalled the window. A named
    engine that cannot run here (MusicGen without a checkpoint) falls back to "auto",
    the procedural engine on a machine without a GPU, and the log says so.
    """
    from player.generation.engines import CHECKPOINT_ENV, ENGINES, musicgen_checkpoint
    from player.generation.isolated import IsolatedGenerator
    from player.generation.service import GenerationService

    if settings.musicgen_model_dir and not os.environ.get(CHECKPOINT_ENV):
        os.environ[CHECKPOINT_ENV] = settings.musicgen_model_dir
    engine = settings.generation_engine
    if engine not in ENGINES:
        log.warning("unknown generation engine %r; using auto", engine)
        engine = "auto"
    elif engine == "musicgen" and musicgen_checkpoint() is None:
        log.warning("generation engine musicgen unavailable: no checkpoint; using auto")
        engine = "auto"
    return GenerationService(
        database, IsolatedGenerator(engine), daily_limit=int(settings.daily_limit)
    )


def make_bands(database: Database, generation: GenerationService | None = None) -> BandService:
    from player.bands.service import BandService

    return BandService(database, generation_service=generation)


def make_engine(settings: Settings, output: str = "sounddevice") -> Any:
    """The playback engine; with no sound device it falls back to a null output itself."""
    from player.audio.engine import PlaybackEngine

    device = settings.audio_device or None
    try:
        engine = PlaybackEngine(
            device=device,
            crossfade_seconds=float(settings.crossfade_seconds),
            target_lufs=float(settings.loudness_target_lufs),
            output=output,  # type: ignore[arg-type]
        )
    except Exception:
        if device is None and output == "null":
            raise
        # The configured device is gone: play on the default (or silently) and say so.
        engine = PlaybackEngine(
            crossfade_seconds=float(settings.crossfade_seconds),
            target_lufs=float(settings.loudness_target_lufs),
            output=output,  # type: ignore[arg-type]
        )
    engine.set_volume(float(settings.volume))
    return engine

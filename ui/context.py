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
    from player.generation.isolated import IsolatedGenerator
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


def generation_engine(settings: Settings) -> str:
    """The engine the settings name, or "auto" where it cannot run here (MusicGen
    without a checkpoint falls back to the procedural engine on a machine without a
    GPU), and the log says so."""
    from player.generation.engines import CHECKPOINT_ENV, ENGINES, musicgen_checkpoint

    if settings.musicgen_model_dir and not os.environ.get(CHECKPOINT_ENV):
        os.environ[CHECKPOINT_ENV] = settings.musicgen_model_dir
    engine = str(settings.generation_engine)
    if engine not in ENGINES:
        log.warning("unknown generation engine %r; using auto", engine)
        return "auto"
    if engine == "musicgen" and musicgen_checkpoint() is None:
        log.warning("generation engine musicgen unavailable: no checkpoint; using auto")
        return "auto"
    return engine


def start_engine_process(settings: Settings) -> IsolatedGenerator:
    """The engine's process, started now (call off the GUI thread): it imports its engine
    and renders a warm-up chunk while the database starts, so the first "Start my radio"
    does not wait for either. Hand it to :func:`make_generation`; close it if unused."""
    from player.generation.isolated import IsolatedGenerator

    generator = IsolatedGenerator(generation_engine(settings))
    generator.start()
    return generator


def make_generation(
    database: Database, settings: Settings, generator: IsolatedGenerator | None = None
) -> GenerationService:
    """The generation service with the engine the settings name.

    The engine renders in a child process (:mod:`player.generation.isolated`): seconds
    of numpy per track on this process's interpreter lock stalled the window.
    ``generator``: that process, already started by :func:`start_engine_process`.
    """
    from player.generation.isolated import IsolatedGenerator
    from player.generation.service import GenerationService

    if generator is None:
        generator = IsolatedGenerator(generation_engine(settings))
    return GenerationService(database, generator, daily_limit=int(settings.daily_limit))


def make_bands(database: Database, generation: GenerationService | None = None) -> BandService:
    from player.bands.service import BandService

    return BandService(database, generation_service=generation)


def make_engine(settings: Settings, output: str = "sounddevice") -> Any:
    """The playback engine on the device the settings name.

    A named device that cannot be opened falls back to the default one (or to silence),
    and the engine reports that as a device problem (``engine.device_problem``, a
    :class:`~player.audio.events.DeviceEvent` with ``error``), never as "opened".
    """
    from player.audio.engine import PlaybackEngine

    engine = PlaybackEngine(
        device=settings.audio_device or None,
        crossfade_seconds=float(settings.crossfade_seconds),
        target_lufs=float(settings.loudness_target_lufs),
        output=output,  # type: ignore[arg-type]
        device_fallback=True,
    )
    engine.set_volume(float(settings.volume))
    return engine

"""Music generation: one protocol, a procedural engine that runs anywhere, MusicGen on a GPU.

``get_generator()`` picks the engine; ``Generator.generate(request)`` returns a
:class:`GenerationResult` (metadata at once, audio chunks as they are made).
The generation service (``player.generation.service``) adds quota, storage and rows.
"""

from __future__ import annotations

from player.generation.engines import get_generator, musicgen_checkpoint
from player.generation.genres import GENRE_NAMES, GENRES, VIBES, resolve_genre, resolve_vibe
from player.generation.palettes import palette_count
from player.generation.protocol import (
    BASS_LEVELS,
    CONTROLS,
    MODES,
    GenerationRequest,
    GenerationResult,
    Generator,
    Section,
    SourceTrack,
    parse_tempo_range,
)

__all__ = [
    "BASS_LEVELS",
    "CONTROLS",
    "GENRES",
    "GENRE_NAMES",
    "MODES",
    "VIBES",
    "GenerationRequest",
    "GenerationResult",
    "Generator",
    "Section",
    "SourceTrack",
    "get_generator",
    "musicgen_checkpoint",
    "palette_count",
    "parse_tempo_range",
    "resolve_genre",
    "resolve_vibe",
]

"""Bands: AI personas that group a creator's tracks, with covers, followers and radio.

- :mod:`player.bands.persona` — names and bios from genre/vibe grammars (or a local LLM).
- :mod:`player.bands.cover` — abstract PNG covers rendered with numpy.
- :mod:`player.bands.service` — the database side: style vectors, follows, discovery,
  band radio (imports the database layer lazily, so personas and covers work without it).
"""

from player.bands.cover import render_cover, write_cover
from player.bands.persona import (
    BandStyle,
    GrammarPersonaBackend,
    LLMPersonaBackend,
    Persona,
    PersonaBackend,
    normalize_genre,
)

__all__ = [
    "BandStyle",
    "GrammarPersonaBackend",
    "LLMPersonaBackend",
    "Persona",
    "PersonaBackend",
    "normalize_genre",
    "render_cover",
    "write_cover",
]

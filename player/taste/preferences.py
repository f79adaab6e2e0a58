"""The onboarding answers (``users.preferences_profile``) read once, one way.

The profile is JSON written by this app, the web product or an older version of either,
so every reader must tolerate missing and odd values; doing that in one place keeps the
radio, the taste vector and the views agreeing on what a profile says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from base.errors import UserFacingError
from player.generation.genres import GENRES, resolve_genre, resolve_vibe

BASS_LEVELS = ("low", "medium", "high")
#: Genres a profile may weigh at once (more would blur the cold-start prototype).
MAX_GENRES = 6


@dataclass(frozen=True)
class Preferences:
    """What a profile says, normalised: genre ids the engine knows, a known vibe or None,
    a bass level, and a tempo range in BPM or None."""

    genres: tuple[str, ...] = ()
    vibe: str | None = None
    bass_level: str = "medium"
    tempo_range: tuple[float, float] | None = None
    favorite_artists: tuple[str, ...] = ()

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any] | None) -> Preferences:
        raw = dict(profile or {})
        genres: list[str] = []
        for name in raw.get("genres") or []:
            if not isinstance(name, str) or not name.strip():
                continue
            try:
                genre = resolve_genre(name).id
            except UserFacingError:
                continue  # a genre the web product knows and this engine does not
            if genre not in genres:
                genres.append(genre)
        vibe = raw.get("vibe")
        try:
            vibe = resolve_vibe(vibe).id if isinstance(vibe, str) and vibe.strip() else None
        except UserFacingError:
            vibe = None
        bass = raw.get("bass_level")
        artists = tuple(
            a.strip() for a in raw.get("favorite_artists") or [] if isinstance(a, str) and a.strip()
        )
        return cls(
            genres=tuple(genres[:MAX_GENRES]),
            vibe=vibe,
            bass_level=bass if bass in BASS_LEVELS else "medium",
            tempo_range=_tempo_range(raw.get("tempo_range")),
            favorite_artists=artists,
        )

    def genres_or_all(self) -> tuple[str, ...]:
        return self.genres or GENRES


def _tempo_range(raw: Any) -> tuple[float, float] | None:
    if not raw:
        return None
    from player.generation.protocol import parse_tempo_range

    try:
        lo, hi = parse_tempo_range(str(raw))
    except UserFacingError:
        return None
    return (lo, hi) if 40 <= lo <= hi <= 220 else None

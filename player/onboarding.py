"""Onboarding's answers: what the form asks, which answers are not right yet, and the
``users.preferences_profile`` they are saved as (read back by
:meth:`player.taste.preferences.Preferences.from_profile`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from base.errors import UserFacingError
from db.database import Database
from db.models import User
from player.accounts import EMAIL, ensure_user

#: The generator's vibes (``player.generation.genres.VIBES``); callers may pass their own.
VIBES = (
    "balanced", "energetic", "happy", "chill", "melancholic",
    "dark", "dreamy", "focus", "romantic", "party",
)  # fmt: skip
BASS_LEVELS = ("low", "medium", "high")


@dataclass
class OnboardingAnswers:
    """What onboarding asks; :meth:`errors` names every field that is not right yet."""

    email: str = ""
    genres: list[str] = field(default_factory=list)
    favorite_artists: list[str] = field(default_factory=list)
    vibe: str = ""
    bass_level: str = "medium"
    tempo_min: int = 90
    tempo_max: int = 130
    explicit_lyrics: bool = False

    def errors(
        self, known_genres: Sequence[str] = (), known_vibes: Sequence[str] = VIBES
    ) -> dict[str, str]:
        problems: dict[str, str] = {}
        if not self.email.strip():
            problems["email"] = "Enter your email address."
        elif not EMAIL.match(self.email.strip()):
            problems["email"] = f"“{self.email.strip()}” is not an email address."
        if not self.genres:
            problems["genres"] = "Pick at least one genre."
        elif known_genres:
            unknown = [g for g in self.genres if g not in known_genres]
            if unknown:
                problems["genres"] = f"Unknown genre: {', '.join(unknown)}."
        if self.vibe not in known_vibes:
            problems["vibe"] = "Choose the vibe you are after."
        if self.bass_level not in BASS_LEVELS:
            problems["bass_level"] = "Bass level must be low, medium or high."
        if not 40 <= self.tempo_min <= self.tempo_max <= 220:
            problems["tempo"] = "Tempo range must go from low to high, between 40 and 220 BPM."
        return problems

    def profile(self) -> dict[str, Any]:
        """The ``users.preferences_profile`` JSON the spec describes."""
        return {
            "genres": list(self.genres),
            "favorite_artists": [a for a in (x.strip() for x in self.favorite_artists) if a],
            "vibe": self.vibe,
            "bass_level": self.bass_level,
            "tempo_range": f"{self.tempo_min}-{self.tempo_max}",
            "explicit_lyrics": bool(self.explicit_lyrics),
            "onboarding_date": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def complete_onboarding(
    database: Database, answers: OnboardingAnswers, known_genres: Sequence[str] = ()
) -> uuid.UUID:
    """Validate, create or find the user, save the preferences and mark onboarding done."""
    problems = answers.errors(known_genres)
    if problems:
        raise UserFacingError(" ".join(problems.values()))
    user_id = ensure_user(database, answers.email)
    with database.user_session(user_id) as s:
        s.execute(
            update(User)
            .where(User.id == user_id)
            .values(preferences_profile=answers.profile(), onboarding_completed=True)
        )
    return user_id

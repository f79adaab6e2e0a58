"""The continuous controls a listener model steers, resolved to concrete values.

Each is in [0, 1] and each moves an independent, measurable property of the audio
(see ``tests/generation/test_controls.py``): ``energy`` intensity (drum layers and
level, velocities, drive), ``density`` notes and hits per second, ``brightness``
spectral tilt, ``swing`` the delay of the off-sixteenths (1 = triplet feel). When a
request leaves one unset, the genre and vibe decide it, with a small seeded spread so
that tracks of one genre and vibe do not all sit on the same point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from player.generation.genres import GenreStyle, Vibe

#: Off-sixteenth delay of full swing, in sixteenths: the triplet position (2/3 of an 8th).
FULL_SWING_STEPS = 1.0 / 3.0


@dataclass(frozen=True)
class Controls:
    energy: float
    density: float
    brightness: float
    swing: float

    @property
    def swing_steps(self) -> float:
        return self.swing * FULL_SWING_STEPS


def default_controls(style: GenreStyle, vibe: Vibe, rng: np.random.Generator) -> Controls:
    """What the genre and vibe imply, spread a little by the seed."""

    def spread(centre: float, width: float) -> float:
        return round(float(np.clip(centre + rng.uniform(-width, width), 0.0, 1.0)), 3)

    swing = min(1.0, style.swing / FULL_SWING_STEPS)
    return Controls(
        energy=spread(vibe.energy, 0.2),
        density=spread(vibe.density, 0.22),
        brightness=spread(0.35 + 0.4 * vibe.brightness, 0.25),
        swing=spread(swing, 0.15) if swing > 0 else 0.0,
    )

"""What a drum kit is: the names of its drums and the numbers that shape them.

Data only, apart from :mod:`player.generation.drums` which renders it: the genre table
(read by the app's views to list genres) needs kits, and importing the DSP for them
would load ``scipy.signal`` — two seconds — into the player just to print names.
"""

from __future__ import annotations

from dataclasses import dataclass

DRUM_NAMES = (
    "kick",
    "snare",
    "clap",
    "hat",
    "open_hat",
    "ride",
    "rim",
    "shaker",
    "tom_hi",
    "tom_mid",
    "tom_low",
    "crash",
)


@dataclass(frozen=True)
class Kit:
    """Synthesis parameters of a drum kit (times in seconds, frequencies in Hz)."""

    kick_start: float = 150.0
    kick_end: float = 48.0
    kick_decay: float = 0.35
    kick_click: float = 0.25
    kick_drive: float = 1.5
    snare_tone: float = 190.0
    snare_decay: float = 0.16
    snare_noise: float = 0.7
    hat_decay: float = 0.045
    hat_cutoff: float = 7000.0
    tone_lowpass: float = 18000.0  # a dark kit (lo-fi, jazz) is lowpassed as a whole

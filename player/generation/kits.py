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


#: Kit families palettes draw from (each is varied a little per track by its seed).
KITS: dict[str, Kit] = {
    "punchy": Kit(kick_decay=0.28, kick_start=140, kick_click=0.35, snare_decay=0.16),
    "boom": Kit(kick_decay=0.5, kick_start=110, kick_end=42, kick_click=0.1, snare_decay=0.2),
    "hard": Kit(kick_decay=0.3, kick_start=180, kick_drive=3.5, kick_click=0.5, hat_decay=0.03),
    "acoustic": Kit(
        kick_decay=0.22, kick_start=100, snare_decay=0.24, snare_noise=0.55, hat_cutoff=5500
    ),
    "dusty": Kit(
        kick_decay=0.3, kick_start=105, snare_decay=0.13, hat_decay=0.035, tone_lowpass=6500
    ),
    "brush": Kit(
        kick_decay=0.22,
        kick_start=85,
        kick_click=0.0,
        snare_decay=0.3,
        snare_noise=0.95,
        hat_decay=0.06,
        tone_lowpass=8500,
    ),
    "electro": Kit(
        kick_decay=0.35,
        kick_start=160,
        kick_end=52,
        snare_tone=240,
        snare_decay=0.12,
        snare_noise=0.5,
        hat_decay=0.02,
        hat_cutoff=9000,
    ),
    "soft": Kit(
        kick_decay=0.45, kick_start=90, kick_click=0.0, snare_decay=0.12, tone_lowpass=5000
    ),
    "gated": Kit(kick_decay=0.3, snare_decay=0.32, snare_noise=0.75, snare_tone=170),
}

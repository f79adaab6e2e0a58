"""Music theory the procedural engine composes with: keys, modes, chords, voicings.

Everything works in MIDI note numbers so that instruments only need ``midi_to_hz``.
Keys are parsed from what people type ("F# minor", "Am", "Eb") because the CLI and the
onboarding answers pass them straight through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from base.errors import UserFacingError

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_PITCH_CLASS = {
    "C": 0,
    "B#": 0,
    "C#": 1,
    "DB": 1,
    "D": 2,
    "D#": 3,
    "EB": 3,
    "E": 4,
    "FB": 4,
    "F": 5,
    "E#": 5,
    "F#": 6,
    "GB": 6,
    "G": 7,
    "G#": 8,
    "AB": 8,
    "A": 9,
    "A#": 10,
    "BB": 10,
    "B": 11,
    "CB": 11,
}

#: Interval sets (semitones above the tonic) of the modes the vibes choose from.
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
}
_MODE_ALIASES = {
    "maj": "major",
    "min": "minor",
    "m": "minor",
    "aeolian": "minor",
    "ionian": "major",
}


def midi_to_hz(midi: float) -> float:
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


@dataclass(frozen=True)
class Key:
    """A tonic pitch class and a mode, e.g. ``Key(9, "minor")`` is A minor."""

    tonic: int
    mode: str

    @property
    def name(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def intervals(self) -> tuple[int, ...]:
        return MODES[self.mode]

    def degree_pitch(self, degree: int, octave: int = 4) -> int:
        """MIDI pitch of scale degree ``degree`` (0-based, may exceed 6 or be negative)."""
        steps = self.intervals
        octs, idx = divmod(degree, len(steps))
        return 12 * (octave + 1 + octs) + self.tonic + steps[idx]

    def scale_pitches(self, low: int, high: int) -> list[int]:
        """Every pitch of the scale in ``[low, high]`` (MIDI)."""
        allowed = {(self.tonic + i) % 12 for i in self.intervals}
        return [p for p in range(low, high + 1) if p % 12 in allowed]

    def chord(self, degree: int, size: int = 3, octave: int = 3) -> list[int]:
        """Stack thirds inside the mode starting on ``degree``: triad, 7th (4), 9th (5).

        The tonic chord takes its colour from the ninth instead of the seventh: a tonic
        seventh holds the mediant's triad (Cmaj7 holds E minor, Cm7 holds Eb major), and
        on the chord a track rests on that makes a major key read minor and a minor key
        major."""
        steps = [2 * i for i in range(size)]
        if degree % 7 == 0 and size >= 4:
            steps = [0, 2, 4, 8, 7][:size]
        return [self.degree_pitch(degree + step, octave) for step in steps]


def parse_key(text: str) -> Key:
    """Parse "C", "Am", "F# minor", "Eb major", "D dorian" into a :class:`Key`."""
    cleaned = text.strip()
    match = re.fullmatch(r"([A-Ga-g])([#b♯♭]?)\s*(.*)", cleaned)
    if not match:
        raise UserFacingError(f"Unknown key {text!r}: use a note name and mode, e.g. 'A minor'.")
    letter, accidental, rest = match.groups()
    accidental = accidental.replace("♯", "#").replace("♭", "b")
    tonic = _PITCH_CLASS.get((letter + accidental).upper())
    if tonic is None:
        raise UserFacingError(f"Unknown key {text!r}: {letter + accidental!r} is not a note.")
    mode_text = rest.strip().lower()
    mode_text = _MODE_ALIASES.get(mode_text, mode_text) if mode_text else "major"
    if mode_text not in MODES:
        raise UserFacingError(
            f"Unknown mode {rest.strip()!r} in key {text!r}; choose one of: {', '.join(MODES)}."
        )
    return Key(tonic, mode_text)


def voice_lead(
    chord: list[int], previous: list[int] | None, low: int = 52, high: int = 76
) -> list[int]:
    """Pick the inversion/octave of ``chord`` closest to ``previous`` inside a range.

    Smooth voice leading is most of what makes synthetic chords sound played rather
    than stamped; trying each inversion is cheap at four notes.
    """
    pcs = [p % 12 for p in chord]
    best: list[int] | None = None
    best_cost = float("inf")
    target = float(np.mean(previous)) if previous else (low + high) / 2.0
    for rotation in range(len(pcs)):
        order = pcs[rotation:] + pcs[:rotation]
        for base_oct in range(low // 12 - 1, high // 12 + 1):
            notes: list[int] = []
            pitch = base_oct * 12 + order[0]
            for pc in order:
                while pitch % 12 != pc:
                    pitch += 1
                notes.append(pitch)
                pitch += 1
            if notes[0] < low or notes[-1] > high:
                continue
            cost = abs(float(np.mean(notes)) - target)
            if previous and len(previous) == len(notes):
                cost += 0.3 * sum(
                    abs(a - b) for a, b in zip(sorted(notes), sorted(previous), strict=True)
                )
            if cost < best_cost:
                best, best_cost = notes, cost
    return best if best is not None else sorted(chord)

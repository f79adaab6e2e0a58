"""What every generator takes and gives back.

A :class:`GenerationRequest` says what to make; ``Generator.generate`` answers at once
with a :class:`GenerationResult` whose metadata is known before any audio exists (the
radio shows title, tempo and key immediately) and whose iterator yields float32 stereo
chunks ``(frames, 2)`` as they are rendered, so playback can start on the first one.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from base.errors import UserFacingError
from player.generation.theory import MODES as SCALES

MODES = ("new", "similar", "extend", "radio")
BASS_LEVELS = ("low", "medium", "high")
MIN_SECONDS = 1.0
MAX_SECONDS = 1800.0
MIN_BPM = 40.0
MAX_BPM = 220.0
#: The request's continuous controls, each in [0, 1] (``None``: the engine decides).
UNIT_CONTROLS = ("energy", "density", "brightness", "swing")
#: Every control a listener model can set; ``params`` reports each one's resolved value.
CONTROLS = ("scale", *UNIT_CONTROLS, "palette")


@dataclass(frozen=True)
class SourceTrack:
    """The track a ``similar`` or ``extend`` request starts from.

    ``params`` are the source's ``GenerationResult.params`` (what reproduces it from its
    seed); ``audio``/``samplerate`` are its samples, which audio-prompted engines
    (MusicGen) continue from. Either may be missing; each engine says which it needs.
    """

    track_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    audio: np.ndarray | None = None
    samplerate: int | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate. Every field is optional except what the mode needs.

    ``tempo_bpm`` wins over ``tempo_range``; with neither the genre's usual range is
    used. ``seed`` ``None`` means "surprise me" — the seed drawn is reported in the
    result's ``params`` so the track can be made again.

    The controls below are what a listener model steers; ``None`` lets the engine decide
    from genre, vibe and seed, and the value it chose is reported in ``params`` under
    the same name:

    - ``scale``: a mode of ``theory.MODES`` ("major", "minor", "dorian"…); the tonic is
      still drawn from the seed, and an explicit ``key`` wins over both.
    - ``energy`` (0–1): intensity — drum layers, velocities, percussive weight, drive.
    - ``density`` (0–1): notes and hits per second — hats, ghosts, lead, arp rate.
    - ``brightness`` (0–1): spectral tilt — filter cutoffs, patch brightness, hat level.
    - ``swing`` (0–1): 0 straight, 1 full triplet swing of the off-sixteenths.
    - ``palette`` (≥ 0): which of the genre's sound palettes (kit, patches, effects),
      taken modulo ``palettes.palette_count(genre)``.
    """

    mode: str = "new"
    genres: Sequence[str] = ()
    vibe: str | None = None
    bass_level: str = "medium"
    tempo_bpm: float | None = None
    tempo_range: tuple[float, float] | None = None
    key: str | None = None
    seed: int | None = None
    duration_seconds: float = 180.0
    source: SourceTrack | None = None
    scale: str | None = None
    energy: float | None = None
    density: float | None = None
    brightness: float | None = None
    swing: float | None = None
    palette: int | None = None

    def validate(self) -> None:
        """Raise :class:`UserFacingError` naming the first bad field."""
        if self.mode not in MODES:
            raise UserFacingError(f"Unknown mode {self.mode!r}; choose one of: {', '.join(MODES)}.")
        if isinstance(self.genres, str):
            raise UserFacingError("genres must be a list of genre names, not one string.")
        if self.bass_level not in BASS_LEVELS:
            raise UserFacingError(
                f"Unknown bass level {self.bass_level!r}; choose one of: {', '.join(BASS_LEVELS)}."
            )
        if not (MIN_SECONDS <= float(self.duration_seconds) <= MAX_SECONDS):
            raise UserFacingError(
                f"Duration {self.duration_seconds:g}s is out of range: "
                f"use {MIN_SECONDS:g} to {MAX_SECONDS:g} seconds."
            )
        if self.tempo_bpm is not None and not (MIN_BPM <= float(self.tempo_bpm) <= MAX_BPM):
            raise UserFacingError(
                f"Tempo {self.tempo_bpm:g} BPM is out of range: use {MIN_BPM:g} to {MAX_BPM:g}."
            )
        if self.tempo_range is not None:
            lo, hi = self.tempo_range
            if not (MIN_BPM <= lo <= hi <= MAX_BPM):
                raise UserFacingError(
                    f"Tempo range {lo:g}-{hi:g} BPM is invalid: it must lie within "
                    f"{MIN_BPM:g}-{MAX_BPM:g} with the low end first."
                )
        if self.seed is not None and not (0 <= int(self.seed) < 2**63):
            raise UserFacingError(f"Seed {self.seed} is out of range: use 0 to 2**63-1.")
        if self.scale is not None and str(self.scale).strip().lower() not in SCALES:
            raise UserFacingError(
                f"Unknown scale {self.scale!r}; choose one of: {', '.join(SCALES)}."
            )
        for name in UNIT_CONTROLS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise UserFacingError(f"{name} must be a number from 0 to 1, not {value!r}.")
            if not (0.0 <= float(value) <= 1.0) or value != value:
                raise UserFacingError(f"{name} {value:g} is out of range: use 0 to 1.")
        if self.palette is not None and (
            isinstance(self.palette, bool)
            or not isinstance(self.palette, numbers.Integral)
            or self.palette < 0
        ):
            raise UserFacingError(
                f"palette {self.palette!r} is invalid: use a whole number of 0 or more."
            )
        if self.mode in ("similar", "extend") and self.source is None:
            raise UserFacingError(f"Mode {self.mode!r} needs a source track to start from.")


def parse_tempo_range(text: str) -> tuple[float, float]:
    """Parse the onboarding's ``"120-160"`` (or a single ``"128"``) into a range."""
    parts = [p.strip() for p in str(text).replace("–", "-").split("-") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UserFacingError(f"Tempo range {text!r} is not like '120-160'.") from None
    if len(values) == 1:
        return values[0], values[0]
    if len(values) != 2:
        raise UserFacingError(f"Tempo range {text!r} is not like '120-160'.")
    return values[0], values[1]


@dataclass(frozen=True)
class Section:
    """One part of the arrangement: ``name`` is intro, verse, chorus, drop, breakdown…"""

    name: str
    start_seconds: float
    bars: int


class GenerationResult:
    """Metadata now, audio as it is made.

    Iterate it (once) for ``(frames, 2)`` float32 chunks at ``samplerate``, or call
    :meth:`render` for the whole track as one array.
    """

    def __init__(
        self,
        *,
        engine: str,
        samplerate: int,
        bpm: float,
        key: str,
        genre: str,
        duration_seconds: float,
        sections: Sequence[Section],
        params: dict[str, Any],
        chunks: Callable[[], Iterator[np.ndarray]],
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.samplerate = samplerate
        self.bpm = bpm
        self.key = key
        self.genre = genre
        self.duration_seconds = duration_seconds
        self.sections = list(sections)
        self.params = params
        self._chunks = chunks
        self._on_close = on_close
        self._used = False

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._used:
            raise RuntimeError("a GenerationResult's audio can be iterated only once")
        self._used = True
        return self._chunks()

    def close(self) -> None:
        """Give back what the engine holds for audio not read yet (a remote engine's
        stream); call it when stopping early. Harmless after the audio was read."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def render(self) -> np.ndarray:
        parts = list(self)
        if not parts:
            return np.zeros((0, 2), dtype=np.float32)
        return np.concatenate(parts, axis=0)

    def metadata(self) -> dict[str, Any]:
        """JSON-friendly description (stored with the track, printed by the CLI)."""
        return {
            "engine": self.engine,
            "samplerate": self.samplerate,
            "bpm": round(self.bpm, 3),
            "key": self.key,
            "genre": self.genre,
            "seconds": round(self.duration_seconds, 3),
            "sections": [
                {"name": s.name, "start": round(s.start_seconds, 3), "bars": s.bars}
                for s in self.sections
            ],
            "params": self.params,
        }


@runtime_checkable
class Generator(Protocol):
    """A music engine. ``name`` is what ``--engine`` and the params call it (read-only:
    the app's engine process reports the name of the engine its child chose)."""

    @property
    def name(self) -> str: ...

    def generate(self, request: GenerationRequest) -> GenerationResult: ...

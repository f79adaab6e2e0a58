"""Events the engine reports to subscribers (the UI, MPRIS, the radio, the CLI).

Subscribers are called on the engine's own event thread, never on the audio thread
and never on the GUI thread: a Qt front end must hop to its main thread (a queued
signal) before touching widgets. A slow subscriber delays other events but never
the audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

State = Literal["stopped", "playing", "paused", "buffering"]


@dataclass(frozen=True)
class PlaybackEvent:
    """Base class; match on the subclass."""


@dataclass(frozen=True)
class StateChanged(PlaybackEvent):
    state: State


@dataclass(frozen=True)
class PositionChanged(PlaybackEvent):
    position: float
    duration: float | None


@dataclass(frozen=True)
class TrackChanged(PlaybackEvent):
    """A new track became audible (at the start of a crossfade, if any)."""

    index: int | None
    source: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    duration: float | None = None
    can_go_next: bool = False
    can_go_previous: bool = False


@dataclass(frozen=True)
class BufferHealth(PlaybackEvent):
    seconds_buffered: float
    fill: float  # 0..1 of the engine's target


@dataclass(frozen=True)
class Underrun(PlaybackEvent):
    """The device wanted audio the engine did not have: an audible glitch."""

    count: int


@dataclass(frozen=True)
class SourceDry(PlaybackEvent):
    """A streaming source ran out before its producer caught up; playback waits."""

    index: int | None
    source: Any


@dataclass(frozen=True)
class TrackError(PlaybackEvent):
    """A track could not be played and was skipped; ``message`` says why."""

    index: int | None
    source: Any
    message: str


@dataclass(frozen=True)
class DeviceEvent(PlaybackEvent):
    """The output changed, failed or is missing; ``output`` is "sounddevice" or "null"."""

    output: str
    device: str | None
    message: str
    error: bool = False


@dataclass(frozen=True)
class LoudnessMeasured(PlaybackEvent):
    """A track's loudness was measured; store it with the track so it is done once."""

    source: Any
    integrated_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class QueueEnded(PlaybackEvent):
    """The last queued track finished playing."""

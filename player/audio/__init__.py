"""Playback: decoding, resampling, loudness, and the never-starving PlaybackEngine.

No Qt here; the UI subscribes to :class:`PlaybackEngine` events (delivered on the
engine's event thread) and re-dispatches them to its own thread.
"""

from player.audio.decode import AudioDecodeError
from player.audio.engine import PlaybackEngine
from player.audio.events import (
    BufferHealth,
    DeviceEvent,
    LoudnessMeasured,
    PlaybackEvent,
    PositionChanged,
    QueueEnded,
    SourceDry,
    StateChanged,
    TrackChanged,
    TrackError,
    Underrun,
)
from player.audio.loudness import measure_loudness
from player.audio.output import list_output_devices
from player.audio.sources import FileSource, Source, StreamingSource

__all__ = [
    "AudioDecodeError",
    "BufferHealth",
    "DeviceEvent",
    "FileSource",
    "LoudnessMeasured",
    "PlaybackEngine",
    "PlaybackEvent",
    "PositionChanged",
    "QueueEnded",
    "Source",
    "SourceDry",
    "StateChanged",
    "StreamingSource",
    "TrackChanged",
    "TrackError",
    "Underrun",
    "list_output_devices",
    "measure_loudness",
]

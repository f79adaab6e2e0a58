"""Driving an engine by hand: pull blocks through its real audio callback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from player.audio import PlaybackEngine, PlaybackEvent

BLOCK = 1024
#: Frames before a track starts in the output (the limiter hides its look-ahead).
DELAY = 0


def render(engine: PlaybackEngine, frames: int, block: int = BLOCK) -> np.ndarray:
    """Render ``frames`` frames, letting the feeder catch up before each block as a
    real-time device would (the feeder is ahead of real time on any sane machine)."""
    out = []
    done = 0
    while done < frames:
        n = min(block, frames - done)
        assert engine.wait_buffered(n, timeout=10), "feeder did not catch up"
        out.append(engine.render(n))
        done += n
    return np.concatenate(out) if out else np.zeros((0, engine.channels), np.float32)


class EventLog:
    """Collects engine events (delivered on the engine's event thread)."""

    def __init__(self, engine: PlaybackEngine) -> None:
        self.events: list[PlaybackEvent] = []
        self._cond = threading.Condition()
        engine.subscribe(self._on_event)

    def _on_event(self, event: PlaybackEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type) -> list:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(
        self, kind: type, predicate: Callable[[object], bool] = lambda e: True, timeout=10.0
    ):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if isinstance(event, kind) and predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind.__name__} event; got {self.events!r}")
                self._cond.wait(left)

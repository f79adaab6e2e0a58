"""A preallocated single-producer, single-consumer ring of audio frames.

The audio callback must never wait: it may not decode, allocate large arrays or take
a lock that another thread can hold. So the feeder thread (the only writer) fills this
ring ahead of time and the callback (the only reader) copies out of it. Positions are
monotonically increasing frame counters rather than wrapped indices, which makes
"how much is buffered" a subtraction and lets other threads reason about *where in the
stream* a track starts (see the engine's markers). Each counter has exactly one writer,
and under CPython an int attribute store is atomic, so no lock is needed.
"""

from __future__ import annotations

import numpy as np


class FrameRing:
    """``capacity`` frames of ``channels`` float32 samples, written once, read once."""

    def __init__(self, capacity: int, channels: int) -> None:
        if capacity <= 0 or channels <= 0:
            raise ValueError("capacity and channels must be positive")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.buffer = np.zeros((self.capacity, self.channels), dtype=np.float32)
        #: Frames ever written (owned by the writer).
        self.write_pos = 0
        #: Frames ever consumed (owned by the reader).
        self.read_pos = 0

    def free(self) -> int:
        """Frames the writer may add without overwriting unread audio."""
        return self.capacity - (self.write_pos - self.read_pos)

    def buffered(self) -> int:
        return self.write_pos - self.read_pos

    def write(self, frames: np.ndarray) -> int:
        """Copy as many of ``frames`` as fit; returns how many were written."""
        n = min(len(frames), self.free())
        if n <= 0:
            return 0
        start = self.write_pos % self.capacity
        first = min(n, self.capacity - start)
        self.buffer[start : start + first] = frames[:first]
        if first < n:
            self.buffer[: n - first] = frames[first:n]
        # Publish only after the samples are in place: the reader trusts write_pos.
        self.write_pos += n
        return n

    def copy_out(self, position: int, out: np.ndarray, count: int) -> None:
        """Copy ``count`` frames starting at stream ``position`` into ``out[:count]``.

        Used by the callback; it only slices and copies into memory that already
        exists, so it neither allocates sample storage nor blocks.
        """
        if count <= 0:
            return
        start = position % self.capacity
        first = min(count, self.capacity - start)
        out[:first] = self.buffer[start : start + first]
        if first < count:
            out[first:count] = self.buffer[: count - first]

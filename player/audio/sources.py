"""What the engine plays: files, and streams that a generator is still producing.

A source is a description (where the audio comes from, its metadata); the engine
opens a :class:`Reader` on it each time it plays it, at the device's rate and channel
count, from any position. Readers hand out exactly the frames asked for unless the
track ends or, for a stream, the producer has not caught up yet ("dry").
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from player.audio.decode import AudioDecodeError, AudioFileHandle, FormatConverter
from player.audio.glide import GainGlide

ReadStatus = Literal["ok", "dry", "end"]

#: Loudness measured in this process, keyed by (path, size, mtime), so a file
#: played twice is measured once even when the caller did not store the result.
_LOUDNESS_CACHE: dict[tuple[str, int, int], tuple[float, float]] = {}
_CACHE_LOCK = threading.Lock()


class Reader:
    """Reads one source at the device format; subclasses produce raw blocks."""

    def __init__(self, channels: int, gain: float) -> None:
        self.channels = channels
        self.gain = float(gain)
        self.delivered = 0
        self._pending = np.zeros((0, channels), dtype=np.float32)
        self._ended = False
        #: Set by the engine on a first play: the gain then follows it (see glide.py).
        self.glide: GainGlide | None = None

    def _produce(self) -> tuple[np.ndarray, ReadStatus]:
        raise NotImplementedError

    def read(self, frames: int) -> tuple[np.ndarray, ReadStatus]:
        """Up to ``frames`` frames; fewer only with status "dry" or "end"."""
        parts = [self._pending] if len(self._pending) else []
        have = len(self._pending)
        while have < frames and not self._ended:
            block, produced = self._produce()
            if len(block):
                parts.append(block)
                have += len(block)
            if produced == "end":
                self._ended = True
            elif produced == "dry":
                break
        data = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else self._pending)
        out, self._pending = data[:frames], data[frames:]
        status: ReadStatus = "ok"
        if len(out) < frames:
            status = "end" if self._ended else "dry"
        if self.glide is not None and len(out):
            gains = self.glide.gains(len(out))
            out = out * (gains[:, None] if isinstance(gains, np.ndarray) else np.float32(gains))
        elif self.gain != 1.0 and len(out):
            out = out * np.float32(self.gain)
        self.delivered += len(out)
        return np.ascontiguousarray(out, dtype=np.float32), status

    def prime(self, frames: int) -> None:
        """Decode up to ``frames`` ahead without handing them out (a skip target)."""
        parts = [self._pending]
        have = len(self._pending)
        while have < frames and not self._ended:
            block, produced = self._produce()
            parts.append(block)
            have += len(block)
            if produced == "end":
                self._ended = True
            elif produced == "dry":
                break
        self._pending = np.concatenate(parts) if len(parts) > 1 else self._pending

    def frames_remaining(self) -> int | None:
        """Frames left, or ``None`` while unknown (a stream still being produced)."""
        return None

    def seek(self, frame: int) -> None:
        """Read from ``frame`` next (device frames), keeping the open file or stream: a
        seek within the track playing reopens nothing (the glide carries on)."""
        raise NotImplementedError

    def _restart(self) -> None:
        self.delivered = 0
        self._pending = np.zeros((0, self.channels), dtype=np.float32)
        self._ended = False

    def close(self) -> None:
        pass


class Source:
    """Base of playable things; ``metadata`` is free-form (title, artist, track id …)."""

    def __init__(self, metadata: Mapping[str, Any] | None = None) -> None:
        self.metadata: dict[str, Any] = dict(metadata or {})
        #: The gain glide of this source's first play, kept so a seek carries it on.
        self.glide: GainGlide | None = None

    @property
    def name(self) -> str:
        return str(self.metadata.get("title") or "stream")

    def duration_seconds(self) -> float | None:
        return None

    def known_loudness(self) -> tuple[float, float | None] | None:
        """(integrated LUFS, true peak dBTP) if known without measuring."""
        lufs = self.metadata.get("loudness_lufs")
        if lufs is None:
            return None
        peak = self.metadata.get("true_peak_dbtp")
        return float(lufs), (float(peak) if peak is not None else None)

    def open(self, samplerate: int, channels: int, start_frame: int, gain: float) -> Reader:
        raise NotImplementedError


class FileSource(Source):
    """An audio file on disk. Loudness comes from ``metadata['loudness_lufs']``
    (what the app stored with the track) or is measured once, on demand."""

    def __init__(self, path: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None):
        super().__init__(metadata)
        self.path = Path(path)
        self.metadata.setdefault("title", self.path.stem)
        self.metadata.setdefault("path", str(self.path))
        self._measure_lock = threading.Lock()
        #: Set when measuring found the file unplayable, so the engine skips it.
        self.error: str | None = None
        self._frames: int | None = None
        self._samplerate: int | None = None

    def __repr__(self) -> str:
        return f"FileSource({str(self.path)!r})"

    def duration_seconds(self) -> float | None:
        if self._frames is None:
            try:
                with AudioFileHandle(self.path) as handle:
                    self._frames, self._samplerate = handle.frames, handle.samplerate
            except AudioDecodeError:
                return None
        assert self._samplerate is not None
        return self._frames / self._samplerate

    def _cache_key(self) -> tuple[str, int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (str(self.path.resolve()), stat.st_size, stat.st_mtime_ns)

    def known_loudness(self) -> tuple[float, float | None] | None:
        known = super().known_loudness()
        if known is not None:
            return known
        key = self._cache_key()
        with _CACHE_LOCK:
            cached = _LOUDNESS_CACHE.get(key) if key else None
        if cached is not None:
            self.metadata["loudness_lufs"], self.metadata["true_peak_dbtp"] = cached
        return cached

    def measure(self) -> tuple[float, float, bool]:
        """Measure (once) and remember integrated loudness and true peak.

        Returns ``(lufs, peak, fresh)``; ``fresh`` is true only for the call that
        actually measured, so the result is reported (and stored) once.
        """
        from player.audio.loudness import measure_loudness

        with self._measure_lock:
            known = self.known_loudness()
            if known is not None and known[1] is not None:
                return known[0], known[1], False
            if self.error is not None:
                raise AudioDecodeError(self.error)
            try:
                lufs, peak = measure_loudness(self.path)
            except AudioDecodeError as exc:
                self.error = str(exc)
                raise
            self.metadata["loudness_lufs"], self.metadata["true_peak_dbtp"] = lufs, peak
            key = self._cache_key()
            if key is not None:
                with _CACHE_LOCK:
                    _LOUDNESS_CACHE[key] = (lufs, peak)
            return lufs, peak, True

    def open(self, samplerate: int, channels: int, start_frame: int, gain: float) -> Reader:
        return _FileReader(self.path, samplerate, channels, start_frame, gain)


class _FileReader(Reader):
    BLOCK = 4096

    def __init__(self, path: Path, rate: int, channels: int, start_frame: int, gain: float):
        super().__init__(channels, gain)
        self._handle = AudioFileHandle(path)
        self._rate = rate
        self._ratio = rate / self._handle.samplerate
        self._total = round(self._handle.frames * self._ratio)
        start_frame = max(0, min(int(start_frame), self._total))
        self._handle.seek(round(start_frame / self._ratio))
        self._start = start_frame
        self._converter = FormatConverter(self._handle.samplerate, rate, channels)
        self._flushed = False

    def _produce(self) -> tuple[np.ndarray, ReadStatus]:
        block = self._handle.read(self.BLOCK)
        if len(block) == 0:
            handle = self._handle
            if handle.position < 0.98 * handle.frames:
                raise AudioDecodeError(
                    f"cannot play '{handle.path}': the file is truncated (only "
                    f"{handle.position / handle.samplerate:.1f} s of "
                    f"{handle.frames / handle.samplerate:.1f} s decodable)"
                )
            if self._flushed:
                return np.zeros((0, self.channels), np.float32), "end"
            self._flushed = True
            empty = np.zeros((0, self._handle.channels), np.float32)
            return self._converter.convert(empty, last=True), "end"
        return self._converter.convert(block), "ok"

    def frames_remaining(self) -> int | None:
        return max(0, self._total - self._start - self.delivered)

    def seek(self, frame: int) -> None:
        frame = max(0, min(int(frame), self._total))
        self._handle.seek(round(frame / self._ratio))
        self._start = frame
        self._converter = FormatConverter(self._handle.samplerate, self._rate, self.channels)
        self._flushed = False
        self._restart()

    def close(self) -> None:
        self._handle.close()


class StreamingSource(Source):
    """Audio pushed in chunks while it is being made (e.g. by a generator).

    Playback can start as soon as the first chunk arrives. If the player catches up
    with the producer, the engine fades out and reports the source as dry instead
    of playing a glitch, and resumes when enough has arrived. Everything pushed is
    kept, so seeking backwards and replaying work.
    """

    def __init__(self, samplerate: int, channels: int, metadata: Mapping[str, Any] | None = None):
        super().__init__(metadata)
        if samplerate <= 0 or channels <= 0:
            raise ValueError("samplerate and channels must be positive")
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self._chunks: list[np.ndarray] = []
        self._frames = 0
        self._finished = False
        self._error: str | None = None
        self._cond = threading.Condition()

    def __repr__(self) -> str:
        return f"StreamingSource({self.name!r}, {self._frames} frames)"

    def push(self, chunk: np.ndarray) -> None:
        """Append float32 ``(frames, channels)`` audio; a 1-D chunk is taken as mono."""
        if self._finished or self._error is not None:
            raise ValueError("cannot push to a stream that was finished or failed")
        data = np.asarray(chunk, dtype=np.float32)
        if data.ndim == 1 and self.channels == 1:
            data = data[:, None]
        if data.ndim != 2 or data.shape[1] != self.channels:
            raise ValueError(
                f"chunk shape {data.shape} does not match ({'frames'}, {self.channels})"
            )
        if not np.all(np.isfinite(data)):
            raise ValueError("chunk contains NaN or infinite samples")
        with self._cond:
            self._chunks.append(data.copy())
            self._frames += len(data)
            self._cond.notify_all()

    def set_loudness(self, integrated_lufs: float, true_peak_dbtp: float) -> None:
        """The producer measured what it made: playing glides to the final gain."""
        self.metadata["loudness_lufs"] = float(integrated_lufs)
        self.metadata["true_peak_dbtp"] = float(true_peak_dbtp)

    def opening(self) -> list[np.ndarray]:
        """The chunks pushed so far (for the provisional gain of a first play)."""
        with self._cond:
            return list(self._chunks)

    def finish(self) -> None:
        """No more audio will come: the track ends after what was pushed."""
        with self._cond:
            self._finished = True
            self._cond.notify_all()

    def fail(self, error: BaseException | str) -> None:
        """The producer gave up; the engine reports ``error`` and moves on."""
        with self._cond:
            self._error = str(error) or type(error).__name__
            self._cond.notify_all()

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def frames_pushed(self) -> int:
        return self._frames

    def duration_seconds(self) -> float | None:
        return self._frames / self.samplerate if self._finished else None

    def wait_for(self, frames: int, timeout: float) -> bool:
        """Block until ``frames`` frames are pushed or the stream ends (for tests/tools)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._frames >= frames or self._finished or self._error is not None,
                timeout,
            )

    def _snapshot(self, chunk_index: int) -> tuple[np.ndarray | None, bool, str | None]:
        with self._cond:
            chunk = self._chunks[chunk_index] if chunk_index < len(self._chunks) else None
            return chunk, self._finished, self._error

    def open(self, samplerate: int, channels: int, start_frame: int, gain: float) -> Reader:
        return _StreamReader(self, samplerate, channels, start_frame, gain)


class _StreamReader(Reader):
    def __init__(self, source: StreamingSource, rate: int, channels: int, start: int, gain: float):
        super().__init__(channels, gain)
        self._source = source
        self._rate = rate
        self._ratio = rate / source.samplerate
        self.seek(start)

    def seek(self, frame: int) -> None:
        # Every chunk pushed is kept: a seek starts over from the first one in memory.
        self._converter = FormatConverter(self._source.samplerate, self._rate, self.channels)
        self._chunk = 0
        self._skip = round(max(0, frame) / self._ratio)  # input frames to skip
        self._start = round(self._skip * self._ratio)
        self._flushed = False
        self._restart()

    def _produce(self) -> tuple[np.ndarray, ReadStatus]:
        chunk, finished, error = self._source._snapshot(self._chunk)
        if error is not None:
            raise AudioDecodeError(f"stream '{self._source.name}' failed: {error}")
        if chunk is None:
            if not finished:
                return np.zeros((0, self.channels), np.float32), "dry"
            if self._flushed:
                return np.zeros((0, self.channels), np.float32), "end"
            self._flushed = True
            empty = np.zeros((0, self._source.channels), np.float32)
            return self._converter.convert(empty, last=True), "end"
        self._chunk += 1
        if self._skip:
            dropped = min(self._skip, len(chunk))
            self._skip -= dropped
            chunk = chunk[dropped:]
            if not len(chunk):
                return np.zeros((0, self.channels), np.float32), "ok"
        return self._converter.convert(chunk), "ok"

    def frames_remaining(self) -> int | None:
        if not self._source.finished:
            return None
        total = round(self._source.frames_pushed * self._ratio)
        return max(0, total - self._start - self.delivered)


def gain_from_db(db: float) -> float:
    return float(10.0 ** (db / 20.0)) if math.isfinite(db) else 1.0

"""PlaybackEngine: a queue of sources played gaplessly, never starving the device.

Three threads, each with one job:

* the **audio callback** (PortAudio's thread, or the null output's) only copies
  frames out of a preallocated :class:`FrameRing` and applies ramped gains with
  in-place numpy operations; it never decodes, never takes a lock and never waits;
* the **feeder** decodes, resamples, normalises, crossfades and limits, keeping the
  ring filled ``buffer_seconds`` ahead; on seek/skip/stop it writes fresh audio
  behind the old and publishes a *jump*, which the callback performs with a one-block
  crossfade so nothing clicks;
* the **event thread** watches the counters the callback advances (read position,
  underruns), turns them into events (position, track change, state, buffer health)
  and calls subscribers, so a slow subscriber can never delay audio.

Track boundaries are *markers*: (ring position, queue index, frame in the track).
The track playing is the one whose marker the read position has passed, so a track
change is reported when it becomes audible, not when it was decoded.
"""

from __future__ import annotations

import contextlib
import functools
import math
import queue as queue_mod
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from base.errors import UserFacingError
from player.audio.decode import AudioDecodeError
from player.audio.events import (
    BufferHealth,
    DeviceEvent,
    LoudnessMeasured,
    PlaybackEvent,
    PositionChanged,
    QueueEnded,
    SourceDry,
    State,
    StateChanged,
    TrackChanged,
    TrackError,
    Underrun,
)
from player.audio.glide import GainGlide, provisional_gain_db, provisional_gain_db_of
from player.audio.loudness import PeakLimiter, normalisation_gain_db
from player.audio.mixing import equal_power_curves
from player.audio.output import (
    ManualOutput,
    NullOutput,
    Output,
    SoundDeviceOutput,
    list_output_devices,
)
from player.audio.ringbuffer import FrameRing
from player.audio.sources import FileSource, Reader, Source, StreamingSource, gain_from_db

Subscriber = Callable[[PlaybackEvent], None]
OutputKind = Literal["sounddevice", "null", "manual"]
#: How a track with no stored loudness starts: "glide" plays at once at a provisional
#: gain and glides to the measured one (glide.py); "measure" measures the whole file
#: first (the path before issue 17, kept for comparison in the benchmark).
FirstPlay = Literal["glide", "measure"]

#: previous() restarts the current track when more than this much has played.
RESTART_THRESHOLD_S = 3.0
#: Tracks longer than this are not measured on the feeder thread mid-playback.
LONG_TRACK_S = 600.0
#: How much of the next track the feeder decodes ahead while idle (for skips).
STANDBY_FRAMES = 8192
#: Python's thread switch interval while an engine exists (see __init__).
SWITCH_INTERVAL_S = 0.001


def _known_gain_db(source: weakref.ref[Source], target_lufs: float) -> float | None:
    """The normalisation gain once a stream's producer has reported its loudness."""
    alive = source()
    known = alive.known_loudness() if alive is not None else None
    if known is None:
        return None
    return normalisation_gain_db(known[0], known[1], target_lufs)


@dataclass
class _Marker:
    ring_pos: int
    index: int
    start_frame: int
    source: Source


@dataclass
class _Goto:
    index: int
    frame: int


class _Stop:
    pass


@dataclass
class _Seen:
    """What the event thread last reported, so it reports changes only."""

    state: State | None = None
    marker: _Marker | None = None
    underruns: int = 0
    position: float = -1.0
    health_at: float = 0.0
    dry: bool = False
    ended_at: int = -1


class PlaybackEngine:
    """Plays a queue of :class:`Source` objects through an output.

    ``output`` is ``"sounddevice"`` (PortAudio; falls back to ``"null"`` and reports a
    :class:`DeviceEvent` if no device can be opened), ``"null"`` (no hardware, clocked
    by a thread) or ``"manual"`` (the caller pulls audio with :meth:`render`; tests).
    ``target_lufs=None`` disables loudness normalisation. ``latency`` is the device
    buffering in seconds: more rides out a loaded machine, less makes pause, seek and
    volume (and the device's callback cadence, hence time to first audio) quicker.

    Subscribers (:meth:`subscribe`) are called from the engine's event thread, not
    the caller's thread: GUI code must re-dispatch to its main thread.
    """

    def __init__(
        self,
        device: str | int | None = None,
        samplerate: int = 48000,
        channels: int = 2,
        crossfade_seconds: float = 0.0,
        target_lufs: float | None = -14.0,
        output: OutputKind = "sounddevice",
        blocksize: int = 1024,
        buffer_seconds: float = 0.5,
        null_sink: Callable[[np.ndarray], None] | None = None,
        latency: float = 0.1,
        first_play: FirstPlay = "glide",
        device_fallback: bool = False,
    ) -> None:
        if samplerate <= 0 or channels <= 0 or blocksize <= 0:
            raise ValueError("samplerate, channels and blocksize must be positive")
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.blocksize = int(blocksize)
        self.target_lufs = target_lufs
        self.latency = float(latency)
        if first_play not in ("glide", "measure"):
            raise ValueError(f"first_play must be 'glide' or 'measure', not {first_play!r}")
        self.first_play = first_play
        self._crossfade_frames = 0
        self.set_crossfade(crossfade_seconds)
        self._target_fill = max(int(buffer_seconds * samplerate), 4 * self.blocksize)
        self._feed_block = 2048
        self._limiter = PeakLimiter(self.channels)
        # Room for the target fill plus a fresh start written behind it on a jump.
        capacity = 2 * self._target_fill + 8 * max(self.blocksize, self._feed_block)
        self._ring = FrameRing(capacity, self.channels)
        max_block = max(8192, 4 * self.blocksize)
        self._max_block = max_block
        self._scratch = np.zeros((max_block, self.channels), dtype=np.float32)
        self._ramp = np.zeros(max_block, dtype=np.float32)
        self._steps = np.arange(1, max_block + 1, dtype=np.float32)

        # --- written by control/feeder, read by the callback ---
        self._want_playing = False
        self._target_volume = 1.0
        self._jump_to = 0
        self._eos_pos = 0  # stream ends here; -1 while more audio is coming
        self._starved = False
        self._priming = False  # a jump is being prepared: silence now is not an underrun
        # --- written by the callback ---
        self._volume_now = 1.0
        self._play_now = 0.0
        self._dry = False
        self.buffer_underruns = 0
        self.device_underflows = 0
        self.frames_played = 0
        self._ttfa_start: float | None = None
        #: Time spent inside the audio callback, and CPU time of the feeder thread:
        #: what the audio path costs (see tests/bench/bench_playback.py).
        self.callback_seconds = 0.0
        self.feeder_cpu_seconds = 0.0
        self.time_to_first_audio: float | None = None
        #: Seconds from the last seek/skip/play request to the callback performing its
        #: jump (what the listener waits for; the benchmark reads it).
        self.last_jump_latency: float | None = None
        self._jump_asked: float | None = None

        # --- queue and control (guarded by _lock) ---
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._queue: list[Source] = []
        self._markers: list[_Marker] = []
        self._request: _Goto | _Stop | None = None
        self._stopped = True
        self._playing_index: int | None = None
        self._feed_index: int | None = None  # the track being decoded
        self._last_fed: int | None = None
        self._next_index = 0
        self._reader: Reader | None = None
        self._next_reader: Reader | None = None
        #: The next queue entry, opened and decoded a little ahead while the feeder is
        #: idle, so a skip (or the gapless join) opens no file on the hot path.
        self._standby: tuple[int, Source, Reader] | None = None
        self._xfade_left = 0
        self._xfade_len = 0
        self._xfade_curves: tuple[np.ndarray, np.ndarray] | None = None
        self._mix_base = 0
        self._limiter_skip = 0  # the limiter's priming silence, dropped at a fresh start
        self._mix_count = 0
        self._closed = False

        self._subscribers: list[Subscriber] = []
        self._events: queue_mod.SimpleQueue[PlaybackEvent] = queue_mod.SimpleQueue()
        self._analysis: queue_mod.SimpleQueue[FileSource | None] = queue_mod.SimpleQueue()

        # The callback needs the GIL within a fraction of a block; the default 5 ms
        # switch interval lets a busy Python thread make it wait several of those.
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        self.output_kind: str = output
        #: The latest trouble with the output device, in words (None while all is well);
        #: a front end that subscribes after start-up reads it here.
        self.device_problem: str | None = None
        #: One lock for replacing ``_output`` (set_device, a lost device, close): two
        #: swaps at once could leave two outputs driving the ring's single reader.
        self._output_lock = threading.Lock()
        self._output = self._make_output(output, device, null_sink, device_fallback)
        self._output.start()
        self._threads = [
            threading.Thread(target=self._feeder_loop, name="audio-feeder", daemon=True),
            threading.Thread(target=self._event_loop, name="audio-events", daemon=True),
            threading.Thread(target=self._analysis_loop, name="audio-analysis", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------------ outputs
    def _make_output(
        self,
        kind: str,
        device: str | int | None,
        sink: Callable[[np.ndarray], None] | None,
        fallback: bool = False,
        announce: bool = True,
    ) -> Output:
        args = (self._callback, self.samplerate, self.channels, self.blocksize)
        if kind == "manual":
            return ManualOutput(*args)
        if kind == "null":
            return NullOutput(*args, sink=sink)
        if kind != "sounddevice":
            raise ValueError(f"unknown output {kind!r}; use 'sounddevice', 'null' or 'manual'")
        try:
            if device is None and not list_output_devices(refresh=False):
                raise UserFacingError("no audio output device found")
            out = SoundDeviceOutput(*args, device=device, latency=self.latency)
            if announce:
                self._post(DeviceEvent("sounddevice", out.device_name, "audio output opened"))
            return out
        except UserFacingError as exc:
            if device is not None:
                if fallback:
                    return self._fall_back(device, str(exc), sink)
                raise  # the user named a device that is not there: say so
            message = "no audio output device found; playing silently (nothing will be heard)"
        except Exception as exc:
            if device is not None:
                if fallback:
                    return self._fall_back(device, str(exc), sink)
                raise UserFacingError(f"cannot open output device {device!r}: {exc}") from None
            message = f"no usable audio output device ({exc}); playing silently"
        self.output_kind = "null"
        self._report_device_problem("null", None, message)
        return NullOutput(*args, sink=sink)

    def _fall_back(
        self, device: str | int, why: str, sink: Callable[[np.ndarray], None] | None
    ) -> Output:
        """The named device failed: play on the default one (or silently), and say that,
        not "audio output opened", to the person who chose the device."""
        out = self._make_output("sounddevice", None, sink, announce=False)
        where = (
            f"playing on {out.device_name!r} instead"
            if self.output_kind == "sounddevice"
            else "playing silently (nothing will be heard)"
        )
        message = f"cannot open output device {device!r} ({why}); {where}"
        self._report_device_problem(self.output_kind, out.device_name, message)
        return out

    def _report_device_problem(self, kind: str, name: str | None, message: str) -> None:
        self.device_problem = message
        self._post(DeviceEvent(kind, name, message, error=True))

    @property
    def device_name(self) -> str | None:
        return self._output.device_name

    def set_device(self, device: str | int | None) -> None:
        """Switch output while playing; the buffered audio carries on on the new device."""
        if self.output_kind not in ("sounddevice", "null"):
            raise UserFacingError("this engine renders manually; it has no device to switch")
        with self._output_lock:
            if self._closed:
                return
            new = SoundDeviceOutput(
                self._callback,
                self.samplerate,
                self.channels,
                self.blocksize,
                device=device,
                latency=self.latency,
            )
            old = self._output
            old.close()  # never two callbacks at once: the ring has one reader
            self._output = new
            self.output_kind = "sounddevice"
            self.device_problem = None
            new.start()
        self._post(DeviceEvent("sounddevice", new.device_name, "switched audio output"))

    def _device_lost(self, output: Output, why: str) -> None:
        """``output`` went away: carry on silently (unless it was replaced meanwhile)."""
        with self._output_lock:
            if output is not self._output or self._closed:
                return  # set_device already swapped it out (and closed it)
            self._want_playing = False
            null = NullOutput(self._callback, self.samplerate, self.channels, self.blocksize)
            self._output = null
            self.output_kind = "null"
            threading.Thread(target=output.close, name="audio-close-lost", daemon=True).start()
            null.start()
        with self._lock:
            self._playing_index = self._current_index()
            self._stopped = True
            self._request = _Stop()
            self._priming = True
            self._wake.notify_all()
        self._report_device_problem("null", None, f"audio device lost ({why}); playback stopped")

    # ------------------------------------------------------------------ public API
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every event, from the engine's event thread.

        Returns a function that unsubscribes.
        """
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def enqueue(self, source: Source) -> int:
        """Append ``source``; returns its queue index. Files get measured in background."""
        if not isinstance(source, Source):
            raise TypeError("enqueue() takes a FileSource or StreamingSource")
        with self._lock:
            self._queue.append(source)
            index = len(self._queue) - 1
            self._wake.notify_all()
        if isinstance(source, FileSource) and self.target_lufs is not None:
            self._analysis.put(source)
        return index

    @property
    def queue(self) -> list[Source]:
        with self._lock:
            return list(self._queue)

    def clear_queue(self) -> None:
        """Stop and forget every queued source."""
        self.stop()
        with self._lock:
            # The feeder drops its readers before the indexes they hold vanish; it
            # notifies ``_wake`` when it has (a GUI thread waits, it never polls).
            self._wake.wait_for(lambda: not self._priming or self._closed, timeout=2.0)
            self._queue.clear()
            self._markers.clear()
            self._playing_index = None
            self._last_fed = None

    def play(self, index: int | None = None) -> None:
        """Start or resume; with ``index``, jump to that queue entry."""
        with self._lock:
            if not self._queue:
                return
            self._ttfa_start = time.perf_counter()
            self.time_to_first_audio = None
            if index is not None:
                self._goto(index, 0)
            elif self._stopped:
                start = self._playing_index
                if start is None or start >= len(self._queue):
                    start = 0
                self._goto(start, 0)
            self._stopped = False
            self._want_playing = True

    def pause(self) -> None:
        self._want_playing = False

    def stop(self) -> None:
        """Fade out, drop the buffer, rewind to the current track's start."""
        with self._lock:
            self._playing_index = self._current_index()
            self._want_playing = False
            self._stopped = True
            self._request = _Stop()
            self._priming = True
            self._wake.notify_all()

    def seek(self, seconds: float) -> None:
        with self._lock:
            index = self._current_index()
            if index is None:
                return
            duration = self._queue[index].duration_seconds()
            seconds = max(0.0, float(seconds))
            if duration is not None:
                seconds = min(seconds, duration)
            frame = round(seconds * self.samplerate)
            if not self._jump_within_ring(index, frame):
                self._goto(index, frame)

    def _jump_within_ring(self, index: int, frame: int) -> bool:
        """A seek to audio already in the ring: the callback jumps there, and nothing is
        decoded, opened or written (lock held). False when the target is not there."""
        if self.first_play != "glide" or self._stopped or self._closed:
            return False  # ("measure" keeps the path before issue 17, for comparison)
        if self._request is not None or self._priming:
            return False  # the feeder owns the jump position until it has written
        read = self._ring.read_pos
        if self._jump_to > read:
            return False  # a jump the callback has not performed yet
        marker = self._audible_marker()
        if marker is None or marker.index != index:
            return False
        later = [m.ring_pos for m in self._markers if m.ring_pos > marker.ring_pos]
        end = min(later) if later else self._ring.write_pos
        target = marker.ring_pos + (frame - marker.start_frame)
        if not read + self.blocksize <= target <= end - 2 * self.blocksize:
            return False
        self._jump_asked = time.perf_counter()
        self._jump_to = target
        return True

    def next(self) -> bool:
        """Skip to the next track; ``False`` (and nothing happens) at the end."""
        with self._lock:
            index = self._current_index()
            target = 0 if index is None else index + 1
            if target >= len(self._queue):
                return False
            self._goto(target, 0)
            return True

    def previous(self) -> None:
        """Restart the track, or go back one if it has only just started."""
        with self._lock:
            index = self._current_index()
            if index is None:
                return
            if self.position > RESTART_THRESHOLD_S or index == 0:
                self._goto(index, 0)
            else:
                self._goto(index - 1, 0)

    def set_volume(self, volume: float) -> None:
        """0..1 (linear); applied with a ramp over one block, so it never clicks."""
        if not 0.0 <= volume <= 1.0 or math.isnan(volume):
            raise ValueError(f"volume must be between 0 and 1, got {volume}")
        self._target_volume = float(volume)

    @property
    def volume(self) -> float:
        return self._target_volume

    def set_crossfade(self, seconds: float) -> None:
        if seconds < 0 or math.isnan(seconds):
            raise ValueError(f"crossfade must be 0 or more seconds, got {seconds}")
        self._crossfade_frames = round(seconds * self.samplerate)

    @property
    def crossfade_seconds(self) -> float:
        return self._crossfade_frames / self.samplerate

    @property
    def state(self) -> State:
        if self._stopped or self._closed:
            return "stopped"
        if not self._want_playing:
            return "paused"
        if self._dry:
            return "buffering"
        return "playing"

    @property
    def current_index(self) -> int | None:
        with self._lock:
            return self._current_index()

    @property
    def current_source(self) -> Source | None:
        with self._lock:
            index = self._current_index()
            # (an index past the end: the queue ran out under a pending request)
            return None if index is None or index >= len(self._queue) else self._queue[index]

    @property
    def position(self) -> float:
        """Seconds into the audible track."""
        with self._lock:
            marker = None if self._stopped else self._audible_marker()
        if marker is None:
            return 0.0
        frames = marker.start_frame + max(0, self._ring.read_pos - marker.ring_pos)
        return frames / self.samplerate

    @property
    def duration(self) -> float | None:
        source = self.current_source
        return None if source is None else source.duration_seconds()

    @property
    def can_go_next(self) -> bool:
        index = self.current_index
        return (0 if index is None else index + 1) < len(self._queue)

    @property
    def can_go_previous(self) -> bool:
        return self.current_index is not None

    @property
    def underruns(self) -> int:
        """Device underflows plus blocks the ring could not fill (each one audible)."""
        return self.buffer_underruns + self.device_underflows

    @property
    def seconds_buffered(self) -> float:
        return self._ring.buffered() / self.samplerate

    def render(self, frames: int) -> np.ndarray:
        """Pull ``frames`` frames through the callback (``output="manual"`` only)."""
        if not isinstance(self._output, ManualOutput):
            raise RuntimeError("render() needs output='manual'")
        return self._output.render(frames)

    def wait_buffered(self, frames: int, timeout: float = 5.0) -> bool:
        """Wait until ``frames`` are buffered past any pending jump, or the stream ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = self._request is None and not self._priming
            start = max(self._ring.read_pos, self._jump_to)
            ahead = self._ring.write_pos - start
            ended = self._eos_pos >= 0 and self._ring.write_pos >= self._eos_pos
            if idle and (ahead >= frames or ended or self._starved):
                return True
            time.sleep(0.002)
        return False

    def stats(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "output": self.output_kind,
            "device": self.device_name,
            "underruns": self.underruns,
            "buffer_underruns": self.buffer_underruns,
            "device_underflows": self.device_underflows,
            "seconds_played": self.frames_played / self.samplerate,
            "seconds_buffered": self.seconds_buffered,
            "time_to_first_audio_ms": None
            if self.time_to_first_audio is None
            else self.time_to_first_audio * 1000.0,
        }

    def close(self) -> None:
        """Stop all threads and release the device."""
        if self._closed:
            return
        self._want_playing = False
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        self._analysis.put(None)
        with self._output_lock:
            self._output.close()
        for thread in self._threads:
            thread.join(timeout=2.0)
        with self._lock:
            standby = self._standby[2] if self._standby is not None else None
            for reader in (self._reader, self._next_reader, standby):
                if reader is not None:
                    reader.close()
            self._reader = self._next_reader = self._standby = None

    def __enter__(self) -> PlaybackEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers
    def _post(self, event: PlaybackEvent) -> None:
        self._events.put(event)

    def _goto(self, index: int, frame: int) -> None:
        self._jump_asked = time.perf_counter()
        if not 0 <= index < len(self._queue):
            raise IndexError(f"queue index {index} out of range (queue has {len(self._queue)})")
        self._request = _Goto(index, frame)
        self._priming = True
        self._playing_index = index
        self._wake.notify_all()

    def _audible_marker(self) -> _Marker | None:
        read = self._ring.read_pos
        best = None
        for marker in self._markers:
            if marker.ring_pos <= read or best is None:
                best = marker
            else:
                break
        return best

    def _current_index(self) -> int | None:
        if isinstance(self._request, _Goto):
            return self._request.index
        marker = self._audible_marker()
        if marker is not None and not self._stopped:
            return marker.index
        return self._playing_index

    # ------------------------------------------------------------------ audio callback
    def _apply_gain(self, out: np.ndarray, n: int, g0: float, g1: float, length: int) -> None:
        if g0 == g1:
            if g0 != 1.0:
                np.multiply(out[:n], np.float32(g0), out=out[:n])
            return
        ramp = self._ramp[:length]
        np.multiply(self._steps[:length], np.float32((g1 - g0) / length), out=ramp)
        np.add(ramp, np.float32(g0), out=ramp)
        np.multiply(out[:length], ramp[:, None], out=out[:length])
        if length < n:
            np.multiply(out[length:n], np.float32(g1), out=out[length:n])

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        started = time.perf_counter()
        self._render_block(outdata, frames, status)
        self.callback_seconds += time.perf_counter() - started

    def _render_block(self, outdata: np.ndarray, frames: int, status: Any) -> None:
        """Runs on the audio thread: copy from the ring, ramp gains, count trouble."""
        if status is not None and status.output_underflow:
            self.device_underflows += 1
        n = frames
        if n > self._max_block:  # cannot happen with our streams; stay silent, not crash
            outdata.fill(0)
            return
        ring = self._ring
        read = ring.read_pos
        write = ring.write_pos
        jump = self._jump_to
        if self._dry and not self._starved:
            self._dry = False
        playing = self._want_playing and not self._dry
        g0 = self._volume_now * self._play_now
        if not playing and self._play_now == 0.0:
            if jump > read:
                ring.read_pos = jump
            outdata.fill(0)
            return
        if jump > read:
            # Seek/skip: crossfade the old audio out and the new in over this block.
            old = self._scratch
            old_k = min(n, jump - read)
            ring.copy_out(read, old, old_k)
            old[old_k:n] = 0
            k = max(0, min(n, write - jump))
            ring.copy_out(jump, outdata, k)
            outdata[k:n] = 0
            ramp = self._ramp[:n]
            np.multiply(self._steps[:n], np.float32(1.0 / n), out=ramp)
            np.multiply(outdata[:n], ramp[:, None], out=outdata[:n])
            np.subtract(np.float32(1.0), ramp, out=ramp)
            np.multiply(old[:n], ramp[:, None], out=old[:n])
            np.add(outdata[:n], old[:n], out=outdata[:n])
            read = jump
            asked = self._jump_asked
            if asked is not None and k > 0:
                self.last_jump_latency = time.perf_counter() - asked
                self._jump_asked = None
        else:
            avail = write - read
            k = min(n, avail)
            if playing and self._starved and avail < 2 * n:
                # The stream ran dry: fade out over what is left rather than glitch.
                self._dry = True
                playing = False
            ring.copy_out(read, outdata, k)
            outdata[k:n] = 0
        ring.read_pos = read + k
        if k < n and playing:
            eos = self._eos_pos
            if not (eos >= 0 and read + k >= eos) and not self._starved and not self._priming:
                self.buffer_underruns += 1
        target_play = 1.0 if playing else 0.0
        g1 = self._target_volume * target_play
        self._apply_gain(outdata, n, g0, g1, k if (self._dry and k > 0) else n)
        self._volume_now = self._target_volume
        self._play_now = target_play
        if playing:
            self.frames_played += k
            if self._ttfa_start is not None and outdata[:k].any():
                self.time_to_first_audio = time.perf_counter() - self._ttfa_start
                self._ttfa_start = None

    # ------------------------------------------------------------------ feeder
    def _gain_for(self, source: Source, measure: bool = False) -> float:
        if self.target_lufs is None:
            return 1.0
        known = source.known_loudness()
        if known is None and measure and isinstance(source, FileSource):
            lufs, peak, fresh = source.measure()
            if fresh:
                self._post(LoudnessMeasured(source, lufs, peak))
            known = (lufs, peak)
        if known is None:
            return 1.0
        return gain_from_db(normalisation_gain_db(known[0], known[1], self.target_lufs))

    def _open(self, index: int, frame: int, measure: bool) -> Reader | None:
        """Open queue[index] at frame, skipping (and reporting) unplayable tracks."""
        standby = self._take_standby(index, frame)
        if standby is not None:
            return standby
        source = self._queue[index]
        try:
            return self._open_reader(source, frame, measure)
        except (AudioDecodeError, OSError) as exc:
            self._post(TrackError(index, source, str(exc)))
            return None

    def _take_standby(self, index: int, frame: int) -> Reader | None:
        standby = self._standby
        if standby is None or standby[0] != index or frame != 0:
            return None
        self._standby = None
        at, source, reader = standby
        if at < len(self._queue) and self._queue[at] is source:
            return reader
        reader.close()
        return None

    def _prepare_standby(self) -> None:
        """While the ring is full: open the next file and decode its first blocks."""
        if self.first_play != "glide" or self._feed_index is None or self._next_reader:
            return  # ("measure" keeps the path before issue 17 as it was, for comparison)
        index = self._feed_index + 1
        with self._lock:
            source = self._queue[index] if index < len(self._queue) else None
        standby = self._standby
        if standby is not None:
            if standby[0] == index and standby[1] is source:
                return
            standby[2].close()
            self._standby = None
        if not isinstance(source, FileSource) or source.error is not None:
            return
        try:
            reader = self._open_reader(source, 0, measure=False)
            reader.prime(STANDBY_FRAMES)
        except (AudioDecodeError, OSError):
            return  # reported when (if) playback reaches it
        self._standby = (index, source, reader)

    def _open_reader(self, source: Source, frame: int, measure: bool) -> Reader:
        """A reader on ``source`` at its gain (raises for an unplayable file)."""
        if isinstance(source, FileSource) and source.error is not None:
            raise AudioDecodeError(source.error)
        if self.first_play == "glide":
            glide = self._glide_for(source)
            if glide is not None:
                reader = source.open(self.samplerate, self.channels, frame, 1.0)
                reader.glide = glide
                return reader
            return source.open(self.samplerate, self.channels, frame, self._gain_for(source))
        if isinstance(source, FileSource) and not measure:
            # Measuring while audio plays must not outlast the buffer; long
            # files are left to the analysis thread (unity gain if it is late).
            duration = source.duration_seconds()
            measure = duration is not None and duration <= LONG_TRACK_S
        gain = self._gain_for(source, measure)
        return source.open(self.samplerate, self.channels, frame, gain)

    def _glide_for(self, source: Source) -> GainGlide | None:
        """The glide a first play of ``source`` follows; ``None`` when its gain is known."""
        target = self.target_lufs
        if target is None:
            return None
        glide = source.glide
        if glide is not None and not glide.settled:
            return glide  # a seek or replay mid-glide carries on from where it was
        if source.known_loudness() is not None:
            return None
        if isinstance(source, FileSource):
            glide = GainGlide(provisional_gain_db(source.path, target), self.samplerate)
            source.glide = glide
            threading.Thread(
                target=self._measure_for_glide,
                args=(source, glide),
                name="audio-measure",
                daemon=True,
            ).start()
            return glide
        if isinstance(source, StreamingSource):
            opening = source.opening()
            glide = GainGlide(
                provisional_gain_db_of(opening, source.samplerate, target), self.samplerate
            )
            # No reference back to the engine or the source: nothing here may keep the
            # engine (and its resamplers) alive in a cycle.
            glide.pending = functools.partial(_known_gain_db, weakref.ref(source), target)
            source.glide = glide
            return glide
        return None

    def _measure_for_glide(self, source: FileSource, glide: GainGlide) -> None:
        """Measure the whole file while it plays; the glide then moves to its gain."""
        try:
            lufs, peak, fresh = source.measure()
        except AudioDecodeError:
            return  # the reader reports it when playback reaches the broken part
        except Exception:
            import logging

            logging.getLogger(__name__).exception("measuring %s failed", source.path)
            return
        glide.target_db = normalisation_gain_db(lufs, peak, self.target_lufs)
        if fresh:
            self._post(LoudnessMeasured(source, lufs, peak))

    def _write(self, block: np.ndarray) -> None:
        """Limit and write to the ring, waiting for room (the callback drains it)."""
        out = self._limiter.process(block)
        if self._limiter_skip:
            # A fresh start must begin with the track, not the look-ahead's zeros.
            dropped = min(self._limiter_skip, len(out))
            out = out[dropped:]
            self._limiter_skip -= dropped
        self._mix_count += len(block)
        done = 0
        while done < len(out) and not self._closed:
            done += self._ring.write(out[done:])
            if done < len(out):
                time.sleep(0.002)

    def _mark(self, index: int, frame: int) -> None:
        source = self._queue[index]
        with self._lock:
            self._markers.append(_Marker(self._mix_base + self._mix_count, index, frame, source))

    def _start_track(
        self, index: int, frame: int, measure: bool, reader: Reader | None = None
    ) -> bool:
        """Make queue[index] (or the next playable one) the feeding track; ``reader``:
        one already open on it at ``frame``."""
        while index < len(self._queue):
            if reader is None:
                reader = self._open(index, frame, measure)
            if reader is not None:
                self._reader = reader
                self._feed_index = index
                self._last_fed = index
                self._mark(index, frame)
                return True
            index, frame = index + 1, 0
        self._reader = None
        self._feed_index = None
        return False

    def _end_of_stream(self) -> None:
        # Push the limiter's look-ahead out with silence so the last frames are heard.
        self._write(np.zeros((self._limiter.delay, self.channels), dtype=np.float32))
        self._mix_count -= self._limiter.delay
        self._eos_pos = self._ring.write_pos

    def _reusable_reader(self, request: _Goto | _Stop) -> Reader | None:
        """The feeding reader when ``request`` seeks within its track: it is seeked, not
        closed and reopened."""
        reader = self._reader
        if (
            self.first_play != "glide"
            or not isinstance(request, _Goto)
            or reader is None
            or self._next_reader is not None
            or self._feed_index != request.index
        ):
            return None
        with self._lock:
            same = (
                request.index < len(self._queue)
                and self._markers
                and self._markers[-1].source is self._queue[request.index]
            )
        if not same:
            return None
        try:
            reader.seek(request.frame)
        except (AudioDecodeError, OSError, NotImplementedError):
            return None
        return reader

    def _handle_request(self, request: _Goto | _Stop) -> None:
        reuse = self._reusable_reader(request)
        for reader in (self._reader, self._next_reader):
            if reader is not None and reader is not reuse:
                reader.close()
        self._reader = self._next_reader = None
        self._xfade_left = 0
        self._starved = False
        self._limiter.reset()
        base = self._ring.write_pos
        self._mix_base = base
        self._limiter_skip = self._limiter.delay
        self._mix_count = 0
        if isinstance(request, _Stop):
            if self._standby is not None:
                self._standby[2].close()
                self._standby = None
            with self._lock:
                self._markers.clear()
            self._eos_pos = base
            self._jump_to = base
            with self._lock:
                self._priming = self._request is not None
                self._wake.notify_all()
            return
        self._eos_pos = -1
        if self._start_track(request.index, request.frame, measure=True, reader=reuse):
            # Write enough for the first callbacks before anyone hears the jump.
            # A tenth of a second costs a millisecond or two to decode and covers a
            # device that asks for several blocks in a burst right after the jump.
            first = max(2 * self.blocksize, self.samplerate // 10)
            while self._ring.write_pos - base < first and self._reader is not None:
                if not self._feed_step(min(self._feed_block, first)):
                    break
        else:
            self._eos_pos = base
        with self._lock:
            if self._markers:
                self._markers = [m for m in self._markers if m.ring_pos >= self._mix_base]
        self._jump_to = base
        with self._lock:
            self._priming = self._request is not None
            self._wake.notify_all()

    def _begin_crossfade(self, remaining: int) -> None:
        assert self._feed_index is not None
        index = self._feed_index + 1
        while index < len(self._queue):
            reader = self._open(index, 0, measure=False)
            if reader is not None:
                self._next_reader = reader
                self._xfade_len = self._xfade_left = remaining
                self._xfade_curves = equal_power_curves(remaining)
                self._mark(index, 0)
                self._next_index = index
                self._last_fed = index
                return
            index += 1

    def _feed_step(self, frames: int) -> bool:
        """Decode and write up to ``frames``; False when nothing could be produced."""
        reader = self._reader
        if reader is None or self._feed_index is None:
            return False
        try:
            if self._xfade_left > 0:
                return self._crossfade_step(frames)
            xfade = self._crossfade_frames
            remaining = reader.frames_remaining()
            if (
                xfade > 0
                and remaining is not None
                and self._feed_index + 1 < len(self._queue)
                and remaining <= xfade
            ):
                self._begin_crossfade(remaining)
                if self._xfade_left > 0:
                    return self._crossfade_step(frames)
            if xfade > 0 and remaining is not None and remaining > xfade:
                frames = min(frames, remaining - xfade)
            block, status = reader.read(frames)
        except AudioDecodeError as exc:
            self._post(TrackError(self._feed_index, self._queue[self._feed_index], str(exc)))
            block, status = np.zeros((0, self.channels), np.float32), "end"
        if len(block):
            self._write(block)
        if status == "dry":
            if not self._starved:
                self._starved = True
                self._post(SourceDry(self._feed_index, self._queue[self._feed_index]))
            return len(block) > 0
        if self._starved and (
            # Resume with a cushion, or at once if the stream is complete.
            self._ring.buffered() >= self._target_fill // 2 or reader.frames_remaining() is not None
        ):
            self._starved = False
        if status == "end":
            reader.close()
            if not self._start_track(self._feed_index + 1, 0, measure=False):
                self._end_of_stream()
                return False
        return True

    def _crossfade_step(self, frames: int) -> bool:
        assert self._reader is not None and self._next_reader is not None
        assert self._xfade_curves is not None
        k = min(frames, self._xfade_left)
        out_block, _ = self._reader.read(k)
        in_block, _ = self._next_reader.read(k)
        done = self._xfade_len - self._xfade_left
        fade_out, fade_in = self._xfade_curves
        mixed = np.zeros((k, self.channels), dtype=np.float32)
        mixed[: len(out_block)] += out_block * fade_out[done : done + len(out_block), None]
        mixed[: len(in_block)] += in_block * fade_in[done : done + len(in_block), None]
        self._write(mixed)
        self._xfade_left -= k
        if self._xfade_left == 0:
            self._reader.close()
            self._reader, self._next_reader = self._next_reader, None
            self._feed_index = self._next_index
        return True

    def _continue_after_end(self) -> None:
        """Tracks were enqueued after the feeder reached the end of the queue.

        If the tail is still playing, append the new track behind it; once the
        queue has been heard to the end, a later :meth:`play` starts it instead.
        """
        nxt = None if self._last_fed is None else self._last_fed + 1
        if nxt is None or nxt >= len(self._queue) or self._ring.read_pos >= self._eos_pos:
            return
        self._eos_pos = -1
        self._limiter.reset()
        self._limiter_skip = self._limiter.delay
        self._mix_base = self._ring.write_pos
        self._mix_count = 0
        if not self._start_track(nxt, 0, measure=False):
            self._end_of_stream()

    def _feeder_loop(self) -> None:
        while True:
            self.feeder_cpu_seconds = time.thread_time()
            with self._lock:
                if self._closed:
                    return
                request, self._request = self._request, None
            try:
                if request is not None:
                    self._handle_request(request)
                    continue
                if self._reader is None and not self._stopped and self._eos_pos >= 0:
                    self._continue_after_end()
                if self._reader is not None and self._ring.buffered() < self._target_fill:
                    if self._feed_step(self._feed_block):
                        continue
                    if self._reader is not None:  # dry stream: poll again soon
                        time.sleep(0.005)
                        continue
                if self._reader is not None:
                    self._prepare_standby()
            except Exception as exc:
                # Never let the feeder die: report, drop the track, end the stream.
                index = self._feed_index
                with self._lock:
                    valid = index is not None and 0 <= index < len(self._queue)
                    source = self._queue[index] if valid and index is not None else None
                self._post(TrackError(index, source, f"playback failed: {exc}"))
                self._reader = self._next_reader = None
                self._xfade_left = 0
                self._end_of_stream()
            with self._lock:
                if self._request is None and not self._closed:
                    self._wake.wait(timeout=0.01)

    # ------------------------------------------------------------------ analysis
    def _analysis_loop(self) -> None:
        """Measure queued files' loudness ahead of time so gapless joins never wait."""
        if self.target_lufs is not None:
            # Warm up (the filter response for this rate) in the background rather
            # than when the user presses play.
            from player.audio.loudness import LoudnessMeter, load_fast_filter

            # A play asked for right after the engine was made (the CLI) must not wait
            # for the meter's compiled filter to load: let its first audio out first,
            # then load it while the ring is full.
            deadline = time.monotonic() + 3.0
            time.sleep(0.05)
            while self._ttfa_start is not None and time.monotonic() < deadline:
                time.sleep(0.01)
            load_fast_filter()
            for rate in {self.samplerate, 44100, 48000}:
                meter = LoudnessMeter(rate, 2)
                meter.add(np.zeros((16, 2), np.float32))
                meter.integrated_lufs()
        while True:
            source = self._analysis.get()
            if source is None:
                return
            if source.known_loudness() is not None:
                continue
            try:
                lufs, peak, fresh = source.measure()
            except AudioDecodeError:
                continue  # reported when (if) the track is reached
            if fresh:
                self._post(LoudnessMeasured(source, lufs, peak))

    # ------------------------------------------------------------------ events
    def _emit(self, event: PlaybackEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                import logging

                logging.getLogger(__name__).exception("playback event subscriber failed")

    def _event_loop(self) -> None:
        """Every 20 ms: posted events out, the device checked, then what the callback's
        counters say, each job in its own method below."""
        seen = _Seen()
        while not self._closed:
            time.sleep(0.02)
            self._drain_events()
            if self._check_device():
                continue
            with self._lock:
                read = self._ring.read_pos
                passed = [m for m in self._markers if m.ring_pos <= read]
                pending = self._request is not None
            self._report_track_changes(seen, passed)
            if self._stopped and not pending:
                seen.marker = None
            self._report_queue_end(seen, pending)
            self._report_state(seen)
            self._report_underruns(seen)
            self._report_position(seen, pending)
            self._report_buffer_health(seen)
        self._drain_events()

    def _drain_events(self) -> None:
        """Events the feeder, the analysis thread and the controls posted."""
        with contextlib.suppress(queue_mod.Empty):
            while True:
                self._emit(self._events.get_nowait())

    def _check_device(self) -> bool:
        """The watchdog: True (and the engine moved to the null output) when the device
        went away, either said so by PortAudio or silent for 2 s."""
        output = self._output
        if output.lost is None and isinstance(output, SoundDeviceOutput):
            silent_for = time.perf_counter() - output.last_callback
            if output.last_callback and silent_for > 2.0:
                output.lost = f"no audio callback for {silent_for:.1f} s"
        if output.lost is None:
            return False
        self._device_lost(output, output.lost)
        return True

    def _report_track_changes(self, seen: _Seen, passed: list[_Marker]) -> None:
        """A ``TrackChanged`` for each track boundary the read position went past."""
        if seen.marker is not None and seen.marker in passed:
            passed = passed[passed.index(seen.marker) + 1 :]
        for marker in passed:
            last = seen.marker
            seen.marker = marker
            if last is not None and (last.index, last.source) == (marker.index, marker.source):
                continue
            self._emit(
                TrackChanged(
                    marker.index,
                    marker.source,
                    dict(marker.source.metadata),
                    marker.source.duration_seconds(),
                    can_go_next=marker.index + 1 < len(self._queue),
                    can_go_previous=True,
                )
            )

    def _report_queue_end(self, seen: _Seen, pending: bool) -> None:
        """The last track was heard to its end: stop, and say so once."""
        eos = self._eos_pos
        if (
            eos < 0
            or self._ring.read_pos < eos
            or eos == seen.ended_at
            or pending
            or not self._want_playing
            or self._stopped
        ):
            return
        seen.ended_at = eos
        with self._lock:
            self._want_playing = False
            self._stopped = True
            if self._markers:
                self._playing_index = self._markers[-1].index + 1
            self._markers.clear()
        seen.marker = None
        self._emit(QueueEnded())

    def _report_state(self, seen: _Seen) -> None:
        state = self.state
        if state != seen.state:
            seen.state = state
            self._emit(StateChanged(state))
        if self._dry and not seen.dry:
            with self._lock:
                index = self._current_index()
                source = self._queue[index] if index is not None else None
            self._emit(SourceDry(index, source))
        seen.dry = self._dry

    def _report_underruns(self, seen: _Seen) -> None:
        underruns = self.underruns
        if underruns != seen.underruns:
            seen.underruns = underruns
            self._emit(Underrun(underruns))

    def _report_position(self, seen: _Seen, pending: bool) -> None:
        position = self.position
        if (seen.state == "playing" and abs(position - seen.position) >= 0.1) or pending:
            seen.position = position
            self._emit(PositionChanged(position, self.duration))

    def _report_buffer_health(self, seen: _Seen) -> None:
        now = time.monotonic()
        if now - seen.health_at >= 0.5:
            seen.health_at = now
            buffered = self._ring.buffered()
            self._emit(
                BufferHealth(buffered / self.samplerate, min(1.0, buffered / self._target_fill))
            )

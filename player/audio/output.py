"""Where rendered audio goes: a PortAudio stream, a clocked null sink, or the caller.

All outputs drive the same engine callback with the same signature, so the engine
behaves identically with or without sound hardware (the tests run one suite against
each output).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from base.errors import UserFacingError

#: ``callback(outdata, frames, time_info, status)``: sounddevice's signature.
AudioCallback = Callable[[np.ndarray, int, Any, Any], None]

_STREAMS_OPEN = 0
_STREAMS_LOCK = threading.Lock()


def _refresh_portaudio() -> None:
    """Re-scan devices; PortAudio only enumerates them when initialised."""
    import sounddevice as sd

    with _STREAMS_LOCK:
        if _STREAMS_OPEN:
            return  # re-initialising would kill the open stream
        sd._terminate()
        sd._initialize()


def list_output_devices(refresh: bool = True) -> list[dict[str, Any]]:
    """Output devices PortAudio can see: ``index``, ``name``, ``hostapi``, ``channels``,
    ``default_samplerate``, ``is_default``. Empty (not an error) without any."""
    try:
        import sounddevice as sd
    except OSError:  # PortAudio library missing
        return []
    if refresh:
        _refresh_portaudio()
    try:
        devices = sd.query_devices()
        default_out = sd.default.device[1]
        apis = sd.query_hostapis()
    except sd.PortAudioError:
        return []
    result = []
    for info in devices:
        if info["max_output_channels"] <= 0:
            continue
        result.append(
            {
                "index": info["index"],
                "name": info["name"],
                "hostapi": apis[info["hostapi"]]["name"],
                "channels": info["max_output_channels"],
                "default_samplerate": info["default_samplerate"],
                "is_default": info["index"] == default_out,
            }
        )
    return result


def resolve_device(device: str | int | None) -> int | None:
    """The PortAudio index for a name (case-insensitive substring) or index."""
    if device is None:
        return None
    devices = list_output_devices()
    if isinstance(device, int) or (isinstance(device, str) and device.isdigit()):
        index = int(device)
        if any(d["index"] == index for d in devices):
            return index
    else:
        exact = [d for d in devices if d["name"].lower() == device.lower()]
        matches = exact or [d for d in devices if device.lower() in d["name"].lower()]
        if len(matches) == 1:
            return int(matches[0]["index"])
        if len(matches) > 1:
            names = ", ".join(repr(d["name"]) for d in matches)
            raise UserFacingError(f"output device {device!r} is ambiguous: matches {names}")
    names = ", ".join(repr(d["name"]) for d in devices) or "none"
    raise UserFacingError(f"no output device {device!r}; available outputs: {names}")


class Output:
    kind = "abstract"
    device_name: str | None = None

    def __init__(self, callback: AudioCallback, samplerate: int, channels: int, blocksize: int):
        self.callback = callback
        self.samplerate = samplerate
        self.channels = channels
        self.blocksize = blocksize
        #: perf_counter of the latest callback; the engine's watchdog reads it.
        self.last_callback = 0.0
        self.lost: str | None = None

    def _call(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        self.last_callback = time.perf_counter()
        self.callback(outdata, frames, time_info, status)

    def start(self) -> None: ...

    def close(self) -> None: ...


class NullOutput(Output):
    """No hardware: a thread consumes audio in real time and throws it away.

    Position, pause, track changes and underrun accounting behave as with a sound
    card, so the app is fully usable (and testable) on a machine without one.
    ``sink`` (optional) receives a copy of every block, for tests and tools.
    """

    kind = "null"
    device_name = "null"

    def __init__(
        self,
        callback: AudioCallback,
        samplerate: int,
        channels: int,
        blocksize: int,
        sink: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        super().__init__(callback, samplerate, channels, blocksize)
        self.sink = sink
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audio-null-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buf = np.zeros((self.blocksize, self.channels), dtype=np.float32)
        period = self.blocksize / self.samplerate
        deadline = time.perf_counter()
        while not self._stop.is_set():
            self._call(buf, self.blocksize, None, None)
            if self.sink is not None:
                self.sink(buf.copy())
            deadline += period
            delay = deadline - time.perf_counter()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -0.1:
                # Fell far behind (a loaded or suspended machine): a null device has
                # nothing to catch up with, so resync instead of bursting.
                deadline = time.perf_counter()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)


class ManualOutput(Output):
    """The caller pulls audio with :meth:`render`; for tests and offline rendering."""

    kind = "manual"
    device_name = "manual"

    def render(self, frames: int) -> np.ndarray:
        out = np.zeros((frames, self.channels), dtype=np.float32)
        self._call(out, frames, None, None)
        return out


class SoundDeviceOutput(Output):
    """A PortAudio output stream whose callback is the engine's."""

    kind = "sounddevice"

    def __init__(
        self,
        callback: AudioCallback,
        samplerate: int,
        channels: int,
        blocksize: int,
        device: str | int | None,
        on_finished: Callable[[], None] | None = None,
        latency: float = 0.1,
    ) -> None:
        super().__init__(callback, samplerate, channels, blocksize)
        import sounddevice as sd

        global _STREAMS_OPEN
        index = resolve_device(device)
        self._closing = False
        self._on_finished = on_finished
        self._stream = sd.OutputStream(
            samplerate=samplerate,
            blocksize=blocksize,
            device=index,
            channels=channels,
            dtype="float32",
            # Generous device buffering: it delays pause/seek by at most this much,
            # but rides out scheduling hiccups on a loaded machine. Time to first
            # audio is unaffected (the callback sees the audio at once).
            latency=latency,
            callback=self._call,
            finished_callback=self._finished,
        )
        with _STREAMS_LOCK:
            _STREAMS_OPEN += 1
        info = sd.query_devices(self._stream.device)
        self.device_name = str(info["name"])

    def _finished(self) -> None:
        # PortAudio ended the stream without being asked: the device went away. The
        # engine's watchdog sees ``lost`` on this very output (not on whatever output
        # the engine holds by then).
        if self._closing:
            return
        self.lost = "the audio device stopped"
        if self._on_finished is not None:
            self._on_finished()

    def start(self) -> None:
        self._stream.start()

    def close(self) -> None:
        """Stop the stream; never hangs the caller even if the device vanished."""
        global _STREAMS_OPEN
        if self._closing:
            return
        self._closing = True
        stream = self._stream

        def _abort() -> None:
            try:
                stream.abort()
                stream.close()
            except Exception:
                pass

        closer = threading.Thread(target=_abort, name="audio-close", daemon=True)
        closer.start()
        closer.join(timeout=2.0)
        with _STREAMS_LOCK:
            _STREAMS_OPEN -= 1

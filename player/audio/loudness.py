"""Loudness (ITU-R BS.1770-4 / EBU R128), true peak, and the output limiter.

``pyloudnorm`` implements BS.1770-4 but wants the whole signal in memory (a one-hour
track would need gigabytes) and imports ``scipy.signal``, which takes seconds and,
while C extensions load, holds the GIL the audio callback needs. So
:class:`LoudnessMeter` runs the same algorithm block by block: the K-weighting cascade
(pyloudnorm's RBJ biquads) runs as the recursion itself, in scipy's compiled
second-order-section loop loaded without ``scipy.signal``
(:func:`player.generation.filters.sosfilt`), with its state carried from block to
block, and the gating blocks use pyloudnorm's exact boundaries. The tests check it
against pyloudnorm.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import soxr

#: Gating block, its hop, and the thresholds of BS.1770-4.
_BLOCK_S = 0.400
_STEP = 0.25
_ABS_GATE = -70.0
_CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
#: The ceiling the limiter holds samples under; a dB below full scale leaves room
#: for the inter-sample peaks a DAC would reconstruct.
DEFAULT_CEILING_DBFS = -1.0


def _biquad(kind: str, gain_db: float, q: float, fc: float, rate: int) -> tuple:
    """RBJ cookbook coefficients, as pyloudnorm designs its K-weighting stages."""
    a_lin = 10 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * fc / rate
    alpha = math.sin(w0) / (2.0 * q)
    cos, root = math.cos(w0), math.sqrt(a_lin)
    if kind == "high_shelf":
        b = (
            a_lin * ((a_lin + 1) + (a_lin - 1) * cos + 2 * root * alpha),
            -2 * a_lin * ((a_lin - 1) + (a_lin + 1) * cos),
            a_lin * ((a_lin + 1) + (a_lin - 1) * cos - 2 * root * alpha),
        )
        a = (
            (a_lin + 1) - (a_lin - 1) * cos + 2 * root * alpha,
            2 * ((a_lin - 1) - (a_lin + 1) * cos),
            (a_lin + 1) - (a_lin - 1) * cos - 2 * root * alpha,
        )
    else:  # high_pass
        b = ((1 + cos) / 2, -(1 + cos), (1 + cos) / 2)
        a = (1 + alpha, -2 * cos, 1 - alpha)
    return tuple(x / a[0] for x in b), tuple(x / a[0] for x in a)


_SECTIONS: dict[int, np.ndarray] = {}


def k_weighting_sos(rate: int) -> np.ndarray:
    """The K-weighting cascade at ``rate`` as two second-order sections (cached)."""
    cached = _SECTIONS.get(rate)
    if cached is None:
        rows = []
        for b, a in (
            _biquad("high_shelf", 4.0, 1 / math.sqrt(2.0), 1500.0, rate),
            _biquad("high_pass", 0.0, 0.5, 38.0, rate),
        ):
            rows.append([*b, *a])
        cached = np.asarray(rows, dtype=np.float64)
        _SECTIONS[rate] = cached
    return cached


def load_fast_filter() -> None:
    """Load the compiled filter loop the meter runs on (about 10 ms, once per process),
    so that the first measurement does not pay for it. The engine calls this on its
    analysis thread once a first play has sounded."""
    from player.generation.filters import sosfilt

    sosfilt(k_weighting_sos(48000), np.zeros(4, dtype=np.float32))


class LoudnessMeter:
    """Integrated loudness and true peak of a signal fed in blocks of any size.

    Input is gathered into pieces of :attr:`PIECE` frames (so tiny blocks cost no more
    than big ones) and K-weighted by the recursion in float64, one compiled call per
    piece for all channels (about three times the float32 FFT overlap-add it replaced,
    and exactly the filter pyloudnorm runs); the gating needs only running sums of
    squares at block edges. A whole-file pass runs at several hundred times real time
    (``tests/bench/bench_playback.py`` prints the figure).
    """

    #: Frames K-weighted per call (soxr's true-peak blocks are a quarter of this).
    PIECE = 32768

    def __init__(self, samplerate: int, channels: int) -> None:
        if channels > len(_CHANNEL_WEIGHTS):
            raise ValueError(f"BS.1770 weights cover at most 5 channels, got {channels}")
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        from player.generation.filters import sosfilt

        self._sosfilt = sosfilt
        self._sos = k_weighting_sos(self.samplerate)
        self._state = np.zeros((len(self._sos), self.channels, 2))
        self._step = self.PIECE
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0
        self._frames = 0
        self._cumulative = np.zeros(self.channels)
        #: Cumulative sum of squares per channel at each gating boundary we passed.
        self._at: dict[int, np.ndarray] = {0: np.zeros(self.channels)}
        self._next_j = [1, 0]  # next block index per edge sequence (lower edge 0 is known)
        # True peak: 4x oversampling (BS.1770-4 Annex 2) with a real resampler.
        self._oversampler = soxr.ResampleStream(
            self.samplerate, self.samplerate * 4, self.channels, dtype="float32", quality="HQ"
        )
        self._peak = 0.0

    @property
    def frames(self) -> int:
        """Frames fed so far (measured or waiting to be)."""
        return self._frames + self._pending_frames

    def add(self, block: np.ndarray) -> None:
        """Feed the next ``(frames, channels)`` samples."""
        block = np.asarray(block)
        if block.ndim == 1:
            block = block[:, None]
        if len(block) == 0:
            return
        if block.shape[1] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {block.shape[1]}")
        self._pending.append(np.array(block, dtype=np.float32, copy=True))
        self._pending_frames += len(block)
        if self._pending_frames >= self._step:
            self._process(final=False)

    def _process(self, final: bool) -> None:
        """Measure the gathered input: whole FFT pieces, and the rest when ``final``."""
        if not self._pending:
            return
        data = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        usable = len(data) if final else (len(data) // self._step) * self._step
        for start in range(0, usable, self._step):
            self._measure(data[start : min(start + self._step, usable)])
        rest = data[usable:]
        self._pending = [rest] if len(rest) else []
        self._pending_frames = len(rest)

    def _measure(self, part: np.ndarray) -> None:
        n = len(part)
        # soxr is quickest on blocks that keep its 4x output in cache.
        peak = max(float(part.max()), -float(part.min()))
        for at in range(0, n, 8192):
            over = self._oversampler.resample_chunk(np.ascontiguousarray(part[at : at + 8192]))
            if len(over):
                peak = max(peak, float(over.max()), -float(over.min()))
        self._peak = max(self._peak, peak)
        # K-weighting, channels as rows (the compiled loop runs along contiguous rows).
        full, self._state = self._sosfilt(self._sos, part.T, axis=1, zi=self._state)
        start, end = self._frames, self._frames + n
        # Gating-block edges inside (start, end]: lower and upper edges are two
        # increasing sequences, each walked by its own index.
        edges: list[int] = []
        for which in (0, 1):
            while True:
                edge = self._bounds(self._next_j[which])[which]
                if edge > end:
                    break
                if edge > start:
                    edges.append(edge)
                self._next_j[which] += 1
        # Sums of squares between consecutive edges (no full cumulative sum needed),
        # then the running total at each edge.
        cuts = sorted({e - start for e in edges if e < end})
        squares = np.square(full[:, :n])
        sums = np.add.reduceat(squares, [0, *cuts], axis=1, dtype=np.float64)
        running = self._cumulative[:, None] + np.cumsum(sums, axis=1)
        at_cut = dict(zip(cuts, running.T[:-1], strict=True))
        for edge in edges:
            self._at[edge] = running[:, -1] if edge == end else at_cut[edge - start]
        self._cumulative = running[:, -1].copy()
        self._frames = end

    def _bounds(self, j: int) -> tuple[int, int]:
        # The same float expressions pyloudnorm uses, so block edges agree exactly.
        lower = int(_BLOCK_S * (j * _STEP) * self.samplerate)
        upper = int(_BLOCK_S * (j * _STEP + 1) * self.samplerate)
        return lower, upper

    def _sum(self, edge: int) -> np.ndarray:
        if edge >= self._frames:
            return self._cumulative
        return self._at[edge]

    def _blocks(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Mean squares per gating block and channel, and each block's loudness."""
        self._process(final=True)
        seconds = self._frames / self.samplerate
        if seconds < _BLOCK_S:
            return None
        blocks = int(np.round((seconds - _BLOCK_S) / (_BLOCK_S * _STEP))) + 1
        z = np.empty((blocks, self.channels))
        for j in range(blocks):
            lower, upper = self._bounds(j)
            z[j] = (self._sum(upper) - self._sum(lower)) / (_BLOCK_S * self.samplerate)
        weights = np.asarray(_CHANNEL_WEIGHTS[: self.channels])
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10.0 * np.log10(z @ weights)
        return z, block_lufs

    def loudest_block_lufs(self) -> float:
        """Loudness of the loudest 400 ms block (momentary maximum); ``-inf`` if none."""
        blocks = self._blocks()
        if blocks is None or not len(blocks[1]):
            return float("-inf")
        return float(np.max(blocks[1]))

    def integrated_lufs(self) -> float:
        """Gated integrated loudness; ``-inf`` for silence or under 400 ms of audio."""
        blocks = self._blocks()
        if blocks is None:
            return float("-inf")
        z, block_lufs = blocks
        weights = np.asarray(_CHANNEL_WEIGHTS[: self.channels])
        above_abs = block_lufs >= _ABS_GATE
        if not above_abs.any():
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10(z[above_abs].mean(axis=0) @ weights) - 10.0
        gated = (block_lufs > relative) & above_abs
        if not gated.any():
            return float("-inf")
        return float(-0.691 + 10.0 * np.log10(z[gated].mean(axis=0) @ weights))

    def true_peak_dbtp(self) -> float:
        self._process(final=True)
        tail = self._oversampler.resample_chunk(
            np.zeros((0, self.channels), dtype=np.float32), last=True
        )
        if len(tail):
            self._peak = max(self._peak, float(tail.max()), -float(tail.min()))
        return 20.0 * math.log10(self._peak) if self._peak > 0 else float("-inf")


def measure_loudness(
    path_or_array: str | Path | np.ndarray, samplerate: int | None = None
) -> tuple[float, float]:
    """``(integrated_lufs, true_peak_dbtp)`` of a file or a ``(frames, channels)`` array.

    Files are read in blocks, so length does not matter. Raises
    :class:`~player.audio.decode.AudioDecodeError` for a file that cannot be decoded.
    """
    if isinstance(path_or_array, np.ndarray):
        if samplerate is None:
            raise ValueError("measure_loudness(array) needs the samplerate")
        data = path_or_array if path_or_array.ndim == 2 else path_or_array[:, None]
        if data.shape[1] > len(_CHANNEL_WEIGHTS):
            from player.audio.mixing import to_channels

            data = to_channels(data, 2)
        meter = LoudnessMeter(samplerate, data.shape[1])
        for start in range(0, len(data), 65536):
            meter.add(data[start : start + 65536])
        return meter.integrated_lufs(), meter.true_peak_dbtp()
    from player.audio.decode import AudioDecodeError, open_audio_file

    with open_audio_file(Path(path_or_array)) as handle:
        channels = min(handle.channels, 2) if handle.channels > 5 else handle.channels
        meter = LoudnessMeter(handle.samplerate, channels)
        for block in handle.blocks(65536):
            if block.shape[1] != channels:
                from player.audio.mixing import to_channels

                block = to_channels(block, channels)
            meter.add(block)
        # MP3 headers state a length; decoding far less than that means a cut-off file.
        if handle.position < 0.98 * handle.frames:
            raise AudioDecodeError(
                f"cannot play '{handle.path}': the file is truncated (only "
                f"{handle.position / handle.samplerate:.1f} s of "
                f"{handle.frames / handle.samplerate:.1f} s decodable)"
            )
        return meter.integrated_lufs(), meter.true_peak_dbtp()


def normalisation_gain_db(
    integrated_lufs: float | None,
    true_peak_dbtp: float | None,
    target_lufs: float | None,
    ceiling_dbtp: float = DEFAULT_CEILING_DBFS,
) -> float:
    """Per-track gain toward ``target_lufs``, never pushing the true peak past the ceiling.

    Unknown or silent loudness gets no gain: amplifying silence, or guessing, is worse
    than playing the track as mastered (the limiter still guards the output).
    """
    if target_lufs is None or integrated_lufs is None or not math.isfinite(integrated_lufs):
        return 0.0
    gain = target_lufs - integrated_lufs
    if true_peak_dbtp is not None and math.isfinite(true_peak_dbtp):
        gain = min(gain, ceiling_dbtp - true_peak_dbtp)
    return gain


class PeakLimiter:
    """A look-ahead limiter that keeps every output sample under the ceiling.

    Per-track gain already respects each track's measured true peak; this catches
    what gain cannot know in advance: streaming tracks with no measurement yet and
    the sum of two tracks during a crossfade. The envelope is the running minimum
    of the required gain over the look-ahead window, smoothed by a moving average of
    the same length; with the signal delayed by ``lookahead - 1`` frames every
    sample is multiplied by a gain no larger than it needs, and the gain never
    jumps, so the limiter does not click. Below the ceiling it is an exact delay.
    """

    def __init__(self, channels: int, lookahead: int = 64, ceiling_dbfs: float = -1.0) -> None:
        self.channels = channels
        self.lookahead = int(lookahead)
        self.ceiling = float(10.0 ** (ceiling_dbfs / 20.0))
        self.reset()

    @property
    def delay(self) -> int:
        return self.lookahead - 1

    def reset(self) -> None:
        n = self.lookahead
        self._x = np.zeros((n - 1, self.channels), dtype=np.float32)
        self._need = np.ones(n - 1, dtype=np.float64)
        self._mins = np.ones(n - 1, dtype=np.float64)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Returns ``len(block)`` frames, delayed by :attr:`delay`."""
        n = len(block)
        if n == 0:
            return block
        peak = np.max(np.abs(block), axis=1).astype(np.float64)
        need = np.ones(n)
        over = peak > self.ceiling
        if not over.any() and np.all(self._need == 1.0) and np.all(self._mins == 1.0):
            # Fast path: nothing to limit anywhere in the window.
            x = np.concatenate([self._x, block])
            self._x = x[n:].copy()
            self._need = need[-(self.lookahead - 1) :].copy()
            return x[:n]
        need[over] = self.ceiling / peak[over]
        need_all = np.concatenate([self._need, need])
        window = np.lib.stride_tricks.sliding_window_view(need_all, self.lookahead)
        mins = window.min(axis=1)  # one per new frame
        mins_all = np.concatenate([self._mins, mins])
        smooth = np.lib.stride_tricks.sliding_window_view(mins_all, self.lookahead).mean(axis=1)
        x = np.concatenate([self._x, block])
        out = (x[:n] * smooth[:, None]).astype(np.float32)
        self._x = x[n:].copy()
        self._need = need_all[-(self.lookahead - 1) :].copy()
        self._mins = mins_all[-(self.lookahead - 1) :].copy()
        return out

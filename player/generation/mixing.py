"""Streaming mix stages: bus effects, sidechain ducking, stereo width, the limiter.

Every stage keeps its own state between blocks (pedalboard with ``reset=False``, carried
tails for delays, the limiter's look-ahead line), so a track rendered in blocks is
sample-identical to one rendered at once and has no seams at block edges.
"""

from __future__ import annotations

import numpy as np
import pedalboard as pb

from player.generation.filters import first_order_sos, sosfilt

CEILING = 10 ** (-1.0 / 20)  # -1 dBFS: leaves room for MP3 encoding overshoot


class Bus:
    """A mono pedalboard chain that remembers its state across blocks."""

    def __init__(self, plugins: list[pb.Plugin], samplerate: int) -> None:
        self.board = pb.Pedalboard(plugins) if plugins else None
        self.samplerate = samplerate

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.board is None or len(x) == 0:
            return x
        out = self.board.process(x[np.newaxis, :], self.samplerate, reset=False)
        return np.asarray(out[0], dtype=np.float32)


class Haas:
    """Delay one side by a few milliseconds: cheap, mono-compatible stereo width."""

    def __init__(self, delay_samples: int) -> None:
        self.tail = np.zeros(delay_samples, dtype=np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        joined = np.concatenate([self.tail, x])
        self.tail = joined[len(joined) - len(self.tail) :].copy()
        return joined[: len(x)]


def peak_sos(peaks: tuple[tuple[float, float, float], ...], samplerate: int) -> np.ndarray | None:
    """Second-order sections of peak and dip filters, ``(centre Hz, gain dB, Q)`` each
    (the RBJ cookbook peaking EQ), for ``scipy.signal.sosfilt``; ``None`` for no peaks.

    A static EQ is linear, so the renderer applies it once to each cached note and drum
    hit instead of to every sample of the master: the same colour for next to no time.
    """
    rows = []
    for freq, gain_db, q in peaks:
        a = 10 ** (gain_db / 40.0)
        w0 = 2 * np.pi * min(freq, 0.45 * samplerate) / samplerate
        alpha = np.sin(w0) / (2 * q)
        cos = np.cos(w0)
        b = np.array([1 + alpha * a, -2 * cos, 1 - alpha * a])
        den = np.array([1 + alpha / a, -2 * cos, 1 - alpha / a])
        rows.append(np.concatenate([b, den]) / den[0])
    return np.array(rows) if rows else None


def makeup_db(peaks: tuple[tuple[float, float, float], ...]) -> float:
    """Half the largest boost back off, so the limiter does not flatten the level
    differences that energy makes."""
    return -0.5 * max([0.0, *(g for _, g, _ in peaks)])


def apply_sos(sos: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """``x`` through the sections (unchanged for ``None``), as float32."""
    if sos is None:
        return x
    return np.asarray(sosfilt(sos, x), dtype=np.float32)


def duck_curve(
    n: int, block_start: int, kicks: np.ndarray, beat: float, depth: float
) -> np.ndarray:
    """Gain that dips under each kick and recovers within a beat (the house "pump")."""
    gain = np.ones(n, dtype=np.float32)
    if depth <= 0 or len(kicks) == 0:
        return gain
    length = int(beat)
    t = np.arange(length, dtype=np.float32)
    attack = max(1.0, 0.004 * beat * 2)
    shape = 1.0 - depth * np.exp(-t / (0.28 * beat))
    ramp = int(attack)
    shape[:ramp] = np.linspace(1.0, shape[ramp], ramp, dtype=np.float32)
    for k in kicks:
        o = int(k) - block_start
        a, b = max(0, o), min(n, o + length)
        if a < b:
            gain[a:b] = np.minimum(gain[a:b], shape[a - o : b - o])
    return gain


class Limiter:
    """Look-ahead peak limiter: the output never exceeds ``ceiling``.

    The last ``lookahead`` samples of each block are held back until the next block (or
    ``final``), so gain is computed per window from the peaks that are about to arrive:
    it ramps down before a peak and recovers slowly. A hard clip at the ceiling is kept
    only as a guarantee; the gain already keeps peaks below.
    """

    def __init__(
        self,
        ceiling: float = CEILING,
        lookahead: int = 256,
        release_s: float = 0.15,
        samplerate: int = 44100,
    ) -> None:
        self.ceiling = ceiling
        self.window = lookahead
        self.held = np.zeros((0, 2), dtype=np.float32)
        self.gain = 1.0
        self.release = float(np.exp(-lookahead / (release_s * samplerate)))

    def __call__(self, x: np.ndarray, final: bool = False) -> np.ndarray:
        w = self.window
        joined = np.concatenate([self.held, x]) if len(x) else self.held
        n_real = len(joined)
        if final:
            joined = np.concatenate([joined, np.zeros((w, 2), dtype=np.float32)])
        n_out = len(joined) - w
        if n_out <= 0:
            self.held = joined
            return np.zeros((0, 2), dtype=np.float32)
        n_win = (len(joined) + w - 1) // w
        padded = np.zeros((n_win * w, 2), dtype=np.float32)
        padded[: len(joined)] = joined
        peaks = np.abs(padded).reshape(n_win, w * 2).max(axis=1)
        out_points = -(-n_out // w) + 1
        if self.gain >= 1.0 and float(peaks.max()) <= self.ceiling:
            self.held = joined[n_out:n_real].copy()
            return joined[:n_out].copy()  # nothing to limit: the common case, kept cheap
        want = np.ones(out_points + 1, dtype=np.float64)
        k = min(n_win, out_points + 1)
        want[:k] = np.minimum(1.0, self.ceiling / np.maximum(peaks[:k], 1e-9))
        # Point p_i (gain at the start of window i) must already be at or below what
        # windows i-1, i and i+1 need, so the linear ramp between points never overshoots.
        target = np.minimum(want[:out_points], want[1 : out_points + 1])
        target[1:] = np.minimum(target[1:], want[: out_points - 1])
        # Attack is instant, release exponential: attenuation a_i = max(t_i, a_{i-1}·r).
        # In logs that is a running maximum, which numpy does without a Python loop.
        lr = np.log(self.release)
        idx = np.arange(-1, out_points, dtype=np.float64)
        att = np.concatenate([[1.0 - self.gain], 1.0 - target])
        logs = np.log(np.maximum(att, 1e-12)) - idx * lr
        points = 1.0 - np.exp(np.maximum.accumulate(logs) + idx * lr)[1:]
        ramp = np.arange(w, dtype=np.float64) / w
        gains = (points[:-1, None] + (points[1:] - points[:-1])[:, None] * ramp[None, :]).reshape(
            -1
        )
        gains = gains[:n_out].astype(np.float32)
        out = joined[:n_out] * gains[:, None]
        self.gain = float(gains[-1])
        self.held = joined[n_out:n_real].copy()
        return np.clip(out, -self.ceiling, self.ceiling)


class DecimatedReverb:
    """Reverb run at a quarter of the sample rate, then linearly upsampled.

    A reverb tail carries little above 5 kHz, and the reverb is the costliest stage of
    the mix; at a quarter rate it costs a quarter. Output is mono (widened by the
    caller) and lags its input by four samples, which nobody can hear in a tail.
    """

    FACTOR = 4

    def __init__(self, room: float, samplerate: int) -> None:
        self.board = pb.Pedalboard(
            [pb.Reverb(room_size=room, damping=0.5, wet_level=1.0, dry_level=0.0, width=1.0)]
        )
        self.rate = samplerate // self.FACTOR
        self.pending_in = np.zeros(0, dtype=np.float32)
        self.pending_out = np.zeros(self.FACTOR, dtype=np.float32)
        self.last = np.float32(0.0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        f = self.FACTOR
        joined = np.concatenate([self.pending_in, x])
        m = len(joined) // f
        self.pending_in = joined[m * f :].copy()
        if m:
            dec = joined[: m * f].reshape(m, f).mean(axis=1)
            y = np.asarray(
                self.board.process(dec[np.newaxis, :], self.rate, reset=False)[0], dtype=np.float32
            )
            prev = np.concatenate([[self.last], y[:-1]])
            frac = (np.arange(1, f + 1, dtype=np.float32) / f)[np.newaxis, :]
            up = (prev[:, None] * (1 - frac) + y[:, None] * frac).reshape(-1)
            self.last = y[-1]
            self.pending_out = np.concatenate([self.pending_out, up])
        out = self.pending_out[: len(x)]
        self.pending_out = self.pending_out[len(x) :]
        if len(out) < len(x):
            out = np.concatenate([out, np.zeros(len(x) - len(out), dtype=np.float32)])
        return out


def soft_clip(x: np.ndarray, drive: np.float32) -> np.ndarray:
    """``tanh(drive·x)/drive``: unity gain for quiet signals, peaks squeezed the harder
    the higher ``drive``. A rational approximation of tanh (within 2 %, saturating at
    ±1), several times cheaper than ``np.tanh`` on a whole block."""
    y = np.clip(x * drive, -3.0, 3.0)
    y2 = y * y
    return (y * (27.0 + y2) / (27.0 + 9.0 * y2) / drive).astype(np.float32)


def tilt_db(brightness: float) -> float:
    """The master tilt's gain for ``brightness`` (0-1): 14 dB per unit around 0.5, and
    up to 8 dB more towards 1 (6 dB darker towards 0) over the control's last quarter.

    The ends reach further than the middle so the listener model can ask for a really
    bright or dark track in any genre (a genre's signature cuts its top, a bass-led one
    its centroid) while the defaults drawn around the middle keep their genre's colour.
    """
    top = max(0.0, brightness - 0.75) / 0.25
    bottom = max(0.0, 0.25 - brightness) / 0.25
    return 14.0 * (brightness - 0.5) + 8.0 * top * top - 6.0 * bottom * bottom


class Tilt:
    """A first-order high shelf on the stereo master, state kept across blocks: the
    spectral tilt that ``brightness`` moves (``gain_db`` above ``corner`` Hz)."""

    def __init__(self, gain_db: float, corner: float, samplerate: int) -> None:
        g = 10 ** (gain_db / 20.0) - 1.0
        # 1 + g·HP(z), HP a one-pole high-pass (bilinear transform of s/(s+w)).
        k = np.tan(np.pi * corner / samplerate)
        a1 = (k - 1.0) / (k + 1.0)
        hb = np.array([1.0, -1.0]) / (1.0 + k)
        self.b = np.array([1.0 + g * hb[0], a1 + g * hb[1]])
        self.a = np.array([1.0, a1])
        self.zi = np.zeros((1, 2, 2))  # one section's state per channel (sosfilt's shape)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y, self.zi = sosfilt(first_order_sos(self.b, self.a), x, axis=0, zi=self.zi)
        return np.asarray(y, dtype=np.float32)

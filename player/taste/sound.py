"""How a track sounds, in the few numbers taste is about, and a model of reward over them.

The request model (:mod:`player.taste.listener`) learns which *knobs* a listener likes, but a
knob is not a sound: the same "minor, 120 BPM" request comes out clearly minor with one
seed and ambiguous with another, and a beat tracker hears some fast tracks at half time.
A listener judges what they hear. So the radio can *audition* a few candidate requests:
render the opening seconds of each with the procedural engine (a fraction of a second
each), describe the sound (:func:`describe`), and let :class:`SoundModel` — a Gaussian
process over those descriptions, fitted to the listener's likes and skips — choose the one
that sounds most like what they liked, by Thompson sampling as the request model does.

The description is the product's own analysis (the descriptor embedder's tempo, onset rate,
brightness, loudness and bass, plus a key estimate from a chroma weighted to the musical
range); it is computed from the audio, whatever the embedding space in use, and is cheap
enough to run on every preview.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.fft
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize

from player.embedding.base import resample
from player.embedding.descriptor import RATE, raw_descriptors
from player.generation.protocol import GenerationRequest

#: The description's dimensions, in order.
SOUND_NAMES: tuple[str, ...] = (
    "requested tempo",  # log2 BPM of the request: what the groove was built on
    "tempo",  # log2 BPM the beat tracker hears (octave errors included, as a listener's)
    "minorness",  # minor minus major key-profile correlation
    "brightness",  # log2 spectral centroid
    "onsets",  # onsets per second
    "loudness",  # mean frame RMS, dB
    "bass",  # share of power below 150 Hz
    "pulse",  # beat clarity (autocorrelation peak)
)
#: Mean and spread of each dimension over the engine's whole request space (120 random
#: requests, 8 s previews; reproduced by ``tests/bench/bench_listener.py --calibrate-sound``).
SOUND_MEAN = np.array([6.9232, 6.6883, 0.0, 10.6975, 2.7307, -18.3723, 0.7566, 0.5398])
SOUND_SPREAD = np.array([0.4547, 0.3644, 0.16, 0.6094, 0.7192, 4.428, 0.1724, 0.116])

#: Gaussian-process settings, in standardised units: the prior spread of reward, the noise
#: of one verdict, and where each dimension's lengthscale starts before the listener's
#: verdicts say which dimensions matter to them (and its bounds).
REWARD_VARIANCE = 0.6
VERDICT_NOISE = 0.3
LENGTHSCALE = 2.0
LENGTHSCALE_PRIOR_SD = 1.0  # in log units
LENGTHSCALE_BOUNDS = (0.3, 20.0)
#: As in the request model: older verdicts weigh less, so exploration never stops.
FORGET = 0.97
MAX_ROWS = 120

# Krumhansl–Kessler key profiles, centred and normalised, in all 12 rotations.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _rotations(profile: np.ndarray) -> np.ndarray:
    m = np.stack([np.roll(profile, k) for k in range(12)])
    m = m - m.mean(axis=1, keepdims=True)
    return np.asarray(m / np.linalg.norm(m, axis=1, keepdims=True))


_MAJOR_KEYS, _MINOR_KEYS = _rotations(_KK_MAJOR), _rotations(_KK_MINOR)
_KEY_FFT, _KEY_HOP = 4096, 1024


def _key_chroma_map() -> np.ndarray:
    """Pitch-class weights of each FFT bin: soft (±½ semitone), 80 Hz–2.5 kHz, weighted
    towards the middle of the keyboard. Bass notes smear across pitch classes at this FFT
    size and cymbals carry no key, so both would only blur the estimate."""
    freqs = np.fft.rfftfreq(_KEY_FFT, 1.0 / RATE)
    cmap = np.zeros((12, freqs.size))
    ok = (freqs >= 80.0) & (freqs <= 2500.0)
    midi = 12.0 * np.log2(freqs[ok] / 440.0) + 69.0
    for pc in range(12):
        d = (midi - pc) % 12.0
        cmap[pc, ok] = np.maximum(0.0, 1.0 - 2.0 * np.minimum(d, 12.0 - d))
    cmap[:, ok] *= np.exp(-0.5 * np.log2(freqs[ok] / 500.0) ** 2)
    return cmap


_KEY_MAP = _key_chroma_map()
_KEY_WINDOW = np.hanning(_KEY_FFT).astype(np.float32)


def minorness(mono22k: np.ndarray) -> float:
    """How much more the audio's pitch content fits a minor key than a major one."""
    y = np.asarray(mono22k, dtype=np.float32)
    if y.size < _KEY_FFT:
        y = np.pad(y, (0, _KEY_FFT - y.size))
    n = 1 + (y.size - _KEY_FFT) // _KEY_HOP
    idx = np.arange(_KEY_FFT)[None, :] + _KEY_HOP * np.arange(n)[:, None]
    power = np.abs(scipy.fft.rfft(y[idx] * _KEY_WINDOW, axis=1)) ** 2
    chroma = power @ _KEY_MAP.T
    chroma = chroma / np.maximum(chroma.max(axis=1, keepdims=True), 1e-12)
    c = chroma.mean(axis=0)
    c = c - c.mean()
    norm = float(np.linalg.norm(c))
    if norm == 0.0:
        return 0.0
    c = c / norm
    return float((_MINOR_KEYS @ c).max() - (_MAJOR_KEYS @ c).max())


def describe(audio: np.ndarray, samplerate: int, requested_bpm: float) -> np.ndarray:
    """The :data:`SOUND_NAMES` description of stereo or mono float audio."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    y = resample(np.asarray(mono, dtype=np.float32), samplerate, RATE)
    if y.size < 4096:
        raise ValueError("a sound needs at least 0.2 s of audio to be described")
    raw = raw_descriptors(y)
    # Slots of the descriptor layout (see player.embedding.descriptor's docstring).
    return np.array(
        [
            math.log2(max(requested_bpm, 1.0)),
            math.log2(max(float(raw[680]) * 100.0, 1.0)),
            minorness(y),
            float(raw[588]),
            float(raw[684]),
            float(raw[612]),
            float(raw[687]),
            float(raw[681]),
        ]
    )


class SoundModel:
    """Reward as a Gaussian process over standardised sound descriptions.

    A handful of verdicts is all there is, and tastes are bands and conjunctions ("between
    112 and 132 BPM", "slow *and* bright *and* major"), so a kernel method fits better than
    a linear one: its posterior is exact at this size (≤ :data:`MAX_ROWS` rows) and its
    variance is what Thompson sampling explores with. Not thread-safe.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[list[float], float, float]] = []  # (description, reward, weight)
        self._scales: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def observe(self, sound: Sequence[float], reward: float, weight: float = 1.0) -> None:
        self.rows.append(([round(float(x), 5) for x in sound], float(reward), float(weight)))
        del self.rows[:-MAX_ROWS]
        self._scales = None

    def clear(self) -> None:
        self.rows.clear()
        self._scales = None

    @staticmethod
    def _standard(sounds: np.ndarray) -> np.ndarray:
        return np.asarray((np.atleast_2d(sounds) - SOUND_MEAN) / SOUND_SPREAD)

    @staticmethod
    def _kernel(a: np.ndarray, b: np.ndarray, scales: np.ndarray) -> np.ndarray:
        d2 = (((a[:, None, :] - b[None, :, :]) / scales) ** 2).sum(axis=-1)
        return np.asarray(REWARD_VARIANCE * np.exp(-0.5 * d2))

    def _data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Standardised sounds, rewards less their weighted mean, noise per row, and that
        mean. The process models how a sound differs from the listener's usual verdict:
        after nothing but skips every sound is as unknown as the next (explore), instead
        of all looking equally bad."""
        x = self._standard(np.array([r[0] for r in self.rows]))
        y = np.array([r[1] for r in self.rows])
        n = len(self.rows)
        weight = FORGET ** np.arange(n - 1, -1, -1) * np.array([r[2] for r in self.rows])
        weight = np.maximum(weight, 1e-3)
        level = float(weight @ y / weight.sum())
        return x, y - level, VERDICT_NOISE / weight, level

    def lengthscales(self) -> np.ndarray:
        """How far along each dimension two sounds may lie and still be judged alike:
        short for what this listener's verdicts depend on, long for what they ignore
        (automatic relevance determination, fitted by maximum a posteriori type II)."""
        if self._scales is None:
            self._scales = self._fit_scales()
        return self._scales

    def _fit_scales(self) -> np.ndarray:
        dims = len(SOUND_NAMES)
        start = np.full(dims, math.log(LENGTHSCALE))
        rewards = [r[1] for r in self.rows]
        if len(self.rows) < 3 or max(rewards) - min(rewards) < 0.5:
            return np.exp(start)  # no contrast yet: nothing says which dimensions matter
        x, y, noise, _ = self._data()
        d2 = (x[:, None, :] - x[None, :, :]) ** 2  # (n, n, dims)

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            scales = np.exp(theta)
            rbf = REWARD_VARIANCE * np.exp(-0.5 * (d2 / scales**2).sum(axis=-1))
            k = rbf + np.diag(noise)
            try:
                chol = np.linalg.cholesky(k)
            except np.linalg.LinAlgError:
                return 1e9, np.zeros(dims)
            alpha = cho_solve((chol, True), y)
            inv = cho_solve((chol, True), np.eye(len(y)))
            nll = 0.5 * y @ alpha + np.log(np.diag(chol)).sum()
            inner = np.outer(alpha, alpha) - inv
            # d K / d log(scale_d) = rbf * d2_d / scale_d^2
            grad = -0.5 * np.einsum("ij,ijd->d", inner * rbf, d2) / scales**2
            prior = theta - start
            nll += 0.5 * float(prior @ prior) / LENGTHSCALE_PRIOR_SD**2
            grad = grad + prior / LENGTHSCALE_PRIOR_SD**2
            return float(nll), grad

        lo, hi = (math.log(b) for b in LENGTHSCALE_BOUNDS)
        fit = minimize(
            objective, start, jac=True, method="L-BFGS-B", bounds=[(lo, hi)] * dims,
            options={"maxiter": 60},
        )  # fmt: skip
        return np.exp(fit.x if np.all(np.isfinite(fit.x)) else start)

    def posterior(
        self, sounds: Sequence[Sequence[float]] | Sequence[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and covariance of the reward of each sound."""
        scales = self.lengthscales()
        z = self._standard(np.asarray(sounds, dtype=float))
        prior = self._kernel(z, z, scales)
        if not self.rows:
            return np.zeros(len(z)), prior
        x, y, noise, level = self._data()
        chol = np.linalg.cholesky(self._kernel(x, x, scales) + np.diag(noise))
        cross = self._kernel(z, x, scales)
        mean = level + cross @ cho_solve((chol, True), y)
        v = solve_triangular(chol, cross.T, lower=True)
        return mean, prior - v.T @ v

    def draw(
        self,
        sounds: Sequence[Sequence[float]] | Sequence[np.ndarray],
        rng: np.random.Generator,
        scale: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(one joint posterior draw, posterior mean) of the sounds' rewards."""
        mean, cov = self.posterior(sounds)
        chol = np.linalg.cholesky(cov + 1e-6 * np.eye(len(mean)))
        return mean + scale * chol @ rng.standard_normal(len(mean)), mean

    def state(self) -> dict[str, Any]:
        return {"rows": self.rows}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> SoundModel:
        model = cls()
        for row in (state or {}).get("rows", []):
            if len(row) == 3 and len(row[0]) == len(SOUND_NAMES):
                model.rows.append(([float(x) for x in row[0]], float(row[1]), float(row[2])))
        return model


@dataclass(frozen=True)
class Preview:
    """A candidate's opening, described; ``seconds`` is how long rendering and describing took."""

    sound: np.ndarray
    seconds: float


class Auditioner:
    """Renders the opening seconds of candidate requests with the procedural engine and
    describes them. Only the procedural engine is cheap enough to audition (a few hundred
    milliseconds for eight seconds of music on one core); the radio does not audition
    with MusicGen. Thread-safe: one render at a time.

    ``generator``: the engine to render with; in the app, the engine's own process
    (:class:`player.generation.isolated.IsolatedGenerator`), which renders a preview
    *and describes it* there (``describe_opening``): only the eight numbers come back,
    so the app's process neither loads the synthesis modules nor spends its interpreter
    lock on rendering or on the description's FFTs against the window and the audio
    feeder. None: a procedural engine in this process (the headless CLI and the
    benchmarks), described here too. A made track's file is still described here
    (:meth:`describe_file`, once per track chosen without an audition): in the engine's
    process the first description waits for its imports (about 1.5 s there), and the
    station's first track would be "ready" that much later (a verdict given before then
    is learned without its sound)."""

    def __init__(self, seconds: float = 8.0, generator: Any = None) -> None:
        if generator is None:
            from player.generation.procedural import ProceduralGenerator

            generator = ProceduralGenerator()
        self.seconds = seconds
        self.generator = generator
        self.renders = 0
        self._lock = threading.Lock()

    def preview(
        self, request: GenerationRequest, cancelled: Callable[[], bool] = lambda: False
    ) -> Preview | None:
        """The described opening of ``request``; None when cancelled part way."""
        import time

        started = time.perf_counter()
        remote = getattr(self.generator, "describe_opening", None)
        if remote is not None:  # the engine's process renders and describes
            with self._lock:
                sound = remote(request, self.seconds, cancelled)
                if sound is None:
                    return None
                self.renders += 1
            return Preview(np.asarray(sound, dtype=float), time.perf_counter() - started)
        with self._lock:
            result = self.generator.generate(request)
            need = int(
                min(self.seconds, request.duration_seconds or self.seconds) * result.samplerate
            )
            parts: list[np.ndarray] = []
            got = 0
            try:
                for chunk in result:
                    if cancelled():
                        return None
                    parts.append(chunk)
                    got += len(chunk)
                    if got >= need:
                        break
            finally:
                result.close()
            self.renders += 1
        audio = np.concatenate(parts)[:need] if parts else np.zeros((0, 2), np.float32)
        bpm = float(request.tempo_bpm or result.bpm)
        return Preview(describe(audio, result.samplerate, bpm), time.perf_counter() - started)

    def describe_file(self, path: str | Path, requested_bpm: float) -> np.ndarray:
        """The description of a made track's opening, read from its file: a track chosen
        without an audition still teaches the sound model through its verdict."""
        import soundfile as sf

        with sf.SoundFile(str(path)) as f:
            audio = f.read(int(self.seconds * f.samplerate), dtype="float32", always_2d=True)
            rate = f.samplerate
        return describe(audio, rate, requested_bpm)

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

import functools
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from player.embedding.base import resample
from player.embedding.descriptor import RATE, raw_descriptors
from player.generation.protocol import GenerationRequest
from player.taste.rhythm import N_FFT, power_spectrogram, tempo_and_onset_rate
from player.taste.rules import EDGE, RULE_DIMS, RuleModel, TempoChances
from player.taste.rules import TEMPO as RULE_TEMPO

#: Bumped when :func:`describe` changes meaning (2: the standard chroma for minorness; 3:
#: the standard onset detector and tempo estimate, :mod:`player.taste.rhythm`): stored
#: verdicts on descriptions of another version are dropped, not misread.
DESCRIPTION_VERSION = 3
#: The listener model's matrices are small (~160², ~400 × 120): BLAS threads cost far more
#: than they save, and on a busy two-core machine a threaded solve took 150 ms where one
#: thread takes 1 ms. Every fit and plan runs under ``BLAS.limit(limits=1, user_api="blas")``.
BLAS = ThreadpoolController()
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
#: Mean and spread of each dimension over the engine's whole request space (600 random
#: requests, 8 s previews: ``python -m player.taste.engine_model --fit 600`` prints them).
SOUND_MEAN = np.array([6.855, 6.5355, 0.0321, 10.7633, 3.6698, -23.2712, 0.7444, 0.511])
SOUND_SPREAD = np.array([0.428, 0.4116, 0.1536, 0.8286, 1.1808, 6.0057, 0.2785, 0.1199])

#: Gaussian-process settings, in standardised units: the prior spread of reward, the noise
#: of one verdict, and where each dimension's lengthscale starts before the listener's
#: verdicts say which dimensions matter to them (and its bounds).
REWARD_VARIANCE = 0.6
VERDICT_NOISE = 0.3
LENGTHSCALE = 2.0
#: ... except loudness, which starts three times as long: the player plays every track at
#: the same loudness (-14 LUFS), so a preview's level is mostly not what a listener hears.
#: Counted fully, a search with nothing liked yet would spend tracks spreading over levels.
START_SCALES = np.array([LENGTHSCALE] * 5 + [3.0 * LENGTHSCALE] + [LENGTHSCALE] * 2)
#: What a sound unlike any heard is expected to earn: between a skip (-1) and a like (1).
PRIOR_REWARD = 0.0
#: Where predicted sounds' tempo may be heard: (log2 BPM, chance), each (sounds, octaves),
#: and the spread around each octave (log2); see ``EngineSoundModel.heard_tempo``.
HeardTempo = tuple[np.ndarray, np.ndarray, float]
LENGTHSCALE_PRIOR_SD = 1.0  # in log units
LENGTHSCALE_BOUNDS = (0.3, 20.0)
#: As in the request model: older verdicts weigh less, so exploration never stops.
FORGET = 0.97
MAX_ROWS = 120
#: Verdicts without a like after which the radio searches again (see ``searching``).
SEARCH_WINDOW = 6


@functools.cache
def _rules() -> RuleModel:
    """The simple tastes the radio searches over (built once, on first use: ~50 ms)."""
    return RuleModel()


# Krumhansl–Kessler key profiles, centred and normalised, in all 12 rotations.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _rotations(profile: np.ndarray) -> np.ndarray:
    m = np.stack([np.roll(profile, k) for k in range(12)])
    m = m - m.mean(axis=1, keepdims=True)
    return np.asarray(m / np.linalg.norm(m, axis=1, keepdims=True))


_MAJOR_KEYS, _MINOR_KEYS = _rotations(_KK_MAJOR), _rotations(_KK_MINOR)


def _chroma_bank(rate: int = RATE, n_fft: int = N_FFT) -> np.ndarray:
    """The standard STFT chroma filter bank (Ellis's ``chromagram_E``, as librosa and
    most MIR tools build it; ISC-licensed formula): each bin spread over its pitch class
    by a Gaussian one bin-width wide, columns of unit length, then weighted by a broad
    Gaussian over octaves centred on C5 (two octaves wide), rows starting at C.

    A hand-weighted band (80 Hz–2.5 kHz around 500 Hz) agreed with an independent
    analysis of the whole track at r = 0.63 over 60 random requests; this bank, on the
    same 8-s openings, at r = 0.86 — about what the opening alone allows (the same
    analysis of 8 s against 12 s: r = 0.87). A mode the sound model cannot read reliably
    is a mode it cannot learn."""
    bins = 12
    freqs = np.linspace(0, rate, n_fft, endpoint=False)[1:]
    fbins = bins * np.log2(freqs / (440.0 / 16))
    fbins = np.concatenate(([fbins[0] - 1.5 * bins], fbins))
    width = np.concatenate((np.maximum(fbins[1:] - fbins[:-1], 1.0), [1.0]))
    d = np.subtract.outer(fbins, np.arange(bins, dtype=float)).T
    d = np.remainder(d + bins // 2 + 10 * bins, bins) - bins // 2
    w = np.exp(-0.5 * (2 * d / width[None, :]) ** 2)
    w = w / np.linalg.norm(w, axis=0, keepdims=True)
    w = w * np.exp(-0.5 * ((fbins / bins - 5.0) / 2.0) ** 2)[None, :]
    return np.roll(w, -3, axis=0)[:, : n_fft // 2 + 1]


_KEY_MAP = _chroma_bank()


def minorness(mono22k: np.ndarray, power: np.ndarray | None = None) -> float:
    """How much more the audio's pitch content fits a minor key than a major one
    (``power``: :func:`~player.taste.rhythm.power_spectrogram` of it, if at hand)."""
    if power is None:
        power = power_spectrogram(mono22k)
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
    with BLAS.limit(limits=1, user_api="blas"):
        raw = raw_descriptors(y)
        power = power_spectrogram(y)
        heard_bpm, onsets = tempo_and_onset_rate(y, power)
        minor = minorness(y, power)
    # Slots of the descriptor layout (see player.embedding.descriptor's docstring).
    return np.array(
        [
            math.log2(max(requested_bpm, 1.0)),
            math.log2(max(heard_bpm, 1.0)),
            minor,
            float(raw[588]),
            onsets,
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
        self._rule_weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def observe(self, sound: Sequence[float], reward: float, weight: float = 1.0) -> None:
        self.rows.append(([round(float(x), 5) for x in sound], float(reward), float(weight)))
        del self.rows[:-MAX_ROWS]
        self._scales = self._rule_weights = None

    def clear(self) -> None:
        self.rows.clear()
        self._scales = self._rule_weights = None

    def searching(self) -> bool:
        """Whether nothing among the last :data:`SEARCH_WINDOW` verdicts was liked: the
        radio then searches over simple tastes (:mod:`player.taste.rules`) rather than
        near what the Gaussian process last saw liked. A first like may be a fluke at the
        edge of a taste; exploiting around it gave one session 23 skips in a row."""
        return not any(r[1] > 0 for r in self.rows[-SEARCH_WINDOW:])

    def rule_weights(self) -> np.ndarray:
        """The log weight of each simple taste (:mod:`player.taste.rules`) after the
        verdicts, forgetting as the Gaussian process does; cached until the next verdict."""
        if self._rule_weights is None:
            z = self._standard(np.array([r[0] for r in self.rows]).reshape(-1, len(SOUND_NAMES)))
            rewards = [r[1] for r in self.rows]
            self._rule_weights = _rules().log_weights(z, rewards, self._verdict_weights())
        return self._rule_weights

    def _verdict_weights(self) -> np.ndarray:
        """Each verdict's weight, older ones forgotten by :data:`FORGET` per verdict since."""
        n = len(self.rows)
        return FORGET ** np.arange(n - 1, -1, -1) * np.array([r[2] for r in self.rows])

    def rule_chance(
        self,
        sounds: Sequence[Sequence[float]] | Sequence[np.ndarray] | np.ndarray,
        uncertainty: np.ndarray | None = None,
        heard_tempo: HeardTempo | None = None,
    ) -> np.ndarray:
        """Each sound's chance of being liked under the simple tastes still likely."""
        z = self._standard(np.asarray(sounds, dtype=float))
        return _rules().chance(
            self.rule_weights(), z, self._rule_spread(uncertainty), self._rule_tempo(heard_tempo)
        )

    def rule_draws(
        self,
        sounds: np.ndarray,
        rng: np.random.Generator,
        n: int,
        uncertainty: np.ndarray | None = None,
        heard_tempo: HeardTempo | None = None,
    ) -> np.ndarray:
        """``(n, sounds)``: Thompson draws over the simple tastes, as rewards (-1 … 1).
        ``heard_tempo``: (log2 BPM, chance) of each octave a predicted sound's tempo may
        be heard at, and the spread around it (log2)."""
        z = self._standard(np.asarray(sounds, dtype=float))
        chance = _rules().draws(
            self.rule_weights(),
            z,
            rng,
            n,
            self._rule_spread(uncertainty),
            self._rule_tempo(heard_tempo),
        )
        return 2.0 * chance - 1.0

    @staticmethod
    def _rule_tempo(heard_tempo: HeardTempo | None) -> TempoChances | None:
        if heard_tempo is None:
            return None
        where, chance, width = heard_tempo
        k = RULE_TEMPO
        return (
            (where - SOUND_MEAN[k]) / SOUND_SPREAD[k],
            chance,
            math.hypot(EDGE, width / SOUND_SPREAD[k]),
        )

    @staticmethod
    def _rule_spread(uncertainty: np.ndarray | None) -> np.ndarray | float:
        if uncertainty is None:
            return EDGE
        s = (np.asarray(uncertainty, dtype=float) / SOUND_SPREAD)[list(RULE_DIMS)]
        return np.sqrt(EDGE**2 + s**2)

    @staticmethod
    def _standard(sounds: np.ndarray) -> np.ndarray:
        return np.asarray((np.atleast_2d(sounds) - SOUND_MEAN) / SOUND_SPREAD)

    @staticmethod
    def _kernel(a: np.ndarray, b: np.ndarray, scales: np.ndarray) -> np.ndarray:
        # |a - b|² as |a|² + |b|² - 2 a·b: one matrix product instead of an (n, m, dims)
        # array, which at a planning round's few hundred candidates cost 10 ms a call.
        a, b = a / scales, b / scales
        d2 = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * a @ b.T
        return np.asarray(REWARD_VARIANCE * np.exp(-0.5 * np.maximum(d2, 0.0)))

    def _data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Standardised sounds, rewards less the prior level, noise per row, and that level.

        The level is :data:`PRIOR_REWARD`, not the listener's mean verdict: after nothing
        but skips, a sound near a skipped one should look bad and a sound unlike anything
        heard should look unknown, so the search moves *away* from what was skipped instead
        of drawing at random (a taste that few requests meet — slow, bright and major — is
        found only that way)."""
        x = self._standard(np.array([r[0] for r in self.rows]))
        y = np.array([r[1] for r in self.rows])
        weight = np.maximum(self._verdict_weights(), 1e-3)
        return x, y - PRIOR_REWARD, VERDICT_NOISE / weight, PRIOR_REWARD

    def lengthscales(self) -> np.ndarray:
        """How far along each dimension two sounds may lie and still be judged alike:
        short for what this listener's verdicts depend on, long for what they ignore
        (automatic relevance determination, fitted by maximum a posteriori type II)."""
        if self._scales is None:
            with BLAS.limit(limits=1, user_api="blas"):
                self._scales = self._fit_scales()
        return self._scales

    def _fit_scales(self) -> np.ndarray:
        dims = len(SOUND_NAMES)
        start = np.log(START_SCALES)
        rewards = [r[1] for r in self.rows]
        if len(self.rows) < 3 or max(rewards) - min(rewards) < 0.5:
            return np.exp(start)  # no contrast yet: nothing says which dimensions matter
        x, y, noise, _ = self._data()
        n = len(y)
        # Squared differences per dimension as an (n², dims) matrix: the kernel and the
        # gradient are then one matrix-vector product each, not sums over an (n, n, dims)
        # array (the refit after a feedback cost 90 ms p50 at 40–120 verdicts that way).
        d2 = ((x[:, None, :] - x[None, :, :]) ** 2).reshape(n * n, dims)

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            scales = np.exp(theta)
            rbf = REWARD_VARIANCE * np.exp(-0.5 * (d2 @ scales**-2.0)).reshape(n, n)
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
            grad = -0.5 * ((inner * rbf).reshape(n * n) @ d2) / scales**2
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
        self,
        sounds: Sequence[Sequence[float]] | Sequence[np.ndarray] | np.ndarray,
        uncertainty: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and covariance of the reward of each sound.

        ``uncertainty``: the spread of each dimension when ``sounds`` are predictions, not
        descriptions (:mod:`player.taste.engine_model`). The kernel is then its expectation
        under that Gaussian input noise (Girard et al., 2003): a dimension the prediction
        cannot pin down (a seed's minorness) counts for less, as it should."""
        with BLAS.limit(limits=1, user_api="blas"):
            return self._posterior(sounds, uncertainty)

    def _posterior(
        self,
        sounds: Sequence[Sequence[float]] | Sequence[np.ndarray] | np.ndarray,
        uncertainty: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        scales = self.lengthscales()
        z = self._standard(np.asarray(sounds, dtype=float))
        if uncertainty is None:
            prior = self._kernel(z, z, scales)
            cross_scales, cross_gain = scales, 1.0
        else:
            s2 = (np.asarray(uncertainty, dtype=float) / SOUND_SPREAD) ** 2
            both = np.sqrt(scales**2 + 2.0 * s2)
            prior = self._kernel(z, z, both) * float(np.prod(scales / both))
            np.fill_diagonal(prior, REWARD_VARIANCE)
            cross_scales = np.sqrt(scales**2 + s2)
            cross_gain = float(np.prod(scales / cross_scales))
        if not self.rows:
            return np.zeros(len(z)), prior
        x, y, noise, level = self._data()
        chol = np.linalg.cholesky(self._kernel(x, x, scales) + np.diag(noise))
        cross = cross_gain * self._kernel(z, x, cross_scales)
        mean = level + cross @ cho_solve((chol, True), y)
        v = solve_triangular(chol, cross.T, lower=True)
        return mean, prior - v.T @ v

    def draws(
        self,
        sounds: np.ndarray,
        rng: np.random.Generator,
        n: int,
        uncertainty: np.ndarray | None = None,
        spread: np.ndarray | None = None,
    ) -> np.ndarray:
        """``n`` joint posterior draws of the sounds' rewards: ``(n, len(sounds))``; draw
        ``i`` deviates from the mean ``spread[i]`` times as widely (default 1: all full)."""
        mean, cov = self.posterior(sounds, uncertainty)
        jitter = 1e-6 * REWARD_VARIANCE
        for _ in range(4):
            try:
                chol = np.linalg.cholesky(cov + jitter * np.eye(len(mean)))
                break
            except np.linalg.LinAlgError:  # near-identical candidates
                jitter *= 100.0
        else:
            chol = np.diag(np.sqrt(np.clip(np.diag(cov), 0.0, None)))
        noise = rng.standard_normal((n, len(mean))) @ chol.T
        if spread is not None:
            noise = noise * np.asarray(spread, dtype=float)[:, None]
        return np.asarray(mean[None, :] + noise)

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
        return {"version": DESCRIPTION_VERSION, "rows": self.rows}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> SoundModel:
        model = cls()
        if (state or {}).get("version", 1) != DESCRIPTION_VERSION:
            return model  # described another way: those verdicts would be misread
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

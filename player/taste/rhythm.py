"""How fast and how busy a preview sounds: onsets and tempo, the standard way.

The sound model learns tastes such as "fast and busy" from what each preview sounds
like, so its description of tempo and onsets has to agree with how a listener — or any
analyser — hears them. The descriptor embedder's rhythm block (built for similarity, not
for this) agreed poorly: over 160 random requests its onset rate on the 8-s opening
correlated r = 0.68 with an independent analysis of the whole track, and it saturated
exactly where "busy" begins; its tempo landed within a tenth of an octave 79 % of the
time. The standard methods on the same 8 s: r = 0.97 and 91 %.

The standard methods are the spectral-flux onset envelope on a log-power mel spectrogram
with Böck-style peak picking, and Ellis's (2007) tempo estimate — the autocorrelation
tempogram weighted by a log-normal prior around 120 BPM. Both are reimplemented here in
numpy after librosa's formulation (ISC licence; the defaults of ``onset_detect`` and
``beat_track``) so that the engine-side code needs no librosa and no numba.
``tests/core/test_rhythm.py`` checks the port against librosa itself.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft

RATE = 22050
N_FFT = 2048
HOP = 512
N_MELS = 128
#: The tempogram's window: 8 s of onset envelope (``ac_size`` in librosa).
AC_FRAMES = int(8.0 * RATE) // HOP
START_BPM, STD_OCTAVES, MAX_BPM = 120.0, 1.0, 320.0
_WINDOW = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic


def _hz_to_mel(f: float | np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear to 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=float)
    step = np.log(6.4) / 27.0
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / step, f / (200 / 3))


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=float)
    step = np.log(6.4) / 27.0
    return np.where(m >= 15.0, 1000.0 * np.exp(step * (m - 15.0)), m * (200 / 3))


@functools.cache
def _mel_bank() -> np.ndarray:
    """Triangular, area-normalised mel filters over the whole band (0–11 kHz)."""
    fft_freqs = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


def power_spectrogram(mono22k: np.ndarray) -> np.ndarray:
    """``|STFT|²``, ``(frames, bins)``: 2048-point periodic Hann windows every 512 samples,
    centred (zero-padded by half a window) — the one spectrogram a preview's description
    takes its key and its rhythm from."""
    padded = np.pad(np.asarray(mono22k, dtype=np.float32), N_FFT // 2)
    frames = 1 + (padded.size - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    return np.asarray(np.abs(scipy.fft.rfft(padded[idx] * _WINDOW, axis=1)) ** 2)


def _mel_db(power: np.ndarray) -> np.ndarray:
    """Log-power mel spectrogram, ``(mels, frames)``, 80 dB below its peak at most."""
    mel = _mel_bank() @ power.T
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    return np.asarray(np.maximum(db, db.max() - 80.0))


def _envelope(mel_db: np.ndarray, median: bool) -> np.ndarray:
    """Onset strength per frame: the rise of each mel band, averaged over bands (the
    median for tempo, as a beat tracker takes it), aligned with the frames' centres."""
    rise = np.maximum(0.0, mel_db[:, 1:] - mel_db[:, :-1])
    env = np.median(rise, axis=0) if median else rise.mean(axis=0)
    pad = 1 + N_FFT // (2 * HOP)
    return np.concatenate((np.zeros(pad), env))[: mel_db.shape[1]]


def _peaks(x: np.ndarray) -> int:
    """How many onsets the peak picker finds in a normalised envelope: a local maximum
    (30 ms before) at least 0.07 above the mean of the 100 ms around it, 30 ms apart."""
    pre_max, post_max = 1, 1
    pre_avg, post_avg = 4, 5
    wait, delta = 1, 0.07
    n = x.size
    count, i = 0, 0
    while i < n:
        if x[i] == x[max(0, i - pre_max) : min(i + post_max, n)].max() and x[i] >= (
            x[max(0, i - pre_avg) : min(i + post_avg, n)].mean() + delta
        ):
            count += 1
            i += wait + 1
        else:
            i += 1
    return count


def tempo_and_onset_rate(
    mono22k: np.ndarray, power: np.ndarray | None = None
) -> tuple[float, float]:
    """The tempo a beat tracker settles on (BPM, octave errors included, as a
    listener's: the prior pulls towards 120) and onsets per second. Run it under a
    one-thread BLAS limit: the mel projection is small, and threaded on a busy machine
    it took ten times as long. ``power``: :func:`power_spectrogram` of the same audio,
    when the caller has it already."""
    y = np.asarray(mono22k, dtype=np.float32)
    mel_db = _mel_db(power_spectrogram(y) if power is None else power)
    return _tempo(_envelope(mel_db, median=True)), _onset_rate(
        _envelope(mel_db, median=False), y.size / RATE
    )


def _onset_rate(env: np.ndarray, seconds: float) -> float:
    env = env - env.min()
    top = env.max()
    if top <= 0 or not np.all(np.isfinite(env)):
        return 0.0
    return _peaks(env / (top + np.finfo(env.dtype).tiny)) / max(seconds, 1e-6)


def _tempo(env: np.ndarray) -> float:
    """Ellis's estimate: the mean autocorrelation tempogram (8-s windows) under a
    log-normal prior around 120 BPM."""
    if not env.any():
        return 0.0
    n, win = env.size, AC_FRAMES
    padded = np.pad(env, win // 2, mode="linear_ramp", end_values=0.0)
    frames = padded[np.arange(win)[None, :] + np.arange(n)[:, None]]
    frames = frames * (np.hanning(win + 1)[:-1])[None, :]
    size = scipy.fft.next_fast_len(2 * win - 1, real=True)
    ac = scipy.fft.irfft(np.abs(scipy.fft.rfft(frames, size, axis=1)) ** 2, size, axis=1)[:, :win]
    peak = np.abs(ac).max(axis=1, keepdims=True)
    ac = np.divide(ac, peak, out=np.zeros_like(ac), where=peak > np.finfo(float).tiny)
    profile = ac.mean(axis=0)
    bpms = np.full(win, np.inf)
    bpms[1:] = 60.0 * RATE / (HOP * np.arange(1, win))
    with np.errstate(divide="ignore"):
        logprior = -0.5 * ((np.log2(bpms) - np.log2(START_BPM)) / STD_OCTAVES) ** 2
    logprior[: int(np.argmax(bpms < MAX_BPM))] = -np.inf
    return float(bpms[int(np.argmax(np.log1p(1e6 * profile) + logprior))])

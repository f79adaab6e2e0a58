# SPDX-License-Identifier: MIT
"""The descriptor embedder: hand-made music descriptors laid out in 768 dimensions.

It needs no weights and runs in numpy on any CPU, so it is the default embedder. The
audio is resampled to 22.05 kHz mono and analysed with a 2048-point STFT (hop 512,
about 43 frames a second); long tracks are described by three 30-second excerpts.

The raw descriptors (:func:`raw_descriptors`) are standardised per dimension with
statistics fitted on a reference corpus (``descriptor_stats.py``, written by
``tests/bench/bench_embedding.py --fit-stats``), clipped to ±5, weighted per block
(:func:`block_weights`) so that the wide log-mel blocks do not drown the narrow
rhythm ones, and L2-normalised.
Centring matters: without it every vector points the same way and cosine similarity
says little.

Layout (indices into the 768-vector; "stats" = mean, std, 10th and 90th percentile
over frames)::

    0:64     log-mel (64 bands, 30 Hz-11 kHz, dB) mean per band   - spectral envelope
    64:128   log-mel std per band                                  - per-band dynamics
    128:192  log-mel 10th percentile per band                      - noise floor / sustain
    192:256  log-mel 90th percentile per band                      - peaks
    256:320  mean |Δ log-mel| per band                             - spectral change (attacks)
    320:340  MFCC 0-19 mean                                        - timbre
    340:360  MFCC 0-19 std
    360:380  MFCC 0-19 std of the first difference                 - timbre motion
    380:500  correlation between MFCC 1-16 (upper triangle)        - timbre covariance
    500:512  chroma mean (C..B)                                    - pitch-class content
    512:524  chroma std
    524:536  chroma mean rotated so its strongest class is first   - key-invariant tonality
    536:548  mean |Δ chroma| per class                             - harmonic rhythm
    548:554  tonal centroid (tonnetz: fifths, minor/major thirds) mean
    554:560  tonal centroid std
    560:588  spectral contrast in 7 octave bands: mean, std, p10, p90 (7 each)
    588:616  centroid, bandwidth, roll-off (log2 Hz), flatness, flux, zero-crossing
             rate, RMS (dB): stats (4 each, in that order)
    616:680  onset-envelope autocorrelation at 64 log-spaced tempi, 40-240 BPM
    680:688  tempo (BPM/100), pulse clarity, onset mean, onset std, onset rate (per s),
             half-tempo and double-tempo autocorrelation, bass (<150 Hz) energy share
    688:752  modulation spectrum: 8 mel regions x 8 modulation bands 0.5-16 Hz
    752:768  loudness histogram: share of frames per 16 RMS bins, -60..0 dB below peak
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.fft

from player.embedding.base import (
    EMBEDDING_DIM,
    l2_normalise,
    loop_to_min_length,
    read_excerpt,
    resample,
    select_excerpt,
    to_mono,
)

SPACE = "descriptor-v1"
RATE = 22_050
N_FFT = 2048
HOP = 512
N_MELS = 64
N_MFCC = 20
FPS = RATE / HOP
#: Long tracks: this many excerpts of this many seconds.
EXCERPTS, EXCERPT_SECONDS = 3, 30.0
CLIP = 5.0

#: (name, width) of each block, in vector order; widths sum to 768.
BLOCKS: tuple[tuple[str, int], ...] = (
    ("logmel_mean", 64),
    ("logmel_std", 64),
    ("logmel_p10", 64),
    ("logmel_p90", 64),
    ("logmel_delta", 64),
    ("mfcc_mean", 20),
    ("mfcc_std", 20),
    ("mfcc_delta_std", 20),
    ("mfcc_corr", 120),
    ("chroma_mean", 12),
    ("chroma_std", 12),
    ("chroma_keyinv", 12),
    ("chroma_delta", 12),
    ("tonnetz_mean", 6),
    ("tonnetz_std", 6),
    ("contrast", 28),
    ("spectral_scalars", 28),
    ("tempo_profile", 64),
    ("rhythm", 8),
    ("modulation", 64),
    ("loudness_hist", 16),
)
assert sum(w for _, w in BLOCKS) == EMBEDDING_DIM


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def _mel_filterbank() -> np.ndarray:
    """Triangular mel filters (HTK mel scale), area-normalised; shape (n_mels, bins)."""
    freqs = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array(30.0)), _hz_to_mel(np.array(RATE / 2)), N_MELS + 2)
    )
    fb = np.zeros((N_MELS, freqs.size))
    for i in range(N_MELS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        fb[i] = np.maximum(0.0, np.minimum(up, down)) * (2.0 / (hi - lo))
    return fb


def _chroma_map() -> np.ndarray:
    """Assign each FFT bin between 55 Hz and 5 kHz to its pitch class; shape (12, bins)."""
    freqs = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    cmap = np.zeros((12, freqs.size))
    ok = (freqs >= 55.0) & (freqs <= 5000.0)
    pc = (np.round(12 * np.log2(freqs[ok] / 440.0)).astype(int) + 9) % 12  # 0 = C
    cmap[pc, np.nonzero(ok)[0]] = 1.0
    return cmap


def _dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    m = np.cos(np.pi / n_in * (n + 0.5) * k) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return m


def _tonnetz_matrix() -> np.ndarray:
    """Harte et al.'s 6-D tonal centroid projection of a chroma vector."""
    pcs = np.arange(12)
    rows = []
    for r, angle in ((1.0, 7 * np.pi / 6), (1.0, 3 * np.pi / 2), (0.5, 2 * np.pi / 3)):
        rows.append(r * np.sin(pcs * angle))
        rows.append(r * np.cos(pcs * angle))
    return np.array(rows)


_FREQS = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
_MEL = _mel_filterbank()
_CHROMA = _chroma_map()
_DCT = _dct_matrix(N_MELS, N_MFCC)
_TONNETZ = _tonnetz_matrix()
_WINDOW = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
_CONTRAST_EDGES = (0.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, RATE / 2 + 1)
_TEMPI = np.geomspace(40.0, 240.0, 64)
_MOD_EDGES = np.geomspace(0.5, 16.0, 9)
_EPS = 1e-10


def _stats(x: np.ndarray) -> np.ndarray:
    """Mean, std, p10, p90 over axis 0, grouped per statistic."""
    p10, p90 = np.percentile(x, [10, 90], axis=0)
    return np.concatenate([x.mean(0), x.std(0), p10, p90])


def _frames(signal: np.ndarray) -> np.ndarray:
    pad = np.pad(signal, (N_FFT // 2, N_FFT // 2), mode="reflect")
    n = 1 + (pad.size - N_FFT) // HOP
    return np.lib.stride_tricks.as_strided(
        pad, shape=(n, N_FFT), strides=(pad.strides[0] * HOP, pad.strides[0])
    )


def raw_descriptors(mono22k: np.ndarray) -> np.ndarray:
    """The 768 unstandardised descriptors of mono float32 audio at 22.05 kHz.

    The input must be at least one STFT window long (callers loop short clips). One STFT
    is shared by the blocks below, each a family of descriptors, concatenated in this
    order (``block_weights`` and the stored statistics depend on it).
    """
    y = mono22k.astype(np.float32)
    frames = _frames(y)
    # float32 FFT (scipy) is about twice as fast as numpy's float64 one; the statistics
    # below are accumulated in float64.
    spec = np.abs(scipy.fft.rfft(frames * _WINDOW, axis=1)).astype(np.float64)  # (T, bins)
    power = spec**2
    mel = power @ _MEL.T
    logmel = 10.0 * np.log10(mel + _EPS)  # dB, floor -100
    out: list[np.ndarray] = []
    out += _envelope_block(logmel)
    out += _mfcc_block(logmel)
    out += _chroma_block(spec)
    out.append(_contrast_block(spec))
    scalars, flux, rms_db = _frame_scalars(frames, spec, power, logmel)
    out.append(scalars)
    out += _rhythm_block(flux, power)
    out.append(_modulation_block(mel))
    out.append(_loudness_histogram(rms_db))
    vector = np.concatenate(out)
    assert vector.size == EMBEDDING_DIM, vector.size
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0)


def _envelope_block(logmel: np.ndarray) -> list[np.ndarray]:
    """Log-mel envelope: mean, spread, 10th/90th percentiles and mean change per band."""
    dmel = np.abs(np.diff(logmel, axis=0)) if logmel.shape[0] > 1 else np.zeros_like(logmel)
    p10, p90 = np.percentile(logmel, [10, 90], axis=0)
    return [logmel.mean(0), logmel.std(0), p10, p90, dmel.mean(0)]


def _mfcc_block(logmel: np.ndarray) -> list[np.ndarray]:
    """MFCC statistics and the correlations between coefficients 1-16 (timbre)."""
    mfcc = logmel @ _DCT.T
    dmfcc = np.diff(mfcc, axis=0) if mfcc.shape[0] > 1 else np.zeros_like(mfcc)
    sub = mfcc[:, 1:17]
    sd = sub.std(0)
    cov = np.cov(sub, rowvar=False) if sub.shape[0] > 1 else np.zeros((16, 16))
    corr = cov / np.maximum(np.outer(sd, sd), 1e-9)
    return [mfcc.mean(0), mfcc.std(0), dmfcc.std(0), corr[np.triu_indices(16, k=1)]]


def _chroma_block(spec: np.ndarray) -> list[np.ndarray]:
    """Chroma (also rotated to its strongest pitch class) and the tonal centroid."""
    chroma = spec @ _CHROMA.T
    chroma = chroma / np.maximum(chroma.max(axis=1, keepdims=True), 1e-9)
    cmean = chroma.mean(0)
    dchroma = np.abs(np.diff(chroma, axis=0)) if chroma.shape[0] > 1 else np.zeros_like(chroma)
    chroma_l1 = chroma / np.maximum(chroma.sum(axis=1, keepdims=True), 1e-9)
    tonnetz = chroma_l1 @ _TONNETZ.T
    return [
        cmean,
        chroma.std(0),
        np.roll(cmean, -int(np.argmax(cmean))),
        dchroma.mean(0),
        tonnetz.mean(0),
        tonnetz.std(0),
    ]


def _contrast_block(spec: np.ndarray) -> np.ndarray:
    """Spectral contrast (peak vs valley per octave band, 2% quantiles)."""
    contrast = np.empty((spec.shape[0], 7))
    for i in range(7):
        band = spec[:, (_CONTRAST_EDGES[i] <= _FREQS) & (_CONTRAST_EDGES[i + 1] > _FREQS)]
        band = np.sort(band, axis=1)
        k = max(1, round(0.02 * band.shape[1]))
        peak = band[:, -k:].mean(1)
        valley = band[:, :k].mean(1)
        contrast[:, i] = np.log10(peak + _EPS) - np.log10(valley + _EPS)
    return _stats(contrast)


def _frame_scalars(
    frames: np.ndarray, spec: np.ndarray, power: np.ndarray, logmel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame-level scalar descriptors (centroid, bandwidth, roll-off, flatness, flux, zero
    crossings, level) summarised; also the flux and level per frame, which the rhythm and
    loudness blocks reuse."""
    total = spec.sum(1) + _EPS
    centroid = (spec @ _FREQS) / total
    # sum s (f - c)^2 = sum s f^2 - 2 c sum s f + c^2 sum s, without a (T, bins) temporary.
    second = (spec @ _FREQS**2) / total
    bandwidth = np.sqrt(np.maximum(second - centroid**2, 0.0))
    cum = np.cumsum(spec, axis=1)
    rolloff = _FREQS[np.minimum((cum < 0.85 * cum[:, -1:]).sum(1), _FREQS.size - 1)]
    flatness = np.exp(np.log(power + _EPS).mean(1)) / (power.mean(1) + _EPS)
    flux = np.concatenate([[0.0], np.maximum(np.diff(logmel, axis=0), 0).mean(1)])
    signs = np.signbit(frames)
    zcr = (signs[:, 1:] != signs[:, :-1]).mean(1)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(1))
    rms_db = 20 * np.log10(rms + 1e-5)
    scalars = np.stack(
        [
            np.log2(centroid + 20.0),
            np.log2(bandwidth + 20.0),
            np.log2(rolloff + 20.0),
            flatness,
            flux,
            zcr,
            rms_db,
        ],
        axis=1,
    )
    p10s, p90s = np.percentile(scalars, [10, 90], axis=0)
    summary = np.stack([scalars.mean(0), scalars.std(0), p10s, p90s], axis=1).reshape(-1)
    return summary, flux, rms_db


def _rhythm_block(flux: np.ndarray, power: np.ndarray) -> list[np.ndarray]:
    """Rhythm: the tempo profile of the onset envelope (half-wave rectified log-mel flux),
    then tempo, pulse strength, onset statistics and the bass share."""
    onset = flux - np.convolve(flux, np.ones(16) / 16, mode="same")
    onset = np.maximum(onset, 0.0)
    n = onset.size
    centred = onset - onset.mean()
    spectrum = np.fft.rfft(centred, 2 * n)
    ac = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    ac = ac / ac[0] if ac[0] > 0 else np.zeros(n)
    lags = 60.0 * FPS / _TEMPI
    profile = np.interp(lags, np.arange(n), ac, right=0.0)
    prior = np.exp(-0.5 * (np.log2(_TEMPI / 120.0) / 0.9) ** 2)
    best = int(np.argmax(profile * prior))
    bpm = float(_TEMPI[best])
    half = float(np.interp(2 * lags[best], np.arange(n), ac, right=0.0))
    double = float(np.interp(lags[best] / 2, np.arange(n), ac, right=0.0))
    peaks = (
        (onset[1:-1] > onset[:-2])
        & (onset[1:-1] >= onset[2:])
        & (onset[1:-1] > onset.mean() + onset.std())
    )
    onset_rate = float(peaks.sum()) / max(n / FPS, 1e-9)
    bass = power[:, _FREQS < 150.0].sum() / (power.sum() + _EPS)
    summary = np.array(
        [
            bpm / 100.0,
            float(profile.max()),
            onset.mean(),
            onset.std(),
            onset_rate,
            half,
            double,
            bass,
        ]
    )
    return [profile, summary]


def _modulation_block(mel: np.ndarray) -> np.ndarray:
    """Modulation spectrum of 8 mel regions' loudness envelopes (windows of ~6 s)."""
    regions = np.log(mel.reshape(mel.shape[0], 8, N_MELS // 8).sum(2) + _EPS)
    win = 256
    if regions.shape[0] < win:
        regions = np.pad(regions, ((0, win - regions.shape[0]), (0, 0)), mode="wrap")
    starts = range(0, regions.shape[0] - win + 1, win // 2)
    mod = np.zeros((win // 2 + 1, 8))
    for s in starts:
        seg = regions[s : s + win]
        seg = (seg - seg.mean(0)) * np.hanning(win)[:, None]
        mod += np.abs(np.fft.rfft(seg, axis=0))
    mod /= len(starts)
    mod_freqs = np.fft.rfftfreq(win, 1.0 / FPS)
    modbands = np.stack(
        [
            mod[(mod_freqs >= _MOD_EDGES[i]) & (mod_freqs < _MOD_EDGES[i + 1])].mean(0)
            for i in range(8)
        ],
        axis=1,
    )  # (regions, modulation bands)
    return np.log(modbands + 1e-6).reshape(-1)


def _loudness_histogram(rms_db: np.ndarray) -> np.ndarray:
    """Loudness histogram relative to the loudest frame."""
    rel = rms_db - rms_db.max()
    hist, _ = np.histogram(np.clip(rel, -60.0, 0.0), bins=16, range=(-60.0, 0.0))
    return hist / max(1, rel.size)


def block_weights() -> np.ndarray:
    """Per-dimension weight ``width ** -0.25``: wide blocks count more, but sub-linearly.

    Uniform weights let the 320 log-mel dimensions dominate; equal weight per block
    (``width ** -0.5``) lets 6-dimension blocks count as much as 64-dimension ones.
    The fourth root sits between and retrieved best on the benchmark corpus
    (precision@1 by game 0.70 vs 0.67 uniform and 0.63 per-block).
    """
    return np.concatenate([np.full(w, w**-0.25) for _, w in BLOCKS])


def prepare(audio: np.ndarray, samplerate: int) -> np.ndarray:
    """Any audio -> finite mono 22.05 kHz excerpt, at least one second long."""
    mono = to_mono(audio, samplerate)
    mono = select_excerpt(mono, samplerate, EXCERPT_SECONDS, EXCERPTS)
    mono = resample(mono, samplerate, RATE)
    return loop_to_min_length(mono, RATE)


class DescriptorEmbedder:
    """The default embedder: music descriptors, no weights, fast on a CPU."""

    space = SPACE
    dim = EMBEDDING_DIM

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> None:
        if mean is None or std is None:
            from player.embedding import descriptor_stats

            mean = np.asarray(descriptor_stats.MEAN, dtype=np.float64)
            std = np.asarray(descriptor_stats.STD, dtype=np.float64)
        self._mean = np.asarray(mean, dtype=np.float64)
        self._std = np.maximum(np.asarray(std, dtype=np.float64), 1e-6)
        self._weights = block_weights()

    def standardise(self, raw: np.ndarray) -> np.ndarray:
        """Raw descriptors -> the unit vector stored in the database."""
        z = np.clip((raw - self._mean) / self._std, -CLIP, CLIP) * self._weights
        if not np.any(z):
            # Exactly the reference mean: any fixed unit vector is as good as another.
            z = np.full(EMBEDDING_DIM, 1.0)
        return l2_normalise(z)

    def embed(self, audio: np.ndarray, samplerate: int) -> np.ndarray:
        return self.standardise(raw_descriptors(prepare(audio, samplerate)))

    def embed_file(self, path: str | Path) -> np.ndarray:
        data, rate = read_excerpt(path, EXCERPT_SECONDS, EXCERPTS)
        return self.embed(data, rate)

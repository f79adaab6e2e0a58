"""Drum one-shots synthesised once per track, and the kits genres choose from.

Each hit is rendered a single time (a few thousand samples) and then mixed in at every
step it plays, so a drum track costs little more than array additions. Kits differ by
genre — a boomy 808, a tight house kick, soft brushes — which is most of a genre's
identity before a single note is played.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from player.generation.filters import butter_sos, sosfilt
from player.generation.kits import Kit

__all__ = ["Kit", "render_kit", "vary_kit"]


def vary_kit(kit: Kit, rng: np.random.Generator) -> Kit:
    """The same kit family, tuned and damped a little differently for this track."""

    def f(lo: float, hi: float) -> float:
        return float(rng.uniform(lo, hi))

    # Wide enough that two tracks' kits are heard as different kits of one family (the
    # drums are most of the spectrum in beat-driven genres); a kit may also be recorded
    # darker (a seeded low-pass on the whole kit).
    dark = float(np.exp(rng.uniform(np.log(3500.0), np.log(16000.0))))
    return replace(
        kit,
        kick_start=kit.kick_start * f(0.7, 1.35),
        kick_end=kit.kick_end * f(0.8, 1.2),
        kick_decay=kit.kick_decay * f(0.6, 1.6),
        kick_click=kit.kick_click * f(0.2, 2.0),
        kick_drive=kit.kick_drive * f(0.6, 1.6),
        snare_tone=kit.snare_tone * f(0.75, 1.35),
        snare_decay=kit.snare_decay * f(0.6, 1.7),
        snare_noise=float(np.clip(kit.snare_noise * f(0.7, 1.3), 0.2, 1.0)),
        hat_decay=kit.hat_decay * f(0.5, 2.2),
        hat_cutoff=kit.hat_cutoff * f(0.6, 1.6),
        tone_lowpass=min(kit.tone_lowpass, dark) if f(0.0, 1.0) < 0.5 else kit.tone_lowpass,
    )


# The cymbals' tonal parts depend only on the hit's length: made once per process, not per
# track (they were half of a kit's synthesis, which sits on the path to a track's sound).
@lru_cache(maxsize=16)
def _squares(n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    ratios = (2.0, 3.0, 4.16, 5.43, 6.79, 8.21)
    out = np.asarray(sum(np.sign(np.sin(2 * np.pi * 310.0 * r * t)) for r in ratios), np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=16)
def _bell(n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    out = np.asarray(
        sum(np.sin(2 * np.pi * f * t) for f in (523.0, 1211.0, 1784.0, 2912.0)), np.float32
    )
    out.setflags(write=False)
    return out


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def _filt(
    x: np.ndarray, sr: int, kind: str, freq: float | tuple[float, float], order: int = 2
) -> np.ndarray:
    sos = butter_sos(order, freq, kind, sr)
    return sosfilt(sos, x).astype(np.float32)


def _env(n: int, sr: int, decay: float) -> np.ndarray:
    return np.exp(-np.arange(n, dtype=np.float32) / np.float32(decay * sr))


def _normalise(x: np.ndarray, peak: float) -> np.ndarray:
    m = float(np.max(np.abs(x))) or 1.0
    return (x * (peak / m)).astype(np.float32)


def _tom(sr: int, f0: float) -> np.ndarray:
    n = int(0.45 * sr)
    t = np.arange(n) / sr
    freq = f0 * (1 + 0.5 * np.exp(-t / 0.05))
    return (np.sin(2 * np.pi * np.cumsum(freq) / sr) * _env(n, sr, 0.18)).astype(np.float32)


def render_kit(kit: Kit, sr: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Render every drum of ``kit`` as a mono one-shot normalised to a sensible peak."""
    hits: dict[str, np.ndarray] = {}
    # Kick: a sine sweeping down from ``kick_start`` with a short click on top.
    n = int((kit.kick_decay * 4 + 0.05) * sr)
    t = np.arange(n) / sr
    freq = kit.kick_end + (kit.kick_start - kit.kick_end) * np.exp(-t / 0.04)
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * _env(n, sr, kit.kick_decay)
    click = _filt(_noise(rng, n), sr, "highpass", 1500.0) * _env(n, sr, 0.004) * kit.kick_click
    hits["kick"] = _normalise(np.tanh(kit.kick_drive * (body + click)), 1.0)
    # Snare: a tuned body and bandpassed noise.
    n = int(0.4 * sr)
    t = np.arange(n) / sr
    tone = np.sin(2 * np.pi * kit.snare_tone * t * (1 + 0.2 * np.exp(-t / 0.01))) * _env(
        n, sr, 0.06
    )
    rattle = _filt(_noise(rng, n), sr, "bandpass", (1200.0, 9000.0)) * _env(n, sr, kit.snare_decay)
    hits["snare"] = _normalise((1 - kit.snare_noise) * tone + kit.snare_noise * rattle, 0.85)
    # Clap: three quick bursts then a tail.
    n = int(0.35 * sr)
    burst_env = np.zeros(n, dtype=np.float32)
    for offset in (0.0, 0.011, 0.022):
        start = int(offset * sr)
        burst_env[start:] += _env(n - start, sr, 0.006 if offset < 0.02 else 0.09)
    hits["clap"] = _normalise(
        _filt(_noise(rng, n), sr, "bandpass", (900.0, 5000.0)) * burst_env, 0.8
    )

    # Hats: highpassed noise plus metallic squares.
    def metal(n: int) -> np.ndarray:
        return _filt(_squares(n, sr) * 0.2 + _noise(rng, n), sr, "highpass", kit.hat_cutoff)

    n = int(0.25 * sr)
    hits["hat"] = _normalise(metal(n) * _env(n, sr, kit.hat_decay), 0.45)
    n = int(0.8 * sr)
    hits["open_hat"] = _normalise(metal(n) * _env(n, sr, 0.22), 0.4)
    n = int(1.2 * sr)
    ride = 0.5 * _bell(n, sr) * _env(n, sr, 0.05) + _filt(
        _noise(rng, n), sr, "highpass", 5000.0
    ) * _env(n, sr, 0.5)
    hits["ride"] = _normalise(ride, 0.35)
    n = int(0.12 * sr)
    t = np.arange(n) / sr
    rim = np.sin(2 * np.pi * 1700 * t) * _env(n, sr, 0.012) + 0.5 * _filt(
        _noise(rng, n), sr, "bandpass", (2000.0, 6000.0)
    ) * _env(n, sr, 0.008)
    hits["rim"] = _normalise(rim, 0.5)
    n = int(0.15 * sr)
    shaker_env = np.minimum(np.arange(n) / (0.02 * sr), 1.0) * _env(n, sr, 0.035)
    hits["shaker"] = _normalise(_filt(_noise(rng, n), sr, "highpass", 6000.0) * shaker_env, 0.3)
    hits["tom_hi"] = _normalise(_tom(sr, 220.0), 0.7)
    hits["tom_mid"] = _normalise(_tom(sr, 160.0), 0.75)
    hits["tom_low"] = _normalise(_tom(sr, 110.0), 0.8)
    n = int(2.0 * sr)
    hits["crash"] = _normalise(_filt(metal(n), sr, "highpass", 3000.0) * _env(n, sr, 0.7), 0.4)
    if kit.tone_lowpass < sr / 2 - 100:
        sos = butter_sos(2, kit.tone_lowpass, "lowpass", sr)
        hits = {name: sosfilt(sos, x).astype(np.float32) for name, x in hits.items()}
    return hits

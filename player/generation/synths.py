"""Pitched instruments of the procedural engine: one note in, one mono buffer out.

Each voice is a few vectorised numpy operations over a band-limited wavetable (or FM
pair), shaped by an envelope. Notes repeat constantly in loop-based music (the same
chord every four bars, the same bass root), so every :class:`Instrument` caches the
buffers it has rendered; that cache is what keeps the engine far faster than real time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import signal

from player.generation.theory import midi_to_hz

TABLE_SIZE = 4096
_TABLE_MASK = TABLE_SIZE - 1


@lru_cache(maxsize=256)
def wavetable(shape: str, harmonics: int) -> np.ndarray:
    """One band-limited cycle of ``shape`` with at most ``harmonics`` partials."""
    phase = np.arange(TABLE_SIZE) / TABLE_SIZE * 2.0 * np.pi
    table = np.zeros(TABLE_SIZE)
    harmonics = max(1, harmonics)
    for k in range(1, harmonics + 1):
        if shape == "saw":
            amp = 1.0 / k
        elif shape == "square":
            amp = 1.0 / k if k % 2 else 0.0
        elif shape == "triangle":
            amp = (1.0 / (k * k)) * (1 if (k // 2) % 2 == 0 else -1) if k % 2 else 0.0
        elif shape == "organ":
            amp = {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.5, 6: 0.3, 8: 0.25}.get(k, 0.0)
        else:  # "sine"
            amp = 1.0 if k == 1 else 0.0
        if amp:
            table += amp * np.sin(k * phase)
    peak = float(np.max(np.abs(table))) or 1.0
    return (table / peak).astype(np.float32)


def _harmonics_for(freq: float, samplerate: int, limit: int) -> int:
    return int(max(1, min(limit, (samplerate * 0.45) // max(freq, 1.0))))


def table_osc(
    shape: str, freq: float, n: int, samplerate: int, limit: int = 48, phase0: float = 0.0
) -> np.ndarray:
    """A constant-pitch oscillator read from the band-limited table."""
    table = wavetable(shape, _harmonics_for(freq, samplerate, limit))
    idx = ((phase0 + np.arange(n) * (freq / samplerate)) * TABLE_SIZE).astype(np.int64)
    return table[idx & _TABLE_MASK]


def table_osc_phase(
    shape: str, phase: np.ndarray, max_freq: float, samplerate: int, limit: int = 48
) -> np.ndarray:
    """An oscillator following a precomputed phase (in cycles), for glides and vibrato."""
    table = wavetable(shape, _harmonics_for(max_freq, samplerate, limit))
    return table[(phase * TABLE_SIZE).astype(np.int64) & _TABLE_MASK]


def adsr(
    n_total: int, n_gate: int, sr: int, attack: float, decay: float, sustain: float, release: float
) -> np.ndarray:
    """Linear ADSR over ``n_total`` samples; the key is held for ``n_gate`` samples."""
    a = max(1, int(attack * sr))
    d = max(1, int(decay * sr))
    gate = max(1, min(n_gate, n_total))
    env = np.empty(n_total, dtype=np.float32)
    a_end = min(a, gate)
    env[:a_end] = np.arange(a_end, dtype=np.float32) / np.float32(a)
    level = a_end / a
    d_end = min(a + d, gate)
    if d_end > a_end:
        env[a_end:d_end] = 1.0 - (1.0 - sustain) * (
            np.arange(d_end - a_end, dtype=np.float32) / np.float32(d)
        )
        level = 1.0 - (1.0 - sustain) * (d_end - a_end) / d
    if gate > d_end:
        env[d_end:gate] = sustain
        level = sustain
    rest = n_total - gate
    if rest > 0:
        r = max(1, int(release * sr))
        tail = np.float32(level) * (1.0 - np.arange(rest, dtype=np.float32) / np.float32(r))
        env[gate:] = np.maximum(tail, 0.0)
    return env


def exp_decay(n: int, sr: int, seconds: float) -> np.ndarray:
    """``exp(-t/τ)``: the natural decay of struck and plucked sounds."""
    return np.exp(-np.arange(n, dtype=np.float32) / np.float32(max(seconds, 1e-4) * sr))


@dataclass
class Instrument:
    """A pitched voice of one of the ``kind``s below, with a note cache.

    ``release`` is how long a note rings after its gate; the arranger needs it to know
    how far a note spills into the next render block.
    """

    kind: str
    samplerate: int
    brightness: float = 1.0
    release: float = 0.3
    detune_cents: float = 8.0
    gain: float = 1.0
    highpass: float | None = None
    lowpass: float | None = None
    decay_scale: float = 1.0  # per-track patch variation: longer or shorter ring
    attack_scale: float = 1.0  # and slower or faster swells
    _cache: dict[tuple[int, int, int], np.ndarray] = field(default_factory=dict, repr=False)

    def tail_samples(self) -> int:
        return int(self.release * self.samplerate) + 1

    def note(self, midi: int, gate_samples: int, velocity: float) -> tuple[np.ndarray, float]:
        """The note's buffer and the gain to mix it at.

        Velocity shapes timbre in four steps (part of the cache key) and loudness exactly
        (the returned gain), so humanised velocities still hit the cache.
        """
        vq = min(4, max(1, round(velocity * 4)))
        key = (midi, gate_samples, vq)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._render(midi, gate_samples, vq / 4.0)
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = cached
        return cached, self.gain * (0.25 + 0.75 * velocity)

    def _render(self, midi: int, gate: int, velocity: float) -> np.ndarray:
        sr = self.samplerate
        f = midi_to_hz(midi)
        n = gate + self.tail_samples()
        bright = self.brightness
        kind = self.kind
        ds, at = self.decay_scale, self.attack_scale
        if kind == "sub":  # sine bass with a little drive: felt more than heard
            t = np.arange(n) / sr
            x = np.sin(2 * np.pi * f * t) + 0.15 * np.sin(4 * np.pi * f * t)
            x = np.tanh(1.5 * x) * adsr(n, gate, sr, 0.005, 0.1, 0.85, self.release)
        elif kind == "808":  # pitch drops into the note, long decay, saturated
            t = np.arange(n) / sr
            freq = f * (1.0 + 0.9 * np.exp(-t / 0.025))
            phase = np.cumsum(freq) / sr
            x = np.tanh(2.2 * np.sin(2 * np.pi * phase)) * exp_decay(
                n, sr, (0.35 + gate / sr * 0.6) * ds
            )
            x *= adsr(n, gate, sr, 0.002, 0.05, 1.0, self.release)
        elif kind == "saw_bass":  # filtered saw: bright layer fades into a dark one
            bright_l = table_osc("saw", f, n, sr, limit=int(6 + 18 * bright))
            dark_l = table_osc("triangle", f, n, sr, limit=8)
            fenv = exp_decay(n, sr, (0.08 + 0.1 * bright) * ds)
            x = (fenv * bright_l + (1 - fenv) * dark_l) * adsr(
                n, gate, sr, 0.004, 0.15, 0.7, self.release
            )
        elif kind == "reese":  # two detuned saws beating against each other
            ratio = 2 ** (self.detune_cents * 2 / 1200)
            x = 0.5 * (
                table_osc("saw", f, n, sr, limit=14)
                + table_osc("saw", f * ratio, n, sr, limit=14, phase0=0.3)
            )
            x *= adsr(n, gate, sr, 0.01, 0.2, 0.8, self.release)
        elif kind == "upright":  # plucked acoustic bass
            x = 0.7 * table_osc("sine", f, n, sr) + 0.3 * table_osc("triangle", f, n, sr, limit=9)
            x *= exp_decay(n, sr, 0.45 * ds) * adsr(n, gate, sr, 0.003, 0.05, 1.0, self.release)
        elif kind == "epiano":  # two-operator FM with a decaying index: a Rhodes-like tine
            t = np.arange(n, dtype=np.float32) / sr
            index = (0.4 + 2.2 * bright * velocity) * exp_decay(n, sr, 0.35)
            x = np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * f * t))
            x += 0.08 * velocity * np.sin(2 * np.pi * f * 14 * t) * exp_decay(n, sr, 0.02)
            x *= exp_decay(n, sr, 1.6 * ds) * adsr(n, gate, sr, 0.002, 0.1, 1.0, self.release)
        elif kind == "piano":  # partials that die faster the higher they are
            t = np.arange(n, dtype=np.float32) / sr
            x = np.zeros(n, dtype=np.float32)
            for k in range(1, 7):
                fk = f * k * (1 + 0.0004 * k * k)
                if fk > sr * 0.45:
                    break
                x += (
                    (0.9 / k)
                    * np.sin(2 * np.pi * fk * t)
                    * exp_decay(n, sr, 1.4 * ds / (1 + 0.6 * k))
                )
            x *= adsr(n, gate, sr, 0.002, 0.05, 1.0, self.release)
        elif kind in ("pad", "strings"):  # three detuned saws, slow swell
            cents = self.detune_cents
            x = np.zeros(n, dtype=np.float32)
            for i, c in enumerate((-cents, 0.0, cents)):
                x += table_osc(
                    "saw", f * 2 ** (c / 1200), n, sr, limit=int(4 + 10 * bright), phase0=0.37 * i
                )
            attack = (0.6 if kind == "pad" else 0.25) * at
            x *= adsr(n, gate, sr, attack, 0.5, 0.8, self.release) / 3.0
        elif kind == "organ":
            x = table_osc("organ", f, n, sr, limit=8) * adsr(
                n, gate, sr, 0.01, 0.05, 0.9, self.release
            )
        elif kind == "power":  # guitar-ish: bright saw for the bus distortion to chew on
            x = 0.6 * table_osc("saw", f, n, sr, limit=30) + 0.4 * table_osc(
                "square", f * 1.003, n, sr, limit=20
            )
            x *= adsr(n, gate, sr, 0.003, 0.3, 0.6, self.release)
        elif kind == "stab":  # short chord stab for house and techno
            x = 0.5 * (
                table_osc("saw", f, n, sr, limit=int(4 + 14 * bright))
                + table_osc("square", f * 1.004, n, sr, limit=10)
            )
            x *= exp_decay(n, sr, 0.12 * ds) * adsr(n, gate, sr, 0.002, 0.05, 1.0, self.release)
        elif kind == "pluck":  # arp pluck: bright attack, fast decay
            fenv = exp_decay(n, sr, 0.05)
            x = fenv * table_osc("saw", f, n, sr, limit=24) + (1 - fenv) * table_osc(
                "triangle", f, n, sr, limit=6
            )
            x *= exp_decay(n, sr, 0.25 * ds) * adsr(n, gate, sr, 0.002, 0.05, 1.0, self.release)
        elif kind == "bell":  # inharmonic FM ratio: glassy bell
            t = np.arange(n, dtype=np.float32) / sr
            x = np.sin(
                2 * np.pi * f * t + 1.5 * exp_decay(n, sr, 0.4) * np.sin(2 * np.pi * f * 3.5 * t)
            )
            x *= exp_decay(n, sr, 1.0 * ds) * adsr(n, gate, sr, 0.002, 0.05, 1.0, self.release)
        elif kind in (
            "lead_square",
            "lead_saw",
            "flute",
            "sine_lead",
        ):  # monophonic leads with delayed vibrato
            t = np.arange(n) / sr
            depth = np.clip((t - 0.18) / 0.3, 0.0, 1.0) * (0.004 if kind != "flute" else 0.006)
            phase = f * t + depth * f / (2 * np.pi * 5.5) * (1 - np.cos(2 * np.pi * 5.5 * t))
            shape = {
                "lead_square": "square",
                "lead_saw": "saw",
                "flute": "sine",
                "sine_lead": "triangle",
            }[kind]
            x = table_osc_phase(shape, phase, f * 1.01, sr, limit=int(6 + 14 * bright))
            if kind == "flute":
                x = x + 0.12 * table_osc_phase("sine", 2 * phase, 2 * f, sr)
            attack = 0.04 if kind == "flute" else 0.008
            x *= adsr(n, gate, sr, attack, 0.15, 0.75, self.release)
        elif kind == "fm_bass":  # FM bass: a growl that closes into a round tone
            t = np.arange(n, dtype=np.float32) / sr
            index = (0.8 + 2.5 * bright) * exp_decay(n, sr, 0.12 * ds)
            x = np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * f * t))
            x *= adsr(n, gate, sr, 0.003, 0.2, 0.7, self.release)
        elif kind == "acid":  # squelchy square/saw whose upper partials snap shut
            fenv = exp_decay(n, sr, 0.07 * ds)
            hi = table_osc("saw", f, n, sr, limit=int(10 + 30 * bright))
            lo = table_osc("square", f, n, sr, limit=3)
            x = (fenv * hi * 1.2 + (1 - fenv) * lo * 0.8) * adsr(
                n, gate, sr, 0.003, 0.1, 0.8, self.release
            )
        elif kind == "square_bass":
            x = table_osc("square", f, n, sr, limit=int(5 + 10 * bright)) * adsr(
                n, gate, sr, 0.004, 0.2, 0.75, self.release
            )
        elif kind in ("marimba", "vibes"):  # struck bars: a fundamental and a 4th partial
            t = np.arange(n, dtype=np.float32) / sr
            ring = 0.3 if kind == "marimba" else 1.3
            x = np.sin(2 * np.pi * f * t) * exp_decay(n, sr, ring * ds)
            x += (0.25 + 0.2 * bright) * np.sin(2 * np.pi * 4 * f * t) * exp_decay(n, sr, 0.06)
            if kind == "vibes":
                x *= 1.0 - 0.3 * (0.5 + 0.5 * np.sin(2 * np.pi * 5.0 * t))
            x *= adsr(n, gate, sr, 0.001, 0.05, 1.0, self.release)
        elif kind == "clav":  # bright, percussive keyboard
            x = table_osc("square", f, n, sr, limit=int(8 + 24 * bright)) * 0.6
            x += 0.4 * table_osc("saw", f * 2, n, sr, limit=int(4 + 12 * bright))
            x *= exp_decay(n, sr, 0.18 * ds) * adsr(n, gate, sr, 0.001, 0.05, 1.0, self.release)
        elif kind == "brass":  # saw that opens up as it swells
            fenv = 1.0 - exp_decay(n, sr, 0.08 * at)
            x = fenv * table_osc("saw", f, n, sr, limit=int(6 + 20 * bright)) + (
                1 - fenv
            ) * table_osc("triangle", f, n, sr, limit=5)
            x *= adsr(n, gate, sr, 0.04 * at, 0.2, 0.8, self.release)
        elif kind in ("glass", "choir"):  # soft stacked sines / detuned triangles
            t = np.arange(n, dtype=np.float32) / sr
            if kind == "glass":
                x = np.sin(2 * np.pi * f * t) + 0.5 * bright * np.sin(2 * np.pi * 2 * f * t)
                x += 0.3 * bright * np.sin(2 * np.pi * 3.01 * f * t)
                attack = 0.3 * at
            else:
                cents = self.detune_cents
                x = np.zeros(n, dtype=np.float32)
                for i, c in enumerate((-cents, 0.0, cents)):
                    x += table_osc("triangle", f * 2 ** (c / 1200), n, sr, limit=9, phase0=0.29 * i)
                x = x / 2.0
                attack = 0.45 * at
            x *= adsr(n, gate, sr, attack, 0.4, 0.8, self.release) / 1.5
        else:
            raise ValueError(f"unknown instrument kind {kind!r}")
        x = np.asarray(x, dtype=np.float32)
        # Filtering a cached note once is far cheaper than filtering the whole stem.
        if self.highpass or (self.lowpass and self.lowpass < sr * 0.45):
            x = signal.sosfilt(_filter(self.highpass, self.lowpass, sr), x)
        return x.astype(np.float32)


@lru_cache(maxsize=64)
def _filter(highpass: float | None, lowpass: float | None, sr: int) -> np.ndarray:
    if highpass and lowpass and lowpass < sr * 0.45:
        return signal.butter(2, (highpass, lowpass), btype="bandpass", fs=sr, output="sos")
    if highpass:
        return signal.butter(2, highpass, btype="highpass", fs=sr, output="sos")
    return signal.butter(2, lowpass, btype="lowpass", fs=sr, output="sos")

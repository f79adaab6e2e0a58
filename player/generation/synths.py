"""Pitched instruments of the procedural engine: one note in, one mono buffer out.

Each voice is a few vectorised numpy operations over a band-limited wavetable (or FM
pair), shaped by an envelope. Notes repeat constantly in loop-based music (the same
chord every four bars, the same bass root), so every :class:`Instrument` caches the
buffers it has rendered; that cache is what keeps the engine far faster than real time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from player.generation.filters import butter_sos, sosfilt
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
    eq: np.ndarray | None = None  # the genre's signature EQ (second-order sections)
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
        voice = VOICES.get(self.kind)
        if voice is None:
            raise ValueError(f"unknown instrument kind {self.kind!r}")
        n = gate + self.tail_samples()
        x = np.asarray(voice(_Note(self, midi_to_hz(midi), n, gate, velocity)), dtype=np.float32)
        sr = self.samplerate
        # Filtering a cached note once is far cheaper than filtering the whole stem.
        if self.highpass or (self.lowpass and self.lowpass < sr * 0.45):
            x = sosfilt(_filter(self.highpass, self.lowpass, sr), x)
        if self.eq is not None:
            x = sosfilt(self.eq, x)
        return x.astype(np.float32)


@dataclass(frozen=True)
class _Note:
    """One note to render: the instrument's settings, pitch, length and gate."""

    ins: Instrument
    f: float  # Hz
    n: int  # samples, gate plus release tail
    gate: int  # samples the key is held
    velocity: float

    @property
    def sr(self) -> int:
        return self.ins.samplerate

    def t(self, dtype: type = np.float64) -> np.ndarray:
        return np.arange(self.n, dtype=dtype) / self.sr

    def env(self, attack: float, decay: float, sustain: float) -> np.ndarray:
        return adsr(self.n, self.gate, self.sr, attack, decay, sustain, self.ins.release)

    def ring(self, seconds: float) -> np.ndarray:
        return exp_decay(self.n, self.sr, seconds)


# -- the voices: one function per kind, registered in VOICES -------------------------------


def _sub(v: _Note) -> np.ndarray:  # sine bass with a little drive: felt more than heard
    t = v.t()
    x = np.sin(2 * np.pi * v.f * t) + 0.15 * np.sin(4 * np.pi * v.f * t)
    return np.tanh(1.5 * x) * v.env(0.005, 0.1, 0.85)


def _808(v: _Note) -> np.ndarray:  # pitch drops into the note, long decay, saturated
    t = v.t()
    freq = v.f * (1.0 + 0.9 * np.exp(-t / 0.025))
    phase = np.cumsum(freq) / v.sr
    x = np.tanh(2.2 * np.sin(2 * np.pi * phase)) * v.ring(
        (0.35 + v.gate / v.sr * 0.6) * v.ins.decay_scale
    )
    return x * v.env(0.002, 0.05, 1.0)


def _saw_bass(v: _Note) -> np.ndarray:  # filtered saw: bright layer fades into a dark one
    bright, sr = v.ins.brightness, v.sr
    bright_l = table_osc("saw", v.f, v.n, sr, limit=int(6 + 18 * bright))
    dark_l = table_osc("triangle", v.f, v.n, sr, limit=8)
    fenv = v.ring((0.08 + 0.1 * bright) * v.ins.decay_scale)
    return (fenv * bright_l + (1 - fenv) * dark_l) * v.env(0.004, 0.15, 0.7)


def _reese(v: _Note) -> np.ndarray:  # two detuned saws beating against each other
    ratio = 2 ** (v.ins.detune_cents * 2 / 1200)
    x = 0.5 * (
        table_osc("saw", v.f, v.n, v.sr, limit=14)
        + table_osc("saw", v.f * ratio, v.n, v.sr, limit=14, phase0=0.3)
    )
    return x * v.env(0.01, 0.2, 0.8)


def _upright(v: _Note) -> np.ndarray:  # plucked acoustic bass
    x = 0.7 * table_osc("sine", v.f, v.n, v.sr) + 0.3 * table_osc(
        "triangle", v.f, v.n, v.sr, limit=9
    )
    return x * (v.ring(0.45 * v.ins.decay_scale) * v.env(0.003, 0.05, 1.0))


def _epiano(v: _Note) -> np.ndarray:  # two-operator FM with a decaying index: a Rhodes tine
    t = v.t(np.float32)
    f, vel = v.f, v.velocity
    index = (0.4 + 2.2 * v.ins.brightness * vel) * v.ring(0.35)
    x = np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * f * t))
    x += 0.08 * vel * np.sin(2 * np.pi * f * 14 * t) * v.ring(0.02)
    return x * (v.ring(1.6 * v.ins.decay_scale) * v.env(0.002, 0.1, 1.0))


def _piano(v: _Note) -> np.ndarray:  # partials that die faster the higher they are
    t = v.t(np.float32)
    x = np.zeros(v.n, dtype=np.float32)
    for k in range(1, 7):
        fk = v.f * k * (1 + 0.0004 * k * k)
        if fk > v.sr * 0.45:
            break
        x += (
            (0.9 / k) * np.sin(2 * np.pi * fk * t) * v.ring(1.4 * v.ins.decay_scale / (1 + 0.6 * k))
        )
    return x * v.env(0.002, 0.05, 1.0)


def _detuned_saws(v: _Note) -> np.ndarray:  # pad, strings: three detuned saws, slow swell
    cents = v.ins.detune_cents
    x = np.zeros(v.n, dtype=np.float32)
    for i, c in enumerate((-cents, 0.0, cents)):
        x += table_osc(
            "saw",
            v.f * 2 ** (c / 1200),
            v.n,
            v.sr,
            limit=int(4 + 10 * v.ins.brightness),
            phase0=0.37 * i,
        )
    attack = (0.6 if v.ins.kind == "pad" else 0.25) * v.ins.attack_scale
    return x * (v.env(attack, 0.5, 0.8) / 3.0)


def _organ(v: _Note) -> np.ndarray:
    return table_osc("organ", v.f, v.n, v.sr, limit=8) * v.env(0.01, 0.05, 0.9)


def _power(v: _Note) -> np.ndarray:  # guitar-ish: bright saw for the bus distortion to chew on
    x = 0.6 * table_osc("saw", v.f, v.n, v.sr, limit=30) + 0.4 * table_osc(
        "square", v.f * 1.003, v.n, v.sr, limit=20
    )
    return x * v.env(0.003, 0.3, 0.6)


def _stab(v: _Note) -> np.ndarray:  # short chord stab for house and techno
    x = 0.5 * (
        table_osc("saw", v.f, v.n, v.sr, limit=int(4 + 14 * v.ins.brightness))
        + table_osc("square", v.f * 1.004, v.n, v.sr, limit=10)
    )
    return x * (v.ring(0.12 * v.ins.decay_scale) * v.env(0.002, 0.05, 1.0))


def _pluck(v: _Note) -> np.ndarray:  # arp pluck: bright attack, fast decay
    fenv = v.ring(0.05)
    x = fenv * table_osc("saw", v.f, v.n, v.sr, limit=24) + (1 - fenv) * table_osc(
        "triangle", v.f, v.n, v.sr, limit=6
    )
    return x * (v.ring(0.25 * v.ins.decay_scale) * v.env(0.002, 0.05, 1.0))


def _bell(v: _Note) -> np.ndarray:  # inharmonic FM ratio: glassy bell
    t = v.t(np.float32)
    x = np.sin(2 * np.pi * v.f * t + 1.5 * v.ring(0.4) * np.sin(2 * np.pi * v.f * 3.5 * t))
    return x * (v.ring(1.0 * v.ins.decay_scale) * v.env(0.002, 0.05, 1.0))


_LEAD_SHAPES = {
    "lead_square": "square",
    "lead_saw": "saw",
    "flute": "sine",
    "sine_lead": "triangle",
}


def _lead(v: _Note) -> np.ndarray:  # monophonic leads with delayed vibrato
    kind, f, sr = v.ins.kind, v.f, v.sr
    t = v.t()
    depth = np.clip((t - 0.18) / 0.3, 0.0, 1.0) * (0.004 if kind != "flute" else 0.006)
    phase = f * t + depth * f / (2 * np.pi * 5.5) * (1 - np.cos(2 * np.pi * 5.5 * t))
    limit = int(6 + 14 * v.ins.brightness)
    x = table_osc_phase(_LEAD_SHAPES[kind], phase, f * 1.01, sr, limit=limit)
    if kind == "flute":
        x = x + 0.12 * table_osc_phase("sine", 2 * phase, 2 * f, sr)
    attack = 0.04 if kind == "flute" else 0.008
    return x * v.env(attack, 0.15, 0.75)


def _fm_bass(v: _Note) -> np.ndarray:  # FM bass: a growl that closes into a round tone
    t = v.t(np.float32)
    index = (0.8 + 2.5 * v.ins.brightness) * v.ring(0.12 * v.ins.decay_scale)
    x = np.sin(2 * np.pi * v.f * t + index * np.sin(2 * np.pi * v.f * t))
    return x * v.env(0.003, 0.2, 0.7)


def _acid(v: _Note) -> np.ndarray:  # squelchy square/saw whose upper partials snap shut
    fenv = v.ring(0.07 * v.ins.decay_scale)
    hi = table_osc("saw", v.f, v.n, v.sr, limit=int(10 + 30 * v.ins.brightness))
    lo = table_osc("square", v.f, v.n, v.sr, limit=3)
    return (fenv * hi * 1.2 + (1 - fenv) * lo * 0.8) * v.env(0.003, 0.1, 0.8)


def _square_bass(v: _Note) -> np.ndarray:
    limit = int(5 + 10 * v.ins.brightness)
    return table_osc("square", v.f, v.n, v.sr, limit=limit) * v.env(0.004, 0.2, 0.75)


def _struck_bars(v: _Note) -> np.ndarray:  # marimba, vibes: a fundamental and a 4th partial
    t = v.t(np.float32)
    kind, f = v.ins.kind, v.f
    ring = 0.3 if kind == "marimba" else 1.3
    x = np.sin(2 * np.pi * f * t) * v.ring(ring * v.ins.decay_scale)
    x += (0.25 + 0.2 * v.ins.brightness) * np.sin(2 * np.pi * 4 * f * t) * v.ring(0.06)
    if kind == "vibes":
        x *= 1.0 - 0.3 * (0.5 + 0.5 * np.sin(2 * np.pi * 5.0 * t))
    return x * v.env(0.001, 0.05, 1.0)


def _clav(v: _Note) -> np.ndarray:  # bright, percussive keyboard
    bright = v.ins.brightness
    x = table_osc("square", v.f, v.n, v.sr, limit=int(8 + 24 * bright)) * 0.6
    x += 0.4 * table_osc("saw", v.f * 2, v.n, v.sr, limit=int(4 + 12 * bright))
    return x * (v.ring(0.18 * v.ins.decay_scale) * v.env(0.001, 0.05, 1.0))


def _brass(v: _Note) -> np.ndarray:  # saw that opens up as it swells
    at = v.ins.attack_scale
    fenv = 1.0 - v.ring(0.08 * at)
    x = fenv * table_osc("saw", v.f, v.n, v.sr, limit=int(6 + 20 * v.ins.brightness)) + (
        1 - fenv
    ) * table_osc("triangle", v.f, v.n, v.sr, limit=5)
    return x * v.env(0.04 * at, 0.2, 0.8)


def _glass(v: _Note) -> np.ndarray:  # soft stacked sines
    t = v.t(np.float32)
    f, bright = v.f, v.ins.brightness
    x = np.sin(2 * np.pi * f * t) + 0.5 * bright * np.sin(2 * np.pi * 2 * f * t)
    x += 0.3 * bright * np.sin(2 * np.pi * 3.01 * f * t)
    return x * (v.env(0.3 * v.ins.attack_scale, 0.4, 0.8) / 1.5)


def _choir(v: _Note) -> np.ndarray:  # detuned triangles
    cents = v.ins.detune_cents
    x = np.zeros(v.n, dtype=np.float32)
    for i, c in enumerate((-cents, 0.0, cents)):
        x += table_osc("triangle", v.f * 2 ** (c / 1200), v.n, v.sr, limit=9, phase0=0.29 * i)
    x = x / 2.0
    return x * (v.env(0.45 * v.ins.attack_scale, 0.4, 0.8) / 1.5)


#: Every instrument kind and the function that renders one note of it.
VOICES: dict[str, Callable[[_Note], np.ndarray]] = {
    "sub": _sub,
    "808": _808,
    "saw_bass": _saw_bass,
    "reese": _reese,
    "upright": _upright,
    "epiano": _epiano,
    "piano": _piano,
    "pad": _detuned_saws,
    "strings": _detuned_saws,
    "organ": _organ,
    "power": _power,
    "stab": _stab,
    "pluck": _pluck,
    "bell": _bell,
    "lead_square": _lead,
    "lead_saw": _lead,
    "flute": _lead,
    "sine_lead": _lead,
    "fm_bass": _fm_bass,
    "acid": _acid,
    "square_bass": _square_bass,
    "marimba": _struck_bars,
    "vibes": _struck_bars,
    "clav": _clav,
    "brass": _brass,
    "glass": _glass,
    "choir": _choir,
}


@lru_cache(maxsize=64)
def _filter(highpass: float | None, lowpass: float | None, sr: int) -> np.ndarray:
    if highpass and lowpass and lowpass < sr * 0.45:
        return butter_sos(2, (highpass, lowpass), "bandpass", sr)
    if highpass:
        return butter_sos(2, highpass, "highpass", sr)
    return butter_sos(2, lowpass, "lowpass", sr)

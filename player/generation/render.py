"""Turns a :class:`Plan` into stereo audio, block by block.

Notes and hits are mixed into per-stem mono buffers (the tail of anything still ringing
is carried into the next block), each stem goes through its bus, the stems are panned
into stereo with a shared reverb, and the master limiter keeps every sample under
-1 dBFS. Blocks are two bars long; a track starts with a quarter bar that doubles up to
two, so its first audio is ready in milliseconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pedalboard as pb

from player.generation.arrangement import Plan
from player.generation.controls import Controls
from player.generation.drums import render_kit, vary_kit
from player.generation.genres import GenreStyle
from player.generation.mixing import (
    Bus,
    DecimatedReverb,
    Haas,
    Limiter,
    Tilt,
    apply_sos,
    duck_curve,
    makeup_db,
    peak_sos,
    soft_clip,
    tilt_db,
)
from player.generation.palettes import Palette, signature
from player.generation.synths import Instrument

BASS_GAIN = {"low": 0.4, "medium": 1.0, "high": 1.9}
KICK_GAIN = {"low": 0.75, "medium": 1.0, "high": 1.3}
TONAL = ("bass", "chords", "pad", "lead", "arp")
FADE_OUT_S = 0.03
FADE_IN_S = 0.008
#: The first block of a track, in bars (later blocks double up to two bars); the
#: environment variable lets the UI benchmark run the two-bar first block of before.
FIRST_BLOCK_BARS = float(os.environ.get("INFINITE_PLAYER_FIRST_BLOCK_BARS", "0.25"))


def _riser(samples: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise swelling up and brightening over ``samples``: the classic build-up sweep."""
    noise = rng.standard_normal(samples).astype(np.float32)
    # A cheap brightening: crossfade from a smoothed copy to raw noise.
    kernel = np.ones(24, dtype=np.float32) / 24
    dark = np.convolve(noise, kernel, mode="same")
    ramp = np.linspace(0.0, 1.0, samples, dtype=np.float32)
    return ((1 - ramp) * dark * 3 + ramp * noise) * ramp**2 * 0.25


class _PatchVariation:
    """Per-track spread of a palette's patches within musical ranges."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def bright(self, value: float) -> float:
        return float(np.clip(value * self.rng.uniform(0.85, 1.15), 0.05, 1.4))

    def decay(self) -> float:
        return float(self.rng.uniform(0.7, 1.4))

    def attack(self) -> float:
        return float(self.rng.uniform(0.6, 1.6))

    def detune(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))


class Renderer:
    """Streams a plan's audio; ``start`` may be negative to pre-roll (extend)."""

    def __init__(
        self,
        plan: Plan,
        style: GenreStyle,
        palette: Palette,
        controls: Controls,
        bass_level: str,
        sound_seed: int,
    ) -> None:
        self.plan = plan
        self.style = style
        self.sr = sr = plan.samplerate
        sound_rng = np.random.default_rng(sound_seed)
        self.noise_seed = int(sound_rng.integers(2**32))
        fx = palette.fx
        b, e = controls.brightness, controls.energy
        # Brightness is relative to the genre (lo-fi stays darker than rock at any value)
        # and moves harmonics, every filter, the hats' level and a master shelf.
        bright = float(np.clip(style.brightness * (0.35 + 1.0 * b), 0.08, 1.3))
        ceiling = style.lowpass * (0.55 + 0.9 * b)
        cutoff = float(np.clip(900 + 14000 * bright, 800, min(18000.0, ceiling)))
        bass_cut = min(cutoff, 2500.0 if palette.bass != "reese" else 4000.0)
        self.bass_gain = BASS_GAIN[bass_level]
        self.kick_gain = KICK_GAIN[bass_level]
        patch = _PatchVariation(sound_rng)
        # The genre's signature EQ, on every note and drum hit (see palettes.signature).
        peaks = signature(style.id)
        eq = peak_sos(peaks, sr)
        # The mix differs per track too (another engineer, another day): stem balance,
        # reverb amount and room size, how hard the kick pumps the rest, a tilt of the
        # whole spectrum, drawn from their own stream so they do not shift the patch draws.
        mix_rng = np.random.default_rng([sound_seed, 7])
        mix = {
            stem: float(mix_rng.uniform(lo, hi))
            for stem, lo, hi in (
                ("bass", 0.7, 1.4),
                ("chords", 0.55, 1.7),
                ("pad", 0.45, 1.9),
                ("lead", 0.6, 1.5),
                ("arp", 0.5, 1.7),
                ("drums", 0.65, 1.45),
            )
        }
        reverb_scale = float(mix_rng.uniform(0.3, 2.4))
        room_shift = float(mix_rng.uniform(-0.25, 0.15))
        self.sidechain = style.sidechain * float(mix_rng.uniform(0.4, 1.7))
        tilt_offset = float(mix_rng.uniform(-3.5, 3.5))
        drive = style.drive if fx.drive is None else fx.drive
        # Stem levels and the static EQ (high/low-pass) live in the instruments, applied
        # once per cached note rather than once per sample of the track.
        self.instruments = {
            "bass": Instrument(
                palette.bass,
                sr,
                eq=eq,
                brightness=patch.bright(bright),
                release=0.06 if palette.bass != "808" else 0.08,
                gain=mix["bass"] * 0.5 * self.bass_gain,
                lowpass=bass_cut,
                decay_scale=patch.decay(),
            ),
            "chords": Instrument(
                palette.chords,
                sr,
                eq=eq,
                brightness=patch.bright(bright),
                release=0.35,
                detune_cents=patch.detune(7, 13),
                gain=mix["chords"] * 0.22,
                highpass=160.0,
                lowpass=None if drive else cutoff,
                decay_scale=patch.decay(),
                attack_scale=patch.attack(),
            ),
            "pad": Instrument(
                palette.pad or "pad",
                sr,
                eq=eq,
                brightness=patch.bright(bright * 0.8),
                release=1.2,
                detune_cents=patch.detune(10, 18),
                gain=mix["pad"] * 0.14,
                highpass=200.0,
                lowpass=cutoff * 0.7,
                attack_scale=patch.attack(),
            ),
            "lead": Instrument(
                palette.lead,
                sr,
                eq=eq,
                brightness=patch.bright(bright),
                release=0.18,
                gain=mix["lead"] * 0.3,
                highpass=220.0,
                lowpass=min(18000.0, cutoff * 1.3),
                decay_scale=patch.decay(),
            ),
            "arp": Instrument(
                palette.arp,
                sr,
                eq=eq,
                brightness=patch.bright(bright),
                release=0.2,
                gain=mix["arp"] * 0.16,
                highpass=300.0,
                lowpass=cutoff,
                decay_scale=patch.decay(),
            ),
        }
        kit = render_kit(vary_kit(palette.kit, sound_rng), sr, sound_rng)
        self.hits = {name: apply_sos(eq, x) for name, x in kit.items()}
        # The riser (13-18 ms of noise and convolution) sounds only before a drop, never
        # in the opening a listener waits for: it is made when first placed, from the
        # random stream as it stands here (nothing draws from it after), so the same.
        self._riser_rng: np.random.Generator | None = sound_rng
        self._riser_len = int(plan.bar_samples * 2)
        self.hits["kick"] = self.hits["kick"] * np.float32(0.95 * self.kick_gain)
        hat_level = np.float32(0.55 + 0.9 * b)
        for name in ("hat", "open_hat", "shaker", "ride", "crash"):
            self.hits[name] = self.hits[name] * hat_level
        self.beat = sr * 60.0 / plan.bpm
        # Energy: louder, more drums against the tones, a squeezed drum bus, saturation.
        self.energy_gain = 0.62 + 0.3 * e
        self.drum_gain = np.float32((0.4 + 1.1 * e) * mix["drums"])
        # The kick's body is a low sine (heard as tone as much as hit): it grows less.
        self.kick_energy_gain = np.float32(0.75 + 0.4 * e)
        self.saturation = 0.3 + 1.5 * e * e + 1.0 * fx.tape  # tanh pre-gain
        chord_fx: list[pb.Plugin] = []
        if drive:  # distortion is not linear: it must see the summed chord
            chord_fx = [pb.Distortion(drive_db=drive), pb.LowpassFilter(min(4200.0, cutoff))]
        if fx.chorus:
            chord_fx.append(pb.Chorus(rate_hz=0.6, depth=0.3, mix=fx.chorus))
        if fx.crush:
            chord_fx.append(pb.Bitcrush(bit_depth=8.0 - 3.0 * fx.crush))
        lead_fx: list[pb.Plugin] = []
        if fx.delay:
            lead_fx = [
                pb.Delay(
                    delay_seconds=60.0 / plan.bpm * fx.delay_beats,
                    feedback=0.3 + 0.15 * (fx.name == "dub"),
                    mix=fx.delay,
                )
            ]
        self.buses = {
            "drums": Bus(
                [pb.Compressor(threshold_db=-14.0, ratio=3.0, attack_ms=3, release_ms=80)],
                sr,
            ),
            "chords": Bus(chord_fx, sr),
            "lead": Bus(lead_fx, sr),
        }
        self.reverb_send = fx.reverb * reverb_scale
        self.reverb = DecimatedReverb(float(np.clip(fx.room + room_shift, 0.1, 0.97)), sr)
        self.haas = {
            "chords": Haas(int(0.011 * sr)),
            "pad": Haas(int(0.017 * sr)),
            "reverb": Haas(int(0.013 * sr)),
            "arp": Haas(int(0.007 * sr)),
        }
        # The master tilt: a high shelf that follows brightness (tape dulls it further).
        self.tilt = Tilt(tilt_db(b) - 5.0 * fx.tape + tilt_offset, 2500.0, sr)
        self.limiter = Limiter(samplerate=sr)
        self.master_gain = 0.55 * style.level * self.energy_gain * 10 ** (makeup_db(peaks) / 20)

    # ------------------------------------------------------------------------------------
    def stream(
        self, start: int = 0, block_bars: float = 2, first_bars: float = FIRST_BLOCK_BARS
    ) -> Iterator[np.ndarray]:
        """Yield float32 ``(frames, 2)`` chunks of the track from sample 0 to its end.

        Rendering starts at ``start`` (≤ 0); what comes before 0 only warms up the
        effects and ringing notes and is not yielded.

        A track from its beginning starts with a ``first_bars`` block and doubles the
        block up to ``block_bars``: the first chunk (what a listener waits for before
        the radio sounds) costs a fraction of a two-bar block, and each block renders
        in far less time than the one before it takes to play.
        """
        plan = self.plan
        total = plan.total_samples
        block = round(plan.bar_samples * block_bars)
        size = block if start < 0 else min(block, max(1, round(plan.bar_samples * first_bars)))
        # How far past its block anything in a stem can ring: its longest note or hit.
        tail_cap = {
            stem: max((n.gate for n in plan.notes.get(stem, [])), default=0)
            + self.instruments[stem].tail_samples()
            for stem in TONAL
        }
        hit_len = {name: len(x) for name, x in self.hits.items()}
        hit_len.setdefault("riser", self._riser_len)
        tail_cap["kick"] = hit_len["kick"]
        tail_cap["drums"] = max(hit_len.values())
        stems = ("kick", "drums", *TONAL)
        carry = {s: np.zeros(0, dtype=np.float32) for s in stems}
        notes = {k: sorted(v, key=lambda n: n.start) for k, v in plan.notes.items()}
        note_idx = dict.fromkeys(notes, 0)
        hits = sorted(plan.hits, key=lambda h: h.start)
        hit_idx = 0
        kicks = np.array([h.start for h in hits if h.name == "kick"], dtype=np.int64)
        discard = -start
        emitted = 0
        faded_in = start == 0
        pos = start
        while pos < total:
            end = min(total, pos + size)
            size = min(block, 2 * size)
            n = end - pos
            bufs: dict[str, np.ndarray] = {}
            used: dict[str, int] = {}
            for s in stems:
                buf = np.zeros(n + tail_cap[s], dtype=np.float32)
                buf[: len(carry[s])] = carry[s]
                bufs[s] = buf
                used[s] = len(carry[s])
            for stem, events in notes.items():
                i = note_idx[stem]
                inst = self.instruments[stem]
                buf = bufs[stem]
                while i < len(events) and events[i].start < end:
                    note = events[i]
                    x, gain = inst.note(note.midi, note.gate, note.velocity)
                    end_at = self._place(buf, x, note.start - pos, gain)
                    used[stem] = max(used[stem], end_at)
                    i += 1
                note_idx[stem] = i
            while hit_idx < len(hits) and hits[hit_idx].start < end:
                h = hits[hit_idx]
                stem = "kick" if h.name == "kick" else "drums"
                used[stem] = max(
                    used[stem],
                    self._place(bufs[stem], self._hit(h.name), h.start - pos, h.velocity),
                )
                hit_idx += 1
            for s in stems:
                carry[s] = bufs[s][n : max(n, used[s])].copy()
            out = self._mix({s: bufs[s][:n] for s in stems}, pos, kicks)
            out = self.limiter(out, final=end >= total)
            pos = end
            if discard > 0:
                cut = min(discard, len(out))
                out = out[cut:]
                discard -= cut
            if len(out) == 0:
                continue
            if not faded_in:
                k = min(len(out), int(FADE_IN_S * self.sr))
                out[:k] *= np.linspace(0.0, 1.0, k, dtype=np.float32)[:, None]
                faded_in = True
            if emitted + len(out) > total:
                out = out[: total - emitted]
            fade_from = total - plan.fade_samples
            if plan.fade_samples and emitted + len(out) > fade_from:
                where = np.arange(emitted, emitted + len(out), dtype=np.float32)
                gain = np.clip((total - where) / np.float32(plan.fade_samples), 0.0, 1.0)
                out = out * gain[:, None]
            if emitted + len(out) >= total:
                k = min(len(out), int(FADE_OUT_S * self.sr))
                out[len(out) - k :] *= np.linspace(1.0, 0.0, k, dtype=np.float32)[:, None]
            emitted += len(out)
            yield np.ascontiguousarray(out, dtype=np.float32)

    def _hit(self, name: str) -> np.ndarray:
        if name == "riser" and self._riser_rng is not None:
            self.hits["riser"] = _riser(self._riser_len, self.sr, self._riser_rng)
            self._riser_rng = None
        return self.hits[name]

    # ------------------------------------------------------------------------------------
    @staticmethod
    def _place(buf: np.ndarray, x: np.ndarray, offset: int, gain: float = 1.0) -> int:
        """Add ``x * gain`` at ``offset`` (clipped to the buffer); return the end used."""
        a = max(0, offset)
        b = min(len(buf), offset + len(x))
        if a < b:
            buf[a:b] += x[a - offset : b - offset] * np.float32(gain)
        return b

    def _mix(self, stems: dict[str, np.ndarray], pos: int, kicks: np.ndarray) -> np.ndarray:
        style = self.style
        n = len(stems["kick"])
        drums = self.buses["drums"](stems["drums"] * self.drum_gain)
        chords = self.buses["chords"](stems["chords"])
        pad, arp, bass = stems["pad"], stems["arp"], stems["bass"]
        if self.sidechain > 0:
            near = kicks[(kicks >= pos - int(self.beat)) & (kicks < pos + n)]
            duck = duck_curve(n, pos, near, self.beat, min(0.9, self.sidechain))
            chords, pad, arp, bass = chords * duck, pad * duck, arp * duck, bass * duck
        lead = self.buses["lead"](stems["lead"])
        send = 0.6 * chords + 1.2 * pad + 0.7 * lead + 0.8 * arp + 0.18 * drums
        rev = self.reverb(send * np.float32(self.reverb_send * 2.0))
        # Energy drives the tonal bus into soft saturation (density of sound, not only
        # level); the drums join after it, so their transients stay sharp and on top.
        k = np.float32(self.saturation)
        centre = soft_clip(bass + lead, k)
        beat = stems["kick"] * self.kick_energy_gain + drums
        out = np.empty((n, 2), dtype=np.float32)
        out[:, 0] = soft_clip(chords + pad + 0.6 * arp + rev, k) + centre + beat
        right = (
            0.85 * self.haas["chords"](chords)
            + self.haas["pad"](pad)
            + self.haas["arp"](arp)
            + self.haas["reverb"](rev)
        )
        out[:, 1] = soft_clip(right, k) + centre + beat
        out = self.tilt(out)
        out *= np.float32(self.master_gain)
        if style.crackle:
            # Vinyl: a soft hiss and sparse pops, both dulled like an old record.
            rng = np.random.default_rng([self.noise_seed, pos & 0x7FFFFFFF])
            hiss = rng.standard_normal(n).astype(np.float32) * np.float32(style.crackle * 0.15)
            pops = (rng.random(n) < 6.0 / self.sr) * rng.standard_normal(n).astype(np.float32)
            vinyl = hiss + pops * np.float32(style.crackle * 8)
            # Dulled by a 12-sample moving average (a running sum: a fifth of the cost of
            # ``np.convolve``, which was lo-fi's largest cost after the mix itself).
            total = np.cumsum(vinyl, dtype=np.float64)
            total[12:] -= total[:-12].copy()
            vinyl = (total / 12).astype(np.float32)
            out += vinyl[:, None]
        return out

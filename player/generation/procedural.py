"""The procedural engine: real arrangements synthesised in numpy, on any machine.

It needs no weights and renders far faster than real time on one CPU core, which is
why it is the default. A request is resolved to concrete choices (genre, tempo, key,
seeds) which are returned as ``params``: feeding them back reproduces the track exactly,
and ``similar``/``extend`` start from a source track's params.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from base.errors import UserFacingError
from player.generation.arrangement import Hit, Note, Plan, bars_for, compose
from player.generation.controls import Controls, default_controls
from player.generation.genres import STYLES, GenreStyle, Vibe, known_genres, resolve_vibe
from player.generation.palettes import palette_count, palette_for
from player.generation.protocol import GenerationRequest, GenerationResult, Section
from player.generation.render import Renderer
from player.generation.theory import MODES, Key, parse_key

SAMPLERATE = 44100
ENGINE_VERSION = 2
PREROLL_BARS = 2


@dataclass(frozen=True)
class _Resolved:
    style: GenreStyle
    vibe: Vibe
    key: Key
    bpm: float
    bars: int
    seed: int
    sound_seed: int
    bass_level: str
    mode: str
    controls: Controls
    palette: int

    def params(self) -> dict[str, Any]:
        return {
            "engine": "procedural",
            "version": ENGINE_VERSION,
            "mode": self.mode,
            "genre": self.style.id,
            "vibe": self.vibe.id,
            "bass_level": self.bass_level,
            "bpm": self.bpm,
            "key": self.key.name,
            "bars": self.bars,
            "seed": self.seed,
            "sound_seed": self.sound_seed,
            "scale": self.key.mode,
            "energy": self.controls.energy,
            "density": self.controls.density,
            "brightness": self.controls.brightness,
            "swing": self.controls.swing,
            "palette": self.palette,
        }


def _source_params(request: GenerationRequest) -> dict[str, Any]:
    source = request.source
    params = dict(source.params) if source else {}
    if params.get("engine") != "procedural" or "sound_seed" not in params:
        raise UserFacingError(
            f"The procedural engine can only {request.mode} a track it made itself "
            "(the source track has no procedural parameters)."
        )
    return params


def _resolve_params(params: dict[str, Any]) -> _Resolved:
    """A source's choices. Tracks made before the controls existed (version 1) get the
    values their genre and vibe imply, drawn from their seed as a new track's would be."""
    try:
        style = STYLES[params["genre"]]
        vibe = resolve_vibe(params["vibe"])
        seed = int(params["seed"])
        rngs = _rngs(seed)
        implied = default_controls(style, vibe, rngs["controls"])
        controls = Controls(
            **{
                name: float(params.get(name, getattr(implied, name)))
                for name in ("energy", "density", "brightness", "swing")
            }
        )
        palette = params.get("palette")
        if palette is None:
            palette = int(rngs["palette"].integers(palette_count(style.id)))
        return _Resolved(
            style=style,
            vibe=vibe,
            key=parse_key(params["key"]),
            bpm=float(params["bpm"]),
            bars=int(params["bars"]),
            seed=seed,
            sound_seed=int(params["sound_seed"]),
            bass_level=str(params["bass_level"]),
            mode=str(params.get("mode", "new")),
            controls=controls,
            palette=int(palette) % palette_count(style.id),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise UserFacingError(f"The source track's parameters are incomplete ({exc}).") from None


def _scale(name: str) -> str:
    return str(name).strip().lower()


def _nudged(value: float, rng: np.random.Generator) -> float:
    return round(float(np.clip(value + rng.uniform(-0.08, 0.08), 0.0, 1.0)), 3)


def _rngs(seed: int) -> dict[str, np.random.Generator]:
    """Independent streams per decision, so setting one control never shifts another's
    draw (the same seed with a new tempo keeps its key, palette and tune)."""
    names = ("pick", "tempo", "key", "sound", "controls", "palette", "nudge")
    seqs = np.random.SeedSequence(seed).spawn(len(names))
    return {n: np.random.default_rng(q) for n, q in zip(names, seqs, strict=True)}


def _with_requested(base: Controls, request: GenerationRequest) -> Controls:
    return Controls(
        **{
            name: float(getattr(request, name))
            if getattr(request, name) is not None
            else getattr(base, name)
            for name in ("energy", "density", "brightness", "swing")
        }
    )


class ProceduralGenerator:
    """Default engine. Stateless apart from caches; safe to share between threads only
    if each ``generate`` result is consumed on one thread."""

    name = "procedural"
    samplerate = SAMPLERATE

    def resolve(self, request: GenerationRequest) -> tuple[_Resolved, dict[str, Any] | None]:
        """Turn a request into concrete choices (and the source's params for extend).

        ``extend`` keeps everything of its source (genre, vibe, key, tempo, palette and
        patch variation, every control): only the tune goes on. ``similar`` keeps the
        genre, vibe, bass level, palette and patch variation (``sound_seed``), scale and
        swing; it draws a new tune, groove variation and form from its own seed, stays in
        the key or moves a fifth, moves the tempo by up to ±3 % and nudges energy,
        density and brightness by up to ±0.08. Controls set on the request win in
        ``similar`` (and ``new``); ``extend`` ignores them so the join stays seamless.
        """
        request.validate()
        seed = int(request.seed) if request.seed is not None else secrets.randbits(62)
        rng = _rngs(seed)
        source: dict[str, Any] | None = None
        if request.mode in ("similar", "extend"):
            source = _source_params(request)
            base = _resolve_params(source)
            style, vibe, bass = base.style, base.vibe, base.bass_level
            palette, sound_seed = base.palette, base.sound_seed
            if request.mode == "extend":  # same key, tempo and sound: it must join seamlessly
                key, bpm, controls = base.key, base.bpm, base.controls
            else:  # a sibling: same sound and feel, new tune, nearby key and tempo
                key_rng = rng["key"]
                if key_rng.random() < 0.6:
                    key = base.key
                else:
                    key = Key(
                        (base.key.tonic + (7 if key_rng.random() < 0.5 else 5)) % 12, base.key.mode
                    )
                bpm = round(base.bpm * float(1 + rng["tempo"].uniform(-0.03, 0.03)), 2)
                nudge = rng["nudge"]
                b = base.controls
                controls = Controls(
                    energy=_nudged(b.energy, nudge),
                    density=_nudged(b.density, nudge),
                    brightness=_nudged(b.brightness, nudge),
                    swing=b.swing,
                )
                controls = _with_requested(controls, request)
                if request.palette is not None:
                    palette = int(request.palette) % palette_count(style.id)
                if request.scale is not None:
                    key = Key(key.tonic, _scale(request.scale))
                if request.key:
                    key = parse_key(request.key)
                if request.tempo_bpm is not None:
                    bpm = float(request.tempo_bpm)
        else:
            styles = known_genres(list(request.genres))
            style = styles[int(rng["pick"].integers(len(styles)))]
            vibe = resolve_vibe(request.vibe)
            bass = request.bass_level
            sound_seed = int(rng["sound"].integers(2**62))
            drawn = int(rng["palette"].integers(palette_count(style.id)))
            palette = drawn if request.palette is None else int(request.palette)
            palette %= palette_count(style.id)
            controls = _with_requested(default_controls(style, vibe, rng["controls"]), request)
            if request.tempo_bpm is not None:
                bpm = float(request.tempo_bpm)
            else:
                lo, hi = request.tempo_range or style.tempo
                lean = 0.5 * vibe.energy + 0.5 * float(rng["tempo"].random())
                bpm = float(round(lo + (hi - lo) * lean))
            key_rng = rng["key"]
            tonic = int(key_rng.integers(12))
            modes = [m for m in vibe.modes if m in MODES] or list(style.modes)
            drawn_mode = modes[int(key_rng.integers(len(modes)))]
            if request.key:
                key = parse_key(request.key)
            else:
                scale = _scale(request.scale) if request.scale is not None else drawn_mode
                key = Key(tonic, scale)
        bars = bars_for(float(request.duration_seconds), bpm)
        resolved = _Resolved(
            style, vibe, key, bpm, bars, seed, sound_seed, bass, request.mode, controls, palette
        )
        return resolved, source

    def generate(self, request: GenerationRequest) -> GenerationResult:
        r, source = self.resolve(request)
        plan = self._plan(r, extend=request.mode == "extend")
        params = r.params()
        start = 0
        if request.mode == "extend" and source is not None:
            params["source"] = source
            plan, start = self._with_preroll(plan, _resolve_params(source))
        renderer = Renderer(
            plan,
            r.style,
            palette_for(r.style.id, r.palette),
            r.controls,
            r.bass_level,
            r.sound_seed,
        )
        bar_s = 240.0 / r.bpm
        sections = [Section(s.name, s.start_bar * bar_s, s.bars) for s in plan.sections]

        def chunks() -> Iterator[np.ndarray]:
            return renderer.stream(start=start)

        return GenerationResult(
            engine=self.name,
            samplerate=SAMPLERATE,
            bpm=r.bpm,
            key=r.key.name,
            genre=r.style.id,
            duration_seconds=plan.total_samples / SAMPLERATE,
            sections=sections,
            params=params,
            chunks=chunks,
        )

    @staticmethod
    def _plan(r: _Resolved, extend: bool = False) -> Plan:
        rng = np.random.default_rng(np.random.SeedSequence([r.seed, 1]))
        return compose(
            r.style, r.vibe, r.key, r.bpm, r.bars, SAMPLERATE, rng, r.controls, extend=extend
        )

    def _with_preroll(self, plan: Plan, source: _Resolved) -> tuple[Plan, int]:
        """Prepend the source's last bars (at negative times) so effects and ringing
        notes carry across the join exactly as if the track had never stopped."""
        src_plan = self._plan(source, extend=source.mode == "extend")
        total = src_plan.total_samples
        preroll = round(min(PREROLL_BARS, src_plan.bars) * src_plan.bar_samples)
        cutoff = total - preroll
        notes: dict[str, list[Note]] = {}
        for stem, events in plan.notes.items():
            tail = [
                Note(n.start - total, n.midi, n.gate, n.velocity)
                for n in src_plan.notes.get(stem, [])
                if n.start >= cutoff
            ]
            notes[stem] = tail + list(events)
        hits = [
            Hit(h.start - total, h.name, h.velocity) for h in src_plan.hits if h.start >= cutoff
        ]
        joined = Plan(
            plan.samplerate,
            plan.bpm,
            plan.bars,
            plan.total_samples,
            plan.sections,
            notes,
            hits + list(plan.hits),
            plan.fade_samples,
        )
        return joined, -preroll

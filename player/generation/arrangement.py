"""The composer: sections, progressions, grooves, bass lines, melodies and fills.

``compose`` turns a genre, a vibe, a key and a tempo into a :class:`Plan`: every note
and drum hit of the track with its sample position. Planning is cheap (a few thousand
events) and happens before any audio is rendered, so the metadata (sections, length)
is known at once and rendering can stream block by block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from player.generation.controls import Controls
from player.generation.genres import GenreStyle, Vibe
from player.generation.grooves import groove_family
from player.generation.theory import Key, voice_lead

STEPS = 16  # sixteenth notes per 4/4 bar

# (name, relative length in bars, energy). Each form kind has several song forms; a
# track draws one and stretches its sections by seeded factors, so two tracks of a genre
# neither share a layout nor their section lengths.
_Form = list[tuple[str, int, float]]
_FORM_VARIANTS: dict[str, tuple[_Form, ...]] = {
    "song": (
        [
            ("intro", 4, 0.35),
            ("verse", 8, 0.6),
            ("chorus", 8, 0.9),
            ("verse", 8, 0.65),
            ("chorus", 8, 0.95),
            ("breakdown", 8, 0.4),
            ("chorus", 8, 1.0),
            ("outro", 4, 0.3),
        ],
        [
            ("intro", 4, 0.3),
            ("verse", 8, 0.55),
            ("build", 4, 0.7),
            ("chorus", 8, 0.9),
            ("verse", 8, 0.6),
            ("build", 4, 0.75),
            ("chorus", 8, 0.95),
            ("breakdown", 8, 0.35),
            ("chorus", 8, 1.0),
            ("outro", 4, 0.3),
        ],
        [
            ("intro", 2, 0.4),
            ("chorus", 8, 0.85),
            ("verse", 8, 0.55),
            ("chorus", 8, 0.9),
            ("breakdown", 8, 0.4),
            ("verse", 4, 0.6),
            ("chorus", 12, 1.0),
            ("outro", 4, 0.3),
        ],
        [
            ("intro", 8, 0.3),
            ("verse", 12, 0.55),
            ("chorus", 8, 0.85),
            ("breakdown", 4, 0.35),
            ("verse", 8, 0.65),
            ("chorus", 16, 1.0),
            ("outro", 8, 0.3),
        ],
    ),
    "edm": (
        [
            ("intro", 8, 0.5),
            ("build", 4, 0.7),
            ("drop", 16, 1.0),
            ("breakdown", 8, 0.35),
            ("build", 4, 0.75),
            ("drop", 16, 1.0),
            ("outro", 8, 0.45),
        ],
        [
            ("intro", 16, 0.55),
            ("verse", 8, 0.7),
            ("build", 8, 0.75),
            ("drop", 16, 1.0),
            ("breakdown", 16, 0.3),
            ("drop", 16, 0.95),
            ("outro", 8, 0.4),
        ],
        [
            ("intro", 4, 0.45),
            ("drop", 8, 0.9),
            ("breakdown", 8, 0.3),
            ("build", 4, 0.7),
            ("drop", 16, 1.0),
            ("verse", 8, 0.6),
            ("build", 4, 0.8),
            ("drop", 8, 1.0),
            ("outro", 4, 0.4),
        ],
    ),
    "ambient": (
        [
            ("intro", 4, 0.25),
            ("verse", 8, 0.45),
            ("chorus", 8, 0.6),
            ("breakdown", 8, 0.4),
            ("chorus", 8, 0.55),
            ("outro", 4, 0.25),
        ],
        [
            ("intro", 8, 0.2),
            ("verse", 8, 0.4),
            ("verse", 8, 0.5),
            ("chorus", 12, 0.65),
            ("outro", 8, 0.25),
        ],
        [
            ("intro", 4, 0.3),
            ("chorus", 8, 0.55),
            ("breakdown", 8, 0.3),
            ("verse", 8, 0.45),
            ("chorus", 8, 0.65),
            ("outro", 4, 0.2),
        ],
    ),
}
_FORMS: dict[str, _Form] = {k: v[0] for k, v in _FORM_VARIANTS.items()}
# An extension continues a playing track, so it starts in the thick of it: no intro.
_EXTEND_FORMS: dict[str, list[tuple[str, int, float]]] = {
    "song": [
        ("verse", 8, 0.65),
        ("chorus", 8, 0.95),
        ("breakdown", 8, 0.45),
        ("chorus", 8, 1.0),
        ("outro", 4, 0.3),
    ],
    "edm": [
        ("build", 4, 0.75),
        ("drop", 16, 1.0),
        ("breakdown", 8, 0.4),
        ("build", 4, 0.8),
        ("drop", 16, 1.0),
        ("outro", 8, 0.45),
    ],
    "ambient": [("verse", 8, 0.45), ("chorus", 8, 0.6), ("outro", 4, 0.25)],
}
_MAIN = {"song": "chorus", "edm": "drop", "ambient": "chorus"}

# Which layers play in which section (drums are further thinned by energy).
_LAYERS: dict[str, set[str]] = {
    "intro": {"chords", "pad", "hat", "shaker", "kick_soft"},
    "verse": {
        "kick",
        "snare",
        "clap",
        "hat",
        "rim",
        "ride",
        "shaker",
        "bass",
        "chords",
        "lead_sparse",
    },
    "chorus": {
        "kick",
        "snare",
        "clap",
        "hat",
        "open_hat",
        "rim",
        "ride",
        "shaker",
        "bass",
        "chords",
        "pad",
        "lead",
        "arp",
        "crash",
    },
    "drop": {
        "kick",
        "snare",
        "clap",
        "hat",
        "open_hat",
        "rim",
        "ride",
        "shaker",
        "bass",
        "chords",
        "pad",
        "lead",
        "arp",
        "crash",
    },
    "build": {"kick", "hat", "chords", "roll", "riser", "arp"},
    "breakdown": {"chords", "pad", "lead", "arp", "shaker", "ride"},
    "outro": {"kick", "hat", "ride", "chords", "pad", "bass", "rim"},
}


_HAT_FAMILY = ("hat", "shaker", "ride")
# Progressions any song-form genre may also draw (scale degrees, 0 = tonic).
_EXTRA_MAJOR = ((0, 3, 4, 4), (0, 0, 3, 4), (0, 2, 3, 4), (0, 1, 4, 0), (0, 4, 3, 3))
_EXTRA_MINOR = ((0, 3, 4, 0), (0, 5, 6, 0), (0, 0, 5, 6), (5, 6, 0, 0), (0, 6, 3, 4))
# Keys a section may move to: (semitones up, mode) per home mode family.
_LIFT_GENRES = ("pop", "rock", "r&b", "synthwave", "jazz")
_ACCENT_DRUMS = ("clap", "open_hat", "rim")


def _density_pattern(pattern: str, density: float, rng: np.random.Generator) -> str:
    """Set a timekeeping pattern's subdivision from ``density``: quarters, eighths, the
    groove's own sixteenths kept more and more often, then every sixteenth with ratchets
    (``r``: a hit plus a thirty-second after it).

    This is most of what ``density`` does to the drums: the hats carry the subdivision a
    listener hears as "busy" or "sparse".
    """
    out = list(pattern)
    for s, ch in enumerate(out):
        if s % 4 == 0:
            if ch == "." and density >= 0.2:
                out[s] = "g"
        elif s % 2 == 0:
            if density < 0.2:
                out[s] = "."
            elif ch == "." and density >= 0.45:
                out[s] = "g"
            elif ch == "o":
                out[s] = "g"  # off-beat eighths stay lighter than the beat: the pulse reads
        elif density < 0.45:
            out[s] = "."
        elif density < 0.75:
            if ch != "." and rng.random() > (density - 0.45) / 0.3:
                out[s] = "."
        else:
            out[s] = ch if ch != "." else "g"
            if rng.random() < (density - 0.75) * 2.0:
                out[s] = "r"
    return "".join(out)


@dataclass(frozen=True)
class Note:
    start: int
    midi: int
    gate: int
    velocity: float


@dataclass(frozen=True)
class Hit:
    start: int
    name: str
    velocity: float


@dataclass(frozen=True)
class SectionPlan:
    name: str
    start_bar: int
    bars: int
    energy: float


@dataclass
class Plan:
    """Everything the renderer needs; positions are in samples from the track start."""

    samplerate: int
    bpm: float
    bars: int
    total_samples: int
    sections: list[SectionPlan]
    notes: dict[str, list[Note]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    fade_samples: int = 0  # an ending that fades out over this many final samples

    @property
    def bar_samples(self) -> float:
        return self.samplerate * 240.0 / self.bpm

    def shifted(self, offset: int) -> Plan:
        """A copy with every event moved by ``offset`` samples (extend's pre-roll)."""
        return Plan(
            self.samplerate,
            self.bpm,
            self.bars,
            self.total_samples,
            self.sections,
            {
                k: [Note(n.start + offset, n.midi, n.gate, n.velocity) for n in v]
                for k, v in self.notes.items()
            },
            [Hit(h.start + offset, h.name, h.velocity) for h in self.hits],
            self.fade_samples,
        )


def bars_for(seconds: float, bpm: float) -> int:
    return max(1, round(seconds * bpm / 240.0))


def layout_sections(
    form: str, bars: int, extend: bool = False, rng: np.random.Generator | None = None
) -> list[SectionPlan]:
    """Stretch or shrink a form's template to exactly ``bars`` bars.

    With ``rng`` the template is drawn from the form kind's variants and each section's
    length is scaled by a seeded factor first (so a verse is 4, 8 or 12 bars)."""
    if extend:
        template = list(_EXTEND_FORMS[form])
    elif rng is None:
        template = list(_FORMS[form])
    else:
        variants = _FORM_VARIANTS[form]
        template = list(variants[int(rng.integers(len(variants)))])
    if rng is not None and not extend:
        factors = rng.choice([0.5, 1.0, 1.0, 1.5], len(template))
        template = [
            (name, max(2, round(float(n * f) / 2) * 2) if name not in ("intro", "outro") else n, e)
            for (name, n, e), f in zip(template, factors, strict=True)
        ]
    main = _MAIN[form]
    if bars < 3:
        template = [(main, 1, 0.9)]
    elif bars < 2 * len(template):
        first = template[0] if extend else ("intro", 1, 0.4)
        template = [first, (main, 2, 0.9), ("outro", 1, 0.35)]
    base = sum(t[1] for t in template)
    scale = bars / base
    lengths = []
    for _, n, _ in template:
        v = n * scale
        length = max(1, int(round(v / 2.0) * 2) if v >= 3 else round(v))
        lengths.append(max(1, length))
    # Fix rounding drift on the longest sections, keeping every section at least one bar.
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    # Whole pairs of bars while the gap allows, so phrases stay even.
    i = 0
    while sum(lengths) != bars:
        j = order[i % len(order)]
        gap = bars - sum(lengths)
        step = 2 if abs(gap) >= 2 else 1
        if gap > 0:
            lengths[j] += step
        elif lengths[j] > step:
            lengths[j] -= step
        i += 1
    sections, start = [], 0
    for (name, _, energy), n in zip(template, lengths, strict=True):
        sections.append(SectionPlan(name, start, n, energy))
        start += n
    return sections


class _Composer:
    def __init__(
        self,
        style: GenreStyle,
        vibe: Vibe,
        key: Key,
        bpm: float,
        sr: int,
        rng: np.random.Generator,
        controls: Controls,
    ) -> None:
        self.style, self.vibe, self.key, self.bpm, self.sr, self.rng = (
            style,
            vibe,
            key,
            bpm,
            sr,
            rng,
        )
        self.ctl = controls
        # Players straighten their swing as the tempo rises (a triplet feel at 170 BPM
        # reads as a different metre to the ear and to a beat tracker).
        self.swing = controls.swing_steps * float(np.clip((165.0 - bpm) / 40.0, 0.2, 1.0))
        self.step = sr * 60.0 / bpm / 4.0
        self.notes: dict[str, list[Note]] = {
            k: [] for k in ("bass", "chords", "pad", "lead", "arp")
        }
        self.hits: list[Hit] = []
        minor = key.intervals[2] == 3
        prog_pool = style.progressions_minor if minor else style.progressions_major
        if style.form == "song" and style.id != "jazz":
            prog_pool = prog_pool + (_EXTRA_MINOR if minor else _EXTRA_MAJOR)
        picks = rng.permutation(len(prog_pool))
        self.progs = {
            "verse": prog_pool[picks[0]],
            "chorus": prog_pool[picks[min(1, len(picks) - 1)]],
            "bridge": prog_pool[picks[min(2, len(picks) - 1)]],
        }
        # Harmonic rhythm: a chord per bar, or (slower songs) one per two bars.
        self.chord_bars = 2 if style.form != "edm" and rng.random() < 0.3 else 1
        grooves = groove_family(style.id)
        order = rng.permutation(len(grooves))
        self.main_groove = grooves[order[0]]
        self.alt_groove = grooves[order[1 % len(order)]] if rng.random() < 0.6 else None
        self.groove_variation = int(rng.integers(3))
        self.home_key = key
        self.theme: list[tuple[int, int, int]] | None = None
        self.seen: dict[str, int] = {}
        self.occurrence = 0
        self.layers: set[str] = set()
        self.prev_voicing: list[int] | None = None
        # Register: where this track's chords and tune sit (a few semitones either way).
        self.chord_shift = int(rng.integers(-4, 5))
        self.lead_shift = int(rng.integers(-7, 6))
        self.lead_pitches = key.scale_pitches(62 + self.lead_shift, 86 + self.lead_shift)
        self.final_cut = False

    # -- form -------------------------------------------------------------------------
    def enter(self, sec: SectionPlan, key: Key, first_verse: bool) -> None:
        """Set up a section: its key, the layers that play and which time it occurs."""
        rng = self.rng
        self.key = key
        self.lead_pitches = key.scale_pitches(62 + self.lead_shift, 86 + self.lead_shift)
        self.occurrence = self.seen.get(sec.name, 0)
        self.seen[sec.name] = self.occurrence + 1
        layers = set(_LAYERS[sec.name])
        if sec.name in ("chorus", "drop") and rng.random() < 0.5:
            layers.discard(str(rng.choice(["arp", "pad", "open_hat", "shaker", "rim"])))
        if sec.name == "verse":
            if rng.random() < 0.35:
                layers.add(str(rng.choice(["pad", "arp"])))
            if self.occurrence > 0 and rng.random() < 0.4:
                layers.add("lead")  # the second verse answers with the full tune
        if sec.name == "breakdown" and rng.random() < 0.4:
            layers.add("bass")
        self.layers = layers
        self.hats_late = first_verse and rng.random() < 0.5

    # -- time -------------------------------------------------------------------------
    def at(self, bar: int, step: float, jitter: bool = True) -> int:
        pos = bar * STEPS + step
        if int(step) % 2 == 1 and step == int(step):
            pos += self.swing
        if jitter and self.style.humanize:
            pos += float(self.rng.normal(0.0, self.style.humanize))
        return round(pos * self.step)

    def steps(self, n: float) -> int:
        return max(1, int(n * self.step))

    # -- harmony ------------------------------------------------------------------------
    def chord_degree(self, section: str, bar_in_section: int) -> int:
        name = {"chorus": "chorus", "drop": "chorus", "breakdown": "bridge"}.get(section, "verse")
        prog = self.progs[name]
        return prog[(bar_in_section // self.chord_bars) % len(prog)]

    def groove_for(self, sec: SectionPlan, b: int) -> dict[str, str]:
        """The drum patterns of this bar: the main or the main sections' groove, with a
        variation closing every fourth or eighth bar (a moved kick, an extra backbeat)."""
        main = sec.name in ("chorus", "drop") and self.alt_groove is not None
        groove = dict(self.alt_groove if main and self.alt_groove else self.main_groove)
        if b % 8 == 7 or (self.groove_variation == 2 and b % 4 == 3):
            kick = list(groove.get("kick", "." * STEPS))
            kind = self.groove_variation
            if kind == 0:
                kick[10], kick[11] = ".", "o"
            elif kind == 1:
                kick[6] = "o"
                kick[15] = "g"
            else:
                kick[13] = "o"
            groove["kick"] = "".join(kick)
        if self.hats_late and sec.name == "verse" and self.occurrence == 0 and b < sec.bars // 2:
            for drum in _HAT_FAMILY:
                groove.pop(drum, None)
        return groove

    def bass_root(self, degree: int) -> int:
        pitch = self.key.degree_pitch(degree, 1)
        low = 28 if self.style.bass_kind == "808" else 33
        while pitch < low:
            pitch += 12
        while pitch >= low + 12:
            pitch -= 12
        return pitch

    # -- parts --------------------------------------------------------------------------
    def drums(self, sec: SectionPlan, bar: int, b: int, next_name: str | None) -> None:
        layers = self.layers
        rng = self.rng
        energy = sec.energy * (0.55 + 0.45 * self.ctl.energy)
        e, density = self.ctl.energy, self.ctl.density
        last_bar = b == sec.bars - 1
        fill = last_bar and next_name is not None and sec.bars >= 2 and sec.name not in ("build",)
        if self.final_cut:  # the band stops together on the downbeat
            self.hits.append(Hit(self.at(bar, 0, jitter=False), "kick", 1.0))
            self.hits.append(Hit(self.at(bar, 0, jitter=False), "crash", 0.8))
            return
        for drum, pattern in self.groove_for(sec, b).items():
            name = drum
            if drum == "kick" and "kick" not in layers:
                if "kick_soft" in layers and energy > 0.3:
                    pattern = "x.......x......."
                else:
                    continue
            elif drum != "kick" and drum not in layers:
                continue
            if sec.name == "build" and drum == "kick" and last_bar:
                continue
            if drum in _ACCENT_DRUMS and e < 0.25:
                continue  # a gentle track keeps the backbeat and the hats only
            if drum in _HAT_FAMILY:
                pattern = _density_pattern(pattern, density, rng)
            for s, ch in enumerate(pattern):
                if ch == ".":
                    continue
                if fill and s >= 8 and drum not in ("kick", "hat", "ride"):
                    continue
                vel = {"x": 1.0, "o": 0.75, "g": 0.4, "r": 0.45}[ch]
                if ch == "g" and density < 0.4 and drum not in _HAT_FAMILY:
                    continue  # a sparse track drops its ghost notes
                if drum in ("hat", "shaker") and energy < 0.3 and s % 2 == 1:
                    continue
                vel *= float(np.clip(1.0 + rng.normal(0, 0.07), 0.7, 1.15)) * (0.5 + 0.5 * energy)
                self.hits.append(Hit(self.at(bar, s, jitter=drum != "kick"), name, min(vel, 1.0)))
                if ch == "r":
                    self.hits.append(Hit(self.at(bar, s + 0.5), name, 0.8 * min(vel, 1.0)))
            # Ghost snares between the backbeats: more of them the denser the track.
            if drum == "snare" and not fill and density > 0.5:
                for s in (3, 7, 9, 11, 15):
                    if pattern[s] == "." and rng.random() < (density - 0.5) * 0.9:
                        self.hits.append(Hit(self.at(bar, s), "snare", 0.22 + 0.1 * energy))
            # A driving track adds a backbeat where its groove (or section) has none.
            no_backbeat = "snare" not in self.style.groove and (
                "clap" not in self.style.groove or "clap" not in layers
            )
            if drum == "kick" and e > 0.6 and no_backbeat:
                for s in (4, 12):
                    self.hits.append(Hit(self.at(bar, s), "rim", 0.4 + 1.2 * (e - 0.6)))
            # Variation every fourth bar: a pickup kick.
            if b % 4 == 3 and not fill and drum == "kick" and rng.random() < 0.5 * density + 0.2:
                self.hits.append(Hit(self.at(bar, 14), "kick", 0.6))
        if "crash" in layers and b == 0 and sec.start_bar > 0:
            self.hits.append(Hit(self.at(bar, 0, jitter=False), "crash", 0.8))
        if fill:
            self._fill(bar, energy)
        if "roll" in layers:
            self._roll(sec, bar, b)
        if "riser" in layers and b == max(0, sec.bars - 2):
            self.hits.append(Hit(self.at(bar, 0, jitter=False), "riser", 0.8))
        if sec.name == "outro" and last_bar and next_name is None:
            self.hits.append(Hit(self.at(bar, 0, jitter=False), "crash", 0.6))

    def _fill(self, bar: int, energy: float) -> None:
        names = self.style.fill_drums
        dense = self.rng.random() < 0.5 + 0.4 * self.ctl.density
        steps = range(8, 16) if dense else range(8, 16, 2)
        for i, s in enumerate(steps):
            drum = names[min(len(names) - 1, i * len(names) // len(steps))]
            vel = 0.5 + 0.5 * (i + 1) / len(steps)
            self.hits.append(Hit(self.at(bar, s), drum, vel * (0.7 + 0.3 * energy)))

    def _roll(self, sec: SectionPlan, bar: int, b: int) -> None:
        progress = (b + 1) / sec.bars
        every = 4 if progress <= 0.34 else (2 if progress <= 0.67 else 1)
        for s in range(0, STEPS, every):
            vel = 0.35 + 0.6 * (b * STEPS + s) / (sec.bars * STEPS)
            self.hits.append(Hit(self.at(bar, s, jitter=False), "snare", vel))

    def chords(self, sec: SectionPlan, bar: int, degree: int) -> None:
        layers = self.layers
        style, rng = self.style, self.rng
        chord = self.key.chord(degree, style.chord_size, 3)
        voicing = voice_lead(chord, self.prev_voicing, 52 + self.chord_shift, 76 + self.chord_shift)
        self.prev_voicing = voicing
        if degree % 7 == 0 and style.chord_kind != "power":
            # The tonic chord doubles its root on top, so the key's own note leads the
            # chord's sound (its third and fifth alone also spell the mediant's chord).
            root_pc = self.key.tonic
            top = max(voicing)
            voicing = [*voicing, top + ((root_pc - top) % 12 or 12)]
        # A doubled root adds a voice, not loudness: the chord keeps its power.
        level = float(np.sqrt(len(chord) / len(voicing))) if len(voicing) > len(chord) else 1.0
        if style.chord_kind == "power":
            root = self.key.degree_pitch(degree, 3)
            voicing = [root, root + 7, root + 12]
            if degree % 7 == 0:
                # The home chord is a full barre chord (the third above the octave):
                # power chords alone leave the mode to the tune, and a short rock track
                # then reads major or minor by chance.
                voicing.append(root + 12 + self.key.intervals[2])
        rhythm = [(0.0, 3.0, 0.9)] if self.final_cut else self._chord_rhythm(sec)
        if "chords" in layers:
            for s, gate, vel in rhythm:
                v = (
                    vel
                    * level
                    * (0.75 + 0.25 * sec.energy)
                    * float(np.clip(1 + rng.normal(0, 0.05), 0.8, 1.1))
                )
                spread = 0.0
                for note in voicing:
                    start = self.at(bar, s) + int(spread)
                    self.notes["chords"].append(Note(start, note, self.steps(gate), v))
                    if style.chord_kind in ("epiano", "piano") and style.humanize:
                        spread += 0.004 * self.sr  # a played, slightly rolled chord
        if "pad" in layers and style.pad_kind:
            for note in voicing:
                self.notes["pad"].append(
                    Note(
                        self.at(bar, 0, False),
                        note + 12,
                        self.steps(STEPS),
                        0.5 * (0.6 + 0.4 * sec.energy),
                    )
                )
        if "arp" in layers and style.arp:
            tones = [*sorted(set(voicing)), voicing[0] + 12]
            d = self.ctl.density
            rate = 4 if d < 0.3 else (2 if d < 0.65 or self.bpm > 150 else 1)
            for i, s in enumerate(range(0, STEPS, rate)):
                idx = i % len(tones) if (bar // 2) % 2 == 0 else (len(tones) - 1 - i % len(tones))
                self.notes["arp"].append(
                    Note(self.at(bar, s, False), tones[idx] + 12, self.steps(rate * 0.8), 0.55)
                )

    def _chord_rhythm(self, sec: SectionPlan) -> list[tuple[float, float, float]]:
        style, rng = self.style, self.rng
        kind = style.chord_rhythm
        if sec.name in ("intro", "breakdown", "outro") and kind not in ("sustain", "lofi", "comp"):
            return [(0, STEPS, 0.6)]
        if kind == "pulse":
            return [(0, 3.5, 0.8), (4, 3.5, 0.6), (8, 3.5, 0.7), (12, 3.5, 0.6)]
        if kind == "stab_offbeat":
            out: list[tuple[float, float, float]] = [
                (2, 1.5, 0.8),
                (6, 1.5, 0.7),
                (10, 1.5, 0.8),
                (14, 1.5, 0.7),
            ]
            if rng.random() < 0.3:
                out.append((7, 1.0, 0.5))
            return out
        if kind == "stab_techno":
            choices = [3, 6, 7, 10, 11, 14]
            return [
                (float(s), 1.0, 0.6)
                for s in sorted(rng.choice(choices, 1 + round(3 * self.ctl.density), replace=False))
            ]
        if kind == "comp":
            # On-beat stabs first, then the anticipations: comping that keeps the pulse.
            choices = [0, 4, 8, 12, 6, 14, 10, 3]
            weights = np.array([4, 3, 3, 3, 2, 2, 1, 1], dtype=float)
            picks = sorted(
                rng.choice(
                    choices,
                    1 + round(4 * self.ctl.density),
                    replace=False,
                    p=weights / weights.sum(),
                )
            )
            return [(float(s), float(rng.choice([2, 3, 4])), 0.65) for s in picks]
        if kind == "strum8":
            return [(float(s), 1.8, 0.9 if s % 4 == 0 else 0.65) for s in range(0, STEPS, 2)]
        if kind == "lofi":
            if self.bpm > 130:  # a lazy push at 80 BPM is a limp at 150: play the halves
                return [(0, 7.5, 0.75), (8, 7.5, 0.6)]
            return [(0, 9.5, 0.75), (10, 5.5, 0.6)]
        if kind == "rnb":
            return [(0, 5.5, 0.75), (6, 2.0, 0.55), (10, 5.5, 0.65)]
        return [(0, STEPS, 0.7)]

    def bass(self, sec: SectionPlan, bar: int, degree: int, next_degree: int) -> None:
        if "bass" not in self.layers and not (
            sec.name == "intro" and self.style.form == "edm" and sec.energy >= 0.5
        ):
            return
        root = self.bass_root(degree)
        nxt = self.bass_root(next_degree)
        fifth = root + 7
        pattern = self.style.bass_pattern
        rng = self.rng
        ev: list[tuple[float, float, int, float]]
        if pattern == "pop":
            ev = [
                (0, 3, root, 0.9),
                (4, 1.5, root, 0.6),
                (6, 1.5, root, 0.7),
                (8, 3, root, 0.85),
                (12, 1.5, fifth, 0.6),
                (14, 1.5, nxt, 0.7),
            ]
        elif pattern == "root8":
            ev = [(float(s), 1.8, root, 0.9 if s % 4 == 0 else 0.7) for s in range(0, 14, 2)] + [
                (14, 1.8, nxt if rng.random() < 0.5 else fifth, 0.75)
            ]
        elif pattern == "offbeat":
            ev = [
                (2, 1.6, root, 0.9),
                (6, 1.6, root, 0.8),
                (10, 1.6, root + (12 if rng.random() < 0.3 else 0), 0.9),
                (14, 1.6, root, 0.8),
            ]
        elif pattern == "rolling":
            ev = [
                (float(s), 0.8, root + (12 if s % 4 == 3 and rng.random() < 0.4 else 0), 0.8)
                for s in range(STEPS)
                if s % 4
            ]
        elif pattern == "808":
            kicks = [i for i, c in enumerate(self.style.groove.get("kick", "x")) if c != "."] or [0]
            ev = []
            for i, s in enumerate(kicks):
                end = kicks[i + 1] if i + 1 < len(kicks) else STEPS
                pitch = (
                    root
                    if i == 0 or rng.random() < 0.7
                    else (root + 12 if rng.random() < 0.5 else fifth)
                )
                ev.append((float(s), float(end - s) * 0.95, pitch, 0.95))
        elif pattern == "walking":
            scale = self.key.scale_pitches(root - 5, root + 14)
            third = min(scale, key=lambda p: abs(p - (root + 4)))
            approach = nxt + (1 if rng.random() < 0.5 else -1)
            ev = [
                (0, 3.6, root, 0.9),
                (4, 3.6, third, 0.75),
                (8, 3.6, fifth, 0.8),
                (12, 3.6, approach, 0.75),
            ]
        elif pattern == "half" and self.bpm > 130:
            ev = [(0, 7, root, 0.9), (8, 7, fifth if rng.random() < 0.6 else root, 0.75)]
        elif pattern == "half":
            ev = [
                (0, 6, root, 0.9),
                (6, 3.5, root, 0.6),
                (10, 5.5, fifth if rng.random() < 0.6 else root + 12, 0.75),
            ]
        elif pattern == "syncop":
            ev = [
                (0, 5.5, root, 0.95),
                (7, 2.5, root, 0.75),
                (9, 3, root + 12, 0.7),
                (12, 3.8, fifth if rng.random() < 0.5 else root, 0.8),
            ]
        elif pattern == "reese":
            ev = [(0, 7.8, root, 0.9), (8, 7.8, root if rng.random() < 0.6 else fifth, 0.85)]
        elif pattern == "arp8":
            ev = [
                (float(s), 1.8, root + (12 if (s // 2) % 2 else 0), 0.85)
                for s in range(0, STEPS, 2)
            ]
        else:  # "drone"
            ev = [(0.0, float(STEPS), root, 0.7)]
        for at_step, gate, pitch, vel in ev:
            self.notes["bass"].append(
                Note(self.at(bar, at_step), pitch, self.steps(gate), vel * (0.8 + 0.2 * sec.energy))
            )

    def lead(self, sec: SectionPlan, bar: int, b: int, degree: int) -> None:
        layers = self.layers
        if "lead" not in layers and "lead_sparse" not in layers:
            return
        sparse = "lead" not in layers
        if sparse and self.style.lead_density < 0.5:
            return
        if self.theme is None:
            self.theme = self._motif(False)
        motif = self._developed(sec.name, sparse, (b // 2) % 2 == 1)
        chord_pcs = {p % 12 for p in self.key.chord(degree, 3, 4)}
        half = b % 2
        last_phrase = b >= sec.bars - 2
        for step, gate, idx in motif:
            if step // STEPS != half:
                continue
            if last_phrase and half == 1 and step % STEPS >= 8:
                continue  # leave air at the end of a section
            pitches = self.lead_pitches
            i = int(np.clip(idx, 0, len(pitches) - 1))
            pitch = pitches[i]
            if step % 8 == 0:  # strong beats land on chord tones
                # ... and a bar of the tonic chord opens on the tonic itself: the melody
                # names the key it rests on, or a major tune can read as its relative minor.
                pcs = {self.key.tonic} if degree == 0 and step % STEPS == 0 else chord_pcs
                candidates = [p for p in pitches if p % 12 in pcs] or pitches
                pitch = min(candidates, key=lambda p: abs(p - pitch))
            vel = (0.85 if step % 4 == 0 else 0.7) * (0.75 + 0.25 * sec.energy)
            self.notes["lead"].append(
                Note(self.at(bar, step % STEPS), pitch, self.steps(gate), vel)
            )

    def _developed(self, section: str, sparse: bool, answer: bool) -> list[tuple[int, int, int]]:
        """The track's one theme as this section states it.

        Choruses state it, later choruses sequence it a step higher per repeat; verses
        take its rhythm a third lower and thinned to eighths; breakdowns invert it on
        quarters; a sparse verse keeps every other note; the second phrase of each pair
        answers by mirroring its last notes, so a section is never one loop unchanged.
        """
        assert self.theme is not None
        theme = list(self.theme)
        top = len(self.lead_pitches) - 3
        centre = theme[0][2]
        if section in ("chorus", "drop"):
            shift = min(self.occurrence, 2)
            motif = [(s, g, i + shift) for s, g, i in theme]
        elif section == "breakdown":
            motif = [(s, max(g, 3), 2 * centre - i) for s, g, i in theme if s % 4 == 0]
        else:
            motif = [(s, g, i - 2) for s, g, i in theme if s % 2 == 0]
        if sparse:
            motif = motif[::2]
        if answer and len(motif) > 2:
            cut = len(motif) // 2
            pivot = motif[cut][2]
            motif = motif[:cut] + [(s, g, 2 * pivot - i) for s, g, i in motif[cut:]]
        return [(s, g, int(np.clip(i, 2, top))) for s, g, i in motif] or [(0, 4, centre)]

    def _motif(self, sparse: bool) -> list[tuple[int, int, int]]:
        rng = self.rng
        density = (
            self.style.lead_density * (0.3 + 1.4 * self.ctl.density) * (0.5 if sparse else 1.0)
        )
        onsets = []
        for s in range(2 * STEPS):
            weight = 0.9 if s % 4 == 0 else (0.5 if s % 2 == 0 else 0.18)
            if rng.random() < weight * density:
                onsets.append(s)
        if len(onsets) < 2:
            onsets = [0, 8, 16]
        idx = len(self.lead_pitches) // 2 + int(rng.integers(-2, 3))
        motif = []
        for i, s in enumerate(onsets):
            nxt = onsets[i + 1] if i + 1 < len(onsets) else 2 * STEPS
            gate = max(1, min(8, nxt - s))
            motif.append((s, int(gate * 0.9) or 1, idx))
            idx += int(rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]))
            idx = int(np.clip(idx, 2, len(self.lead_pitches) - 3))
        return motif


def compose(
    style: GenreStyle,
    vibe: Vibe,
    key: Key,
    bpm: float,
    bars: int,
    samplerate: int,
    rng: np.random.Generator,
    controls: Controls,
    extend: bool = False,
) -> Plan:
    """Write the whole track as events. ``extend`` uses the intro-less continuation form.

    The form, section lengths, grooves, progressions, which layers play where, a key
    lift or modal shift and the ending are all drawn from ``rng`` (the track's seed).
    """
    sections = layout_sections(style.form, bars, extend=extend, rng=rng)
    c = _Composer(style, vibe, key, bpm, samplerate, rng, controls)
    keys = _key_plan(style, key, sections, rng)
    ending = "ring" if extend else str(rng.choice(["ring", "ring", "fade", "cut"]))
    first_verse = next((i for i, s in enumerate(sections) if s.name == "verse"), -1)
    for si, sec in enumerate(sections):
        next_name = sections[si + 1].name if si + 1 < len(sections) else None
        c.enter(sec, keys[si], si == first_verse)
        for b in range(sec.bars):
            bar = sec.start_bar + b
            degree = c.chord_degree(sec.name, b)
            final = next_name is None and b == sec.bars - 1
            next_degree = c.chord_degree(sec.name, b + 1) if not final else 0
            if final:  # the last bar resolves on the tonic and lets it ring
                degree = 0
                c.final_cut = ending == "cut" and bars > 4
            c.drums(sec, bar, b, next_name)
            c.chords(sec, bar, degree)
            c.bass(sec, bar, degree, next_degree)
            if not final:
                c.lead(sec, bar, b, degree)
    bar_samples = samplerate * 240.0 / bpm
    fade = round(min(4, sections[-1].bars) * bar_samples) if ending == "fade" and bars > 8 else 0
    total = round(bars * bar_samples)
    return Plan(samplerate, bpm, bars, total, sections, c.notes, c.hits, fade)


def _key_plan(
    style: GenreStyle, key: Key, sections: list[SectionPlan], rng: np.random.Generator
) -> list[Key]:
    """The key of each section: home, a lift for the last choruses (a song genre's
    truck-driver modulation), or a modal shift for the breakdown (same tonic, a
    neighbouring mode), each only some of the time."""
    keys = [key] * len(sections)
    names = [s.name for s in sections]
    roll = rng.random()
    if style.id in _LIFT_GENRES and "breakdown" in names and roll < 0.35:
        lift = int(rng.choice([1, 2]))
        after = names.index("breakdown")
        for i in range(after + 1, len(sections)):
            keys[i] = Key((key.tonic + lift) % 12, key.mode)
    elif "breakdown" in names and roll < 0.7:
        shifts = {
            "major": "mixolydian",
            "lydian": "major",
            "mixolydian": "major",
            "minor": "dorian",
            "dorian": "minor",
            "phrygian": "minor",
            "harmonic minor": "minor",
        }
        for i, name in enumerate(names):
            if name == "breakdown":
                keys[i] = Key(key.tonic, shifts.get(key.mode, key.mode))
    return keys

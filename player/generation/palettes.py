"""Sound palettes: the kits, patches and effect chains a genre can sound like.

A genre with one sound is heard as one track played again and again. Each genre
therefore has several palettes — a drum kit family, the bass, chord, lead, pad and arp
patches, and an effect chain — and a track draws one (or is asked for one by the
listener model through ``GenerationRequest.palette``). Palette 0 is the genre's own
classic sound from :mod:`player.generation.genres`; the others are alternatives that a
listener still hears as that genre. Within a palette the renderer varies each patch a
little per track (envelope, filter, detune, drive), so two tracks sharing a palette are
still not clones. Data only: no DSP is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

from base.errors import UserFacingError
from player.generation.genres import STYLES, GenreStyle
from player.generation.kits import KITS, Kit


@dataclass(frozen=True)
class FxChain:
    """Send levels and bus effects. ``drive`` ``None`` keeps the genre's chord drive."""

    name: str
    reverb: float
    room: float
    delay: float = 0.0  # lead delay mix
    delay_beats: float = 0.75
    chorus: float = 0.0  # chord-bus chorus mix
    crush: float = 0.0  # chord-bus bit reduction (0 off, 1 strongest)
    tape: float = 0.0  # master tape saturation and dulling
    drive: float | None = None


FX: dict[str, FxChain] = {
    f.name: f
    for f in (
        FxChain("room", reverb=0.14, room=0.35),
        FxChain("plate", reverb=0.26, room=0.55, delay=0.2),
        FxChain("hall", reverb=0.45, room=0.92, delay=0.3),
        FxChain("dub", reverb=0.3, room=0.7, delay=0.45, delay_beats=0.75),
        FxChain("tape", reverb=0.2, room=0.5, delay=0.15, delay_beats=0.5, tape=1.0),
        FxChain("chorus", reverb=0.25, room=0.6, delay=0.2, chorus=0.5),
        FxChain("crush", reverb=0.2, room=0.5, delay=0.25, delay_beats=0.5, crush=1.0),
        # Guitar amps: a clean chorused amp, a crunchy one, and a fuzz box.
        FxChain("clean", reverb=0.24, room=0.55, delay=0.2, chorus=0.4, drive=0.0),
        FxChain("crunch", reverb=0.18, room=0.45, delay=0.1, drive=9.0),
        FxChain("fuzz", reverb=0.14, room=0.4, drive=26.0),
    )
}


@dataclass(frozen=True)
class Palette:
    """One way a genre can sound. Instrument names are ``synths.Instrument`` kinds."""

    name: str
    kit: Kit
    bass: str
    chords: str
    lead: str
    pad: str | None
    arp: str
    fx: FxChain


def _classic(style: GenreStyle) -> Palette:
    return Palette(
        "classic",
        style.kit,
        style.bass_kind,
        style.chord_kind,
        style.lead_kind,
        style.pad_kind,
        "pluck",
        FxChain("genre", style.reverb, style.room, delay=style.lead_delay),
    )


# name, kit family, bass, chords, lead, pad, arp, effect chain (drive for rock)
_Alt = tuple[str, str, str, str, str, str | None, str, str]
_ALTERNATES: dict[str, tuple[_Alt, ...]] = {
    "pop": (
        ("glass", "punchy", "fm_bass", "epiano", "sine_lead", "glass", "marimba", "chorus"),
        ("band", "acoustic", "square_bass", "organ", "lead_square", "strings", "pluck", "room"),
        ("synth", "electro", "saw_bass", "stab", "brass", "pad", "pluck", "plate"),
        ("mallet", "punchy", "sub", "vibes", "flute", "choir", "marimba", "hall"),
    ),
    "hip-hop": (
        ("jazzy", "dusty", "upright", "piano", "vibes", None, "pluck", "tape"),
        ("dark", "boom", "808", "strings", "bell", "choir", "pluck", "hall"),
        ("g-funk", "dusty", "fm_bass", "clav", "sine_lead", "pad", "pluck", "chorus"),
        ("soul", "acoustic", "sub", "organ", "brass", None, "marimba", "room"),
    ),
    "house": (
        ("deep", "punchy", "fm_bass", "epiano", "pluck", "pad", "pluck", "hall"),
        ("organ", "punchy", "square_bass", "organ", "sine_lead", "glass", "pluck", "room"),
        ("acid", "punchy", "acid", "piano", "lead_square", "strings", "pluck", "plate"),
        ("piano", "electro", "saw_bass", "piano", "vibes", "strings", "marimba", "plate"),
    ),
    "techno": (
        ("acid", "hard", "acid", "stab", "pluck", "pad", "pluck", "dub"),
        ("dub", "boom", "sub", "pad", "bell", "glass", "pluck", "dub"),
        ("industrial", "hard", "reese", "power", "lead_square", "pad", "pluck", "crush"),
        ("minimal", "electro", "fm_bass", "marimba", "bell", None, "marimba", "room"),
    ),
    "lo-fi": (
        ("piano", "dusty", "upright", "piano", "vibes", None, "pluck", "tape"),
        ("keys", "brush", "sub", "clav", "flute", "glass", "marimba", "tape"),
        ("synth", "dusty", "fm_bass", "epiano", "sine_lead", "pad", "pluck", "chorus"),
        ("organ", "dusty", "upright", "organ", "bell", None, "marimba", "tape"),
    ),
    "ambient": (
        ("glass", "soft", "sub", "glass", "bell", "choir", "marimba", "hall"),
        ("strings", "soft", "sub", "strings", "flute", "pad", "pluck", "hall"),
        ("choir", "brush", "fm_bass", "choir", "vibes", "glass", "marimba", "dub"),
        ("piano", "soft", "sub", "piano", "sine_lead", "strings", "marimba", "plate"),
    ),
    "rock": (
        ("organ", "acoustic", "square_bass", "organ", "lead_square", None, "pluck", "crunch"),
        ("heavy", "hard", "reese", "power", "lead_saw", None, "pluck", "fuzz"),
        ("indie", "gated", "fm_bass", "power", "sine_lead", "strings", "pluck", "clean"),
        ("garage", "acoustic", "square_bass", "power", "lead_square", None, "pluck", "tape"),
    ),
    "jazz": (
        ("piano trio", "brush", "upright", "piano", "vibes", None, "pluck", "room"),
        ("organ trio", "acoustic", "upright", "organ", "lead_square", None, "pluck", "plate"),
        ("big band", "acoustic", "upright", "brass", "brass", "strings", "pluck", "hall"),
        ("fusion", "electro", "fm_bass", "epiano", "lead_saw", "pad", "marimba", "chorus"),
    ),
    "r&b": (
        ("neo-soul", "dusty", "upright", "piano", "vibes", None, "pluck", "tape"),
        ("slow jam", "boom", "808", "strings", "sine_lead", "choir", "pluck", "hall"),
        ("funk", "punchy", "fm_bass", "clav", "brass", None, "pluck", "room"),
        ("glass", "electro", "sub", "glass", "bell", "pad", "marimba", "chorus"),
    ),
    "drum-and-bass": (
        ("liquid", "punchy", "sub", "epiano", "flute", "strings", "pluck", "hall"),
        ("neuro", "hard", "reese", "stab", "lead_square", "pad", "pluck", "crush"),
        ("jungle", "acoustic", "sub", "pad", "bell", "choir", "pluck", "dub"),
        ("roller", "electro", "fm_bass", "glass", "sine_lead", "pad", "pluck", "plate"),
    ),
    "trap": (
        ("dark", "boom", "808", "choir", "bell", "pad", "pluck", "hall"),
        ("melodic", "boom", "808", "piano", "flute", "strings", "pluck", "plate"),
        ("hard", "hard", "808", "brass", "lead_square", None, "pluck", "room"),
        ("cloud", "soft", "808", "glass", "sine_lead", "choir", "marimba", "dub"),
    ),
    "synthwave": (
        ("outrun", "gated", "saw_bass", "strings", "lead_square", "pad", "pluck", "chorus"),
        ("dark", "electro", "reese", "pad", "lead_saw", "choir", "pluck", "hall"),
        ("dream", "gated", "fm_bass", "glass", "sine_lead", "strings", "marimba", "plate"),
        ("brass", "punchy", "square_bass", "brass", "lead_saw", "pad", "pluck", "dub"),
    ),
}


#: A genre's master EQ, applied to every track of it whatever its palette: (centre Hz,
#: gain dB, Q) peaks and dips. Palettes and per-track variation move a track around its
#: genre; this keeps the genre's own spectral shape underneath (trap's sub and air,
#: house's kick and hats with a scooped upper mid, jazz's warm wood and no sizzle, a
#: rock guitar's mid push), so drawn palettes do not blur one genre into another.
Peak = tuple[float, float, float]
SIGNATURES: dict[str, tuple[Peak, ...]] = {
    "pop": ((3200, 9.0, 1.4), (420, -13.0, 1.4), (11000, 8.0, 1.0), (1200, -8.0, 2.0)),
    "hip-hop": ((110, 10.0, 1.2), (5500, -15.0, 1.0), (900, 6.5, 1.5)),
    "house": ((62, 10.0, 1.5), (8500, 9.0, 1.5), (2200, -13.0, 1.4), (450, -8.0, 2.0)),
    "techno": ((40, 6.0, 2.0), (1100, -15.0, 1.0), (6000, 9.0, 2.0)),
    "lo-fi": ((280, 9.0, 1.0), (1600, 6.5, 2.0), (120, -13.0, 1.4), (4000, -10.0, 1.0)),
    "ambient": ((90, -15.0, 1.0), (1400, 8.0, 1.0), (7000, 6.5, 1.0), (350, -8.0, 2.0)),
    "rock": ((1400, 7.0, 1.0), (4500, 6.5, 2.0), (550, -10.0, 1.4), (65, 6.0, 1.5)),
    "jazz": ((350, 9.0, 1.2), (2500, -13.0, 1.4), (7500, -13.0, 1.0)),
    "r&b": ((85, 9.0, 1.5), (4800, 9.0, 1.5), (700, -13.0, 1.4), (2000, -8.0, 2.0)),
    "drum-and-bass": ((42, 10.0, 1.5), (320, -13.0, 1.2), (10000, 9.0, 1.2), (1800, -6.5, 2.0)),
    "trap": ((48, 11.0, 1.5), (3000, -13.0, 1.2), (12000, 9.0, 1.5), (600, -8.0, 2.0)),
    "synthwave": ((2400, 9.0, 1.2), (160, -13.0, 1.4), (600, 6.5, 2.0), (8000, -8.0, 1.5)),
}


def _palettes(style: GenreStyle) -> tuple[Palette, ...]:
    out = [_classic(style)]
    for name, kit, bass, chords, lead, pad, arp, fx in _ALTERNATES.get(style.id, ()):
        out.append(Palette(name, KITS[kit], bass, chords, lead, pad, arp, FX[fx]))
    return tuple(out)


PALETTES: dict[str, tuple[Palette, ...]] = {gid: _palettes(s) for gid, s in STYLES.items()}

#: How much deeper than listed the signature is cut and boosted outside ``CHROMA_BAND``
#: (each gain capped at ``SIGNATURE_CAP_DB``). Between 200 Hz and 3.5 kHz a deeper EQ
#: moved the key a chroma finder hears (a requested minor read major more often), so the
#: listed depth stays there; below and above it the signature is what tells genres apart
#: (issue 18: 12-seed identity 0.854 -> 0.903). Cuts above the band keep their listed
#: depth too, so brightness 1 still reaches as bright as before in a dark genre.
SIGNATURE_DEPTH = 2.0
CHROMA_BAND = (200.0, 3500.0)
SIGNATURE_CAP_DB = 16.0
#: Boosts below the band stop at 12 dB: at 16 dB hip-hop's kick filled its lows at any
#: ``bass_level``, so the bass control hardly moved the low end.
LOW_BOOST_CAP_DB = 12.0


def signature(genre_id: str) -> tuple[Peak, ...]:
    """The peaks of ``genre_id``'s signature EQ as the renderer applies them."""
    lo, hi = CHROMA_BAND
    out = []
    for freq, gain, q in SIGNATURES.get(genre_id, ()):
        deeper = freq < lo or (freq > hi and gain > 0)
        depth = SIGNATURE_DEPTH if deeper else 1.0
        cap = LOW_BOOST_CAP_DB if freq < lo else SIGNATURE_CAP_DB
        out.append((freq, max(-SIGNATURE_CAP_DB, min(cap, gain * depth)), q))
    return tuple(out)


def palette_count(genre_id: str) -> int:
    """How many palettes ``genre_id`` has: a request's ``palette`` is taken modulo this."""
    try:
        return len(PALETTES[genre_id])
    except KeyError:
        raise UserFacingError(f"Unknown genre {genre_id!r}.") from None


def palette_for(genre_id: str, index: int) -> Palette:
    """Palette ``index`` (modulo the count) of ``genre_id``."""
    palettes = PALETTES[genre_id]
    return palettes[index % len(palettes)]

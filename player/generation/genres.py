"""The genres and vibes the procedural engine knows, as data.

A genre is a tempo range, a drum kit and grooves, a bass and chord rhythm, instrument
choices, progressions and mix settings. Keeping them as plain data (not code paths)
makes the differences between genres reviewable side by side and lets a new genre be
one entry. Grooves are 16-step strings: ``x`` accent, ``o`` normal, ``g`` ghost, ``.`` rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from base.errors import UserFacingError
from player.generation.kits import Kit


@dataclass(frozen=True)
class GenreStyle:
    id: str
    name: str
    tempo: tuple[float, float]
    form: str  # "song" | "edm" | "ambient"
    kit: Kit
    groove: dict[str, str]
    bass_kind: str
    bass_pattern: str
    chord_kind: str
    chord_rhythm: str
    lead_kind: str
    lead_density: float
    pad_kind: str | None
    arp: bool
    chord_size: int
    progressions_major: tuple[tuple[int, ...], ...]
    progressions_minor: tuple[tuple[int, ...], ...]
    modes: tuple[str, ...]  # the genre's own leaning when the vibe does not decide
    swing: float = 0.0  # 0 straight, ~0.33 triplet swing of off-16ths
    humanize: float = 0.0  # timing jitter in steps
    sidechain: float = 0.0  # depth of the kick ducking the tonal stems
    reverb: float = 0.25  # send level
    room: float = 0.5
    brightness: float = 0.8
    lowpass: float = 18000.0  # master tone (lo-fi is dark)
    drive: float = 0.0  # chord-bus distortion dB (rock guitars)
    crackle: float = 0.0  # vinyl noise level
    lead_delay: float = 0.0
    level: float = 1.0
    fill_drums: tuple[str, ...] = ("snare", "tom_hi", "tom_mid", "tom_low")
    description: str = ""
    extra: dict[str, float] = field(default_factory=dict)


# Progressions (scale degrees, 0 = tonic) are tonic-led: each starts on the tonic chord
# and returns to it or to the dominant, so the key and its mode are what a listener (and a
# key-profile analyser) hears. Progressions that dwell on the relative key (vi in major,
# III in minor) read as that key in a short track: a "major" request then sounded minor.
_POP_MAJ = ((0, 3, 4, 0), (0, 4, 3, 0), (0, 5, 3, 4), (0, 3, 0, 4))
_POP_MIN = ((0, 3, 4, 0), (0, 5, 6, 0), (0, 3, 0, 4), (0, 5, 3, 4))
_JAZZ_MAJ = ((1, 4, 0, 0), (0, 5, 1, 4), (0, 0, 1, 4), (0, 3, 1, 4))
_JAZZ_MIN = ((1, 4, 0, 0), (0, 3, 1, 4), (0, 0, 3, 4))
_VAMP_MAJ = ((0, 0, 3, 3), (0, 3, 0, 4), (0, 0, 0, 0), (0, 0, 4, 4))
_VAMP_MIN = ((0, 0, 6, 6), (0, 5, 0, 6), (0, 0, 0, 0), (0, 3, 0, 3))

_STYLES: tuple[GenreStyle, ...] = (
    GenreStyle(
        "pop",
        "Pop",
        (96, 124),
        "song",
        Kit(kick_decay=0.3, snare_decay=0.18),
        {
            "kick": "x.....o.x.......",
            "snare": "....x.......x...",
            "hat": "o.o.o.o.o.o.o.o.",
            "clap": "....o.......o...",
        },
        "saw_bass",
        "pop",
        "piano",
        "pulse",
        "lead_saw",
        0.55,
        "pad",
        False,
        3,
        _POP_MAJ,
        _POP_MIN,
        ("major",),
        reverb=0.22,
        brightness=0.85,
        lead_delay=0.2,
        description="bright piano, steady backbeat, hooky lead",
    ),
    GenreStyle(
        "hip-hop",
        "Hip-Hop",
        (84, 98),
        "song",
        Kit(kick_decay=0.45, kick_start=120, snare_decay=0.2, snare_noise=0.8),
        {
            "kick": "x......x..x.....",
            "snare": "....x.......x...",
            "hat": "o.o.o.o.o.o.o.oo",
            "rim": "..........g.....",
        },
        "808",
        "808",
        "epiano",
        "lofi",
        "bell",
        0.35,
        None,
        False,
        4,
        _POP_MAJ,
        _POP_MIN,
        ("minor", "dorian"),
        swing=0.18,
        humanize=0.03,
        reverb=0.15,
        brightness=0.6,
        description="boom-bap drums, 808 bass, dusty keys",
    ),
    GenreStyle(
        "house",
        "House",
        (120, 126),
        "edm",
        Kit(kick_decay=0.28, kick_start=130, kick_click=0.35),
        {
            "kick": "x...x...x...x...",
            "clap": "....x.......x...",
            "hat": "o.g.o.g.o.g.o.g.",
            "open_hat": "..o...o...o...o.",
            "shaker": "g.g.g.g.g.g.g.g.",
        },
        "saw_bass",
        "offbeat",
        "stab",
        "stab_offbeat",
        "pluck",
        0.5,
        "pad",
        False,
        4,
        _VAMP_MAJ,
        _VAMP_MIN,
        ("minor", "dorian"),
        sidechain=0.55,
        reverb=0.25,
        brightness=0.8,
        lead_delay=0.3,
        description="four-on-the-floor, offbeat bass, chord stabs, pumping",
    ),
    GenreStyle(
        "techno",
        "Techno",
        (126, 134),
        "edm",
        Kit(kick_decay=0.32, kick_start=170, kick_drive=3.0, kick_click=0.45, hat_decay=0.03),
        {
            "kick": "x...x...x...x...",
            "hat": "gogxgogxgogxgogx",
            "clap": "....o.......o...",
            "rim": "...g..g....g.g..",
        },
        "saw_bass",
        "rolling",
        "stab",
        "stab_techno",
        "pluck",
        0.3,
        "pad",
        True,
        3,
        ((0, 0, 0, 0), (0, 0, 3, 3)),
        ((0, 0, 0, 0), (0, 0, 1, 0)),
        ("minor", "phrygian"),
        sidechain=0.45,
        reverb=0.3,
        room=0.8,
        brightness=0.6,
        lead_delay=0.35,
        description="driving kick, rolling bass, hypnotic minimal stabs",
    ),
    GenreStyle(
        "lo-fi",
        "Lo-Fi",
        (70, 88),
        "song",
        Kit(kick_decay=0.3, kick_start=110, snare_decay=0.14, hat_decay=0.035, tone_lowpass=7000),
        {
            "kick": "x.......o.x.....",
            "snare": "....x.......x...",
            "hat": "o.go.go.o.go.go.",
            "rim": "......g.........",
        },
        "upright",
        "half",
        "epiano",
        "lofi",
        "flute",
        0.3,
        None,
        False,
        4,
        _JAZZ_MAJ,
        _JAZZ_MIN,
        ("major", "dorian"),
        swing=0.3,
        humanize=0.06,
        reverb=0.2,
        brightness=0.45,
        lowpass=6500.0,
        crackle=0.015,
        level=0.9,
        description="swung dusty beat, mellow Rhodes sevenths, vinyl crackle",
    ),
    GenreStyle(
        "ambient",
        "Ambient",
        (60, 84),
        "ambient",
        Kit(kick_decay=0.5, kick_start=90, kick_click=0.0, tone_lowpass=5000),
        {"kick": "x...............", "shaker": "..g...g...g...g.", "rim": "........g......."},
        "sub",
        "drone",
        "pad",
        "sustain",
        "bell",
        0.2,
        "strings",
        True,
        4,
        ((0, 3, 0, 4), (0, 5, 3, 0)),
        ((0, 5, 3, 0), (0, 3, 5, 0)),
        ("lydian", "major"),
        reverb=0.55,
        room=0.95,
        brightness=0.4,
        lead_delay=0.45,
        level=0.85,
        description="slow swelling pads, bells in a big room, a soft heartbeat",
    ),
    GenreStyle(
        "rock",
        "Rock",
        (108, 140),
        "song",
        Kit(kick_decay=0.25, kick_start=110, snare_decay=0.22, snare_noise=0.6, hat_cutoff=6000),
        {"kick": "x.....x.x.......", "snare": "....x.......x...", "hat": "x.o.x.o.x.o.x.o."},
        "saw_bass",
        "root8",
        "power",
        "strum8",
        "lead_square",
        0.45,
        None,
        False,
        3,
        _POP_MAJ,
        _POP_MIN,
        ("mixolydian", "minor", "major"),
        humanize=0.02,
        reverb=0.18,
        drive=18.0,
        brightness=0.9,
        description="distorted power chords, driving eighths",
    ),
    GenreStyle(
        "jazz",
        "Jazz",
        (100, 140),
        "song",
        Kit(
            kick_decay=0.25,
            kick_start=90,
            kick_click=0.0,
            snare_decay=0.25,
            snare_noise=0.9,
            tone_lowpass=9000,
        ),
        {
            "ride": "x..ox.ox..ox.o.o",
            "hat": "....o.......o...",
            "snare": "......g.....g..g",
            "kick": "g.......g.......",
        },
        "upright",
        "walking",
        "epiano",
        "comp",
        "flute",
        0.5,
        None,
        False,
        5,
        _JAZZ_MAJ,
        _JAZZ_MIN,
        ("major", "dorian"),
        swing=0.33,
        humanize=0.05,
        reverb=0.25,
        brightness=0.5,
        level=0.95,
        fill_drums=("snare",),
        description="swung ride, walking upright bass, ninth-chord comping",
    ),
    GenreStyle(
        "r&b",
        "R&B",
        (68, 96),
        "song",
        Kit(kick_decay=0.4, kick_start=100, snare_decay=0.15),
        {
            "kick": "x......x.x......",
            "clap": "....x.......x...",
            "hat": "ogogogogogogogog",
            "rim": ".......g......g.",
        },
        "808",
        "syncop",
        "epiano",
        "rnb",
        "lead_saw",
        0.4,
        "pad",
        False,
        4,
        _JAZZ_MAJ,
        _POP_MIN,
        ("minor", "dorian", "major"),
        swing=0.12,
        humanize=0.02,
        reverb=0.3,
        brightness=0.55,
        lead_delay=0.25,
        description="silky seventh chords, syncopated sub, crisp sixteenth hats",
    ),
    GenreStyle(
        "drum-and-bass",
        "Drum & Bass",
        (170, 176),
        "edm",
        Kit(kick_decay=0.2, kick_start=140, snare_decay=0.15, snare_noise=0.75, hat_decay=0.03),
        {
            "kick": "x.........x.....",
            "snare": "....x.......x...",
            "hat": "o.o.o.ooo.o.o.oo",
            "open_hat": "..........o.....",
        },
        "reese",
        "reese",
        "pad",
        "sustain",
        "lead_saw",
        0.3,
        "strings",
        True,
        4,
        _POP_MAJ,
        _POP_MIN,
        ("minor",),
        reverb=0.3,
        brightness=0.7,
        lead_delay=0.3,
        description="fast breakbeat, growling reese bass, airy pads",
    ),
    GenreStyle(
        "trap",
        "Trap",
        (130, 150),
        "edm",
        Kit(kick_decay=0.5, kick_start=110, snare_decay=0.14),
        {
            "kick": "x......x.x......",
            "snare": "........x.......",
            "hat": "xoxoxoxoxoxxxoxx",
            "clap": "........x.......",
        },
        "808",
        "808",
        "bell",
        "sustain",
        "bell",
        0.35,
        "pad",
        False,
        3,
        _POP_MAJ,
        _POP_MIN,
        ("minor", "harmonic minor"),
        reverb=0.25,
        brightness=0.6,
        description="half-time snare, rattling hats, booming 808s",
    ),
    GenreStyle(
        "synthwave",
        "Synthwave",
        (95, 118),
        "song",
        Kit(kick_decay=0.3, snare_decay=0.3, snare_noise=0.7),
        {"kick": "x.......x.......", "snare": "....x.......x...", "hat": "o.o.o.o.o.o.o.o."},
        "saw_bass",
        "arp8",
        "strings",
        "sustain",
        "lead_saw",
        0.45,
        "pad",
        True,
        3,
        _POP_MAJ,
        _POP_MIN,
        ("minor", "dorian"),
        sidechain=0.3,
        reverb=0.45,
        room=0.8,
        brightness=0.75,
        lead_delay=0.35,
        description="eighth-note bass arps, big gated snare",
    ),
)

STYLES: dict[str, GenreStyle] = {s.id: s for s in _STYLES}

#: Genre ids, in the order the onboarding shows them.
GENRES: tuple[str, ...] = tuple(STYLES)

GENRE_NAMES: dict[str, str] = {s.id: s.name for s in _STYLES}

_ALIASES = {
    "hiphop": "hip-hop",
    "hip hop": "hip-hop",
    "rap": "hip-hop",
    "lofi": "lo-fi",
    "lo fi": "lo-fi",
    "rnb": "r&b",
    "r and b": "r&b",
    "soul": "r&b",
    "dnb": "drum-and-bass",
    "drum & bass": "drum-and-bass",
    "drum and bass": "drum-and-bass",
    "drum n bass": "drum-and-bass",
    "jungle": "drum-and-bass",
    "electronic": "house",
    "edm": "house",
    "dance": "house",
    "chill": "lo-fi",
    "chillhop": "lo-fi",
    "indie": "rock",
    "metal": "rock",
    "punk": "rock",
    "alternative": "rock",
    "retrowave": "synthwave",
    "80s": "synthwave",
    "classical": "ambient",
    "new age": "ambient",
    "funk": "r&b",
    "blues": "jazz",
    "swing": "jazz",
}


def resolve_genre(name: str) -> GenreStyle:
    """The style for a genre id, display name or common alias (case-insensitive)."""
    key = name.strip().lower()
    key = {s.name.lower(): s.id for s in _STYLES}.get(key, key)
    key = _ALIASES.get(key, key)
    style = STYLES.get(key)
    if style is None:
        raise UserFacingError(f"Unknown genre {name!r}; choose one of: {', '.join(GENRES)}.")
    return style


def known_genres(names: list[str] | tuple[str, ...]) -> list[GenreStyle]:
    """The styles of ``names`` that are known, or all genres for an empty list.

    A blend from a profile or a band may hold a genre this engine lacks ("k-pop"); it is
    skipped as long as one known genre remains, otherwise the first unknown is reported.
    """
    if not names:
        return list(STYLES.values())
    styles = []
    for name in names:
        try:
            styles.append(resolve_genre(name))
        except UserFacingError:
            continue
    if not styles:
        resolve_genre(names[0])  # raises, naming it
    return styles


@dataclass(frozen=True)
class Vibe:
    """How a vibe bends any genre: mode, energy (loudness, drums), density (notes)."""

    id: str
    modes: tuple[str, ...]
    energy: float
    density: float
    brightness: float


VIBES: dict[str, Vibe] = {
    v.id: v
    for v in (
        Vibe("balanced", (), 0.65, 0.55, 0.8),
        Vibe("energetic", ("minor", "major", "mixolydian"), 0.95, 0.85, 1.0),
        Vibe("happy", ("major", "lydian", "mixolydian"), 0.8, 0.7, 0.95),
        Vibe("chill", ("major", "dorian"), 0.45, 0.4, 0.6),
        Vibe("melancholic", ("minor", "dorian"), 0.5, 0.45, 0.6),
        Vibe("dark", ("phrygian", "minor", "harmonic minor"), 0.75, 0.6, 0.55),
        Vibe("dreamy", ("lydian", "major"), 0.4, 0.45, 0.7),
        Vibe("focus", ("dorian", "major"), 0.5, 0.35, 0.6),
        Vibe("romantic", ("major", "dorian"), 0.5, 0.5, 0.7),
        Vibe("party", ("major", "mixolydian", "minor"), 1.0, 0.9, 1.0),
    )
}

_VIBE_ALIASES = {
    "upbeat": "energetic",
    "hype": "energetic",
    "intense": "energetic",
    "uplifting": "happy",
    "joyful": "happy",
    "relaxed": "chill",
    "calm": "chill",
    "mellow": "chill",
    "sad": "melancholic",
    "moody": "melancholic",
    "emotional": "melancholic",
    "aggressive": "dark",
    "ethereal": "dreamy",
    "study": "focus",
    "concentration": "focus",
    "love": "romantic",
    "dance": "party",
    "neutral": "balanced",
    "any": "balanced",
}


def resolve_vibe(name: str | None) -> Vibe:
    """The vibe for a name or alias; ``None`` or empty gives ``balanced``."""
    if not name or not name.strip():
        return VIBES["balanced"]
    key = name.strip().lower()
    key = _VIBE_ALIASES.get(key, key)
    vibe = VIBES.get(key)
    if vibe is None:
        raise UserFacingError(f"Unknown vibe {name!r}; choose one of: {', '.join(VIBES)}.")
    return vibe

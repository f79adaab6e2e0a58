"""Band personas: a name and a bio that fit a style.

A band is a face for a group of generated tracks, so its name and bio must read like
the genre and mood it plays. The default backend is a small grammar over word lists
per genre and vibe: it works offline, instantly, and gives the same persona for the
same seed (a creator can re-roll by changing the seed and get back to one they liked).
An optional local language model sits behind the same :class:`PersonaBackend`
interface; whatever it says is checked and the grammar takes over when it is unusable.

Names are never repeated among one user's bands: the caller passes the names already
taken and the backend draws again (then numbers the name) until it is free.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from base.errors import UserFacingError

# --------------------------------------------------------------------------- style


_GENRE_ALIASES: dict[str, str] = {
    "hiphop": "hip-hop",
    "hip hop": "hip-hop",
    "rap": "hip-hop",
    "trap": "hip-hop",
    "lofi": "lo-fi",
    "lo fi": "lo-fi",
    "chillhop": "lo-fi",
    "rnb": "r&b",
    "r and b": "r&b",
    "r'n'b": "r&b",
    "soul": "r&b",
    "dnb": "drum & bass",
    "drum and bass": "drum & bass",
    "drum n bass": "drum & bass",
    "drum'n'bass": "drum & bass",
    "jungle": "drum & bass",
    "edm": "electronic",
    "electro": "electronic",
    "dance": "house",
    "deep house": "house",
    "techno": "techno",
    "punk": "rock",
    "indie": "rock",
    "alternative": "rock",
    "grunge": "rock",
    "heavy metal": "metal",
    "ambient": "ambient",
    "downtempo": "ambient",
    "bebop": "jazz",
    "swing": "jazz",
    "classical": "classical",
    "orchestral": "classical",
    "country": "folk",
    "acoustic": "folk",
    "funk": "funk",
    "disco": "funk",
}


def normalize_genre(genre: str) -> str:
    """The canonical spelling of a genre (``"Hip Hop"`` → ``"hip-hop"``).

    Unknown genres are kept (lower-cased, trimmed): a creator may play anything, the
    persona grammar simply falls back to its genre-neutral words for them.
    """
    text = re.sub(r"\s+", " ", genre.strip().lower())
    if not text:
        raise UserFacingError("A band's genre cannot be empty.")
    return _GENRE_ALIASES.get(text, text)


@dataclass(frozen=True)
class BandStyle:
    """What a band plays: its genres (first is the main one) and an optional vibe."""

    genres: tuple[str, ...]
    vibe: str | None = None

    @classmethod
    def of(cls, genres: Iterable[str], vibe: str | None = None) -> BandStyle:
        """A style with canonical genre names, duplicates dropped, order kept."""
        canon: list[str] = []
        for genre in genres:
            name = normalize_genre(genre)
            if name not in canon:
                canon.append(name)
        if not canon:
            raise UserFacingError("A band needs at least one genre (e.g. --genre house).")
        clean_vibe = vibe.strip().lower() if vibe and vibe.strip() else None
        return cls(tuple(canon), clean_vibe)

    @property
    def genre(self) -> str:
        return self.genres[0]


@dataclass(frozen=True)
class Persona:
    name: str
    bio: str


class PersonaBackend(Protocol):
    """Makes a persona for a style; the same seed and inputs give the same persona."""

    def generate(self, style: BandStyle, seed: int, taken: Collection[str] = ()) -> Persona: ...


# ------------------------------------------------------------------- word lists


@dataclass(frozen=True)
class _GenreWords:
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]  # singular, capitalised
    plurals: tuple[str, ...]  # for "The <Adj> <Plural>"
    prefixes: tuple[str, ...] = ()  # e.g. "DJ", "MC"
    places: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    sound: tuple[str, ...] = ()  # phrases describing the sound
    scenes: tuple[str, ...] = ()  # where they play


_GENRES: dict[str, _GenreWords] = {
    "pop": _GenreWords(
        adjectives=("Neon", "Golden", "Sugar", "Electric", "Bright", "Candy", "Velvet", "Shiny"),
        nouns=("Heart", "Summer", "Mirror", "Satellite", "Glitter", "Polaroid", "Sunset"),
        plurals=("Hearts", "Satellites", "Echoes", "Daydreams", "Fireworks", "Postcards"),
        places=(
            "a rooftop in Stockholm",
            "a bedroom studio in Los Angeles",
            "a Seoul rehearsal room",
        ),
        instruments=("glossy synths", "stacked harmonies", "a punchy kick", "hand claps"),
        sound=("hooks that stay for days", "choruses built for singing along", "big bright pop"),
        scenes=("festival main stages", "late-night drives", "kitchen dance parties"),
    ),
    "hip-hop": _GenreWords(
        adjectives=("Concrete", "Bold", "Midnight", "Heavy", "Raw", "Gold", "Block", "Static"),
        nouns=("Cipher", "Boombox", "Verse", "Corner", "Crown", "Sample", "Breakbeat"),
        plurals=("Kings", "Ciphers", "Verses", "Rebels", "Architects", "Poets"),
        prefixes=("MC", "Lil", "Young", "Big"),
        places=("a basement in the Bronx", "an Atlanta studio", "a London estate"),
        instruments=("dusty samples", "808s", "chopped soul loops", "crisp snares"),
        sound=("head-nodding beats", "bars over boom-bap", "heavy low end and sharp drums"),
        scenes=("block parties", "open-mic nights", "car stereos"),
    ),
    "house": _GenreWords(
        adjectives=("Deep", "Warm", "Disco", "Late", "Soulful", "Velvet", "Jackin'", "Afterhours"),
        nouns=("Groove", "Basement", "Floor", "Loft", "Pulse", "Circuit", "Mirrorball"),
        plurals=("Grooves", "Dancers", "Lovers", "Mirrorballs", "Sessions", "Nights"),
        prefixes=("DJ",),
        places=("a Chicago warehouse", "an Ibiza terrace", "a Detroit record shop"),
        instruments=("four-on-the-floor kicks", "rolling basslines", "organ stabs", "open hats"),
        sound=("long hypnotic grooves", "warm chords over a steady pulse", "pure dancefloor"),
        scenes=("sunrise sets", "warehouse parties", "beach clubs"),
    ),
    "techno": _GenreWords(
        adjectives=(
            "Industrial",
            "Cold",
            "Hard",
            "Binary",
            "Dark",
            "Iron",
            "Minimal",
            "Mechanical",
        ),
        nouns=("Machine", "Signal", "Reactor", "Tunnel", "Unit", "Voltage", "Grid"),
        plurals=("Machines", "Signals", "Units", "Systems", "Pistons", "Circuits"),
        prefixes=("Unit", "System"),
        places=("a Berlin bunker", "a Detroit factory floor", "a Tbilisi club"),
        instruments=("modular synths", "a TR-909", "distorted kicks", "metallic percussion"),
        sound=("relentless machine rhythm", "hypnotic loops that never let go", "steel and smoke"),
        scenes=("all-night raves", "concrete basements", "strobe-lit halls"),
    ),
    "lo-fi": _GenreWords(
        adjectives=("Sleepy", "Dusty", "Rainy", "Soft", "Faded", "Cozy", "Hazy", "Quiet"),
        nouns=("Tape", "Window", "Cassette", "Notebook", "Teacup", "Lamp", "Cloud"),
        plurals=("Cassettes", "Raindrops", "Pages", "Afternoons", "Cats", "Clouds"),
        places=("a tiny apartment in Osaka", "a library corner", "a rainy attic"),
        instruments=("warbling tape", "muted keys", "vinyl crackle", "lazy swung drums"),
        sound=("beats to study to", "soft loops with warm hiss", "gentle rainy-day grooves"),
        scenes=("late study sessions", "slow Sunday mornings", "long train rides"),
    ),
    "ambient": _GenreWords(
        adjectives=("Distant", "Still", "Glacial", "Floating", "Pale", "Endless", "Silent"),
        nouns=("Horizon", "Drift", "Tide", "Aurora", "Fog", "Meadow", "Orbit"),
        plurals=("Tides", "Horizons", "Lanterns", "Fields", "Drifts", "Skies"),
        places=("a cabin in Iceland", "a lighthouse on the coast", "an empty observatory"),
        instruments=("slow evolving pads", "field recordings", "tape loops", "bowed strings"),
        sound=("music that breathes slowly", "vast slow textures", "quiet, wide-open space"),
        scenes=("headphones at dawn", "long flights", "planetariums"),
    ),
    "rock": _GenreWords(
        adjectives=("Loud", "Broken", "Wild", "Rusty", "Electric", "Burning", "Stone", "Reckless"),
        nouns=("Amplifier", "Highway", "Engine", "Thunder", "Garage", "Riot", "Riff"),
        plurals=("Wolves", "Strangers", "Outlaws", "Ghosts", "Rebels", "Sparks"),
        places=("a garage in Seattle", "a Manchester pub", "a Melbourne warehouse"),
        instruments=("overdriven guitars", "a pounding drum kit", "fuzz bass", "feedback"),
        sound=("riffs that rattle the walls", "sweaty, loud guitar music", "raw live energy"),
        scenes=("sticky-floored clubs", "summer festivals", "basement shows"),
    ),
    "metal": _GenreWords(
        adjectives=("Black", "Iron", "Molten", "Savage", "Grim", "Obsidian", "Frozen"),
        nouns=("Abyss", "Hammer", "Serpent", "Throne", "Storm", "Anvil", "Pyre"),
        plurals=("Serpents", "Titans", "Ravens", "Hammers", "Storms", "Legions"),
        places=("a forest in Norway", "a Birmingham foundry", "a Finnish sauna"),
        instruments=("down-tuned guitars", "double-kick drums", "roaring vocals", "blast beats"),
        sound=("a wall of distortion", "crushing riffs", "thunder at full volume"),
        scenes=("mosh pits", "open-air festivals", "midnight drives"),
    ),
    "jazz": _GenreWords(
        adjectives=("Blue", "Smoky", "Velvet", "Midnight", "Cool", "Mellow", "Brass", "Swinging"),
        nouns=("Quartet", "Note", "Lounge", "Standard", "Trumpet", "Cellar", "Avenue"),
        plurals=("Notes", "Cats", "Moods", "Standards", "Hours", "Streets"),
        places=("a New Orleans cellar", "a Harlem supper club", "a Paris side street"),
        instruments=("upright bass", "brushed drums", "a warm Rhodes", "muted trumpet"),
        sound=("late-night improvisation", "swing with a wink", "smoky chords and loose time"),
        scenes=("candle-lit clubs", "rainy evenings", "Sunday brunches"),
    ),
    "r&b": _GenreWords(
        adjectives=("Silk", "Velvet", "Honey", "Slow", "Golden", "Tender", "Midnight", "Satin"),
        nouns=("Love", "Candle", "Whisper", "Rose", "Heartbeat", "Satin", "Glow"),
        plurals=("Lovers", "Whispers", "Roses", "Promises", "Candles", "Feelings"),
        places=("a Philadelphia church choir", "a Toronto studio", "a Houston radio station"),
        instruments=("lush keys", "smooth bass", "layered vocals", "finger snaps"),
        sound=("slow jams", "silky grooves and soaring vocals", "sweet and heavy feelings"),
        scenes=("slow dances", "late-night phone calls", "quiet storm radio"),
    ),
    "drum & bass": _GenreWords(
        adjectives=("Rapid", "Liquid", "Sub", "Rolling", "Jungle", "Amen", "Hyper", "Neuro"),
        nouns=("Breaks", "Pressure", "Rinse", "Bassline", "Vortex", "Pulse", "Current"),
        plurals=("Breaks", "Rollers", "Currents", "Vortexes", "Runners", "Signals"),
        prefixes=("DJ", "MC"),
        places=("a Bristol basement", "a London pirate radio station", "a São Paulo rave"),
        instruments=("chopped amen breaks", "reese bass", "rolling subs", "rapid-fire hats"),
        sound=("174 BPM and rising", "liquid rollers", "breakbeats at full speed"),
        scenes=("pirate radio", "sweaty basements", "festival tents"),
    ),
    "electronic": _GenreWords(
        adjectives=("Digital", "Neon", "Synthetic", "Laser", "Chrome", "Pixel", "Electric"),
        nouns=("Circuit", "Pulse", "Laser", "Prism", "Voltage", "Synth", "Grid"),
        plurals=("Circuits", "Lasers", "Prisms", "Pixels", "Waves", "Signals"),
        prefixes=("DJ",),
        places=("a Tokyo arcade", "a Berlin studio", "a Montreal loft"),
        instruments=("analog synths", "arpeggiators", "side-chained pads", "drum machines"),
        sound=("bright, synthetic euphoria", "pulsing electronics", "lasers and big drops"),
        scenes=("light shows", "night drives", "festival tents"),
    ),
    "classical": _GenreWords(
        adjectives=("Grand", "Noble", "Silver", "Royal", "Gentle", "Solemn", "Ivory"),
        nouns=("Sonata", "Chamber", "Nocturne", "Ensemble", "Overture", "Fugue", "Aria"),
        plurals=("Strings", "Nocturnes", "Preludes", "Voices", "Movements", "Etudes"),
        places=("a Vienna conservatory", "a Prague chapel", "a Leipzig concert hall"),
        instruments=("string quartet", "grand piano", "woodwinds", "a small choir"),
        sound=("patient, elegant lines", "counterpoint with a modern ear", "music for still rooms"),
        scenes=("candle-lit chapels", "concert halls", "quiet mornings"),
    ),
    "folk": _GenreWords(
        adjectives=("Wooden", "Wandering", "Old", "Lonesome", "Green", "Dusty", "Little"),
        nouns=("Hollow", "Porch", "River", "Lantern", "Orchard", "Fiddle", "Valley"),
        plurals=("Rivers", "Pines", "Sparrows", "Roads", "Fiddlers", "Hills"),
        places=("a cabin in the Appalachians", "a pub in Galway", "a farmhouse in Nashville"),
        instruments=("acoustic guitar", "banjo", "fiddle", "stomping feet"),
        sound=("songs around a fire", "honest stories and open strings", "dusty, warm harmonies"),
        scenes=("front porches", "small-town halls", "campfires"),
    ),
    "funk": _GenreWords(
        adjectives=("Funky", "Groovy", "Cosmic", "Slick", "Strutting", "Boogie", "Fly"),
        nouns=("Groove", "Strut", "Boogie", "Bassline", "Disco", "Soul", "Rhythm"),
        plurals=("Grooves", "Horns", "Brothers", "Sisters", "Machines", "Moves"),
        places=("a Minneapolis club", "an Oakland garage", "a Lagos dance hall"),
        instruments=("slap bass", "clavinet", "tight horns", "chicken-scratch guitar"),
        sound=("the one, always on the one", "grooves you feel in your hips", "tight, sweaty funk"),
        scenes=("roller discos", "block parties", "soul nights"),
    ),
}

_GENERIC = _GenreWords(
    adjectives=("New", "Strange", "Bright", "Hidden", "Second", "Lucky", "Open", "Violet"),
    nouns=("Signal", "Harbor", "Compass", "Echo", "Garden", "Engine", "Mirror"),
    plurals=("Echoes", "Travelers", "Colors", "Signals", "Dreamers", "Shapes"),
    places=("a shared studio", "a small town by the sea", "a converted warehouse"),
    instruments=("whatever was lying around", "synths and guitars", "a borrowed drum kit"),
    sound=("a sound of their own", "songs that refuse a label", "curious, restless music"),
    scenes=("small venues", "headphones", "friends' living rooms"),
)

_VIBES: dict[str, tuple[tuple[str, ...], tuple[str, str]]] = {
    # vibe: (words for names, (mood adjective phrase, a clause about the listening))
    "energetic": (
        ("Rush", "Turbo", "Wild", "Blazing"),
        ("full of energy", "impossible to sit through"),
    ),
    "chill": (("Easy", "Mellow", "Lazy", "Calm"), ("laid back", "easy on the ears")),
    "dark": (
        ("Shadow", "Night", "Black", "Hollow"),
        ("dark and brooding", "best heard after midnight"),
    ),
    "happy": (
        ("Sunny", "Lucky", "Bubble", "Sunshine"),
        ("pure sunshine", "grinning from start to end"),
    ),
    "melancholic": (("Grey", "Lonely", "Faded", "Rain"), ("bittersweet", "a little heartbroken")),
    "sad": (("Grey", "Lonely", "Blue", "Rain"), ("bittersweet", "made for rainy windows")),
    "dreamy": (("Dream", "Cloud", "Velvet", "Lunar"), ("dreamy and weightless", "half asleep")),
    "aggressive": (("Savage", "Feral", "Brutal", "Riot"), ("aggressive", "all teeth")),
    "romantic": (("Rose", "Sweet", "Tender", "Honey"), ("romantic", "written for someone")),
    "focused": (("Steady", "Clear", "Deep", "Still"), ("focused", "made to keep you in the zone")),
    "uplifting": (("Rising", "Golden", "Bright", "Soaring"), ("uplifting", "hands in the air")),
    "party": (
        ("Party", "Disco", "Loud", "Wild"),
        ("made for the party", "built for the dancefloor"),
    ),
}
_NEUTRAL_MOODS = ("honest", "restless", "warm", "bold", "playful", "unhurried")
_NEUTRAL_CLAUSES = ("never quite what you expect", "always moving", "better every play")

_FIRST_NAMES = (
    "Ada", "Nova", "Milo", "Juno", "Iris", "Theo", "Luna", "Otis", "Mara", "Felix", "Cleo",
    "Ezra", "Sasha", "Remy", "Noor", "Kai", "Yuki", "Inés", "Ravi", "Zola",
)  # fmt: skip

_FORMED = (
    "Formed in {place}, {name} ",
    "{name} started out in {place} and now ",
    "Born in {place}, {name} ",
    "{name} came together in {place} and ",
)
_SOUND = (
    "plays {sound}, built from {inst1} and {inst2}.",
    "makes {sound} out of {inst1}, {inst2} and not much else.",
    "trades in {sound}: {inst1} up front, {inst2} underneath.",
    "is all about {sound}, with {inst1} and {inst2} at the heart of it.",
)
_MOOD = (
    "The mood is {mood} — {clause}.",
    "Expect something {mood}, {clause}.",
    "Fans call it {mood}: {clause}.",
    "It is {mood} music, {clause}.",
)
_CLOSE = (
    "Made for {scene}.",
    "Best heard at {scene}.",
    "You will find them soundtracking {scene}.",
    "Their natural habitat: {scene}.",
)
_BLEND = (
    "They borrow freely from {other}.",
    "A streak of {other} runs through everything they do.",
    "Listen closely and you will hear {other} in the mix.",
)


def _words(genre: str) -> _GenreWords:
    return _GENRES.get(genre, _GENERIC)


def _pick(rng: random.Random, *pools: Sequence[str]) -> str:
    pool = [w for p in pools for w in p]
    return rng.choice(pool)


# ----------------------------------------------------------------------- grammar


@dataclass
class GrammarPersonaBackend:
    """The default persona generator: a grammar over genre and vibe word lists."""

    max_draws: int = 40
    _patterns: tuple[Callable[[random.Random, _GenreWords, tuple[str, ...]], str], ...] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        self._patterns = (
            lambda r, w, v: f"The {_pick(r, w.adjectives, v)} {r.choice(w.plurals)}",
            lambda r, w, v: f"{_pick(r, w.adjectives, v)} {r.choice(w.nouns)}",
            lambda r, w, v: f"{r.choice(w.nouns)} {r.choice(w.plurals)}",
            lambda r, w, v: f"{r.choice(_FIRST_NAMES)} and the {r.choice(w.plurals)}",
            lambda r, w, v: f"{r.choice(w.nouns)} of {r.choice(w.plurals)}",
            lambda r, w, v: f"{_pick(r, w.adjectives, v)}{r.choice(w.nouns).lower()}",
            lambda r, w, v: (
                f"{r.choice(w.prefixes)} {r.choice(w.nouns)}"
                if w.prefixes
                else f"{r.choice(w.nouns)} {r.choice(_FIRST_NAMES)}"
            ),
        )

    def name_for(self, style: BandStyle, rng: random.Random) -> str:
        words = _words(style.genre)
        vibe = _VIBES.get(style.vibe or "")
        vibe_words = vibe[0] if vibe else ()
        name = rng.choice(self._patterns)(rng, words, vibe_words)
        for _ in range(8):  # "Cipher of Ciphers": redraw names that repeat a word
            stems = [w[:4].casefold() for w in name.split() if len(w) > 3]
            if len(stems) == len(set(stems)):
                break
            name = rng.choice(self._patterns)(rng, words, vibe_words)
        return name

    def bio_for(self, style: BandStyle, name: str, rng: random.Random) -> str:
        words = _words(style.genre)
        inst1, inst2 = rng.sample(list(words.instruments), 2)
        vibe = _VIBES.get(style.vibe or "")
        if vibe is not None:
            mood, clause = vibe[1]
        elif style.vibe:
            mood, clause = style.vibe, rng.choice(_NEUTRAL_CLAUSES)
        else:
            mood, clause = rng.choice(_NEUTRAL_MOODS), rng.choice(_NEUTRAL_CLAUSES)
        sound = rng.choice(words.sound)
        if style.genre not in _GENRES:
            sound = f"{style.genre} — {sound}"
        parts = [
            rng.choice(_FORMED).format(place=rng.choice(words.places), name=name)
            + rng.choice(_SOUND).format(sound=sound, inst1=inst1, inst2=inst2),
            rng.choice(_MOOD).format(mood=mood, clause=clause),
        ]
        if len(style.genres) > 1:
            others = " and ".join(style.genres[1:3])
            parts.append(rng.choice(_BLEND).format(other=others))
        parts.append(rng.choice(_CLOSE).format(scene=rng.choice(words.scenes)))
        return " ".join(parts)

    def generate(self, style: BandStyle, seed: int, taken: Collection[str] = ()) -> Persona:
        rng = random.Random(f"persona:{seed}:{'|'.join(style.genres)}:{style.vibe or ''}")
        used = {_name_key(t) for t in taken}
        name = ""
        for _ in range(self.max_draws):
            name = self.name_for(style, rng)
            if _name_key(name) not in used:
                break
        name = unique_name(name, used)
        return Persona(name=name, bio=self.bio_for(style, name, rng))


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


_ROMAN = ("II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def unique_name(name: str, taken: Collection[str]) -> str:
    """``name``, or ``name II``, ``name III``… — the first not in ``taken`` (case-blind)."""
    used = {_name_key(t) for t in taken}
    if _name_key(name) not in used:
        return name
    for suffix in (*_ROMAN, *(str(n) for n in range(11, 10_000))):
        candidate = f"{name} {suffix}"
        if _name_key(candidate) not in used:
            return candidate
    raise UserFacingError(f"Too many bands are called {name!r}; pick another name seed.")


# --------------------------------------------------------------------------- LLM


TextGenerator = Callable[[str, int], str]
"""``(prompt, seed) -> completion``: any local text model wrapped as a function."""


@dataclass
class LLMPersonaBackend:
    """A persona written by a local language model, checked, with the grammar as backstop.

    The model only proposes: a name must be 2–40 printable characters and not taken, a
    bio 40–600 characters; otherwise the grammar's persona is used for that part. This
    keeps the interface's promises (deterministic for a seed when the model decodes
    greedily or seeded, never a duplicate, always usable text) whatever the model does.
    """

    complete: TextGenerator
    fallback: GrammarPersonaBackend = field(default_factory=GrammarPersonaBackend)

    @classmethod
    def from_pretrained(cls, model_dir: str, *, max_new_tokens: int = 120) -> LLMPersonaBackend:
        """Wrap a causal LM from a local folder (never downloads)."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
        model.eval()

        def complete(prompt: str, seed: int) -> str:
            import torch

            torch.manual_seed(seed)
            inputs = tokenizer(prompt, return_tensors="pt")
            with torch.no_grad():
                out = model.generate(
                    **inputs,
                    max_new_tokens=max_new_tokens,
                    do_sample=True,
                    top_p=0.9,
                    temperature=0.9,
                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                )
            decoded = tokenizer.decode(
                out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
            )
            return str(decoded)

        return cls(complete=complete)

    @staticmethod
    def prompt(style: BandStyle) -> str:
        genres = ", ".join(style.genres)
        vibe = f" with a {style.vibe} vibe" if style.vibe else ""
        return (
            f"Invent a fictional {genres} band{vibe}.\n"
            "Answer in exactly two lines:\nName: <band name>\nBio: <two or three sentences>\n"
        )

    def generate(self, style: BandStyle, seed: int, taken: Collection[str] = ()) -> Persona:
        backstop = self.fallback.generate(style, seed, taken)
        try:
            text = self.complete(self.prompt(style), seed)
        except Exception:  # a broken model must not break band creation
            return backstop
        name_m = re.search(r"^\s*Name:\s*(.+?)\s*$", text, re.MULTILINE)
        bio_m = re.search(r"^\s*Bio:\s*(.+?)\s*$", text, re.MULTILINE | re.DOTALL)
        name = name_m.group(1).strip(" \"'*") if name_m else ""
        used = {_name_key(t) for t in taken}
        if not (2 <= len(name) <= 40 and name.isprintable()) or _name_key(name) in used:
            name = backstop.name
        bio = " ".join(bio_m.group(1).split()) if bio_m else ""
        if not 40 <= len(bio) <= 600:
            bio = self.fallback.bio_for(style, name, random.Random(f"bio:{seed}:{name}"))
        return Persona(name=name, bio=bio)


def default_backend() -> PersonaBackend:
    return GrammarPersonaBackend()

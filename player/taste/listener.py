"""The listener model: what one listener likes, learned as they listen, and what to make next.

The radio's promise is music that fits *you*; the fit has to be learned from a handful of
likes and skips, so the model must be sample-efficient, say how unsure it is, and keep
exploring. A Bayesian linear model over a fixed feature map of the *request* (the knobs
the engine really turns: genre, tempo, scale, energy, density, brightness, swing, bass,
palette) gives all three: the posterior is exact and cheap (a ~150-dimensional Gaussian),
Thompson sampling turns its uncertainty into exploration without a tuning schedule, and
radial-basis features let it learn bands ("115–130 BPM") rather than only directions.

Evidence fades (each older observation weighs :data:`FORGET` times the next), so
the posterior never collapses onto one corner: some exploration always remains and a
listener whose taste drifts is followed.

A second, small model reads the rendered audio: a Bayesian linear regression on a fixed
random projection of the track's embedding (in the active space only). It judges tracks
that already exist — a ready-but-unplayed track the listener would probably skip is
re-planned — where the request model can only judge what to ask for.

Everything the model knows is its list of observations; :meth:`ListenerModel.state` is that
list (plus the embedding part), so the stored form is small, readable, and rebuilt exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.linalg import solve_triangular

from base.errors import UserFacingError
from player.generation.genres import GENRES, STYLES, Vibe, resolve_vibe
from player.generation.palettes import palette_count
from player.generation.theory import MODES
from player.taste import engine_model
from player.taste.engine_model import EngineSoundModel
from player.taste.sound import BLAS as _BLAS
from player.taste.sound import SoundModel

STATE_VERSION = 1
#: Each observation weighs this much of the one after it: evidence fades, exploration stays.
FORGET = 0.97
#: Observations kept (older ones weigh less than 0.97**200 ≈ 0.002 anyway).
MAX_OBSERVATIONS = 200
#: Reward noise variance of the linear model (rewards lie in [-1, 1]).
NOISE = 0.35
#: Scale of the Thompson draw around the posterior mean: below 1 exploits sooner, which
#: a listener judging 30 tracks notices more than a slightly narrower search.
EXPLORE = 0.5

SCALES: tuple[str, ...] = tuple(MODES)
#: Scales whose third is minor: the audible split listeners hear as "sad/dark" vs "bright".
MINOR_SCALES = frozenset({"minor", "dorian", "phrygian", "harmonic minor"})
BASS_LEVELS: tuple[str, ...] = ("low", "medium", "high")
BPM_RANGE = (60.0, 180.0)
_BPM_CENTERS = np.arange(60.0, 181.0, 10.0)
_BPM_WIDTH = 9.0
_UNIT_CENTERS = np.linspace(0.0, 1.0, 5)
_UNIT_WIDTH = 0.17
_SWING_CENTERS = np.array([0.0, 0.5, 1.0])
PALETTE_SLOTS = 8
UNITS = ("energy", "density", "brightness")
#: Candidates scored per audition round when the sound model steers (random, and
#: variations of liked requests), and the request model's share of the score.
SOUND_POOL_RANDOM = 240
SOUND_POOL_LOCAL = 120
REQUEST_SHARE = 0.5
#: How widely each of a round's draws explores: the first at the posterior's full width,
#: the others tempered. Every draw at full width sent most auditions to sounds the model
#: knew nothing about (the best of 360 uncertain draws beats a region liked six times in
#: ten), and the pick could only choose among them: late in a session a third of the
#: tracks went to exploring (simulated fast-and-busy listener, 2026-11-29).
PROPOSAL_SPREAD = (1.0, 0.35, 0.35, 0.35)
#: Recent requests that also serve as kernel anchors: "near what was liked" is an
#: interaction of several controls (slow *and* bright *and* major) that the additive
#: features cannot express; a kernel around each recent request can.
ANCHORS = 24
ANCHOR_VARIANCE = 0.15
EMBED_DIMS = 16

# Rewards and weights per kind of feedback: a like is the clearest word, an early skip the
# clearest "no"; a full listen is a quiet yes.
LIKE_REWARD = 1.0
PLAYED_REWARD = 0.5
REPLAY_REWARD = 0.8
EARLY_SKIP_SECONDS = 30.0


@dataclass(frozen=True)
class Controls:
    """One point of the space the model chooses from: a complete procedural request."""

    genre: str
    bpm: float
    scale: str
    energy: float
    density: float
    brightness: float
    swing: float
    bass_level: str
    palette: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "genre": self.genre,
            "bpm": round(float(self.bpm), 1),
            "scale": self.scale,
            "energy": round(float(self.energy), 4),
            "density": round(float(self.density), 4),
            "brightness": round(float(self.brightness), 4),
            "swing": round(float(self.swing), 4),
            "bass_level": self.bass_level,
            "palette": int(self.palette),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Controls | None:
        """The controls of a made track (its stored ``generation_params``), or None when
        they are not the procedural engine's (a MusicGen track carries no palette)."""
        try:
            genre = str(params["genre"])
            scale = str(params.get("scale") or _scale_of_key(str(params.get("key", ""))))
            if genre not in STYLES or scale not in MODES:
                return None
            return cls(
                genre=genre,
                bpm=float(params["bpm"]),
                scale=scale,
                energy=float(params.get("energy", 0.6)),
                density=float(params.get("density", 0.55)),
                brightness=float(params.get("brightness", 0.7)),
                swing=float(params.get("swing", 0.0)),
                bass_level=str(params.get("bass_level", "medium")),
                palette=int(params.get("palette", 0)),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _scale_of_key(key: str) -> str:
    parts = key.split(" ", 1)
    return parts[1].strip().lower() if len(parts) == 2 else ""


def reward_for_skip(at_seconds: float | None, duration_seconds: float) -> tuple[float, float]:
    """(reward, weight) of a skip: an early skip is a clear "no", a late one half of one."""
    if at_seconds is None:
        return -0.8, 0.8
    heard = max(0.0, min(1.0, at_seconds / max(1.0, duration_seconds)))
    if at_seconds < EARLY_SKIP_SECONDS:
        return -1.0, 1.0
    return -1.0 + 0.8 * heard, 0.6


# -- the feature map ---------------------------------------------------------------------------


class FeatureMap:
    """Fixed features of a request, laid out in named blocks with their prior variances."""

    def __init__(self) -> None:
        blocks: list[tuple[str, int, float]] = [
            ("bias", 1, 0.02),
            ("genre", len(GENRES), 0.45),
            ("bpm", len(_BPM_CENTERS), 0.35),
            ("scale", len(SCALES), 0.1),
            ("third", 2, 0.4),
            ("energy", len(_UNIT_CENTERS), 0.3),
            ("density", len(_UNIT_CENTERS), 0.3),
            ("brightness", len(_UNIT_CENTERS), 0.3),
            ("swing", len(_SWING_CENTERS), 0.08),
            ("bass", len(BASS_LEVELS), 0.08),
            ("palette", len(GENRES) * PALETTE_SLOTS, 0.05),
            # Whether a minor scale *sounds* minor depends on the genre's harmony (a house
            # vamp on one chord is ambiguous, a lo-fi progression is not): let it differ.
            ("genre_third", len(GENRES) * 2, 0.15),
        ]
        self.slices: dict[str, slice] = {}
        variances = []
        at = 0
        for name, size, var in blocks:
            self.slices[name] = slice(at, at + size)
            variances.append(np.full(size, var))
            at += size
        self.dim = at
        self.prior_variance = np.concatenate(variances)

    def __call__(self, controls: Sequence[Controls]) -> np.ndarray:
        return self.arrays(Candidates.of(controls))

    def arrays(self, c: Candidates) -> np.ndarray:
        n = len(c.bpm)
        phi = np.zeros((n, self.dim))
        sl = self.slices
        rows = np.arange(n)
        phi[:, sl["bias"]] = 1.0
        phi[rows, sl["genre"].start + c.genre] = 1.0
        phi[:, sl["bpm"]] = _rbf(c.bpm, _BPM_CENTERS, _BPM_WIDTH)
        phi[rows, sl["scale"].start + c.scale] = 1.0
        phi[rows, sl["third"].start + _MINOR_INDEX[c.scale]] = 1.0
        for name in UNITS:
            phi[:, sl[name]] = _rbf(getattr(c, name), _UNIT_CENTERS, _UNIT_WIDTH)
        phi[:, sl["swing"]] = _rbf(c.swing, _SWING_CENTERS, 0.3)
        phi[rows, sl["bass"].start + c.bass] = 1.0
        pal = c.genre * PALETTE_SLOTS + c.palette % PALETTE_SLOTS
        phi[rows, sl["palette"].start + pal] = 1.0
        phi[rows, sl["genre_third"].start + c.genre * 2 + _MINOR_INDEX[c.scale]] = 1.0
        return phi


@dataclass
class Candidates:
    """Many requests at once, as arrays (indices into GENRES, SCALES, BASS_LEVELS):
    planning scores a few hundred per track, and Python objects for each cost more than
    the linear algebra."""

    genre: np.ndarray
    bpm: np.ndarray
    scale: np.ndarray
    energy: np.ndarray
    density: np.ndarray
    brightness: np.ndarray
    swing: np.ndarray
    bass: np.ndarray
    palette: np.ndarray

    @classmethod
    def of(cls, controls: Sequence[Controls]) -> Candidates:
        return cls(
            genre=np.array([_GENRE_INDEX[c.genre] for c in controls], dtype=int),
            bpm=np.array([c.bpm for c in controls], dtype=float),
            scale=np.array([_SCALE_INDEX[c.scale] for c in controls], dtype=int),
            energy=np.array([c.energy for c in controls], dtype=float),
            density=np.array([c.density for c in controls], dtype=float),
            brightness=np.array([c.brightness for c in controls], dtype=float),
            swing=np.array([c.swing for c in controls], dtype=float),
            bass=np.array([BASS_LEVELS.index(c.bass_level) for c in controls], dtype=int),
            palette=np.array([c.palette for c in controls], dtype=int),
        )

    @classmethod
    def concat(cls, parts: Sequence[Candidates]) -> Candidates:
        names = [f.name for f in fields(cls)]
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})

    def __len__(self) -> int:
        return len(self.bpm)

    def at(self, i: int) -> Controls:
        """Candidate ``i``, rounded as requests and stored models round it, so what is
        asked, made, learned and read back are the same numbers."""
        return Controls(
            genre=GENRES[int(self.genre[i])],
            bpm=round(float(self.bpm[i]), 1),
            scale=SCALES[int(self.scale[i])],
            energy=round(float(self.energy[i]), 4),
            density=round(float(self.density[i]), 4),
            brightness=round(float(self.brightness[i]), 4),
            swing=round(float(self.swing[i]), 4),
            bass_level=BASS_LEVELS[int(self.bass[i])],
            palette=int(self.palette[i]),
        )


_GENRE_INDEX = {g: i for i, g in enumerate(GENRES)}
_SCALE_INDEX = {s: i for i, s in enumerate(SCALES)}
_MINOR_INDEX = np.array([int(s in MINOR_SCALES) for s in SCALES])


def _rbf(values: np.ndarray, centers: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((values[:, None] - centers[None, :]) / width) ** 2)


FEATURES = FeatureMap()


def anchor_kernel(c: Candidates, anchors: Candidates) -> np.ndarray:
    """Similarity of each candidate to each anchor: same genre, then Gaussian in tempo
    (12 BPM), brightness, density (0.2) and energy (0.25), halved across the minor/major
    divide. ``(len(c), len(anchors))``."""
    if len(anchors) == 0:
        return np.zeros((len(c), 0))
    same_genre = c.genre[:, None] == anchors.genre[None, :]
    d2 = ((c.bpm[:, None] - anchors.bpm[None, :]) / 12.0) ** 2
    for name, width in (("brightness", 0.2), ("density", 0.2), ("energy", 0.25)):
        d2 = d2 + ((getattr(c, name)[:, None] - getattr(anchors, name)[None, :]) / width) ** 2
    same_third = _MINOR_INDEX[c.scale][:, None] == _MINOR_INDEX[anchors.scale][None, :]
    return same_genre * np.exp(-0.5 * d2) * np.where(same_third, 1.0, 0.5)


# -- priors -------------------------------------------------------------------------------------


@dataclass
class Prior:
    """Where a listener starts: onboarding answers, imported history, a band's style.

    Only the prior *mean* moves; its variance stays wide, so a few skips overrule it.
    """

    genres: dict[str, float] = field(default_factory=dict)  # genre id -> weight (sums to 1)
    tempo: tuple[float, float] | None = None
    vibe: str | None = None
    bass_level: str | None = None

    @classmethod
    def from_preferences(
        cls, profile: Mapping[str, Any] | None, history: Mapping[str, float] | None = None
    ) -> Prior:
        from player.taste.preferences import Preferences

        prefs = Preferences.from_profile(profile)
        weights: dict[str, float] = dict.fromkeys(prefs.genres, 1.0)
        for genre, w in (history or {}).items():
            if genre in STYLES:
                weights[genre] = weights.get(genre, 0.0) + 2.0 * float(w)
        total = sum(weights.values())
        genres = {g: w / total for g, w in weights.items()} if total > 0 else {}
        return cls(genres, prefs.tempo_range, prefs.vibe, prefs.bass_level)

    def mean(self) -> np.ndarray:
        m = np.zeros(FEATURES.dim)
        sl = FEATURES.slices
        if self.genres:
            top = max(self.genres.values())
            for i, g in enumerate(GENRES):
                w = self.genres.get(g, 0.0)
                m[sl["genre"].start + i] = 0.35 * w / top if w > 0 else -0.15
        if self.tempo:
            lo, hi = self.tempo
            inside = (lo - 5 <= _BPM_CENTERS) & (hi + 5 >= _BPM_CENTERS)
            m[sl["bpm"]] = np.where(inside, 0.15, -0.05)
        if self.vibe:
            vibe = resolve_vibe(self.vibe)
            for name in UNITS:
                target = getattr(vibe, name)
                m[sl[name]] += 0.12 * _rbf(np.array([target]), _UNIT_CENTERS, 0.3)[0]
            for i, scale in enumerate(SCALES):
                if scale in vibe.modes:
                    m[sl["scale"].start + i] = 0.08
        if self.bass_level in BASS_LEVELS:
            m[sl["bass"].start + BASS_LEVELS.index(self.bass_level)] = 0.08
        return m


# -- the space a station may choose from --------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """What a station allows: all genres for "my taste", one for a genre station, a band's
    style for band radio, a neighbourhood of the source for a track station."""

    genres: tuple[str, ...] = GENRES
    bpm: tuple[float, float] = BPM_RANGE
    scales: tuple[str, ...] = SCALES
    energy: tuple[float, float] = (0.0, 1.0)
    density: tuple[float, float] = (0.0, 1.0)
    brightness: tuple[float, float] = (0.0, 1.0)
    swing: tuple[float, float] = (0.0, 1.0)
    bass_levels: tuple[str, ...] = BASS_LEVELS
    palettes: dict[str, tuple[int, ...]] | None = None  # genre -> allowed palettes

    def __post_init__(self) -> None:
        unknown = [g for g in self.genres if g not in STYLES]
        if unknown or not self.genres:
            raise UserFacingError(f"A radio station needs known genres, not {unknown or '[]'}.")

    @classmethod
    def around(cls, source: Controls, *, keep_palette: bool = True) -> Bounds:
        """A track station: the source's genre, palette and scale family, tempo ±6%,
        the unit controls within ±0.15 — "similar", never a different record."""

        def near(value: float, r: float = 0.15) -> tuple[float, float]:
            return (max(0.0, value - r), min(1.0, value + r))

        family = tuple(s for s in SCALES if (s in MINOR_SCALES) == (source.scale in MINOR_SCALES))
        return cls(
            genres=(source.genre,),
            bpm=(source.bpm * 0.94, source.bpm * 1.06),
            scales=family,
            energy=near(source.energy),
            density=near(source.density),
            brightness=near(source.brightness),
            swing=near(source.swing),
            bass_levels=(source.bass_level,),
            palettes={source.genre: (source.palette,)} if keep_palette else None,
        )

    @classmethod
    def for_band(cls, genres: Sequence[str], vibe: str | None) -> Bounds:
        """Band radio: the band's genres and their tempo ranges (±8 BPM), its vibe's scales,
        and unit controls within ±0.3 of the vibe, so the band keeps its character."""
        known = tuple(g for g in genres if g in STYLES) or ("pop",)
        lo = min(STYLES[g].tempo[0] for g in known) - 8
        hi = max(STYLES[g].tempo[1] for g in known) + 8
        v: Vibe = resolve_vibe(vibe)
        scales = tuple(s for s in v.modes if s in MODES) or tuple(
            s for g in known for s in STYLES[g].modes if s in MODES
        )

        def near(value: float) -> tuple[float, float]:
            return (max(0.0, value - 0.3), min(1.0, value + 0.3))

        return cls(
            genres=known,
            bpm=(max(40.0, lo), min(220.0, hi)),
            scales=tuple(dict.fromkeys(scales)) or SCALES,
            energy=near(v.energy),
            density=near(v.density),
            brightness=near(v.brightness),
        )

    def contains(self, c: Controls) -> bool:
        def inside(value: float, bounds: tuple[float, float], tol: float = 1e-4) -> bool:
            return bounds[0] - tol <= value <= bounds[1] + tol  # requests are rounded

        palettes = self.palettes.get(c.genre) if self.palettes else None
        return (
            c.genre in self.genres
            and inside(c.bpm, self.bpm, 0.05)
            and c.scale in self.scales
            and all(inside(getattr(c, u), getattr(self, u)) for u in UNITS)
            and inside(c.swing, self.swing)
            and c.bass_level in self.bass_levels
            and (palettes is None or c.palette in palettes)
        )

    def sample(self, rng: np.random.Generator, n: int) -> list[Controls]:
        c = self.sample_arrays(rng, n)
        return [c.at(i) for i in range(n)]

    def sample_arrays(self, rng: np.random.Generator, n: int) -> Candidates:
        genre_ids = np.array([_GENRE_INDEX[g] for g in self.genres])
        genre = genre_ids[rng.integers(len(genre_ids), size=n)]
        return Candidates(
            genre=genre,
            bpm=rng.uniform(*self.bpm, size=n),
            scale=np.array([_SCALE_INDEX[s] for s in self.scales])[
                rng.integers(len(self.scales), size=n)
            ],
            energy=rng.uniform(*self.energy, size=n),
            density=rng.uniform(*self.density, size=n),
            brightness=rng.uniform(*self.brightness, size=n),
            swing=rng.uniform(*self.swing, size=n),
            bass=np.array([BASS_LEVELS.index(b) for b in self.bass_levels])[
                rng.integers(len(self.bass_levels), size=n)
            ],
            palette=self._palettes(genre, rng),
        )

    def _palettes(self, genre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = np.empty(len(genre), dtype=int)
        for gi in np.unique(genre):
            mask = genre == gi
            name = GENRES[int(gi)]
            allowed = self.palettes.get(name) if self.palettes else None
            if allowed:
                out[mask] = np.asarray(allowed)[rng.integers(len(allowed), size=int(mask.sum()))]
            else:
                out[mask] = rng.integers(palette_count(name), size=int(mask.sum()))
        return out


# -- the model ----------------------------------------------------------------------------------


@dataclass
class Observation:
    controls: Controls
    reward: float
    weight: float
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {"c": self.controls.as_dict(), "r": self.reward, "w": self.weight, "at": self.at}


@dataclass
class Choice:
    """What the model picked and what it expected of it."""

    controls: Controls
    expected: float  # posterior mean reward
    sampled: float  # the Thompson draw it won with
    candidates: int


class ListenerModel:
    """One listener's model. Not thread-safe: the radio calls it under its own lock."""

    def __init__(self, prior: Prior | None = None) -> None:
        self.prior = prior or Prior()
        self.observations: list[Observation] = []
        self.embedding = EmbeddingModel()
        self.sound = SoundModel()
        self._posterior: tuple[np.ndarray, np.ndarray] | None = None

    # -- learning --------------------------------------------------------------------------

    def observe(self, controls: Controls, reward: float, weight: float = 1.0) -> None:
        if not -1.0 <= reward <= 1.0:
            raise UserFacingError(f"A reward must lie in [-1, 1], not {reward}.")
        at = datetime.now(UTC).isoformat(timespec="seconds")
        self.observations.append(Observation(controls, float(reward), float(weight), at))
        del self.observations[:-MAX_OBSERVATIONS]
        self._posterior = None

    def forget(self) -> None:
        """Everything learned, gone; the prior (onboarding, history) stays."""
        self.observations.clear()
        self.embedding = EmbeddingModel()
        self.sound.clear()
        self._posterior = None

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, Cholesky factor of the precision) of the weights, cached until the next
        observation."""
        if self._posterior is None:
            with _BLAS.limit(limits=1, user_api="blas"):
                self._posterior = self._solve()
        return self._posterior

    def _anchors(self) -> Candidates:
        recent = self.observations[len(self.observations) - min(len(self.observations), ANCHORS) :]
        return Candidates.of([o.controls for o in recent])

    def features(self, c: Candidates) -> np.ndarray:
        """The fixed features, then the kernel to the recent requests."""
        return np.hstack([FEATURES.arrays(c), anchor_kernel(c, self._anchors())])

    def _solve(self) -> tuple[np.ndarray, np.ndarray]:
        n_anchors = min(len(self.observations), ANCHORS)
        variance = np.concatenate([FEATURES.prior_variance, np.full(n_anchors, ANCHOR_VARIANCE)])
        precision0 = 1.0 / variance
        a = np.diag(precision0)
        b = precision0 * np.concatenate([self.prior.mean(), np.zeros(n_anchors)])
        if self.observations:
            phi = self.features(Candidates.of([o.controls for o in self.observations]))
            n = len(self.observations)
            fade = FORGET ** np.arange(n - 1, -1, -1)
            w = fade * np.array([o.weight for o in self.observations]) / NOISE
            r = np.array([o.reward for o in self.observations])
            a = a + (phi * w[:, None]).T @ phi
            b = b + phi.T @ (w * r)
        chol = np.linalg.cholesky(a)
        return _chol_solve(chol, b), chol

    def expected(self, controls: Sequence[Controls]) -> np.ndarray:
        mean, _ = self.posterior()
        return self.features(Candidates.of(controls)) @ mean

    # -- choosing --------------------------------------------------------------------------

    def choose(
        self,
        bounds: Bounds,
        rng: np.random.Generator,
        *,
        n_random: int = 240,
        n_local: int = 80,
    ) -> Choice:
        """Thompson sampling: draw one plausible taste from the posterior and ask for the
        best request under it, among random requests and variations of liked ones."""
        with _BLAS.limit(limits=1, user_api="blas"):
            return self._choose(bounds, rng, n_random, n_local)

    def propose(
        self, bounds: Bounds, rng: np.random.Generator, k: int, *, near_liked: int = 0
    ) -> list[Choice]:
        """``k`` candidates for an audition: ``k - near_liked`` best requests, each under
        its own posterior draw (as varied as the model is unsure), and up to
        ``near_liked`` small variations of a recently liked request with a new seed ("that
        again, a little different" — whether it still sounds right, the audition hears)."""
        with _BLAS.limit(limits=1, user_api="blas"):
            engine = engine_model.shipped() if len(self.sound) >= 2 else None
            if engine is not None:
                return self._propose_by_sound(bounds, rng, k, engine)
            local = self._local(bounds, rng, near_liked) if near_liked > 0 else None
            near = [local.at(i) for i in range(len(local))] if local is not None else []
            expected = self.features(Candidates.of(near)) @ self.posterior()[0] if near else []
            drawn = [
                self._choose(bounds, rng, 240 // k + 40, 80 // k + 20) for _ in range(k - len(near))
            ]
        return drawn + [
            Choice(c, float(e), float(e), 1) for c, e in zip(near, expected, strict=True)
        ]

    def _propose_by_sound(
        self, bounds: Bounds, rng: np.random.Generator, k: int, engine: EngineSoundModel
    ) -> list[Choice]:
        """``k`` candidates the two models agree on: a pool of random requests and
        variations of liked ones, each scored by a joint Thompson draw of the sound model
        over its *predicted* sound plus :data:`REQUEST_SHARE` of a request-model draw;
        each of the ``k`` draws contributes its best candidate not yet taken. What a
        listener judges lives in the sound, so the sound model steers what is auditioned,
        not only which audition wins."""
        mean, chol = self._solved()
        pool = self._pool(bounds, rng, SOUND_POOL_RANDOM, SOUND_POOL_LOCAL)
        phi = self.features(pool)
        spread = np.resize(np.asarray(PROPOSAL_SPREAD), k)
        predicted = engine.predict(pool)
        if self.sound.searching():  # nothing liked lately: over the simple tastes still possible
            heard = engine.heard_tempo(pool)
            by_sound = self.sound.rule_draws(predicted, rng, k, engine.residual, heard)
        else:
            by_sound = self.sound.draws(predicted, rng, k, engine.residual, spread)
        z = rng.standard_normal((k, len(mean))) * spread[:, None]
        by_request = phi @ (mean[:, None] + EXPLORE * solve_triangular(chol.T, z.T, lower=False))
        taken: list[int] = []
        sampled: list[float] = []
        for j in range(k):
            score = by_sound[j] + REQUEST_SHARE * by_request[:, j]
            score[taken] = -np.inf
            best = int(np.argmax(score))
            taken.append(best)
            sampled.append(float(score[best]))
        expected = phi[taken] @ mean
        return [
            Choice(pool.at(i), float(e), s, len(pool))
            for i, e, s in zip(taken, expected, sampled, strict=True)
        ]

    def _choose(
        self, bounds: Bounds, rng: np.random.Generator, n_random: int, n_local: int
    ) -> Choice:
        mean, chol = self._solved()
        candidates = self._pool(bounds, rng, n_random, n_local)
        phi = self.features(candidates)
        z = rng.standard_normal(len(mean))
        draw = mean + EXPLORE * solve_triangular(chol.T, z, lower=False)
        sampled = phi @ draw
        best = int(np.argmax(sampled))
        return Choice(
            candidates.at(best), float(phi[best] @ mean), float(sampled[best]), len(candidates)
        )

    def _solved(self) -> tuple[np.ndarray, np.ndarray]:
        """The posterior, inside a caller's one-thread BLAS limit (``posterior`` sets its own)."""
        if self._posterior is None:
            self._posterior = self._solve()
        return self._posterior

    def _pool(
        self, bounds: Bounds, rng: np.random.Generator, n_random: int, n_local: int
    ) -> Candidates:
        """Random requests within ``bounds``, then variations of recently liked ones."""
        parts = [bounds.sample_arrays(rng, n_random)]
        local = self._local(bounds, rng, n_local)
        if local is not None:
            parts.append(local)
        return Candidates.concat(parts)

    def _local(self, bounds: Bounds, rng: np.random.Generator, n: int) -> Candidates | None:
        """Small variations of recent liked requests: exploitation needs to be able to ask
        for "that again, a little different"."""
        liked = [
            o.controls
            for o in self.observations[-40:]
            if o.reward > 0 and bounds.contains(o.controls)
        ]
        if not liked or n <= 0:
            return None
        base = Candidates.of(liked)
        pick = rng.integers(len(liked), size=n)
        other = bounds.sample_arrays(rng, n)
        keep_genre = rng.random(n) < 0.7
        genre = np.where(keep_genre, base.genre[pick], other.genre)
        keep_scale = rng.random(n) < 0.7

        def jitter(values: np.ndarray, sd: float, lo_hi: tuple[float, float]) -> np.ndarray:
            return np.clip(values[pick] + rng.normal(0, sd, n), *lo_hi)

        return Candidates(
            genre=genre,
            bpm=jitter(base.bpm, 6.0, bounds.bpm),
            scale=np.where(keep_scale, base.scale[pick], other.scale),
            energy=jitter(base.energy, 0.1, bounds.energy),
            density=jitter(base.density, 0.1, bounds.density),
            brightness=jitter(base.brightness, 0.1, bounds.brightness),
            swing=jitter(base.swing, 0.1, bounds.swing),
            bass=base.bass[pick],
            palette=np.where(keep_genre, base.palette[pick], other.palette),
        )

    # -- explaining ------------------------------------------------------------------------

    def explain(self, controls: Controls, recent: int = 12) -> str | None:
        """What was learned, in words, when it is true of this track: "Faster and darker
        than your last picks, because you skipped the slow, bright ones."

        A dimension is named only when the listener's recent likes and skips differ on it
        and this track lies on the liked side; otherwise there is nothing honest to say.
        """
        window = self.observations[-recent:]
        liked = [o.controls for o in window if o.reward > 0]
        skipped = [o.controls for o in window if o.reward < 0]
        if not liked and not skipped:
            return None
        said: list[tuple[float, str, str]] = []
        for name, span, (up, down), (hi_adj, lo_adj) in _DIMENSIONS:
            value = _dimension(controls, name)
            mean_l = float(np.mean([_dimension(c, name) for c in liked])) if liked else None
            mean_s = float(np.mean([_dimension(c, name) for c in skipped])) if skipped else None
            if mean_s is not None:
                gap = (value - mean_s) / span
                if abs(gap) < 0.15 or (
                    mean_l is not None and abs(value - mean_l) > abs(value - mean_s)
                ):
                    continue
                said.append((abs(gap), up if gap > 0 else down, lo_adj if gap > 0 else hi_adj))
        if skipped and said:
            said.sort(reverse=True)
            words = [s[1] for s in said[:2]]
            adjs = [s[2] for s in said[:2]]
            return (
                f"{_and(words).capitalize()} than the tracks you skipped, because you skipped "
                f"the {', '.join(adjs)} ones."
            )
        if liked and not skipped:
            return "Close to what you liked so far; the radio still tries new things."
        return None

    # -- state -----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "observations": [o.as_dict() for o in self.observations],
            "embedding": self.embedding.state(),
            "sound": self.sound.state(),
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any] | None, prior: Prior | None = None
    ) -> ListenerModel:
        model = cls(prior)
        if not state:
            return model
        if int(state.get("version", 0)) != STATE_VERSION:
            return model  # an older model cannot be read: start afresh rather than misread
        for raw in state.get("observations", []):
            controls = Controls.from_params(raw.get("c", {}))
            if controls is None:
                continue
            model.observations.append(
                Observation(
                    controls, float(raw["r"]), float(raw.get("w", 1.0)), str(raw.get("at", ""))
                )
            )
        model.embedding = EmbeddingModel.from_state(state.get("embedding"))
        model.sound = SoundModel.from_state(state.get("sound"))
        return model


_DIMENSIONS: tuple[tuple[str, float, tuple[str, str], tuple[str, str]], ...] = (
    ("bpm", 120.0, ("faster", "slower"), ("fast", "slow")),
    ("energy", 1.0, ("more energetic", "calmer"), ("energetic", "calm")),
    ("density", 1.0, ("busier", "sparser"), ("busy", "sparse")),
    ("brightness", 1.0, ("brighter", "darker"), ("bright", "dark")),
    ("minor", 1.0, ("more in minor keys", "more in major keys"), ("minor-key", "major-key")),
)


def _dimension(c: Controls, name: str) -> float:
    if name == "minor":
        return 1.0 if c.scale in MINOR_SCALES else 0.0
    return float(getattr(c, name))


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _chol_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = solve_triangular(chol, b, lower=True)
    return solve_triangular(chol.T, y, lower=False)


# -- the audio side ------------------------------------------------------------------------------


class EmbeddingModel:
    """Reward as a linear function of the track's embedding, seen through a fixed random
    projection to :data:`EMBED_DIMS` dimensions (per space: vectors of two spaces never
    meet). It needs no request, so it can judge a track that already exists."""

    def __init__(self, space: str | None = None) -> None:
        self.space = space
        self.rows: list[tuple[list[float], float, float]] = []  # (projected, reward, weight)

    @staticmethod
    def _projection(space: str, dim: int) -> np.ndarray:
        seed = int.from_bytes(space.encode()[:8].ljust(8, b"\0"), "little")
        rng = np.random.default_rng(seed)
        return rng.standard_normal((dim, EMBED_DIMS)) / math.sqrt(EMBED_DIMS)

    def project(self, vector: Iterable[float], space: str) -> np.ndarray:
        v = np.asarray(list(vector), dtype=float)
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            raise UserFacingError("A zero embedding cannot be judged.")
        return (v / norm) @ self._projection(space, len(v)) * math.sqrt(EMBED_DIMS)

    def observe(self, vector: Iterable[float], space: str, reward: float, weight: float) -> None:
        if self.space is not None and space != self.space:
            self.rows = []  # a new space: what was learned in the old one does not transfer
        self.space = space
        p = self.project(vector, space)
        self.rows.append(([round(float(x), 4) for x in p], float(reward), float(weight)))
        del self.rows[:-MAX_OBSERVATIONS]

    def predict(self, vector: Iterable[float], space: str) -> float | None:
        """Posterior mean reward of a track, or None before any evidence in this space."""
        if space != self.space or len(self.rows) < 3:
            return None
        x = np.array([r[0] for r in self.rows])
        n = len(self.rows)
        w = FORGET ** np.arange(n - 1, -1, -1) * np.array([r[2] for r in self.rows]) / NOISE
        y = np.array([r[1] for r in self.rows])
        a = np.eye(EMBED_DIMS) / 0.3 + (x * w[:, None]).T @ x
        mean = np.linalg.solve(a, x.T @ (w * y))
        return float(self.project(vector, space) @ mean)

    def state(self) -> dict[str, Any]:
        return {"space": self.space, "rows": self.rows}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> EmbeddingModel:
        model = cls()
        if state:
            model.space = state.get("space")
            model.rows = [(list(r[0]), float(r[1]), float(r[2])) for r in state.get("rows", [])]
        return model

# SPDX-License-Identifier: MIT
"""The listener's taste as one vector, how well a track matches it, and why.

``users.taste_vector`` is the weighted mean of the vectors of what the user liked and
played, in one vector space (``users.embedding_space``):

* a liked track weighs :data:`LIKE_WEIGHT`, a history entry ``log2(1 + play_count)``;
* a file of the listener's own music folder (``catalogue add``: ``source = 'local'``)
  weighs as a like: they chose it by hand, which says as much as a like (only this
  device holds such rows; they are never pulled from or pushed to a shared database);
* both fade with age, halving every :data:`HALF_LIFE_DAYS` days;
* the onboarding preferences add a prototype vector (:func:`cold_start_vector`) of
  weight :data:`PREFERENCE_WEIGHT`: it is all there is for a new user and fades into
  the background as real listening accumulates.

Between rebuilds, likes pull the vector toward the track (:data:`LIKE_RATE`) and skips
push it away (:data:`SKIP_RATE`); skips are not stored, so a rebuild forgets them.

Cold start renders a short clip of each preferred genre with the procedural generator
(fixed seed, the preferred vibe and bass level), embeds it in the active space and
averages. The prototypes are therefore in the same space as everything else, and
cached per process.

Match percentage (:func:`match_percentage`) is a calibrated probability, not a raw
cosine: ``100 / (1 + exp(-(cos - center) / scale))`` with per-space constants
(:data:`CALIBRATION`). For ``descriptor-v1`` they are a logistic fit (balanced classes)
of "same soundtrack" against the cosine between a taste made of five tracks and a held
out track, on the benchmark corpus (``tests/bench/bench_embedding.py``): 50 % means as
likely to belong to the taste's music as not. MERT spaces have estimated constants
(time-averaged MERT vectors sit around cosine 0.9 with each other); they are marked
unmeasured until a checkpoint can be benchmarked.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import and_, func, select

from db.models import Embedding, User, UserHistory, UserLibraryEntry
from player.embedding.base import check_vector

if TYPE_CHECKING:
    from db.database import Database
    from player.embedding.base import Embedder
    from player.generation.protocol import Generator

log = logging.getLogger(__name__)

LIKE_WEIGHT = 3.0
HALF_LIFE_DAYS = 90.0
PREFERENCE_WEIGHT = 2.0
LIKE_RATE = 0.15
SKIP_RATE = 0.08
#: space -> (center, scale, measured) of the logistic match calibration.
CALIBRATION: dict[str, tuple[float, float, bool]] = {
    "descriptor-v1": (0.012, 0.385, True),
    "mert-v1-95m": (0.9, 0.03, False),
    "mert-v1-330m": (0.9, 0.03, False),
}
DEFAULT_CALIBRATION = (0.5, 0.1, False)
PROTOTYPE_SECONDS = 6.0
PROTOTYPE_SEED = 20261125


@dataclass(frozen=True)
class Contribution:
    """One piece of evidence about the taste: a liked or played track."""

    vector: np.ndarray
    weight: float
    title: str
    artist: str
    kind: str  # "like" | "local" | "history"


def _unit(v: np.ndarray) -> np.ndarray | None:
    v = np.asarray(v, dtype=np.float64)
    n = float(np.linalg.norm(v))
    if not math.isfinite(n) or n < 1e-9:
        return None
    return (v / n).astype(np.float32)


def _recency(when: datetime | None, now: datetime) -> float:
    if when is None:
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    age_days = max(0.0, (now - when).total_seconds() / 86400.0)
    return 0.5 ** (age_days / HALF_LIFE_DAYS)


def _active_embedder(embedder: Embedder | None) -> Embedder:
    if embedder is not None:
        return embedder
    from player.embedding import active_embedder

    return active_embedder()


def _title_of(track_id: str | None, track_name: str, source: str) -> str:
    """Display title; a generated track's stored name may be a placeholder."""
    if source == "infinite" and track_id:
        try:
            from player.library import track_title

            return track_title(uuid.UUID(track_id))
        except (ImportError, ValueError):
            pass
    return track_name


def contributions(session: Any, user_id: uuid.UUID, space: str) -> list[Contribution]:
    """The user's likes, own files and history that have a vector in ``space``, with
    their weights."""
    now = datetime.now(UTC)
    out: list[Contribution] = []
    likes = session.execute(
        select(
            Embedding.vector,
            Embedding.track_id,
            Embedding.track_name,
            Embedding.artist,
            Embedding.source,
            UserLibraryEntry.added_at,
        )
        .join(
            Embedding,
            Embedding.track_id == func.cast(UserLibraryEntry.track_id, Embedding.track_id.type),
        )
        .where(UserLibraryEntry.user_id == user_id, Embedding.embedding_space == space)
    ).all()
    for r in likes:
        out.append(
            Contribution(
                np.asarray(r.vector, dtype=np.float32),
                LIKE_WEIGHT * _recency(r.added_at, now),
                _title_of(r.track_id, r.track_name, r.source),
                r.artist,
                "like",
            )
        )
    # The listener's own files: weighed as likes, aged from when they were added. A file
    # that is also liked counts once.
    liked = {r.track_id for r in likes}
    own = session.execute(
        select(
            Embedding.vector,
            Embedding.track_id,
            Embedding.track_name,
            Embedding.artist,
            Embedding.created_at,
        ).where(Embedding.source == "local", Embedding.embedding_space == space)
    ).all()
    for r in own:
        if r.track_id in liked:
            continue
        out.append(
            Contribution(
                np.asarray(r.vector, dtype=np.float32),
                LIKE_WEIGHT * _recency(r.created_at, now),
                r.track_name,
                r.artist,
                "local",
            )
        )
    # Two equi-joins rather than one OR-join, so Postgres can hash/index them: by
    # external id first, then by lower-cased title and artist for entries not matched.
    columns = (
        UserHistory.id,
        Embedding.vector,
        Embedding.track_id,
        Embedding.track_name,
        Embedding.artist,
        Embedding.source,
        UserHistory.played_at,
        UserHistory.play_count,
    )
    mine = (UserHistory.user_id == user_id, Embedding.embedding_space == space)
    by_id = session.execute(
        select(*columns).join(Embedding, Embedding.track_id == UserHistory.track_id).where(*mine)
    ).all()
    by_name = session.execute(
        select(*columns)
        .join(
            Embedding,
            and_(
                func.lower(Embedding.track_name) == func.lower(UserHistory.track_name),
                func.lower(Embedding.artist) == func.lower(UserHistory.artist),
            ),
        )
        .where(*mine)
    ).all()
    matched: set[Any] = set()
    for r in [*by_id, *by_name]:
        if r.id in matched:
            continue
        matched.add(r.id)
        plays = max(1, int(r.play_count or 1))
        out.append(
            Contribution(
                np.asarray(r.vector, dtype=np.float32),
                math.log2(1 + plays) * _recency(r.played_at, now),
                _title_of(r.track_id, r.track_name, r.source),
                r.artist,
                "history",
            )
        )
    return out


_PROTOTYPES: dict[tuple[str, str | None, str, str], np.ndarray] = {}
_PROTO_LOCK = threading.Lock()


def genre_prototype(
    genre: str,
    embedder: Embedder,
    vibe: str | None = None,
    bass: str = "medium",
    generator: Generator | None = None,
) -> np.ndarray | None:
    """The vector of a short procedural render of ``genre`` (None if it cannot be made).

    ``generator``: a procedural engine to render with; the app passes its engine process
    (:mod:`player.generation.isolated`) so the render stays off the GUI's interpreter.
    """
    key = (genre.lower(), vibe, bass, embedder.space)
    with _PROTO_LOCK:
        if key in _PROTOTYPES:
            return _PROTOTYPES[key]
    try:
        from base.errors import UserFacingError
        from player.generation.protocol import GenerationRequest
    except ImportError:  # pragma: no cover - generation area absent
        return None
    try:
        request = GenerationRequest(
            genres=[genre],
            vibe=vibe,
            bass_level=bass,
            seed=PROTOTYPE_SEED,
            duration_seconds=PROTOTYPE_SECONDS,
        )
        engine = generator
        if engine is None or engine.name != "procedural":  # what defines a prototype
            from player.generation.procedural import ProceduralGenerator

            engine = ProceduralGenerator()
        result = engine.generate(request)
        vector = embedder.embed(result.render(), result.samplerate)
    except UserFacingError:
        return None  # an unknown genre or vibe in the profile: ignore it
    with _PROTO_LOCK:
        _PROTOTYPES[key] = vector
    return vector


def _profile_genres(profile: dict[str, Any] | None) -> list[str]:
    genres = (profile or {}).get("genres") or []
    return [g for g in genres if isinstance(g, str) and g.strip()][:6]


def cold_start_vector(
    preferences_profile: dict[str, Any] | None,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
) -> np.ndarray | None:
    """A taste vector from the onboarding answers alone (None when they name no known genre)."""
    profile = preferences_profile or {}
    emb = _active_embedder(embedder)
    vibe = profile.get("vibe") if isinstance(profile.get("vibe"), str) else None
    level = profile.get("bass_level")
    bass = level if isinstance(level, str) and level in ("low", "medium", "high") else "medium"
    vectors = []
    for genre in _profile_genres(profile):
        v = genre_prototype(genre, emb, vibe, bass, generator)
        if v is None and vibe is not None:
            v = genre_prototype(genre, emb, None, bass, generator)  # the vibe was unknown
        if v is not None:
            vectors.append(v)
    if not vectors:
        return None
    return _unit(np.mean(vectors, axis=0))


def combine(items: list[Contribution], preference: np.ndarray | None) -> np.ndarray | None:
    """Weighted mean of the evidence plus the preference prototype, unit length."""
    total = np.zeros(0)
    for c in items:
        v = _unit(c.vector)
        if v is None or c.weight <= 0:
            continue
        total = v * c.weight if total.size == 0 else total + v * c.weight
    if preference is not None:
        p = _unit(preference)
        if p is not None:
            total = p * PREFERENCE_WEIGHT if total.size == 0 else total + p * PREFERENCE_WEIGHT
    return _unit(total) if total.size else None


def _save(session: Any, user_id: uuid.UUID, vector: np.ndarray | None, space: str) -> None:
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    user.taste_vector = None if vector is None else check_vector(vector)
    user.embedding_space = None if vector is None else space


def rebuild_taste(
    database: Database,
    user_id: uuid.UUID,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
) -> np.ndarray | None:
    """Recompute ``users.taste_vector`` from scratch; returns it (None: nothing to go on).

    ``generator`` renders the onboarding genres' prototypes (see :func:`genre_prototype`).
    """
    uid = uuid.UUID(str(user_id))
    emb = _active_embedder(embedder)
    with database.user_session(uid) as s:
        items = contributions(s, uid, emb.space)
        profile = s.scalar(select(User.preferences_profile).where(User.id == uid))
    preference = cold_start_vector(profile, emb, generator) if _profile_genres(profile) else None
    vector = combine(items, preference)
    with database.user_session(uid) as s:
        _save(s, uid, vector, emb.space)
    return vector


def _nudge(
    database: Database, user_id: uuid.UUID, track_id: Any, rate: float, embedder: Embedder | None
) -> np.ndarray | None:
    from player.embedding.store import track_vector

    uid = uuid.UUID(str(user_id))
    emb = _active_embedder(embedder)
    with database.user_session(uid) as s:
        user = s.execute(select(User).where(User.id == uid).with_for_update()).scalar_one_or_none()
        if user is None:
            raise LookupError(f"no user {uid}")
        track = track_vector(s, track_id, emb.space)
        taste = None
        if user.taste_vector is not None and user.embedding_space == emb.space:
            taste = np.asarray(user.taste_vector, dtype=np.float64)
        if track is None:
            return None if taste is None else taste.astype(np.float32)
        if taste is None:
            if rate < 0:
                return None  # nothing to move away from yet
            new = _unit(track)
        elif rate > 0:
            new = _unit(taste + rate * (track - taste))
        else:
            new = _unit(taste + rate * track)
        if new is None:
            return None
        _save(s, uid, new, emb.space)
        return new


def record_like(
    database: Database, user_id: uuid.UUID, track_id: Any, embedder: Embedder | None = None
) -> np.ndarray | None:
    """Move the taste toward a liked track (the like itself is stored by the library)."""
    return _nudge(database, user_id, track_id, LIKE_RATE, embedder)


def record_skip(
    database: Database, user_id: uuid.UUID, track_id: Any, embedder: Embedder | None = None
) -> np.ndarray | None:
    """Move the taste away from a skipped track."""
    return _nudge(database, user_id, track_id, -SKIP_RATE, embedder)


def cosine(a: Any, b: Any) -> float:
    ua, ub = _unit(np.asarray(a)), _unit(np.asarray(b))
    if ua is None or ub is None:
        return 0.0
    return float(np.clip(np.dot(ua, ub), -1.0, 1.0))


def match_percentage(taste_vec: Any, track_vec: Any, space: str = "descriptor-v1") -> int:
    """How well a track fits a taste, 0..100 (calibrated; see the module docstring)."""
    if taste_vec is None or track_vec is None:
        return 0
    center, scale, _ = CALIBRATION.get(space, DEFAULT_CALIBRATION)
    z = (cosine(taste_vec, track_vec) - center) / scale
    return round(100.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))))


def _quote(title: str, artist: str) -> str:
    if artist and artist not in ("Infinite Player", "Unknown artist"):
        return f"“{title}” by {artist}"
    return f"“{title}”"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def explain(
    database: Database,
    user_id: uuid.UUID,
    track_id: Any,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
) -> str:
    """ "Because you like …": the liked/played tracks, artists and preferences nearest the track.

    Evidence is ranked by weight x similarity to the track; the two strongest tracks
    are named (or an artist, when several of theirs contribute), then the preferred
    genre whose prototype is nearest. Templates only; wording is deterministic.
    """
    from player.embedding.store import track_vector

    uid = uuid.UUID(str(user_id))
    emb = _active_embedder(embedder)
    with database.user_session(uid) as s:
        target = track_vector(s, track_id, emb.space)
        items = contributions(s, uid, emb.space) if target is not None else []
        profile = s.scalar(select(User.preferences_profile).where(User.id == uid)) or {}
        tags = s.scalar(select(Embedding.genre).where(Embedding.track_id == str(track_id))) or []
    reasons: list[str] = []
    if target is not None and items:
        scored = sorted(
            ((c.weight * cosine(c.vector, target), c) for c in items if str(c.title)),
            key=lambda x: -x[0],
        )
        scored = [(sc, c) for sc, c in scored if sc > 0]
        by_artist: dict[str, float] = {}
        for sc, c in scored:
            if c.artist and c.artist not in ("Infinite Player", "Unknown artist"):
                by_artist[c.artist] = by_artist.get(c.artist, 0.0) + sc
        seen: set[str] = set()
        for _score, c in scored:
            if len(reasons) == 2:
                break
            if c.artist in by_artist and sum(1 for _, d in scored if d.artist == c.artist) >= 3:
                label = c.artist
            else:
                label = _quote(c.title, c.artist)
            if label not in seen:
                seen.add(label)
                reasons.append(label)
    genres = _profile_genres(profile)
    liked_genre = None
    matching = [g for g in genres if g.lower() in {str(t).lower() for t in tags}]
    if matching:
        liked_genre = matching[0]
    elif target is not None and genres:
        best = -2.0
        for g in genres:
            proto = genre_prototype(g, emb, None, "medium", generator)
            if proto is not None and cosine(proto, target) > best:
                best, liked_genre = cosine(proto, target), g
    if reasons and liked_genre:
        return f"Because you like {_and(reasons)}, and {liked_genre}"
    if reasons:
        return f"Because you like {_and(reasons)}"
    if liked_genre:
        vibe = profile.get("vibe")
        suffix = f" with a {vibe} vibe" if isinstance(vibe, str) and vibe else ""
        return f"Because you like {liked_genre}{suffix}"
    return "Something new to explore"

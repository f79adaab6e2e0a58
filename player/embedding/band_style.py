"""A band's style vector: the direction of its tracks in one embedding space.

One implementation for everyone who changes it: the bands service after a band's tracks
change, and re-embedding after the library moves to another space (both used to compute
it, differently). It lives with the embeddings because it is built from them, so the
re-embedding job can use it without importing the bands area above it.

The vector is the re-normalised mean of the band's track vectors, recomputed in the
caller's transaction under a row lock on the band, so two concurrent edits cannot leave a
mean of a set that never existed. A band with no embedded tracks yet borrows the mean of
the shared embeddings tagged with its genres (so a band made "from a style" can be
discovered before its first track), or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import ARRAY, Text, func, literal, select
from sqlalchemy.orm import Session

from db.models import Band, BandTrack, Embedding
from player.embedding.store import track_vectors

#: At most this many genre-tagged shared embeddings make a track-less band's style.
PRIOR_LIMIT = 500


def mean_direction(vectors: Iterable[np.ndarray]) -> np.ndarray | None:
    """The unit-length mean of unit-normalised vectors, or None when there is none.

    Each vector is normalised first so a loud outlier cannot dominate; the mean is then
    re-normalised because cosine search compares directions. Opposite vectors cancel to
    zero, which has no direction: None.
    """
    rows = []
    for v in vectors:
        arr = np.asarray(v, dtype=np.float64).ravel()
        length = float(np.linalg.norm(arr))
        if np.isfinite(length) and length > 0:
            rows.append(arr / length)
    if not rows:
        return None
    mean = np.mean(rows, axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-9:
        return None
    return (mean / norm).astype(np.float32)


def band_space(session: Session, track_ids: Sequence[uuid.UUID]) -> str | None:
    """The vector space most of these tracks are embedded in (None: none embedded).

    Vectors of different spaces never mix; while a re-embed is under way a band's tracks
    can sit in two spaces, and the majority's is the one the band keeps meanwhile.
    """
    if not track_ids:
        return None
    row = session.execute(
        select(Embedding.embedding_space, func.count().label("n"))
        .where(
            Embedding.track_id.in_([str(t) for t in track_ids]),
            Embedding.embedding_space.is_not(None),
        )
        .group_by(Embedding.embedding_space)
        .order_by(func.count().desc(), Embedding.embedding_space)
        .limit(1)
    ).first()
    return None if row is None else str(row.embedding_space)


def _genre_prior(session: Session, genres: list[str]) -> tuple[np.ndarray | None, str | None]:
    """The mean of the shared embeddings tagged with any of ``genres``, in the space most
    of them are in."""
    if not genres:
        return None, None
    tagged = Embedding.genre.op("&&")(literal(genres, ARRAY(Text)))
    space = session.scalar(
        select(Embedding.embedding_space)
        .where(tagged, Embedding.embedding_space.is_not(None))
        .group_by(Embedding.embedding_space)
        .order_by(func.count().desc(), Embedding.embedding_space)
        .limit(1)
    )
    if space is None:
        return None, None
    prior = session.scalars(
        select(Embedding.vector)
        .where(tagged, Embedding.embedding_space == space)
        .limit(PRIOR_LIMIT)
    ).all()
    return mean_direction(prior), space


def refresh_band_style(session: Session, band_id: uuid.UUID) -> np.ndarray | None:
    """Recompute and store a band's ``style_vector`` and ``embedding_space`` from its
    tracks, holding the band's row lock until ``session`` commits; returns the vector.

    The caller's session decides who acts: the bands service runs it as the band's owner
    (who has already checked ownership), re-embedding as the service role.
    """
    band = session.scalar(
        select(Band)
        .where(Band.id == band_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if band is None:
        return None
    tids = list(session.scalars(select(BandTrack.track_id).where(BandTrack.band_id == band_id)))
    space = band_space(session, tids)
    vector = None
    if space is not None:
        found = track_vectors(session, tids, space)
        vector = mean_direction(found[str(t)] for t in tids if str(t) in found)
    else:
        genres = list((band.generation_params or {}).get("genres") or ())
        vector, space = _genre_prior(session, genres)
    band.style_vector = vector
    band.embedding_space = space if vector is not None else None
    return vector

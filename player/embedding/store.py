# SPDX-License-Identifier: MIT
"""Vectors in the database, always with their space.

Conventions other areas rely on:

* a generated track's vector is the ``embeddings`` row with ``track_id`` = the
  ``generated_tracks.id`` as text and ``source = 'infinite'``;
* a listener's own file (``infinite-player embed --into-db``) has ``track_id`` =
  ``local:`` + its absolute path and ``source = 'local'``;
* every vector written here is checked first (768 finite values, non-zero) and stored
  unit-length with its ``embedding_space``, so no NaN ever reaches the database.

Writing ``embeddings`` needs the service role (the table is public to read, written by
the service); the functions take a session so the caller decides who acts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import Embedding
from player.embedding.base import check_vector

SOURCES = ("musicbrainz", "spotify", "fma", "jamendo", "infinite", "local", "apple", "youtube")
LOCAL_PREFIX = "local:"


def store_vector(
    session: Session,
    *,
    track_id: str | None,
    track_name: str,
    artist: str,
    vector: Sequence[float] | np.ndarray,
    space: str,
    source: str,
    genre: Sequence[str] | None = None,
) -> uuid.UUID:
    """Insert or replace (by ``track_id``) one vector; returns the row id."""
    if source not in SOURCES:
        raise ValueError(f"unknown embedding source {source!r}; expected one of {SOURCES}")
    if not space:
        raise ValueError("an embedding must name its space")
    unit = check_vector(vector)
    values: dict[str, Any] = {
        "track_id": track_id,
        "track_name": track_name,
        "artist": artist,
        "vector": unit,
        "embedding_space": space,
        "source": source,
    }
    if genre is not None:
        values["genre"] = list(genre)
    stmt = insert(Embedding).values(**values)
    if track_id is not None:
        update = {k: stmt.excluded[k] for k in values if k != "track_id"}
        stmt = stmt.on_conflict_do_update(index_elements=[Embedding.track_id], set_=update)
    row_id = session.execute(stmt.returning(Embedding.id)).scalar_one()
    return uuid.UUID(str(row_id))


def store_track_vector(
    session: Session,
    track_id: uuid.UUID | str,
    vector: Sequence[float] | np.ndarray,
    space: str,
    *,
    track_name: str = "Generated track",
    artist: str = "Infinite Player",
    genre: Sequence[str] | None = None,
    source: str = "infinite",
) -> uuid.UUID:
    """Store the vector of a generated track (``track_id`` = its ``generated_tracks.id``)."""
    return store_vector(
        session,
        track_id=str(track_id),
        track_name=track_name,
        artist=artist,
        vector=vector,
        space=space,
        source=source,
        genre=genre,
    )


def track_vector(
    session: Session, track_id: uuid.UUID | str, space: str | None = None
) -> np.ndarray | None:
    """The stored unit vector of a track, or None (also None when it is in another space)."""
    row = session.execute(
        select(Embedding.vector, Embedding.embedding_space).where(
            Embedding.track_id == str(track_id)
        )
    ).first()
    if row is None or row.vector is None:
        return None
    if space is not None and row.embedding_space != space:
        return None
    return np.asarray(row.vector, dtype=np.float32)


def track_vectors(
    session: Session, track_ids: Sequence[uuid.UUID | str], space: str
) -> dict[str, np.ndarray]:
    """Vectors in ``space`` of several tracks at once, keyed by ``track_id`` text."""
    if not track_ids:
        return {}
    rows = session.execute(
        select(Embedding.track_id, Embedding.vector).where(
            Embedding.track_id.in_([str(t) for t in track_ids]),
            Embedding.embedding_space == space,
        )
    ).all()
    return {r.track_id: np.asarray(r.vector, dtype=np.float32) for r in rows}


def space_counts(session: Session) -> dict[str | None, int]:
    """How many stored vectors each space holds (None: space unknown)."""
    from sqlalchemy import func

    rows = session.execute(
        select(Embedding.embedding_space, func.count()).group_by(Embedding.embedding_space)
    ).all()
    return {r[0]: int(r[1]) for r in rows}

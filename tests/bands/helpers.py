"""Rows the band tests need: a user's generated tracks with stored vectors."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np


def unit(seed: int, dim: int = 768) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


SPACE = "descriptor-v1"


def make_track(
    database: Any,
    user_id: uuid.UUID,
    vector: np.ndarray | None = None,
    *,
    status: str = "completed",
    space: str = SPACE,
) -> uuid.UUID:
    """A generated track of ``user_id``; its vector stored the way the embedding area does."""
    from db.models import GeneratedTrack
    from player.embedding.store import store_track_vector

    with database.service_session() as s:
        track = GeneratedTrack(
            user_id=user_id, url="file:///tmp/x.mp3", duration=180, mode="new", status=status
        )
        s.add(track)
        s.flush()
        if vector is not None:
            store_track_vector(s, track.id, vector, space)
        return track.id


def add_tagged_embedding(
    database: Any, vector: np.ndarray, genres: list[str], space: str = SPACE
) -> None:
    """A shared (catalogue) embedding tagged with genres, not tied to any generated track."""
    from player.embedding.store import store_vector

    with database.service_session() as s:
        store_vector(
            s,
            track_id=f"mbid:{uuid.uuid4()}",
            track_name="catalogue track",
            artist="someone",
            vector=vector,
            space=space,
            source="musicbrainz",
            genre=genres,
        )


def mean_unit(*vectors: np.ndarray) -> np.ndarray:
    m = np.mean([v / np.linalg.norm(v) for v in vectors], axis=0)
    return (m / np.linalg.norm(m)).astype(np.float32)

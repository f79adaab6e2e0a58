# SPDX-License-Identifier: MIT
"""Shared catalogue entries arrive from the shared database, in their space only, read as
the anonymous role, resumably, never over the listener's own files."""

from __future__ import annotations

import numpy as np
import pytest

from db.sync.catalogue import pull_catalogue
from player.embedding.store import store_vector
from player.similarity import similar_tracks


@pytest.fixture
def shared(pg_server):
    from db.database import Database
    from tests import pgtools

    url = pgtools.fresh_database(pg_server)
    db = Database(url)
    yield db
    db.close()
    pgtools.drop_database(pg_server, str(url.database))


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(768)
    return (v / np.linalg.norm(v)).astype(np.float32)


def put(db, track_id, space, source="musicbrainz", seed=0, name="t") -> None:
    with db.service_session() as s:
        store_vector(
            s,
            track_id=track_id,
            track_name=name,
            artist="a",
            vector=unit(seed),
            space=space,
            source=source,
        )


def ids(db) -> dict[str, tuple[str, str]]:
    from sqlalchemy import text

    with db.service_session() as s:
        rows = s.execute(text("select track_id, embedding_space, source from embeddings"))
        return {r[0]: (r[1], r[2]) for r in rows}


def test_pull_takes_its_space_only_resumes_and_keeps_local_files(database, shared, make_user):
    for i in range(5):
        put(shared, f"mb-{i}", "descriptor-v1", seed=i)
    put(shared, "mert-only", "mert-v1-95m", seed=9)
    put(shared, "mb-local-clash", "descriptor-v1", seed=10, name="shared name")
    put(database, "mb-local-clash", "descriptor-v1", source="local", seed=11, name="my file")

    first = pull_catalogue(database, shared, "descriptor-v1", page=2)
    assert first.pulled == 6 and first.pages == 3
    local = ids(database)
    assert "mert-only" not in local  # another space: never pulled
    assert all(local[f"mb-{i}"] == ("descriptor-v1", "musicbrainz") for i in range(5))
    assert local["mb-local-clash"] == ("descriptor-v1", "local")  # the listener's file wins

    put(shared, "mb-new", "descriptor-v1", seed=12)
    again = pull_catalogue(database, shared, "descriptor-v1", cursor=first.cursor)
    assert again.pulled == 1  # resumed after the cursor: only the new entry
    with database.user_session(make_user()) as s:
        hits = similar_tracks(s, unit(12), 1, "descriptor-v1")
    assert hits[0].track_id == "mb-new"

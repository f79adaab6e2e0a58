# SPDX-License-Identifier: MIT
"""The query vector goes to the server in pgvector's binary form (player.similarity
.query_vector) and finds exactly what the text form finds, on the real database."""

from __future__ import annotations

import numpy as np
import pytest

from player import similarity
from player.embedding.store import store_vector

from .test_store_search import unit

SPACE = "descriptor-v1"


def test_binary_and_text_query_vectors_find_the_same_tracks(
    database, make_user, monkeypatch: pytest.MonkeyPatch
):
    with database.service_session() as s:
        for i in range(30):
            store_vector(
                s,
                track_id=f"t{i}",
                track_name=f"t{i}",
                artist="a",
                vector=unit(i),
                space=SPACE,
                source="fma",
            )
    uid = make_user()
    query = unit(7) + 0.3 * unit(8)
    found = {}
    for binary in (True, False, True):  # the second binary run reuses the pooled connection
        monkeypatch.setattr(similarity, "BINARY_QUERY", binary)
        with database.user_session(uid) as s:
            hits = similarity.similar_tracks(s, query, 5, SPACE)
            if binary:
                assert s.connection().connection.info[similarity._DUMPER_READY] is True
        found[binary] = [(h.track_id, round(h.similarity, 5)) for h in hits]
    assert found[True] == found[False]
    assert found[True][0][0] == "t7"
    expected = float(np.dot(unit(7), query / np.linalg.norm(query)))
    assert abs(found[True][0][1] - expected) < 1e-4


def test_the_one_statement_search_sees_rows_pending_in_the_session(
    database, monkeypatch: pytest.MonkeyPatch
):
    """It runs on the driver's cursor, so it flushes first as the ORM's execute would."""
    from db.models import Embedding

    # As after the process's first search: no ORM statement runs before the search.
    monkeypatch.setattr(similarity, "_ITERATIVE_SCANS", True)
    with database.service_session() as s:
        s.add(
            Embedding(
                track_id="pending",
                track_name="p",
                artist="a",
                vector=unit(3),
                source="fma",
                embedding_space=SPACE,
            )
        )
        hits = similarity.similar_tracks(s, unit(3), 1, SPACE)
    assert [h.track_id for h in hits] == ["pending"]

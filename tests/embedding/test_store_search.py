# SPDX-License-Identifier: MIT
"""Vectors in Postgres: stored with their space, never NaN, searched within one space and
within what the acting user may see."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sqlalchemy import text

from db.models import Band, Embedding, GeneratedTrack
from player.embedding.store import space_counts, store_track_vector, store_vector, track_vector
from player.similarity import similar_public_bands, similar_tracks

SPACE = "descriptor-v1"


def unit(seed: int, near: np.ndarray | None = None, noise: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(768)
    if near is not None:
        v = near + noise * v / np.linalg.norm(v)
    return (v / np.linalg.norm(v)).astype(np.float32)


def make_track(database, user_id, **cols) -> uuid.UUID:
    with database.service_session() as s:
        track = GeneratedTrack(
            user_id=user_id, url="file:///nowhere.wav", duration=30, mode="new", **cols
        )
        s.add(track)
        s.flush()
        return track.id


def test_store_and_read_back_a_generated_track_vector(database, make_user):
    uid = make_user()
    tid = make_track(database, uid)
    v = unit(1) * 5.0  # stored unit length whatever the caller passes
    with database.service_session() as s:
        store_track_vector(s, tid, v, SPACE)
    with database.user_session(uid) as s:
        got = track_vector(s, tid)
        assert got is not None and abs(float(np.linalg.norm(got)) - 1) < 1e-5
        assert float(got @ unit(1)) > 0.9999
        assert track_vector(s, tid, "mert-v1-95m") is None  # another space: not comparable
        row = s.query(Embedding).filter_by(track_id=str(tid)).one()
        assert (row.source, row.embedding_space) == ("infinite", SPACE)
    # Re-embedding replaces the row (track_id is unique), space included.
    with database.service_session() as s:
        store_track_vector(s, tid, unit(2), "mert-v1-95m")
        assert space_counts(s) == {"mert-v1-95m": 1}
        assert float(track_vector(s, tid, "mert-v1-95m") @ unit(2)) > 0.9999


@pytest.mark.parametrize(
    "bad",
    [np.full(768, np.nan), np.zeros(768), np.ones(767), np.r_[np.ones(767), np.inf]],
    ids=["nan", "zero", "short", "inf"],
)
def test_bad_vectors_never_reach_the_database(database, bad):
    with database.service_session() as s, pytest.raises(ValueError):
        store_vector(
            s, track_id="x", track_name="t", artist="a", vector=bad, space=SPACE, source="local"
        )
    with database.service_session() as s:
        assert s.query(Embedding).count() == 0


def test_unknown_source_and_missing_space_are_refused(database):
    with database.service_session() as s:
        with pytest.raises(ValueError, match="source"):
            store_vector(
                s,
                track_id="x",
                track_name="t",
                artist="a",
                vector=unit(1),
                space=SPACE,
                source="napster",
            )
        with pytest.raises(ValueError, match="space"):
            store_vector(
                s,
                track_id="x",
                track_name="t",
                artist="a",
                vector=unit(1),
                space="",
                source="local",
            )


def test_schema_accepts_the_app_sources(database):
    with database.service_session() as s:
        for i, source in enumerate(("infinite", "local", "apple", "youtube", "fma")):
            store_vector(
                s,
                track_id=f"t{i}",
                track_name="t",
                artist="a",
                vector=unit(i),
                space=SPACE,
                source=source,
            )


def test_similar_tracks_stays_in_its_space_and_respects_visibility(database, make_user):
    alice, bob = make_user(), make_user()
    centre = unit(0)
    private = make_track(database, alice)
    with database.service_session() as s:
        band = Band(user_id=alice, name="Public Band", is_public=True)
        s.add(band)
        s.flush()
        band_id = band.id
    public = make_track(database, alice, band_id=band_id)
    with database.service_session() as s:
        store_track_vector(s, private, unit(1, centre, 0.1), SPACE)
        store_track_vector(s, public, unit(2, centre, 0.2), SPACE)
        store_vector(
            s,
            track_id="mb:1",
            track_name="Near",
            artist="Cat",
            vector=unit(3, centre, 0.3),
            space=SPACE,
            source="musicbrainz",
        )
        store_vector(
            s,
            track_id="mb:2",
            track_name="Far",
            artist="Cat",
            vector=unit(4),
            space=SPACE,
            source="musicbrainz",
        )
        # Nearest of all, but in another space: must never be returned.
        store_vector(
            s,
            track_id="mb:3",
            track_name="Other space",
            artist="X",
            vector=centre,
            space="mert-v1-95m",
            source="musicbrainz",
        )
    with database.user_session(alice) as s:
        hits = similar_tracks(s, centre, k=10, space=SPACE)
        assert [h.track_id for h in hits] == [str(private), str(public), "mb:1", "mb:2"]
        assert hits[0].similarity > hits[-1].similarity
    with database.user_session(bob) as s:
        hits = similar_tracks(s, centre, k=10, space=SPACE)
        assert str(private) not in [h.track_id for h in hits]  # alice's private track
        assert [h.track_id for h in hits] == [str(public), "mb:1", "mb:2"]
        assert [h.track_id for h in similar_tracks(s, centre, 1, SPACE)] == [str(public)]
        only_catalogue = similar_tracks(
            s, centre, 10, SPACE, sources=("musicbrainz",), exclude=("mb:2",)
        )
        assert [h.track_id for h in only_catalogue] == ["mb:1"]
    with database.anon_session() as s:
        assert str(private) not in [h.track_id for h in similar_tracks(s, centre, 10, SPACE)]


def test_similar_public_bands(database, make_user):
    alice, bob = make_user(), make_user()
    centre = unit(10)
    with database.service_session() as s:
        for name, owner, public, vec, space in (
            ("Near public", alice, True, unit(11, centre, 0.1), SPACE),
            ("Nearer private", alice, False, centre, SPACE),
            ("Far public", alice, True, unit(12), SPACE),
            ("Bob's own", bob, True, unit(13, centre, 0.05), SPACE),
            ("Other space", alice, True, centre, "mert-v1-95m"),
            ("No style yet", alice, True, None, None),
        ):
            s.add(
                Band(
                    user_id=owner,
                    name=name,
                    is_public=public,
                    style_vector=vec,
                    embedding_space=space,
                )
            )
    with database.user_session(bob) as s:
        names = [b.name for b in similar_public_bands(s, centre, 10, SPACE)]
        assert names == ["Bob's own", "Near public", "Far public"]
        names = [b.name for b in similar_public_bands(s, centre, 10, SPACE, exclude_owner=bob)]
        assert names == ["Near public", "Far public"]


def test_vector_queries_can_use_the_vector_index(database):
    with database.service_session() as s:
        for i in range(40):
            store_vector(
                s,
                track_id=f"t{i}",
                track_name="t",
                artist="a",
                vector=unit(i),
                space=SPACE,
                source="fma",
            )
    literal = "[" + ",".join(f"{x:.5f}" for x in unit(99)) + "]"
    with database.service_session() as s:
        s.execute(text("set local enable_seqscan = off"))
        plan = "\n".join(
            r[0]
            for r in s.execute(
                text(
                    "explain select track_id from embeddings where embedding_space = :space "
                    f"order by vector <=> '{literal}'::vector limit 5"
                ),
                {"space": SPACE},
            )
        )
    assert "idx_embeddings_vector" in plan

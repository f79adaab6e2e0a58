"""Bands on the real database: style vectors, counters, names, privacy, discovery."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

from base import paths
from base.errors import UserFacingError
from player.bands.service import BandService
from player.embedding.band_style import mean_direction
from tests.bands.helpers import SPACE, add_tagged_embedding, make_track, mean_unit, unit


def _close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


def test_create_from_tracks_sets_style_counts_persona_and_cover(database, make_user):
    uid = make_user()
    vecs = [unit(i) for i in range(3)]
    tracks = [make_track(database, uid, v) for v in vecs]
    svc = BandService(database)

    band = svc.create_band(uid, genres=["House", "funk"], vibe="energetic", name_seed=4,
                           track_ids=tracks)  # fmt: skip

    assert band.track_count == 3  # kept by the trigger
    assert band.genres == ("house", "funk") and band.vibe == "energetic" and band.name_seed == 4
    assert band.name and band.name in (band.bio or "")
    _close(svc.style_vector(uid, band.id), mean_unit(*vecs))
    assert band.cover_url and band.cover_url.startswith("file://")
    cover = Path(unquote(urlparse(band.cover_url).path))
    assert cover.parent == paths.covers_dir() and cover.read_bytes()[:4] == b"\x89PNG"
    shown = svc.get_band(uid, band.id)
    assert set(shown.track_ids) == set(tracks) and shown.to_json()["track_count"] == 3


def test_style_vector_follows_tracks_added_and_removed(database, make_user):
    uid = make_user()
    a, b, c = (unit(10 + i) for i in range(3))
    ta, tb, tc = (make_track(database, uid, v) for v in (a, b, c))
    no_vector = make_track(database, uid, None)  # not embedded yet: counts, no direction
    svc = BandService(database)
    band = svc.create_band(uid, genres=["techno"], track_ids=[ta])
    _close(svc.style_vector(uid, band.id), a)

    info = svc.add_tracks(uid, band.id, [tb, tc, no_vector, tb])
    assert info.track_count == 4
    _close(svc.style_vector(uid, band.id), mean_unit(a, b, c))

    assert svc.add_tracks(uid, band.id, [tb]).track_count == 4  # already there: ignored
    info = svc.remove_tracks(uid, band.id, [tb])
    assert info.track_count == 3
    _close(svc.style_vector(uid, band.id), mean_unit(a, c))

    info = svc.remove_tracks(uid, band.id, [ta, tc, no_vector])
    assert info.track_count == 0 and not info.has_style
    assert svc.style_vector(uid, band.id) is None


def test_band_from_a_style_borrows_the_genres_vectors_until_it_has_tracks(database, make_user):
    uid = make_user()
    jazz1, jazz2, other = unit(20), unit(21), unit(22)
    add_tagged_embedding(database, jazz1, ["jazz"])
    add_tagged_embedding(database, jazz2, ["jazz", "soul"])
    add_tagged_embedding(database, other, ["metal"])
    svc = BandService(database)

    band = svc.create_band(uid, genres=["jazz"], vibe="chill")
    assert band.track_count == 0 and band.has_style
    _close(svc.style_vector(uid, band.id), mean_unit(jazz1, jazz2))

    own = unit(23)
    svc.add_tracks(uid, band.id, [make_track(database, uid, own)])
    _close(svc.style_vector(uid, band.id), own)  # real tracks replace the borrowed style

    nothing = svc.create_band(uid, genres=["polka"])
    assert not nothing.has_style and nothing.cover_url  # still gets a cover


def test_names_are_unique_per_user_even_with_the_same_seed(database, make_user):
    uid, other = make_user(), make_user()
    svc = BandService(database)
    names = [svc.create_band(uid, genres=["pop"], name_seed=1).name for _ in range(6)]
    assert len({n.casefold() for n in names}) == 6
    # Another user may have a band of the same name: uniqueness is per creator.
    assert svc.create_band(other, genres=["pop"], name_seed=1).name == names[0]
    assert {b.name for b in svc.list_bands(uid)} == set(names)


def test_only_the_creator_changes_a_band_and_only_with_their_own_tracks(database, make_user):
    owner, stranger = make_user(), make_user()
    svc = BandService(database)
    band = svc.create_band(
        owner, genres=["rock"], track_ids=[make_track(database, owner, unit(30))]
    )
    theirs = make_track(database, stranger, unit(31))

    with pytest.raises(UserFacingError, match="not one of your tracks"):
        svc.add_tracks(owner, band.id, [theirs])
    with pytest.raises(UserFacingError, match="belongs to someone else"):
        svc.add_tracks(stranger, band.id, [theirs])
    with pytest.raises(UserFacingError, match="not one of your tracks"):
        svc.create_band(stranger, genres=["rock"], track_ids=[band.id])  # not a track at all
    failed = make_track(database, owner, unit(32), status="failed")
    with pytest.raises(UserFacingError, match="failed"):
        svc.add_tracks(owner, band.id, [failed])
    with pytest.raises(UserFacingError, match="not a valid id"):
        svc.get_band(owner, "not-a-uuid")
    assert svc.get_band(owner, band.id).track_count == 1  # nothing half-applied


def test_private_bands_stay_private(database, make_user):
    owner, other = make_user(), make_user()
    svc = BandService(database)
    hidden = svc.create_band(owner, genres=["ambient"], is_public=False)
    public = svc.create_band(owner, genres=["ambient"])
    assert svc.get_band(owner, hidden.id).name == hidden.name
    with pytest.raises(UserFacingError, match="does not exist or is private"):
        svc.get_band(other, hidden.id)
    with pytest.raises(UserFacingError, match="does not exist or is private"):
        svc.follow(other, hidden.id)
    assert svc.get_band(other, public.id).name == public.name
    assert svc.list_bands(other) == []


def test_discovery_ranks_public_bands_by_closeness_to_my_taste(database, make_user):
    taste = unit(40)
    me = make_user(taste_vector=taste, embedding_space=SPACE)
    creator = make_user()
    svc = BandService(database)
    rng = np.random.default_rng(0)
    expected = {}
    for i, mix in enumerate([0.9, 0.1, 0.6, 0.3, 0.75]):
        v = mix * taste + (1 - mix) * unit(50 + i)
        band = svc.create_band(creator, genres=["pop"], name_seed=i,
                               track_ids=[make_track(database, creator, v)])  # fmt: skip
        expected[band.id] = float(np.dot(taste, v / np.linalg.norm(v)))
    svc.create_band(creator, genres=["pop"], is_public=False,
                    track_ids=[make_track(database, creator, taste)])  # fmt: skip
    svc.create_band(me, genres=["pop"], track_ids=[make_track(database, me, taste)])
    del rng

    found = svc.discover(me, limit=10)
    assert [b.id for b in found] == sorted(expected, key=expected.get, reverse=True)
    for band in found:
        assert band.similarity == pytest.approx(expected[band.id], abs=1e-4)
    assert [b.id for b in svc.discover(me, limit=2)] == [b.id for b in found[:2]]


def test_discovery_without_a_taste_shows_popular_bands(database, make_user):
    newcomer, creator = make_user(), make_user()
    fans = [make_user() for _ in range(3)]
    svc = BandService(database)
    quiet = svc.create_band(creator, genres=["folk"], name_seed=1)
    loved = svc.create_band(creator, genres=["folk"], name_seed=2)
    for fan in fans:
        svc.follow(fan, loved.id)
    svc.follow(fans[0], quiet.id)
    assert [b.id for b in svc.discover(newcomer, limit=5)] == [loved.id, quiet.id]
    with pytest.raises(UserFacingError, match="at least 1"):
        svc.discover(newcomer, limit=0)


def test_mean_direction_normalises_and_handles_degenerate_input():
    a, b = unit(1), unit(2)
    _close(mean_direction([a * 10, b]), mean_unit(a, b))
    assert mean_direction([]) is None
    assert mean_direction([a, -a]) is None
    assert mean_direction([np.zeros(768)]) is None


def test_vectors_of_different_spaces_never_mix(database, make_user):
    uid = make_user()
    d1, d2, m1 = unit(60), unit(61), unit(62)
    tracks = [
        make_track(database, uid, d1),
        make_track(database, uid, d2),
        make_track(database, uid, m1, space="mert-v1-95m"),
    ]
    svc = BandService(database)
    band = svc.create_band(uid, genres=["rock"], track_ids=tracks)
    _close(svc.style_vector(uid, band.id), mean_unit(d1, d2))  # the majority's space only

    from db.models import Band

    with database.service_session() as s:
        assert s.get(Band, band.id).embedding_space == SPACE

    # Discovery compares within the taste's space: a MERT taste does not see this band.
    fan = make_user(taste_vector=mean_unit(d1, d2), embedding_space="mert-v1-95m")
    assert svc.discover(fan) == []
    same = make_user(taste_vector=mean_unit(d1, d2), embedding_space=SPACE)
    [hit] = svc.discover(same)
    assert hit.id == band.id and hit.similarity == pytest.approx(1.0, abs=1e-4)

# SPDX-License-Identifier: MIT
"""One rule for a band's style vector, whoever recomputes it (the bands service after an
edit, re-embedding after a change of space): unit-normalised mean of its tracks' vectors,
else the genre prior, under the band's row lock."""

from __future__ import annotations

import threading

import numpy as np

from db.models import Band, BandTrack, GeneratedTrack
from player.embedding.band_style import mean_direction, refresh_band_style
from player.embedding.descriptor import DescriptorEmbedder
from player.embedding.reembed import reembed_all
from player.embedding.store import store_track_vector, store_vector
from player.taste import rebuild_taste

from .test_store_search import unit

EMB = DescriptorEmbedder()


def test_reembedding_gives_a_trackless_band_its_genre_prior(database, make_user):
    uid = make_user()
    with database.service_session() as s:
        band = Band(
            user_id=uid,
            name="Late Set",
            generation_params={"genres": ["jazz"]},
            style_vector=unit(9),
            embedding_space="old-space",
        )
        s.add(band)
        s.flush()
        band_id = band.id
        for n, seed in enumerate((1, 2)):
            store_vector(
                s,
                track_id=f"mb:{n}",
                track_name=f"Standard {n}",
                artist="A",
                vector=unit(seed) * (1 + 9 * n),  # lengths differ: each counts once
                space=EMB.space,
                source="musicbrainz",
                genre=["jazz"],
            )
    report = reembed_all(database, EMB, rebuild_taste=rebuild_taste)
    assert report.bands == 1
    with database.service_session() as s:
        band = s.get(Band, band_id)
        assert band.embedding_space == EMB.space
        expected = mean_direction([unit(1), unit(2)])
        assert expected is not None
        np.testing.assert_allclose(np.asarray(band.style_vector), expected, atol=1e-5)


def test_a_band_style_is_the_normalised_mean_of_its_tracks(database, make_user):
    uid = make_user()
    with database.service_session() as s:
        tracks = [
            GeneratedTrack(user_id=uid, url=f"file:///{n}.wav", duration=3, mode="new")
            for n in "ab"
        ]
        s.add_all(tracks)
        band = Band(user_id=uid, name="Pair")
        s.add(band)
        s.flush()
        for track, seed, length in zip(tracks, (3, 4), (1.0, 50.0), strict=True):
            s.add(BandTrack(band_id=band.id, track_id=track.id))
            store_track_vector(s, track.id, unit(seed) * length, "space-a")
        s.flush()
        vector = refresh_band_style(s, band.id)
        band_id = band.id
    expected = mean_direction([unit(3), unit(4)])
    assert vector is not None and expected is not None
    np.testing.assert_allclose(vector, expected, atol=1e-5)
    with database.service_session() as s:
        band = s.get(Band, band_id)
        assert band.embedding_space == "space-a"
        np.testing.assert_allclose(np.asarray(band.style_vector), expected, atol=1e-5)


def test_the_refresh_holds_the_bands_row_lock_until_commit(database, make_user):
    uid = make_user()
    with database.service_session() as s:
        band = Band(user_id=uid, name="Locked")
        s.add(band)
        s.flush()
        band_id = band.id
    entered = threading.Event()
    second_done = threading.Event()

    def second_writer() -> None:
        entered.wait(10)
        with database.service_session() as other:
            refresh_band_style(other, band_id)  # blocks on the row lock
        second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    try:
        with database.service_session() as s:
            refresh_band_style(s, band_id)
            entered.set()
            # The second refresh waits for this transaction, however long it takes.
            assert not second_done.wait(1.0)
        assert second_done.wait(10)
    finally:
        thread.join(10)

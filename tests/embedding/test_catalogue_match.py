# SPDX-License-Identifier: MIT
"""History joined to the catalogue: external id first, then normalised artist and title,
on the real database; the share measured on a Spotify-format export."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert

from db.models import UserHistory
from player.catalogue.match import match_history, match_share, normalise_artist, normalise_title
from player.embedding.store import store_vector

SPACE = "descriptor-v1"
DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Here Comes The Sun - Remastered 2009", "Here Comes the Sun"),
        ("Bohemian Rhapsody - 2011 Remaster", "Bohemian Rhapsody"),
        ("Get Lucky (feat. Pharrell Williams & Nile Rodgers) - Radio Edit", "Get Lucky"),
        ("Hoppípolla", "Hoppipolla"),
        ("Don't Stop Me Now", "Don’t Stop Me Now"),
        ("My Favorite Things - Mono", "My Favorite Things"),
    ],
)
def test_titles_that_name_one_recording_normalise_alike(a, b):
    assert normalise_title(a) == normalise_title(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Come Together (2019 Mix)", "Come Together"),  # a different mix, kept apart
        ("Old Town Road - Remix", "Old Town Road"),
    ],
)
def test_other_versions_stay_apart(a, b):
    assert normalise_title(a) != normalise_title(b)


def test_artists_normalise_case_accents_features_and_the():
    assert normalise_artist("Sigur Rós") == normalise_artist("SIGUR ROS")
    assert normalise_artist("Daft Punk feat. Pharrell Williams") == normalise_artist("Daft Punk")
    assert normalise_artist("The Beatles") == normalise_artist("Beatles")
    assert normalise_artist("Simon & Garfunkel") == normalise_artist("Simon and Garfunkel")
    assert normalise_artist("坂本龍一") == "坂本龍一"


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(768)
    return (v / np.linalg.norm(v)).astype(np.float32)


def add(database, track_id, artist, title, space=SPACE, source="musicbrainz") -> None:
    with database.service_session() as s:
        store_vector(
            s,
            track_id=track_id,
            track_name=title,
            artist=artist,
            vector=unit(hash(track_id) % 1000),
            space=space,
            source=source,
        )


def test_history_joins_by_id_then_by_name_in_one_space(database, make_user):
    uid = make_user()
    add(database, "6z4o4nVJ0Hz1vz0pE4b0ZC", "Aphex Twin", "Windowlicker", source="spotify")
    add(database, "mb-1", "The Beatles", "Here Comes the Sun")
    add(database, "mb-2", "Sigur Ros", "Hoppipolla", space="mert-v1-95m")  # another space
    add(database, "mb-3", "Somebody Else", "Windowlicker")  # same title, other artist
    with database.service_session() as s:
        s.execute(
            insert(UserHistory),
            [
                {
                    "user_id": uid,
                    "platform": "spotify",
                    "track_id": "spotify:track:6z4o4nVJ0Hz1vz0pE4b0ZC",
                    "track_name": "Windowlicker (renamed by the service)",
                    "artist": "Aphex Twin",
                },
                {
                    "user_id": uid,
                    "platform": "spotify",
                    "track_name": "Here Comes The Sun - Remastered 2009",
                    "artist": "The Beatles",
                },
                {
                    "user_id": uid,
                    "platform": "spotify",
                    "track_name": "Hoppípolla",
                    "artist": "Sigur Rós",
                },
                {"user_id": uid, "platform": "spotify", "track_name": "Nope", "artist": "Nobody"},
            ],
        )
    with database.service_session() as s:
        found, share = match_history(s, uid, SPACE)
    assert set(found.values()) == {"6z4o4nVJ0Hz1vz0pE4b0ZC", "mb-1"}
    assert (share.distinct, share.matched, share.by_id, share.exact_names) == (4, 2, 1, 0)
    with database.service_session() as s:
        _, other = match_history(s, uid, "mert-v1-95m")
    assert other.matched == 1  # Hoppípolla, found only in its own space
    with database.service_session() as s:
        _, nobody = match_history(s, uuid.uuid4(), SPACE)
    assert nobody.distinct == 0 and nobody.share == 0.0


def test_match_share_of_a_spotify_export(database):
    """StreamingHistory_music format; the catalogue holds 41 of its 50 tracks under
    MusicBrainz-style names. Exact names find a minority; normalisation finds them all."""
    plays = json.loads((DATA / "spotify_streaming_history.json").read_text())
    catalogue = json.loads((DATA / "catalogue_tracks.json").read_text())
    for artist, title, track_id in catalogue:
        add(database, track_id, artist, title)
    with database.service_session() as s:
        share = match_share(s, [(p["artistName"], p["trackName"], None) for p in plays], SPACE)
    assert share.distinct <= 50
    assert share.exact_share < 0.5
    assert share.matched >= share.distinct - 9  # the 9 absent ones cannot match
    assert share.share > 0.8

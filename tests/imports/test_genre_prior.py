"""The history's genre prior for the listener model (issue 13 part 4), on the real database.

Spotify is the fake server of ``fake_spotify.py`` driven by the real spotipy client (a
double only because spotify.com cannot be reached from tests); the catalogue is real
``embeddings`` rows.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from base.paths import data_dir
from player.imports.genre_prior import CACHE_FILE, engine_genre, history_genre_prior
from player.imports.history import import_history
from player.imports.spotify_connect import SpotifyConfig, SpotifyConnector
from tests.imports.conftest import DATA, make_zip
from tests.imports.fake_spotify import CLIENT_ID, FakeSpotify, artist, track
from tests.imports.test_spotify_connect import browser

VECTOR = "[" + ",".join(["0.01"] * 768) + "]"


def add_history(database, user: uuid.UUID, plays: list[tuple[str, int, str | None]]) -> None:
    """``plays``: (artist, how many plays, Spotify track URI or None) per artist."""
    with database.user_session(user) as s:
        for n, (name, count, uri) in enumerate(plays):
            for i in range(count):
                s.execute(
                    text(
                        "insert into user_history (user_id, platform, track_id, track_name,"
                        " artist, played_at) values (:u, 'spotify', :t, :n, :a,"
                        " timestamptz '2024-01-01' + make_interval(mins => :m))"
                    ),
                    {"u": user, "t": uri, "n": f"Song {n}-{i}", "a": name, "m": n * 100 + i},
                )


def add_catalogue(database, rows: list[tuple[str, list[str]]]) -> None:
    with database.service_session() as s:
        for i, (name, genres) in enumerate(rows):
            s.execute(
                text(
                    "insert into embeddings (track_name, artist, vector, source, genre)"
                    " values (:t, :a, :v, 'fma', :g)"
                ),
                {"t": f"Catalogued {i}", "a": name, "v": VECTOR, "g": genres},
            )


@pytest.mark.parametrize(
    ("free_text", "engine"),
    [
        ("deep house", "house"),
        ("lo-fi beats", "lo-fi"),
        ("lo-fi hip hop", "lo-fi"),
        ("hip hop", "hip-hop"),
        ("trap latino", "trap"),
        ("Drum & Bass", "drum-and-bass"),
        ("indie rock", "rock"),
        ("k-pop", "pop"),
        ("neo soul", "r&b"),
        ("synthwave", "synthwave"),
        ("polka", None),
        ("electropop", None),
    ],
)
def test_free_text_genres_map_to_engine_ids(free_text, engine):
    assert engine_genre(free_text) == engine


def test_catalogue_rows_give_the_prior_weighted_by_plays(database, make_user):
    user = make_user()
    add_history(
        database,
        user,
        [("Kerri Chandler", 3, None), ("Art Blakey", 1, None), ("Nobody Knows Me", 5, None)],
    )
    add_catalogue(
        database,
        [
            ("Kerri Chandler", ["deep house"]),
            ("Kerri Chandler", ["house", "garage house"]),
            ("art blakey", ["hard bop", "jazz"]),  # names match case-insensitively
            ("Someone Else", ["techno"]),
        ],
    )
    prior = history_genre_prior(database, user)
    assert list(prior) == ["house", "jazz"]
    assert prior["house"] == pytest.approx(0.75) and prior["jazz"] == pytest.approx(0.25)


def test_nothing_that_maps_gives_an_empty_prior(database, make_user):
    user = make_user()
    assert history_genre_prior(database, user) == {}
    add_history(database, user, [("Nobody Knows Me", 2, None)])
    add_catalogue(database, [("Nobody Knows Me", ["polka"])])
    assert history_genre_prior(database, user) == {}


def test_history_rows_of_podcast_episodes_never_count(database, make_user):
    user = make_user()
    add_history(
        database,
        user,
        [("Jazz Talk", 9, "spotify:episode:4rOoJ6Egrf8K2IrywzwOMk"), ("Art Blakey", 1, None)],
    )
    add_catalogue(database, [("Jazz Talk", ["smooth jazz"]), ("Art Blakey", ["jazz"])])
    add_catalogue(database, [("Art Blakey", ["bebop"])])
    assert history_genre_prior(database, user) == {"jazz": pytest.approx(1.0)}


@pytest.fixture
def spotify(database, make_user):
    with FakeSpotify() as fake:
        config = SpotifyConfig(
            client_id=CLIENT_ID,
            redirect_uri="http://127.0.0.1:0/callback",
            accounts_url=fake.base,
            api_url=fake.base + "/v1/",
            timeout_s=5,
        )
        connector = SpotifyConnector(database, make_user(), config, sleep=lambda _s: None)
        connector.authorize(open_browser=browser)
        yield fake, connector


def test_spotify_genres_batched_and_asked_once_per_artist(database, spotify):
    fake, connector = spotify
    user = connector.user_id
    # 60 artists with track URIs (the extended history has them) and one without.
    plays = []
    for i in range(60):
        fake.catalogue_artists[f"ar{i}"] = artist(f"Producer {i}", f"ar{i}", ["deep house"])
        fake.catalogue_tracks[f"tr{i}"] = track(f"Cut {i}", f"Producer {i}", "EP", f"tr{i}")
        fake.catalogue_tracks[f"tr{i}"]["artists"][0]["id"] = f"ar{i}"
        plays.append((f"Producer {i}", 1, f"spotify:track:tr{i}"))
    fake.catalogue_artists["arj"] = artist("Bad Bunny", "arj", ["trap latino", "reggaeton"])
    plays.append(("Bad Bunny", 20, None))
    add_history(database, user, plays)

    prior = history_genre_prior(database, user, spotify=connector)
    assert prior == {"house": pytest.approx(0.75), "trap": pytest.approx(0.25)}

    asked = [q["ids"][0].split(",") for q, _ in fake.api_calls("/v1/artists/")]
    assert sorted(len(ids) for ids in asked) == [11, 50]  # 61 artists, 50 per call at most
    assert [len(q["ids"][0].split(",")) for q, _ in fake.api_calls("/v1/tracks/")] == [50, 10]
    assert len(fake.api_calls("/v1/search")) == 1  # only the artist without a track URI
    cache = json.loads((data_dir() / "cache" / CACHE_FILE).read_text())
    assert cache["bad bunny"] == ["trap latino", "reggaeton"]

    calls = len(fake.log)
    assert history_genre_prior(database, user, spotify=connector) == prior
    assert len(fake.log) == calls  # cached: Spotify is not asked again


def test_shows_in_an_old_export_do_not_reach_the_prior(database, spotify, tmp_path):
    """A show named like a band: its episodes, skipped at import, cannot make it "rock"."""
    fake, connector = spotify
    fake.catalogue_artists["a1"] = artist("Song Exploder", "a1", ["indie rock"])
    fake.catalogue_artists["a2"] = artist("Tame Impala", "a2", ["psychedelic pop"])
    fake.catalogue_artists["a3"] = artist("Pink Floyd", "a3", ["progressive rock"])
    export = make_zip(
        tmp_path / "my_spotify_data.zip",
        {
            f"MyData/{name}": DATA / "spotify_2019" / name
            for name in ("StreamingHistory0.json", "StreamingHistory1.json", "YourLibrary.json")
        },
    )
    import_history(database, connector.user_id, "spotify-export", export)
    prior = history_genre_prior(database, connector.user_id, spotify=connector)
    # Tame Impala 2 plays (pop), Pink Floyd 2 (rock); no Song Exploder episode counts.
    assert prior == {"pop": pytest.approx(0.5), "rock": pytest.approx(0.5)}


def test_spotify_unreachable_falls_back_to_the_catalogue(database, make_user):
    with FakeSpotify() as fake:
        config = SpotifyConfig(
            client_id=CLIENT_ID,
            redirect_uri="http://127.0.0.1:0/callback",
            accounts_url=fake.base,
            api_url=fake.base + "/v1/",
            timeout_s=5,
        )
        connector = SpotifyConnector(database, make_user(), config, sleep=lambda _s: None)
        connector.authorize(open_browser=browser)
    # the server is gone now
    add_history(database, connector.user_id, [("Art Blakey", 2, None)])
    add_catalogue(database, [("Art Blakey", ["jazz"])])
    assert history_genre_prior(database, connector.user_id, spotify=connector) == {
        "jazz": pytest.approx(1.0)
    }
    assert not (data_dir() / "cache" / CACHE_FILE).exists() or "art blakey" not in json.loads(
        (data_dir() / "cache" / CACHE_FILE).read_text()
    )

"""Triggers keep counters and timestamps right; constraints reject what a listener can't use."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db.models import (
    Band,
    BandTrack,
    GeneratedTrack,
    OAuthConnection,
    User,
    UserFollow,
    UserLibraryEntry,
    UserPlaylist,
)


def _track(s, uid, **cols):
    t = GeneratedTrack(user_id=uid, url="file:///t.mp3", duration=30, mode="new", **cols)
    s.add(t)
    s.flush()
    return t.id


@pytest.mark.parametrize(
    "model,create,change",
    [
        (User, lambda uid: None, {"preferences_profile": {"vibe": "calm"}}),
        (Band, lambda uid: Band(user_id=uid, name="B"), {"bio": "new bio"}),
        (UserPlaylist, lambda uid: UserPlaylist(user_id=uid, name="P"), {"name": "Q"}),
        (
            OAuthConnection,
            lambda uid: OAuthConnection(user_id=uid, platform="spotify", access_token="x"),
            {"access_token": "y"},
        ),
    ],
)
def test_updated_at_moves_on_update(database, make_user, model, create, change):
    uid = make_user()
    with database.service_session() as s:
        row = create(uid) or s.get(User, uid)
        s.add(row)
        s.flush()
        key = row.id
        before = s.execute(
            text(f"select updated_at from {model.__tablename__} where id = :k"), {"k": key}
        ).scalar_one()
    time.sleep(0.01)
    with database.service_session() as s:
        row = s.get(model, key)
        for col, value in change.items():
            setattr(row, col, value)
    with database.service_session() as s:
        after = s.execute(
            text(f"select updated_at from {model.__tablename__} where id = :k"), {"k": key}
        ).scalar_one()
    assert after > before


def test_track_count_follows_inserts_and_deletes(database, make_user):
    uid = make_user()
    with database.user_session(uid) as s:
        band = Band(user_id=uid, name="Counters")
        s.add(band)
        s.flush()
        tracks = [_track(s, uid) for _ in range(3)]
        s.add_all([BandTrack(band_id=band.id, track_id=t) for t in tracks])
    with database.user_session(uid) as s:
        assert s.get(Band, band.id).track_count == 3
        s.execute(text("delete from band_tracks where track_id = :t"), {"t": tracks[0]})
    with database.user_session(uid) as s:
        s.expire_all()
        assert s.get(Band, band.id).track_count == 2
    # Deleting a track (users may not; the service may) removes it from the band too, by
    # cascade, and the count follows.
    with database.service_session() as s:
        s.execute(text("delete from generated_tracks where id = :t"), {"t": tracks[1]})
    with database.user_session(uid) as s:
        assert s.get(Band, band.id).track_count == 1


def test_follower_count_is_right_under_concurrent_follows(database, make_user):
    creator = make_user()
    with database.user_session(creator) as s:
        band = Band(user_id=creator, name="Popular", is_public=True)
        s.add(band)
    fans = [make_user() for _ in range(20)]

    def follow(uid):
        with database.user_session(uid) as s:
            s.add(UserFollow(user_id=uid, band_id=band.id))

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(follow, fans))
    with database.service_session() as s:
        assert s.get(Band, band.id).follower_count == 20
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda uid: _unfollow(database, uid, band.id), fans[:5]))
    with database.service_session() as s:
        assert s.get(Band, band.id).follower_count == 15


def _unfollow(database, uid, band_id):
    with database.user_session(uid) as s:
        s.execute(
            text("delete from user_follows where user_id = :u and band_id = :b"),
            {"u": uid, "b": band_id},
        )


def test_a_track_cannot_be_liked_twice(database, make_user):
    uid = make_user()
    with database.user_session(uid) as s:
        t = _track(s, uid)
        s.add(UserLibraryEntry(user_id=uid, track_id=t))
    with (
        pytest.raises(IntegrityError, match="idx_user_library_user_track"),
        database.user_session(uid) as s,
    ):
        s.add(UserLibraryEntry(user_id=uid, track_id=t))


def test_one_connection_per_platform(database, make_user):
    uid = make_user()
    with database.service_session() as s:
        s.add(OAuthConnection(user_id=uid, platform="spotify", access_token="a"))
    with (
        pytest.raises(IntegrityError, match="idx_oauth_connections_user_platform"),
        database.service_session() as s,
    ):
        s.add(OAuthConnection(user_id=uid, platform="spotify", access_token="b"))


@pytest.mark.parametrize(
    "sql,constraint",
    [
        (
            "insert into user_history (user_id, platform, track_name, artist) "
            "values (:u, 'napster', 'a', 'b')",
            "user_history_platform_check",
        ),
        (
            "insert into generated_tracks (user_id, url, duration, mode) "
            "values (:u, 'f', 10, 'remix')",
            "generated_tracks_mode_check",
        ),
        (
            "insert into generated_tracks (user_id, url, duration, mode, status) "
            "values (:u, 'f', 10, 'new', 'done')",
            "generated_tracks_status_check",
        ),
        (
            "insert into generated_tracks (user_id, url, duration, mode, match_percentage) "
            "values (:u, 'f', 10, 'new', 101)",
            "generated_tracks_match_percentage_range",
        ),
        (
            "insert into generated_tracks (user_id, url, duration, mode, match_percentage) "
            "values (:u, 'f', 10, 'new', -1)",
            "generated_tracks_match_percentage_range",
        ),
        (
            "insert into generated_tracks (user_id, url, duration, mode) "
            "values (:u, 'f', 0, 'new')",
            "generated_tracks_duration_positive",
        ),
        (
            "insert into oauth_connections (user_id, platform, access_token) "
            "values (:u, 'myspace', 'x')",
            "oauth_connections_platform_check",
        ),
    ],
)
def test_value_sets_and_ranges_are_enforced(database, make_user, sql, constraint):
    uid = make_user()
    with pytest.raises(IntegrityError, match=constraint), database.service_session() as s:
        s.execute(text(sql), {"u": uid})


def test_embedding_source_value_set(database):
    vec = "[" + ",".join(["0.036"] * 768) + "]"
    with (
        pytest.raises(IntegrityError, match="embeddings_source_check"),
        database.service_session() as s,
    ):
        s.execute(
            text(
                "insert into embeddings (track_name, artist, vector, source) "
                f"values ('t', 'a', '{vec}', 'napster')"
            )
        )

"""The RLS matrix: every table × operation × actor, as the spec allows or denies it.

Actors: the row's owner, another signed-in user, anon, and service_role. Each cell runs in
its own rolled-back transaction, so the cells cannot influence each other. "Insert" as
another user means inserting a row that carries the owner's user_id — the attack RLS
exists to stop.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.db.rls import attempt

ACTORS = ("owner", "other", "anon", "service")
VEC = "[" + ",".join(["0.036"] * 768) + "]"

# Statements per table and operation. :uid is the owner's id; rows seeded below.
SQL = {
    "users": {
        "select": "select 1 from users where id = :uid",
        "insert": "insert into users (id, email) "
        "values (gen_random_uuid(), 'new@example.com') returning 1",
        "update": 'update users set preferences_profile = \'{"vibe":"calm"}\' where id = :uid',
        "delete": "delete from users where id = :uid",
    },
    "user_history": {
        "select": "select 1 from user_history where user_id = :uid",
        "insert": "insert into user_history (user_id, platform, track_name, artist) "
        "values (:uid, 'spotify', 'Song', 'Artist') returning 1",
        "update": "update user_history set album = 'X' where user_id = :uid",
        "delete": "delete from user_history where user_id = :uid",
    },
    "embeddings": {
        "select": "select 1 from embeddings where track_id = 'seed'",
        "insert": f"insert into embeddings (track_id, track_name, artist, vector, source) "
        f"values ('new', 'T', 'A', '{VEC}', 'fma') returning 1",
        "update": "update embeddings set artist = 'B' where track_id = 'seed'",
        "delete": "delete from embeddings where track_id = 'seed'",
    },
    "generated_tracks": {
        "select": "select 1 from generated_tracks where user_id = :uid",
        "insert": "insert into generated_tracks (user_id, url, duration, mode) "
        "values (:uid, 'file:///x.mp3', 10, 'new') returning 1",
        "update": "update generated_tracks set explanation = 'x' where user_id = :uid",
        "delete": "delete from generated_tracks where user_id = :uid",
    },
    "bands": {
        "select": "select 1 from bands where user_id = :uid",
        "insert": "insert into bands (user_id, name, is_public) "
        "values (:uid, 'New', false) returning 1",
        "update": "update bands set bio = 'x' where user_id = :uid",
        "delete": "delete from bands where user_id = :uid",
    },
    "band_tracks": {
        "select": "select 1 from band_tracks where band_id = :bid",
        "insert": "insert into band_tracks (band_id, track_id) values (:bid, :tid) returning 1",
        "update": "update band_tracks set added_at = now() where band_id = :bid",
        "delete": "delete from band_tracks where band_id = :bid",
    },
    "user_playlists": {
        "select": "select 1 from user_playlists where user_id = :uid",
        "insert": "insert into user_playlists (user_id, name) values (:uid, 'New') returning 1",
        "update": "update user_playlists set name = 'Renamed' where user_id = :uid",
        "delete": "delete from user_playlists where user_id = :uid",
    },
    "user_library": {
        "select": "select 1 from user_library where user_id = :uid",
        "insert": "insert into user_library (user_id, track_id) values (:uid, :tid) returning 1",
        "update": "update user_library set added_at = now() where user_id = :uid",
        "delete": "delete from user_library where user_id = :uid",
    },
    "user_follows": {
        "select": "select 1 from user_follows where user_id = :uid",
        "insert": "insert into user_follows (user_id, band_id) values (:uid, :obid) returning 1",
        "update": "update user_follows set created_at = now() where user_id = :uid",
        "delete": "delete from user_follows where user_id = :uid",
    },
    "oauth_connections": {
        "select": "select 1 from oauth_connections where user_id = :uid",
        "insert": "insert into oauth_connections (user_id, platform, access_token) "
        "values (:uid, 'youtube', 'enc') returning 1",
        "update": "update oauth_connections set access_token = 'stolen' where user_id = :uid",
        "delete": "delete from oauth_connections where user_id = :uid",
    },
}

Y, N = True, False
# Expected outcome per actor, in ACTORS order (owner, other, anon, service).
EXPECTED = {
    # A user cannot create a users row for an id that is not theirs (see test below for
    # their own id); rows are never deleted by users.
    "users": {
        "select": (Y, N, N, Y),
        "insert": (N, N, N, Y),
        "update": (Y, N, N, Y),
        "delete": (N, N, N, Y),
    },
    "user_history": {
        "select": (Y, N, N, Y),
        "insert": (Y, N, N, Y),
        "update": (N, N, N, Y),
        "delete": (N, N, N, Y),
    },
    "embeddings": {
        "select": (Y, Y, Y, Y),
        "insert": (N, N, N, Y),
        "update": (N, N, N, Y),
        "delete": (N, N, N, Y),
    },
    "generated_tracks": {
        "select": (Y, N, N, Y),
        "insert": (Y, N, N, Y),
        "update": (Y, N, N, Y),
        "delete": (N, N, N, Y),
    },
    "bands": {
        "select": (Y, N, N, Y),
        "insert": (Y, N, N, Y),
        "update": (Y, N, N, Y),
        "delete": (Y, N, N, Y),
    },
    "band_tracks": {
        "select": (Y, Y, Y, Y),
        "insert": (Y, N, N, Y),
        "update": (N, N, N, Y),
        "delete": (Y, N, N, Y),
    },
    "user_playlists": {
        "select": (Y, N, N, Y),
        "insert": (Y, N, N, Y),
        "update": (Y, N, N, Y),
        "delete": (Y, N, N, Y),
    },
    "user_library": {
        "select": (Y, N, N, Y),
        "insert": (Y, N, N, Y),
        "update": (N, N, N, Y),
        "delete": (Y, N, N, Y),
    },
    "user_follows": {
        "select": (Y, N, N, Y),
        "insert": (Y, N, N, Y),
        "update": (N, N, N, Y),
        "delete": (Y, N, N, Y),
    },
    # Tokens: only the service role creates connections; nobody else ever reads them.
    "oauth_connections": {
        "select": (Y, N, N, Y),
        "insert": (N, N, N, Y),
        "update": (Y, N, N, Y),
        "delete": (Y, N, N, Y),
    },
}


@pytest.fixture
def seeded(database, make_user):
    owner = make_user("owner@example.com")
    other = make_user("other@example.com")
    stranger_band_owner = make_user("creator@example.com")
    with database.service_session() as s:
        for statement in (
            f"""
            insert into user_history (user_id, platform, track_name, artist)
              values (:o, 'spotify', 'Seed song', 'Seed artist');
            insert into embeddings (track_id, track_name, artist, vector, source)
              values ('seed', 'Seed', 'Seed', '{VEC}', 'fma');
            insert into bands (user_id, name, is_public) values (:o, 'Private', false);
            insert into bands (user_id, name, is_public) values (:c, 'Other band', true);
            insert into generated_tracks (user_id, url, duration, mode)
              values (:o, 'file:///first', 30, 'new'), (:o, 'file:///second', 30, 'new');
            insert into band_tracks (band_id, track_id)
              select b.id, t.id from bands b, generated_tracks t
               where b.name = 'Private' and t.url = 'file:///first';
            insert into user_playlists (user_id, name) values (:o, 'Mine');
            insert into user_library (user_id, track_id)
              select :o, id from generated_tracks where url = 'file:///first';
            insert into user_follows (user_id, band_id)
              select :o, id from bands where name = 'Private';
            insert into oauth_connections (user_id, platform, access_token)
              values (:o, 'spotify', 'enc');
            """
        ).split(";"):
            if statement.strip():
                s.execute(text(statement), {"o": owner, "c": stranger_band_owner})
        ids = {
            key: s.execute(text(q)).scalar_one()
            for key, q in (
                ("bid", "select id from bands where name = 'Private'"),
                ("obid", "select id from bands where name = 'Other band'"),
                ("tid", "select id from generated_tracks where url = 'file:///second'"),
            )
        }
    return {"owner": owner, "other": other, **ids}


CELLS = [
    (table, op, i, actor)
    for table in SQL
    for op in ("select", "insert", "update", "delete")
    for i, actor in enumerate(ACTORS)
]


def test_matrix_covers_every_table_of_the_spec():
    assert (
        set(SQL)
        == set(EXPECTED)
        == {
            "users",
            "user_history",
            "embeddings",
            "generated_tracks",
            "bands",
            "band_tracks",
            "user_playlists",
            "user_library",
            "user_follows",
            "oauth_connections",
        }
    )


def test_rls_matrix(database, seeded):
    """All 160 cells in one test so the seed is built once; failures list every bad cell."""
    wrong = []
    for table, op, i, actor in CELLS:
        actor_id = seeded.get(actor)
        got = attempt(
            database,
            actor,
            actor_id,
            SQL[table][op],
            uid=seeded["owner"],
            bid=seeded["bid"],
            obid=seeded["obid"],
            tid=seeded["tid"],
        )
        want = EXPECTED[table][op][i]
        if got != want:
            wrong.append(
                f"{table}.{op} as {actor}: {'allowed' if got else 'denied'}, "
                f"expected {'allowed' if want else 'denied'}"
            )
    assert not wrong, "\n".join(wrong)


def test_rls_is_enabled_on_every_table(database):
    with database.service_session() as s:
        rows = s.execute(
            text(
                "select relname, relrowsecurity from pg_class c join pg_namespace n "
                "on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'"
            )
        ).all()
    assert rows and all(enabled for _, enabled in rows), rows


def test_user_may_create_only_their_own_row(database):
    me = uuid.uuid4()
    own = f"insert into users (id, email) values ('{me}', 'me@example.com') returning 1"
    assert attempt(database, "owner", me, own)
    assert not attempt(database, "owner", uuid.uuid4(), own)


def test_user_cannot_grant_themselves_premium(database, seeded):
    for column in ("premium = true", "daily_count = 0"):
        assert not attempt(
            database,
            "owner",
            seeded["owner"],
            f"update users set {column} where id = :uid",
            uid=seeded["owner"],
        )


def test_public_band_and_its_tracks_are_visible_to_everyone(database, seeded):
    with database.service_session() as s:
        s.execute(text("update bands set is_public = true where name = 'Private'"))
    for actor in ("other", "anon"):
        uid = seeded.get(actor)
        assert attempt(database, actor, uid, "select 1 from bands where name = 'Private'")
        assert attempt(
            database, actor, uid, "select 1 from generated_tracks where url = 'file:///first'"
        )
        # ... but not the owner's other, unpublished track.
        assert not attempt(
            database, actor, uid, "select 1 from generated_tracks where url = 'file:///second'"
        )


def test_public_playlists_are_readable_private_ones_not(database, seeded):
    q = "select 1 from user_playlists where name = 'Mine'"
    assert not attempt(database, "other", seeded["other"], q)
    with database.service_session() as s:
        s.execute(text("update user_playlists set is_public = true"))
    assert attempt(database, "other", seeded["other"], q)
    assert attempt(database, "anon", None, q)
    assert not attempt(
        database,
        "other",
        seeded["other"],
        "update user_playlists set name = 'x' where name = 'Mine'",
    )


def test_another_users_oauth_tokens_stay_hidden(database, seeded):
    q = "select access_token from oauth_connections"
    assert attempt(database, "owner", seeded["owner"], q)
    assert not attempt(database, "other", seeded["other"], q)
    assert not attempt(database, "anon", None, q)

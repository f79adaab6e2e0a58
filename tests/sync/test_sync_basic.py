"""Two real servers: a first sync copies everything; a second has nothing to do."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from db.sync import SchemaMismatch, SyncError, sync
from tests.sync.helpers import (
    add_history,
    add_playlist,
    add_track,
    assert_same,
    one,
    pending,
    run_sql,
)


def test_first_sync_copies_the_users_rows_and_a_second_is_a_no_op(database, remote, account):
    track = add_track(database, account)
    add_playlist(database, account, "Morning", [{"id": str(track)}])
    add_history(database, account, 5)
    first = sync(database, remote, account)
    assert first.errors == []
    assert first.pushed == 1 + 1 + 1 + 5  # users, track, playlist, history
    assert pending(database) == 0
    assert_same(database, remote, account)
    again = sync(database, remote, account)
    assert (again.pushed, again.pulled, again.conflicts) == (0, 0, 0)


def test_a_second_device_gets_everything_and_deletions_follow(
    database, second_device, remote, account
):
    track = add_track(database, account)
    pid = add_playlist(database, account, "Evening", [{"id": str(track)}])
    add_history(database, account, 3)
    sync(database, remote, account)
    pulled = sync(second_device, remote, account)
    assert pulled.pulled >= 5 and pulled.errors == []
    assert_same(database, second_device, account)
    # A deletion travels as a tombstone.
    run_sql(database, account, "delete from user_playlists where id = :i", i=pid)
    sync(database, remote, account)
    sync(second_device, remote, account)
    assert one(second_device, "select count(*) from user_playlists where id = :i", i=pid) == 0
    assert_same(database, second_device, account)
    assert_same(database, remote, account)


def test_the_same_change_pushed_twice_is_stored_once(database, remote, account):
    add_track(database, account)
    add_playlist(database, account, "Twice")
    add_history(database, account, 4)
    sync(database, remote, account)
    # As if the process died after the shared side committed but before the outbox was
    # cleared: every entry is pending again and goes out a second time.
    with database.engine.begin() as conn:
        conn.execute(text("update sync_changes set pending = true"))
    again = sync(database, remote, account)
    assert again.errors == []
    assert pending(database) == 0
    snap = assert_same(database, remote, account)
    assert len(snap["user_history"]) == 4 and len(snap["user_playlists"]) == 1


def test_premium_and_daily_count_are_the_servers_to_decide(database, remote, account):
    sync(database, remote, account)
    with remote.service_session() as s:
        s.execute(
            text("update users set premium = true, daily_count = 7 where id = :i"), {"i": account}
        )
    # A local attempt to grant premium (the app's own code could never do it through RLS;
    # here the service role does it locally) never reaches the shared side.
    with database.service_session() as s:
        s.execute(
            text("update users set premium = false, onboarding_completed = true where id = :i"),
            {"i": account},
        )
    result = sync(database, remote, account)
    assert result.errors == []
    assert one(remote, "select premium from users where id = :i", i=account) is True
    assert one(remote, "select onboarding_completed from users where id = :i", i=account) is True
    assert one(database, "select premium from users where id = :i", i=account) is True
    assert one(database, "select daily_count from users where id = :i", i=account) == 7
    assert_same(database, remote, account)


def test_band_counters_agree_on_every_side(database, second_device, remote, account):
    band = uuid.uuid4()
    run_sql(
        database,
        account,
        "insert into bands (id, user_id, name) values (:b, :u, 'Echo')",
        b=band,
        u=account,
    )
    tracks = [add_track(database, account, band_id=band) for _ in range(3)]
    for t in tracks:
        run_sql(
            database,
            account,
            "insert into band_tracks (band_id, track_id) values (:b, :t)",
            b=band,
            t=t,
        )
    run_sql(
        database,
        account,
        "insert into user_follows (user_id, band_id) values (:u, :b)",
        u=account,
        b=band,
    )
    run_sql(database, account, "delete from band_tracks where track_id = :t", t=tracks[0])
    assert sync(database, remote, account).errors == []
    assert sync(second_device, remote, account).errors == []
    q = "select track_count, follower_count from bands where id = :b"
    with database.engine.connect() as c:
        want = tuple(c.execute(text(q), {"b": band}).one())
    assert want == (2, 1)
    for db in (second_device, remote):
        with db.engine.connect() as c:
            assert tuple(c.execute(text(q), {"b": band}).one()) == want
    assert_same(database, remote, account)
    assert_same(second_device, remote, account)


def test_history_the_server_keeps_comes_back(database, remote, account):
    """The shared schema lets users insert history, never delete it: the server's row wins."""
    add_history(database, account, 2)
    sync(database, remote, account)
    with database.service_session() as s:  # the user's own role may not delete it either
        s.execute(text("delete from user_history where track_name = 'song1'"))
    assert one(database, "select count(*) from user_history") == 1
    result = sync(database, remote, account)
    assert result.conflicts == 1 and result.errors == []
    assert one(database, "select count(*) from user_history") == 2
    assert_same(database, remote, account)


def test_other_users_rows_stay_theirs_and_public_ones_are_discovered(
    database, private_remote, account
):
    remote = private_remote
    other = uuid.uuid4()
    with remote.user_session(other) as s:
        s.execute(
            text("insert into users (id, email) values (:i, 'other@example.com')"), {"i": other}
        )
        s.execute(
            text(
                "insert into bands (user_id, name, is_public) values (:u, 'Open', true), "
                "(:u, 'Closed', false)"
            ),
            {"u": other},
        )
        s.execute(
            text("insert into user_playlists (user_id, name) values (:u, 'Secret')"), {"u": other}
        )
    result = sync(database, remote, account)
    assert result.errors == [] and result.discovered == 1
    assert one(database, "select count(*) from bands") == 0
    assert one(database, "select count(*) from user_playlists") == 0
    assert one(database, "select row_data ->> 'name' from sync_discovery") == "Open"
    # The band turns private: the next sync drops it from discovery.
    with remote.user_session(other) as s:
        s.execute(text("update bands set is_public = false where name = 'Open'"))
    sync(database, remote, account)
    assert one(database, "select count(*) from sync_discovery") == 0


def test_a_remote_with_different_migrations_is_refused_by_name(database, private_remote, account):
    remote = private_remote
    with remote.engine.begin() as conn:
        conn.execute(
            text(
                "insert into supabase_migrations.schema_migrations (version, name) "
                "values ('20991231000000', 'from_the_future')"
            )
        )
        conn.execute(
            text(
                "delete from supabase_migrations.schema_migrations where version = '20261125060000'"
            )
        )
    add_history(database, account, 1)
    with pytest.raises(SchemaMismatch) as err:
        sync(database, remote, account)
    message = str(err.value)
    assert "20991231000000_from_the_future" in message
    assert "20261125060000_sync" in message
    assert pending(database) == 2  # nothing was pushed


def test_an_unknown_account_is_a_clear_error(database, remote):
    with pytest.raises(SyncError, match="exists neither"):
        sync(database, remote, uuid.uuid4())

"""Both sides changed the same row: last writer wins, the loser is kept, both sides agree."""

from __future__ import annotations

from db.sync import sync
from tests.sync.helpers import (
    add_playlist,
    add_track,
    assert_same,
    edit_with_clock,
    one,
    pending,
    run_sql,
)


def _two_devices_with_a_playlist(database, second_device, remote, account):
    pid = add_playlist(database, account, "Road trip")
    assert sync(database, remote, account).errors == []
    assert sync(second_device, remote, account).errors == []
    assert one(second_device, "select name from user_playlists where id = :i", i=pid) == "Road trip"
    return pid


def test_edits_on_both_sides_of_a_playlist_keep_the_later_one(
    database, second_device, remote, account
):
    pid = _two_devices_with_a_playlist(database, second_device, remote, account)
    run_sql(database, account, "update user_playlists set name = 'A' where id = :i", i=pid)
    run_sql(second_device, account, "update user_playlists set name = 'B' where id = :i", i=pid)
    # A pushes first; B's edit is later, so B wins on B, on the shared side, then on A.
    assert sync(database, remote, account).pushed == 1
    b = sync(second_device, remote, account)
    assert b.conflicts == 1 and b.errors == []
    sync(database, remote, account)
    for db in (database, second_device, remote):
        assert one(db, "select name from user_playlists where id = :i", i=pid) == "B"
    assert_same(database, remote, account)
    assert_same(second_device, remote, account)
    # Nothing lost: the losing edit is on record where the conflict was seen.
    lost = one(
        second_device,
        "select remote_row ->> 'name' from sync_conflicts where row_key = :k and kept = 'local'",
        k=str(pid),
    )
    assert lost == "A"


def test_the_older_edit_loses_even_when_it_syncs_last(database, second_device, remote, account):
    pid = _two_devices_with_a_playlist(database, second_device, remote, account)
    run_sql(database, account, "update user_playlists set name = 'older' where id = :i", i=pid)
    run_sql(second_device, account, "update user_playlists set name = 'newer' where id = :i", i=pid)
    sync(second_device, remote, account)
    a = sync(database, remote, account)
    assert a.conflicts == 1 and a.pushed == 0
    assert pending(database) == 0
    for db in (database, second_device, remote):
        assert one(db, "select name from user_playlists where id = :i", i=pid) == "newer"


def test_clock_skewed_by_minutes_still_converges(database, second_device, remote, account):
    pid = _two_devices_with_a_playlist(database, second_device, remote, account)
    # This device's clock runs 5 minutes fast: its earlier edit carries the later time.
    edit_with_clock(database, "user_playlists", pid, +5, name="fast clock")
    run_sql(
        second_device, account, "update user_playlists set name = 'true later' where id = :i", i=pid
    )
    # ... and the other's runs 3 minutes slow for its next edit of another column.
    edit_with_clock(second_device, "user_playlists", pid, -3, description="slow clock")
    for _ in range(2):
        for db in (second_device, database):
            assert sync(db, remote, account).errors == []
    names = {
        one(db, "select name from user_playlists where id = :i", i=pid)
        for db in (database, second_device, remote)
    }
    assert names == {"fast clock"}
    assert_same(database, remote, account)
    assert_same(second_device, remote, account)


def test_delete_on_one_side_and_edit_on_the_other(database, second_device, remote, account):
    pid = _two_devices_with_a_playlist(database, second_device, remote, account)
    run_sql(database, account, "delete from user_playlists where id = :i", i=pid)
    sync(database, remote, account)
    assert one(remote, "select count(*) from user_playlists where id = :i", i=pid) == 0
    # The other device edits after the delete: its edit is newer and brings the row back.
    run_sql(second_device, account, "update user_playlists set name = 'kept' where id = :i", i=pid)
    sync(second_device, remote, account)
    sync(database, remote, account)
    for db in (database, second_device, remote):
        assert one(db, "select name from user_playlists where id = :i", i=pid) == "kept"


def test_the_same_track_liked_on_two_devices_is_one_like(database, second_device, remote, account):
    track = add_track(database, account)
    sync(database, remote, account)
    sync(second_device, remote, account)
    like = "insert into user_library (user_id, track_id) values (:u, :t)"
    run_sql(database, account, like, u=account, t=track)
    run_sql(second_device, account, like, u=account, t=track)
    for db in (database, second_device, database):
        assert sync(db, remote, account).errors == []
    for db in (database, second_device, remote):
        assert one(db, "select count(*) from user_library where track_id = :t", t=track) == 1
    assert_same(database, remote, account)
    assert_same(second_device, remote, account)


def test_the_same_history_imported_on_two_devices_is_stored_once(
    database, second_device, remote, account
):
    sync(database, remote, account)
    sync(second_device, remote, account)
    listen = (
        "insert into user_history (user_id, platform, track_name, artist, played_at) "
        "values (:u, 'spotify', 'Same Song', 'Same Artist', '2026-01-02T03:04:05Z')"
    )
    run_sql(database, account, listen, u=account)
    run_sql(second_device, account, listen, u=account)
    for db in (database, second_device, database):
        assert sync(db, remote, account).errors == []
    for db in (database, second_device, remote):
        assert one(db, "select count(*) from user_history where user_id = :u", u=account) == 1
    assert_same(database, remote, account)
    assert_same(second_device, remote, account)


def test_the_taste_vector_only_travels_within_one_embedding_space(
    database, second_device, remote, account
):
    vec = "[" + ",".join(["0.5"] * 768) + "]"
    other = "[" + ",".join(["-0.5"] * 768) + "]"
    set_taste = "update users set taste_vector = cast(:v as vector), embedding_space = :s"
    run_sql(database, account, set_taste, v=vec, s="descriptor-v1")
    sync(database, remote, account)
    assert (
        one(remote, "select embedding_space from users where id = :u", u=account) == "descriptor-v1"
    )
    # A device on another embedder keeps its own vector and the shared one stays put.
    sync(second_device, remote, account)
    run_sql(second_device, account, set_taste, v=other, s="mert-v1-95m")
    assert sync(second_device, remote, account).errors == []
    assert (
        one(remote, "select embedding_space from users where id = :u", u=account) == "descriptor-v1"
    )
    assert one(remote, "select taste_vector::text from users where id = :u", u=account).startswith(
        "[0.5,"
    )
    assert (
        one(second_device, "select embedding_space from users where id = :u", u=account)
        == "mert-v1-95m"
    )
    assert one(
        second_device, "select taste_vector::text from users where id = :u", u=account
    ).startswith("[-0.5,")
    # The same space on both sides: the newer vector travels.
    run_sql(database, account, set_taste, v=other, s="descriptor-v1")
    sync(database, remote, account)
    assert one(remote, "select taste_vector::text from users where id = :u", u=account).startswith(
        "[-0.5,"
    )

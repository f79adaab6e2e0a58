"""The radio's listener model travels between devices like the user's other rows.

Two real servers (``conftest.py``): device A is ``database``, device B ``second_device``,
the shared database ``remote``. Saves and resets go through ``player.taste.store``, as
the app makes them.
"""

from __future__ import annotations

from db.sync import sync
from player.taste.store import load_state, reset_state, save_state
from tests.sync.helpers import assert_same, one, pending

LEARNED = {"format": 1, "genres": {"techno": [4.0, 1.0]}, "tempo": [128.0, 0.1]}


def test_a_saved_model_reaches_the_other_device_and_a_reset_follows(
    database, second_device, remote, account
):
    save_state(database, account, LEARNED, "descriptor-v1")
    first = sync(database, remote, account)
    assert first.errors == [] and first.pushed == 2  # the users row and the model
    assert pending(database) == 0
    assert load_state(remote, account) == (LEARNED, "descriptor-v1")  # as the user (RLS)

    pulled = sync(second_device, remote, account)
    assert pulled.errors == []
    assert load_state(second_device, account) == (LEARNED, "descriptor-v1")
    assert_same(database, second_device, account)

    # "Reset what the radio learned" on A: the deletion travels as a tombstone.
    reset_state(database, account)
    assert sync(database, remote, account).pushed == 1
    assert load_state(remote, account) is None
    assert (
        one(
            remote,
            "select op from sync_changes where table_name = 'listener_models' and row_key = :k",
            k=str(account),
        )
        == "delete"
    )
    sync(second_device, remote, account)
    assert load_state(second_device, account) is None
    assert_same(database, second_device, account)
    assert_same(database, remote, account)
    # Learning again afterwards syncs as a new row.
    save_state(second_device, account, {"format": 1, "fresh": True}, "descriptor-v1")
    sync(second_device, remote, account)
    sync(database, remote, account)
    assert load_state(database, account) == ({"format": 1, "fresh": True}, "descriptor-v1")


def test_the_later_save_wins_and_the_earlier_is_kept_as_a_conflict(
    database, second_device, remote, account
):
    save_state(database, account, LEARNED, "descriptor-v1")
    sync(database, remote, account)
    sync(second_device, remote, account)
    # Both devices learn before either syncs; B's save is the later one.
    save_state(database, account, {"format": 1, "from": "A"}, "descriptor-v1")
    save_state(second_device, account, {"format": 1, "from": "B"}, "mert-v1-95m")
    assert sync(database, remote, account).pushed == 1
    b = sync(second_device, remote, account)
    assert b.conflicts == 1 and b.errors == []
    sync(database, remote, account)
    for db in (database, second_device, remote):
        assert load_state(db, account) == ({"format": 1, "from": "B"}, "mert-v1-95m")
    assert_same(database, second_device, account)
    lost = one(
        second_device,
        "select remote_row -> 'state' ->> 'from' from sync_conflicts "
        "where table_name = 'listener_models' and kept = 'local'",
    )
    assert lost == "A"


def test_a_reset_loses_to_a_later_save_on_another_device(database, second_device, remote, account):
    save_state(database, account, LEARNED, "descriptor-v1")
    sync(database, remote, account)
    sync(second_device, remote, account)
    reset_state(database, account)
    save_state(second_device, account, {"format": 1, "relearned": True}, "descriptor-v1")
    sync(database, remote, account)  # the tombstone reaches the shared side first
    sync(second_device, remote, account)  # B's later save wins there
    sync(database, remote, account)
    for db in (database, second_device, remote):
        assert load_state(db, account) == ({"format": 1, "relearned": True}, "descriptor-v1")

"""The listener model's row: saved, loaded, reset, refused when it is not plain JSON or
too large, and still there after a restart (all on the real PostgreSQL, as the user)."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
from sqlalchemy import text

from base.errors import UserFacingError
from player.taste.store import MAX_STATE_BYTES, load_state, reset_state, save_state

STATE = {
    "format": 1,
    "genres": {"house": {"alpha": 3.5, "beta": 1.0}, "ambient": {"alpha": 1.0, "beta": 4.0}},
    "tempo": {"mean": 118.0, "precision": 0.02},
    "embedding": [0.125, -0.5, 0.25],
    "explanation": "faster and darker than your last picks — because you skipped the slow ones",
}


def _row(database, user_id):
    with database.service_session() as s:
        return s.execute(
            text("select version, created_at, updated_at from listener_models where user_id = :u"),
            {"u": user_id},
        ).first()


def test_nothing_learned_yet_is_none(database, make_user):
    assert load_state(database, make_user()) is None


def test_round_trip_and_a_second_save_replaces_the_first(database, make_user):
    uid = make_user()
    save_state(database, uid, STATE, "descriptor-v1")
    assert load_state(database, uid) == (STATE, "descriptor-v1")
    first = _row(database, uid)
    assert first.version == 1

    changed = {**STATE, "tempo": {"mean": 84.0, "precision": 0.05}}
    save_state(database, uid, changed, None)
    assert load_state(database, uid) == (changed, None)
    second = _row(database, uid)
    # One row per user; each save counts and moves updated_at (what the sync compares).
    assert second.version == 2
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at


def test_each_user_loads_their_own_model(database, make_user):
    a, b = make_user(), make_user()
    save_state(database, a, {"who": "a"}, "descriptor-v1")
    save_state(database, b, {"who": "b"}, "mert-v1-95m")
    assert load_state(database, a) == ({"who": "a"}, "descriptor-v1")
    assert load_state(database, b) == ({"who": "b"}, "mert-v1-95m")
    reset_state(database, a)
    assert load_state(database, a) is None
    assert load_state(database, b) == ({"who": "b"}, "mert-v1-95m")


def test_reset_forgets_and_is_harmless_when_nothing_is_there(database, make_user):
    uid = make_user()
    reset_state(database, uid)  # nothing saved yet: no error
    save_state(database, uid, STATE, "descriptor-v1")
    reset_state(database, uid)
    assert load_state(database, uid) is None
    assert _row(database, uid) is None
    reset_state(database, uid)
    # Learning again after a reset starts a new row.
    save_state(database, uid, {"format": 1}, "descriptor-v1")
    assert load_state(database, uid) == ({"format": 1}, "descriptor-v1")
    assert _row(database, uid).version == 1


def test_an_oversized_model_is_refused_and_the_stored_one_kept(database, make_user):
    uid = make_user()
    save_state(database, uid, STATE, "descriptor-v1")
    # Just over the limit as compact JSON.
    huge = {"history": ["x" * 1000] * (MAX_STATE_BYTES // 1000 + 1)}
    with pytest.raises(UserFacingError, match=r"too large.*256 KB"):
        save_state(database, uid, huge, "descriptor-v1")
    assert load_state(database, uid) == (STATE, "descriptor-v1")
    assert _row(database, uid).version == 1
    # Just under it is stored whole.
    fits = {"history": "y" * (MAX_STATE_BYTES - len('{"history":""}'))}
    assert len(json.dumps(fits, separators=(",", ":")).encode()) == MAX_STATE_BYTES
    save_state(database, uid, fits, "descriptor-v1")
    assert load_state(database, uid) == (fits, "descriptor-v1")


@pytest.mark.parametrize(
    ("state", "names"),
    [
        ({"embedding": np.zeros(3, dtype=np.float32)}, "ndarray"),
        ({"seen": {1, 2}}, "set"),
        ({"tempo": float("nan")}, "NaN"),
        ({"genres": {"house": {7: 1.0}}}, r"key 7 in state\['genres'\]\['house'\]"),
        ({"note": "a\x00b"}, "refused its JSON"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_a_model_that_is_not_plain_json_is_refused_by_name(database, make_user, state, names):
    uid = make_user()
    with pytest.raises(UserFacingError, match=names):
        save_state(database, uid, state, "descriptor-v1")
    assert load_state(database, uid) is None


def test_a_blank_embedding_space_is_refused(database, make_user):
    uid = make_user()
    with pytest.raises(UserFacingError, match="embedding space"):
        save_state(database, uid, STATE, " ")
    assert load_state(database, uid) is None


def test_an_unknown_account_is_named(database):
    ghost = uuid.uuid4()
    with pytest.raises(UserFacingError, match=str(ghost)):
        save_state(database, ghost, STATE, "descriptor-v1")


def test_the_model_survives_a_restart(database, make_user):
    from db.database import Database

    uid = make_user()
    save_state(database, uid, STATE, "descriptor-v1")
    database.engine.dispose()  # the app closes: no connection, no cache survives
    reopened = Database(database.url)
    try:
        assert load_state(reopened, uid) == (STATE, "descriptor-v1")
        reset_state(reopened, uid)
    finally:
        reopened.close()
    assert load_state(database, uid) is None

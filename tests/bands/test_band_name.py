"""A band named by its creator: the name (and the bio that speaks of it) is theirs, a name
they already use is refused, and a refused band leaves nothing behind."""

from __future__ import annotations

import pytest

from base.errors import UserFacingError
from player.bands.service import BandService


def test_a_chosen_name_replaces_the_made_up_one(database, make_user):
    uid = make_user()
    svc = BandService(database)
    made_up = svc.create_band(uid, genres=["house", "lo-fi"], vibe="chill", name_seed=5)
    named = svc.create_band(uid, genres=["house", "lo-fi"], vibe="chill", name_seed=5,
                            name="  The Night Owls ", is_public=False)  # fmt: skip
    assert named.name == "The Night Owls" and not named.is_public
    assert "The Night Owls" in named.bio and made_up.name not in named.bio


def test_a_name_already_used_or_empty_is_refused_and_nothing_is_written(database, make_user):
    uid = make_user()
    svc = BandService(database)
    svc.create_band(uid, genres=["jazz"], name="Blue Hours")
    with pytest.raises(UserFacingError, match="already have a band called 'blue hours'"):
        svc.create_band(uid, genres=["jazz"], name="blue hours")
    with pytest.raises(UserFacingError, match="cannot be empty"):
        svc.create_band(uid, genres=["jazz"], name="   ")
    assert [b.name for b in svc.list_bands(uid)] == ["Blue Hours"]
    # another listener may use the same name
    assert svc.create_band(make_user(), genres=["jazz"], name="Blue Hours").name == "Blue Hours"

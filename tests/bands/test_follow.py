"""Follows: idempotent, and follower_count right under 20 concurrent followers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from player.bands.service import BandService


def _count(database, band_id) -> int:
    from db.models import Band

    with database.service_session() as s:
        return int(s.get(Band, band_id).follower_count)


def _in_threads(fn, users) -> None:
    """Run ``fn(user)`` for every user at once: a barrier releases all threads together."""
    barrier = threading.Barrier(len(users))

    def run(user):
        barrier.wait(timeout=60)
        return fn(user)

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        for future in [pool.submit(run, u) for u in users]:
            future.result()  # re-raise any failure


def test_twenty_concurrent_follows_and_unfollows_keep_the_count_right(database, make_user):
    svc = BandService(database)
    band = svc.create_band(make_user(), genres=["drum & bass"])
    fans = [make_user() for _ in range(20)]

    _in_threads(lambda u: svc.follow(u, band.id), fans)
    assert _count(database, band.id) == 20
    assert svc.get_band(fans[0], band.id).follower_count == 20

    _in_threads(lambda u: svc.follow(u, band.id), fans[:10])  # again: nothing changes
    assert _count(database, band.id) == 20

    _in_threads(lambda u: svc.unfollow(u, band.id), fans[:15])
    assert _count(database, band.id) == 5
    svc.unfollow(fans[0], band.id)  # not following any more: no-op, never negative
    assert _count(database, band.id) == 5


def test_following_lists_what_i_follow(database, make_user):
    creator, fan = make_user(), make_user()
    svc = BandService(database)
    a = svc.create_band(creator, genres=["jazz"], name_seed=1)
    b = svc.create_band(creator, genres=["jazz"], name_seed=2)
    assert svc.follow(fan, a.id).follower_count == 1
    svc.follow(fan, b.id)
    assert {x.id for x in svc.following(fan)} == {a.id, b.id}
    svc.unfollow(fan, a.id)
    assert [x.id for x in svc.following(fan)] == [b.id]
    assert svc.following(creator) == []


def test_concurrent_creations_never_share_a_name(database, make_user):
    """Same user, same seed, five threads at once: the per-user lock keeps names unique."""
    uid = make_user()
    svc = BandService(database)
    names: list[str] = []
    lock = threading.Lock()

    def create(_):
        band = svc.create_band(uid, genres=["hip-hop"], name_seed=9)
        with lock:
            names.append(band.name)

    _in_threads(create, list(range(5)))
    assert len(names) == 5 and len({n.casefold() for n in names}) == 5

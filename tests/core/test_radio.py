"""The radio on the real database with the real (procedural) generation service."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from base.errors import UserFacingError
from player.generation.service import GenerationService
from player.radio import RadioEvent, RadioSeed, RadioService
from player.taste.planner import LegacyPlanner, Station, feedback_reward

SECONDS = 4.0


class Recorder:
    """Collects radio events and waits (without sleeping) for a condition on them."""

    def __init__(self, radio: RadioService) -> None:
        self.events: list[RadioEvent] = []
        self._cond = threading.Condition()
        radio.subscribe(self._on_event)

    def _on_event(self, event: RadioEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait(self, check: Callable[[list[RadioEvent]], bool], timeout: float = 60.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: check(self.events), timeout), [
                e.kind for e in self.events
            ]

    def kinds(self, kind: str) -> list[RadioEvent]:
        return [e for e in self.events if e.kind == kind]


@pytest.fixture
def radio_for(database, make_user):
    made: list[RadioService] = []

    def _make(
        limit: int = 20, ahead: int = 2, genres=("house",), score: bool = False, **kw
    ) -> RadioService:
        prefs = {"genres": list(genres), "vibe": "chill", "tempo_range": "110-124"}
        user = make_user(preferences_profile=prefs)
        radio = RadioService(
            database,
            user,
            GenerationService(database, daily_limit=limit),
            ahead=ahead,
            track_seconds=SECONDS,
            preferences=prefs,
            rng_seed=7,
            score=score,
            **kw,
        )
        made.append(radio)
        return radio

    yield _make
    for radio in made:
        radio.close()


def test_keeps_tracks_ahead_and_refills_when_one_starts(radio_for, database):
    radio = radio_for(ahead=2, score=True)
    rec = Recorder(radio)
    radio.start(RadioSeed("taste"))
    rec.wait(lambda ev: sum(e.kind == "ready" for e in ev) >= 2)
    ready = [e.item for e in rec.kinds("ready")]
    assert all(i is not None and i.track_id and i.progress == 1.0 for i in ready)
    # progress was reported while generating, before the track was ready
    assert any(0 < (e.item.progress if e.item else 0) < 1 for e in rec.kinds("progress"))
    assert radio.ahead_count() == 2
    first = radio.next_ready()
    assert first is not None and first.track_id == ready[0].track_id
    radio.track_started(first.track_id)
    # the playing track no longer counts as "ahead": a third one is made
    rec.wait(lambda ev: sum(e.kind == "ready" for e in ev) >= 3)
    statuses = [i.status for i in radio.items()]
    assert statuses.count("playing") == 1 and statuses.count("ready") == 2
    from player.library import Library

    made = Library(database, radio.user_id).tracks()
    assert {t.id for t in made} >= {e.item.track_id for e in rec.kinds("ready") if e.item}
    assert all(t.mode == "radio" for t in made)
    # each track was embedded and scored against the taste built from onboarding
    scored = [t for t in made if t.id in {i.track_id for i in ready}]
    assert all(t.match is not None and 0 <= t.match <= 100 for t in scored)
    assert all(t.explanation and t.explanation.startswith("Because you like") for t in scored), [
        t.explanation for t in scored
    ]


def test_quota_stops_generation_with_a_friendly_message(radio_for):
    radio = radio_for(limit=2, ahead=3)
    rec = Recorder(radio)
    radio.start(RadioSeed("genre", genre="techno"))
    rec.wait(lambda ev: any(e.kind == "quota" for e in ev))
    (quota,) = rec.kinds("quota")
    assert "midnight UTC" in quota.message and "library keeps playing" in quota.message
    assert radio.halted == "quota"
    ready = [i for i in radio.items() if i.status == "ready"]
    assert len(ready) == 2  # what was made before the limit stays playable
    assert all(i.genre == "techno" for i in ready)
    # starting again does not loop on the quota forever: it asks once and stops
    radio.start(RadioSeed("taste"))
    rec.wait(lambda ev: len([e for e in ev if e.kind == "quota"]) == 2)
    assert radio.halted == "quota"


def test_likes_and_skips_steer_the_next_requests(radio_for):
    radio = radio_for(ahead=2, genres=("house", "jazz"), learn_taste=False, planner="legacy")
    rec = Recorder(radio)
    radio.start(RadioSeed("taste"))
    rec.wait(lambda ev: sum(e.kind == "ready" for e in ev) >= 2)
    items = [e.item for e in rec.kinds("ready") if e.item]
    for item in items:
        assert item.track_id is not None
        if item.genre == "jazz":
            radio.skip(item.track_id, position_seconds=3.0)  # an early skip
        else:
            radio.like(item.track_id)
    weights = radio.weights()
    genres = [i.genre for i in items]
    for genre in set(genres):
        factor = 0.4 if genre == "jazz" else 1.6
        assert weights[genre] == pytest.approx(factor ** genres.count(genre))
    # after a skip, the skipped genre weighs less than the liked one
    if {i.genre for i in items} == {"house", "jazz"}:
        assert weights["jazz"] < weights["house"]


def test_learning_changes_what_is_planned():
    """Seeded planning with the legacy planner (the benchmark's baseline): after skips of
    jazz and likes of house, house dominates."""
    planner = LegacyPlanner({"genres": ["house", "jazz"]}, rng_seed=3)
    station = Station("taste")
    planner.tune(station)
    before = [planner.plan(station, SECONDS).genre for _ in range(200)]
    for _ in range(3):
        planner.feedback(None, "house", *feedback_reward("like"))
        planner.feedback(None, "jazz", *feedback_reward("skip", 5.0, 150.0))
    after = [planner.plan(station, SECONDS).genre for _ in range(200)]
    assert 60 < before.count("jazz") < 140
    assert after.count("jazz") < 10


def test_seed_needs_what_it_names():
    with pytest.raises(UserFacingError, match="genre"):
        RadioSeed("genre")
    with pytest.raises(UserFacingError, match="Unknown radio kind"):
        RadioSeed("mood")
    assert RadioSeed("vibe", vibe="dark").describe() == "dark radio"


def test_band_radio_adds_its_tracks_to_the_band(radio_for, database):
    from player.bands.service import BandService

    radio = radio_for(ahead=1)
    band = BandService(database).create_band(radio.user_id, genres=["ambient"], vibe="dreamy")
    rec = Recorder(radio)
    radio.start(RadioSeed("band", band_id=band.id))
    rec.wait(lambda ev: any(e.kind == "ready" for e in ev))
    (ready,) = [e.item for e in rec.kinds("ready") if e.item]
    assert ready.genre == "ambient" and ready.vibe == "dreamy"
    refreshed = BandService(database).get_band(radio.user_id, band.id)
    assert ready.track_id in refreshed.track_ids


def test_the_quota_message_carries_the_services_sentence():
    from player.generation.service import QuotaExceeded
    from player.radio import quota_message

    detail = str(QuotaExceeded(3))
    message = quota_message(detail)
    assert message.startswith(detail) and "all 3 of today's free generations" in message
    assert "library keeps playing" in message
    assert "midnight UTC" in quota_message() and "library keeps playing" in quota_message()

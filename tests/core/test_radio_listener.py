"""The radio with the listener model: re-planning after feedback, lock-step, band bounds."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from player.generation.service import GenerationService
from player.radio import RadioSeed, RadioService
from player.taste.listener import Bounds, Controls
from tests.core.test_radio import SECONDS, Recorder


class GatedGeneration:
    """The real generation service, held at the door until the test opens it: lets a test
    see the queue while a track is still being made. Only the timing is the test's."""

    def __init__(self, service: GenerationService) -> None:
        self.service = service
        self.open = threading.Event()
        self.calls = 0

    def generate(self, user_id, request, band_id=None, on_chunk=None, cancel=None):
        self.calls += 1
        if self.calls > 1:
            while not self.open.wait(0.02):
                if cancel is not None and cancel.is_set():
                    raise RuntimeError("cancelled while waiting")
        return self.service.generate(user_id, request, band_id, on_chunk, cancel)

    def remaining_today(self, user_id):
        return self.service.remaining_today(user_id)

    def engine_name(self):
        return self.service.engine_name()


@pytest.fixture
def prefs():
    return {"genres": ["house", "lo-fi", "jazz"], "vibe": "balanced"}


def test_a_skip_replans_what_is_not_playing_yet(database, make_user, prefs):
    user = make_user(preferences_profile=prefs)
    gate = GatedGeneration(GenerationService(database))
    radio = RadioService(
        database, user, gate, ahead=3, track_seconds=SECONDS, preferences=prefs,
        rng_seed=1, score=False, learn_taste=False, remember=False,
    )  # fmt: skip
    try:
        rec = Recorder(radio)
        radio.start(RadioSeed("taste"))
        rec.wait(lambda ev: any(e.kind == "ready" for e in ev))
        first = next(e.item for e in rec.kinds("ready") if e.item)
        radio.track_started(first.track_id)
        rec.wait(lambda ev: sum(e.kind == "queued" for e in ev) >= 4)
        before = {i.key: i.request for i in radio.items() if i.status == "queued"}
        assert before, [i.status for i in radio.items()]
        generating = [i.key for i in radio.items() if i.status == "generating"]
        radio.skip(first.track_id, position_seconds=2.0)
        after = {i.key: i.request for i in radio.items() if i.status == "queued"}
        # queued requests were planned again with the skip known ...
        replanned = {e.item.key for e in rec.kinds("replanned") if e.item}
        assert set(before) <= replanned
        assert all(after[k] != before[k] for k in before if k in after)
        # ... and the track being made was cancelled and replaced
        rec.wait(lambda ev: all(i.key not in generating for i in radio.items()))
        assert len(radio.planner.model.observations) == 1
        assert radio.planner.model.observations[0].reward == -1.0
        gate.open.set()
        rec.wait(lambda ev: sum(e.kind == "ready" for e in ev) >= 3, timeout=90)
    finally:
        gate.open.set()
        radio.close()


def test_lockstep_plans_the_next_track_only_after_feedback(database, make_user, prefs):
    user = make_user(preferences_profile=prefs)
    radio = RadioService(
        database, user, GenerationService(database), ahead=1, track_seconds=SECONDS,
        preferences=prefs, rng_seed=2, score=False, learn_taste=False, remember=False,
        lockstep=True,
    )  # fmt: skip
    try:
        rec = Recorder(radio)
        radio.start(RadioSeed("taste"))
        rec.wait(lambda ev: any(e.kind == "ready" for e in ev))
        first = rec.kinds("ready")[0].item
        radio.track_started(first.track_id)
        time.sleep(0.3)  # nothing may be planned in the meantime: give it the chance
        assert [e.kind for e in rec.events].count("queued") == 1
        radio.skip(first.track_id, position_seconds=5.0)
        assert [e.kind for e in rec.events].count("queued") == 1
        radio.advance()
        rec.wait(lambda ev: sum(e.kind == "ready" for e in ev) >= 2)
        second = rec.kinds("ready")[1].item
        assert second.controls is not None and second.params["genre"] == second.genre
        assert len(radio.planner.model.observations) == 1
    finally:
        radio.close()


def test_band_radio_stays_within_the_bands_style(database, make_user):
    from player.bands.service import BandService

    user = make_user()
    band = BandService(database).create_band(user, genres=["lo-fi", "jazz"], vibe="chill")
    radio = RadioService(
        database, user, GenerationService(database), ahead=1, track_seconds=SECONDS,
        rng_seed=4, score=False, learn_taste=False, remember=False, lockstep=True,
    )  # fmt: skip
    bounds = Bounds.for_band(["lo-fi", "jazz"], "chill")
    try:
        rec = Recorder(radio)
        radio.start(RadioSeed("band", band_id=band.id))
        for n in range(1, 5):
            rec.wait(lambda ev, n=n: sum(e.kind == "ready" for e in ev) >= n)
            item = rec.kinds("ready")[n - 1].item
            made = Controls.from_params(item.params)
            assert made is not None and bounds.contains(made), item.params
            assert item.vibe == "chill"
            radio.track_started(item.track_id)
            # whatever the listener says, band radio does not leave the band's style
            radio.like(item.track_id) if n % 2 else radio.skip(item.track_id, 1.0)
            radio.advance()
    finally:
        radio.close()


def test_unknown_tracks_teach_nothing(database, make_user, prefs):
    radio = RadioService(
        database, make_user(), GenerationService(database), preferences=prefs,
        score=False, learn_taste=False, remember=False,
    )  # fmt: skip
    try:
        radio.skip(uuid.uuid4(), 1.0)
        radio.like(uuid.uuid4())
        assert radio.planner.model.observations == []
    finally:
        radio.close()


def test_what_the_radio_learned_survives_a_restart_and_resets(database, make_user, prefs):
    from player.taste import store

    user = make_user(preferences_profile=prefs)

    def radio() -> RadioService:
        return RadioService(
            database, user, GenerationService(database), ahead=1, track_seconds=SECONDS,
            preferences=prefs, rng_seed=5, score=False, learn_taste=False, lockstep=True,
        )  # fmt: skip

    first = radio()
    try:
        rec = Recorder(first)
        first.start(RadioSeed("taste"))
        rec.wait(lambda ev: any(e.kind == "ready" for e in ev))
        item = rec.kinds("ready")[0].item
        first.track_started(item.track_id)
        first.like(item.track_id)
        learned = first.planner.model.observations[0].controls
    finally:
        first.close()
    second = radio()  # the next session: a new process would do exactly this
    try:
        second.prepare()
        [remembered] = second.planner.model.observations
        assert remembered.controls == learned and remembered.reward == 1.0
        second.forget()
        assert store.load_state(database, user) is None
        assert second.planner.model.observations == []
    finally:
        second.close()
    third = radio()
    try:
        assert third.prepare().model.observations == []
    finally:
        third.close()


def test_imported_history_shapes_the_first_session(database, make_user, prefs):
    """Plays of artists the catalogue files under techno make the radio start there."""
    from tests.imports.test_genre_prior import add_catalogue, add_history

    def first_genres(user: uuid.UUID) -> list[str]:
        radio = RadioService(
            database, user, GenerationService(database), preferences=prefs, rng_seed=3,
            score=False, learn_taste=False, remember=False,
        )  # fmt: skip
        try:
            planner = radio.prepare()
            station = radio._station_for(RadioSeed("taste"))
            return [planner.plan(station, SECONDS).genre for _ in range(40)]
        finally:
            radio.close()

    add_catalogue(database, [("Kessler Loop", ["minimal techno"]), ("Tresor Ghost", ["techno"])])
    listener = make_user(preferences_profile=prefs)
    add_history(database, listener, [("Kessler Loop", 30, None), ("Tresor Ghost", 12, None)])
    without = first_genres(make_user(preferences_profile=prefs))
    with_history = first_genres(listener)
    assert with_history.count("techno") > without.count("techno") + 5, (with_history, without)

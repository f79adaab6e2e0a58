"""The listener model on its own: learning, exploring, bounds, explanations, state."""

from __future__ import annotations

import json

import numpy as np
import pytest

from base.errors import UserFacingError
from player.taste.listener import (
    FEATURES,
    Bounds,
    Controls,
    ListenerModel,
    Prior,
    reward_for_skip,
)
from player.taste.sound import SOUND_MEAN, SOUND_SPREAD


def _session(model: ListenerModel, fits, n: int, seed: int = 0, bounds: Bounds | None = None):
    rng = np.random.default_rng(seed)
    liked = []
    for _ in range(n):
        choice = model.choose(bounds or Bounds(), rng)
        ok = fits(choice.controls)
        liked.append(ok)
        if ok:
            model.observe(choice.controls, 1.0)
        else:
            model.observe(choice.controls, *reward_for_skip(5.0, 20.0))
    return liked


@pytest.mark.parametrize(
    "fits",
    [
        lambda c: 110 <= c.bpm <= 130,
        lambda c: c.brightness > 0.7,
        lambda c: c.density < 0.3 and c.scale in ("minor", "dorian", "phrygian", "harmonic minor"),
    ],
    ids=["tempo-band", "bright", "sparse-minor"],
)
def test_a_planted_preference_is_learned(fits):
    prior = Prior.from_preferences({"genres": ["pop", "house", "jazz", "rock"], "vibe": "balanced"})
    model = ListenerModel(prior)
    liked = _session(model, fits, 30, seed=1)
    first, last = np.mean(liked[:10]), np.mean(liked[-10:])
    assert last >= 0.8 and last > first, liked


def test_exploration_remains_after_a_long_run():
    """However sure the model gets, it keeps trying other corners now and then."""
    model = ListenerModel()
    _session(model, lambda c: c.genre == "house", 120, seed=2)
    rng = np.random.default_rng(5)
    genres = {model.choose(Bounds(), rng).controls.genre for _ in range(200)}
    assert "house" in genres and len(genres) >= 2


def test_skips_move_choices_away_and_early_skips_count_more():
    early, late = reward_for_skip(3.0, 150.0), reward_for_skip(120.0, 150.0)
    assert early[0] < late[0] and early[1] > late[1]
    model = ListenerModel()
    slow = Controls("lo-fi", 75.0, "minor", 0.3, 0.3, 0.3, 0.0, "medium", 0)
    fast = Controls("lo-fi", 150.0, "minor", 0.3, 0.3, 0.3, 0.0, "medium", 0)
    before = model.expected([slow, fast])
    for _ in range(4):
        model.observe(slow, *reward_for_skip(3.0, 150.0))
    after = model.expected([slow, fast])
    assert after[0] < before[0] - 0.3
    assert abs(after[1] - before[1]) < abs(after[0] - before[0])


def test_choices_stay_within_a_bands_bounds():
    bounds = Bounds.for_band(["house", "lo-fi"], "chill")
    model = ListenerModel()
    rng = np.random.default_rng(0)
    for _ in range(40):
        c = model.choose(bounds, rng).controls
        assert bounds.contains(c), c
        model.observe(c, 1.0 if c.energy > 0.5 else -1.0)
    assert {c.genre for c in bounds.sample(rng, 100)} == {"house", "lo-fi"}


def test_a_track_station_stays_near_its_source():
    source = Controls("techno", 130.0, "phrygian", 0.8, 0.6, 0.5, 0.1, "high", 2)
    bounds = Bounds.around(source)
    rng = np.random.default_rng(1)
    model = ListenerModel()
    for _ in range(30):
        c = model.choose(bounds, rng).controls
        assert c.genre == "techno" and c.palette == 2 and abs(c.bpm - 130) <= 130 * 0.06 + 0.05
        assert abs(c.energy - 0.8) <= 0.15 + 1e-4


def test_history_and_onboarding_shape_the_prior():
    prior = Prior.from_preferences({"genres": ["jazz"]}, {"techno": 0.8, "house": 0.2})
    model = ListenerModel(prior)
    rng = np.random.default_rng(0)
    picks = [model.choose(Bounds(), rng).controls.genre for _ in range(200)]
    favourites = sum(g in ("techno", "jazz", "house") for g in picks)
    assert favourites > 100, picks  # 3 of 12 genres would get ~50 by chance
    assert picks.count("techno") > picks.count("house")


def test_explanations_say_what_was_learned_and_only_when_true():
    model = ListenerModel()
    slow_dark = Controls("lo-fi", 75.0, "minor", 0.4, 0.4, 0.2, 0.0, "medium", 0)
    fast_bright = Controls("house", 128.0, "minor", 0.4, 0.4, 0.9, 0.0, "medium", 0)
    assert model.explain(fast_bright) is None  # nothing learned yet: nothing to say
    for _ in range(3):
        model.observe(slow_dark, -1.0)
        model.observe(fast_bright, 1.0)
    text = model.explain(fast_bright)
    assert text is not None and "faster" in text.lower() and "brighter" in text.lower()
    assert "slow" in text and "dark" in text
    # a track like the skipped ones gets no such claim
    assert model.explain(slow_dark) is None or "faster" not in model.explain(slow_dark).lower()


def test_state_round_trips_and_is_small():
    model = ListenerModel()
    _session(model, lambda c: c.bpm > 120, 60, seed=3)
    model.embedding.observe(np.ones(768), "descriptor-v1", 1.0, 1.0)
    rng = np.random.default_rng(4)
    sounds = SOUND_MEAN + rng.normal(0, 1, (120, len(SOUND_MEAN))) * SOUND_SPREAD
    for sound in sounds:
        model.sound.observe(sound, 1.0 if sound[2] > 0 else -1.0)
    state = model.state()
    assert len(json.dumps(state)) < 96_000
    again = ListenerModel.from_state(json.loads(json.dumps(state)))
    probe = Bounds().sample(np.random.default_rng(9), 20)
    np.testing.assert_allclose(again.expected(probe), model.expected(probe), atol=1e-3)
    assert again.embedding.space == "descriptor-v1"
    heard = sounds[:5]
    np.testing.assert_allclose(
        again.sound.posterior(heard)[0], model.sound.posterior(heard)[0], atol=1e-3
    )
    again.forget()
    assert len(again.sound) == 0 and not again.observations


def test_the_embedding_model_judges_existing_tracks_in_its_space_only():
    model = ListenerModel()
    rng = np.random.default_rng(0)
    liked_dir, skipped_dir = rng.standard_normal(64), rng.standard_normal(64)
    for _ in range(12):
        model.embedding.observe(liked_dir + 0.1 * rng.standard_normal(64), "s1", 1.0, 1.0)
        model.embedding.observe(skipped_dir + 0.1 * rng.standard_normal(64), "s1", -1.0, 1.0)
    good = model.embedding.predict(liked_dir, "s1")
    bad = model.embedding.predict(skipped_dir, "s1")
    assert good is not None and bad is not None and good > 0.3 > -0.3 > bad
    assert model.embedding.predict(liked_dir, "other-space") is None


def test_bad_input_is_refused_by_name():
    with pytest.raises(UserFacingError, match="reward"):
        ListenerModel().observe(Controls("pop", 100, "major", 0.5, 0.5, 0.5, 0, "low", 0), 3.0)
    with pytest.raises(UserFacingError, match="genres"):
        Bounds(genres=("polka",))
    assert FEATURES.dim == FEATURES([Controls("pop", 100, "major", 0, 0, 0, 0, "low", 0)]).shape[1]

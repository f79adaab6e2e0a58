"""The sound side of the listener model: describing audio, learning over descriptions,
auditioning candidates with the real procedural engine."""

from __future__ import annotations

import numpy as np
import pytest

from player.generation.procedural import ProceduralGenerator
from player.generation.protocol import GenerationRequest
from player.taste.listener import ListenerModel, Prior
from player.taste.planner import ListenerPlanner, Station
from player.taste.sound import (
    SOUND_NAMES,
    Auditioner,
    SoundModel,
    describe,
    minorness,
)

RATE = 22_050


def _chords(roots_and_thirds: list[tuple[float, int]], seconds: float = 1.0) -> np.ndarray:
    """Triads of sines: (root Hz, third in semitones), one per ``seconds``."""
    t = np.arange(int(seconds * RATE)) / RATE
    out = []
    for root, third in roots_and_thirds:
        notes = [root, root * 2 ** (third / 12), root * 2 ** (7 / 12)]
        out.append(sum(np.sin(2 * np.pi * f * t) for f in notes) / 3)
    return np.concatenate(out).astype(np.float32)


def test_minorness_tells_a_minor_progression_from_a_major_one():
    a, c, d, e, f, g = 220.0, 261.63, 293.66, 329.63, 349.23, 392.0
    minor = _chords([(a, 3), (d, 3), (e, 4), (a, 3)] * 2)  # i iv V i in A minor
    major = _chords([(c, 4), (f, 4), (g, 4), (c, 4)] * 2)  # I IV V I in C major
    assert minorness(minor) > 0.1
    assert minorness(major) < -0.1


def test_describe_hears_tempo_brightness_and_onsets():
    def clicks(bpm: float, tone: float) -> np.ndarray:
        y = np.zeros(8 * RATE, np.float32)
        t = np.arange(int(0.03 * RATE)) / RATE
        click = (np.sin(2 * np.pi * tone * t) * np.exp(-t * 80)).astype(np.float32)
        for start in np.arange(0, 8 * RATE - click.size, RATE * 60 / bpm).astype(int):
            y[start : start + click.size] += click
        return y

    slow_dark = describe(clicks(80, 300.0), RATE, 80)
    fast_bright = describe(clicks(150, 5000.0), RATE, 150)
    names = dict(zip(SOUND_NAMES, range(len(SOUND_NAMES)), strict=True))
    assert 2 ** fast_bright[names["tempo"]] == pytest.approx(150, rel=0.08)
    assert 2 ** slow_dark[names["tempo"]] == pytest.approx(80, rel=0.08)
    assert fast_bright[names["brightness"]] > slow_dark[names["brightness"]] + 1  # log2 Hz
    assert fast_bright[names["onsets"]] > slow_dark[names["onsets"]]


def test_the_sound_model_learns_which_sounds_are_liked_and_keeps_doubt_elsewhere():
    rng = np.random.default_rng(0)
    model = SoundModel()
    base = np.array([7.0, 7.0, 0.0, 10.7, 2.7, -18.0, 0.75, 0.55])
    liked, skipped = base.copy(), base.copy()
    liked[2], skipped[2] = 0.3, -0.3  # minor liked, major skipped
    for _ in range(4):
        model.observe(liked + rng.normal(0, 0.01, 8), 1.0)
        model.observe(skipped + rng.normal(0, 0.01, 8), -1.0)
    far = base.copy()
    far[3] = 13.0  # a sound unlike anything heard
    mean, cov = model.posterior([liked, skipped, far])
    assert mean[0] > 0.5 > -0.5 > mean[1]
    assert cov[2, 2] > 4 * cov[0, 0]  # unheard sounds stay uncertain: room to explore
    again = SoundModel.from_state(model.state())
    assert np.allclose(again.posterior([liked])[0], model.posterior([liked])[0])
    model.clear()
    assert model.posterior([liked])[0][0] == 0.0


def _request(seed: int, scale: str = "minor") -> GenerationRequest:
    return GenerationRequest(
        genres=["house"], tempo_bpm=124, scale=scale, seed=seed, duration_seconds=12.0
    )


def test_an_audition_describes_the_opening_the_full_track_will_have():
    auditioner = Auditioner(seconds=4.0)
    a = auditioner.preview(_request(3))
    b = auditioner.preview(_request(3))
    assert a is not None and b is not None
    assert np.allclose(a.sound, b.sound)  # same request, same seed: the same music
    full = ProceduralGenerator().generate(_request(3)).render()
    opening = describe(full[: 4 * 44100], 44100, 124)
    assert np.allclose(a.sound, opening, atol=1e-6)
    assert auditioner.renders == 2
    assert auditioner.preview(_request(4), cancelled=lambda: True) is None


def test_the_planner_keeps_the_alternative_whose_sound_was_liked():
    prefs = {"genres": ["house", "jazz"], "vibe": "balanced"}
    planner = ListenerPlanner(
        ListenerModel(Prior.from_preferences(prefs)),
        prefs,
        rng_seed=5,
        auditioner=Auditioner(seconds=4.0),
        auditions=4,
    )
    station = Station("taste")
    first = planner.plan(station, 12.0)
    assert first.alternatives == ()  # nothing heard yet: no point comparing, nor auditioning
    # Teach the sound model that bright sounds are liked and dark ones skipped.
    planner.model.sound.observe([7.0, 7.0, 0.0, 11.8, 2.7, -18.0, 0.75, 0.55], 1.0)
    planner.model.sound.observe([7.0, 7.0, 0.0, 9.6, 2.7, -18.0, 0.75, 0.55], -1.0)
    plan = planner.plan(station, 12.0)
    assert len(plan.alternatives) == 4
    previews = planner.audition(plan)
    chosen = planner.pick(plan, previews)
    assert chosen.previews == 4 and chosen.sound is not None
    brightness = [p.sound[3] for p in previews if p is not None]
    mean, _ = planner.model.sound.posterior([p.sound for p in previews if p is not None])
    # the draw is random, but with this evidence the chosen one is among the brighter half
    assert chosen.sound[3] >= sorted(brightness)[1]
    assert mean[int(np.argmax(brightness))] > mean[int(np.argmin(brightness))]
    planner.feedback(chosen.controls, chosen.genre, 1.0, 1.0, sound=chosen.sound)
    assert len(planner.model.sound) == 3

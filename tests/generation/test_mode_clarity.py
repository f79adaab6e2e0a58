"""A requested mode must be the mode a listener hears: the harmony names its key.

A listener (or a key finder that is not told the tonic) hears a major track whose chords
dwell on vi as its relative minor, and a minor one that dwells on III as major; a seventh
on the tonic holds the mediant's triad; rock's power chords carry no third at all. The
figures this changed are in docs/areas/generation.md ("Mode clarity").
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from player.generation import GenerationRequest
from player.generation.arrangement import _EXTRA_MAJOR, _EXTRA_MINOR, STEPS
from player.generation.genres import STYLES
from player.generation.procedural import ProceduralGenerator


def _tonic_led(progression: tuple[int, ...]) -> bool:
    return progression[0] == 0 or 2 * progression.count(0) >= len(progression)


def test_every_progression_is_led_by_the_tonic() -> None:
    pools = [_EXTRA_MAJOR, _EXTRA_MINOR]
    for style in STYLES.values():
        pools += [style.progressions_major, style.progressions_minor]
    loose = [p for pool in pools for p in pool if not _tonic_led(p)]
    assert not loose, loose


def _chords_by_onset(request: GenerationRequest) -> tuple[list[list[int]], int, int]:
    gen = ProceduralGenerator()
    resolved, _ = gen.resolve(request)
    plan = gen._plan(resolved)
    groups: dict[int, list[int]] = defaultdict(list)
    step = plan.bar_samples / STEPS  # players' timing jitter moves notes within a step
    for note in plan.notes["chords"]:
        groups[round(note.start / step)].append(note.midi)
    key = resolved.key
    return [sorted(g) for g in groups.values()], key.tonic, key.intervals[2]


@pytest.mark.parametrize("scale", ["major", "minor"])
def test_the_tonic_chord_puts_the_tonic_on_top(scale: str) -> None:
    request = GenerationRequest(genres=["pop"], scale=scale, seed=4, duration_seconds=40)
    groups, tonic, third = _chords_by_onset(request)
    home = {tonic % 12, (tonic + third) % 12, (tonic + 7) % 12}
    tonic_chords = [g for g in groups if home <= {p % 12 for p in g}]
    assert tonic_chords
    assert all(g[-1] % 12 == tonic for g in tonic_chords), tonic_chords
    # a colour tone, not a seventh: Cmaj7 / Cm7 would hold the mediant's triad
    seventh = (tonic + (11 if scale == "major" else 10)) % 12
    assert not any(seventh in {p % 12 for p in g} for g in tonic_chords)


@pytest.mark.parametrize("scale", ["major", "minor"])
def test_rock_plays_its_home_chord_with_the_modes_third(scale: str) -> None:
    request = GenerationRequest(genres=["rock"], scale=scale, seed=2, duration_seconds=40)
    groups, tonic, third = _chords_by_onset(request)
    home = [g for g in groups if g[0] % 12 == tonic and (tonic + 7) % 12 in {p % 12 for p in g}]
    assert home
    assert all((tonic + third) % 12 in {p % 12 for p in g} for g in home), home

"""What the radio makes next: the listener model's choice, turned into a generation request.

:class:`ListenerPlanner` is the radio's planner: it owns one listener's
:class:`~player.taste.listener.ListenerModel`, knows each station's bounds (a band's style,
a track's neighbourhood), and turns feedback into observations. :class:`LegacyPlanner` is
the planner the radio had before (a multiplicative weight per onboarding genre); it stays
as the baseline the listener benchmark (``tests/bench/bench_listener.py``) must beat.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from player.generation.protocol import GenerationRequest, SourceTrack
from player.taste.listener import (
    LIKE_REWARD,
    PLAYED_REWARD,
    REPLAY_REWARD,
    Bounds,
    Controls,
    ListenerModel,
    reward_for_skip,
)
from player.taste.preferences import Preferences
from player.taste.sound import Auditioner, Preview

#: Candidates auditioned per track once the sound model has verdicts to go on.
AUDITIONS = 4
#: How much the request model's expectation counts beside the sound model's draw.
REQUEST_WEIGHT = 0.5
#: How far the pick among auditioned candidates strays from the best expected sound: a
#: tempered Thompson draw. The candidates already explore (two are Thompson draws of the
#: request model); a full-width draw here as well gambled away a third of the tracks
#: after the listener had been heard clearly. Never 0: some exploration always remains.
PICK_SPREAD = 0.35
#: How much the simple tastes still likely (:mod:`player.taste.rules`) count in the pick
#: once something is liked, beside the sound model's draw.
PICK_RULES = 0.5


@dataclass(frozen=True)
class Station:
    """What a planner needs to know of the radio's seed, without the radio's types."""

    kind: str  # taste | genre | vibe | track | band
    genre: str | None = None
    vibe: str | None = None
    band_genres: tuple[str, ...] = ()
    band_vibe: str | None = None
    source_track: str | None = None
    source_params: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Alternative:
    """One candidate of an audition: a request and the controls the model chose it by."""

    request: GenerationRequest
    controls: Controls
    expected: float


@dataclass
class Plan:
    """A planned request, what the model made of it, and how long choosing took.

    With an audition, ``alternatives`` are the candidates still to be heard (the request is
    the first of them until :meth:`ListenerPlanner.pick` chooses); ``sound`` is the chosen
    track's described opening, which its verdict teaches the sound model.
    """

    request: GenerationRequest
    genre: str
    vibe: str | None
    controls: Controls | None
    expected: float | None
    seconds: float
    alternatives: tuple[Alternative, ...] = ()
    sound: np.ndarray | None = None
    previews: int = 0
    preview_seconds: float = 0.0
    #: The planning thread's CPU time: what choosing costs, apart from a busy machine
    #: making the thread wait (``seconds`` is wall time and includes that wait).
    cpu_seconds: float = 0.0


def feedback_reward(
    kind: str, at: float | None = None, duration: float = 0.0
) -> tuple[float, float]:
    """(reward, weight) of one piece of feedback; ``kind`` is like, skip, played or replay."""
    if kind == "like":
        return LIKE_REWARD, 1.0
    if kind == "played":
        return PLAYED_REWARD, 0.8
    if kind == "replay":
        return REPLAY_REWARD, 0.9
    if kind == "skip":
        return reward_for_skip(at, duration)
    raise ValueError(f"unknown feedback {kind!r}")


class ListenerPlanner:
    """Plans with the listener model: every control of the request is the model's choice.

    With an :class:`~player.taste.sound.Auditioner`, each plan carries ``auditions``
    candidates; the radio renders their openings (:meth:`audition`, outside its lock) and
    :meth:`pick` lets the sound model choose among what they actually sound like.
    """

    def __init__(
        self,
        model: ListenerModel,
        preferences: Mapping[str, Any] | None = None,
        rng_seed: int | None = None,
        *,
        auditioner: Auditioner | None = None,
        auditions: int = AUDITIONS,
    ) -> None:
        self.model = model
        self.preferences = Preferences.from_profile(preferences)
        self._rng = np.random.default_rng(rng_seed)
        self.seconds: list[float] = []
        #: CPU time of the last feedback (the sound model refits then, before the next plan).
        self.feedback_cpu_seconds = 0.0
        self.auditioner = auditioner
        self.auditions = max(1, auditions)

    def bounds(self, station: Station) -> Bounds:
        if station.kind == "genre" and station.genre:
            from player.generation.genres import resolve_genre

            return Bounds(genres=(resolve_genre(station.genre).id,))
        if station.kind == "band":
            return Bounds.for_band(station.band_genres, station.band_vibe)
        if station.kind == "track" and station.source_params:
            source = Controls.from_params(station.source_params)
            if source is not None:
                return Bounds.around(source)
        return Bounds()

    def plan(self, station: Station, duration: float) -> Plan:
        started, cpu = time.perf_counter(), time.thread_time()
        bounds = self.bounds(station)
        vibe = (
            station.vibe if station.kind == "vibe" else station.band_vibe or self.preferences.vibe
        )
        # Without an auditioner, or before the sound model has heard two verdicts (its draws
        # are noise then): one candidate, not auditioned; the radio describes the made track.
        if self.auditioner is None or len(self.model.sound) < 2 or self.auditions < 2:
            choice = self.model.choose(bounds, self._rng)
            request = self._request(station, choice.controls, vibe, duration)
            seconds = time.perf_counter() - started
            self.seconds.append(seconds)
            c = choice.controls
            cpu = time.thread_time() - cpu
            return Plan(request, c.genre, vibe, c, choice.expected, seconds, cpu_seconds=cpu)
        choices = self.model.propose(
            bounds, self._rng, self.auditions, near_liked=self.auditions // 2
        )
        alternatives = tuple(
            Alternative(
                self._request(station, ch.controls, vibe, duration), ch.controls, ch.expected
            )
            for ch in choices
        )
        first = alternatives[0]
        seconds = time.perf_counter() - started
        self.seconds.append(seconds)
        return Plan(
            first.request,
            first.controls.genre,
            vibe,
            first.controls,
            first.expected,
            seconds,
            alternatives=alternatives,
            cpu_seconds=time.thread_time() - cpu,
        )

    def audition(
        self, plan: Plan, cancelled: Callable[[], bool] = lambda: False
    ) -> list[Preview | None]:
        """Render and describe each alternative's opening (slow: call it without locks)."""
        if self.auditioner is None:
            return []
        previews: list[Preview | None] = []
        for alternative in plan.alternatives:
            previews.append(
                None if cancelled() else self.auditioner.preview(alternative.request, cancelled)
            )
        return previews

    def pick(self, plan: Plan, previews: Sequence[Preview | None]) -> Plan:
        """The alternative whose sound the model expects to fit best (a Thompson draw of the
        sound model, plus the request model's expectation); the plan unchanged when nothing
        was heard."""
        heard = [(a, p) for a, p in zip(plan.alternatives, previews, strict=False) if p is not None]
        if not heard:
            return plan
        started, cpu = time.perf_counter(), time.thread_time()
        sounds = [p.sound for _, p in heard]
        by_rules = 2.0 * self.model.sound.rule_chance(sounds) - 1.0
        if self.model.sound.searching():  # nothing liked lately: what most rules allow
            draw = by_rules
        else:
            draw, _ = self.model.sound.draw(sounds, self._rng, scale=PICK_SPREAD)
            draw = draw + PICK_RULES * by_rules
        score = draw + REQUEST_WEIGHT * np.array([a.expected for a, _ in heard])
        best, preview = heard[int(np.argmax(score))]
        seconds = time.perf_counter() - started
        self.seconds[-1:] = [self.seconds[-1] + seconds] if self.seconds else [seconds]
        return dataclasses.replace(
            plan,
            request=best.request,
            genre=best.controls.genre,
            controls=best.controls,
            expected=best.expected,
            seconds=plan.seconds + seconds,
            cpu_seconds=plan.cpu_seconds + time.thread_time() - cpu,
            alternatives=(),
            sound=preview.sound,
            previews=len(heard),
            preview_seconds=sum(p.seconds for _, p in heard),
        )

    def _request(
        self, station: Station, c: Controls, vibe: str | None, duration: float
    ) -> GenerationRequest:
        kwargs: dict[str, Any] = {
            "mode": "radio",
            "genres": [c.genre],
            "vibe": vibe,
            "bass_level": c.bass_level,
            "tempo_bpm": c.bpm,
            "scale": c.scale,
            "energy": c.energy,
            "density": c.density,
            "brightness": c.brightness,
            "swing": c.swing,
            "palette": c.palette,
            "seed": int(self._rng.integers(2**31)),
            "duration_seconds": duration,
        }
        if station.kind == "track" and station.source_track:
            # A track station asks for siblings: the engine keeps the source's sound and
            # the model only moves within the source's neighbourhood (Bounds.around).
            kwargs["mode"] = "similar"
            kwargs["source"] = SourceTrack(track_id=station.source_track)
        return GenerationRequest(**kwargs)

    def feedback(
        self,
        controls: Controls | None,
        genre: str,
        reward: float,
        weight: float,
        sound: Sequence[float] | None = None,
    ) -> None:
        cpu = time.thread_time()
        if controls is not None:
            self.model.observe(controls, reward, weight)
        if sound is not None:
            self.model.sound.observe(sound, reward, weight)
            self.model.sound.lengthscales()  # refit now, while the listener listens
            self.model.sound.rule_weights()
        self.feedback_cpu_seconds = time.thread_time() - cpu


class LegacyPlanner:
    """The radio's planner before the listener model: a weight per genre, multiplied by 1.6
    on a like and 0.4 (early skip) or 0.7 on a skip; nothing else is learned."""

    LIKE = 1.6
    EARLY_SKIP = 0.4
    LATE_SKIP = 0.7

    def __init__(
        self, preferences: Mapping[str, Any] | None = None, rng_seed: int | None = None
    ) -> None:
        self.raw_preferences = dict(preferences or {})
        self.preferences = Preferences.from_profile(preferences)
        self.weights: dict[str, float] = {}
        self._rng = random.Random(rng_seed)
        self._station: Station | None = None
        self.seconds: list[float] = []
        #: CPU time of the last feedback (the protocol reports it as ``feedback_cpu_ms``).
        self.feedback_cpu_seconds = 0.0

    def base_genres(self, station: Station) -> list[str]:
        if station.kind == "genre" and station.genre:
            return [station.genre]
        if station.kind == "band":
            return list(station.band_genres or ["pop"])
        genres = [str(g) for g in self.raw_preferences.get("genres") or []]
        return genres or ["pop"]

    def tune(self, station: Station) -> None:
        self._station = station
        self.weights = {g: self.weights.get(g, 1.0) for g in self.base_genres(station)}

    def plan(self, station: Station, duration: float) -> Plan:
        started, cpu = time.perf_counter(), time.thread_time()
        if station != self._station:
            self.tune(station)
        genres = sorted(self.weights) or self.base_genres(station)
        genre = self._rng.choices(genres, [self.weights.get(g, 1.0) for g in genres])[0]
        vibe = station.vibe if station.kind == "vibe" else self.raw_preferences.get("vibe") or None
        if station.kind == "band":
            vibe = station.band_vibe or vibe
        kwargs: dict[str, Any] = {
            "mode": "radio",
            "genres": [genre],
            "vibe": vibe,
            "bass_level": self.preferences.bass_level,
            "seed": self._rng.randrange(2**31),
            "duration_seconds": duration,
        }
        if self.preferences.tempo_range and station.kind != "band":
            kwargs["tempo_range"] = self.preferences.tempo_range
        if station.kind == "track" and station.source_track:
            kwargs["mode"] = "similar"
            kwargs["source"] = SourceTrack(track_id=station.source_track)
        seconds = time.perf_counter() - started
        self.seconds.append(seconds)
        cpu = time.thread_time() - cpu
        return Plan(GenerationRequest(**kwargs), genre, vibe, None, None, seconds, cpu_seconds=cpu)

    def feedback(self, controls: Controls | None, genre: str, reward: float, weight: float) -> None:
        cpu = time.thread_time()
        self._reweigh(genre, reward, weight)
        self.feedback_cpu_seconds = time.thread_time() - cpu

    def _reweigh(self, genre: str, reward: float, weight: float) -> None:
        if reward > 0.9:
            factor = self.LIKE
        elif reward < 0:
            factor = self.EARLY_SKIP if weight >= 1.0 else self.LATE_SKIP
        else:
            return  # a full listen did not move the old planner
        self.weights[genre] = max(0.05, min(8.0, self.weights.get(genre, 1.0) * factor))

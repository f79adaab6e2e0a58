"""The endless queue: keeps music generated ahead of playback and learns as you listen.

A :class:`RadioService` owns one worker thread. Whenever fewer than ``ahead`` tracks are
waiting to be played, it asks its planner for the next request and the generation service
for the audio. Listeners (the app's radio view, the headless ``radio`` command) subscribe
to :class:`RadioEvent` s, which arrive on the worker thread.

The planner is the listener model (:mod:`player.taste.planner`): every like, skip (and
when), full listen and replay becomes an observation, the model is stored with the user's
rows after each one (so the next session starts where this one ended), and tracks that
are planned but not yet playing are planned again with what was just learned — a skip
changes the very next track whenever generation keeps up. Durably, likes and skips also
move the user's taste vector (:mod:`player.taste`), which scores each track's match.

The quota is the generation service's business: when it refuses (``QuotaExceeded``) the
radio stops asking, keeps what it already made playable, and emits a ``quota`` event
whose message says what happens next.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from base.errors import UserFacingError

log = logging.getLogger(__name__)

SEED_KINDS = ("taste", "genre", "vibe", "track", "band")
#: Item states, in the order an item normally goes through them.
STATES = ("queued", "generating", "ready", "playing", "played", "failed")
#: Consecutive failures after which the radio stops retrying until restarted.
MAX_FAILURES = 3
#: Played items kept in the queue (the view shows a little history).
KEEP_PLAYED = 20
#: A track just made whose audio the listener model expects to be skipped (mean reward
#: below this, with at least that much evidence) is planned again once rather than played:
#: the generation is spent either way, the listener's time need not be.
EXPECT_SKIP_BELOW = -0.5
EXPECT_SKIP_EVIDENCE = 8
PLANNERS = ("listener", "legacy")


class TrackGenerator(Protocol):
    """What the radio needs from :class:`player.generation.service.GenerationService`."""

    def generate(
        self,
        user_id: uuid.UUID,
        request: Any,
        band_id: uuid.UUID | None = None,
        on_chunk: Callable[..., Any] | None = None,
        cancel: threading.Event | None = None,
    ) -> uuid.UUID: ...

    def remaining_today(self, user_id: uuid.UUID) -> int | None: ...

    def engine_name(self) -> str: ...


@dataclass(frozen=True)
class RadioSeed:
    """Where a radio station starts from."""

    kind: str = "taste"
    genre: str | None = None
    vibe: str | None = None
    track_id: uuid.UUID | None = None
    band_id: uuid.UUID | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in SEED_KINDS:
            raise UserFacingError(f"Unknown radio kind {self.kind!r}; use one of {SEED_KINDS}.")
        needs = {"genre": self.genre, "vibe": self.vibe, "track": self.track_id}
        needs["band"] = self.band_id
        if self.kind in needs and not needs[self.kind]:
            raise UserFacingError(f"A {self.kind} radio needs a {self.kind} to start from.")

    def describe(self) -> str:
        if self.label:
            return self.label
        return {
            "taste": "Your taste",
            "genre": f"{self.genre} radio",
            "vibe": f"{self.vibe} radio",
            "track": "Similar tracks",
            "band": "Band radio",
        }[self.kind]


@dataclass
class RadioItem:
    """One slot of the queue. ``progress`` is 0..1 while generating.

    ``params`` are the made track's generation parameters (what reproduces it);
    ``controls`` what the listener model reads of them; ``plan_seconds`` how long
    choosing the request took (``plan_cpu_seconds``: the planning thread's CPU time).
    """

    key: int
    genre: str
    vibe: str | None
    status: str = "queued"
    progress: float = 0.0
    track_id: uuid.UUID | None = None
    error: str = ""
    request: Any = field(default=None, repr=False)
    controls: Any = field(default=None, repr=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    expected: float | None = None
    plan_seconds: float = 0.0
    plan_cpu_seconds: float = 0.0
    retried: bool = False
    plan: Any = field(default=None, repr=False)  # a plan whose alternatives await an audition
    sound: Any = field(default=None, repr=False)  # the chosen track's described opening
    previews: int = 0
    preview_seconds: float = 0.0


@dataclass(frozen=True)
class RadioEvent:
    """``kind``: queued, progress, ready, failed, quota, started, cleared, stalled,
    replanned."""

    kind: str
    item: RadioItem | None = None
    message: str = ""


class RadioService:
    """Keeps ``ahead`` tracks generated beyond the one playing; thread-safe.

    ``planner`` is ``"listener"`` (the listener model, stored per user when ``remember``)
    or ``"legacy"`` (the genre-weight planner the benchmark compares against).
    With ``lockstep`` the queue refills only on :meth:`advance`, so the next track is
    planned after the feedback on this one (the headless ``radio`` command).
    """

    def __init__(
        self,
        database: Any,
        user_id: uuid.UUID,
        generation: TrackGenerator,
        *,
        ahead: int = 2,
        track_seconds: float = 150.0,
        preferences: dict[str, Any] | None = None,
        rng_seed: int | None = None,
        learn_taste: bool = True,
        score: bool = True,
        planner: str = "listener",
        remember: bool = True,
        lockstep: bool = False,
        auditions: int | None = None,
    ) -> None:
        if ahead < 1:
            raise UserFacingError(f"The radio must keep at least one track ahead, not {ahead}.")
        if planner not in PLANNERS:
            raise UserFacingError(f"Unknown radio planner {planner!r}; use one of {PLANNERS}.")
        self.database = database
        self.user_id = user_id
        self.generation = generation
        self.ahead = ahead
        self.track_seconds = float(track_seconds)
        self.preferences = dict(preferences or {})
        self.learn_taste = learn_taste
        self.score = score
        self.remember = remember and planner == "listener"
        self.planner_kind = planner
        self.lockstep = lockstep
        #: Candidates auditioned per track; None: the planner's default when the engine is
        #: the procedural one (previews cost too much with MusicGen), 0: never.
        self.auditions = auditions
        self._rng_seed = rng_seed
        self.planner: Any = None  # made on the first start(): it may read the database
        self._lock = threading.Condition()
        self._items: list[RadioItem] = []
        self._listeners: list[Callable[[RadioEvent], None]] = []
        self._seed: RadioSeed | None = None
        self._station: Any = None
        self._next_key = 0
        self._station_key = 1  # the key of the current station's first item
        self._ready_plan: tuple[RadioSeed, Any, Any] | None = None  # see prepare_start()
        self._failures = 0
        self._halted = ""  # why generation stopped ("quota", "stalled"), empty when running
        self._cancel = threading.Event()
        self._closed = False
        self._by_track: dict[uuid.UUID, RadioItem] = {}
        self._thread = threading.Thread(target=self._work, name="radio", daemon=True)
        self._thread.start()

    # -- listening ------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[RadioEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` (on the radio's thread) for every change; returns an
        unsubscribe function."""
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def _emit(self, kind: str, item: RadioItem | None = None, message: str = "") -> None:
        event = RadioEvent(kind, dataclasses.replace(item) if item else None, message)
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(event)
            except Exception:
                log.exception("radio listener failed on %s", kind)

    # -- control --------------------------------------------------------------------------

    @property
    def seed(self) -> RadioSeed | None:
        return self._seed

    @property
    def halted(self) -> str:
        return self._halted

    def start(self, seed: RadioSeed) -> None:
        """Tune to ``seed``: drops what was planned but not yet played and refills.

        Reads the database (the band's style, the source track, the stored model): call it
        off the GUI thread.
        """
        station = self._station_for(seed)
        planner = self.prepare()
        with self._lock:
            self._cancel.set()  # the track being made for the old station is not wanted
            self._items = [i for i in self._items if i.status in ("playing", "played")]
            self._seed = seed
            self._station = station
            self._station_key = self._next_key + 1
            ready, self._ready_plan = self._ready_plan, None
            self._failures = 0
            self._halted = ""
            if self.planner_kind == "legacy":
                planner.tune(station)
            self._lock.notify_all()
        self._emit("cleared", message=seed.describe())
        # The plan made ahead, if it is for this seed and by this planner (not one made
        # again for preferences changed since).
        usable = ready is not None and ready[0] == seed and ready[2] is planner
        self._fill(first=ready[1] if usable and ready is not None else None)

    def stop(self) -> None:
        """Stop planning; what was generated stays playable."""
        with self._lock:
            self._seed = None
            self._cancel.set()
            self._items = [i for i in self._items if i.status not in ("queued", "generating")]
            self._lock.notify_all()
        self._emit("cleared")

    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker; no event is delivered after this returns."""
        with self._lock:
            self._closed = True
            self._listeners.clear()
            self._cancel.set()
            self._lock.notify_all()
        self._thread.join(timeout)

    def items(self) -> list[RadioItem]:
        """A snapshot of the queue: played, playing, then upcoming."""
        with self._lock:
            return [dataclasses.replace(i) for i in self._items]

    def item_for(self, track_id: uuid.UUID) -> RadioItem | None:
        with self._lock:
            item = self._by_track.get(track_id)
            return dataclasses.replace(item) if item else None

    def ahead_count(self) -> int:
        with self._lock:
            return self._pending()

    def next_ready(self) -> RadioItem | None:
        """The first generated track not yet handed to playback, if any."""
        with self._lock:
            for item in self._items:
                if item.status == "ready":
                    return dataclasses.replace(item)
        return None

    def track_started(self, track_id: uuid.UUID) -> None:
        """Playback began ``track_id``: it stops counting as "ahead", so the queue refills."""
        with self._lock:
            item = self._by_track.get(track_id)
            if item is None:
                return
            for other in self._items:
                if other.status == "playing" and other is not item:
                    other.status = "played"
            item.status = "playing"
            played = [i for i in self._items if i.status == "played"]
            for old in played[:-KEEP_PLAYED]:
                self._items.remove(old)
            snapshot = dataclasses.replace(item)
        self._emit("started", snapshot)
        if not self.lockstep:
            self._fill()

    def advance(self) -> None:
        """Plan and make the next track (what a lock-step listener calls after feedback)."""
        self._fill(force=True)

    # -- learning -------------------------------------------------------------------------

    def like(self, track_id: uuid.UUID) -> None:
        """More like this: the model learns it, the taste vector moves to it."""
        self._feedback(track_id, "like")
        if self.learn_taste:
            from player.taste import record_like

            _best_effort(record_like, self.database, self.user_id, track_id)

    def skip(self, track_id: uuid.UUID, position_seconds: float | None = None) -> None:
        """Less like this; an early skip counts more than a late one, and what is planned
        but not yet playing is planned again."""
        self._feedback(track_id, "skip", position_seconds)
        if self.learn_taste:
            from player.taste import record_skip

            _best_effort(record_skip, self.database, self.user_id, track_id)

    def played(self, track_id: uuid.UUID) -> None:
        """The listener heard ``track_id`` to the end: a quiet yes."""
        self._feedback(track_id, "played")

    def replay(self, track_id: uuid.UUID) -> None:
        """The listener played ``track_id`` again: nearly as good as a like."""
        self._feedback(track_id, "replay")

    def _feedback(self, track_id: uuid.UUID, kind: str, at: float | None = None) -> None:
        """Teach the planner; a track of the listener's library that this station did not
        make (a like in Library, a replay) teaches through its stored parameters."""
        from player.taste.listener import Controls
        from player.taste.planner import feedback_reward

        planner = self.prepare()
        reward, weight = feedback_reward(kind, at, self.track_seconds)
        with self._lock:
            item = self._by_track.get(track_id)
            controls, genre = (item.controls, item.genre) if item is not None else (None, "")
            sound = item.sound if item is not None else None
        if item is None:
            params = self._track_params(track_id)
            if not params:
                return  # not a track of this listener's: nothing to learn
            controls = Controls.from_params(params)
            genre = str(params.get("genre", ""))
        with self._lock:
            if self.planner_kind == "listener":
                planner.feedback(controls, genre, reward, weight, sound=sound)
            else:
                planner.feedback(controls, genre, reward, weight)
        if self.planner_kind == "listener":
            self._observe_audio(track_id, reward, weight)
            self._save_model()
        if item is not None:
            self._replan(strong=kind == "skip")

    def _observe_audio(self, track_id: uuid.UUID, reward: float, weight: float) -> None:
        vector, space = self._track_vector(track_id)
        if vector is not None and space is not None:
            with self._lock:
                self.planner.model.embedding.observe(vector, space, reward, weight)

    def _track_vector(self, track_id: uuid.UUID) -> tuple[Any, str | None]:
        from sqlalchemy import select

        from db.models import Embedding

        with self.database.user_session(self.user_id) as s:
            row = s.execute(
                select(Embedding.vector, Embedding.embedding_space).where(
                    Embedding.track_id == str(track_id)
                )
            ).first()
        if row is None or row.vector is None:
            return None, None
        return list(row.vector), str(row.embedding_space)

    def _replan(self, strong: bool) -> None:
        """Plan again what is not playing yet, with what was just learned.

        Queued requests are re-planned in place; after a skip the track being generated is
        cancelled too (the service refunds its quota) and made again. Ready tracks stay:
        the app has already queued them for playback.
        """
        if self.planner_kind != "listener":
            return
        replanned: list[RadioItem] = []
        with self._lock:
            if self._seed is None or self._closed:
                return
            for item in self._items:
                if item.status == "queued":
                    self._plan_into(item)
                    replanned.append(dataclasses.replace(item))
                elif strong and item.status == "generating":
                    self._cancel.set()  # _generate drops it and the queue refills
        for item in replanned:
            self._emit("replanned", item)
        self._fill()

    def _expects_skip(self, track_id: uuid.UUID) -> bool:
        """The audio side of the model, on a track just made: with enough evidence in this
        space, a track it expects the listener to skip is not handed over."""
        if self.planner_kind != "listener":
            return False
        vector, space = self._track_vector(track_id)
        if vector is None or space is None:
            return False
        with self._lock:
            model = self.planner.model.embedding
            if model.space != space or len(model.rows) < EXPECT_SKIP_EVIDENCE:
                return False
            predicted = model.predict(vector, space)
        return predicted is not None and predicted < EXPECT_SKIP_BELOW

    def _save_model(self) -> None:
        if not self.remember:
            return
        from player.taste import store

        with self._lock:
            state = self.planner.model.state()
            space = self.planner.model.embedding.space
        try:
            store.save_state(self.database, self.user_id, state, space)
        except Exception:  # the radio plays on; the next feedback saves again
            log.exception("could not store what the radio learned")

    def forget(self, *, stored: bool = True) -> None:
        """Reset what the radio learned: in memory, and (``stored``) in the database."""
        planner = self.prepare()
        if self.planner_kind != "listener":
            return
        if stored:
            from player.taste import store

            store.reset_state(self.database, self.user_id)
        with self._lock:
            planner.model.forget()
            self._ready_plan = None  # chosen by what was just forgotten

    def weights(self) -> dict[str, float]:
        """The legacy planner's genre weights (empty for the listener model)."""
        planner = self.prepare()
        with self._lock:
            return dict(planner.weights) if self.planner_kind == "legacy" else {}

    def prepare(self) -> Any:
        """The planner, made now if it was not (it reads the stored model and the history
        prior from the database): the app calls it before the first "Start my radio"."""
        with self._lock:
            if self.planner is not None:
                return self.planner
        planner = self._make_planner()
        with self._lock:
            if self.planner is None:
                self.planner = planner
            return self.planner

    def prepare_start(self, seed: RadioSeed) -> bool:
        """Before the click that will start ``seed`` (the app's "Start my radio"): make
        the planner, plan the station's first track now, and let the engine's process
        render its opening ahead (``prerender``), so that :meth:`start` with the same
        seed hands the engine a request it has already begun: planning, composing and
        the first chunk are off the path to sound (the opening only with the procedural
        engine). Any other seed plans afresh. False (nothing done) while a station
        plays, or for the legacy planner."""
        planner = self.prepare()
        if self.planner_kind != "listener":
            return False
        station = self._station_for(seed)
        with self._lock:
            if self._seed is not None or self._closed:
                return False
            plan = planner.plan(station, self.track_seconds)
            self._ready_plan = (seed, plan, planner)
        prerender = getattr(getattr(self.generation, "generator", None), "prerender", None)
        # MusicGen's opening costs seconds of GPU: only the procedural engine's is cheap
        # enough to make for a click that may not come.
        if prerender is not None and self.generation.engine_name() == "procedural":
            try:
                prerender(plan.request)
            except Exception:  # only a head start: the click renders as it always did
                log.exception("could not render the first track's opening ahead")
        return True

    def _make_planner(self) -> Any:
        from player.taste.planner import LegacyPlanner, ListenerPlanner

        if self.planner_kind == "legacy":
            return LegacyPlanner(self.preferences, rng_seed=self._rng_seed)
        from player.taste.listener import ListenerModel, Prior

        prior = Prior.from_preferences(self.preferences, self._history_prior())
        state = None
        if self.remember:
            from player.taste import store

            loaded = store.load_state(self.database, self.user_id)
            state = loaded[0] if loaded else None
        model = ListenerModel.from_state(state, prior)
        from player.taste.planner import AUDITIONS
        from player.taste.sound import Auditioner

        auditions = AUDITIONS if self.auditions is None else self.auditions
        auditioner = (
            Auditioner(generator=self._audition_engine())
            if auditions > 0 and self.generation.engine_name() == "procedural"
            else None
        )
        return ListenerPlanner(
            model,
            self.preferences,
            rng_seed=self._rng_seed,
            auditioner=auditioner,
            auditions=max(1, auditions),
        )

    def _audition_engine(self) -> Any:
        """The engine auditions render with: the tracks' own engine when it runs in its
        own process (the app's), so previews never load the synthesis modules into this
        process nor hold its interpreter lock against the window; None (the auditioner's
        in-process engine) for the headless CLI and benchmarks, which have no such
        process."""
        from player.generation.isolated import IsolatedGenerator

        engine = getattr(self.generation, "generator", None)
        return engine if isinstance(engine, IsolatedGenerator) else None

    def _history_prior(self) -> dict[str, float]:
        """Genre weights from the listener's imported history (empty without history)."""
        from player.imports.genre_prior import history_genre_prior

        try:
            return history_genre_prior(self.database, self.user_id)
        except Exception:  # history only shapes the start; its absence is not an error
            log.exception("could not read the listening history's genres")
            return {}

    # -- planning -------------------------------------------------------------------------

    def _pending(self) -> int:
        return sum(1 for i in self._items if i.status in ("queued", "generating", "ready"))

    def _fill(self, force: bool = False, first: Any = None) -> None:
        """Queue and plan items up to ``ahead``; ``first``: the plan of the first one,
        made ahead (:meth:`prepare_start`)."""
        added = []
        with self._lock:
            if self._seed is None or self._halted or self._closed:
                return
            if (
                self.lockstep
                and not force
                and any(i.status in ("playing", "played") for i in self._items)
            ):
                return  # lock-step: the next track waits for advance()
            while self._pending() < self.ahead:
                self._next_key += 1
                item = RadioItem(self._next_key, "", None)
                self._plan_into(item, first)
                first = None
                self._items.append(item)
                added.append(dataclasses.replace(item))
            self._lock.notify_all()
        for item in added:
            self._emit("queued", item)

    def _plan_into(self, item: RadioItem, plan: Any = None) -> None:
        """Plan ``item``'s request (called with the lock held); ``plan``: made ahead."""
        if plan is None:
            plan = self.planner.plan(self._station, self.track_seconds)
        item.vibe = plan.vibe
        self._apply_plan(item, plan)

    def _audition(self, item: RadioItem, cancel: threading.Event) -> None:
        """Hear the plan's alternatives (rendering runs outside the lock) and keep the one
        the listener model expects to fit best."""
        plan = item.plan
        if plan is None or self.planner_kind != "listener" or self._waited_for(item):
            return
        try:
            previews = self.planner.audition(plan, cancel.is_set)
        except (UserFacingError, RuntimeError) as exc:
            # The engine's process crashed, was closed (the app quitting) or cannot start:
            # the plan stands as made, and nothing more is rendered for it here (a closed
            # engine would otherwise be started again by the next preview).
            log.warning("auditions failed, the plan stands: %s", exc)
            return
        with self._lock:
            if cancel.is_set() or item.plan is not plan:
                return
            self._apply_plan(item, self.planner.pick(plan, previews))

    def _waited_for(self, item: RadioItem) -> bool:
        """Whether the listener is waiting in silence for ``item``: nothing of this
        station is made yet (its first track, or the next after that one failed). Such a
        track is not auditioned: with a stored model that has heard two verdicts, four
        previews held "Start my radio" up by 3-5 s (issue 17). The plan's first
        candidate (the best request under a Thompson draw) is made, and its opening is
        described from the file afterwards, so its verdict still teaches the sound model.
        """
        with self._lock:
            return item.key >= self._station_key and not any(
                i.key >= self._station_key and i.status in ("ready", "playing", "played")
                for i in self._items
            )

    def _apply_plan(self, item: RadioItem, plan: Any) -> None:
        item.request = plan.request
        item.genre = plan.genre
        item.controls = plan.controls
        item.expected = plan.expected
        item.plan_seconds = plan.seconds
        item.plan_cpu_seconds = plan.cpu_seconds
        item.plan = plan if plan.alternatives else None
        item.sound = plan.sound
        item.previews, item.preview_seconds = plan.previews, plan.preview_seconds

    def _station_for(self, seed: RadioSeed) -> Any:
        from player.taste.planner import Station

        if seed.kind == "band":
            from player.bands.service import BandService

            assert seed.band_id is not None
            band = BandService(self.database).get_band(self.user_id, seed.band_id)
            return Station("band", band_genres=tuple(band.genres), band_vibe=band.vibe)
        if seed.kind == "track" and seed.track_id is not None:
            return Station(
                "track",
                source_track=str(seed.track_id),
                source_params=self._track_params(seed.track_id),
            )
        return Station(seed.kind, genre=seed.genre, vibe=seed.vibe)

    def _track_params(self, track_id: uuid.UUID) -> dict[str, Any]:
        """A generated track's stored parameters ({} for no track of this listener's)."""
        from sqlalchemy import select

        from db.models import GeneratedTrack

        with self.database.user_session(self.user_id) as s:
            params = s.scalar(
                select(GeneratedTrack.generation_params).where(GeneratedTrack.id == track_id)
            )
        return dict(params or {})

    # -- the worker -----------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._closed and self._next_queued() is None:
                    self._lock.wait()
                if self._closed:
                    return
                item = self._next_queued()
                assert item is not None
                item.status = "generating"
                self._cancel = threading.Event()
                cancel = self._cancel
                seed = self._seed
            self._generate(item, cancel, seed)

    def _next_queued(self) -> RadioItem | None:
        if self._halted or self._seed is None:
            return None
        return next((i for i in self._items if i.status == "queued"), None)

    def _generate(self, item: RadioItem, cancel: threading.Event, seed: RadioSeed | None) -> None:
        expected = max(1.0, self.track_seconds)
        state = {"frames": 0, "last": 0.0}

        def on_chunk(chunk: Any, samplerate: int | None = None) -> None:
            state["frames"] += len(chunk)
            rate = samplerate or 44100
            progress = min(0.99, state["frames"] / (expected * rate))
            if progress - state["last"] >= 0.05:
                state["last"] = progress
                item.progress = progress
                self._emit("progress", item)

        self._audition(item, cancel)
        self._emit("progress", item)
        band_id = seed.band_id if seed is not None and seed.kind == "band" else None
        from player.generation.service import QuotaExceeded

        try:
            track_id = self.generation.generate(
                self.user_id, item.request, band_id=band_id, on_chunk=on_chunk, cancel=cancel
            )
        except QuotaExceeded as exc:
            with self._lock:
                item.status = "failed"
                item.error = str(exc)
                self._halted = "quota"
                self._items = [i for i in self._items if i.status != "queued"]
            self._emit("quota", item, quota_message(str(exc)))
            return
        except Exception as exc:
            if cancel.is_set():
                self._drop(item)
                return
            log.warning("radio generation failed: %s", exc)
            with self._lock:
                item.status = "failed"
                item.error = str(exc) or type(exc).__name__
                self._failures += 1
                if self._failures >= MAX_FAILURES:
                    self._halted = "stalled"
            self._emit("failed", item, item.error)
            if self._halted:
                self._emit("stalled", item, f"The radio stopped after {MAX_FAILURES} failures.")
            else:
                self._fill()
            return
        if cancel.is_set():
            self._drop(item)
            return
        if band_id is not None:
            _add_to_band(self.database, self.user_id, band_id, track_id)
        params = self._track_params(track_id)
        controls = item.controls
        if self.planner_kind == "listener":
            from player.taste.listener import Controls

            controls = Controls.from_params(params) or controls
        if self.score and not cancel.is_set():
            score_track(
                self.database,
                self.user_id,
                track_id,
                item.genre,
                getattr(self.generation, "generator", None),
            )
            self._store_explanation(track_id, controls)
            with self._lock:  # a station's first track may already be streaming to the ear
                started = any(i.status in ("playing", "played") for i in self._items)
            if started and not item.retried and self._expects_skip(track_id):
                with self._lock:
                    item.retried = True
                    if item in self._items:
                        self._plan_into(item)
                        item.status, item.progress = "queued", 0.0
                        self._lock.notify_all()
                self._emit("replanned", item, "made again: the last one sounded like a skip")
                return
        sound = self._describe_made(item, track_id, params)
        with self._lock:
            item.status = "ready"
            item.progress = 1.0
            item.track_id = track_id
            item.sound = item.sound if sound is None else sound
            item.params = params
            item.controls = controls
            self._by_track[track_id] = item
            self._failures = 0
        self._emit("ready", item)

    def _describe_made(self, item: RadioItem, track_id: uuid.UUID, params: dict[str, Any]) -> Any:
        """How a track chosen without an audition sounds, read from its file, so that its
        verdict teaches the sound model too (None when there is nothing to describe)."""
        if self.planner_kind != "listener" or item.sound is not None:
            return None
        auditioner = self.planner.auditioner
        if auditioner is None:
            return None
        from sqlalchemy import select

        from base.paths import path_from_url
        from db.models import GeneratedTrack

        with self.database.user_session(self.user_id) as s:
            url = s.scalar(select(GeneratedTrack.url).where(GeneratedTrack.id == track_id))
        path = path_from_url(url) if url else None
        if path is None or not path.exists():
            return None
        try:
            return auditioner.describe_file(path, float(params.get("bpm") or 120.0))
        except (OSError, RuntimeError, ValueError):
            log.warning("could not describe %s for the listener model", path, exc_info=True)
            return None

    def _store_explanation(self, track_id: uuid.UUID, controls: Any) -> None:
        """Say what the model learned when it shaped this track (it replaces "Because you
        like …" only when there is feedback to speak of)."""
        if self.planner_kind != "listener" or controls is None:
            return
        with self._lock:
            text = self.planner.model.explain(controls)
        if not text:
            return
        from sqlalchemy import update

        from db.models import GeneratedTrack

        with self.database.user_session(self.user_id) as s:
            s.execute(
                update(GeneratedTrack).where(GeneratedTrack.id == track_id).values(explanation=text)
            )

    def _drop(self, item: RadioItem) -> None:
        with self._lock:
            if item in self._items:
                self._items.remove(item)
        self._fill(force=True)


def quota_message(detail: str = "") -> str:
    """The friendly words for a reached quota: what happened (``detail``: the service's own
    sentence, which names today's limit; a general one without it) and what happens next."""
    what = detail.strip() or (
        "You have used today's free generations. New tracks start again at midnight UTC "
        "(or right away with Premium)."
    )
    return (
        f"{what} Until then, your library keeps playing — liked songs, playlists and "
        "everything already generated."
    )


def score_track(
    database: Any, user_id: uuid.UUID, track_id: uuid.UUID, genre: str, generator: Any = None
) -> None:
    """Embed a new track, then store its match % and its "Because you like …".

    ``generator`` renders the genre prototypes a first taste vector is built from (the
    app's engine process, so that render stays off the GUI's interpreter lock).

    Best effort: a track without a score still plays, so failures are only logged. The
    first call for a user with no taste vector builds one from the onboarding answers.
    """
    try:
        from sqlalchemy import select, update

        from base.paths import path_from_url
        from db.models import GeneratedTrack, User
        from player import taste
        from player.embedding import active_embedder
        from player.embedding.store import store_track_vector
        from player.library import track_title

        embedder = _scoring_embedder() or active_embedder()
        with database.user_session(user_id) as s:
            url = s.scalar(select(GeneratedTrack.url).where(GeneratedTrack.id == track_id))
            row = s.execute(
                select(User.taste_vector, User.embedding_space).where(User.id == user_id)
            ).first()
        path = path_from_url(url) if url else None
        if path is None:
            return
        vector = embedder.embed_file(path)
        with database.service_session() as s:
            store_track_vector(
                s, track_id, vector, embedder.space, track_name=track_title(track_id), genre=[genre]
            )
        taste_vector = row.taste_vector if row is not None else None
        if taste_vector is None or row.embedding_space != embedder.space:
            taste_vector = taste.rebuild_taste(database, user_id, embedder, generator)
        match = taste.match_percentage(taste_vector, vector, embedder.space)
        explanation = taste.explain(database, user_id, track_id, embedder, generator)
        with database.user_session(user_id) as s:
            s.execute(
                update(GeneratedTrack)
                .where(GeneratedTrack.id == track_id)
                .values(match_percentage=match, explanation=explanation)
            )
    except Exception:
        log.exception("could not score track %s", track_id)


def _scoring_embedder() -> Any:
    """The descriptor embedder when no MERT checkpoint can be in use, else None.

    ``active_embedder()`` with "auto" imports the MERT module, and with it torch, just to
    look for a checkpoint; importing torch holds the interpreter lock for about a second,
    which freezes the window. When the settings do not name MERT and no checkpoint is on
    disk, the answer is known without that import.
    """
    from player.embedding import get_embedder
    from player.settings import Settings

    try:
        settings = Settings.load()
        name, folder = str(settings.embedder), str(settings.mert_model_dir)
    except UserFacingError:
        name, folder = "auto", ""
    if name == "descriptor":
        return get_embedder("descriptor")
    if name != "auto" or folder or os.environ.get("INFINITE_PLAYER_MERT"):
        return None
    hub = Path(
        os.environ.get("HF_HUB_CACHE")
        or Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    )
    if any(hub.glob("models--m-a-p--MERT-v1-*")):
        return None
    return get_embedder("descriptor")


def _add_to_band(
    database: Any, user_id: uuid.UUID, band_id: uuid.UUID, track_id: uuid.UUID
) -> None:
    from player.bands.service import BandService

    try:
        BandService(database).add_tracks(user_id, band_id, [track_id])
    except UserFacingError as exc:  # the band was deleted meanwhile: the track still plays
        log.warning("could not add the radio track to its band: %s", exc)


def _best_effort(func: Callable[..., Any], *args: Any) -> None:
    """Move the taste vector; a failure there must not stop the radio, so it is logged."""
    try:
        func(*args)
    except Exception:
        log.exception("taste update %s failed", getattr(func, "__name__", func))

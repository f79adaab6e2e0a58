"""The endless queue: keeps music generated ahead of playback and learns as you listen.

A :class:`RadioService` owns one worker thread. Whenever fewer than ``ahead`` tracks are
waiting to be played, it plans the next request (from the seed — my taste, a genre, a
vibe, a track or a band — and from what it has learned this session) and asks the
generation service for it. Listeners (the app's radio view, a CLI) subscribe to
:class:`RadioEvent` s, which arrive on the worker thread.

Learning happens at two speeds. Right away, inside the session, a like makes that
track's genre and vibe more likely in the next requests and a skip makes them less
likely (an early skip counts more). Durably, likes and skips are handed to
:mod:`player.taste`, which moves the user's taste vector.

The quota is the generation service's business: when it refuses (``QuotaExceeded``) the
radio stops asking, keeps what it already made playable, and emits a ``quota`` event
whose message says what happens next.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from player.errors import UserFacingError

log = logging.getLogger(__name__)

SEED_KINDS = ("taste", "genre", "vibe", "track", "band")
#: Item states, in the order an item normally goes through them.
STATES = ("queued", "generating", "ready", "playing", "played", "failed")
#: Consecutive failures after which the radio stops retrying until restarted.
MAX_FAILURES = 3
#: Played items kept in the queue (the view shows a little history).
KEEP_PLAYED = 20
#: A skip within this many seconds of the start counts as a strong "not this".
EARLY_SKIP_SECONDS = 30.0


class TrackGenerator(Protocol):
    """What the radio needs from :class:`player.generation.service.GenerationService`."""

    def generate(
        self,
        user_id: uuid.UUID,
        request: Any,
        band_id: uuid.UUID | None = None,
        on_chunk: Callable[..., Any] | None = None,
        cancel: threading.Event | None = None,
    ) -> Any: ...

    def remaining_today(self, user_id: uuid.UUID) -> int | None: ...


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
    """One slot of the queue. ``progress`` is 0..1 while generating."""

    key: int
    genre: str
    vibe: str | None
    status: str = "queued"
    progress: float = 0.0
    track_id: uuid.UUID | None = None
    error: str = ""
    request: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class RadioEvent:
    """``kind``: queued, progress, ready, failed, quota, started, cleared, stalled."""

    kind: str
    item: RadioItem | None = None
    message: str = ""


class RadioService:
    """Keeps ``ahead`` tracks generated beyond the one playing; thread-safe."""

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
    ) -> None:
        if ahead < 1:
            raise UserFacingError(f"The radio must keep at least one track ahead, not {ahead}.")
        self.database = database
        self.user_id = user_id
        self.generation = generation
        self.ahead = ahead
        self.track_seconds = float(track_seconds)
        self.preferences = dict(preferences or {})
        self.learn_taste = learn_taste
        self.score = score
        self._rng = random.Random(rng_seed)
        self._lock = threading.Condition()
        self._items: list[RadioItem] = []
        self._listeners: list[Callable[[RadioEvent], None]] = []
        self._seed: RadioSeed | None = None
        self._band_params: dict[str, Any] = {}
        self._next_key = 0
        self._failures = 0
        self._halted = ""  # why generation stopped ("quota", "stalled"), empty when running
        self._cancel = threading.Event()
        self._closed = False
        self._genre_weight: dict[str, float] = {}
        self._vibe_weight: dict[str, float] = {}
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
        """Tune to ``seed``: drops what was planned but not yet played and refills."""
        band_params: dict[str, Any] = {}
        if seed.kind == "band":
            band_params = self._band_params_for(seed)
        with self._lock:
            self._cancel.set()  # the track being made for the old station is not wanted
            self._items = [i for i in self._items if i.status in ("playing", "played")]
            self._seed = seed
            self._band_params = band_params
            self._failures = 0
            self._halted = ""
            base = self._base_genres(seed)
            self._genre_weight = {g: self._genre_weight.get(g, 1.0) for g in base}
            self._vibe_weight = {}
            self._lock.notify_all()
        self._emit("cleared", message=seed.describe())
        self._fill()

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
        self._fill()

    # -- learning -------------------------------------------------------------------------

    def like(self, track_id: uuid.UUID) -> None:
        """More like this: this session's choices lean toward it, the taste moves to it."""
        self._learn(track_id, 1.6)
        if self.learn_taste:
            _taste_call("record_like", self.database, self.user_id, track_id)

    def skip(self, track_id: uuid.UUID, position_seconds: float | None = None) -> None:
        """Less like this; an early skip counts more than a late one."""
        early = position_seconds is not None and position_seconds < EARLY_SKIP_SECONDS
        self._learn(track_id, 0.4 if early else 0.7)
        if self.learn_taste:
            _taste_call("record_skip", self.database, self.user_id, track_id)

    def _learn(self, track_id: uuid.UUID, factor: float) -> None:
        with self._lock:
            item = self._by_track.get(track_id)
            if item is None:
                return
            weight = self._genre_weight.get(item.genre, 1.0) * factor
            self._genre_weight[item.genre] = max(0.05, min(8.0, weight))
            if item.vibe:
                weight = self._vibe_weight.get(item.vibe, 1.0) * factor
                self._vibe_weight[item.vibe] = max(0.05, min(8.0, weight))

    def weights(self) -> dict[str, float]:
        """This session's genre weights (what the next requests are drawn from)."""
        with self._lock:
            return dict(self._genre_weight)

    # -- planning -------------------------------------------------------------------------

    def _pending(self) -> int:
        return sum(1 for i in self._items if i.status in ("queued", "generating", "ready"))

    def _fill(self) -> None:
        added = []
        with self._lock:
            if self._seed is None or self._halted or self._closed:
                return
            while self._pending() < self.ahead:
                item = self._plan()
                self._items.append(item)
                added.append(dataclasses.replace(item))
            self._lock.notify_all()
        for item in added:
            self._emit("queued", item)

    def _base_genres(self, seed: RadioSeed) -> list[str]:
        if seed.kind == "genre" and seed.genre:
            return [seed.genre]
        if seed.kind == "band":
            return list(self._band_params.get("genres") or ["pop"])
        genres = [str(g) for g in self.preferences.get("genres") or []]
        return genres or ["pop"]

    def _plan(self) -> RadioItem:
        """The next item's request (called with the lock held)."""
        from player.generation import GenerationRequest

        seed = self._seed
        assert seed is not None
        genres = sorted(self._genre_weight) or self._base_genres(seed)
        genre = self._rng.choices(genres, [self._genre_weight.get(g, 1.0) for g in genres])[0]
        vibe = seed.vibe if seed.kind == "vibe" else self.preferences.get("vibe") or None
        if seed.kind == "band":
            vibe = self._band_params.get("vibe") or vibe
        prefs_bass = self.preferences.get("bass_level") or "medium"
        kwargs: dict[str, Any] = {
            "mode": "radio",
            "genres": [genre],
            "vibe": vibe,
            "bass_level": prefs_bass if prefs_bass in ("low", "medium", "high") else "medium",
            "seed": self._rng.randrange(2**31),
            "duration_seconds": self.track_seconds,
        }
        tempo = _tempo_range(self.preferences.get("tempo_range"))
        if tempo and seed.kind != "band":
            kwargs["tempo_range"] = tempo
        if seed.kind == "track" and seed.track_id is not None:
            from player.generation.protocol import SourceTrack

            kwargs["mode"] = "similar"
            kwargs["source"] = SourceTrack(track_id=str(seed.track_id))
        request = GenerationRequest(**kwargs)
        self._next_key += 1
        return RadioItem(self._next_key, genre, vibe, request=request)

    def _band_params_for(self, seed: RadioSeed) -> dict[str, Any]:
        from player.bands.service import BandService

        band = BandService(self.database).get_band(self.user_id, seed.band_id)  # type: ignore[arg-type]
        return {"genres": list(band.genres), "vibe": band.vibe, "name_seed": band.name_seed}

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

        self._emit("progress", item)
        band_id = seed.band_id if seed is not None and seed.kind == "band" else None
        from player.generation.service import QuotaExceeded

        try:
            result = self.generation.generate(
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
        track_id = _result_track_id(result)
        if cancel.is_set():
            self._drop(item)
            return
        if band_id is not None:
            _add_to_band(self.database, self.user_id, band_id, track_id)
        if self.score and not cancel.is_set():
            score_track(
                self.database,
                self.user_id,
                track_id,
                item.genre,
                getattr(self.generation, "generator", None),
            )
        with self._lock:
            item.status = "ready"
            item.progress = 1.0
            item.track_id = track_id
            self._by_track[track_id] = item
            self._failures = 0
        self._emit("ready", item)

    def _drop(self, item: RadioItem) -> None:
        with self._lock:
            if item in self._items:
                self._items.remove(item)
        self._fill()


def quota_message(detail: str = "") -> str:
    """The friendly words for a reached quota: what happened and what happens next."""
    return (
        "You have used today's free generations. New tracks start again at midnight UTC "
        "(or right away with Premium). Until then, your library keeps playing — liked songs, "
        "playlists and everything already generated."
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

        from db.models import GeneratedTrack, User
        from player import taste
        from player.embedding import active_embedder
        from player.embedding.store import store_track_vector
        from player.generation.service import path_from_url
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


def _tempo_range(raw: Any) -> tuple[float, float] | None:
    if not raw:
        return None
    try:
        from player.generation.protocol import parse_tempo_range

        lo, hi = parse_tempo_range(str(raw))
    except UserFacingError:
        return None
    return (lo, hi) if 40 <= lo <= hi <= 220 else None


def _result_track_id(result: Any) -> uuid.UUID:
    if isinstance(result, uuid.UUID):
        return result
    value = getattr(result, "track_id", None) or getattr(result, "id", None) or result
    return uuid.UUID(str(value))


def _add_to_band(
    database: Any, user_id: uuid.UUID, band_id: uuid.UUID, track_id: uuid.UUID
) -> None:
    from player.bands.service import BandService

    try:
        BandService(database).add_tracks(user_id, band_id, [track_id])
    except UserFacingError as exc:  # the band was deleted meanwhile: the track still plays
        log.warning("could not add the radio track to its band: %s", exc)


def _taste_call(name: str, *args: Any) -> None:
    """Hand a like or skip to :mod:`player.taste`; taste is best effort, never fatal."""
    try:
        from player import taste
    except ImportError:  # pragma: no cover - taste not installed in this checkout
        return
    func = getattr(taste, name, None)
    if func is None:
        return
    try:
        func(*args)
    except Exception:
        log.exception("taste update %s failed", name)

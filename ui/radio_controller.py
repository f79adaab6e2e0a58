"""Glue between the core radio, playback and the views, on the GUI thread.

The core :class:`player.radio.RadioService` generates on its own thread and reports
through a callback; this object re-emits those reports as queued Qt signals, hands each
finished track to :class:`ui.playback.Playback`, and tells the radio when playback
starts a track so the queue refills. Likes and skips go to the library and the radio
through the task runner, so no database call blocks the window.

The first track after "Start my radio" does not wait to be finished: the radio's
generation service is wrapped (:class:`StreamingGeneration`) so that track's chunks go
to playback as a stream from the first one, while the service books, encodes and
stores it behind. Later tracks are finished long before they are needed and play from
their files; the engine keeps the next one opened and decoded ahead, so a skip is quick.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from player.radio import RadioEvent, RadioItem, RadioSeed, RadioService, quota_message
from ui.context import AppContext

log = logging.getLogger(__name__)


class StreamingGeneration:
    """The generation service as the radio sees it, plus one hook: when asked (a station
    just started, nothing to play yet), the next track is also handed out as a
    :class:`~player.audio.StreamingSource` fed with its chunks as they are rendered.

    The stream starts with the first chunk, which may come before the track has an id:
    the service hands out the opening while the quota booking is still on its way when
    the quota is known to say yes (issue 17: the database off the path to sound). Until
    the booking lands the stream is anonymous (no ``track_id`` in its metadata, so
    nothing looks up a row that does not exist yet); then it is named and
    ``on_named(source)`` lets playback tell the views.

    Everything else is the wrapped service's (``__getattr__``), so the radio needs no
    change; ``on_stream(source)`` and ``on_named(source)`` are called on the radio's
    thread.
    """

    #: what the stream is called until its booking lands (a fraction of a second)
    UNNAMED = "New track"

    def __init__(
        self,
        inner: Any,
        on_stream: Callable[[Any], None],
        on_named: Callable[[Any], None] | None = None,
    ) -> None:
        self._inner = inner
        self._on_stream = on_stream
        self._on_named = on_named
        self._want = threading.Event()
        self._streamed: set[uuid.UUID] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def stream_next(self, wanted: bool = True) -> None:
        """Stream the next track generated (or stop wanting to)."""
        if wanted:
            self._want.set()
        else:
            self._want.clear()

    def was_streamed(self, track_id: uuid.UUID) -> bool:
        return track_id in self._streamed

    def generate(
        self,
        user_id: Any,
        request: Any,
        band_id: Any = None,
        on_chunk: Callable[..., Any] | None = None,
        cancel: Any = None,
    ) -> uuid.UUID:
        from player.audio import StreamingSource
        from player.library import track_title

        state: dict[str, Any] = {"id": None, "stream": None}

        def name(stream: Any, track_id: uuid.UUID) -> None:
            stream.metadata.update(track_id=str(track_id), title=track_title(track_id))
            self._streamed.add(track_id)

        def on_track(track_id: uuid.UUID) -> None:
            state["id"] = track_id
            stream = state["stream"]
            if stream is not None:  # it started before the booking landed
                name(stream, track_id)
                if self._on_named is not None:
                    self._on_named(stream)

        def chunk(data: Any, samplerate: int) -> None:
            stream = state["stream"]
            if stream is None and self._want.is_set():
                self._want.clear()
                stream = StreamingSource(
                    samplerate,
                    2,
                    metadata={
                        "title": self.UNNAMED,
                        "duration": float(getattr(request, "duration_seconds", 0) or 0),
                    },
                )
                if state["id"] is not None:
                    name(stream, state["id"])
                stream.push(data)
                state["stream"] = stream
                self._on_stream(stream)
            elif stream is not None:
                stream.push(data)
            if on_chunk is not None:
                on_chunk(data, samplerate)

        try:
            track_id = self._inner.generate(
                user_id,
                request,
                band_id=band_id,
                on_chunk=chunk,
                cancel=cancel,
                on_track=on_track,
            )
        except BaseException as exc:
            if state["stream"] is not None:
                state["stream"].fail(exc)
            raise
        stream = state["stream"]
        if stream is not None:
            loudness = _stored_loudness(self._inner.database, track_id)
            if loudness is not None:
                stream.set_loudness(*loudness)  # playback glides to it
            stream.finish()
        return track_id


def _stored_loudness(database: Any, track_id: uuid.UUID) -> tuple[float, float] | None:
    from sqlalchemy import text

    with database.service_session() as s:
        row = s.execute(
            text("select loudness_lufs, true_peak_dbtp from public.generated_tracks where id = :t"),
            {"t": track_id},
        ).one_or_none()
    if row is None or row[0] is None or row[1] is None:
        return None
    return float(row[0]), float(row[1])


class RadioController(QObject):
    """One station at a time; owns the core radio for the window's lifetime."""

    #: the queue changed (items added, progressed, ready, started).
    queue_changed = Signal()
    #: free generations left today and the daily limit (-1, -1 for unlimited/unknown).
    quota_changed = Signal(int, int)
    #: the quota was reached: the friendly explanation.
    quota_reached = Signal(str)
    #: a station started: its description.
    station_changed = Signal(str)
    #: something to tell the person (a failure, the radio stalling).
    message = Signal(str)
    #: a liked state changed: track id (str) and whether it is liked now.
    like_changed = Signal(str, bool)
    _radio_event = Signal(object)
    _stream_ready = Signal(object)
    _stream_named = Signal(object)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.active = False
        self.station = ""
        self.remaining = -1
        self.limit = -1
        self.service: RadioService | None = None
        self._playing: uuid.UUID | None = None  # the track playing, to tell a full listen
        self._skipped: uuid.UUID | None = None  # the last track skipped
        self.streaming: StreamingGeneration | None = None
        if ctx.generation is not None:
            self.streaming = StreamingGeneration(
                ctx.generation, self._stream_ready.emit, self._stream_named.emit
            )
            self._stream_ready.connect(self._on_stream)
            self._stream_named.connect(ctx.playback.source_named)
            self.service = RadioService(
                ctx.database,
                ctx.user_id,
                self.streaming,
                ahead=int(ctx.settings.radio_ahead),
                track_seconds=float(ctx.settings.track_seconds),
                preferences=ctx.profile.preferences,
            )
            self._radio_event.connect(self._on_radio_event)
            self.service.subscribe(self._radio_event.emit)
        ctx.playback.track_changed.connect(self._on_track_changed)
        self._prepared_for: dict[str, Any] | None = None
        self._prepare()

    def _prepare(self) -> None:
        """Before the first click, make the radio's planner (it reads the stored listener
        model and the history: 0.1-0.3 s of database and imports the first "Start my
        radio" would otherwise wait for), plan the taste station's first track and let
        the engine's process render its opening ahead (issue 17: the click then waits
        for neither the plan nor the engine's first chunk; another station plans as
        before). The engine's process is started by the app
        (``Launcher.prestart_engine``)."""
        service = self.service
        if service is None:
            return
        preferences = dict(self.ctx.profile.preferences)
        self._prepared_for = preferences

        def prepare(_ctx: Any) -> None:
            if service.preferences == preferences:
                service.prepare_start(RadioSeed("taste"))

        self.ctx.tasks.run(prepare, description="Preparing the radio", visible=False)

    @property
    def available(self) -> bool:
        return self.service is not None

    def items(self) -> list[RadioItem]:
        return self.service.items() if self.service else []

    # -- commands -------------------------------------------------------------------------

    def start(self, seed: RadioSeed) -> None:
        """Tune in: the playback queue is handed over to this station."""
        if self.service is None:
            self.message.emit("Music generation is not available in this installation.")
            return
        self.ctx.playback.clear()
        self.active = True
        if self.streaming is not None:
            self.streaming.stream_next()  # the first track plays from its first chunk
        self.station = seed.describe()
        preferences = dict(self.ctx.profile.preferences)
        if self._prepared_for is not None and preferences != self._prepared_for:
            self.service.planner = None  # made ahead for preferences changed since
        self._prepared_for = None
        self.service.preferences = preferences
        service = self.service
        self.ctx.tasks.run(
            lambda _ctx: service.start(seed),
            description=f"Tuning in to {self.station}",
            on_done=lambda _r: self.refresh_quota(),
            on_error=lambda exc: self.message.emit(str(exc)),
        )
        self.station_changed.emit(self.station)
        self.queue_changed.emit()

    def stop(self) -> None:
        """Playback moved to the library: stop generating for the radio."""
        if self.streaming is not None:
            self.streaming.stream_next(False)
        if self.service is not None and self.active:
            self.active = False
            self.service.stop()
            self.station = ""
            self.station_changed.emit("")

    def skip(self) -> None:
        """Next track; the radio (and the taste) learn that this one was not it."""
        playback = self.ctx.playback
        track_id, position = playback.current_track_id, playback.position
        self._skipped = track_id
        playback.next()
        if track_id is None:
            return
        service = self.service

        def learn(_ctx: Any) -> None:
            if service is not None:
                service.skip(track_id, position)

        self.ctx.tasks.run(learn, description="Learning from the skip", visible=False)

    def toggle_like(self, track_id: uuid.UUID | None = None) -> None:
        """Like (or unlike) a track, by default the one playing."""
        track_id = track_id or self.ctx.playback.current_track_id
        if track_id is None:
            return
        library, service = self.ctx.library, self.service

        def work(_ctx: Any) -> bool:
            if library.is_liked(track_id):
                library.unlike(track_id)
                return False
            library.like(track_id)
            if service is not None:
                service.like(track_id)
            return True

        self.ctx.tasks.run(
            work,
            description="Saving your like",
            serial=True,
            visible=False,
            on_done=lambda liked: self.like_changed.emit(str(track_id), bool(liked)),
        )

    def forget_learned(self) -> None:
        """Settings reset the stored listener model: drop the copy this radio holds too,
        or its next save would bring the old model back."""
        service = self.service
        if service is not None:
            self.ctx.tasks.run(
                lambda _ctx: service.forget(stored=False),
                description="Forgetting what the radio learned",
                visible=False,
            )

    def refresh_quota(self) -> None:
        generation, user_id = self.ctx.generation, self.ctx.user_id
        if generation is None:
            return

        def load(_ctx: Any) -> tuple[int, int]:
            remaining = generation.remaining_today(user_id)
            return (-1 if remaining is None else int(remaining), int(generation.daily_limit or -1))

        self.ctx.tasks.run(
            load, description="Quota", visible=False, on_done=lambda r: self._set_quota(*r)
        )

    def _set_quota(self, remaining: int, limit: int) -> None:
        self.remaining, self.limit = remaining, limit
        self.quota_changed.emit(remaining, limit)

    def close(self) -> None:
        if self.service is not None:
            self.service.close()

    # -- events ---------------------------------------------------------------------------

    def _on_stream(self, stream: Any) -> None:
        """The station's first track is being rendered: play it now, as it comes."""
        if self.active:
            self.ctx.playback.append_stream(stream)

    def _on_radio_event(self, event: RadioEvent) -> None:
        if event.kind == "ready" and event.item is not None and event.item.track_id:
            track_id = event.item.track_id
            if self.streaming is not None and self.streaming.was_streamed(track_id):
                # Already playing as a stream: the radio now knows the track, so tell it
                # (its "started" came before the track had an id the radio knew).
                if self.ctx.playback.current_track_id == track_id:
                    self._note_started(track_id, record=False)
            else:
                self._hand_to_playback(track_id)
            self.refresh_quota()
        elif event.kind == "quota":
            self.refresh_quota()
            self.quota_reached.emit(event.message or quota_message())
        elif event.kind in ("failed", "stalled") and event.message:
            self.message.emit(f"Radio: {event.message}")
        self.queue_changed.emit()

    def _hand_to_playback(self, track_id: uuid.UUID) -> None:
        library = self.ctx.library

        def load(_ctx: Any) -> Any:
            return library.track(track_id)

        def enqueue(track: Any) -> None:
            if track is not None and self.active:
                self.ctx.playback.append(track)

        self.ctx.tasks.run(load, description="Queueing", visible=False, on_done=enqueue)

    def _on_track_changed(self, metadata: dict[str, Any]) -> None:
        raw = metadata.get("track_id")
        if not raw:
            return
        self._note_started(uuid.UUID(raw))

    def _note_started(self, track_id: uuid.UUID, record: bool = True) -> None:
        service, library = self.service, self.ctx.library
        # The radio track before this one ended on its own (a skip goes through skip()):
        # a full listen, which the listener model counts as a quiet yes.
        finished, self._playing = self._playing, track_id
        if finished == self._skipped or finished == track_id:
            finished = None

        def note(_ctx: Any) -> None:
            if service is not None and self.active:
                if finished is not None:
                    service.played(finished)
                service.track_started(track_id)
            if not record:
                return
            track = library.track(track_id)
            if track is not None:
                library.record_play(track)

        self.ctx.tasks.run(note, description="History", visible=False, serial=True)

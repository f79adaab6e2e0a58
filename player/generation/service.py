"""The generation service: quota, rows, files — around whichever engine is in use.

``generate`` is the one path by which a track comes into existence:

1. take one generation from the user's daily quota (one atomic SQL statement, so no
   number of concurrent requests can exceed it; premium users are never refused);
2. insert the ``generated_tracks`` row as ``queued``, then mark it ``generating`` with
   the engine's reproducible parameters;
3. stream the engine's chunks to ``on_chunk`` (the player) first, then encode them to an
   MP3 beside them (``<data>/audio/<track id>.mp3``, written as ``.part`` and renamed at
   the end, so a crash never leaves a file that looks finished) and measure their
   loudness, on a writer thread;
4. mark the row ``completed`` with its integrated loudness and true peak — or ``failed``
   with the error, giving the quota back.

Steps 1-2 run while the engine renders its first chunk, and step 3's encoding beside
playback, so none of the bookkeeping lies on the path to the first sound.

A row is never ``completed`` without its file; rows a crash left ``queued`` or
``generating`` are failed by :meth:`GenerationService.fail_interrupted` at startup.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import queue
import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from base.errors import UserFacingError
from base.paths import audio_dir, path_from_url
from player.audio.loudness import LoudnessMeter
from player.generation.protocol import (
    GenerationRequest,
    GenerationResult,
    Generator,
    SourceTrack,
)

if TYPE_CHECKING:
    from db.database import Database

log = logging.getLogger(__name__)

DEFAULT_DAILY_LIMIT = 20

ChunkCallback = Callable[..., Any]
Cancel = threading.Event | Callable[[], bool]


class QuotaExceeded(UserFacingError):
    """The free daily generations are used up."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You've used all {limit} of today's free generations. They refill at midnight UTC "
            "— or go premium for unlimited music."
        )
        self.limit = limit


class GenerationCancelled(UserFacingError):
    """The caller cancelled the generation (the row is kept as ``failed``)."""

    def __init__(self) -> None:
        super().__init__("Generation was cancelled.")


def _is_cancelled(cancel: Cancel | None) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def _as_uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise UserFacingError(f"{what} id {value!r} is not a valid id.") from None


class GenerationService:
    """Make tracks for a user against a :class:`db.database.Database`.

    ``generator`` defaults to ``get_generator("auto")``, chosen on first use.
    ``daily_limit`` is the number of free generations per UTC day.
    """

    def __init__(
        self,
        database: Database,
        generator: Generator | None = None,
        daily_limit: int = DEFAULT_DAILY_LIMIT,
    ) -> None:
        if daily_limit < 0:
            raise UserFacingError(
                f"The daily generation limit must be 0 or more, not {daily_limit}."
            )
        self.database = database
        self._generator = generator
        self.daily_limit = daily_limit
        self._lock = threading.Lock()
        #: Generations known to be left today per user (None: unlimited), as last read,
        #: and how many of that user's generations are under way: see :meth:`_known_free`.
        self._known_left: dict[uuid.UUID, int | None] = {}
        self._under_way: dict[uuid.UUID, int] = {}

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                from player.generation.engines import get_generator

                self._generator = get_generator("auto")
            return self._generator

    def engine_name(self) -> str:
        """The engine tracks will be made with ("procedural", "musicgen"), without
        starting it: an isolated engine's child process may not be running yet."""
        with self._lock:
            generator = self._generator
        name = getattr(generator, "engine", None) or getattr(generator, "name", None)
        if name in (None, "auto"):
            from player.generation.engines import choose_engine

            return choose_engine().engine
        return str(name)

    def close(self) -> None:
        """Release the engine: an isolated one (see ``isolated.py``) stops its process."""
        with self._lock:
            generator = self._generator
        close = getattr(generator, "close", None)
        if close is not None:
            close()

    # -- quota ------------------------------------------------------------------------------
    def remaining_today(self, user_id: uuid.UUID | str) -> int | None:
        """Generations left today (UTC); ``None`` means unlimited (premium)."""
        uid = _as_uuid(user_id, "User")
        with self.database.service_session() as s:
            row = s.execute(
                text(
                    "select premium, daily_count, "
                    "daily_count_date = (now() at time zone 'utc')::date "
                    "from public.users where id = :u"
                ),
                {"u": uid},
            ).one_or_none()
        if row is None:
            raise UserFacingError(f"No user with id {uid}.")
        premium, count, today = row
        left = None if premium else max(0, self.daily_limit - (int(count or 0) if today else 0))
        with self._lock:
            self._known_left[uid] = left
        return left

    def _known_free(self, uid: uuid.UUID) -> bool:
        """Whether the quota is known to say yes to one more generation: read before (the
        app reads it to show the count) with more left than are under way. Then the first
        chunks go to the speaker while the booking is still on its way — the database is
        off the path to sound; another device taking the last generation in between is
        the only way it can still say no, and then the track stops within its first
        chunks and nothing of it is kept."""
        with self._lock:
            if uid not in self._known_left:
                return False
            left = self._known_left[uid]
            return left is None or left > self._under_way.get(uid, 0)

    def _consume(self, s: Session, uid: uuid.UUID) -> None:
        """Take one generation from today's quota in ``s``'s transaction."""
        count = s.execute(
            text("select public.consume_generation_quota(:u, :l)"),
            {"u": uid, "l": self.daily_limit},
        ).scalar()
        if count is None:
            if s.execute(text("select 1 from public.users where id = :u"), {"u": uid}).first():
                with self._lock:
                    self._known_left[uid] = 0
                raise QuotaExceeded(self.daily_limit)
            raise UserFacingError(f"No user with id {uid}.")
        with self._lock:  # keep what is known current (premium stays unlimited)
            if self._known_left.get(uid, None) is not None:
                self._known_left[uid] = max(0, self.daily_limit - int(count))

    def _refund(self, uid: uuid.UUID) -> None:
        with self.database.service_session() as s:
            s.execute(text("select public.refund_generation_quota(:u)"), {"u": uid})

    # -- sources ----------------------------------------------------------------------------
    def source_for(
        self, user_id: uuid.UUID | str, track_id: uuid.UUID | str, with_audio: bool = True
    ) -> SourceTrack:
        """A :class:`SourceTrack` for one of the user's (or a public) generated tracks:
        its stored parameters and, with ``with_audio``, its decoded audio."""
        uid, tid = _as_uuid(user_id, "User"), _as_uuid(track_id, "Track")
        with self.database.user_session(uid) as s:
            row = s.execute(
                text(
                    "select url, generation_params, status "
                    "from public.generated_tracks where id = :t"
                ),
                {"t": tid},
            ).one_or_none()
        if row is None:
            raise UserFacingError(f"No generated track with id {tid} is visible to you.")
        url, params, status = row
        if status != "completed":
            raise UserFacingError(f"Track {tid} is {status}, so it cannot be a source yet.")
        audio, samplerate = None, None
        path = path_from_url(url or "")
        if with_audio and path is not None and path.is_file():
            import soundfile as sf

            audio, samplerate = sf.read(str(path), dtype="float32", always_2d=True)
        return SourceTrack(
            track_id=str(tid), params=dict(params or {}), audio=audio, samplerate=samplerate
        )

    def _complete_source(
        self, uid: uuid.UUID, request: GenerationRequest, generator: Generator
    ) -> GenerationRequest:
        src = request.source
        if src is None or src.track_id is None or src.params:
            return request
        needs_audio = generator.name != "procedural"
        loaded = self.source_for(uid, src.track_id, with_audio=needs_audio)
        return replace(request, source=replace(loaded, external_id=src.external_id))

    # -- generation -------------------------------------------------------------------------
    def generate(
        self,
        user_id: uuid.UUID | str,
        request: GenerationRequest,
        band_id: uuid.UUID | str | None = None,
        on_chunk: ChunkCallback | None = None,
        cancel: Cancel | None = None,
        on_track: Callable[[uuid.UUID], Any] | None = None,
    ) -> uuid.UUID:
        """Generate one track; returns its ``generated_tracks`` id.

        ``on_chunk(chunk, samplerate)`` receives every float32 ``(frames, 2)`` chunk as it
        is made, before it is encoded: the player hears it first. ``on_track(id)`` is
        told the track's id before the first chunk. ``cancel`` (an Event or a callable)
        stops it between chunks. Raises :class:`QuotaExceeded` when the user has no
        generation left today (before any chunk is handed out).
        """
        uid = _as_uuid(user_id, "User")
        bid = _as_uuid(band_id, "Band") if band_id is not None else None
        request.validate()
        generator = self.generator
        request = self._complete_source(uid, request, generator)
        track_id = uuid.uuid4()
        final = audio_dir() / f"{track_id}.mp3"
        part = final.with_suffix(".mp3.part")
        source_id = None
        if request.source is not None and request.source.track_id:
            with contextlib.suppress(UserFacingError):
                source_id = _as_uuid(request.source.track_id, "Track")
        row = {
            "id": track_id,
            "u": uid,
            "url": final.as_uri(),
            "d": round(request.duration_seconds),
            "m": request.mode,
            "src": source_id,
            "ext": request.source.external_id if request.source else None,
            "b": bid,
        }
        # The quota and the row are written while the engine starts rendering, so the
        # database is off the path to the first sound; no chunk is handed out before
        # the quota said yes, and a refusal stops the render.
        # When the quota is known to say yes (see _known_free), the first chunks do not
        # wait for it either; the booking is joined before the track's id is given out,
        # before its row is touched, and before it completes.
        early = self._known_free(uid)
        with self._lock:
            self._under_way[uid] = self._under_way.get(uid, 0) + 1
        try:
            return self._generate(
                uid, request, generator, track_id, row, final, part, early,
                on_chunk, cancel, on_track,
            )  # fmt: skip
        finally:
            with self._lock:
                self._under_way[uid] -= 1

    def _generate(
        self,
        uid: uuid.UUID,
        request: GenerationRequest,
        generator: Generator,
        track_id: uuid.UUID,
        row: dict[str, Any],
        final: Path,
        part: Path,
        early: bool,
        on_chunk: ChunkCallback | None,
        cancel: Cancel | None,
        on_track: Callable[[uuid.UUID], Any] | None,
    ) -> uuid.UUID:
        booking = _Background(lambda: self._book(uid, row))
        result: GenerationResult | None = None
        started: BaseException | None = None
        try:
            result = generator.generate(request)
        except BaseException as exc:
            started = exc
        if not early or started is not None:
            booking_error = booking.join()
            if booking_error is not None:
                if result is not None:
                    result.close()
                raise booking_error
        writer: _TrackWriter | None = None
        booked = not early

        def settle_booking() -> None:
            """Wait for the booking; a refusal stops the track (nothing was written)."""
            nonlocal booked
            if booked:
                return
            error = booking.join()
            if error is not None:
                raise _BookingRefused(error)
            booked = True
            if on_track is not None:
                on_track(track_id)

        try:
            if started is not None:
                raise started
            assert result is not None
            first = result

            def mark_generating() -> None:
                if booking.join() is not None:
                    return  # refused: there is no row (the generating thread stops the track)
                self._update(
                    track_id,
                    status="generating",
                    generation_params=first.params,
                    duration=round(first.duration_seconds),
                )

            writer = _TrackWriter(part, result.samplerate, before=mark_generating)
            if on_track is not None and booked:
                on_track(track_id)
            frames = 0
            for chunk in result:
                if _is_cancelled(cancel):
                    raise GenerationCancelled()
                if not booked and booking.done():
                    settle_booking()
                if on_chunk is not None:
                    on_chunk(chunk, result.samplerate)
                writer.put(chunk)
                frames += len(chunk)
            settle_booking()
            if _is_cancelled(cancel):
                raise GenerationCancelled()
            lufs, peak = writer.finish()
            os.replace(part, final)
            seconds = frames / result.samplerate
            self._update(
                track_id,
                status="completed",
                duration=max(1, round(seconds)),
                error=None,
                loudness_lufs=lufs if math.isfinite(lufs) else None,
                true_peak_dbtp=peak if math.isfinite(peak) else None,
            )
        except _BookingRefused as refused:
            if writer is not None:
                writer.abort()
            with contextlib.suppress(OSError):
                part.unlink()
            raise refused.error from None  # no row was made and no generation taken
        except BaseException as exc:
            if writer is not None:
                writer.abort()
            with contextlib.suppress(OSError):
                part.unlink()
            if not booked and booking.join() is not None:
                raise  # refused as well: there is no row to fail and nothing to refund
            message = str(exc) or type(exc).__name__
            try:
                self._update(track_id, status="failed", error=message[:2000])
                self._refund(uid)
            except Exception:  # the original error matters more than the bookkeeping one
                log.exception("could not record the failure of track %s", track_id)
            raise
        finally:
            if result is not None:  # stopped early: an engine process stops rendering too
                result.close()
        return track_id

    def _book(self, uid: uuid.UUID, row: dict[str, Any]) -> None:
        """Take one generation from the quota and insert the ``queued`` row, in one
        transaction: an insert that fails (a band or source track that is gone) gives the
        generation back, and the person is told which row was missing."""
        try:
            with self.database.service_session() as s:
                self._consume(s, uid)
                s.execute(
                    text(
                        "insert into public.generated_tracks (id, user_id, url, duration, mode, "
                        "source_id, source_external_id, status, band_id) "
                        "values (:id, :u, :url, :d, :m, :src, :ext, 'queued', :b)"
                    ),
                    row,
                )
        except IntegrityError as exc:
            orig = exc.orig
            detail = orig.diag.message_detail if isinstance(orig, psycopg.Error) else None
            detail = (detail or str(orig)).strip()
            raise UserFacingError(f"The new track could not be saved: {detail}") from exc

    def _update(self, track_id: uuid.UUID, **cols: Any) -> None:
        import json

        sets: list[str] = []
        values: dict[str, Any] = {"id": track_id}
        for name, value in cols.items():
            if name == "generation_params":
                sets.append(f"{name} = cast(:{name} as jsonb)")
                values[name] = json.dumps(value)
            else:
                sets.append(f"{name} = :{name}")
                values[name] = value
        with self.database.service_session() as s:
            s.execute(
                text(f"update public.generated_tracks set {', '.join(sets)} where id = :id"), values
            )

    def fail_interrupted(self, user_id: uuid.UUID | str | None = None) -> int:
        """Mark rows a crash or quit left ``queued``/``generating`` as ``failed`` and
        remove their partial files. Call once at startup, before generating."""
        where = "status in ('queued', 'generating')"
        params: dict[str, Any] = {}
        if user_id is not None:
            where += " and user_id = :u"
            params["u"] = _as_uuid(user_id, "User")
        with self.database.service_session() as s:
            rows = s.execute(
                text(
                    "update public.generated_tracks set status = 'failed', "
                    "error = 'Interrupted: the app stopped while this track was being generated.' "
                    f"where {where} returning url"
                ),
                params,
            ).all()
        for (url,) in rows:
            path = path_from_url(url or "")
            if path is not None:
                with contextlib.suppress(OSError):
                    Path(str(path) + ".part").unlink()
        return len(rows)


class _BookingRefused(Exception):
    """The quota (or the row's insert) said no after the first chunks went out."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _Background:
    """Runs ``work`` on a thread; :meth:`join` returns what it raised (or ``None``)."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._work = work
        self._thread = threading.Thread(target=self._run, name="generation-booking", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as exc:
            self._error = exc

    def join(self) -> BaseException | None:
        self._thread.join()
        return self._error

    def done(self) -> bool:
        return not self._thread.is_alive()


#: Writers whose thread may still be running, so an exit mid-track can drop their meters.
_LIVE_WRITERS: weakref.WeakSet[_TrackWriter] = weakref.WeakSet()


@atexit.register
def _drop_meters_at_exit() -> None:
    """A daemon writer frozen at exit would keep its meter's soxr resampler alive, and
    nanobind reports that as a leak; dropping the meter frees it (the track is lost
    either way: its row is failed at the next start)."""
    for writer in list(_LIVE_WRITERS):
        writer._meter = None


class _TrackWriter:
    """Encodes the chunks to the ``.part`` MP3 and measures their loudness, on its own
    thread, so neither delays a chunk on its way to the speaker.

    The streaming BS.1770 meter sees exactly the samples that are encoded, so the row
    gets integrated loudness and true peak at completion and a generated track never
    needs a measuring pass.
    """

    def __init__(self, part: Path, samplerate: int, before: Callable[[], None]) -> None:
        self._queue: queue.SimpleQueue[np.ndarray | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._aborted = False
        self._part = part
        self._samplerate = samplerate
        self._before = before
        self._meter: LoudnessMeter | None = None
        self._thread = threading.Thread(target=self._run, name="generation-writer", daemon=True)
        _LIVE_WRITERS.add(self)
        self._thread.start()

    def _run(self) -> None:
        import soundfile as sf

        try:
            self._before()
            self._meter = LoudnessMeter(self._samplerate, 2)
            with sf.SoundFile(
                str(self._part), "w", samplerate=self._samplerate, channels=2, format="MP3"
            ) as out:
                while (chunk := self._queue.get()) is not None:
                    if self._aborted:
                        continue
                    out.write(chunk)
                    meter = self._meter
                    if meter is None:
                        raise RuntimeError("the player is shutting down")
                    meter.add(chunk)
                    del meter
        except BaseException as exc:
            self._error = exc

    def put(self, chunk: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def finish(self) -> tuple[float, float]:
        """Wait for the file; ``(integrated LUFS, true peak dBTP)`` of what was written."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._meter is not None
        return self._meter.integrated_lufs(), self._meter.true_peak_dbtp()

    def abort(self) -> None:
        self._aborted = True
        self._queue.put(None)
        self._thread.join()

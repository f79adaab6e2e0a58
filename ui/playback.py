"""Playback as a Qt service: the core engine's events become signals on the GUI thread.

The :class:`player.audio.PlaybackEngine` calls subscribers on its own event thread.
:class:`Playback` re-emits each event through a private signal; because this object
lives on the GUI thread, Qt queues that emission, so every public signal below fires on
the GUI thread and widgets may connect to them directly. Widgets never see the engine.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from base.paths import path_from_url
from player.audio.events import (
    DeviceEvent,
    LoudnessMeasured,
    PlaybackEvent,
    PositionChanged,
    QueueEnded,
    StateChanged,
    TrackChanged,
    TrackError,
)
from player.library import TrackRow

log = logging.getLogger(__name__)


def track_path(url: str) -> Path:
    """The local file behind a track's ``url`` (``base.paths.path_from_url``); a remote
    URL stays as it is, and opening it names it as a file that is not here."""
    return path_from_url(url) or Path(url)


def track_metadata(track: TrackRow) -> dict[str, Any]:
    return {
        "track_id": str(track.id),
        "title": track.title,
        "band": track.band,
        "match": track.match,
        "explanation": track.explanation or "",
        "duration": track.duration,
        "url": track.url,
        **(
            {"loudness_lufs": track.loudness_lufs, "true_peak_dbtp": track.true_peak_dbtp}
            if track.loudness_lufs is not None
            else {}
        ),
    }


class Playback(QObject):
    """Wraps one engine; every signal is delivered on the GUI thread."""

    state_changed = Signal(str)
    #: position and duration in seconds (duration -1 when unknown).
    position_changed = Signal(float, float)
    #: the metadata dict of the track now audible (empty when nothing plays).
    track_changed = Signal(dict)
    #: a message about the output device; True when it is a problem.
    device_message = Signal(str, bool)
    track_error = Signal(str)
    queue_ended = Signal()
    #: track id, integrated LUFS, true peak dBTP: a first play measured a track.
    loudness_measured = Signal(str, float, float)
    _event = Signal(object)

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.state = "stopped"
        self.position = 0.0
        self.duration = -1.0
        self.current: dict[str, Any] = {}
        self._current_source: Any = None  # the source whose metadata ``current`` holds
        # What went wrong with the device before this object subscribed (its event may
        # already have been delivered to nobody).
        self.device_problem = str(getattr(engine, "device_problem", None) or "")
        self._event.connect(self._dispatch)
        self._unsubscribe = engine.subscribe(self._event.emit)

    # -- commands -------------------------------------------------------------------------

    def play_tracks(self, tracks: list[TrackRow], start: int = 0) -> None:
        """Replace the queue with ``tracks`` and play from ``start``."""
        from player.audio.sources import FileSource

        self.engine.clear_queue()
        for track in tracks:
            self.engine.enqueue(FileSource(track_path(track.url), track_metadata(track)))
        if tracks:
            self.engine.play(max(0, min(start, len(tracks) - 1)))

    def append(self, track: TrackRow, play_if_idle: bool = True) -> None:
        """Add ``track`` to the end of the queue; start it when nothing is playing."""
        from player.audio.sources import FileSource

        index = self.engine.enqueue(FileSource(track_path(track.url), track_metadata(track)))
        if play_if_idle and self.state in ("stopped",) and not self._has_upcoming(index):
            self.engine.play(index)

    def append_stream(self, stream: Any, play_if_idle: bool = True) -> None:
        """Queue a track still being generated (a :class:`~player.audio.StreamingSource`);
        it plays from the first chunk pushed."""
        index = self.engine.enqueue(stream)
        idle = self.state in ("stopped",) and not self._has_upcoming(index)
        # index 0: the queue was just cleared for it (the stop may not be reported yet).
        if play_if_idle and (index == 0 or idle):
            self.engine.play(index)

    def source_named(self, source: Any) -> None:
        """A stream that started playing before its track had an id (its row was still
        being booked) now has one: when it is the audible track, the views and the
        radio hear about it as a track change (once: a change reported later reads the
        name from the source itself)."""
        if source is not self._current_source:
            return
        metadata = dict(getattr(source, "metadata", None) or {})
        if metadata.get("track_id") == self.current.get("track_id"):
            return
        self.current = metadata
        self.track_changed.emit(self.current)

    def _has_upcoming(self, index: int) -> bool:
        current = self.engine.current_index
        return current is not None and current < index and self.state != "stopped"

    def clear(self) -> None:
        self.engine.clear_queue()

    def toggle(self) -> None:
        if self.state == "playing":
            self.engine.pause()
        else:
            self.engine.play()

    def play(self) -> None:
        self.engine.play()

    def pause(self) -> None:
        self.engine.pause()

    def stop(self) -> None:
        self.engine.stop()

    def next(self) -> bool:
        return bool(self.engine.next())

    def previous(self) -> None:
        self.engine.previous()

    def seek(self, seconds: float) -> None:
        self.engine.seek(max(0.0, seconds))

    def set_volume(self, volume: float) -> None:
        self.engine.set_volume(max(0.0, min(1.0, volume)))

    @property
    def volume(self) -> float:
        return float(self.engine.volume)

    @property
    def current_track_id(self) -> uuid.UUID | None:
        raw = self.current.get("track_id")
        return uuid.UUID(raw) if raw else None

    @property
    def can_go_next(self) -> bool:
        return bool(self.engine.can_go_next)

    @property
    def can_go_previous(self) -> bool:
        return bool(self.engine.can_go_previous)

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self._unsubscribe()
        self.engine.close()

    # -- events ---------------------------------------------------------------------------

    def _dispatch(self, event: PlaybackEvent) -> None:
        if isinstance(event, PositionChanged):
            self.position = float(event.position)
            self.duration = float(event.duration) if event.duration else -1.0
            self.position_changed.emit(self.position, self.duration)
        elif isinstance(event, StateChanged):
            self.state = str(event.state)
            self.state_changed.emit(self.state)
        elif isinstance(event, TrackChanged):
            self._current_source = event.source
            # A stream named after it was queued (see source_named) reports its name now.
            live = getattr(event.source, "metadata", None)
            self.current = dict(live if live is not None else event.metadata or {})
            if event.duration:
                self.duration = float(event.duration)
            self.position = 0.0
            self.track_changed.emit(self.current)
        elif isinstance(event, DeviceEvent):
            self.device_problem = event.message if event.error else ""
            self.device_message.emit(event.message, bool(event.error))
        elif isinstance(event, LoudnessMeasured):
            track_id = (getattr(event.source, "metadata", None) or {}).get("track_id")
            if track_id:
                self.loudness_measured.emit(
                    str(track_id), float(event.integrated_lufs), float(event.true_peak_dbtp)
                )
        elif isinstance(event, TrackError):
            self.track_error.emit(event.message)
        elif isinstance(event, QueueEnded):
            self.queue_ended.emit()

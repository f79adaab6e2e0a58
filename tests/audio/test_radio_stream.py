"""The radio's first track plays from its first rendered chunk (ui/radio_controller.py).

:class:`StreamingGeneration` wraps the real generation service; nothing here needs Qt
beyond importing the controller module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from player.audio import PlaybackEngine, StreamingSource
from player.audio.events import TrackChanged
from player.generation import GenerationRequest
from player.generation.procedural import ProceduralGenerator
from player.generation.service import GenerationService
from tests.audio.helpers import EventLog, render
from tests.pgtools import HoldsTheUsersRow


def _status(database: Any, track_id: Any) -> str:
    with database.service_session() as s:
        return str(
            s.execute(
                text("select status from public.generated_tracks where id = :t"), {"t": track_id}
            ).scalar()
        )


def test_first_radio_track_streams_before_it_is_finished(database, make_user) -> None:
    from ui.radio_controller import StreamingGeneration

    user = make_user()
    engine = PlaybackEngine(output="manual")
    seen: dict[str, Any] = {}

    def on_stream(stream: StreamingSource) -> None:
        # Called on the generating thread with the first chunk in: play it right away.
        seen["stream"] = stream
        seen["finished_then"] = stream.finished
        seen["status_then"] = _status(database, stream.metadata["track_id"])
        engine.enqueue(stream)
        engine.play()
        seen["first_audio"] = render(engine, 4800)

    streaming = StreamingGeneration(GenerationService(database, ProceduralGenerator()), on_stream)
    streaming.stream_next()
    try:
        track_id = streaming.generate(
            user, GenerationRequest(genres=["house"], duration_seconds=12.0, seed=2)
        )
        second = streaming.generate(
            user, GenerationRequest(genres=["house"], duration_seconds=2.0, seed=3)
        )
    finally:
        engine.close()
    stream = seen["stream"]
    assert stream.metadata["track_id"] == str(track_id) and streaming.was_streamed(track_id)
    assert seen["finished_then"] is False and seen["status_then"] in ("queued", "generating")
    assert np.abs(seen["first_audio"]).max() > 0.01, "the stream did not play at once"
    # Finished: the stream has the loudness the service stored, so playback glides to it.
    assert stream.finished and _status(database, track_id) == "completed"
    with database.service_session() as s:
        lufs = s.execute(
            text("select loudness_lufs from public.generated_tracks where id = :t"),
            {"t": track_id},
        ).scalar()
    assert stream.metadata["loudness_lufs"] == lufs
    # Only the track asked for streams; the next one plays from its file as before.
    assert not streaming.was_streamed(second)


def test_the_first_chunk_plays_while_the_booking_waits_and_the_stream_is_named_after(
    database, make_user
) -> None:
    """The quota is known to say yes (the app read it to show the count), so the first
    chunks go to the speaker while another device holds the user's row and the booking
    waits; the stream plays anonymous (no id a history task could look up before the row
    exists) and is named, with its row in place, when the booking lands."""
    import threading

    from ui.radio_controller import StreamingGeneration

    user = make_user()
    engine = PlaybackEngine(output="manual")
    seen: dict[str, Any] = {"playing": threading.Event(), "named": threading.Event()}

    def on_stream(stream: StreamingSource) -> None:
        seen["stream"] = stream
        seen["id_then"] = stream.metadata.get("track_id")
        engine.enqueue(stream)
        engine.play()
        seen["first_audio"] = render(engine, 4800)
        seen["playing"].set()

    def on_named(stream: StreamingSource) -> None:
        seen["named_stream"] = stream
        seen["status_then"] = _status(database, stream.metadata["track_id"])
        seen["named"].set()

    service = GenerationService(database, ProceduralGenerator(), daily_limit=5)
    assert service.remaining_today(user) == 5  # what the app's quota label reads
    streaming = StreamingGeneration(service, on_stream, on_named)
    streaming.stream_next()
    out: dict[str, Any] = {}

    def run() -> None:
        out["track"] = streaming.generate(
            user, GenerationRequest(genres=["house"], duration_seconds=12.0, seed=2)
        )

    thread = threading.Thread(target=run, daemon=True)
    try:
        with HoldsTheUsersRow(database, user):
            thread.start()
            assert seen["playing"].wait(30), "the first chunk waited for the booking"
            assert seen["id_then"] is None and not seen["named"].is_set()
            assert np.abs(seen["first_audio"]).max() > 0.01, "the stream did not play at once"
        assert seen["named"].wait(30)
        thread.join(60)
    finally:
        engine.close()
    track_id = out["track"]
    stream = seen["stream"]
    assert seen["named_stream"] is stream and stream.metadata["track_id"] == str(track_id)
    assert seen["status_then"] in ("queued", "generating")  # named once its row exists
    assert streaming.was_streamed(track_id) and _status(database, track_id) == "completed"


@pytest.mark.parametrize("name_first", [False, True], ids=["reported-first", "named-first"])
def test_playback_reports_a_stream_named_while_it_plays_once(qtbot, name_first: bool) -> None:
    """Whether the name lands before or after playback reported the stream as the
    audible track, the views and the radio hear one change that carries the id."""
    from ui.playback import Playback

    engine = PlaybackEngine(output="manual")
    playback = Playback(engine)
    heard: list[dict[str, Any]] = []
    playback.track_changed.connect(heard.append)
    log = EventLog(engine)
    stream = StreamingSource(48000, 2, metadata={"title": "New track"})
    stream.push(np.full((9600, 2), 0.1, np.float32))
    named = "00000000-0000-4000-8000-000000000001"
    try:
        engine.enqueue(stream)
        engine.play()
        render(engine, 2048)
        log.wait_for(TrackChanged)  # reported by the engine, not yet dispatched by Qt
        if name_first:
            stream.metadata.update(track_id=named)
            playback.source_named(stream)  # not yet the track playback reported: waits
            qtbot.waitUntil(lambda: bool(heard), timeout=5000)
        else:
            qtbot.waitUntil(lambda: bool(heard), timeout=5000)
            assert "track_id" not in heard[0]
            stream.metadata.update(track_id=named)
            playback.source_named(stream)
        assert heard[-1].get("track_id") == named
        playback.source_named(stream)  # said again: no second change
        qtbot.wait(50)
    finally:
        playback.close()
    assert [m.get("track_id") for m in heard if m.get("track_id")] == [named], heard
    assert str(playback.current_track_id) == named

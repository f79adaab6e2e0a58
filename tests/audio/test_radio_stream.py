"""The radio's first track plays from its first rendered chunk (ui/radio_controller.py).

:class:`StreamingGeneration` wraps the real generation service; nothing here needs Qt
beyond importing the controller module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import text

from player.audio import PlaybackEngine, StreamingSource
from player.generation import GenerationRequest
from player.generation.procedural import ProceduralGenerator
from player.generation.service import GenerationService
from tests.audio.helpers import render


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

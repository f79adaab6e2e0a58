"""Loudness is measured once: stored on generated_tracks, reused on the next play."""

from __future__ import annotations

import math

import pytest

from player.audio import FileSource, LoudnessMeasured, PlaybackEngine, QueueEnded
from tests.audio.conftest import tone
from tests.audio.helpers import EventLog, render


def test_measured_loudness_round_trips_through_generated_tracks(database, make_user, write_audio):
    from db.models import GeneratedTrack

    path = write_audio("track.flac", tone(1000, 1.0, amp=0.1))
    user_id = make_user()
    with database.service_session() as s:
        row = GeneratedTrack(user_id=user_id, url=str(path), duration=1, mode="radio")
        s.add(row)
        s.flush()
        track_id = row.id

    # First play: the engine measures and reports it; the app stores it with the track.
    engine = PlaybackEngine(output="manual")
    log = EventLog(engine)
    try:
        engine.enqueue(FileSource(path, metadata={"track_id": track_id}))
        engine.play()
        render(engine, 48000)
        measured = log.wait_for(LoudnessMeasured)
    finally:
        engine.close()
    assert measured.integrated_lufs == pytest.approx(-20.0, abs=0.1)
    with database.service_session() as s:
        row = s.get(GeneratedTrack, measured.source.metadata["track_id"])
        row.loudness_lufs = measured.integrated_lufs
        row.true_peak_dbtp = measured.true_peak_dbtp

    # Next play (a new process would have an empty cache): the stored value is used.
    with database.service_session() as s:
        row = s.get(GeneratedTrack, track_id)
        metadata = {"loudness_lufs": row.loudness_lufs, "true_peak_dbtp": row.true_peak_dbtp}
    assert math.isclose(metadata["loudness_lufs"], -20.0, abs_tol=0.1)
    path.write_bytes(path.read_bytes())  # new mtime: the in-process cache cannot answer
    source = FileSource(path, metadata=metadata)
    engine = PlaybackEngine(output="manual")
    log = EventLog(engine)
    try:
        engine.enqueue(source)
        engine.play()
        out = render(engine, 48000)
        log.wait_for(QueueEnded)
    finally:
        engine.close()
    assert not log.of(LoudnessMeasured), "a stored loudness is not measured again"
    # -20 LUFS stored, -14 target: played 6 dB up (amplitude 0.1 -> about 0.2).
    assert abs(out[2000:40000, 0]).max() == pytest.approx(0.1 * 10 ** (6 / 20), rel=0.02)

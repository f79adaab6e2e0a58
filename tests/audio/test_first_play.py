"""First play of a track nobody measured: sound at once, then a glide to the right gain.

The engine starts at a provisional gain from the opening seconds, measures the whole
file on a helper thread and moves the gain at no more than 1 dB/s (player/audio/glide.py).
A generated track carries its loudness from the moment it is made.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from player.audio import FileSource, LoudnessMeasured, PlaybackEngine, QueueEnded, measure_loudness
from player.audio.glide import MAX_DB_PER_SECOND
from player.audio.loudness import normalisation_gain_db
from tests.audio.conftest import SR, tone
from tests.audio.helpers import EventLog, render

WINDOW = SR // 10  # 100 ms
CEILING = 10 ** (-1 / 20)


def _window_db(signal: np.ndarray) -> np.ndarray:
    """RMS level of each whole 100 ms window of channel 0, in dB."""
    n = len(signal) // WINDOW
    blocks = signal[: n * WINDOW, 0].astype(np.float64).reshape(n, WINDOW)
    return 10 * np.log10(np.mean(blocks**2, axis=1))


def test_first_play_sounds_before_measuring_ends_and_glides_within_the_bound(write_audio):
    # A quiet opening (-26 dBFS sine) and a body 6 dB louder: the opening's estimate is
    # too loud for the body, so the measured gain is lower and the gain must glide.
    opening, body = tone(1000, 3.0, amp=0.05), tone(1000, 27.0, amp=0.1)
    path = write_audio("unmeasured.wav", np.concatenate([opening, body]))
    source = FileSource(path)
    engine = PlaybackEngine(output="manual")
    log = EventLog(engine)
    try:
        with source._measure_lock:  # measuring cannot finish while we hold this
            engine.enqueue(source)
            engine.play()
            first = render(engine, SR // 2)  # times out if playback waited for the meter
            assert np.abs(first).max() > 0.05, "the first play did not start at once"
            assert not log.of(LoudnessMeasured) and "loudness_lufs" not in source.metadata
        measured = log.wait_for(LoudnessMeasured)
        rest = render(engine, 14 * SR)
    finally:
        engine.close()
    out = np.concatenate([first, rest])
    source_db = _window_db(np.concatenate([opening, body]))[: len(out) // WINDOW]
    gain_db = _window_db(out) - source_db
    # Window 0 holds the transport's start fade; 29-30 straddle the step in the source.
    steps = np.delete(np.abs(np.diff(gain_db)), [0, 28, 29, 30])
    gain_db = np.delete(gain_db, [0, 29, 30])
    final = normalisation_gain_db(measured.integrated_lufs, measured.true_peak_dbtp, -14.0)
    bound = MAX_DB_PER_SECOND * 0.1
    assert steps.max() <= bound + 0.01, f"gain step {steps.max():.3f} dB per 100 ms"
    assert gain_db[0] - final > 2.0, "the provisional gain should have differed (a glide)"
    assert gain_db[-20:] == pytest.approx(np.full(20, final), abs=0.02), "did not settle"
    assert np.abs(out).max() <= CEILING + 1e-6


def _multitone(seconds: float, lufs: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    mono = sum(np.sin(2 * np.pi * f * t + p) for f, p in ((220, 0), (1000, 1), (3150, 2)))
    stereo = np.repeat(mono[:, None], 2, axis=1).astype(np.float32)
    measured, _ = measure_loudness(stereo, SR)
    return (stereo * 10 ** ((lufs - measured) / 20)).astype(np.float32)


@pytest.mark.parametrize("lufs", [-40.0, -5.0])
def test_wildly_off_files_end_at_the_target_without_clipping(write_audio, lufs):
    path = write_audio(f"at{lufs:+.0f}.wav", _multitone(16.0, lufs))
    engine = PlaybackEngine(output="manual")
    log = EventLog(engine)
    try:
        engine.enqueue(FileSource(path))
        engine.play()
        # A manual output renders faster than real time; a device takes 0.5 s to play
        # this, by which time a 16 s file is measured many times over.
        first = render(engine, SR // 2)
        measured = log.wait_for(LoudnessMeasured)
        out = np.concatenate([first, render(engine, 16 * SR - SR // 2)])
        log.wait_for(QueueEnded)
    finally:
        engine.close()
    assert measured.integrated_lufs == pytest.approx(lufs, abs=0.1)  # reported to be stored
    assert np.abs(out).max() <= CEILING + 1e-6, "the output clipped past the ceiling"
    settled, _ = measure_loudness(out[6 * SR :], SR)  # the 2 dB margin glides in 2 s
    assert settled == pytest.approx(-14.0, abs=0.2)
    opening, _ = measure_loudness(out[: SR // 2], SR)
    assert -18.0 < opening < -14.5, "the provisional gain should start a little quiet"


def test_generated_track_carries_its_loudness_and_plays_without_measuring(
    database, make_user
) -> None:
    from sqlalchemy import text

    from base.paths import path_from_url
    from player.generation import GenerationRequest
    from player.generation.procedural import ProceduralGenerator
    from player.generation.service import GenerationService

    user = make_user()
    service = GenerationService(database, ProceduralGenerator(), daily_limit=3)
    chunks: list[np.ndarray] = []
    told: list[object] = []
    track_id = service.generate(
        user,
        GenerationRequest(genres=["house"], duration_seconds=3.0, seed=5),
        on_chunk=lambda chunk, sr: chunks.append(chunk),
        on_track=told.append,
    )
    assert told == [track_id]
    with database.service_session() as s:
        url, lufs, peak = s.execute(
            text(
                "select url, loudness_lufs, true_peak_dbtp from public.generated_tracks "
                "where id = :t"
            ),
            {"t": track_id},
        ).one()
    assert lufs is not None and peak is not None, "the row was completed without loudness"
    rendered_lufs, rendered_peak = measure_loudness(np.concatenate(chunks), 44100)
    assert lufs == pytest.approx(rendered_lufs, abs=0.01)  # a real column is float32
    assert peak == pytest.approx(rendered_peak, abs=0.01)

    source = FileSource(path_from_url(url), {"loudness_lufs": lufs, "true_peak_dbtp": peak})
    engine = PlaybackEngine(output="manual")
    log = EventLog(engine)
    try:
        engine.enqueue(source)
        engine.play()
        out = render(engine, SR)
    finally:
        engine.close()
    assert np.abs(out).max() > 0.01
    assert source.glide is None, "a track with stored loudness got a provisional gain"
    assert not log.of(LoudnessMeasured), "a generated track was measured again"


def test_a_queued_track_measured_before_it_starts_plays_at_its_gain(write_audio):
    # The second file is opened ahead and measured while the first plays, so it starts
    # at the measured gain rather than the provisional one: no glide at a gapless join.
    first = FileSource(write_audio("a.wav", tone(440, 2.0, amp=0.1)))
    first.measure()
    second = FileSource(write_audio("b.wav", _multitone(4.0, -30.0)))
    engine = PlaybackEngine(output="manual")
    log = EventLog(engine)
    try:
        with second._measure_lock:  # held until the engine has opened it ahead, unmeasured
            engine.enqueue(first)
            engine.enqueue(second)
            engine.play()
            head = render(engine, SR // 2)
            deadline = time.monotonic() + 5
            while engine._standby is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert second.glide is not None, "the second track was not opened unmeasured"
        log.wait_for(LoudnessMeasured, lambda e: e.source is second)
        head = np.concatenate([head, render(engine, SR // 2)])
        out = np.concatenate([head, render(engine, 5 * SR)])
    finally:
        engine.close()
    start, _ = measure_loudness(out[2 * SR + SR // 10 : 3 * SR], SR)
    assert start == pytest.approx(-14.0, abs=0.2)

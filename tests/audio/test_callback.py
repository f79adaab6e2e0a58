"""The audio callback, driven directly: gapless, crossfade, seek, volume, pause, streams."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

from player.audio import (
    FileSource,
    PlaybackEngine,
    QueueEnded,
    SourceDry,
    StreamingSource,
    TrackChanged,
    TrackError,
)
from player.audio.mixing import equal_power_curves
from tests.audio.conftest import SR, tone
from tests.audio.helpers import BLOCK, DELAY, EventLog, render


@pytest.fixture
def engine():
    eng = PlaybackEngine(output="manual", target_lufs=None)
    yield eng
    eng.close()


def ramp_signal(frames: int, start: int = 0) -> np.ndarray:
    """A signal whose value encodes the frame index, to read positions off the output."""
    idx = np.arange(start, start + frames, dtype=np.float64)
    return np.repeat((idx / 200_000.0)[:, None], 2, axis=1).astype(np.float32)


@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_gapless_join_is_sample_exact(engine, write_audio, ext):
    # Phases chosen so the join is mid-waveform: any gap, overlap or fade shows.
    a = write_audio(f"a.{ext}", tone(440, 0.5, phase=1.0))
    b = write_audio(f"b.{ext}", tone(660, 0.37, phase=2.0))
    c = write_audio(f"c.{ext}", tone(330, 0.41, phase=0.3))
    expected = np.concatenate([sf.read(str(p), dtype="float32")[0] for p in (a, b, c)])
    for path in (a, b, c):
        engine.enqueue(FileSource(path))
    engine.play()
    out = render(engine, len(expected) + DELAY + 4 * BLOCK)
    got = out[DELAY : DELAY + len(expected)]
    # The first block fades in from silence (click protection); after that, exact.
    np.testing.assert_array_equal(got[BLOCK:], expected[BLOCK:])
    assert not out[DELAY + len(expected) :].any(), "silence after the queue ends"
    assert engine.underruns == 0


def test_crossfade_is_equal_power(write_audio):
    seconds, fade = 1.0, 0.25
    a = np.zeros((int(SR * seconds), 2), np.float32)
    a[:, 0] = 0.5  # track A only on the left ...
    b = np.zeros_like(a)
    b[:, 1] = 0.5  # ... track B only on the right: each channel shows one gain curve
    engine = PlaybackEngine(output="manual", target_lufs=None, crossfade_seconds=fade)
    try:
        engine.enqueue(FileSource(write_audio("a.wav", a)))
        engine.enqueue(FileSource(write_audio("b.wav", b)))
        engine.play()
        out = render(engine, 2 * len(a))
    finally:
        engine.close()
    n = int(SR * fade)
    start = DELAY + len(a) - n
    gain_out = out[start : start + n, 0] / 0.5
    gain_in = out[start : start + n, 1] / 0.5
    expected_out, expected_in = equal_power_curves(n)
    np.testing.assert_allclose(gain_out, expected_out, atol=1e-6)
    np.testing.assert_allclose(gain_in, expected_in, atol=1e-6)
    np.testing.assert_allclose(gain_out**2 + gain_in**2, 1.0, atol=1e-5)
    assert gain_out[0] > 0.999 and gain_in[-1] > 0.999
    # The overlap shortens the total by exactly the crossfade.
    tail = out[start + n :, 1]
    assert np.count_nonzero(tail) == len(b) - n


def test_seek_lands_within_one_block(engine, write_audio):
    frames = SR * 2
    engine.enqueue(FileSource(write_audio("ramp.wav", ramp_signal(frames))))
    engine.play()
    render(engine, 4 * BLOCK)
    target = int(1.3 * SR)
    engine.seek(target / SR)
    jump_block = render(engine, BLOCK)  # old audio fades out, new fades in
    after = render(engine, BLOCK)
    source_frame = after[0, 0] * 200_000.0
    assert abs(source_frame - target) <= BLOCK, (source_frame, target)
    # Two blocks have played since the seek landed.
    assert abs(engine.position - (target + 2 * BLOCK) / SR) <= BLOCK / SR
    # ... and the crossfaded block has no jump bigger than the signal's own steps.
    assert np.max(np.abs(np.diff(jump_block[:, 0]))) < 0.01
    assert engine.underruns == 0


def test_volume_change_ramps_without_discontinuity(engine, write_audio):
    engine.enqueue(FileSource(write_audio("dc.wav", np.full((SR, 2), 0.5, np.float32))))
    engine.play()
    render(engine, 4 * BLOCK)
    engine.set_volume(0.2)
    block = render(engine, BLOCK)[:, 0]
    steps = np.abs(np.diff(np.concatenate([[0.5], block])))
    assert steps.max() <= 0.4 / BLOCK * 1.01, "volume must ramp, not step"
    assert block[-1] == pytest.approx(0.1, abs=1e-6)
    np.testing.assert_allclose(render(engine, BLOCK)[:, 0], 0.1, atol=1e-6)
    with pytest.raises(ValueError):
        engine.set_volume(1.5)


def test_pause_fades_and_resumes_where_it_left_off(engine, write_audio):
    engine.enqueue(FileSource(write_audio("ramp.wav", ramp_signal(SR))))
    engine.play()
    before = render(engine, 3 * BLOCK)
    engine.pause()
    fading = render(engine, BLOCK)
    assert fading[-1, 0] == pytest.approx(0.0, abs=1e-6)
    held = engine.position
    assert not render(engine, 3 * BLOCK).any(), "paused output is silence"
    assert engine.position == held
    engine.play()
    resumed = render(engine, 2 * BLOCK)
    # No frame is lost or repeated across the pause.
    frame_after = resumed[-1, 0] * 200_000.0
    frame_before = before[-1, 0] * 200_000.0
    assert frame_after - frame_before == pytest.approx(3 * BLOCK, abs=0.05)


def test_streaming_source_plays_before_finished_and_reports_dry(engine):
    log = EventLog(engine)
    stream = StreamingSource(SR, 2, metadata={"title": "live"})
    stream.push(tone(440, 0.3))
    engine.enqueue(stream)
    engine.play()
    out = render(engine, int(0.5 * SR))
    log.wait_for(SourceDry)
    audible = np.flatnonzero(np.abs(out[:, 0]) > 0)
    assert len(audible) > 0.25 * SR
    assert engine.underruns == 0, "running dry is reported, not counted as a glitch"
    # It faded out: the last audible samples are tiny, not a cut at full level.
    assert np.max(np.abs(out[audible[-1] - 8 : audible[-1] + 1, 0])) < 0.02
    assert engine.state == "buffering"
    stream.push(tone(440, 0.5))
    stream.finish()
    deadline = time.monotonic() + 10
    while engine.seconds_buffered < 0.45 and time.monotonic() < deadline:
        time.sleep(0.01)
    more = render(engine, SR)
    assert np.count_nonzero(np.abs(more[:, 0]) > 0.05) > 0.3 * SR
    log.wait_for(QueueEnded)
    assert engine.underruns == 0


def test_streaming_source_resampled_and_mono(engine):
    stream = StreamingSource(22050, 1)
    for _ in range(10):
        stream.push(tone(1000, 0.1, sr=22050, channels=1)[:, 0])
    stream.finish()
    engine.enqueue(stream)
    engine.play()
    out = render(engine, SR + 4 * BLOCK)
    active = np.flatnonzero(np.abs(out[:, 0]) > 0.01)
    assert abs((active[-1] - active[0]) - SR) < 0.01 * SR, "1 s stays 1 s at 48 kHz"
    np.testing.assert_array_equal(out[:, 0], out[:, 1])


def test_failed_stream_is_skipped_and_queue_plays_on(engine, write_audio):
    log = EventLog(engine)
    stream = StreamingSource(SR, 2)
    stream.fail(RuntimeError("generator crashed"))
    engine.enqueue(stream)
    engine.enqueue(FileSource(write_audio("ok.wav", tone(440, 0.3))))
    engine.play()
    out = render(engine, int(0.4 * SR))
    error = log.wait_for(TrackError)
    assert "generator crashed" in error.message
    assert np.count_nonzero(np.abs(out[:, 0]) > 0.05) > 0.2 * SR
    log.wait_for(TrackChanged, lambda e: e.index == 1)


def test_push_rejects_wrong_shape():
    stream = StreamingSource(SR, 2)
    with pytest.raises(ValueError, match="does not match"):
        stream.push(np.zeros((10, 3), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        stream.push(np.full((10, 2), np.nan, np.float32))


def test_track_enqueued_after_feeder_reached_the_end_still_joins_gaplessly(engine, write_audio):
    a = write_audio("a.wav", tone(440, 0.3, phase=1.0))
    b = write_audio("b.wav", tone(660, 0.3, phase=2.0))
    engine.enqueue(FileSource(a))
    engine.play()
    first = render(engine, 2 * BLOCK)
    assert engine.wait_buffered(SR, timeout=10)  # the feeder has written the end of the queue
    engine.enqueue(FileSource(b))  # the radio tops the queue up late
    deadline = time.monotonic() + 10  # (a real device would still be playing A's tail)
    while engine.seconds_buffered < 0.35 and time.monotonic() < deadline:
        time.sleep(0.005)
    rest = render(engine, SR)
    out = np.concatenate([first, rest])
    expected = np.concatenate([sf.read(str(p), dtype="float32")[0] for p in (a, b)])
    np.testing.assert_array_equal(out[BLOCK : len(expected)], expected[BLOCK:])


def test_clear_queue_then_play_something_else(engine, write_audio):
    log = EventLog(engine)
    engine.enqueue(FileSource(write_audio("a.wav", tone(440, 2.0))))
    engine.play()
    render(engine, 4 * BLOCK)
    engine.clear_queue()
    render(engine, 2 * BLOCK)
    assert engine.queue == [] and engine.state == "stopped"
    engine.enqueue(FileSource(write_audio("b.wav", np.full((SR // 2, 2), 0.25, np.float32))))
    engine.play()
    out = render(engine, 8 * BLOCK)
    np.testing.assert_allclose(out[2 * BLOCK :, 0], 0.25)
    log.wait_for(TrackChanged, lambda e: e.metadata.get("title") == "b")

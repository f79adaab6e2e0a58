"""Seek reuses what is buffered (issue 17): a target already in the ring is a jump of the
callback's read position, with nothing decoded or written; a target elsewhere in the
track playing seeks the open reader instead of reopening the file."""

from __future__ import annotations

import numpy as np
import pytest

from player.audio import FileSource, PlaybackEngine, StreamingSource
from tests.audio.conftest import SR
from tests.audio.helpers import BLOCK, render


def ramp_signal(frames: int) -> np.ndarray:
    """Each frame's value is its index (scaled under the limiter's ceiling)."""
    idx = np.arange(frames, dtype=np.float64)
    return np.repeat((idx / 1_000_000.0)[:, None], 2, axis=1).astype(np.float32)


@pytest.fixture
def engine():
    eng = PlaybackEngine(output="manual", target_lufs=None)
    yield eng
    eng.close()


def _play(engine: PlaybackEngine, source) -> None:
    engine.enqueue(source)
    engine.play()
    render(engine, 4 * BLOCK)
    assert engine.wait_buffered(20_000)


def test_a_seek_into_the_buffered_audio_jumps_without_new_audio(engine, write_audio):
    signal = ramp_signal(SR * 4)
    _play(engine, FileSource(write_audio("ramp.wav", signal)))
    reader = engine._reader
    written = engine._ring.write_pos
    here = engine.position
    target = round((here + 0.25) * SR)
    engine.seek(target / SR)
    render(engine, BLOCK)  # the jump block: old out, new in
    # The audio after the jump was already in the ring before the seek: nothing new was
    # written behind it (a fresh start writes after ``written`` and jumps there).
    assert engine._ring.read_pos <= written
    assert engine._reader is reader
    after = render(engine, 4 * BLOCK)
    start = target + BLOCK
    np.testing.assert_array_equal(after, signal[start : start + 4 * BLOCK])
    assert engine.position == pytest.approx((target + 5 * BLOCK) / SR, abs=1e-9)


@pytest.mark.parametrize("kind", ["file", "stream"])
def test_a_seek_elsewhere_in_the_track_keeps_its_reader(engine, write_audio, kind):
    signal = ramp_signal(SR * 8)
    if kind == "file":
        source = FileSource(write_audio("ramp.wav", signal))
    else:
        source = StreamingSource(SR, 2)
        for at in range(0, len(signal), 30_000):
            source.push(signal[at : at + 30_000])
        source.finish()
    _play(engine, source)
    reader = engine._reader
    for seconds in (5.0, 1.0):  # ahead of the buffer, then behind what was played
        engine.seek(seconds)
        render(engine, BLOCK)
        assert engine._reader is reader  # seeked, not closed and reopened
        target = round(seconds * SR)
        after = render(engine, 4 * BLOCK)
        np.testing.assert_array_equal(after, signal[target + BLOCK : target + 5 * BLOCK])

"""One behaviour suite, run against the null output and PortAudio into PulseAudio."""

from __future__ import annotations

import time

import pytest

from player.audio import (
    FileSource,
    PlaybackEngine,
    PositionChanged,
    QueueEnded,
    StateChanged,
    TrackChanged,
)
from tests.audio.conftest import tone
from tests.audio.helpers import EventLog


def wait_until(predicate, timeout=10.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def make_engine(output_kind):
    engines = []

    def _make(**kwargs):
        kwargs.setdefault("output", output_kind)
        kwargs.setdefault("latency", 0.25)  # riding out a busy shared CI machine
        engine = PlaybackEngine(**kwargs)
        engines.append(engine)
        if output_kind == "sounddevice":
            assert engine.output_kind == "sounddevice", "PulseAudio sink should be usable"
        return engine

    yield _make
    for engine in engines:
        engine.close()


def test_plays_queue_to_the_end(make_engine, write_audio):
    engine = make_engine()
    log = EventLog(engine)
    paths = [write_audio(f"t{i}.wav", tone(300 + 200 * i, 0.3)) for i in range(3)]
    for path in paths:
        engine.enqueue(FileSource(path, metadata={"title": path.stem}))
    engine.play()
    log.wait_for(QueueEnded)
    changes = log.of(TrackChanged)
    assert [c.index for c in changes] == [0, 1, 2]
    assert [c.metadata["title"] for c in changes] == ["t0", "t1", "t2"]
    assert changes[0].can_go_next and not changes[2].can_go_next
    assert changes[0].duration == pytest.approx(0.3)
    wait_until(lambda: engine.state == "stopped")
    states = [e.state for e in log.of(StateChanged)]
    assert states[-2:] == ["playing", "stopped"]
    assert engine.stats()["seconds_played"] == pytest.approx(0.9, abs=0.05)
    # PulseAudio's null sink holds a brand-new stream for about two seconds before it
    # starts consuming; the null output has no such warm-up.
    # (The first measurement of a session also imports scipy, seconds on a cold,
    # busy machine; tests/bench/bench_playback.py measures the warm figure.)
    limit = 10.0
    assert engine.time_to_first_audio is not None and engine.time_to_first_audio < limit
    assert engine.underruns == 0
    # After the end, play() starts the queue again.
    engine.play()
    log.wait_for(TrackChanged, lambda e: e is not changes[0] and e.index == 0)


def test_transport_controls(make_engine, write_audio):
    engine = make_engine()
    log = EventLog(engine)
    engine.enqueue(FileSource(write_audio("long.wav", tone(440, 3.0))))
    engine.enqueue(FileSource(write_audio("next.wav", tone(550, 3.0))))
    engine.play()
    wait_until(lambda: engine.position > 0.15)
    engine.pause()
    wait_until(lambda: engine.state == "paused")
    time.sleep(0.3)  # the fade-out block may reach a busy device late
    held = engine.position
    time.sleep(0.2)
    assert engine.position == held, "position holds while paused"
    engine.seek(2.0)
    wait_until(lambda: abs(engine.position - 2.0) < 0.05)
    engine.play()
    wait_until(lambda: engine.position > 2.1)
    log.wait_for(PositionChanged, lambda e: e.position > 2.0)
    assert engine.next()
    log.wait_for(TrackChanged, lambda e: e.index == 1)
    assert not engine.next(), "no track after the last"
    engine.previous()  # under 3 s in: back to the previous track
    wait_until(lambda: engine.current_index == 0)
    engine.stop()
    wait_until(lambda: engine.state == "stopped")
    assert engine.position == 0.0
    assert engine.underruns == 0

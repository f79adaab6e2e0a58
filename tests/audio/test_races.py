"""Issue 19's audio races and swallowed errors, each closed (these fail without the fix)."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from player.audio import DeviceEvent, FileSource, PlaybackEngine
from player.audio import output as output_mod
from tests.audio.conftest import tone
from tests.audio.helpers import EventLog
from tests.audio.test_outputs import wait_until


def _sleeps_during(call) -> list[float]:
    """Run ``call()`` and return every ``time.sleep`` this thread made meanwhile."""
    slept: list[float] = []

    def profile(frame, event, arg) -> None:
        if event == "c_call" and arg is time.sleep:
            slept.append(time.monotonic())

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return slept


def test_clear_queue_waits_for_the_feeder_without_a_sleep_loop(write_audio):
    """The GUI thread calls clear_queue: it waits on the feeder's condition (woken when
    the feeder has dropped its readers), never polls with sleeps."""
    path = write_audio("a.wav", tone(440, 5.0))
    engine = PlaybackEngine(output="null")
    try:
        engine.enqueue(FileSource(path))
        engine.play()
        assert wait_until(lambda: engine.state == "playing" and engine.position > 0.1)
        slept = _sleeps_during(engine.clear_queue)
        assert slept == []
        assert engine.queue == []
        assert engine._reader is None  # the feeder had let go before the queue was cleared
        # and the engine plays what comes next
        engine.enqueue(FileSource(write_audio("b.wav", tone(660, 2.0))))
        engine.play()
        assert wait_until(lambda: engine.state == "playing" and engine.position > 0.1)
    finally:
        engine.close()


def _live_null_outputs() -> int:
    return sum(t.name == "audio-null-output" and t.is_alive() for t in threading.enumerate())


def test_switching_device_while_the_device_is_lost_leaves_one_output(pulseaudio, write_audio):
    """set_device (the Settings view) and the watchdog's lost-device fallback both swap
    the output; unlocked, one swap could start an output the other then forgot, and two
    callbacks drove the ring's single reader. Race them; exactly one output remains."""
    engine = PlaybackEngine(output="sounddevice")
    before = _live_null_outputs()
    stop = threading.Event()

    def pull_the_plug() -> None:
        while not stop.is_set():
            engine._output.lost = "unplugged (test)"
            time.sleep(0.005)

    try:
        engine.enqueue(FileSource(write_audio("a.wav", tone(440, 30.0))))
        engine.play()
        plug = threading.Thread(target=pull_the_plug, daemon=True)
        plug.start()
        for _ in range(40):
            engine.set_device("default")
            time.sleep(0.01)
        stop.set()
        plug.join()
        time.sleep(0.3)  # the watchdog handles the last "lost" it saw
        current = engine._output
        assert current.lost is None or isinstance(current, output_mod.NullOutput)
        expected_null = 1 if isinstance(current, output_mod.NullOutput) else 0
        assert _live_null_outputs() - before == expected_null
        streams_open = output_mod._STREAMS_OPEN
        assert streams_open == 1 - expected_null
    finally:
        stop.set()
        engine.close()
    assert _live_null_outputs() == before
    assert output_mod._STREAMS_OPEN == 0


def test_a_device_that_cannot_be_opened_is_reported_not_announced_as_opened(pulseaudio):
    """Settings name a device that is gone: the app plays on the default one and tells
    the person so (Playback.device_problem, an error DeviceEvent), never 'opened'."""
    pytest.importorskip("PySide6")
    from player.settings import Settings
    from ui.context import make_engine
    from ui.playback import Playback

    settings = Settings.load()
    settings.set("audio_device", "Headphones that were unplugged")
    engine = make_engine(settings)
    try:
        log = EventLog(engine)
        assert engine.output_kind == "sounddevice"  # still plays, on the default device
        problem = engine.device_problem
        assert problem and "Headphones that were unplugged" in problem and "instead" in problem
        playback = Playback(engine)  # subscribes after the event: reads the problem
        assert playback.device_problem == problem
        event = log.wait_for(DeviceEvent, lambda e: e.error)
        assert "Headphones that were unplugged" in event.message
        assert not [e for e in log.of(DeviceEvent) if "opened" in e.message]
    finally:
        engine.close()

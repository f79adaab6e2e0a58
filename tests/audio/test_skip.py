"""Skip plays a track that is already buffered: the next file is opened ahead."""

from __future__ import annotations

import time

import numpy as np

from player.audio import FileSource, PlaybackEngine, TrackChanged, TrackError
from tests.audio.conftest import SR, tone
from tests.audio.helpers import EventLog, render


def test_skip_plays_the_next_file_opened_while_the_feeder_was_idle(write_audio):
    first = write_audio("first.wav", tone(440, 5.0, amp=0.2))
    second = write_audio("second.wav", tone(880, 5.0, amp=0.2))
    sources = [FileSource(first), FileSource(second)]
    for source in sources:
        source.measure()  # stored loudness: only the skip is under test
    engine = PlaybackEngine(output="manual")
    log = EventLog(engine)
    try:
        for source in sources:
            engine.enqueue(source)
        engine.play()
        render(engine, SR // 2)
        deadline = time.monotonic() + 5
        while engine._standby is None and time.monotonic() < deadline:
            time.sleep(0.01)
        # The file is gone from disk: only a reader opened before the skip can play it.
        second.unlink()
        assert engine.next()
        out = render(engine, SR)
        log.wait_for(TrackChanged, lambda e: e.index == 1)
    finally:
        engine.close()
    assert not log.of(TrackError), "the skip had to open the file"
    spectrum = np.abs(np.fft.rfft(out[SR // 4 :, 0]))
    assert np.argmax(spectrum) * SR / (2 * (len(spectrum) - 1)) == np.float64(880.0)

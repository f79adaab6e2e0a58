"""The latency probe the benchmark relies on: it must see a blocked GUI thread."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

from ui.latency import LatencyProbe


def test_probe_records_how_long_the_event_loop_was_blocked(qtbot):
    owner = QObject()
    probe = LatencyProbe(10, owner)
    probe.start()
    qtbot.wait(50)
    QTimer.singleShot(0, lambda: time.sleep(0.15))  # a slot that hogs the GUI thread
    qtbot.wait(100)
    probe.stop()
    count = len(probe.samples)
    qtbot.wait(30)
    assert len(probe.samples) == count  # stopped means stopped
    # Lower bounds only: a busy machine can make the stall look longer, never shorter.
    assert probe.worst >= 130
    assert probe.percentile(0) <= probe.percentile(50) <= probe.worst

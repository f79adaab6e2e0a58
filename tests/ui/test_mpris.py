"""MPRIS on a private session bus: another program reads metadata and presses play/pause."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None or shutil.which("dbus-send") is None,
    reason="needs dbus-daemon and dbus-send",
)


@pytest.fixture
def session_bus(monkeypatch):
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    address = daemon.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    daemon.terminate()
    daemon.wait(5)


def dbus_send(qtbot, address: str, *args: str) -> str:
    """Run dbus-send as a separate client while the Qt event loop keeps serving."""
    proc = subprocess.Popen(
        [
            "dbus-send",
            "--session",
            "--print-reply",
            "--dest=org.mpris.MediaPlayer2.infiniteplayer",
            "/org/mpris/MediaPlayer2",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address},
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=10000)
    out = proc.stdout.read()
    assert proc.returncode == 0, out
    return out


def test_mpris_controls_and_metadata(qtbot, session_bus, session, make_tracks):
    from ui.mpris import start_mpris

    window, ctx = session.window, session.ctx
    service = start_mpris(window, window.actions_)
    assert service is not None
    make_tracks(ctx.user_id, 2, seconds=6.0)
    tracks = ctx.library.tracks(sort="match", descending=False)
    with qtbot.waitSignal(ctx.playback.track_changed, timeout=20000):
        ctx.playback.play_tracks(tracks)
    qtbot.waitUntil(lambda: ctx.playback.state == "playing")
    get = ["org.freedesktop.DBus.Properties.Get", "string:org.mpris.MediaPlayer2.Player"]
    assert '"Playing"' in dbus_send(qtbot, session_bus, *get, "string:PlaybackStatus")
    metadata = dbus_send(qtbot, session_bus, *get, "string:Metadata")
    assert tracks[0].title in metadata and "xesam:title" in metadata
    with qtbot.waitSignal(ctx.playback.state_changed, timeout=10000) as paused:
        dbus_send(qtbot, session_bus, "org.mpris.MediaPlayer2.Player.PlayPause")
    assert paused.args == ["paused"]
    with qtbot.waitSignal(ctx.playback.track_changed, timeout=10000) as nxt:
        dbus_send(qtbot, session_bus, "org.mpris.MediaPlayer2.Player.Next")
    assert nxt.args[0]["title"] == tracks[1].title
    identity = dbus_send(
        qtbot,
        session_bus,
        "org.freedesktop.DBus.Properties.Get",
        "string:org.mpris.MediaPlayer2",
        "string:Identity",
    )
    assert "Infinite Player" in identity


def test_no_session_bus_means_no_mpris(qtbot, session, monkeypatch):
    from ui.mpris import start_mpris

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert start_mpris(session.window, session.window.actions_) is None

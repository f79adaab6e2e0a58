"""Fixtures for the playback tests: synthesised audio files and a PulseAudio null sink.

No audio files are committed; every test writes what it needs with soundfile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SR = 48000


def tone(
    freq: float, seconds: float, amp: float = 0.3, sr: int = SR, channels: int = 2, phase=0.0
) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    mono = (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1)


@pytest.fixture
def write_audio(tmp_path: Path) -> Callable[..., Path]:
    """``write_audio(name, data, sr=48000, format=None, subtype=None) -> path``."""

    def _write(
        name: str,
        data: np.ndarray,
        sr: int = SR,
        format: str | None = None,
        subtype: str | None = None,
    ) -> Path:
        path = tmp_path / name
        if subtype is None and path.suffix == ".wav":
            subtype = "FLOAT"  # exact samples, so joins can be compared bit for bit
        sf.write(str(path), data, sr, format=format, subtype=subtype)
        return path

    return _write


def _start_pulseaudio() -> tuple[subprocess.Popen[bytes], str, str]:
    exe = shutil.which("pulseaudio")
    if exe is None:
        raise RuntimeError("the pulseaudio binary is not installed (Debian package 'pulseaudio')")
    runtime = tempfile.mkdtemp(prefix="ip-pulse-")
    socket = os.path.join(runtime, "native")
    # A private HOME/XDG tree makes the daemon independent of the user (root in CI
    # containers included) and of any session bus; anonymous auth skips the cookie.
    env = dict(
        os.environ,
        HOME=runtime,
        XDG_RUNTIME_DIR=runtime,
        XDG_CONFIG_HOME=os.path.join(runtime, "config"),
        PULSE_RUNTIME_PATH=os.path.join(runtime, "pulse"),
    )
    env.pop("PULSE_SERVER", None)
    with open(os.path.join(runtime, "pulse.log"), "wb") as log:  # the child keeps its copy
        proc = subprocess.Popen(
            [
                exe,
                "--daemonize=no",
                "--exit-idle-time=-1",
                "-n",
                "--use-pid-file=no",
                "--disable-shm=yes",
                # Ask for a higher priority (granted to root, ignored otherwise): on a busy
                # CI machine a starved daemon shows up as client underruns.
                "--realtime=no",
                "--high-priority=yes",
                "--load=module-null-sink sink_name=ip_test_sink rate=48000 channels=2",
                f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
                "--log-target=stderr",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not os.path.exists(socket):
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    # The socket exists before the daemon serves streams: a stream opened in that window
    # sometimes never started (PortAudio's ALSA-pulse plugin failed its poll and the
    # stream stalled: two CI runs lost one test each that way). Wait until a client sees
    # the sink.
    serving = False
    while os.path.exists(socket) and time.monotonic() < deadline and proc.poll() is None:
        serving = _serves(socket)
        if serving:
            break
        time.sleep(0.05)
    if not serving:
        proc.kill()
        proc.wait()
        tail = Path(runtime, "pulse.log").read_text(errors="replace")[-800:]
        raise RuntimeError(f"PulseAudio did not start: {tail}")
    return proc, socket, runtime


def _serves(socket: str) -> bool:
    """Whether the daemon at ``socket`` answers a client and lists the test sink."""
    pactl = shutil.which("pactl")
    if pactl is None:  # pulseaudio-utils missing: the socket is all there is to go on
        return True
    try:
        out = subprocess.run(
            [pactl, f"--server=unix:{socket}", "list", "short", "sinks"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0 and "ip_test_sink" in out.stdout


def _refresh_portaudio() -> None:
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


@pytest.fixture(scope="session")
def pulseaudio() -> Iterator[str]:
    """A PulseAudio daemon with a null sink; PortAudio sees it as 'pulse'/'default'."""
    try:
        import sounddevice  # noqa: F401 - PortAudio must load

        proc, socket, runtime = _start_pulseaudio()
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"PulseAudio null sink unavailable: {exc}")
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = f"unix:{socket}"
    _refresh_portaudio()
    try:
        yield f"unix:{socket}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous
        _refresh_portaudio()
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(params=["null", "sounddevice"])
def output_kind(request: pytest.FixtureRequest) -> str:
    """Runs a test once per real output: the null clock and PortAudio into PulseAudio."""
    if request.param == "sounddevice":
        request.getfixturevalue("pulseaudio")
    return str(request.param)

"""The engine in a child process: same music, cancellable, errors and crashes explained."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from base.errors import UserFacingError
from player.generation.isolated import (
    CHILD_NICENESS,
    EngineClosed,
    EngineCrashed,
    IsolatedGenerator,
)
from player.generation.procedural import ProceduralGenerator
from player.generation.protocol import GenerationRequest
from player.generation.service import GenerationCancelled, GenerationService

ROOT = Path(__file__).resolve().parents[2]
REQUEST = GenerationRequest(genres=["house"], seed=11, duration_seconds=4.0)


def _run_host(tmp_path: Path, script: str) -> dict[str, Any]:
    """Run ``script`` as a fresh app-like process; its last stdout line is a JSON report."""
    path = tmp_path / "host.py"
    path.write_text(script)
    env = {**os.environ, "INFINITE_PLAYER_HOME": str(tmp_path / "home")}
    env.pop("INFINITE_PLAYER_MUSICGEN", None)
    proc = subprocess.run(
        [sys.executable, str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def isolated() -> Iterator[IsolatedGenerator]:
    generator = IsolatedGenerator("procedural")
    yield generator
    generator.close()


def test_the_child_renders_the_same_track_as_the_engine_in_process(
    isolated: IsolatedGenerator,
) -> None:
    request = GenerationRequest(genres=["house"], seed=11, duration_seconds=40.0)
    result = isolated.generate(request)
    local = ProceduralGenerator().generate(request)
    assert isolated.name == "procedural"
    assert isolated.pid is not None and isolated.pid != os.getpid()
    assert result.metadata() == local.metadata()
    chunks, local_chunks = list(result), list(local)
    # streamed as rendered, chunk for chunk, not as one blob at the end
    assert len(local_chunks) > 1
    assert [len(c) for c in chunks] == [len(c) for c in local_chunks]
    np.testing.assert_array_equal(np.concatenate(chunks), np.concatenate(local_chunks))


def test_dropping_a_stream_cancels_it_and_the_child_serves_the_next(
    isolated: IsolatedGenerator,
) -> None:
    long = isolated.generate(GenerationRequest(genres=["techno"], seed=5, duration_seconds=600))
    stream = iter(long)
    next(stream)
    stream.close()  # what the service does when cancelled between chunks
    again = isolated.generate(REQUEST).render()
    np.testing.assert_array_equal(again, ProceduralGenerator().generate(REQUEST).render())


def test_an_unread_result_does_not_block_the_next_request(isolated: IsolatedGenerator) -> None:
    isolated.generate(GenerationRequest(genres=["pop"], seed=2, duration_seconds=120))
    assert isolated.generate(REQUEST).render().shape[0] > 0


def _in_another_thread(generator: IsolatedGenerator) -> np.ndarray | None:
    """REQUEST rendered on a fresh thread (None if it waited on the child for a minute)."""
    out: list[np.ndarray] = []
    thread = threading.Thread(
        target=lambda: out.append(generator.generate(REQUEST).render()), daemon=True
    )
    thread.start()
    thread.join(60)
    return out[0] if out else None


def test_closing_an_unread_result_frees_the_child_for_other_threads(
    isolated: IsolatedGenerator,
) -> None:
    result = isolated.generate(GenerationRequest(genres=["pop"], seed=4, duration_seconds=300))
    result.close()
    audio = _in_another_thread(isolated)
    assert audio is not None and audio.shape[0] > 0


def test_two_threads_take_turns(isolated: IsolatedGenerator) -> None:
    results: dict[int, np.ndarray] = {}

    def work(seed: int) -> None:
        request = GenerationRequest(genres=["lo-fi"], seed=seed, duration_seconds=3.0)
        results[seed] = isolated.generate(request).render()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for seed in (1, 2):
        request = GenerationRequest(genres=["lo-fi"], seed=seed, duration_seconds=3.0)
        np.testing.assert_array_equal(
            results[seed], ProceduralGenerator().generate(request).render()
        )


def test_the_child_describes_an_opening_exactly_as_this_process_does(
    isolated: IsolatedGenerator,
) -> None:
    """The app's auditions are described in the engine's process, the headless radio's
    here: the sound model must see the same numbers either way."""
    from player.taste.sound import Auditioner

    request = GenerationRequest(genres=["jazz"], seed=7, scale="minor", duration_seconds=30.0)
    remote, local = Auditioner(seconds=4.0, generator=isolated), Auditioner(seconds=4.0)
    there, here = remote.preview(request), local.preview(request)
    assert there is not None and here is not None
    assert there.sound.shape == (8,) and np.all(np.isfinite(there.sound))
    np.testing.assert_array_equal(there.sound, here.sound)
    assert remote.renders == 1


def test_a_cancelled_description_stops_in_the_child_and_it_serves_the_next(
    isolated: IsolatedGenerator,
) -> None:
    from player.taste.sound import Auditioner

    long = GenerationRequest(genres=["techno"], seed=5, duration_seconds=600)
    asked = time.monotonic()
    # Cancelled once the child has had time to start rendering a 10-minute opening.
    sound = isolated.describe_opening(long, 600.0, lambda: time.monotonic() - asked > 0.3)
    assert sound is None
    assert time.monotonic() - asked < 10  # it did not render ten minutes first
    auditioner = Auditioner(seconds=3.0, generator=isolated)
    again = auditioner.preview(REQUEST)
    assert again is not None and auditioner.renders == 1
    np.testing.assert_array_equal(again.sound, Auditioner(seconds=3.0).preview(REQUEST).sound)


def test_an_opening_rendered_ahead_answers_the_same_request_with_the_same_track(
    isolated: IsolatedGenerator,
) -> None:
    """Issue 17: the app lets the child render the first radio track's opening before
    the click; the click's request is then answered from it (metadata and first chunk
    ready) with exactly the audio of a fresh render, and any other request drops it."""
    ahead = GenerationRequest(genres=["synthwave"], seed=21, duration_seconds=12.0)
    local = ProceduralGenerator().generate(ahead)
    before = isolated.prerendered
    assert isolated.prerender(ahead)
    result = isolated.generate(
        GenerationRequest(genres=["synthwave"], seed=21, duration_seconds=12.0)
    )
    assert isolated.prerendered == before + 1
    assert result.metadata() == local.metadata()
    chunks, local_chunks = list(result), list(local)
    assert [len(c) for c in chunks] == [len(c) for c in local_chunks]
    np.testing.assert_array_equal(np.concatenate(chunks), np.concatenate(local_chunks))

    # Rendered ahead, then another request: that one is made as asked, and the opening
    # rendered ahead is gone (asking for it later renders it afresh, the same again).
    assert isolated.prerender(ahead)
    other = isolated.generate(REQUEST).render()
    np.testing.assert_array_equal(other, ProceduralGenerator().generate(REQUEST).render())
    again = isolated.generate(ahead).render()
    assert isolated.prerendered == before + 1
    np.testing.assert_array_equal(again, np.concatenate(local_chunks))


def test_nothing_is_rendered_ahead_while_the_child_is_busy(isolated: IsolatedGenerator) -> None:
    busy = isolated.generate(GenerationRequest(genres=["techno"], seed=8, duration_seconds=300))
    try:
        assert not isolated.prerender(REQUEST)  # it would be read as part of that request
    finally:
        busy.close()
    assert isolated.generate(REQUEST).render().shape[0] > 0


def test_an_engine_that_cannot_start_says_why(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("INFINITE_PLAYER_MUSICGEN", str(tmp_path))  # no checkpoint there
    generator = IsolatedGenerator("musicgen")
    try:
        with pytest.raises(UserFacingError, match="No MusicGen checkpoint"):
            generator.generate(REQUEST)
    finally:
        generator.close()


def test_a_crash_mid_track_is_explained_and_the_next_track_restarts_the_child() -> None:
    generator = IsolatedGenerator("procedural")
    try:
        result = generator.generate(
            GenerationRequest(genres=["house"], seed=3, duration_seconds=600)
        )
        stream = iter(result)
        next(stream)
        first_pid = generator.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        with pytest.raises(EngineCrashed, match="stopped unexpectedly"):
            for _chunk in stream:
                pass
        assert generator.generate(REQUEST).render().shape[0] > 0
        assert generator.pid not in (None, first_pid)
    finally:
        generator.close()
    assert generator.pid is None


def test_service_cancel_reaches_the_child(database: Any, make_user: Any) -> None:
    generator = IsolatedGenerator("procedural")
    service = GenerationService(database, generator, daily_limit=3)
    try:
        stop = threading.Event()
        with pytest.raises(GenerationCancelled):
            service.generate(
                make_user(),
                GenerationRequest(genres=["pop"], duration_seconds=300, seed=3),
                on_chunk=lambda chunk, sr: stop.set(),
                cancel=stop,
            )
        audio = _in_another_thread(generator)  # the cancelled stream no longer holds it
        assert audio is not None and audio.shape[0] > 0
    finally:
        service.close()
    assert generator.pid is None


def test_generating_through_the_child_keeps_the_dsp_out_of_this_process(
    tmp_path: Path,
) -> None:
    """What the app relies on: no synthesis module (nor scipy.signal) in the GUI process."""
    script = (
        "import json, sys\n"
        "from player.generation.isolated import IsolatedGenerator\n"
        "from player.generation.protocol import GenerationRequest\n"
        "import player.generation.genres\n"
        "if __name__ == '__main__':\n"
        "    g = IsolatedGenerator('auto')\n"
        "    audio = g.generate(GenerationRequest(genres=['house'], duration_seconds=2)).render()\n"
        "    g.close()\n"
        "    loaded = [m for m in ('scipy.signal', 'player.generation.procedural', 'torch')\n"
        "              if m in sys.modules]\n"
        "    print(json.dumps({'frames': len(audio), 'loaded': loaded}))\n"
    )
    report = _run_host(tmp_path, script)
    assert report["frames"] > 0
    assert report["loaded"] == []


def test_the_engine_process_renders_without_importing_scipy_signal(tmp_path: Path) -> None:
    """Issue 17, cold radio start: ``import scipy.signal`` was 1.3 s or more of the engine
    process's start-up. The child's own loop (``_serve``: build the engine, warm up,
    answer a request) runs here on a pipe, in a fresh process, and must not load it."""
    script = (
        "import json, sys, threading\n"
        "from multiprocessing import Pipe\n"
        "from player.generation.isolated import _serve\n"
        "from player.generation.protocol import GenerationRequest\n"
        "if __name__ == '__main__':\n"
        "    host, child = Pipe()\n"
        "    t = threading.Thread(target=_serve, args=(child, 'procedural'))\n"
        "    t.start()\n"
        "    assert host.recv() == ('ready', 'procedural')\n"
        "    host.send(('generate', GenerationRequest(genres=['rock'], seed=3,\n"
        "                                             duration_seconds=8.0)))\n"
        "    frames = 0\n"
        "    while True:\n"
        "        kind, payload = host.recv()\n"
        "        if kind == 'chunk':\n"
        "            frames += len(payload)\n"
        "        elif kind != 'meta':\n"
        "            break\n"
        "    host.send(('stop', None))\n"
        "    t.join()\n"
        "    loaded = [m for m in ('scipy.signal', 'torch') if m in sys.modules]\n"
        "    print(json.dumps({'end': kind, 'frames': frames, 'loaded': loaded,\n"
        "                      'engine': 'player.generation.procedural' in sys.modules}))\n"
    )
    report = _run_host(tmp_path, script)
    assert report["end"] == "end" and report["frames"] >= 8 * 44100
    assert report["engine"]  # the synthesis really ran in this process
    assert report["loaded"] == []


def test_taste_prototypes_render_in_the_child_and_match_the_in_process_ones(
    tmp_path: Path,
) -> None:
    """A new listener's first taste vector renders genre prototypes: in the app that
    render goes to the engine's process and must give the same vector."""
    from player.embedding.descriptor import DescriptorEmbedder
    from player.taste import cold_start_vector

    profile = {"genres": ["jazz", "trap"], "vibe": "dark", "bass_level": "high"}
    script = (
        "import json, sys\n"
        "from player.embedding.descriptor import DescriptorEmbedder\n"
        "from player.generation.isolated import IsolatedGenerator\n"
        "from player.taste import cold_start_vector\n"
        "if __name__ == '__main__':\n"
        "    g = IsolatedGenerator('procedural')\n"
        f"    v = cold_start_vector({profile!r}, DescriptorEmbedder(), g)\n"
        "    g.close()\n"
        "    print(json.dumps({'vector': v.tolist(),\n"
        "                      'dsp': 'player.generation.procedural' in sys.modules}))\n"
    )
    report = _run_host(tmp_path, script)
    assert report["dsp"] is False
    local = cold_start_vector(profile, DescriptorEmbedder())
    assert local is not None
    np.testing.assert_allclose(np.asarray(report["vector"]), local, rtol=1e-6, atol=1e-7)


def test_the_child_exits_quietly_when_the_player_dies_while_it_starts(tmp_path: Path) -> None:
    """A player that crashes (no clean-up at all) must not leave an engine process behind
    or a traceback in the terminal: the child notices the closed pipe and leaves."""
    host = tmp_path / "crashing_host.py"
    host.write_text(
        "import os\n"
        "from player.generation.isolated import IsolatedGenerator\n"
        "if __name__ == '__main__':\n"
        "    g = IsolatedGenerator('procedural')\n"
        "    g.start()\n"
        "    print(g.pid, flush=True)\n"
        "    os._exit(0)\n"
    )
    env = {**os.environ, "INFINITE_PLAYER_HOME": str(tmp_path / "home")}
    # The child inherits the host's stdout/stderr pipes, so this returns only once the
    # child has exited too.
    proc = subprocess.run(
        [sys.executable, str(host)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    child_pid = int(proc.stdout.split()[0])
    cmdline = Path(f"/proc/{child_pid}/cmdline")
    assert not (cmdline.exists() and cmdline.read_bytes())  # gone (a zombie has no cmdline)
    assert "Traceback" not in proc.stderr, proc.stderr


def _read_all(result: Any, chunks: list[np.ndarray], errors: list[BaseException]) -> None:
    try:
        for chunk in result:
            chunks.append(chunk)  # read as it comes: the reader waits on the child
    except BaseException as exc:
        errors.append(exc)


def test_closing_while_another_thread_reads_a_track_returns_and_ends_the_reader() -> None:
    """Issue 19: close() read the pipe while the track's reader thread read it too, and
    waited for the child's answer under the lock (a render, or forever when the reader
    had taken the answer). Now one thread reads the pipe: close returns, the reader ends."""
    generator = IsolatedGenerator("procedural", warm=False)
    result = generator.generate(GenerationRequest(genres=["techno"], seed=9, duration_seconds=600))
    chunks: list[np.ndarray] = []
    errors: list[BaseException] = []
    reader = threading.Thread(target=_read_all, args=(result, chunks, errors), daemon=True)
    reader.start()
    while not chunks:
        time.sleep(0.01)
    pid = generator.pid
    closer = threading.Thread(target=generator.close, daemon=True)
    closer.start()
    closer.join(10)
    reader.join(10)
    assert not closer.is_alive(), "close() hung while a track was being read"
    assert not reader.is_alive(), "the track's reader never ended"
    assert len(errors) == 1 and isinstance(errors[0], EngineClosed), errors
    assert generator.pid is None
    cmdline = Path(f"/proc/{pid}/cmdline")
    assert not (cmdline.exists() and cmdline.read_bytes())  # the child is gone
    # and the generator still works afterwards (a fresh child)
    assert generator.generate(REQUEST).render().shape[0] > 0
    generator.close()


def test_closing_while_the_child_starts_and_warms_up_releases_a_waiting_request() -> None:
    """Quitting right after the app opened: the child is importing its engine and
    rendering its warm-up track; a radio thread waits for it. Nothing may hang."""
    generator = IsolatedGenerator("procedural")
    generator.start()
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            generator.generate(REQUEST)
        except BaseException as exc:
            errors.append(exc)

    waiter = threading.Thread(target=ask, daemon=True)
    waiter.start()
    time.sleep(0.2)
    generator.close()
    waiter.join(10)
    assert not waiter.is_alive(), "a request waiting for the child hung after close()"
    assert len(errors) == 1 and isinstance(errors[0], EngineClosed), errors


def test_the_child_is_ready_and_warm_before_the_first_request() -> None:
    generator = IsolatedGenerator("procedural")
    try:
        generator.start()
        assert generator.ready(timeout=120)
        assert generator.name == "procedural"
        pid = generator.pid
        assert pid is not None
        # warmed up at the player's priority, rendering below it from now on
        child_nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
        assert child_nice == min(19, os.nice(0) + CHILD_NICENESS)
        # the first request after ready is served by the same, already warm, process
        assert generator.generate(REQUEST).render().shape[0] > 0
        assert generator.pid == pid
    finally:
        generator.close()

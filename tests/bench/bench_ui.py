"""Desktop app benchmark: cold start, idle memory, event-loop latency during radio.

Run: ``.venv/bin/python tests/bench/bench_ui.py`` (offscreen Qt, embedded database and a
null audio output in a temporary profile). Each figure comes from a fresh process:

* cold start — process start to the first window painted (for a returning listener the
  main window's frame, shown before the database is open), and to the views filled in
  (the embedded PostgreSQL started and the profile loaded in between); the first launch
  also creates the database cluster, so it is reported apart from a regular start;
* resident memory (VmRSS) with the window idle;
* event-loop latency (how late a 10 ms timer fires) while the window settles after its
  first paint, then while the radio generates (in the engine's own process) and plays;
* whether torch or transformers were imported by start-up (they must not be).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(mode: str, started: float) -> None:
    """One app process: report timings as one JSON line on stdout."""
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QEvent, QObject, QTimer

    from player.settings import Settings
    from ui.app import Launcher, make_application
    from ui.latency import LatencyProbe
    from ui.tasks import TaskRunner

    app = make_application()
    out: dict[str, object] = {}
    settings = Settings.load()
    if mode == "radio":
        settings.set("track_seconds", 30)
    tasks = TaskRunner(app)
    launcher = Launcher(app, settings, tasks)

    class FirstPaint(QObject):
        """Notes when the first widget of a visible window receives its paint event."""

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "first_window_s" not in out:
                out["first_window_s"] = time.time() - started
            return False

    first_paint = FirstPaint()
    app.installEventFilter(first_paint)
    launcher.start()

    def ready(session) -> None:
        window = session.window

        def painted() -> None:
            out["window_s"] = time.time() - started
            out["torch_imported"] = "torch" in sys.modules
            out["transformers_imported"] = "transformers" in sys.modules
            if mode == "radio":
                # The probe runs from the first paint: two seconds of the window settling
                # (its first queries, the engine's process starting), then a listener
                # presses "Start my radio" and it keeps running for 20 s of radio.
                probe = LatencyProbe(10, window)
                probe.start()
                marks: dict[str, float] = {}

                def click() -> None:
                    marks["split"] = len(probe.samples)
                    marks["clicked"] = time.perf_counter()
                    window.radio_view.start_taste.click()
                    poll.start()

                def check_playing() -> None:
                    if session.ctx.playback.state == "playing":
                        out["first_track_s"] = round(time.perf_counter() - marks["clicked"], 2)
                        poll.stop()

                poll = QTimer(window)
                poll.setInterval(20)
                poll.timeout.connect(check_playing)

                def done() -> None:
                    probe.stop()
                    split = int(marks["split"])
                    for name, part in (
                        ("settle", probe.samples[:split]),
                        ("radio", probe.samples[split:]),
                    ):
                        ordered = sorted(part)
                        out[f"{name}_samples"] = len(ordered)
                        out[f"{name}_p50_ms"] = round(ordered[len(ordered) // 2], 2)
                        out[f"{name}_p99_ms"] = round(ordered[int(0.99 * len(ordered))], 2)
                        out[f"{name}_max_ms"] = round(ordered[-1], 2)
                    out["radio_ready"] = sum(i.status != "queued" for i in window.radio.items())
                    out["playing"] = session.ctx.playback.state
                    out["dsp_in_app"] = [
                        m
                        for m in ("scipy.signal", "player.generation.procedural")
                        if m in sys.modules
                    ]
                    app.quit()

                QTimer.singleShot(2000, click)
                QTimer.singleShot(22000, done)
            else:

                def idle() -> None:
                    out["rss_idle_mb"] = round(_rss_mb(), 1)
                    engine_pid = getattr(session.ctx.generation.generator, "pid", None)
                    if engine_pid is not None:
                        out["engine_rss_mb"] = round(_rss_mb(engine_pid), 1)
                    app.quit()

                QTimer.singleShot(3000, idle)

        QTimer.singleShot(0, painted)

    launcher.on_ready = ready
    app.exec()
    launcher.shutdown()
    print(json.dumps(out))


def _run(home: Path, mode: str) -> dict[str, object]:
    env = {**os.environ, "INFINITE_PLAYER_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DATABASE_URL", None)
    started = time.time()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, repr(started)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"the {mode} run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    if proc.returncode != 0:
        print(f"(the {mode} run exited with {proc.returncode} after reporting)")
    return json.loads(lines[-1])


def _onboard(home: Path) -> None:
    """Create the profile once (so later launches go straight to the window)."""
    env = {**os.environ, "INFINITE_PLAYER_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    script = (
        "from db.database import Database\n"
        "from player.library import OnboardingAnswers, complete_onboarding\n"
        "from player.settings import Settings\n"
        "db = Database.open_default()\n"
        "complete_onboarding(db, OnboardingAnswers(email='bench@example.com',"
        " genres=['house', 'lo-fi'], vibe='chill'))\n"
        "s = Settings.load(); s.set('user_email', 'bench@example.com'); s.save()\n"
        "db.close()\n"
    )
    started = time.time()
    subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True, timeout=300)
    print(f"first launch (creates the database cluster): {time.time() - started:.2f} s")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        home = Path(tmp)
        _onboard(home)
        starts = [_run(home, "idle") for _ in range(3)]
        first = sorted(round(float(s["first_window_s"]), 2) for s in starts)  # type: ignore[arg-type]
        window = sorted(round(float(s["window_s"]), 2) for s in starts)  # type: ignore[arg-type]
        print(f"cold start to main window painted:   median {first[1]:.2f} s  (of 3: {first})")
        print(f"cold start to views filled in:       median {window[1]:.2f} s  (of 3: {window})")
        print(
            f"resident memory at idle:            {starts[-1]['rss_idle_mb']} MB "
            f"(+ {starts[-1].get('engine_rss_mb', 'n/a')} MB in the engine's process)"
        )
        print(
            "torch imported at start-up:         "
            f"{any(s['torch_imported'] for s in starts)}; transformers: "
            f"{any(s['transformers_imported'] for s in starts)}"
        )
        for run in range(2):
            radio = _run(home, "radio")
            for name, what in (("settle", "window settling, 2 s"), ("radio", "radio, 20 s")):
                print(
                    f"event-loop latency, {what} (run {run + 1}): "
                    f"p50 {radio[f'{name}_p50_ms']} ms, p99 {radio[f'{name}_p99_ms']} ms, "
                    f"max {radio[f'{name}_max_ms']} ms over {radio[f'{name}_samples']} ticks"
                )
            print(
                f"  first radio track playing {radio.get('first_track_s')} s after the click; "
                f"state {radio['playing']}, {radio['radio_ready']} tracks made or in progress; "
                f"synthesis modules loaded in the app process: {radio['dsp_in_app'] or 'none'}"
            )


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]))
    else:
        main()

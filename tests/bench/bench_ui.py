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
* "Start my radio" to first audio (the engine's callback handing the device its first
  non-silent frame), warm (the engine's process has started and warmed up, 2 s after
  the window) and cold (the click comes the moment the window is filled in: the app
  just opened), for a returning listener (a stored model that has heard two verdicts on
  sounds, so plans carry candidates to audition), today's path against, alternating in
  the same run, the last stop ("last": the station's first track auditioned like any
  other, and neither planned nor rendered before the click); ``--fresh``: a listener
  whose model has heard nothing (no auditions either way), today's path against the
  same without the first track planned and its opening rendered before the click
  ("noahead"); with ``--booked`` also the first chunk held until the quota booking
  said yes although the quota was known to say it ("booked", the last stop's service);
  with ``--history`` also the path before issue 17
  ("before": the engine's process started once the window shows, no warm-up render, a
  first chunk of two bars) and, cold, the engine's process importing ``scipy.signal``
  ("scipy"); every path streams the first track from its first chunk, and each run's
  steps after the click are printed as it ends;
* the engine's process from spawn to ready (imported, warmed up), today's against one
  that imports ``scipy.signal`` first, alternating, 3 of each;
* skip to the next radio track's audio (``engine.last_jump_latency``), 15 s in;
* whether torch or transformers were imported by start-up (they must not be);
* the GUI stall while the radio's planner auditions (issue 13, ``--stall``): the
  latency probe over a radio session whose listener skips, likes and skips again in the
  first 12 s (after two verdicts each plan auditions 4 candidate openings of 8 s), with
  auditions off, rendered in the engine's process but described in the app's (issue
  17's last stop) and rendered and described in the engine's process (today's), with
  the app process's CPU time over the same stretch; ``--stall-runs N`` rounds of the
  three, alternating, in the same invocation.

``--radio-runs N`` (default 2) runs of each radio variant; ``--quick`` skips the
start-up and memory runs; ``--stall`` adds the audition comparison (``--stall-only``:
only that).

Every figure is printed with the load average it was measured under.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

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
    if mode.startswith(("radio", "stall")):
        settings.set("track_seconds", 30)
        # Every run makes three or four tracks on the same profile: with the free daily
        # limit (20), runs after the fifth or so hit the quota and never play.
        settings.set("daily_limit", 10_000)
    tasks = TaskRunner(app)
    launcher = Launcher(app, settings, tasks)
    if "before" in mode:
        _path_before(launcher)
    if "last" in mode:
        _last_stop()
    if "noahead" in mode:
        _no_render_ahead()
    if "booked" in mode:
        _first_chunk_after_booking()
    if mode.startswith("radio"):
        _listener(returning="fresh" not in mode)
    elif mode.startswith("stall"):
        _listener(returning=False)  # its session gives the verdicts itself
    if "_scipy" in mode:
        import player.generation.isolated as isolated

        isolated._serve = _serve_importing_scipy  # type: ignore[assignment]
    if mode.startswith("stall"):
        _auditions(mode.split("_", 1)[1])
    marks: dict[str, float] = {}
    if mode.startswith("radio"):
        _trace_radio_start(marks)

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
            if mode.startswith("radio"):
                # The probe runs from the first paint: two seconds of the window settling
                # (its first queries, the engine's process starting), then a listener
                # presses "Start my radio" and it keeps running for 20 s of radio.
                probe = LatencyProbe(10, window)
                probe.start()

                engine = session.ctx.playback.engine
                # "Warm": the engine's process (started by the app) has imported its
                # engine and warmed up; asking its name waits for exactly that.
                engine_ready = threading.Event()
                generator = session.ctx.generation.generator
                threading.Thread(
                    target=lambda: (generator.name, engine_ready.set()), daemon=True
                ).start()

                def click() -> None:
                    # Warm: once the engine's process is ready; cold: at once.
                    if "cold" not in mode and not engine_ready.is_set():
                        QTimer.singleShot(50, click)
                        return
                    out["engine_ready_at_click"] = engine_ready.is_set()
                    QTimer.singleShot(15000, skip)
                    QTimer.singleShot(16000, skipped)
                    QTimer.singleShot(20000, done)
                    marks["split"] = len(probe.samples)
                    engine.time_to_first_audio = None
                    marks["clicked"] = time.perf_counter()
                    window.radio_view.start_taste.click()
                    poll.start()

                def check_playing() -> None:
                    if session.ctx.playback.state == "playing" and "first_track_s" not in out:
                        out["first_track_s"] = round(time.perf_counter() - marks["clicked"], 2)
                    if engine.time_to_first_audio is not None:
                        out["first_audio_ms"] = round(
                            1000 * (time.perf_counter() - marks["clicked"]), 1
                        )
                        out["steps_ms"] = {
                            k: round(1000 * (v - marks["clicked"]), 1)
                            for k, v in sorted(marks.items(), key=lambda kv: kv[1])
                            if k not in ("clicked", "split") and v >= marks["clicked"]
                        }
                        poll.stop()

                poll = QTimer(window)
                poll.setInterval(5)
                poll.timeout.connect(check_playing)

                def skip() -> None:
                    engine.last_jump_latency = None
                    marks["skipped"] = time.perf_counter()
                    window.radio.skip()

                def skipped() -> None:
                    latency = engine.last_jump_latency
                    out["skip_ms"] = None if latency is None else round(1000 * latency, 1)

                def done() -> None:
                    probe.stop()
                    split = int(marks["split"])
                    for name, part in (
                        ("settle", probe.samples[:split]),
                        ("radio", probe.samples[split:]),
                    ):
                        ordered = sorted(part) or [float("nan")]
                        out[f"{name}_samples"] = len(ordered)
                        out[f"{name}_p50_ms"] = round(ordered[len(ordered) // 2], 2)
                        out[f"{name}_p99_ms"] = round(ordered[int(0.99 * len(ordered))], 2)
                        out[f"{name}_max_ms"] = round(ordered[-1], 2)
                    out["radio_ready"] = sum(i.status != "queued" for i in window.radio.items())
                    out["playing"] = session.ctx.playback.state
                    out["underruns"] = engine.underruns
                    out["dsp_in_app"] = [
                        m
                        for m in ("scipy.signal", "player.generation.procedural")
                        if m in sys.modules
                    ]
                    app.quit()

                QTimer.singleShot(0 if "cold" in mode else 2000, click)
            elif mode.startswith("stall"):
                _stall_session(app, session, out)
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
    # Reported before shutting down: an app that crashes on its way out (a segfault in
    # about one run in fifteen on this box, in every variant) keeps its figures.
    print(json.dumps(out), flush=True)
    launcher.shutdown()


def _serve_importing_scipy(conn: Any, engine: str, warm: bool = True) -> None:
    """The engine's process as at the last stop: its filters imported ``scipy.signal``."""
    import scipy.signal  # noqa: F401

    from player.generation.isolated import _serve

    _serve(conn, engine, warm)


def _engine_startup_report() -> None:
    """Spawn to ready of the engine's process, today's vs importing ``scipy.signal``."""
    import player.generation.isolated as isolated

    today = isolated._serve
    times: dict[str, list[float]] = {"now": [], "with scipy.signal": []}
    for _ in range(3):
        for label, target in (("now", today), ("with scipy.signal", _serve_importing_scipy)):
            isolated._serve = target  # type: ignore[assignment]
            generator = isolated.IsolatedGenerator("procedural")
            started = time.perf_counter()
            generator.start()
            generator.ready(120)
            times[label].append(round(1000 * (time.perf_counter() - started)))
            generator.close()
    isolated._serve = today  # type: ignore[assignment]
    now, old = statistics.median(times["now"]), statistics.median(times["with scipy.signal"])
    print(
        f"engine process spawn -> ready: now {now:.0f} ms {times['now']} vs importing "
        f"scipy.signal {old:.0f} ms {times['with scipy.signal']} ({old / now:.1f}x); "
        f"load {[round(x, 1) for x in os.getloadavg()]}"
    )


def _first_chunk_after_booking() -> None:
    """The last stop's service: no chunk goes out before the quota booking said yes,
    even when the quota is known to say it (issue 17's "quota off the path to sound")."""
    from player.generation.service import GenerationService

    GenerationService._known_free = lambda self, uid: False  # type: ignore[method-assign]


def _auditions(variant: str) -> None:
    """The audition comparison: ``off``; rendered and described in the app's own process
    (``inproc``, before issue 13); rendered in the engine's process but described in the
    app's (``childrender``, issue 17's last stop); rendered and described in the engine's
    process (``child``, today's)."""
    import player.taste.planner as planner
    from player.radio import RadioService

    if variant == "off":
        planner.AUDITIONS = 0  # type: ignore[misc]
    elif variant == "inproc":
        RadioService._audition_engine = lambda self: None  # type: ignore[method-assign]
    elif variant == "childrender":
        engine_of = RadioService._audition_engine

        class RenderOnly:
            """The engine's process as the auditioner saw it at the last stop: it renders
            (``generate``) but offers no description, so the app describes."""

            def __init__(self, engine: Any) -> None:
                self.generate = engine.generate

        def render_only(self: Any) -> Any:
            engine = engine_of(self)
            return None if engine is None else RenderOnly(engine)

        RadioService._audition_engine = render_only  # type: ignore[method-assign]


def _stall_session(app: Any, session: Any, out: dict[str, object]) -> None:
    """A radio session with feedback, the latency probe running: skip at 5 s, like at
    9 s, skip at 12 s; the probe's figures from the like (the second verdict: planning
    auditions from then on) to the end, 45 s after the click."""
    from PySide6.QtCore import QTimer

    from ui.latency import LatencyProbe

    window = session.window
    radio = window.radio
    probe = LatencyProbe(10, window)
    engine_ready = threading.Event()
    generator = session.ctx.generation.generator
    threading.Thread(target=lambda: (generator.name, engine_ready.set()), daemon=True).start()
    split: dict[str, float] = {}

    def click() -> None:
        if not engine_ready.is_set():
            QTimer.singleShot(50, click)
            return
        probe.start()
        window.radio_view.start_taste.click()
        QTimer.singleShot(5000, radio.skip)
        QTimer.singleShot(9000, like)
        QTimer.singleShot(12000, radio.skip)
        QTimer.singleShot(45000, done)

    def like() -> None:
        split["at"] = len(probe.samples)
        split["cpu"] = time.process_time()  # type: ignore[assignment]
        radio.toggle_like()

    def done() -> None:
        probe.stop()
        part = sorted(probe.samples[int(split.get("at", 0)) :]) or [float("nan")]
        out["samples"] = len(part)
        out["p50_ms"] = round(part[len(part) // 2], 2)
        out["p95_ms"] = round(part[int(0.95 * len(part))], 2)
        out["p99_ms"] = round(part[int(0.99 * len(part))], 2)
        out["max_ms"] = round(part[-1], 2)
        out["app_cpu_s"] = round(time.process_time() - split.get("cpu", 0.0), 2)
        service = radio.service
        auditioner = getattr(getattr(service, "planner", None), "auditioner", None)
        out["audition_renders"] = 0 if auditioner is None else auditioner.renders
        out["tracks_made"] = sum(i.status != "queued" for i in radio.items())
        out["previews_per_track"] = [i.previews for i in radio.items()]
        out["underruns"] = session.ctx.playback.engine.underruns
        out["dsp_in_app"] = [
            m for m in ("scipy.signal", "player.generation.procedural") if m in sys.modules
        ]
        out["load_average"] = [round(x, 1) for x in os.getloadavg()]
        app.quit()

    QTimer.singleShot(2000, click)


def _trace_radio_start(marks: dict[str, float]) -> None:
    """Note when each step between the click and the first audio first happens (the
    figures the report breaks "Start my radio" into)."""
    from player.generation.isolated import IsolatedGenerator
    from player.generation.service import GenerationService
    from player.radio import RadioService
    from ui.playback import Playback

    def first(name: str, func: Any, after: bool = False) -> Any:
        def traced(*args: Any, **kwargs: Any) -> Any:
            if not after:
                marks.setdefault(name, time.perf_counter())
            result = func(*args, **kwargs)
            if after:
                marks.setdefault(name, time.perf_counter())
            return result

        return traced

    RadioService.start = first("radio.start returned", RadioService.start, after=True)
    RadioService._generate = first("radio thread generates", RadioService._generate)
    GenerationService._book = first("quota and row booked", GenerationService._book, after=True)
    IsolatedGenerator.generate = first(
        "engine answered (meta)", IsolatedGenerator.generate, after=True
    )
    Playback.append_stream = first("stream queued (GUI)", Playback.append_stream)
    from player.audio.sources import StreamingSource

    StreamingSource.push = first("first chunk pushed", StreamingSource.push)


def _listener(returning: bool) -> None:
    """The listener the radio starts for, the same in every run: ``returning``, whose
    stored model has heard two verdicts on sounds (from then on every plan carries
    candidates to audition), or ``fresh``, whose model has heard none. The runs share one
    profile, whose stored model would otherwise drift from run to run."""
    from player.radio import RadioService

    made = RadioService._make_planner

    def make(self: Any) -> Any:
        planner = made(self)
        sound = getattr(getattr(planner, "model", None), "sound", None)
        if sound is not None:
            sound.clear()
            if returning:
                sound.observe([7.0, 7.0, 0.0, 11.8, 2.7, -18.0, 0.75, 0.55], 1.0)
                sound.observe([7.0, 7.0, 0.0, 9.6, 2.7, -18.0, 0.75, 0.55], -1.0)
        return planner

    RadioService._make_planner = make  # type: ignore[method-assign]


def _last_stop() -> None:
    """Today's code with this stop's radio-start changes undone: the station's first
    track is auditioned like any other (four 8 s previews before it is made), and
    nothing is planned or rendered before the click."""
    from player.radio import RadioService

    RadioService._waited_for = lambda self, item: False  # type: ignore[method-assign]
    _no_render_ahead()


def _no_render_ahead() -> None:
    """The radio planner is made before the click, but the first track is not planned
    nor its opening rendered ahead (``prepare_start`` undone)."""
    from player.radio import RadioService

    def prepare_only(self: Any, seed: Any) -> bool:
        self.prepare()
        return False

    RadioService.prepare_start = prepare_only  # type: ignore[method-assign]


def _path_before(launcher: object) -> None:
    """Today's code with issue 17's radio-start changes undone, for the comparison: the
    engine's process starts once the window shows (not with the app), renders no
    warm-up, and renders its first chunk two bars long; the radio makes its planner
    on the first click."""
    import player.generation.isolated as isolated
    from ui.radio_controller import RadioController

    launcher.prestart_engine = False  # type: ignore[attr-defined]
    RadioController._prepare = lambda self: None  # type: ignore[method-assign]
    os.environ["INFINITE_PLAYER_FIRST_BLOCK_BARS"] = "2"  # read by the engine's process
    made = isolated.IsolatedGenerator.__init__

    def without_warm_up(self: object, engine: str = "auto", warm: bool = True) -> None:
        made(self, engine, warm=False)  # type: ignore[arg-type]

    isolated.IsolatedGenerator.__init__ = without_warm_up  # type: ignore[method-assign]


def _run(home: Path, mode: str) -> dict[str, object]:
    env = {**os.environ, "INFINITE_PLAYER_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DATABASE_URL", None)
    started = time.time()
    proc = subprocess.run(
        # faulthandler: a crashed app run prints where each thread was
        [sys.executable, "-X", "faulthandler", __file__, "--child", mode, repr(started)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        # One crashed app (PySide6 offscreen has segfaulted at exit on this box) must not
        # cost the other runs' figures: it is reported and left out of the medians.
        print(f"(the {mode} run failed with {proc.returncode}: {proc.stderr[-6000:]})")
        return {"failed": proc.returncode}
    if proc.returncode != 0:
        print(f"(the {mode} run exited with {proc.returncode} after reporting)")
    return json.loads(lines[-1])


def _onboard(home: Path) -> None:
    """Create the profile once (so later launches go straight to the window)."""
    env = {**os.environ, "INFINITE_PLAYER_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    script = (
        "from db.database import Database\n"
        "from player.onboarding import OnboardingAnswers, complete_onboarding\n"
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--radio-runs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="radio figures only")
    parser.add_argument(
        "--only", choices=("warm", "cold"), help="only the warm or the cold radio start"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="a listener whose model has heard no verdict"
    )
    parser.add_argument(
        "--history", action="store_true", help="also the paths before issue 17 and scipy"
    )
    parser.add_argument(
        "--booked",
        action="store_true",
        help="also the first chunk waiting for the quota booking (the last stop's service)",
    )
    parser.add_argument("--stall", action="store_true", help="auditions: GUI stall")
    parser.add_argument("--stall-only", action="store_true", help="only the audition stall")
    parser.add_argument("--stall-runs", type=int, default=1, help="rounds of the stall runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        home = Path(tmp)
        _onboard(home)
        if args.stall or args.stall_only:
            _stall_report(home, args.stall_runs)
        if args.stall_only:
            return
        starts = [] if args.quick else [_run(home, "idle") for _ in range(3)]
        if starts:
            _startup_report(starts)
        _engine_startup_report()
        radio_runs: dict[str, list[dict[str, object]]] = {}
        tag = "_fresh" if args.fresh else ""
        against = "_noahead" if args.fresh else "_last"
        warm_modes = [f"radio{tag}", f"radio{against}{tag}"]
        cold_modes = [f"radio_cold{tag}", f"radio_cold{against}{tag}"]
        if args.booked:
            warm_modes.append(f"radio_booked{tag}")
            cold_modes.append(f"radio_cold_booked{tag}")
        if args.history:
            warm_modes.append(f"radio_before{tag}")
            cold_modes += [f"radio_cold_before{tag}", f"radio_cold_scipy{tag}"]
        for run in range(args.radio_runs):
            chosen = {
                "warm": warm_modes,
                "cold": cold_modes,
                None: warm_modes + cold_modes,
            }[args.only]
            for mode in chosen:
                radio = _run(home, mode)
                radio_runs.setdefault(mode, []).append(radio)
                print(
                    f"  {mode} (run {run + 1}): first audio {radio.get('first_audio_ms')} ms, "
                    f"steps {radio.get('steps_ms')}; load "
                    f"{[round(x, 1) for x in os.getloadavg()]}",
                    flush=True,
                )
                if mode != f"radio{tag}" or "failed" in radio:
                    continue
                for name, what in (("settle", "window settling, 2 s"), ("radio", "radio, 20 s")):
                    print(
                        f"event-loop latency, {what} (run {run + 1}): "
                        f"p50 {radio[f'{name}_p50_ms']} ms, p99 {radio[f'{name}_p99_ms']} ms, "
                        f"max {radio[f'{name}_max_ms']} ms over {radio[f'{name}_samples']} ticks"
                    )
                print(
                    f"  state {radio['playing']}, {radio['radio_ready']} tracks made or in "
                    f"progress; synthesis modules loaded in the app process: "
                    f"{radio['dsp_in_app'] or 'none'}"
                )
        print(
            "'Start my radio' -> first audio (ms), skip -> next track's audio (ms); load "
            f"{[round(x, 1) for x in os.getloadavg()]}:"
        )
        listener = "fresh listener" if args.fresh else "returning listener"
        for warmth in {"warm": ("",), "cold": ("_cold",), None: ("", "_cold")}[args.only]:
            new = radio_runs[f"radio{warmth}{tag}"]
            label = "cold (first click as the window opens)" if warmth else "warm"
            for variant, what in (
                ("_last", "the last stop (first track auditioned, nothing ahead)"),
                ("_noahead", "no first track planned or rendered ahead"),
                ("_booked", "the first chunk waiting for the quota booking"),
                ("_before", "before issue 17"),
                ("_scipy", "the engine importing scipy.signal"),
            ):
                old = radio_runs.get(f"radio{warmth}{variant}{tag}", [])
                if not old:
                    continue
                new_ms = _median([r.get("first_audio_ms") for r in new])
                old_ms = _median([r.get("first_audio_ms") for r in old])
                ratio = f"{old_ms / new_ms:.1f}x" if new_ms and old_ms else "n/a"
                print(
                    f"  {label}, {listener}: now median {new_ms} ms "
                    f"{[r.get('first_audio_ms') for r in new]} vs {what} {old_ms} ms "
                    f"{[r.get('first_audio_ms') for r in old]} ({ratio}); skip "
                    f"{[r.get('skip_ms') for r in new]} vs {[r.get('skip_ms') for r in old]} ms;"
                    f" engine ready at the click {[r.get('engine_ready_at_click') for r in new]}"
                    f"; underruns {[r.get('underruns') for r in new + old]}"
                )


def _stall_report(home: Path, runs: int = 1) -> None:
    print(
        "GUI stall while the radio auditions (latency probe, 10 ms timer, from the second "
        "verdict to 45 s after the click):"
    )
    variants = (
        ("off", "auditions off"),
        ("childrender", "rendered in the engine, described in the app (last stop)"),
        ("child", "rendered and described in the engine (now)"),
    )
    for variant, label in [v for _ in range(runs) for v in variants]:
        r = _run(home, f"stall_{variant}")
        if "failed" in r:
            continue
        print(
            f"  {label:58s} p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms,"
            f" max {r['max_ms']} ms over {r['samples']} ticks; app process CPU "
            f"{r['app_cpu_s']} s; {r['audition_renders']} "
            f"audition renders, previews per track {r['previews_per_track']}, "
            f"{r['tracks_made']} tracks made, underruns {r['underruns']}, synthesis in the "
            f"app: {r['dsp_in_app'] or 'none'}; load {r['load_average']}",
            flush=True,
        )


def _startup_report(starts: list[dict[str, object]]) -> None:
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


def _median(values: list[object]) -> float | None:
    numbers = sorted(float(v) for v in values if isinstance(v, (int, float)))
    return round(statistics.median(numbers), 1) if numbers else None


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]))
    else:
        main()

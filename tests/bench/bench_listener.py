"""Does the radio learn what a listener likes? Simulated listeners with hidden tastes.

Run: ``.venv/bin/python tests/bench/bench_listener.py`` (about 15 minutes on two cores with the
defaults; ``--runs 1 --tastes minor,bright`` for a quick look; ``--calibrate 60`` prints the
engine's feature distribution the tastes' thresholds come from).

Each simulated listener (``tests/listener_sim.py``) onboards broadly (eight genres, a
balanced vibe, the form's default tempo range), then talks to ``infinite-player radio
--json`` over its stdin/stdout exactly as a script would: it measures every track with
librosa, likes it when it fits its hidden taste and skips it after five seconds when it
does not. Session one has ``--tracks`` tracks; session two (a new process, the model read
back from the database) has ``--second``. Both planners run in the same invocation: the
listener model (which auditions candidate openings, ``listener``), the same model choosing
on requests alone (``blind``, ``--auditions 0``) and the radio's previous planner
(``legacy``, ``--planner legacy``), with the same listeners, seeds and track lengths.

Printed: like rate per third of session one, over the first third of session two, the
planning time per request (p50/p95: the models' own time, previews excluded, as wall time
and as the planning thread's CPU time, which a busy machine does not inflate), what
learning from one feedback costs (CPU), the preview
renders spent per track and their time (p50/p95), and the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BROAD = ["pop", "hip-hop", "house", "techno", "lo-fi", "jazz", "rock", "ambient"]


def calibrate(n: int, seconds: float) -> None:
    """Feature percentiles of random requests, and how often each genre left to itself
    (no controls) fits each taste: a taste "no single genre matches" must stay low."""
    import numpy as np

    from player.generation import GenerationRequest
    from player.generation.genres import GENRES
    from player.generation.procedural import ProceduralGenerator
    from player.taste.listener import Bounds
    from tests.listener_sim import TASTES, features

    gen = ProceduralGenerator()
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        import soundfile as sf

        for i, c in enumerate(Bounds().sample(rng, n)):
            req = GenerationRequest(
                genres=[c.genre], tempo_bpm=round(c.bpm, 1), scale=c.scale, energy=c.energy,
                density=c.density, brightness=c.brightness, swing=c.swing, palette=c.palette,
                bass_level=c.bass_level, seed=i, duration_seconds=seconds,
            )  # fmt: skip
            path = Path(tmp) / f"{i}.wav"
            sf.write(path, gen.generate(req).render(), 44100)
            rows.append((c, features(path)))
        print(f"random requests (n={n}): feature percentiles 10/35/50/65/90")
        for key in ("tempo", "minorness", "centroid", "onset_rate", "rms_db"):
            values = [f[key] for _, f in rows]
            pct = np.percentile(values, [10, 35, 50, 65, 90])
            print(f"  {key:11s} " + "  ".join(f"{v:8.2f}" for v in pct))
        for taste in TASTES:
            share = sum(taste.fits(f) for _, f in rows) / len(rows)
            print(f"  {taste.name:18s} fits {share:.0%} of random requests")
        print("genres left to themselves (no controls), share fitting each taste, 4 seeds:")
        for genre in GENRES:
            feats = []
            for seed in range(4):
                path = Path(tmp) / f"{genre}-{seed}.wav"
                req = GenerationRequest(genres=[genre], seed=seed, duration_seconds=seconds)
                sf.write(path, gen.generate(req).render(), 44100)
                feats.append(features(path))
            shares = [sum(t.fits(f) for f in feats) / len(feats) for t in TASTES]
            pairs = zip(TASTES, shares, strict=True)
            print(f"  {genre:14s} " + " ".join(f"{t.name}={s:.2f}" for t, s in pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tracks", type=int, default=30)
    parser.add_argument("--second", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=12.0, help="track length")
    parser.add_argument("--tastes", default="", help="comma-separated names (default all)")
    parser.add_argument("--planners", default="listener,legacy")
    parser.add_argument("--calibrate", type=int, default=0, metavar="N")
    parser.add_argument("--out", default="", help="also write the raw results as JSON here")
    parser.add_argument("--jobs", type=int, default=2, help="listeners at once")
    parser.add_argument("--baseline-runs", type=int, default=2, help="runs of the old planner")
    args = parser.parse_args()
    if args.calibrate:
        calibrate(args.calibrate, args.seconds)
        return

    from tests.listener_sim import TASTE_BY_NAME, TASTES, listen, radio_command

    tastes = [TASTE_BY_NAME[n] for n in args.tastes.split(",") if n] or list(TASTES)
    planners = [p for p in args.planners.split(",") if p]
    home = tempfile.mkdtemp(prefix="bench-listener-")
    os.environ["INFINITE_PLAYER_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    from db.database import Database
    from player.onboarding import OnboardingAnswers, complete_onboarding

    database = Database.open_default()  # held open: every radio process attaches to it
    env = {"INFINITE_PLAYER_HOME": home, "INFINITE_PLAYER_DAILY_LIMIT": "0"}
    results: list[dict] = []
    started = time.perf_counter()
    try:
        runs = {p: args.runs if p == "listener" else args.baseline_runs for p in planners}
        jobs = [(t, p, r) for t in tastes for p in planners for r in range(runs[p])]
        for taste, planner, run in jobs:  # the accounts first: onboarding is not thread-safe
            email = f"{taste.name}-{planner}-{run}@bench.example"
            complete_onboarding(
                database, OnboardingAnswers(email=email, genres=BROAD, vibe="balanced")
            )

        def one_listener(job: tuple) -> dict:
            taste, planner, run = job
            email = f"{taste.name}-{planner}-{run}@bench.example"
            seed = 1000 * run + 17
            kind = "legacy" if planner == "legacy" else "listener"
            auditions = 0 if planner == "blind" else None
            one = listen(taste, radio_command(email, args.tracks, args.seconds, planner=kind,
                         rng_seed=seed, auditions=auditions), env)  # fmt: skip
            two = listen(taste, radio_command(email, args.second, args.seconds, planner=kind,
                         rng_seed=seed + 1, auditions=auditions), env)  # fmt: skip
            n = args.tracks
            row = {
                "taste": taste.name,
                "planner": planner,
                "run": run,
                "thirds": [one.rate(i * n // 3, (i + 1) * n // 3) for i in range(3)],
                "second_first_third": two.rate(0, max(1, args.second // 3)),
                "plan_ms": one.plan_ms + two.plan_ms,
                "plan_cpu_ms": one.plan_cpu_ms + two.plan_cpu_ms,
                "feedback_cpu_ms": one.feedback_cpu_ms + two.feedback_cpu_ms,
                "previews": one.previews + two.previews,
                "preview_ms": one.preview_ms + two.preview_ms,
                "liked": [one.liked, two.liked],
                "explanations": [e for e in one.explanations if e][-3:],
                "requests": [one.requests, two.requests],
                "features": [one.features, two.features],
                "seconds": one.seconds + two.seconds,
            }
            print(
                f"{taste.name:18s} {planner:8s} run {run}: thirds "
                + " ".join(f"{t:.2f}" for t in row["thirds"])
                + f" | session 2: {row['second_first_third']:.2f} "
                f"| {row['seconds']:.0f}s",
                file=sys.stderr,
                flush=True,
            )
            if len(one.liked) < n or one.stderr.strip():
                print(one.stderr[-2000:], file=sys.stderr)
            return row

        # Listeners are independent (each its own account): --jobs of them at once keep
        # both cores busy, one rendering while the other is analysed.
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results.extend(pool.map(one_listener, jobs))
    finally:
        database.close()
    report(results, tastes, planners, time.perf_counter() - started)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


def _p95(values: list[float]) -> float:
    return values[min(len(values) - 1, int(0.95 * len(values)))] if values else float("nan")


def report(results: list[dict], tastes: list, planners: list[str], wall: float) -> None:
    def mean(values: list[float]) -> float:
        return statistics.fmean(values) if values else float("nan")

    print("\nlike rate by third of session 1, and the first third of session 2 (mean of runs)")
    print(f"{'taste':18s} {'planner':8s} {'1st':>5s} {'2nd':>5s} {'last':>5s} {'s2':>5s}")
    summary: dict[str, list[float]] = {p: [] for p in planners}
    second: dict[str, list[float]] = {p: [] for p in planners}
    for taste in tastes:
        for planner in planners:
            rows = [r for r in results if r["taste"] == taste.name and r["planner"] == planner]
            if not rows:
                continue
            thirds = [mean([r["thirds"][i] for r in rows]) for i in range(3)]
            s2 = mean([r["second_first_third"] for r in rows])
            summary[planner].append(thirds[2])
            second[planner].append(s2)
            print(f"{taste.name:18s} {planner:8s} " + " ".join(f"{t:5.2f}" for t in thirds)
                  + f" {s2:5.2f}")  # fmt: skip
    for planner in planners:
        lasts = summary[planner]
        if not lasts:
            continue
        plans = sorted(ms for r in results if r["planner"] == planner for ms in r["plan_ms"])
        cpus = sorted(ms for r in results if r["planner"] == planner for ms in r["plan_cpu_ms"])
        learn = sorted(
            ms for r in results if r["planner"] == planner for ms in r["feedback_cpu_ms"]
        )
        heard = sorted(ms for r in results if r["planner"] == planner for ms in r["preview_ms"])
        renders = [n for r in results if r["planner"] == planner for n in r["previews"]]
        print(
            f"{planner}: last third min {min(lasts):.2f} median {statistics.median(lasts):.2f}; "
            f"session 2 first third mean {mean(second[planner]):.2f}; "
            f"planning p50 {statistics.median(plans):.1f} ms p95 {_p95(plans):.1f} ms wall, "
            f"CPU p50 {statistics.median(cpus):.1f} ms p95 {_p95(cpus):.1f} ms; "
            f"learning from feedback CPU p50 {statistics.median(learn):.1f} ms "
            f"p95 {_p95(learn):.1f} ms; "
            f"previews {mean(renders):.1f} per track, {sum(renders)} in all, "
            f"p50 {statistics.median(heard):.0f} ms p95 {_p95(heard):.0f} ms per track"
        )
    base = planners[-1]
    for planner in planners[:-1]:
        if summary[planner] and summary[base]:
            a, b = statistics.median(summary[planner]), statistics.median(summary[base])
            print(f"median last-third like rate, {planner} / {base}: {a / max(b, 1e-9):.2f}x")
    print(f"wall time {wall / 60:.1f} min")


if __name__ == "__main__":
    main()

"""Does a requested mode sound like that mode? The engine's mode clarity, old vs new.

Run: ``PYTHONPATH=. .venv/bin/python tests/bench/bench_mode.py [--seeds 8] [--baseline-ref REF]``
(about five minutes on two cores with the defaults).

For every genre the simulated listeners hear (``tests/bench/bench_listener.py``'s broad
onboarding), ``--seeds`` requests per mode (major, minor) with the listener model's other
controls drawn at random are rendered (12 s) by today's engine and by the engine of
``--baseline-ref`` (``git archive``, rendered in a subprocess), and read by the simulated
listeners' own analyser (librosa chroma against the 24 Krumhansl–Kessler keys, not told
the tonic). A major request "reads major" when minorness < -0.05, a minor one "reads
minor" when > 0.10: the thresholds of the listener tastes ``minor`` and
``slow-bright-major``. Printed: the share per genre and mode, and overall, for both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from baseline_tree import export

ROOT = Path(__file__).resolve().parents[2]
BROAD = ["pop", "hip-hop", "house", "techno", "lo-fi", "jazz", "rock", "ambient"]
SCALES = ("major", "minor")


def worker(out_dir: Path, seeds: int, seconds: float) -> None:
    """Render into ``out_dir`` with whatever engine ``PYTHONPATH`` holds."""
    import numpy as np
    import soundfile as sf

    from player.generation import GenerationRequest
    from player.generation.procedural import ProceduralGenerator

    gen = ProceduralGenerator()
    rng = np.random.default_rng(5)
    made = []
    for genre in BROAD:
        for scale in SCALES:
            for seed in range(seeds):
                # the listener model's other controls, drawn as its Bounds do (uniform)
                energy, density, brightness, swing = (float(v) for v in rng.uniform(0, 1, 4))
                bpm = float(rng.uniform(60, 180))
                request = GenerationRequest(
                    genres=[genre], scale=scale, tempo_bpm=round(bpm, 1), energy=energy,
                    density=density, brightness=brightness, swing=swing,
                    seed=100 + seed, duration_seconds=seconds,
                )  # fmt: skip
                path = out_dir / f"{genre}-{scale}-{seed}.wav"
                sf.write(path, gen.generate(request).render(), 44100)
                made.append({"genre": genre, "scale": scale, "path": str(path)})
    (out_dir / "made.json").write_text(json.dumps(made))


def reads(engine_root: Path, args: argparse.Namespace, out: Path) -> dict[tuple[str, str], float]:
    sys.path.insert(0, str(ROOT))
    from tests.listener_sim import features

    out.mkdir()
    cmd = [sys.executable, __file__, "--worker", str(out), "--seeds", str(args.seeds)]
    env = dict(os.environ, PYTHONPATH=str(engine_root))
    subprocess.run(cmd, env=env, cwd=str(engine_root), check=True)
    shares: dict[tuple[str, str], list[bool]] = {}
    for row in json.loads((out / "made.json").read_text()):
        m = features(row["path"])["minorness"]
        ok = m < -0.05 if row["scale"] == "major" else m > 0.10
        shares.setdefault((row["genre"], row["scale"]), []).append(ok)
    return {k: sum(v) / len(v) for k, v in shares.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--baseline-ref", default="0296768", help="git ref of the old engine")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.seeds, args.seconds)
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        base = export(args.baseline_ref, tmp / "baseline")
        old = reads(base, args, tmp / "old")
        new = reads(ROOT, args, tmp / "new")
    print(f"\nshare of requests read in the requested mode ({args.seeds} per genre and mode)")
    print(f"{'genre':10s} " + " ".join(f"{s + ' old':>10s} {s + ' new':>10s}" for s in SCALES))
    for genre in BROAD:
        cells = " ".join(f"{old[(genre, s)]:10.2f} {new[(genre, s)]:10.2f}" for s in SCALES)
        print(f"{genre:10s} {cells}")
    for scale in SCALES:
        o = sum(old[(g, scale)] for g in BROAD) / len(BROAD)
        n = sum(new[(g, scale)] for g in BROAD) / len(BROAD)
        print(f"{scale}: old {o:.2f} new {n:.2f} ({n / max(o, 1e-9):.2f}x)")


if __name__ == "__main__":
    main()

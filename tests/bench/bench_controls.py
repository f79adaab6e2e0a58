# SPDX-License-Identifier: MIT
"""How far the listener model's controls reach in every genre, old engine vs new.

Run: ``PYTHONPATH=. .venv/bin/python tests/bench/bench_controls.py [--seeds 3]
[--seconds 12] [--genres pop,jazz] [--baseline-ref main]`` (niced: a few minutes).

The listener model (issue 13) learns tastes the simulated listeners judge from the
audio with librosa (``tests/listener_sim.features``: spectral centroid, onset rate,
beat tempo). It can only steer towards a taste the engine's controls can reach, so per
genre, ``--seeds`` requests (palette and every other control drawn by the seed, as for
a listener who sets only one) are rendered at brightness 0 / 0.5 / 1, density 0.1 / 0.9
and tempo 70 / 150 BPM, by today's engine and by the engine of ``--baseline-ref``
(``git archive`` of its ``player/`` into a temporary folder, rendered in a child
process), and read by that analyser. Printed per genre: the median centroid at each
brightness, the onset rate at each density, the tempo at each setting; then how many
genres reach the "bright" taste (≥ 2600 Hz) and the slow-bright-major one (≥ 2200 Hz) at
brightness 1, stay ≤ 1500 Hz at brightness 0, and keep every control monotonic.
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

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[2]
GENRES = (
    "pop", "hip-hop", "house", "techno", "lo-fi", "ambient",
    "rock", "jazz", "r&b", "drum-and-bass", "trap", "synthwave",
)  # fmt: skip
#: (label, request fields): each setting moves one control and leaves the rest drawn.
SETTINGS = (
    ("b0", {"brightness": 0.0}),
    ("b.5", {"brightness": 0.5}),
    ("b1", {"brightness": 1.0}),
    ("d.1", {"density": 0.1}),
    ("d.9", {"density": 0.9}),
    ("t70", {"tempo_bpm": 70.0}),
    ("t150", {"tempo_bpm": 150.0}),
)


def worker(out: Path, genres: list[str], seeds: int, seconds: float) -> None:
    """Render and analyse with whatever engine ``PYTHONPATH`` holds; write JSON rows."""
    import soundfile as sf

    sys.path.append(str(ROOT))  # the analyser; the engine comes first on the path
    from player.generation import GenerationRequest
    from player.generation.procedural import ProceduralGenerator
    from tests.listener_sim import features

    gen = ProceduralGenerator()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for genre in genres:
            for label, fields in SETTINGS:
                for seed in range(seeds):
                    request = GenerationRequest(
                        genres=[genre], seed=300 + seed, duration_seconds=seconds, **fields
                    )
                    result = gen.generate(request)
                    path = Path(tmp) / "x.wav"
                    sf.write(path, result.render(), 44100)
                    rows.append({"genre": genre, "setting": label, **features(path)})
    out.write_text(json.dumps(rows))


def measure(engine_root: Path, args: argparse.Namespace, out: Path) -> dict:
    cmd = [
        sys.executable, __file__, "--worker", str(out), "--seeds", str(args.seeds),
        "--seconds", str(args.seconds), "--genres", ",".join(args.genre_list),
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(engine_root))
    subprocess.run(cmd, env=env, cwd=str(engine_root), check=True)
    table: dict[tuple[str, str], dict[str, float]] = {}
    import numpy as np

    grouped: dict[tuple[str, str], list[dict]] = {}
    for row in json.loads(out.read_text()):
        grouped.setdefault((row["genre"], row["setting"]), []).append(row)
    for key, rows in grouped.items():
        table[key] = {
            f: float(np.median([r[f] for r in rows])) for f in ("centroid", "onset_rate", "tempo")
        }
        table[key]["centroid_min"] = float(min(r["centroid"] for r in rows))
        table[key]["centroid_max"] = float(max(r["centroid"] for r in rows))
    return table


def report(name: str, t: dict, genres: list[str]) -> None:
    print(f"\n== {name}: per genre, medians over seeds (centroid Hz, onsets/s, BPM)")
    print(
        f"{'genre':14s} {'b0':>6s} {'b.5':>6s} {'b1':>6s} {'b1 min':>7s} {'ratio':>6s}"
        f" {'d.1':>5s} {'d.9':>5s} {'t70':>5s} {'t150':>5s}"
    )
    bright = bright22 = dark = mono_b = mono_d = tempo_ok = 0
    for g in genres:
        c = [t[(g, s)]["centroid"] for s in ("b0", "b.5", "b1")]
        d = [t[(g, s)]["onset_rate"] for s in ("d.1", "d.9")]
        tp = [t[(g, s)]["tempo"] for s in ("t70", "t150")]
        lo = t[(g, "b1")]["centroid_min"]
        print(
            f"{g:14s} {c[0]:6.0f} {c[1]:6.0f} {c[2]:6.0f} {lo:7.0f} {c[2] / c[0]:6.2f}"
            f" {d[0]:5.2f} {d[1]:5.2f} {tp[0]:5.0f} {tp[1]:5.0f}"
        )
        bright += c[2] >= 2600
        bright22 += c[2] >= 2200
        dark += c[0] <= 1500
        mono_b += c[0] < c[1] < c[2]
        mono_d += d[0] < d[1]
        # librosa's beat tracker may pick the half or double level: fold before judging
        tempo_ok += all(_folded(r, want) for r, want in zip(tp, (70.0, 150.0), strict=True))
    n = len(genres)
    print(
        f"genres with median centroid ≥ 2600 Hz at brightness 1: {bright}/{n}; ≥ 2200 Hz:"
        f" {bright22}/{n}; ≤ 1500 Hz at brightness 0: {dark}/{n}; centroid rising with"
        f" brightness: {mono_b}/{n}; onset rate with density: {mono_d}/{n}; tempo read"
        f" (octave-folded, 4 %) at 70 and 150 BPM: {tempo_ok}/{n}"
    )
    ratios = sorted(t[(g, "b1")]["centroid"] / t[(g, "b0")]["centroid"] for g in genres)
    print(f"centroid ratio b1/b0: min {ratios[0]:.2f}, median {ratios[len(ratios) // 2]:.2f}")


def _folded(read: float, want: float) -> bool:
    return any(abs(read * f / want - 1.0) <= 0.04 for f in (0.5, 1.0, 2.0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--genres", default=",".join(GENRES))
    ap.add_argument("--baseline-ref", default="main", help="git ref of the old engine ('' skips)")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.genre_list = [g for g in args.genres.split(",") if g]
    if args.worker:
        worker(args.worker, args.genre_list, args.seeds, args.seconds)
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        old = None
        if args.baseline_ref:
            base = export(args.baseline_ref, tmp / "baseline")
            old = measure(base, args, tmp / "old.json")
        new = measure(ROOT, args, tmp / "new.json")
    if old is not None:
        report(f"old engine ({args.baseline_ref})", old, args.genre_list)
    report("new engine (this tree)", new, args.genre_list)


if __name__ == "__main__":
    main()

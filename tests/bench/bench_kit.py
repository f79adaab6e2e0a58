"""What synthesising a track's drum kit costs on the path to its first sound.

Run: ``PYTHONPATH=. .venv/bin/python tests/bench/bench_kit.py [--kits 20]``

Every track renders its kit (``drums.render_kit``) before its first chunk. The cymbals'
tonal parts depend only on the hit's length and are cached per process; "uncached" clears
that cache before every kit, which is exactly the cost before the cache (the audio is the
same either way: ``tests/generation/test_procedural.py`` checks a seed's audio). CPU time
of this thread, alternating the two so that load drifts hit both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    import numpy as np

    from player.generation import drums
    from player.generation.palettes import palette_for

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kits", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    genres = ["pop", "house", "techno", "hip-hop", "jazz", "rock", "trap", "lo-fi"]
    times: dict[str, list[float]] = {"uncached": [], "cached": []}
    for i in range(2 * args.kits):
        mode = "uncached" if i % 2 == 0 else "cached"
        kit = drums.vary_kit(palette_for(genres[i // 2 % len(genres)], i).kit, rng)
        if mode == "uncached":
            drums._squares.cache_clear()
            drums._bell.cache_clear()
        started = time.thread_time()
        drums.render_kit(kit, 44100, rng)
        times[mode].append(1000 * (time.thread_time() - started))
    a, b = statistics.median(times["uncached"]), statistics.median(times["cached"])
    print(f"render_kit CPU per track, median of {args.kits}: uncached {a:.1f} ms, "
          f"cached {b:.1f} ms ({a / b:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()

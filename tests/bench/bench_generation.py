"""Benchmark: how fast the generators make music.

    .venv/bin/python tests/bench/bench_generation.py [--seconds 180] [--genres a,b] [--no-musicgen]

Procedural engine: seconds of audio per wall-clock second (and per CPU second) for a
track of each genre, pinned to a single core with single-threaded math libraries, plus
the peak memory the render allocates (tracemalloc, streaming the chunks as the player
does) and the time to the first chunk. MusicGen: the tiny test checkpoint's speed on
this machine, and on an NVIDIA GPU (when one is present) a musicgen-small-sized
randomly initialised model's real-time factor and time to first audio.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from player.generation import GENRES, GenerationRequest  # noqa: E402
from player.generation.procedural import ProceduralGenerator  # noqa: E402


def _render_once(gen: ProceduralGenerator, request: GenerationRequest) -> dict[str, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = gen.generate(request)
    frames, first_wall, first_cpu, peak = 0, 0.0, 0.0, 0.0
    for chunk in result:
        if frames == 0:
            first_wall, first_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        frames += len(chunk)
        peak = max(peak, float(np.abs(chunk).max()))
    return {
        "audio_s": frames / result.samplerate,
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        "first_wall_s": first_wall,
        "first_cpu_s": first_cpu,
        "peak": peak,
    }


def bench_procedural(genres: list[str], seconds: float) -> list[dict[str, object]]:
    """Speed without tracing, then the same render again under tracemalloc for memory."""
    gen = ProceduralGenerator()
    rows = []
    for genre in genres:
        request = GenerationRequest(genres=[genre], seed=1234, duration_seconds=seconds)
        m = _render_once(gen, request)
        tracemalloc.start()
        _render_once(gen, request)
        _, peak_mem = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "genre": genre,
                "audio_s": round(m["audio_s"], 1),
                "wall_s": round(m["wall_s"], 3),
                "cpu_s": round(m["cpu_s"], 3),
                "x_realtime_wall": round(m["audio_s"] / m["wall_s"], 1),
                "x_realtime_cpu": round(m["audio_s"] / m["cpu_s"], 1),
                "first_chunk_ms_wall": round(m["first_wall_s"] * 1000, 1),
                "first_chunk_ms_cpu": round(m["first_cpu_s"] * 1000, 1),
                "peak_alloc_mib": round(peak_mem / 2**20, 1),
                "peak_dbfs": round(20 * np.log10(max(m["peak"], 1e-9)), 2),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def bench_musicgen_tiny(seconds: float = 4.0) -> dict[str, object]:
    from player.generation.musicgen import MusicGenGenerator
    from tests.generation.test_musicgen import build_tiny_checkpoint

    folder = build_tiny_checkpoint(Path(tempfile.mkdtemp(prefix="musicgen-tiny-")))
    gen = MusicGenGenerator(folder, device="cpu", segment_seconds=2.0, context_seconds=1.0)
    gen.load()
    return _time_musicgen(gen, seconds, "tiny (cpu)")


def _time_musicgen(gen: object, seconds: float, label: str) -> dict[str, object]:
    request = GenerationRequest(genres=["house"], duration_seconds=seconds, seed=1)
    t0 = time.perf_counter()
    result = gen.generate(request)  # type: ignore[attr-defined]
    frames, first = 0, None
    for chunk in result:
        if first is None:
            first = time.perf_counter() - t0
        frames += len(chunk)
    wall = time.perf_counter() - t0
    audio_s = frames / result.samplerate
    row = {
        "musicgen": label,
        "audio_s": round(audio_s, 2),
        "wall_s": round(wall, 2),
        "x_realtime": round(audio_s / wall, 3),
        "time_to_first_audio_s": round(first or 0, 2),
    }
    print(json.dumps(row), flush=True)
    return row


def bench_musicgen_small_gpu(seconds: float = 20.0) -> dict[str, object] | None:
    """A randomly initialised model with musicgen-small's shapes (T5-base text encoder,
    24-layer 1024-wide decoder, 4 codebooks, the 32 kHz EnCodec) on CUDA."""
    import torch

    if not torch.cuda.is_available():
        print(
            json.dumps({"musicgen": "small-sized (cuda)", "skipped": "no CUDA device"}), flush=True
        )
        return None
    from player.generation.musicgen import MusicGenGenerator
    from tests.bench.bench_gpu import musicgen_model
    from tests.generation.test_musicgen import word_tokenizer

    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    model = musicgen_model("small", "cuda", dtype)
    vocab = {"[PAD]": 0, "[UNK]": 1, "</s>": 2, "house": 3, "track": 4, "bpm": 5}
    tokenizer = word_tokenizer(vocab)
    gen = MusicGenGenerator(
        "musicgen-small-random", model=model, tokenizer=tokenizer, segment_seconds=10.0
    )
    _time_musicgen(gen, 2.0, "warm-up")
    return _time_musicgen(
        gen, seconds, f"small-sized random ({torch.cuda.get_device_name(0)}, {dtype})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--genres", default=",".join(GENRES))
    parser.add_argument("--no-musicgen", action="store_true")
    parser.add_argument("--gpu-seconds", type=float, default=20.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    rows = bench_procedural([g for g in args.genres.split(",") if g], args.seconds)
    walls = [float(r["x_realtime_wall"]) for r in rows]  # type: ignore[arg-type]
    cpus = [float(r["x_realtime_cpu"]) for r in rows]  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "procedural_summary": {
                    "seconds": args.seconds,
                    "min_x_wall": min(walls),
                    "median_x_wall": float(np.median(walls)),
                    "min_x_cpu": min(cpus),
                    "median_x_cpu": float(np.median(cpus)),
                    "max_peak_alloc_mib": max(float(r["peak_alloc_mib"]) for r in rows),  # type: ignore[arg-type]
                    "process_max_rss_mib": round(
                        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                    ),
                },
            }
        ),
        flush=True,
    )
    if not args.no_musicgen:
        bench_musicgen_tiny()
        bench_musicgen_small_gpu(args.gpu_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

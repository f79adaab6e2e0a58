# SPDX-License-Identifier: MIT
"""Realistic catalogue vectors for the database benchmark: real audio, grown to any size.

Seeds (real): every soundtrack of three Debian game data packages (supertux-data,
hedgewars-data, ufoai-music; fetched into /tmp by ``bench_embedding.fetch_corpus``, never
committed) and renders of the procedural engine (12 genres x 3 seeds). Each seed track is
cut into ``WINDOWS`` excerpts of ``WINDOW_S`` seconds spread over the track and each
excerpt is embedded with the shipped descriptor embedder (``descriptor-v1``). So every
track contributes a small cloud of real vectors whose spread is the measured within-track
variation (sections, instrumentation changes), not a guess.

Growth to N (:func:`grow`): each synthetic vector is made from one real excerpt vector
``a`` of track ``T``:

    v = normalise(a + t * (b - a) + s * sum_j z_j * d_j)

* ``b`` is one of ``a``'s 10 nearest real excerpt vectors (any track), ``t ~ U(0, 0.5)``:
  new points lie on the segments of the real k-nearest-neighbour graph, so the local
  neighbourhoods, their density differences and the low intrinsic dimension of real
  embeddings are kept (a track's cover, remix or a similar track of the same style);
* ``d_j`` are the deviations of ``T``'s excerpts from ``T``'s mean, ``z_j ~ N(0, 1/J)``,
  ``s = 0.5``: a Gaussian fitted locally with ``T``'s own within-track covariance (rank
  <= J - 1), so variation runs along directions music really varies in.

Isotropic noise is what the old benchmark used: in 768 dimensions it puts all members of a
cluster at the same distance from a query (the "neighbours" are ties) and measures nothing
about an index. Queries are held-out real excerpt vectors (never inserted) plus synthetic
points made the same way, so they fall where the data are.

    PYTHONPATH=. .venv/bin/python tests/bench/catalogue_vectors.py   # builds the cache
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CORPUS = Path("/tmp/ip-catalogue-bench/gamemusic")
CACHE = Path("/tmp/ip-catalogue-bench/seed_vectors.npz")
WINDOWS = 6
WINDOW_S = 6.0
PROCEDURAL_SEEDS = (1, 2, 3)
PROCEDURAL_SECONDS = 36.0


def _windows(mono: np.ndarray, rate: int) -> list[np.ndarray]:
    from player.embedding.base import window_starts

    width = int(WINDOW_S * rate)
    return [mono[s : s + width] for s in window_starts(mono.size, width, WINDOWS)]


def _mono(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1), int(rate)


def build_seeds(cache: Path = CACHE) -> dict[str, np.ndarray]:
    """Embed every excerpt of every seed track once; cached in /tmp."""
    if cache.is_file():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    import bench_embedding

    from player.embedding.descriptor import DescriptorEmbedder
    from player.generation.genres import GENRES
    from player.generation.procedural import ProceduralGenerator
    from player.generation.protocol import GenerationRequest

    emb = DescriptorEmbedder()
    vectors: list[np.ndarray] = []
    track: list[int] = []
    origin: list[str] = []
    t0 = time.perf_counter()
    tracks = bench_embedding.collect_tracks(bench_embedding.fetch_corpus(CORPUS))
    for i, (path, game, _album) in enumerate(tracks):
        mono, rate = _mono(path)
        for w in _windows(mono, rate):
            vectors.append(emb.embed(w, rate))
            track.append(i)
            origin.append(game)
        print(f"\r{i + 1}/{len(tracks)} real tracks embedded", end="", flush=True)
    print()
    gen = ProceduralGenerator()
    n = len(tracks)
    for genre in GENRES:
        for seed in PROCEDURAL_SEEDS:
            result = gen.generate(
                GenerationRequest(genres=[genre], seed=seed, duration_seconds=PROCEDURAL_SECONDS)
            )
            audio = np.asarray(result.render(), dtype=np.float32)
            mono = audio.mean(axis=1) if audio.ndim == 2 else audio
            for w in _windows(mono, result.samplerate):
                vectors.append(emb.embed(w, result.samplerate))
                track.append(n)
                origin.append("procedural")
            n += 1
    print(f"{len(vectors)} excerpt vectors of {n} tracks in {time.perf_counter() - t0:.0f} s")
    out = {
        "vectors": np.stack(vectors).astype(np.float32),
        "track": np.asarray(track, dtype=np.int32),
        "origin": np.asarray(origin),
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def grow(seeds: np.ndarray, track: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors around the real ones (see the module docstring for the method)."""
    sims = seeds @ seeds.T
    np.fill_diagonal(sims, -np.inf)
    knn = np.argsort(-sims, axis=1)[:, :10]
    means = {int(t): seeds[track == t].mean(axis=0) for t in np.unique(track)}
    devs = {int(t): seeds[track == t] - means[int(t)] for t in means}
    out = np.empty((n, seeds.shape[1]), dtype=np.float32)
    anchors = rng.integers(0, len(seeds), n)
    partners = knn[anchors, rng.integers(0, knn.shape[1], n)]
    steps = rng.uniform(0.0, 0.5, n)[:, None]
    base = seeds[anchors] + steps * (seeds[partners] - seeds[anchors])
    for t, d in devs.items():
        rows = np.nonzero(track[anchors] == t)[0]
        if rows.size:
            z = rng.standard_normal((rows.size, len(d))) / np.sqrt(len(d))
            base[rows] += 0.5 * (z @ d)
    out[:] = _unit(base)
    return out


def dataset(
    rows: int, queries: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """(data, queries, facts): half the queries are held-out real excerpts."""
    seeds = build_seeds()
    vec, track = seeds["vectors"], seeds["track"]
    held = rng.choice(len(vec), size=min(queries // 2, len(vec) // 10), replace=False)
    keep = np.setdiff1d(np.arange(len(vec)), held)
    data = grow(vec[keep], track[keep], rows, rng)
    synthetic_q = grow(vec[keep], track[keep], queries - held.size, rng)
    q = np.concatenate([vec[held], synthetic_q]).astype(np.float32)
    # How much the true top-10 is separated from rank 11-50 (ties make recall meaningless).
    top = np.sort(q @ data.T, axis=1)[:, ::-1][:, :50]
    facts = {
        "seed_vectors": float(len(vec)),
        "seed_tracks": float(len(np.unique(track))),
        "gap_10_vs_50": float(np.median(top[:, 9] - top[:, 49])),
        "spread_top50": float(np.median(top[:, 0] - top[:, 49])),
    }
    return data, q, facts


if __name__ == "__main__":
    s = build_seeds()
    print({k: v.shape for k, v in s.items()})

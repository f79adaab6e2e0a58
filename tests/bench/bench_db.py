"""Benchmark: embedded server cold start + migrate, and the vector index decision.

Nearest-neighbour search on `embeddings` over N random unit 768-d vectors: exact scan vs
ivfflat (lists 100, several probes) vs hnsw, p50/p95 latency and recall@10 in one run,
plus index build times. `--clustered` draws vectors from a mixture of Gaussians, closer to
real music embeddings than uniform noise (on which every ANN index does worst).

    .venv/bin/python tests/bench/bench_db.py [--rows 100000] [--queries 100] [--clustered]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from pgvector.psycopg import register_vector
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from db import compat, migrate
from db.embedded import EmbeddedServer

DIM = 768


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make_vectors(rng: np.random.Generator, n: int, clustered: bool) -> np.ndarray:
    if not clustered:
        return unit(rng.standard_normal((n, DIM)))
    centres = unit(rng.standard_normal((200, DIM)))
    labels = rng.integers(0, len(centres), n)
    # Noise of norm ~0.5 around unit centres: neighbours share a centre, as tracks of one
    # style do, while every vector stays distinct.
    return unit(centres[labels] + 0.5 * rng.standard_normal((n, DIM)) / np.sqrt(DIM))


def vec_literal(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in v) + "]"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--clustered", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(7)

    folder = Path(tempfile.mkdtemp(prefix="ip-bench-db-"))
    folder.chmod(0o755)
    t0 = time.perf_counter()
    server = EmbeddedServer(folder / "pgdata")
    url = make_url(server.start()).set(drivername="postgresql+psycopg")
    t_start = time.perf_counter() - t0
    engine = create_engine(url)
    with engine.begin() as conn:
        compat.apply_compat(conn)
    t1 = time.perf_counter()
    migrate.migrate(engine)
    t_migrate = time.perf_counter() - t1
    print(
        f"cold start (initdb + start): {t_start * 1000:.0f} ms; migrate: {t_migrate * 1000:.0f} ms"
    )

    try:
        data = make_vectors(rng, args.rows, args.clustered)
        queries = make_vectors(rng, args.queries, args.clustered)
        truth = np.argsort(-(queries @ data.T), axis=1)[:, :10]

        raw = engine.raw_connection()
        register_vector(raw.driver_connection)
        cur = raw.cursor()
        cur.execute("drop index if exists idx_embeddings_vector")
        t = time.perf_counter()
        with cur.copy(
            "copy embeddings (track_id, track_name, artist, vector, source) "
            "from stdin with (format binary)"
        ) as cp:
            cp.set_types(["text", "text", "text", "vector", "text"])
            for i, v in enumerate(data):
                cp.write_row((str(i), "t", "a", v, "fma"))
        cur.execute("analyze embeddings")
        raw.commit()
        print(
            f"loaded {args.rows} vectors ({'clustered' if args.clustered else 'uniform'}) "
            f"in {time.perf_counter() - t:.1f} s"
        )
        cur.execute("set maintenance_work_mem = '1GB'")

        def run(label: str, setup: list[str]) -> None:
            for s in setup:
                cur.execute(s)
            lat, hits = [], 0
            for qi, q in enumerate(queries):
                lit = vec_literal(q)
                t = time.perf_counter()
                cur.execute(
                    "select track_id from embeddings order by vector <=> %s::vector limit 10",
                    (lit,),
                )
                ids = [int(r[0]) for r in cur.fetchall()]
                lat.append((time.perf_counter() - t) * 1000)
                hits += len(set(ids) & set(truth[qi].tolist()))
            p50, p95 = np.percentile(lat, [50, 95])
            print(
                f"{label:32s} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  "
                f"recall@10 {hits / (10 * len(queries)):.3f}"
            )

        run("exact scan", ["set enable_indexscan = off"])
        cur.execute("set enable_indexscan = on")

        t = time.perf_counter()
        cur.execute(
            "create index bench_ivf on embeddings using ivfflat "
            "(vector vector_cosine_ops) with (lists = 100)"
        )
        raw.commit()
        print(f"ivfflat (lists 100) build: {time.perf_counter() - t:.1f} s")
        for probes in (1, 5, 10, 20, 40):
            run(f"ivfflat lists=100 probes={probes}", [f"set ivfflat.probes = {probes}"])
        cur.execute("drop index bench_ivf")
        raw.commit()

        t = time.perf_counter()
        cur.execute(
            "create index bench_hnsw on embeddings using hnsw "
            "(vector vector_cosine_ops) with (m = 16, ef_construction = 64)"
        )
        raw.commit()
        print(f"hnsw (m 16, ef_construction 64) build: {time.perf_counter() - t:.1f} s")
        for ef in (40, 100, 200):
            run(f"hnsw ef_search={ef}", [f"set hnsw.ef_search = {ef}"])
        raw.close()
    finally:
        engine.dispose()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

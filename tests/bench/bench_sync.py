# SPDX-License-Identifier: MIT
"""Sync benchmark, the Data API path beside the direct path, in one run, on real PostgreSQL.

    .venv/bin/python tests/bench/bench_sync.py [--history 10000] [--tracks 1000]
        [--playlists 100] [--noop-runs 20]

Two embedded servers in a temp dir: the devices' and the shared one. Each path gets its
own shared database and its own account with the same rows:
* direct — ``sync(local, Database)``: the sync functions over a direct connection;
* rpc — ``sync(local, RpcRemote)``: the same functions over HTTP through supabase-py's
  PostgREST client and the loopback Data API stand-in (``tests/supabase_stub``), as
  ``authenticator`` with a verified JWT, one transaction per call.
Figures: the first sync of a device (push, rows/s), the first sync of a second device of
the same account (pull, rows/s), a sync with nothing to do (median and worst of
``--noop-runs``; goal < 100 ms), then the ratios rpc/direct (goal: throughput >= 0.5).
The stand-in is a Python server; real PostgREST adds its own (different) overhead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from db.database import Database  # noqa: E402
from db.sync import sync  # noqa: E402
from tests import pgtools  # noqa: E402


def seed(db: Database, uid: uuid.UUID, history: int, tracks: int, playlists: int) -> int:
    with db.user_session(uid) as s:
        s.execute(
            text("insert into users (id, email) values (:u, 'bench@example.com')"), {"u": uid}
        )
        s.execute(
            text(
                "insert into user_history (user_id, platform, track_name, artist, album) "
                "select :u, 'spotify', 'song ' || g, 'artist ' || (g % 300), 'album ' || (g % 50) "
                "from generate_series(1, :n) g"
            ),
            {"u": uid, "n": history},
        )
        s.execute(
            text(
                "insert into generated_tracks (user_id, url, duration, mode, explanation, "
                "match_percentage) select :u, 'file:///audio/' || g || '.wav', 180, 'radio', "
                "'Because you like artist ' || g, g % 100 from generate_series(1, :n) g"
            ),
            {"u": uid, "n": tracks},
        )
        s.execute(
            text(
                "insert into user_playlists (user_id, name, tracks) select :u, 'list ' || g, "
                "(select jsonb_agg(jsonb_build_object('id', id)) from (select id from "
                "generated_tracks order by id limit 20 offset g) t) from generate_series(1, :n) g"
            ),
            {"u": uid, "n": playlists},
        )
    return 1 + history + tracks + playlists


def run_path(name: str, local: Any, device2: Any, remote: Any, uid: uuid.UUID, rows: int,
             noop_runs: int) -> dict[str, float]:  # fmt: skip
    t = time.perf_counter()
    first = sync(local, remote, uid)
    push_s = time.perf_counter() - t
    assert first.errors == [] and first.pushed == rows, first
    t = time.perf_counter()
    second = sync(device2, remote, uid)
    pull_s = time.perf_counter() - t
    assert second.errors == [] and second.pulled >= rows, second
    times = []
    for _ in range(noop_runs):
        t = time.perf_counter()
        idle = sync(local, remote, uid)
        times.append((time.perf_counter() - t) * 1000)
        assert (idle.pushed, idle.pulled) == (0, 0), idle
    out = {
        "push_s": push_s,
        "push_rps": rows / push_s,
        "pull_s": pull_s,
        "pull_rps": second.pulled / pull_s,
        "noop_median_ms": statistics.median(times),
        "noop_worst_ms": max(times),
    }
    print(
        f"{name:>6}: push {rows} rows {push_s:.2f} s = {out['push_rps']:,.0f} rows/s | "
        f"pull {second.pulled} rows {pull_s:.2f} s = {out['pull_rps']:,.0f} rows/s | "
        f"no-op median {out['noop_median_ms']:.1f} ms, worst {out['noop_worst_ms']:.1f} ms"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--tracks", type=int, default=1_000)
    parser.add_argument("--playlists", type=int, default=100)
    parser.add_argument("--noop-runs", type=int, default=20)
    args = parser.parse_args()

    from db.sync.rpc import RpcRemote
    from tests.supabase_stub.data_api import DataApi, create_authenticator
    from tests.supabase_stub.server import SupabaseStub

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        os.chmod(tmp, 0o755)  # the servers run as the unprivileged pgserver user
        servers = []
        stub = None
        try:
            t = time.perf_counter()
            for name in ("device", "shared"):
                server, superuser = pgtools.start_server(Path(tmp) / name)
                pgtools.prepare_template(superuser)
                servers.append((server, superuser))
            print(f"two servers started and migrated in {time.perf_counter() - t:.1f} s")
            create_authenticator(servers[1][1])
            dev = servers[0][1]
            direct_db = Database(pgtools.fresh_database(servers[1][1]))
            api_url = pgtools.fresh_database(servers[1][1])
            api = DataApi(api_url)
            stub = SupabaseStub(api).start()
            print(
                f"sizes: {args.history} history, {args.tracks} tracks, {args.playlists} "
                "playlists (+1 users row)"
            )
            results = {}
            for name in ("direct", "rpc"):
                local = Database(pgtools.fresh_database(dev))
                device2 = Database(pgtools.fresh_database(dev))
                uid = uuid.uuid4()
                rows = seed(local, uid, args.history, args.tracks, args.playlists)
                if name == "direct":
                    remote: Any = direct_db
                else:
                    token = stub.sign({"sub": str(uid), "role": "authenticated"}, ttl=86400)
                    remote = RpcRemote(stub.url, stub.anon_key, lambda token=token: token)
                results[name] = run_path(name, local, device2, remote, uid, rows, args.noop_runs)
                for db in (local, device2):
                    db.close()
            d, r = results["direct"], results["rpc"]
            print(
                f"ratios rpc/direct: push throughput {r['push_rps'] / d['push_rps']:.2f}, "
                f"pull throughput {r['pull_rps'] / d['pull_rps']:.2f}, "
                f"no-op median {r['noop_median_ms'] / d['noop_median_ms']:.2f}x the time "
                "(goals: throughput >= 0.50, rpc no-op < 100 ms)"
            )
            direct_db.close()
        finally:
            if stub is not None:
                stub.stop()
                stub.api.close()
            for server, _ in servers:
                server.stop()


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MIT
"""Sync benchmark on two real PostgreSQL servers (two embedded instances in a temp dir).

    .venv/bin/python tests/bench/bench_sync.py [--history 10000] [--tracks 1000]
        [--playlists 100] [--noop-runs 20]

Figures: the first sync of a device holding N history rows + tracks + playlists (push,
rows/s), the first sync of a second device of the same account (pull, rows/s), and a sync
with nothing to do (median and worst of ``--noop-runs``; goal < 100 ms). Times are of
``db.sync.sync()`` with both databases already open, as the app calls it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--tracks", type=int, default=1_000)
    parser.add_argument("--playlists", type=int, default=100)
    parser.add_argument("--noop-runs", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        servers = []
        try:
            t = time.perf_counter()
            for name in ("device", "shared"):
                server, superuser = pgtools.start_server(Path(tmp) / name)
                pgtools.prepare_template(superuser)
                servers.append((server, superuser))
            print(f"two servers started and migrated in {time.perf_counter() - t:.1f} s")
            local = Database(pgtools.fresh_database(servers[0][1]))
            device2 = Database(pgtools.fresh_database(servers[0][1]))
            remote = Database(pgtools.fresh_database(servers[1][1]))
            uid = uuid.uuid4()
            rows = seed(local, uid, args.history, args.tracks, args.playlists)

            t = time.perf_counter()
            first = sync(local, remote, uid)
            push_s = time.perf_counter() - t
            assert first.errors == [] and first.pushed == rows, first
            print(
                f"first sync (push) of {rows} rows ({args.history} history, {args.tracks} "
                f"tracks, {args.playlists} playlists): {push_s:.2f} s, {rows / push_s:,.0f} rows/s"
            )

            t = time.perf_counter()
            second = sync(device2, remote, uid)
            pull_s = time.perf_counter() - t
            assert second.errors == [], second
            print(
                f"first sync of a second device (pull) of {second.pulled} rows: "
                f"{pull_s:.2f} s, {second.pulled / pull_s:,.0f} rows/s"
            )

            times = []
            for _ in range(args.noop_runs):
                t = time.perf_counter()
                idle = sync(local, remote, uid)
                times.append((time.perf_counter() - t) * 1000)
                assert (idle.pushed, idle.pulled) == (0, 0), idle
            print(
                f"sync with nothing to do: median {statistics.median(times):.1f} ms, "
                f"worst {max(times):.1f} ms over {args.noop_runs} runs (goal < 100 ms)"
            )

            with local.user_session(uid) as s:
                s.execute(
                    text("update user_playlists set name = name || '!' where name like 'list 1%'")
                )
            t = time.perf_counter()
            small = sync(local, remote, uid)
            small_ms = (time.perf_counter() - t) * 1000
            print(f"sync of {small.pushed} edited playlists: {small_ms:.1f} ms")
            for db in (local, device2, remote):
                db.close()
        finally:
            for server, _ in servers:
                server.stop()


if __name__ == "__main__":
    main()

"""Benchmark: importing a large Spotify extended streaming history, old path against new.

Builds an export shaped like Spotify's (a zip of ``Streaming_History_Audio_*.json`` files
of ~16k records each, with podcasts and short plays mixed in), then measures, in one run:

1. parse only: records/s of the streaming reader + parser straight out of the zip;
2. full import (parse + write into ``user_history`` on a real embedded PostgreSQL, one
   transaction, as the user with RLS on, duplicate-check index and sync trigger in
   place) by the first path (``method="unnest"``: one insert of 2000 rows' arrays at a
   time, per-row outbox trigger), the previous one (COPY into a staging table, then
   ``INSERT … SELECT … ON CONFLICT DO NOTHING``, parsing and writing in turns, the
   unsorted statement trigger) and today's (the same with a read-ahead reader thread and
   the sorted trigger of 20261129140000), each into a fresh database, with the ratios;
3. re-import of the same zip by the new path (everything a duplicate), then the taste
   rebuild that ``import_history`` runs afterwards, timed on its own;
4. the peak resident memory (VmHWM) of each phase, reset between phases through
   ``/proc/self/clear_refs``, to show memory stays flat whatever the export size.

    .venv/bin/python tests/bench/bench_imports.py [--rows 500000] [--methods …]
    .venv/bin/python tests/bench/bench_imports.py --profile 100000   # the database's part
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from player.imports import Play, importer_for, read_records

PER_FILE = 16_000


def rss_mb() -> float:
    """Current resident set size (Linux), to separate fixed costs from growth."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 1024**2


def reset_peak() -> None:
    """Start a new peak-RSS measurement (Linux: "5" resets VmHWM to the current RSS)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass  # not Linux, or not allowed: the peak then covers the whole run


def peak_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_export(folder: Path, rows: int) -> Path:
    target = folder / "my_spotify_data.zip"
    base = {
        "platform": "android",
        "conn_country": "DE",
        "ip_addr": "203.0.113.5",
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
        "audiobook_title": None,
        "reason_start": "trackdone",
        "reason_end": "trackdone",
        "shuffle": False,
        "skipped": False,
        "offline": False,
        "offline_timestamp": 0,
        "incognito_mode": False,
    }
    start = 1_420_070_400  # 2015-01-01
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file_index, first in enumerate(range(0, rows, PER_FILE)):
            name = f"Spotify Extended Streaming History/Streaming_History_Audio_{file_index}.json"
            with archive.open(name, "w") as member:
                member.write(b"[")
                for i in range(first, min(first + PER_FILE, rows)):
                    record = dict(base)
                    when = time.gmtime(start + i * 240)
                    record["ts"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", when)
                    podcast = i % 50 == 0
                    record["ms_played"] = 12_000 if i % 17 == 0 else 215_000
                    record["master_metadata_track_name"] = None if podcast else f"Track {i % 5000}"
                    record["master_metadata_album_artist_name"] = (
                        None if podcast else f"Artist {i % 700}"
                    )
                    record["master_metadata_album_album_name"] = (
                        None if podcast else f"Album {i % 900}"
                    )
                    record["spotify_track_uri"] = (
                        None if podcast else f"spotify:track:{i % 5000:022d}"
                    )
                    if podcast:
                        record["episode_name"] = f"Episode {i}"
                    if i > first:
                        member.write(b",")
                    member.write(json.dumps(record).encode())
                member.write(b"]")
    return target


#: The sync outbox's insert trigger on user_history as it was before migration
#: 20261129120000: once per row.
ROW_TRIGGER = """
drop trigger if exists user_history_sync_inserts on public.user_history;
drop trigger if exists user_history_sync on public.user_history;
create trigger user_history_sync after insert or update or delete on public.user_history
  for each row execute function public.sync_record_change('id');
"""
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def unsorted_statement_trigger() -> str:
    """The statement-level outbox function as 20261129120000 made it (before 20261129140000
    fed its rows in key order): the function definition taken from that migration file."""
    sql = (MIGRATIONS / "20261129120000_history_sync_per_statement.sql").read_text()
    start = sql.index("create or replace function")
    return sql[start : sql.index("$$;", start) + 3]


#: What each word of a ``--methods`` label changes (words joined by "-", first one is the
#: write method of ``store_plays``).
FLAGS = {
    "rowtrigger": "the sync outbox's per-row insert trigger (before 20261129120000)",
    "unsorted": "the statement trigger's rows in random key order (before 20261129140000)",
    "serial": "no read-ahead thread: parse and write take turns",
}


#: Server-side cost of the final ``INSERT … SELECT … ON CONFLICT`` with parts of the
#: schema removed, one fresh database each (``--profile``). Each step removes one more.
PROFILE_STEPS = {
    "as shipped (as the user, RLS, FK, 5 indexes, sorted outbox trigger)": [],
    "outbox trigger unsorted (before 20261129140000)": ["unsorted"],
    "no outbox trigger": ["notrigger"],
    "no outbox trigger, no RLS (as the owner)": ["notrigger", "norls"],
    "... and no foreign key": ["notrigger", "norls", "nofk"],
    "... and no secondary indexes (user_id, played_at, user_played)": [
        "notrigger",
        "norls",
        "nofk",
        "noindexes",
    ],
}
_STAGE_ROWS = """
    insert into import_staging
    select 'spotify', 'spotify:track:' || lpad(mod(i, 5000)::text, 22, '0'),
           'Track ' || mod(i, 5000), 'Artist ' || mod(i, 700), 'Album ' || mod(i, 900),
           timestamptz '2015-01-01' + i * interval '240 seconds'
      from generate_series({first}, {last}) i
"""


def _backend_cpu_s(pid: int) -> float:
    """utime + stime of a server backend (same machine): its own work, whatever the load."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_insert(superuser: Any, rows: int, rounds: int = 2) -> None:
    """Where the database's time goes: the final insert of ``rows`` staged rows, per step."""
    from sqlalchemy import text

    from db.database import Database
    from db.models import User
    from player.imports import history
    from tests import pgtools

    print(
        f"\nprofile: the final inserts of {rows} staged rows, {history.COPY_BATCH_ROWS} per "
        "statement as in an import (server CPU of the inserting backend, wall clock)"
    )
    steps_run = [(r, label, steps) for r in range(rounds) for label, steps in PROFILE_STEPS.items()]
    for round_, label, steps in steps_run:  # interleaved rounds: the machine's load drifts
        url = pgtools.fresh_database(superuser)
        database = Database(url)
        with database.service_session() as s:
            user = User(email="profile@example.com")
            s.add(user)
            s.flush()
            user_id = user.id
        with database.engine.begin() as conn:
            if "unsorted" in steps:
                conn.exec_driver_sql(unsorted_statement_trigger())
            if "notrigger" in steps:
                conn.exec_driver_sql("alter table public.user_history disable trigger user")
            if "nofk" in steps:
                conn.exec_driver_sql(
                    "alter table public.user_history drop constraint user_history_user_id_fkey"
                )
            if "noindexes" in steps:
                for index in ("user_id", "played_at", "user_played"):
                    conn.exec_driver_sql(f"drop index public.idx_user_history_{index}")
        with database.engine.begin() as conn:
            if "norls" not in steps:  # what Database.user_session does
                conn.exec_driver_sql("set local role authenticated")
                claims = json.dumps({"sub": str(user_id), "role": "authenticated"})
                conn.execute(
                    text("select set_config('request.jwt.claims', :c, true)"), {"c": claims}
                )
            conn.exec_driver_sql(history._CREATE_STAGING)
            pid = conn.exec_driver_sql("select pg_backend_pid()").scalar_one()
            cpu = wall = 0.0
            moved = 0
            for first in range(1, rows + 1, history.COPY_BATCH_ROWS):  # as an import does
                last = min(first + history.COPY_BATCH_ROWS - 1, rows)
                conn.exec_driver_sql(_STAGE_ROWS.format(first=first, last=last))
                cpu0, t0 = _backend_cpu_s(pid), time.perf_counter()
                moved += conn.execute(history._MOVE_STAGED, {"user_id": user_id}).rowcount
                wall += time.perf_counter() - t0
                cpu += _backend_cpu_s(pid) - cpu0
                conn.exec_driver_sql("truncate import_staging")
            plan = ""
            if not steps and not round_:  # one more batch, explained: plan, buffers, trigger times
                conn.exec_driver_sql(
                    _STAGE_ROWS.format(first=rows + 1, last=rows + history.COPY_BATCH_ROWS)
                )
                explained = conn.execute(
                    text("explain (analyze, buffers) " + str(history._MOVE_STAGED)),
                    {"user_id": user_id},
                )
                plan = "\n".join("    " + line for (line,) in explained)
        print(
            f"  [{round_ + 1}] {label}: {cpu:.2f} s CPU = {rows / max(cpu, 1e-3):,.0f} rows/CPU-s "
            f"({wall:.2f} s wall, {moved} rows)"
        )
        if plan:
            print(plan)
        database.close()
        pgtools.drop_database(superuser, url.database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument(
        "--no-sync-trigger",
        action="store_true",
        help="disable the sync outbox trigger on user_history (to see its share of the cost)",
    )
    parser.add_argument(
        "--methods",
        default="unnest-rowtrigger,copy-serial-unsorted,copy",
        help="write paths to compare, in order, the first being the baseline: 'unnest' or "
        "'copy', then any of "
        + "; ".join(f"'-{flag}': {what}" for flag, what in FLAGS.items())
        + " (default: the first import path, the one before this change, and today's: "
        "unnest-rowtrigger,copy-serial-unsorted,copy)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="ROWS",
        help="instead of the import, profile the database's part: the final insert of ROWS "
        "staged rows with parts of the schema removed step by step (server CPU seconds)",
    )
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]

    from tests import pgtools

    if args.profile:
        with tempfile.TemporaryDirectory() as tmp:
            server, superuser = pgtools.start_server(Path(tmp) / "pgdata")
            try:
                pgtools.prepare_template(superuser)
                profile_insert(superuser, args.profile)
            finally:
                server.stop()
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        export = build_export(folder, args.rows)
        unpacked = sum(i.file_size for i in zipfile.ZipFile(export).infolist())
        print(
            f"export: {args.rows} records in {len(zipfile.ZipFile(export).infolist())} files, "
            f"{export.stat().st_size / 1e6:.1f} MB zipped, {unpacked / 1e6:.1f} MB unpacked "
            f"(built in {time.perf_counter() - t0:.1f} s); RSS {rss_mb():.0f} MB"
        )

        reset_peak()
        t0 = time.perf_counter()
        plays = sum(
            isinstance(r, Play) for r in read_records(importer_for("spotify-extended"), export)
        )
        parse_s = time.perf_counter() - t0
        print(
            f"parse only: {args.rows / parse_s:,.0f} records/s ({parse_s:.1f} s, {plays} plays); "
            f"peak RSS {peak_mb():.0f} MB"
        )

        server, superuser = pgtools.start_server(folder / "pgdata")
        speeds: dict[str, float] = {}
        try:
            pgtools.prepare_template(superuser)
            from db.database import Database
            from db.models import User
            from player.imports.history import rebuild_taste_after_import, store_plays

            for label in methods:
                method, *flags = label.split("-")
                unknown = set(flags) - set(FLAGS)
                if unknown:
                    parser.error(f"unknown flag(s) {sorted(unknown)} in {label!r}")
                database = Database(pgtools.fresh_database(superuser))
                if "rowtrigger" in flags:
                    with database.engine.begin() as conn:
                        conn.exec_driver_sql(ROW_TRIGGER)
                if "unsorted" in flags:
                    with database.engine.begin() as conn:
                        conn.exec_driver_sql(unsorted_statement_trigger())
                if args.no_sync_trigger:
                    with database.engine.begin() as conn:
                        conn.exec_driver_sql("alter table public.user_history disable trigger user")
                with database.service_session() as s:
                    user = User(email="bench@example.com")
                    s.add(user)
                    s.flush()
                    user_id = user.id
                importer = importer_for("spotify-extended")
                reset_peak()
                t0 = time.perf_counter()
                read_ahead = "serial" not in flags
                result = store_plays(
                    database,
                    user_id,
                    read_records(importer, export),
                    method=method,
                    read_ahead=read_ahead,
                )
                import_s = time.perf_counter() - t0
                speeds[label] = args.rows / import_s
                print(
                    f"full import [{label}]: {args.rows / import_s:,.0f} records/s, "
                    f"{result.imported / import_s:,.0f} rows inserted/s ({import_s:.1f} s), "
                    f"imported {result.imported}, skipped {result.skipped}; "
                    f"peak RSS {peak_mb():.0f} MB"
                )
                if label == methods[-1]:
                    reset_peak()
                    t0 = time.perf_counter()
                    again = store_plays(
                        database,
                        user_id,
                        read_records(importer, export),
                        method=method,
                        read_ahead=read_ahead,
                    )
                    again_s = time.perf_counter() - t0
                    print(
                        f"re-import [{label}]: {args.rows / again_s:,.0f} records/s "
                        f"({again_s:.1f} s), imported {again.imported}, duplicates "
                        f"{again.duplicates}; peak RSS {peak_mb():.0f} MB"
                    )
                    t0 = time.perf_counter()
                    rebuild_taste_after_import(database, user_id)
                    print(
                        f"taste rebuild after import: {time.perf_counter() - t0:.1f} s; "
                        f"RSS {rss_mb():.0f} MB"
                    )
                database.close()
        finally:
            server.stop()
        for i, label in enumerate(methods[1:], 1):
            for base in methods[:i]:
                print(
                    f"{label} / {base}: {speeds[label] / speeds[base]:.2f}x "
                    f"({speeds[base]:,.0f} -> {speeds[label]:,.0f} records/s; goal 10,000)"
                )
        print(
            f"process peak RSS over the run: "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
            f"(export {unpacked / 1e6:.0f} MB unpacked)"
        )


if __name__ == "__main__":
    main()

"""Benchmark: importing a large Spotify extended streaming history.

Builds an export shaped like Spotify's (a zip of ``Streaming_History_Audio_*.json`` files
of ~16k records each, with podcasts and short plays mixed in), then measures

1. parse only: rows/s of the streaming reader + parser straight out of the zip;
2. import: rows/s into ``user_history`` (``store_plays``) on a real embedded PostgreSQL,
   one transaction, as the user (RLS on), with the duplicate-check index in place;
3. re-import of the same zip (everything a duplicate), then the taste rebuild that
   ``import_history`` runs afterwards, timed on its own;
4. peak resident memory of the process (ru_maxrss), to show it does not grow with the
   export size.

    .venv/bin/python tests/bench/bench_imports.py [--rows 500000] [--no-sync-trigger]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from player.imports import Play, importer_for, read_records

PER_FILE = 16_000


def rss_mb() -> float:
    """Current resident set size (Linux), to separate fixed costs from growth."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 1024**2


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument(
        "--no-sync-trigger",
        action="store_true",
        help="disable the sync outbox trigger on user_history (to see its share of the cost)",
    )
    args = parser.parse_args()

    from tests import pgtools

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        export = build_export(folder, args.rows)
        unpacked = sum(i.file_size for i in zipfile.ZipFile(export).infolist())
        print(
            f"export: {args.rows} records in {len(zipfile.ZipFile(export).infolist())} files, "
            f"{export.stat().st_size / 1e6:.1f} MB zipped, {unpacked / 1e6:.1f} MB unpacked "
            f"(built in {time.perf_counter() - t0:.1f} s)"
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        t0 = time.perf_counter()
        plays = sum(
            isinstance(r, Play) for r in read_records(importer_for("spotify-extended"), export)
        )
        parse_s = time.perf_counter() - t0
        print(
            f"parse only: {args.rows / parse_s:,.0f} records/s ({parse_s:.1f} s, {plays} plays); "
            f"RSS {rss_mb():.0f} MB"
        )

        server, superuser = pgtools.start_server(folder / "pgdata")
        try:
            pgtools.prepare_template(superuser)
            url = pgtools.fresh_database(superuser)
            from db.database import Database
            from db.models import User
            from player.imports.history import rebuild_taste_if_available, store_plays

            database = Database(url)
            if args.no_sync_trigger:
                with database.engine.begin() as conn:
                    conn.exec_driver_sql("alter table public.user_history disable trigger user")
                print("user triggers on user_history disabled (sync outbox not written)")
            with database.service_session() as s:
                user = User(email="bench@example.com")
                s.add(user)
                s.flush()
                user_id = user.id
            print(f"RSS with database libraries loaded: {rss_mb():.0f} MB")
            importer = importer_for("spotify-extended")
            t0 = time.perf_counter()
            result = store_plays(database, user_id, read_records(importer, export))
            import_s = time.perf_counter() - t0
            print(
                f"import: {args.rows / import_s:,.0f} records/s, "
                f"{result.imported / import_s:,.0f} rows inserted/s ({import_s:.1f} s) "
                f"-> {result.to_json()}; RSS {rss_mb():.0f} MB"
            )
            t0 = time.perf_counter()
            again = store_plays(database, user_id, read_records(importer, export))
            again_s = time.perf_counter() - t0
            print(
                f"re-import: {args.rows / again_s:,.0f} records/s ({again_s:.1f} s), "
                f"imported {again.imported}, duplicates {again.duplicates}; RSS {rss_mb():.0f} MB"
            )
            t0 = time.perf_counter()
            rebuilt = rebuild_taste_if_available(database, user_id)
            print(
                f"taste rebuild after import: {time.perf_counter() - t0:.1f} s "
                f"({'ran' if rebuilt else 'player.taste missing'}); RSS {rss_mb():.0f} MB"
            )
            database.close()
        finally:
            server.stop()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"peak RSS: {peak:.0f} MB (was {rss_before:.0f} MB before parsing; "
            f"export {unpacked / 1e6:.0f} MB unpacked)"
        )


if __name__ == "__main__":
    main()

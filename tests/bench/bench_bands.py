"""Bands benchmark: persona and cover speed, style upkeep and discovery on a real database.

Run: ``.venv/bin/python tests/bench/bench_bands.py [--bands N] [--tracks N]``
(starts its own throw-away embedded PostgreSQL; prints one line per figure).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"


def bench_persona() -> None:
    from player.bands.persona import BandStyle, GrammarPersonaBackend

    backend = GrammarPersonaBackend()
    style = BandStyle.of(["house", "funk"], "energetic")
    taken: list[str] = []
    start = time.perf_counter()
    n = 2000
    for seed in range(n):
        taken.append(backend.generate(style, seed, taken[-50:]).name)
    rate = n / (time.perf_counter() - start)
    print(f"persona (grammar): {rate:,.0f} personas/s; {len(set(taken))} distinct names in {n}")


def bench_covers() -> None:
    from player.bands.cover import encode_png, render_cover

    rng = np.random.default_rng(0)
    for genre in ["pop", "hip-hop", "techno", "lo-fi", "rock", "jazz"]:
        times, sizes = [], []
        for i in range(5):
            v = rng.standard_normal(768).astype(np.float32)
            t = time.perf_counter()
            png = encode_png(render_cover(v, genre, salt=str(i)))
            times.append(time.perf_counter() - t)
            sizes.append(len(png))
        print(f"cover 512x512 {genre:8}: {_ms(times)}, {statistics.mean(sizes) / 1024:.0f} KiB")


SPACE = "descriptor-v1"


def bench_database(n_bands: int, n_tracks: int) -> None:
    from db.database import Database
    from db.models import Band, GeneratedTrack, User
    from player.bands.service import BandService
    from player.embedding.store import store_track_vector
    from tests import pgtools

    home = tempfile.mkdtemp(prefix="bench-bands-")
    os.environ["INFINITE_PLAYER_HOME"] = home
    server, superuser = pgtools.start_server(Path(home) / "pgdata")
    db = None
    try:
        pgtools.prepare_template(superuser)
        db = Database(pgtools.fresh_database(superuser))
        rng = np.random.default_rng(1)
        with db.service_session() as s:
            me = User(
                email="me@example.com",
                taste_vector=rng.standard_normal(768),
                embedding_space=SPACE,
            )
            creator = User(email="creator@example.com")
            s.add_all([me, creator])
            s.flush()
            track_ids = []
            for _ in range(n_tracks):
                track = GeneratedTrack(
                    user_id=creator.id, url="file:///x", duration=180, mode="new"
                )
                s.add(track)
                s.flush()
                store_track_vector(s, track.id, rng.standard_normal(768), SPACE)
                track_ids.append(track.id)
            s.add_all(
                Band(
                    user_id=creator.id,
                    name=f"Band {i}",
                    style_vector=rng.standard_normal(768),
                    embedding_space=SPACE,
                    is_public=bool(i % 4),
                )
                for i in range(n_bands)
            )
        svc = BandService(db)

        t = time.perf_counter()
        band = svc.create_band(creator.id, genres=["techno"], track_ids=track_ids[:-20])
        print(
            f"create band with {n_tracks - 20} tracks (persona, style, cover): "
            f"{(time.perf_counter() - t) * 1000:.0f} ms"
        )
        adds = []
        for tid in track_ids[-20:]:
            t = time.perf_counter()
            svc.add_tracks(creator.id, band.id, [tid])
            adds.append(time.perf_counter() - t)
        print(f"add one track to a {n_tracks}-track band (style recomputed): {_ms(adds)}")

        # Rebuild the ivfflat lists now that there is data (as an operator would).
        with db.engine.begin() as conn:
            conn.exec_driver_sql("reindex index idx_bands_style_vector")
        finds = []
        for _ in range(20):
            t = time.perf_counter()
            found = svc.discover(me.id, limit=10)
            finds.append(time.perf_counter() - t)
        print(f"discover top-10 among {n_bands} bands ({len(found)} found): {_ms(finds)}")

        fans = []
        with db.service_session() as s:
            users = [User(email=f"fan{i}@example.com") for i in range(50)]
            s.add_all(users)
            s.flush()
            fans = [u.id for u in users]
        t = time.perf_counter()
        for fan in fans:
            svc.follow(fan, band.id)
        per = (time.perf_counter() - t) / len(fans)
        print(
            f"follow: {per * 1000:.1f} ms each; count {svc.get_band(me.id, band.id).follower_count}"
        )
    finally:
        if db is not None:
            db.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bands", type=int, default=5000)
    parser.add_argument("--tracks", type=int, default=200)
    args = parser.parse_args()
    bench_persona()
    bench_covers()
    bench_database(args.bands, args.tracks)


if __name__ == "__main__":
    main()

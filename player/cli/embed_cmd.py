# SPDX-License-Identifier: MIT
"""``infinite-player embed``: audio files to vectors, printed or stored.

    infinite-player embed FILE... [--json] [--embedder auto|descriptor|mert]
                                  [--into-db [--source S]]
    infinite-player embed --reembed     # bring stored vectors into the active space

A file that cannot be embedded is reported on stderr and the others still go through;
the exit status is 2 when any failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

SOURCES = ("local", "musicbrainz", "spotify", "fma", "jamendo", "infinite", "apple", "youtube")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "embed",
        help="embed audio files into the taste vector space",
        description="Turn audio files into 768-number vectors (L2-normalised) in the "
        "active vector space; print them or store them in the database.",
    )
    p.add_argument(
        "files", nargs="*", metavar="FILE", help="audio files (WAV, FLAC, Ogg, MP3, ...)"
    )
    p.add_argument(
        "--json", action="store_true", help="one JSON line per file: path, space, vector"
    )
    p.add_argument(
        "--embedder",
        choices=("auto", "descriptor", "mert"),
        default="auto",
        help="auto (default): the settings' choice; MERT when a checkpoint is on disk, "
        "else descriptor",
    )
    p.add_argument(
        "--into-db", action="store_true", help="store the vectors in the embeddings table"
    )
    p.add_argument(
        "--source", choices=SOURCES, default="local", help="embeddings.source (with --into-db)"
    )
    p.add_argument(
        "--reembed",
        action="store_true",
        help="re-embed stored vectors that are in another space, with progress",
    )
    p.set_defaults(func=run_embed)


def _tags(path: str) -> tuple[str, str]:
    """Title and artist from the file's tags where libsndfile exposes them."""
    from pathlib import Path

    import soundfile as sf

    title, artist = Path(path).stem, "Unknown artist"
    try:
        with sf.SoundFile(path) as f:
            meta: dict[str, Any] = f.copy_metadata()
        title = meta.get("title") or title
        artist = meta.get("artist") or artist
    except Exception:  # tags are a nicety; the audio was already read successfully
        pass
    return str(title), str(artist)


def run_embed(args: argparse.Namespace) -> int:
    from base.errors import UserFacingError
    from player.embedding import active_embedder, get_embedder

    if not args.files and not args.reembed:
        raise UserFacingError("name at least one audio file to embed (or use --reembed)")
    embedder = active_embedder() if args.embedder == "auto" else get_embedder(args.embedder)
    database = None
    if args.into_db or args.reembed:
        from db.database import Database

        database = Database.open_default()
    failed = 0
    for path in args.files:
        try:
            vector = embedder.embed_file(path)
        except UserFacingError as exc:
            print(f"infinite-player: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if database is not None and args.into_db:
            from pathlib import Path

            from player.embedding.store import LOCAL_PREFIX, store_vector

            title, artist = _tags(path)
            track_id = LOCAL_PREFIX + str(Path(path).resolve()) if args.source == "local" else None
            with database.service_session() as s:
                store_vector(
                    s,
                    track_id=track_id,
                    track_name=title,
                    artist=artist,
                    vector=vector,
                    space=embedder.space,
                    source=args.source,
                )
        if args.json:
            record = {"path": path, "space": embedder.space, "vector": [float(x) for x in vector]}
            print(json.dumps(record), flush=True)
        else:
            head = " ".join(f"{x:+.3f}" for x in vector[:4])
            stored = " (stored)" if args.into_db else ""
            print(f"{path}: {embedder.space}, {vector.size} dims [{head} ...]{stored}", flush=True)
    if args.reembed and database is not None:
        from player.embedding.reembed import reembed_all
        from player.taste import rebuild_taste

        def progress(done: int, total: int, message: str) -> None:
            print(f"\r[{done}/{total}] {message[:60]:<60}", end="", file=sys.stderr, flush=True)

        report = reembed_all(database, embedder, progress, rebuild_taste=rebuild_taste)
        print(file=sys.stderr)
        print(
            f"re-embedded {report.embedded} into {report.space}; {report.unavailable} without "
            f"local audio; {len(report.failed)} failed; {report.users} tastes and "
            f"{report.bands} bands updated"
        )
        failed += len(report.failed)
    return 2 if failed else 0

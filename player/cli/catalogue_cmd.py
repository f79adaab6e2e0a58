# SPDX-License-Identifier: MIT
"""``infinite-player catalogue add FOLDER``: the listener's own music into the catalogue.

    infinite-player catalogue add FOLDER [--json] [--embedder auto|descriptor|mert]

Progress goes to stderr; Ctrl+C stops after the current file and a later run resumes
(unchanged files are skipped). Files that cannot be read are named; the exit status is
2 when any was skipped, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("catalogue", help="the embeddings catalogue: add your music folder")
    c_sub = p.add_subparsers(dest="catalogue_command", metavar="ACTION", required=True)
    add = c_sub.add_parser(
        "add",
        help="embed every audio file of a folder into the catalogue (resumable)",
        description="Embed the audio files under FOLDER in the active vector space and "
        "store them as source 'local' with their tags (MusicBrainz recording id, ISRC, "
        "artist, title, genre). Unchanged files are skipped on later runs.",
    )
    add.add_argument("folder", metavar="FOLDER")
    add.add_argument("--json", action="store_true", help="print the report as one JSON line")
    add.add_argument("--embedder", choices=("auto", "descriptor", "mert"), default="auto")
    add.set_defaults(func=run_add)


def run_add(args: argparse.Namespace) -> int:
    from db.database import Database
    from player.catalogue.folder import FolderJob
    from player.embedding import active_embedder, get_embedder

    embedder = active_embedder() if args.embedder == "auto" else get_embedder(args.embedder)

    def progress(done: int, total: int, name: str) -> None:
        print(f"\r[{done}/{total}] {name[:60]:60s}", end="", file=sys.stderr, flush=True)

    database = Database.open_default()
    job = FolderJob(database, args.folder, embedder=embedder, progress=progress)
    try:
        job.start()
        try:
            while job.running:
                job.wait(0.2)
        except KeyboardInterrupt:
            job.cancel()
        report = job.wait()
    finally:
        database.close()
    print(file=sys.stderr)
    assert report is not None
    if args.json:
        print(json.dumps({**report.__dict__, "space": embedder.space}))
    else:
        for path, reason in report.failed:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        print(report.summary())
    return 2 if report.failed else 0

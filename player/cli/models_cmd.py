"""``infinite-player models``: the catalogue of downloadable models, on the listener's request.

    infinite-player models list [--json]
    infinite-player models get NAME [--accept-licence]
    infinite-player models verify NAME [--hub]
    infinite-player models remove NAME

``get`` shows the licence and asks once (or takes ``--accept-licence``), then downloads
with a progress line on stderr; Ctrl-C stops it and the next ``get`` resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list, download, verify or remove MusicGen and MERT models",
        description="Models the app can download into its data folder (MusicGen for "
        "generation on a GPU, MERT for embeddings). Nothing is downloaded unless you ask.",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = verbs.add_parser("list", help="the catalogue and what is on this machine")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=run_list)
    get = verbs.add_parser("get", help="download a model (resumes an interrupted download)")
    get.add_argument("name", metavar="NAME")
    get.add_argument(
        "--accept-licence",
        action="store_true",
        help="accept the model's licence without being asked (it is still shown)",
    )
    get.set_defaults(func=run_get)
    ver = verbs.add_parser("verify", help="check every file's sha256")
    ver.add_argument("name", metavar="NAME")
    ver.add_argument(
        "--hub", action="store_true", help="check against the Hub, not the local manifest"
    )
    ver.set_defaults(func=run_verify)
    rm = verbs.add_parser("remove", help="delete a downloaded model")
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(func=run_remove)


def run_list(args: argparse.Namespace) -> int:
    from player.generation.engines import choose_engine
    from player.models import catalogue, licence_accepted, local_state
    from player.models.downloader import human_bytes

    rows: list[dict[str, Any]] = []
    for entry in catalogue():
        state = local_state(entry)
        rows.append(
            {
                "name": entry.name,
                "title": entry.title,
                "repo": entry.repo,
                "revision": entry.revision,
                "size_bytes": entry.size_bytes,
                "min_vram_gb": entry.min_vram_gb,
                "engine": entry.engine,
                "licence": entry.licence.id,
                "licence_url": entry.licence.url,
                "licence_accepted": licence_accepted(entry),
                "state": state.state,
                "folder": str(state.folder),
                "unverified": list(entry.unverified),
                "sources": dict(entry.sources),
            }
        )
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    for entry, row in zip(catalogue(), rows, strict=True):
        revision = entry.revision[:12] if entry.pinned else f"{entry.revision} (not pinned)"
        print(
            f"{row['name']:<16} {row['state']:<10} ~{human_bytes(row['size_bytes']):>9}  "
            f"≥{row['min_vram_gb']:g} GB VRAM  {row['licence']}  {row['title']}  @{revision}"
        )
    print(f"\nGeneration: {choose_engine().reason}")
    print("Sizes and VRAM are estimates; the Hub's own sizes and checksums are used to download.")
    return 0


def _print_progress(p: object) -> None:
    from player.models import Progress

    assert isinstance(p, Progress)
    sys.stderr.write(f"\r{p.fraction * 100:5.1f}%  {p.describe():<50}")
    sys.stderr.flush()


def run_get(args: argparse.Namespace) -> int:
    from base.errors import UserFacingError
    from player.models import (
        accept_licence,
        download,
        find,
        licence_accepted,
        licence_text,
    )

    entry = find(args.name)
    if not licence_accepted(entry):
        print(licence_text(entry))
        if args.accept_licence:
            accept_licence(entry)
        elif sys.stdin.isatty():
            answer = input("Accept this licence? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                raise UserFacingError("Licence not accepted; nothing was downloaded.")
            accept_licence(entry)
        else:
            raise UserFacingError(
                f"The licence of {entry.name} must be accepted before it is downloaded: "
                f"run `infinite-player models get {entry.name} --accept-licence`."
            )
    cancel = threading.Event()
    try:
        report = download(entry, progress=_print_progress, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        sys.stderr.write("\nStopped; run the same command again to resume.\n")
        return 130
    sys.stderr.write("\n")
    resumed = f", {report.resumed_bytes} bytes resumed" if report.resumed_bytes else ""
    print(
        f"{entry.name} installed in {report.folder} ({report.files} files, commit "
        f"{report.commit[:12]}, every file checked against the Hub's sha256{resumed})."
    )
    if entry.family == "mert":
        print(
            "Vectors already stored are in another space: run `infinite-player embed --reembed` "
            "to bring them into MERT's (the app does it by itself)."
        )
    else:
        from player.generation.engines import choose_engine

        print(choose_engine().reason)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from player.models import find, verify

    report = verify(find(args.name), use_hub=args.hub)
    for name in report.ok:
        print(f"ok       {name}")
    for problem in report.bad.values():
        print(f"CORRUPT  {problem}")
    for name in report.missing:
        print(f"MISSING  {name}")
    if report.passed:
        print(f"{report.name}: all {len(report.ok)} files match the {report.against}'s sha256.")
        return 0
    print(
        f"{report.name}: verification failed; run `infinite-player models remove {report.name}` "
        f"and `infinite-player models get {report.name}`.",
        file=sys.stderr,
    )
    return 1


def run_remove(args: argparse.Namespace) -> int:
    from player.models import find, remove
    from player.models.downloader import human_bytes

    entry = find(args.name)
    freed = remove(entry)
    print(f"Removed {entry.name} ({human_bytes(freed)} freed).")
    return 0

"""`infinite-player sync [--remote URL]` and `infinite-player sync status`: one JSON line each."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from player.storage import AudioStorage

REMOTE_ENV = "INFINITE_PLAYER_REMOTE_URL"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sync",
        help="sync this device's library with the shared database",
        description="Pull what changed on the shared database, then push this device's "
        "changes. Prints one JSON line: pushed, pulled, conflicts, errors.",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=("run", "status"),
        default="run",
        help="run a sync (default) or show the last sync, pending changes and errors",
    )
    parser.add_argument(
        "--remote",
        metavar="URL",
        help=f"PostgreSQL URL of the shared database (default: ${REMOTE_ENV})",
    )
    parser.add_argument("--user", metavar="ID", help="account to sync (default: the only one)")
    parser.add_argument(
        "--storage",
        metavar="DIR_OR_URL",
        help="shared audio storage: a folder or a Supabase project URL "
        "(default: $INFINITE_PLAYER_STORAGE; none: audio stays on this device)",
    )
    parser.add_argument("--batch", type=int, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=_sync)


def _sync(args: argparse.Namespace) -> int:
    from base.errors import UserFacingError
    from db.database import Database
    from db.sync import status, sync
    from db.url import parse_database_url

    if args.batch is not None and args.batch < 1:
        raise UserFacingError("--batch must be a positive number of rows.")
    remote = args.remote or os.environ.get(REMOTE_ENV, "").strip()
    storage = None
    if args.action == "run":
        # Bad input is named before the local database is even opened.
        if not remote:
            raise UserFacingError(
                f"No shared database to sync with: pass --remote URL or set {REMOTE_ENV}."
            )
        parse_database_url(remote, "the shared database URL (--remote)")
        storage = _storage(args.storage)
    local = Database.open_default()
    try:
        if args.action == "status":
            print(json.dumps(status(local, args.user)))
            return 0
        try:
            result = sync(local, remote, args.user, storage=storage, batch=args.batch)
        except UserFacingError as exc:
            partial = getattr(exc, "partial", None)
            done: dict[str, Any] = (
                partial.as_dict()
                if partial is not None
                else {"pushed": 0, "pulled": 0, "conflicts": 0, "errors": []}
            )
            done["errors"] = [*done["errors"], str(exc)]
            print(json.dumps(done))
            print(f"infinite-player: error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(result.as_dict()))
        return 1 if result.errors else 0
    finally:
        local.close()


def _storage(value: str | None) -> AudioStorage | None:
    from player.storage import storage_from_env

    return storage_from_env(value)

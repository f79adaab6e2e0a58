"""`infinite-player sync [--supabase | --remote URL]`, `sync status`, `sync sign-in EMAIL`,
`sync sign-out`, `sync account`: one JSON line each.

``--supabase`` is the shared product: the signed-in account's token over the Data API, so
this machine holds nothing that can act as another user. ``--remote`` connects straight to
a PostgreSQL URL and is only for a database the listener alone uses: whoever holds that
URL can act as any user of it, which the command says every time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from player.account import Account
    from player.storage import AudioStorage

REMOTE_ENV = "INFINITE_PLAYER_REMOTE_URL"
DIRECT_WARNING = (
    "infinite-player: note: --remote connects straight to that database. Anyone holding "
    "this URL can read and change every user's rows there (row-level security does not bind "
    "its login). Use it only for a database you alone use; the shared service is "
    "`sync --supabase`."
)


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
        choices=("run", "status", "sign-in", "sign-out", "account"),
        default="run",
        help="run a sync (default); show the last sync, pending changes and errors; sign in "
        "to the Supabase account (a code is mailed to EMAIL), sign out, or show who is "
        "signed in",
    )
    parser.add_argument("email", nargs="?", help="for sign-in: the account's email address")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--supabase",
        action="store_true",
        help="sync with the Supabase project as the signed-in account (the Data API; project "
        "from $INFINITE_PLAYER_SUPABASE_URL/_KEY or the supabase_url/supabase_key settings)",
    )
    where.add_argument(
        "--remote",
        metavar="URL",
        help="PostgreSQL URL of a database you alone use (self-hosted; anyone holding the URL "
        f"can act as any user of it) (default: ${REMOTE_ENV})",
    )
    parser.add_argument(
        "--code", help="for sign-in: the code from the email (asked for when not given)"
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

    if args.batch is not None and args.batch < 1:
        raise UserFacingError("--batch must be a positive number of rows.")
    if args.action in ("sign-in", "sign-out", "account"):
        return _account_action(args)
    if args.email:
        raise UserFacingError(f"Unexpected argument {args.email!r} for `sync {args.action}`.")
    if args.supabase and args.action == "run":
        return _sync_supabase(args)
    return _sync_direct(args)


def _open_account() -> Account:
    from base.errors import UserFacingError
    from player.account import Account, account_config
    from player.account.config import KEY_ENV, URL_ENV
    from player.settings import Settings

    config = account_config(Settings.load())
    if config is None:
        raise UserFacingError(
            f"No Supabase project is configured: set {URL_ENV} and {KEY_ENV} (the project URL "
            "and its publishable key), or the supabase_url and supabase_key settings."
        )
    return Account(config)


def _account_action(args: argparse.Namespace) -> int:
    from base.errors import UserFacingError

    account = _open_account()
    if args.action == "account":
        who = account.signed_in()
        print(json.dumps({"signed_in": who is not None, **(who.__dict__ if who else {})}))
        return 0
    if args.action == "sign-out":
        note = account.sign_out()
        print(json.dumps({"signed_in": False, "note": note}))
        return 0
    if not args.email:
        raise UserFacingError("sign-in needs the account's email: `sync sign-in you@example.com`.")
    code = args.code
    if not code:
        account.send_code(args.email)
        print(f"A sign-in code was sent to {args.email}.", file=sys.stderr)
        code = input("Code: ")
    who = account.verify_code(args.email, code)
    print(json.dumps({"signed_in": True, **who.__dict__}))
    return 0


def _sync_supabase(args: argparse.Namespace) -> int:
    from base.errors import UserFacingError
    from db.database import Database

    account = _open_account()
    who = account.signed_in()
    if who is None:
        raise UserFacingError(
            "Not signed in to the Supabase account: run `infinite-player sync sign-in EMAIL`."
        )
    if args.user and args.user != who.user_id:
        raise UserFacingError(
            f"--user {args.user} is not the signed-in account ({who.email}, {who.user_id})."
        )
    storage = _storage(args.storage) if args.storage else account.audio_storage()
    local = Database.open_default()
    remote = account.remote()
    try:
        return _run(local, remote, who.user_id, storage, args.batch)
    finally:
        remote.close()
        local.close()


def _sync_direct(args: argparse.Namespace) -> int:
    from base.errors import UserFacingError
    from db.database import Database
    from db.sync import status
    from db.url import parse_database_url

    remote = args.remote or os.environ.get(REMOTE_ENV, "").strip()
    storage = None
    if args.action == "run":
        # Bad input is named before the local database is even opened.
        if not remote:
            raise UserFacingError(
                f"No shared database to sync with: pass --supabase (signed in), or --remote "
                f"URL / {REMOTE_ENV} for a database you alone use."
            )
        parse_database_url(remote, "the shared database URL (--remote)")
        storage = _storage(args.storage)
        print(DIRECT_WARNING, file=sys.stderr)
    local = Database.open_default()
    try:
        if args.action == "status":
            print(json.dumps(status(local, args.user)))
            return 0
        return _run(local, remote, args.user, storage, args.batch)
    finally:
        local.close()


def _run(local: Any, remote: Any, user: Any, storage: Any, batch: int | None) -> int:
    from base.errors import UserFacingError
    from db.sync import sync

    try:
        result = sync(local, remote, user, storage=storage, batch=batch)
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


def _storage(value: str | None) -> AudioStorage | None:
    from player.storage import storage_from_env

    return storage_from_env(value)

"""`infinite-player import KIND PATH --user EMAIL` and `connect|disconnect spotify`.

Each prints one JSON line (``read``, ``imported``, ``skipped``, ``duplicates``, the skip
reasons, what was recovered, notes and a plain-words ``summary``) so scripts can check
what happened; the summary also goes to stderr for the person at the terminal, with a
progress line while the import runs when stderr is a terminal. Ctrl-C cancels: the
import's transaction is rolled back. Bad input exits 2 with a message.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.database import Database

#: The CLI's names for the formats; must match ``player.imports.IMPORTERS``.
KINDS = (
    "spotify-export",
    "spotify-extended",
    "apple-export",
    "youtube-export",
    "listenbrainz",
    "lastfm",
)


def register(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import",
        help="import listening history from a service's data export",
        description="Import listening history from the zip (or its extracted files) that "
        "a service lets you download. Prints one JSON line with the counts.",
    )
    imp.add_argument("kind", choices=KINDS, help="which export the file is")
    imp.add_argument("path", type=Path, help="the downloaded zip, its folder, or one file")
    imp.add_argument("--user", required=True, metavar="EMAIL", help="whose history it is")
    imp.set_defaults(func=_import)

    for verb, handler, text in (
        ("connect", _connect, "sign in to a streaming service and import recent listening"),
        ("disconnect", _disconnect, "forget a service's tokens"),
    ):
        parser = sub.add_parser(verb, help=text, description=text)
        parser.add_argument("service", choices=("spotify",))
        parser.add_argument("--user", required=True, metavar="EMAIL")
        if verb == "connect":
            parser.add_argument(
                "--client-id",
                help="Spotify app client id (default: setting spotify_client_id or "
                "$INFINITE_PLAYER_SPOTIFY_CLIENT_ID)",
            )
            parser.add_argument(
                "--redirect-uri",
                help="loopback redirect registered for the app "
                "(default http://127.0.0.1:8765/callback)",
            )
            parser.add_argument(
                "--no-browser", action="store_true", help="print the sign-in URL instead"
            )
        parser.set_defaults(func=handler)


def _user(database: Database, email: str) -> uuid.UUID:
    from base.errors import UserFacingError
    from player.accounts import find_user

    user_id = find_user(database, email)
    if user_id is None:
        raise UserFacingError(f"no profile with email {email!r}; open the app once to create it")
    return user_id


def _import(args: argparse.Namespace) -> int:
    from db.database import Database
    from player.imports import ImportProgress
    from player.imports.history import import_history

    progress = ImportProgress(_terminal_progress) if sys.stderr.isatty() else None
    database = Database.open_default()
    try:
        result = import_history(
            database, _user(database, args.user), args.kind, args.path, progress=progress
        )
    finally:
        if progress is not None:
            print(file=sys.stderr)
        database.close()
    print(result.summary(), file=sys.stderr)
    print(result.to_json())
    return 0


def _terminal_progress(fraction: float | None, text: str) -> None:
    shown = "" if fraction is None else f"{fraction:4.0%} "
    print(f"\r{shown}{text[:70]:<70}", end="", file=sys.stderr, flush=True)


def _connect(args: argparse.Namespace) -> int:
    import webbrowser

    from db.database import Database
    from player.imports.spotify_connect import SpotifyConnector, spotify_config

    config = spotify_config(args.client_id, args.redirect_uri)
    database = Database.open_default()
    try:
        connector = SpotifyConnector(database, _user(database, args.user), config)
        opener = _print_url if args.no_browser else webbrowser.open
        connector.authorize(open_browser=opener)
        print(
            f"Connected; tokens are stored encrypted, key in {connector.store.cipher.key_location}",
            file=sys.stderr,
        )
        result = connector.sync()
    finally:
        database.close()
    print(result.to_json())
    return 0


def _print_url(url: str) -> bool:
    print(f"Open this address to sign in to Spotify:\n{url}", flush=True)
    return True


def _disconnect(args: argparse.Namespace) -> int:
    import json

    from db.database import Database
    from player.imports.tokens import TokenStore

    database = Database.open_default()
    try:
        removed = TokenStore(database).delete(_user(database, args.user), args.service)
    finally:
        database.close()
    print(json.dumps({"service": args.service, "disconnected": removed}))
    return 0

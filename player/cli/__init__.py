"""`infinite-player …`: the app with no arguments, headless sub-commands otherwise.

Each area of the product registers its own sub-commands in a small module of this
package (``register(subparsers)``), so adding a command never touches another area's
code. Registration must stay cheap: handlers import heavy modules (torch, Qt, numpy)
only when they run, so ``infinite-player --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from base.errors import UserFacingError
from player import __version__

#: Modules under ``player.cli`` that contribute sub-commands, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "db_cmd",
    "doctor_cmd",
    "audio_cmd",
    "generate_cmd",
    "embed_cmd",
    "models_cmd",
    "catalogue_cmd",
    "import_cmd",
    "sync_cmd",
    "band_cmd",
    "radio_cmd",
    "screenshots_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infinite-player",
        description="Music generated on your own machine to fit your taste. "
        "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"player.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from ui.app import run_app

        return run_app()
    try:
        return int(args.func(args) or 0)
    except UserFacingError as exc:
        print(f"infinite-player: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

"""`infinite-player screenshots OUT_DIR`: the real windows rendered to PNG files.

For reviewing the look without a desktop (run it under ``xvfb-run``) and for release
notes; the app's own views are drawn, on a throwaway profile.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("screenshots", help="render the app's views to PNG files")
    parser.add_argument("out_dir", help="folder to write the PNG files to")
    parser.add_argument(
        "--size",
        default="",
        metavar="WxH",
        help="screen size to lay the windows out for (default 1366x768; e.g. 1024x600)",
    )
    parser.set_defaults(func=_screenshots)


def _screenshots(args: argparse.Namespace) -> int:
    from ui.screenshots import run_screenshots

    return int(run_screenshots(args.out_dir, args.size))

"""`infinite-player doctor`: what this machine offers, in plain words."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("doctor", help="report database, audio, GPU, models, data folder")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--no-database", action="store_true", help="skip the database check")
    parser.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from player import doctor

    report = doctor.run(check_database=not args.no_database)
    print(json.dumps(report.as_dict()) if args.json else doctor.format_report(report))
    return 0

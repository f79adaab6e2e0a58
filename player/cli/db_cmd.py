"""`infinite-player db migrate|status|maintain`: the schema and its indexes, headless."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database: migrate, status, maintain")
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    migrate = db_sub.add_parser("migrate", help="apply pending migrations")
    migrate.add_argument("--json", action="store_true", help="print one JSON line")
    migrate.set_defaults(func=_migrate)
    status = db_sub.add_parser("status", help="list migrations and whether they are applied")
    status.add_argument("--json", action="store_true", help="print one JSON line")
    status.set_defaults(func=_status)
    maintain = db_sub.add_parser(
        "maintain", help="check the vector indexes; rebuild or analyse what growth made stale"
    )
    maintain.add_argument("--dry-run", action="store_true", help="report, change nothing")
    maintain.add_argument("--json", action="store_true", help="print one JSON line")
    maintain.set_defaults(func=_maintain)


def _migrate(args: argparse.Namespace) -> int:
    from db.database import Database

    database = Database.open_default(migrate_schema=False)
    try:
        applied = database.migrate()
        if args.json:
            print(
                json.dumps(
                    {"database": database.describe(), "applied": [f.filename for f in applied]}
                )
            )
        elif applied:
            for f in applied:
                print(f"applied {f.filename}")
        else:
            print(f"{database.describe()}: up to date")
    finally:
        database.close()
    return 0


def _status(args: argparse.Namespace) -> int:
    from db.database import Database

    database = Database.open_default(migrate_schema=False)
    where = database.describe()
    try:
        states = database.migration_status()
    finally:
        database.close()
    if args.json:
        print(json.dumps({"database": where, "migrations": [s.__dict__ for s in states]}))
    else:
        print(f"database: {where}")
        for s in states:
            print(f"{s.state:8} {s.version}_{s.name}")
    return 0 if all(s.state == "applied" for s in states) else 1


def _maintain(args: argparse.Namespace) -> int:
    from db.database import Database
    from db.maintain import maintain

    database = Database.open_default()
    try:
        report = maintain(database.engine, dry_run=args.dry_run)
    finally:
        database.close()
    if args.json:
        print(json.dumps(report.__dict__, default=str))
    else:
        for idx in report.indexes:
            print(f"{idx['index']}: {idx['method']} on {idx['table']}, {idx['rows']} rows")
        for note in report.notes:
            print(note)
        print(("would do: " if args.dry_run else "") + report.summary())
    return 0

"""`infinite-player db migrate|status`: the schema, headless."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database: migrate, status")
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    migrate = db_sub.add_parser("migrate", help="apply pending migrations")
    migrate.add_argument("--json", action="store_true", help="print one JSON line")
    migrate.set_defaults(func=_migrate)
    status = db_sub.add_parser("status", help="list migrations and whether they are applied")
    status.add_argument("--json", action="store_true", help="print one JSON line")
    status.set_defaults(func=_status)


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

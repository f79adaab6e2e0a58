"""The migration runner: Supabase's ledger, one transaction per file, no surprises.

Files in ``migrations/`` are plain SQL named ``<YYYYMMDDHHMMSS>_<name>.sql`` so that
``supabase db push`` applies the same files. Applied versions are recorded in
``supabase_migrations.schema_migrations(version, statements, name)`` exactly as the
Supabase CLI records them, so either tool sees the other's work. The recorded statements
double as the checksum: a file edited after it was applied no longer matches its ledger
row, and the runner refuses to go on rather than leave two databases that disagree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from base.errors import UserFacingError
from base.paths import bundled_folder
from db.sqlsplit import fingerprint, split_statements

MIGRATIONS_ENV = "INFINITE_PLAYER_MIGRATIONS"
FILENAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql$")
#: Serialises concurrent runners (two app processes starting at once).
ADVISORY_LOCK_KEY = 0x1F1A7E_0001

LEDGER_DDL = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text not null primary key,
  statements text[],
  name text
);
"""


class MigrationError(UserFacingError):
    """A migration could not be applied, or the ledger disagrees with the files."""


@dataclass(frozen=True)
class MigrationFile:
    version: str
    name: str
    path: Path

    @property
    def filename(self) -> str:
        return self.path.name

    def statements(self) -> list[str]:
        try:
            return split_statements(self.path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise MigrationError(f"{self.filename} cannot be parsed: {exc}.") from exc


@dataclass(frozen=True)
class MigrationState:
    version: str
    name: str
    state: str  # "applied" | "pending" | "changed" | "unknown" (in the DB, not in the files)


def migrations_dir() -> Path:
    override = os.environ.get(MIGRATIONS_ENV)
    if override:
        return Path(override)
    return bundled_folder("db._migrations", "migrations")


def discover(folder: Path | None = None) -> list[MigrationFile]:
    folder = folder or migrations_dir()
    if not folder.is_dir():
        raise MigrationError(f"The migrations folder {folder} does not exist.")
    files: list[MigrationFile] = []
    for path in sorted(folder.glob("*.sql")):
        m = FILENAME.match(path.name)
        if not m:
            raise MigrationError(
                f"{path.name} is not a migration name (<YYYYMMDDHHMMSS>_<name>.sql)."
            )
        files.append(MigrationFile(m["version"], m["name"], path))
    versions = [f.version for f in files]
    if len(set(versions)) != len(versions):
        dup = sorted({v for v in versions if versions.count(v) > 1})
        raise MigrationError(f"Two migration files share the version {', '.join(dup)}.")
    return files


def _applied(conn: Connection) -> dict[str, tuple[str | None, list[str]]]:
    exists = conn.execute(
        text("select to_regclass('supabase_migrations.schema_migrations') is not null")
    ).scalar_one()
    if not exists:
        return {}
    rows = conn.execute(
        text("select version, name, statements from supabase_migrations.schema_migrations")
    )
    return {r.version: (r.name, list(r.statements or [])) for r in rows}


def status(engine: Engine, folder: Path | None = None) -> list[MigrationState]:
    """Every migration known to the files or the database, with its state."""
    files = discover(folder)
    with engine.connect() as conn:
        applied = _applied(conn)
    states = []
    for f in files:
        if f.version not in applied:
            states.append(MigrationState(f.version, f.name, "pending"))
        elif fingerprint(applied[f.version][1]) != fingerprint(f.statements()):
            states.append(MigrationState(f.version, f.name, "changed"))
        else:
            states.append(MigrationState(f.version, f.name, "applied"))
    known = {f.version for f in files}
    for version, (name, _) in sorted(applied.items()):
        if version not in known:
            states.append(MigrationState(version, name or "", "unknown"))
    return sorted(states, key=lambda s: s.version)


def migrate(
    engine: Engine,
    folder: Path | None = None,
    on_applied: Callable[[MigrationFile], None] | None = None,
) -> list[MigrationFile]:
    """Apply pending files in order; returns what was applied (empty when up to date)."""
    files = discover(folder)
    applied_now: list[MigrationFile] = []
    with engine.connect() as conn:
        conn.execute(text("select pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        conn.commit()  # the advisory lock is session-level; it outlives this commit
        try:
            with conn.begin():
                _raw_execute(conn, LEDGER_DDL)
            applied = _applied(conn)
            conn.commit()
            _refuse_drift(files, applied)
            for f in files:
                if f.version in applied:
                    continue
                _apply_one(conn, f)
                applied_now.append(f)
                if on_applied:
                    on_applied(f)
        finally:
            conn.execute(text("select pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            conn.commit()
    return applied_now


def _refuse_drift(
    files: list[MigrationFile], applied: dict[str, tuple[str | None, list[str]]]
) -> None:
    changed = [
        f.filename
        for f in files
        if f.version in applied
        and fingerprint(applied[f.version][1]) != fingerprint(f.statements())
    ]
    if changed:
        raise MigrationError(
            f"Migration {', '.join(changed)} was changed after it was applied to this database. "
            "Applied migrations must never be edited: restore the file and add a new migration."
        )
    known = {f.version for f in files}
    unknown = sorted(v for v in applied if v not in known)
    if unknown:
        names = ", ".join(f"{v}_{applied[v][0] or '?'}" for v in unknown)
        raise MigrationError(
            f"This database has migrations this version of the app does not know: {names}. "
            "Update the app before using this database."
        )


def _apply_one(conn: Connection, f: MigrationFile) -> None:
    statements = f.statements()
    with conn.begin() as tx:
        for number, stmt in enumerate(statements, start=1):
            try:
                _raw_execute(conn, stmt)
            except (DBAPIError, psycopg.Error) as exc:
                tx.rollback()
                first_line = next(
                    (
                        ln.strip()
                        for ln in stmt.splitlines()
                        if ln.strip() and not ln.strip().startswith("--")
                    ),
                    stmt[:80],
                )
                orig = exc.orig if isinstance(exc, DBAPIError) else exc
                reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
                raise MigrationError(
                    f"{f.filename} failed at statement {number} ({first_line[:120]}): {reason}. "
                    "Nothing from this file was applied."
                ) from exc
        conn.execute(
            text(
                "insert into supabase_migrations.schema_migrations (version, name, statements) "
                "values (:v, :n, :s)"
            ),
            {"v": f.version, "n": f.name, "s": statements},
        )


def _raw_execute(conn: Connection, sql: str) -> None:
    """Run SQL text verbatim: no parameter parsing, so a literal ``%`` stays a ``%``."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()

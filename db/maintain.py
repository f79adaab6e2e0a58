# SPDX-License-Identifier: MIT
"""Keep the vector indexes right as tables grow: ``infinite-player db maintain``.

The shipped indexes are HNSW (migration ``20261129110000_catalogue_indexes``): they need
no training, so growth alone never makes them wrong. Two things still can:

* an **ivfflat** index (a remote project that has not applied that migration, or one
  made by hand) is only as good as the rows it was built on. pgvector's guidance is
  ``lists = rows / 1000`` (``sqrt(rows)`` above a million) built on data already there;
  an index whose ``lists`` is more than :data:`IVFFLAT_SLACK` times off that target (the
  row count crossed a threshold since it was built, or it was built on an empty table
  with the default) is rebuilt with the target;
* **stale statistics**: after a large import the planner may still believe a table is
  tiny and choose a sequential scan. Tables changed by more than :data:`ANALYZE_SHARE`
  of their rows since the last analyse are analysed.

Vectors written before migration ``20261129110000`` may still sit in TOAST, which makes
the planner underestimate a full scan; the report names how much (``notes``), since
moving them (``VACUUM FULL``) locks the table and is the owner's call.

An **invalid** index (a build that was interrupted) is rebuilt. Everything is one
statement per action; a failure names the index. Runs from the CLI and when the app
is idle (cheap when there is nothing to do: a few catalogue queries).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from base.errors import UserFacingError

#: (table, vector column) pairs that carry a vector index.
VECTOR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("embeddings", "vector"),
    ("bands", "style_vector"),
    ("users", "taste_vector"),
)
IVFFLAT_SLACK = 2.0
ANALYZE_SHARE = 0.1
MIN_LISTS = 10
#: Below this a TOAST table holds small values of other columns, not vectors worth moving.
TOAST_NOTE_BYTES = 2**20


@dataclass
class MaintenanceReport:
    """What ``maintain`` found and did, for the CLI and the idle job's log."""

    indexes: list[dict[str, object]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return "; ".join(self.actions) if self.actions else "nothing to do"


def ivfflat_lists(rows: int) -> int:
    """pgvector's recommended ``lists`` for ``rows`` rows."""
    if rows > 1_000_000:
        return int(math.sqrt(rows))
    return max(MIN_LISTS, rows // 1000)


def ivfflat_probes(lists: int) -> int:
    """pgvector's starting point for ``probes``: the square root of ``lists``."""
    return max(1, math.ceil(math.sqrt(lists)))


def _vector_indexes(conn: Connection) -> list[dict[str, object]]:
    rows = conn.execute(
        text(
            """
            select c.relname as index, t.relname as table_name, am.amname as method,
                   i.indisvalid as valid, pg_get_indexdef(c.oid) as ddl,
                   coalesce(array_to_string(c.reloptions, ','), '') as options,
                   greatest(t.reltuples, 0)::bigint as estimated_rows
            from pg_index i
            join pg_class c on c.oid = i.indexrelid
            join pg_class t on t.oid = i.indrelid
            join pg_namespace n on n.oid = t.relnamespace
            join pg_am am on am.oid = c.relam
            where n.nspname = 'public' and am.amname in ('ivfflat', 'hnsw')
            order by t.relname, c.relname
            """
        )
    ).mappings()
    return [dict(r) for r in rows]


def _count(conn: Connection, table: str, ddl: str) -> int:
    column = re.search(r"\((\w+) vector_", ddl)
    where = f" where {column.group(1)} is not null" if column else ""
    return int(conn.execute(text(f"select count(*) from public.{table}{where}")).scalar_one())


def _lists_of(options: str) -> int | None:
    match = re.search(r"lists=(\d+)", options)
    return int(match.group(1)) if match else None


def _analyse_stale(conn: Connection, report: MaintenanceReport) -> None:
    for table, _column in VECTOR_COLUMNS:
        row = conn.execute(
            text(
                "select n_live_tup, n_mod_since_analyze from pg_stat_user_tables "
                "where schemaname = 'public' and relname = :t"
            ),
            {"t": table},
        ).first()
        if row is None:
            continue
        live, changed = int(row[0] or 0), int(row[1] or 0)
        if changed and changed > ANALYZE_SHARE * max(live, 1):
            conn.execute(text(f"analyze public.{table}"))
            report.actions.append(f"analysed {table} ({changed} rows changed)")


def maintain(engine: Engine, *, dry_run: bool = False) -> MaintenanceReport:
    """Check every vector index and fix what is wrong (see the module docstring)."""
    report = MaintenanceReport()
    rebuilds: list[tuple[str, str]] = []
    with engine.begin() as conn:
        if not dry_run:
            _analyse_stale(conn, report)
        for idx in _vector_indexes(conn):
            table, name, ddl = str(idx["table_name"]), str(idx["index"]), str(idx["ddl"])
            rows = _count(conn, table, ddl)
            entry: dict[str, object] = {
                "index": name,
                "table": table,
                "method": idx["method"],
                "rows": rows,
                "valid": bool(idx["valid"]),
            }
            rebuild: str | None = None
            if not idx["valid"]:
                rebuild = f"reindex index public.{name}"
                reason = "invalid (interrupted build)"
            elif idx["method"] == "ivfflat":
                lists = _lists_of(str(idx["options"])) or 100
                target = ivfflat_lists(rows)
                entry.update(lists=lists, target_lists=target, probes=ivfflat_probes(target))
                if max(lists, target) / min(lists, target) > IVFFLAT_SLACK:
                    new_ddl = re.sub(r"lists='?\d+'?", f"lists='{target}'", ddl)
                    rebuild = f"drop index public.{name}; {new_ddl}"
                    reason = f"lists {lists} for {rows} rows, target {target}"
            toast = conn.execute(
                text(
                    "select coalesce(pg_relation_size(reltoastrelid), 0) from pg_class "
                    "where oid = (:t)::regclass"
                ),
                {"t": f"public.{table}"},
            ).scalar_one()
            entry["toast_bytes"] = int(toast)
            if toast >= TOAST_NOTE_BYTES:
                report.notes.append(
                    f"{table}: {toast / 2**20:.1f} MiB of values out of line (TOAST), most "
                    f"likely vectors written before they were stored in the row; "
                    f"VACUUM FULL public.{table} moves them"
                )
            report.indexes.append(entry)
            if rebuild is None:
                continue
            report.actions.append(f"rebuilt {name}: {reason}")
            rebuilds.append((name, rebuild))
    if dry_run:
        return report
    for name, rebuild in rebuilds:
        try:
            with engine.begin() as conn:  # drop and create together, or neither
                for statement in rebuild.split("; "):
                    conn.execute(text(statement))
        except Exception as exc:
            raise UserFacingError(f"could not rebuild index {name}: {exc}") from exc
    return report

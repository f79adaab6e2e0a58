# SPDX-License-Identifier: MIT
"""The vector indexes on the real embedded PostgreSQL: HNSW, used by every search's plan,
settings local to the search's transaction, a small space filtered without losing rows,
and ``db maintain`` fixing an ivfflat index that growth made stale."""

from __future__ import annotations

import json
import re
import time
import uuid

import numpy as np
import pytest
from sqlalchemy import event, insert, text

from db.maintain import ivfflat_lists, ivfflat_probes, maintain
from db.models import Band, Embedding
from player import similarity
from player.similarity import (
    EF_SEARCH,
    index_settings,
    similar_public_bands,
    similar_tracks,
    track_search,
)

SPACE = "descriptor-v1"
OTHER = "mert-v1-95m"


def units(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, 768))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def fill(database, vectors: np.ndarray, space: str, prefix: str) -> None:
    rows = [
        {
            "track_id": f"{prefix}{i}",
            "track_name": f"t{i}",
            "artist": "a",
            "vector": v,
            "source": "fma",
            "embedding_space": space,
        }
        for i, v in enumerate(vectors)
    ]
    with database.service_session() as s:
        s.execute(insert(Embedding), rows)
    with database.engine.begin() as conn:
        conn.execute(text("analyze embeddings"))


def index_methods(database) -> dict[str, str]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            text(
                "select c.relname, am.amname from pg_index i "
                "join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam "
                "where am.amname in ('hnsw', 'ivfflat')"
            )
        )
        return {r[0]: r[1] for r in rows}


def test_the_migration_makes_every_vector_index_hnsw(database):
    assert index_methods(database) == {
        "idx_embeddings_vector": "hnsw",
        "idx_bands_style_vector": "hnsw",
        "idx_users_taste_vector": "hnsw",
    }


class Captured:
    """The SQL and parameters of the last SELECT a session ran, to EXPLAIN it as is."""

    def __init__(self, engine) -> None:
        self.statement: str | None = None
        self.params = None
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, params, context, executemany) -> None:
        if statement.lstrip().lower().startswith("select") and "<=>" in statement:
            self.statement, self.params = statement, params

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def explain_last(database, captured: Captured, user_id) -> str:
    assert captured.statement is not None
    with database.user_session(user_id) as s:
        conn = s.connection()
        for name, value in index_settings().items():  # what the search set, as it set it
            conn.exec_driver_sql(f"set local {name} = {value}")
        rows = conn.exec_driver_sql("explain " + captured.statement, captured.params).all()
    return "\n".join(r[0] for r in rows)


def rebuilt_after(database, index: str, load) -> None:
    """Run ``load`` without the index, then recreate it from its own definition (a bulk
    build is much quicker than thousands of graph inserts on a busy test machine)."""
    with database.engine.begin() as conn:
        ddl = conn.execute(text(f"select pg_get_indexdef('{index}'::regclass)")).scalar_one()
        conn.execute(text(f"drop index {index}"))
    load()
    with database.engine.begin() as conn:
        conn.execute(text(ddl))


def test_each_search_plan_uses_its_hnsw_index(database, make_user):
    """The planner's own choice (no enable_seqscan tricks) on 5,000 rows, with the
    search's own settings (ef_search makes small tables cheaper to scan whole)."""
    rebuilt_after(
        database, "idx_embeddings_vector", lambda: fill(database, units(5000, 1), SPACE, "x")
    )
    owner = make_user()
    rebuilt_after(database, "idx_bands_style_vector", lambda: add_bands(database, owner))
    viewer = make_user()
    query = units(1, 3)[0]
    with database.user_session(viewer) as s:
        assert len(similar_tracks(s, query, 10, SPACE)) == 10
        for sources, exclude in ((None, ()), (("fma",), ("x1", "x2"))):
            sql, params = track_search(query, 10, SPACE, sources, exclude)
            # The plan for these values, and the generic plan a prepared statement
            # switches to after five runs (psycopg prepares it on the server).
            for plan in (explain(s, sql, params), explain_generic(s, sql)):
                assert "Index Scan using idx_embeddings_vector" in plan, plan
                assert "One-Time Filter" in plan, plan  # the settings run before the scan
    captured = Captured(database.engine)
    try:
        with database.user_session(viewer) as s:
            assert len(similar_public_bands(s, units(1, 4)[0], 10, SPACE)) == 10
        plan = explain_last(database, captured, viewer)
        assert "Index Scan using idx_bands_style_vector" in plan, plan
    finally:
        captured.close()


def explain(session, sql: str, params: dict) -> str:
    with session.connection().connection.driver_connection.cursor() as cur:
        cur.execute("explain " + sql, params)
        return "\n".join(r[0] for r in cur.fetchall())


def explain_generic(session, sql: str) -> str:
    """EXPLAIN (GENERIC_PLAN): the plan without parameter values ($n placeholders)."""
    numbers: dict[str, int] = {}
    text_sql = re.sub(
        r"%\((\w+)\)s", lambda m: f"${numbers.setdefault(m[1], len(numbers) + 1)}", sql
    )
    with session.connection().connection.driver_connection.cursor() as cur:
        cur.execute("explain (generic_plan) " + text_sql)
        return "\n".join(r[0] for r in cur.fetchall())


def test_the_search_settings_reach_the_scan_of_the_same_statement(database, make_user, monkeypatch):
    """The settings travel inside the search statement: with iterative scans off, HNSW
    returns at most ``ef_search`` rows, so a limit of 10 gives 3 rows exactly when
    ``ef_search = 3`` reached the scan; the shipped settings give all 10."""
    rebuilt_after(
        database, "idx_embeddings_vector", lambda: fill(database, units(2000, 21), SPACE, "e")
    )
    uid = make_user()
    query = units(1, 22)[0]
    tiny = {"hnsw.ef_search": 3, "hnsw.iterative_scan": "off"}
    monkeypatch.setattr(similarity, "index_settings", lambda: tiny)
    with database.user_session(uid) as s:
        assert len(similar_tracks(s, query, 10, SPACE)) == 3
        # ... and, being SET LOCAL, it lasts until the transaction ends, not beyond
        assert s.execute(text("show hnsw.ef_search")).scalar_one() == "3"
        s.commit()
        assert s.execute(text("show hnsw.ef_search")).scalar_one() == "40"
    monkeypatch.undo()
    with database.user_session(uid) as s:
        # the statement's own settings win over what the transaction had before
        s.execute(text("set local hnsw.ef_search = 3"))
        s.execute(text("set local hnsw.iterative_scan = off"))
        assert len(similar_tracks(s, query, 10, SPACE)) == 10


def add_bands(database, owner) -> None:
    with database.service_session() as s:
        s.execute(
            insert(Band),
            [
                {
                    "user_id": owner,
                    "name": f"band {i}",
                    "is_public": True,
                    "style_vector": v,
                    "embedding_space": SPACE,
                }
                for i, v in enumerate(units(5000, 2))
            ],
        )
    with database.engine.begin() as conn:
        conn.execute(text("analyze bands"))


def test_a_small_space_gets_its_exact_neighbours_through_the_index(database, make_user):
    """2,000 rows of another space lie nearer the query than any row of the asked space:
    the index's first ef_search candidates are all filtered out, so only an iterative
    scan that keeps going finds the ten, nearest first."""
    query = units(1, 7)[0]

    def around(n: int, lo: float, hi: float, seed: int) -> np.ndarray:
        v = query + units(n, seed) * np.linspace(lo, hi, n)[:, None]
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    fill(database, around(2000, 0.1, 0.6, 5), SPACE, "big")
    small = around(40, 0.8, 3.0, 6)  # graded distances: the true order is not a tie
    fill(database, small, OTHER, "small")
    truth = [f"small{i}" for i in np.argsort(-(small @ query))[:10]]
    with database.user_session(make_user()) as s:
        got = [h.track_id for h in similar_tracks(s, query, 10, OTHER)]
    assert got == truth


def test_search_settings_stay_inside_the_search_transaction(database, make_user):
    uid = make_user()
    with database.user_session(uid) as s:
        similar_tracks(s, units(1, 8)[0], 5, SPACE)
        assert s.execute(text("show hnsw.ef_search")).scalar_one() == str(EF_SEARCH)
        assert s.execute(text("show hnsw.iterative_scan")).scalar_one() == "strict_order"
        s.commit()
        assert s.execute(text("show hnsw.ef_search")).scalar_one() == "40"  # the default
        assert s.execute(text("show hnsw.iterative_scan")).scalar_one() == "off"


def test_ivfflat_rules_follow_pgvector_guidance():
    assert ivfflat_lists(0) == 10
    assert ivfflat_lists(100_000) == 100
    assert ivfflat_lists(4_000_000) == 2000
    assert ivfflat_probes(100) == 10


def test_maintain_rebuilds_an_ivfflat_index_sized_for_another_row_count(database):
    with database.engine.begin() as conn:
        conn.execute(text("drop index idx_embeddings_vector"))
        conn.execute(
            text(
                "create index idx_embeddings_vector on embeddings "
                "using ivfflat (vector vector_cosine_ops) with (lists = 100)"
            )
        )
    fill(database, units(500, 9), SPACE, "r")
    dry = maintain(database.engine, dry_run=True)
    assert dry.actions == ["rebuilt idx_embeddings_vector: lists 100 for 500 rows, target 10"]
    assert "lists = 100" in _ddl(database) or "lists='100'" in _ddl(database)
    report = maintain(database.engine)
    assert "rebuilt idx_embeddings_vector: lists 100 for 500 rows, target 10" in report.actions
    assert "lists='10'" in _ddl(database)
    entry = next(i for i in report.indexes if i["index"] == "idx_embeddings_vector")
    assert entry["probes"] == ivfflat_probes(10)
    # Right-sized now: nothing to rebuild (an analyse may still follow the insert's
    # statistics, which the inserting backend reports up to a second late).
    assert not any(a.startswith("rebuilt") for a in maintain(database.engine).actions)
    with database.user_session(uuid.uuid4()) as s:  # and the index still answers
        assert len(similar_tracks(s, units(1, 10)[0], 10, SPACE)) == 10


def test_maintain_analyses_a_table_that_grew_and_leaves_hnsw_alone(database):
    fill(database, units(50, 11), SPACE, "a")
    with database.service_session() as s:
        s.execute(
            insert(Embedding),
            [
                {
                    "track_id": f"b{i}",
                    "track_name": "t",
                    "artist": "a",
                    "vector": v,
                    "source": "fma",
                    "embedding_space": SPACE,
                }
                for i, v in enumerate(units(200, 12))
            ],
        )
    deadline = time.monotonic() + 10  # backends report table statistics about once a second
    while time.monotonic() < deadline and _changed(database) < 200:
        time.sleep(0.2)
    report = maintain(database.engine)
    assert any(a.startswith("analysed embeddings") for a in report.actions), report.actions
    assert not any(a.startswith("rebuilt") for a in report.actions)
    assert {i["method"] for i in report.indexes} == {"hnsw"}


def _changed(database) -> int:
    with database.engine.connect() as conn:
        conn.execute(text("select pg_stat_clear_snapshot()"))
        return int(
            conn.execute(
                text(
                    "select n_mod_since_analyze from pg_stat_user_tables "
                    "where relname = 'embeddings'"
                )
            ).scalar_one()
        )


def _ddl(database) -> str:
    with database.engine.connect() as conn:
        return conn.execute(
            text("select pg_get_indexdef('idx_embeddings_vector'::regclass)")
        ).scalar_one()


@pytest.mark.parametrize("dry_run", [True, False])
def test_db_maintain_cli(database, monkeypatch, capsys, dry_run):
    from player.cli import main

    monkeypatch.setenv("DATABASE_URL", database.url.render_as_string(hide_password=False))
    argv = ["db", "maintain", "--json"] + (["--dry-run"] if dry_run else [])
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert {i["index"] for i in out["indexes"]} >= {"idx_embeddings_vector"}

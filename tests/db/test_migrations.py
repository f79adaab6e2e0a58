"""The migration runner: order, idempotence, the Supabase ledger, refusal and rollback."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import create_engine, text

from db import migrate
from db.migrate import MigrationError
from tests import pgtools


@pytest.fixture
def empty_db(pg_server):
    """An empty database (compat objects only), owned by a non-superuser."""
    import uuid

    name = f"e_{uuid.uuid4().hex[:12]}"
    url = pgtools.create_owner_database(pg_server, name)
    engine = create_engine(url)
    yield engine
    engine.dispose()
    pgtools.drop_database(pg_server, name)


@pytest.fixture
def folder(tmp_path):
    dst = tmp_path / "migrations"
    shutil.copytree(migrate.migrations_dir(), dst)
    return dst


def _tables(engine):
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("select tablename from pg_tables where schemaname = 'public'")
            ).scalars()
        )


def test_applies_to_an_empty_database_as_non_superuser_then_is_a_no_op(empty_db):
    with empty_db.connect() as conn:
        assert (
            conn.execute(
                text("select rolsuper from pg_roles where rolname = current_user")
            ).scalar_one()
            is False
        )
    applied = migrate.migrate(empty_db)
    files = migrate.discover()
    assert [f.version for f in applied] == [f.version for f in files]
    assert {
        "users",
        "user_history",
        "embeddings",
        "generated_tracks",
        "bands",
        "band_tracks",
        "user_playlists",
        "user_library",
        "user_follows",
        "oauth_connections",
    } <= _tables(empty_db)
    with empty_db.connect() as conn:
        ledger = conn.execute(
            text(
                "select version, name, array_length(statements, 1) "
                "from supabase_migrations.schema_migrations order by version"
            )
        ).all()
    assert [(v, n) for v, n, _ in ledger] == [(f.version, f.name) for f in files]
    assert all(count and count > 1 for _, _, count in ledger)
    assert migrate.migrate(empty_db) == []
    assert {s.state for s in migrate.status(empty_db)} == {"applied"}


def test_migrations_need_no_uuid_ossp_pgcrypto_and_leave_auth_alone(empty_db):
    def auth_objects():
        with empty_db.connect() as conn:
            return set(
                conn.execute(
                    text(
                        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n "
                        "on n.oid = p.pronamespace where n.nspname = 'auth' union all "
                        "select c.relname from pg_class c join pg_namespace n "
                        "on n.oid = c.relnamespace "
                        "where n.nspname = 'auth'"
                    )
                ).scalars()
            )

    before = auth_objects()
    migrate.migrate(empty_db)
    assert auth_objects() == before
    with empty_db.connect() as conn:
        extensions = set(conn.execute(text("select extname from pg_extension")).scalars())
    assert not {"uuid-ossp", "pgcrypto"} & extensions
    for f in migrate.discover():
        body = f.path.read_text().lower()
        assert "uuid_generate_v4" not in body and "auth." not in body.replace("auth.uid()", "")


def test_a_file_changed_after_it_was_applied_is_refused_by_name(empty_db, folder):
    migrate.migrate(empty_db, folder)
    first = sorted(folder.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\ncreate table public.sneaky (id int);\n")
    with pytest.raises(MigrationError, match=first.name):
        migrate.migrate(empty_db, folder)
    assert migrate.status(empty_db, folder)[0].state == "changed"
    # Comments and spacing are not changes.
    first.write_text(
        "-- a note\n" + first.read_text().replace("create table public.sneaky (id int);", "")
    )
    assert migrate.migrate(empty_db, folder) == []


def test_a_failing_file_leaves_nothing_and_names_the_statement(empty_db, folder):
    migrate.migrate(empty_db, folder)
    bad = folder / "29991231000000_broken.sql"
    bad.write_text(
        "create table public.half_done (id int);\n"
        "insert into public.half_done values (1);\n"
        "alter table public.no_such_table add column x int;\n"
    )
    with pytest.raises(MigrationError) as info:
        migrate.migrate(empty_db, folder)
    message = str(info.value)
    assert "29991231000000_broken.sql" in message
    assert "statement 3" in message and "no_such_table" in message
    assert "half_done" not in _tables(empty_db)
    with empty_db.connect() as conn:
        assert (
            conn.execute(
                text(
                    "select count(*) from supabase_migrations.schema_migrations "
                    "where version = '29991231000000'"
                )
            ).scalar_one()
            == 0
        )
    bad.write_text("create table public.half_done (id int);\n")
    assert [f.name for f in migrate.migrate(empty_db, folder)] == ["broken"]


def test_a_database_newer_than_the_app_is_refused(empty_db, folder):
    (folder / "29991231000000_future.sql").write_text("select 1;\n")
    migrate.migrate(empty_db, folder)
    (folder / "29991231000000_future.sql").unlink()
    with pytest.raises(MigrationError, match="29991231000000_future"):
        migrate.migrate(empty_db, folder)


def test_badly_named_files_are_refused(folder):
    (folder / "add_things.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match=r"add_things\.sql"):
        migrate.discover(folder)


def test_concurrent_runners_apply_each_file_once(empty_db):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: migrate.migrate(empty_db), range(4)))
    assert sorted(len(r) for r in results) == [0, 0, 0, len(migrate.discover())]

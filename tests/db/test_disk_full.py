"""A migration that runs out of disk leaves nothing behind and says why.

The disk really fills: a 8 MB tmpfs is mounted as a tablespace and the migration writes
into it until PostgreSQL gets ENOSPC. Needs root and mount (CI has both); skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text

from db import migrate
from db.migrate import MigrationError
from tests import pgtools


@pytest.fixture
def tiny_tablespace(pg_server, pg_home):
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    mount_point = pg_home / "tiny"
    mount_point.mkdir()
    if (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8M", "tmpfs", str(mount_point)],
            capture_output=True,
        ).returncode
        != 0
    ):
        pytest.skip("mount is not permitted here")
    name = f"tiny_{uuid.uuid4().hex[:8]}"
    try:
        shutil.chown(mount_point, user="pgserver", group="pgserver")
        admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"create tablespace {name} location '{mount_point}'")
            conn.exec_driver_sql(f"grant create on tablespace {name} to {pgtools.OWNER_ROLE}")
        yield name
        with admin.connect() as conn:
            conn.exec_driver_sql(f"drop tablespace if exists {name}")
        admin.dispose()
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_disk_full_during_migrate_leaves_nothing_half_applied(
    database_url, tiny_tablespace, tmp_path
):
    folder = tmp_path / "migrations"
    shutil.copytree(migrate.migrations_dir(), folder)
    (folder / "29991231000000_fill_disk.sql").write_text(
        "create table public.before_full (id int);\n"
        f"create table public.big (id int, pad text) tablespace {tiny_tablespace};\n"
        "insert into public.big select g, repeat(md5(g::text), 40) "
        "from generate_series(1, 200000) g;\n"
    )
    engine = create_engine(database_url)
    try:
        with pytest.raises(MigrationError) as info:
            migrate.migrate(engine, folder)
        message = str(info.value)
        assert "29991231000000_fill_disk.sql" in message and "statement 3" in message
        assert "space" in message.lower()  # "No space left on device"
        with engine.connect() as conn:
            assert conn.execute(text("select to_regclass('public.before_full')")).scalar() is None
            assert conn.execute(text("select to_regclass('public.big')")).scalar() is None
            assert (
                conn.execute(
                    text(
                        "select count(*) from supabase_migrations.schema_migrations "
                        "where version = '29991231000000'"
                    )
                ).scalar_one()
                == 0
            )
        # The app's own migrations are intact, and the database still works.
        (folder / "29991231000000_fill_disk.sql").unlink()
        assert migrate.migrate(engine, folder) == []
    finally:
        engine.dispose()

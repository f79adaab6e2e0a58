"""Give a plain PostgreSQL what a Supabase project has (roles, ``auth.uid()``, grants).

Migrations assume those exist, as they do on Supabase; locally they come from
``compat.sql``, which creates each only where missing.
"""

from __future__ import annotations

from importlib import resources

from sqlalchemy import Connection, text

SUPABASE_ROLES = ("anon", "authenticated", "service_role")


def compat_sql() -> str:
    return resources.files("db").joinpath("compat.sql").read_text()


def needs_compat(conn: Connection) -> bool:
    """True when roles or ``auth.uid()`` are missing (a plain Postgres)."""
    roles = conn.execute(
        text("select count(*) from pg_roles where rolname = any(:r)"), {"r": list(SUPABASE_ROLES)}
    ).scalar_one()
    has_uid = conn.execute(text("select to_regprocedure('auth.uid()') is not null")).scalar_one()
    has_vector = conn.execute(
        text("select exists (select 1 from pg_extension where extname = 'vector')")
    ).scalar_one()
    has_storage = conn.execute(
        text("select to_regprocedure('storage.foldername(text)') is not null")
    ).scalar_one()
    return roles < len(SUPABASE_ROLES) or not has_uid or not has_vector or not has_storage


def apply_compat(conn: Connection, member: str | None = None) -> None:
    """Create the Supabase objects that are missing; needs a superuser connection.

    ``member`` is the role the app connects as; it is made a member of the Supabase roles so
    it can ``SET ROLE`` to them, as Supabase's own login roles can.
    """
    if needs_compat(conn):
        conn.exec_driver_sql(compat_sql())
    member = member or conn.execute(text("select current_user")).scalar_one()
    # Supabase's `postgres` may create policies on storage.objects; here the app's role gets
    # the same through membership of the tables' owner.
    for role in (*SUPABASE_ROLES, "supabase_storage_admin"):
        is_member = conn.execute(
            text("select pg_has_role(:m, :r, 'MEMBER')"), {"m": member, "r": role}
        ).scalar_one()
        if not is_member:
            conn.exec_driver_sql(f'grant {role} to "{member}"')

"""What PostgREST does with one request, against the real PostgreSQL (see ``__init__``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL

AUTHENTICATOR = "authenticator"


def create_authenticator(superuser: URL) -> None:
    """Supabase's login role for PostgREST: it can do nothing itself (NOINHERIT) and may
    only switch to the three API roles."""
    engine = create_engine(superuser, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(
            text("select 1 from pg_roles where rolname = :r"), {"r": AUTHENTICATOR}
        ).first():
            return
        conn.exec_driver_sql(f"create role {AUTHENTICATOR} login noinherit")
        conn.exec_driver_sql(f"grant anon, authenticated, service_role to {AUTHENTICATOR}")
    engine.dispose()


class DataApi:
    """Requests as PostgREST runs them, one transaction each, as ``authenticator``."""

    def __init__(self, owner_url: URL) -> None:
        self.url = owner_url.set(username=AUTHENTICATOR, password=None)
        self.engine: Engine = create_engine(self.url, pool_size=4)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def request(self, claims: dict[str, Any]) -> Iterator[Connection]:
        """PostgREST "Authentication > JWT": SET LOCAL ROLE from the ``role`` claim, the claims in
        ``request.jwt.claims``; "Transactions": everything in one transaction."""
        role = str(claims.get("role") or "anon")
        with self.engine.begin() as conn:
            quoted = conn.dialect.identifier_preparer.quote_identifier(role)
            conn.exec_driver_sql(f"set local role {quoted}")
            conn.execute(
                text("select set_config('request.jwt.claims', :c, true)"),
                {"c": json.dumps(claims)},
            )
            yield conn

    def rpc(self, claims: dict[str, Any], fn: str, args: dict[str, Any]) -> Any:
        """PostgREST "Functions as RPC": ``POST /rpc/fn`` with a JSON object of named
        arguments, typed by the function's signature (PostgREST reads them through
        ``json_to_record``); a function returning one scalar answers that value; a STABLE
        or IMMUTABLE function runs in a READ ONLY transaction, even over POST
        ("Transactions > Access Mode on Functions")."""
        with self.request(claims) as conn:
            sig = conn.execute(
                text(
                    "select p.oid, p.provolatile, "
                    "array(select a from unnest(p.proargnames) a) as names, "
                    "array(select format_type(t, null) from unnest(p.proargtypes) t) as types "
                    "from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
                    "where n.nspname = 'public' and p.proname = :f"
                ),
                {"f": fn},
            ).first()
            if sig is None:
                raise FunctionNotFound(fn)
            if sig.provolatile in ("s", "i"):
                conn.exec_driver_sql("set transaction read only")
            names = list(sig.names or [])[: len(sig.types)]
            missing = [n for n in args if n not in names]
            if missing:
                raise FunctionNotFound(f"{fn}({', '.join(sorted(args))})")
            if not names:
                return conn.execute(text(f'select public."{fn}"()')).scalar()
            record = ", ".join(f'"{n}" {t}' for n, t in zip(names, sig.types, strict=True))
            call = ", ".join(f'"{n}" => r."{n}"' for n in names)
            return conn.execute(
                text(
                    f'select public."{fn}"({call}) from '
                    f"jsonb_to_record(cast(:a as jsonb)) as r({record})"
                ),
                {"a": json.dumps(args)},
            ).scalar()


class FunctionNotFound(Exception):
    """PGRST202: no such function in the exposed schema."""


def claims_for(user_id: uuid.UUID | None, role: str = "authenticated") -> dict[str, Any]:
    if user_id is None:
        return {"role": role}
    return {"sub": str(user_id), "role": role, "aud": "authenticated"}

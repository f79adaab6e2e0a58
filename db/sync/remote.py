"""How the sync reaches the shared database: the SQL functions of migration
``20261129130000_sync_rpc.sql``, called one per transaction, over one of two transports.

* ``DirectRemote`` — a PostgreSQL URL the listener owns (self-hosted, one user). The
  functions run in a session that sets role ``authenticated`` and the user's claims itself;
  whoever holds that URL can skip both, so it is only for a database nobody else uses.
* ``RpcRemote`` — the Data API (PostgREST ``POST /rest/v1/rpc/<fn>``) with the signed-in
  user's access token: PostgREST verifies the JWT before it switches role, so the desktop
  holds nothing that can act as another user.

Both run the same functions, so both follow the same rules; the Syncer sees only ``call``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from db.sync.errors import RemoteRejected


class Remote(Protocol):
    #: Names the shared database in ``sync_state`` (one cursor per user and database).
    key: str

    def call(self, fn: str, **params: Any) -> Any:
        """Run ``public.<fn>(params)`` in one transaction as the user; its JSON result."""
        ...


#: SQL types of the functions' parameters (the rest are text).
_PARAM_TYPES = {
    "p_entries": "jsonb",
    "p_probes": "jsonb",
    "p_keys": "text[]",
    "p_limit": "integer",
}
#: The functions a sync may call; nothing else is ever sent.
FUNCTIONS = frozenset(
    {
        "sync_begin",
        "sync_pull",
        "sync_rows",
        "sync_push",
        "sync_schema",
        "sync_knows_device",
        "catalogue_pull",
    }
)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig) if orig else str(exc)).strip().splitlines()[0]


class DirectRemote:
    """The functions over a direct connection (a ``db.database.Database``), as the user."""

    def __init__(self, database: Any, user_id: uuid.UUID, key: str) -> None:
        self.database = database
        self.user_id = user_id
        self.key = key

    def call(self, fn: str, **params: Any) -> Any:
        if fn not in FUNCTIONS:
            raise ValueError(f"{fn} is not a sync function")
        args = []
        values: dict[str, Any] = {}
        for name, value in params.items():
            kind = _PARAM_TYPES.get(name, "text")
            args.append(f"{name} => cast(:{name} as {kind})")
            values[name] = json.dumps(value) if kind == "jsonb" else value
        sql = text(f"select public.{fn}({', '.join(args)})")
        try:
            with self.database.user_session(self.user_id) as s:
                return s.execute(sql, values).scalar()
        except OperationalError:
            raise  # the connection: the Syncer says the sync stopped
        except DBAPIError as exc:
            raise RemoteRejected(_first_line(exc)) from exc

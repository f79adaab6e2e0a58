"""The sync functions over Supabase's Data API (PostgREST RPC), with the user's token.

Every call is ``POST /rest/v1/rpc/<fn>`` made by supabase-py's PostgREST client; PostgREST
verifies the JWT, switches to its role with its claims and runs the call in one
transaction, so row-level security decides every row and the desktop holds no credential
that could act as anyone else. The access token is asked for before every call: it is
refreshed (once, across processes) shortly before it expires, see ``player/account``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from postgrest import SyncPostgrestClient
from postgrest.constants import DEFAULT_POSTGREST_CLIENT_HEADERS
from postgrest.exceptions import APIError

from db.sync.errors import RemoteRejected, RemoteUnreachable
from db.sync.remote import FUNCTIONS

#: PostgREST's codes for a token it refuses (missing, bad signature, expired, bad claims).
_AUTH_CODES = {"PGRST300", "PGRST301", "PGRST302", "PGRST303"}
#: PostgREST's codes for "the function is not there" (an older shared schema).
_MISSING_CODES = {"PGRST202", "42883"}


class RpcRemote:
    def __init__(
        self,
        project_url: str,
        api_key: str,
        access_token: Callable[[], str],
        timeout: float = 60.0,
    ) -> None:
        self.project_url = project_url.rstrip("/")
        self.key = f"supabase {self.project_url}"
        self._access_token = access_token
        self._http = httpx.Client(timeout=timeout)
        self._client = SyncPostgrestClient(
            f"{self.project_url}/rest/v1",
            # Our headers replace the client's defaults, so the JSON ones are repeated.
            headers={**DEFAULT_POSTGREST_CLIENT_HEADERS, "apikey": api_key},
            http_client=self._http,
        )

    def close(self) -> None:
        self._http.close()

    def call(self, fn: str, **params: Any) -> Any:
        if fn not in FUNCTIONS:
            raise ValueError(f"{fn} is not a sync function")
        self._client.auth(self._access_token())
        try:
            return self._client.rpc(fn, params).execute().data
        except APIError as exc:
            code = str(exc.code or "")
            if code in _AUTH_CODES:
                raise RemoteUnreachable(
                    f"The Data API refused this session ({exc.message}); sign in again."
                ) from exc
            if code in _MISSING_CODES:
                raise RemoteRejected(f"{fn} is missing on the shared database") from exc
            raise RemoteRejected(f"{exc.message} ({code})" if code else str(exc.message)) from exc
        except httpx.HTTPError as exc:
            raise RemoteUnreachable(
                f"Cannot reach the Data API at {self.project_url} ({exc}). What was already "
                "synced is kept; run the sync again when it is reachable."
            ) from exc

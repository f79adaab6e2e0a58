"""The loopback HTTP side of the Supabase stand-in (why it exists: ``__init__.py``).

Each behaviour names the documentation it follows:
* PostgREST "Authentication > JWT": the token (``Authorization: Bearer``, else the
  ``apikey``) is verified (HS256, signature and ``exp``) BEFORE anything runs; a bad one is
  401 ``PGRST301``, an expired one 401 ``PGRST303``. The ``role`` claim picks the role.
* PostgREST "Functions as RPC": ``POST /rest/v1/rpc/<fn>`` with named arguments as a JSON
  object; an unknown function is 404 ``PGRST202``; a scalar result is the JSON body.
* PostgREST "Transactions": each request is one transaction (``data_api.DataApi``).
* PostgREST "Errors": SQL errors are 400 with ``{code, message, details, hint}``; 42501
  (insufficient privilege) is 401 for anon and 403 for a signed-in role.
* Supabase Auth (GoTrue) API: ``POST /otp`` sends a code (here: kept for the test to read,
  as from a mailbox), ``POST /verify`` exchanges it for a session, ``POST
  /token?grant_type=refresh_token`` rotates the refresh token (a used one is refused:
  GoTrue's reuse detection, without its short reuse interval), ``grant_type=pkce`` checks
  ``S256(code_verifier) == code_challenge``; ``GET /authorize`` plays the OAuth provider and
  redirects straight back with a code; ``GET /user``; ``POST /logout`` revokes the user's
  refresh tokens.
* Supabase Storage API: ``POST /storage/v1/object/<bucket>/<key>`` (``x-upsert``),
  ``GET``/``HEAD /storage/v1/object/authenticated/<bucket>/<key>``, ``DELETE``; the
  ``storage.objects`` row is written and read AS THE USER, so the migration's policies
  decide, and the bytes are kept in memory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import jwt
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from tests.supabase_stub.data_api import DataApi, FunctionNotFound


@dataclass
class AuthState:
    users: dict[str, str] = field(default_factory=dict)  # email -> user id
    codes: dict[str, str] = field(default_factory=dict)  # email -> pending one-time code
    #: refresh token -> (user id, session id, still valid)
    refresh: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    #: OAuth auth code -> (code challenge, email)
    flows: dict[str, tuple[str, str]] = field(default_factory=dict)
    refreshes: int = 0
    reused: int = 0


class SupabaseStub:
    """Start with ``start()``; ``url`` and ``anon_key`` are what the app is configured with."""

    def __init__(self, api: DataApi, access_ttl: int = 3600) -> None:
        self.api = api
        self.secret = secrets.token_urlsafe(32)
        self.access_ttl = access_ttl
        self.auth = AuthState()
        self.objects: dict[tuple[str, str], bytes] = {}
        self.rpc_calls = 0
        #: Seconds a refresh takes after the old token is retired (widens the window in
        #: which a second process could present the same token).
        self.refresh_delay = 0.0
        self._lock = threading.Lock()
        self.anon_key = self.sign({"role": "anon", "iss": "supabase"}, ttl=10 * 365 * 86400)
        self.service_key = self.sign({"role": "service_role", "iss": "supabase"}, ttl=86400)
        stub = self

        class Handler(_Handler):
            owner = stub

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> SupabaseStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- tokens ----------------------------------------------------------------------------

    def sign(self, claims: dict[str, Any], ttl: int | None = None, secret: str = "") -> str:
        now = int(time.time())
        body = {"iat": now, "exp": now + (self.access_ttl if ttl is None else ttl), **claims}
        return jwt.encode(body, secret or self.secret, algorithm="HS256")

    def verify(self, token: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            self.secret,
            algorithms=["HS256"],
            options={"require": ["exp", "role"], "verify_aud": False},
        )

    def last_code(self, email: str) -> str:
        """The one-time code "mailed" to ``email``."""
        return self.auth.codes[email]

    def user_id(self, email: str) -> str:
        with self._lock:
            return self.auth.users.setdefault(email, str(uuid.uuid4()))

    def session_for(self, email: str, session_id: str | None = None) -> dict[str, Any]:
        uid = self.user_id(email)
        sid = session_id or str(uuid.uuid4())
        refresh = secrets.token_urlsafe(24)
        with self._lock:
            self.auth.refresh[refresh] = (email, sid, True)
        now = int(time.time())
        claims = {
            "sub": uid,
            "role": "authenticated",
            "aud": "authenticated",
            "email": email,
            "session_id": sid,
        }
        return {
            "access_token": self.sign(claims),
            "token_type": "bearer",
            "expires_in": self.access_ttl,
            "expires_at": now + self.access_ttl,
            "refresh_token": refresh,
            "user": self.user_json(uid, email),
        }

    @staticmethod
    def user_json(uid: str, email: str) -> dict[str, Any]:
        return {
            "id": uid,
            "aud": "authenticated",
            "role": "authenticated",
            "email": email,
            "app_metadata": {"provider": "email"},
            "user_metadata": {},
            "created_at": "2026-11-29T00:00:00Z",
        }


class _Handler(BaseHTTPRequestHandler):
    owner: SupabaseStub
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits for the
    # client's delayed ACK (about 40 ms a request), which PostgREST does not pay.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing --------------------------------------------------------------------------

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, bytes):
            raw = body
        else:
            raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        if body is not None and not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _json(self) -> dict[str, Any]:
        raw = self._body()
        return json.loads(raw) if raw else {}

    def _claims(self) -> dict[str, Any] | None:
        """PostgREST "Authentication > JWT"; None after answering 401."""
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else self.headers.get("apikey")
        if not token:
            self._send(401, {"code": "PGRST302", "message": "Anonymous access is disabled"})
            return None
        try:
            return self.owner.verify(token)
        except jwt.ExpiredSignatureError:
            self._send(401, {"code": "PGRST303", "message": "JWT expired", "details": None})
        except jwt.InvalidTokenError as exc:
            self._send(401, {"code": "PGRST301", "message": str(exc), "details": None})
        return None

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        parsed = urlparse(self.path)
        return parsed.path, parse_qs(parsed.query)

    # -- verbs -----------------------------------------------------------------------------

    def do_POST(self) -> None:
        path, query = self._route()
        if path.startswith("/rest/v1/rpc/"):
            return self._rpc(path.rsplit("/", 1)[1])
        if path.startswith("/auth/v1/"):
            return self._auth_post(path[len("/auth/v1/") :], query)
        if path.startswith("/storage/v1/object/"):
            return self._upload(path[len("/storage/v1/object/") :])
        self._send(404, {"message": f"no route {path}"})

    def do_GET(self) -> None:
        path, query = self._route()
        if path == "/auth/v1/authorize":
            return self._authorize(query)
        if path == "/auth/v1/user":
            claims = self._claims()
            if claims is None:
                return None
            return self._send(200, SupabaseStub.user_json(claims["sub"], claims.get("email", "")))
        if path.startswith("/storage/v1/object/authenticated/"):
            return self._download(path[len("/storage/v1/object/authenticated/") :])
        self._send(404, {"message": f"no route {path}"})

    do_HEAD = do_GET

    def do_DELETE(self) -> None:
        path, _ = self._route()
        if path.startswith("/storage/v1/object/"):
            return self._delete(path[len("/storage/v1/object/") :])
        self._send(404, {"message": f"no route {path}"})

    # -- Data API --------------------------------------------------------------------------

    def _rpc(self, fn: str) -> None:
        claims = self._claims()
        if claims is None:
            return
        try:
            args = self._json()
        except ValueError:
            return self._send(400, {"code": "PGRST102", "message": "Invalid JSON body"})
        self.owner.rpc_calls += 1
        try:
            result = self.owner.api.rpc(claims, fn, args)
        except FunctionNotFound as exc:
            return self._send(
                404,
                {"code": "PGRST202", "message": f"Could not find the function public.{exc}"},
            )
        except OperationalError as exc:
            return self._send(503, {"code": "PGRST000", "message": str(exc.orig)})
        except DBAPIError as exc:
            return self._sql_error(exc, claims)
        self._send(200, result)

    def _sql_error(self, exc: DBAPIError, claims: dict[str, Any]) -> None:
        code = getattr(exc.orig, "sqlstate", None) or "XX000"
        message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        status = 400
        if code == "42501":
            status = 401 if claims.get("role") == "anon" else 403
        self._send(status, {"code": code, "message": message, "details": None, "hint": None})

    # -- Auth ------------------------------------------------------------------------------

    def _auth_error(self, status: int, code: str, msg: str) -> None:
        self._send(status, {"code": status, "error_code": code, "msg": msg})

    def _auth_post(self, what: str, query: dict[str, list[str]]) -> None:
        if self._claims() is None:  # the apikey is required on every Auth call
            return None
        body = self._json()
        auth = self.owner.auth
        if what == "otp":
            email = str(body.get("email") or "")
            if "@" not in email:
                return self._auth_error(400, "validation_failed", "Invalid email")
            auth.codes[email] = f"{secrets.randbelow(10**6):06d}"
            return self._send(200, {})
        if what == "verify":
            email = str(body.get("email") or "")
            if auth.codes.get(email) is None or auth.codes.get(email) != body.get("token"):
                return self._auth_error(403, "otp_expired", "Token has expired or is invalid")
            del auth.codes[email]
            return self._send(200, self.owner.session_for(email))
        if what == "token":
            grant = (query.get("grant_type") or [""])[0]
            if grant == "refresh_token":
                return self._refresh(str(body.get("refresh_token") or ""))
            if grant == "pkce":
                return self._pkce(body)
            return self._auth_error(400, "unsupported_grant_type", grant)
        if what == "logout":
            claims = self.owner.verify(self.headers["Authorization"][7:])
            with self.owner._lock:
                for token, (email, sid, _) in list(auth.refresh.items()):
                    if auth.users.get(email) == claims.get("sub"):
                        auth.refresh[token] = (email, sid, False)
            return self._send(204)
        return self._auth_error(404, "not_found", what)

    def _refresh(self, token: str) -> None:
        auth = self.owner.auth
        with self.owner._lock:
            found = auth.refresh.get(token)
            if found is not None and found[2]:
                auth.refresh[token] = (found[0], found[1], False)
                auth.refreshes += 1
            elif found is not None:
                auth.reused += 1
        if found is None:
            return self._auth_error(400, "refresh_token_not_found", "Invalid Refresh Token")
        if not found[2]:
            return self._auth_error(
                400, "refresh_token_already_used", "Invalid Refresh Token: Already Used"
            )
        time.sleep(self.owner.refresh_delay)
        self._send(200, self.owner.session_for(found[0], found[1]))

    def _authorize(self, query: dict[str, list[str]]) -> None:
        """The provider's consent screen, accepted at once: back to ``redirect_to``."""
        provider = (query.get("provider") or [""])[0]
        redirect = (query.get("redirect_to") or [""])[0]
        challenge = (query.get("code_challenge") or [""])[0]
        if not provider or not redirect or not challenge:
            return self._auth_error(400, "validation_failed", "provider, redirect_to, PKCE")
        code = secrets.token_urlsafe(16)
        self.owner.auth.flows[code] = (challenge, f"{provider}-user@example.com")
        self._send(302, None, {"Location": f"{redirect}?{urlencode({'code': code})}"})

    def _pkce(self, body: dict[str, Any]) -> None:
        flow = self.owner.auth.flows.pop(str(body.get("auth_code") or ""), None)
        verifier = str(body.get("code_verifier") or "")
        if flow is None:
            return self._auth_error(404, "flow_state_not_found", "invalid flow state")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != flow[0]:
            return self._auth_error(400, "bad_code_verifier", "code challenge does not match")
        self._send(200, self.owner.session_for(flow[1]))

    # -- Storage ---------------------------------------------------------------------------

    def _object(self, rest: str) -> tuple[str, str]:
        bucket, _, key = rest.partition("/")
        return bucket, unquote(key)

    def _storage_error(self, status: int, message: str) -> None:
        self._send(status, {"statusCode": str(status), "error": message, "message": message})

    def _upload(self, rest: str) -> None:
        claims = self._claims()
        if claims is None:
            return None
        bucket, key = self._object(rest)
        data = self._body()
        try:
            with self.owner.api.request(claims) as conn:
                conn.execute(
                    text(
                        "insert into storage.objects (bucket_id, name, owner) "
                        "values (:b, :n, cast(nullif(:o, '') as uuid)) "
                        "on conflict (bucket_id, name) do update set updated_at = now()"
                    ),
                    {"b": bucket, "n": key, "o": claims.get("sub") or ""},
                )
        except DBAPIError as exc:
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            return self._storage_error(403, first)
        self.owner.objects[(bucket, key)] = data
        self._send(200, {"Key": f"{bucket}/{key}"})

    def _visible(self, claims: dict[str, Any], bucket: str, key: str) -> bool:
        with self.owner.api.request(claims) as conn:
            return (
                conn.execute(
                    text("select 1 from storage.objects where bucket_id = :b and name = :n"),
                    {"b": bucket, "n": key},
                ).first()
                is not None
            )

    def _download(self, rest: str) -> None:
        claims = self._claims()
        if claims is None:
            return None
        bucket, key = self._object(rest)
        if not self._visible(claims, bucket, key) or (bucket, key) not in self.owner.objects:
            return self._storage_error(400, "Object not found")
        self._send(200, self.owner.objects[(bucket, key)])

    def _delete(self, rest: str) -> None:
        claims = self._claims()
        if claims is None:
            return None
        bucket, key = self._object(rest)
        with self.owner.api.request(claims) as conn:
            gone = conn.execute(
                text("delete from storage.objects where bucket_id = :b and name = :n returning 1"),
                {"b": bucket, "n": key},
            ).first()
        if gone is None:
            return self._storage_error(400, "Object not found")
        self.owner.objects.pop((bucket, key), None)
        self._send(200, [{"name": key}])

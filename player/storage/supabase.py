"""Supabase Storage over its REST API, with the standard library only (urllib).

Upload: ``POST /storage/v1/object/<bucket>/<key>`` with ``x-upsert: true``; download:
``GET /storage/v1/object/authenticated/<bucket>/<key>``; delete: ``DELETE
/storage/v1/object/<bucket>/<key>``. Requests carry the project's API key (``apikey``) and
the user's JWT (``Authorization: Bearer``), so Storage's own row-level security decides.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from base.paths import path_from_url
from player.storage.base import StorageError, check_key

CHUNK = 1 << 16


class SupabaseStorage:
    def __init__(
        self,
        project_url: str,
        bucket: str = "tracks",
        api_key: str = "",
        access_token: str | Callable[[], str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        parsed = urlparse(project_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise StorageError(
                f"{project_url!r} is not a Supabase project URL (https://<ref>.supabase.co)."
            )
        if not bucket or "/" in bucket:
            raise StorageError(f"{bucket!r} is not a storage bucket name.")
        self.base = project_url.rstrip("/")
        self.bucket = bucket
        self.api_key = api_key
        #: A token, or a function giving a fresh one per request (a signed-in account's).
        self.access_token = access_token or api_key
        self.timeout = timeout

    def describe(self) -> str:
        return f"Supabase Storage bucket {self.bucket!r} at {urlparse(self.base).netloc}"

    def local_file(self, url: str) -> Path | None:
        return path_from_url(url)

    # -- URLs ------------------------------------------------------------------------------

    def _object_url(self, key: str, kind: str = "") -> str:
        middle = f"{kind}/" if kind else ""
        return f"{self.base}/storage/v1/object/{middle}{self.bucket}/{quote(check_key(key))}"

    def _prefixes(self) -> tuple[str, ...]:
        root = f"{self.base}/storage/v1/object/"
        return tuple(f"{root}{kind}{self.bucket}/" for kind in ("authenticated/", "public/", ""))

    def owns(self, url: str) -> bool:
        return url.startswith(self._prefixes())

    def key_of(self, url: str) -> str:
        for prefix in self._prefixes():
            if url.startswith(prefix):
                return check_key(unquote(url[len(prefix) :]))
        raise StorageError(f"{url} is not in {self.describe()}.")

    # -- requests --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> urllib.request.Request:
        req = urllib.request.Request(url, data=data, method=method)
        if self.api_key:
            req.add_header("apikey", self.api_key)
        token = self.access_token() if callable(self.access_token) else self.access_token
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        return req

    def _fail(self, what: str, exc: Exception) -> StorageError:
        if isinstance(exc, urllib.error.HTTPError):
            detail = ""
            try:
                body = json.loads(exc.read() or b"{}")
                detail = str(body.get("message") or body.get("error") or "")
            except (ValueError, OSError):
                pass
            hint = {401: " (sign in again)", 403: " (not allowed for this account)"}.get(
                exc.code, ""
            )
            return StorageError(
                f"{what} failed: HTTP {exc.code}{': ' + detail if detail else ''}{hint}."
            )
        return StorageError(f"{what} failed: {exc}. Is {urlparse(self.base).netloc} reachable?")

    def put(self, key: str, source: Path) -> str:
        data = Path(source).read_bytes()
        req = self._request(
            "POST",
            self._object_url(key),
            data,
            {"Content-Type": _content_type(source), "x-upsert": "true"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
        except (urllib.error.URLError, OSError) as exc:
            raise self._fail(f"Uploading {source.name} to {self.describe()}", exc) from exc
        return self._object_url(key, "authenticated")

    def fetch(self, url: str, target: Path) -> Path:
        req = self._request("GET", self._object_url(self.key_of(url), "authenticated"))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(req, timeout=self.timeout) as resp,
            ):
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
            os.replace(tmp, target)
        except (urllib.error.URLError, OSError) as exc:
            Path(tmp).unlink(missing_ok=True)
            raise self._fail(f"Downloading {url}", exc) from exc
        return target

    def exists(self, key: str) -> bool:
        req = self._request("HEAD", self._object_url(key, "authenticated"))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout):
                return True
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 404):
                return False
            raise self._fail(f"Checking {key}", exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise self._fail(f"Checking {key}", exc) from exc

    def delete(self, key: str) -> None:
        req = self._request("DELETE", self._object_url(key))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 404):
                return
            raise self._fail(f"Deleting {key}", exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise self._fail(f"Deleting {key}", exc) from exc


def _content_type(path: Path) -> str:
    return {
        ".wav": "audio/wav",
        ".mp3": "audio/mpeg",
        ".flac": "audio/flac",
        ".ogg": "audio/ogg",
        ".opus": "audio/ogg",
    }.get(Path(path).suffix.lower(), "application/octet-stream")

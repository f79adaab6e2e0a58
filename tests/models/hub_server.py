"""A loopback HTTP server in the Hugging Face Hub's layout — a test double, and why.

There is no network in tests (and none on this build machine), so this stands in for
https://huggingface.co. It serves real files (tiny checkpoints of the real
architectures with random weights) the way the Hub serves a model repository, as far as
``huggingface_hub`` reads it:

* ``GET /api/models/{repo}/revision/{rev}`` — the model-info API; with ``?blobs=true``
  each sibling carries ``size``, ``blobId`` and, for LFS files, ``lfs.sha256``;
* ``HEAD|GET /{repo}/resolve/{rev}/{file}`` — small files answered directly with
  ``ETag`` (the git blob id) and ``X-Repo-Commit``; LFS files (``*.safetensors``,
  ``*.bin``) redirected with 302 to ``/cdn/{sha256}``, with ``X-Linked-Etag`` (the
  sha256), ``X-Linked-Size`` and ``X-Repo-Commit``, as the Hub redirects to its CDN;
* ``GET /cdn/{sha256}`` with ``Range: bytes=N-`` answered 206 and ``Content-Range``.

Knobs for failure cases: ``throttle`` (seconds slept per 4 KiB sent), ``drop_after``
(close the connection once after N bytes of a file), ``corrupt`` (serve a file with one
byte flipped while the metadata keeps the true checksum), and ``offline`` (refuse with
503). It also answers as a plain HTTP proxy (absolute URLs in the request line), to show
that ``HTTP_PROXY`` from the environment is used. Every request is logged (method, path,
Range) for the tests to assert on.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LFS_SUFFIXES = (".safetensors", ".bin")
BLOCK = 4096


@dataclass
class ServedFile:
    name: str
    data: bytes
    sha256: str
    blob_id: str

    @property
    def lfs(self) -> bool:
        return self.name.endswith(LFS_SUFFIXES)


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class HubState:
    repos: dict[str, dict[str, ServedFile]] = field(default_factory=dict)
    log: list[tuple[str, str, str]] = field(default_factory=list)
    throttle: float = 0.0
    drop_after: dict[str, int] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)
    offline: bool = False
    proxied: list[str] = field(default_factory=list)  # absolute URLs: asked as a proxy
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_repo(self, repo: str, folder: Path) -> None:
        files = {}
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            name = path.relative_to(folder).as_posix()
            files[name] = ServedFile(name, data, hashlib.sha256(data).hexdigest(), _blob_id(data))
        self.repos[repo] = files

    def by_sha(self, sha: str) -> ServedFile | None:
        for files in self.repos.values():
            for f in files.values():
                if f.sha256 == sha:
                    return f
        return None

    def requests(self, kind: str = "") -> list[tuple[str, str, str]]:
        with self.lock:
            return [r for r in self.log if kind in r[1]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def do_GET(self) -> None:
        self._handle(head=False)

    def _handle(self, head: bool) -> None:
        state = self.server.state
        path = unquote(urlsplit(self.path).path)
        with state.lock:
            state.log.append((self.command, path, self.headers.get("Range", "")))
            if self.path.startswith("http://"):
                state.proxied.append(self.path)
        if state.offline:
            return self._send(503, b"offline", {})
        if path.startswith("/api/models/"):
            return self._model_info(path[len("/api/models/") :])
        if path.startswith("/cdn/"):
            served = state.by_sha(path[len("/cdn/") :])
            if served is None:
                return self._send(404, b"not found", {})
            return self._file(served, head, {})
        if "/resolve/" in path:
            repo, rest = path.lstrip("/").split("/resolve/", 1)
            _rev, name = rest.split("/", 1)
            served = state.repos.get(repo, {}).get(name)
            if served is None:
                return self._send(404, b"entry not found", {"X-Error-Code": "EntryNotFound"})
            common = {"X-Repo-Commit": COMMIT}
            if served.lfs:
                return self._send(
                    302,
                    b"",
                    {
                        **common,
                        "Location": f"http://{self.headers['Host']}/cdn/{served.sha256}",
                        "X-Linked-Etag": f'"{served.sha256}"',
                        "X-Linked-Size": str(len(served.data)),
                        "ETag": f'"{served.blob_id}"',
                    },
                    head=head,
                )
            return self._file(served, head, {**common, "ETag": f'"{served.blob_id}"'})
        return self._send(404, b"not found", {})

    def _model_info(self, rest: str) -> None:
        repo, _, _rev = rest.partition("/revision/")
        files = self.server.state.repos.get(repo)
        if files is None:
            missing = b'{"error":"Repository not found"}'
            return self._send(404, missing, {"X-Error-Code": "RepoNotFound"})
        siblings = []
        for f in files.values():
            sib: dict[str, object] = {"rfilename": f.name, "size": len(f.data), "blobId": f.blob_id}
            if f.lfs:
                sib["lfs"] = {"sha256": f.sha256, "size": len(f.data), "pointerSize": 134}
            siblings.append(sib)
        body = json.dumps({"id": repo, "modelId": repo, "sha": COMMIT, "siblings": siblings})
        self._send(200, body.encode(), {"Content-Type": "application/json"})

    def _file(self, served: ServedFile, head: bool, headers: dict[str, str]) -> None:
        state = self.server.state
        data = served.data
        if served.name in state.corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start, status = 0, 200
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes="):
            start = int(wanted[len("bytes=") :].split("-", 1)[0] or 0)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        headers.setdefault("ETag", f'"{served.sha256}"')
        headers["Accept-Ranges"] = "bytes"
        body = data[start:]
        drop = state.drop_after.pop(served.name, None) if not head else None
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        sent = 0
        for i in range(0, len(body), BLOCK):
            if drop is not None and sent >= drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            chunk = body[i : i + BLOCK]
            try:
                self.wfile.write(chunk)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return
            sent += len(chunk)
            if state.throttle:
                time.sleep(state.throttle)

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: HubState


class LoopbackHub:
    """The server on 127.0.0.1 on a free port, in a thread; ``url`` is its HF_ENDPOINT."""

    def __init__(self) -> None:
        self.state = HubState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LoopbackHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

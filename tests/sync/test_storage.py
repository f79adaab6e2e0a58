"""Shared audio storage: the folder backend and Supabase Storage's REST API (a local fake)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from db.sync import sync
from player.storage import (
    AudioStorage,
    LocalFolderStorage,
    StorageError,
    SupabaseStorage,
    ensure_local,
    storage_from_env,
)
from tests.sync.helpers import add_track, assert_same, one

API_KEY = "anon-key"
TOKEN = "user-jwt"


class FakeStorage(BaseHTTPRequestHandler):
    """The handful of Supabase Storage endpoints the backend uses, kept in a dict."""

    objects: ClassVar[dict[str, bytes]] = {}
    requests: ClassVar[list[tuple[str, str, Any]]] = []

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _authorised(self) -> bool:
        ok = (
            self.headers.get("apikey") == API_KEY
            and self.headers.get("Authorization") == f"Bearer {TOKEN}"
        )
        if not ok:
            self._json(401, {"message": "Invalid JWT"})
        return ok

    def _json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _key(self, kind: str = "") -> str | None:
        prefix = f"/storage/v1/object/{kind}"
        return self.path[len(prefix) :] if self.path.startswith(prefix) else None

    def do_POST(self) -> None:
        self.requests.append(("POST", self.path, self.headers))
        if not self._authorised():
            return
        key = self._key()
        data = self.rfile.read(int(self.headers["Content-Length"]))
        if key in self.objects and self.headers.get("x-upsert") != "true":
            self._json(409, {"message": "The resource already exists"})
            return
        self.objects[str(key)] = data
        self._json(200, {"Key": key})

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path, self.headers))
        if not self._authorised():
            return
        key = self._key("authenticated/")
        if key not in self.objects:
            self._json(404, {"message": "Object not found"})
            return
        data = self.objects[str(key)]
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self) -> None:
        if not self._authorised():
            return
        key = self._key("authenticated/")
        self._json(200 if key in self.objects else 404, {})

    def do_DELETE(self) -> None:
        if not self._authorised():
            return
        key = self._key()
        if key not in self.objects:
            self._json(404, {"message": "Object not found"})
            return
        del self.objects[str(key)]
        self._json(200, {})


@pytest.fixture
def fake_supabase() -> Iterator[str]:
    FakeStorage.objects = {}
    FakeStorage.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStorage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["folder", "supabase"])
def storage(request, tmp_path, fake_supabase) -> AudioStorage:
    if request.param == "folder":
        return LocalFolderStorage(tmp_path / "shared")
    return SupabaseStorage(fake_supabase, "tracks", api_key=API_KEY, access_token=TOKEN)


def test_every_backend_stores_fetches_and_deletes(storage, tmp_path):
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF" + bytes(range(256)) * 50)
    url = storage.put("user/track one.wav", audio)
    assert storage.owns(url) and storage.key_of(url) == "user/track one.wav"
    assert storage.exists("user/track one.wav")
    fetched = storage.fetch(url, tmp_path / "out" / "b.wav")
    assert fetched.read_bytes() == audio.read_bytes()
    # Uploading again replaces the object (a retried upload is harmless).
    audio.write_bytes(b"second")
    assert storage.put("user/track one.wav", audio) == url
    assert storage.fetch(url, tmp_path / "c.wav").read_bytes() == b"second"
    storage.delete("user/track one.wav")
    storage.delete("user/track one.wav")  # already gone: fine
    assert not storage.exists("user/track one.wav")
    with pytest.raises(StorageError):
        storage.fetch(url, tmp_path / "d.wav")
    assert not (tmp_path / "d.wav").exists()


@pytest.mark.parametrize("key", ["", "/abs.wav", "a/../b.wav", "a//b.wav"])
def test_bad_keys_are_refused(storage, tmp_path, key):
    (tmp_path / "x.wav").write_bytes(b"x")
    with pytest.raises(StorageError, match="not a valid storage key"):
        storage.put(key, tmp_path / "x.wav")


def test_supabase_sends_the_users_token_and_names_an_auth_failure(fake_supabase, tmp_path):
    (tmp_path / "x.wav").write_bytes(b"x")
    good = SupabaseStorage(fake_supabase, "tracks", api_key=API_KEY, access_token=TOKEN)
    url = good.put("u/x.wav", tmp_path / "x.wav")
    assert url == f"{fake_supabase}/storage/v1/object/authenticated/tracks/u/x.wav"
    method, path, headers = FakeStorage.requests[-1]
    assert (method, path) == ("POST", "/storage/v1/object/tracks/u/x.wav")
    assert headers.get("content-type") == "audio/wav" and headers.get("x-upsert") == "true"
    expired = SupabaseStorage(fake_supabase, "tracks", api_key=API_KEY, access_token="old")
    with pytest.raises(StorageError, match=r"HTTP 401: Invalid JWT \(sign in again\)"):
        expired.put("u/x.wav", tmp_path / "x.wav")


def test_an_unreachable_supabase_is_named(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"x")
    gone = SupabaseStorage("http://127.0.0.1:9", "tracks", api_key=API_KEY, timeout=2)
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:9 reachable"):
        gone.put("u/x.wav", tmp_path / "x.wav")


def test_bad_configuration_is_named():
    with pytest.raises(StorageError, match="not a Supabase project URL"):
        SupabaseStorage("ftp://x", "tracks")
    with pytest.raises(StorageError, match="bucket"):
        SupabaseStorage("https://x.supabase.co", "a/b")


def test_storage_from_env_picks_the_backend(monkeypatch, tmp_path):
    monkeypatch.delenv("INFINITE_PLAYER_STORAGE", raising=False)
    assert storage_from_env() is None
    assert isinstance(storage_from_env(str(tmp_path)), LocalFolderStorage)
    assert isinstance(storage_from_env(tmp_path.as_uri()), LocalFolderStorage)
    monkeypatch.setenv("INFINITE_PLAYER_STORAGE", "https://ref.supabase.co")
    assert isinstance(storage_from_env(), SupabaseStorage)
    with pytest.raises(StorageError, match="not a storage location"):
        storage_from_env("ftp://nas/music")


def test_a_shared_folder_is_played_in_place(tmp_path):
    storage = LocalFolderStorage(tmp_path / "nas")
    (tmp_path / "t.wav").write_bytes(b"music")
    url = storage.put("u/t.wav", tmp_path / "t.wav")
    assert ensure_local(url, storage, tmp_path / "cache") == tmp_path / "nas" / "u" / "t.wav"


def test_missing_audio_is_fetched_when_played(fake_supabase, tmp_path):
    storage = SupabaseStorage(fake_supabase, "tracks", api_key=API_KEY, access_token=TOKEN)
    audio = tmp_path / "t.wav"
    audio.write_bytes(b"music")
    url = storage.put("u/t.wav", audio)
    cache = tmp_path / "cache"
    first = ensure_local(url, storage, cache)
    assert first.read_bytes() == b"music" and first.is_relative_to(cache)
    storage.delete("u/t.wav")
    assert ensure_local(url, storage, cache) == first  # cached: no second download
    # A local file is used as it is; a missing one with no shared copy is named.
    assert ensure_local(audio.as_uri()) == audio
    with pytest.raises(StorageError, match="missing"):
        ensure_local((tmp_path / "gone.wav").as_uri())


def test_sync_uploads_audio_and_another_device_plays_it(
    database, second_device, remote, account, tmp_path
):
    shared = LocalFolderStorage(tmp_path / "nas")
    audio = tmp_path / "device" / "song.wav"
    audio.parent.mkdir()
    audio.write_bytes(b"generated audio")
    track = add_track(database, account, url=audio.as_uri())
    lost = add_track(database, account, url=(tmp_path / "never-written.wav").as_uri())
    result = sync(database, remote, account, storage=shared)
    assert result.uploaded == 1 and result.errors == []
    url = one(remote, "select url from generated_tracks where id = :i", i=track)
    assert shared.owns(url)
    assert one(remote, "select url from generated_tracks where id = :i", i=lost).endswith(
        "never-written.wav"
    )
    assert_same(database, remote, account)
    sync(second_device, remote, account, storage=shared)
    there = one(second_device, "select url from generated_tracks where id = :i", i=track)
    played = ensure_local(there, shared, tmp_path / "device2")
    assert played.read_bytes() == b"generated audio"
    assert str(uuid.UUID(Path(played).stem)) == str(track)

"""The one reading of a stored track URL (generation, playback, bands, re-embedding)."""

from __future__ import annotations

from pathlib import Path

from base.paths import path_from_url


def test_a_file_url_is_its_decoded_path(tmp_path):
    path = tmp_path / "my track #1.mp3"
    assert path_from_url(path.as_uri()) == path
    assert path_from_url("file:///music/a%20b.mp3") == Path("/music/a b.mp3")


def test_a_plain_path_is_itself_and_a_remote_url_has_no_local_file():
    assert path_from_url("/music/a.mp3") == Path("/music/a.mp3")
    assert path_from_url("https://example.com/storage/v1/object/audio/a.mp3") is None
    assert path_from_url("") is None

"""Malformed and hostile input: never a crash, always a clear error, never half an import."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from base.errors import UserFacingError
from db.models import UserHistory
from player.imports import IMPORTERS, FormatError, Play, importer_for, read_records
from player.imports.history import import_history
from tests.imports.conftest import DATA, make_zip

FILE_NAMES = {
    "spotify-export": "StreamingHistory_music_0.json",
    "spotify-extended": "Streaming_History_Audio_2023.json",
    "apple-export": "Apple Music Play Activity.csv",
    "youtube-export": "watch-history.json",
    "listenbrainz": "listens.jsonl",
    "lastfm": "scrobbles.csv",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)

# Records with the right keys and anything as values (wrong types, blanks, odd times).
spotify_records = st.lists(
    st.fixed_dictionaries(
        {
            "endTime": st.sampled_from(["2023-01-15 18:23", "", "2023-13-45 99:99"]) | json_values,
            "artistName": st.text(max_size=20) | json_values,
            "trackName": st.text(max_size=20) | json_values,
            "msPlayed": st.integers(-5, 10**7) | json_values,
        }
    ),
    max_size=6,
)


def consume(kind: str, path: Path) -> int:
    """Parse everything; only UserFacingError may escape. Returns the number of plays."""
    try:
        return sum(isinstance(r, Play) for r in read_records(importer_for(kind), path))
    except UserFacingError as exc:
        assert str(exc)  # a message, not an empty error
        return -1


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kind=st.sampled_from(sorted(IMPORTERS)), payload=st.binary(max_size=600))
def test_random_bytes_never_crash_any_parser(tmp_path, kind, payload):
    path = tmp_path / FILE_NAMES[kind]
    path.write_bytes(payload)
    consume(kind, path)


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kind=st.sampled_from(sorted(IMPORTERS)), value=json_values)
def test_random_json_never_crashes_any_parser(tmp_path, kind, value):
    path = tmp_path / FILE_NAMES[kind]
    path.write_text(json.dumps(value))
    consume(kind, path)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(records=spotify_records, encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "utf-32"]))
def test_wrong_types_and_encodings_give_a_clear_error(tmp_path, records, encoding):
    path = tmp_path / "StreamingHistory_music_0.json"
    path.write_bytes(json.dumps(records, ensure_ascii=False).encode(encoding, errors="replace"))
    consume("spotify-export", path)


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(records=spotify_records)
def test_a_rejected_file_imports_nothing(database, make_user, tmp_path_factory, records):
    user = make_user()
    valid = [
        {"endTime": "2020-01-01 00:00", "artistName": "A", "trackName": "T", "msPlayed": 60000}
    ]
    path = tmp_path_factory.mktemp("f") / "StreamingHistory_music_0.json"
    path.write_text(json.dumps(valid + records))
    try:
        result = import_history(database, user, "spotify-export", path)
    except UserFacingError:
        expected = 0
    else:
        expected = result.imported
    with database.user_session(user) as s:
        assert s.scalar(select(func.count()).select_from(UserHistory)) == expected


def test_huge_strings_are_refused(tmp_path):
    path = tmp_path / "StreamingHistory_music_0.json"
    record = {
        "endTime": "2023-01-15 18:23",
        "artistName": "A",
        "trackName": "x" * 5000,
        "msPlayed": 60000,
    }
    path.write_text(json.dumps([record]))
    with pytest.raises(FormatError, match="'trackName' is 5000 characters long"):
        consume_strict("spotify-export", path)
    record["trackName"] = "x" * 3_000_000
    path.write_text(json.dumps([record]))
    with pytest.raises(FormatError, match="larger than 1024 KB"):
        consume_strict("spotify-export", path)
    csv = tmp_path / "scrobbles.csv"
    csv.write_text("artist,album,track,date\n" + "y" * 2_000_000 + "\n")
    with pytest.raises(FormatError):
        consume_strict("lastfm", csv)


def consume_strict(kind: str, path: Path) -> None:
    for _ in read_records(importer_for(kind), path):
        pass


def test_truncated_and_corrupted_zips_are_rejected(tmp_path):
    good = make_zip(
        tmp_path / "good.zip",
        {"a/StreamingHistory_music_0.json": DATA / "StreamingHistory_music_0.json"},
    )
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(FormatError, match="not a readable zip"):
        consume_strict("spotify-export", truncated)
    data = bytearray(good.read_bytes())
    start = data.index(b"StreamingHistory_music_0.json") + len("StreamingHistory_music_0.json")
    for i in range(start + 10, start + 60):  # flip bytes inside the compressed stream
        data[i] ^= 0xFF
    corrupted = tmp_path / "corrupted.zip"
    corrupted.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"damaged|not valid JSON|not UTF-8|not a JSON"):
        consume_strict("spotify-export", corrupted)


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    bomb = tmp_path / "my_spotify_data.zip"
    with (
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("StreamingHistory_music_0.json", "w") as member,
    ):
        for _ in range(64):
            member.write(b" " * (1 << 20))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(FormatError, match="only zip bombs are"):
        consume_strict("spotify-export", bomb)


def test_encrypted_member_is_refused(tmp_path):
    path = tmp_path / "locked.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("StreamingHistory_music_0.json", b"[]")
    # zipfile cannot encrypt; set the "encrypted" flag in the local and central headers.
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        data[at] |= 0x1
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="encrypted"):
        consume_strict("spotify-export", path)


def test_large_extended_history_streams_in_constant_memory(tmp_path):
    """A file many times the reader's chunk, parsed with a peak far below its size."""
    path = tmp_path / "Streaming_History_Audio_2015-2023_0.json"
    record = json.loads((DATA / "Streaming_History_Audio_2023.json").read_text())[0]
    template = json.dumps(dict(record, master_metadata_track_name="@@"), indent=2)
    rows = 15_000
    with path.open("w") as out:
        out.write("[\n")
        out.write(",\n".join(template.replace("@@", f"Track {i}") for i in range(rows)))
        out.write("\n]")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        plays = sum(
            1 for r in read_records(importer_for("spotify-extended"), path) if isinstance(r, Play)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert plays == rows
    assert size > 10 * 1024**2
    assert peak < 3 * 1024**2, f"peak {peak / 1024**2:.1f} MB for a {size / 1024**2:.0f} MB file"

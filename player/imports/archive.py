"""Finding the history files in what the user downloaded: a zip, a folder or one file.

Services hand out zips (``my_spotify_data.zip``, Google Takeout, ListenBrainz); people
also unpack them or pick the single JSON. All three lead to the same list of members,
read straight out of the zip without extracting to disk. Zip members are checked before
anything is decompressed: encrypted entries, absurd sizes and compression ratios that
only a zip bomb has are refused with a message, never half-read.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from base.errors import UserFacingError
from player.imports.base import FormatError, Importer

#: Largest history file accepted (uncompressed); a 15-year extended history is < 1 GB.
MAX_MEMBER_BYTES = 4 * 1024**3
#: Sum over all matching members of a zip.
MAX_TOTAL_BYTES = 16 * 1024**3
#: JSON/CSV exports compress 5-30x; a bomb compresses thousands of times.
MAX_RATIO = 200
MAX_MEMBERS = 5_000


@dataclass(frozen=True)
class Member:
    """One history file: a name to show in messages and a way to open it as bytes."""

    name: str
    open: Callable[[], IO[bytes]]
    #: uncompressed bytes, for progress
    size: int = 0

    @contextmanager
    def reading(self) -> Iterator[IO[bytes]]:
        """The member open for reading; damage found while decompressing (bad CRC, cut
        deflate stream) surfaces as a :class:`FormatError` like any malformed input."""
        try:
            with self.open() as stream:
                yield stream
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise FormatError(f"{self.name} is damaged and cannot be read ({exc})") from None
        except OSError as exc:
            raise UserFacingError(f"cannot read {self.name}: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class Export:
    """What one import reads: the history files, and the sibling files that explain them."""

    members: list[Member]
    siblings: list[Member] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(m.size for m in self.members) + sum(m.size for m in self.siblings)


def _natural_key(name: str) -> list[object]:
    # StreamingHistory_music_10.json sorts after _9, as the service numbered them.
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError as exc:
        raise UserFacingError(f"cannot read {path}: {exc.strerror or exc}") from None


@contextmanager
def history_files(path: Path, importer: Importer) -> Iterator[Export]:
    """The files in ``path`` that ``importer`` reads, in the service's order."""
    if not path.exists():
        raise UserFacingError(f"{path} does not exist")
    if path.is_dir():
        found = sorted(
            (p for p in path.rglob("*") if p.is_file() and _used(importer, p.name)),
            key=lambda p: _natural_key(str(p.relative_to(path))),
        )
        members = [_file_member(p) for p in found if importer.wants(p.name)]
        if not members:
            raise _nothing_found(path, importer)
        siblings = [p for p in found if importer.is_sibling(p.name) and not importer.wants(p.name)]
        yield Export(members, [_file_member(p) for p in siblings])
        return
    if not path.is_file():
        raise UserFacingError(f"{path} is not a file or folder")
    if not _is_zip(path) and path.suffix.lower() != ".zip":
        # One file picked out of an unpacked export: its siblings are next to it.
        siblings = sorted(
            (p for p in path.parent.iterdir() if p.is_file() and importer.is_sibling(p.name)),
            key=lambda p: _natural_key(p.name),
        )
        member = Member(path.name, _file_opener(path), path.stat().st_size)
        yield Export([member], [_file_member(p) for p in siblings if p != path])
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FormatError(f"{path.name} is not a readable zip file ({exc})") from None
    with archive:
        export = _zip_export(archive, path.name, importer)
        if export is not None:
            yield export
            return
        # Apple's "Apple Media Services information.zip" holds the history in a zip inside
        # the zip; look one level down, read in place like any other member.
        for inner in _inner_zips(archive, path.name):
            label = f"{path.name}/{inner.filename}"
            try:
                nested = zipfile.ZipFile(archive.open(inner))
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise FormatError(f"{label} is not a readable zip file ({exc})") from None
            with nested:
                export = _zip_export(nested, label, importer)
                if export is not None:
                    yield export
                    return
        raise _nothing_found(path, importer)


def _used(importer: Importer, name: str) -> bool:
    return importer.wants(name) or importer.is_sibling(name)


def _file_member(path: Path) -> Member:
    return Member(str(path), _file_opener(path), path.stat().st_size)


def _zip_export(archive: zipfile.ZipFile, label: str, importer: Importer) -> Export | None:
    infos = _checked_members(archive, label, importer)
    members = [i for i in infos if importer.wants(i.filename)]
    if not members:
        return None

    def member(info: zipfile.ZipInfo) -> Member:
        return Member(f"{label}/{info.filename}", _zip_opener(archive, info), info.file_size)

    siblings = [
        member(i)
        for i in infos
        if importer.is_sibling(i.filename) and not importer.wants(i.filename)
    ]
    return Export([member(i) for i in members], siblings)


def _inner_zips(archive: zipfile.ZipFile, label: str) -> list[zipfile.ZipInfo]:
    inner = [
        i for i in archive.infolist() if not i.is_dir() and i.filename.lower().endswith(".zip")
    ]
    for info in inner:
        if info.flag_bits & 0x1:
            raise FormatError(f"{label}: {info.filename} is encrypted; unzip it yourself first")
        if info.file_size > MAX_TOTAL_BYTES:
            raise FormatError(f"{label}: {info.filename} is too large to open")
    return sorted(inner, key=lambda i: _natural_key(i.filename))


def _checked_members(
    archive: zipfile.ZipFile, label: str, importer: Importer
) -> list[zipfile.ZipInfo]:
    try:
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FormatError(f"{label} is not a readable zip file ({exc})") from None
    wanted = [i for i in infos if not i.is_dir() and _used(importer, i.filename)]
    if len(wanted) > MAX_MEMBERS:
        raise FormatError(f"{label} holds {len(wanted)} history files (at most {MAX_MEMBERS})")
    total = 0
    for info in wanted:
        if info.flag_bits & 0x1:
            raise FormatError(f"{label}: {info.filename} is encrypted; unzip it yourself first")
        if info.file_size > MAX_MEMBER_BYTES:
            raise FormatError(
                f"{label}: {info.filename} would unpack to {info.file_size / 1024**3:.1f} GB "
                f"(at most {MAX_MEMBER_BYTES // 1024**3} GB)"
            )
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > 1024**2 and ratio > MAX_RATIO:
            raise FormatError(
                f"{label}: {info.filename} is compressed {ratio} times over, which only zip "
                "bombs are; refusing to unpack it"
            )
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise FormatError(f"{label} would unpack to more than {MAX_TOTAL_BYTES // 1024**3} GB")
    return sorted(wanted, key=lambda i: _natural_key(i.filename))


def _nothing_found(path: Path, importer: Importer) -> UserFacingError:
    patterns = ", ".join(importer.members)
    return UserFacingError(f"{path} holds no {patterns}; is it {importer.description}?")


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _zip_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    return lambda: archive.open(info)

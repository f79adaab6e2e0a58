"""What every history source turns its files into, and the rules they share.

Each source (Spotify account data, Apple Music play activity, …) is one small module
with an :class:`Importer` subclass that reads one file as a stream and yields
:class:`Play` rows for music that was really listened to and :class:`Skip` markers for
everything else, so the counts the user sees (read = imported + skipped + duplicates)
are exact without keeping the file in memory.

A record that cannot be what the format promises (a number where text belongs, a date
that is not a date, a 5 MB artist name) is not skipped but rejects the whole file with a
:class:`FormatError` naming the file, the record and the field: importing half of a
corrupted export would leave history that nobody can explain.
"""

from __future__ import annotations

import fnmatch
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, ClassVar

from base.errors import UserFacingError

if TYPE_CHECKING:
    from player.imports.archive import Member

#: Plays shorter than this are not a sign of taste (Spotify counts a stream from 30 s on).
MIN_PLAY_MS = 30_000

#: Longest text accepted in a name field; real titles are far shorter, hostile files are not.
MAX_TEXT_CHARS = 1_000

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

#: Why a record was not imported; the keys of ``ImportResult.skipped_reasons``.
SHORT_PLAY = "short play"
NOT_MUSIC = "not music"
NO_METADATA = "no track metadata"
NOT_A_PLAY = "not a play"
NO_ARTIST = "no artist in the export"


class FormatError(UserFacingError):
    """The file is not a valid export of the kind asked for; nothing from it is imported."""


@dataclass(frozen=True, slots=True)
class Play:
    """One listen, shaped like a ``user_history`` row (the user id is added on insert)."""

    platform: str
    track_name: str
    artist: str
    played_at: datetime
    album: str | None = None
    track_id: str | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """A record that was read but is not a listen worth keeping, and why."""

    reason: str


Record = Play | Skip


class Importer(ABC):
    """One source's file format.

    ``members`` are the file-name patterns (matched case-insensitively against the base
    name) that hold history inside the service's zip or extracted folder; a single file
    given directly is parsed whatever its name, because people rename downloads.
    ``siblings`` are files of the same export that are not history but explain it (Apple's
    Daily Tracks name the artists its Play Activity leaves out; Spotify's library lists
    the podcast shows): they are handed to :meth:`read` too, and are also looked for next
    to a single file given directly.

    One instance serves one import: what a parser recovered from siblings and what it
    wants the listener to know land in ``recovered`` and ``notes``, which the import's
    result carries to the CLI and the app.
    """

    kind: ClassVar[str]
    platform: ClassVar[str]
    members: ClassVar[tuple[str, ...]]
    #: Base-name patterns that match ``members`` but hold something else (video, podcasts).
    excluded: ClassVar[tuple[str, ...]] = ()
    siblings: ClassVar[tuple[str, ...]] = ()
    #: Shown when a zip or folder holds no matching file.
    description: ClassVar[str]

    def __init__(self) -> None:
        #: what was filled in from another file of the export, by how, e.g. "artist from …"
        self.recovered: Counter[str] = Counter()
        #: sentences for the listener ("412 plays had no artist in the export")
        self.notes: list[str] = []

    def wants(self, name: str) -> bool:
        return _matches(name, self.members, self.excluded)

    def is_sibling(self, name: str) -> bool:
        return not self.wants(name) and _matches(name, self.siblings, ())

    def read(self, members: Sequence[Member], siblings: Sequence[Member]) -> Iterator[Record]:
        """Every record of the export; formats whose files depend on each other override it."""
        for member in members:
            with member.reading() as stream:
                yield from self.parse(stream, member.name)

    @abstractmethod
    def parse(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        """Yield one :class:`Play` or :class:`Skip` per record of ``stream``."""


def _matches(name: str, patterns: tuple[str, ...], excluded: tuple[str, ...]) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if any(fnmatch.fnmatchcase(base, pattern.lower()) for pattern in excluded):
        return False
    return any(fnmatch.fnmatchcase(base, pattern.lower()) for pattern in patterns)


class RecordReader:
    """Typed access to one record's fields with errors that point at the culprit.

    Why a class: every parser needs the same checks (type, length, date) and the same
    message shape ``file: record N: field 'x' …``, which users can act on.
    """

    __slots__ = ("_name", "_number", "_prefix", "_record")

    def __init__(self, name: str, number: int, record: object, prefix: str = "") -> None:
        self._name = name
        self._number = number
        self._prefix = prefix
        if not isinstance(record, Mapping):
            raise self.error(f"should be an object, got {_type_name(record)}")
        self._record: Mapping[str, object] = record

    def error(self, problem: str, field: str | None = None) -> FormatError:
        where = f"{self._name}: record {self._number}"
        path = f"{self._prefix}{field}" if field is not None else self._prefix.rstrip(".")
        if path:
            where += f": field {path!r}"
        return FormatError(f"{where} {problem}")

    def nested(self, field: str, value: object) -> RecordReader:
        """A reader for an object inside this record; errors name the full path."""
        return RecordReader(self._name, self._number, value, f"{self._prefix}{field}.")

    def has(self, field: str) -> bool:
        return self._record.get(field) is not None

    def raw(self, field: str) -> object:
        return self._record.get(field)

    def text(self, field: str, *, required: bool = False) -> str | None:
        """The field as stripped text; ``None`` when absent, null or blank (unless required)."""
        value = self._record.get(field)
        if value is None:
            if required:
                raise self.error("is missing", field)
            return None
        if not isinstance(value, str):
            raise self.error(f"should be text, got {_type_name(value)}", field)
        if len(value) > MAX_TEXT_CHARS:
            raise self.error(f"is {len(value)} characters long (at most {MAX_TEXT_CHARS})", field)
        if _UNSTORABLE.search(value):
            # PostgreSQL text cannot hold NUL; lone surrogates are not encodable as UTF-8.
            raise self.error("contains a NUL or invalid Unicode character", field)
        value = value.strip()
        if not value:
            if required:
                raise self.error("is empty", field)
            return None
        return value

    def integer(self, field: str, *, required: bool = False) -> int | None:
        """A whole number; numeric text is accepted because CSV has no other kind."""
        value = self._record.get(field)
        if value is None or value == "":
            if required:
                raise self.error("is missing", field)
            return None
        if isinstance(value, bool):
            raise self.error("should be a number, got a boolean", field)
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and len(value) <= 20:
            try:
                number = int(value.strip())
            except ValueError:
                raise self.error(f"should be a number, got {value[:40]!r}", field) from None
        else:
            raise self.error(f"should be a number, got {_type_name(value)}", field)
        if number < 0:
            raise self.error(f"should not be negative, got {number}", field)
        return number

    def timestamp(self, field: str, parse: Callable[[object], datetime]) -> datetime:
        """A required point in time, parsed by ``parse`` and returned in UTC."""
        value = self._record.get(field)
        if value is None or value == "":
            raise self.error("is missing", field)
        try:
            when = parse(value)
        except (ValueError, TypeError, OverflowError, OSError):
            shown = repr(value)[:60]
            raise self.error(f"is not a valid time: {shown}", field) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC)


def iso_time(value: object) -> datetime:
    """ISO 8601 as the services write it (``2023-03-04T17:05:54Z`` or with fraction/offset)."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not an ISO time")
    return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))


def epoch_seconds(value: object) -> datetime:
    """Unix seconds (int or numeric text), as ListenBrainz and Last.fm store them."""
    if isinstance(value, bool):
        raise ValueError("boolean is not a time")
    if isinstance(value, str):
        if len(value) > 20:
            raise ValueError("too long")
        value = int(value.strip())
    if not isinstance(value, int | float):
        raise ValueError("not a number")
    return datetime.fromtimestamp(value, tz=UTC)


def _type_name(value: object) -> str:
    names = {str: "text", int: "a number", float: "a number", bool: "a boolean", list: "a list"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    return names.get(type(value), type(value).__name__)

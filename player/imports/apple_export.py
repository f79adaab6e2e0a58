"""Apple Music history from Apple's Data & Privacy export.

The download ("Apple Media Services information.zip", with the music files in a zip
inside it, folder ``Apple Music Activity``) holds several files about the same listening:

- ``Apple Music Play Activity.csv``: one row per playback event, dozens of columns in
  alphabetical order whose set changed between export versions, so columns are found by
  header name. Older exports have ``Artist Name``; current ones do not, and their
  ``Container Artist Name`` is the artist of whatever the song was played from (album,
  playlist, station), almost always empty. Only ``PLAY_END`` audio rows are listens.
- ``Apple Music - Play History Daily Tracks.csv``: one row per track and day,
  ``Track Description`` "Artist - Song", ``Date Played`` (``YYYYMMDD``), ``Play Count``,
  ``Hours``, ``Track Identifier``.
- ``Apple Music - Track Play History.csv``: one row per track with its last play
  (``Last Played Date`` in epoch milliseconds, not read); ``Track Name`` as
  "Artist - Song", or in some exports ``Song Name`` + ``Artist Name``.
- ``Apple Music Library Tracks.json``: the library, ``Title``, ``Artist``, ``Album`` and
  the track identifiers.

So each Play Activity row without an artist gets it from the siblings, in this order:
Daily Tracks (same song on the same day, ±1 day because Apple dates that file in local
time; several artists that day are told apart by the album through the library's track
ids), then Track Play History (only when the song name has one artist there), then the
library (song and album, else a song name with one artist). A row none of them explains
is skipped and counted: an artist is never guessed. When the export has Daily Tracks but
no Play Activity, the Daily Tracks rows are the history: one play per ``Play Count``.

Column names and layouts come from the issue's notes and were checked against
open-source Apple-export parsers and their test data (sources in
``docs/areas/imports.md``); no real export was at hand, so the fixtures in
``tests/imports/data/apple_2024/`` are built to that layout with made-up rows.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import IO, TYPE_CHECKING

from player.imports.base import (
    MIN_PLAY_MS,
    NO_ARTIST,
    NO_METADATA,
    NOT_A_PLAY,
    NOT_MUSIC,
    SHORT_PLAY,
    FormatError,
    Importer,
    Play,
    Record,
    RecordReader,
    Skip,
    iso_time,
)
from player.imports.streams import iter_csv_rows, iter_json_array

if TYPE_CHECKING:
    from player.imports.archive import Member

_TRACK = ("Song Name", "Content Name")
_ARTIST = ("Artist Name",)
_ALBUM = ("Album Name", "Container Album Name")
_TIME = ("Event Start Timestamp", "Event End Timestamp")

PLAY_ACTIVITY = ("Apple Music Play Activity.csv", "Apple Music - Play Activity.csv")
DAILY_TRACKS = ("Apple Music - Play History Daily Tracks.csv",)
TRACK_PLAY_HISTORY = ("Apple Music - Track Play History.csv",)
LIBRARY_TRACKS = ("Apple Music Library Tracks.json",)

FROM_DAILY = "artist from Daily Tracks"
FROM_HISTORY = "artist from Track Play History"
FROM_LIBRARY = "artist from Library Tracks"

#: How Apple joins artist and song in "Track Description" (hyphen, en dash, em dash).
_SEPARATOR = re.compile(r" [-\u2013\u2014] ")
_VARIOUS = "various artists"


def _key(text: str) -> str:
    return sys.intern(" ".join(text.casefold().split()))


def _first(record: RecordReader, columns: tuple[str, ...]) -> str | None:
    for column in columns:
        value = record.text(column)
        if value is not None:
            return value
    return None


def _splits(description: str) -> Iterator[tuple[str, str]]:
    """Every (artist, song) reading of "Artist - Song"; either side may hold a dash."""
    for match in _SEPARATOR.finditer(description):
        artist, song = description[: match.start()].strip(), description[match.end() :].strip()
        if artist and song:
            yield artist, song


def _day(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 20:
        raise ValueError("not a date")
    value = value.strip()
    parsed = (
        datetime.strptime(value, "%Y%m%d") if value.isdigit() else date.fromisoformat(value[:10])
    )
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)


def _csv_records(stream: IO[bytes], name: str, required: tuple[str, ...]) -> Iterator[RecordReader]:
    """Rows of an Apple CSV as records keyed by header; the header must hold ``required``."""
    rows = iter_csv_rows(stream, name)
    header = next(rows, None)
    if header is None:
        raise FormatError(f"{name} is empty")
    header = [column.strip() for column in header]
    missing = [column for column in required if column not in header]
    if missing:
        raise FormatError(f"{name} has no {', '.join(repr(c) for c in missing)} column")
    width = len(header)
    for number, row in enumerate(rows, start=1):
        if len(row) > width:
            raise FormatError(f"{name}: row {number} has {len(row)} cells, header has {width}")
        yield RecordReader(name, number, dict(zip(header, row, strict=False)))


class _Siblings:
    """What the other files say about who played each song, for rows that lack the artist.

    Memory grows with the number of distinct songs per day in Daily Tracks and of
    library tracks (strings are interned), not with the number of plays.
    """

    def __init__(self) -> None:
        #: (day ordinal, song) -> {artist: track identifier or ""}
        self.daily: dict[tuple[int, str], dict[str, str]] = defaultdict(dict)
        #: song -> artists, from Track Play History
        self.history: dict[str, set[str]] = defaultdict(set)
        #: song -> artists, (song, album) -> artists, track id -> album, from the library
        self.library: dict[str, set[str]] = defaultdict(set)
        self.library_album: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.album_of: dict[str, str] = {}

    def add_daily(self, record: RecordReader) -> None:
        description = record.text("Track Description")
        if description is None:
            return
        day = record.timestamp("Date Played", _day).date().toordinal()
        track_id = record.text("Track Identifier") or ""
        for artist, song in _splits(description):
            self.daily[(day, _key(song))][sys.intern(artist)] = track_id

    def add_history(self, record: RecordReader) -> None:
        artist, song = record.text("Artist Name"), record.text("Song Name")
        if artist is not None and song is not None:
            self.history[_key(song)].add(sys.intern(artist))
            return
        described = record.text("Track Name")
        for artist, song in _splits(described or ""):
            self.history[_key(song)].add(sys.intern(artist))

    def add_library(self, record: RecordReader) -> None:
        title, artist = record.text("Title"), record.text("Artist")
        if title is None or artist is None:
            return
        artist = sys.intern(artist)
        album = record.text("Album")
        self.library[_key(title)].add(artist)
        if album is not None:
            self.library_album[(_key(title), _key(album))].add(artist)
            for field in ("Track Identifier", "Apple Music Track Identifier"):
                value = record.raw(field)
                if isinstance(value, int | str) and not isinstance(value, bool) and str(value):
                    self.album_of[str(value)] = _key(album)

    def artist(self, song: str, album: str | None, when: datetime) -> tuple[str, str] | None:
        """(artist, where it came from) for a play of ``song``, or None when unsure."""
        song_key = _key(song)
        album_key = _key(album) if album else None
        day = when.date().toordinal()
        for days in ((day,), (day - 1, day + 1)):
            candidates: dict[str, str] = {}
            for d in days:
                candidates.update(self.daily.get((d, song_key), {}))
            if len(candidates) > 1 and album_key is not None:
                candidates = {
                    a: t for a, t in candidates.items() if self.album_of.get(t) == album_key
                }
            if len(candidates) == 1:
                return next(iter(candidates)), FROM_DAILY
            if candidates:
                break  # several artists played a song of that name: ask the other files
        known = self.history.get(song_key, set())
        if len(known) == 1:
            return next(iter(known)), FROM_HISTORY
        if album_key is not None:
            known = self.library_album.get((song_key, album_key), set())
            if len(known) == 1:
                return next(iter(known)), FROM_LIBRARY
        known = self.library.get(song_key, set())
        if len(known) == 1:
            return next(iter(known)), FROM_LIBRARY
        return None


class AppleExportImporter(Importer):
    kind = "apple-export"
    platform = "apple"
    members = PLAY_ACTIVITY + DAILY_TRACKS
    siblings = TRACK_PLAY_HISTORY + LIBRARY_TRACKS
    description = "Apple's Data & Privacy export (Apple Media Services information.zip)"

    def __init__(self) -> None:
        super().__init__()
        self._missing = 0  # plays left without an artist, for the note

    def is_sibling(self, name: str) -> bool:
        # Daily Tracks is history of its own and the key to Play Activity's artists: when
        # one Play Activity file is picked, the Daily Tracks next to it must come along.
        return _named_str(name, DAILY_TRACKS + self.siblings)

    def read(self, members: Sequence[Member], siblings: Sequence[Member]) -> Iterator[Record]:
        # A file picked directly counts as Play Activity whatever its name, unless it is
        # named as Daily Tracks (people rename downloads; the header check still applies).
        activity = [m for m in members if not _named(m, DAILY_TRACKS)]
        by_name = {m.name: m for m in [*members, *siblings] if _named(m, DAILY_TRACKS)}
        daily = list(by_name.values())
        siblings = [m for m in siblings if not _named(m, DAILY_TRACKS)]
        if not activity:
            for member in daily:
                with member.reading() as stream:
                    yield from self.parse_daily_tracks(stream, member.name)
            self._note_missing([])
            return
        found = _Siblings()
        for member in daily:
            with member.reading() as stream:
                for record in _csv_records(stream, member.name, ("Track Description",)):
                    found.add_daily(record)
        for member in siblings:
            with member.reading() as stream:
                if _named(member, TRACK_PLAY_HISTORY):
                    for record in _csv_records(stream, member.name, ()):
                        found.add_history(record)
                else:
                    for number, raw in enumerate(iter_json_array(stream, member.name), 1):
                        found.add_library(RecordReader(member.name, number, raw))
        for member in activity:
            with member.reading() as stream:
                yield from self._play_activity(stream, member.name, found)
        self._note_missing([m.name.rsplit("/", 1)[-1] for m in [*daily, *siblings]])

    def _note_missing(self, looked_in: list[str]) -> None:
        missing = self._missing
        if not missing:
            return
        looked = f" (also looked in {', '.join(looked_in)})" if looked_in else ""
        self.notes.append(
            f"{missing:,} {'play' if missing == 1 else 'plays'} had no artist in the "
            f"export{looked}; they were not imported, since an artist is never guessed."
        )

    def parse(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        """A single Play Activity file with no sibling files (as the tests and fuzzers use)."""
        if _named_str(name, DAILY_TRACKS):
            yield from self.parse_daily_tracks(stream, name)
        else:
            yield from self._play_activity(stream, name, _Siblings())

    def _play_activity(self, stream: IO[bytes], name: str, found: _Siblings) -> Iterator[Record]:
        rows = iter_csv_rows(stream, name)
        header = next(rows, None)
        if header is None:
            raise FormatError(f"{name} is empty")
        header = [column.strip() for column in header]
        if not any(c in header for c in _TRACK) or not any(c in header for c in _TIME):
            raise FormatError(
                f"{name} is not Apple Music play activity (no 'Song Name' or "
                "'Event Start Timestamp' column)"
            )
        width = len(header)
        for number, row in enumerate(rows, start=1):
            if len(row) > width:
                raise FormatError(f"{name}: row {number} has {len(row)} cells, header has {width}")
            record = RecordReader(name, number, dict(zip(header, row, strict=False)))
            event = record.text("Event Type")
            if event is not None and event != "PLAY_END":
                yield Skip(NOT_A_PLAY)
                continue
            if (record.text("Media Type") or "AUDIO").upper() == "VIDEO":
                yield Skip(NOT_MUSIC)
                continue
            track = _first(record, _TRACK)
            time_column = next((c for c in _TIME if record.text(c) is not None), None)
            if track is None or time_column is None:
                yield Skip(NO_METADATA)
                continue
            played_at = record.timestamp(time_column, iso_time)
            duration = record.integer("Play Duration Milliseconds")
            if duration is not None and duration < MIN_PLAY_MS:
                yield Skip(SHORT_PLAY)
                continue
            album = _first(record, _ALBUM)
            artist = _first(record, _ARTIST)
            if artist is None:
                recovered = found.artist(track, album, played_at)
                if recovered is None:
                    container = record.text("Container Artist Name")
                    if container is not None and container.casefold() != _VARIOUS:
                        recovered = container, "artist from Container Artist Name"
                if recovered is None:
                    self._missing += 1
                    yield Skip(NO_ARTIST)
                    continue
                artist, source = recovered
                self.recovered[source] += 1
            yield Play(self.platform, track, artist, played_at, album)

    def parse_daily_tracks(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        """Daily Tracks as the history itself: ``Play Count`` plays on ``Date Played``.

        The file has no time of day beyond ``Hours`` (the hours the track played, local
        time), so the plays are spread over those hours (else noon), one second apart, in
        UTC: times stable enough that importing the file again adds nothing.
        """
        required = ("Track Description", "Date Played", "Play Count")
        for record in _csv_records(stream, name, required):
            if (record.text("Media type") or "AUDIO").upper() == "VIDEO":
                yield Skip(NOT_MUSIC)
                continue
            description = record.text("Track Description")
            count = record.integer("Play Count") or 0
            if count == 0:
                yield Skip(NOT_A_PLAY)
                continue
            reading = next(_splits(description or ""), None)
            if reading is None:
                self._missing += count
                for _ in range(count):
                    yield Skip(NO_ARTIST if description else NO_METADATA)
                continue
            artist, song = reading
            day = record.timestamp("Date Played", _day)
            duration = record.integer("Play Duration Milliseconds")
            if duration is not None and duration < MIN_PLAY_MS * count:
                for _ in range(count):
                    yield Skip(SHORT_PLAY)
                continue
            hours = _hours(record.text("Hours"))
            for i in range(count):
                hour = hours[i % len(hours)]
                yield Play(self.platform, song, artist, day + timedelta(hours=hour, seconds=i))


def _hours(value: str | None) -> list[int]:
    hours = [int(h) for h in re.findall(r"\d+", value or "") if int(h) < 24]
    return hours or [12]


def _named(member: Member, patterns: tuple[str, ...]) -> bool:
    return _named_str(member.name, patterns)


def _named_str(name: str, patterns: tuple[str, ...]) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].casefold()
    return base in {p.casefold() for p in patterns}

"""Apple Music "Play Activity" CSV from Apple's Data & Privacy export.

The file (``Apple Music Play Activity.csv``, inside ``Apple Media Services
information.zip``) has one row per playback event and dozens of columns whose set has
changed between export versions, so columns are found by header name:

- track: ``Song Name`` (older: ``Content Name``)
- artist: ``Artist Name`` (newer: ``Container Artist Name``)
- album: ``Album Name`` (newer: ``Container Album Name``)
- time: ``Event Start Timestamp`` (ISO 8601, UTC), else ``Event End Timestamp``
- ``Event Type`` (only ``PLAY_END`` rows are listens; ``PLAY_START``, lyrics and search
  events are not), ``Media Type`` (``VIDEO`` is not music),
  ``Play Duration Milliseconds`` (short plays skipped).

Rows without an artist or time (Apple writes some) are skipped as "no track metadata".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from player.imports.base import (
    MIN_PLAY_MS,
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
from player.imports.streams import iter_csv_rows

_TRACK = ("Song Name", "Content Name")
_ARTIST = ("Artist Name", "Container Artist Name")
_ALBUM = ("Album Name", "Container Album Name")
_TIME = ("Event Start Timestamp", "Event End Timestamp")


def _first(record: RecordReader, columns: tuple[str, ...]) -> str | None:
    for column in columns:
        value = record.text(column)
        if value is not None:
            return value
    return None


class AppleExportImporter(Importer):
    kind = "apple-export"
    platform = "apple"
    members = ("Apple Music Play Activity.csv", "Apple Music - Play Activity.csv")
    description = "Apple's Data & Privacy export (Apple Media Services information.zip)"

    def parse(self, stream: IO[bytes], name: str) -> Iterator[Record]:
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
            artist = _first(record, _ARTIST)
            time_column = next((c for c in _TIME if record.text(c) is not None), None)
            if track is None or artist is None or time_column is None:
                yield Skip(NO_METADATA)
                continue
            played_at = record.timestamp(time_column, iso_time)
            duration = record.integer("Play Duration Milliseconds")
            if duration is not None and duration < MIN_PLAY_MS:
                yield Skip(SHORT_PLAY)
                continue
            yield Play(self.platform, track, artist, played_at, _first(record, _ALBUM))

"""Last.fm scrobbles as CSV.

Last.fm itself offers no export; people use one of two tools, both read here:

- lastfm-to-csv (benjaminbenben): no header, ``artist,album,track,date`` with dates
  like ``31 Jan 2021 12:34`` (UTC);
- the Last.fm scrobble exporter (mainstream.ghan.nl): a header
  ``uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid``.

A scrobble is only sent after half the track or four minutes, so nothing counts as a
short play. A row without a date is the "now playing" entry, not a listen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO

from player.imports.base import (
    NO_METADATA,
    NOT_A_PLAY,
    FormatError,
    Importer,
    Play,
    Record,
    RecordReader,
    Skip,
    epoch_seconds,
)
from player.imports.streams import iter_csv_rows

_POSITIONAL = ("artist", "album", "track", "date")


def _scrobble_time(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not a time")
    text = value.strip().replace(",", "")
    if text.isdigit():
        return epoch_seconds(text)
    return datetime.strptime(text, "%d %b %Y %H:%M")


class LastFmImporter(Importer):
    kind = "lastfm"
    platform = "lastfm"
    members = ("*.csv",)
    description = "a Last.fm scrobble export in CSV"

    def parse(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        rows = iter_csv_rows(stream, name)
        first = next(rows, None)
        if first is None:
            return
        lowered = [cell.strip().lower() for cell in first]
        if "artist" in lowered and "track" in lowered:
            header, time_field, pending = lowered, ("uts" if "uts" in lowered else "utc_time"), []
        elif len(first) == len(_POSITIONAL):
            header, time_field, pending = list(_POSITIONAL), "date", [first]
        else:
            raise FormatError(
                f"{name} is not a Last.fm export (expected artist,album,track,date columns or a "
                "header with 'artist' and 'track')"
            )
        width = len(header)

        def all_rows() -> Iterator[list[str]]:
            yield from pending
            yield from rows

        for number, row in enumerate(all_rows(), start=1):
            if len(row) != width:
                raise FormatError(f"{name}: row {number} has {len(row)} cells, expected {width}")
            record = RecordReader(name, number, dict(zip(header, row, strict=True)))
            if record.text(time_field) is None:
                yield Skip(NOT_A_PLAY)
                continue
            played_at = record.timestamp(time_field, _scrobble_time)
            track = record.text("track")
            artist = record.text("artist")
            if track is None or artist is None:
                yield Skip(NO_METADATA)
                continue
            yield Play(
                self.platform,
                track,
                artist,
                played_at,
                record.text("album"),
                record.text("track_mbid"),
            )

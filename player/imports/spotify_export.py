"""Spotify "Account data" export: ``StreamingHistory_music_N.json``.

The quick export (ready in days) covers the last year with minute-precision end times
in UTC and no track URIs::

    {"endTime": "2023-01-15 18:23", "artistName": "…", "trackName": "…", "msPlayed": 229786}

Older exports name the files ``StreamingHistoryN.json`` and mix podcast episodes in;
the podcast files (``StreamingHistory_podcast_N.json``, keys ``podcastName`` /
``episodeName``) are not music and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO

from player.imports.base import (
    MIN_PLAY_MS,
    NOT_MUSIC,
    SHORT_PLAY,
    Importer,
    Play,
    Record,
    RecordReader,
    Skip,
)
from player.imports.streams import iter_json_array


def _end_time(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not a time")
    return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")


class SpotifyExportImporter(Importer):
    kind = "spotify-export"
    platform = "spotify"
    members = ("StreamingHistory_music_*.json", "StreamingHistory[0-9]*.json")
    excluded = ("StreamingHistory_podcast_*.json",)
    description = "Spotify's account data export (my_spotify_data.zip)"

    def parse(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        for number, raw in enumerate(iter_json_array(stream, name), start=1):
            record = RecordReader(name, number, raw)
            if record.has("episodeName") or record.has("podcastName"):
                yield Skip(NOT_MUSIC)
                continue
            played_at = record.timestamp("endTime", _end_time)
            ms_played = record.integer("msPlayed", required=True)
            track = record.text("trackName", required=True)
            artist = record.text("artistName", required=True)
            assert track is not None and artist is not None
            if ms_played is not None and ms_played < MIN_PLAY_MS:
                yield Skip(SHORT_PLAY)
                continue
            yield Play(self.platform, track, artist, played_at)

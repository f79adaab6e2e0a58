"""Google Takeout "YouTube and YouTube Music" watch history (``watch-history.json``).

Takeout must be asked for JSON (its default is HTML). Each record is one watched video::

    {"header": "YouTube Music", "title": "Watched Bohemian Rhapsody",
     "titleUrl": "https://music.youtube.com/watch?v=fJ9rUzIMcZQ",
     "subtitles": [{"name": "Queen - Topic", "url": "…"}],
     "time": "2023-04-01T12:34:56.789Z", "products": ["YouTube"], …}

What counts as music: anything played in YouTube Music, and videos on YouTube from an
artist's auto-generated "… - Topic" channel. Everything else (vlogs, tutorials, ads
marked "From Google Ads", removed videos without a channel) is skipped as not music.
Takeout records no play duration, so the short-play rule cannot apply here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from player.imports.base import (
    NO_METADATA,
    NOT_MUSIC,
    FormatError,
    Importer,
    Play,
    Record,
    RecordReader,
    Skip,
    iso_time,
)
from player.imports.streams import iter_json_array

_TOPIC = " - Topic"
_WATCHED = "Watched "


class YouTubeExportImporter(Importer):
    kind = "youtube-export"
    platform = "youtube"
    members = ("watch-history.json",)
    description = "a Google Takeout export of YouTube and YouTube Music history in JSON format"

    def parse(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        if name.lower().endswith(".html"):
            raise FormatError(f"{name} is HTML; ask Takeout for the history in JSON format")
        for number, raw in enumerate(iter_json_array(stream, name), start=1):
            record = RecordReader(name, number, raw)
            played_at = record.timestamp("time", iso_time)
            header = record.text("header") or ""
            title = record.text("title")
            url = record.text("titleUrl")
            channel = self._channel(record)
            if self._is_ad(record):
                yield Skip(NOT_MUSIC)
                continue
            in_music_app = header == "YouTube Music"
            from_topic = channel is not None and channel.endswith(_TOPIC)
            if not (in_music_app or from_topic):
                yield Skip(NOT_MUSIC)
                continue
            if title is None or channel is None or url is None:
                yield Skip(NO_METADATA)
                continue
            track = title.removeprefix(_WATCHED).strip() or title
            artist = channel.removesuffix(_TOPIC).strip() or channel
            yield Play(self.platform, track, artist, played_at, None, url)

    @staticmethod
    def _channel(record: RecordReader) -> str | None:
        subtitles = record.raw("subtitles")
        if subtitles is None:
            return None
        if not isinstance(subtitles, list):
            raise record.error("should be a list", "subtitles")
        if not subtitles:
            return None
        return record.nested("subtitles[0]", subtitles[0]).text("name")

    @staticmethod
    def _is_ad(record: RecordReader) -> bool:
        details = record.raw("details")
        if not isinstance(details, list):
            return False
        return any(isinstance(d, dict) and d.get("name") == "From Google Ads" for d in details)

"""Google Takeout "YouTube and YouTube Music" watch history (``watch-history.json``).

Takeout must be asked for JSON (its default is HTML). Each record is one watched video::

    {"header": "YouTube Music", "title": "Watched Bohemian Rhapsody",
     "titleUrl": "https://music.youtube.com/watch?v=fJ9rUzIMcZQ",
     "subtitles": [{"name": "Queen - Topic", "url": "…"}],
     "time": "2023-04-01T12:34:56.789Z", "products": ["YouTube"], …}

What counts as music: anything played in YouTube Music (its header, or a
``music.youtube.com`` link), and videos on YouTube from an artist's auto-generated
"… - Topic" channel. Everything else (vlogs, tutorials, ads, removed videos without a
channel) is skipped as not music. None of this reads the title's wording, which is in the
account's language: the title's sentence ("Watched …", "Hai guardato …", "Sie haben …
angesehen") is removed using the table in :mod:`player.imports.youtube_languages`; in a
language the table lacks the title is kept as written, the play is still recognised by
its channel and link (stored as the track id), and the result says how many.
Ads carry a ``details`` entry ("From Google Ads", also translated); any ``details``
marks an ad. Takeout records no play duration, so the short-play rule cannot apply here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING

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
from player.imports.youtube_languages import strip_wording

if TYPE_CHECKING:
    from player.imports.archive import Member

_TOPIC = " - Topic"
_MUSIC_HOST = "https://music.youtube.com/"


class YouTubeExportImporter(Importer):
    kind = "youtube-export"
    platform = "youtube"
    members = ("watch-history.json",)
    description = "a Google Takeout export of YouTube and YouTube Music history in JSON format"

    def __init__(self) -> None:
        super().__init__()
        self._unknown_wording = 0
        self._example: str | None = None

    def read(self, members: Sequence[Member], siblings: Sequence[Member]) -> Iterator[Record]:
        yield from super().read(members, siblings)
        if self._unknown_wording:
            self.notes.append(
                f"{self._unknown_wording:,} YouTube titles are in a wording the importer does "
                f"not know (e.g. {self._example!r}); they were kept as written and matched "
                "by channel and link."
            )

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
            in_music_app = header == "YouTube Music" or (url or "").startswith(_MUSIC_HOST)
            from_topic = channel is not None and channel.endswith(_TOPIC)
            if not (in_music_app or from_topic):
                yield Skip(NOT_MUSIC)
                continue
            if title is None or channel is None or url is None:
                yield Skip(NO_METADATA)
                continue
            track, language = strip_wording(title)
            if language is None:
                self._unknown_wording += 1
                self._example = self._example or title[:80]
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
        return isinstance(details, list) and any(isinstance(d, dict) for d in details)

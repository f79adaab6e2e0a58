"""Spotify "Account data" export: ``StreamingHistory_music_N.json``.

The quick export (ready in days) covers the last year with minute-precision end times
in UTC and no track URIs::

    {"endTime": "2023-01-15 18:23", "artistName": "…", "trackName": "…", "msPlayed": 229786}

Newer exports put podcasts in their own files (``StreamingHistory_podcast_N.json``, keys
``podcastName`` / ``episodeName``), which are not read. Older exports name the files
``StreamingHistoryN.json`` and mix podcast episodes in with the same keys as songs: the
show's name as ``artistName``, the episode's title as ``trackName``. The same export's
``YourLibrary.json`` lists the shows the listener follows (its ``shows`` array, and the
``show`` of each saved episode), so plays whose "artist" is one of those shows are skipped
as not music.

A show the listener never followed cannot be told apart that way. Its plays are long (an
episode is rarely under 20 minutes) and its name never appears in a short play, while a
music artist's do: such names are reported in a note, not skipped, because a 25-minute
live set by a real artist looks the same and an artist is never thrown away on a guess.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING

from player.imports.base import (
    MIN_PLAY_MS,
    NOT_MUSIC,
    SHORT_PLAY,
    FormatError,
    Importer,
    Play,
    Record,
    RecordReader,
    Skip,
)
from player.imports.streams import iter_json_array

if TYPE_CHECKING:
    from player.imports.archive import Member

#: Largest YourLibrary.json read whole (real ones are a few MB).
MAX_LIBRARY_BYTES = 64 * 1024**2
#: A play at least this long by a name never heard in a shorter play looks like a podcast.
LONG_PLAY_MS = 20 * 60 * 1000


def _end_time(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not a time")
    return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")


class SpotifyExportImporter(Importer):
    kind = "spotify-export"
    platform = "spotify"
    members = ("StreamingHistory_music_*.json", "StreamingHistory[0-9]*.json")
    excluded = ("StreamingHistory_podcast_*.json",)
    siblings = ("YourLibrary.json",)
    description = "Spotify's account data export (my_spotify_data.zip)"

    def __init__(self) -> None:
        super().__init__()
        #: casefolded names of the shows in YourLibrary.json
        self.shows: set[str] = set()
        self._show_plays = 0
        self._long: Counter[str] = Counter()  # long plays per artist
        self._short: set[str] = set()  # artists heard in a shorter play

    def read(self, members: Sequence[Member], siblings: Sequence[Member]) -> Iterator[Record]:
        for member in siblings:
            with member.reading() as stream:
                self.shows |= library_shows(stream, member.name)
        yield from super().read(members, siblings)
        if self._show_plays:
            were = "play was an episode" if self._show_plays == 1 else "plays were episodes"
            self.notes.append(
                f"{self._show_plays:,} {were} of podcasts listed in YourLibrary.json; "
                "they do not count as music."
            )
        suspects = sorted(
            (a for a in self._long if a not in self._short), key=lambda a: -self._long[a]
        )
        if suspects:
            count = sum(self._long[a] for a in suspects)
            names = ", ".join(repr(a) for a in suspects[:3])
            self.notes.append(
                f"{count:,} {'play' if count == 1 else 'plays'} over 20 minutes by names "
                "never heard in a shorter play "
                f"({names}{', …' if len(suspects) > 3 else ''}) may be podcast episodes; "
                "they were kept as music. Follow those shows on Spotify and export again "
                "to have them left out."
            )

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
            if artist.casefold() in self.shows:
                self._show_plays += 1
                yield Skip(NOT_MUSIC)
                continue
            if ms_played is not None and ms_played < MIN_PLAY_MS:
                yield Skip(SHORT_PLAY)
                continue
            if ms_played is not None and ms_played >= LONG_PLAY_MS:
                self._long[artist] += 1
            else:
                self._short.add(artist)
            yield Play(self.platform, track, artist, played_at)


def library_shows(stream: IO[bytes], name: str) -> set[str]:
    """Casefolded names of the shows in a YourLibrary.json (followed, or of saved episodes)."""
    payload = stream.read(MAX_LIBRARY_BYTES + 1)
    if len(payload) > MAX_LIBRARY_BYTES:
        raise FormatError(f"{name} is larger than {MAX_LIBRARY_BYTES // 1024**2} MB")
    try:
        library = json.loads(payload.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FormatError(f"{name} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{name} is not valid JSON ({exc.msg})") from None
    if not isinstance(library, dict):
        raise FormatError(f"{name} should hold an object with the library's lists")
    shows: set[str] = set()
    for key, field in (("shows", "name"), ("episodes", "show")):
        entries = library.get(key) or []
        if not isinstance(entries, list):
            raise FormatError(f"{name}: {key!r} should be a list")
        for number, entry in enumerate(entries, start=1):
            show = RecordReader(f"{name} {key}", number, entry).text(field)
            if show is not None:
                shows.add(show.casefold())
    return shows

"""ListenBrainz listen export.

ListenBrainz has written two shapes: a single JSON list of listens (the older "Export
listens" button) and a zip of JSON Lines files, one per month (``listens/2023/1.jsonl``,
beside ``user.json`` and ``feedback.jsonl``, which are not listens). Both hold the same
listen objects::

    {"listened_at": 1689999000, "track_metadata": {"artist_name": "…",
      "track_name": "…", "release_name": "…",
      "additional_info": {"spotify_id": "https://open.spotify.com/track/…",
                          "recording_mbid": "…", "duration_ms": 290000}}}

ListenBrainz only records a listen after half the track or four minutes, so there are
no short plays to skip; ``duration_ms`` is the track's length, not the time played.
The track id is the Spotify URI when the listen came from Spotify (so it joins with
Spotify imports), else the MusicBrainz recording id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO

from player.imports.base import (
    NO_METADATA,
    Importer,
    Play,
    Record,
    RecordReader,
    Skip,
    epoch_seconds,
    iso_time,
)
from player.imports.streams import iter_json_array, iter_json_lines, peekable

_SPOTIFY_TRACK_URL = "https://open.spotify.com/track/"


def _listened_at(value: object) -> datetime:
    if isinstance(value, str) and not value.strip().isdigit():
        return iso_time(value)
    return epoch_seconds(value)


class ListenBrainzImporter(Importer):
    kind = "listenbrainz"
    platform = "listenbrainz"
    members = ("*.jsonl", "listens*.json", "listenbrainz*.json")
    excluded = ("feedback*.jsonl", "pinned_recording*.jsonl", "user.json*")
    description = "a ListenBrainz listen export (listenbrainz_<user>_*.zip or .json)"

    def parse(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        buffered = peekable(stream)
        head = buffered.peek(64)[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
        values = (
            iter_json_array(buffered, name)
            if head.startswith(b"[")
            else iter_json_lines(buffered, name)
        )
        for number, raw in enumerate(values, start=1):
            record = RecordReader(name, number, raw)
            played_at = record.timestamp("listened_at", _listened_at)
            meta = record.nested("track_metadata", record.raw("track_metadata"))
            track = meta.text("track_name")
            artist = meta.text("artist_name")
            if track is None or artist is None:
                yield Skip(NO_METADATA)
                continue
            album = meta.text("release_name")
            yield Play(self.platform, track, artist, played_at, album, self._track_id(meta))

    @staticmethod
    def _track_id(meta: RecordReader) -> str | None:
        info_raw = meta.raw("additional_info")
        mapping_raw = meta.raw("mbid_mapping")
        info = meta.nested("additional_info", info_raw) if info_raw is not None else None
        mapping = meta.nested("mbid_mapping", mapping_raw) if mapping_raw is not None else None
        if info is not None:
            spotify = info.text("spotify_id")
            if spotify and spotify.startswith(_SPOTIFY_TRACK_URL):
                return "spotify:track:" + spotify.removeprefix(_SPOTIFY_TRACK_URL).split("?")[0]
        for source in (mapping, info):
            if source is not None:
                mbid = source.text("recording_mbid")
                if mbid:
                    return mbid
        return None

"""Spotify "Extended streaming history": ``Streaming_History_Audio_YYYY[-YYYY]_N.json``.

The lifetime export (weeks to arrive) has one record per stream with the end time in
``ts`` (UTC, seconds), the track URI and the album. The same files carry podcast
episodes and audiobook chapters (track fields null, ``episode_name`` /
``audiobook_title`` set): those are not music. Records with no track metadata at all
(local files, removed tracks) are skipped too. ``Streaming_History_Video_*`` files are
never read. Pre-2023 exports call the files ``endsong_N.json`` with the same records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from player.imports.base import (
    MIN_PLAY_MS,
    NO_METADATA,
    NOT_MUSIC,
    SHORT_PLAY,
    Importer,
    Play,
    Record,
    RecordReader,
    Skip,
    iso_time,
)
from player.imports.streams import iter_json_array


class SpotifyExtendedImporter(Importer):
    kind = "spotify-extended"
    platform = "spotify"
    members = ("Streaming_History_Audio_*.json", "endsong_*.json")
    excluded = ("Streaming_History_Video_*.json",)
    description = "Spotify's extended streaming history (my_spotify_data.zip)"

    def parse(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        for number, raw in enumerate(iter_json_array(stream, name), start=1):
            record = RecordReader(name, number, raw)
            played_at = record.timestamp("ts", iso_time)
            ms_played = record.integer("ms_played", required=True)
            track = record.text("master_metadata_track_name")
            artist = record.text("master_metadata_album_artist_name")
            album = record.text("master_metadata_album_album_name")
            uri = record.text("spotify_track_uri")
            if track is None or artist is None:
                is_spoken = any(
                    record.has(field)
                    for field in ("episode_name", "spotify_episode_uri", "audiobook_title")
                )
                yield Skip(NOT_MUSIC if is_spoken else NO_METADATA)
                continue
            if ms_played is not None and ms_played < MIN_PLAY_MS:
                yield Skip(SHORT_PLAY)
                continue
            yield Play(self.platform, track, artist, played_at, album, uri)

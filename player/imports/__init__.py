"""Listening history from other services, into ``user_history``.

Two ways in: the files people download from a service (one small module per format,
all over :class:`~player.imports.base.Importer`) and the Spotify Web API through
spotipy (:mod:`player.imports.spotify_connect`). Both end in
:func:`player.imports.history.store_plays`, which writes one source all-or-nothing and
makes a second import of the same data a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from base.errors import UserFacingError
from player.imports.apple_export import AppleExportImporter
from player.imports.archive import history_files
from player.imports.base import FormatError, Importer, Play, Record, Skip
from player.imports.lastfm import LastFmImporter
from player.imports.listenbrainz import ListenBrainzImporter
from player.imports.progress import ImportCancelled, ImportProgress
from player.imports.spotify_export import SpotifyExportImporter
from player.imports.spotify_extended import SpotifyExtendedImporter
from player.imports.youtube_export import YouTubeExportImporter

IMPORTERS: dict[str, type[Importer]] = {
    cls.kind: cls
    for cls in (
        SpotifyExportImporter,
        SpotifyExtendedImporter,
        AppleExportImporter,
        YouTubeExportImporter,
        ListenBrainzImporter,
        LastFmImporter,
    )
}

__all__ = [
    "IMPORTERS",
    "FormatError",
    "ImportCancelled",
    "ImportProgress",
    "Importer",
    "Play",
    "Record",
    "Skip",
    "importer_for",
    "read_records",
]


def importer_for(kind: str) -> Importer:
    """The importer registered under ``kind`` (the CLI's name for the format)."""
    try:
        return IMPORTERS[kind]()
    except KeyError:
        known = ", ".join(IMPORTERS)
        raise UserFacingError(f"unknown import kind {kind!r}; use one of: {known}") from None


def read_records(
    importer: Importer, path: Path, progress: ImportProgress | None = None
) -> Iterator[Record]:
    """Every record of every history file in ``path`` (zip, folder or single file).

    Damage found while decompressing surfaces as a :class:`FormatError` like any other
    malformed input, so callers handle one type. With ``progress``, every read is counted
    against the export's size and a cancel request stops the reading.
    """
    with history_files(path, importer) as export:
        if progress is not None:
            progress.start(export.size)
            export = progress.watch(export)
        yield from importer.read(export.members, export.siblings)

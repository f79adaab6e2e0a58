# SPDX-License-Identifier: MIT
"""Tags of an audio file, read with mutagen, as the catalogue needs them.

mutagen's "easy" interfaces give one vocabulary over ID3, Vorbis comments, FLAC and MP4
(``title``, ``artist``, ``genre``, ``musicbrainz_trackid`` = the recording id, ``isrc``),
so no per-format code lives here. The file's name stands in for a missing title, so an
untagged file still gets a readable entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from base.errors import UserFacingError

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")


@dataclass(frozen=True)
class TrackTags:
    title: str
    artist: str
    genres: tuple[str, ...] = ()
    musicbrainz_recording_id: str | None = None
    isrc: str | None = None

    @property
    def external_id(self) -> str | None:
        """The id the catalogue keys this recording by: MusicBrainz first, then ISRC."""
        if self.musicbrainz_recording_id:
            return self.musicbrainz_recording_id
        if self.isrc:
            return f"isrc:{self.isrc}"
        return None


def _first(tags: object, key: str) -> str | None:
    try:
        values = tags[key]  # type: ignore[index]
    except (KeyError, ValueError, TypeError):
        return None
    if isinstance(values, str):
        values = [values]
    for v in values or []:
        text = str(v).strip().strip("\x00")
        if text:
            return text
    return None


def _all(tags: object, key: str) -> tuple[str, ...]:
    try:
        values = tags[key]  # type: ignore[index]
    except (KeyError, ValueError, TypeError):
        return ()
    out: list[str] = []
    for v in [values] if isinstance(values, str) else values or []:
        for part in re.split(r"[;/,]", str(v)):
            part = part.strip()
            if part and part.lower() not in (g.lower() for g in out):
                out.append(part)
    return tuple(out)


def read_tags(path: str | Path) -> TrackTags:
    """The file's tags; ``UserFacingError`` naming the file when mutagen cannot parse it."""
    import mutagen

    p = Path(path)
    try:
        audio = mutagen.File(str(p), easy=True)
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as exc:
        raise UserFacingError(f"cannot read the tags of {p}: {exc}") from exc
    if audio is None:
        raise UserFacingError(f"{p} is not an audio format this app can read")
    tags = audio.tags if audio.tags is not None else {}
    mbid = (_first(tags, "musicbrainz_trackid") or "").lower()
    isrc = (_first(tags, "isrc") or "").upper().replace("-", "")
    return TrackTags(
        title=_first(tags, "title") or p.stem,
        artist=_first(tags, "artist") or _first(tags, "albumartist") or "Unknown artist",
        genres=_all(tags, "genre"),
        musicbrainz_recording_id=mbid if _UUID.match(mbid) else None,
        isrc=isrc if _ISRC.match(isrc) else None,
    )

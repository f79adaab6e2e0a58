# SPDX-License-Identifier: MIT
"""Listening history joined to the catalogue: by external id first, then by name.

Imports name a track the way their service does: Spotify writes "Here Comes The Sun -
Remastered 2009", a MusicBrainz-fed catalogue "Here Comes the Sun"; one export has
"Sigur Rós", another "Sigur Ros"; features move between the artist and the title. So:

1. **external id**: the history row's ``track_id`` equals a catalogue ``track_id``
   (a Spotify URI also matches its bare id, and the other way round);
2. **normalised artist + title** (:func:`normalise_title`, :func:`normalise_artist`):
   Unicode compatibility form without accents, case-folded; featured artists ("feat.",
   "ft.", "featuring", "with" in brackets) and version notes ("- Remastered 2011",
   "(Remaster)", "- Radio Edit", "- Single Version", "- Mono") removed; punctuation
   dropped; a leading "The" ignored. Scripts without case or accents (Japanese, ...)
   pass through unchanged.

The catalogue side is read once per call, in the one space asked for, streaming
(``yield_per``), so a join costs one pass over the space's names, not one query per play.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Embedding, UserHistory

_FEAT = re.compile(
    r"\s*[\(\[]\s*(?:feat\.?|ft\.?|featuring|with)\s[^\)\]]*[\)\]]"
    r"|\s+(?:feat\.?|ft\.?|featuring)\s.*$",
    re.IGNORECASE,
)
_VERSION_WORDS = (
    r"(?:\d{4}\s+)?(?:digital(?:ly)?\s+)?remaster(?:ed)?(?:\s+version)?(?:\s+\d{4})?"
    r"|radio\s+edit|single\s+version|album\s+version|mono(?:\s+version)?|stereo(?:\s+version)?"
)
_VERSION = re.compile(
    rf"\s+-\s+(?:{_VERSION_WORDS})\b.*$|\s*[\(\[]\s*(?:{_VERSION_WORDS})\s*[\)\]]",
    re.IGNORECASE,
)
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("&", " and ").casefold()
    return _SPACES.sub(" ", _PUNCT.sub(" ", bare)).strip()


def normalise_title(title: str) -> str:
    """A title with version notes and featured artists removed, folded for comparison."""
    text = title or ""
    for _ in range(3):  # "X (feat. Y) - Remastered 2011": both notes, in either order
        stripped = _VERSION.sub("", _FEAT.sub("", text))
        if stripped == text:
            break
        text = stripped
    return _fold(text)


def normalise_artist(artist: str) -> str:
    """The artist without featured guests or a leading "The", folded for comparison."""
    folded = _fold(_FEAT.sub("", artist or ""))
    return folded[4:] if folded.startswith("the ") else folded


def name_key(artist: str, title: str) -> tuple[str, str]:
    return normalise_artist(artist), normalise_title(title)


def _id_variants(track_id: str) -> set[str]:
    out = {track_id}
    if track_id.startswith("spotify:track:"):
        out.add(track_id.removeprefix("spotify:track:"))
    elif re.fullmatch(r"[0-9A-Za-z]{22}", track_id):
        out.add("spotify:track:" + track_id)
    return out


@dataclass(frozen=True)
class MatchShare:
    """How much of a history finds a catalogue entry (distinct tracks, not plays)."""

    distinct: int
    matched: int
    by_id: int
    exact_names: int

    @property
    def share(self) -> float:
        return self.matched / self.distinct if self.distinct else 0.0

    @property
    def exact_share(self) -> float:
        """What a plain equality join on artist and title would have found."""
        return self.exact_names / self.distinct if self.distinct else 0.0


def match_tracks(
    session: Session, tracks: Iterable[tuple[str, str, str | None]], space: str
) -> tuple[dict[tuple[str, str], str], MatchShare]:
    """Map each distinct (artist, title, external id) to a catalogue ``track_id`` in ``space``.

    Returns ``({name_key: catalogue track_id}, share)``; unmatched tracks are absent.
    """
    wanted: dict[tuple[str, str], tuple[str, str, str | None]] = {}
    for artist, title, track_id in tracks:
        key = name_key(artist or "", title or "")
        if key != ("", "") and (key not in wanted or (track_id and not wanted[key][2])):
            wanted[key] = (artist or "", title or "", track_id)
    ids: dict[str, tuple[str, str]] = {}
    for key, (_, _, track_id) in wanted.items():
        for variant in _id_variants(track_id) if track_id else ():
            ids[variant] = key
    found: dict[tuple[str, str], str] = {}
    by_id = 0
    if ids:
        rows = session.execute(
            select(Embedding.track_id).where(
                Embedding.track_id.in_(list(ids)), Embedding.embedding_space == space
            )
        )
        for (catalogue_id,) in rows:
            key = ids[str(catalogue_id)]
            if key not in found:
                found[key] = str(catalogue_id)
                by_id += 1
    exact = {(a, t) for a, t, _ in wanted.values()}
    exact_hits: set[tuple[str, str]] = set()
    stream = session.execute(
        select(Embedding.track_id, Embedding.artist, Embedding.track_name)
        .where(Embedding.embedding_space == space, Embedding.track_id.is_not(None))
        .execution_options(yield_per=10_000)
    )
    for catalogue_id, artist, title in stream:
        if (artist, title) in exact:
            exact_hits.add((artist, title))
        key = name_key(artist, title)
        if key in wanted and key not in found:
            found[key] = str(catalogue_id)
    share = MatchShare(
        distinct=len(wanted), matched=len(found), by_id=by_id, exact_names=len(exact_hits)
    )
    return found, share


def match_share(
    session: Session, tracks: Iterable[tuple[str, str, str | None]], space: str
) -> MatchShare:
    return match_tracks(session, tracks, space)[1]


def match_history(
    session: Session, user_id: uuid.UUID | str, space: str
) -> tuple[dict[tuple[str, str], str], MatchShare]:
    """A user's whole history (``user_history``) joined to the catalogue in ``space``."""
    rows = session.execute(
        select(UserHistory.artist, UserHistory.track_name, UserHistory.track_id)
        .where(UserHistory.user_id == uuid.UUID(str(user_id)))
        .distinct()
    )
    return match_tracks(session, [(r[0], r[1], r[2]) for r in rows], space)

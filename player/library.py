"""The listener's library: liked songs, playlists and listening history.

A core service with no Qt: the desktop app's item models page through it and the CLI
could use it as is. Every query runs in the user's own session
(:meth:`db.database.Database.user_session`), so row-level security decides what is
visible, exactly as on the shared database.

Tracks have no title column in the shared schema, so a title is derived from the track
id by a SQL expression (two words chosen by the id's first bytes): the same track has the
same name everywhere, and titles can be searched and sorted in the database rather than
in Python, which keeps lazy loading honest. Accounts and onboarding have their own modules
(:mod:`player.accounts`, :mod:`player.onboarding`).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from base.errors import UserFacingError
from db.database import Database
from db.models import Band, GeneratedTrack, UserHistory, UserLibraryEntry, UserPlaylist

T = TypeVar("T")

_FIRST = (
    "Velvet", "Neon", "Silver", "Midnight", "Golden", "Electric", "Quiet", "Crimson",
    "Hollow", "Paper", "Glass", "Lunar", "Amber", "Violet", "Distant", "Wild",
    "Static", "Ocean", "Northern", "Broken", "Slow", "Solar", "Hidden", "Echo",
    "Copper", "Fading", "Summer", "Winter", "Cobalt", "Drift", "Marble", "Satellite",
)  # fmt: skip
_SECOND = (
    "Horizon", "Garden", "Signal", "Rivers", "Lights", "Motion", "Skyline", "Dreams",
    "Avenue", "Harbor", "Pulse", "Bloom", "Tides", "Circuit", "Ember", "Parade",
    "Mirage", "Orbit", "Season", "Waves", "Canyon", "Letters", "Voltage", "Heart",
    "Shadows", "Arcade", "Meadow", "Frequency", "Run", "Cathedral", "Weather", "Cities",
)  # fmt: skip


def title_expression(track_id: Any) -> ColumnElement[str]:
    """SQL for a track's display title, derived from its uuid's first two bytes."""
    raw = func.uuid_send(track_id)
    first = func.split_part(" ".join(_FIRST), " ", func.get_byte(raw, 0) % len(_FIRST) + 1)
    second = func.split_part(" ".join(_SECOND), " ", func.get_byte(raw, 1) % len(_SECOND) + 1)
    return func.concat(first, " ", second).label("title")


def track_title(track_id: uuid.UUID) -> str:
    """The same title as :func:`title_expression`, computed in Python."""
    raw = track_id.bytes
    return f"{_FIRST[raw[0] % len(_FIRST)]} {_SECOND[raw[1] % len(_SECOND)]}"


@dataclass(frozen=True)
class TrackRow:
    """A track as the views show it."""

    id: uuid.UUID
    title: str
    band: str
    band_id: uuid.UUID | None
    duration: int
    mode: str
    match: int | None
    explanation: str | None
    url: str
    status: str
    created_at: datetime | None
    added_at: datetime | None = None
    #: measured once by the playback engine and stored, so a track is never measured twice
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None


@dataclass(frozen=True)
class Playlist:
    id: uuid.UUID
    name: str
    description: str
    is_public: bool
    track_ids: tuple[uuid.UUID, ...]
    updated_at: datetime | None


@dataclass(frozen=True)
class HistoryRow:
    id: uuid.UUID
    platform: str
    track_id: str | None
    track_name: str
    artist: str
    album: str | None
    played_at: datetime | None
    play_count: int


#: Sort keys the views offer, mapped to SQL.
TRACK_SORTS = ("added", "title", "band", "duration", "match", "created")
HISTORY_SORTS = ("played_at", "track_name", "artist", "album", "platform")


def _track_columns(added: Any = None) -> list[Any]:
    return [
        GeneratedTrack.id,
        title_expression(GeneratedTrack.id),
        func.coalesce(Band.name, "").label("band"),
        GeneratedTrack.band_id,
        GeneratedTrack.duration,
        GeneratedTrack.mode,
        GeneratedTrack.match_percentage,
        GeneratedTrack.explanation,
        GeneratedTrack.url,
        func.coalesce(GeneratedTrack.status, "completed"),
        GeneratedTrack.created_at,
        (added if added is not None else GeneratedTrack.created_at).label("added_at"),
        GeneratedTrack.loudness_lufs,
        GeneratedTrack.true_peak_dbtp,
    ]


def _row(r: Sequence[Any]) -> TrackRow:
    return TrackRow(*r)


def _escape_like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def _search_filter(search: str) -> ColumnElement[bool] | None:
    """Every word in the title or the band: what the listener sees in the list, never
    hidden text such as the explanation (a match there looked like a wrong result)."""
    words = search.split()
    if not words:
        return None
    clauses = []
    for word in words:
        pattern = f"%{_escape_like(word)}%"
        clauses.append(
            or_(
                title_expression(GeneratedTrack.id).ilike(pattern, escape="\\"),
                Band.name.ilike(pattern, escape="\\"),
            )
        )
    return and_(*clauses)


def _order(sort: str, descending: bool, added: Any) -> list[Any]:
    if sort not in TRACK_SORTS:
        raise UserFacingError(f"cannot sort tracks by {sort!r}; choose one of {TRACK_SORTS}")
    key = {
        "added": added if added is not None else GeneratedTrack.created_at,
        "title": title_expression(GeneratedTrack.id),
        "band": func.coalesce(Band.name, ""),
        "duration": GeneratedTrack.duration,
        "match": func.coalesce(GeneratedTrack.match_percentage, -1),
        "created": GeneratedTrack.created_at,
    }[sort]
    primary = key.desc() if descending else key.asc()
    return [primary, GeneratedTrack.id]


def reorder(items: Sequence[T], positions: Iterable[int], destination: int) -> list[T]:
    """``items`` with those at ``positions`` moved, in order, to sit before ``destination``.

    ``destination`` indexes the list before the move (as a drop indicator reports it);
    ``len(items)`` means the end. Positions out of range are ignored.
    """
    picked = sorted({p for p in positions if 0 <= p < len(items)})
    if not picked:
        return list(items)
    target = max(0, min(destination, len(items)))
    chosen = set(picked)
    rest = [item for i, item in enumerate(items) if i not in chosen]
    insert_at = target - sum(1 for p in picked if p < target)
    return rest[:insert_at] + [items[p] for p in picked] + rest[insert_at:]


class Library:
    """One user's library, read and written in that user's own session."""

    def __init__(self, database: Database, user_id: uuid.UUID) -> None:
        self.database = database
        self.user_id = user_id

    # -- tracks ---------------------------------------------------------------------------

    def _tracks_query(self, search: str, liked: bool) -> Any:
        added = UserLibraryEntry.added_at if liked else None
        query = select(*_track_columns(added)).outerjoin(Band, Band.id == GeneratedTrack.band_id)
        if liked:
            query = query.join(
                UserLibraryEntry,
                (UserLibraryEntry.track_id == GeneratedTrack.id)
                & (UserLibraryEntry.user_id == self.user_id),
            )
        else:
            query = query.where(GeneratedTrack.user_id == self.user_id)
        # Only finished tracks: a queued or failed row has no audio to play.
        query = query.where(func.coalesce(GeneratedTrack.status, "completed") == "completed")
        where = _search_filter(search)
        if where is not None:
            query = query.where(where)
        return query, added

    def tracks(
        self,
        *,
        liked: bool = False,
        search: str = "",
        sort: str = "added",
        descending: bool = True,
        offset: int = 0,
        limit: int = 100,
    ) -> list[TrackRow]:
        """A page of my generated tracks (or of my liked songs with ``liked=True``)."""
        query, added = self._tracks_query(search, liked)
        query = query.order_by(*_order(sort, descending, added)).offset(offset).limit(limit)
        with self.database.user_session(self.user_id) as s:
            return [_row(r) for r in s.execute(query)]

    def count_tracks(self, *, liked: bool = False, search: str = "") -> int:
        query, _ = self._tracks_query(search, liked)
        with self.database.user_session(self.user_id) as s:
            return int(s.execute(select(func.count()).select_from(query.subquery())).scalar_one())

    def track(self, track_id: uuid.UUID) -> TrackRow | None:
        found = self.tracks_by_id([track_id])
        return found[0] if found else None

    def tracks_by_id(self, ids: Sequence[uuid.UUID]) -> list[TrackRow]:
        """Tracks in the order of ``ids`` (repeats kept; ids not visible to me dropped)."""
        if not ids:
            return []
        query = (
            select(*_track_columns())
            .outerjoin(Band, Band.id == GeneratedTrack.band_id)
            .where(GeneratedTrack.id.in_(set(ids)))
        )
        with self.database.user_session(self.user_id) as s:
            by_id = {r[0]: _row(r) for r in s.execute(query)}
        return [by_id[i] for i in ids if i in by_id]

    # -- likes ----------------------------------------------------------------------------

    def store_loudness(self, track_id: uuid.UUID, lufs: float, true_peak_dbtp: float) -> None:
        """Keep the engine's measurement with the track (own tracks only, by RLS)."""
        if not math.isfinite(lufs):
            return  # silence has no loudness; measuring it again is cheap
        with self.database.user_session(self.user_id) as s:
            s.execute(
                update(GeneratedTrack)
                .where(GeneratedTrack.id == track_id)
                .values(
                    loudness_lufs=lufs,
                    true_peak_dbtp=true_peak_dbtp if math.isfinite(true_peak_dbtp) else None,
                )
            )

    def like(self, track_id: uuid.UUID) -> bool:
        """Add to Liked songs; True when it was not there before."""
        stmt = (
            insert(UserLibraryEntry)
            .values(user_id=self.user_id, track_id=track_id)
            .on_conflict_do_nothing(index_elements=["user_id", "track_id"])
            .returning(UserLibraryEntry.id)
        )
        with self.database.user_session(self.user_id) as s:
            return s.execute(stmt).first() is not None

    def unlike(self, track_id: uuid.UUID) -> bool:
        stmt = delete(UserLibraryEntry).where(
            UserLibraryEntry.user_id == self.user_id, UserLibraryEntry.track_id == track_id
        )
        with self.database.user_session(self.user_id) as s:
            return bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def liked_ids(self, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        wanted = set(ids)
        if not wanted:
            return set()
        query = select(UserLibraryEntry.track_id).where(
            UserLibraryEntry.user_id == self.user_id, UserLibraryEntry.track_id.in_(wanted)
        )
        with self.database.user_session(self.user_id) as s:
            return set(s.scalars(query))

    def is_liked(self, track_id: uuid.UUID) -> bool:
        return track_id in self.liked_ids([track_id])

    # -- playlists ------------------------------------------------------------------------

    def playlists(self) -> list[Playlist]:
        query = (
            select(UserPlaylist)
            .where(UserPlaylist.user_id == self.user_id)
            .order_by(func.lower(UserPlaylist.name), UserPlaylist.created_at)
        )
        with self.database.user_session(self.user_id) as s:
            return [_playlist(p) for p in s.scalars(query)]

    def playlist(self, playlist_id: uuid.UUID) -> Playlist:
        with self.database.user_session(self.user_id) as s:
            return _playlist(self._own_playlist(s, playlist_id))

    def _own_playlist(self, s: Session, playlist_id: uuid.UUID) -> UserPlaylist:
        row = s.get(UserPlaylist, playlist_id)
        if row is None or row.user_id != self.user_id:
            raise UserFacingError("That playlist no longer exists.")
        return row

    def create_playlist(self, name: str, description: str = "") -> Playlist:
        name = _playlist_name(name)
        with self.database.user_session(self.user_id) as s:
            row = UserPlaylist(user_id=self.user_id, name=name, description=description or None)
            s.add(row)
            s.flush()
            s.refresh(row)
            return _playlist(row)

    def rename_playlist(self, playlist_id: uuid.UUID, name: str) -> Playlist:
        name = _playlist_name(name)
        return self._edit(playlist_id, name=name)

    def set_playlist_public(self, playlist_id: uuid.UUID, public: bool) -> Playlist:
        return self._edit(playlist_id, is_public=bool(public))

    def delete_playlist(self, playlist_id: uuid.UUID) -> None:
        with self.database.user_session(self.user_id) as s:
            s.delete(self._own_playlist(s, playlist_id))

    def add_to_playlist(self, playlist_id: uuid.UUID, track_ids: Sequence[uuid.UUID]) -> Playlist:
        now = datetime.now(UTC).isoformat()
        added = [{"id": str(t), "added_at": now} for t in track_ids]
        return self._rewrite(playlist_id, lambda entries: entries + added)

    def remove_from_playlist(self, playlist_id: uuid.UUID, positions: Iterable[int]) -> Playlist:
        drop = set(positions)
        return self._rewrite(
            playlist_id, lambda entries: [e for i, e in enumerate(entries) if i not in drop]
        )

    def move_in_playlist(
        self, playlist_id: uuid.UUID, positions: Sequence[int], destination: int
    ) -> Playlist:
        """Move the entries at ``positions`` so they sit before ``destination``.

        ``destination`` is a row index in the list as it was before the move (the way a
        drop indicator reports it); ``len`` means the end.
        """

        return self._rewrite(playlist_id, lambda entries: reorder(entries, positions, destination))

    def playlist_tracks(self, playlist_id: uuid.UUID) -> list[TrackRow]:
        playlist = self.playlist(playlist_id)
        return self.tracks_by_id(list(playlist.track_ids))

    def _edit(self, playlist_id: uuid.UUID, **values: Any) -> Playlist:
        with self.database.user_session(self.user_id) as s:
            row = self._own_playlist(s, playlist_id)
            for key, value in values.items():
                setattr(row, key, value)
            s.flush()
            s.refresh(row)
            return _playlist(row)

    def _rewrite(self, playlist_id: uuid.UUID, change: Any) -> Playlist:
        with self.database.user_session(self.user_id) as s:
            row = s.execute(
                select(UserPlaylist)
                .where(UserPlaylist.id == playlist_id, UserPlaylist.user_id == self.user_id)
                .with_for_update()
            ).scalar_one_or_none()
            if row is None:
                raise UserFacingError("That playlist no longer exists.")
            row.tracks = change(list(row.tracks or []))
            s.flush()
            s.refresh(row)
            return _playlist(row)

    # -- history --------------------------------------------------------------------------

    def record_play(self, track: TrackRow) -> None:
        """Note that a generated track was played (platform ``infinite``)."""
        with self.database.user_session(self.user_id) as s:
            s.add(
                UserHistory(
                    user_id=self.user_id,
                    platform="infinite",
                    track_id=str(track.id),
                    track_name=track.title,
                    artist=track.band or "Infinite Player",
                )
            )

    def _history_query(self, search: str) -> Any:
        query = select(UserHistory).where(UserHistory.user_id == self.user_id)
        for word in search.split():
            pattern = f"%{_escape_like(word)}%"
            query = query.where(
                or_(
                    UserHistory.track_name.ilike(pattern, escape="\\"),
                    UserHistory.artist.ilike(pattern, escape="\\"),
                    UserHistory.album.ilike(pattern, escape="\\"),
                )
            )
        return query

    def history(
        self,
        *,
        search: str = "",
        sort: str = "played_at",
        descending: bool = True,
        offset: int = 0,
        limit: int = 100,
    ) -> list[HistoryRow]:
        if sort not in HISTORY_SORTS:
            raise UserFacingError(f"cannot sort history by {sort!r}; choose one of {HISTORY_SORTS}")
        column = getattr(UserHistory, sort)
        query = (
            self._history_query(search)
            .order_by(column.desc() if descending else column.asc(), UserHistory.id)
            .offset(offset)
            .limit(limit)
        )
        with self.database.user_session(self.user_id) as s:
            return [
                HistoryRow(
                    h.id,
                    h.platform,
                    h.track_id,
                    h.track_name,
                    h.artist,
                    h.album,
                    h.played_at,
                    h.play_count or 1,
                )
                for h in s.scalars(query)
            ]

    def count_history(self, *, search: str = "") -> int:
        query = self._history_query(search)
        with self.database.user_session(self.user_id) as s:
            return int(s.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def _playlist(row: UserPlaylist) -> Playlist:
    ids = []
    for entry in row.tracks or []:
        try:
            ids.append(uuid.UUID(str(entry["id"] if isinstance(entry, dict) else entry)))
        except (KeyError, ValueError):
            continue  # a malformed entry written elsewhere is skipped, not fatal
    return Playlist(
        row.id, row.name, row.description or "", bool(row.is_public), tuple(ids), row.updated_at
    )


def _playlist_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise UserFacingError("A playlist needs a name.")
    if len(name) > 200:
        raise UserFacingError("A playlist name can be at most 200 characters.")
    return name

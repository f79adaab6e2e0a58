"""Bands on the database: create, group tracks, follow, discover, band radio.

Every call runs in the acting user's session (role ``authenticated``), so row-level
security decides what they may see and change, exactly as on the shared database. The
counters (``track_count``, ``follower_count``) are kept by triggers in the schema, never
here: they then stay right whoever writes ``band_tracks``/``user_follows`` (this app, the
web product, sync) and however many people follow at once.

``style_vector`` is recomputed by :func:`player.embedding.band_style.refresh_band_style`
in the same transaction that changes the band's tracks, under a row lock on the band.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from base.errors import UserFacingError
from player.bands.cover import write_cover
from player.bands.persona import BandStyle, Persona, PersonaBackend, _name_key, default_backend
from player.embedding.band_style import refresh_band_style

if TYPE_CHECKING:
    from db.database import Database
    from db.models import Band
    from player.generation.service import GenerationService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BandInfo:
    """A band as the app shows it (no vector: 768 floats are for the database)."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    bio: str | None
    cover_url: str | None
    track_count: int
    follower_count: int
    is_public: bool
    genres: tuple[str, ...]
    vibe: str | None
    name_seed: int | None
    has_style: bool
    created_at: datetime | None
    similarity: float | None = None
    track_ids: tuple[uuid.UUID, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.id),
            "user_id": str(self.user_id),
            "name": self.name,
            "bio": self.bio,
            "cover_url": self.cover_url,
            "track_count": self.track_count,
            "follower_count": self.follower_count,
            "is_public": self.is_public,
            "genres": list(self.genres),
            "vibe": self.vibe,
            "name_seed": self.name_seed,
            "has_style": self.has_style,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }
        if self.similarity is not None:
            out["similarity"] = round(self.similarity, 4)
        if self.track_ids:
            out["track_ids"] = [str(t) for t in self.track_ids]
        return out


def _info(
    band: Band, *, similarity: float | None = None, tracks: Sequence[uuid.UUID] = ()
) -> BandInfo:
    params = band.generation_params or {}
    seed = params.get("name_seed")
    return BandInfo(
        id=band.id,
        user_id=band.user_id,
        name=band.name,
        bio=band.bio,
        cover_url=band.cover_url,
        track_count=int(band.track_count or 0),
        follower_count=int(band.follower_count or 0),
        is_public=bool(band.is_public),
        genres=tuple(params.get("genres") or ()),
        vibe=params.get("vibe"),
        name_seed=int(seed) if seed is not None else None,
        has_style=band.style_vector is not None,
        created_at=band.created_at,
        similarity=similarity,
        track_ids=tuple(tracks),
    )


def _uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value).strip())
    except ValueError:
        raise UserFacingError(f"{what} {value!r} is not a valid id (expected a UUID).") from None


class BandService:
    """Bands for one database; every method acts as the user it is given."""

    def __init__(
        self,
        database: Database,
        *,
        persona_backend: PersonaBackend | None = None,
        generation_service: GenerationService | None = None,
    ) -> None:
        """``generation_service``: the app's shared one (quota, engine already chosen);
        band radio makes its own ``GenerationService(database)`` when none is given."""
        self.database = database
        self.personas = persona_backend or default_backend()
        self._generation = generation_service

    # -- create -------------------------------------------------------------------------

    def create_band(
        self,
        user_id: uuid.UUID | str,
        *,
        genres: Sequence[str],
        vibe: str | None = None,
        name_seed: int = 0,
        track_ids: Sequence[uuid.UUID | str] = (),
        is_public: bool = True,
        name: str | None = None,
    ) -> BandInfo:
        """A new band with a generated persona and cover, holding ``track_ids``.

        ``name`` replaces the generated one (the bio follows); it must be new among the
        user's bands. Names are unique per user: creation takes a per-user advisory lock
        so two concurrent creations cannot both pick the same free name.
        """
        from db.models import Band

        chosen = name.strip() if name is not None else ""
        if name is not None and not chosen:
            raise UserFacingError("A band's name cannot be empty; leave it out to get one made up.")
        uid = _uuid(user_id, "User")
        style = BandStyle.of(genres, vibe)
        tids = self._dedupe([_uuid(t, "Track") for t in track_ids])
        with self.database.user_session(uid) as s:
            s.execute(
                text("select pg_advisory_xact_lock(:k)"),
                {"k": zlib.crc32(f"bands:{uid}".encode())},
            )
            taken = s.scalars(select(Band.name).where(Band.user_id == uid)).all()
            persona = self.personas.generate(style, name_seed, taken)
            if chosen:
                if _name_key(chosen) in {_name_key(t) for t in taken}:
                    raise UserFacingError(
                        f"You already have a band called {chosen!r}; pick another name."
                    )
                persona = Persona(chosen, persona.bio.replace(persona.name, chosen))
            band = Band(
                user_id=uid,
                name=persona.name,
                bio=persona.bio,
                is_public=is_public,
                generation_params={
                    "genres": list(style.genres),
                    "vibe": style.vibe,
                    "name_seed": int(name_seed),
                },
            )
            s.add(band)
            s.flush()
            self._insert_tracks(s, uid, band.id, tids)
            vector = refresh_band_style(s, band.id)
            path = write_cover(str(band.id), vector, style.genre)
            band.cover_url = path.as_uri()
            s.flush()
            s.refresh(band)
            return _info(band)

    # -- tracks -------------------------------------------------------------------------

    def add_tracks(
        self,
        user_id: uuid.UUID | str,
        band_id: uuid.UUID | str,
        track_ids: Sequence[uuid.UUID | str],
    ) -> BandInfo:
        """Add the user's tracks to their band (already present ones are ignored)."""
        return self._change_tracks(user_id, band_id, track_ids, self._insert_tracks)

    def remove_tracks(
        self,
        user_id: uuid.UUID | str,
        band_id: uuid.UUID | str,
        track_ids: Sequence[uuid.UUID | str],
    ) -> BandInfo:
        """Take tracks out of the user's band (the tracks themselves stay)."""
        return self._change_tracks(user_id, band_id, track_ids, self._delete_tracks)

    def _change_tracks(
        self,
        user_id: uuid.UUID | str,
        band_id: uuid.UUID | str,
        track_ids: Sequence[uuid.UUID | str],
        change: Callable[[Session, uuid.UUID, uuid.UUID, list[uuid.UUID]], None],
    ) -> BandInfo:
        """One edit of a band's track list: the band locked, then its style recomputed."""
        uid, bid = _uuid(user_id, "User"), _uuid(band_id, "Band")
        tids = self._dedupe([_uuid(t, "Track") for t in track_ids])
        with self.database.user_session(uid) as s:
            band = self._own_band_locked(s, uid, bid)
            change(s, uid, bid, tids)
            refresh_band_style(s, band.id)
            s.flush()
            s.refresh(band)
            return _info(band)

    @staticmethod
    def _delete_tracks(s: Session, _uid: uuid.UUID, bid: uuid.UUID, tids: list[uuid.UUID]) -> None:
        from db.models import BandTrack

        if tids:
            s.execute(
                delete(BandTrack).where(BandTrack.band_id == bid, BandTrack.track_id.in_(tids))
            )

    # -- read ---------------------------------------------------------------------------

    def list_bands(self, user_id: uuid.UUID | str) -> list[BandInfo]:
        """The user's own bands, newest first."""
        from db.models import Band

        uid = _uuid(user_id, "User")
        with self.database.user_session(uid) as s:
            bands = s.scalars(
                select(Band).where(Band.user_id == uid).order_by(Band.created_at.desc(), Band.name)
            ).all()
            return [_info(b) for b in bands]

    def get_band(self, user_id: uuid.UUID | str, band_id: uuid.UUID | str) -> BandInfo:
        """One band the user may see (their own or a public one), with its track ids."""
        from db.models import Band, BandTrack

        uid, bid = _uuid(user_id, "User"), _uuid(band_id, "Band")
        with self.database.user_session(uid) as s:
            band = s.get(Band, bid)
            if band is None:
                raise UserFacingError(f"No band {bid} (it does not exist or is private).")
            tracks = s.scalars(
                select(BandTrack.track_id)
                .where(BandTrack.band_id == bid)
                .order_by(BandTrack.added_at, BandTrack.track_id)
            ).all()
            return _info(band, tracks=tracks)

    def style_vector(self, user_id: uuid.UUID | str, band_id: uuid.UUID | str) -> np.ndarray | None:
        from db.models import Band

        uid, bid = _uuid(user_id, "User"), _uuid(band_id, "Band")
        with self.database.user_session(uid) as s:
            vec = s.scalar(select(Band.style_vector).where(Band.id == bid))
            return None if vec is None else np.asarray(vec, dtype=np.float32)

    # -- follow -------------------------------------------------------------------------

    def follow(self, user_id: uuid.UUID | str, band_id: uuid.UUID | str) -> BandInfo:
        """Follow a band the user can see; following twice changes nothing."""
        from db.models import Band, UserFollow

        uid, bid = _uuid(user_id, "User"), _uuid(band_id, "Band")
        with self.database.user_session(uid) as s:
            if s.scalar(select(Band.id).where(Band.id == bid)) is None:
                raise UserFacingError(f"No band {bid} to follow (it does not exist or is private).")
            s.execute(
                pg_insert(UserFollow)
                .values(user_id=uid, band_id=bid)
                .on_conflict_do_nothing(index_elements=["user_id", "band_id"])
            )
            band = s.get(Band, bid, populate_existing=True)
            assert band is not None
            return _info(band)

    def unfollow(self, user_id: uuid.UUID | str, band_id: uuid.UUID | str) -> None:
        from db.models import UserFollow

        uid, bid = _uuid(user_id, "User"), _uuid(band_id, "Band")
        with self.database.user_session(uid) as s:
            s.execute(
                delete(UserFollow).where(UserFollow.user_id == uid, UserFollow.band_id == bid)
            )

    def following(self, user_id: uuid.UUID | str) -> list[BandInfo]:
        """Bands the user follows (that they can still see), most recent follow first."""
        from db.models import Band, UserFollow

        uid = _uuid(user_id, "User")
        with self.database.user_session(uid) as s:
            bands = s.scalars(
                select(Band)
                .join(UserFollow, UserFollow.band_id == Band.id)
                .where(UserFollow.user_id == uid)
                .order_by(UserFollow.created_at.desc())
            ).all()
            return [_info(b) for b in bands]

    # -- discovery ----------------------------------------------------------------------

    def discover(self, user_id: uuid.UUID | str, limit: int = 10) -> list[BandInfo]:
        """Public bands by others, closest to the user's taste first.

        Cosine distance between ``style_vector`` and ``users.taste_vector`` within the
        taste's vector space (``player.similarity``, served by the ivfflat index), in the
        user's RLS session. With no usable taste yet (a brand-new user, or a taste whose
        space is unknown) the most-followed public bands come first.
        """
        from db.models import Band, User
        from player.similarity import similar_public_bands

        if limit < 1:
            raise UserFacingError(
                f"The number of bands to discover must be at least 1, got {limit}."
            )
        uid = _uuid(user_id, "User")
        with self.database.user_session(uid) as s:
            me = s.execute(
                select(User.taste_vector, User.embedding_space).where(User.id == uid)
            ).first()
            if me is None or me.taste_vector is None or me.embedding_space is None:
                popular = s.scalars(
                    select(Band)
                    .where(Band.is_public.is_(True), Band.user_id != uid)
                    .order_by(Band.follower_count.desc(), Band.created_at.desc())
                    .limit(limit)
                ).all()
                return [_info(b) for b in popular]
            hits = similar_public_bands(
                s, me.taste_vector, limit, me.embedding_space, exclude_owner=uid
            )
            # Relaxed-order iterative index scans may return neighbours slightly unsorted.
            hits = sorted(hits, key=lambda h: -h.similarity)
            bands = {
                b.id: b
                for b in s.scalars(select(Band).where(Band.id.in_([h.band_id for h in hits])))
            }
            return [
                _info(bands[h.band_id], similarity=h.similarity) for h in hits if h.band_id in bands
            ]

    # -- band radio ---------------------------------------------------------------------

    def radio(
        self,
        user_id: uuid.UUID | str,
        band_id: uuid.UUID | str,
        count: int = 1,
        *,
        seconds: float | None = None,
    ) -> list[uuid.UUID]:
        """Generate ``count`` new tracks in the band's style and add them to the band.

        The band's stored generation parameters (genres, vibe) make the request; its style
        vector picks the anchor — the band track nearest the style, i.e. its most typical
        one — and the request asks for a ``similar`` sibling of it, so the band keeps its
        tempo, key and sound. A band with no finished track yet gets a ``new`` track of
        its genres. The seed moves on with the band's size: every radio track is new, yet
        a run is reproducible. Each track is embedded (if the generator did not) before
        it joins, so the style vector follows what the band now plays.
        """
        if count < 1:
            raise UserFacingError(f"Band radio needs a count of at least 1, got {count}.")
        uid, bid = _uuid(user_id, "User"), _uuid(band_id, "Band")
        generator = self._generation
        if generator is None:
            from player.generation.service import GenerationService

            generator = self._generation = GenerationService(self.database)
        made: list[uuid.UUID] = []
        for _ in range(count):
            with self.database.user_session(uid) as s:
                band = self._own_band(s, uid, bid)
                params = dict(band.generation_params or {})
                position = int(band.track_count or 0)
                anchor = self._anchor(s, band)
            request = radio_request(params, position, anchor=anchor, seconds=seconds)
            tid = generator.generate(uid, request, band_id=bid)
            self._embed_if_missing(tid, params)
            self.add_tracks(uid, bid, [tid])
            made.append(tid)
        return made

    @staticmethod
    def _anchor(s: Session, band: Band) -> uuid.UUID | None:
        """The band's finished track nearest its style vector (None: no such track)."""
        from db.models import BandTrack, Embedding, GeneratedTrack

        query = (
            select(GeneratedTrack.id)
            .join(BandTrack, BandTrack.track_id == GeneratedTrack.id)
            .where(
                BandTrack.band_id == band.id,
                GeneratedTrack.status == "completed",
                GeneratedTrack.generation_params.is_not(None),
            )
        )
        if band.style_vector is not None and band.embedding_space is not None:
            anchored = (
                query.join(
                    Embedding,
                    Embedding.track_id == func.cast(GeneratedTrack.id, Embedding.track_id.type),
                )
                .where(Embedding.embedding_space == band.embedding_space)
                .order_by(Embedding.vector.cosine_distance(band.style_vector))
            )
            found = s.scalar(anchored.limit(1))
            if found is not None:
                return found
        return s.scalar(query.order_by(BandTrack.added_at.desc()).limit(1))

    def _embed_if_missing(self, track_id: uuid.UUID, params: dict[str, Any]) -> None:
        """Give a freshly generated track its vector, in the active embedder's space."""
        from base.paths import path_from_url
        from db.models import GeneratedTrack
        from player.embedding import get_embedder
        from player.embedding.store import store_track_vector, track_vector

        with self.database.service_session() as s:
            if track_vector(s, track_id) is not None:
                return
            url = s.scalar(select(GeneratedTrack.url).where(GeneratedTrack.id == track_id))
        path = path_from_url(url or "")
        if path is None or not path.is_file():
            log.warning("band radio: no audio file for track %s; not embedded", track_id)
            return
        embedder = get_embedder("auto")
        vector = embedder.embed_file(path)
        with self.database.service_session() as s:
            store_track_vector(
                s, track_id, vector, embedder.space, genre=list(params.get("genres") or ())
            )

    # -- internals ----------------------------------------------------------------------

    @staticmethod
    def _dedupe(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(ids))

    @staticmethod
    def _own_band(s: Session, uid: uuid.UUID, bid: uuid.UUID, *, lock: bool = False) -> Band:
        from db.models import Band

        # Plain read first: FOR UPDATE applies the UPDATE policy and would hide someone
        # else's public band, leaving only a vaguer error.
        band = s.scalar(
            select(Band).where(Band.id == bid).execution_options(populate_existing=True)
        )
        if band is None:
            raise UserFacingError(f"No band {bid} (it does not exist or is private).")
        if band.user_id != uid:
            raise UserFacingError(
                f"Band {band.name!r} belongs to someone else; only its creator can change it."
            )
        if lock:
            locked = s.scalar(
                select(Band)
                .where(Band.id == bid)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            assert locked is not None
            band = locked
        return band

    def _own_band_locked(self, s: Session, uid: uuid.UUID, bid: uuid.UUID) -> Band:
        return self._own_band(s, uid, bid, lock=True)

    @staticmethod
    def _insert_tracks(
        s: Session, uid: uuid.UUID, bid: uuid.UUID, tids: Sequence[uuid.UUID]
    ) -> None:
        from db.models import BandTrack, GeneratedTrack

        if not tids:
            return
        rows = s.execute(
            select(GeneratedTrack.id, GeneratedTrack.user_id, GeneratedTrack.status).where(
                GeneratedTrack.id.in_(tids)
            )
        ).all()
        found = {r.id: r for r in rows}
        for tid in tids:
            row = found.get(tid)
            if row is None or row.user_id != uid:
                raise UserFacingError(
                    f"Track {tid} is not one of your tracks; "
                    "a band holds only its creator's tracks."
                )
            if row.status == "failed":
                raise UserFacingError(f"Track {tid} failed to generate and cannot join a band.")
        s.execute(
            pg_insert(BandTrack)
            .values([{"band_id": bid, "track_id": t} for t in tids])
            .on_conflict_do_nothing(index_elements=["band_id", "track_id"])
        )


def radio_request(
    params: dict[str, Any],
    position: int,
    *,
    anchor: uuid.UUID | None = None,
    seconds: float | None = None,
) -> Any:
    """The generation request for the band's ``position``-th track."""
    from player.generation.protocol import GenerationRequest, SourceTrack

    genres = list(params.get("genres") or ())
    base_seed = int(params.get("name_seed") or 0)
    seed = zlib.crc32(f"band-radio:{base_seed}:{'|'.join(genres)}:{position}".encode())
    kwargs: dict[str, Any] = {"mode": "new", "genres": genres, "seed": seed}
    if anchor is not None:
        kwargs["mode"] = "similar"
        kwargs["source"] = SourceTrack(track_id=str(anchor))
    if params.get("vibe"):
        kwargs["vibe"] = params["vibe"]
    if seconds is not None:
        kwargs["duration_seconds"] = float(seconds)
    return GenerationRequest(**kwargs)

# SPDX-License-Identifier: MIT
"""Re-embed stored vectors into the active space, in the background, with progress.

Switching embedder (say the descriptor embedder to MERT once a checkpoint appears)
leaves every stored vector in the old space, where new queries no longer see it. This
job walks the ``embeddings`` rows not yet in the new space and whose audio is on this
machine (generated tracks through ``generated_tracks.url``; the listener's own files
through their ``local:`` path), embeds them again, then rebuilds the taste vectors of
users and the style vectors of bands that were in another space. Rows without audio
here (catalogue vectors from other sources) are counted and left alone: they rejoin
when a device that has their audio re-embeds them.

It runs as the service role: embeddings are shared rows only the service writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from base.errors import UserFacingError
from base.paths import path_from_url
from db.models import Band, Embedding, GeneratedTrack, User
from player.background import BackgroundJob
from player.embedding.band_style import refresh_band_style
from player.embedding.store import LOCAL_PREFIX

if TYPE_CHECKING:
    from db.database import Database
    from player.embedding.base import Embedder


#: progress(done, total, message)
Progress = Callable[[int, int, str], None]
#: ``(database, user_id, embedder)``: rebuilds one user's taste vector in the new space.
TasteRebuild = Callable[[Any, uuid.UUID, Any], Any]


@dataclass
class ReembedReport:
    space: str
    embedded: int = 0
    unavailable: int = 0
    failed: list[str] = field(default_factory=list)
    users: int = 0
    bands: int = 0
    cancelled: bool = False


def pending_count(database: Database, space: str) -> int:
    """How many stored vectors are not in ``space``."""
    with database.service_session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(Embedding)
                .where(or_(Embedding.embedding_space.is_(None), Embedding.embedding_space != space))
            )
            or 0
        )


def _audio_path(session: Any, row: Any) -> Path | None:
    if row.source == "local" and row.track_id and row.track_id.startswith(LOCAL_PREFIX):
        return Path(row.track_id[len(LOCAL_PREFIX) :])
    if row.source == "infinite" and row.track_id:
        try:
            tid = uuid.UUID(row.track_id)
        except ValueError:
            return None
        url = session.scalar(select(GeneratedTrack.url).where(GeneratedTrack.id == tid))
        return path_from_url(url) if url else None
    return None


def reembed_all(
    database: Database,
    embedder: Embedder,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    rebuild_taste: TasteRebuild,
) -> ReembedReport:
    """Bring every re-embeddable vector, taste and band style into ``embedder.space``.

    ``rebuild_taste`` is :func:`player.taste.rebuild_taste`, passed in by the caller: taste
    is built on embeddings, so this layer must not import it.
    """
    from player.embedding.store import store_vector

    space = embedder.space
    report = ReembedReport(space)
    with database.service_session() as s:
        rows = s.execute(
            select(
                Embedding.id,
                Embedding.track_id,
                Embedding.track_name,
                Embedding.artist,
                Embedding.source,
            )
            .where(or_(Embedding.embedding_space.is_(None), Embedding.embedding_space != space))
            .order_by(Embedding.created_at)
        ).all()
        todo = [(r, _audio_path(s, r)) for r in rows]
    total = len(todo)
    for done, (row, path) in enumerate(todo, start=1):
        if should_stop is not None and should_stop():
            report.cancelled = True
            return report
        if path is None or not path.is_file():
            report.unavailable += 1
        else:
            try:
                vector = embedder.embed_file(path)
            except (UserFacingError, ValueError) as exc:
                report.failed.append(f"{row.track_name}: {exc}")
            else:
                with database.service_session() as s:
                    store_vector(
                        s,
                        track_id=row.track_id,
                        track_name=row.track_name,
                        artist=row.artist,
                        vector=vector,
                        space=space,
                        source=row.source,
                    )
                report.embedded += 1
        if progress is not None:
            progress(done, total, f"re-embedding {row.track_name}")

    with database.service_session() as s:
        users = s.scalars(
            select(User.id).where(
                User.taste_vector.is_not(None),
                or_(User.embedding_space.is_(None), User.embedding_space != space),
            )
        ).all()
        bands = s.scalars(
            select(Band.id).where(
                or_(Band.embedding_space.is_(None), Band.embedding_space != space)
            )
        ).all()
    for uid in users:
        rebuild_taste(database, uid, embedder)
        report.users += 1
    for band_id in bands:
        with database.service_session() as s:
            refresh_band_style(s, band_id)
        report.bands += 1
    if progress is not None:
        progress(total, total, "done")
    return report


class ReembedJob(BackgroundJob[ReembedReport]):
    """:func:`reembed_all` on a daemon thread; ``cancel()`` stops it between tracks."""

    def __init__(
        self,
        database: Database,
        embedder: Embedder,
        progress: Progress | None = None,
        *,
        rebuild_taste: TasteRebuild,
    ) -> None:
        super().__init__(
            lambda should_stop: reembed_all(
                database, embedder, progress, should_stop, rebuild_taste=rebuild_taste
            ),
            name="reembed",
        )

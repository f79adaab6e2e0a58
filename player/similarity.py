# SPDX-License-Identifier: MIT
"""Top-k nearest tracks and bands by vector, with pgvector, within one space.

The queries are written as ``ORDER BY vector <=> :query LIMIT k`` so the HNSW cosine
indexes (``idx_embeddings_vector``, ``idx_bands_style_vector``; migration
``20261129110000_catalogue_indexes``) serve them. Settings are ``SET LOCAL`` in the
query's own transaction (:func:`index_settings`), because a session-level ``SET`` on a
pooled connection reaches whichever transaction comes next, not this one:

* ``hnsw.ef_search`` (:data:`EF_SEARCH`): the candidate list; on 100k realistic
  catalogue vectors the benchmark measured recall@10 0.92-0.93 at 40 (pgvector's
  default), 0.94-0.97 at 100, 0.98 at 200 (two runs; figures in docs/areas/embedding.md);
* ``hnsw.iterative_scan = strict_order`` (pgvector 0.8+): the space, source and
  visibility filters are applied after the index returns candidates; without iterative
  scans a space holding a tenth of the rows would return about a tenth of ``k``. Strict
  order keeps the rows sorted by distance, so no re-sort is needed;
* the ivfflat settings stay for a database whose indexes are still ivfflat (a remote
  project before this migration): ``ivfflat.probes`` and relaxed iterative scans.

The track search, the hot one, is **one prepared statement in one round trip**
(:func:`_one_statement_search`): the settings are ``set_config(..., true)`` calls in an
uncorrelated sub-select of the query's own ``WHERE``, which PostgreSQL runs once as an
InitPlan gating the scan (``One-Time Filter``) before the index returns its first row,
so they hold for this very scan and, being ``SET LOCAL``, end with the transaction; the
statement goes through the session's psycopg connection (inside its transaction, so
RLS still applies) with the vector in binary, and psycopg prepares it on the server
after five runs. On 100k rows the search's p50 fell 1.4-2x against the ORM path
(figures in docs/areas/embedding.md); ``ONE_STATEMENT = False`` restores the ORM path
(the benchmark compares both, and another driver than psycopg 3 gets it).

Visibility is the session's: run these in ``Database.user_session`` and row-level
security limits generated tracks to the user's own and public ones; the explicit
filters below only add what RLS does not say (embeddings are public, so a generated
track's vector is shown only when its ``generated_tracks`` row is visible).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import bindparam, exists, func, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType

from db.models import Band, Embedding, GeneratedTrack
from player.embedding.base import check_vector

PROBES = 10
EF_SEARCH = 100
#: Send the query vector in pgvector's binary form (:func:`query_vector`). False sends the
#: text form through the ORM type, as before; kept for the benchmark's side-by-side.
BINARY_QUERY = True
#: Run the track search as one prepared statement with its settings inside
#: (:func:`_one_statement_search`). False: the ORM statement after a settings round trip.
ONE_STATEMENT = True


@dataclass(frozen=True)
class TrackHit:
    track_id: str | None
    track_name: str
    artist: str
    source: str
    similarity: float


@dataclass(frozen=True)
class BandHit:
    band_id: uuid.UUID
    name: str
    user_id: uuid.UUID
    follower_count: int
    similarity: float


def index_settings() -> dict[str, str | int]:
    """The per-transaction settings every vector search runs with (the benchmark uses them)."""
    return {
        "hnsw.ef_search": EF_SEARCH,
        "hnsw.iterative_scan": "strict_order",
        "ivfflat.probes": PROBES,
        "ivfflat.iterative_scan": "relaxed_order",
    }


_ITERATIVE_SCANS: bool | None = None  # learnt on first use: pgvector 0.8+ has them


def _tune_index(session: Session) -> None:
    """All settings in one round trip (``set_config(..., true)`` is ``SET LOCAL``)."""
    global _ITERATIVE_SCANS
    settings = index_settings()
    if _ITERATIVE_SCANS is False:
        settings = {k: v for k, v in settings.items() if not k.endswith("iterative_scan")}
    names = list(settings)
    stmt = text(
        "select " + ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(names)))
    ).bindparams(
        **{f"n{i}": n for i, n in enumerate(names)},
        **{f"v{i}": str(settings[n]) for i, n in enumerate(names)},
    )
    if _ITERATIVE_SCANS:
        session.execute(stmt)
        return
    try:
        with session.begin_nested():
            session.execute(stmt)
        _ITERATIVE_SCANS = True
    except DBAPIError:
        if _ITERATIVE_SCANS is False:
            raise
        _ITERATIVE_SCANS = False  # pgvector < 0.8: ef_search/probes alone must do
        _tune_index(session)


class _BinaryVector(UserDefinedType[Any]):
    """A ``vector`` bind parameter handed to psycopg as it is (a ``pgvector.Vector``), so
    the binary dumper registered by :func:`query_vector` sends it; pgvector's SQLAlchemy
    type would first format 768 floats as text (about 1 ms in Python, then parsed again
    by the server)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "VECTOR"


_DUMPER_READY = "infinite_pgvector_binary_dumper"


def query_vector(session: Session, unit: np.ndarray) -> Any:
    """The query vector as a bind parameter in pgvector's binary form.

    pgvector's psycopg dumper for ``pgvector.Vector`` is registered once per database
    connection (remembered in the pooled connection's ``info``). Only the dumper: the
    loaders ``register_vector`` would add change what every other query on that pooled
    connection reads back, and only this module passes ``pgvector.Vector`` objects.
    """
    if not BINARY_QUERY:
        return unit
    from pgvector import Vector as PgVector

    if not _binary_dumper(session):
        return unit  # another driver: the text form
    return bindparam("query_vector", PgVector(unit), type_=_BinaryVector())


def _binary_dumper(session: Session) -> bool:
    """Register pgvector's binary dumper on the session's psycopg 3 connection (once per
    pooled connection); False for another driver."""
    from pgvector import Vector as PgVector
    from pgvector.psycopg.vector import VectorBinaryDumper

    conn = session.connection()
    pooled = conn.connection
    adapters = getattr(pooled.driver_connection, "adapters", None)
    if pooled.info.get(_DUMPER_READY) is None:
        oid = None
        if adapters is not None:  # psycopg 3
            oid = conn.execute(text("select to_regtype('vector')::oid")).scalar()
        if adapters is not None and oid is not None:
            dumper = type("VectorBinaryDumperOid", (VectorBinaryDumper,), {"oid": int(oid)})
            adapters.register_dumper(PgVector, dumper)
        pooled.info[_DUMPER_READY] = oid is not None
    return bool(pooled.info[_DUMPER_READY])


#: The track search. ``{settings}`` is one ``set_config(<name>, %(s<i>)s, true)`` per
#: setting: the uncorrelated sub-select becomes an InitPlan under a ``One-Time Filter``
#: that runs before the index scan fetches its first row (pgvector reads ``ef_search``
#: and ``iterative_scan`` then). Optional filters are written so that one statement (one
#: server-side prepared plan) serves every call: a NULL array disables its filter.
_TRACKS_SQL = """
select e.track_id, e.track_name, e.artist, e.source, e.vector <=> %(query)s as distance
  from public.embeddings e
 where (select count(*) from (select {settings}) as tuned) = 1
   and e.embedding_space = %(space)s
   and (e.source <> 'infinite'
        or exists (select 1 from public.generated_tracks g where g.id::text = e.track_id))
   and (%(sources)s::text[] is null or e.source = any(%(sources)s::text[]))
   and (%(exclude)s::text[] is null or e.track_id is null
        or not (e.track_id = any(%(exclude)s::text[])))
 order by distance
 limit %(k)s
"""


def tracks_statement(names: tuple[str, ...]) -> str:
    """The one-statement track search for these setting names (values are parameters
    ``s0``, ``s1``, ...); the names are this module's constants, never user input."""
    calls = ", ".join(f"set_config('{n}', %(s{i})s, true)" for i, n in enumerate(names))
    return _TRACKS_SQL.format(settings=calls)


def track_search(
    query: np.ndarray,
    k: int,
    space: str,
    sources: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (),
) -> tuple[str, dict[str, Any]]:
    """The statement and psycopg parameters :func:`similar_tracks` runs (tests EXPLAIN
    exactly this)."""
    from pgvector import Vector as PgVector

    settings = index_settings()
    if _ITERATIVE_SCANS is False:
        settings = {n: v for n, v in settings.items() if not n.endswith("iterative_scan")}
    names = tuple(settings)
    params: dict[str, Any] = {f"s{i}": str(settings[n]) for i, n in enumerate(names)}
    params.update(
        query=PgVector(query),
        space=space,
        sources=list(sources) if sources else None,
        exclude=list(exclude) if exclude else None,
        k=int(k),
    )
    return tracks_statement(names), params


def _one_statement_search(
    session: Session,
    query: np.ndarray,
    k: int,
    space: str,
    sources: tuple[str, ...] | None,
    exclude: tuple[str, ...],
) -> list[TrackHit] | None:
    """The track search in one round trip on the session's psycopg connection; None when
    the connection is not psycopg 3 (the caller falls back to the ORM statement)."""
    if _ITERATIVE_SCANS is None:
        _tune_index(session)  # learns once whether this pgvector has iterative scans
    if not _binary_dumper(session):
        return None
    if session.autoflush:
        session.flush()  # what the ORM's execute would do: pending rows are searched too
    sql, params = track_search(query, k, space, sources, exclude)
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a live connection: the dumper was just registered on it
    with driver.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return [TrackHit(r[0], r[1], r[2], r[3], 1.0 - float(r[4])) for r in rows]


def similar_tracks(
    session: Session,
    vector: Any,
    k: int = 10,
    space: str = "descriptor-v1",
    *,
    sources: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (),
) -> list[TrackHit]:
    """The ``k`` stored tracks nearest ``vector`` in ``space`` that the session may see."""
    query = check_vector(vector)
    if ONE_STATEMENT and BINARY_QUERY:
        hits = _one_statement_search(session, query, k, space, sources, exclude)
        if hits is not None:
            return hits
    _tune_index(session)
    distance = Embedding.vector.cosine_distance(query_vector(session, query))
    visible_generated = exists(
        select(1)
        .select_from(GeneratedTrack)
        .where(func.cast(GeneratedTrack.id, Embedding.track_id.type) == Embedding.track_id)
    )
    stmt = (
        select(
            Embedding.track_id,
            Embedding.track_name,
            Embedding.artist,
            Embedding.source,
            distance.label("distance"),
        )
        .where(
            Embedding.embedding_space == space,
            or_(Embedding.source != "infinite", visible_generated),
        )
        .order_by(distance)
        .limit(k)
    )
    if sources:
        stmt = stmt.where(Embedding.source.in_(sources))
    if exclude:
        stmt = stmt.where(or_(Embedding.track_id.is_(None), Embedding.track_id.not_in(exclude)))
    return [
        TrackHit(r.track_id, r.track_name, r.artist, r.source, 1.0 - float(r.distance))
        for r in session.execute(stmt)
    ]


def similar_public_bands(
    session: Session,
    vector: Any,
    k: int = 10,
    space: str = "descriptor-v1",
    *,
    exclude_owner: uuid.UUID | None = None,
) -> list[BandHit]:
    """The ``k`` public bands whose style is nearest ``vector`` in ``space``.

    ``exclude_owner`` leaves out that user's own bands (discovery shows others' music).
    """
    query = check_vector(vector)
    _tune_index(session)
    distance = Band.style_vector.cosine_distance(query_vector(session, query))
    stmt = (
        select(Band.id, Band.name, Band.user_id, Band.follower_count, distance.label("distance"))
        .where(
            Band.is_public.is_(True), Band.style_vector.is_not(None), Band.embedding_space == space
        )
        .order_by(distance)
        .limit(k)
    )
    if exclude_owner is not None:
        stmt = stmt.where(Band.user_id != exclude_owner)
    return [
        BandHit(r.id, r.name, r.user_id, int(r.follower_count or 0), 1.0 - float(r.distance))
        for r in session.execute(stmt)
    ]


def as_array(vector: Any) -> np.ndarray:
    """A pgvector value (or list) as float32 numpy."""
    return np.asarray(vector, dtype=np.float32)

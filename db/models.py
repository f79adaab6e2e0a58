"""SQLAlchemy models of the shared schema.

The migrations are the source of truth; these classes mirror them column for column
(tests/db/test_models_match_schema.py fails when the two drift). Server defaults are
declared so that rows created through the ORM get the same values as rows created by
the web product's plain SQL.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    ARRAY,
    REAL,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

VECTOR_DIM = 768

UUID_PK = dict(primary_key=True, server_default=text("gen_random_uuid()"))
NOW = text("now()")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, **UUID_PK)  # type: ignore[arg-type]
    email: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    taste_vector: Mapped[Any | None] = mapped_column(Vector(VECTOR_DIM), nullable=True)
    # 20261125030000_embedding_spaces.sql: the space of taste_vector.
    embedding_space: Mapped[str | None] = mapped_column(Text)
    preferences_profile: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    daily_count: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    # 20261125020000_generation_quota.sql: the UTC day daily_count counts.
    daily_count_date: Mapped[date | None] = mapped_column(Date)
    premium: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    onboarding_completed: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)


class UserHistory(Base):
    __tablename__ = "user_history"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, **UUID_PK)  # type: ignore[arg-type]
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(Text, nullable=False)
    track_id: Mapped[str | None] = mapped_column(Text)
    track_name: Mapped[str] = mapped_column(Text, nullable=False)
    artist: Mapped[str] = mapped_column(Text, nullable=False)
    album: Mapped[str | None] = mapped_column(Text)
    played_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)
    play_count: Mapped[int | None] = mapped_column(Integer, server_default=text("1"))


class Xid8(UserDefinedType[str]):
    """PostgreSQL's 64-bit transaction id; read as text, never written by the app."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "XID8"


ischema_names.setdefault("xid8", Xid8)  # so reflection knows the type


class Embedding(Base):
    __tablename__ = "embeddings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, **UUID_PK)  # type: ignore[arg-type]
    track_id: Mapped[str | None] = mapped_column(Text, unique=True)
    track_name: Mapped[str] = mapped_column(Text, nullable=False)
    artist: Mapped[str] = mapped_column(Text, nullable=False)
    vector: Mapped[Any] = mapped_column(Vector(VECTOR_DIM), nullable=False)
    genre: Mapped[list[str] | None] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)
    # 20261125030000_embedding_spaces.sql: the space of vector (descriptor-v1, mert-v1-95m).
    embedding_space: Mapped[str | None] = mapped_column(Text)
    # 20261129150000_catalogue_pull.sql: the transaction that last wrote the row, the
    # cursor of the catalogue pull (db/sync/catalogue.py); set by the database only.
    change_txid: Mapped[str | None] = mapped_column(
        Xid8, server_default=text("pg_current_xact_id()"), deferred=True
    )


class Band(Base):
    __tablename__ = "bands"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, **UUID_PK)  # type: ignore[arg-type]
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    bio: Mapped[str | None] = mapped_column(Text)
    cover_url: Mapped[str | None] = mapped_column(Text)
    style_vector: Mapped[Any | None] = mapped_column(Vector(VECTOR_DIM))
    # 20261125030000_embedding_spaces.sql: the space of style_vector.
    embedding_space: Mapped[str | None] = mapped_column(Text)
    track_count: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    follower_count: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    is_public: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)
    # 20261125050000_band_generation_params.sql: genres, vibe, name_seed (band radio).
    generation_params: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )


class GeneratedTrack(Base):
    __tablename__ = "generated_tracks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, **UUID_PK)  # type: ignore[arg-type]
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    url: Mapped[str] = mapped_column(Text, nullable=False)
    duration: Mapped[int] = mapped_column(Integer, nullable=False)
    mode: Mapped[str] = mapped_column(Text, nullable=False)
    source_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("generated_tracks.id", ondelete="SET NULL")
    )
    source_external_id: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    match_percentage: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(Text, server_default=text("'completed'"))
    band_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("bands.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)
    # 20261125020000_generation_quota.sql: why it failed; what reproduces it.
    error: Mapped[str | None] = mapped_column(Text)
    generation_params: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # 20261125010000_track_loudness.sql: measured once, reused by the playback engine.
    loudness_lufs: Mapped[float | None] = mapped_column(REAL)
    true_peak_dbtp: Mapped[float | None] = mapped_column(REAL)


class BandTrack(Base):
    __tablename__ = "band_tracks"

    band_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bands.id", ondelete="CASCADE"), primary_key=True
    )
    track_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("generated_tracks.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)


class UserPlaylist(Base):
    __tablename__ = "user_playlists"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, **UUID_PK)  # type: ignore[arg-type]
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    tracks: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    is_public: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)


class UserLibraryEntry(Base):
    __tablename__ = "user_library"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, **UUID_PK)  # type: ignore[arg-type]
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    track_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("generated_tracks.id", ondelete="CASCADE"), nullable=False
    )
    added_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)


class UserFollow(Base):
    __tablename__ = "user_follows"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    band_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bands.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)


class OAuthConnection(Base):
    __tablename__ = "oauth_connections"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, **UUID_PK)  # type: ignore[arg-type]
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(Text, nullable=False)
    access_token: Mapped[str] = mapped_column(Text, nullable=False)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=NOW)


class ListenerModel(Base):
    """20261129100000_listener_models.sql: the radio's listener model, one row per user."""

    __tablename__ = "listener_models"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    embedding_space: Mapped[str | None] = mapped_column(Text)
    state: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=NOW
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=NOW
    )


ALL_MODELS: tuple[type[Base], ...] = (
    User,
    UserHistory,
    Embedding,
    GeneratedTrack,
    Band,
    BandTrack,
    UserPlaylist,
    UserLibraryEntry,
    UserFollow,
    OAuthConnection,
    ListenerModel,
)

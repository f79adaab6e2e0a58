"""Which tables sync, how their rows are keyed, and how each may be written remotely.

The order of ``SYNCED_TABLES`` is the foreign-key order: parents before children, so
upserts go front to back and deletions back to front. ``oauth_connections`` is absent on
purpose: tokens never leave the device.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    name: str
    #: Primary-key columns; a row's key in ``sync_changes`` is their text joined by "/".
    pk: tuple[str, ...]
    #: Last-writer-wins column written by the update trigger, when the table has one.
    updated_at: str | None = None
    #: The shared database lets a user update rows (ON CONFLICT DO UPDATE) — else insert-only.
    updatable: bool = True
    #: Columns the shared database keeps itself: never pushed, always taken when pulled.
    server_columns: tuple[str, ...] = ()
    #: A unique key other than the primary key (two devices may add the same pair).
    natural_key: tuple[str, ...] = ()
    #: Public rows of other users are pulled into ``sync_discovery``.
    discoverable: bool = False

    def key_sql(self, alias: str) -> str:
        """SQL text of a row's key, as the trigger writes it."""
        return " || '/' || ".join(f"{alias}.{col}::text" for col in self.pk)

    def match_sql(self, alias: str, param: str) -> str:
        """``row key in :param`` (a list of keys), using the primary-key index when it can."""
        if len(self.pk) == 1:
            return f"{alias}.{self.pk[0]} = any(cast(:{param} as uuid[]))"
        return f"{self.key_sql(alias)} = any(:{param})"

    def join_sql(self, row_alias: str, change_alias: str, key_col: str = "row_key") -> str:
        """Join condition between the table and rows carrying a key (index-friendly)."""
        if len(self.pk) == 1:
            return f"{row_alias}.{self.pk[0]} = {change_alias}.{key_col}::uuid"
        return " and ".join(
            f"{row_alias}.{col} = split_part({change_alias}.{key_col}, '/', {i + 1})::uuid"
            for i, col in enumerate(self.pk)
        )


SYNCED_TABLES: tuple[TableSpec, ...] = (
    # premium and the quota are the server's to decide (the grants enforce it).
    TableSpec(
        "users",
        ("id",),
        "updated_at",
        server_columns=("premium", "daily_count", "daily_count_date"),
    ),
    TableSpec(
        "bands",
        ("id",),
        "updated_at",
        server_columns=("track_count", "follower_count"),
        discoverable=True,
    ),
    TableSpec("generated_tracks", ("id",)),
    TableSpec("band_tracks", ("band_id", "track_id"), updatable=False),
    TableSpec("user_playlists", ("id",), "updated_at", discoverable=True),
    TableSpec("user_library", ("id",), updatable=False, natural_key=("user_id", "track_id")),
    TableSpec("user_follows", ("user_id", "band_id"), updatable=False),
    # The shared schema lets users read and insert history, never change it. One row per
    # listen: the same import on two devices is the same rows under different ids.
    TableSpec(
        "user_history",
        ("id",),
        updatable=False,
        natural_key=("user_id", "platform", "played_at", "track_name", "artist"),
    ),
    # The radio's listener model, one row per user: a reset deletes it (a tombstone).
    TableSpec("listener_models", ("user_id",), "updated_at"),
)

BY_NAME = {t.name: t for t in SYNCED_TABLES}

"""Writing rows as the app does, and comparing what two databases hold."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text

from db.sync.tables import SYNCED_TABLES

OWNER_FILTER = {
    "users": "t.id = :u",
    "band_tracks": "t.band_id in (select id from public.bands where user_id = :u)",
}


def snapshot(db: Any, user_id: uuid.UUID) -> dict[str, list[str]]:
    """Every synced row of one user, as sorted canonical JSON, table by table."""
    out: dict[str, list[str]] = {}
    with db.engine.connect() as conn:
        for spec in SYNCED_TABLES:
            where = OWNER_FILTER.get(spec.name, "t.user_id = :u")
            rows = conn.execute(
                text(f"select to_jsonb(t.*) from public.{spec.name} t where {where}"),
                {"u": user_id},
            ).scalars()
            out[spec.name] = sorted(json.dumps(r, sort_keys=True) for r in rows)
    return out


def assert_same(a: Any, b: Any, user_id: uuid.UUID) -> dict[str, list[str]]:
    left, right = snapshot(a, user_id), snapshot(b, user_id)
    for table in left:
        assert left[table] == right[table], f"{table} differs"
    return left


def pending(db: Any) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                text("select count(*) from public.sync_changes where pending")
            ).scalar_one()
        )


def add_track(db: Any, uid: uuid.UUID, **cols: Any) -> uuid.UUID:
    tid = cols.pop("id", None) or uuid.uuid4()
    values = {"url": f"file:///tmp/{tid}.wav", "duration": 30, "mode": "radio", **cols}
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    with db.user_session(uid) as s:
        s.execute(
            text(
                f"insert into generated_tracks (id, user_id, {names}) values (:id, :uid, {params})"
            ),
            {"id": tid, "uid": uid, **values},
        )
    return tid


def add_playlist(
    db: Any, uid: uuid.UUID, name: str, tracks: list[Any] | None = None, is_public: bool = False
) -> uuid.UUID:
    pid = uuid.uuid4()
    with db.user_session(uid) as s:
        s.execute(
            text(
                "insert into user_playlists (id, user_id, name, tracks, is_public) "
                "values (:i, :u, :n, cast(:t as jsonb), :p)"
            ),
            {"i": pid, "u": uid, "n": name, "t": json.dumps(tracks or []), "p": is_public},
        )
    return pid


def add_history(db: Any, uid: uuid.UUID, n: int, prefix: str = "song") -> None:
    with db.user_session(uid) as s:
        s.execute(
            text(
                "insert into user_history (user_id, platform, track_name, artist) "
                "select :u, 'infinite', :p || g, 'artist ' || g from generate_series(1, :n) g"
            ),
            {"u": uid, "p": prefix, "n": n},
        )


def run_sql(db: Any, uid: uuid.UUID, sql: str, **params: Any) -> None:
    with db.user_session(uid) as s:
        s.execute(text(sql), params)


def edit_with_clock(db: Any, table: str, key: uuid.UUID, minutes: float, **cols: Any) -> None:
    """Change a row as a device whose clock is ``minutes`` off would (updated_at skewed)."""
    sets = ", ".join(f"{c} = :{c}" for c in cols)
    with db.engine.begin() as conn:
        # The updated_at trigger stands aside in sync mode, so the skewed time is kept...
        conn.execute(text("select set_config('infinite.sync_mode', 'pull', true)"))
        conn.execute(
            text(
                f"update public.{table} set {sets}, "
                f"updated_at = now() + make_interval(secs => :skew) where id = :k"
            ),
            {**cols, "skew": minutes * 60, "k": key},
        )
        # ... and the change is marked as a local one, as the app's own write would be.
        conn.execute(
            text("update public.sync_changes set pending = true where row_key = :k"),
            {"k": str(key)},
        )


def one(db: Any, sql: str, **params: Any) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()

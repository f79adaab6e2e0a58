"""The shared catalogue (``embeddings``) arrives through sync, in the device's embedding
space only, over both transports, keyed by a cursor that never skips a slow writer and
makes a sync with nothing new one call (``db/sync/catalogue.py``)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from db.sync import SyncError, sync
from db.sync import catalogue as catalogue_mod
from db.sync.remote import DirectRemote
from player.embedding.store import store_vector
from player.similarity import similar_tracks
from tests.supabase_stub.data_api import claims_for

SPACE = "descriptor-v1"
OTHER = "mert-v1-95m"


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(768)
    return (v / np.linalg.norm(v)).astype(np.float32)


def put(db: Any, track_id: str, space: str = SPACE, seed: int = 0, **kw: Any) -> None:
    with db.service_session() as s:
        store_vector(
            s,
            track_id=track_id,
            track_name=kw.get("name", track_id),
            artist="a",
            vector=unit(seed),
            space=space,
            source=kw.get("source", "musicbrainz"),
            genre=kw.get("genre"),
        )


def held(db: Any) -> dict[str, tuple[str, str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("select track_id, embedding_space, source, track_name from embeddings")
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


def listener(db: Any, space: str | None = SPACE) -> uuid.UUID:
    """A local account whose taste vector is in ``space`` (what the taste rebuild leaves)."""
    uid = uuid.uuid4()
    with db.user_session(uid) as s:
        s.execute(
            text(
                "insert into users (id, email, taste_vector, embedding_space) "
                "values (:i, :e, cast(:v as vector), :s)"
            ),
            {
                "i": uid,
                "e": f"{uid.hex[:8]}@example.com",
                "v": None if space is None else str(unit(99).tolist()),
                "s": space,
            },
        )
    return uid


class Counting:
    """The direct transport, counting the calls of each function (nothing is replaced)."""

    def __init__(self, inner: DirectRemote) -> None:
        self.inner = inner
        self.key = inner.key
        self.calls: dict[str, int] = {}

    def call(self, fn: str, **params: Any) -> Any:
        self.calls[fn] = self.calls.get(fn, 0) + 1
        return self.inner.call(fn, **params)


def test_direct_sync_pulls_its_space_only_pages_and_keeps_local_files(
    database: Any, private_remote: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_mod, "PAGE", 2)
    for i in range(5):
        put(private_remote, f"mb-{i}", seed=i, genre=["ambient"] if i == 0 else None)
    put(private_remote, "mert-only", OTHER, seed=9)
    put(private_remote, "clash", seed=10, name="shared name")
    put(database, "clash", seed=11, name="my file", source="local")
    uid = listener(database)

    remote = Counting(DirectRemote(private_remote, uid, "direct test"))
    first = sync(database, remote, uid)
    assert first.errors == []
    assert first.catalogue == 5  # mb-0..4; "clash" came but the listener's file stays
    local = held(database)
    assert "mert-only" not in local  # another space: never pulled
    assert all(local[f"mb-{i}"][:2] == (SPACE, "musicbrainz") for i in range(5))
    assert local["clash"] == (SPACE, "local", "my file")
    # pages of 2 over the 6 rows of the space (plus the empty page that ends the window)
    assert remote.calls["catalogue_pull"] == 4
    with database.engine.connect() as conn:
        genre = conn.execute(text("select genre from embeddings where track_id = 'mb-0'"))
        assert genre.scalar_one() == ["ambient"]
    with database.user_session(uid) as s:
        assert similar_tracks(s, unit(3), 1, SPACE)[0].track_id == "mb-3"

    # Nothing new: one call, nothing taken.
    remote.calls.clear()
    again = sync(database, remote, uid)
    assert (again.catalogue, remote.calls["catalogue_pull"]) == (0, 1)

    # A re-embedded entry and a new one come with the next sync; nothing else does.
    put(private_remote, "mb-2", seed=42)
    put(private_remote, "mb-new", seed=12)
    put(private_remote, "mert-new", OTHER, seed=13)
    third = sync(database, remote, uid)
    assert third.catalogue == 2
    with database.user_session(uid) as s:
        assert similar_tracks(s, unit(42), 1, SPACE)[0].track_id == "mb-2"
        assert similar_tracks(s, unit(12), 1, SPACE)[0].track_id == "mb-new"
    assert "mert-new" not in held(database)

    # An entry renamed on the shared side (same id, new track_id) replaces its old copy.
    with private_remote.service_session() as s:
        s.execute(text("update embeddings set track_id = 'mb-0-renamed' where track_id = 'mb-0'"))
    assert sync(database, remote, uid).catalogue == 1
    local = held(database)
    assert "mb-0-renamed" in local and "mb-0" not in local


def test_a_slow_writer_on_the_shared_side_is_not_skipped(
    database: Any, private_remote: Any
) -> None:
    """An entry whose transaction began before others but commits after them is older by
    ``created_at`` than entries committed meanwhile: a cursor on ``created_at`` would take
    those and skip it for ever. The window ends at the oldest open transaction, so later
    entries wait one sync and then all arrive."""
    uid = listener(database)
    remote = DirectRemote(private_remote, uid, "direct test")
    with private_remote.engine.connect() as slow:
        slow.execute(
            text(
                "insert into embeddings (track_id, track_name, artist, vector, source, "
                "embedding_space) values ('slow', 'slow', 'a', cast(:v as vector), "
                "'musicbrainz', :s)"
            ),
            {"v": str(unit(7).tolist()), "s": SPACE},
        )
        put(private_remote, "quick", seed=8)  # committed while "slow" is still open
        first = sync(database, remote, uid)
        assert first.catalogue == 0 and held(database) == {}
        slow.commit()
    second = sync(database, remote, uid)
    assert second.catalogue == 2 and set(held(database)) == {"slow", "quick"}


class BreaksAfter(Counting):
    """The direct transport, losing the connection at the n-th catalogue call."""

    def __init__(self, inner: DirectRemote, n: int) -> None:
        super().__init__(inner)
        self.n = n

    def call(self, fn: str, **params: Any) -> Any:
        if fn == "catalogue_pull" and self.calls.get(fn, 0) + 1 == self.n:
            raise OperationalError("select public.catalogue_pull(...)", {}, Exception("gone"))
        return super().call(fn, **params)


def test_a_pull_cut_short_resumes_where_it_stopped(
    database: Any, private_remote: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_mod, "PAGE", 2)
    for i in range(5):  # five transactions
        put(private_remote, f"r-{i}", seed=i)
    uid = listener(database)
    broken = BreaksAfter(DirectRemote(private_remote, uid, "direct test"), n=2)
    with pytest.raises(SyncError):
        sync(database, broken, uid)
    assert set(held(database)) == {"r-0", "r-1"}  # the first page was kept
    again = sync(database, DirectRemote(private_remote, uid, "direct test"), uid)
    # from r-1's transaction on: r-1 once more, then r-2..r-4; not all five again
    assert again.catalogue == 4
    assert set(held(database)) == {f"r-{i}" for i in range(5)}


def test_no_taste_yet_pulls_nothing_and_an_explicit_space_wins(
    database: Any, private_remote: Any
) -> None:
    put(private_remote, "d", seed=1)
    put(private_remote, "m", OTHER, seed=2)
    uid = listener(database, space=None)
    remote = DirectRemote(private_remote, uid, "direct test")
    assert sync(database, remote, uid).catalogue == 0
    assert held(database) == {}
    got = sync(database, remote, uid, catalogue_space=OTHER)
    assert got.catalogue == 1 and set(held(database)) == {"m"}


def test_the_catalogue_arrives_through_the_data_api(
    supabase: Any, database: Any, tmp_path: Path
) -> None:
    from player.account import Account, AccountConfig, FileVault

    shared = supabase.db
    put(shared, "api-1", seed=1)
    put(shared, "api-2", seed=2)
    put(shared, "api-mert", OTHER, seed=3)
    account = Account(
        AccountConfig(supabase.url, supabase.anon_key),
        vault=FileVault(tmp_path / "k" / "s.bin", tmp_path / "k" / "s.key"),
        lock_path=tmp_path / "s.lock",
    )
    account.send_code("cat@example.com")
    uid = uuid.UUID(
        account.verify_code("cat@example.com", supabase.last_code("cat@example.com")).user_id
    )
    with database.user_session(uid) as s:
        s.execute(
            text("insert into users (id, email, embedding_space) values (:i, :e, :s)"),
            {"i": uid, "e": "cat@example.com", "s": SPACE},
        )
    first = sync(database, account.remote(), uid)
    assert first.errors == [] and first.catalogue == 2
    assert set(held(database)) == {"api-1", "api-2"}
    assert sync(database, account.remote(), uid).catalogue == 0
    # Public read, as the spec says: the anonymous role may call it too, and sees the same.
    got = _anon_pull(supabase)
    assert {r["track_id"] for r in got["rows"]} == {"api-1", "api-2"}
    assert got["deleted"] == []

    # A deletion on the shared side reaches the device through the Data API too.
    gone_id = next(r["id"] for r in got["rows"] if r["track_id"] == "api-1")
    shared_sql(shared, "delete from embeddings where track_id = 'api-1'")
    after = sync(database, account.remote(), uid)
    assert after.errors == [] and (after.catalogue, after.catalogue_deleted) == (0, 1)
    assert set(held(database)) == {"api-2"}
    assert _anon_pull(supabase)["deleted"] == [gone_id]


def _anon_pull(stub: Any) -> Any:
    return stub.api.rpc(
        claims_for(None, "anon"),
        "catalogue_pull",
        {
            "p_space": SPACE,
            "p_lo": "0",
            "p_hi": None,
            "p_after_tx": None,
            "p_after_id": None,
            "p_limit": 100,
        },
    )


def shared_sql(db: Any, sql: str, **params: Any) -> None:
    """A change on the shared side by its owner (the service role's deletions look the
    same to the trigger)."""
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_entries_deleted_or_moved_on_the_shared_side_leave_the_device(
    database: Any, private_remote: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_mod, "PAGE", 2)
    for i in range(6):
        put(private_remote, f"d-{i}", seed=i)
    put(private_remote, "clash", seed=10)
    put(database, "clash", seed=11, name="my file", source="local")
    uid = listener(database)
    remote = Counting(DirectRemote(private_remote, uid, "direct test"))
    assert sync(database, remote, uid).catalogue == 6
    assert set(held(database)) == {f"d-{i}" for i in range(6)} | {"clash"}

    # Deleted (two in one transaction, one alone), moved to another space, moved away and
    # back, deleted and re-added under the same track_id (a new id), and the shared entry
    # that shares its track_id with the listener's own file.
    shared_sql(private_remote, "delete from embeddings where track_id in ('d-0', 'd-1')")
    shared_sql(private_remote, "delete from embeddings where track_id = 'd-2'")
    shared_sql(
        private_remote, "update embeddings set embedding_space = :o where track_id = 'd-3'", o=OTHER
    )
    shared_sql(
        private_remote, "update embeddings set embedding_space = :o where track_id = 'd-4'", o=OTHER
    )
    shared_sql(
        private_remote, "update embeddings set embedding_space = :s where track_id = 'd-4'", s=SPACE
    )
    shared_sql(private_remote, "delete from embeddings where track_id = 'd-5'")
    put(private_remote, "d-5", seed=55)
    shared_sql(private_remote, "delete from embeddings where track_id = 'clash'")

    remote.calls.clear()
    got = sync(database, remote, uid)
    assert got.errors == []
    local = held(database)
    assert set(local) == {"d-4", "d-5", "clash"}
    assert local["clash"] == (SPACE, "local", "my file")  # the listener's file stays
    # d-0, d-1, d-2 deleted, d-3 moved away, d-5's old copy; d-4 came back (no tombstone
    # sent, its row again)
    assert got.catalogue_deleted == 5
    assert got.catalogue == 2  # d-4 re-stamped by its move back, d-5 re-added
    with database.user_session(uid) as s:
        assert similar_tracks(s, unit(55), 1, SPACE)[0].track_id == "d-5"
    # d-5's copy here carries the shared id of the new entry, so deleting that one removes it
    shared_sql(private_remote, "delete from embeddings where track_id = 'd-5'")
    again = sync(database, remote, uid)
    assert (again.catalogue, again.catalogue_deleted) == (0, 1)
    assert set(held(database)) == {"d-4", "clash"}

    # Nothing new: still one call answering an empty page.
    remote.calls.clear()
    quiet = sync(database, remote, uid)
    assert (quiet.catalogue, quiet.catalogue_deleted, remote.calls["catalogue_pull"]) == (0, 0, 1)


def test_the_listeners_own_files_leave_no_tombstone(database: Any) -> None:
    """Tombstones are public: a file of the listener's (``local:<path>``) never writes one,
    and a tombstone holds no name or path, only the id and the space."""
    put(database, "local:/home/me/secret.flac", seed=1, source="local")
    put(database, "mb-x", seed=2)
    with database.engine.begin() as conn:
        conn.execute(text("delete from embeddings"))
        rows = conn.execute(text("select * from embeddings_deleted")).mappings().all()
    assert len(rows) == 1 and set(rows[0]) == {
        "id",
        "embedding_space",
        "deleted_txid",
        "deleted_at",
    }
    assert rows[0]["embedding_space"] == SPACE

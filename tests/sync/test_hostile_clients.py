"""A modified client with a valid token for user B, against the real PostgreSQL, reached the
way PostgREST reaches it: as ``authenticator``, ``SET LOCAL ROLE`` from the token's role
claim, the claims in ``request.jwt.claims``, one transaction per call
(``tests/supabase_stub/data_api.py``). Every call a client can make goes through the sync
functions of migration 20261129130000, so each is tried with payloads B chose."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.sync.tables import BY_NAME, SYNCED_TABLES
from tests.supabase_stub.data_api import claims_for
from tests.sync.conftest import ApiDatabase

FUTURE = (datetime.now(UTC) + timedelta(days=365)).isoformat()
#: band_tracks is readable by everyone by the shared schema's contract ("Band tracks are
#: public": which track is in which band), so it is not private data; writes are still
#: the band owner's only (checked below with the others).
PRIVATE_TABLES = [t.name for t in SYNCED_TABLES if t.name != "band_tracks"]
ALL_TABLES = [t.name for t in SYNCED_TABLES]


def _user(api_db: ApiDatabase, email: str) -> uuid.UUID:
    uid = uuid.uuid4()
    with api_db.db.user_session(uid) as s:
        s.execute(text("insert into users (id, email) values (:i, :e)"), {"i": uid, "e": email})
    return uid


def _alice_rows(api_db: ApiDatabase, alice: uuid.UUID) -> dict[str, str]:
    """One private row of Alice's in every synced table; ``{table: row key}``."""
    band, track, pl = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    lib, hist = uuid.uuid4(), uuid.uuid4()
    with api_db.db.user_session(alice) as s:
        s.execute(
            text("insert into bands (id, user_id, name, is_public) values (:b, :u, 'mine', false)"),
            {"b": band, "u": alice},
        )
        s.execute(
            text(
                "insert into generated_tracks (id, user_id, url, duration, mode) "
                "values (:t, :u, 'file:///a.wav', 30, 'radio')"
            ),
            {"t": track, "u": alice},
        )
        s.execute(
            text("insert into band_tracks (band_id, track_id) values (:b, :t)"),
            {"b": band, "t": track},
        )
        s.execute(
            text(
                "insert into user_playlists (id, user_id, name, tracks, is_public) "
                "values (:p, :u, 'secret', '[]', false)"
            ),
            {"p": pl, "u": alice},
        )
        s.execute(
            text("insert into user_library (id, user_id, track_id) values (:l, :u, :t)"),
            {"l": lib, "u": alice, "t": track},
        )
        s.execute(
            text("insert into user_follows (user_id, band_id) values (:u, :b)"),
            {"u": alice, "b": band},
        )
        s.execute(
            text(
                "insert into user_history (id, user_id, platform, track_name, artist) "
                "values (:h, :u, 'infinite', 'song', 'artist')"
            ),
            {"h": hist, "u": alice},
        )
    _save_listener_model(api_db, alice)
    return {
        "users": str(alice),
        "bands": str(band),
        "generated_tracks": str(track),
        "band_tracks": f"{band}/{track}",
        "user_playlists": str(pl),
        "user_library": str(lib),
        "user_follows": f"{alice}/{band}",
        "user_history": str(hist),
        "listener_models": str(alice),
    }


def _save_listener_model(api_db: ApiDatabase, uid: uuid.UUID) -> None:
    with api_db.db.engine.connect() as conn:
        cols = conn.execute(
            text(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'public' and table_name = 'listener_models' "
                "and is_nullable = 'NO' and column_default is null"
            )
        ).all()
    values = {"user_id": uid}
    samples = {"jsonb": "{}", "bytea": b"x", "text": "x", "integer": 1, "double precision": 1.0}
    for name, kind in cols:
        if name != "user_id":
            values[name] = samples.get(kind, "x")
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    with api_db.db.user_session(uid) as s:
        s.execute(text(f"insert into listener_models ({names}) values ({params})"), values)


def _everything(api_db: ApiDatabase, keys: dict[str, str]) -> dict[str, Any]:
    """Alice's rows as the owner sees them (RLS aside): what must not change."""
    out = {}
    with api_db.db.engine.connect() as conn:
        for table, key in keys.items():
            spec = BY_NAME[table]
            out[table] = conn.execute(
                text(
                    f"select to_jsonb(t.*) from public.{table} t where {spec.match_sql('t', 'k')}"
                ),
                {"k": [key]},
            ).scalar()
    return out


def _call(api_db: ApiDatabase, claims: dict[str, Any], fn: str, **args: Any) -> Any:
    return api_db.api.rpc(claims, fn, args)


@pytest.fixture
def two_users(api_database: ApiDatabase) -> tuple[ApiDatabase, uuid.UUID, uuid.UUID, dict]:
    alice = _user(api_database, "alice@example.com")
    bob = _user(api_database, "bob@example.com")
    keys = _alice_rows(api_database, alice)
    return api_database, alice, bob, keys


def test_bob_reads_none_of_alices_rows_through_any_function(two_users: Any) -> None:
    api_db, alice, bob, keys = two_users
    as_bob = claims_for(bob)
    begun = _call(api_db, as_bob, "sync_begin", p_lo="1", p_device="bob")
    assert begun["user"]["id"] == str(bob)
    for table in PRIVATE_TABLES:
        page = _call(
            api_db, as_bob, "sync_pull", p_table=table, p_lo="1", p_hi=begun["hi"],
            p_device="bob", p_after_tx="0", p_after_key="", p_limit=1000,
        )  # fmt: skip
        assert keys[table] not in {e["row_key"] for e in page["entries"]}, table
        assert keys[table] not in page["rows"], table
        got = _call(api_db, as_bob, "sync_rows", p_table=table, p_keys=[keys[table]], p_probes=[])
        assert got["found"] == {}, table
    # The natural-key probe (a twin under another id) cannot fish Alice's rows out either,
    # not even with her user_id forged into the probe.
    probe = {"user_id": str(alice), "platform": "infinite", "track_name": "song"}
    twins = _call(
        api_db, as_bob, "sync_rows", p_table="user_history", p_keys=[],
        p_probes=[{"row_key": str(uuid.uuid4()), "row": {**probe, "artist": "artist"}}],
    )  # fmt: skip
    assert twins["twins"] == {}
    # Alice herself sees them all (the same calls do work).
    as_alice = claims_for(alice)
    for table in PRIVATE_TABLES:
        got = _call(api_db, as_alice, "sync_rows", p_table=table, p_keys=[keys[table]], p_probes=[])
        assert keys[table] in got["found"], table


def _forged_row(table: str, alice_row: dict[str, Any], owner: uuid.UUID) -> dict[str, Any]:
    row = dict(alice_row)
    for col in ("user_id",):
        if col in row:
            row[col] = str(owner)
    if "name" in row:
        row["name"] = "pwned"
    if "email" in row:
        row["email"] = "pwned@example.com"
    if "updated_at" in row:
        row["updated_at"] = FUTURE
    return row


@pytest.mark.parametrize("forge_owner", [False, True], ids=["alices-user-id", "bobs-user-id"])
def test_bob_can_neither_change_nor_delete_alices_rows(two_users: Any, forge_owner: bool) -> None:
    api_db, alice, bob, keys = two_users
    before = _everything(api_db, keys)
    as_bob = claims_for(bob)
    for table in ALL_TABLES:
        row = _forged_row(table, before[table], bob if forge_owner else alice)
        entry = {"row_key": keys[table], "version_at": FUTURE, "row": row}
        try:
            taken = _call(
                api_db, as_bob, "sync_push", p_table=table, p_op="upsert",
                p_entries=[entry], p_device="bob",
            )  # fmt: skip
        except DBAPIError:
            taken = []  # refused outright (RLS WITH CHECK / USING): the call rolled back
        assert keys[table] not in taken, table
        _call(
            api_db, as_bob, "sync_push", p_table=table, p_op="delete",
            p_entries=[{"row_key": keys[table], "version_at": FUTURE}], p_device="bob",
        )  # fmt: skip
    assert _everything(api_db, keys) == before
    # Bob's feed entries are his own only: nothing he did touched Alice's.
    with api_db.db.engine.connect() as conn:
        stolen = conn.execute(
            text("select count(*) from sync_changes where user_id = :a and origin = 'bob'"),
            {"a": alice},
        ).scalar_one()
    assert stolen == 0


def test_the_functions_take_no_sql_from_the_caller(two_users: Any) -> None:
    api_db, _alice, bob, _keys = two_users
    as_bob = claims_for(bob)
    for table in ("users; set role service_role", 'users" t; --', "sync_changes", "pg_authid"):
        with pytest.raises(DBAPIError, match="is not a synced table"):
            _call(api_db, as_bob, "sync_rows", p_table=table, p_keys=[], p_probes=[])
    with pytest.raises(DBAPIError, match="op must be upsert or delete"):
        _call(
            api_db, as_bob, "sync_push", p_table="users", p_op="truncate",
            p_entries=[], p_device="x",
        )  # fmt: skip


def test_anon_reads_nothing_private(two_users: Any) -> None:
    api_db, alice, _bob, keys = two_users
    anon = claims_for(None, "anon")
    for fn, args in [
        ("sync_begin", {"p_lo": "1", "p_device": "x"}),
        ("sync_rows", {"p_table": "users", "p_keys": [str(alice)], "p_probes": []}),
        ("sync_schema", {}),
        ("sync_knows_device", {"p_device": "x"}),
    ]:
        with pytest.raises(DBAPIError, match="permission denied for function"):
            _call(api_db, anon, fn, **args)
    # The tables themselves, as PostgREST would serve GET /rest/v1/<table> to anon: no row
    # of Alice's, or no access at all.
    for table in [*PRIVATE_TABLES, "sync_changes", "sync_state", "sync_conflicts"]:
        try:
            with api_db.api.request(anon) as conn:
                seen = conn.execute(text(f"select count(*) from public.{table}")).scalar_one()
        except DBAPIError as exc:
            assert "permission denied" in str(exc), table
            continue
        assert seen == 0, table
    with api_db.api.request(anon) as conn:
        assert conn.execute(text("select count(*) from storage.objects")).scalar_one() == 0
    assert keys  # Alice's rows exist (checked by the owner in the other tests)


def test_authenticated_cannot_become_service_role_or_the_owner(two_users: Any) -> None:
    """A token's role claim is all PostgREST switches on, so the tokens must say
    'authenticated'; inside, the role is not a member of service_role or the owner."""
    api_db, _alice, bob, _keys = two_users
    with api_db.api.request(claims_for(bob)) as conn:
        assert conn.execute(text("select current_user")).scalar_one() == "authenticated"
        member = conn.execute(
            text(
                "select pg_has_role('authenticated', 'service_role', 'member'), "
                "pg_has_role('authenticated', :o, 'member')"
            ),
            {"o": api_db.db.url.username},
        ).one()
    assert tuple(member) == (False, False)
    owner = api_db.db.url.username
    refused = pytest.raises(DBAPIError, match="permission denied to set role")
    with refused, api_db.api.request(claims_for(bob)) as conn:
        conn.exec_driver_sql(f'set local role "{owner}"')
    # A claim naming the owner is refused by the database itself (authenticator is not a
    # member of it); a claim naming service_role only comes from a token signed with the
    # project's secret, which the stub server refuses otherwise (test_supabase_stub.py).
    with pytest.raises(DBAPIError, match="permission denied to set role"):
        _call(api_db, {"role": owner, "sub": str(bob)}, "sync_schema")


def test_a_push_cannot_set_premium_daily_count_or_band_counters(two_users: Any) -> None:
    api_db, alice, _bob, keys = two_users
    as_alice = claims_for(alice)
    me = _everything(api_db, {"users": keys["users"], "bands": keys["bands"]})
    user_row = {**me["users"], "premium": True, "daily_count": 999, "updated_at": FUTURE}
    user_row["email"] = "new@example.com"
    taken = _call(
        api_db, as_alice, "sync_push", p_table="users", p_op="upsert",
        p_entries=[{"row_key": str(alice), "version_at": FUTURE, "row": user_row}],
        p_device="a",
    )  # fmt: skip
    assert taken == [str(alice)]  # the row was taken ...
    band_row = {**me["bands"], "track_count": 999, "follower_count": 999, "updated_at": FUTURE}
    _call(
        api_db, as_alice, "sync_push", p_table="bands", p_op="upsert",
        p_entries=[{"row_key": keys["bands"], "version_at": FUTURE, "row": band_row}],
        p_device="a",
    )  # fmt: skip
    after = _everything(api_db, {"users": keys["users"], "bands": keys["bands"]})
    assert after["users"]["email"] == "new@example.com"  # ... the user's columns changed
    assert after["users"]["premium"] == me["users"]["premium"]  # ... the server's did not
    assert after["users"]["daily_count"] == me["users"]["daily_count"]
    assert after["bands"]["track_count"] == me["bands"]["track_count"] == 1
    assert after["bands"]["follower_count"] == me["bands"]["follower_count"] == 1


def test_storage_policies_keep_each_users_audio_folder_their_own(two_users: Any) -> None:
    api_db, alice, bob, _keys = two_users
    with api_db.api.request(claims_for(alice)) as conn:
        conn.execute(
            text("insert into storage.objects (bucket_id, name, owner) values ('tracks', :n, :o)"),
            {"n": f"{alice}/t.wav", "o": alice},
        )
    with api_db.api.request(claims_for(bob)) as conn:
        assert conn.execute(text("select count(*) from storage.objects")).scalar_one() == 0
        gone = conn.execute(text("delete from storage.objects returning name")).all()
        assert gone == []
    for name in (f"{alice}/evil.wav", "t.wav", f"{bob}"):
        refused = pytest.raises(DBAPIError, match="row-level security")
        with refused, api_db.api.request(claims_for(bob)) as conn:
            conn.execute(
                text(
                    "insert into storage.objects (bucket_id, name, owner) values ('tracks', :n, :o)"
                ),
                {"n": name, "o": bob},
            )
    with api_db.api.request(claims_for(bob)) as conn:  # his own folder is fine
        conn.execute(
            text("insert into storage.objects (bucket_id, name, owner) values ('tracks', :n, :o)"),
            {"n": f"{bob}/t.wav", "o": bob},
        )
    with api_db.db.engine.connect() as conn:
        names = conn.execute(text("select name from storage.objects order by name")).scalars()
        assert sorted(names) == sorted([f"{alice}/t.wav", f"{bob}/t.wav"])


def test_sql_table_facts_match_tables_py(api_database: ApiDatabase) -> None:
    """The functions carry their own copy of db/sync/tables.py (server-owned columns above
    all); the two must never drift apart."""
    with api_database.db.engine.connect() as conn:
        for spec in SYNCED_TABLES:
            s = conn.execute(text("select public.sync_spec(:t)"), {"t": spec.name}).scalar_one()
            assert s["pk"] == list(spec.pk), spec.name
            assert s["updated_at"] == spec.updated_at, spec.name
            assert s["updatable"] == spec.updatable, spec.name
            assert s["server_columns"] == list(spec.server_columns), spec.name
            assert s["natural_key"] == list(spec.natural_key), spec.name


def test_no_callable_function_lets_a_caller_change_role(two_users: Any) -> None:
    """Why the Data API matters: in PostgreSQL, SET ROLE checks the SESSION user, and the
    session user is ``authenticator``, a member of service_role. SQL running as
    'authenticated' inside such a session can switch to service_role — so a client must
    never run SQL of its own. Over the Data API it can only call the functions of the
    exposed schema; these are they, and none of them switches role or runs caller text."""
    api_db, _alice, bob, _keys = two_users
    with api_db.api.request(claims_for(bob)) as conn:
        conn.exec_driver_sql("set local role service_role")  # the PostgreSQL rule above
        assert conn.execute(text("select current_user")).scalar_one() == "service_role"
    with api_db.db.engine.connect() as conn:
        callable_fns = conn.execute(
            text(
                "select p.proname, p.prosecdef, p.prosrc from pg_proc p "
                "join pg_namespace n on n.oid = p.pronamespace "
                "where n.nspname = 'public' and p.prokind = 'f' "
                "and p.prorettype <> 'trigger'::regtype "
                "and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass "
                "  and d.objid = p.oid and d.deptype = 'e') "
                "and (has_function_privilege('authenticated', p.oid, 'execute') "
                "  or has_function_privilege('anon', p.oid, 'execute'))"
            )
        ).all()
    names = {r.proname for r in callable_fns}
    assert names == {
        "catalogue_pull",  # public read of the shared catalogue (embeddings are public)
        "sync_begin",
        "sync_knows_device",
        "sync_pull",
        "sync_push",
        "sync_rows",
        "sync_schema",
        "sync_spec",
    }
    for fn in callable_fns:
        body = fn.prosrc.lower()
        assert "set role" not in body and "set local role" not in body, fn.proname
        assert "'role'" not in body, fn.proname
    # The one SECURITY DEFINER among them only reads the migration ledger.
    assert {r.proname for r in callable_fns if r.prosecdef} == {"sync_schema"}


def test_one_call_is_one_transaction(two_users: Any) -> None:
    """A batch with one row RLS refuses is refused whole: Bob's own row in the same call is
    not stored either (the Syncer then retries row by row)."""
    api_db, alice, bob, keys = two_users
    mine = uuid.uuid4()
    rows = [
        {"id": str(mine), "user_id": str(bob), "name": "bob's", "tracks": [], "updated_at": FUTURE},
        {"id": str(uuid.uuid4()), "user_id": str(alice), "name": "as alice", "tracks": []},
    ]
    with pytest.raises(DBAPIError, match="row-level security"):
        _call(
            api_db, claims_for(bob), "sync_push", p_table="user_playlists", p_op="upsert",
            p_entries=[{"row_key": r["id"], "version_at": FUTURE, "row": r} for r in rows],
            p_device="bob",
        )  # fmt: skip
    assert one_value(api_db, "select count(*) from user_playlists where id = :i", i=mine) == 0
    assert keys


def one_value(api_db: ApiDatabase, sql: str, **params: Any) -> Any:
    with api_db.db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()

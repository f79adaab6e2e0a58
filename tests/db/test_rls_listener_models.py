"""RLS of ``listener_models`` (the radio's listener model), cell by cell as in the matrix.

Actors as in ``test_rls_matrix.py``: the row's owner, another signed-in user, anon, and
service_role, each cell in its own rolled-back transaction. "Insert" as another user means
inserting a row that carries the owner's user_id. Insert cells use an owner who has no row
yet (the row is one per user), the other cells the seeded row.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.db.rls import attempt

ACTORS = ("owner", "other", "anon", "service")
SQL = {
    "select": "select state from listener_models where user_id = :uid",
    "insert": "insert into listener_models (user_id, state, embedding_space) "
    "values (:uid, '{\"stolen\": true}', 'descriptor-v1') returning 1",
    "update": "update listener_models set state = '{\"planted\": true}' where user_id = :uid",
    "delete": "delete from listener_models where user_id = :uid",
}
Y, N = True, False
EXPECTED = {
    "select": (Y, N, N, Y),
    "insert": (Y, N, N, Y),
    "update": (Y, N, N, Y),
    "delete": (Y, N, N, Y),
}


@pytest.fixture
def seeded(database, make_user):
    owner, other, newcomer = make_user(), make_user(), make_user()
    with database.service_session() as s:
        s.execute(
            text(
                "insert into listener_models (user_id, state, embedding_space) "
                "values (:o, '{\"genres\": {\"house\": 2.0}}', 'descriptor-v1')"
            ),
            {"o": owner},
        )
    return {"owner": owner, "other": other, "newcomer": newcomer}


def test_listener_models_rls_matrix(database, seeded):
    wrong = []
    for op, expected in EXPECTED.items():
        row_owner = seeded["newcomer"] if op == "insert" else seeded["owner"]
        for i, actor in enumerate(ACTORS):
            actor_id = row_owner if actor == "owner" else seeded.get(actor)
            got = attempt(database, actor, actor_id, SQL[op], uid=row_owner)
            if got != expected[i]:
                wrong.append(
                    f"listener_models.{op} as {actor}: {'allowed' if got else 'denied'}, "
                    f"expected {'allowed' if expected[i] else 'denied'}"
                )
    assert not wrong, "\n".join(wrong)


def test_another_user_cannot_take_over_the_row(database, seeded):
    """Not by moving their own row onto the owner's id, nor by an upsert on it."""
    with database.service_session() as s:
        s.execute(text("insert into listener_models (user_id) values (:u)"), {"u": seeded["other"]})
    assert not attempt(
        database,
        "other",
        seeded["other"],
        "update listener_models set user_id = :uid where user_id = :me",
        uid=seeded["owner"],
        me=seeded["other"],
    )
    assert not attempt(
        database,
        "other",
        seeded["other"],
        "insert into listener_models (user_id, state) values (:uid, '{}') "
        "on conflict (user_id) do update set state = excluded.state returning 1",
        uid=seeded["owner"],
    )
    with database.service_session() as s:
        state = s.execute(
            text("select state from listener_models where user_id = :u"), {"u": seeded["owner"]}
        ).scalar_one()
    assert state == {"genres": {"house": 2.0}}


def test_anon_has_no_privilege_at_all(database, seeded):
    """Not merely no rows: the table is closed to anon, as on Supabase after the revoke."""
    with database.engine.connect() as conn:
        privileges = conn.execute(
            text(
                "select privilege_type from information_schema.role_table_grants "
                "where table_name = 'listener_models' and grantee = 'anon'"
            )
        ).all()
    assert privileges == []

"""The same flow against a real Supabase project, when one is given; skipped otherwise.

Needs ``SUPABASE_TEST_URL`` and ``SUPABASE_TEST_ANON_KEY`` (the publishable key) of a
project with this app's migrations applied (``supabase db push``). Users are signed in
anonymously (enable "Anonymous sign-ins" in Auth settings), or with
``SUPABASE_TEST_EMAIL``/``SUPABASE_TEST_PASSWORD`` (and ``..._EMAIL2``/``..._PASSWORD2``
for the second user) when set. Email codes cannot be read by a test, so the code flow
itself is covered by the loopback tests only.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from db.sync import sync
from player.account import Account, AccountConfig, FileVault
from tests.sync.helpers import add_playlist

URL = os.environ.get("SUPABASE_TEST_URL", "")
KEY = os.environ.get("SUPABASE_TEST_ANON_KEY", "")
pytestmark = pytest.mark.skipif(
    not (URL and KEY), reason="set SUPABASE_TEST_URL and SUPABASE_TEST_ANON_KEY to run"
)


def _signed_in(tmp_path: Path, n: int) -> tuple[Account, uuid.UUID]:
    keys = tmp_path / f"keys{n}"
    account = Account(
        AccountConfig(URL, KEY), vault=FileVault(keys / "s.bin", keys / "s.key"),
        lock_path=tmp_path / f"lock{n}",
    )  # fmt: skip
    suffix = "" if n == 1 else str(n)
    email = os.environ.get(f"SUPABASE_TEST_EMAIL{suffix}")
    password = os.environ.get(f"SUPABASE_TEST_PASSWORD{suffix}")
    if email and password:
        got = account.client.auth.sign_in_with_password({"email": email, "password": password})
    else:
        got = account.client.auth.sign_in_anonymously()
    who = account.keep_session(got.session)
    return account, uuid.UUID(who.user_id)


def test_sync_and_isolation_on_a_real_project(database: Any, tmp_path: Path) -> None:
    alice_account, alice = _signed_in(tmp_path, 1)
    with database.user_session(alice) as s:
        s.execute(text("insert into users (id, email) values (:i, null)"), {"i": alice})
    pl = add_playlist(database, alice, "real supabase")
    result = sync(database, alice_account.remote(), alice)
    assert result.errors == [] and result.pushed >= 2
    assert sync(database, alice_account.remote(), alice).pushed == 0

    bob_account, bob = _signed_in(tmp_path, 2)
    as_bob = bob_account.remote()
    seen = as_bob.call("sync_rows", p_table="user_playlists", p_keys=[str(pl)], p_probes=[])
    assert seen["found"] == {}
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    forged = {"id": str(pl), "user_id": str(bob), "name": "pwned", "updated_at": future}
    try:
        taken = as_bob.call(
            "sync_push", p_table="user_playlists", p_op="upsert", p_device="bob",
            p_entries=[{"row_key": str(pl), "version_at": future, "row": forged}],
        )  # fmt: skip
    except Exception:
        taken = []
    assert str(pl) not in taken
    mine = alice_account.remote().call(
        "sync_rows", p_table="user_playlists", p_keys=[str(pl)], p_probes=[]
    )
    assert mine["found"][str(pl)]["row"]["name"] == "real supabase"

"""Two app processes needing a fresh token at the same moment never present the same
refresh token (Auth would treat the second use as a stolen token and end the session)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from player.account import Account, AccountConfig, FileVault

CHILD = """
import json, sys, time
from pathlib import Path
from player.account import Account, AccountConfig, FileVault
url, key, keys, lock, go = sys.argv[1:6]
keys = Path(keys)
account = Account(AccountConfig(url, key), vault=FileVault(keys / "s.bin", keys / "s.key"),
                  lock_path=Path(lock))
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.002)
try:
    account.access_token()
    print(json.dumps({"ok": True}), flush=True)
except Exception as exc:
    print(json.dumps({"ok": False, "error": str(exc)}), flush=True)
"""


def test_two_processes_refresh_one_after_the_other(supabase: Any, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    lock = tmp_path / "session.lock"
    account = Account(
        AccountConfig(supabase.url, supabase.anon_key),
        vault=FileVault(keys / "s.bin", keys / "s.key"),
        lock_path=lock,
    )
    account.send_code("hal@example.com")
    account.verify_code("hal@example.com", supabase.last_code("hal@example.com"))
    # Both processes start with no access token of their own, so both must refresh; each
    # refresh takes 0.5 s after the old token is retired, so without the lock the second
    # process would present the same (by then retired) token.
    supabase.refresh_delay = 0.5
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    args = [sys.executable, "-c", CHILD, supabase.url, supabase.anon_key, str(keys), str(lock)]
    children = [
        subprocess.Popen(
            [*args, str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    time.sleep(0.05)
    go.touch()
    results = []
    for child in children:
        out, _err = child.communicate(timeout=60)
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results == [{"ok": True}, {"ok": True}], results
    assert supabase.auth.reused == 0
    assert supabase.auth.refreshes == 2
    # The stored token is the last one issued: this process can still renew.
    account._access = None
    assert account.access_token()

"""Settings → Account with the real supabase-py stack against the loopback Auth/Data API
stand-in: sign in with an emailed code, see who is signed in, sync, sign out — all of it
off the GUI thread."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from player.account import Account, AccountConfig, FileVault
from tests.sync.helpers import add_playlist, one


@pytest.fixture
def tasks():
    from ui.tasks import TaskRunner

    runner = TaskRunner(QApplication.instance())  # real worker threads
    yield runner
    runner.shutdown()


def test_sign_in_sync_and_sign_out_from_settings(
    qtbot: Any, supabase: Any, database: Any, tasks: Any, tmp_path: Path
) -> None:
    from db.sync import sync
    from ui.views.settings_account import AccountBox

    keys = tmp_path / "keys"
    opened: list[str] = []

    def open_account() -> Account:
        import threading

        opened.append(threading.current_thread().name)
        return Account(
            AccountConfig(supabase.url, supabase.anon_key),
            vault=FileVault(keys / "s.bin", keys / "s.key"),
            lock_path=tmp_path / "s.lock",
        )

    def sync_account(account: Account, who: Any) -> Any:
        uid = uuid.UUID(who.user_id)
        if one(database, "select count(*) from users where id = :u", u=uid) == 0:
            with database.user_session(uid) as s:
                s.execute(
                    text("insert into users (id, email) values (:i, :e)"),
                    {"i": uid, "e": who.email},
                )
            add_playlist(database, uid, "made in the app")
        remote = account.remote()
        try:
            return sync(database, remote, uid)
        finally:
            remote.close()

    box = AccountBox(open_account, tasks, sync_account)
    qtbot.addWidget(box)
    box.show()
    qtbot.waitUntil(lambda: box.who.text().startswith("Not signed in"), timeout=10000)
    assert opened and opened[0] != "MainThread"  # built off the GUI thread
    assert not box.sign_out_button.isVisible()

    box.email.setText("joy@example.com")
    # While Auth answers, the buttons say "busy" (the call runs on a worker thread).
    qtbot.mouseClick(box.send_button, Qt.MouseButton.LeftButton)
    assert not box.send_button.isEnabled()
    qtbot.waitUntil(lambda: "A code was sent" in box.message.text(), timeout=10000)
    box.code.setText("000000" if supabase.last_code("joy@example.com") != "000000" else "111111")
    qtbot.mouseClick(box.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not accepted" in box.message.text(), timeout=10000)
    assert box.who.text().startswith("Not signed in")
    box.code.setText(supabase.last_code("joy@example.com"))
    qtbot.mouseClick(box.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.who.text() == "Signed in as joy@example.com", timeout=10000)
    assert box.sign_out_button.isVisible() and not box.email.isEnabled()

    qtbot.mouseClick(box.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.message.text().startswith("Synced:"), timeout=20000)
    assert box.message.text().startswith("Synced: 2 sent, 0 received")
    assert one(supabase.db, "select count(*) from user_playlists") == 1

    qtbot.mouseClick(box.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.who.text().startswith("Not signed in"), timeout=10000)
    assert "Signed out" in box.message.text()
    assert not (keys / "s.bin").exists()


def test_without_a_project_the_box_says_how_to_set_one(qtbot: Any, tasks: Any) -> None:
    from ui.views.settings_account import NOT_CONFIGURED, AccountBox

    box = AccountBox(lambda: None, tasks)
    qtbot.addWidget(box)
    qtbot.waitUntil(lambda: box.who.text() == NOT_CONFIGURED, timeout=10000)
    assert not box.send_button.isEnabled() and not box.sign_out_button.isVisible()

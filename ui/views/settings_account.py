"""Settings → Account: who is signed in to the Supabase project, sign-in with an emailed
code, sign-out, and "Sync now" through the Data API as that account.

A box of its own so the Settings view only places it. Everything that talks to the
network or the keyring (which may block on a D-Bus call) runs off the GUI thread
(:mod:`ui.tasks`); the buttons are disabled while it does, and every outcome is said in
the box.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from ui.tasks import TaskRunner

NOT_CONFIGURED = (
    "No Supabase project is set: fill in the project URL and publishable key below, or set "
    "INFINITE_PLAYER_SUPABASE_URL and INFINITE_PLAYER_SUPABASE_KEY."
)


class AccountBox(QGroupBox):
    """``open_account`` builds the ``player.account.Account`` (None when no project is
    configured); it is called on a worker thread."""

    def __init__(
        self,
        open_account: Callable[[], Any],
        tasks: TaskRunner,
        sync_account: Callable[[Any, Any], Any] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__("Account", parent)
        self._open_account = open_account
        self._tasks = tasks
        self._sync_account = sync_account
        self.account: Any = None
        self.who = QLabel("Checking…")
        self.who.setObjectName("AccountWho")
        self.who.setWordWrap(True)
        self.email = QLineEdit()
        self.email.setPlaceholderText("you@example.com")
        self.email.setAccessibleName("Email address")
        self.send_button = QPushButton("Send code")
        self.send_button.clicked.connect(self.send_code)
        self.code = QLineEdit()
        self.code.setPlaceholderText("6-digit code from the email")
        self.code.setAccessibleName("Sign-in code")
        self.verify_button = QPushButton("Sign in")
        self.verify_button.clicked.connect(self.verify_code)
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.clicked.connect(self.sign_out)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.clicked.connect(self.sync_now)
        self.message = QLabel("")
        self.message.setObjectName("Hint")
        self.message.setWordWrap(True)
        email_row = QHBoxLayout()
        email_row.addWidget(self.email, 1)
        email_row.addWidget(self.send_button)
        code_row = QHBoxLayout()
        code_row.addWidget(self.code, 1)
        code_row.addWidget(self.verify_button)
        signed_row = QHBoxLayout()
        signed_row.addWidget(self.sync_button)
        signed_row.addWidget(self.sign_out_button)
        signed_row.addStretch(1)
        form = QFormLayout(self)
        form.addRow(self.who)
        form.addRow("Email", email_row)
        form.addRow("Code", code_row)
        form.addRow(signed_row)
        form.addRow(self.message)
        self._show(None, busy=True)
        self.refresh()

    # -- state ------------------------------------------------------------------------------

    def _alive(self) -> bool:
        return shiboken6.isValid(self) and shiboken6.isValid(self.who)

    def _show(self, signed_in: Any, busy: bool = False, configured: bool = True) -> None:
        if not self._alive():
            return
        if not configured:
            self.who.setText(NOT_CONFIGURED)
        elif signed_in is not None:
            self.who.setText(f"Signed in as {signed_in.email or signed_in.user_id}")
        elif not busy:
            self.who.setText("Not signed in. Sign in to sync with your other devices.")
        signed = signed_in is not None
        self.email.setEnabled(configured and not signed and not busy)
        self.send_button.setEnabled(configured and not signed and not busy)
        self.code.setEnabled(configured and not signed and not busy)
        self.verify_button.setEnabled(configured and not signed and not busy)
        self.sign_out_button.setVisible(signed)
        self.sign_out_button.setEnabled(not busy)
        self.sync_button.setVisible(signed and self._sync_account is not None)
        self.sync_button.setEnabled(not busy)

    def _say(self, text: str, error: bool = False) -> None:
        if not self._alive():
            return
        self.message.setObjectName("ErrorLabel" if error else "Hint")
        self.message.style().polish(self.message)
        self.message.setText(text)

    def _failed(self, error: BaseException) -> None:
        self._say(str(error), error=True)
        self._show(self._current(), configured=self.account is not None)

    def _current(self) -> Any:
        return getattr(self, "_signed_in", None)

    def _set(self, signed_in: Any, configured: bool = True) -> None:
        self._signed_in = signed_in
        self._show(signed_in, configured=configured)

    # -- actions (each off the GUI thread) ---------------------------------------------------

    def refresh(self) -> None:
        def read(_task: Any) -> tuple[Any, Any]:
            account = self._open_account()
            return account, (account.signed_in() if account is not None else None)

        def done(got: tuple[Any, Any]) -> None:
            self.account, who = got
            self._set(who, configured=self.account is not None)

        self._tasks.run(
            read, description="Reading the account", on_done=done, on_error=self._failed,
            visible=False,
        )  # fmt: skip

    def send_code(self) -> None:
        email = self.email.text().strip()
        if self.account is None:
            return
        self._show(None, busy=True)
        self._say(f"Sending a code to {email}…")

        def done(_r: Any) -> None:
            self._show(None)
            self._say(f"A code was sent to {email}. Type it below.")
            if self._alive():
                self.code.setFocus()

        account = self.account
        self._tasks.run(
            lambda _t: account.send_code(email),
            description="Sending a sign-in code",
            on_done=done,
            on_error=self._failed,
        )

    def verify_code(self) -> None:
        if self.account is None:
            return
        email, code = self.email.text().strip(), self.code.text().strip()
        self._show(None, busy=True)
        account = self.account

        def done(who: Any) -> None:
            self._set(who)
            self._say("Signed in.")
            if self._alive():
                self.code.clear()

        self._tasks.run(
            lambda _t: account.verify_code(email, code),
            description="Signing in",
            on_done=done,
            on_error=self._failed,
        )

    def sign_out(self) -> None:
        if self.account is None:
            return
        self._show(self._current(), busy=True)
        account = self.account

        def done(note: str | None) -> None:
            self._set(None)
            self._say(note or "Signed out. The session was removed from this computer.")

        self._tasks.run(
            lambda _t: account.sign_out(),
            description="Signing out",
            on_done=done,
            on_error=self._failed,
        )

    def sync_now(self) -> None:
        if self.account is None or self._sync_account is None:
            return
        self._show(self._current(), busy=True)
        account, run = self.account, self._sync_account

        def done(result: Any) -> None:
            self._show(self._current())
            d = result.as_dict()
            errors = f", {len(d['errors'])} not synced" if d["errors"] else ""
            self._say(f"Synced: {d['pushed']} sent, {d['pulled']} received{errors}.")

        self._tasks.run(
            lambda _t: run(account, self._current()),
            description="Syncing with your account",
            on_done=done,
            on_error=self._failed,
        )

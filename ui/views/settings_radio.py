"""Settings → Radio: "Reset what the radio learned".

A box of its own (not part of ``settings.py``) so that the Settings view only places it.
The reset asks first — what the radio learned cannot be brought back — and deletes the
listener model off the GUI thread (:mod:`ui.tasks`); the sync carries the deletion to the
user's other devices.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QGroupBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from db.database import Database

CONFIRM_TEXT = (
    "Forget everything the radio learned from your likes, skips and listens?\n\n"
    "The radio starts again from your onboarding answers and history. "
    "This also applies to your other devices after they sync, and cannot be undone."
)


class RadioMemoryBox(QGroupBox):
    """The reset button, its confirmation and what came of it."""

    #: the listener model was deleted; a running radio should drop the one it holds.
    learned_reset = Signal()

    def __init__(
        self, database: Database, user_id: uuid.UUID, tasks: TaskRunner, parent: Any = None
    ) -> None:
        super().__init__("Radio", parent)
        self._database = database
        self._user_id = user_id
        self._tasks = tasks
        #: the open confirmation, while one is shown.
        self.confirm_box: QMessageBox | None = None
        self.reset_button = QPushButton("Reset what the radio learned")
        self.reset_button.setObjectName("ResetRadioLearning")
        self.reset_button.clicked.connect(self.ask_to_reset)
        self.message = QLabel("The radio learns from your likes, skips and listens.")
        self.message.setObjectName("Hint")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.reset_button)

    def ask_to_reset(self) -> None:
        """Show the confirmation without blocking the event loop (``open``, not ``exec``)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Reset what the radio learned?",
            CONFIRM_TEXT,
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.addButton("Reset", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(self._confirmed_or_not)
        box.finished.connect(box.deleteLater)
        self.confirm_box = box
        box.open()

    def confirm_button(self) -> QAbstractButton | None:
        """The dialog's "Reset" button (tests click it as a person would)."""
        if self.confirm_box is None:
            return None
        for button in self.confirm_box.buttons():
            if self.confirm_box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole:
                return button
        return None

    def _confirmed_or_not(self, button: QAbstractButton) -> None:
        box = self.confirm_box
        self.confirm_box = None
        if box is None or box.buttonRole(button) != QMessageBox.ButtonRole.DestructiveRole:
            return
        self.reset()

    def reset(self) -> None:
        """Delete the listener model on a worker; say when it is done."""
        database, user_id = self._database, self._user_id
        self.reset_button.setEnabled(False)
        self._say("Forgetting what the radio learned…", error=False)

        def forget(_ctx: Any) -> None:
            # Imported here, on the worker: the view's module stays light to import.
            from player.taste.store import reset_state

            reset_state(database, user_id)

        self._tasks.run(
            forget,
            description="Resetting what the radio learned",
            on_done=self._done,
            on_error=self._failed,
            serial=True,
        )

    def _done(self, _result: Any) -> None:
        if not shiboken6.isValid(self):  # the view may be gone by the time it finishes
            return
        self.reset_button.setEnabled(True)
        self._say("Done: the radio has forgotten what it learned and starts afresh.", False)
        self.learned_reset.emit()

    def _failed(self, error: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self.reset_button.setEnabled(True)
        reason = (str(error).strip() or type(error).__name__).splitlines()[0]
        self._say(f"Could not reset what the radio learned: {reason}", error=True)

    def _say(self, text: str, error: bool) -> None:
        self.message.setObjectName("ErrorLabel" if error else "Hint")
        self.message.style().polish(self.message)
        self.message.setText(text)

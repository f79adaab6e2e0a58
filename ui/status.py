"""The status area: messages in passing, and what runs in the background with its
progress and a way to stop it.

Everything the window says in passing goes through one :class:`StatusMessages`: a
queue, so two messages never sit on top of each other; a severity, so an error looks
like one; and a timeout for each, so an old error never outlives a later success.
Lasting conditions (no sound device) are indicators in the window, not messages.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from ui.tasks import Task, TaskRunner
from ui.theme import icon

SEVERITIES = ("info", "warning", "error")
#: How long a message stays, by severity, unless the caller says otherwise.
TIMEOUT_MS = {"info": 5000, "warning": 10000, "error": 15000}
#: A message is shown at least this long before the next in the queue replaces it.
MIN_SHOW_MS = 1500
QUEUE_LIMIT = 8


@dataclass(frozen=True)
class Message:
    text: str
    severity: str
    timeout_ms: int


class StatusMessages(QLabel):
    """The one line of passing messages in the status bar."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusMessage")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._queue: deque[Message] = deque()
        self._current: Message | None = None
        self._shown_at = 0.0
        self._expire = QTimer(self, singleShot=True)
        self._expire.timeout.connect(self._next)
        self._advance = QTimer(self, singleShot=True)
        self._advance.timeout.connect(self._next)
        self._show(None)

    @property
    def current(self) -> Message | None:
        return self._current

    def pending(self) -> list[Message]:
        return list(self._queue)

    def say(self, text: str, severity: str = "info", timeout_ms: int | None = None) -> None:
        """Queue ``text``; it shows once the current message has had its moment."""
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        message = Message(text, severity, timeout_ms or TIMEOUT_MS[severity])
        if message == self._current or message in self._queue:
            return
        self._queue.append(message)
        while len(self._queue) > QUEUE_LIMIT:  # a burst: keep the latest
            self._queue.popleft()
        if self._current is None:
            self._next()
            return
        shown_ms = (time.monotonic() - self._shown_at) * 1000
        self._advance.start(max(0, int(MIN_SHOW_MS - shown_ms)))

    def clear(self) -> None:
        self._queue.clear()
        self._show(None)

    def _next(self) -> None:
        self._advance.stop()
        self._show(self._queue.popleft() if self._queue else None)

    def _show(self, message: Message | None) -> None:
        self._current = message
        self._expire.stop()
        self.setText(message.text if message else "")
        self.setToolTip(message.text if message else "")
        self.setProperty("severity", message.severity if message else "info")
        self.style().unpolish(self)
        self.style().polish(self)
        if message is not None:
            self._shown_at = time.monotonic()
            self._expire.start(message.timeout_ms)


class TaskStatus(QWidget):
    """Shows the oldest running visible task (and how many more), with a cancel button."""

    def __init__(self, tasks: TaskRunner, parent: Any = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(140)
        self.bar.setFixedHeight(6)
        self.bar.setTextVisible(False)
        self.cancel = QToolButton()
        self.cancel.setIcon(icon("cancel"))
        self.cancel.setToolTip("Cancel")
        self.cancel.setAccessibleName("Cancel the running task")
        self.cancel.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(8)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self._task: Task | None = None
        tasks.tasks_changed.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        active = self.tasks.active
        if self._task is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self._task.progressed.disconnect(self._progress)
        self._task = active[0] if active else None
        self.setVisible(self._task is not None)
        if self._task is None:
            return
        more = f" (+{len(active) - 1} more)" if len(active) > 1 else ""
        self.label.setText(f"{self._task.description}…{more}")
        self._task.progressed.connect(self._progress)
        self._progress(self._task.fraction, self._task.text)

    def _progress(self, fraction: float, text: str) -> None:
        if fraction < 0:
            self.bar.setRange(0, 0)  # busy indicator
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(round(fraction * 100))
        if text and self._task is not None:
            self.label.setText(f"{self._task.description}: {text}")

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

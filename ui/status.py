"""The status area: what is running in the background, its progress, and a way to stop it."""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from ui.tasks import Task, TaskRunner
from ui.theme import icon


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

"""The import's own progress bar and cancel button, shown where the import was started.

Onboarding runs before the main window (and its status area) exists, and a ten-year
history takes tens of seconds, so the import shows its progress in place. The widget only
follows a :class:`ui.tasks.Task`: the import itself runs in the task runner's thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ui.tasks import Task


class ImportProgressBar(QWidget):
    """A bar (busy while the size is unknown), the file being read, and Cancel."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName("Hint")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.cancel_button)
        self._task: Task | None = None
        self.hide()

    def follow(self, task: Task) -> None:
        if task.done:  # a synchronous runner already finished it
            return
        self._task = task
        task.progressed.connect(self._progress)
        task.finished.connect(self._finished)
        self.cancel_button.setEnabled(True)
        self._progress(-1.0, "Starting")
        self.show()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("Cancelling…")

    def _progress(self, fraction: float, text: str) -> None:
        if fraction < 0:
            self.bar.setRange(0, 0)  # busy indicator
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(fraction * 1000))
        if text and self.cancel_button.isEnabled():
            self.label.setText(text)

    def _finished(self) -> None:
        self._task = None
        self.hide()

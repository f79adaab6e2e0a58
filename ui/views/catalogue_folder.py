# SPDX-License-Identifier: MIT
"""Settings entry "Your music folder": add a folder of audio files to the catalogue.

The embedding runs on a worker (``ui/tasks.py``) with progress and cancel in the status
area; the GUI thread only picks the folder and shows the summary. Cancelling stops after
the current file; adding the same folder again resumes (unchanged files are skipped).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFileDialog, QGroupBox, QLabel, QPushButton, QVBoxLayout

from ui.context import AppContext


class CatalogueFolderBox(QGroupBox):
    def __init__(self, ctx: AppContext, parent: Any = None) -> None:
        super().__init__("Your music folder", parent)
        self.ctx = ctx
        self.task: Any = None
        self.status = QLabel(
            "Add a folder of your own music: each file is analysed on this computer so "
            "the radio can find music like it. Files already added are skipped."
        )
        self.status.setWordWrap(True)
        self.button = QPushButton("Add a music folder…")
        self.button.clicked.connect(self.choose)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.button)

    def choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a music folder")
        if folder:
            self.add(folder)

    def add(self, folder: str) -> Any:
        """Start embedding ``folder`` in the background; returns the task."""
        from player.catalogue.folder import add_folder

        database = self.ctx.database

        def work(context: Any) -> Any:
            def progress(done: int, total: int, name: str) -> None:
                context.progress(done / total if total else None, f"{done}/{total} {name}")

            return add_folder(
                database, folder, progress=progress, should_stop=lambda: context.cancelled
            )

        self.button.setEnabled(False)
        self.status.setText(f"Adding {folder}…")
        self.task = self.ctx.tasks.run(
            work, description="Adding music folder", on_done=self._done, on_error=self._failed
        )
        return self.task

    def _done(self, report: Any) -> None:
        self.button.setEnabled(True)
        lines = [report.summary()]
        lines += [f"Skipped {path}: {reason}" for path, reason in report.failed[:5]]
        if len(report.failed) > 5:
            lines.append(f"… and {len(report.failed) - 5} more")
        self.status.setText("\n".join(lines))

    def _failed(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self.status.setText(f"Could not add the folder: {exc}")

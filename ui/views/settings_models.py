"""Settings > Models: download, cancel, resume and remove MusicGen and MERT models.

A panel of its own (the Settings view only adds it) so the catalogue, the licence gate
and the progress bars stay in one place. All work (Hub look-ups, downloads, checks,
removing gigabytes, re-embedding) runs on ``ctx.tasks``; the GUI thread only paints.

After a download the model is used at once: MusicGen by the next track (the engine
process chooses again), MERT by re-embedding the library in the background when the
embedder setting is ``auto`` or ``mert``, so old and new vectors never mix.
"""

from __future__ import annotations

import subprocess
import sys
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from player import models
from player.models.downloader import human_bytes

if TYPE_CHECKING:
    from db.database import Database
    from player.generation.isolated import IsolatedGenerator
    from player.generation.service import GenerationService
    from player.settings import Settings
    from ui.tasks import TaskRunner


def engine_reason() -> str:
    """Why ``auto`` generates with the engine it does. With a MusicGen model on disk the
    answer needs torch (is there a GPU, how much memory); importing torch here would hold
    the GUI's interpreter lock for seconds, so a short child process answers instead."""
    from player.generation.engines import choose_engine, musicgen_checkpoint

    if musicgen_checkpoint() is None or "torch" in sys.modules:
        return choose_engine().reason
    code = "from player.generation.engines import choose_engine; print(choose_engine().reason)"
    import os
    from pathlib import Path

    import player

    root = str(Path(player.__file__).resolve().parents[1])  # this very code, not another copy
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": path},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Could not check the GPU ({exc})."
    lines = done.stdout.strip().splitlines()
    return lines[-1] if done.returncode == 0 and lines else "Could not check the GPU."


class _ModelRow(QWidget):
    """One catalogue model: what it is, where it stands, and the one action that fits."""

    def __init__(self, entry: models.ModelEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setObjectName(f"model-{entry.name}")
        title = QLabel(f"<b>{entry.title}</b> · {entry.repo}")
        revision = (
            f"commit {entry.revision[:12]}" if entry.pinned else f"{entry.revision} (not pinned)"
        )
        detail = QLabel(
            f"about {human_bytes(entry.size_bytes)} · needs about {entry.min_vram_gb:g} GB of "
            f"GPU memory · {entry.engine} · licence {entry.licence.id} · {revision}"
        )
        detail.setObjectName("Hint")
        self.detail = detail
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.action = QPushButton("Download")
        self.remove_button = QPushButton("Remove")
        self.licence = QLabel(models.licence_text(entry))
        self.licence.setWordWrap(True)
        self.licence.setOpenExternalLinks(True)
        self.licence.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.accept_button = QPushButton("Accept licence and download")
        self.decline_button = QPushButton("Not now")
        licence_row = QHBoxLayout()
        licence_row.addWidget(self.accept_button)
        licence_row.addWidget(self.decline_button)
        licence_row.addStretch(1)
        self.licence_box = QWidget()
        licence_layout = QVBoxLayout(self.licence_box)
        licence_layout.setContentsMargins(0, 0, 0, 0)
        licence_layout.addWidget(self.licence)
        licence_layout.addLayout(licence_row)
        self.licence_box.setVisible(False)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.addWidget(title, 0, 0)
        grid.addWidget(self.action, 0, 1)
        grid.addWidget(self.remove_button, 0, 2)
        grid.addWidget(detail, 1, 0, 1, 3)
        grid.addWidget(self.status, 2, 0, 1, 3)
        grid.addWidget(self.progress, 3, 0, 1, 3)
        grid.addWidget(self.licence_box, 4, 0, 1, 3)
        grid.setColumnStretch(0, 1)


class ModelsContext(Protocol):
    """What the Models box uses of an :class:`~ui.context.AppContext`: the settings and
    the task runner always; the database and the generation service when a session is
    open (they put a new model to work at once)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def tasks(self) -> TaskRunner: ...
    @property
    def database(self) -> Database | None: ...
    @property
    def generation(self) -> GenerationService | None: ...


class ModelsPanel(QGroupBox):
    """The Models box of Settings. ``ctx`` needs ``settings`` and ``tasks``; with
    ``database`` and ``generation`` it also puts a new model to work at once."""

    #: the rows were re-read from disk (after start-up, a download, a removal)
    changed = Signal()

    def __init__(
        self, ctx: ModelsContext, saved: Any = None, parent: QWidget | None = None
    ) -> None:
        """``saved`` is the Settings view's signal: when the embedder choice changed with
        it, the library is re-embedded in the new space in the background."""
        super().__init__("Models", parent)
        self.setObjectName("ModelsPanel")
        self.ctx = ctx
        self._embedder_choice = self._current_embedder_choice()
        if saved is not None:
            saved.connect(self._settings_saved)
        self.tasks: dict[str, Any] = {}
        self._messages: dict[str, str] = {}
        self.reembedding: Any = None
        intro = QLabel(
            "MusicGen generates on a GPU; MERT gives finer taste matching. Nothing is "
            "downloaded unless you ask. An interrupted download resumes where it stopped, "
            "and every file is checked against the Hub's checksum."
        )
        intro.setWordWrap(True)
        intro.setObjectName("Hint")
        self.engine_reason = QLabel("")
        self.engine_reason.setWordWrap(True)
        self.engine_reason.setObjectName("EngineReason")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.engine_reason)
        self.rows: dict[str, _ModelRow] = {}
        for entry in models.catalogue():
            row = _ModelRow(entry, self)
            row.action.clicked.connect(lambda _=False, n=entry.name: self._action(n))
            row.remove_button.clicked.connect(lambda _=False, n=entry.name: self.remove(n))
            row.accept_button.clicked.connect(lambda _=False, n=entry.name: self._accept(n))
            row.decline_button.clicked.connect(
                lambda _=False, r=row: r.licence_box.setVisible(False)
            )
            self.rows[entry.name] = row
            layout.addWidget(row)
        self._shown = False

    def showEvent(self, event: Any) -> None:
        """First read when the page is first shown, not while the window starts."""
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            self.refresh()

    # -- state --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read what is on disk and why the engine is what it is, off the GUI thread."""

        def read(_task: Any) -> tuple[dict[str, models.LocalState], str]:
            states = {e.name: models.local_state(e) for e in models.catalogue()}
            return states, engine_reason()

        self.ctx.tasks.run(read, description="Reading models", on_done=self._show, visible=False)

    def _show(self, result: tuple[dict[str, models.LocalState], str]) -> None:
        if not shiboken6.isValid(self):
            return
        states, reason = result
        self.engine_reason.setText(reason)
        self.changed.emit()
        for name, row in self.rows.items():
            if name in self.tasks:
                continue
            state = states[name]
            text = {
                "installed": f"Downloaded and verified ({human_bytes(state.bytes_on_disk)}).",
                "manual": "In the models folder (put there by hand).",
                "partial": f"Partly downloaded ({human_bytes(state.bytes_on_disk)}): "
                "Resume finishes it.",
                "absent": "Not downloaded.",
            }[state.state]
            if not row.entry.runnable:
                text += f" Not used yet: {row.entry.not_runnable_because}."
            if name in self._messages:
                text = self._messages.pop(name)
            row.status.setText(text)
            row.action.setText({"partial": "Resume", "absent": "Download"}.get(state.state, ""))
            row.action.setVisible(state.state in ("partial", "absent"))
            row.action.setEnabled(True)
            row.remove_button.setVisible(state.state != "absent")
            row.progress.setVisible(False)

    # -- actions ------------------------------------------------------------------------------
    def _action(self, name: str) -> None:
        if name in self.tasks:
            self.tasks[name].cancel()
            self.rows[name].status.setText("Cancelling…")
            return
        self.download(name)

    def _accept(self, name: str) -> None:
        row = self.rows[name]
        models.accept_licence(row.entry, self.ctx.settings)
        row.licence_box.setVisible(False)
        self.download(name)

    def download(self, name: str) -> None:
        """Start (or resume) a download; first shows the licence if not yet accepted."""
        row = self.rows[name]
        entry = row.entry
        if not models.licence_accepted(entry, self.ctx.settings):
            row.licence_box.setVisible(True)
            return
        settings = self.ctx.settings

        def work(task: Any) -> models.DownloadReport:
            def progress(p: models.Progress) -> None:
                task.progress(p.fraction, p.describe())

            return models.download(
                entry, progress=progress, cancel=task.cancel_event, settings=settings
            )

        task = self.ctx.tasks.run(
            work,
            description=f"Downloading {entry.name}",
            on_done=partial(self._downloaded, name),
            on_error=partial(self._failed, name),
        )
        task.progressed.connect(lambda fraction, text, r=row: self._progress(r, fraction, text))
        self.tasks[name] = task
        row.action.setText("Cancel")
        row.remove_button.setVisible(False)
        row.progress.setValue(0)
        row.progress.setVisible(True)
        row.status.setText("Starting…")

    def _progress(self, row: _ModelRow, fraction: float, text: str) -> None:
        if shiboken6.isValid(row):
            row.progress.setValue(round(max(0.0, fraction) * 1000))
            row.status.setText(text)

    def _failed(self, name: str, exc: BaseException) -> None:
        self.tasks.pop(name, None)
        if not shiboken6.isValid(self):
            return
        self.refresh_after(name, str(exc) or type(exc).__name__)

    def refresh_after(self, name: str, message: str) -> None:
        """Re-read the states and show ``message`` under the model once they are in."""
        self._messages[name] = message
        self.refresh()

    def _downloaded(self, name: str, report: models.DownloadReport) -> None:
        self.tasks.pop(name, None)
        if not shiboken6.isValid(self):
            return
        entry = self.rows[name].entry
        message = f"Downloaded and verified ({human_bytes(report.total_bytes)})."
        if entry.family == "musicgen":
            generator = self._generator()
            if generator is not None:
                generator.choose_again()  # the next track may be MusicGen's
        elif entry.family == "mert":
            message += self._reembed()
        self.refresh_after(name, message)

    def _generator(self) -> IsolatedGenerator | None:
        """The app's engine process, which picks its engine again when models change (no
        service, or one built around an in-process generator, has nothing to re-pick)."""
        from player.generation.isolated import IsolatedGenerator

        service = self.ctx.generation
        generator = service.generator if service is not None else None
        return generator if isinstance(generator, IsolatedGenerator) else None

    def _current_embedder_choice(self) -> tuple[str, str]:
        settings = self.ctx.settings
        return str(settings.embedder), str(settings.mert_model_dir or "")

    def _settings_saved(self) -> None:
        choice = self._current_embedder_choice()
        if choice != self._embedder_choice:
            self._embedder_choice = choice
            self.start_reembed()

    def _reembed(self) -> str:
        """After a MERT download: re-embed when the settings let it become the active
        embedder (``auto``, or ``mert`` without a folder of its own)."""
        settings = self.ctx.settings
        if settings.embedder == "descriptor" or settings.mert_model_dir:
            return " Choose the MERT embedder in Generation to use it."
        if self.start_reembed() is None:
            return ""
        return " Your library is being re-embedded in MERT's space in the background."

    def start_reembed(self) -> Any:
        """Bring stored vectors into the space of the embedder the settings choose, in the
        background (what ``ReembedJob`` does, on the task runner for progress and cancel).
        Rows stay in their old space until re-embedded, so spaces never mix."""
        database = self.ctx.database
        if database is None:
            return None
        from player.embedding import forget_loaded, get_embedder

        forget_loaded()
        name, folder = self._current_embedder_choice()

        def work(task: Any) -> Any:
            from player.embedding.reembed import reembed_all
            from player.taste import rebuild_taste

            embedder = get_embedder(name, checkpoint=folder or None)

            def progress(done: int, total: int, text: str) -> None:
                task.progress(done / total if total else None, f"Re-embedding: {text}")

            return reembed_all(
                database,
                embedder,
                progress,
                task.cancel_event.is_set,
                rebuild_taste=rebuild_taste,
            )

        self.reembedding = self.ctx.tasks.run(work, description="Re-embedding your library")
        return self.reembedding

    def remove(self, name: str) -> None:
        entry = self.rows[name].entry

        def work(_task: Any) -> int:
            return models.remove(entry)

        def done(freed: int) -> None:
            if not shiboken6.isValid(self):
                return
            generator = self._generator()
            if entry.family == "musicgen" and generator is not None:
                generator.choose_again()
            if entry.family == "mert":
                from player.embedding import forget_loaded

                forget_loaded()
            self.refresh_after(name, f"Removed ({human_bytes(freed)} freed).")

        self.ctx.tasks.run(
            work,
            description=f"Removing {entry.name}",
            on_done=done,
            on_error=partial(self._failed, name),
        )

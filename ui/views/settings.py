"""The Settings view: every option from :mod:`player.settings`, validated on save."""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from player.errors import UserFacingError
from player.paths import data_dir
from player.settings import OPTIONS
from ui.context import AppContext


def _folder_row(edit: QLineEdit, parent: QWidget) -> QHBoxLayout:
    browse = QPushButton("Browse…")

    def pick() -> None:
        folder = QFileDialog.getExistingDirectory(parent, "Choose folder", edit.text())
        if folder:
            edit.setText(folder)

    browse.clicked.connect(pick)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


def describe_sync_status(status: dict[str, Any] | None, configured: bool) -> str:
    """One line for the Settings view from :func:`db.sync.status`."""
    if status is None:
        return "Sync: configured" if configured else "Sync: off — everything stays on this computer"
    pending = int(status.get("pending") or 0)
    parts = [f"{pending} change{'s' if pending != 1 else ''} waiting to sync"]
    last = status.get("last_sync_at")
    parts.insert(0, f"Last sync {str(last)[:16].replace('T', ' ')} UTC" if last else "Never synced")
    if not configured:
        parts.insert(0, "Sync: off")
    if status.get("last_error"):
        parts.append(f"last error: {status['last_error']}")
    if status.get("conflicts_kept"):
        parts.append(f"{status['conflicts_kept']} conflict(s) kept")
    return " · ".join(parts)


class SettingsView(QWidget):
    onboarding_requested = Signal()
    saved = Signal()

    def __init__(self, ctx: AppContext, parent: Any = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        s = ctx.settings
        title = QLabel("Settings")
        title.setObjectName("PageTitle")

        # -- database -------------------------------------------------------------------
        self.embedded = QRadioButton("Embedded (on this computer, no setup)")
        self.external = QRadioButton("PostgreSQL URL")
        self.db_url = QLineEdit(s.database_url)
        self.db_url.setPlaceholderText("postgresql://user:password@host:5432/dbname")
        (self.external if s.database_url else self.embedded).setChecked(True)
        self.db_url.setEnabled(bool(s.database_url))
        self.external.toggled.connect(self.db_url.setEnabled)
        self.sync_url = QLineEdit(s.sync_url)
        self.sync_url.setPlaceholderText("Shared database to sync with (optional)")
        self.db_status = QLabel(f"Now using: {ctx.database.describe()}")
        self.db_status.setObjectName("Hint")
        self.sync_status = QLabel(
            "Sync: configured" if s.sync_url else "Sync: off — everything stays on this computer"
        )
        self.sync_status.setObjectName("Hint")
        db_box = QGroupBox("Database")
        db_form = QFormLayout(db_box)
        db_form.addRow(self.embedded)
        db_form.addRow(self.external, self.db_url)
        db_form.addRow("Sync with", self.sync_url)
        db_form.addRow(self.db_status)
        db_form.addRow(self.sync_status)
        self.refresh_sync_status()

        # -- audio ----------------------------------------------------------------------
        self.device = QComboBox()
        self.device.setObjectName("AudioDevice")
        self.device.addItem("System default", "")
        self._fill_devices()
        self.crossfade = QDoubleSpinBox()
        self.crossfade.setRange(
            OPTIONS["crossfade_seconds"].minimum or 0, OPTIONS["crossfade_seconds"].maximum or 12
        )
        self.crossfade.setSingleStep(0.5)
        self.crossfade.setSuffix(" s")
        self.crossfade.setValue(s.crossfade_seconds)
        self.crossfade.setToolTip("0 plays tracks back to back with no gap")
        self.loudness = QDoubleSpinBox()
        self.loudness.setRange(-30.0, -5.0)
        self.loudness.setSuffix(" LUFS")
        self.loudness.setValue(s.loudness_target_lufs)
        self.audio_status = QLabel(ctx.playback.device_problem or "")
        self.audio_status.setObjectName("Hint")
        self.audio_status.setWordWrap(True)
        # A bound slot, not a lambda: Qt drops the connection when this view is destroyed.
        ctx.playback.device_message.connect(self._show_device_message)
        audio_box = QGroupBox("Audio")
        audio_form = QFormLayout(audio_box)
        audio_form.addRow("Output device", self.device)
        audio_form.addRow("Crossfade", self.crossfade)
        audio_form.addRow("Loudness target", self.loudness)
        audio_form.addRow(self.audio_status)

        # -- generation -----------------------------------------------------------------
        self.engine = QComboBox()
        self.engine.addItems(list(OPTIONS["generation_engine"].choices))
        self.engine.setCurrentText(s.generation_engine)
        self.musicgen_dir = QLineEdit(s.musicgen_model_dir)
        self.embedder = QComboBox()
        self.embedder.addItems(list(OPTIONS["embedder"].choices))
        self.embedder.setCurrentText(s.embedder)
        self.mert_dir = QLineEdit(s.mert_model_dir)
        self.track_seconds = QSpinBox()
        self.track_seconds.setRange(10, 900)
        self.track_seconds.setSuffix(" s")
        self.track_seconds.setValue(s.track_seconds)
        self.daily_limit = QSpinBox()
        self.daily_limit.setRange(1, 10_000)
        self.daily_limit.setValue(s.daily_limit)
        premium = ctx.profile.premium
        self.premium = QLabel(
            "Premium — unlimited generations"
            if premium
            else f"Free — {s.daily_limit} generations a day"
        )
        self.premium.setObjectName("QuotaLabel")
        gen_box = QGroupBox("Generation")
        gen_form = QFormLayout(gen_box)
        gen_form.addRow("Engine", self.engine)
        gen_form.addRow("MusicGen model folder", _folder_row(self.musicgen_dir, self))
        gen_form.addRow("Embedder", self.embedder)
        gen_form.addRow("MERT model folder", _folder_row(self.mert_dir, self))
        gen_form.addRow("Radio track length", self.track_seconds)
        gen_form.addRow("Daily free limit", self.daily_limit)
        gen_form.addRow("Account", self.premium)

        # -- profile and data -----------------------------------------------------------
        self.data_folder = QLabel(str(data_dir()))
        self.data_folder.setObjectName("Hint")
        open_folder = QPushButton("Open")
        open_folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(data_dir())))
        )
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_folder, 1)
        folder_row.addWidget(open_folder)
        self.rerun = QPushButton("Run onboarding again")
        self.rerun.clicked.connect(self.onboarding_requested.emit)
        profile_box = QGroupBox("Profile")
        profile_form = QFormLayout(profile_box)
        profile_form.addRow("Signed in as", QLabel(ctx.profile.email))
        profile_form.addRow("Data folder", folder_row)
        profile_form.addRow(self.rerun)

        self.save_button = QPushButton("Save settings")
        self.save_button.setObjectName("Primary")
        self.save_button.clicked.connect(self.save)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        save_row = QHBoxLayout()
        save_row.addWidget(self.message, 1)
        save_row.addWidget(self.save_button)

        body = QVBoxLayout()
        body.setSpacing(14)
        body.addWidget(title)
        from ui.views.catalogue_folder import CatalogueFolderBox

        for box in (profile_box, audio_box, gen_box, CatalogueFolderBox(ctx), db_box):
            body.addWidget(box)
        body.addLayout(save_row)
        body.addStretch(1)
        content = QWidget()
        content.setMaximumWidth(820)
        content.setLayout(body)
        holder = QWidget()
        center = QHBoxLayout(holder)
        center.setContentsMargins(28, 24, 28, 24)
        center.addWidget(content, 1)
        center.addStretch(0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    def _show_device_message(self, message: str, _problem: bool) -> None:
        self.audio_status.setText(message)

    def _show_sync_status(self, text: str) -> None:
        if shiboken6.isValid(self.sync_status):  # the view may be gone by the time it reads
            self.sync_status.setText(text)

    def refresh_sync_status(self) -> None:
        """Read last sync, pending changes and errors off the GUI thread."""
        database, user_id = self.ctx.database, self.ctx.user_id
        configured = bool(self.ctx.settings.sync_url)

        def read(_task: Any) -> dict[str, Any] | None:
            try:
                from db.sync import status
            except ImportError:
                return None
            return status(database, user_id)

        self.ctx.tasks.run(
            read,
            description="Reading sync status",
            on_done=lambda st: self._show_sync_status(describe_sync_status(st, configured)),
            visible=False,
        )

    def _fill_devices(self) -> None:
        try:
            from player.audio.output import list_output_devices

            devices = list_output_devices(refresh=False)
        except Exception:  # no PortAudio: the null output is all there is
            devices = []
        for device in devices:
            name = str(device.get("name", ""))
            if name:
                self.device.addItem(name, name)
        current = self.ctx.settings.audio_device
        index = self.device.findData(current)
        self.device.setCurrentIndex(max(0, index))

    def values(self) -> dict[str, Any]:
        return {
            "database_url": self.db_url.text().strip() if self.external.isChecked() else "",
            "sync_url": self.sync_url.text().strip(),
            "audio_device": str(self.device.currentData() or ""),
            "crossfade_seconds": float(self.crossfade.value()),
            "loudness_target_lufs": float(self.loudness.value()),
            "generation_engine": self.engine.currentText(),
            "musicgen_model_dir": self.musicgen_dir.text().strip(),
            "embedder": self.embedder.currentText(),
            "mert_model_dir": self.mert_dir.text().strip(),
            "track_seconds": int(self.track_seconds.value()),
            "daily_limit": int(self.daily_limit.value()),
        }

    def save(self) -> None:
        settings = self.ctx.settings
        values = self.values()
        if values["database_url"]:
            from db.url import parse_database_url

            try:
                parse_database_url(values["database_url"], "The database URL")
            except UserFacingError as exc:
                self._say(str(exc), error=True)
                return
        restart = values["database_url"] != settings.database_url
        try:
            for key, value in values.items():
                settings.set(key, value)
        except UserFacingError as exc:
            self._say(str(exc), error=True)
            return
        engine = self.ctx.playback.engine
        engine.set_crossfade(settings.crossfade_seconds)
        engine.target_lufs = settings.loudness_target_lufs
        device = settings.audio_device or None
        if device and device != engine.device_name:
            try:
                engine.set_device(device)
            except UserFacingError as exc:
                self._say(str(exc), error=True)
                return
        self.ctx.tasks.run(lambda _c: settings.save(), description="Saving settings", serial=True)
        self._say(
            "Saved. The database change takes effect when you restart the app."
            if restart
            else "Saved.",
            error=False,
        )
        self.saved.emit()

    def _say(self, text: str, error: bool) -> None:
        self.message.setObjectName("ErrorLabel" if error else "Hint")
        self.message.setStyleSheet("")
        self.message.style().polish(self.message)
        self.message.setText(text)

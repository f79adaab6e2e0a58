"""The Settings view: every option from :mod:`player.settings`, validated as it is typed.

It never says "Saved." about something that will not happen: a choice that cannot take
effect here (MusicGen without a downloaded model) is refused on the spot with the
reason, a number out of range is shown as an error next to its field (never replaced
by the nearest allowed value), and what is derived from a setting (the account line,
Radio's "N of M left today") follows it at once.

Groups are ``QGroupBox`` es in :attr:`SettingsView.groups`; a new group is one widget
added to that tuple.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from base.errors import UserFacingError
from base.paths import data_dir
from player.settings import OPTIONS
from ui.context import AppContext
from ui.views.catalogue_folder import CatalogueFolderBox
from ui.views.settings_account import AccountBox
from ui.views.settings_models import ModelsPanel
from ui.views.settings_radio import RadioMemoryBox
from ui.widgets import NumberField

#: What the listener sees for each stored choice (no engine or model jargon).
ENGINE_LABELS = {
    "auto": "Automatic (best this computer can do)",
    "procedural": "Built-in synthesizer",
    "musicgen": "MusicGen (needs a downloaded model)",
}
EMBEDDER_LABELS = {
    "auto": "Automatic",
    "descriptor": "Quick (built in)",
    "mert": "Detailed (needs a downloaded model)",
}
#: Loudness levels by name; the stored value is the target in LUFS.
LOUDNESS_LEVELS = {"Quiet": -23.0, "Normal": -14.0, "Loud": -9.0}
MODELS_HINT = "Settings → Models"


def musicgen_refusal(folder: str) -> str:
    """Why MusicGen cannot be used here ("" when it can)."""
    if folder:
        if (Path(folder).expanduser() / "config.json").is_file():
            return ""
        return f"MusicGen needs a downloaded model; {folder} holds none ({MODELS_HINT})."
    from player.generation.engines import musicgen_checkpoint

    if musicgen_checkpoint() is not None:
        return ""
    return f"MusicGen needs a downloaded model: {MODELS_HINT}."


def mert_refusal(folder: str) -> str:
    """Why detailed (MERT) analysis cannot be used here ("" when it can)."""
    if folder:
        if (Path(folder).expanduser() / "config.json").is_file():
            return ""
        return f"Detailed analysis needs a downloaded model; {folder} holds none ({MODELS_HINT})."
    from player.embedding.checkpoints import find_checkpoint

    if find_checkpoint() is not None:
        return ""
    return f"Detailed analysis needs a downloaded model: {MODELS_HINT}."


def account_line(premium: bool, daily_limit: int) -> str:
    if premium:
        return "Premium: unlimited generations"
    return f"Free: {daily_limit} generation{'s' if daily_limit != 1 else ''} a day"


def _choice_box(labels: dict[str, str], current: str, name: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    for value, label in labels.items():
        box.addItem(label, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


def describe_database(ctx: AppContext) -> str:
    if ctx.database.is_embedded:
        return "Now using: the database on this computer"
    return f"Now using: {ctx.database.describe()}"


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
        self.errors: dict[str, QLabel] = {}
        title = QLabel("Settings")
        title.setObjectName("PageTitle")
        db_box = self._database_box()
        audio_box = self._audio_box()
        gen_box = self._generation_box()
        profile_box = self._profile_box()
        footer = self._footer()
        self.radio_memory = RadioMemoryBox(ctx.database, ctx.user_id, ctx.tasks)
        self.models_panel = ModelsPanel(ctx, saved=self.saved)
        self.account_box = AccountBox(self._open_account, ctx.tasks, self._sync_account)
        self.saved.connect(self.account_box.refresh)
        self.groups: tuple[QWidget, ...] = (
            profile_box,
            self.account_box,
            audio_box,
            gen_box,
            CatalogueFolderBox(ctx),
            db_box,
            self.radio_memory,
            self.models_panel,
        )
        body = QVBoxLayout()
        body.setSpacing(14)
        body.addWidget(title)
        for box in self.groups:
            body.addWidget(box)
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
        layout.setSpacing(0)
        layout.addWidget(scroll, 1)
        layout.addWidget(footer)

    # -- the groups, one builder each -----------------------------------------------------

    def _database_box(self) -> QGroupBox:
        """Where the data lives, what it syncs with, and the Supabase project for Account."""
        s = self.ctx.settings
        ctx = self.ctx
        self.embedded = QRadioButton("On this computer (no setup)")
        self.external = QRadioButton("A PostgreSQL server")
        self.db_url = QLineEdit(s.database_url)
        self.db_url.setPlaceholderText("postgresql://user:password@host:5432/dbname")
        (self.external if s.database_url else self.embedded).setChecked(True)
        self.db_url.setEnabled(bool(s.database_url))
        self.external.toggled.connect(self.db_url.setEnabled)
        self.sync_url = QLineEdit(s.sync_url)
        self.sync_url.setPlaceholderText(
            "PostgreSQL URL of a database you alone use (self-hosted; optional)"
        )
        self.db_status = QLabel(describe_database(ctx))
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
        self.supabase_url = QLineEdit(s.supabase_url)
        self.supabase_url.setPlaceholderText("https://<project>.supabase.co (for Account)")
        self.supabase_key = QLineEdit(s.supabase_key)
        self.supabase_key.setPlaceholderText("The project's publishable (anon) key")
        db_form.addRow("Supabase project", self.supabase_url)
        db_form.addRow("Publishable key", self.supabase_key)
        db_form.addRow(self.db_status)
        db_form.addRow(self.sync_status)
        self.refresh_sync_status()
        return db_box

    def _audio_box(self) -> QGroupBox:
        s = self.ctx.settings
        ctx = self.ctx
        self.device = QComboBox()
        self.device.setObjectName("AudioDevice")
        self.device.addItem("System default", "")
        self._fill_devices()
        self.crossfade = self._number("Crossfade", "crossfade_seconds", "s", decimals=1)
        self.crossfade.setToolTip(self.crossfade.toolTip() + "; 0 plays tracks back to back")
        self.loudness = QComboBox()
        self.loudness.setObjectName("Loudness")
        for name, lufs in LOUDNESS_LEVELS.items():
            self.loudness.addItem(name, lufs)
        if s.loudness_target_lufs not in LOUDNESS_LEVELS.values():
            self.loudness.addItem(f"Custom ({s.loudness_target_lufs:g})", s.loudness_target_lufs)
        self.loudness.setCurrentIndex(self.loudness.findData(s.loudness_target_lufs))
        self.loudness.setToolTip("Every track is brought to the same loudness")
        self.audio_status = QLabel(ctx.playback.device_problem or "")
        self.audio_status.setObjectName("Hint")
        self.audio_status.setWordWrap(True)
        self.audio_status.setVisible(bool(self.audio_status.text()))
        # A bound slot, not a lambda: Qt drops the connection when this view is destroyed.
        ctx.playback.device_message.connect(self._show_device_message)
        audio_box = QGroupBox("Audio")
        audio_form = QFormLayout(audio_box)
        audio_form.addRow("Output device", self.device)
        audio_form.addRow("Crossfade (seconds)", self.crossfade)
        audio_form.addRow("Loudness", self.loudness)
        audio_form.addRow(self.errors["crossfade_seconds"])
        audio_form.addRow(self.audio_status)
        return audio_box

    def _generation_box(self) -> QGroupBox:
        s = self.ctx.settings
        self.engine = _choice_box(ENGINE_LABELS, s.generation_engine, "Engine")
        self._engine_value = s.generation_engine
        self.engine.currentIndexChanged.connect(lambda _i: self._check_engine())
        self.musicgen_dir = QLineEdit(s.musicgen_model_dir)
        self.musicgen_dir.setAccessibleName("MusicGen model folder")
        self.embedder = _choice_box(EMBEDDER_LABELS, s.embedder, "Embedder")
        self._embedder_value = s.embedder
        self.embedder.currentIndexChanged.connect(lambda _i: self._check_embedder())
        self.mert_dir = QLineEdit(s.mert_model_dir)
        self.mert_dir.setAccessibleName("Analysis model folder")
        self.track_seconds = self._number("Radio track length", "track_seconds", "s")
        self.daily_limit = self._number("Daily free limit", "daily_limit", "")
        self.daily_limit.textChanged.connect(lambda _t: self._show_account())
        self.premium = QLabel("")
        self.premium.setObjectName("QuotaLabel")
        self._show_account()
        self.engine_error = self._error_label()
        self.embedder_error = self._error_label()
        if s.generation_engine == "musicgen":
            # Chosen before (or the model was deleted since): say what plays instead.
            reason = musicgen_refusal(s.musicgen_model_dir)
            if reason:
                self.engine_error.setText(f"{reason} Until then the built-in synthesizer plays.")
                self.engine_error.show()
        gen_box = QGroupBox("Generation")
        gen_form = QFormLayout(gen_box)
        gen_form.addRow("Music made by", self.engine)
        gen_form.addRow(self.engine_error)
        gen_form.addRow("MusicGen model folder", _folder_row(self.musicgen_dir, self))
        gen_form.addRow("Sound analysis", self.embedder)
        gen_form.addRow(self.embedder_error)
        gen_form.addRow("Analysis model folder", _folder_row(self.mert_dir, self))
        gen_form.addRow("Radio track length (seconds)", self.track_seconds)
        gen_form.addRow(self.errors["track_seconds"])
        gen_form.addRow("Daily free limit", self.daily_limit)
        gen_form.addRow(self.errors["daily_limit"])
        gen_form.addRow("Account", self.premium)
        return gen_box

    def _profile_box(self) -> QGroupBox:
        ctx = self.ctx
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
        return profile_box

    def _footer(self) -> QWidget:
        """The save row: below the scroll area, always on screen however long the form."""
        self.save_button = QPushButton("Save settings")
        self.save_button.setObjectName("Primary")
        self.save_button.clicked.connect(self.save)
        self.message = QLabel("")
        self.message.setObjectName("Hint")
        self.message.setWordWrap(True)
        # The save row stays below the scroll area: always on screen, however long the form.
        footer = QWidget()
        footer.setObjectName("SettingsFooter")
        save_row = QHBoxLayout(footer)
        save_row.setContentsMargins(28, 8, 28, 10)
        save_row.addWidget(self.message, 1)
        save_row.addWidget(self.save_button)
        return footer

    # -- fields -----------------------------------------------------------------------

    def _error_label(self) -> QLabel:
        label = QLabel("")
        label.setObjectName("ErrorLabel")
        label.setWordWrap(True)
        label.hide()
        return label

    def _number(self, what: str, key: str, unit: str, decimals: int = 0) -> NumberField:
        option = OPTIONS[key]
        field = NumberField(
            what,
            float(option.minimum if option.minimum is not None else 0),
            float(option.maximum if option.maximum is not None else 1e9),
            float(self.ctx.settings.get(key)),
            unit=unit,
            decimals=decimals,
        )
        field.setObjectName(key)
        label = self.errors[key] = self._error_label()

        def show(error: str) -> None:
            label.setText(error)
            label.setVisible(bool(error))

        field.validity_changed.connect(show)
        return field

    def number_fields(self) -> list[NumberField]:
        return [self.crossfade, self.track_seconds, self.daily_limit]

    def _show_account(self) -> None:
        limit = self.daily_limit.value()
        shown = int(limit) if limit is not None else int(self.ctx.settings.daily_limit)
        self.premium.setText(account_line(bool(self.ctx.profile.premium), shown))

    def _check_engine(self) -> None:
        """Refuse, on the spot, an engine that cannot run here, saying why."""
        value = str(self.engine.currentData())
        reason = musicgen_refusal(self.musicgen_dir.text().strip()) if value == "musicgen" else ""
        self.engine_error.setText(reason)
        self.engine_error.setVisible(bool(reason))
        if reason:
            self.engine.blockSignals(True)
            self.engine.setCurrentIndex(self.engine.findData(self._engine_value))
            self.engine.blockSignals(False)
        else:
            self._engine_value = value

    def _check_embedder(self) -> None:
        value = str(self.embedder.currentData())
        reason = mert_refusal(self.mert_dir.text().strip()) if value == "mert" else ""
        self.embedder_error.setText(reason)
        self.embedder_error.setVisible(bool(reason))
        if reason:
            self.embedder.blockSignals(True)
            self.embedder.setCurrentIndex(self.embedder.findData(self._embedder_value))
            self.embedder.blockSignals(False)
        else:
            self._embedder_value = value

    def _show_device_message(self, message: str, _problem: bool) -> None:
        self.audio_status.setText(message)
        self.audio_status.setVisible(bool(message))

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

    def _open_account(self) -> Any:
        """The Supabase account of the configured project (None: none configured). Runs on
        a worker thread (the keyring may block)."""
        from player.account import Account, account_config

        config = account_config(self.ctx.settings)
        return Account(config) if config is not None else None

    def _sync_account(self, account: Any, who: Any) -> Any:
        """Sync this profile through the Data API as the signed-in account (worker thread)."""
        from db.sync import sync

        if who is None:
            raise UserFacingError("Sign in first.")
        if str(who.user_id) != str(self.ctx.user_id):
            raise UserFacingError(
                f"The signed-in account ({who.email}) is not this profile's "
                f"({self.ctx.profile.email}); sign in with the profile's email."
            )
        remote = account.remote()
        try:
            return sync(self.ctx.database, remote, who.user_id, storage=account.audio_storage())
        finally:
            remote.close()

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
        """What the form says; a number field that holds no valid number gives None."""
        track_seconds, daily_limit = self.track_seconds.value(), self.daily_limit.value()
        crossfade = self.crossfade.value()
        return {
            "database_url": self.db_url.text().strip() if self.external.isChecked() else "",
            "sync_url": self.sync_url.text().strip(),
            "supabase_url": self.supabase_url.text().strip(),
            "supabase_key": self.supabase_key.text().strip(),
            "audio_device": str(self.device.currentData() or ""),
            "crossfade_seconds": None if crossfade is None else float(crossfade),
            "loudness_target_lufs": float(self.loudness.currentData()),
            "generation_engine": str(self.engine.currentData()),
            "musicgen_model_dir": self.musicgen_dir.text().strip(),
            "embedder": str(self.embedder.currentData()),
            "mert_model_dir": self.mert_dir.text().strip(),
            "track_seconds": None if track_seconds is None else int(track_seconds),
            "daily_limit": None if daily_limit is None else int(daily_limit),
        }

    def problems(self) -> list[str]:
        """Everything that stops a save, in the words shown next to the fields."""
        found = [f.error for f in self.number_fields() if f.error]
        values = self.values()
        if values["generation_engine"] == "musicgen":
            reason = musicgen_refusal(values["musicgen_model_dir"])
            if reason:
                found.append(reason)
        if values["embedder"] == "mert":
            reason = mert_refusal(values["mert_model_dir"])
            if reason:
                found.append(reason)
        return found

    def save(self) -> None:
        settings = self.ctx.settings
        problems = self.problems()
        if problems:
            self._say("Not saved: " + " ".join(problems), error=True)
            return
        values = self.values()
        if values["database_url"]:
            from db.url import parse_database_url

            try:
                parse_database_url(values["database_url"], "What is typed as the server's URL")
            except UserFacingError as exc:
                self._say(str(exc), error=True)
                return
        restart = values["database_url"] != settings.database_url
        engine_changed = values["generation_engine"] != settings.generation_engine or (
            values["musicgen_model_dir"] != settings.musicgen_model_dir
        )
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
        later = [
            what
            for what, changed in (("the database", restart), ("the music engine", engine_changed))
            if changed
        ]
        self._say(
            f"Saved. The change to {' and '.join(later)} takes effect when you restart the app."
            if later
            else "Saved.",
            error=False,
        )
        self._show_account()
        self.saved.emit()

    def _say(self, text: str, error: bool) -> None:
        self.message.setObjectName("ErrorLabel" if error else "Hint")
        self.message.setStyleSheet("")
        self.message.style().polish(self.message)
        self.message.setText(text)

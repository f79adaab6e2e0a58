"""Onboarding: who you are and what you like, on one page, with inline validation.

Shown on first run and re-runnable from Settings. It writes
``users.preferences_profile`` and sets ``onboarding_completed`` through
:func:`player.onboarding.complete_onboarding`; the optional history import runs through
:mod:`player.imports` in the background and feeds the artist suggestions.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from player.accounts import Profile, ensure_user
from player.onboarding import BASS_LEVELS, OnboardingAnswers, complete_onboarding
from ui.tasks import TaskRunner
from ui.views.import_progress import ImportProgressBar

if TYPE_CHECKING:
    from db.database import Database
    from player.imports import ImportCancelled
    from player.imports.history import ImportResult

IMPORT_KINDS = {
    "spotify-export": "Spotify account data (StreamingHistory_music_*.json)",
    "spotify-extended": "Spotify extended streaming history",
    "apple-export": "Apple Music play activity (CSV)",
    "youtube-export": "YouTube / YouTube Music (Google Takeout)",
    "listenbrainz": "ListenBrainz export",
    "lastfm": "Last.fm export",
}


def _chip(text: str) -> QPushButton:
    button = QPushButton(text.replace("&", "&&"))  # "r&b": no mnemonic underline
    button.setCheckable(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setObjectName(f"chip-{text}")
    return button


class OnboardingView(QWidget):
    """Emits :attr:`completed` with the user id once the answers are saved."""

    completed = Signal(object)

    def __init__(
        self,
        database: Database,
        tasks: TaskRunner,
        genres: list[str],
        vibes: list[str],
        profile: Profile | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.database = database
        self.tasks = tasks
        self.genres = list(genres)
        self.vibes = list(vibes)
        self.errors: dict[str, QLabel] = {}
        self.email = QLineEdit()
        self.email.setObjectName("Email")
        self.email.setPlaceholderText("you@example.com")
        self.email.textChanged.connect(lambda _t: self._clear("email"))
        self.artists = QLineEdit()
        self.artists.setObjectName("Artists")
        self.artists.setPlaceholderText("Artists you love, separated by commas")
        self.suggestions = QLabel("")
        self.suggestions.setObjectName("Hint")
        self.suggestions.setWordWrap(True)
        self.suggestions.hide()
        self.bass = QComboBox()
        self.bass.setObjectName("Bass")
        self.bass.addItems(list(BASS_LEVELS))
        self.bass.setCurrentText("medium")
        self.explicit = QCheckBox("Explicit lyrics are fine")
        genre_grid = self._genre_chips()
        vibe_grid = self._vibe_chips()
        tempo_row = self._tempo_range()
        import_row = self._import_controls()
        form = QVBoxLayout()
        form.setSpacing(6)
        self._add_intro(form)
        self._section(form, "Email", self.email, "email")
        self._section(form, "Genres (pick any)", genre_grid, "genres")
        self._section(form, "Favourite artists", self.artists, "artists")
        form.addWidget(self.suggestions)
        self._section(form, "Vibe", vibe_grid, "vibe")
        self._section(form, "Bass", self.bass, "bass_level")
        self._section(form, "Tempo range", tempo_row, "tempo")
        form.addSpacing(8)
        form.addWidget(self.explicit)
        self._section(form, "Import your listening history", import_row, "import")
        form.addWidget(self.import_status)
        form.addWidget(self.import_progress)
        form.addStretch(1)
        self._lay_out(form)
        if profile is not None:
            self.load(profile)

    # -- building the form (one job each) -------------------------------------------------

    @staticmethod
    def _add_intro(form: QVBoxLayout) -> None:
        title = QLabel("Welcome to Infinite Player")
        title.setObjectName("PageTitle")
        intro = QLabel(
            "Music made on this computer, for you. Tell us what you like — you can change it "
            "any time in Settings."
        )
        intro.setObjectName("PageSubtitle")
        intro.setWordWrap(True)
        form.addWidget(title)
        form.addWidget(intro)
        form.addSpacing(12)

    def _genre_chips(self) -> QGridLayout:
        self.genre_buttons: dict[str, QPushButton] = {}
        genre_grid = QGridLayout()
        genre_grid.setSpacing(8)
        for n, genre in enumerate(self.genres):
            chip = _chip(genre)
            chip.toggled.connect(lambda _c: self._clear("genres"))
            self.genre_buttons[genre] = chip
            genre_grid.addWidget(chip, n // 5, n % 5)
        return genre_grid

    def _vibe_chips(self) -> QGridLayout:
        self.vibe_group = QButtonGroup(self)
        self.vibe_group.setExclusive(True)
        self.vibe_buttons: dict[str, QPushButton] = {}
        vibe_grid = QGridLayout()
        vibe_grid.setSpacing(8)
        for n, vibe in enumerate(self.vibes):
            chip = _chip(vibe)
            self.vibe_group.addButton(chip)
            chip.toggled.connect(lambda _c: self._clear("vibe"))
            self.vibe_buttons[vibe] = chip
            vibe_grid.addWidget(chip, n // 5, n % 5)
        return vibe_grid

    def _tempo_range(self) -> QHBoxLayout:
        self.tempo_min = QSpinBox()
        self.tempo_max = QSpinBox()
        for spin, value in ((self.tempo_min, 90), (self.tempo_max, 130)):
            spin.setRange(40, 220)
            spin.setValue(value)
            spin.setSuffix(" BPM")
            spin.valueChanged.connect(lambda _v: self._clear("tempo"))
        tempo_row = QHBoxLayout()
        tempo_row.addWidget(self.tempo_min)
        tempo_row.addWidget(QLabel("to"))
        tempo_row.addWidget(self.tempo_max)
        tempo_row.addStretch(1)
        return tempo_row

    def _import_controls(self) -> QHBoxLayout:
        self.import_kind = QComboBox()
        for kind, label in IMPORT_KINDS.items():
            self.import_kind.addItem(label, kind)
        self.import_button = QPushButton("Import listening history…")
        self.import_button.clicked.connect(self.ask_import)
        self.import_status = QLabel(
            "Optional: the radio starts from the genres of the artists you play most, "
            "where your connected Spotify account or the music catalogue knows them."
        )
        self.import_status.setObjectName("Hint")
        self.import_status.setWordWrap(True)
        self.import_progress = ImportProgressBar()
        import_row = QHBoxLayout()
        import_row.addWidget(self.import_kind, 1)
        import_row.addWidget(self.import_button)
        return import_row

    def _lay_out(self, form: QVBoxLayout) -> None:
        """The form scrolls; "Start listening" stays below it: on a short screen, and when
        error messages make the form longer, it is still in view."""
        inner = QWidget()
        inner.setMaximumWidth(760)
        inner.setLayout(form)
        holder = QWidget()
        center = QHBoxLayout(holder)
        center.setContentsMargins(32, 28, 32, 28)
        center.addStretch(1)
        center.addWidget(inner, 8)
        center.addStretch(1)
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setWidget(holder)
        self.finish = QPushButton("Start listening")
        self.finish.setObjectName("Primary")
        self.finish.setMinimumHeight(40)
        self.finish.setMinimumWidth(180)
        self.finish.clicked.connect(self.submit)
        self.status = QLabel("")
        self.status.setObjectName("ErrorLabel")
        self.status.setWordWrap(True)
        footer = QWidget()
        footer.setObjectName("OnboardingFooter")
        footer_row = QHBoxLayout(footer)
        footer_row.setContentsMargins(32, 10, 32, 12)
        footer_row.addWidget(self.status, 1)
        footer_row.addWidget(self.finish)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.form_scroll, 1)
        layout.addWidget(footer)

    def _section(self, form: QVBoxLayout, label: str, body: Any, key: str) -> None:
        heading = QLabel(label)
        heading.setObjectName("SectionTitle")
        form.addSpacing(10)
        form.addWidget(heading)
        if isinstance(body, QWidget):
            form.addWidget(body)
        else:
            form.addLayout(body)
        error = QLabel("")
        error.setObjectName("ErrorLabel")
        error.hide()
        self.errors[key] = error
        form.addWidget(error)

    def _clear(self, key: str) -> None:
        label = self.errors.get(key)
        if label is not None and label.isVisible():
            label.hide()
            if key == "email":
                self.email.setProperty("invalid", False)
                self.email.style().polish(self.email)

    # -- answers ------------------------------------------------------------------------

    def answers(self) -> OnboardingAnswers:
        checked_vibe = self.vibe_group.checkedButton()
        return OnboardingAnswers(
            email=self.email.text().strip(),
            genres=[g for g, b in self.genre_buttons.items() if b.isChecked()],
            favorite_artists=[a.strip() for a in self.artists.text().split(",") if a.strip()],
            vibe=next((v for v, b in self.vibe_buttons.items() if b is checked_vibe), ""),
            bass_level=self.bass.currentText(),
            tempo_min=self.tempo_min.value(),
            tempo_max=self.tempo_max.value(),
            explicit_lyrics=self.explicit.isChecked(),
        )

    def load(self, profile: Profile) -> None:
        """Fill the form from a saved profile, read the one way the radio reads it."""
        from player.taste.preferences import Preferences

        prefs = Preferences.from_profile(profile.preferences)
        self.email.setText(profile.email)
        for genre in prefs.genres:
            if genre in self.genre_buttons:
                self.genre_buttons[genre].setChecked(True)
        self.artists.setText(", ".join(prefs.favorite_artists))
        if prefs.vibe in self.vibe_buttons:
            self.vibe_buttons[prefs.vibe].setChecked(True)
        self.bass.setCurrentText(prefs.bass_level)
        if prefs.tempo_range is not None:
            lo, hi = prefs.tempo_range
            self.tempo_min.setValue(round(lo))
            self.tempo_max.setValue(round(hi))
        self.explicit.setChecked(bool(profile.preferences.get("explicit_lyrics")))

    def show_errors(self, problems: dict[str, str]) -> None:
        for key, label in self.errors.items():
            message = problems.get(key)
            label.setText(message or "")
            label.setVisible(bool(message))
        self.email.setProperty("invalid", "email" in problems)
        self.email.style().polish(self.email)
        self.status.setText("Please fix the highlighted answers." if problems else "")

    def submit(self) -> None:
        answers = self.answers()
        problems = answers.errors(self.genres, self.vibes)
        self.show_errors(problems)
        if problems:
            return
        self.finish.setEnabled(False)
        self.status.setText("")
        database, genres, vibes = self.database, self.genres, self.vibes

        def save(_c: Any) -> uuid.UUID:
            problems = answers.errors(genres, vibes)
            if problems:
                from base.errors import UserFacingError

                raise UserFacingError(" ".join(problems.values()))
            return complete_onboarding(database, answers, genres)

        def failed(exc: BaseException) -> None:
            self.finish.setEnabled(True)
            self.status.setText(str(exc))

        def done(user_id: uuid.UUID) -> None:
            self.finish.setEnabled(True)
            self.completed.emit(user_id)

        self.tasks.run(
            save, description="Saving your profile", serial=True, on_done=done, on_error=failed
        )

    # -- history import ------------------------------------------------------------------

    def ask_import(self) -> None:
        # The email first: picking a file and only then hearing it was needed wastes a trip.
        if not self._email_ready_for_import():
            return
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import listening history",
            str(Path.home()),
            "Exports (*.json *.csv *.zip);;All files (*)",
        )
        if path:
            self.import_history(str(self.import_kind.currentData()), Path(path))

    def import_history(self, kind: str, path: Path) -> None:
        """Import an export file for the email entered above, then suggest its top artists."""
        if not self._email_ready_for_import():
            return
        answers = self.answers()
        database = self.database

        def work(ctx: Any) -> tuple[ImportResult | ImportCancelled, list[str]]:
            from player.imports import ImportCancelled, ImportProgress
            from player.imports.history import import_history, top_artists

            user_id = ensure_user(database, answers.email)
            try:
                result = import_history(
                    database,
                    user_id,
                    kind,
                    path,
                    progress=ImportProgress(ctx.progress, ctx.cancel_event),
                )
            except ImportCancelled as cancelled:
                return cancelled, []
            return result, top_artists(database, user_id, 10)

        def done(result: tuple[ImportResult | ImportCancelled, list[str]]) -> None:
            from player.imports.history import ImportResult

            outcome, artists = result
            self.import_button.setEnabled(True)
            # ImportResult.summary(): imported, skipped and recovered, in plain words.
            self.import_status.setText(
                f"{path.name}:\n{outcome.summary()}"
                if isinstance(outcome, ImportResult)
                else str(outcome)
            )
            self.set_suggestions(artists)

        def failed(exc: BaseException) -> None:
            self.import_button.setEnabled(True)
            self.errors["import"].setText(str(exc))
            self.errors["import"].show()

        self.import_button.setEnabled(False)
        self.errors["import"].hide()
        task = self.tasks.run(
            work, description=f"Importing {path.name}", on_done=done, on_error=failed
        )
        self.import_progress.follow(task)

    def _email_ready_for_import(self) -> bool:
        problem = self.answers().errors().get("email")
        if problem:
            self.show_errors(
                {
                    "email": problem,
                    "import": "Enter your email first: the history is saved to your profile.",
                }
            )
            self.email.setFocus()
            self.form_scroll.ensureWidgetVisible(self.email)
        return not problem

    def set_suggestions(self, artists: list[str]) -> None:
        if not artists:
            return
        self.suggestions.setText("From your history: " + ", ".join(artists))
        self.suggestions.show()
        completer = QCompleter(artists, self.artists)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.artists.setCompleter(completer)
        if not self.artists.text().strip():
            self.artists.setText(", ".join(artists[:5]))

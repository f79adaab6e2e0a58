"""Onboarding typed and clicked through, with inline validation, on the real database."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from player.accounts import find_user, load_profile
from ui.tasks import SyncTaskRunner, TaskRunner
from ui.views.onboarding import OnboardingView

GENRES = ["pop", "house", "jazz", "ambient"]
VIBES = ["chill", "energetic", "dark"]


def test_complete_onboarding_by_typing_and_clicking(qtbot, database):
    tasks = TaskRunner(QApplication.instance())
    view = OnboardingView(database, tasks, GENRES, VIBES)
    qtbot.addWidget(view)
    view.show()
    # submitting nothing shows what is missing, next to each field
    qtbot.mouseClick(view.finish, Qt.MouseButton.LeftButton)
    assert view.errors["email"].isVisible() and "email" in view.errors["email"].text().lower()
    assert view.errors["genres"].text() == "Pick at least one genre."
    assert view.errors["vibe"].isVisible()
    assert view.email.property("invalid") is True
    # a wrong email is named
    qtbot.keyClicks(view.email, "ada-at-example")
    assert not view.errors["email"].isVisible()  # typing clears the message
    qtbot.mouseClick(view.finish, Qt.MouseButton.LeftButton)
    assert "ada-at-example" in view.errors["email"].text()
    view.email.clear()
    qtbot.keyClicks(view.email, "ada@example.com")
    qtbot.mouseClick(view.genre_buttons["house"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.genre_buttons["jazz"], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(view.artists, "Daft Punk, Nujabes")
    qtbot.mouseClick(view.vibe_buttons["chill"], Qt.MouseButton.LeftButton)
    view.bass.setCurrentText("high")
    view.tempo_max.clear()
    qtbot.keyClicks(view.tempo_max, "80")  # below the minimum of 90
    qtbot.mouseClick(view.finish, Qt.MouseButton.LeftButton)
    assert view.errors["tempo"].isVisible()
    view.tempo_max.selectAll()
    qtbot.keyClicks(view.tempo_max, "126")
    # (on the box itself: a QCheckBox ignores clicks beside its label)
    qtbot.mouseClick(
        view.explicit, Qt.MouseButton.LeftButton, pos=QPoint(8, view.explicit.height() // 2)
    )
    with qtbot.waitSignal(view.completed, timeout=20000) as done:
        qtbot.mouseClick(view.finish, Qt.MouseButton.LeftButton)
    user_id = done.args[0]
    assert find_user(database, "ada@example.com") == user_id
    profile = load_profile(database, user_id)
    assert profile.onboarding_completed
    prefs = profile.preferences
    assert prefs["genres"] == ["house", "jazz"]
    assert prefs["favorite_artists"] == ["Daft Punk", "Nujabes"]
    assert prefs["vibe"] == "chill" and prefs["bass_level"] == "high"
    assert prefs["tempo_range"] == "90-126" and prefs["explicit_lyrics"] is True
    tasks.shutdown()


def test_history_import_feeds_artist_suggestions(qtbot, database, tmp_path):
    export = tmp_path / "StreamingHistory_music_0.json"
    export.write_text(
        '[{"endTime": "2024-01-02 10:00", "artistName": "Bonobo", "trackName": "Kerala",'
        ' "msPlayed": 200000},'
        ' {"endTime": "2024-01-02 10:05", "artistName": "Bonobo", "trackName": "Cirrus",'
        ' "msPlayed": 180000},'
        ' {"endTime": "2024-01-02 10:09", "artistName": "Tycho", "trackName": "Awake",'
        ' "msPlayed": 240000}]',
        encoding="utf-8",
    )
    tasks = TaskRunner(QApplication.instance())
    view = OnboardingView(database, tasks, GENRES, VIBES)
    qtbot.addWidget(view)
    # the import needs to know whose history it is
    view.import_history("spotify-export", export)
    assert "email" in view.errors["import"].text().lower()
    qtbot.keyClicks(view.email, "bo@example.com")
    with qtbot.waitSignal(tasks.tasks_changed, timeout=20000):
        view.import_history("spotify-export", export)
    qtbot.waitUntil(lambda: "Bonobo" in view.suggestions.text(), timeout=30000)
    assert view.suggestions.text().index("Bonobo") < view.suggestions.text().index("Tycho")
    assert view.artists.text().startswith("Bonobo")
    assert view.artists.completer() is not None
    tasks.shutdown()


def test_import_asks_for_the_email_before_the_file_picker(qtbot, database, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    picked: list[str] = []
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileName",
        staticmethod(lambda *a, **k: (picked.append("asked"), ("", ""))[1]),
    )
    view = OnboardingView(database, SyncTaskRunner(), ["house"], ["chill"])
    qtbot.addWidget(view)
    view.show()
    qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    assert picked == []  # no file picker before there is an email to save it to
    assert view.errors["import"].isVisible() and "email first" in view.errors["import"].text()
    assert view.email.hasFocus() or view.email.property("invalid") is True
    qtbot.keyClicks(view.email, "me@example.com")
    qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    assert picked == ["asked"]


def test_dropdowns_draw_their_arrow(qtbot):
    """theme.qss names an arrow image for QComboBox; the file it points at exists."""
    import re
    from pathlib import Path

    from ui.theme import style_sheet

    found = re.search(r"QComboBox::down-arrow\s*\{[^}]*url\(([^)]+)\)", style_sheet())
    assert found is not None and Path(found.group(1)).is_file()

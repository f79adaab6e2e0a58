"""The app's import (onboarding): progress in place, cancel, and the result in words."""

from __future__ import annotations

import json
import time

from PySide6.QtWidgets import QApplication

from player.accounts import find_user
from tests.imports.test_history_db import history_count
from tests.imports.test_real_layouts import ACTIVITY, DAILY, LIBRARY, apple_zip
from ui.tasks import TaskRunner
from ui.views.onboarding import OnboardingView

GENRES = ["house", "jazz", "lo-fi"]
VIBES = ["chill", "energetic"]


def test_import_result_is_shown_in_plain_words(qtbot, database, tmp_path):
    tasks = TaskRunner(QApplication.instance())
    view = OnboardingView(database, tasks, GENRES, VIBES)
    qtbot.addWidget(view)
    qtbot.keyClicks(view.email, "apple@example.com")
    view.import_history("apple-export", apple_zip(tmp_path, ACTIVITY, DAILY, LIBRARY))
    assert view.import_progress.isVisibleTo(view)  # bar and cancel while it runs
    qtbot.waitUntil(lambda: "Imported" in view.import_status.text(), timeout=30000)
    text = view.import_status.text()
    assert "Imported 6 plays." in text
    assert "2 plays had no artist in the export" in text
    assert "artist from Daily Tracks for 4 plays" in text
    qtbot.waitUntil(lambda: not view.import_progress.isVisibleTo(view), timeout=5000)
    assert "Frank Ocean" in view.suggestions.text()
    tasks.shutdown()


def test_cancel_button_stops_the_import_and_nothing_is_saved(qtbot, database, tmp_path):
    export = tmp_path / "Streaming_History_Audio_2023.json"
    with export.open("w") as out:  # ~25 MB: seconds of work, long enough to cancel
        out.write("[")
        for i in range(120_000):
            record = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_577_836_800 + 60 * i)),
                "ms_played": 200_000,
                "master_metadata_track_name": f"Track {i}",
                "master_metadata_album_artist_name": f"Artist {i % 50}",
                "master_metadata_album_album_name": "Album",
                "spotify_track_uri": f"spotify:track:{i:022d}",
                "padding": "x" * 100,
            }
            out.write(("," if i else "") + json.dumps(record))
        out.write("]")
    tasks = TaskRunner(QApplication.instance())
    view = OnboardingView(database, tasks, GENRES, VIBES)
    qtbot.addWidget(view)
    qtbot.keyClicks(view.email, "cancel@example.com")
    view.import_history("spotify-extended", export)
    qtbot.waitUntil(lambda: view.import_progress.bar.value() > 0, timeout=30000)
    view.import_progress.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in view.import_status.text(), timeout=60000)
    assert "nothing from this export was saved" in view.import_status.text()
    assert view.import_button.isEnabled()
    user = find_user(database, "cancel@example.com")
    assert user is not None and history_count(database, user) == 0
    tasks.shutdown()

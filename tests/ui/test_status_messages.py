"""One component for passing messages: queued (never two on top of each other), with a
severity and a timeout; lasting conditions are an indicator, not a message."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.status import MIN_SHOW_MS, StatusMessages


def test_messages_queue_one_at_a_time_and_expire(qtbot):
    line = StatusMessages()
    qtbot.addWidget(line)
    line.say("first", "info", 4000)
    line.say("second", "error", 300)
    line.say("second", "error", 300)  # the same message twice is said once
    assert line.text() == "first" and [m.text for m in line.pending()] == ["second"]
    # the next one waits until the first had its moment, then replaces it
    qtbot.waitUntil(lambda: line.text() == "second", timeout=MIN_SHOW_MS + 1000)
    assert line.property("severity") == "error" and line.pending() == []
    # an error is transient too: a later success never sits under a stale error
    qtbot.waitUntil(lambda: line.text() == "", timeout=2000)
    assert line.current is None


def test_no_sound_device_is_an_indicator_not_a_status_line(qtbot, session):
    window, ctx = session.window, session.ctx
    assert ctx.playback.engine.output_kind == "null"
    assert window.device_indicator.isVisible()
    assert "No sound device" in window.device_indicator.text()
    assert "Settings" in window.device_indicator.toolTip()
    current = window.messages.current
    assert current is None or "sound device" not in current.text
    assert window.statusBar().currentMessage() == ""


def test_empty_playlist_name_is_refused_in_the_dialog(qtbot, session, make_tracks):
    from PySide6.QtCore import QTimer

    window, ctx = session.window, session.ctx
    view = window.library_view
    window.show_view("library")
    said: list[tuple[str, int, str]] = []
    view.message_for_window.connect(lambda *a: said.append(a))

    def type_into_dialog() -> None:
        dialog = view.name_dialog
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
        # refused where the listener is looking, and the dialog stays open
        assert dialog.isVisible() and dialog.error.isVisible()
        assert dialog.error.text() == "A playlist needs a name."
        qtbot.keyClicks(dialog.edit, "Road trip")
        assert not dialog.error.isVisible()
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, type_into_dialog)
    view.ask_new_playlist()
    qtbot.waitUntil(lambda: any("Created Road trip" in s[0] for s in said), timeout=10000)
    assert window.messages.current is None or window.messages.current.severity != "error"
    qtbot.waitUntil(lambda: view.current_playlist is not None, timeout=10000)
    assert view.current_playlist.name == "Road trip"
    assert "right-click" in view.empty.text() and "Drag" not in view.empty.text()
    assert view.public.text().startswith("Public: other listeners")
    # adding tracks says so
    ids = make_tracks(ctx.user_id, 2)
    view.add_to_playlist(view.current_playlist, ids)
    qtbot.waitUntil(lambda: any(s[0] == "Added 2 tracks to Road trip" for s in said))
    qtbot.waitUntil(lambda: window.messages.text() == "Added 2 tracks to Road trip", timeout=5000)


def test_history_counts_in_plain_english(qtbot, session, make_tracks):
    window, ctx = session.window, session.ctx
    for track_id in make_tracks(ctx.user_id, 2):
        ctx.library.record_play(ctx.library.track(track_id))
    view = window.library_view
    window.show_view("library")
    view.show_kind("history")
    qtbot.waitUntil(lambda: view.count.text() == "2 entries", timeout=10000)


def test_search_matches_what_is_shown_not_hidden_explanations(qtbot, session, make_tracks):
    ctx = session.ctx
    make_tracks(ctx.user_id, 2)  # explanations read "Because you like tone N"
    assert ctx.library.tracks(search="Because") == []
    title = ctx.library.tracks()[0].title
    assert [t.title for t in ctx.library.tracks(search=title.split()[0])] != []

"""The Radio view on the real database and generator, playing through a null output."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import Qt


def named(metadata: dict) -> bool:
    """A track streams before its row is booked, so its first change may carry no id yet;
    the same track is announced again once named (Playback.source_named)."""
    return "track_id" in metadata


def named_other_than(track_id: str) -> Callable[[dict], bool]:
    """A change that names a track other than ``track_id`` (see :func:`named`)."""
    return lambda metadata: metadata.get("track_id") not in (None, track_id)


def test_start_radio_plays_fills_the_queue_off_the_gui_process(qtbot, session):
    window, ctx = session.window, session.ctx
    window.show_view("radio")
    view = window.radio_view
    qtbot.waitUntil(lambda: "left today" in view.quota.text())
    assert view.quota.text() == "20 of 20 left today"
    with qtbot.waitSignal(
        ctx.playback.track_changed, timeout=60000, check_params_cb=named
    ) as playing:
        qtbot.mouseClick(view.start_taste, Qt.MouseButton.LeftButton)
    metadata = playing.args[0]
    assert window.now_playing.title.text() == metadata["title"]
    assert view.station.text() == "Playing: Your taste"
    # the queue fills: the playing track plus two generated ahead
    qtbot.waitUntil(
        lambda: [i.status for i in view.model.items()].count("ready") == 2, timeout=60000
    )
    statuses = [i.status for i in view.model.items()]
    assert statuses.count("playing") == 1
    assert ctx.playback.state == "playing"
    # The tracks were rendered by the engine's own process, so rendering never held this
    # process's interpreter lock (tests/bench/bench_ui.py measures the event loop).
    engine = ctx.generation.generator
    assert engine.pid is not None and engine.pid != os.getpid()
    qtbot.waitUntil(lambda: view.quota.text() == "17 of 20 left today", timeout=10000)
    # a skip plays the next generated track and the radio refills behind it
    first = metadata["track_id"]
    with qtbot.waitSignal(
        ctx.playback.track_changed,
        timeout=30000,
        check_params_cb=named_other_than(first),
    ):
        qtbot.mouseClick(view.skip, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: [str(i.track_id) for i in view.model.items() if i.status == "played"] == [first]
    )


def test_quota_reached_shows_what_happens_next(qtbot, session):
    window, ctx = session.window, session.ctx
    ctx.generation.daily_limit = 1
    window.show_view("radio")
    view = window.radio_view
    with qtbot.waitSignal(window.radio.quota_reached, timeout=60000):
        qtbot.mouseClick(view.start_genre, Qt.MouseButton.LeftButton)
    assert view.banner.isVisible()
    text = view.banner_text.text()
    assert "today's free generations" in text and "midnight UTC" in text
    assert "library keeps playing" in text
    qtbot.waitUntil(lambda: view.quota.text() == "0 of 1 left today", timeout=10000)
    # the one track made before the limit still plays
    qtbot.waitUntil(lambda: ctx.playback.state == "playing", timeout=30000)


def test_a_track_heard_to_the_end_teaches_the_radio_and_a_skip_too(qtbot, session):
    """The listener model hears the app: a natural end is a full listen (+0.5), the skip
    button an early skip (−1)."""
    window, ctx = session.window, session.ctx
    window.show_view("radio")
    view = window.radio_view
    with qtbot.waitSignal(
        ctx.playback.track_changed, timeout=60000, check_params_cb=named
    ) as playing:
        qtbot.mouseClick(view.start_taste, Qt.MouseButton.LeftButton)
    first = playing.args[0]["track_id"]
    # the first track plays to its end, then the next one starts by itself
    with qtbot.waitSignal(
        ctx.playback.track_changed,
        timeout=60000,
        check_params_cb=named_other_than(first),
    ):
        pass
    model = window.radio.service.planner.model
    qtbot.waitUntil(lambda: [o.reward for o in model.observations] == [0.5], timeout=10000)
    qtbot.mouseClick(view.skip, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [o.reward for o in model.observations] == [0.5, -1.0], timeout=10000)


def test_when_the_quota_is_reached_the_app_says_so_everywhere(qtbot, session, database):
    from player.bands.service import BandService

    window, ctx = session.window, session.ctx
    ctx.generation.daily_limit = 1
    window.show_view("radio")
    view = window.radio_view
    with qtbot.waitSignal(window.radio.quota_reached, timeout=60000):
        qtbot.mouseClick(view.start_taste, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.quota.text() == "0 of 1 left today", timeout=10000)
    assert view.quota.property("level") == "out"  # no longer the "all is well" colour
    # Premium is explained where it is mentioned
    assert view.premium_button.isVisible()
    qtbot.mouseClick(view.premium_button, Qt.MouseButton.LeftButton)
    assert view.premium_dialog.isVisible()
    assert "daily limit" in view.premium_dialog.informativeText()
    view.premium_dialog.close()
    qtbot.waitUntil(lambda: ctx.playback.state == "playing", timeout=30000)
    made = [i.track_id for i in view.model.items() if i.track_id is not None]
    # a new station would make nothing and drop what is queued: refused, with the reason
    qtbot.mouseClick(view.start_vibe, Qt.MouseButton.LeftButton)
    assert view.station_note.isVisible() and "used up" in view.station_note.text()
    assert view.station.text() == "Playing: Your taste"
    band = BandService(database).create_band(ctx.user_id, genres=["house"])
    window.bands_view.page.show_band(band, False)
    window.bands_view.page.start_radio()
    assert "used up" in window.bands_view.page.notice.text()
    assert [i.track_id for i in view.model.items() if i.track_id is not None] == made
    # Skip at the end of the queue says why nothing comes next
    qtbot.waitUntil(lambda: not ctx.playback.can_go_next, timeout=10000)
    window.actions_["next"].trigger()
    qtbot.waitUntil(lambda: "free generations are used up" in window.messages.text())
    assert window.messages.property("severity") == "warning"


def test_play_with_nothing_queued_starts_the_radio(qtbot, session):
    window, ctx = session.window, session.ctx
    window.show_view("library")
    assert not ctx.playback.current
    with qtbot.waitSignal(ctx.playback.track_changed, timeout=60000):
        qtbot.mouseClick(window.now_playing.play_button, Qt.MouseButton.LeftButton)
    assert window.current_view == "radio" and window.radio.active
    assert window.radio_view.station.text() == "Playing: Your taste"


def test_genre_and_vibe_radio_start_from_the_onboarding_picks(qtbot, session):
    view = session.window.radio_view
    # the conftest listener picked house and lo-fi, chill (not the lists' pop/balanced)
    assert view.genre.currentText() == "house"
    assert view.vibe.currentText() == "chill"

"""Settings say what is true: a choice that cannot take effect is refused with the reason,
an out-of-range number is an error (never silently replaced), and what is derived from a
setting changes where it is shown, at once."""

from __future__ import annotations

from PySide6.QtCore import Qt

from player.settings import Settings


def retype(qtbot, field, text: str) -> None:
    field.selectAll()
    field.clear()
    qtbot.keyClicks(field, text)


def test_musicgen_without_a_model_is_refused_with_the_reason(qtbot, session, tmp_path, monkeypatch):
    monkeypatch.setenv("INFINITE_PLAYER_MUSICGEN", str(tmp_path / "no-model-here"))
    window, ctx = session.window, session.ctx
    window.show_view("settings")
    view = window.settings_view
    before = view.engine.currentData()
    view.engine.setCurrentIndex(view.engine.findData("musicgen"))
    # refused on the spot: the choice goes back, and the reason is next to it
    assert view.engine.currentData() == before
    assert view.engine_error.isVisible()
    assert "MusicGen needs a downloaded model: Settings → Models" in view.engine_error.text()
    # a folder that holds no model is refused at save too, and nothing is stored
    view.musicgen_dir.setText(str(tmp_path))
    view.engine.setCurrentIndex(view.engine.findData("musicgen"))
    assert view.engine.currentData() == before and str(tmp_path) in view.engine_error.text()
    # a folder that holds one is accepted
    (tmp_path / "config.json").write_text("{}")
    view.engine.setCurrentIndex(view.engine.findData("musicgen"))
    assert view.engine.currentData() == "musicgen" and not view.engine_error.isVisible()
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert ctx.settings.generation_engine == "musicgen"
    assert "takes effect when you restart" in view.message.text()  # and says when


def test_detailed_analysis_without_a_model_is_refused(qtbot, session, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("INFINITE_PLAYER_MERT", raising=False)
    window = session.window
    view = window.settings_view
    view.embedder.setCurrentIndex(view.embedder.findData("mert"))
    assert view.embedder.currentData() != "mert"
    assert "needs a downloaded model" in view.embedder_error.text()


def test_out_of_range_numbers_are_errors_not_replacements(qtbot, session):
    window, ctx = session.window, session.ctx
    window.show_view("settings")
    view = window.settings_view
    cases = (
        (view.track_seconds, "5", "track_seconds", "10 to 900 s"),
        (view.daily_limit, "0", "daily_limit", "1 to 10000"),
        (view.crossfade, "99", "crossfade_seconds", "0.0 to 12.0 s"),
    )
    stored = {key: ctx.settings.get(key) for _f, _t, key, _r in cases}
    for field, text, key, span in cases:
        field.setFocus()
        retype(qtbot, field, text)
        field.clearFocus()  # leaving the field does not "fix" it
        assert field.text() == text
        error = view.errors[key]
        assert error.isVisible() and span in error.text() and text in error.text()
        assert field.property("invalid") is True
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert view.message.text().startswith("Not saved:")
    assert {key: ctx.settings.get(key) for key in stored} == stored
    retype(qtbot, view.track_seconds, "abc")
    assert "'abc' is not a number" in view.errors["track_seconds"].text()
    # fixed values clear their errors and save
    for field, text in ((view.track_seconds, "60"), (view.daily_limit, "30")):
        retype(qtbot, field, text)
    retype(qtbot, view.crossfade, "1.5")
    assert not any(label.isVisible() for label in view.errors.values())
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert view.message.text() == "Saved."
    assert (ctx.settings.track_seconds, ctx.settings.daily_limit) == (60, 30)
    assert ctx.settings.crossfade_seconds == 1.5


def test_daily_limit_shows_everywhere_at_once(qtbot, session):
    window, ctx = session.window, session.ctx
    view = window.settings_view
    radio = window.radio_view
    qtbot.waitUntil(lambda: radio.quota.text() == "20 of 20 left today", timeout=10000)
    window.show_view("settings")
    retype(qtbot, view.daily_limit, "30")
    assert view.premium.text() == "Free: 30 generations a day"  # as it is typed
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert ctx.generation.daily_limit == 30
    qtbot.waitUntil(lambda: radio.quota.text() == "30 of 30 left today", timeout=10000)
    retype(qtbot, view.track_seconds, "45")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert window.radio.service.track_seconds == 45.0  # the next radio track's length
    qtbot.waitUntil(lambda: Settings.load(ctx.settings.path).daily_limit == 30)


def test_listener_facing_words_have_no_jargon(qtbot, session):
    window = session.window
    view = window.settings_view
    texts = [view.db_status.text(), view.loudness.currentText(), view.embedder.currentText()]
    texts += [view.engine.itemText(i) for i in range(view.engine.count())]
    joined = " ".join(texts)
    for word in ("embedded PostgreSQL", "LUFS", "MERT", "Embedder"):
        assert word not in joined
    assert view.loudness.currentText() == "Normal"  # -14 LUFS, said in words


def test_a_bad_server_url_is_explained_once(qtbot, session):
    view = session.window.settings_view
    view.external.setChecked(True)
    view.db_url.setText("not a url")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    text = view.message.text()
    assert "not a valid database URL" in text
    assert text.lower().count("database url") == 1

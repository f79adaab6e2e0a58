"""Settings > Models against the loopback hub: licence shown and accepted once, progress,
cancel then resume, remove; all on worker threads (the panel only paints)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from player import models
from player.settings import Settings
from tests.models.hub_server import LoopbackHub

pytest.importorskip("pytestqt")


@pytest.fixture
def panel(qtbot: Any, tmp_path: Path) -> Any:
    from PySide6.QtWidgets import QApplication

    from ui.tasks import TaskRunner
    from ui.views.settings_models import ModelsPanel

    tasks = TaskRunner(QApplication.instance())
    # The panel needs the settings and the task runner; no database or engine here.
    ctx = SimpleNamespace(
        settings=Settings(tmp_path / "settings.json"), tasks=tasks, database=None, generation=None
    )
    widget = ModelsPanel(ctx)
    qtbot.addWidget(widget)
    assert widget.engine_reason.text() == ""  # nothing is read before the page is shown
    widget.show()
    qtbot.waitUntil(lambda: widget.engine_reason.text() != "", timeout=20_000)
    yield widget
    tasks.shutdown()


def test_the_page_lists_the_catalogue_and_why_the_engine_is_what_it_is(panel: Any) -> None:
    assert set(panel.rows) == {e.name for e in models.catalogue()}
    small = panel.rows["musicgen-small"]
    assert small.status.text() == "Not downloaded." and small.action.text() == "Download"
    assert "Procedural engine" in panel.engine_reason.text()
    melody = panel.rows["musicgen-melody"]
    assert "Not used yet" not in melody.status.text()  # the engine runs it now
    assert "melody-conditioned" in melody.detail.text() and "(not pinned)" in melody.detail.text()
    assert "commit 4c8334b02c6e" in small.detail.text()


def test_licence_then_download_with_progress(qtbot: Any, panel: Any, hub: LoopbackHub) -> None:
    row = panel.rows["musicgen-small"]
    row.action.click()
    assert row.licence_box.isVisibleTo(panel)
    assert "creativecommons.org/licenses/by-nc/4.0" in row.licence.text()
    assert hub.state.requests() == []  # nothing before the licence is accepted
    hub.state.throttle = 0.002
    row.accept_button.click()
    assert Settings.load(panel.ctx.settings.path).get("accepted_model_licences") == {
        "musicgen-small": "CC-BY-NC-4.0"
    }
    assert row.action.text() == "Cancel" and row.progress.isVisibleTo(panel)
    qtbot.waitUntil(lambda: "/s" in row.status.text(), timeout=20_000)  # bytes, rate, time left
    qtbot.waitUntil(lambda: row.status.text().startswith("Downloaded and verified"), timeout=60_000)
    assert models.local_state(row.entry).state == "installed"
    assert not row.action.isVisibleTo(panel) and row.remove_button.isVisibleTo(panel)

    row.remove_button.click()
    qtbot.waitUntil(lambda: row.status.text().startswith("Removed"), timeout=20_000)
    assert models.local_state(row.entry).state == "absent"


def test_cancel_keeps_the_bytes_and_resume_finishes(
    qtbot: Any, panel: Any, hub: LoopbackHub
) -> None:
    row = panel.rows["musicgen-small"]
    models.accept_licence(row.entry, panel.ctx.settings)  # accepted once: not asked again
    hub.state.throttle = 0.02
    row.action.click()
    assert not row.licence_box.isVisibleTo(panel)
    qtbot.waitUntil(lambda: row.progress.value() > 50, timeout=30_000)  # into the weights
    row.action.click()  # Cancel
    qtbot.waitUntil(lambda: row.action.text() == "Resume", timeout=30_000)
    assert "cancelled" in row.status.text().lower()
    assert models.local_state(row.entry).state == "partial"

    hub.state.throttle = 0.0
    row.action.click()
    qtbot.waitUntil(lambda: row.status.text().startswith("Downloaded and verified"), timeout=60_000)
    assert any(r[2].startswith("bytes=") for r in hub.state.requests("/cdn/"))


def test_a_new_mert_model_re_embeds_the_library_in_the_background(
    qtbot: Any,
    hub: LoopbackHub,
    database: Any,
    make_user: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import soundfile as sf
    from PySide6.QtWidgets import QApplication

    import player.embedding as embedding
    from db.models import Embedding, GeneratedTrack
    from player.embedding.descriptor import DescriptorEmbedder
    from player.embedding.store import store_track_vector
    from tests.embedding.conftest import clicks
    from ui.tasks import TaskRunner
    from ui.views.settings_models import ModelsPanel

    monkeypatch.delenv("INFINITE_PLAYER_MERT", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(embedding, "_CACHE", {})
    uid = make_user()
    audio = tmp_path / "track.wav"
    sf.write(audio, clicks(120.0, seconds=3.0, rate=44_100), 44_100)
    descriptor = DescriptorEmbedder()
    with database.service_session() as s:
        track = GeneratedTrack(user_id=uid, url=audio.resolve().as_uri(), duration=3, mode="new")
        s.add(track)
        s.flush()
        track_id = track.id
        store_track_vector(s, track_id, descriptor.embed_file(audio), descriptor.space)

    tasks = TaskRunner(QApplication.instance())
    settings = Settings(tmp_path / "settings.json")  # embedder "auto"
    panel = ModelsPanel(
        SimpleNamespace(settings=settings, tasks=tasks, database=database, generation=None)
    )
    qtbot.addWidget(panel)
    panel.show()
    try:
        models.accept_licence(models.find("mert-v1-95m"), settings)
        panel.download("mert-v1-95m")
        qtbot.waitUntil(lambda: panel.reembedding is not None, timeout=60_000)
        qtbot.waitUntil(lambda: panel.reembedding.done, timeout=120_000)
        assert "re-embedded" in panel.rows["mert-v1-95m"].status.text()
        with database.service_session() as s:
            row = s.query(Embedding).filter_by(track_id=str(track_id)).one()
            assert row.embedding_space == "mert-32x2"  # the tiny MERT's space, not mixed
    finally:
        tasks.shutdown()


def test_the_engine_reason_never_imports_torch_into_the_gui_process(
    tiny_musicgen_repo: Path,
) -> None:
    """With a MusicGen model on disk the answer needs torch; a child process gives it."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; from ui.views.settings_models import engine_reason; r = engine_reason(); "
        "print('torch' in sys.modules); print(r)"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "INFINITE_PLAYER_MUSICGEN": str(tiny_musicgen_repo),
        "QT_QPA_PLATFORM": "offscreen",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    imported, reason = done.stdout.strip().splitlines()[-2:]
    assert imported == "False"
    import torch

    if not torch.cuda.is_available():
        assert "no GPU" in reason and tiny_musicgen_repo.name in reason
    else:
        assert reason.startswith(("MusicGen", "Procedural engine"))


def test_switching_the_embedder_in_settings_re_embeds_in_the_background(
    qtbot: Any,
    hub: LoopbackHub,
    database: Any,
    make_user: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import soundfile as sf
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication

    import player.embedding as embedding
    from db.models import Embedding, GeneratedTrack
    from player.embedding.descriptor import DescriptorEmbedder
    from player.embedding.store import store_track_vector
    from tests.embedding.conftest import clicks
    from ui.tasks import TaskRunner
    from ui.views.settings_models import ModelsPanel

    class SettingsForm(QObject):  # the Settings view's "saved" signal, nothing else
        saved = Signal()

    monkeypatch.delenv("INFINITE_PLAYER_MERT", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(embedding, "_CACHE", {})
    settings = Settings(tmp_path / "settings.json", {"embedder": "descriptor"})
    mert = models.find("mert-v1-95m")
    models.accept_licence(mert, settings)
    models.download(mert, settings=settings)  # while the descriptor embedder stays chosen
    uid = make_user()
    audio = tmp_path / "track.wav"
    sf.write(audio, clicks(100.0, seconds=3.0, rate=44_100), 44_100)
    descriptor = DescriptorEmbedder()
    with database.service_session() as s:
        track = GeneratedTrack(user_id=uid, url=audio.resolve().as_uri(), duration=3, mode="new")
        s.add(track)
        s.flush()
        track_id = track.id
        store_track_vector(s, track_id, descriptor.embed_file(audio), descriptor.space)

    form = SettingsForm()
    tasks = TaskRunner(QApplication.instance())
    panel = ModelsPanel(
        SimpleNamespace(settings=settings, tasks=tasks, database=database, generation=None),
        saved=form.saved,
    )
    qtbot.addWidget(panel)
    try:
        form.saved.emit()  # saved without changing the embedder: nothing to do
        assert panel.reembedding is None
        settings.set("embedder", "mert")
        form.saved.emit()
        assert panel.reembedding is not None
        qtbot.waitUntil(lambda: panel.reembedding.done, timeout=120_000)
        assert panel.reembedding.error is None
        with database.service_session() as s:
            row = s.query(Embedding).filter_by(track_id=str(track_id)).one()
            assert row.embedding_space == "mert-32x2"
    finally:
        tasks.shutdown()

# SPDX-License-Identifier: MIT
"""The Settings entry "Your music folder": embeds on a worker, reports, stays usable."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import soundfile as sf
from sqlalchemy import func, select

from db.models import Embedding


def test_adding_a_folder_runs_in_the_background_and_reports(qtbot, database, tmp_path):
    from PySide6.QtWidgets import QApplication

    from ui.tasks import TaskRunner
    from ui.views.catalogue_folder import CatalogueFolderBox

    folder = tmp_path / "music"
    folder.mkdir()
    sr = 22050
    t = np.arange(sr) / sr
    for i, f0 in enumerate((220.0, 330.0)):
        sf.write(folder / f"{i}.wav", (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32), sr)
    (folder / "bad.mp3").write_bytes(b"ID3 not really")
    tasks = TaskRunner(QApplication.instance())
    # Only what the box uses of the app context: the real database and the real runner.
    box = CatalogueFolderBox(SimpleNamespace(database=database, tasks=tasks))
    qtbot.addWidget(box)
    box.add(str(folder))
    assert not box.button.isEnabled()  # returned at once; the work is on a worker
    qtbot.waitUntil(lambda: box.button.isEnabled(), timeout=60_000)
    text = box.status.text()
    assert "2 added" in text and "bad.mp3" in text, text
    with database.service_session() as s:
        assert s.scalar(select(func.count()).select_from(Embedding)) == 2
    tasks.shutdown()

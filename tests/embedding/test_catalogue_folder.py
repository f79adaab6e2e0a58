# SPDX-License-Identifier: MIT
"""``catalogue add FOLDER`` on the real database with real tagged files: tags become the
row, unchanged files are skipped, broken ones are named, cancel then resume finishes the
folder, and a recording the shared catalogue already holds is left alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.flac import FLAC
from sqlalchemy import select

from db.models import Embedding, User
from player.catalogue.folder import FolderJob, add_folder
from player.catalogue.tags import read_tags
from player.embedding.descriptor import DescriptorEmbedder
from player.embedding.store import store_vector

MBID = "b1a9c0e9-d987-4042-ae91-78d6a3267d69"


class CountingEmbedder(DescriptorEmbedder):
    """The real descriptor embedder, counting the files it decodes."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []

    def embed_file(self, path):  # type: ignore[no-untyped-def]
        self.files.append(Path(path).name)
        return super().embed_file(path)


def write_tone(path: Path, freq: float, seconds: float = 1.5) -> None:
    sr = 22050
    t = np.arange(int(sr * seconds)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "music"
    (root / "album").mkdir(parents=True)
    write_tone(root / "album" / "01 tagged.flac", 220)
    tags = FLAC(root / "album" / "01 tagged.flac")
    tags["title"] = "Hoppípolla"
    tags["artist"] = "Sigur Rós"
    tags["genre"] = ["Post-rock", "Ambient"]
    tags["musicbrainz_trackid"] = MBID.upper()
    tags.save()
    write_tone(root / "album" / "02 isrc.flac", 330)
    tags = FLAC(root / "album" / "02 isrc.flac")
    tags["title"] = "Glósóli"
    tags["artist"] = "Sigur Rós"
    tags["isrc"] = "GB-AHT-05-00001"
    tags.save()
    write_tone(root / "untagged.wav", 440)
    (root / "broken.flac").write_bytes(b"fLaC" + b"\x00garbage" * 50)
    (root / "weird.wma").write_bytes(b"not really windows media")
    (root / "cover.jpg").write_bytes(b"\xff\xd8\xff")  # not audio: ignored, not reported
    return root


def rows(database) -> dict[str, Embedding]:
    with database.service_session() as s:
        return {e.track_id: e for e in s.scalars(select(Embedding))}


def test_tags_become_the_catalogue_row(folder: Path):
    tags = read_tags(folder / "album" / "01 tagged.flac")
    assert (tags.title, tags.artist) == ("Hoppípolla", "Sigur Rós")
    assert tags.genres == ("Post-rock", "Ambient")
    assert tags.external_id == MBID  # lower-cased, validated
    assert read_tags(folder / "album" / "02 isrc.flac").external_id == "isrc:GBAHT0500001"
    plain = read_tags(folder / "untagged.wav")
    assert (plain.title, plain.artist, plain.external_id) == ("untagged", "Unknown artist", None)


def test_add_folder_stores_skips_and_names_failures(database, folder: Path, tmp_path: Path):
    ledger = tmp_path / "ledger.json"
    emb = CountingEmbedder()
    report = add_folder(database, folder, embedder=emb, state_file=ledger)
    assert (report.total, report.added, report.unchanged) == (5, 3, 0)
    failed = dict(report.failed)
    assert set(failed) == {str(folder / "broken.flac"), str(folder / "weird.wma")}
    assert all(reason for reason in failed.values())
    stored = rows(database)
    assert set(stored) == {MBID, "isrc:GBAHT0500001", f"local:{folder / 'untagged.wav'}"}
    tagged = stored[MBID]
    assert (tagged.track_name, tagged.artist, tagged.source) == ("Hoppípolla", "Sigur Rós", "local")
    assert tagged.genre == ["Post-rock", "Ambient"]
    assert tagged.embedding_space == emb.space
    assert abs(float(np.linalg.norm(np.asarray(tagged.vector))) - 1.0) < 1e-4

    # Re-run: no good file decoded again; the broken ones are tried and named again.
    emb.files.clear()
    again = add_folder(database, folder, embedder=emb, state_file=ledger)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert emb.files == [] and len(again.failed) == 2

    # A changed file is re-embedded and its row replaced, not duplicated.
    write_tone(folder / "untagged.wav", 880, seconds=2.0)
    before = np.asarray(stored[f"local:{folder / 'untagged.wav'}"].vector)
    emb.files.clear()
    changed = add_folder(database, folder, embedder=emb, state_file=ledger)
    assert changed.updated == 1 and "untagged.wav" in emb.files
    after = rows(database)
    assert len(after) == 3
    assert not np.allclose(before, np.asarray(after[f"local:{folder / 'untagged.wav'}"].vector))
    assert json.loads(ledger.read_text())[str(folder / "untagged.wav")]["size"] > 0


def test_cancel_then_resume_finishes_the_folder(database, folder: Path, tmp_path: Path):
    ledger = tmp_path / "ledger.json"
    seen: list[tuple[int, int, str]] = []
    stop_after_first = iter([False, True])
    first = add_folder(
        database,
        folder,
        embedder=DescriptorEmbedder(),
        progress=lambda done, total, name: seen.append((done, total, name)),
        should_stop=lambda: next(stop_after_first, True),
        state_file=ledger,
    )
    assert first.cancelled and first.added == 1
    assert len(rows(database)) == 1  # the one file done is whole; nothing else written
    assert seen[0] == (0, 5, "01 tagged.flac")
    job = FolderJob(database, folder, embedder=DescriptorEmbedder(), state_file=ledger).start()
    resumed = job.wait(120)
    assert resumed is not None and not resumed.cancelled
    assert (resumed.unchanged, resumed.added) == (1, 2)
    assert len(rows(database)) == 3


def test_a_recording_already_in_the_shared_catalogue_is_left_alone(
    database, folder: Path, tmp_path
):
    shared = np.zeros(768, dtype=np.float32)
    shared[0] = 1.0
    with database.service_session() as s:
        store_vector(
            s,
            track_id=MBID,
            track_name="Hoppípolla",
            artist="Sigur Rós",
            vector=shared,
            space="descriptor-v1",
            source="musicbrainz",
        )
    report = add_folder(
        database, folder, embedder=DescriptorEmbedder(), state_file=tmp_path / "l.json"
    )
    assert report.already_catalogued == 1 and report.added == 2
    kept = rows(database)[MBID]
    assert kept.source == "musicbrainz"
    assert np.allclose(np.asarray(kept.vector), shared)


def test_a_missing_folder_is_a_clear_error(database, tmp_path: Path):
    from base.errors import UserFacingError

    with pytest.raises(UserFacingError, match="not a folder"):
        add_folder(database, tmp_path / "nope", embedder=DescriptorEmbedder())


def test_catalogue_add_cli(database, folder: Path, monkeypatch, capsys):
    from player.cli import main

    monkeypatch.setenv("DATABASE_URL", database.url.render_as_string(hide_password=False))
    assert main(["catalogue", "add", str(folder), "--json", "--embedder", "descriptor"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == 3 and len(out["failed"]) == 2
    assert main(["catalogue", "add", str(folder), "--json", "--embedder", "descriptor"]) == 2
    assert json.loads(capsys.readouterr().out)["unchanged"] == 3


def test_added_files_steer_the_listeners_taste(database, make_user, folder: Path, tmp_path: Path):
    """The files count as taste evidence at once: a listener with nothing else to go on
    gets a taste vector, pointing at the new files."""
    uid = make_user()
    add_folder(database, folder, embedder=DescriptorEmbedder(), state_file=tmp_path / "l.json")
    with database.service_session() as s:
        user = s.get(User, uid)
        assert user is not None and user.taste_vector is not None
        taste = np.asarray(user.taste_vector)
        files = [np.asarray(e.vector) for e in s.scalars(select(Embedding))]
    assert user.embedding_space == DescriptorEmbedder().space
    mean = np.mean(files, axis=0)
    assert float(taste @ (mean / np.linalg.norm(mean))) > 0.99

# SPDX-License-Identifier: MIT
"""Switching space re-embeds in the background; the ``embed`` command prints and stores."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from db.models import Band, BandTrack, Embedding, GeneratedTrack, User, UserLibraryEntry
from player.cli import main
from player.embedding.descriptor import DescriptorEmbedder
from player.embedding.reembed import ReembedJob, pending_count
from player.embedding.store import store_track_vector, store_vector
from player.taste import rebuild_taste

from .conftest import clicks, tone
from .test_store_search import unit

EMB = DescriptorEmbedder()


def test_switching_space_reembeds_tracks_tastes_and_bands(database, make_user, tmp_path):
    uid = make_user()
    audio = tmp_path / "track.wav"
    sf.write(audio, clicks(120.0, seconds=3.0, rate=44_100), 44_100)
    with database.service_session() as s:
        track = GeneratedTrack(user_id=uid, url=audio.resolve().as_uri(), duration=3, mode="new")
        gone = GeneratedTrack(user_id=uid, url="file:///no/such/file.wav", duration=3, mode="new")
        s.add_all([track, gone])
        s.flush()
        band = Band(user_id=uid, name="B", style_vector=unit(9), embedding_space="old-space")
        s.add(band)
        s.flush()
        s.add(BandTrack(band_id=band.id, track_id=track.id))
        tid, gone_id, band_id = track.id, gone.id, band.id
        store_track_vector(s, tid, unit(1), "old-space")
        store_track_vector(s, gone_id, unit(2), "old-space")
        store_vector(
            s,
            track_id="mb:1",
            track_name="Catalogue",
            artist="A",
            vector=unit(3),
            space="old-space",
            source="musicbrainz",
        )
        user = s.get(User, uid)
        user.taste_vector, user.embedding_space = unit(4), "old-space"
    with database.service_session() as s:
        s.add(UserLibraryEntry(user_id=uid, track_id=tid))
    assert pending_count(database, EMB.space) == 3

    seen: list[tuple[int, int]] = []
    job = ReembedJob(
        database,
        EMB,
        progress=lambda d, t, m: seen.append((d, t)),
        rebuild_taste=rebuild_taste,
    ).start()
    report = job.wait(timeout=120)
    assert report is not None and not job.running
    assert (report.embedded, report.unavailable, report.failed) == (1, 2, [])
    assert seen[-1] == (3, 3) and [d for d, _ in seen[:3]] == [1, 2, 3]
    with database.service_session() as s:
        row = s.query(Embedding).filter_by(track_id=str(tid)).one()
        assert row.embedding_space == EMB.space
        expected = EMB.embed_file(audio)
        assert float(np.asarray(row.vector) @ expected) > 0.999
        # No audio here: left in the old space, out of every new-space query.
        assert s.query(Embedding).filter_by(track_id="mb:1").one().embedding_space == "old-space"
        user = s.get(User, uid)
        assert user.embedding_space == EMB.space  # rebuilt from the like, in the new space
        assert float(np.asarray(user.taste_vector) @ expected) > 0.999
        band = s.get(Band, band_id)
        assert band.embedding_space == EMB.space
        assert float(np.asarray(band.style_vector) @ expected) > 0.999
    assert pending_count(database, EMB.space) == 2


def test_reembed_job_can_be_cancelled(database, make_user):
    with database.service_session() as s:
        store_vector(
            s,
            track_id="mb:1",
            track_name="x",
            artist="a",
            vector=unit(1),
            space="old",
            source="fma",
        )
    job = ReembedJob(database, EMB, rebuild_taste=rebuild_taste)
    job.cancel()
    report = job.start().wait(timeout=60)
    assert report is not None and report.cancelled and report.embedded == 0


def test_cli_embed_json(tmp_path, capsys):
    good = tmp_path / "tone.flac"
    sf.write(good, tone(440.0, 2.0, 44_100), 44_100)
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(b"OggS but not really")
    rc = main(["embed", str(good), str(junk), str(good), "--json", "--embedder", "descriptor"])
    out, err = capsys.readouterr()
    assert rc == 2  # one file failed, the others still went through
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2
    assert lines[0]["path"] == str(good) and lines[0]["space"] == "descriptor-v1"
    vec = np.array(lines[0]["vector"])
    assert vec.shape == (768,) and abs(np.linalg.norm(vec) - 1) < 1e-5
    assert "cannot read audio file" in err and "junk.ogg" in err


def test_cli_embed_needs_files_or_reembed(capsys):
    assert main(["embed"]) == 2
    assert "name at least one audio file" in capsys.readouterr().err


def test_cli_embed_into_db(database, database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    song = tmp_path / "song.wav"
    sf.write(song, clicks(100.0, seconds=2.0, rate=22_050), 22_050)
    assert main(["embed", str(song), "--into-db", "--embedder", "descriptor"]) == 0
    assert "(stored)" in capsys.readouterr().out
    with database.service_session() as s:
        row = s.query(Embedding).one()
        assert row.track_id == "local:" + str(song.resolve())
        assert (row.track_name, row.source, row.embedding_space) == (
            "song",
            "local",
            "descriptor-v1",
        )
        assert np.all(np.isfinite(np.asarray(row.vector)))
    # --reembed with nothing pending reports and succeeds.
    assert main(["embed", "--reembed", "--embedder", "descriptor"]) == 0
    assert "re-embedded 0 into descriptor-v1" in capsys.readouterr().out

"""`infinite-player play` and `infinite-player loudness`."""

from __future__ import annotations

import json

import pytest

from player.cli import main
from tests.audio.conftest import tone


def test_play_reports_json(write_audio, tmp_path, capsys):
    a = write_audio("a.wav", tone(440, 0.3))
    b = write_audio("b.flac", tone(660, 0.3))
    missing = tmp_path / "gone.mp3"
    code = main(["play", "--null", "--crossfade", "0.1", str(a), str(missing), str(b)])
    captured = capsys.readouterr()
    report = json.loads(captured.out.strip().splitlines()[-1])
    assert code == 1, "a skipped track makes the exit status non-zero"
    assert report["tracks"] == 2
    assert report["seconds_played"] == pytest.approx(0.5, abs=0.05)  # 0.1 s overlap
    assert report["underruns"] == 0
    assert report["time_to_first_audio_ms"] is not None
    assert len(report["errors"]) == 1 and "gone.mp3" in report["errors"][0]
    assert "skipped" in captured.err


def test_loudness_prints_one_line_per_file(write_audio, tmp_path, capsys):
    quiet = write_audio("quiet.flac", tone(1000, 2.0, amp=0.1))
    junk = tmp_path / "junk.ogg"
    junk.write_text("not audio")
    code = main(["loudness", str(quiet), str(junk)])
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert code == 1
    assert lines[0]["path"] == str(quiet)
    assert lines[0]["integrated_lufs"] == pytest.approx(-20.0, abs=0.1)
    assert lines[0]["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.1)
    assert lines[1]["path"] == str(junk) and "not a readable audio file" in lines[1]["error"]


def test_play_rejects_negative_crossfade(write_audio, capsys):
    a = write_audio("a.wav", tone(440, 0.1))
    assert main(["play", "--null", "--crossfade", "-1", str(a)]) == 2
    assert "--crossfade" in capsys.readouterr().err

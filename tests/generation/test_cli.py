"""`infinite-player generate` end to end (in-process, real engine, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from player.cli import main


@pytest.mark.parametrize("ext", [".mp3", ".wav", ".flac", ".ogg"])
def test_generate_writes_each_format_and_prints_one_json_line(
    ext: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"track{ext}"
    args = ["generate", "--genre", "lo-fi", "--bpm", "84", "--vibe", "chill", "--bass", "high"]
    assert (
        main([*args, "--seconds", "3", "--seed", "5", "--engine", "procedural", "--out", str(out)])
        == 0
    )
    line = json.loads(capsys.readouterr().out.strip())
    assert {"engine", "seconds", "render_seconds", "bpm", "key", "genre"} <= set(line)
    assert line["engine"] == "procedural" and line["genre"] == "lo-fi" and line["bpm"] == 84
    assert line["peak_dbfs"] <= -0.99
    info = sf.info(str(out))
    assert info.channels == 2 and abs(info.duration - line["seconds"]) < 0.2


def test_similar_from_an_earlier_runs_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "a.wav"
    assert (
        main(["generate", "--genre", "house", "--seconds", "2", "--seed", "1", "--out", str(first)])
        == 0
    )
    source = tmp_path / "a.json"
    source.write_text(capsys.readouterr().out)
    second = tmp_path / "b.wav"
    cmd = ["generate", "--mode", "similar", "--source", str(source), "--seconds", "2"]
    assert main([*cmd, "--engine", "procedural", "--out", str(second)]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["genre"] == "house" and line["params"]["mode"] == "similar"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--out", "x.aiff"], ".mp3, .wav"),
        (["--genre", "polka", "--out", "{tmp}/x.wav"], "polka"),
        (["--mode", "extend", "--out", "{tmp}/x.wav"], "source"),
        (["--out", "/no/such/dir/x.wav"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["generate", "--seconds", "2", "--engine", "procedural", *argv]) == 2
    assert needle in capsys.readouterr().err

"""``infinite-player models …`` and a downloaded model in use at once: MusicGen found by
the engine chooser (or the reason it is not used), never a half-downloaded one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from player import models
from player.cli import main
from player.generation import GenerationRequest, get_generator
from player.generation.engines import CHECKPOINT_ENV, choose_engine, musicgen_checkpoint
from player.models.local import PARTIAL
from tests.models.hub_server import LoopbackHub


def test_list_shows_the_catalogue_state_and_why_the_engine_is_what_it_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("musicgen-small", "musicgen-medium", "musicgen-melody", "mert-v1-95m"):
        assert name in out
    assert "CC-BY-NC-4.0" in out and "absent" in out
    assert "Generation: Procedural engine: no MusicGen model is downloaded" in out
    assert main(["models", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    small = next(r for r in rows if r["name"] == "musicgen-small")
    assert small["repo"] == "facebook/musicgen-small" and small["licence_accepted"] is False
    assert "size_bytes" in small["unverified"]  # written without network: said so


def test_get_needs_the_licence_accepted_then_installs_verifies_and_removes(
    hub: LoopbackHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["models", "get", "musicgen-small"]) == 2
    captured = capsys.readouterr()
    assert "Creative Commons Attribution-NonCommercial" in captured.out
    assert "--accept-licence" in captured.err
    assert hub.state.requests() == []

    assert main(["models", "get", "musicgen-small", "--accept-licence"]) == 0
    captured = capsys.readouterr()
    assert "installed in" in captured.out and "sha256" in captured.out
    assert "100.0%" in captured.err and "/s" in captured.err  # the progress line
    assert main(["models", "verify", "musicgen-small"]) == 0
    assert "all 5 files match" in capsys.readouterr().out

    weights = models.model_dir(models.find("musicgen-small")) / "model.safetensors"
    weights.write_bytes(b"x" + weights.read_bytes()[1:])
    assert main(["models", "verify", "musicgen-small"]) == 1
    assert "CORRUPT" in capsys.readouterr().out

    assert main(["models", "remove", "musicgen-small"]) == 0
    assert "freed" in capsys.readouterr().out
    assert main(["models", "verify", "musicgen-small"]) == 2
    assert "not downloaded" in capsys.readouterr().err


def test_a_downloaded_musicgen_is_used_at_once_and_auto_says_why(
    hub: LoopbackHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    entry = models.find("musicgen-small")
    models.accept_licence(entry)
    models.download(entry)
    folder = models.model_dir(entry)
    assert musicgen_checkpoint() == folder

    generator = get_generator("musicgen")
    generator.segment_seconds = 1.0  # type: ignore[attr-defined]
    audio = generator.generate(GenerationRequest(genres=["house"], duration_seconds=1.0, seed=1))
    assert np.isfinite(audio.render()).all()

    # What auto makes of it, for each machine it could be on.
    assert choose_engine(gpu=("cuda", 24.0)).engine == "musicgen"
    no_gpu = choose_engine(gpu=(None, None))
    assert no_gpu.engine == "procedural" and "no GPU" in no_gpu.reason
    small_gpu = choose_engine(gpu=("cuda", 2.0))
    assert small_gpu.engine == "procedural" and "needs about 4 GB" in small_gpu.reason
    assert choose_engine(gpu=("mps", None)).engine == "musicgen"

    # Half-downloaded: never loaded, and the reason says how to finish it.
    (folder / PARTIAL).mkdir()
    assert musicgen_checkpoint() is None
    half = choose_engine(gpu=("cuda", 24.0))
    assert half.engine == "procedural" and "only partly downloaded" in half.reason
    assert "models get musicgen-small" in half.reason
    from player import doctor

    assert any("only partly downloaded" in hit for hit in doctor.probe_checkpoints()["musicgen"])


def test_auto_says_when_a_larger_model_is_still_half_downloaded(
    hub: LoopbackHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    small = models.find("musicgen-small")
    models.accept_licence(small)
    models.download(small)
    assert "partly" not in choose_engine(gpu=("cuda", 24.0)).reason
    # musicgen-medium interrupted: small is used, and the listener is told why not medium.
    medium = models.model_dir(models.find("musicgen-medium"))
    (medium / PARTIAL).mkdir(parents=True)
    (medium / PARTIAL / "abc.part").write_bytes(b"x" * 3_000_000)
    choice = choose_engine(gpu=("cuda", 24.0))
    assert choice.engine == "musicgen" and choice.checkpoint == models.model_dir(small)
    assert "musicgen-medium is only partly downloaded (3 MB so far)" in choice.reason
    assert "models get musicgen-medium" in choice.reason


def test_the_engine_process_chooses_again_before_the_next_track() -> None:
    from player.generation.isolated import IsolatedGenerator

    generator = IsolatedGenerator("procedural")
    try:
        request = GenerationRequest(genres=["house"], duration_seconds=1.0, seed=3)
        generator.generate(request).render()
        first = generator.pid
        generator.generate(request).render()
        assert generator.pid == first  # the same child while nothing changed
        generator.choose_again()  # e.g. Settings > Models just installed MusicGen
        generator.generate(request).render()
        assert generator.pid is not None and generator.pid != first
    finally:
        generator.close()

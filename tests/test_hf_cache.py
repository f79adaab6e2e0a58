"""Checkpoints are found in the Hugging Face cache by its layout, without its client."""

from __future__ import annotations

import subprocess
import sys

from player.generation.engines import musicgen_checkpoint
from player.hf_cache import hf_cache_folder


def test_finds_the_newest_snapshot_with_a_config(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snaps = tmp_path / "models--facebook--musicgen-small" / "snapshots"
    (snaps / "incomplete").mkdir(parents=True)  # no config.json: not a checkpoint
    assert hf_cache_folder("facebook/musicgen-small") is None
    assert musicgen_checkpoint() is None
    (snaps / "abc123").mkdir()
    (snaps / "abc123" / "config.json").write_text("{}")
    assert hf_cache_folder("facebook/musicgen-small") == snaps / "abc123"
    assert musicgen_checkpoint() == snaps / "abc123"


def test_looking_for_a_checkpoint_imports_no_hub_client_or_torch():
    code = (
        "import sys; from player.generation.engines import get_generator; "
        "get_generator('auto'); "
        "from player.embedding.checkpoints import find_checkpoint; find_checkpoint(); "
        "print(sorted(m for m in ('huggingface_hub', 'torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

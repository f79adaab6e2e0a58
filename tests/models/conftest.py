"""A loopback hub serving tiny real checkpoints, and the environment that points at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.models.hub_server import LoopbackHub

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def tiny_musicgen_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """facebook/musicgen-small's file layout, a tiny random MusicGen inside."""
    from tests.generation.test_musicgen import build_tiny_checkpoint

    return build_tiny_checkpoint(tmp_path_factory.mktemp("repo-musicgen"))


@pytest.fixture(scope="session")
def tiny_mert_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """m-a-p/MERT-v1-95M's layout (config, preprocessor config, safetensors and a .bin the
    catalogue must skip), a tiny random MERT inside."""
    import json

    from tests.embedding.conftest import TINY_MERT
    from tests.embedding.test_mert import _write_checkpoint

    folder = tmp_path_factory.mktemp("repo-mert")
    _write_checkpoint(folder, TINY_MERT, "safetensors")
    _write_checkpoint(folder, TINY_MERT, "bin")
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"sampling_rate": 24000, "do_normalize": True})
    )
    (folder / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\n")
    return folder


@pytest.fixture
def hub(
    tiny_musicgen_repo: Path, tiny_mert_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LoopbackHub]:
    """The loopback hub, with HF_ENDPOINT at it and the suite's offline switch lifted
    for this test only (the hub client reads HF_HUB_OFFLINE once, at import)."""
    import huggingface_hub.constants as hub_constants

    server = LoopbackHub()
    server.state.add_repo("facebook/musicgen-small", tiny_musicgen_repo)
    server.state.add_repo("m-a-p/MERT-v1-95M", tiny_mert_repo)
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("HF_ENDPOINT", "")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    with server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server

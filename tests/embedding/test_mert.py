# SPDX-License-Identifier: MIT
"""Our MERT implementation: checkpoint key layout, numerics against HuBERT, loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from base.errors import UserFacingError
from player.embedding.mert import (
    MertConfig,
    MertEmbedder,
    MertModel,
    load_model,
    map_state_dict,
)

from .conftest import TINY_MERT, clicks


def mert_v1_95m_checkpoint_shapes() -> dict[str, tuple[int, ...]]:
    """Key names and shapes of m-a-p/MERT-v1-95M's published weights, written out by hand.

    The checkpoint was saved before torch's parametrised weight norm, so the positional
    convolution is stored as ``weight_g``/``weight_v``; ``masked_spec_embed`` is a
    pretraining tensor.
    """
    shapes: dict[str, tuple[int, ...]] = {"masked_spec_embed": (768,)}
    kernels = (10, 3, 3, 3, 3, 2, 2)
    for i, k in enumerate(kernels):
        shapes[f"feature_extractor.conv_layers.{i}.conv.weight"] = (512, 1 if i == 0 else 512, k)
    shapes["feature_extractor.conv_layers.0.layer_norm.weight"] = (512,)
    shapes["feature_extractor.conv_layers.0.layer_norm.bias"] = (512,)
    shapes["feature_projection.layer_norm.weight"] = (512,)
    shapes["feature_projection.layer_norm.bias"] = (512,)
    shapes["feature_projection.projection.weight"] = (768, 512)
    shapes["feature_projection.projection.bias"] = (768,)
    shapes["encoder.pos_conv_embed.conv.weight_g"] = (1, 1, 128)
    shapes["encoder.pos_conv_embed.conv.weight_v"] = (768, 48, 128)
    shapes["encoder.pos_conv_embed.conv.bias"] = (768,)
    shapes["encoder.layer_norm.weight"] = (768,)
    shapes["encoder.layer_norm.bias"] = (768,)
    for n in range(12):
        p = f"encoder.layers.{n}."
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            shapes[p + f"attention.{proj}.weight"] = (768, 768)
            shapes[p + f"attention.{proj}.bias"] = (768,)
        for norm in ("layer_norm", "final_layer_norm"):
            shapes[p + f"{norm}.weight"] = (768,)
            shapes[p + f"{norm}.bias"] = (768,)
        shapes[p + "feed_forward.intermediate_dense.weight"] = (3072, 768)
        shapes[p + "feed_forward.intermediate_dense.bias"] = (3072,)
        shapes[p + "feed_forward.output_dense.weight"] = (768, 3072)
        shapes[p + "feed_forward.output_dense.bias"] = (768,)
    return shapes


def test_real_checkpoint_layout_loads_with_no_missing_or_unexpected_keys():
    # Shapes only: meta tensors keep this at the real 95M size without allocating it (the
    # weight-norm pair is real, small, and folded on the CPU).
    state = {
        k: torch.rand(s) if ".weight_" in k else torch.empty(s, device="meta")
        for k, s in mert_v1_95m_checkpoint_shapes().items()
    }
    mapped, dropped = map_state_dict(state)
    assert dropped == ["masked_spec_embed"]
    with torch.device("meta"):
        model = MertModel(MertConfig())
    result = model.load_state_dict(mapped, strict=True, assign=True)
    assert not result.missing_keys and not result.unexpected_keys
    params = sum(p.numel() for p in model.parameters())
    assert 93e6 < params < 96e6  # "95M"


def test_unknown_checkpoint_keys_are_reported_not_ignored():
    state = {
        k: torch.rand(s) if ".weight_" in k else torch.empty(s, device="meta")
        for k, s in mert_v1_95m_checkpoint_shapes().items()
    }
    state["encoder.layers.12.attention.q_proj.weight"] = torch.empty((768, 768), device="meta")
    mapped, _ = map_state_dict(state)
    with torch.device("meta"):
        model = MertModel(MertConfig())
    with pytest.raises(RuntimeError, match="Unexpected key"):
        model.load_state_dict(mapped, strict=True, assign=True)


@pytest.mark.parametrize("stable", [False, True], ids=["post-norm (95M)", "pre-norm (330M)"])
def test_matches_transformers_hubert_numerically(stable):
    """MERT-v1 is HuBERT: with the same weights our hidden states equal HubertModel's."""
    from transformers import HubertConfig, HubertModel

    cfg = dict(
        TINY_MERT, do_stable_layer_norm=stable, feat_extract_norm="layer" if stable else "group"
    )
    cfg["conv_bias"] = stable
    torch.manual_seed(0)
    reference = HubertModel(HubertConfig(**cfg, feat_proj_layer_norm=True)).eval()
    ours = MertModel(MertConfig.from_dict(cfg)).eval()
    mapped, _ = map_state_dict(reference.state_dict())
    ours.load_state_dict(mapped, strict=True)
    x = torch.randn(2, 6000)
    with torch.no_grad():
        out = reference(x, output_hidden_states=True)
        mine = ours(x)
    assert len(mine) == cfg["num_hidden_layers"] + 1
    for a, b in zip(out.hidden_states[:-1], mine[:-1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out.last_hidden_state, mine[-1], atol=1e-5, rtol=1e-4)


def _write_checkpoint(folder, config: dict, fmt: str, hubert_layout: bool = True) -> MertModel:
    """A checkpoint folder as published: config.json, preprocessor_config.json, weights."""
    torch.manual_seed(1)
    model = MertModel(MertConfig.from_dict(config))
    state = model.state_dict()
    if hubert_layout:  # store the positional conv weight-normalised, as the real files do
        w = state.pop("encoder.pos_conv_embed.conv.weight")
        g = w.norm(dim=(0, 1), keepdim=True)
        state["encoder.pos_conv_embed.conv.weight_g"] = g
        state["encoder.pos_conv_embed.conv.weight_v"] = w / g * 3.0  # any scale of v works
        state["masked_spec_embed"] = torch.zeros(config["hidden_size"])
    (folder / "config.json").write_text(json.dumps({**config, "architectures": ["MERTModel"]}))
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"do_normalize": True, "sampling_rate": 24000, "feature_size": 1})
    )
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"))
    else:
        torch.save(state, folder / "pytorch_model.bin")
    return model


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_load_checkpoint_folder_and_embed(tmp_path, fmt):
    original = _write_checkpoint(tmp_path, TINY_MERT, fmt)
    model, config, pre = load_model(tmp_path)
    assert pre["do_normalize"] is True
    x = torch.randn(1, 4000)
    with torch.no_grad():
        for a, b in zip(original.eval()(x), model(x), strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    emb = MertEmbedder(model, config, device="cpu", window_seconds=1.0)
    v = emb.embed(clicks(120.0, seconds=3.5, rate=44_100), 44_100)
    assert v.shape == (768,) and abs(float(np.linalg.norm(v)) - 1) < 1e-5


def test_wider_model_is_projected_to_768(tmp_path):
    cfg = dict(TINY_MERT, hidden_size=1024, num_attention_heads=8, num_hidden_layers=1)
    _write_checkpoint(tmp_path, cfg, "safetensors")
    emb = MertEmbedder.from_pretrained(tmp_path, device="cpu")
    assert emb.space == "mert-1024x1"
    a = emb.embed(clicks(120.0, seconds=2.0), 22_050)
    b = emb.embed(clicks(60.0, seconds=2.0, seed=5), 22_050)
    assert a.shape == (768,) and np.isfinite(a).all()
    assert float(a @ b) < 0.9999  # the projection keeps inputs apart


def test_gloves_off_checkpoints_are_refused(tmp_path):
    with pytest.raises(UserFacingError, match=r"no config\.json"):
        load_model(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**TINY_MERT, "feature_extractor_cqt": True}))
    with pytest.raises(UserFacingError, match="CQT"):
        load_model(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(TINY_MERT))
    with pytest.raises(UserFacingError, match=r"no model\.safetensors"):
        load_model(tmp_path)
    # A checkpoint for another shape is a clear error, not a half-loaded model.
    other = dict(TINY_MERT, num_hidden_layers=3)
    _write_checkpoint(tmp_path, other, "safetensors")
    (tmp_path / "config.json").write_text(json.dumps(TINY_MERT))
    with pytest.raises(UserFacingError, match="does not match"):
        load_model(tmp_path)


def test_windows_and_batching_cover_long_audio(tiny_mert):
    mono = np.zeros(24_000 * 30, dtype=np.float32)
    windows = tiny_mert.windows(mono)
    assert windows.shape == (6, 48_000)  # max_windows of window_seconds each
    assert tiny_mert.windows(mono[:24_000]).shape == (1, 24_000)


def test_get_embedder_auto_falls_back_to_descriptor(monkeypatch, tmp_path):
    import player.embedding as embedding

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("INFINITE_PLAYER_MERT", raising=False)
    monkeypatch.setattr(embedding, "_CACHE", {})
    assert embedding.get_embedder("auto").space == "descriptor-v1"
    with pytest.raises(UserFacingError, match="no MERT checkpoint"):
        embedding.get_embedder("mert")
    with pytest.raises(UserFacingError, match="unknown embedder"):
        embedding.get_embedder("clap")


def test_get_embedder_finds_a_checkpoint_in_the_hf_cache(monkeypatch, tmp_path):
    import player.embedding as embedding

    snap = tmp_path / "hub" / "models--m-a-p--MERT-v1-95M" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    _write_checkpoint(snap, TINY_MERT, "safetensors")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("INFINITE_PLAYER_MERT", raising=False)
    monkeypatch.setattr(embedding, "_CACHE", {})
    emb = embedding.get_embedder("auto")
    assert isinstance(emb, MertEmbedder)
    assert emb.embed(clicks(120.0, seconds=1.0), 22_050).shape == (768,)


def test_active_embedder_follows_the_settings(monkeypatch, tmp_path):
    import player.embedding as embedding
    from player.settings import Settings

    monkeypatch.setattr(embedding, "_CACHE", {})
    monkeypatch.delenv("INFINITE_PLAYER_MERT", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    assert embedding.active_embedder().space == "descriptor-v1"
    folder = tmp_path / "mert"
    folder.mkdir()
    _write_checkpoint(folder, TINY_MERT, "safetensors")
    settings = Settings.load()
    settings.set("embedder", "mert")
    settings.set("mert_model_dir", str(folder))
    settings.save()
    emb = embedding.active_embedder()
    assert isinstance(emb, MertEmbedder) and emb.space == "mert-32x2"


def test_auto_without_a_checkpoint_does_not_import_torch(tmp_path):
    """The UI asks for the active embedder on its thread; torch's import would freeze it."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, HF_HUB_CACHE=str(tmp_path / "empty"), INFINITE_PLAYER_HOME=str(tmp_path))
    env.pop("INFINITE_PLAYER_MERT", None)
    code = (
        "import sys; from player.embedding import get_embedder, active_embedder; "
        "assert get_embedder('auto').space == 'descriptor-v1'; "
        "assert active_embedder().space == 'descriptor-v1'; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root, timeout=120)

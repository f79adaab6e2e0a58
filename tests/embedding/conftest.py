# SPDX-License-Identifier: MIT
"""Shared signals and a tiny MERT for the embedding tests."""

from __future__ import annotations

import numpy as np
import pytest


def tone(freq: float, seconds: float = 3.0, rate: int = 22_050) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def clicks(bpm: float, seconds: float = 8.0, rate: int = 22_050, seed: int = 0) -> np.ndarray:
    """A noise-burst drum pattern at ``bpm``."""
    rng = np.random.default_rng(seed)
    out = 0.01 * rng.standard_normal(int(seconds * rate))
    burst = rng.standard_normal(int(0.03 * rate)) * np.exp(-np.linspace(0, 8, int(0.03 * rate)))
    for start in np.arange(0, seconds, 60.0 / bpm):
        i = int(start * rate)
        seg = out[i : i + burst.size]
        seg += 0.8 * burst[: seg.size]
    return out.astype(np.float32)


TINY_MERT = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "conv_dim": [16, 16, 16],
    "conv_kernel": [10, 8, 8],
    "conv_stride": [5, 8, 8],
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
    "sample_rate": 24000,
}


@pytest.fixture(scope="session")
def tiny_mert():
    """A MertEmbedder over a tiny random MERT (no weights on disk)."""
    import torch

    from player.embedding.mert import MertConfig, MertEmbedder, MertModel

    torch.manual_seed(0)
    config = MertConfig.from_dict(TINY_MERT)
    return MertEmbedder(
        MertModel(config), config, space="mert-tiny-test", device="cpu", window_seconds=2.0
    )

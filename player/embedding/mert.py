# SPDX-License-Identifier: MIT
"""MERT-v1 (m-a-p/MERT-v1-95M and -330M), implemented here in plain torch.

Why our own module rather than ``AutoModel.from_pretrained(..., trust_remote_code=True)``:
remote code is code we have not read running on the listener's machine, and the
published MERT code imports optional packages and prints at import. MERT-v1 is a HuBERT
encoder, so the architecture is small enough to own:

* feature extractor: 7 strided 1-D convolutions (512 channels, kernels 10,3,3,3,3,2,2,
  strides 5,2,2,2,2,2,2: one frame per 320 samples, 75 frames a second at 24 kHz),
  GELU, group norm on the first layer ("group") or layer norm on every layer ("layer");
* feature projection: layer norm + linear to the hidden size;
* convolutional positional embedding: grouped conv (kernel 128, 16 groups) whose
  weight is stored weight-normalised (``weight_g``/``weight_v``), GELU, added;
* a transformer encoder, post-norm (95M) or pre-norm "stable layer norm" (330M).

The parameter names match the checkpoint's (they are HuBERT's), so :func:`map_state_dict`
only folds the weight-norm pair into one plain weight and drops pretraining-only
tensors. Its ``attention_relax`` option subtracts the row maximum before the softmax,
which changes nothing mathematically, so plain scaled-dot-product attention is used.
We do not reuse ``transformers``' HubertModel: its positional-conv parametrisation and
attention back-ends change between releases, and owning ~200 lines keeps loading exact.

Clip embedding: the input is normalised like the checkpoint's feature extractor
(zero mean, unit variance per window), each window's hidden states are averaged over
time and over the transformer layers (layer outputs 1..L), and the windows are
averaged. The 330M model's 1024 dimensions are mapped to 768 by a fixed, seeded
random orthogonal projection, which keeps cosine similarities nearly unchanged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from base.errors import UserFacingError
from player.embedding.base import (
    EMBEDDING_DIM,
    l2_normalise,
    loop_to_min_length,
    read_excerpt,
    resample,
    to_mono,
    window_starts,
)
from player.embedding.checkpoints import KNOWN_REPOS, find_checkpoint, hf_cache_folder

__all__ = [
    "KNOWN_REPOS",
    "MertConfig",
    "MertEmbedder",
    "MertModel",
    "find_checkpoint",
    "hf_cache_folder",
    "load_model",
    "map_state_dict",
]

#: Checkpoint tensors used only in pretraining; safe to drop.
IGNORED_PREFIXES = (
    "masked_spec_embed",
    "label_embs_concat",
    "final_proj",
    "quantizer",
    "project_q",
)


@dataclass
class MertConfig:
    """The subset of MERT's ``config.json`` that shapes inference (defaults: MERT-v1-95M)."""

    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    conv_dim: tuple[int, ...] = (512, 512, 512, 512, 512, 512, 512)
    conv_kernel: tuple[int, ...] = (10, 3, 3, 3, 3, 2, 2)
    conv_stride: tuple[int, ...] = (5, 2, 2, 2, 2, 2, 2)
    conv_bias: bool = False
    feat_extract_norm: str = "group"
    feat_proj_layer_norm: bool = True
    num_conv_pos_embeddings: int = 128
    num_conv_pos_embedding_groups: int = 16
    do_stable_layer_norm: bool = False
    layer_norm_eps: float = 1e-5
    deepnorm: bool = False
    sample_rate: int = 24_000
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MertConfig:
        if data.get("feature_extractor_cqt"):
            raise UserFacingError(
                "MERT checkpoints with the CQT feature extractor are not supported"
            )
        if data.get("conv_pos_batch_norm"):
            raise UserFacingError(
                "MERT checkpoints with batch-norm positional conv are not supported"
            )
        names = {f.name for f in fields(cls)} - {"extra"}
        kwargs: dict[str, Any] = {}
        for k, v in data.items():
            if k in names:
                kwargs[k] = tuple(v) if isinstance(v, list) else v
        if kwargs.get("feat_extract_norm", "group") not in ("group", "layer"):
            raise UserFacingError(f"unknown feat_extract_norm {kwargs['feat_extract_norm']!r}")
        return cls(**kwargs, extra={k: v for k, v in data.items() if k not in names})

    @property
    def frame_samples(self) -> int:
        """Samples per output frame (320 for MERT-v1)."""
        return math.prod(self.conv_stride)

    @property
    def receptive_field(self) -> int:
        """Fewest input samples giving one output frame (400 for MERT-v1)."""
        rf = 1
        for k, s in zip(reversed(self.conv_kernel), reversed(self.conv_stride), strict=True):
            rf = (rf - 1) * s + k
        return rf


class _ConvLayer(nn.Module):
    def __init__(self, config: MertConfig, i: int) -> None:
        super().__init__()
        c_in = 1 if i == 0 else config.conv_dim[i - 1]
        c_out = config.conv_dim[i]
        self.conv = nn.Conv1d(
            c_in, c_out, config.conv_kernel[i], stride=config.conv_stride[i], bias=config.conv_bias
        )
        self.mode = "none"
        self.layer_norm: nn.Module | None = None
        if config.feat_extract_norm == "layer":
            self.mode = "layer"
            self.layer_norm = nn.LayerNorm(c_out, elementwise_affine=True)
        elif i == 0:
            self.mode = "group"
            self.layer_norm = nn.GroupNorm(c_out, c_out, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.mode == "layer" and self.layer_norm is not None:
            x = self.layer_norm(x.transpose(-2, -1)).transpose(-2, -1)
        elif self.mode == "group" and self.layer_norm is not None:
            x = self.layer_norm(x)
        return F.gelu(x)


class _FeatureEncoder(nn.Module):
    def __init__(self, config: MertConfig) -> None:
        super().__init__()
        self.conv_layers = nn.ModuleList(_ConvLayer(config, i) for i in range(len(config.conv_dim)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, None, :]
        for layer in self.conv_layers:
            x = layer(x)
        return x


class _FeatureProjection(nn.Module):
    def __init__(self, config: MertConfig) -> None:
        super().__init__()
        dim = config.conv_dim[-1]
        self.layer_norm = (
            nn.LayerNorm(dim, eps=config.layer_norm_eps) if config.feat_proj_layer_norm else None
        )
        self.projection = nn.Linear(dim, config.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        return self.projection(x)


class _PositionalConv(nn.Module):
    def __init__(self, config: MertConfig) -> None:
        super().__init__()
        k = config.num_conv_pos_embeddings
        self.conv = nn.Conv1d(
            config.hidden_size,
            config.hidden_size,
            k,
            padding=k // 2,
            groups=config.num_conv_pos_embedding_groups,
        )
        self.trim = 1 if k % 2 == 0 else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x.transpose(1, 2))
        if self.trim:
            y = y[:, :, : -self.trim]
        return F.gelu(y).transpose(1, 2)


class _Attention(nn.Module):
    def __init__(self, config: MertConfig) -> None:
        super().__init__()
        h = config.hidden_size
        self.heads = config.num_attention_heads
        self.q_proj = nn.Linear(h, h)
        self.k_proj = nn.Linear(h, h)
        self.v_proj = nn.Linear(h, h)
        self.out_proj = nn.Linear(h, h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, self.heads, h // self.heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        )
        return self.out_proj(out.transpose(1, 2).reshape(b, t, h))


class _FeedForward(nn.Module):
    def __init__(self, config: MertConfig) -> None:
        super().__init__()
        self.intermediate_dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.output_dense = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_dense(F.gelu(self.intermediate_dense(x)))


class _EncoderLayer(nn.Module):
    def __init__(self, config: MertConfig) -> None:
        super().__init__()
        self.attention = _Attention(config)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = _FeedForward(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.pre_norm = config.do_stable_layer_norm
        # DeepNorm up-weights the residual branch (MERT's optional variant).
        self.alpha = math.pow(2.0 * config.num_hidden_layers, 0.25) if config.deepnorm else 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            x = x + self.attention(self.layer_norm(x))
            return x + self.feed_forward(self.final_layer_norm(x))
        x = self.layer_norm(self.alpha * x + self.attention(x))
        return self.final_layer_norm(self.alpha * x + self.feed_forward(x))


class _Encoder(nn.Module):
    def __init__(self, config: MertConfig) -> None:
        super().__init__()
        self.pos_conv_embed = _PositionalConv(config)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.layers = nn.ModuleList(_EncoderLayer(config) for _ in range(config.num_hidden_layers))
        self.pre_norm = config.do_stable_layer_norm

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = x + self.pos_conv_embed(x)
        if not self.pre_norm:
            x = self.layer_norm(x)
        states = [x]
        for layer in self.layers:
            x = layer(x)
            states.append(x)
        if self.pre_norm:
            states[-1] = self.layer_norm(x)
        return states


class MertModel(nn.Module):
    """MERT-v1 encoder; ``forward`` returns the L+1 hidden states, each (batch, frames, hidden)."""

    def __init__(self, config: MertConfig) -> None:
        super().__init__()
        self.config = config
        self.feature_extractor = _FeatureEncoder(config)
        self.feature_projection = _FeatureProjection(config)
        self.encoder = _Encoder(config)

    def forward(self, input_values: torch.Tensor) -> list[torch.Tensor]:
        features = self.feature_extractor(input_values).transpose(1, 2)
        return self.encoder(self.feature_projection(features))


def _fold_weight_norm(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """weight = g * v / ||v||, the norm taken over every dim where g has size 1."""
    dims = [d for d in range(v.dim()) if g.shape[d] == 1]
    return g * v / v.norm(dim=dims, keepdim=True)


def map_state_dict(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Checkpoint keys -> :class:`MertModel` keys; returns (mapped, dropped key names).

    Handles a ``mert_model.``/``hubert.`` prefix, both weight-norm spellings
    (``weight_g``/``weight_v`` and ``parametrizations.weight.original0/1``) and drops
    the pretraining-only tensors in :data:`IGNORED_PREFIXES`. Anything else unknown is
    left in place so that a strict load reports it.
    """
    prefixes = ("mert_model.", "hubert.", "model.")
    for prefix in prefixes:
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    out: dict[str, torch.Tensor] = {}
    dropped: list[str] = []
    pending: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        if key.startswith(IGNORED_PREFIXES):
            dropped.append(key)
            continue
        for g_name, v_name in (
            ("weight_g", "weight_v"),
            ("parametrizations.weight.original0", "parametrizations.weight.original1"),
        ):
            if key.endswith("." + g_name) or key.endswith("." + v_name):
                base = key.rsplit("." + (g_name if key.endswith(g_name) else v_name), 1)[0]
                pending.setdefault(base, {})["g" if key.endswith(g_name) else "v"] = value
                break
        else:
            out[key] = value
    for base, pair in pending.items():
        if set(pair) != {"g", "v"}:
            raise ValueError(f"checkpoint has half a weight-norm pair for {base}")
        out[base + ".weight"] = _fold_weight_norm(pair["g"].float(), pair["v"].float())
    return out, dropped


def load_state_dict_file(folder: Path) -> dict[str, torch.Tensor]:
    """Read weights with safetensors, or ``torch.load(weights_only=True)``; never pickled code."""
    st = folder / "model.safetensors"
    if st.is_file():
        from safetensors.torch import load_file

        return load_file(str(st))
    pt = folder / "pytorch_model.bin"
    if pt.is_file():
        return torch.load(str(pt), map_location="cpu", weights_only=True)
    raise UserFacingError(f"no model.safetensors or pytorch_model.bin in {folder}")


def space_for(config: MertConfig) -> str:
    """Vector-space id from the architecture (95M: 768x12, 330M: 1024x24)."""
    shape = (config.hidden_size, config.num_hidden_layers)
    return {(768, 12): "mert-v1-95m", (1024, 24): "mert-v1-330m"}.get(
        shape, f"mert-{shape[0]}x{shape[1]}"
    )


def load_model(folder: str | Path) -> tuple[MertModel, MertConfig, dict[str, Any]]:
    """Build :class:`MertModel` from a checkpoint folder, strictly (no missing/unexpected keys)."""
    path = Path(folder).expanduser()
    if path.as_posix() in KNOWN_REPOS:
        cached = hf_cache_folder(path.as_posix())
        if cached is None:
            raise UserFacingError(
                f"{path} is not in the local Hugging Face cache (downloads are off)"
            )
        path = cached
    config_file = path / "config.json"
    if not config_file.is_file():
        raise UserFacingError(f"not a MERT checkpoint folder (no config.json): {path}")
    config = MertConfig.from_dict(json.loads(config_file.read_text()))
    pre_file = path / "preprocessor_config.json"
    preprocessor = json.loads(pre_file.read_text()) if pre_file.is_file() else {}
    model = MertModel(config)
    mapped, _ = map_state_dict(load_state_dict_file(path))
    result = model.load_state_dict(mapped, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise UserFacingError(
            f"MERT checkpoint {path} does not match the architecture: "
            f"missing {result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}"
        )
    return model.eval(), config, preprocessor


def _projection(dim_in: int) -> np.ndarray | None:
    """Fixed orthogonal map dim_in -> 768 (None when already 768)."""
    if dim_in == EMBEDDING_DIM:
        return None
    rng = np.random.default_rng(768_000 + dim_in)
    gauss = rng.standard_normal((max(dim_in, EMBEDDING_DIM), min(dim_in, EMBEDDING_DIM)))
    q = torch.linalg.qr(torch.from_numpy(gauss.astype(np.float32)))[0].numpy().astype(np.float64)
    return q if dim_in > EMBEDDING_DIM else q.T  # (dim_in, 768)


def pick_device(requested: str | None = None) -> tuple[torch.device, torch.dtype]:
    """CUDA or MPS in half precision when present, else CPU in float32."""
    if requested:
        dev = torch.device(requested)
    elif torch.cuda.is_available():
        dev = torch.device("cuda")
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        dev = torch.device("mps")
    else:
        dev = torch.device("cpu")
    return dev, (torch.float32 if dev.type == "cpu" else torch.float16)


class MertEmbedder:
    """Embedder over a :class:`MertModel`; see the module docstring for the pooling."""

    dim = EMBEDDING_DIM

    def __init__(
        self,
        model: MertModel,
        config: MertConfig,
        space: str | None = None,
        device: str | None = None,
        window_seconds: float = 10.0,
        max_windows: int = 6,
        batch_size: int = 4,
        do_normalize: bool = True,
    ) -> None:
        self.config = config
        self.space = space or space_for(config)
        self.device, self.dtype = pick_device(device)
        self.model = model.to(self.device, self.dtype).eval()
        self.window_seconds = window_seconds
        self.max_windows = max_windows
        self.batch_size = batch_size
        self.do_normalize = do_normalize
        self._proj = _projection(config.hidden_size)

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | None = None) -> MertEmbedder:
        model, config, pre = load_model(folder)
        return cls(model, config, device=device, do_normalize=bool(pre.get("do_normalize", True)))

    def windows(self, mono: np.ndarray) -> np.ndarray:
        """Equal-length windows (batch, samples) covering up to ``max_windows`` spread parts."""
        rate = self.config.sample_rate
        window = int(self.window_seconds * rate)
        if mono.size <= window:
            return mono[None, :]
        count = min(self.max_windows, -(-mono.size // window))
        return np.stack([mono[s : s + window] for s in window_starts(mono.size, window, count)])

    def _normalise(self, batch: np.ndarray) -> np.ndarray:
        if not self.do_normalize:
            return batch
        mean = batch.mean(axis=1, keepdims=True)
        var = batch.var(axis=1, keepdims=True)
        return (batch - mean) / np.sqrt(var + 1e-7)

    @torch.inference_mode()
    def embed(self, audio: np.ndarray, samplerate: int) -> np.ndarray:
        rate = self.config.sample_rate
        mono = to_mono(audio, samplerate)
        # Resample at most the windows we will use (plus margin), not a whole hour.
        limit = int(self.window_seconds * self.max_windows * samplerate)
        if mono.size > limit:
            parts = [
                mono[s : s + int(self.window_seconds * samplerate)]
                for s in window_starts(
                    mono.size, int(self.window_seconds * samplerate), self.max_windows
                )
            ]
            mono = np.concatenate(parts)
        mono = loop_to_min_length(resample(mono, samplerate, rate), rate)
        batch = self._normalise(self.windows(mono).astype(np.float64)).astype(np.float32)
        pooled = []
        for i in range(0, batch.shape[0], self.batch_size):
            x = torch.from_numpy(batch[i : i + self.batch_size]).to(self.device, self.dtype)
            states = self.model(x)[1:]
            # Time-average each layer in float32 (half precision sums overflow), then layers.
            pooled.append(torch.stack([s.float().mean(dim=1) for s in states]).mean(0).cpu())
        vector = torch.cat(pooled).mean(0).numpy().astype(np.float64)
        if self._proj is not None:
            vector = vector @ self._proj
        return l2_normalise(vector)

    def embed_file(self, path: str | Path) -> np.ndarray:
        data, rate = read_excerpt(path, self.window_seconds, self.max_windows)
        return self.embed(data, rate)

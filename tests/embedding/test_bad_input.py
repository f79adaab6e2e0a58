# SPDX-License-Identifier: MIT
"""Every embedder turns bad input into a valid unit vector or a clear error.

One suite, run against both backends (the descriptor embedder and a tiny random MERT).
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from base.errors import UserFacingError
from player.embedding.descriptor import DescriptorEmbedder

from .conftest import clicks


@pytest.fixture(params=["descriptor", "mert"])
def embedder(request, tiny_mert):
    return DescriptorEmbedder() if request.param == "descriptor" else tiny_mert


def _valid(v: np.ndarray) -> None:
    assert v.shape == (768,)
    assert v.dtype == np.float32
    assert np.all(np.isfinite(v))
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-4


@pytest.mark.parametrize(
    ("name", "audio", "rate"),
    [
        ("silence", np.zeros(44_100 * 2, dtype=np.float32), 44_100),
        ("0.1 s clip", clicks(120.0, seconds=0.1, rate=44_100), 44_100),
        ("one sample", np.array([0.5], dtype=np.float32), 44_100),
        (
            "6 channels",
            np.random.default_rng(0).standard_normal((48_000, 6)).astype(np.float32) * 0.1,
            48_000,
        ),
        ("8 kHz", clicks(120.0, seconds=2.0, rate=8000), 8000),
        ("192 kHz", clicks(120.0, seconds=1.5, rate=192_000), 192_000),
        ("int16 PCM", (clicks(120.0, seconds=1.0) * 20000).astype(np.int16), 22_050),
        ("full-scale square", np.sign(np.sin(np.arange(44_100) / 10.0)).astype(np.float32), 44_100),
    ],
)
def test_odd_audio_gives_a_valid_vector(embedder, name, audio, rate):
    _valid(embedder.embed(audio, rate))


def test_nan_samples_are_ignored(embedder):
    audio = clicks(120.0, seconds=2.0)
    damaged = audio.copy()
    damaged[::97] = np.nan
    damaged[5] = np.inf
    v = embedder.embed(damaged, 22_050)
    _valid(v)
    assert float(v @ embedder.embed(audio, 22_050)) > 0.8
    _valid(embedder.embed(np.full(22_050, np.nan, dtype=np.float32), 22_050))


@pytest.mark.parametrize(
    ("audio", "rate", "message"),
    [
        (np.zeros(0, dtype=np.float32), 44_100, "no samples"),
        (np.zeros((10, 10, 2), dtype=np.float32), 44_100, "shaped"),
        (np.zeros(1000, dtype=np.float32), 0, "sample rate"),
        (np.zeros(1000, dtype=np.float32), 5_000_000, "sample rate"),
        (np.array(["a", "b"]), 44_100, "numbers"),
    ],
)
def test_non_audio_is_a_clear_error(embedder, audio, rate, message):
    with pytest.raises(UserFacingError, match=message):
        embedder.embed(audio, rate)


def test_files_of_odd_formats(embedder, tmp_path):
    rng = np.random.default_rng(1)
    six = tmp_path / "six.wav"
    sf.write(six, rng.standard_normal((8000, 6)) * 0.1, 8000)
    hi = tmp_path / "hi.flac"
    sf.write(hi, clicks(100.0, seconds=1.0, rate=192_000), 192_000)
    tiny = tmp_path / "tiny.ogg"
    sf.write(tiny, clicks(100.0, seconds=0.1, rate=44_100), 44_100)
    for path in (six, hi, tiny):
        _valid(embedder.embed_file(path))


def test_unreadable_and_missing_files(embedder, tmp_path):
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not audio at all" * 100)
    with pytest.raises(UserFacingError, match="cannot read audio file"):
        embedder.embed_file(junk)
    with pytest.raises(UserFacingError, match="not found"):
        embedder.embed_file(tmp_path / "nope.wav")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), 44_100)
    with pytest.raises(UserFacingError, match="no samples"):
        embedder.embed_file(empty)


def test_channels_first_layout_is_understood(embedder):
    stereo = np.stack([clicks(120.0, seconds=2.0), clicks(120.0, seconds=2.0)], axis=1)
    a = embedder.embed(stereo, 22_050)
    b = embedder.embed(stereo.T.copy(), 22_050)
    assert float(a @ b) > 0.999

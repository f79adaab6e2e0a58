"""MusicGen backend end to end with a tiny randomly initialised checkpoint of the real
transformers classes (no download, no network), and the engine selection rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from player.errors import UserFacingError
from player.generation import GenerationRequest, SourceTrack, get_generator
from player.generation.engines import CHECKPOINT_ENV, musicgen_checkpoint
from player.generation.mixing import CEILING
from player.generation.procedural import ProceduralGenerator

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def word_tokenizer(vocab: dict[str, int]) -> Any:
    """A whitespace word-level tokenizer with T5's special tokens: enough text front end
    for a randomly initialised MusicGen (no SentencePiece model to download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, pad_token="[PAD]", unk_token="[UNK]", eos_token="</s>"
    )


def build_tiny_checkpoint(folder: Path) -> Path:
    """Save a MusicGen with a 1-layer T5, a tiny EnCodec and a 1-layer decoder, plus a
    word-level tokenizer, exactly as ``save_pretrained`` lays out a real checkpoint."""
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        T5Config,
    )

    enc = EncodecConfig(
        sampling_rate=16000,
        audio_channels=1,
        num_filters=4,
        hidden_size=16,
        upsampling_ratios=[8, 8, 8],
        codebook_size=64,
        target_bandwidths=[1.5],
        num_residual_layers=1,
        num_lstm_layers=1,
    )
    t5 = T5Config(vocab_size=64, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2)
    dec = MusicgenDecoderConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=32,
        num_codebooks=enc.num_quantizers,
        pad_token_id=64,
        bos_token_id=64,
        max_position_embeddings=2048,
    )
    torch.manual_seed(0)
    model = MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=t5, audio_encoder=enc, decoder=dec)
    )
    vocab = {"[PAD]": 0, "[UNK]": 1, "</s>": 2}
    for word in [
        "track",
        "bpm",
        "bass",
        "mood",
        "house",
        "techno",
        "pop",
        "lo-fi",
        "heavy",
        "warm",
        "light",
        "chill",
        "in",
        "minor",
        "major",
    ]:
        vocab.setdefault(word, len(vocab))
    tokenizer = word_tokenizer(vocab)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    """A tiny model gains nothing from threads, and they thrash on a busy CI machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("musicgen-tiny"))


@pytest.fixture
def musicgen(tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(CHECKPOINT_ENV, str(tiny_checkpoint))
    gen = get_generator("musicgen")
    gen.segment_seconds = 1.0  # type: ignore[attr-defined]
    gen.context_seconds = 0.5  # type: ignore[attr-defined]
    return gen


def test_nothing_is_loaded_until_asked(musicgen) -> None:  # type: ignore[no-untyped-def]
    assert musicgen.name == "musicgen"
    assert musicgen._model is None


def test_generates_streamed_stereo_chunks_reproducibly(musicgen) -> None:  # type: ignore[no-untyped-def]
    request = GenerationRequest(
        genres=["house"], vibe="chill", tempo_bpm=122, duration_seconds=2.5, seed=3
    )
    result = musicgen.generate(request)
    assert result.samplerate == 16000 and result.bpm == 122
    assert "house" in result.params["prompt"] and "122 bpm" in result.params["prompt"]
    chunks = list(result)
    assert len(chunks) >= 3  # one per decoded segment
    assert all(c.dtype == np.float32 and c.ndim == 2 and c.shape[1] == 2 for c in chunks)
    audio = np.concatenate(chunks)
    assert len(audio) == int(2.5 * 16000)
    assert np.abs(audio).max() <= CEILING
    again = musicgen.generate(request).render()
    assert np.array_equal(audio, again)


def test_extend_continues_from_the_source_audio(musicgen) -> None:  # type: ignore[no-untyped-def]
    t = np.arange(44100) / 44100
    source_audio = np.stack([np.sin(2 * np.pi * 220 * t)] * 2, axis=1).astype(np.float32) * 0.3
    request = GenerationRequest(
        mode="extend",
        duration_seconds=1.5,
        seed=1,
        source=SourceTrack(
            params={"genre": "techno", "bpm": 130.0}, audio=source_audio, samplerate=44100
        ),
    )
    result = musicgen.generate(request)
    assert result.genre == "techno" and result.bpm == 130.0
    assert len(result.render()) == int(1.5 * 16000)
    with pytest.raises(UserFacingError, match="audio"):
        musicgen.generate(
            GenerationRequest(mode="extend", source=SourceTrack(params={"genre": "pop"}))
        )


def test_auto_uses_musicgen_only_when_it_can_keep_up(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from player.generation.musicgen import accelerator

    monkeypatch.setenv(CHECKPOINT_ENV, str(tiny_checkpoint))
    chosen = get_generator("auto")
    assert chosen.name == ("musicgen" if accelerator() else "procedural")


def test_without_a_checkpoint_auto_is_procedural_and_musicgen_explains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert musicgen_checkpoint() is None
    assert isinstance(get_generator("auto"), ProceduralGenerator)
    with pytest.raises(UserFacingError, match=CHECKPOINT_ENV):
        get_generator("musicgen")
    with pytest.raises(UserFacingError, match="tape"):
        get_generator("tape")

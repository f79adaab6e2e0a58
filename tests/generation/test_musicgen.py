"""MusicGen backend end to end with a tiny randomly initialised checkpoint of the real
transformers classes (no download, no network), and the engine selection rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from base.errors import UserFacingError
from player.generation import GenerationRequest, SourceTrack, get_generator
from player.generation.engines import CHECKPOINT_ENV, musicgen_checkpoint
from player.generation.mixing import CEILING
from player.generation.musicgen import build_prompt
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


def tiny_parts() -> tuple[Any, Any, dict[str, Any]]:
    """The tiny EnCodec and T5 configs and the decoder's settings that every test MusicGen
    (plain and melody) is built from."""
    from transformers import EncodecConfig, T5Config

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
    decoder = {
        "vocab_size": 64,
        "hidden_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "ffn_dim": 32,
        "num_codebooks": enc.num_quantizers,
        "pad_token_id": 64,
        "bos_token_id": 64,
        "max_position_embeddings": 2048,
    }
    return enc, t5, decoder


def tiny_musicgen_model() -> Any:
    """A MusicGen with a 1-layer T5, a tiny EnCodec and a 1-layer decoder, random weights
    (seed 0): the real architecture at a size a CPU test runs in seconds."""
    import torch
    from transformers import MusicgenConfig, MusicgenDecoderConfig, MusicgenForConditionalGeneration

    enc, t5, decoder = tiny_parts()
    dec = MusicgenDecoderConfig(**decoder)
    torch.manual_seed(0)
    return MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=t5, audio_encoder=enc, decoder=dec)
    )


def build_tiny_checkpoint(folder: Path) -> Path:
    """Save :func:`tiny_musicgen_model` plus a word-level tokenizer, exactly as
    ``save_pretrained`` lays out a real checkpoint."""
    model = tiny_musicgen_model()
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
        "high",
        "energy",
        "powerful",
        "calm",
        "low",
        "sparse",
        "busy",
        "dense",
        "bright",
        "dark",
        "fast",
        "slow",
        "upbeat",
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


@dataclass(frozen=True)
class SteeredRequest(GenerationRequest):
    """The request controls the listener model sets (issue 13); declared here too so the
    test runs before and after ``GenerationRequest`` gains them."""

    energy: float | None = None
    density: float | None = None
    brightness: float | None = None
    swing: float | None = None
    scale: str | None = None


def test_the_prompt_says_what_the_request_asks_for() -> None:
    calm = build_prompt(
        SteeredRequest(
            genres=["lo-fi"], vibe="chill", energy=0.1, density=0.2, brightness=0.2, scale="minor"
        ),
        "lo-fi",
        72,
    )
    loud = build_prompt(
        SteeredRequest(genres=["techno"], energy=0.95, density=0.9, brightness=0.9, swing=0.8),
        "techno",
        138,
    )
    assert "lo-fi" in calm and "chill mood" in calm and "dark moody" in calm
    assert "slow 72 bpm" in calm and "calm low energy" in calm and "sparse" in calm
    assert "mellow" in calm and "rhodes" in calm.lower()  # the genre's instruments
    assert "techno" in loud and "fast 138 bpm" in loud and "high energy" in loud
    assert "busy dense" in loud and "bright crisp" in loud and "swung" in loud
    # A request without the new controls still gets a full prompt (older callers).
    plain = build_prompt(GenerationRequest(genres=["house"], key="A minor"), "house", 124)
    assert "upbeat 124 bpm" in plain and "in A minor" in plain and "dark moody" in plain
    assert "energy" not in plain


def test_the_prompt_reaches_the_tokenizer_and_its_tokens_reach_generate(musicgen) -> None:  # type: ignore[no-untyped-def]
    musicgen.load()
    tokenizer, model = musicgen._tokenizer, musicgen._model
    real_generate = model.generate
    texts: list[Any] = []
    token_ids: list[Any] = []

    def recording_tokenizer(batch: Any, **kwargs: Any) -> Any:
        texts.append(batch)
        return tokenizer(batch, **kwargs)

    def recording_generate(*args: Any, **kwargs: Any) -> Any:
        token_ids.append(kwargs["input_ids"].tolist())
        return real_generate(*args, **kwargs)

    musicgen._tokenizer = recording_tokenizer
    model.generate = recording_generate
    try:
        base = dict(genres=["techno"], tempo_bpm=130, duration_seconds=1.0, seed=7)
        soft_result = musicgen.generate(SteeredRequest(**base, energy=0.1, density=0.1))
        soft_result.render()
        hard_result = musicgen.generate(SteeredRequest(**base, energy=0.9, density=0.9))
        hard_result.render()
    finally:
        del model.generate
    assert texts == [[soft_result.params["prompt"]], [hard_result.params["prompt"]]]
    assert "calm low energy" in texts[0][0] and "high energy" in texts[1][0]
    assert hard_result.params["energy"] == 0.9
    # The words became tokens the text encoder sees: different requests, different ids.
    assert token_ids[0] == tokenizer(texts[0])["input_ids"]
    assert token_ids[0] != token_ids[-1]


def test_extend_hands_the_source_audio_to_generate_as_its_audio_prompt(musicgen) -> None:  # type: ignore[no-untyped-def]
    musicgen.load()
    model = musicgen._model
    real_generate = model.generate
    prompts: list[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        prompts.append(kwargs.get("input_values"))
        return real_generate(*args, **kwargs)

    model.generate = recording
    try:
        sr = 16000
        t = np.arange(sr * 2) / sr
        source = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
        request = GenerationRequest(
            mode="extend",
            duration_seconds=1.0,
            seed=2,
            source=SourceTrack(
                params={"genre": "house", "bpm": 120.0},
                audio=np.stack([source, source], axis=1),
                samplerate=sr,
            ),
        )
        musicgen.generate(request).render()
    finally:
        del model.generate
    first = prompts[0]
    assert first is not None and first.shape[:2] == (1, 1)
    hop = int(np.prod(model.config.audio_encoder.upsampling_ratios))
    context = first[0, 0].numpy()
    assert len(context) == int(musicgen.context_seconds * sr) // hop * hop
    # The prompt is the end of the source track, sample for sample.
    np.testing.assert_allclose(context, source[-len(context) :], atol=1e-6)
    # Each later segment continues from audio too (the previous segment's end).
    assert all(p is not None for p in prompts)

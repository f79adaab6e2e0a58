"""MusicGen-melody end to end: a tiny randomly initialised
``MusicgenMelodyForConditionalGeneration`` (the real architecture: T5, EnCodec, the
melody decoder with its chroma projection), saved as a checkpoint and run by the engine
on the CPU, offline. The melody is the source track's audio (``similar``/``extend``), or
a hummed file passed the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from player.generation import GenerationRequest, SourceTrack, get_generator
from player.generation.engines import CHECKPOINT_ENV, choose_engine, musicgen_checkpoint
from player.generation.mixing import CEILING
from player.generation.musicgen import (
    CHROMA_DEFAULTS,
    CROSSFADE,
    MusicGenGenerator,
    is_melody_checkpoint,
    melody_chroma,
)
from tests.generation.test_musicgen import build_tiny_checkpoint, tiny_parts

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

#: A small chroma front end for the tiny model (the published checkpoint uses 32 kHz,
#: n_fft 16384, hop 4096, 30 s: :data:`CHROMA_DEFAULTS`).
TINY_CHROMA = {
    "sampling_rate": 16000,
    "hop_length": 2048,
    "n_fft": 4096,
    "num_chroma": 12,
    "chunk_length": 4,
}


def tiny_melody_model() -> Any:
    """MusicGen-melody at test size, random weights (seed 0)."""
    from transformers import (
        MusicgenMelodyConfig,
        MusicgenMelodyDecoderConfig,
        MusicgenMelodyForConditionalGeneration,
    )

    enc, t5, decoder = tiny_parts()
    dec = MusicgenMelodyDecoderConfig(
        **decoder,
        # Weights ~N(0, 1) rather than N(0, 0.02): logits spread out, so what conditions
        # the decoder (words, tune) visibly changes the sampled music.
        initializer_factor=1.0,
    )
    torch.manual_seed(0)
    config = MusicgenMelodyConfig(
        text_encoder=t5, audio_encoder=enc, decoder=dec, num_chroma=12, chroma_length=32
    )
    model = MusicgenMelodyForConditionalGeneration(config)
    # EnCodec's codebooks start at zero (they are learnt by k-means), so every code would
    # decode to the same sound: random codebooks make different codes different audio.
    with torch.no_grad():
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    return model


def build_tiny_melody_checkpoint(folder: Path) -> Path:
    """The layout of facebook/musicgen-melody: weights and config from
    ``save_pretrained``, the tokenizer files, and a ``preprocessor_config.json`` for the
    chroma front end (written as JSON: saving the real feature extractor needs
    torchaudio, which is not installed)."""
    build_tiny_checkpoint(folder)  # tokenizer files (and a plain MusicGen, replaced next)
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    tiny_melody_model().save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "feature_extractor_type": "MusicgenMelodyFeatureExtractor",
                "processor_class": "MusicgenMelodyProcessor",
                "feature_size": 12,
                "padding_value": 0.0,
                "return_attention_mask": False,
                "stem_indices": [3, 2],
                **TINY_CHROMA,
            }
        )
    )
    return folder


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def melody_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_melody_checkpoint(tmp_path_factory.mktemp("musicgen-melody-tiny"))


@pytest.fixture
def melody_gen(melody_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> MusicGenGenerator:
    monkeypatch.setenv(CHECKPOINT_ENV, str(melody_checkpoint))
    gen = get_generator("musicgen")
    assert isinstance(gen, MusicGenGenerator)
    gen.segment_seconds = 1.0
    gen.context_seconds = 0.5
    return gen


def tone(hz: float, seconds: float, sr: int, stereo: bool = True) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    mono = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return np.stack([mono, mono], axis=1) if stereo else mono


def record_generate(gen: MusicGenGenerator) -> list[dict[str, Any]]:
    """Wrap the loaded model's ``generate`` to keep the arguments of every call."""
    gen.load()
    model = gen._model
    real = model.generate
    calls: list[dict[str, Any]] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    model.generate = recording
    return calls


def test_chroma_marks_the_pitch_class_of_what_it_hears() -> None:
    a4 = melody_chroma(tone(440.0, 3.0, 44100), 44100, CHROMA_DEFAULTS)
    assert a4.shape[1] == 12 and len(a4) == 3 * 32000 // 4096 + 1
    assert set(a4.sum(axis=1)) == {1.0}  # one-hot per frame
    assert (a4.argmax(axis=1) == 9).all()  # A (C first)
    c4 = melody_chroma(tone(261.63, 3.0, 32000, stereo=False), 32000, CHROMA_DEFAULTS)
    assert (c4.argmax(axis=1) == 0).all()
    # Longer audio is cut to chunk_length, as the feature extractor does.
    long = melody_chroma(tone(440.0, 40.0, 32000, stereo=False), 32000, CHROMA_DEFAULTS)
    assert len(long) == 30 * 32000 // 4096 + 1


def test_a_melody_checkpoint_is_recognised_loaded_with_its_class_and_streams(
    melody_gen: MusicGenGenerator, melody_checkpoint: Path
) -> None:
    from transformers import MusicgenMelodyForConditionalGeneration

    assert is_melody_checkpoint(melody_checkpoint) and melody_gen.melody
    assert melody_gen.chroma == TINY_CHROMA
    request = GenerationRequest(genres=["house"], tempo_bpm=120, duration_seconds=2.5, seed=3)
    result = melody_gen.generate(request)
    assert isinstance(melody_gen._model, MusicgenMelodyForConditionalGeneration)
    assert result.params["melody"] == "none"  # a "new" track has no tune to follow
    chunks = list(result)
    assert len(chunks) >= 3 and all(c.ndim == 2 and c.shape[1] == 2 for c in chunks)
    audio = np.concatenate(chunks)
    assert len(audio) == int(2.5 * 16000) and np.abs(audio).max() <= CEILING
    assert np.array_equal(audio, melody_gen.generate(request).render())


def test_similar_follows_the_source_tune_window_by_window(
    melody_gen: MusicGenGenerator,
) -> None:
    calls = record_generate(melody_gen)
    sr = 44100
    hummed = tone(440.0, 1.5, sr)  # a hummed file, as `generate --source-audio` reads it

    def similar(audio: np.ndarray) -> Any:
        return GenerationRequest(
            mode="similar",
            genres=["pop"],
            duration_seconds=2.0,
            seed=5,
            source=SourceTrack(params={}, audio=audio, samplerate=sr),
        )

    result = melody_gen.generate(similar(hummed))
    assert result.params["melody"] == "source"
    with_a = result.render()
    features = [c["input_features"] for c in calls]
    assert len(features) >= 2 and all(f is not None for f in features)
    tune = melody_gen._melody(similar(hummed))
    assert tune is not None
    first = features[0][0].numpy()
    # The first window is the start of the tune (looped to chunk_length), pitch class A.
    np.testing.assert_array_equal(first, melody_gen._melody_features(tune, 0.0))
    assert (first.argmax(axis=1) == 9).all()
    # Later windows move along with the track: the second starts where its audio prompt
    # (the end of the first segment) starts. Over an A-then-C tune it hears both notes.
    calls.clear()
    two_notes = np.concatenate([tone(440.0, 0.75, sr), tone(261.63, 0.75, sr)])
    melody_gen.generate(similar(two_notes)).render()
    tune = melody_gen._melody(similar(two_notes))
    assert tune is not None
    model_sr, hop = 16000, int(np.prod(melody_gen._model.config.audio_encoder.upsampling_ratios))
    first_emitted = -(-model_sr // hop) * hop - CROSSFADE  # one 1 s segment, less the blend
    prompt = int(melody_gen.context_seconds * model_sr) // hop * hop
    second = calls[1]["input_features"][0].numpy()
    assert calls[1]["decoder_input_ids"] is not None
    np.testing.assert_array_equal(
        second, melody_gen._melody_features(tune, (first_emitted - prompt) / model_sr)
    )
    assert not np.array_equal(second, calls[0]["input_features"][0].numpy())
    assert {0, 9} <= set(second.argmax(axis=1))
    # A different tune, same seed and words: different music.
    calls.clear()
    with_c = melody_gen.generate(similar(tone(261.63, 1.5, sr))).render()
    assert (calls[0]["input_features"][0].numpy().argmax(axis=1) == 0).all()
    assert not np.array_equal(with_a, with_c)


def test_extend_prompts_with_the_source_end_as_codes_and_continues_its_tune(
    melody_gen: MusicGenGenerator,
) -> None:
    calls = record_generate(melody_gen)
    sr = 16000
    source = tone(330.0, 2.0, sr)
    request = GenerationRequest(
        mode="extend",
        duration_seconds=1.5,
        seed=2,
        source=SourceTrack(params={"genre": "house", "bpm": 120.0}, audio=source, samplerate=sr),
    )
    result = melody_gen.generate(request)
    assert len(result.render()) == int(1.5 * sr)
    model = melody_gen._model
    hop = int(np.prod(model.config.audio_encoder.upsampling_ratios))
    keep = int(melody_gen.context_seconds * sr) // hop * hop
    # The audio prompt is the source's last `keep` samples, as EnCodec codes.
    expected = model.audio_encoder.encode(
        input_values=torch.from_numpy(source[-keep:, 0][None, None, :]), return_dict=True
    ).audio_codes[0]
    prompt = calls[0]["decoder_input_ids"]
    assert prompt.shape == (expected.shape[1], expected.shape[2])
    assert torch.equal(prompt, expected.reshape(prompt.shape))
    # The tune goes on from the end of the source (its prompt's start, then wrapping).
    tune = melody_gen._melody(request)
    assert tune is not None and tune[2] == len(tune[0])
    np.testing.assert_array_equal(
        calls[0]["input_features"][0].numpy(),
        melody_gen._melody_features(tune, -keep / sr),
    )


def test_bad_melody_audio_is_refused_with_a_clear_error(melody_gen: MusicGenGenerator) -> None:
    from base.errors import UserFacingError

    request = GenerationRequest(
        mode="similar",
        genres=["pop"],
        duration_seconds=1.0,
        source=SourceTrack(audio=np.full((100, 2), np.nan, np.float32), samplerate=16000),
    )
    with pytest.raises(UserFacingError, match="melody"):
        melody_gen.generate(request)


def test_the_engine_finds_a_melody_folder_in_the_models_folder(
    melody_checkpoint: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil

    from player import models

    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    # In the Hugging Face cache (fetched by hand, or by another app)...
    snapshot = cache / "models--facebook--musicgen-melody" / "snapshots" / ("0" * 40)
    shutil.copytree(melody_checkpoint, snapshot)
    assert musicgen_checkpoint() == snapshot
    # ...and downloaded from the catalogue, which wins.
    entry = models.find("musicgen-melody")
    assert entry.runnable
    shutil.copytree(melody_checkpoint, models.model_dir(entry))
    assert musicgen_checkpoint() == models.model_dir(entry)
    # auto runs it on a GPU with its catalogue VRAM, and says why not on a smaller one.
    assert choose_engine(gpu=("cuda", 24.0)).checkpoint == models.model_dir(entry)
    small_gpu = choose_engine(gpu=("cuda", 6.0))
    assert small_gpu.engine == "procedural" and "needs about 10 GB" in small_gpu.reason
    gen = get_generator("musicgen")
    assert isinstance(gen, MusicGenGenerator) and gen.melody


def test_a_hummed_file_steers_the_cli_generate(
    melody_checkpoint: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``generate --mode similar --source-audio hum.wav`` with the melody model: the
    hummed tune is the melody, the genre comes from ``--genre``."""
    import soundfile as sf

    from player.cli import main

    monkeypatch.setenv(CHECKPOINT_ENV, str(melody_checkpoint))
    hum = tmp_path / "hum.wav"
    sf.write(str(hum), tone(392.0, 1.0, 22050), 22050)  # a hummed G
    out = tmp_path / "out.wav"
    args = ["generate", "--engine", "musicgen", "--mode", "similar", "--genre", "pop"]
    args += ["--source-audio", str(hum), "--seconds", "1", "--seed", "4", "--out", str(out)]
    assert main(args) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["engine"] == "musicgen" and line["params"]["melody"] == "source"
    assert line["genre"] == "pop"
    audio, sr = sf.read(str(out))
    assert sr == 16000 and len(audio) == 16000

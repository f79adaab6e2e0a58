"""MusicGen backend (transformers ``MusicgenForConditionalGeneration``, or
``MusicgenMelodyForConditionalGeneration`` for a melody checkpoint).

Loaded lazily from a local folder or the Hugging Face cache, never downloaded
(``local_files_only``; ``infinite-player models get`` fetches one on request). A text
prompt is built from the request (:func:`build_prompt`); long tracks are made
in segments, each continuing the last seconds of the previous one as an audio prompt,
and each segment is yielded as soon as it is decoded. ``extend`` is the same audio-
prompt continuation starting from the source track's audio.

A melody checkpoint (``musicgen-melody``) is also steered by a tune: the chroma of the
source track of a ``similar``/``extend``/``radio`` request (the radio's seed track, or a
hummed file given as ``--source-audio``), looped under the track as it grows, as
audiocraft does for long melody-conditioned tracks. The chroma is computed here
(:func:`melody_chroma`) exactly as transformers' ``MusicgenMelodyFeatureExtractor`` does,
because that extractor needs torchaudio, which has no release for the torch installed here.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from base.errors import UserFacingError
from player.generation.genres import GENRE_NAMES, STYLES, known_genres, resolve_vibe
from player.generation.mixing import Limiter
from player.generation.protocol import GenerationRequest, GenerationResult, Section

CROSSFADE = 1024  # samples blended where one segment's decode meets the next
#: ``config.json`` ``model_type`` of a melody-conditioned checkpoint.
MELODY_MODEL_TYPE = "musicgen_melody"
#: ``MusicgenMelodyFeatureExtractor``'s defaults, used where ``preprocessor_config.json``
#: is silent (the published checkpoint's file holds the same values).
CHROMA_DEFAULTS = {
    "sampling_rate": 32000,
    "hop_length": 4096,
    "n_fft": 16384,
    "num_chroma": 12,
    "chunk_length": 30,
}


def is_melody_checkpoint(folder: str | Path) -> bool:
    """Whether ``folder`` holds a melody-conditioned MusicGen (read from its config,
    without importing torch)."""
    import json

    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("model_type") == MELODY_MODEL_TYPE


def chroma_settings(folder: str | Path | None) -> dict[str, int]:
    """The chroma parameters of a melody checkpoint's ``preprocessor_config.json``."""
    import json

    settings = dict(CHROMA_DEFAULTS)
    path = Path(folder) / "preprocessor_config.json" if folder is not None else None
    if path is not None and path.is_file():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserFacingError(f"{path} is not valid JSON ({exc}).") from None
        for key in settings:
            if isinstance(raw.get(key), int):
                settings[key] = int(raw[key])
    return settings


def melody_chroma(audio: np.ndarray, samplerate: int, settings: dict[str, int]) -> np.ndarray:
    """The melody of ``audio`` as MusicGen-melody reads it: one frame per ``hop_length``
    samples, each a one-hot vector over the 12 pitch classes (C first) marking the
    strongest one. Same steps as transformers' ``MusicgenMelodyFeatureExtractor``
    (resampled to its rate, cut to ``chunk_length`` seconds, padded to one FFT, a
    window-normalised power spectrogram, librosa's chroma filter bank, argmax), with
    soxr resampling instead of torchaudio's."""
    import torch
    from transformers.audio_utils import chroma_filter_bank

    sr, n_fft, hop = settings["sampling_rate"], settings["n_fft"], settings["hop_length"]
    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    if samplerate != sr:
        import soxr

        mono = soxr.resample(mono, samplerate, sr).astype(np.float32)
    mono = mono[: settings["chunk_length"] * sr]
    if len(mono) < n_fft:
        pad = n_fft - len(mono)
        mono = np.pad(mono, (pad // 2, pad - pad // 2))
    window = torch.hann_window(n_fft)
    spec = torch.stft(
        torch.from_numpy(np.ascontiguousarray(mono)),
        n_fft,
        hop_length=hop,
        window=window,
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    power = (spec / window.pow(2).sum().sqrt()).abs().pow(2)
    filters = torch.from_numpy(
        chroma_filter_bank(
            sampling_rate=sr, num_frequency_bins=n_fft, tuning=0, num_chroma=settings["num_chroma"]
        )
    ).float()
    chroma = torch.einsum("cf,ft->tc", filters, power)
    onehot = torch.zeros_like(chroma)
    onehot.scatter_(-1, chroma.argmax(-1, keepdim=True), 1.0)
    return onehot.numpy()


def accelerator() -> str | None:
    """``"cuda"`` or ``"mps"`` when present (these keep MusicGen ahead of playback)."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return None


#: Scales (``request.scale`` or the key's mode) as the mood words of MusicGen's captions.
SCALE_MOODS = {
    "major": "bright uplifting",
    "minor": "dark moody",
    "dorian": "soulful",
    "phrygian": "dark exotic",
    "lydian": "dreamy",
    "mixolydian": "bluesy",
    "harmonic minor": "dramatic",
    "pentatonic": "simple",
}


def _control(request: GenerationRequest, name: str) -> float | None:
    """A 0..1 request control (``energy``, ``density``, ``brightness``, ``swing``) when the
    request sets it (None: the engine's own choice)."""
    value = getattr(request, name)
    return None if value is None else float(value)


def _scale(request: GenerationRequest) -> str | None:
    scale = request.scale
    if scale:
        return str(scale).strip().lower()
    key = (request.key or "").lower()
    for name in sorted(SCALE_MOODS, key=len, reverse=True):
        if key.endswith(name):
            return name
    return None


def _tempo_words(bpm: float) -> str:
    if bpm < 80:
        return "slow"
    if bpm < 105:
        return "mid-tempo"
    if bpm < 130:
        return "upbeat"
    return "fast"


def _graded(value: float | None, low: str, high: str) -> str | None:
    if value is None:
        return None
    if value <= 0.35:
        return low
    if value >= 0.65:
        return high
    return None


def build_prompt(request: GenerationRequest, genre: str, bpm: float) -> str:
    """A MusicGen text prompt in the style of its training captions, from everything the
    request says: genre and its instruments, mood (vibe and scale), tempo in words and
    BPM, energy, density, brightness, swing, key and bass. The radio's listener model
    steers MusicGen through exactly this text, as it steers the procedural engine
    through the same request fields."""
    style = STYLES[genre]
    vibe = resolve_vibe(request.vibe).id
    parts = [f"{GENRE_NAMES[genre].lower()} track", style.description]
    moods = [f"{vibe} mood"] if vibe != "balanced" else []
    scale = _scale(request)
    if scale in SCALE_MOODS:
        moods.append(SCALE_MOODS[scale])
    parts.extend(moods)
    parts.append(f"{_tempo_words(bpm)} {round(bpm)} bpm")
    for words in (
        _graded(_control(request, "energy"), "calm low energy", "high energy powerful"),
        _graded(_control(request, "density"), "sparse minimal arrangement", "busy dense layers"),
        _graded(_control(request, "brightness"), "dark warm mellow tone", "bright crisp tone"),
        _graded(_control(request, "swing"), "straight rhythm", "swung shuffle groove"),
    ):
        if words:
            parts.append(words)
    if request.key:
        parts.append(f"in {request.key}")
    elif scale:
        parts.append(f"{scale} scale")
    parts.append(
        {"low": "light bass", "medium": "warm bass", "high": "heavy deep bass"}[request.bass_level]
    )
    return ", ".join(parts)


class MusicGenGenerator:
    """MusicGen on CUDA (fp16/bf16), MPS, or — slowly — the CPU."""

    name = "musicgen"

    def __init__(
        self,
        checkpoint: str | Path,
        device: str | None = None,
        segment_seconds: float = 10.0,
        context_seconds: float = 3.0,
        guidance_scale: float = 3.0,
        model: Any = None,
        tokenizer: Any = None,
    ) -> None:
        """``model``/``tokenizer`` may be passed already loaded (benchmarks, tests);
        otherwise they are loaded from ``checkpoint`` on first use."""
        self.checkpoint = Path(checkpoint)
        if model is None and not (self.checkpoint / "config.json").is_file():
            raise UserFacingError(
                f"No MusicGen checkpoint in {self.checkpoint} (config.json is missing)."
            )
        self.device = device
        self.segment_seconds = segment_seconds
        self.context_seconds = context_seconds
        self.guidance_scale = guidance_scale
        self._model: Any = model
        self._tokenizer: Any = tokenizer
        if model is not None:
            self.device = str(model.device.type)
            self.melody = getattr(model.config, "model_type", "") == MELODY_MODEL_TYPE
        else:
            self.melody = is_melody_checkpoint(self.checkpoint)
        #: chroma parameters (melody checkpoints only), from ``preprocessor_config.json``
        self.chroma = chroma_settings(self.checkpoint if model is None else None)
        self._lock = threading.Lock()
        #: extra ``model.generate`` arguments, e.g. ``{"cache_implementation": "static"}``
        #: (``tests/bench/bench_gpu.py`` measures which ones pay on a GPU).
        self.generate_options: dict[str, Any] = {}

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        """Load weights and tokenizer once (first ``generate`` does this)."""
        with self._lock:
            if self._model is not None:
                return
            import torch
            from transformers import (
                AutoTokenizer,
                MusicgenForConditionalGeneration,
                MusicgenMelodyForConditionalGeneration,
            )

            device = self.device or accelerator() or "cpu"
            if device == "cuda":
                dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            elif device == "mps":
                dtype = torch.float16
            else:
                dtype = torch.float32
            model_class: Any = (
                MusicgenMelodyForConditionalGeneration
                if self.melody
                else MusicgenForConditionalGeneration
            )
            try:
                model = model_class.from_pretrained(
                    self.checkpoint, local_files_only=True, dtype=dtype
                )
                tokenizer = AutoTokenizer.from_pretrained(self.checkpoint, local_files_only=True)
            except OSError as exc:
                raise UserFacingError(
                    f"Could not load MusicGen from {self.checkpoint}: {exc}"
                ) from exc
            self._model = model.to(device).eval()
            self._tokenizer = tokenizer
            self.device = device

    @property
    def samplerate(self) -> int:
        self.load()
        return int(self._model.config.audio_encoder.sampling_rate)

    # -- generation -------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> GenerationResult:
        request.validate()
        self.load()
        seed = int(request.seed) if request.seed is not None else secrets.randbits(62)
        rng = np.random.default_rng(seed)
        source_params = dict(request.source.params) if request.source else {}
        if request.mode in ("similar", "extend") and source_params.get("genre") in STYLES:
            genre = str(source_params["genre"])
        else:
            styles = known_genres(list(request.genres))
            genre = styles[int(rng.integers(len(styles)))].id
        if request.tempo_bpm is not None:
            bpm = float(request.tempo_bpm)
        elif request.mode in ("similar", "extend") and "bpm" in source_params:
            bpm = float(source_params["bpm"])
        else:
            lo, hi = request.tempo_range or STYLES[genre].tempo
            bpm = float(round((lo + hi) / 2))
        prompt = build_prompt(request, genre, bpm)
        sr = self.samplerate
        total = round(float(request.duration_seconds) * sr)
        context = None
        if request.mode == "extend":
            context = self._source_audio(request)
        melody = self._melody(request)
        params: dict[str, Any] = {
            "engine": self.name,
            "mode": request.mode,
            "checkpoint": self.checkpoint.name,
            "prompt": prompt,
            "genre": genre,
            "vibe": resolve_vibe(request.vibe).id,
            "bass_level": request.bass_level,
            "bpm": bpm,
            "key": request.key or "",
            **{
                name: _control(request, name)
                for name in ("energy", "density", "brightness", "swing")
                if _control(request, name) is not None
            },
            "seed": seed,
            "seconds": total / sr,
            "guidance_scale": self.guidance_scale,
        }
        if request.source is not None and request.mode == "extend":
            params["source_track_id"] = request.source.track_id
        if self.melody:
            params["melody"] = "source" if melody is not None else "none"
            if melody is not None and request.source is not None:
                params["melody_track_id"] = request.source.track_id

        def chunks() -> Iterator[np.ndarray]:
            return self._stream(prompt, total, seed, context, melody)

        return GenerationResult(
            engine=self.name,
            samplerate=sr,
            bpm=bpm,
            key=request.key or "",
            genre=genre,
            duration_seconds=total / sr,
            sections=[
                Section(
                    "continuation" if context is not None else "main",
                    0.0,
                    max(1, round(total / sr * bpm / 240)),
                )
            ],
            params=params,
            chunks=chunks,
        )

    def _source_audio(self, request: GenerationRequest) -> np.ndarray:
        src = request.source
        if src is None or src.audio is None or not src.samplerate:
            raise UserFacingError("MusicGen can only extend a track whose audio is available.")
        audio = np.asarray(src.audio, dtype=np.float32)
        mono = audio.mean(axis=1) if audio.ndim == 2 else audio
        if src.samplerate != self.samplerate:
            import soxr

            mono = soxr.resample(mono, src.samplerate, self.samplerate).astype(np.float32)
        return self._trim_context(mono)

    def _melody(self, request: GenerationRequest) -> tuple[np.ndarray, int, int] | None:
        """For a melody checkpoint: the tune to follow (the source's audio, mono at the
        chroma rate) and the sample of it where the new track starts (``extend`` goes on
        from the source's end; ``similar`` and ``radio`` start from its beginning).
        ``None`` for a text-only request or checkpoint."""
        src = request.source
        if not self.melody or request.mode == "new" or src is None or src.audio is None:
            return None
        if not src.samplerate:
            raise UserFacingError("The melody's audio has no sample rate.")
        audio = np.asarray(src.audio, dtype=np.float32)
        mono = audio.mean(axis=1) if audio.ndim == 2 else audio
        if not len(mono) or not np.isfinite(mono).all():
            raise UserFacingError("The melody's audio is empty or not finite.")
        sr = self.chroma["sampling_rate"]
        if src.samplerate != sr:
            import soxr

            mono = soxr.resample(mono, src.samplerate, sr).astype(np.float32)
        start = len(mono) if request.mode == "extend" else 0
        return mono, sr, start

    def _melody_features(
        self, melody: tuple[np.ndarray, int, int], at_seconds: float
    ) -> np.ndarray:
        """The chroma of the ``chunk_length`` seconds of the (looped) melody that lie
        under the window the model generates next, which begins ``at_seconds`` into the
        track (its audio prompt included)."""
        tune, sr, start = melody
        first = start + round(at_seconds * sr)
        span = np.arange(first, first + self.chroma["chunk_length"] * sr)
        window = np.take(tune, span, mode="wrap")
        return melody_chroma(window, sr, self.chroma)

    def _prompt_codes(self, context: np.ndarray) -> Any:
        """``context`` as EnCodec codes in the decoder's layout ``(codebooks, frames)``:
        the melody model takes an audio prompt as ``decoder_input_ids`` (it has no
        ``input_values`` path), encoded as ``MusicgenForConditionalGeneration`` does."""
        import torch

        model = self._model
        values = torch.from_numpy(context[np.newaxis, np.newaxis, :]).to(model.device, model.dtype)
        with torch.inference_mode():
            codes = model.audio_encoder.encode(input_values=values, return_dict=True).audio_codes
        _frames, batch, codebooks, length = codes.shape
        return codes[0].reshape(batch * codebooks, length)

    def _trim_context(self, audio: np.ndarray) -> np.ndarray:
        """The last ``context_seconds``, cut to whole codec frames so that the decoded
        prompt lines up sample for sample with the audio it came from."""
        hop = int(np.prod(self._model.config.audio_encoder.upsampling_ratios))
        keep = int(self.context_seconds * self.samplerate) // hop * hop
        return np.ascontiguousarray(
            audio[len(audio) - min(keep, len(audio) // hop * hop) :], dtype=np.float32
        )

    def _stream(
        self,
        prompt: str,
        total: int,
        seed: int,
        context: np.ndarray | None,
        melody: tuple[np.ndarray, int, int] | None = None,
    ) -> Iterator[np.ndarray]:
        import torch

        model, sr = self._model, self.samplerate
        enc = model.config.audio_encoder
        hop = int(np.prod(enc.upsampling_ratios))
        n_codebooks = int(model.config.decoder.num_codebooks)
        inputs = self._tokenizer([prompt], return_tensors="pt", padding=True).to(model.device)
        limiter = Limiter(samplerate=sr)
        held = np.zeros(0, dtype=np.float32)  # emitted later, crossfaded with the next decode
        produced = 0
        segment = 0
        while produced < total:
            want = min(int(self.segment_seconds * sr), total - produced + CROSSFADE)
            frames = max(1, -(-want // hop))
            kwargs: dict[str, Any] = {}
            if context is not None and len(context) and self.melody:
                kwargs["decoder_input_ids"] = self._prompt_codes(context)
            elif context is not None and len(context):
                kwargs["input_values"] = torch.from_numpy(context[np.newaxis, np.newaxis, :]).to(
                    model.device, model.dtype
                )
            if melody is not None:
                prompt_seconds = (len(context) if context is not None else 0) / sr
                chroma = self._melody_features(melody, produced / sr - prompt_seconds)
                kwargs["input_features"] = torch.from_numpy(chroma[np.newaxis]).to(
                    model.device, model.dtype
                )
            torch.manual_seed(seed + segment)
            with torch.inference_mode():
                out = model.generate(
                    **inputs,
                    **kwargs,
                    **self.generate_options,
                    do_sample=True,
                    guidance_scale=self.guidance_scale,
                    max_new_tokens=frames + n_codebooks - 1,
                )
            audio = out[0, 0].float().cpu().numpy()
            new = audio[-frames * hop :] if context is not None else audio[: frames * hop]
            if len(held) and context is not None:
                # The decode of the prompt's end overlaps what we held back: blend them.
                before = audio[len(audio) - frames * hop - len(held) : len(audio) - frames * hop]
                if len(before) == len(held):
                    ramp = np.linspace(0.0, 1.0, len(held), dtype=np.float32)
                    held = held * (1 - ramp) + before * ramp
            piece = np.concatenate([held, new])
            remaining = total - produced
            if len(piece) - CROSSFADE >= remaining:
                emit, held = piece[:remaining], np.zeros(0, dtype=np.float32)
            else:
                emit, held = piece[:-CROSSFADE], piece[-CROSSFADE:]
            context = np.concatenate(
                [context if context is not None else np.zeros(0, np.float32), new]
            )
            context = self._trim_context(context)
            produced += len(emit)
            segment += 1
            stereo = np.repeat(emit[:, None], 2, axis=1).astype(np.float32)
            yield limiter(stereo, final=produced >= total)

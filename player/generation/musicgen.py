"""MusicGen backend (transformers ``MusicgenForConditionalGeneration``).

Loaded lazily from a local folder or the Hugging Face cache, never downloaded
(``local_files_only``; ``infinite-player models get`` fetches one on request). A text
prompt is built from the request (:func:`build_prompt`); long tracks are made
in segments, each continuing the last seconds of the previous one as an audio prompt,
and each segment is yielded as soon as it is decoded. ``extend`` is the same audio-
prompt continuation starting from the source track's audio.
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
            from transformers import AutoTokenizer, MusicgenForConditionalGeneration

            device = self.device or accelerator() or "cpu"
            if device == "cuda":
                dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            elif device == "mps":
                dtype = torch.float16
            else:
                dtype = torch.float32
            try:
                model = MusicgenForConditionalGeneration.from_pretrained(
                    self.checkpoint, local_files_only=True, dtype=dtype
                )
                tokenizer = AutoTokenizer.from_pretrained(self.checkpoint, local_files_only=True)
            except OSError as exc:
                raise UserFacingError(
                    f"Could not load MusicGen from {self.checkpoint}: {exc}"
                ) from exc
            self._model = model.to(device).eval()  # type: ignore[arg-type]
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

        def chunks() -> Iterator[np.ndarray]:
            return self._stream(prompt, total, seed, context)

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

    def _trim_context(self, audio: np.ndarray) -> np.ndarray:
        """The last ``context_seconds``, cut to whole codec frames so that the decoded
        prompt lines up sample for sample with the audio it came from."""
        hop = int(np.prod(self._model.config.audio_encoder.upsampling_ratios))
        keep = int(self.context_seconds * self.samplerate) // hop * hop
        return np.ascontiguousarray(
            audio[len(audio) - min(keep, len(audio) // hop * hop) :], dtype=np.float32
        )

    def _stream(
        self, prompt: str, total: int, seed: int, context: np.ndarray | None
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
            if context is not None and len(context):
                kwargs["input_values"] = torch.from_numpy(context[np.newaxis, np.newaxis, :]).to(
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

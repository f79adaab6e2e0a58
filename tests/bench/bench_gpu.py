"""Benchmark: MusicGen and MERT on a GPU, with the optimisations switchable side by side.

    # on a GPU machine (the device tool), everything in one short run:
    .venv/bin/python tests/bench/bench_gpu.py
    # anywhere, tiny models on the CPU, to check the script itself:
    .venv/bin/python tests/bench/bench_gpu.py --size tiny --device cpu --seconds 2 \\
        --mert-seconds 20 --variants baseline,no-cfg,static

Models are randomly initialised with the published shapes (no download):
MusicGen-small (T5-base text encoder, 24 x 1024 decoder, 4 codebooks, 32 kHz EnCodec)
and MERT-v1-95M (12 x 768 HuBERT), in fp16 on CUDA (fp32 on the CPU). Random weights
cost the same arithmetic as trained ones; only the music is noise.

MusicGen is driven through the app's own :class:`MusicGenGenerator` (segments with an
audio-prompt continuation, as the radio streams). For each variant it prints:

* ``x_realtime`` — seconds of audio per wall second over ``--seconds`` of music;
* ``first_audio_s`` — time to the first chunk when streaming with ``--first-segment``
  second segments (what a listener waits after pressing play);
* ``peak_vram_mib`` — ``torch.cuda.max_memory_allocated`` over the variant.

Variants (``--variants``, comma-separated): ``baseline`` (dynamic KV cache,
classifier-free guidance 3.0 — transformers already batches the conditional and
unconditional passes into one forward of batch 2), ``no-cfg`` (guidance 1.0: what
the CFG batch costs), ``static`` (``cache_implementation="static"``), ``compile``
(static cache plus ``torch.compile(mode="reduce-overhead")`` of the decoder, i.e. CUDA
graphs). A variant the installed transformers refuses is reported, not fatal. MERT:
``x_realtime`` over ``--mert-seconds`` of audio for eager and ``torch.compile``.
Ratios against the baseline are printed at the end. Goals (issue 16): MusicGen-small
≥ 10x real time with first audio < 0.5 s; MERT-95M ≥ 200x, on the GPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import torch

from player.generation import GenerationRequest
from player.generation.musicgen import MusicGenGenerator

VARIANTS = ("baseline", "no-cfg", "static", "compile")


def musicgen_model(size: str, device: str, dtype: torch.dtype) -> Any:
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        T5Config,
    )

    if size == "small":
        enc = EncodecConfig(
            sampling_rate=32000,
            audio_channels=1,
            num_filters=64,
            hidden_size=128,
            upsampling_ratios=[8, 5, 4, 4],
            target_bandwidths=[2.2],
            codebook_size=2048,
            norm_type="weight_norm",
            use_causal_conv=False,
            pad_mode="constant",
            normalize=False,
        )
        t5 = T5Config(
            vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12
        )
        dec = MusicgenDecoderConfig(
            vocab_size=2048,
            hidden_size=1024,
            num_hidden_layers=24,
            num_attention_heads=16,
            ffn_dim=4096,
            num_codebooks=enc.num_quantizers,
            pad_token_id=2048,
            bos_token_id=2048,
            max_position_embeddings=2048,
        )
    else:  # the test suite's tiny checkpoint
        from tests.generation.test_musicgen import tiny_musicgen_model

        return tiny_musicgen_model().to(device, dtype).eval()
    torch.manual_seed(0)
    model = MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=t5, audio_encoder=enc, decoder=dec)
    )
    return model.to(device, dtype).eval()


def _peak_reset(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _peak_mib(device: str) -> float | None:
    if device != "cuda":
        return None
    torch.cuda.synchronize()
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def _run(gen: MusicGenGenerator, seconds: float) -> tuple[float, float, float]:
    """(audio seconds, wall seconds, seconds to the first chunk)."""
    request = GenerationRequest(genres=["house"], duration_seconds=seconds, seed=1)
    t0 = time.perf_counter()
    result = gen.generate(request)
    frames, first = 0, None
    for chunk in result:
        if first is None:
            first = time.perf_counter() - t0
        frames += len(chunk)
    return frames / result.samplerate, time.perf_counter() - t0, first or 0.0


def bench_musicgen(args: argparse.Namespace, dtype: torch.dtype) -> list[dict[str, Any]]:
    from tests.generation.test_musicgen import word_tokenizer

    model = musicgen_model(args.size, args.device, dtype)
    words = ["[PAD]", "[UNK]", "</s>", "house", "track", "bpm", "warm", "bass", "upbeat"]
    tokenizer = word_tokenizer({w: i for i, w in enumerate(words)})
    rows = []
    for variant in args.variants.split(","):
        gen = MusicGenGenerator(
            "random-weights",
            model=model,
            tokenizer=tokenizer,
            segment_seconds=args.segment,
            context_seconds=args.context,
            guidance_scale=1.0 if variant == "no-cfg" else 3.0,
        )
        if variant in ("static", "compile"):
            gen.generate_options = {"cache_implementation": "static"}
        original_forward = model.decoder.forward
        row: dict[str, Any] = {"model": f"musicgen-{args.size}", "variant": variant}
        try:
            if variant == "compile":
                model.decoder.forward = torch.compile(
                    original_forward, mode="reduce-overhead", dynamic=False
                )
            _run(gen, min(2.0, args.seconds))  # warm-up (and compilation)
            _peak_reset(args.device)
            audio_s, wall, _first = _run(gen, args.seconds)
            row["x_realtime"] = round(audio_s / wall, 3)
            gen.segment_seconds = args.first_segment
            _, _, first = _run(gen, args.first_segment)
            row["first_audio_s"] = round(first, 3)
            row["peak_vram_mib"] = _peak_mib(args.device)
        except Exception as exc:  # a variant this transformers/torch refuses
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            if args.verbose:
                traceback.print_exc()
        finally:
            model.decoder.forward = original_forward
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def bench_mert(args: argparse.Namespace, dtype: torch.dtype) -> list[dict[str, Any]]:
    from player.embedding.mert import MertConfig, MertEmbedder, MertModel

    if args.size == "small":
        config = MertConfig()  # MERT-v1-95M's shapes
    else:
        from tests.embedding.conftest import TINY_MERT

        config = MertConfig.from_dict(TINY_MERT)
    torch.manual_seed(0)
    windows = max(1, int(np.ceil(args.mert_seconds / 10.0)))
    rate = config.sample_rate
    audio = np.random.default_rng(0).standard_normal(int(args.mert_seconds * rate)) * 0.1
    rows = []
    for variant in ("eager", "compile"):
        embedder = MertEmbedder(
            MertModel(config),
            config,
            space="bench",
            device=args.device,
            window_seconds=10.0,
            max_windows=windows,
            batch_size=args.mert_batch,
        )
        row: dict[str, Any] = {"model": f"mert-{args.size}", "variant": variant}
        try:
            if variant == "compile":
                embedder.model = torch.compile(embedder.model)  # type: ignore[assignment]
            embedder.embed(audio.astype(np.float32), rate)  # warm-up (and compilation)
            _peak_reset(args.device)
            t0 = time.perf_counter()
            embedder.embed(audio.astype(np.float32), rate)
            if args.device == "cuda":
                torch.cuda.synchronize()
            wall = time.perf_counter() - t0
            row["audio_s"] = args.mert_seconds
            row["x_realtime"] = round(args.mert_seconds / wall, 1)
            row["peak_vram_mib"] = _peak_mib(args.device)
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def ratios(rows: list[dict[str, Any]], base: str) -> dict[str, Any]:
    baseline = next((r for r in rows if r["variant"] == base and "x_realtime" in r), None)
    if baseline is None:
        return {}
    out = {}
    for r in rows:
        if "x_realtime" in r:
            entry = {"speed_vs_" + base: round(r["x_realtime"] / baseline["x_realtime"], 2)}
            if r.get("first_audio_s") and baseline.get("first_audio_s"):
                entry["first_audio_vs_" + base] = round(
                    r["first_audio_s"] / baseline["first_audio_s"], 2
                )
            out[f"{r['model']}/{r['variant']}"] = entry
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=("small", "tiny"), default="small")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seconds", type=float, default=20.0, help="music per variant")
    parser.add_argument("--segment", type=float, default=10.0, help="streaming segment (s)")
    parser.add_argument("--first-segment", type=float, default=1.0)
    parser.add_argument("--context", type=float, default=3.0, help="audio prompt (s)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--mert-seconds", type=float, default=600.0)
    parser.add_argument("--mert-batch", type=int, default=16)
    parser.add_argument("--no-musicgen", action="store_true")
    parser.add_argument("--no-mert", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    dtype = torch.float16 if args.device == "cuda" else torch.float32
    header = {
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "dtype": str(dtype),
        "torch": torch.__version__,
        "size": args.size,
    }
    print(json.dumps(header), flush=True)
    mg = [] if args.no_musicgen else bench_musicgen(args, dtype)
    me = [] if args.no_mert else bench_mert(args, dtype)
    print(json.dumps({"ratios": {**ratios(mg, "baseline"), **ratios(me, "eager")}}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

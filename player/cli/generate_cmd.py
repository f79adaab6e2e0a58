"""`infinite-player generate`: make one track from the command line.

Headless access to the generators for scripts, benchmarks and bug reports: writes the
audio to ``--out`` while it is rendered and prints one JSON line describing it
(engine, seconds, render_seconds, bpm, key, genre, the reproducing params, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from base.errors import UserFacingError

#: --out extension -> (libsndfile format, subtype)
OUT_FORMATS = {
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate one track to a file and print its description (JSON)",
        description="Generates a track and writes it to --out (.mp3, .wav, .flac or .ogg), "
        "then prints one JSON line: engine, seconds, render_seconds, bpm, key, genre, "
        "params (feed params back with the same --seed to make the same track).",
    )
    p.add_argument("--mode", default="new", choices=("new", "similar", "extend", "radio"))
    p.add_argument(
        "--genre", action="append", metavar="G", help="genre (repeat for a blend to pick from)"
    )
    p.add_argument(
        "--bpm", type=float, metavar="N", help="tempo in BPM (default: the genre's range)"
    )
    p.add_argument("--vibe", metavar="V", help="chill, energetic, happy, dark, dreamy, ...")
    p.add_argument("--bass", default="medium", choices=("low", "medium", "high"))
    p.add_argument("--key", metavar="K", help='e.g. "A minor", "Eb major", "D dorian"')
    p.add_argument("--seconds", type=float, default=180.0, metavar="S")
    p.add_argument("--seed", type=int, metavar="N")
    p.add_argument("--engine", default="auto", choices=("auto", "procedural", "musicgen"))
    p.add_argument(
        "--source",
        metavar="JSON",
        help="for --mode similar/extend: a JSON line printed by an earlier run (file or text)",
    )
    p.add_argument("--source-audio", metavar="FILE", help="the source's audio (MusicGen extend)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(func=_generate)


def _load_source(args: argparse.Namespace) -> Any:
    from player.generation import SourceTrack

    if not args.source and not args.source_audio:
        return None
    params: dict[str, Any] = {}
    if args.source:
        raw = Path(args.source).read_text() if Path(args.source).is_file() else args.source
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UserFacingError(
                f"--source is neither a JSON file nor JSON text ({exc})."
            ) from None
        params = dict(data.get("params", data))
    audio, rate = None, None
    if args.source_audio:
        import soundfile as sf

        try:
            audio, rate = sf.read(args.source_audio, dtype="float32", always_2d=True)
        except (RuntimeError, OSError) as exc:
            raise UserFacingError(
                f"Cannot read --source-audio {args.source_audio}: {exc}"
            ) from None
    return SourceTrack(params=params, audio=audio, samplerate=rate)


def _generate(args: argparse.Namespace) -> int:
    out = Path(args.out)
    fmt = OUT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise UserFacingError(
            f"Cannot write {out.name}: --out must end in {', '.join(OUT_FORMATS)}."
        )
    if not out.parent.exists():
        raise UserFacingError(f"Cannot write {out}: folder {out.parent} does not exist.")

    import numpy as np
    import soundfile as sf

    from player.generation import GenerationRequest, get_generator

    request = GenerationRequest(
        mode=args.mode,
        genres=tuple(args.genre or ()),
        vibe=args.vibe,
        bass_level=args.bass,
        tempo_bpm=args.bpm,
        key=args.key,
        seed=args.seed,
        duration_seconds=args.seconds,
        source=_load_source(args),
    )
    generator = get_generator(args.engine)
    started = time.perf_counter()
    result = generator.generate(request)
    first_audio = None
    frames = 0
    peak = 0.0
    with sf.SoundFile(
        str(out), "w", samplerate=result.samplerate, channels=2, format=fmt[0], subtype=fmt[1]
    ) as f:
        for chunk in result:
            if first_audio is None:
                first_audio = time.perf_counter() - started
            f.write(chunk)
            frames += len(chunk)
            peak = max(peak, float(np.max(np.abs(chunk))) if len(chunk) else 0.0)
    render_seconds = time.perf_counter() - started
    seconds = frames / result.samplerate
    line = {
        "engine": result.engine,
        "out": str(out),
        "seconds": round(seconds, 3),
        "render_seconds": round(render_seconds, 3),
        "realtime_factor": round(seconds / render_seconds, 1) if render_seconds > 0 else None,
        "time_to_first_audio": round(first_audio or 0.0, 3),
        "bpm": result.bpm,
        "key": result.key,
        "genre": result.genre,
        "samplerate": result.samplerate,
        "peak_dbfs": round(20 * float(np.log10(max(peak, 1e-9))), 2),
        "sections": [
            {"name": s.name, "start": round(s.start_seconds, 2), "bars": s.bars}
            for s in result.sections
        ],
        "params": result.params,
    }
    json.dump(line, sys.stdout)
    sys.stdout.write("\n")
    return 0

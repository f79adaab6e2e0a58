"""`infinite-player play` and `infinite-player loudness`: the playback engine, headless.

Both print JSON lines so scripts and CI can check playback (underruns, time to first
audio) and loudness without a GUI.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    play = sub.add_parser(
        "play",
        help="play audio files through the engine and report how it went (JSON)",
        description="Plays FILEs back to back (gapless, or crossfaded) and prints one JSON "
        "line: tracks, seconds_played, underruns, time_to_first_audio_ms, errors.",
    )
    play.add_argument("files", nargs="+", metavar="FILE")
    play.add_argument("--device", help="output device name (substring) or index")
    play.add_argument("--crossfade", type=float, default=0.0, metavar="SECONDS")
    play.add_argument("--target-lufs", type=float, default=-14.0, metavar="X")
    play.add_argument(
        "--null", action="store_true", help="play in real time to no device (no sound card)"
    )
    play.set_defaults(func=_play)

    loud = sub.add_parser(
        "loudness",
        help="measure integrated loudness (LUFS) and true peak (dBTP) of files",
        description="Prints one JSON line per FILE: path, integrated_lufs, true_peak_dbtp "
        "(or error).",
    )
    loud.add_argument("files", nargs="+", metavar="FILE")
    loud.set_defaults(func=_loudness)


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _play(args: argparse.Namespace) -> int:
    from base.errors import UserFacingError
    from player.audio import (
        DeviceEvent,
        FileSource,
        PlaybackEngine,
        PlaybackEvent,
        QueueEnded,
        TrackChanged,
        TrackError,
    )

    if args.crossfade < 0:
        raise UserFacingError("--crossfade must be 0 or more seconds")
    done = threading.Event()
    errors: list[str] = []
    started: list[int] = []

    def on_event(event: PlaybackEvent) -> None:
        if isinstance(event, TrackError):
            errors.append(event.message)
            print(f"infinite-player: skipped: {event.message}", file=sys.stderr)
        elif isinstance(event, TrackChanged) and event.index is not None:
            started.append(event.index)
        elif isinstance(event, DeviceEvent) and event.error:
            print(f"infinite-player: {event.message}", file=sys.stderr)
        elif isinstance(event, QueueEnded):
            done.set()

    engine = PlaybackEngine(
        device=args.device,
        crossfade_seconds=args.crossfade,
        target_lufs=args.target_lufs,
        output="null" if args.null else "sounddevice",
    )
    try:
        engine.subscribe(on_event)
        for path in args.files:
            engine.enqueue(FileSource(path))
        engine.play()
        while not done.wait(0.1):
            if engine.state == "stopped":
                break  # stopped without finishing: the device went away
        stats = engine.stats()
    finally:
        engine.close()
    result: dict[str, Any] = {
        "tracks": len(set(started)),
        "seconds_played": round(stats["seconds_played"], 3),
        "underruns": stats["underruns"],
        "time_to_first_audio_ms": None
        if stats["time_to_first_audio_ms"] is None
        else round(stats["time_to_first_audio_ms"], 2),
        "output": stats["output"],
        "device": stats["device"],
        "errors": errors,
    }
    print(json.dumps(result))
    return 1 if errors else 0


def _loudness(args: argparse.Namespace) -> int:
    from base.errors import UserFacingError
    from player.audio import measure_loudness

    status = 0
    for path in args.files:
        try:
            lufs, peak = measure_loudness(path)
        except UserFacingError as exc:
            print(json.dumps({"path": path, "error": str(exc)}))
            status = 1
            continue
        print(
            json.dumps(
                {"path": path, "integrated_lufs": _finite(lufs), "true_peak_dbtp": _finite(peak)}
            )
        )
    return status

"""Playback benchmark: time to first audio, underruns under load, CPU of the audio path.

    .venv/bin/python tests/bench/bench_playback.py [--session-seconds 600] [--trials 20]
        [--output auto|sounddevice|null] [--json]

* Time to first audio: call to ``play()`` until the callback hands the device its first
  non-silent frame; median (and p90) of ``--trials`` for a file whose loudness is
  already stored (the app's normal case), a file never measured before (first play
  pays for the loudness scan), and a streaming source fed by a producer thread.
* Underruns over a session (default 10 minutes, as the issue asks) of gapless
  back-to-back tracks, with another process spinning on the other core.
* CPU share of the audio path over that session: time inside the audio callback and
  CPU time of the feeder thread (decode, resample, loudness gain, limiter), as a
  percentage of one core.

With ``--output auto`` it plays through PortAudio into a private PulseAudio null sink
when it can start one, else through the null output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from player.audio import FileSource, PlaybackEngine, StreamingSource  # noqa: E402

SR = 48000
CHUNK = SR // 10  # what a generator hands over at a time


def _music(seconds: float, seed: int, sr: int = SR) -> np.ndarray:
    """Something music-like: a few detuned partials with an envelope and some noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    base = 110.0 * 2 ** (rng.integers(0, 24) / 12)
    sig = sum(np.sin(2 * np.pi * base * k * t + rng.random()) / k for k in range(1, 6))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t) ** 2
    sig = 0.2 * sig * env + 0.01 * rng.standard_normal(len(t))
    return np.stack([sig, np.roll(sig, 37)], axis=1).astype(np.float32)


def _write(path: Path, audio: np.ndarray, sr: int = SR) -> None:
    """Write in blocks: libsndfile's Vorbis encoder crashes on very large single writes."""
    with sf.SoundFile(str(path), "w", sr, audio.shape[1]) as out:
        for start in range(0, len(audio), 65536):
            out.write(audio[start : start + 65536])


def _wait_ttfa(engine: PlaybackEngine, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while engine.time_to_first_audio is None:
        if time.monotonic() > deadline:
            raise RuntimeError("no audio reached the device")
        time.sleep(0.0005)
    return engine.time_to_first_audio * 1000.0


def _settle(engine: PlaybackEngine) -> None:
    """Let a freshly opened stream reach steady state (PulseAudio holds new streams)."""
    silence = StreamingSource(SR, 2)
    silence.push(np.zeros((SR // 10, 2), np.float32))
    silence.push(np.full((SR // 10, 2), 1e-3, np.float32))
    silence.finish()
    engine.enqueue(silence)
    engine.play()
    _wait_ttfa(engine, timeout=15)
    time.sleep(0.3)
    engine.stop()


def ttfa_files(engine: PlaybackEngine, folder: Path, trials: int, measured: bool) -> list[float]:
    results = []
    for i in range(trials):
        path = folder / f"ttfa-{'m' if measured else 'u'}-{i}.flac"
        _write(path, _music(30.0, seed=1000 + i + (0 if measured else 500)))
        source = FileSource(path)
        if measured:
            source.measure()  # as if stored with the track in the database
        engine.stop()
        time.sleep(0.05)
        index = engine.enqueue(source)
        engine.play(index)
        results.append(_wait_ttfa(engine))
        time.sleep(0.05)
    engine.stop()
    return results


def ttfa_streams(engine: PlaybackEngine, trials: int) -> list[float]:
    results = []
    for i in range(trials):
        audio = _music(3.0, seed=2000 + i)
        stream = StreamingSource(SR, 2, metadata={"loudness_lufs": -16.0})

        def produce(stream: StreamingSource = stream, audio: np.ndarray = audio) -> None:
            for start in range(0, len(audio), CHUNK):
                stream.push(audio[start : start + CHUNK])
                time.sleep(0.05)  # a generator twice as fast as real time
            stream.finish()

        engine.stop()
        time.sleep(0.05)
        producer = threading.Thread(target=produce, daemon=True)
        index = engine.enqueue(stream)
        producer.start()
        stream.wait_for(CHUNK, timeout=5)  # the first chunk exists, as in the radio
        engine.play(index)
        results.append(_wait_ttfa(engine))
        producer.join()
    engine.stop()
    return results


def session(engine: PlaybackEngine, folder: Path, seconds: float) -> dict[str, float]:
    # Four formats, one at 44.1 kHz so the resampler is in the path too.
    tracks = [folder / f"session-{i}.{ext}" for i, ext in enumerate(("ogg", "flac", "mp3", "wav"))]
    for i, path in enumerate(tracks):
        rate = 44100 if path.suffix == ".mp3" else SR
        _write(path, _music(45.0, seed=3000 + i, sr=rate), rate)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    engine.stop()
    time.sleep(0.3)
    base_underruns = engine.underruns
    base_device = engine.device_underflows
    base_callback = engine.callback_seconds
    base_feeder = engine.feeder_cpu_seconds
    base_process = time.process_time()
    queued = 0
    try:
        for _ in range(3):
            engine.enqueue(FileSource(tracks[queued % len(tracks)]))
            queued += 1
        first = len(engine.queue) - 3
        engine.play(first)
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            time.sleep(0.5)
            index = engine.current_index or 0
            while len(engine.queue) - index < 3:  # keep tracks queued ahead
                engine.enqueue(FileSource(tracks[queued % len(tracks)]))
                queued += 1
        wall = time.monotonic() - start
    finally:
        hog.kill()
        hog.wait()
    engine.stop()
    return {
        "session_seconds": round(wall, 1),
        "tracks_started": queued,
        "underruns": engine.underruns - base_underruns,
        "of_which_device_underflows": engine.device_underflows - base_device,
        "callback_cpu_percent": round(100 * (engine.callback_seconds - base_callback) / wall, 3),
        "feeder_cpu_percent": round(100 * (engine.feeder_cpu_seconds - base_feeder) / wall, 3),
        "process_cpu_percent": round(100 * (time.process_time() - base_process) / wall, 3),
    }


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--session-seconds", type=float, default=600.0)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--output", choices=["auto", "sounddevice", "null"], default="auto")
    parser.add_argument("--latency", type=float, default=0.1, help="device buffering, seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args()

    pulse = None
    output = args.output
    if output in ("auto", "sounddevice"):
        try:
            from tests.audio.conftest import _refresh_portaudio, _start_pulseaudio

            if not os.environ.get("PULSE_SERVER"):
                pulse, socket, _ = _start_pulseaudio()
                os.environ["PULSE_SERVER"] = f"unix:{socket}"
                _refresh_portaudio()
            output = "sounddevice"
        except (OSError, RuntimeError) as exc:
            if args.output == "sounddevice":
                raise
            print(f"(no PulseAudio: {exc}; using the null output)", file=sys.stderr)
            output = "null"
    results: dict[str, object] = {"cpu_cores": os.cpu_count()}
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            PlaybackEngine(output=output, latency=args.latency) as engine,
        ):
            folder = Path(tmp)
            results["output"] = engine.output_kind
            results["latency_s"] = args.latency
            results["device"] = engine.device_name
            _settle(engine)
            results["ttfa_file_measured"] = _summary(
                ttfa_files(engine, folder, args.trials, measured=True)
            )
            results["ttfa_file_first_play"] = _summary(
                ttfa_files(engine, folder, args.trials, measured=False)
            )
            results["ttfa_stream"] = _summary(ttfa_streams(engine, args.trials))
            results["session"] = session(engine, folder, args.session_seconds)
    finally:
        if pulse is not None:
            pulse.terminate()
            pulse.wait()
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

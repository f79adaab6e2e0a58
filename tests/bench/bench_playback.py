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

Issue 17 comparison (``--compare``, on by default; ``--no-compare`` skips it): the same
run plays with today's engine (``first_play="glide"``: start at once at a provisional
gain, glide to the measured gain, next file opened ahead) and with the path before it
(``first_play="measure"``: measure the whole file, then start), and prints both with
their ratio:

* time to first audio of a first play (a file never seen: a fresh copy each trial) of a
  30 s and a 6 min file in WAV, FLAC and MP3;
* a generated track's first play: the procedural engine's chunks encoded to MP3 and
  measured by the generation service's own writer; before, the row had no loudness;
* skip to the next track's audio, seek to audio, and a seek 0.2 s ahead (into audio
  already buffered: now a jump of the callback's read position) (the callback
  performing the jump);
* the measuring pass itself, in times real time, for the 6 min files: today's meter
  (K-weighting by the recursion in scipy's compiled loop) against the meter before it
  (float32 FFT overlap-add of the response, ``_OverlapAddMeter`` below), and
  pyloudnorm's time on the same audio for reference (``--meter-only`` runs just this);
* the largest gain step per 100 ms of a first play (output level over source level of a
  steady tone whose opening is 6 dB quieter than its body, so the gain has to glide),
  and when it settles; underruns over the whole comparison.

With ``--output auto`` it plays through PortAudio into a private PulseAudio null sink
when it can start one, else through the null output.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from player.audio import FileSource, PlaybackEngine, StreamingSource  # noqa: E402
from player.audio.loudness import LoudnessMeter, measure_loudness  # noqa: E402

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


# ---------------------------------------------------------------- issue 17 comparison
MODES = ("measure", "glide")  # the path before issue 17, and today's


def _fresh_copy(path: Path, folder: Path, tag: str) -> Path:
    """A copy under a new name: the engine has never seen (or measured) it."""
    copy = folder / f"{path.stem}-{tag}{path.suffix}"
    shutil.copyfile(path, copy)
    return copy


def first_play_files(folder: Path) -> dict[str, Path]:
    files = {}
    for seconds, label in ((30.0, "30s"), (360.0, "6min")):
        audio = _music(seconds, seed=int(seconds), sr=44100)
        for ext in ("wav", "flac", "mp3"):
            path = folder / f"first-{label}.{ext}"
            _write(path, audio, 44100)
            files[f"{label} {ext.upper()}"] = path
    return files


def generated_track(folder: Path, seconds: float) -> tuple[Path, float, float]:
    """A procedural track written and measured by the generation service's writer."""
    from player.generation import GenerationRequest
    from player.generation.procedural import ProceduralGenerator
    from player.generation.service import _TrackWriter

    result = ProceduralGenerator().generate(
        GenerationRequest(genres=["house"], duration_seconds=seconds, seed=17)
    )
    part = folder / "generated.mp3.part"
    writer = _TrackWriter(part, result.samplerate, before=lambda: None)
    for chunk in result:
        writer.put(chunk)
    lufs, peak = writer.finish()
    path = folder / "generated.mp3"
    part.rename(path)
    return path, lufs, peak


def ttfa_first_play(
    engine: PlaybackEngine, path: Path, folder: Path, trials: int, metadata: dict | None = None
) -> list[float]:
    results = []
    for i in range(trials):
        source = FileSource(_fresh_copy(path, folder, f"{engine.first_play}{i}"), metadata)
        engine.stop()
        time.sleep(0.05)
        index = engine.enqueue(source)
        engine.play(index)
        results.append(_wait_ttfa(engine))
        deadline = time.monotonic() + 15.0
        while source.known_loudness() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # the glide's measuring pass ends before the next trial
        time.sleep(0.2)
    engine.stop()
    time.sleep(0.5)
    return results


def _wait_jump(engine: PlaybackEngine, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while engine.last_jump_latency is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the jump never reached the device")
        time.sleep(0.0005)
    return engine.last_jump_latency * 1000.0


def skips_and_seeks(engine: PlaybackEngine, folder: Path, trials: int) -> dict[str, list[float]]:
    tracks = []
    for i in range(trials + 1):
        path = folder / f"skip-{i}.flac"
        _write(path, _music(20.0, seed=4000 + i))
        source = FileSource(path)
        source.measure()  # stored loudness: only the skip itself is timed
        tracks.append(source)
    skip, seek, near = [], [], []
    engine.stop()
    time.sleep(0.05)
    first = None
    for source in tracks:
        index = engine.enqueue(source)
        first = index if first is None else first
    engine.play(first)
    _wait_ttfa(engine)
    rng = np.random.default_rng(5)
    for _ in range(trials):
        time.sleep(1.0)  # playing: the feeder is idle, the next track can be ready
        engine.last_jump_latency = None
        engine.seek(float(rng.uniform(2.0, 18.0)))
        seek.append(_wait_jump(engine))
        time.sleep(1.0)
        engine.last_jump_latency = None
        engine.seek(engine.position + 0.2)  # into audio already buffered
        near.append(_wait_jump(engine))
        time.sleep(0.5)
        engine.last_jump_latency = None
        engine.next()
        skip.append(_wait_jump(engine))
    engine.stop()
    return {"skip": skip, "seek": seek, "near": near}


class _OverlapAddMeter(LoudnessMeter):
    """The meter before issue 17's last change, for the comparison: K-weighting applied as
    the cascade's impulse response (0.1 s) by float32 FFT overlap-add (scipy's pocketfft)
    in 32k pieces; gating and true peak as today."""

    def __init__(self, samplerate: int, channels: int) -> None:
        super().__init__(samplerate, channels)
        import scipy.fft

        self._fft = scipy.fft
        taps = int(0.1 * samplerate)
        size = 1 << (16 * taps).bit_length()
        z = np.exp(-1j * np.pi * np.arange(size // 2 + 1) / (size // 2))
        response_f = np.ones_like(z)
        for row in self._sos:
            b, a = row[:3], row[3:]
            response_f *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
        response = np.fft.irfft(response_f, size)[:taps]
        self._taps = taps
        self._size = 1 << max(15, (4 * taps).bit_length())
        self._step = self._size - taps + 1
        self._spectrum = np.fft.rfft(response, self._size).astype(np.complex64)
        self._tail = np.zeros((channels, taps - 1), dtype=np.float32)
        self._sosfilt = self._overlap_add  # type: ignore[assignment]

    def _overlap_add(self, sos: object, rows: np.ndarray, axis: int, zi: object) -> object:
        n = rows.shape[1]
        spectrum = self._fft.rfft(np.ascontiguousarray(rows), self._size, axis=1)
        full = self._fft.irfft(spectrum * self._spectrum, self._size, axis=1)
        full = full[:, : n + self._taps - 1]
        full[:, : self._taps - 1] += self._tail
        self._tail = full[:, n:].copy()
        return full[:, :n], zi


def meter_speed(files: dict[str, Path]) -> dict[str, object]:
    """Whole-file measuring passes, in times real time: per wall second (what the machine
    gave us) and per CPU second of this process (what the pass costs; on a loaded shared
    machine the two differ by the share of a core we got); today's meter and the one
    before it (``_OverlapAddMeter``), alternating, on the same files."""
    import pyloudnorm

    import player.audio.loudness as loudness

    out: dict[str, object] = {"load_average": [round(x, 1) for x in os.getloadavg()]}

    def timed(work: Callable[[], object], seconds: float) -> str:
        wall, cpu = time.perf_counter(), time.process_time()
        reading = work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        shown = ""
        if isinstance(reading, tuple):
            shown = f" ({reading[0]:.3f} LUFS, {reading[1]:.3f} dBTP)"
        return f"{seconds / wall:.0f}x wall, {seconds / cpu:.0f}x per CPU second{shown}"

    def both(name: str, work: Callable[[], object], seconds: float) -> None:
        out[f"{name}, now"] = timed(work, seconds)
        today = loudness.LoudnessMeter
        loudness.LoudnessMeter = _OverlapAddMeter  # type: ignore[misc]
        try:
            out[f"{name}, before"] = timed(work, seconds)
        finally:
            loudness.LoudnessMeter = today  # type: ignore[misc]

    measure_loudness(np.zeros((48000, 2), np.float32), 48000)  # load what a pass loads
    for name, path in files.items():
        if name.startswith("6min"):
            seconds = sf.info(str(path)).duration
            both(f"{name} measuring pass", lambda p=path: measure_loudness(p), seconds)
    audio, rate = sf.read(str(files["6min WAV"]), dtype="float32")
    seconds = len(audio) / rate
    both("6min in memory", lambda: measure_loudness(audio, rate), seconds)
    meter = pyloudnorm.Meter(rate)
    wide = audio.astype(np.float64)
    out["6min in memory, pyloudnorm (integrated only)"] = timed(
        lambda: meter.integrated_loudness(wide), seconds
    )
    return out


def gain_steps(folder: Path, mode: str) -> dict[str, float]:
    """Largest gain change per 100 ms of a first play, from the output itself."""
    from player.audio import LoudnessMeasured
    from tests.audio.helpers import EventLog, render

    window = SR // 10
    t = np.arange(int(30 * SR)) / SR
    level = np.where(t < 3.0, 0.05, 0.1)
    tone = (level * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    path = folder / f"glide-{mode}.wav"
    sf.write(str(path), np.stack([tone, tone], 1), SR, subtype="FLOAT")
    engine = PlaybackEngine(output="manual", first_play=mode)
    log = EventLog(engine)
    try:
        engine.enqueue(FileSource(path))
        engine.play()
        out = [render(engine, SR // 2)]
        log.wait_for(LoudnessMeasured)  # on a device this takes a fraction of the 0.5 s
        out.append(render(engine, 20 * SR - SR // 2))
    finally:
        engine.close()
    played = np.concatenate(out)[:, 0].astype(np.float64)
    n = len(played) // window

    def db(x: np.ndarray) -> np.ndarray:
        return 10 * np.log10(np.mean(x[: n * window].reshape(n, window) ** 2, axis=1))

    gain = db(played) - db(np.asarray(tone[: len(played)], np.float64))
    steps = np.abs(np.diff(gain))
    steps[[0, 28, 29, 30]] = 0.0  # the start fade, and windows across the source's step
    final = gain[-1]
    settled = int(np.argmax(np.abs(gain - final) < 0.02 * np.ones_like(gain)))
    return {
        "largest_gain_step_db_per_100ms": round(float(steps.max()), 3),
        "provisional_minus_final_db": round(float(gain[1] - final), 2),
        "settled_after_s": round(settled * 0.1, 1),
    }


def compare(args: argparse.Namespace, output: str, folder: Path) -> dict[str, object]:
    files = first_play_files(folder)
    generated, lufs, peak = generated_track(folder, 30.0)
    rows: dict[str, dict[str, dict[str, float]]] = {}
    underruns: dict[str, dict[str, int]] = {}
    for mode in MODES:
        with PlaybackEngine(output=output, latency=args.latency, first_play=mode) as engine:
            _settle(engine)
            base, base_device = engine.underruns, engine.device_underflows
            for name, path in files.items():
                rows.setdefault(f"first play {name}", {})[mode] = _summary(
                    ttfa_first_play(engine, path, folder, args.first_play_trials)
                )
            # Before issue 17 the row had no loudness; now the service stores it.
            stored = None if mode == "measure" else {"loudness_lufs": lufs, "true_peak_dbtp": peak}
            rows.setdefault("generated track first play", {})[mode] = _summary(
                ttfa_first_play(engine, generated, folder, args.first_play_trials, stored)
            )
            jumps = skips_and_seeks(engine, folder, args.first_play_trials)
            rows.setdefault("skip -> next track audio", {})[mode] = _summary(jumps["skip"])
            rows.setdefault("seek -> audio", {})[mode] = _summary(jumps["seek"])
            rows.setdefault("seek +0.2 s (buffered) -> audio", {})[mode] = _summary(jumps["near"])
            underruns[mode] = {
                "underruns": engine.underruns - base,
                "of_which_device_underflows": engine.device_underflows - base_device,
            }
    table = {}
    for name, by_mode in rows.items():
        old, new = by_mode["measure"]["median_ms"], by_mode["glide"]["median_ms"]
        table[name] = {
            "before_median_ms": old,
            "now_median_ms": new,
            "now_p90_ms": by_mode["glide"]["p90_ms"],
            "ratio": round(old / new, 1) if new else None,
        }
    return {
        "ttfa": table,
        "underruns_during_comparison": underruns,
        "gain_glide": {mode: gain_steps(folder, mode) for mode in MODES},
        "meter": meter_speed(files),
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
    parser.add_argument("--first-play-trials", type=int, default=5)
    parser.add_argument(
        "--compare", action=argparse.BooleanOptionalAction, default=True, help="issue 17 table"
    )
    parser.add_argument(
        "--session", action=argparse.BooleanOptionalAction, default=True, help="long session"
    )
    parser.add_argument(
        "--meter-only", action="store_true", help="only the measuring pass, now vs before"
    )
    args = parser.parse_args()
    if args.meter_only:
        with tempfile.TemporaryDirectory() as tmp:
            for key, value in meter_speed(first_play_files(Path(tmp))).items():
                print(f"{key}: {value}")
        return 0

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
            if args.session:
                results["session"] = session(engine, folder, args.session_seconds)
        if args.compare:
            with tempfile.TemporaryDirectory() as tmp:
                results["issue_17"] = compare(args, output, Path(tmp))
    finally:
        if pulse is not None:
            pulse.terminate()
            pulse.wait()
    if args.json:
        print(json.dumps(results))
        return 0
    comparison = results.pop("issue_17", None)
    for key, value in results.items():
        print(f"{key}: {value}")
    if isinstance(comparison, dict):
        print("time to first audio, before (measure first) vs now (glide), median ms:")
        for name, row in comparison["ttfa"].items():
            print(
                f"  {name:32s} {row['before_median_ms']:9.1f} -> {row['now_median_ms']:7.1f}"
                f"  (p90 {row['now_p90_ms']:.1f}; {row['ratio']}x)"
            )
        print(f"underruns during the comparison: {comparison['underruns_during_comparison']}")
        print(f"gain glide of a first play: {comparison['gain_glide']}")
        print(f"meter: {comparison['meter']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

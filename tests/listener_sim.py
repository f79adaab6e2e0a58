"""Simulated listeners: a hidden taste, judged from the audio alone, over the radio protocol.

A listener hears each track the headless ``infinite-player radio`` prints, measures it with
an analyser that shares nothing with the engine or the app (librosa: beat tempo, a
Krumhansl key-profile major/minor estimate, spectral centroid, onset rate) and answers
like the people the product is for: a like when the track fits, a skip after five
seconds when it does not. The app never sees the taste; it sees only likes and skips.

Used by ``tests/bench/bench_listener.py`` (the benchmark) and ``tests/core/test_listener_*``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SKIP_AT = 5.0
ANALYSIS_SR = 22050

# Krumhansl–Kessler key profiles.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def features(path: str | Path, seconds: float = 30.0) -> dict[str, float]:
    """What an independent analyser hears in the first ``seconds`` of a file."""
    import librosa
    import soundfile as sf

    audio, sr = sf.read(str(path), dtype="float32", always_2d=True, frames=int(seconds * 48000))
    y = librosa.resample(audio.mean(axis=1), orig_sr=sr, target_sr=ANALYSIS_SR)
    sr = ANALYSIS_SR
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr).mean(axis=1)
    major = max(np.corrcoef(chroma, np.roll(_MAJOR, k))[0, 1] for k in range(12))
    minor = max(np.corrcoef(chroma, np.roll(_MINOR, k))[0, 1] for k in range(12))
    onsets = librosa.onset.onset_detect(y=y, sr=sr, units="time")
    duration = len(y) / sr
    return {
        "tempo": float(np.atleast_1d(tempo)[0]),
        "minorness": float(minor - major),
        "centroid": float(librosa.feature.spectral_centroid(y=y, sr=sr).mean()),
        "onset_rate": float(len(onsets) / max(duration, 1e-6)),
        "rms_db": float(20 * np.log10(np.sqrt(np.mean(y**2)) + 1e-9)),
    }


@dataclass(frozen=True)
class Taste:
    """A hidden taste: a name, a sentence, and the test on measured features."""

    name: str
    describe: str
    fits: Callable[[Mapping[str, float]], bool]


#: Thresholds were set from the feature distribution of the engine's output across its
#: controls (``bench_listener.py --calibrate``), so that each taste is satisfiable yet
#: missed by most tracks a random request makes.
TASTES: tuple[Taste, ...] = (
    Taste("tempo-band", "a groove between 112 and 132 BPM", lambda f: 112 <= f["tempo"] <= 132),
    Taste("minor", "clearly in a minor key", lambda f: f["minorness"] > 0.10),
    Taste("bright", "bright, airy sound (centroid ≥ 2600 Hz)", lambda f: f["centroid"] >= 2600),
    Taste("sparse", "sparse, unhurried (≤ 3 onsets/s)", lambda f: f["onset_rate"] <= 3.0),
    Taste(
        "fast-busy",
        "fast and busy (≥ 120 BPM and ≥ 4.2 onsets/s)",
        lambda f: f["tempo"] >= 120 and f["onset_rate"] >= 4.2,
    ),
    Taste(
        "slow-bright-major",
        "slow, bright and major (≤ 100 BPM, centroid ≥ 2200 Hz, major)",
        lambda f: f["tempo"] <= 100 and f["centroid"] >= 2200 and f["minorness"] < -0.05,
    ),
)
TASTE_BY_NAME = {t.name: t for t in TASTES}


@dataclass
class SessionResult:
    liked: list[bool] = field(default_factory=list)
    plan_ms: list[float] = field(default_factory=list)
    plan_cpu_ms: list[float] = field(default_factory=list)
    feedback_cpu_ms: list[float] = field(default_factory=list)
    previews: list[int] = field(default_factory=list)
    preview_ms: list[float] = field(default_factory=list)
    features: list[dict[str, float]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    explanations: list[str | None] = field(default_factory=list)
    seconds: float = 0.0
    stderr: str = ""

    def rate(self, start: int, stop: int) -> float:
        part = self.liked[start:stop]
        return sum(part) / len(part) if part else float("nan")


def radio_command(
    email: str,
    tracks: int,
    seconds: float,
    *,
    station: str = "taste",
    planner: str = "listener",
    rng_seed: int | None = None,
    auditions: int | None = None,
) -> list[str]:
    cmd = [sys.executable, "-m", "player", "radio", "--user", email, "--from", station]
    cmd += ["--tracks", str(tracks), "--seconds", str(seconds), "--json", "--no-score"]
    cmd += ["--planner", planner]
    if rng_seed is not None:
        cmd += ["--rng-seed", str(rng_seed)]
    if auditions is not None:
        cmd += ["--auditions", str(auditions)]
    return cmd


def listen(
    taste: Taste,
    cmd: list[str],
    env: Mapping[str, str],
    *,
    timeout: float = 900.0,
) -> SessionResult:
    """Run one radio session through the protocol and answer every track by ``taste``."""
    started = time.perf_counter()
    result = SessionResult()
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=str(ROOT),
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for line in proc.stdout:
            if time.perf_counter() - started > timeout:
                break
            track = json.loads(line)
            f = features(track["path"])
            fits = taste.fits(f)
            result.liked.append(fits)
            result.features.append(f)
            result.plan_ms.append(float(track.get("plan_ms") or 0.0))
            result.plan_cpu_ms.append(float(track.get("plan_cpu_ms") or 0.0))
            result.feedback_cpu_ms.append(float(track.get("feedback_cpu_ms") or 0.0))
            result.previews.append(int(track.get("previews") or 0))
            result.preview_ms.append(float(track.get("preview_ms") or 0.0))
            result.requests.append(track.get("request") or {})
            result.explanations.append(track.get("explanation"))
            answer = (
                {"like": track["track_id"]}
                if fits
                else {
                    "skip": track["track_id"],
                    "at": SKIP_AT,
                }
            )
            proc.stdin.write(json.dumps(answer) + "\n")
            proc.stdin.flush()
        proc.stdin.close()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        assert proc.stderr is not None
        result.stderr = proc.stderr.read()
    result.seconds = time.perf_counter() - started
    return result

# SPDX-License-Identifier: MIT
"""The embedder protocol and the audio preparation every backend shares.

An embedder turns audio of any rate and channel count into one L2-normalised
float32 vector of :data:`EMBEDDING_DIM` numbers, tagged with the id of the vector
*space* it lives in. Vectors of different spaces are never compared, so the space id
must change whenever the numbers an embedder produces would change meaning.

Bad input is handled here, once, for every backend: non-finite samples are zeroed
(a single glitch should not lose a track), clips shorter than
:data:`MIN_SECONDS` are looped up to that length, and anything that cannot be
turned into audio raises :class:`~base.errors.UserFacingError` naming the problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from base.errors import UserFacingError

#: Width of every stored vector (the schema's ``vector(768)``).
EMBEDDING_DIM = 768
#: Shortest audio an embedder analyses; shorter clips are looped up to it.
MIN_SECONDS = 1.0
#: Sample rates outside this range are almost certainly a mistake in the caller.
MIN_RATE, MAX_RATE = 1000, 768_000
#: A 2-D array with at most this many rows and more columns is (channels, frames).
MAX_CHANNELS = 64


@runtime_checkable
class Embedder(Protocol):
    """Audio in, one unit vector out."""

    #: Stable id of the vector space, e.g. ``descriptor-v1`` or ``mert-v1-95m``.
    space: str
    #: Always :data:`EMBEDDING_DIM`.
    dim: int

    def embed(self, audio: np.ndarray, samplerate: int) -> np.ndarray:
        """Embed samples shaped ``(frames,)`` or ``(frames, channels)``."""
        ...

    def embed_file(self, path: str | Path) -> np.ndarray:
        """Embed an audio file (read with libsndfile: WAV, FLAC, Ogg, MP3, ...)."""
        ...


def to_mono(audio: np.ndarray, samplerate: int) -> np.ndarray:
    """Validate samples and fold them to finite mono float32.

    Accepts ``(frames,)`` or ``(frames, channels)`` like soundfile returns (and
    ``(channels, frames)`` when that is unambiguous); any channel count is averaged.
    Raises :class:`UserFacingError` for input that is not audio at all (wrong rank,
    no samples, absurd rate).
    """
    if not isinstance(samplerate, int | np.integer) or not MIN_RATE <= samplerate <= MAX_RATE:
        raise UserFacingError(
            f"sample rate {samplerate!r} is not usable: expected {MIN_RATE}..{MAX_RATE} Hz"
        )
    data = np.asarray(audio)
    if data.dtype.kind not in "fiu":
        raise UserFacingError(f"audio samples must be numbers, got dtype {data.dtype}")
    if data.ndim == 2:
        if data.shape[0] <= MAX_CHANNELS < data.shape[1]:
            data = data.T  # (channels, frames), as torch and librosa lay it out
        data = data.astype(np.float64).mean(axis=1) if data.shape[1] else data[:, :0]
    elif data.ndim != 1:
        raise UserFacingError(
            f"audio must be shaped (frames,) or (frames, channels), got {data.shape}"
        )
    if data.size == 0:
        raise UserFacingError("audio has no samples")
    if data.dtype.kind in "iu":
        # Integer PCM: scale to [-1, 1] by its type's range.
        data = data / float(np.iinfo(data.dtype).max)
    mono = np.nan_to_num(data.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return mono


def resample(mono: np.ndarray, samplerate: int, target: int) -> np.ndarray:
    """Resample with soxr (high quality); a no-op when the rates already match."""
    if samplerate == target:
        return mono.astype(np.float32, copy=False)
    import soxr

    return np.asarray(soxr.resample(mono, samplerate, target, quality="HQ"), dtype=np.float32)


def loop_to_min_length(
    mono: np.ndarray, samplerate: int, seconds: float = MIN_SECONDS
) -> np.ndarray:
    """Repeat a very short clip until it lasts ``seconds``.

    Looping keeps the clip's own spectrum and rhythm statistics, where zero padding
    would make every short clip look like mostly silence.
    """
    need = round(seconds * samplerate)
    if mono.size >= need:
        return mono
    reps = -(-need // mono.size)
    return np.tile(mono, reps)[:need]


def window_starts(total: int, window: int, count: int) -> list[int]:
    """Start offsets of ``count`` evenly spread windows of ``window`` frames.

    Long tracks are described by a few excerpts (skipping the very start and end,
    where intros and fades live) instead of every second, to bound the cost.
    """
    if total <= window:
        return [0]
    if total <= window * count:
        # Overlapping windows spread from start to end: the tail is not lost.
        return [int(x) for x in np.linspace(0, total - window, count)]
    lo, hi = int(total * 0.05), int(total * 0.95) - window
    if hi <= lo:
        return [max(0, (total - window) // 2)]
    return [int(x) for x in np.linspace(lo, hi, count)]


def select_excerpt(mono: np.ndarray, samplerate: int, window_s: float, count: int) -> np.ndarray:
    """Concatenate ``count`` spread windows of a long signal (the whole of a short one)."""
    window = int(window_s * samplerate)
    if mono.size <= window * count:
        return mono
    parts = [mono[s : s + window] for s in window_starts(mono.size, window, count)]
    return np.concatenate(parts)


def read_excerpt(path: str | Path, window_s: float, count: int) -> tuple[np.ndarray, int]:
    """Read at most ``count`` windows of ``window_s`` seconds from an audio file.

    Only the windows are decoded, so a one-hour file costs as much as a short one.
    Returns ``(frames, channels)`` float32 samples and the file's rate.
    """
    import soundfile as sf

    p = Path(path)
    if not p.is_file():
        raise UserFacingError(f"audio file not found: {p}")
    try:
        with sf.SoundFile(str(p)) as f:
            rate = int(f.samplerate)
            total = int(f.frames)
            window = int(window_s * rate)
            if total <= 0 or total <= window * count:
                data = f.read(dtype="float32", always_2d=True)
            else:
                parts = []
                for start in window_starts(total, window, count):
                    f.seek(start)
                    parts.append(f.read(window, dtype="float32", always_2d=True))
                data = np.concatenate(parts)
    except (RuntimeError, sf.LibsndfileError, OSError) as exc:
        raise UserFacingError(f"cannot read audio file {p}: {exc}") from exc
    if data.size == 0:
        raise UserFacingError(f"audio file {p} contains no samples")
    return data, rate


def l2_normalise(vector: np.ndarray) -> np.ndarray:
    """Unit-length float32 copy; a zero or non-finite vector is a bug, so it raises."""
    v = np.asarray(vector, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(v)):
        raise ValueError("embedding contains non-finite values")
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        raise ValueError("embedding is all zeros")
    return (v / norm).astype(np.float32)


def check_vector(vector: Sequence[float] | np.ndarray) -> np.ndarray:
    """Validate a vector before storing it (width, finite, non-zero); returns unit float32."""
    v = np.asarray(vector, dtype=np.float64).reshape(-1)
    if v.size != EMBEDDING_DIM:
        raise ValueError(f"embedding must have {EMBEDDING_DIM} values, got {v.size}")
    return l2_normalise(v)

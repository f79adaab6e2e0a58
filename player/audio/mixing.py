"""Channel mapping and crossfade curves, shared by decoding and the engine."""

from __future__ import annotations

import numpy as np


def to_channels(block: np.ndarray, channels: int) -> np.ndarray:
    """Map a ``(frames, n)`` block onto ``channels`` output channels.

    Mono is copied to every output; stereo folds to mono as the mean (so a
    full-scale stereo signal stays in range); more inputs than outputs fold the
    extra channels onto the outputs round-robin and rescale so nothing clips;
    fewer inputs than outputs leave the extra outputs silent beyond the first two
    (surround speakers should not get music meant for the front).
    """
    if block.ndim == 1:
        block = block[:, None]
    n_in = block.shape[1]
    if n_in == channels:
        return block
    frames = block.shape[0]
    out = np.zeros((frames, channels), dtype=np.float32)
    if n_in == 1:
        out[:] = block
        return out
    if channels == 1:
        out[:, 0] = block.mean(axis=1)
        return out
    if n_in < channels:
        out[:, :n_in] = block
        return out
    # Downmix: fold input channel i onto output i % channels, then normalise by
    # how many inputs landed on each output.
    counts = np.zeros(channels, dtype=np.float32)
    for i in range(n_in):
        out[:, i % channels] += block[:, i]
        counts[i % channels] += 1
    out /= counts
    return out


def equal_power_curves(length: int) -> tuple[np.ndarray, np.ndarray]:
    """(fade_out, fade_in) gains whose squares sum to exactly 1 at every sample.

    Equal power rather than equal amplitude because two different songs are
    uncorrelated: their powers add, so a linear fade would dip by 3 dB midway.
    """
    theta = (np.arange(length, dtype=np.float64) + 0.5) * (np.pi / 2.0) / max(length, 1)
    return np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)

# SPDX-License-Identifier: MIT
"""The descriptor embedder describes what it claims to describe."""

from __future__ import annotations

import numpy as np

from player.embedding import descriptor
from player.embedding.descriptor import BLOCKS, DescriptorEmbedder, prepare, raw_descriptors

from .conftest import clicks, tone


def _block(raw: np.ndarray, name: str) -> np.ndarray:
    start = 0
    for block, width in BLOCKS:
        if block == name:
            return raw[start : start + width]
        start += width
    raise KeyError(name)


def test_layout_is_768_and_stats_match():
    assert sum(w for _, w in BLOCKS) == 768
    from player.embedding import descriptor_stats

    assert len(descriptor_stats.MEAN) == len(descriptor_stats.STD) == 768
    assert min(descriptor_stats.STD) > 0


def test_chroma_finds_the_pitch_class_of_a_tone():
    raw = raw_descriptors(prepare(tone(440.0), 22_050))  # A4
    assert int(np.argmax(_block(raw, "chroma_mean"))) == 9
    raw_c = raw_descriptors(prepare(tone(261.63), 22_050))  # C4
    assert int(np.argmax(_block(raw_c, "chroma_mean"))) == 0


def test_tempo_of_a_click_track():
    for bpm in (90.0, 128.0):
        raw = raw_descriptors(prepare(clicks(bpm, seconds=12.0), 22_050))
        estimate = _block(raw, "rhythm")[0] * 100.0
        # The estimate may land on the tempo or an octave of it, never elsewhere.
        ratio = estimate / bpm
        assert min(abs(ratio - r) for r in (0.5, 1.0, 2.0)) < 0.06, (bpm, estimate)


def test_brightness_orders_low_and_high_tones():
    low = raw_descriptors(prepare(tone(200.0), 22_050))
    high = raw_descriptors(prepare(tone(3000.0), 22_050))
    assert _block(high, "spectral_scalars")[0] > _block(low, "spectral_scalars")[0]


def test_similar_music_is_closer_than_different_music():
    emb = DescriptorEmbedder()
    beat_a = emb.embed(clicks(120.0, seed=1), 22_050)
    beat_b = emb.embed(clicks(122.0, seed=2), 22_050)
    pad = emb.embed(tone(220.0, 8.0) + tone(330.0, 8.0), 22_050)
    assert float(beat_a @ beat_b) > float(beat_a @ pad) + 0.2


def test_sample_rate_does_not_change_the_vector_much():
    emb = DescriptorEmbedder()
    rng = np.random.default_rng(3)
    base = clicks(100.0, seconds=6.0, rate=48_000) + np.tile(tone(330.0, 6.0, 48_000), 1)
    base += 0.01 * rng.standard_normal(base.size).astype(np.float32)
    import soxr

    v48 = emb.embed(base, 48_000)
    v44 = emb.embed(soxr.resample(base, 48_000, 44_100), 44_100)
    assert float(v48 @ v44) > 0.95


def test_long_tracks_are_cut_to_excerpts():
    # 5 minutes of audio is analysed as three 30 s excerpts, so it costs like 90 s.
    long = np.tile(clicks(120.0, seconds=10.0), 30)
    assert prepare(long, 22_050).size == int(
        descriptor.EXCERPTS * descriptor.EXCERPT_SECONDS * 22_050
    )


def test_window_starts_cover_the_whole_signal():
    from player.embedding.base import window_starts

    assert window_starts(5, 10, 3) == [0]
    starts = window_starts(25, 10, 3)
    assert starts[0] == 0 and starts[-1] == 15  # overlapping, the tail included
    spread = window_starts(1000, 10, 3)
    assert len(spread) == 3 and spread[0] >= 50 and spread[-1] + 10 <= 950  # skips intro/outro

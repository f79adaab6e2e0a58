"""BS.1770-4 loudness, true peak, normalisation gain and the limiter."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from player.audio import FileSource, PlaybackEngine, measure_loudness
from player.audio.loudness import LoudnessMeter, PeakLimiter, normalisation_gain_db
from tests.audio.conftest import SR, tone
from tests.audio.helpers import render


@pytest.mark.parametrize("level_dbfs", [-23.0, -20.0, -6.0])
def test_stereo_1khz_sine_reads_its_level(level_dbfs):
    # EBU Tech 3341: a stereo 1 kHz sine at X dBFS measures X LUFS.
    signal = tone(1000, 5.0, amp=10 ** (level_dbfs / 20))
    lufs, peak = measure_loudness(signal, SR)
    assert lufs == pytest.approx(level_dbfs, abs=0.1)
    assert peak == pytest.approx(level_dbfs, abs=0.1)


def test_mono_full_scale_sine_is_minus_3_lufs():
    lufs, _ = measure_loudness(tone(1000, 3.0, amp=1.0, channels=1), SR)
    assert lufs == pytest.approx(-3.01, abs=0.1)


@pytest.mark.parametrize("rate,seconds", [(48000, 7.31), (44100, 2.05), (22050, 0.9)])
def test_block_streaming_matches_pyloudnorm(rate, seconds):
    rng = np.random.default_rng(7)
    frames = int(rate * seconds)
    noise = rng.normal(0, 0.1, (frames, 2)) * np.linspace(0.05, 1.0, frames)[:, None]
    expected = pyloudnorm.Meter(rate).integrated_loudness(noise)
    meter = LoudnessMeter(rate, 2)
    for start in range(0, frames, 3001):  # odd block size: edges fall mid-block
        meter.add(noise[start : start + 3001].astype(np.float32))
    assert meter.integrated_lufs() == pytest.approx(expected, abs=0.01)


def test_true_peak_finds_intersample_overs():
    # A sine at a quarter of the rate, 45° phase: samples hit ±0.707, the wave hits ±1.
    t = np.arange(SR * 2) / SR
    signal = np.sin(2 * np.pi * (SR / 4) * t + np.pi / 4).astype(np.float32)
    _, true_peak = measure_loudness(np.stack([signal, signal], 1), SR)
    assert 20 * np.log10(np.max(np.abs(signal))) == pytest.approx(-3.01, abs=0.05)
    assert true_peak == pytest.approx(0.0, abs=0.3)


def test_silence_and_short_signals_have_no_loudness():
    assert measure_loudness(np.zeros((SR, 2), np.float32), SR)[0] == float("-inf")
    assert measure_loudness(tone(1000, 0.2), SR)[0] == float("-inf")
    assert normalisation_gain_db(float("-inf"), None, -14.0) == 0.0


def test_gain_is_capped_by_true_peak():
    assert normalisation_gain_db(-20.0, -10.0, -14.0) == pytest.approx(6.0)
    assert normalisation_gain_db(-20.0, -3.0, -14.0) == pytest.approx(2.0)  # ceiling -1 dBTP
    assert normalisation_gain_db(-20.0, -10.0, None) == 0.0


def test_measure_file_formats(write_audio):
    signal = tone(1000, 3.0, amp=0.1)
    for name in ("s.wav", "s.flac", "s.ogg"):
        lufs, _ = measure_loudness(write_audio(name, signal))
        assert lufs == pytest.approx(-20.0, abs=0.2), name


def test_engine_normalises_toward_target(write_audio):
    quiet = write_audio("quiet.wav", tone(1000, 2.0, amp=0.1))  # -20 LUFS
    loud = write_audio("loud.wav", tone(1000, 2.0, amp=0.4))  # about -8 LUFS
    engine = PlaybackEngine(output="manual", target_lufs=-14.0)
    try:
        # Measured beforehand, as the app stores it (a first play glides in instead:
        # test_first_play.py).
        for path in (quiet, loud):
            source = FileSource(path)
            source.measure()
            engine.enqueue(source)
        engine.play()
        out = render(engine, 4 * SR)
    finally:
        engine.close()
    first = measure_loudness(out[4096 : 2 * SR], SR)[0]
    second = measure_loudness(out[2 * SR + 4096 :], SR)[0]
    assert first == pytest.approx(-14.0, abs=0.2)
    assert second == pytest.approx(-14.0, abs=0.2)


def test_limiter_holds_the_ceiling_and_is_transparent_below():
    limiter = PeakLimiter(2, lookahead=64, ceiling_dbfs=-1.0)
    ceiling = 10 ** (-1 / 20)
    loud = tone(300, 1.0, amp=1.6)
    out = np.concatenate([limiter.process(loud[i : i + 1000]) for i in range(0, len(loud), 1000)])
    assert np.max(np.abs(out)) <= ceiling + 1e-6
    assert np.max(np.abs(np.diff(out[:, 0]))) < 0.08, "gain changes smoothly, no clicks"
    quiet_limiter = PeakLimiter(2, lookahead=64)
    quiet = tone(300, 0.5, amp=0.5)
    out = np.concatenate(
        [quiet_limiter.process(quiet[i : i + 777]) for i in range(0, SR // 2, 777)]
    )
    np.testing.assert_array_equal(out[63:], quiet[: len(quiet) - 63])

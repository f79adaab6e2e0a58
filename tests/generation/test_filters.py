"""The engine's Butterworth filters (``player.generation.filters``) are scipy's, without
``import scipy.signal``: the same sections bit for bit, the same filtered samples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from player.generation import filters
from player.generation.filters import butter_sos, first_order_sos, sosfilt

ROOT = Path(__file__).resolve().parents[2]
RATES = (22050, 44100, 48000)


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_butter_sections_equal_scipy_bit_for_bit(sr: int, order: int) -> None:
    rng = np.random.default_rng(order * sr)
    edges = [20.0, 150.0, 1000.0, 6000.0, sr * 0.45, *rng.uniform(30.0, sr * 0.45, 6)]
    for freq in edges:
        for kind in ("lowpass", "highpass"):
            ours = butter_sos(order, float(freq), kind, sr)
            theirs = signal.butter(order, float(freq), btype=kind, fs=sr, output="sos")
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)
            assert np.array_equal(ours, theirs), (order, freq, kind)
    bands = [(900.0, 5000.0), (1200.0, 9000.0), (60.0, 200.0), (40.0, sr * 0.44)]
    bands += [tuple(sorted(rng.uniform(30.0, sr * 0.45, 2))) for _ in range(6)]
    for low, high in bands:
        ours = butter_sos(order, (low, high), "bandpass", sr)
        theirs = signal.butter(order, (low, high), btype="bandpass", fs=sr, output="sos")
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)
        assert np.array_equal(ours, theirs), (order, low, high)


def test_filtering_equals_scipy_sosfilt_and_lfilter() -> None:
    rng = np.random.default_rng(3)
    sos = butter_sos(2, (300.0, 4000.0), "bandpass", 44100)
    mono = rng.standard_normal(5000).astype(np.float32)
    assert np.array_equal(sosfilt(sos, mono), signal.sosfilt(sos, mono))
    stereo = rng.standard_normal((3000, 2))
    assert np.array_equal(sosfilt(sos, stereo, axis=0), signal.sosfilt(sos, stereo, axis=0))
    # The master's tilt: a first-order filter run block by block with its state.
    b = np.array([1.4, -1.1])
    a = np.array([1.0, -0.7])
    zi_ours, zi_scipy = np.zeros((1, 2, 2)), np.zeros((1, 2))
    for block in np.array_split(stereo.astype(np.float32), 7):
        y_ours, zi_ours = sosfilt(first_order_sos(b, a), block, axis=0, zi=zi_ours)
        y_scipy, zi_scipy = signal.lfilter(b, a, block, axis=0, zi=zi_scipy)
        assert np.array_equal(y_ours, y_scipy)
        assert np.array_equal(zi_ours[:, 0], zi_scipy)


def test_the_compiled_loop_is_used_not_the_fallback() -> None:
    """The speed-up only holds while scipy's extension loads from its file: a scipy
    upgrade that moves it must show up here, not as a slow start in the field."""
    assert filters._kernel() is not None


def test_bad_designs_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="fs/2"):
        butter_sos(2, 30000.0, "lowpass", 44100)
    with pytest.raises(ValueError, match="unknown filter type"):
        butter_sos(2, 1000.0, "notch", 44100)
    with pytest.raises(ValueError, match="low edge"):
        butter_sos(2, (5000.0, 1000.0), "bandpass", 44100)
    with pytest.raises(ValueError, match="needs a frequency"):
        butter_sos(2, None, "lowpass", 44100)
    with pytest.raises(ValueError, match="two frequencies"):
        butter_sos(2, 1000.0, "bandpass", 44100)


def test_scipy_signal_imported_later_shares_the_loaded_loop() -> None:
    """The engine loads the loop by file; librosa (or anything) importing scipy.signal
    later in the same process must get that very module, not a second initialisation."""
    script = (
        "import sys, numpy as np\n"
        "from player.generation.filters import _kernel, butter_sos, sosfilt\n"
        "loop = _kernel()\n"
        "assert loop is not None and 'scipy.signal' not in sys.modules\n"
        "from scipy import signal\n"
        "from scipy.signal import _signaltools\n"
        "x = np.random.default_rng(0).standard_normal(2000)\n"
        "sos = butter_sos(3, 900.0, 'highpass', 48000)\n"
        "assert _signaltools._sosfilt is loop\n"
        "assert np.array_equal(signal.sosfilt(sos, x), sosfilt(sos, x))\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"

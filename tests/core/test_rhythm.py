"""The preview's tempo and onset rate are the standard ones (player/taste/rhythm.py).

The sound model can only learn "fast and busy" if its description hears tempo and onsets
as an analyser does; the module reimplements librosa's onset detector and tempo estimate
in numpy, and this checks the port against librosa itself on the engine's own music.
"""

from __future__ import annotations

import numpy as np
import pytest

from player.embedding.base import resample
from player.generation import GenerationRequest
from player.generation.procedural import ProceduralGenerator
from player.taste.rhythm import RATE, tempo_and_onset_rate

librosa = pytest.importorskip("librosa")


@pytest.mark.parametrize(
    ("genre", "bpm", "density"),
    [("house", 124, 0.8), ("drum-and-bass", 172, 0.6), ("ambient", 70, 0.2), ("jazz", 140, 0.5)],
)
def test_tempo_and_onsets_agree_with_librosa(genre: str, bpm: float, density: float) -> None:
    result = ProceduralGenerator().generate(
        GenerationRequest(
            genres=[genre], tempo_bpm=bpm, density=density, seed=5, duration_seconds=8.0
        )
    )
    audio = result.render()
    y = resample(audio.mean(axis=1), result.samplerate, RATE)
    heard_bpm, onsets = tempo_and_onset_rate(y)
    expected_onsets = librosa.onset.onset_detect(y=y, sr=RATE, units="time")
    expected_bpm = float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=RATE)[0])[0])
    # The same frames, so the same count; the tempo is a tempogram bin, so equal.
    assert onsets * (y.size / RATE) == pytest.approx(len(expected_onsets), abs=1)
    assert heard_bpm == pytest.approx(expected_bpm, rel=0.01)


def test_busier_music_has_more_onsets_and_silence_has_none() -> None:
    rate = RATE
    t = np.arange(4 * rate) / rate

    def clicks(per_second: float) -> np.ndarray:
        y = np.zeros_like(t, dtype=np.float32)
        for start in np.arange(0.05, 4.0, 1.0 / per_second):
            i = int(start * rate)
            y[i : i + 200] += np.hanning(200).astype(np.float32) * np.sin(
                2 * np.pi * 1500 * t[:200]
            ).astype(np.float32)
        return y

    _, slow = tempo_and_onset_rate(clicks(2.0))
    _, busy = tempo_and_onset_rate(clicks(6.0))
    assert slow == pytest.approx(2.0, abs=0.5) and busy == pytest.approx(6.0, abs=0.75)
    assert tempo_and_onset_rate(np.zeros(rate * 2, np.float32)) == (0.0, 0.0)

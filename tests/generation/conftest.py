"""Shared helpers for the generation tests: short renders and an independent tempo check."""

from __future__ import annotations

import numpy as np
import pytest

from player.generation.procedural import ProceduralGenerator
from player.generation.protocol import GenerationRequest


@pytest.fixture(scope="session")
def procedural() -> ProceduralGenerator:
    return ProceduralGenerator()


def render(gen: ProceduralGenerator, **fields: object) -> tuple[np.ndarray, object]:
    result = gen.generate(GenerationRequest(**fields))  # type: ignore[arg-type]
    return result.render(), result


def librosa_tempo(audio: np.ndarray, samplerate: int) -> float:
    """Tempo from librosa's beat tracker (its default prior, not told our tempo).

    The beat times are frame-quantised, so the tempo is the mean of the consistent
    inter-beat intervals rather than librosa's coarser global estimate.
    """
    import librosa

    y = librosa.resample(audio.mean(axis=1), orig_sr=samplerate, target_sr=22050)
    _, beats = librosa.beat.beat_track(y=y, sr=22050, hop_length=256, units="time")
    d = np.diff(np.asarray(beats))
    med = np.median(d)
    d = d[np.abs(d - med) < 0.1 * med]
    return float(60.0 / d.mean())

"""Covers: valid PNGs, from the style and genre, distinct per band, saved in the data folder."""

from __future__ import annotations

import numpy as np
import pytest

from base import paths
from player.bands.cover import (
    encode_png,
    motif_for,
    render_cover,
    style_features,
    write_cover,
)


def _vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(768).astype(np.float32)
    return v / np.linalg.norm(v)


def _decode_with_qt(data: bytes) -> np.ndarray:
    """An independent decoder (Qt's PNG reader) to prove the file is a real PNG."""
    from PySide6.QtGui import QImage

    image = QImage.fromData(data, "PNG")
    assert not image.isNull(), "Qt could not decode the PNG"
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride)
    return buf.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def test_png_round_trips_through_an_independent_decoder():
    rgb = render_cover(_vec(1), "house", salt="band-a", size=64)
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(_decode_with_qt(encode_png(rgb)), rgb)


def test_same_inputs_same_pixels():
    a = render_cover(_vec(2), "techno", salt="x", size=96)
    b = render_cover(_vec(2), "techno", salt="x", size=96)
    np.testing.assert_array_equal(a, b)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


@pytest.mark.parametrize("genre", ["pop", "hip-hop", "techno", "lo-fi", "rock", "unheard-of"])
def test_each_band_gets_its_own_cover_even_with_the_same_style(genre):
    v = _vec(3)
    a = render_cover(v, genre, salt="band-1", size=96)
    b = render_cover(v, genre, salt="band-2", size=96)
    assert _diff(a, b) > 8.0


def test_art_is_not_a_placeholder():
    for genre in ["pop", "techno", "ambient", "metal", "jazz"]:
        img = render_cover(_vec(4), genre, salt="p", size=128)
        colours = {tuple(c) for c in (img // 16).reshape(-1, 3)}
        assert len(colours) >= 12, genre  # many colours, not a flat fill
        assert img.std() > 12, genre  # structure, not noise on one colour


def test_style_vector_moves_the_features_smoothly():
    v = _vec(5)
    near = v + 0.05 * _vec(6)
    far = _vec(7)
    f = style_features(v)
    assert np.all((f > 0) & (f < 1))
    assert np.abs(f - style_features(near)).sum() < np.abs(f - style_features(far)).sum()
    np.testing.assert_allclose(style_features(None), 0.5)
    np.testing.assert_allclose(style_features(np.zeros(768)), 0.5)
    assert render_cover(None, "folk", size=32).shape == (32, 32, 3)


def test_genre_picks_the_motif():
    assert motif_for("techno") == "blocks" and motif_for("lo-fi") == "blobs"
    assert motif_for("rock") == "shards" and motif_for("house") == "rings"
    assert motif_for("unheard-of") == motif_for("unheard-of")
    v = _vec(8)
    assert _diff(render_cover(v, "techno", "s", 96), render_cover(v, "lo-fi", "s", 96)) > 8.0


def test_write_cover_saves_into_the_covers_folder(_isolated_profile):
    path = write_cover("1234", _vec(9), "jazz")
    assert path.parent == paths.covers_dir() and path.name == "1234.png"
    assert str(path).startswith(str(_isolated_profile))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _decode_with_qt(path.read_bytes()).shape == (512, 512, 3)
    assert not list(path.parent.glob("*.tmp"))


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="at least 16"):
        render_cover(None, "pop", size=8)

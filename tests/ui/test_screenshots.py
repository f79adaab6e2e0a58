"""``infinite-player screenshots OUT_DIR --size WxH`` renders every view at that size."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from base.errors import UserFacingError
from player.cli import main
from ui.screenshots import PANEL, parse_size

EXPECTED = {
    "onboarding", "radio", "library", "history", "playlist", "bands", "band-page",
    "settings", "new-band", "new-playlist", "shortcuts",
}  # fmt: skip


def test_size_is_checked():
    assert parse_size("1366x768") == (1366, 768)
    for bad in ("1024", "axb", "320x200"):
        with pytest.raises(UserFacingError, match="--size"):
            parse_size(bad)


@pytest.mark.timeout(600)
def test_screenshots_at_1024x600_fit_that_screen(tmp_path, capsys):
    out = tmp_path / "shots"
    assert main(["screenshots", str(out), "--size", "1024x600"]) == 0
    written = {p.stem: p for p in out.glob("*.png")}
    assert set(written) == EXPECTED
    assert set(capsys.readouterr().out.split()) == {str(p) for p in written.values()}
    for name, path in written.items():
        image = QImage(str(path))
        assert not image.isNull(), name
        # the window's client area, inside the screen less its panel and the frame
        assert image.width() <= 1024 and image.height() <= 600 - PANEL, (name, image.size())
        if name in ("radio", "library", "settings"):
            assert image.width() >= 900 and image.height() >= 480, (name, image.size())

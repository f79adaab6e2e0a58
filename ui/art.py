"""Small painted pieces: track art and the progress "waveform" strip.

Generated tracks have no album art, so each gets a gradient derived from its id — the
same track always looks the same. Band covers (PNG files the bands service renders)
are used where a band has one.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.playback import track_path


def _hues(key: str) -> tuple[int, int]:
    digest = hashlib.sha1(key.encode()).digest()
    return digest[0] * 360 // 256, digest[1] * 360 // 256


def track_art(key: str, size: int, radius: float = 8.0, text: str = "") -> QPixmap:
    """A deterministic gradient tile for ``key`` (a track or band id)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    if not key:
        key = "nothing"
    h1, h2 = _hues(key)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    gradient = QLinearGradient(0, 0, size, size)
    gradient.setColorAt(0.0, QColor.fromHsv(h1, 170, 235))
    gradient.setColorAt(1.0, QColor.fromHsv(h2, 200, 120))
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, size, size), radius, radius)
    painter.fillPath(path, QBrush(gradient))
    painter.setClipPath(path)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 40))
    rng = random.Random(key)
    for _ in range(3):
        r = size * rng.uniform(0.2, 0.55)
        painter.drawEllipse(QPointF(size * rng.random(), size * rng.random()), r, r)
    if text:
        painter.setPen(QColor(255, 255, 255, 230))
        font = painter.font()
        font.setPixelSize(max(8, size // 3))
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


def cover_pixmap(cover_url: str | None, key: str, size: int, text: str = "") -> QPixmap:
    """The band's cover file scaled to ``size``, or generated art when it has none."""
    if cover_url:
        path = track_path(cover_url)
        if Path(path).is_file():
            image = QPixmap(str(path))
            if not image.isNull():
                return image.scaled(
                    size,
                    size,
                    Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                    Qt.TransformationMode.SmoothTransformation,
                )
    return track_art(key, size, text=text)


class WaveStrip(QWidget):
    """A bar "waveform" of the playing track that fills as it plays; click to seek.

    The bar heights are drawn from the track id (no audio analysis on the GUI thread),
    shaped like a song: quieter intro and outro, louder middle.
    """

    seek_requested = Signal(float)  # fraction 0..1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WaveStrip")
        self.setMinimumHeight(22)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._bars: list[float] = []
        self.fraction = 0.0

    def sizeHint(self) -> QSize:
        return QSize(300, 22)

    def set_track(self, key: str) -> None:
        rng = random.Random(key)
        n = 90
        bars = []
        for i in range(n):
            x = i / (n - 1)
            envelope = min(1.0, 0.35 + 2.2 * x, 0.35 + 2.2 * (1 - x))
            bars.append(max(0.12, envelope * rng.uniform(0.45, 1.0)))
        self._bars = bars if key else []
        self.fraction = 0.0
        self.update()

    def set_fraction(self, fraction: float) -> None:
        fraction = max(0.0, min(1.0, fraction))
        if abs(fraction - self.fraction) > 1e-3:
            self.fraction = fraction
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._bars and self.width() > 0:
            self.seek_requested.emit(max(0.0, min(1.0, event.position().x() / self.width())))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bars = self._bars or [0.12] * 90
        width, height = self.width(), self.height()
        step = width / len(bars)
        bar_w = max(1.0, step * 0.6)
        played = QColor("#7c5cff")
        rest = QColor("#2c2c40")
        painter.setPen(Qt.PenStyle.NoPen)
        for i, value in enumerate(bars):
            h = max(2.0, value * height)
            x = i * step + (step - bar_w) / 2
            painter.setBrush(played if (i + 0.5) / len(bars) <= self.fraction else rest)
            painter.drawRoundedRect(QRectF(x, (height - h) / 2, bar_w, h), 1.0, 1.0)
        painter.end()

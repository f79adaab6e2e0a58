"""Look and feel: the dark theme, icons and the app icon, all from ``resources/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from base.paths import bundled_folder

RESOURCES = bundled_folder("ui._resources", "resources")


def resource(name: str) -> Path:
    """Path of a file under ``resources/``."""
    return RESOURCES / name


@cache
def icon(name: str) -> QIcon:
    """An icon from ``resources/icons/<name>.svg`` (cached; Qt renders SVG at any size)."""
    return QIcon(str(RESOURCES / "icons" / f"{name}.svg"))


def app_icon() -> QIcon:
    result = QIcon(str(RESOURCES / "icon.svg"))
    result.addFile(str(RESOURCES / "icon.png"))
    return result


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    value = QColor(color)

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(x) for x in (value.redF(), value.greenF(), value.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio, 1 to 21 (AA body text needs 4.5, focus indicators 3)."""
    a, b = sorted((relative_luminance(foreground), relative_luminance(background)))
    return (b + 0.05) / (a + 0.05)


def style_sheet() -> str:
    """``theme.qss`` with its icon paths made absolute (QSS resolves relative ones
    against the working directory, which is anything at all for an installed app)."""
    text = (RESOURCES / "theme.qss").read_text(encoding="utf-8")
    return text.replace("@ICONS@", (RESOURCES / "icons").as_posix())


def apply_theme(app: QApplication) -> None:
    """Fusion style, a dark palette (for what QSS does not reach) and the QSS sheet."""
    app.setStyle("Fusion")
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#121218",
        QPalette.ColorRole.WindowText: "#e8e6f0",
        QPalette.ColorRole.Base: "#1a1a24",
        QPalette.ColorRole.AlternateBase: "#16161e",
        QPalette.ColorRole.Text: "#e8e6f0",
        QPalette.ColorRole.Button: "#24243a",
        QPalette.ColorRole.ButtonText: "#e8e6f0",
        QPalette.ColorRole.Highlight: "#7c5cff",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#22222e",
        QPalette.ColorRole.ToolTipText: "#e8e6f0",
        QPalette.ColorRole.PlaceholderText: "#9a97ad",
        QPalette.ColorRole.Link: "#1fd1b2",
    }
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    app.setPalette(palette)
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(app_icon())

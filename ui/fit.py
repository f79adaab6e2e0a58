"""Windows that fit the screen they open on, down to a 1024×600 netbook.

Every top-level window and dialog sizes itself through :func:`fit_window`: its preferred
size, shrunk to the screen's *available* geometry (panels and docks excluded) and
centred there. A geometry restored from an earlier session (a bigger monitor, another
resolution) is clamped the same way by :func:`clamp_into`, so no title bar or button
ends up off-screen. Long forms scroll inside the window and keep their primary button
outside the scroll area, so it is always reachable.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

#: The smallest screen the app is laid out for (netbooks, small laptops, 2× scaled).
SMALLEST_SCREEN = QSize(1024, 600)
#: What the window manager's frame and title bar may take around a window.
FRAME_ALLOWANCE = QSize(16, 40)


def available_geometry(widget: QWidget | None = None) -> QRect:
    """The part of the widget's screen (or the primary one) windows may use."""
    screen = widget.screen() if widget is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    if screen is None:  # no screen at all (should not happen): assume the smallest one
        return QRect(0, 0, SMALLEST_SCREEN.width(), SMALLEST_SCREEN.height())
    return screen.availableGeometry()


def fitted_size(preferred: QSize, area: QRect) -> QSize:
    """``preferred``, no bigger than ``area`` less the window frame."""
    return QSize(
        max(1, min(preferred.width(), area.width() - FRAME_ALLOWANCE.width())),
        max(1, min(preferred.height(), area.height() - FRAME_ALLOWANCE.height())),
    )


def clamp_into(rect: QRect, area: QRect) -> QRect:
    """``rect`` shrunk to fit ``area`` (less the frame) and moved fully inside it."""
    size = fitted_size(rect.size(), area)
    left = min(max(rect.left(), area.left()), area.right() - size.width() + 1)
    top = min(max(rect.top(), area.top()), area.bottom() - size.height() + 1)
    return QRect(max(left, area.left()), max(top, area.top()), size.width(), size.height())


def fit_window(widget: QWidget, preferred: QSize, area: QRect | None = None) -> None:
    """Size ``widget`` to ``preferred`` within ``area`` (default: its screen) and centre it.

    The minimum size is lowered too when it would not fit, so a layout's minimum can
    never push the window past the screen's edge.
    """
    area = area if area is not None else available_geometry(widget)
    size = fitted_size(preferred, area)
    minimum = widget.minimumSize()
    if minimum.width() > size.width() or minimum.height() > size.height():
        widget.setMinimumSize(
            min(minimum.width(), size.width()), min(minimum.height(), size.height())
        )
    widget.resize(size)
    x = area.left() + (area.width() - size.width()) // 2
    y = area.top() + (area.height() - size.height()) // 2
    widget.move(x, y)


def clamp_window(widget: QWidget, area: QRect | None = None) -> None:
    """Bring a window (restored geometry, a dialog grown by its content) back on screen."""
    area = area if area is not None else available_geometry(widget)
    clamped = clamp_into(widget.geometry(), area)
    if clamped != widget.geometry():
        widget.setGeometry(clamped)

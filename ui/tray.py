"""The system tray icon with playback controls (only where the desktop has a tray)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from ui.theme import app_icon

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def make_tray(window: MainWindow, actions: dict[str, QAction]) -> QSystemTrayIcon | None:
    """A tray icon sharing the window's actions, or None when there is no tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(app_icon(), window)
    tray.setToolTip("Infinite Player")
    menu = QMenu(window)
    show = menu.addAction("Show Infinite Player")

    def bring_back() -> None:
        window.showNormal()
        window.raise_()
        window.activateWindow()

    show.triggered.connect(bring_back)
    menu.addSeparator()
    for name in ("play_pause", "next", "previous", "like"):
        menu.addAction(actions[name])
    menu.addSeparator()
    menu.addAction(actions["quit"])
    tray.setContextMenu(menu)

    def activated(reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            window.setVisible(not window.isVisible())

    tray.activated.connect(activated)

    def track(metadata: dict[str, Any]) -> None:
        title = metadata.get("title")
        tray.setToolTip(
            f"{title} — {metadata.get('band') or 'Infinite Player'}" if title else "Infinite Player"
        )

    window.ctx.playback.track_changed.connect(track)
    tray.show()
    return tray

"""The start-up splash: the app icon and a line saying what is being waited for.

Not ``QSplashScreen``: in Qt 6 its ``show()`` and ``finish()`` each wait for the window
system to report the window exposed, and where that report never comes (offscreen,
Xvfb, some Wayland compositors) each call blocks the GUI thread for a full second —
two of the seconds between launch and the main window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.theme import app_icon


class Splash(QWidget):
    """A frameless window shown until the first real window replaces it."""

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("Splash")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        picture = QLabel()
        picture.setPixmap(app_icon().pixmap(160, 160))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Infinite Player")
        title.setObjectName("AppTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel("")
        self.message.setObjectName("AppSubtitle")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 24)
        layout.addWidget(picture)
        layout.addWidget(title)
        layout.addWidget(self.message)
        self.setFixedSize(320, 300)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:  # centred, as a window manager would not do for a splash
            self.move(screen.availableGeometry().center() - self.rect().center())

    def set_message(self, text: str) -> None:
        self.message.setText(text)

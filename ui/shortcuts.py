"""Keyboard: the arrow keys for seek and volume, their focus guard, and the sheet that
lists every shortcut (``?`` or F1).

Left/Right seek and Up/Down change the volume anywhere in the window *except* in a
control that uses the arrow keys itself: a text field moves its cursor, a list or table
moves its selection, a slider or a dropdown changes its value. Qt asks the focused
widget first (a ``ShortcutOverride`` event); :class:`ArrowKeyGuard` accepts it for those
controls, so the key reaches them and the window's shortcut does not fire.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QAction, QIcon, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.fit import fit_window

ARROWS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down}
#: Controls whose own behaviour uses the arrow keys.
KEEPS_ARROWS: tuple[type, ...] = (
    QLineEdit,
    QTextEdit,
    QPlainTextEdit,
    QAbstractSpinBox,
    QAbstractItemView,
    QAbstractSlider,
    QComboBox,
    QTabBar,
)
SEEK_STEP_SECONDS = 5.0
VOLUME_STEP = 5  # percent

#: Shown in the sheet for keys that are not a window action of their own.
EXTRA_KEYS = (
    ("Tab / Shift+Tab", "Move between controls"),
    ("Enter / Space", "Press the focused button"),
    ("Arrow keys in a list, field or slider", "Work in that control (not seek/volume)"),
)


def keeps_arrow_keys(widget: QWidget | None) -> bool:
    return widget is not None and isinstance(widget, KEEPS_ARROWS)


class ArrowKeyGuard(QObject):
    """Lets the focused control keep the arrow keys it needs (see the module's note)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            plain = event.modifiers() in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.KeypadModifier,
            )
            if plain and event.key() in ARROWS and keeps_arrow_keys(QApplication.focusWidget()):
                event.accept()  # the control gets the key press; the shortcut stays quiet
                return True
        return False


def shortcut_rows(actions: dict[str, QAction]) -> list[tuple[str, str]]:
    """(keys, what they do) for every window action that has a shortcut."""
    rows = []
    for action in actions.values():
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        keys = [k for k in keys if k]
        if keys:
            # "lasting_name": what the action always does ("Play or pause"); its text()
            # follows the state. (Not statusTip: Qt would show that over the status bar.)
            what = str(action.property("lasting_name") or action.text())
            rows.append((" or ".join(keys), what.replace("&", "")))
    return rows + list(EXTRA_KEYS)


class ShortcutsDialog(QDialog):
    """The "Keyboard shortcuts" sheet."""

    def __init__(self, actions: dict[str, QAction], parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("ShortcutsDialog")
        title = QLabel("Keyboard shortcuts")
        title.setObjectName("SectionTitle")
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("ShortcutTable")
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Keys", "What they do"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        for n, (keys, what) in enumerate(rows):
            self.table.setItem(n, 0, QTableWidgetItem(keys))
            self.table.setItem(n, 1, QTableWidgetItem(what))
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("Primary")
        close.setIcon(QIcon())
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        fit_window(self, QSize(560, 520))

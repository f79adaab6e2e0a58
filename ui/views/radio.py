"""The Radio view: pick a station, watch the queue being generated, skip and like.

The queue is a ``QListView`` over :class:`RadioQueueModel` with a painted delegate (a
progress bar for the track being generated), not a widget per row.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from player.library import track_title
from player.radio import RadioItem, RadioSeed
from ui.art import track_art
from ui.radio_controller import RadioController

ITEM_ROLE = Qt.ItemDataRole.UserRole + 10
PREMIUM_TEXT = (
    "Premium lifts the daily limit: the radio makes as many new tracks as you listen to. "
    "It is part of your account on the shared Infinite Player service, not something this "
    "app sells: with sync turned on (Settings → Database → Sync with), this computer picks "
    "it up at the next sync. Until then the free allowance starts again every midnight "
    "UTC, and everything already made (liked songs, playlists, your tracks) keeps playing."
)
STATUS_TEXT = {
    "queued": "Waiting",
    "generating": "Generating",
    "ready": "Up next",
    "playing": "Now playing",
    "played": "Played",
    "failed": "Failed",
}


def new_station_refusal(controller: RadioController) -> str:
    """Why a new station would do harm now ("" when it would not): with today's free
    generations used up it can make nothing, and tuning in drops what is queued."""
    if not (controller.active and controller.remaining == 0):
        return ""
    ready = [i for i in controller.items() if i.status == "ready"]
    made = f" and the {len(ready)} track{'s' if len(ready) != 1 else ''} already made"
    return (
        "Today's free generations are used up, so a new station could not make anything. "
        f"Keeping this one{made if ready else ''}."
    )


def item_title(item: RadioItem) -> str:
    if item.track_id is not None:
        return track_title(item.track_id)
    return f"New {item.genre} track"


class RadioQueueModel(QAbstractListModel):
    """The radio's queue: a few played, the one playing, and what is being made."""

    def __init__(self, controller: RadioController, parent: Any = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._items: list[RadioItem] = []
        controller.queue_changed.connect(self.refresh)

    def refresh(self) -> None:
        items = self.controller.items()
        played = [i for i in items if i.status == "played"][-3:]
        items = played + [i for i in items if i.status != "played"]
        if [i.key for i in items] == [i.key for i in self._items]:
            changed = [n for n, (a, b) in enumerate(zip(items, self._items, strict=True)) if a != b]
            self._items = items
            for row in changed:
                self.dataChanged.emit(self.index(row), self.index(row))
            return
        self.beginResetModel()
        self._items = items
        self.endResetModel()

    def items(self) -> list[RadioItem]:
        return list(self._items)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item_title(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.error or None
        if role == ITEM_ROLE:
            return item
        return None


class QueueDelegate(QStyledItemDelegate):
    """Art, title, genre · vibe, and the status or a progress bar on the right."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:
        return QSize(320, 60)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        item: RadioItem | None = index.data(ITEM_ROLE)
        if item is None:
            return
        painter.save()
        rect: QRect = option.rect
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor("#2a2450"))
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor("#1c1c28"))
        key = str(item.track_id or f"pending-{item.key}")
        painter.drawPixmap(rect.left() + 12, rect.top() + 8, track_art(key, 44, 6))
        x = rect.left() + 70
        title_color = QColor("#ffffff" if item.status == "playing" else "#e8e6f0")
        if item.status == "played":
            title_color = QColor("#8d8aa0")
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(title_color)
        right_w = 170
        text_w = rect.width() - 70 - right_w - 16
        painter.drawText(
            QRect(x, rect.top() + 10, text_w, 20), Qt.AlignmentFlag.AlignLeft, item_title(item)
        )
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(QColor("#8d8aa0"))
        sub = " · ".join(p for p in (item.genre, item.vibe or "") if p)
        painter.drawText(QRect(x, rect.top() + 32, text_w, 18), Qt.AlignmentFlag.AlignLeft, sub)
        right = QRect(rect.right() - right_w - 8, rect.top() + 8, right_w, rect.height() - 16)
        if item.status == "generating":
            bar = QRect(right.left(), right.center().y() + 6, right.width(), 6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#22222e"))
            painter.drawRoundedRect(bar, 3, 3)
            done = QRect(bar.left(), bar.top(), int(bar.width() * item.progress), bar.height())
            painter.setBrush(QColor("#1fd1b2"))
            painter.drawRoundedRect(done, 3, 3)
            painter.setPen(QColor("#b9b5cc"))
            label = QRect(right.left(), right.top(), right.width(), 18)
            painter.drawText(
                label, Qt.AlignmentFlag.AlignRight, f"Generating {int(item.progress * 100)}%"
            )
        else:
            colors = {"playing": "#1fd1b2", "failed": "#ff6b81", "ready": "#b9b5cc"}
            painter.setPen(QColor(colors.get(item.status, "#9a97ad")))
            painter.drawText(
                right,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                STATUS_TEXT[item.status],
            )
        painter.restore()


class RadioView(QWidget):
    def __init__(
        self, controller: RadioController, genres: list[str], vibes: list[str], parent: Any = None
    ):
        super().__init__(parent)
        self.controller = controller
        title = QLabel("Radio")
        title.setObjectName("PageTitle")
        self.station = QLabel("Endless music made for you, on this machine.")
        self.station.setObjectName("PageSubtitle")
        self.quota = QLabel("")
        self.quota.setObjectName("QuotaLabel")
        self.quota.setProperty("level", "ok")
        head = QHBoxLayout()
        head_text = QVBoxLayout()
        head_text.addWidget(title)
        head_text.addWidget(self.station)
        head.addLayout(head_text, 1)
        head.addWidget(self.quota, 0, Qt.AlignmentFlag.AlignBottom)

        self.banner_text = QLabel("")
        self.banner_text.setObjectName("QuotaBannerText")
        self.banner_text.setWordWrap(True)
        self.premium_button = QPushButton("What is Premium?")
        self.premium_button.clicked.connect(self.explain_premium)
        self.banner = QWidget()
        self.banner.setObjectName("QuotaBanner")
        self.banner.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(14, 10, 14, 10)
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.premium_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.banner.hide()

        self.start_taste = QPushButton("Start my radio")
        self.start_taste.setObjectName("Primary")
        self.start_taste.clicked.connect(lambda: self._start(RadioSeed("taste")))
        from player.taste.preferences import Preferences

        prefs = Preferences.from_profile(controller.ctx.profile.preferences)
        self.genre = QComboBox()
        self.genre.setAccessibleName("Genre")
        self.genre.addItems(genres)
        liked_genres = [g for g in prefs.genres if g in genres]
        if liked_genres:  # the onboarding picks, not the list's first entry
            self.genre.setCurrentText(liked_genres[0])
        self.start_genre = QPushButton("Genre radio")
        self.start_genre.clicked.connect(
            lambda: self._start(RadioSeed("genre", genre=self.genre.currentText()))
        )
        self.vibe = QComboBox()
        self.vibe.setAccessibleName("Vibe")
        self.vibe.addItems(vibes)
        if prefs.vibe in vibes:
            self.vibe.setCurrentText(prefs.vibe)
        self.start_vibe = QPushButton("Vibe radio")
        self.start_vibe.clicked.connect(
            lambda: self._start(RadioSeed("vibe", vibe=self.vibe.currentText()))
        )
        stations = QHBoxLayout()
        stations.setSpacing(8)
        stations.addWidget(self.start_taste)
        stations.addSpacing(16)
        stations.addWidget(self.genre)
        stations.addWidget(self.start_genre)
        stations.addSpacing(16)
        stations.addWidget(self.vibe)
        stations.addWidget(self.start_vibe)
        stations.addStretch(1)
        self.station_note = QLabel("")
        self.station_note.setObjectName("Hint")
        self.station_note.setWordWrap(True)
        self.station_note.hide()

        up_next = QLabel("Queue")
        up_next.setObjectName("SectionTitle")
        self.model = RadioQueueModel(controller, self)
        self.queue = QListView()
        self.queue.setObjectName("RadioQueue")
        self.queue.setModel(self.model)
        self.queue.setItemDelegate(QueueDelegate(self.queue))
        self.queue.setMouseTracking(True)
        self.queue.setUniformItemSizes(True)
        self.empty = QLabel("Nothing queued yet — start a station above.")
        self.empty.setObjectName("Hint")

        self.skip = QPushButton("Skip")
        self.skip.setToolTip("Next track — the radio learns you wanted something else")
        self.skip.clicked.connect(controller.skip)
        self.stop = QPushButton("Stop radio")
        self.stop.clicked.connect(controller.stop)
        controls = QHBoxLayout()
        controls.addWidget(up_next)
        controls.addStretch(1)
        controls.addWidget(self.skip)
        controls.addWidget(self.stop)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 16)
        layout.setSpacing(14)
        layout.addLayout(head)
        layout.addWidget(self.banner)
        layout.addLayout(stations)
        layout.addWidget(self.station_note)
        layout.addSpacing(6)
        layout.addLayout(controls)
        layout.addWidget(self.empty)
        layout.addWidget(self.queue, 1)

        controller.quota_changed.connect(self.show_quota)
        controller.quota_reached.connect(self.show_quota_reached)
        controller.station_changed.connect(self.show_station)
        controller.queue_changed.connect(self._update_empty)
        self._update_empty()
        if not controller.available:
            for w in (self.start_taste, self.start_genre, self.start_vibe):
                w.setEnabled(False)
            self.empty.setText("Music generation is not available in this installation.")

    def _start(self, seed: RadioSeed) -> None:
        refusal = new_station_refusal(self.controller)
        if refusal:
            self.station_note.setText(refusal)
            self.station_note.show()
            return
        self.station_note.hide()
        self.banner.hide()
        self.controller.start(seed)

    def show_station(self, name: str) -> None:
        self.station.setText(f"Playing: {name}" if name else "Radio stopped.")

    def show_quota(self, remaining: int, limit: int) -> None:
        if remaining < 0:
            self.quota.setText("Unlimited generations (Premium)")
            level = "ok"
        else:
            self.quota.setText(f"{remaining} of {limit} left today")
            level = "out" if remaining == 0 else "low" if remaining <= max(1, limit // 5) else "ok"
        self.quota.setToolTip("New tracks the radio can still make today (resets at midnight UTC)")
        self.quota.setProperty("level", level)
        self.quota.style().unpolish(self.quota)
        self.quota.style().polish(self.quota)

    def show_quota_reached(self, message: str) -> None:
        self.banner_text.setText(message)
        self.banner.show()

    def explain_premium(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Premium")
        box.setIcon(QMessageBox.Icon.Information)
        box.setText("What is Premium?")
        box.setInformativeText(PREMIUM_TEXT)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        self.premium_dialog = box
        box.open()

    def _update_empty(self) -> None:
        self.empty.setVisible(self.model.rowCount() == 0)

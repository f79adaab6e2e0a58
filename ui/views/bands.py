"""The Bands view: my bands, followed bands and discoveries as cards; a page per band.

Cards are a ``QListView`` in icon mode over :class:`BandCardModel` with a painted
delegate (cover, name, counts), so hundreds of bands cost no widgets.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from player.radio import RadioSeed
from ui.art import cover_pixmap
from ui.context import AppContext
from ui.models import PlaylistModel
from ui.radio_controller import RadioController
from ui.tables import TableFitter

if TYPE_CHECKING:
    from player.bands.service import BandInfo

BAND_ROLE = Qt.ItemDataRole.UserRole + 30
CARD = QSize(176, 244)
COVER = 144
#: The band page's cover: small enough that a 600 px screen still shows its tracks.
PAGE_COVER = 132


class BandCardModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._bands: list[BandInfo] = []

    def set_bands(self, bands: list[BandInfo]) -> None:
        self.beginResetModel()
        self._bands = list(bands)
        self.endResetModel()

    def bands(self) -> list[BandInfo]:
        return list(self._bands)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._bands)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._bands):
            return None
        band = self._bands[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return band.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return band.bio or band.name
        if role == BAND_ROLE:
            return band
        return None


def band_counts(band: BandInfo) -> str:
    tracks = f"{band.track_count} track{'s' if band.track_count != 1 else ''}"
    followers = f"{band.follower_count} follower{'s' if band.follower_count != 1 else ''}"
    return f"{tracks} · {followers}"


def band_style(band: BandInfo) -> str:
    """Every genre the band plays, then its vibe: nothing it plays is left unsaid."""
    return " · ".join(p for p in (", ".join(band.genres or ()), band.vibe or "") if p)


def band_meta(band: BandInfo) -> str:
    genres = ", ".join(band.genres) if band.genres else ""
    vibe = f"{band.vibe}" if band.vibe else ""
    style = " · ".join(p for p in (genres, vibe) if p)
    return f"{style} · {band_counts(band)}" if style else band_counts(band)


class BandCardDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:
        return CARD

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        band = index.data(BAND_ROLE)
        if band is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect.adjusted(4, 4, -4, -4)
        state = option.state
        path = QPainterPath()
        path.addRoundedRect(rect, 12, 12)
        hovered = state & (QStyle.StateFlag.State_MouseOver | QStyle.StateFlag.State_Selected)
        painter.fillPath(path, QColor("#22222e" if hovered else "#1a1a24"))
        cover = cover_pixmap(band.cover_url, str(band.id), COVER, band.name[:1].upper())
        x = rect.left() + (rect.width() - COVER) // 2
        clip = QPainterPath()
        clip.addRoundedRect(x, rect.top() + 10, COVER, COVER, 8, 8)
        painter.setClipPath(clip)
        painter.drawPixmap(x, rect.top() + 10, cover)
        painter.setClipping(False)
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        text_rect = QRect(rect.left() + 10, rect.top() + COVER + 16, rect.width() - 20, 20)
        name = painter.fontMetrics().elidedText(
            band.name, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft, name)
        font.setBold(False)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(font)
        painter.setPen(QColor("#8d8aa0"))
        metrics = painter.fontMetrics()
        for n, line in enumerate((band_style(band), band_counts(band))):
            line_rect = text_rect.translated(0, 20 + 17 * n)
            elided = metrics.elidedText(line, Qt.TextElideMode.ElideRight, line_rect.width())
            painter.drawText(line_rect, Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()


class CardStrip(QListView):
    """A horizontal-wrapping grid of band cards."""

    band_clicked = Signal(object)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.model_ = BandCardModel(self)
        self.setModel(self.model_)
        self.setItemDelegate(BandCardDelegate(self))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setGridSize(CARD)
        self.setUniformItemSizes(True)
        self.setMouseTracking(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.clicked.connect(lambda index: self.band_clicked.emit(index.data(BAND_ROLE)))

    def set_bands(self, bands: list[BandInfo]) -> None:
        self.model_.set_bands(bands)
        self._fit()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        per_row = max(1, self.viewport().width() // CARD.width())
        rows = max(1, -(-self.model_.rowCount() // per_row))
        self.setFixedHeight(rows * CARD.height() + 8 if self.model_.rowCount() else 40)


class CreateBandDialog(QDialog):
    """Name (optional), genres, vibe and visibility of a new band.

    No genre is ticked for the listener: a band plays exactly the genres ticked here,
    and a tick they did not make (one of their onboarding genres, off-screen in a list)
    made a "house, lo-fi" band play synthwave. New bands are private until made public.
    """

    def __init__(self, ctx: AppContext, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New band")
        from player.generation.genres import GENRES, VIBES

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("BandName")
        self.name_edit.setAccessibleName("Band name")
        self.name_edit.setPlaceholderText("Leave empty to have one made up")
        self.genre_boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        for n, genre in enumerate(GENRES):
            box = QCheckBox(genre.replace("&", "&&"))
            box.toggled.connect(lambda _c: self._update_summary())
            self.genre_boxes[genre] = box
            grid.addWidget(box, n // 4, n % 4)
        self.vibe_box = QComboBox()
        self.vibe_box.setAccessibleName("Vibe")
        self.vibe_box.addItems(list(VIBES))
        from player.taste.preferences import Preferences

        vibe = Preferences.from_profile(ctx.profile.preferences).vibe
        if vibe in VIBES:
            self.vibe_box.setCurrentText(vibe)
        self.vibe_box.currentTextChanged.connect(lambda _t: self._update_summary())
        self.public = QCheckBox("Public: other listeners can discover and follow it")
        self.public.setChecked(False)
        self.summary = QLabel("")
        self.summary.setObjectName("Hint")
        self.summary.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("ErrorLabel")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Create band")
        self.ok.setObjectName("Primary")
        for button in buttons.buttons():
            button.setIcon(QIcon())  # the style's stock icons clash with the theme
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Name"))
        layout.addWidget(self.name_edit)
        layout.addWidget(QLabel("Genres it plays"))
        layout.addLayout(grid)
        layout.addWidget(QLabel("Vibe"))
        layout.addWidget(self.vibe_box)
        layout.addWidget(self.public)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._update_summary()

    def name(self) -> str | None:
        return self.name_edit.text().strip() or None

    def genres(self) -> list[str]:
        return [g for g, box in self.genre_boxes.items() if box.isChecked()]

    def vibe(self) -> str | None:
        return self.vibe_box.currentText() or None

    def is_public(self) -> bool:
        return self.public.isChecked()

    def _update_summary(self) -> None:
        genres = self.genres()
        self.summary.setText(
            f"Its radio will play {', '.join(genres)}, {self.vibe()}."
            if genres
            else "Tick the genres the band plays."
        )

    def _accept(self) -> None:
        if not self.genres():
            self.error.setText("Pick at least one genre for the band.")
            return
        self.accept()


class BandPage(QWidget):
    back = Signal()
    #: the listener followed or unfollowed the band shown (the card strips change).
    follow_changed = Signal()
    #: the band's radio started; the window should show the Radio view.
    show_radio = Signal()

    def __init__(self, ctx: AppContext, radio: RadioController, parent: Any = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.radio = radio
        self.band: BandInfo | None = None
        self.following = False
        self.back_button = QPushButton("← All bands")
        self.back_button.clicked.connect(self.back.emit)
        self.cover = QLabel()
        self.cover.setFixedSize(PAGE_COVER, PAGE_COVER)
        self.name = QLabel("")
        self.name.setObjectName("PageTitle")
        self.name.setWordWrap(True)
        self.meta = QLabel("")
        self.meta.setObjectName("PageSubtitle")
        self.bio = QLabel("")
        self.bio.setWordWrap(True)
        self.bio.setObjectName("Hint")
        self.follow_button = QPushButton("Follow")
        self.follow_button.setObjectName("FollowButton")
        self.follow_button.clicked.connect(self.toggle_follow)
        self.radio_button = QPushButton("Band radio")
        self.radio_button.setObjectName("Primary")
        self.radio_button.clicked.connect(self.start_radio)
        self.notice = QLabel("")
        self.notice.setObjectName("Hint")
        self.notice.setWordWrap(True)
        self.notice.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.radio_button)
        buttons.addWidget(self.follow_button)
        buttons.addStretch(1)
        info = QVBoxLayout()
        info.addWidget(self.name)
        info.addWidget(self.meta)
        info.addWidget(self.bio)
        info.addStretch(1)
        info.addLayout(buttons)
        info.addWidget(self.notice)
        top = QHBoxLayout()
        top.setSpacing(24)
        top.addWidget(self.cover, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(info, 1)
        self.tracks = PlaylistModel(parent=self)
        self.table = QTableView()
        self.table.setObjectName("BandTracks")
        self.fitter = TableFitter(self.table)
        self.table.setModel(self.tracks)
        self.fitter.fit()
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.empty = QLabel("No tracks yet: start the band radio to make some.")
        self.empty.setObjectName("Hint")
        self.table.doubleClicked.connect(self._play)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 16)
        layout.setSpacing(16)
        layout.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        self.tracks.page_loaded.connect(lambda n: self.empty.setVisible(n == 0))

    def show_band(self, band: BandInfo, following: bool) -> None:
        self.band = band
        self.following = following
        self.cover.setPixmap(
            cover_pixmap(band.cover_url, str(band.id), PAGE_COVER, band.name[:1].upper())
        )
        self.name.setText(band.name)
        self.meta.setText(band_meta(band))
        self.bio.setText(band.bio or "")
        self.follow_button.setText("Unfollow" if following else "Follow")
        # One's own band is not followed: it is already in "My bands".
        self.follow_button.setVisible(band.user_id != self.ctx.user_id)
        self.radio_button.setVisible(band.user_id == self.ctx.user_id)
        lib = self.ctx.library
        ids = list(band.track_ids)
        self.ctx.tasks.run(
            lambda _c: lib.tracks_by_id(ids),
            description="Loading band",
            visible=False,
            on_done=self.tracks.set_tracks,
        )

    def toggle_follow(self) -> None:
        band, service, user = self.band, self.ctx.bands, self.ctx.user_id
        if band is None:
            return
        follow = not self.following

        def work(_c: Any) -> BandInfo:
            if follow:
                service.follow(user, band.id)
            else:
                service.unfollow(user, band.id)
            return service.get_band(user, band.id)

        self.follow_button.setEnabled(False)

        def done(updated: BandInfo) -> None:
            self.follow_button.setEnabled(True)
            self.show_band(updated, follow)
            self.follow_changed.emit()

        self.ctx.tasks.run(work, description="Following" if follow else "Unfollowing", on_done=done)

    def refresh(self) -> None:
        """Re-read the band shown (its tracks grow while its radio plays)."""
        band, service, user = self.band, self.ctx.bands, self.ctx.user_id
        if band is None:
            return
        self.ctx.tasks.run(
            lambda _c: service.get_band(user, band.id),
            description="Loading band",
            visible=False,
            on_done=self._refreshed,
        )

    def _refreshed(self, updated: BandInfo) -> None:
        if self.band is not None and updated.id == self.band.id:
            self.show_band(updated, self.following)

    def start_radio(self) -> None:
        from ui.views.radio import new_station_refusal

        refusal = new_station_refusal(self.radio)
        if refusal:
            self.notice.setText(refusal)
            self.notice.show()
            return
        self.notice.hide()
        if self.band is not None:
            self.radio.start(
                RadioSeed("band", band_id=self.band.id, label=f"{self.band.name} radio")
            )
            self.show_radio.emit()

    def _play(self, index: QModelIndex) -> None:
        tracks = self.tracks.rows()
        if tracks:
            self.radio.stop()
            self.ctx.playback.play_tracks(tracks, index.row())


class BandsView(QWidget):
    #: the list of my bands changed (the library's "Add to band" menu uses it).
    my_bands_changed = Signal(list)
    #: a band's radio started from its page; the window should show the Radio view.
    show_radio = Signal()

    def __init__(self, ctx: AppContext, radio: RadioController, parent: Any = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.following_ids: set[uuid.UUID] = set()
        self.stack = QStackedWidget()
        overview = QWidget()
        title = QLabel("Bands")
        title.setObjectName("PageTitle")
        subtitle = QLabel("AI personas that group your tracks. Follow the ones you love.")
        subtitle.setObjectName("PageSubtitle")
        self.new_band = QPushButton("New band")
        self.new_band.setObjectName("Primary")
        self.new_band.clicked.connect(self.ask_new_band)
        head = QHBoxLayout()
        head_text = QVBoxLayout()
        head_text.addWidget(title)
        head_text.addWidget(subtitle)
        head.addLayout(head_text, 1)
        head.addWidget(self.new_band, 0, Qt.AlignmentFlag.AlignBottom)
        self.mine = CardStrip()
        self.mine.setObjectName("MyBands")
        self.followed = CardStrip()
        self.followed.setObjectName("FollowedBands")
        self.discover = CardStrip()
        self.discover.setObjectName("DiscoverBands")
        self.hints: dict[str, QLabel] = {}
        body = QVBoxLayout()
        body.setSpacing(10)
        for label, strip, hint in (
            (
                "My bands",
                self.mine,
                "Create a band from tracks you like: right-click them in the Library.",
            ),
            ("Following", self.followed, "Bands you follow appear here."),
            ("Discover", self.discover, "Public bands close to your taste appear here."),
        ):
            heading = QLabel(label)
            heading.setObjectName("SectionTitle")
            body.addWidget(heading)
            note = QLabel(hint)
            note.setObjectName("Hint")
            self.hints[label] = note
            body.addWidget(note)
            body.addWidget(strip)
            strip.band_clicked.connect(self.open_band)
        body.addStretch(1)
        content = QWidget()
        content.setLayout(body)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(overview)
        outer.setContentsMargins(28, 24, 28, 0)
        outer.setSpacing(16)
        outer.addLayout(head)
        outer.addWidget(scroll, 1)
        self.page = BandPage(ctx, radio)
        self.page.back.connect(lambda: self.stack.setCurrentIndex(0))
        self.page.follow_changed.connect(self.reload)
        self.page.show_radio.connect(self.show_radio)
        # Band radio adds tracks to the band: the page and the cards follow, a second
        # after the radio's last change (not on every progress tick).
        self._follow_radio = QTimer(self, singleShot=True, interval=1000)
        self._follow_radio.timeout.connect(self._radio_changed)
        radio.queue_changed.connect(self._follow_radio.start)
        self.stack.addWidget(overview)
        self.stack.addWidget(self.page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def _radio_changed(self) -> None:
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        """Cards, and the band page when one is open, from the database."""
        service, user = self.ctx.bands, self.ctx.user_id
        if self.stack.currentWidget() is self.page:
            self.page.refresh()

        def load(_c: Any) -> tuple[list[BandInfo], list[BandInfo], list[BandInfo]]:
            mine = service.list_bands(user)
            followed = service.following(user)
            discover = service.discover(user, limit=12)
            return mine, followed, discover

        self.ctx.tasks.run(load, description="Loading bands", visible=False, on_done=self._show)

    def _show(self, result: tuple[list[BandInfo], list[BandInfo], list[BandInfo]]) -> None:
        mine, followed, discover = result
        self.following_ids = {b.id for b in followed}
        self.mine.set_bands(mine)
        self.followed.set_bands(followed)
        self.discover.set_bands(discover)
        for label, bands in (("My bands", mine), ("Following", followed), ("Discover", discover)):
            self.hints[label].setVisible(not bands)
        self.my_bands_changed.emit(mine)

    def open_band(self, band: BandInfo | None) -> None:
        if band is None:
            return
        service, user = self.ctx.bands, self.ctx.user_id
        self.ctx.tasks.run(
            lambda _c: service.get_band(user, band.id),
            description="Opening band",
            visible=False,
            on_done=lambda full: self._open(full),
        )

    def _open(self, band: BandInfo) -> None:
        self.page.show_band(band, band.id in self.following_ids)
        self.stack.setCurrentIndex(1)

    def ask_new_band(self) -> None:
        self.create_dialog = CreateBandDialog(self.ctx, self)
        if self.create_dialog.exec():
            dialog = self.create_dialog
            self.create_band(dialog.genres(), dialog.vibe(), dialog.is_public(), dialog.name())

    def create_band(
        self, genres: list[str], vibe: str | None, public: bool = False, name: str | None = None
    ) -> None:
        service, user = self.ctx.bands, self.ctx.user_id
        self.ctx.tasks.run(
            lambda _c: service.create_band(
                user, genres=genres, vibe=vibe, is_public=public, name=name
            ),
            description="Creating band",
            serial=True,
            on_done=lambda _b: self.reload(),
        )

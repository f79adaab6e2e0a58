"""The Library view: liked songs, my tracks, playlists and listening history.

Each list is a ``QTableView`` over a lazily loaded model (:mod:`ui.models`), sorted and
searched in the database. Playlists reorder by drag and drop. Every database call goes
through the task runner; the view updates when the answer comes back.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from player.library import HistoryRow, Playlist, TrackRow
from player.radio import RadioSeed
from ui.context import AppContext
from ui.models import HISTORY_COLUMNS, ROW_ROLE, TRACK_COLUMNS, PagedTableModel, PlaylistModel
from ui.playback import track_path
from ui.radio_controller import RadioController
from ui.tables import TableFitter
from ui.theme import icon

if TYPE_CHECKING:
    from player.bands.service import BandInfo

LIKED, TRACKS, HISTORY = "liked", "tracks", "history"
KIND_ROLE = Qt.ItemDataRole.UserRole + 20
PUBLIC_TEXT = "Public: other listeners can find and play it"


class NameDialog(QDialog):
    """Asks for a name and says, inside the dialog, why an empty one is refused."""

    def __init__(self, title: str, text: str = "", parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.edit = QLineEdit(text)
        self.edit.setObjectName("NameEdit")
        self.edit.setAccessibleName("Name")
        self.edit.setPlaceholderText("Name")
        self.error = QLabel("")
        self.error.setObjectName("ErrorLabel")
        self.error.hide()
        self.edit.textChanged.connect(lambda _t: self.error.hide())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setObjectName("Primary")
        for button in buttons.buttons():
            button.setIcon(QIcon())  # the style's stock icons clash with the theme
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Name"))
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(340)

    def name(self) -> str:
        return self.edit.text().strip()

    def _accept(self) -> None:
        if not self.name():
            self.error.setText("A playlist needs a name.")
            self.error.show()
            self.edit.setFocus()
            return
        self.accept()


class LibraryView(QWidget):
    #: asks the window to show the Radio view (after "play similar").
    show_radio = Signal()
    #: something for the window's status line: text, timeout in ms, severity.
    message_for_window = Signal(str, int, str)
    #: a band was created or changed from here; the Bands view should reload.
    bands_changed = Signal()

    def __init__(self, ctx: AppContext, radio: RadioController, parent: Any = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.radio = radio
        self.playlists: list[Playlist] = []
        self.current_playlist: Playlist | None = None
        #: the listener's bands, offered by "Add to band" (:meth:`set_my_bands`).
        self.my_bands: list[BandInfo] = []

        self._make_models()
        nav_col = self._navigation()
        head = self._header()
        self._make_table()
        right = QVBoxLayout()
        right.setSpacing(12)
        right.addLayout(head)
        right.addWidget(self.public)
        right.addWidget(self.table, 1)
        right.addWidget(self.empty)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 20, 20, 12)
        layout.setSpacing(16)
        layout.addLayout(nav_col)
        layout.addLayout(right, 1)

        for model in (self.liked_model, self.tracks_model, self.history_model, self.playlist_model):
            model.page_loaded.connect(self._update_count)
        radio.like_changed.connect(lambda _t, _l: self.liked_model.reload())
        self.nav.setCurrentRow(0)
        self.reload_playlists()
        self.reload_my_bands()

    # -- building the view (one part each) ------------------------------------------------

    def _make_models(self) -> None:
        """The paged models over the library service, one per section, and the playlist's."""
        lib = self.ctx.library
        self.liked_model = PagedTableModel(
            self.ctx.tasks,
            lambda o, n, q, s, d: lib.tracks(
                liked=True, search=q, sort=s, descending=d, offset=o, limit=n
            ),
            TRACK_COLUMNS,
            default_sort="added",
            parent=self,
        )
        self.tracks_model = PagedTableModel(
            self.ctx.tasks,
            lambda o, n, q, s, d: lib.tracks(search=q, sort=s, descending=d, offset=o, limit=n),
            TRACK_COLUMNS,
            default_sort="added",
            parent=self,
        )
        self.history_model = PagedTableModel(
            self.ctx.tasks,
            lambda o, n, q, s, d: lib.history(search=q, sort=s, descending=d, offset=o, limit=n),
            HISTORY_COLUMNS,
            default_sort="played_at",
            parent=self,
        )
        self.playlist_model = PlaylistModel(self._persist_move, self)

    def _navigation(self) -> QVBoxLayout:
        """Left: the sections, the playlists under them and "New playlist"."""
        self.nav = QListWidget()
        self.nav.setObjectName("LibraryNav")
        self.nav.setFixedWidth(176)
        self.nav.setAccessibleName("Library sections and playlists")
        for label, kind in (("Liked songs", LIKED), ("My tracks", TRACKS), ("History", HISTORY)):
            item = QListWidgetItem(label)
            item.setData(KIND_ROLE, kind)
            self.nav.addItem(item)
        self._playlist_header = QListWidgetItem("PLAYLISTS")
        self._playlist_header.setFlags(Qt.ItemFlag.NoItemFlags)
        self.nav.addItem(self._playlist_header)
        self.nav.currentItemChanged.connect(self._on_nav)
        self.new_playlist = QPushButton("New playlist")
        self.new_playlist.setIcon(icon("plus"))
        self.new_playlist.clicked.connect(self.ask_new_playlist)
        nav_col = QVBoxLayout()
        nav_col.addWidget(self.nav, 1)
        nav_col.addWidget(self.new_playlist)
        return nav_col

    def _header(self) -> QHBoxLayout:
        """The title and count, the playlist's buttons and the search box."""
        self.title = QLabel("Liked songs")
        self.title.setObjectName("PageTitle")
        self.count = QLabel("")
        self.count.setObjectName("PageSubtitle")
        self.search = QLineEdit()
        self.search.setObjectName("LibrarySearch")
        self.search.setPlaceholderText("Search title or band")
        self.search.setAccessibleName("Search the library")
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(150)
        self.search.setMaximumWidth(280)
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.rename = QPushButton("Rename")
        self.rename.clicked.connect(self.ask_rename_playlist)
        self.public = QCheckBox(PUBLIC_TEXT)
        self.public.setToolTip(
            "A public playlist can be seen and played by other listeners of Infinite Player "
            "(on the shared service once sync is on). A private one only by you."
        )
        self.public.toggled.connect(self._set_public)
        self.delete = QPushButton("Delete")
        self.delete.clicked.connect(self.delete_playlist)
        head = QHBoxLayout()
        head_text = QVBoxLayout()
        head_text.addWidget(self.title)
        head_text.addWidget(self.count)
        head.addLayout(head_text, 1)
        for w in (self.rename, self.delete):
            head.addWidget(w, 0, Qt.AlignmentFlag.AlignBottom)
        head.addWidget(self.search, 0, Qt.AlignmentFlag.AlignBottom)
        return head

    def _make_table(self) -> None:
        """The one table the sections share, and the hint shown when it is empty."""
        self.table = QTableView()
        self.table.setObjectName("LibraryTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.fitter = TableFitter(self.table)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._activated)
        self.empty = QLabel("")
        self.empty.setObjectName("Hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

    # -- navigation ---------------------------------------------------------------------

    @property
    def kind(self) -> str:
        item = self.nav.currentItem()
        return str(item.data(KIND_ROLE)) if item is not None else LIKED

    @property
    def model(self) -> Any:
        return self.table.model()

    def _on_nav(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        if item is None:
            return
        kind = str(item.data(KIND_ROLE))
        self.current_playlist = None
        is_playlist = kind.startswith("playlist:")
        for w in (self.rename, self.public, self.delete):
            w.setVisible(is_playlist)
        self.search.setVisible(not is_playlist)
        self.table.setSortingEnabled(False)
        if is_playlist:
            playlist_id = uuid.UUID(kind.split(":", 1)[1])
            self.current_playlist = next((p for p in self.playlists if p.id == playlist_id), None)
            self.title.setText(self.current_playlist.name if self.current_playlist else "Playlist")
            self.public.blockSignals(True)
            self.public.setChecked(bool(self.current_playlist and self.current_playlist.is_public))
            self.public.blockSignals(False)
            self._set_model(self.playlist_model)
            self.table.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
            self.table.setDragEnabled(True)
            self.table.setAcceptDrops(True)
            self.table.setDropIndicatorShown(True)
            self.table.setDefaultDropAction(Qt.DropAction.MoveAction)
            self.load_playlist()
            return
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
        model = {LIKED: self.liked_model, TRACKS: self.tracks_model}.get(kind, self.history_model)
        self.title.setText(item.text())
        self._set_model(model)
        model.search = self.search.text().strip()
        order = Qt.SortOrder.DescendingOrder if model.descending else Qt.SortOrder.AscendingOrder
        self.table.horizontalHeader().setSortIndicator(model.sort_column(), order)
        self.table.setSortingEnabled(True)  # sorts by the indicator: the model reloads

    def _set_model(self, model: Any) -> None:
        if self.table.model() is not model:
            self.table.setModel(model)
            self.fitter.fit()
        self._update_count()

    def show_kind(self, kind: str) -> None:
        for row in range(self.nav.count()):
            if self.nav.item(row).data(KIND_ROLE) == kind:
                self.nav.setCurrentRow(row)
                return

    def focus_search(self) -> None:
        if self.kind.startswith("playlist:"):
            self.show_kind(LIKED)
        self.search.setFocus()
        self.search.selectAll()

    def _apply_search(self) -> None:
        model = self.model
        if isinstance(model, PagedTableModel):
            model.set_search(self.search.text())

    def _update_count(self, *_args: Any) -> None:
        model = self.model
        if model is None:
            return
        n = model.rowCount()
        more = "+" if isinstance(model, PagedTableModel) and model.canFetchMore() else ""
        one, many = ("entry", "entries") if self.kind == HISTORY else ("track", "tracks")
        self.count.setText(f"{n}{more} {one if n == 1 and not more else many}")
        loading = isinstance(model, PagedTableModel) and model.loading
        hints = {
            LIKED: "Songs you like show up here. Press ♥ (Ctrl+L) while one plays.",
            TRACKS: "Every track generated for you lands here.",
            HISTORY: "What you play, and what you import, is listed here.",
        }
        hint = hints.get(
            self.kind,
            "This playlist is empty. Add tracks from Liked songs or My tracks: "
            "right-click them and choose Add to playlist.",
        )
        if self.search.text().strip() and self.kind in hints:
            hint = "Nothing matches your search."
        self.empty.setText(hint)
        self.empty.setVisible(n == 0 and not loading)

    # -- playlists ----------------------------------------------------------------------

    def reload_playlists(self, select: uuid.UUID | None = None) -> None:
        lib = self.ctx.library
        self.ctx.tasks.run(
            lambda _c: lib.playlists(),
            description="Loading playlists",
            visible=False,
            on_done=lambda playlists: self._show_playlists(playlists, select),
        )

    def _show_playlists(self, playlists: list[Playlist], select: uuid.UUID | None) -> None:
        self.playlists = playlists
        current = self.kind
        header_row = self.nav.row(self._playlist_header)
        self.nav.blockSignals(True)
        while self.nav.count() > header_row + 1:
            self.nav.takeItem(header_row + 1)
        for p in playlists:
            item = QListWidgetItem(p.name + ("  · public" if p.is_public else ""))
            item.setData(KIND_ROLE, f"playlist:{p.id}")
            self.nav.addItem(item)
        self.nav.blockSignals(False)
        wanted = f"playlist:{select}" if select else current
        for row in range(self.nav.count()):
            if self.nav.item(row).data(KIND_ROLE) == wanted:
                if row != self.nav.currentRow() or select:
                    self.nav.setCurrentRow(row)
                    self._on_nav(self.nav.item(row))
                return
        self.nav.setCurrentRow(0)

    def load_playlist(self) -> None:
        playlist = self.current_playlist
        if playlist is None:
            self.playlist_model.set_tracks([])
            return
        lib = self.ctx.library
        self.ctx.tasks.run(
            lambda _c: lib.playlist_tracks(playlist.id),
            description="Loading playlist",
            visible=False,
            on_done=self.playlist_model.set_tracks,
        )

    def ask_name(self, title: str, text: str = "") -> str | None:
        """A name from :class:`NameDialog` (None: cancelled); the dialog is kept on
        ``self.name_dialog`` while open, so tests can type into it."""
        self.name_dialog = NameDialog(title, text, self)
        try:
            return self.name_dialog.name() if self.name_dialog.exec() else None
        finally:
            self.name_dialog.deleteLater()

    def ask_new_playlist(self) -> None:
        name = self.ask_name("New playlist")
        if name is not None:
            self.create_playlist(name)

    def create_playlist(self, name: str, tracks: list[uuid.UUID] | None = None) -> None:
        lib = self.ctx.library

        def work(_c: Any) -> Playlist:
            playlist = lib.create_playlist(name)
            if tracks:
                playlist = lib.add_to_playlist(playlist.id, tracks)
            return playlist

        def done(playlist: Playlist) -> None:
            self.reload_playlists(select=playlist.id)
            added = f" with {len(tracks)} track{'s' if len(tracks) != 1 else ''}" if tracks else ""
            self.message_for_window.emit(f"Created {playlist.name}{added}", 4000, "info")

        self.ctx.tasks.run(work, description="Creating playlist", serial=True, on_done=done)

    def ask_rename_playlist(self) -> None:
        playlist = self.current_playlist
        if playlist is None:
            return
        name = self.ask_name("Rename playlist", playlist.name)
        if name is not None:
            self.rename_playlist(name)

    def rename_playlist(self, name: str) -> None:
        playlist, lib = self.current_playlist, self.ctx.library
        if playlist is not None:
            self.ctx.tasks.run(
                lambda _c: lib.rename_playlist(playlist.id, name),
                description="Renaming playlist",
                serial=True,
                on_done=lambda p: self.reload_playlists(select=p.id),
            )

    def _set_public(self, public: bool) -> None:
        playlist, lib = self.current_playlist, self.ctx.library
        if playlist is not None:
            self.ctx.tasks.run(
                lambda _c: lib.set_playlist_public(playlist.id, public),
                description="Saving playlist",
                serial=True,
                on_done=lambda p: self.reload_playlists(select=p.id),
            )

    def delete_playlist(self) -> None:
        playlist, lib = self.current_playlist, self.ctx.library
        if playlist is not None:
            self.ctx.tasks.run(
                lambda _c: lib.delete_playlist(playlist.id),
                description="Deleting playlist",
                serial=True,
                on_done=lambda _r: self.reload_playlists(),
            )

    def add_to_playlist(self, playlist: Playlist, tracks: list[uuid.UUID]) -> None:
        lib = self.ctx.library

        def done(p: Playlist) -> None:
            if self.current_playlist is not None and self.current_playlist.id == p.id:
                self.load_playlist()
            count = f"{len(tracks)} track{'s' if len(tracks) != 1 else ''}"
            self.message_for_window.emit(f"Added {count} to {p.name}", 4000, "info")

        self.ctx.tasks.run(
            lambda _c: lib.add_to_playlist(playlist.id, tracks),
            description=f"Adding to {playlist.name}",
            serial=True,
            on_done=done,
        )

    def _persist_move(self, positions: list[int], destination: int) -> None:
        playlist, lib = self.current_playlist, self.ctx.library
        if playlist is not None:
            self.ctx.tasks.run(
                lambda _c: lib.move_in_playlist(playlist.id, positions, destination),
                description="Reordering playlist",
                serial=True,
                visible=False,
            )

    def _remove_from_playlist(self, rows: list[int]) -> None:
        playlist, lib = self.current_playlist, self.ctx.library
        if playlist is not None:
            self.ctx.tasks.run(
                lambda _c: lib.remove_from_playlist(playlist.id, rows),
                description="Removing from playlist",
                serial=True,
                on_done=lambda _p: self.load_playlist(),
            )

    # -- playing and the context menu ---------------------------------------------------

    def selected_tracks(self) -> list[TrackRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        values = [self.model.data(self.model.index(r, 0), ROW_ROLE) for r in rows]
        return [v for v in values if isinstance(v, TrackRow)]

    def _activated(self, index: QModelIndex) -> None:
        self.play_row(index.row())

    def play_row(self, row: int) -> None:
        model = self.model
        value = model.data(model.index(row, 0), ROW_ROLE)
        if isinstance(value, TrackRow):
            tracks = [t for t in model.rows() if isinstance(t, TrackRow)]
            self.radio.stop()
            self.ctx.playback.play_tracks(tracks, tracks.index(value))
            return
        if not isinstance(value, HistoryRow):
            return
        track_id = value.track_id
        if value.platform == "infinite" and track_id:
            lib = self.ctx.library

            def play(track: TrackRow | None) -> None:
                if track is not None:
                    self.radio.stop()
                    self.ctx.playback.play_tracks([track])

            self.ctx.tasks.run(
                lambda _c: lib.track(uuid.UUID(track_id)),
                description="Finding track",
                visible=False,
                on_done=play,
            )

    def _context_menu(self, pos: QPoint) -> None:
        tracks = self.selected_tracks()
        if not tracks:
            return
        menu = self.build_menu(tracks)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def build_menu(self, tracks: list[TrackRow]) -> QMenu:
        """The context menu for ``tracks`` (built separately so tests can trigger it)."""
        menu = QMenu(self)
        ids = [t.id for t in tracks]
        first = tracks[0]
        play = menu.addAction(icon("play"), "Play")
        play.triggered.connect(lambda: self.play_row(self.table.currentIndex().row()))
        like = menu.addAction(icon("heart"), "Like / unlike")
        like.triggered.connect(lambda: self._toggle_likes(ids))
        add = menu.addMenu("Add to playlist")
        for playlist in self.playlists:
            action = add.addAction(playlist.name)
            action.triggered.connect(lambda _c=False, p=playlist: self.add_to_playlist(p, ids))
        add.addSeparator()
        new = add.addAction("New playlist…")
        new.triggered.connect(lambda: self._new_playlist_with(ids))
        band = menu.addMenu("Add to band")
        self._fill_band_menu(band, ids)
        menu.addSeparator()
        similar = menu.addAction("Play similar")
        similar.triggered.connect(lambda: self.play_similar(first))
        extend = menu.addAction("Extend this track")
        extend.triggered.connect(lambda: self.extend(first))
        export = menu.addAction("Export audio file…")
        export.triggered.connect(lambda: self.ask_export(first))
        if self.current_playlist is not None:
            menu.addSeparator()
            rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
            remove = menu.addAction("Remove from playlist")
            remove.triggered.connect(lambda: self._remove_from_playlist(rows))
        return menu

    def _toggle_likes(self, ids: list[uuid.UUID]) -> None:
        for track_id in ids:
            self.radio.toggle_like(track_id)

    def _new_playlist_with(self, ids: list[uuid.UUID]) -> None:
        name = self.ask_name("New playlist")
        if name is not None:
            self.create_playlist(name, ids)

    def reload_my_bands(self) -> None:
        """Read the listener's bands from the bands service, so "Add to band" offers them
        whether or not the Bands view has loaded; that view's ``my_bands_changed`` keeps
        them current afterwards (connected in ``MainWindow.attach``)."""
        service, user = self.ctx.bands, self.ctx.user_id
        self.ctx.tasks.run(
            lambda _c: service.list_bands(user),
            description="Loading bands",
            visible=False,
            on_done=self.set_my_bands,
        )

    def set_my_bands(self, bands: list[BandInfo]) -> None:
        self.my_bands = list(bands)

    def _fill_band_menu(self, menu: QMenu, ids: list[uuid.UUID]) -> None:
        for band in self.my_bands:
            action = menu.addAction(band.name)
            action.triggered.connect(lambda _c=False, b=band: self.add_to_band(b.id, ids))
        menu.addSeparator()
        create: QAction = menu.addAction("New band from selection…")
        create.triggered.connect(lambda: self.ask_create_band(ids))

    def add_to_band(self, band_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
        service, user = self.ctx.bands, self.ctx.user_id
        self.ctx.tasks.run(
            lambda _c: service.add_tracks(user, band_id, ids),
            description="Adding to band",
            serial=True,
            on_done=lambda _b: self.bands_changed.emit(),
        )

    def ask_create_band(self, ids: list[uuid.UUID]) -> None:
        from ui.views.bands import CreateBandDialog

        dialog = CreateBandDialog(self.ctx, self)
        if dialog.exec():
            self.create_band(
                dialog.genres(), dialog.vibe(), ids, public=dialog.is_public(), name=dialog.name()
            )

    def create_band(
        self,
        genres: list[str],
        vibe: str | None,
        ids: list[uuid.UUID],
        *,
        public: bool = False,
        name: str | None = None,
    ) -> None:
        service, user = self.ctx.bands, self.ctx.user_id
        self.ctx.tasks.run(
            lambda _c: service.create_band(
                user, genres=genres, vibe=vibe, track_ids=ids, is_public=public, name=name
            ),
            description="Creating band",
            serial=True,
            on_done=lambda _b: self.bands_changed.emit(),
        )

    def play_similar(self, track: TrackRow) -> None:
        self.radio.start(RadioSeed("track", track_id=track.id, label=f"Similar to {track.title}"))
        self.show_radio.emit()

    def extend(self, track: TrackRow) -> None:
        generation, user, lib = self.ctx.generation, self.ctx.user_id, self.ctx.library

        def work(ctx: Any) -> TrackRow | None:
            from player.generation.protocol import GenerationRequest, SourceTrack

            request = GenerationRequest(
                mode="extend",
                source=SourceTrack(track_id=str(track.id)),
                duration_seconds=float(self.ctx.settings.track_seconds),
            )
            return lib.track(generation.generate(user, request, cancel=ctx.cancel_event))

        def play(new: TrackRow | None) -> None:
            self.tracks_model.reload()
            if new is not None:
                self.radio.stop()
                self.ctx.playback.play_tracks([new])

        self.ctx.tasks.run(work, description=f"Extending {track.title}", on_done=play)

    def ask_export(self, track: TrackRow) -> None:
        source = track_path(track.url)
        suggested = str(Path.home() / f"{track.title}{source.suffix or '.mp3'}")
        target, _ = QFileDialog.getSaveFileName(self, "Export audio file", suggested)
        if target:
            self.export(track, Path(target))

    def export(self, track: TrackRow, target: Path) -> None:
        source = track_path(track.url)
        self.ctx.tasks.run(
            lambda _c: shutil.copyfile(source, target),
            description=f"Exporting {track.title}",
            serial=True,
        )

    def refresh(self) -> None:
        """Reload what is showing (after the radio made new tracks, a like elsewhere…)."""
        model = self.model
        if isinstance(model, PagedTableModel):
            model.reload()
        elif self.current_playlist is not None:
            self.load_playlist()

"""Qt item models over the library: pages fetched lazily, sorted and searched in SQL.

:class:`PagedTableModel` shows rows that a ``fetch(offset, limit, search, sort,
descending)`` function returns. ``canFetchMore``/``fetchMore`` ask for the next page
when the view scrolls near the end; the query runs through the :class:`TaskRunner`,
never on the GUI thread, and the rows are inserted when they come back. Sorting and
searching restart from the first page with the new SQL ordering and filter, so they
work on the whole table, not only on what happens to be loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from player.library import TrackRow, reorder
from ui.tasks import TaskContext, TaskRunner

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
PAGE_SIZE = 100


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[Any], str]
    sort_key: str | None = None
    align_right: bool = False
    tooltip: Callable[[Any], str] | None = None


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "–:––"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60}:{rest % 60:02d}"


def format_date(value: datetime | None, now: datetime | None = None) -> str:
    """Short and readable: "Today 14:05", "Yesterday 09:12", else "3 Nov 2026"."""
    if value is None:
        return ""
    local = value.astimezone()
    today = (now or datetime.now(local.tzinfo)).date()
    if local.date() == today:
        return f"Today {local:%H:%M}"
    if (today - local.date()).days == 1:
        return f"Yesterday {local:%H:%M}"
    return f"{local.day} {local:%b %Y}"


def _match(track: TrackRow) -> str:
    return f"{track.match}%" if track.match is not None else ""


TRACK_COLUMNS: tuple[Column, ...] = (
    Column("Title", lambda t: t.title, "title", tooltip=lambda t: t.explanation or ""),
    Column("Band", lambda t: t.band or "—", "band"),
    Column("Match", _match, "match", True, tooltip=lambda t: t.explanation or ""),
    Column("Length", lambda t: format_duration(t.duration), "duration", True),
    Column("Added", lambda t: format_date(t.added_at), "added"),
)

HISTORY_COLUMNS: tuple[Column, ...] = (
    Column("Track", lambda h: h.track_name, "track_name"),
    Column("Artist", lambda h: h.artist, "artist"),
    Column("Album", lambda h: h.album or "", "album"),
    Column("Source", lambda h: h.platform, "platform"),
    Column("Played", lambda h: format_date(h.played_at), "played_at"),
)

Fetch = Callable[[int, int, str, str, bool], Sequence[Any]]


class RowsTableModel(QAbstractTableModel):
    """Rows (dataclasses) shown through :class:`Column` s; the row itself under ROW_ROLE."""

    def __init__(self, columns: Sequence[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._rows: list[Any] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            # The full text (the view elides long names), then any explanation.
            parts = [column.text(row), column.tooltip(row) if column.tooltip else ""]
            return "\n".join(p for p in parts if p) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ROW_ROLE:
            return row
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section].header
        return None

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def rows(self) -> list[Any]:
        return list(self._rows)


class PagedTableModel(RowsTableModel):
    """Rows from ``fetch``, one page at a time, in the background."""

    #: a page arrived (also after a reset's first page): the row count now.
    page_loaded = Signal(int)

    def __init__(
        self,
        tasks: TaskRunner,
        fetch: Fetch,
        columns: Sequence[Column],
        *,
        default_sort: str,
        page_size: int = PAGE_SIZE,
        parent: Any = None,
    ) -> None:
        super().__init__(columns, parent)
        self._tasks = tasks
        self._fetch = fetch
        self._page_size = page_size
        self._exhausted = False
        self._loading = False
        self._generation = 0
        self.search = ""
        self.sort_key = default_sort
        self.descending = True

    # -- what the view asks ---------------------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or self._loading:
            return
        self._loading = True
        generation = self._generation
        offset, limit = len(self._rows), self._page_size
        search, sort, desc = self.search, self.sort_key, self.descending

        def load(ctx: TaskContext) -> Sequence[Any]:
            return self._fetch(offset, limit, search, sort, desc)

        self._tasks.run(
            load,
            description="Loading",
            visible=False,
            on_done=lambda rows: self._append(generation, rows),
            on_error=lambda exc: self._failed(generation, exc),
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns) or self._columns[column].sort_key is None:
            return
        self.sort_key = str(self._columns[column].sort_key)
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    # -- what the app asks ----------------------------------------------------------------

    def set_search(self, text: str) -> None:
        if text.strip() != self.search:
            self.search = text.strip()
            self.reload()

    def reload(self) -> None:
        """Forget the loaded rows and fetch the first page again."""
        self.beginResetModel()
        self._generation += 1
        self._rows = []
        self._exhausted = False
        self._loading = False
        self.endResetModel()
        self.fetchMore()

    def sort_column(self) -> int:
        """The column whose sort key is in use (for the header's sort indicator)."""
        keys = [c.sort_key for c in self._columns]
        return keys.index(self.sort_key) if self.sort_key in keys else 0

    @property
    def loading(self) -> bool:
        return self._loading

    # -- results --------------------------------------------------------------------------

    def _append(self, generation: int, rows: Sequence[Any]) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return  # the view closed, or a reset happened while this page was loading
        if len(rows) < self._page_size:
            self._exhausted = True
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        # Only now: views react to the insert signals by asking for more, and a fetch
        # started before the rows are in would load this same page again.
        self._loading = False
        self.page_loaded.emit(len(self._rows))

    def _failed(self, generation: int, exc: BaseException) -> None:
        if shiboken6.isValid(self) and generation == self._generation:
            self._loading = False
            self._exhausted = True
            self.page_loaded.emit(len(self._rows))
            self._tasks.failed.emit("Loading", str(exc))


PLAYLIST_MIME = "application/x-infinite-player-playlist-rows"


class PlaylistModel(RowsTableModel):
    """The tracks of one playlist, in order; rows can be reordered by drag and drop.

    A drop reorders the rows here at once and hands the move to ``on_move(positions,
    destination)``, which persists it (in the background).
    """

    page_loaded = Signal(int)

    def __init__(
        self, on_move: Callable[[list[int], int], None] | None = None, parent: Any = None
    ) -> None:
        # The playlist's own order matters: no "Added" column to sort by.
        super().__init__(TRACK_COLUMNS[:-1], parent)
        self._on_move = on_move

    def set_tracks(self, tracks: Sequence[TrackRow]) -> None:
        self.beginResetModel()
        self._rows = list(tracks)
        self.endResetModel()
        self.page_loaded.emit(len(self._rows))

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return super().headerData(section, orientation, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsDropEnabled

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [PLAYLIST_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime = QMimeData()
        mime.setData(PLAYLIST_MIME, json.dumps(rows).encode())
        return mime

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return data.hasFormat(PLAYLIST_MIME) and action == Qt.DropAction.MoveAction

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        positions = json.loads(bytes(data.data(PLAYLIST_MIME).data()).decode())
        destination = row if row >= 0 else (parent.row() if parent.isValid() else len(self._rows))
        self.move_rows(positions, destination)
        # The move is done; returning False stops the view from also removing the
        # dragged rows (it would after a successful MoveAction).
        return False

    def move_rows(self, positions: Sequence[int], destination: int) -> None:
        """Move the rows at ``positions`` before ``destination`` (an index before the move)."""
        picked = sorted({p for p in positions if 0 <= p < len(self._rows)})
        target = max(0, min(destination, len(self._rows)))
        new_rows = reorder(self._rows, picked, target)
        if new_rows == self._rows:
            return
        self.beginResetModel()
        self._rows = new_rows
        self.endResetModel()
        if self._on_move is not None:
            self._on_move(list(picked), target)

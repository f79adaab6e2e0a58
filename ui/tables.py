"""Column widths that keep names readable at any window width.

The name column (a title, a track) gets the stretch and is elided in the middle, so both
ends of "Marble Dream (extended)" stay visible and the full text is in its tooltip. The
other columns are as wide as their content needs (measured with the font, not fixed
pixels), and when the table is too narrow for all of them, the least useful ones are
hidden first, before the name could shrink below :data:`MIN_NAME_CHARS` characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QHeaderView, QTableView

#: The narrowest a name column may get, in average character widths.
MIN_NAME_CHARS = 16
#: Widest text expected per column header (what it is measured against), and the order
#: in which columns give way when space runs out (first hidden first).
SAMPLES = {
    "Band": "Lazy Cassette Club",
    "Artist": "The Marble Orchestra",
    "Album": "Greatest Hits Vol. 2",
    "Match": "100%",
    "Length": "12:34",
    "Added": "Yesterday 23:59",
    "Played": "Yesterday 23:59",
    "Source": "listenbrainz",
}
GIVE_WAY = ("Added", "Source", "Album", "Played", "Length", "Match")


class TableFitter(QObject):
    """Keeps ``table``'s columns fitted as it resizes or gets a new model."""

    def __init__(self, table: QTableView, name_columns: Sequence[str] = ("Title", "Track")):
        super().__init__(table)
        self.table = table
        self.name_columns = tuple(name_columns)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        table.setWordWrap(False)
        table.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def headers(self) -> list[str]:
        model = self.table.model()
        if model is None:
            return []
        return [
            str(model.headerData(c, Qt.Orientation.Horizontal) or "")
            for c in range(model.columnCount())
        ]

    def name_column(self) -> int:
        headers = self.headers()
        for n, name in enumerate(headers):
            if name in self.name_columns:
                return n
        return 0

    def content_width(self, header: str) -> int:
        metrics = self.table.fontMetrics()
        sample = SAMPLES.get(header, header)
        head = self.table.horizontalHeader().fontMetrics().horizontalAdvance(header) + 28
        return max(head, metrics.horizontalAdvance(sample) + 20)

    def fit(self, *_args: Any) -> None:
        headers = self.headers()
        if not headers:
            return
        header = self.table.horizontalHeader()
        name = self.name_column()
        available = self.table.viewport().width()
        minimum_name = self.table.fontMetrics().averageCharWidth() * MIN_NAME_CHARS + 20
        widths = {n: self.content_width(h) for n, h in enumerate(headers) if n != name}
        hidden: set[int] = set()
        for give in GIVE_WAY:
            if sum(w for n, w in widths.items() if n not in hidden) + minimum_name <= available:
                break
            if give in headers:
                hidden.add(headers.index(give))
        for n in range(len(headers)):
            self.table.setColumnHidden(n, n in hidden)
            if n == name:
                header.setSectionResizeMode(n, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(n, QHeaderView.ResizeMode.Interactive)
                header.resizeSection(n, widths[n])
        header.setMinimumSectionSize(40)

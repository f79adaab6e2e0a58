"""Progress and cancel for an import, measured in bytes of the export read so far.

A ten-year history takes tens of seconds to import, so the app shows a bar and a cancel
button. Bytes are the one measure known before the first record is parsed (the zip's
directory gives every member's size), and reading and writing interleave batch by batch,
so bytes read track the whole import closely. A cancel is noticed at the next read of a
chunk or the next batch written, and raises :class:`ImportCancelled` inside the import's
transaction: the rollback leaves nothing behind.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, cast

from base.errors import UserFacingError

if TYPE_CHECKING:
    from player.imports.archive import Export, Member

#: Seconds between two progress reports (a Qt signal each; more would only load the GUI).
REPORT_EVERY_S = 0.1


class ImportCancelled(UserFacingError):
    """The listener cancelled the import; its transaction was rolled back."""

    def __init__(self) -> None:
        super().__init__("Import cancelled; nothing from this export was saved.")


class ImportProgress:
    """Counts bytes read, reports a fraction now and then, and raises when cancelled.

    ``report(fraction, text)`` may be called from the importing thread (the app's
    ``TaskContext.progress`` is safe there); ``cancel`` is any object with ``is_set()``,
    such as the task's ``threading.Event``.
    """

    def __init__(
        self,
        report: Callable[[float | None, str], None] | None = None,
        cancel: threading.Event | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._report = report
        self._cancel = cancel
        self._clock = clock
        self.total = 0
        self.done = 0
        self._last = float("-inf")

    def start(self, total_bytes: int) -> None:
        self.total = max(total_bytes, 0)
        self.done = 0
        self.report("Reading the export")

    def check(self) -> None:
        """Raise :class:`ImportCancelled` once cancel was asked for."""
        if self._cancel is not None and self._cancel.is_set():
            raise ImportCancelled()

    @property
    def fraction(self) -> float | None:
        return min(self.done / self.total, 1.0) if self.total else None

    def report(self, text: str) -> None:
        if self._report is not None:
            self._report(self.fraction, text)

    def advance(self, nbytes: int, name: str) -> None:
        self.check()
        self.done += nbytes
        now = self._clock()
        if now - self._last >= REPORT_EVERY_S:
            self._last = now
            self.report(f"Reading {name.rsplit('/', 1)[-1]}")

    def watch(self, export: Export) -> Export:
        """The same export whose members count their reads here."""
        from player.imports.archive import Export

        return Export(
            [self._counted(m) for m in export.members],
            [self._counted(m) for m in export.siblings],
        )

    def _counted(self, member: Member) -> Member:
        from player.imports.archive import Member

        def open_counted() -> IO[bytes]:
            raw = _CountingReader(member.open(), lambda n: self.advance(n, member.name))
            return cast(IO[bytes], io.BufferedReader(raw))

        return Member(member.name, open_counted, member.size)


class _CountingReader(io.RawIOBase):
    """A raw stream over another that tells ``counted`` how many bytes each read gave."""

    def __init__(self, inner: IO[bytes], counted: Callable[[int], None]) -> None:
        self._inner = inner
        self._counted = counted

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self._counted(size)
        return size

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()

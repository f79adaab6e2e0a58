"""Long work on a daemon thread, cancellable between its steps, for callers without Qt.

The CLI and the core's own jobs (re-embedding, adding a music folder) need the same few
things the app's ``ui/tasks.py`` gives the window: start, cancel, wait for the result,
and an error that reaches whoever waits instead of dying with the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, Self, TypeVar

log = logging.getLogger(__name__)

R = TypeVar("R")


class BackgroundJob(Generic[R]):
    """Runs ``work(should_stop)`` on a daemon thread; ``cancel()`` makes ``should_stop()``
    true, and ``work`` is expected to return early between its steps."""

    def __init__(self, work: Callable[[Callable[[], bool]], R], *, name: str) -> None:
        self._stop = threading.Event()
        self.report: R | None = None
        self.error: BaseException | None = None
        self._work = work
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self.report = self._work(self._stop.is_set)
        except BaseException as exc:  # reported to whoever waits, never lost in a thread
            log.exception("background job %s failed", self._thread.name)
            self.error = exc

    def start(self) -> Self:
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> R | None:
        """Block until done; re-raises the job's error."""
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        return self.report

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

"""The one helper for background work: run off the GUI thread, cancel, call back on it.

Everything slow — generation, embedding, database, import, sync — goes through
:meth:`TaskRunner.run`. The function runs on a ``QThreadPool`` thread and receives a
:class:`TaskContext` to report progress and to notice cancellation; its result (or its
exception) comes back to ``on_done``/``on_error`` on the GUI thread, because the
:class:`Task` handle lives there and Qt queues signals emitted from another thread.

Writes that must not race each other can ask for ``serial=True``: they share a
one-thread pool, so they run in submission order.

:class:`SyncTaskRunner` runs each task at once on the calling thread, for tests that
want to step through a flow without waiting on threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class TaskCancelled(Exception):
    """Raised inside a task by :meth:`TaskContext.check` once the task was cancelled."""


class TaskContext:
    """What a running task sees: a cancellation flag and a progress reporter."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self.cancel_event = task.cancel_event

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        """Stop here if the task was cancelled."""
        if self.cancel_event.is_set():
            raise TaskCancelled(self._task.description)

    def progress(self, fraction: float | None, text: str = "") -> None:
        """Report progress (0..1, or None when unknown); safe from any thread."""
        value = -1.0 if fraction is None else max(0.0, min(1.0, float(fraction)))
        self._task.progressed.emit(value, text)


class Task(QObject):
    """A handle on one piece of background work; lives on the GUI thread."""

    #: fraction (0..1, or -1 when unknown) and a short text.
    progressed = Signal(float, str)
    #: emitted once, on the GUI thread, after on_done/on_error ran.
    finished = Signal()
    _completed = Signal(object, object)

    def __init__(
        self,
        description: str,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.description = description
        self.cancel_event = threading.Event()
        self.done = False
        self.fraction = -1.0
        self.text = ""
        self.error: BaseException | None = None
        self._on_done = on_done
        self._on_error = on_error
        self._completed.connect(self._complete)
        self.progressed.connect(self._remember_progress)

    def cancel(self) -> None:
        """Ask the task to stop; it notices at its next :meth:`TaskContext.check`."""
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def _remember_progress(self, fraction: float, text: str) -> None:
        self.fraction = fraction
        if text:
            self.text = text

    def _complete(self, result: Any, error: BaseException | None) -> None:
        self.done = True
        self.error = error
        try:
            if error is None:
                if self._on_done is not None:
                    self._on_done(result)
            elif isinstance(error, TaskCancelled):
                log.debug("task %r cancelled", self.description)
            elif self._on_error is not None:
                self._on_error(error)
            else:
                log.error("task %r failed", self.description, exc_info=error)
        finally:
            self.finished.emit()


class _Runnable(QRunnable):
    def __init__(self, task: Task, func: Callable[[TaskContext], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._func = func

    def run(self) -> None:
        context = TaskContext(self._task)
        try:
            if context.cancelled:
                raise TaskCancelled(self._task.description)
            result = self._func(context)
        except BaseException as exc:
            self._task._completed.emit(None, exc)
        else:
            self._task._completed.emit(result, None)


class TaskRunner(QObject):
    """Starts tasks on thread pools and keeps the list the status area shows."""

    #: the set of running tasks changed (one started or finished).
    tasks_changed = Signal()
    #: a task failed with no on_error of its own: description, message.
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._serial_pool = QThreadPool(self)
        self._serial_pool.setMaxThreadCount(1)
        self._active: list[Task] = []

    @property
    def active(self) -> list[Task]:
        """Running tasks, oldest first."""
        return list(self._active)

    def run(
        self,
        func: Callable[[TaskContext], Any],
        *,
        description: str = "",
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        serial: bool = False,
        visible: bool = True,
    ) -> Task:
        """Run ``func(context)`` off the GUI thread; callbacks come back on it.

        ``visible`` tasks appear in the status area; quick look-ups pass False.
        """
        task = Task(description, on_done, on_error or self._report_failure(description), self)
        # A bound slot, not a lambda holding both: a runner <-> task reference cycle would
        # leave the runner to the cyclic garbage collector, which may run on any thread.
        task.finished.connect(self._forget_sender)
        if visible:
            self._active.append(task)
            self.tasks_changed.emit()
        self._start(_Runnable(task, func), serial)
        return task

    def _report_failure(self, description: str) -> Callable[[BaseException], None]:
        failed = self.failed  # the bound signal, not self: no reference cycle

        def report(error: BaseException) -> None:
            log.error("task %r failed", description, exc_info=error)
            failed.emit(description, str(error) or type(error).__name__)

        return report

    def _start(self, runnable: _Runnable, serial: bool) -> None:
        (self._serial_pool if serial else self._pool).start(runnable)

    def _forget_sender(self) -> None:
        task = self.sender()
        if isinstance(task, Task):
            self._forget(task)

    def _forget(self, task: Task) -> None:
        if task in self._active:
            self._active.remove(task)
            self.tasks_changed.emit()
        task.deleteLater()

    def cancel_all(self) -> None:
        for task in self._active:
            task.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait for the threads; True when all stopped in time."""
        self.cancel_all()
        ok = self._pool.waitForDone(timeout_ms)
        return self._serial_pool.waitForDone(timeout_ms) and ok


class SyncTaskRunner(TaskRunner):
    """Runs each task immediately on the calling thread (tests, scripted flows)."""

    def _start(self, runnable: _Runnable, serial: bool) -> None:
        runnable.run()

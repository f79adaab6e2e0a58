"""The background-work helper: off the GUI thread, cancellable, results back on it."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QApplication

from ui.tasks import SyncTaskRunner, TaskCancelled, TaskRunner


def test_work_runs_off_the_gui_thread_and_answers_on_it(qtbot):
    runner = TaskRunner(QApplication.instance())
    gui = threading.get_ident()
    seen: dict[str, int] = {}

    def work(ctx):
        seen["work"] = threading.get_ident()
        ctx.progress(0.5, "halfway")
        return 42

    results = []
    task = runner.run(
        work,
        description="Answer",
        on_done=lambda r: (results.append(r), seen.setdefault("done", threading.get_ident())),
    )
    assert runner.active == [task]
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert results == [42]
    assert seen["work"] != gui and seen["done"] == gui
    assert task.fraction == 0.5 and task.text == "halfway"
    assert runner.active == []
    runner.shutdown()


def test_cancel_stops_a_running_task_and_skips_its_callback(qtbot):
    runner = TaskRunner(QApplication.instance())
    started = threading.Event()

    def work(ctx):
        started.set()
        while True:
            ctx.check()
            ctx.cancel_event.wait(0.01)

    done = []
    task = runner.run(work, description="Endless", on_done=done.append)
    assert started.wait(5)
    with qtbot.waitSignal(task.finished, timeout=5000):
        task.cancel()
    assert done == [] and isinstance(task.error, TaskCancelled)
    runner.shutdown()


def test_errors_reach_on_error_or_the_failed_signal(qtbot):
    runner = SyncTaskRunner(QApplication.instance())

    def boom(_ctx):
        raise ValueError("the disk is full")

    errors = []
    runner.run(boom, on_error=errors.append)
    assert [str(e) for e in errors] == ["the disk is full"]
    with qtbot.waitSignal(runner.failed) as failed:
        runner.run(boom, description="Saving")
    assert failed.args == ["Saving", "the disk is full"]


def test_sync_runner_runs_in_order_at_once():
    runner = SyncTaskRunner(QApplication.instance())
    order = []
    for n in range(3):
        runner.run(lambda _c, n=n: n, on_done=order.append, serial=True)
    assert order == [0, 1, 2]
    assert runner.active == []  # nothing is left running


def test_qt_binding_does_not_leak_references_on_emit():
    """PySide6 6.12.0 drops a reference to ``True`` on every ``emit()`` from Python.

    The app emits playback positions many times a second, so with that build it
    aborts within minutes ("bool_dealloc: deallocating True or False"). Pin a build
    without the bug (pyproject excludes 6.12.0); this test catches a regression.
    """
    import sys

    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        changed = Signal(int)

    emitter = Emitter()
    emitter.changed.connect(lambda _value: None)
    before = sys.getrefcount(True)
    for n in range(1000):
        emitter.changed.emit(n)
    # other threads may hold a few references meanwhile; the bug loses one per emit
    assert sys.getrefcount(True) > before - 100

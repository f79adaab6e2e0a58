"""Run an engine in a child process, behind the ordinary :class:`Generator` interface.

Rendering music is seconds of Python and numpy per track. In the desktop app that work
shared one interpreter lock with the GUI thread and the audio feeder, and the GUI
stalled 100-200 ms whenever the radio rendered a drum kit. In a child process the
rendering runs on another core without touching this process's lock, a crash in an
engine (or a GPU driver) cannot take the player down, and torch is never imported here.

One child serves one request at a time. It is spawned (never forked: the parent has Qt
and audio threads) on first use or by :meth:`IsolatedGenerator.start`, nice'd below the
player so the GUI and audio win the CPU on small machines, and it exits when the pipe
closes. Chunks come back through the pipe as they are rendered; a full pipe blocks the
child, which is the back-pressure that keeps a long track from piling up in memory.
Cancelling (dropping the stream early) tells the child to stop between chunks.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from base.errors import UserFacingError
from player.generation.protocol import GenerationRequest, GenerationResult

log = logging.getLogger(__name__)

#: How much lower than the player the child runs (Unix ``nice``).
CHILD_NICENESS = 10
#: How long to wait for the child to stop before killing it.
STOP_TIMEOUT_S = 5.0


class EngineCrashed(UserFacingError):
    """The generation process died (it is restarted on the next request)."""


def _serve(conn: Connection, engine: str) -> None:
    """The child's main loop: build the engine once, then answer requests until EOF."""
    try:
        _answer(conn, engine)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        return  # the player went away (quit while this was still starting): nothing to do


def _answer(conn: Connection, engine: str) -> None:
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(CHILD_NICENESS)
    from player.generation.engines import get_generator

    try:
        generator = get_generator(engine)
    except Exception as exc:
        conn.send(("failed", _describe(exc)))
        return
    conn.send(("ready", generator.name))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind, request = message
        if kind == "stop":
            return
        if kind != "generate":
            continue  # a "cancel" that arrived after its stream had already ended
        try:
            _stream(conn, generator.generate(request))
        except (BrokenPipeError, ConnectionResetError, EOFError):
            raise
        except Exception as exc:
            conn.send(("error", _describe(exc)))


def _stream(conn: Connection, result: GenerationResult) -> None:
    conn.send(
        (
            "meta",
            {
                "engine": result.engine,
                "samplerate": result.samplerate,
                "bpm": result.bpm,
                "key": result.key,
                "genre": result.genre,
                "duration_seconds": result.duration_seconds,
                "sections": result.sections,
                "params": result.params,
            },
        )
    )
    for chunk in result:
        if conn.poll() and conn.recv()[0] == "cancel":
            conn.send(("cancelled", None))
            return
        conn.send(("chunk", np.ascontiguousarray(chunk, dtype=np.float32)))
    conn.send(("end", None))


def _describe(exc: BaseException) -> tuple[bool, str]:
    """What crosses the pipe: whether it is meant for the listener, and the words."""
    return isinstance(exc, UserFacingError), str(exc) or type(exc).__name__


def _raise(described: tuple[bool, str], engine: str) -> None:
    user_facing, text = described
    if user_facing:
        raise UserFacingError(text)
    raise RuntimeError(f"The {engine} engine failed: {text}")


class IsolatedGenerator:
    """A :class:`Generator` whose engine (``"auto"``, ``"procedural"``, ``"musicgen"``)
    runs in a child process; thread-safe, one generation at a time."""

    def __init__(self, engine: str = "auto") -> None:
        self.engine = engine
        self._lock = threading.Condition()
        self._process: Any = None
        self._conn: Connection | None = None
        self._name: str | None = None
        self._busy: _RemoteStream | None = None
        self._stale = False

    # -- lifetime ---------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the child now (it imports its engine in the background)."""
        with self._lock:
            self._spawn()

    def _spawn(self) -> Connection:
        if self._conn is not None and self._process.is_alive():
            return self._conn
        self._discard()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, self.engine), name="generation", daemon=True
        )
        process.start()
        child.close()
        self._process, self._conn, self._name = process, parent, None
        return parent

    def _discard(self, wait: bool = True) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.join(STOP_TIMEOUT_S if wait else 0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._process = self._conn = self._name = None
        self._busy = None
        self._lock.notify_all()  # threads waiting for the stream just dropped

    def close(self) -> None:
        """Stop the child (it also exits by itself when this process goes away)."""
        with self._lock:
            if self._busy is not None:
                self._busy.abandon()
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(("stop", None))
            # A child still importing its engine has nothing to finish: quitting the app
            # right after it opened should not wait for numpy and scipy to load.
            self._discard(wait=self._name is not None)

    def choose_again(self) -> None:
        """A model was installed or removed: the next track starts a child that chooses
        its engine afresh; the track being made now finishes on the current one."""
        with self._lock:
            self._stale = True

    @property
    def pid(self) -> int | None:
        return None if self._process is None else int(self._process.pid)

    # -- the Generator interface ------------------------------------------------------------
    @property
    def name(self) -> str:
        """The engine the child chose (waits for it to start)."""
        with self._lock:
            self._ready()
            assert self._name is not None
            return self._name

    def _ready(self) -> Connection:
        conn = self._spawn()
        if self._name is None:
            kind, payload = self._recv(conn)
            if kind == "failed":
                self._discard()
                _raise(payload, self.engine)
            self._name = str(payload)
        return conn

    def _recv(self, conn: Connection) -> tuple[str, Any]:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            code = self._process.exitcode if self._process is not None else None
            self._discard()
            raise EngineCrashed(
                f"The generation process stopped unexpectedly (exit code {code}); "
                "it will be restarted for the next track."
            ) from None
        kind, payload = message
        return kind, payload

    def generate(self, request: GenerationRequest) -> GenerationResult:
        request.validate()
        with self._lock:
            while self._busy is not None and self._busy.owner is not threading.current_thread():
                self._lock.wait()
            if self._busy is not None:  # this thread dropped its last stream unread
                self._busy.abandon()
            if self._stale:  # a model was installed or removed: let "auto" choose again
                self._stale = False
                self._discard()
            conn = self._ready()
            conn.send(("generate", request))
            kind, payload = self._recv(conn)
            if kind == "error":
                _raise(payload, self._name or self.engine)
            stream = _RemoteStream(self, conn)
            self._busy = stream
        return GenerationResult(chunks=stream.chunks, on_close=stream.abandon, **payload)

    def _finished(self, stream: _RemoteStream, crashed: bool = False) -> None:
        with self._lock:
            if self._busy is stream:
                self._busy = None
                if crashed:
                    self._discard()
            self._lock.notify_all()


class _RemoteStream:
    """The chunks of one generation as they arrive; whoever reads it owns the child."""

    def __init__(self, owner: IsolatedGenerator, conn: Connection) -> None:
        self.generator = owner
        self.conn = conn
        self.owner = threading.current_thread()
        self.done = False

    def chunks(self) -> Iterator[np.ndarray]:
        self.owner = threading.current_thread()
        try:
            while True:
                kind, payload = self._next()
                if kind == "chunk":
                    yield payload
                elif kind == "end":
                    self._close()
                    return
                elif kind == "error":
                    self._close()
                    _raise(payload, self.generator._name or self.generator.engine)
        finally:
            if not self.done:  # the reader stopped early (cancelled, or failed itself)
                self.abandon()

    def _next(self) -> tuple[str, Any]:
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            self.done = True
            self.generator._finished(self, crashed=True)
            raise EngineCrashed(
                "The generation process stopped unexpectedly in the middle of a track; "
                "it will be restarted for the next one."
            ) from None
        kind, payload = message
        return kind, payload

    def abandon(self) -> None:
        """Tell the child to stop and read what it already sent, up to its answer."""
        if self.done:
            return
        try:
            self.conn.send(("cancel", None))
            while self.conn.recv()[0] not in ("cancelled", "end", "error"):
                pass
        except (EOFError, OSError):
            self.done = True
            self.generator._finished(self, crashed=True)
            return
        self._close()

    def _close(self) -> None:
        self.done = True
        self.generator._finished(self)

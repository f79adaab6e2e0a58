"""Run an engine in a child process, behind the ordinary :class:`Generator` interface.

Rendering music is seconds of Python and numpy per track. In the desktop app that work
shared one interpreter lock with the GUI thread and the audio feeder, and the GUI
stalled 100-200 ms whenever the radio rendered a drum kit. In a child process the
rendering runs on another core without touching this process's lock, a crash in an
engine (or a GPU driver) cannot take the player down, and torch is never imported here.

One child serves one request at a time. It is spawned (never forked: the parent has Qt
and audio threads) on first use or by :meth:`IsolatedGenerator.start`, and it exits
when the pipe closes. It renders a tiny warm-up track before it says it is ready (the
first render of a process pays for lazy imports and caches), so the first listener's
track does not; then it nices itself below the player, so the GUI and audio win the
CPU on small machines while it renders.

**One thread reads the pipe** (``generation-pipe``, one per child) and routes each
message to whoever waits for it: the start-up handshake, or the stream of the request
in progress, which buffers a few chunks ahead (more blocks the reader, then the child
on its full pipe: the back-pressure that keeps a long track from piling up in memory).
Nobody else ever calls ``recv``, so closing or cancelling from any thread at any moment
cannot tear a message in two or wait on a render: cancelling tells the child to stop
between chunks and returns; closing asks the child to stop and kills it if it has not
within :data:`STOP_GRACE_S`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from base.errors import UserFacingError
from player.generation.protocol import GenerationRequest, GenerationResult

log = logging.getLogger(__name__)

#: How much lower than the player the child runs (Unix ``nice``).
CHILD_NICENESS = 10
#: How long a closing child may take to stop by itself before it is killed.
STOP_GRACE_S = 0.25
#: Chunks a stream holds ahead of its reader before the pipe is left to fill.
CHUNKS_AHEAD = 4
#: The warm-up render the child does before saying it is ready.
WARM_UP = GenerationRequest(genres=["house"], seed=1, duration_seconds=2.0)
#: Messages that end a request: after one of these the child is free again.
_FINAL = ("end", "error", "cancelled", "gone", "closed", "described")
#: How often a thread waiting for a description checks whether it was cancelled.
_CANCEL_POLL_S = 0.05


class EngineCrashed(UserFacingError):
    """The generation process died (it is restarted on the next request)."""


class EngineClosed(UserFacingError):
    """The generator was closed while a track was being made."""


def _serve(conn: Connection, engine: str, warm: bool = True) -> None:
    """The child's main loop: build the engine once, then answer requests until EOF."""
    try:
        _answer(conn, engine, warm)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        return  # the player went away (quit while this was still starting): nothing to do


def _answer(conn: Connection, engine: str, warm: bool) -> None:
    if not warm:  # the start-up before issue 17's radio-start work: nice'd at once
        _nice()
    from player.generation.engines import get_generator

    try:
        generator = get_generator(engine)
    except Exception as exc:
        conn.send(("failed", _describe(exc)))
        return
    if warm:
        _warm_up(generator)
        # Imports and warm-up ran at the player's priority: they happen while the app
        # starts, before any audio plays, and a nice'd start-up on a busy machine made
        # the first "Start my radio" wait seconds for them. Rendering is nice'd.
        _nice()
    conn.send(("ready", generator.name))
    held: _Held | None = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind, request = message
        if kind == "stop":
            return
        if kind == "prerender":
            if held is not None:
                held.close()
            held = _Held.render(generator, request)
            continue  # nobody waits for an answer
        if kind not in ("generate", "describe"):
            continue  # a "cancel" that arrived after its stream had already ended
        ready = held if kind == "generate" and _same(held, request) else None
        if held is not None and held is not ready:
            held.close()  # another request: what was rendered ahead is not wanted
        held = None
        try:
            if ready is not None:
                conn.send(("prerendered", None))
                ended = _stream(conn, ready.result, ready.chunks())
            elif kind == "generate":
                ended = _stream(conn, generator.generate(request))
            else:
                ended = _describe_here(conn, generator, request)
            if ended == "stop":
                return
        except (BrokenPipeError, ConnectionResetError, EOFError):
            raise
        except Exception as exc:
            conn.send(("error", _describe(exc)))


def _nice() -> None:
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(CHILD_NICENESS)


def _warm_up(generator: Any) -> None:
    """Render the first chunk of a short track: the lazy imports, kits and caches of a
    first render are paid here, in the background, not by the first listener."""
    try:
        for _chunk in generator.generate(WARM_UP):
            break
    except Exception:
        log.exception("the engine's warm-up render failed")


def _same(held: _Held | None, request: Any) -> bool:
    if held is None:
        return False
    try:
        return bool(held.request == request)
    except (TypeError, ValueError):  # a source track's audio (arrays) does not compare
        return False


class _Held:
    """A track whose opening was rendered ahead (``prerender``): the request, its result
    and its chunk stream with the first chunk already taken from it. Answering the same
    request from it sends the very chunks a fresh render would (one stream of one
    renderer, started earlier)."""

    def __init__(
        self, request: GenerationRequest, result: GenerationResult, it: Iterator[np.ndarray]
    ) -> None:
        self.request = request
        self.result = result
        self._it = it
        self._first = next(it, None)

    @classmethod
    def render(cls, generator: Any, request: GenerationRequest) -> _Held | None:
        try:
            request.validate()
            result = generator.generate(request)
            return cls(request, result, iter(result))
        except Exception:
            log.exception("rendering a track's opening ahead failed")
            return None

    def chunks(self) -> Iterator[np.ndarray]:
        if self._first is not None:
            yield self._first
        yield from self._it

    def close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()
        self.result.close()


def _stream(
    conn: Connection, result: GenerationResult, chunks: Iterator[np.ndarray] | None = None
) -> str:
    """Send ``result`` chunk by chunk (``chunks``: its stream, already started); returns
    how it ended ("end", "cancel", "stop")."""
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
    for chunk in result if chunks is None else chunks:
        if conn.poll():
            kind = conn.recv()[0]
            if kind in ("cancel", "stop"):
                conn.send(("cancelled", None))
                return str(kind)
        conn.send(("chunk", np.ascontiguousarray(chunk, dtype=np.float32)))
    conn.send(("end", None))
    return "end"


def _describe_here(conn: Connection, generator: Any, payload: Any) -> str:
    """Answer a preview's description request in this process: the radio's auditions render
    a candidate's opening *and* describe it here, so the player's process does neither
    (the description is about 140 ms of numpy per 8 s preview, which on the player's
    interpreter lock competed with the window and the audio feeder). The very code the
    headless radio runs in-process (:class:`player.taste.sound.Auditioner`), so a
    description is the same either way. Returns how it ended ("described", "cancel",
    "stop")."""
    from player.taste.sound import Auditioner

    heard: list[str] = []

    def cancelled() -> bool:
        if not heard and conn.poll():
            heard.append(str(conn.recv()[0]))
        return bool(heard) and heard[0] in ("cancel", "stop")

    request, seconds = payload
    preview = Auditioner(seconds, generator=generator).preview(request, cancelled)
    sound = None if preview is None else preview.sound
    if sound is None or cancelled():
        conn.send(("cancelled", None))
        return heard[0] if heard else "cancel"
    conn.send(("described", np.asarray(sound, dtype=np.float64)))
    return "described"


def _describe(exc: BaseException) -> tuple[bool, str]:
    """What crosses the pipe: whether it is meant for the listener, and the words."""
    return isinstance(exc, UserFacingError), str(exc) or type(exc).__name__


def _raise(described: tuple[bool, str], engine: str) -> None:
    user_facing, text = described
    if user_facing:
        raise UserFacingError(text)
    raise RuntimeError(f"The {engine} engine failed: {text}")


class _Child:
    """One engine process, its pipe and the one thread that reads the pipe.

    Everything the reader learns is written under the generator's condition ``lock``,
    which it notifies; waiting for an answer is waiting on that condition.
    """

    def __init__(self, engine: str, warm: bool, lock: threading.Condition) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self.process: Any = context.Process(
            target=_serve, args=(child, engine, warm), name="generation", daemon=True
        )
        self.process.start()
        child.close()
        self.conn = parent
        self.lock = lock
        self.name: str | None = None
        self.failure: tuple[bool, str] | None = None
        self.gone = False  # the pipe reached its end: the process exited or was killed
        self.retired = False
        self.stream: _RemoteStream | None = None  # the request whose answers come now
        self._send_lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name="generation-pipe", daemon=True)
        self.reader.start()

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def usable(self) -> bool:
        return not self.gone and not self.retired and self.process.is_alive()

    def send(self, message: tuple[str, Any]) -> bool:
        """Write to the child; False when it is gone (never raises, never waits long:
        the child reads its commands between chunks and they are a few bytes)."""
        with self._send_lock:
            try:
                self.conn.send(message)
                return True
            except (OSError, ValueError):
                return False

    def _read(self) -> None:
        while True:
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError, ValueError):
                break
            with self.lock:
                if kind == "ready":
                    self.name = str(payload)
                elif kind == "failed":
                    self.failure = payload
                elif self.stream is not None:
                    self.stream.deliver(kind, payload)
                self.lock.notify_all()
        with self._send_lock:
            self.conn.close()
        with self.lock:
            self.gone = True
            if self.stream is not None:
                self.stream.deliver("gone", None)
            self.lock.notify_all()

    def retire(self, grace: float = STOP_GRACE_S, wait_reader: bool = True) -> None:
        """Ask the child to stop, kill it after ``grace`` seconds; call without the lock
        when ``wait_reader`` (the reader needs the lock to finish)."""
        self.retired = True
        self.send(("stop", None))
        self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(STOP_GRACE_S)
        if wait_reader:
            self.reader.join(STOP_GRACE_S)


class IsolatedGenerator:
    """A :class:`Generator` whose engine (``"auto"``, ``"procedural"``, ``"musicgen"``)
    runs in a child process; thread-safe, one generation at a time.

    ``warm``: the child imports its engine and renders a tiny track at the player's
    priority before it reports ready and nices itself (see the module); ``False``: it
    nices itself at once and renders nothing ahead (the path before, for benchmarks).
    """

    def __init__(self, engine: str = "auto", warm: bool = True) -> None:
        self.engine = engine
        self.warm = warm
        self._lock = threading.Condition()
        self._child: _Child | None = None
        self._busy: _RemoteStream | None = None
        self._stale = False
        #: Requests answered from an opening rendered ahead (:meth:`prerender`).
        self.prerendered = 0

    # -- lifetime ---------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the child now (it imports its engine and warms up in the background)."""
        with self._lock:
            self._spawn()

    def _spawn(self) -> _Child:
        child = self._child
        if child is not None and child.usable():
            return child
        if child is not None:
            self._child = None
            child.retire(grace=0.0, wait_reader=False)
        child = _Child(self.engine, self.warm, self._lock)
        self._child = child
        return child

    def close(self) -> None:
        """Stop the child (it also exits by itself when this process goes away).

        Returns within about :data:`STOP_GRACE_S` whatever the child is doing (importing,
        warming up, rendering): a reader of the track in progress gets
        :class:`EngineClosed`."""
        with self._lock:
            child, self._child = self._child, None
            if child is not None:
                child.retired = True  # before a request waiting for it wakes (retire() is unlocked)
            busy, self._busy = self._busy, None
            if busy is not None:
                busy.deliver("closed", None)
            self._lock.notify_all()
        if child is not None:
            child.retire()

    def ready(self, timeout: float | None = None) -> bool:
        """Wait until the child has started and warmed up (spawning it if needed);
        False on timeout. Raises if the engine cannot start."""
        with self._lock:
            return self._ready(timeout) is not None

    def choose_again(self) -> None:
        """A model was installed or removed: the next track starts a child that chooses
        its engine afresh; the track being made now finishes on the current one."""
        with self._lock:
            self._stale = True

    @property
    def pid(self) -> int | None:
        child = self._child
        return None if child is None else child.pid

    # -- the Generator interface ------------------------------------------------------------
    @property
    def name(self) -> str:
        """The engine the child chose (waits for it to start)."""
        with self._lock:
            child = self._ready()
            assert child is not None and child.name is not None
            return child.name

    def _ready(self, timeout: float | None = None) -> _Child | None:
        """The started child (lock held); None if ``timeout`` passed first."""
        child = self._spawn()
        ok = self._lock.wait_for(
            lambda: (
                child.name is not None or child.failure is not None or child.gone or child.retired
            ),
            timeout,
        )
        if not ok:
            return None
        # Closed while this request waited: even a child that has just finished warming up
        # is on its way out, and a request sent to it would read as a crash.
        if child.retired:
            if self._child is child:
                self._child = None
            raise EngineClosed("The generation engine was shut down while it was starting.")
        if child.name is not None:
            return child
        if self._child is child:
            self._child = None
        if child.failure is not None:
            _raise(child.failure, self.engine)
        code = child.process.exitcode
        raise EngineCrashed(
            f"The generation process stopped unexpectedly (exit code {code}); "
            "it will be restarted for the next track."
        )

    def generate(self, request: GenerationRequest) -> GenerationResult:
        request.validate()
        with self._lock:
            stream = self._send(("generate", request))
            kind, payload = stream.take()
            if kind == "prerendered":  # answered from the opening rendered ahead
                self.prerendered += 1
                kind, payload = stream.take()
            if kind == "error":
                _raise(payload, stream.child.name or self.engine)
            if kind != "meta":
                stream.raise_for(kind)
        return GenerationResult(chunks=stream.chunks, on_close=stream.abandon, **payload)

    def prerender(self, request: GenerationRequest) -> bool:
        """Let the child render the opening of ``request`` now, ahead of asking for it:
        the next request, if it is the same, is answered from that render at once (its
        metadata and first chunk are ready), with the same audio; any other request drops
        it. Returns at once, without waiting for the child; False (and nothing sent)
        while the child is busy with a request (a message then would be read as part of
        that request's conversation)."""
        request.validate()
        with self._lock:
            if self._busy is not None or self._stale:
                return False
            return self._spawn().send(("prerender", request))

    def describe_opening(
        self,
        request: GenerationRequest,
        seconds: float,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> np.ndarray | None:
        """The child renders the opening ``seconds`` of ``request`` and describes it
        (:func:`player.taste.sound.describe`); only the description crosses the pipe. None
        when ``cancelled()`` turned true first (the child stops between chunks)."""
        request.validate()
        return self._ask(("describe", (request, float(seconds))), cancelled)

    def _ask(
        self, message: tuple[str, Any], cancelled: Callable[[], bool] = lambda: False
    ) -> np.ndarray | None:
        """Send a description request and wait for its one answer, checking ``cancelled``
        meanwhile; raises what the child raised."""
        with self._lock:
            stream = self._send(message)
            while not stream.items and not cancelled():
                self._lock.wait(_CANCEL_POLL_S)
            item = stream.take() if stream.items else None
        if item is None:
            stream.abandon()  # the child stops between chunks; the next request waits for it
            return None
        kind, payload = item
        if kind == "described":
            return np.asarray(payload)
        if kind == "cancelled":
            return None
        if kind == "error":
            _raise(payload, stream.child.name or self.engine)
        stream.raise_for(kind)
        return None  # unreachable: raise_for raises

    def _send(self, message: tuple[str, Any]) -> _RemoteStream:
        """Wait for the child to be free (lock held), make ``message`` its request in
        progress and send it; the answers arrive on the returned stream."""
        me = threading.current_thread()
        while self._busy is not None:
            if self._busy.owner is me:  # this thread dropped its last stream unread
                self._busy.abandon()
            self._lock.wait()
        if self._stale:  # a model was installed or removed: let "auto" choose again
            self._stale = False
            if self._child is not None:
                self._child.retire(grace=0.0, wait_reader=False)
                self._child = None
        child = self._ready()
        assert child is not None
        stream = _RemoteStream(self, child)
        child.stream = stream
        self._busy = stream
        if not child.send(message):
            stream.deliver("gone", None)
        return stream

    def _finished(self, stream: _RemoteStream) -> None:
        """The child sent ``stream``'s last message: it is free (lock held)."""
        if self._busy is stream:
            self._busy = None
        self._lock.notify_all()


class _RemoteStream:
    """The answers to one request as the pipe's reader delivers them.

    ``deliver`` runs on the reader (lock held); ``take``/``chunks`` on whoever reads the
    track; ``abandon`` on anyone. None of them touches the pipe's receiving end."""

    def __init__(self, owner: IsolatedGenerator, child: _Child) -> None:
        self.generator = owner
        self.child = child
        self.lock = owner._lock
        self.owner = threading.current_thread()
        self.items: deque[tuple[str, Any]] = deque()
        self.final = False  # the child's last message for this request arrived
        self.abandoned = False

    def deliver(self, kind: str, payload: Any) -> None:
        if self.final:
            return
        if kind in _FINAL:
            self.final = True
            self.generator._finished(self)
        if self.abandoned:
            return  # dropped unread: what is left of it goes nowhere
        self.items.append((kind, payload))
        self.lock.notify_all()
        while (
            kind == "chunk"
            and len(self.items) > CHUNKS_AHEAD
            and not (self.abandoned or self.child.retired or self.final)
        ):
            self.lock.wait()  # back-pressure: the child blocks on its full pipe meanwhile

    def take(self) -> tuple[str, Any]:
        """The next answer (lock held), waiting for it."""
        self.lock.wait_for(lambda: bool(self.items))
        item = self.items.popleft()
        self.lock.notify_all()
        return item

    def raise_for(self, kind: str) -> None:
        if kind == "closed":
            raise EngineClosed("The generation engine was shut down while making this track.")
        raise EngineCrashed(
            "The generation process stopped unexpectedly in the middle of a track; "
            "it will be restarted for the next one."
        )

    def chunks(self) -> Iterator[np.ndarray]:
        self.owner = threading.current_thread()
        finished = False
        try:
            while True:
                with self.lock:
                    kind, payload = self.take()
                if kind == "chunk":
                    yield payload
                    continue
                finished = True
                if kind == "end":
                    return
                if kind == "error":
                    _raise(payload, self.child.name or self.generator.engine)
                self.raise_for(kind)
        finally:
            if not finished:  # the reader stopped early (cancelled, or failed itself)
                self.abandon()

    def abandon(self) -> None:
        """Drop what is left: tell the child to stop between chunks, and return."""
        with self.lock:
            if self.abandoned:
                return
            self.abandoned = True
            self.items.clear()
            self.lock.notify_all()
            if self.final:
                return
        if not self.child.send(("cancel", None)):
            with self.lock:
                self.deliver("gone", None)

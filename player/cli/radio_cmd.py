"""`infinite-player radio`: the radio without a window, for scripts and simulated listeners.

The protocol is lock-step JSON lines, so that whoever listens (a person with a terminal, a
benchmark's simulated listener) is heard before the next track is chosen:

* out, one line per track as it becomes ready:
  ``{"track_id", "path", "genre", "request", "match", "explanation", "plan_ms",
  "plan_cpu_ms", "feedback_cpu_ms", "previews", "preview_ms"}`` (``request`` holds every
  generation parameter of the made track; ``plan_ms`` is the model's own time, wall clock,
  and ``plan_cpu_ms`` its CPU time; ``feedback_cpu_ms`` what learning from the last
  feedback cost; ``previews`` how many candidate openings were rendered and heard to
  choose it and ``preview_ms`` how long that took);
* in, one line of feedback per track: ``{"like": ID}``, ``{"skip": ID, "at": SECONDS}``,
  ``{"played": ID}`` or ``{"replay": ID}``;
* track k+1 is planned and printed only after the feedback on track k was read; the
  command exits after ``--tracks`` feedback lines or at the end of input. A bad line gets
  one line on stderr and the session goes on.

No display and no sound device are needed. The daily quota applies: on a database the
listener owns (the embedded one, or a server on this machine)
``INFINITE_PLAYER_DAILY_LIMIT`` sets it (0 = unlimited); a shared database keeps the
server's rule.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import uuid
from typing import IO, TYPE_CHECKING, Any

from base.errors import UserFacingError

if TYPE_CHECKING:
    from db.database import Database
    from player.radio import RadioSeed, RadioService

LIMIT_ENV = "INFINITE_PLAYER_DAILY_LIMIT"
UNLIMITED = 2**31 - 1
FEEDBACK = ("like", "skip", "played", "replay")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "radio",
        help="an endless radio as JSON lines: tracks out, likes and skips in",
        description="Plays a radio station headless. Prints one JSON line per track "
        "(track_id, path, genre, request, match) and reads one feedback line per track "
        'on stdin: {"like": ID}, {"skip": ID, "at": SECONDS}, {"played": ID}. The next '
        "track is chosen only after the feedback on the current one.",
    )
    p.add_argument("--user", required=True, metavar="EMAIL")
    p.add_argument(
        "--from",
        dest="station",
        default="taste",
        metavar="SEED",
        help="taste (default), genre:NAME, vibe:NAME, band:ID or track:ID",
    )
    p.add_argument("--tracks", type=int, default=10, metavar="N", help="feedback lines to read")
    p.add_argument("--seconds", type=float, default=30.0, metavar="S", help="track length")
    p.add_argument("--json", action="store_true", help="JSON lines (the only format so far)")
    # For benchmarks: the old planner, a fixed random seed, no taste-vector scoring.
    p.add_argument(
        "--planner", default="listener", choices=("listener", "legacy"), help=argparse.SUPPRESS
    )
    p.add_argument("--rng-seed", type=int, help=argparse.SUPPRESS)
    p.add_argument("--no-score", action="store_true", help=argparse.SUPPRESS)
    # Candidates auditioned per track (0: choose on the request model alone).
    p.add_argument("--auditions", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=_radio)


def parse_station(text: str) -> Any:
    """``taste``, ``genre:house``, ``vibe:dark``, ``band:UUID`` or ``track:UUID``."""
    from player.radio import RadioSeed

    kind, _, value = text.partition(":")
    kind = kind.strip().lower()
    value = value.strip()
    if kind == "taste" and not value:
        return RadioSeed("taste")
    if kind == "genre" and value:
        return RadioSeed("genre", genre=value)
    if kind == "vibe" and value:
        return RadioSeed("vibe", vibe=value)
    if kind in ("band", "track") and value:
        try:
            ident = uuid.UUID(value)
        except ValueError:
            raise UserFacingError(f"--from {text!r}: {value!r} is not a {kind} id.") from None
        if kind == "band":
            return RadioSeed("band", band_id=ident)
        return RadioSeed("track", track_id=ident)
    raise UserFacingError(
        f"--from {text!r} is not one of taste, genre:NAME, vibe:NAME, band:ID, track:ID."
    )


def daily_limit(database: Database, settings_limit: int) -> int:
    """The quota for this session: the environment's on a database the listener owns."""
    raw = os.environ.get(LIMIT_ENV)
    if raw is None or not owns(database):
        return settings_limit
    try:
        value = int(raw)
    except ValueError:
        raise UserFacingError(f"{LIMIT_ENV}={raw!r} is not a whole number.") from None
    if value < 0:
        raise UserFacingError(f"{LIMIT_ENV} must be 0 (unlimited) or more, not {value}.")
    return UNLIMITED if value == 0 else value


def owns(database: Database) -> bool:
    """The embedded server, or a PostgreSQL on this machine: a database nobody else shares."""
    if database.is_embedded:
        return True
    host = database.url.host
    return host in (None, "", "localhost", "127.0.0.1", "::1") or str(host).startswith("/")


def _radio(args: argparse.Namespace) -> int:
    if args.tracks < 1:
        raise UserFacingError(f"--tracks must be 1 or more, not {args.tracks}.")
    seed = parse_station(args.station)
    from db.database import Database
    from player.accounts import find_user
    from player.generation.service import GenerationService
    from player.radio import RadioService
    from player.settings import Settings

    database = Database.open_default()
    try:
        user_id = find_user(database, args.user)
        if user_id is None:
            raise UserFacingError(f"no profile with email {args.user!r}; open the app once")
        settings = Settings.load()
        service = GenerationService(
            database, daily_limit=daily_limit(database, settings.daily_limit)
        )
        radio = RadioService(
            database,
            user_id,
            service,
            ahead=1,
            track_seconds=args.seconds,
            preferences=_preferences(database, user_id),
            rng_seed=args.rng_seed,
            score=not args.no_score,
            planner=args.planner,
            auditions=args.auditions,
            lockstep=True,
        )
        try:
            return Session(radio, sys.stdin, sys.stdout, sys.stderr).run(seed, args.tracks)
        finally:
            radio.close()
            service.close()
    finally:
        database.close()


def _preferences(database: Database, user_id: uuid.UUID) -> dict[str, Any]:
    from sqlalchemy import select

    from db.models import User

    with database.user_session(user_id) as s:
        profile = s.scalar(select(User.preferences_profile).where(User.id == user_id))
    return dict(profile or {})


class Session:
    """One lock-step session over text streams (the command's stdin/stdout/stderr)."""

    def __init__(
        self, radio: RadioService, stdin: IO[str], stdout: IO[str], stderr: IO[str]
    ) -> None:
        self.radio = radio
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.events: queue.Queue[Any] = queue.Queue()
        self.known: set[uuid.UUID] = set()
        self.line_no = 0

    def run(self, seed: RadioSeed, tracks: int) -> int:
        self.radio.subscribe(self.events.put)
        self.radio.start(seed)
        heard = 0
        current: uuid.UUID | None = None
        while heard < tracks:
            if current is None:
                item, code = self._next_ready()
                if item is None:
                    return code
                current = item.track_id
                self.known.add(current)
                self.radio.track_started(current)
                self._print(item)
            line = self.stdin.readline()
            if not line:
                return 0  # end of input: the listener left
            self.line_no += 1
            parsed = self._parse(line)
            if parsed is None:
                continue
            kind, track_id, at = parsed
            if kind == "skip":
                self.radio.skip(track_id, at)
            else:
                getattr(self.radio, kind)(track_id)
            heard += 1
            if track_id == current and heard < tracks:
                current = None
                self.radio.advance()
        return 0

    def _next_ready(self) -> tuple[Any, int]:
        while True:
            event = self.events.get()
            if event.kind == "ready" and event.item is not None:
                return event.item, 0
            if event.kind == "quota":
                self._error(event.message)
                return None, 3
            if event.kind == "stalled":
                self._error(event.message)
                return None, 1
            if event.kind == "failed":
                self._error(f"a track failed: {event.message}")

    def _print(self, item: Any) -> None:
        from base.paths import path_from_url

        url, match, explanation = self._row(item.track_id)
        path = path_from_url(url) if url else None
        line = {
            "track_id": str(item.track_id),
            "path": str(path.resolve()) if path else None,
            "genre": item.genre,
            "request": item.params,
            "match": match,
            "explanation": explanation,
            "plan_ms": round(item.plan_seconds * 1000, 3),
            "plan_cpu_ms": round(item.plan_cpu_seconds * 1000, 3),
            "feedback_cpu_ms": round(self.radio.planner.feedback_cpu_seconds * 1000, 3),
            "previews": item.previews,
            "preview_ms": round(item.preview_seconds * 1000, 1),
        }
        self.stdout.write(json.dumps(line) + "\n")
        self.stdout.flush()

    def _row(self, track_id: uuid.UUID) -> tuple[str | None, int | None, str | None]:
        from sqlalchemy import select

        from db.models import GeneratedTrack

        with self.radio.database.user_session(self.radio.user_id) as s:
            row = s.execute(
                select(
                    GeneratedTrack.url, GeneratedTrack.match_percentage, GeneratedTrack.explanation
                ).where(GeneratedTrack.id == track_id)
            ).one()
        return row.url, row.match_percentage, row.explanation

    def _parse(self, line: str) -> tuple[str, uuid.UUID, float | None] | None:
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            self._bad(f"not JSON ({exc.msg})")
            return None
        if not isinstance(data, dict):
            self._bad('expected an object like {"like": ID}')
            return None
        kinds = [k for k in FEEDBACK if k in data]
        if len(kinds) != 1:
            self._bad(f"expected exactly one of {', '.join(FEEDBACK)}")
            return None
        kind = kinds[0]
        try:
            track_id = uuid.UUID(str(data[kind]))
        except ValueError:
            self._bad(f"{data[kind]!r} is not a track id")
            return None
        if track_id not in self.known:
            self._bad(f"unknown track id {track_id}: it was not played in this session")
            return None
        at = data.get("at")
        if kind == "skip" and at is not None:
            if isinstance(at, bool) or not isinstance(at, int | float) or at < 0:
                self._bad(f'"at" must be the seconds heard before the skip, not {at!r}')
                return None
            at = float(at)
        return kind, track_id, at if kind == "skip" else None

    def _bad(self, why: str) -> None:
        self._error(f"line {self.line_no}: {why}; ignored")

    def _error(self, text: str) -> None:
        self.stderr.write(f"infinite-player radio: {text}\n")
        self.stderr.flush()

"""The generation service against a real (embedded) Postgres: quota, rows, files."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import text

from base.errors import UserFacingError
from base.paths import audio_dir, path_from_url
from player.generation import GenerationRequest, SourceTrack
from player.generation.procedural import ProceduralGenerator
from player.generation.protocol import GenerationResult
from player.generation.service import (
    GenerationCancelled,
    GenerationService,
    QuotaExceeded,
)
from tests.pgtools import HoldsTheUsersRow

SHORT = {"genres": ["house"], "duration_seconds": 2.0, "seed": 1}


def _row(database: Any, track_id: uuid.UUID) -> Any:
    with database.service_session() as s:
        return s.execute(
            text(
                "select status, url, duration, mode, source_id, band_id, error, generation_params "
                "from public.generated_tracks where id = :t"
            ),
            {"t": track_id},
        ).one()


def _utc_today() -> Any:
    return datetime.now(UTC).date()


def test_generate_writes_the_file_and_completes_the_row(database: Any, make_user: Any) -> None:
    user = make_user()
    service = GenerationService(database, ProceduralGenerator(), daily_limit=3)
    got: list[tuple[int, int]] = []
    track_id = service.generate(
        user, GenerationRequest(**SHORT), on_chunk=lambda c, sr: got.append((len(c), sr))
    )
    row = _row(database, track_id)
    assert row.status == "completed" and row.error is None
    assert row.mode == "new" and row.duration == 2
    assert row.generation_params["engine"] == "procedural" and row.generation_params["seed"] == 1
    path = path_from_url(row.url)
    assert path is not None and path.is_file() and path.suffix == ".mp3"
    info = sf.info(str(path))
    assert info.format == "MP3" and info.channels == 2
    assert sum(n for n, _ in got) >= 0.9 * 2 * info.samplerate
    assert all(sr == 44100 for _, sr in got)
    assert service.remaining_today(user) == 2


def test_twenty_concurrent_requests_against_a_quota_of_five_make_exactly_five(
    database: Any, make_user: Any
) -> None:
    user = make_user()
    service = GenerationService(database, ProceduralGenerator(), daily_limit=5)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        barrier.wait()
        try:
            service.generate(user, GenerationRequest(genres=["pop"], duration_seconds=1.0, seed=i))
            result = "ok"
        except QuotaExceeded:
            result = "quota"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["ok"] * 5 + ["quota"] * 15
    with database.service_session() as s:
        completed = s.execute(
            text(
                "select count(*) from public.generated_tracks "
                "where user_id = :u and status = 'completed'"
            ),
            {"u": user},
        ).scalar()
        count = s.execute(
            text("select daily_count from public.users where id = :u"), {"u": user}
        ).scalar()
    assert completed == 5 and count == 5
    assert service.remaining_today(user) == 0


def test_quota_message_is_friendly_and_premium_is_unlimited(database: Any, make_user: Any) -> None:
    free, premium = make_user(), make_user(premium=True)
    service = GenerationService(database, ProceduralGenerator(), daily_limit=1)
    service.generate(free, GenerationRequest(**SHORT))
    with pytest.raises(QuotaExceeded, match="midnight UTC"):
        service.generate(free, GenerationRequest(**SHORT))
    for _ in range(2):
        service.generate(premium, GenerationRequest(**SHORT))
    assert service.remaining_today(premium) is None


def test_the_count_of_an_earlier_day_does_not_count(database: Any, make_user: Any) -> None:
    """The app was closed at midnight: yesterday's full counter must not block today."""
    user = make_user(daily_count=5, daily_count_date=_utc_today() - timedelta(days=1))
    service = GenerationService(database, ProceduralGenerator(), daily_limit=5)
    assert service.remaining_today(user) == 5
    service.generate(user, GenerationRequest(**SHORT))
    assert service.remaining_today(user) == 4
    with database.service_session() as s:
        count, day = s.execute(
            text("select daily_count, daily_count_date from public.users where id = :u"),
            {"u": user},
        ).one()
    assert (count, day) == (1, _utc_today())


class _Breaks:
    """An engine that makes one chunk and then fails, as a crashing model would."""

    name = "breaks"

    def generate(self, request: GenerationRequest) -> GenerationResult:
        def chunks() -> Any:
            yield np.zeros((4410, 2), dtype=np.float32)
            raise RuntimeError("the model ran out of memory")

        return GenerationResult(
            engine="breaks",
            samplerate=44100,
            bpm=120.0,
            key="C major",
            genre="pop",
            duration_seconds=2.0,
            sections=[],
            params={"engine": "breaks"},
            chunks=chunks,
        )


def test_a_failure_keeps_the_error_leaves_no_file_and_refunds(
    database: Any, make_user: Any
) -> None:
    user = make_user()
    service = GenerationService(database, _Breaks(), daily_limit=2)
    with pytest.raises(RuntimeError, match="out of memory"):
        service.generate(user, GenerationRequest(**SHORT))
    with database.service_session() as s:
        status, error, url = s.execute(
            text("select status, error, url from public.generated_tracks where user_id = :u"),
            {"u": user},
        ).one()
    assert status == "failed" and "out of memory" in error
    path = path_from_url(url)
    assert path is not None and not path.exists() and not path.with_suffix(".mp3.part").exists()
    assert service.remaining_today(user) == 2


def test_cancel_stops_between_chunks(database: Any, make_user: Any) -> None:
    user = make_user()
    service = GenerationService(database, ProceduralGenerator(), daily_limit=2)
    stop = threading.Event()
    with pytest.raises(GenerationCancelled):
        service.generate(
            user,
            GenerationRequest(genres=["pop"], duration_seconds=20, seed=3),
            on_chunk=lambda c, sr: stop.set(),
            cancel=stop,
        )
    with database.service_session() as s:
        assert (
            s.execute(
                text("select status from public.generated_tracks where user_id = :u"), {"u": user}
            ).scalar()
            == "failed"
        )


def test_interrupted_rows_are_failed_at_startup(database: Any, make_user: Any) -> None:
    user = make_user()
    with database.service_session() as s:
        s.execute(
            text(
                "insert into public.generated_tracks (user_id, url, duration, mode, status) "
                "values (:u, 'file:///nowhere.mp3', 30, 'new', 'generating')"
            ),
            {"u": user},
        )
    service = GenerationService(database, ProceduralGenerator())
    assert service.fail_interrupted() == 1
    with database.service_session() as s:
        status, error = s.execute(
            text("select status, error from public.generated_tracks where user_id = :u"),
            {"u": user},
        ).one()
    assert status == "failed" and "Interrupted" in error


def test_extend_by_track_id_uses_the_stored_params(database: Any, make_user: Any) -> None:
    user = make_user()
    service = GenerationService(database, ProceduralGenerator(), daily_limit=5)
    first = service.generate(user, GenerationRequest(**SHORT))
    second = service.generate(
        user,
        GenerationRequest(
            mode="extend", duration_seconds=2.0, seed=2, source=SourceTrack(track_id=str(first))
        ),
    )
    row = _row(database, second)
    assert row.status == "completed" and row.mode == "extend" and row.source_id == first
    assert row.generation_params["source"]["seed"] == 1
    assert row.generation_params["bpm"] == _row(database, first).generation_params["bpm"]


def test_bad_ids_are_named(database: Any, make_user: Any) -> None:
    service = GenerationService(database, ProceduralGenerator())
    with pytest.raises(UserFacingError, match="No user"):
        service.generate(uuid.uuid4(), GenerationRequest(**SHORT))
    with pytest.raises(UserFacingError, match="not a valid id"):
        service.remaining_today("nope")


def test_a_failed_insert_gives_the_generation_back_and_names_the_missing_row(
    database: Any, make_user: Any
) -> None:
    user = make_user()
    service = GenerationService(database, ProceduralGenerator(), daily_limit=2)
    gone = uuid.uuid4()  # a band deleted (or synced away) while its radio was asking
    with pytest.raises(UserFacingError, match=rf"could not be saved: Key \(band_id\)=\({gone}\)"):
        service.generate(user, GenerationRequest(**SHORT), band_id=gone)
    assert service.remaining_today(user) == 2
    with database.service_session() as s:
        assert (
            s.execute(
                text("select count(*) from public.generated_tracks where user_id = :u"), {"u": user}
            ).scalar_one()
            == 0
        )


def _generate_in_background(service: Any, user: Any, seconds: float = 4.0) -> dict[str, Any]:
    out: dict[str, Any] = {"chunks": 0, "first": threading.Event(), "track": None}

    def on_chunk(chunk: Any, rate: int) -> None:
        out["chunks"] += 1
        out["first"].set()

    def run() -> None:
        try:
            out["track"] = service.generate(
                user,
                GenerationRequest(genres=["house"], duration_seconds=seconds, seed=2),
                on_chunk=on_chunk,
                on_track=lambda t: out.setdefault("told", t),
            )
        except BaseException as exc:
            out["error"] = exc

    out["thread"] = threading.Thread(target=run, daemon=True)
    out["thread"].start()
    return out


def test_a_known_quota_lets_the_first_chunks_out_before_the_booking(
    database: Any, make_user: Any
) -> None:
    user = make_user()
    # Unknown quota: the first chunk waits for the booking, as it must.
    unknown = GenerationService(database, ProceduralGenerator(), daily_limit=3)
    with HoldsTheUsersRow(database, user):
        run = _generate_in_background(unknown, user)
        assert not run["first"].wait(1.5)
    run["thread"].join(60)
    assert run["track"] is not None
    # Known to say yes (the app reads the count to show it): the first chunks go out while
    # the booking waits, and the track's id is given out only once it is booked.
    known = GenerationService(database, ProceduralGenerator(), daily_limit=3)
    assert known.remaining_today(user) == 2
    with HoldsTheUsersRow(database, user):
        run = _generate_in_background(known, user)
        assert run["first"].wait(30)
        assert "told" not in run and run["track"] is None
    run["thread"].join(60)
    assert run["track"] is not None and run["told"] == run["track"]
    assert _row(database, run["track"]).status == "completed"
    assert known.remaining_today(user) == 1


def test_a_refusal_after_the_first_chunks_stops_the_track_and_keeps_nothing(
    database: Any, make_user: Any
) -> None:
    user = make_user()
    service = GenerationService(database, ProceduralGenerator(), daily_limit=1)
    assert service.remaining_today(user) == 1
    # Another device takes the last generation while this one's booking waits.
    took_it = (
        "update public.users set daily_count = 1, "
        "daily_count_date = (now() at time zone 'utc')::date where id = :u"
    )
    with HoldsTheUsersRow(database, user, then=took_it):
        run = _generate_in_background(service, user, seconds=30.0)
        assert run["first"].wait(30)
    run["thread"].join(60)
    assert isinstance(run.get("error"), QuotaExceeded), run
    assert "told" not in run and run["track"] is None
    with database.service_session() as s:
        rows = s.execute(
            text("select count(*) from public.generated_tracks where user_id = :u"), {"u": user}
        ).scalar()
        count = s.execute(
            text("select daily_count from public.users where id = :u"), {"u": user}
        ).scalar()
    assert rows == 0 and count == 1  # no row, and the other device's generation stands
    assert not list(audio_dir().glob("*.mp3.part"))
    assert service.remaining_today(user) == 0

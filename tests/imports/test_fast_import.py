"""The COPY path (issue 21): same rows and counts as before, all or nothing, cancellable."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import UserHistory
from player.imports import ImportCancelled, ImportProgress, history
from player.imports.history import import_history
from tests.imports.conftest import DATA
from tests.imports.test_history_db import history_count


def extended_history(path: Path, rows: int, repeat_every: int = 0) -> Path:
    records = []
    for i in range(rows):
        n = i - 1 if repeat_every and i % repeat_every == 0 and i else i  # a repeat of i-1
        records.append(
            {
                "ts": f"2023-01-{1 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z",
                "ms_played": 15_000 if i % 11 == 0 else 200_000,
                "master_metadata_track_name": f"Track {n}",
                "master_metadata_album_artist_name": f"Artist {n % 7}",
                "master_metadata_album_album_name": None if n % 3 else f"Album {n % 5}",
                "spotify_track_uri": f"spotify:track:{n:022d}",
            }
        )
    path.write_text(json.dumps(records))
    return path


class CancelAfter(threading.Event):
    """A cancel request that arrives after ``checks`` looks (deterministic mid-import)."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.checks = checks
        self.looks = 0

    def is_set(self) -> bool:
        self.looks += 1
        return self.looks > self.checks


def rows(database, user):
    with database.user_session(user) as s:
        return sorted(
            s.execute(
                select(
                    UserHistory.platform,
                    UserHistory.track_id,
                    UserHistory.track_name,
                    UserHistory.artist,
                    UserHistory.album,
                    UserHistory.played_at,
                )
            ).all()
        )


def test_copy_and_unnest_paths_store_the_same_rows_and_counts(
    database, make_user, tmp_path, monkeypatch
):
    monkeypatch.setattr(history, "COPY_BATCH_ROWS", 150)  # several staging batches
    monkeypatch.setattr(history, "BATCH_ROWS", 150)
    export = extended_history(tmp_path / "Streaming_History_Audio_2023.json", 1000, 97)
    by_copy, by_unnest = make_user(), make_user()
    copied = import_history(database, by_copy, "spotify-extended", export, method="copy")
    inserted = import_history(database, by_unnest, "spotify-extended", export, method="unnest")
    assert copied == inserted
    # 10 repeats inside the file; the one of record 484 (a short play) is its first listen
    assert copied.duplicates == 9 and copied.skipped == 91
    assert copied.read == copied.imported + copied.skipped + copied.duplicates
    assert rows(database, by_copy) == rows(database, by_unnest)
    assert history_count(database, by_copy) == copied.imported
    again = import_history(database, by_copy, "spotify-extended", export)
    assert (again.imported, again.duplicates) == (0, copied.imported + copied.duplicates)


def test_cancel_mid_import_leaves_nothing(database, make_user, tmp_path, monkeypatch):
    monkeypatch.setattr(history, "COPY_BATCH_ROWS", 100)
    export = extended_history(tmp_path / "Streaming_History_Audio_2023.json", 1200)
    user = make_user()
    cancel = CancelAfter(checks=6)  # after a few chunks read and batches moved into place
    with pytest.raises(ImportCancelled, match="nothing from this export was saved"):
        import_history(
            database,
            user,
            "spotify-extended",
            export,
            progress=ImportProgress(cancel=cancel, clock=itertools.count().__next__),
        )
    assert cancel.looks > 6
    assert history_count(database, user) == 0


def test_progress_reports_a_rising_fraction_up_to_the_whole_export(database, make_user, tmp_path):
    export = extended_history(tmp_path / "Streaming_History_Audio_2023.json", 3000)
    seen: list[tuple[float | None, str]] = []
    import_history(
        database,
        make_user(),
        "spotify-extended",
        export,
        progress=ImportProgress(lambda f, t: seen.append((f, t)), clock=itertools.count().__next__),
    )
    fractions = [f for f, _ in seen if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(t.startswith("Reading Streaming_History_Audio_2023.json") for _, t in seen)
    assert seen[-1][1] == "Saving"


def test_apple_zip_in_the_database_with_the_result_in_words(database, make_user, tmp_path):
    from tests.imports.test_real_layouts import ACTIVITY, DAILY, LIBRARY, apple_zip

    user = make_user()
    result = import_history(
        database, user, "apple-export", apple_zip(tmp_path, ACTIVITY, DAILY, LIBRARY)
    )
    assert (result.imported, result.skipped) == (6, 4)
    with database.user_session(user) as s:
        artists = set(s.scalars(select(UserHistory.artist)))
    assert artists == {"Frank Ocean", "The Cure", "The xx", "Blur", "Massive Attack", "Aphex Twin"}
    summary = result.summary()
    assert summary.startswith("Imported 6 plays.")
    assert "2 had no artist in the export" in summary
    assert "artist from Daily Tracks for 4 plays" in summary
    assert "2 plays had no artist in the export (also looked in" in summary
    assert json.loads(result.to_json())["recovered"]["artist from Library Tracks"] == 1


def test_cli_prints_the_plain_words_too(database, database_url, make_user, monkeypatch, capsys):
    from player.cli import main

    make_user("old@example.com")
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    folder = DATA / "spotify_2019"
    assert main(["import", "spotify-export", str(folder), "--user", "old@example.com"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == 6 and out["skipped_reasons"] == {"not music": 3, "short play": 1}
    assert "3 plays were episodes of podcasts" in out["summary"]


def test_copy_path_inserts_through_row_level_security(database, make_user):
    """The staging table is the user's, and the final insert is checked by RLS like any."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import ProgrammingError

    from player.imports import Play
    from player.imports.history import ImportResult, _copy_plays

    me, someone_else = make_user(), make_user()
    play = Play("spotify", "T", "A", datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ProgrammingError, match="row-level security"):  # noqa: SIM117
        with database.user_session(me) as session:
            _copy_plays(session, someone_else, iter([play]), ImportResult(), None)
    assert history_count(database, someone_else) == 0


def test_every_imported_row_reaches_the_sync_outbox_once(
    database, make_user, tmp_path, monkeypatch
):
    """Migration 20261129140000 only reorders the statement trigger's inserts: still one
    pending 'upsert' entry per new row, owned by the user, across several batches."""
    from sqlalchemy import text

    monkeypatch.setattr(history, "COPY_BATCH_ROWS", 150)
    export = extended_history(tmp_path / "Streaming_History_Audio_2023.json", 700, 97)
    user = make_user()
    result = import_history(database, user, "spotify-extended", export)
    with database.service_session() as s:
        ids = set(s.scalars(select(UserHistory.id).where(UserHistory.user_id == user)))
        outbox = s.execute(
            text(
                "select row_key, op, user_id, pending, is_public, txid::text from "
                "public.sync_changes where table_name = 'user_history' and user_id = :u"
            ),
            {"u": user},
        ).all()
    assert len(ids) == result.imported > 450
    assert sorted(r.row_key for r in outbox) == sorted(str(i) for i in ids)
    assert {(r.op, r.user_id, r.pending, r.is_public) for r in outbox} == {
        ("upsert", user, True, False)
    }
    assert len({r.txid for r in outbox}) == 1  # the whole import is one transaction


def test_read_ahead_hands_over_items_errors_and_stops_its_reader():
    from player.imports.history import _read_ahead

    closed = threading.Event()

    def numbers(fail_at: int | None = None):
        try:
            for i in range(10_000):
                if i == fail_at:
                    raise ValueError(f"bad record {i}")
                yield i
        finally:
            closed.set()

    with _read_ahead(numbers(), chunk=7, depth=3) as items:
        assert list(items) == list(range(10_000))
    assert closed.is_set()

    closed.clear()
    seen = []
    with pytest.raises(ValueError, match="bad record 500"):  # noqa: SIM117
        with _read_ahead(numbers(fail_at=500), chunk=7, depth=3) as items:
            seen.extend(items)
    assert seen == list(range(497))  # the last whole chunk before the bad record
    assert closed.is_set()

    closed.clear()
    with _read_ahead(numbers(), chunk=7, depth=3) as items:
        assert next(items) == 0  # the writer stops early (an error of its own)
    assert closed.is_set()  # the reader was stopped and its files closed on the way out
    assert not any(t.name == "import-reader" for t in threading.enumerate())

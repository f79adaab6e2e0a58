"""Imports into a real (embedded) PostgreSQL as the user, with RLS in force."""

from __future__ import annotations

import json
import sys
import types

import pytest
from sqlalchemy import func, select

from db.models import UserHistory
from player.cli import main
from player.imports import FormatError, history
from player.imports.history import import_history, top_artists
from tests.imports.conftest import DATA


def history_count(database, user_id) -> int:
    with database.user_session(user_id) as s:
        return s.scalar(select(func.count()).select_from(UserHistory))


def test_import_counts_and_rows(database, make_user):
    user = make_user()
    result = import_history(
        database, user, "spotify-extended", DATA / "Streaming_History_Audio_2023.json"
    )
    assert (result.read, result.imported, result.skipped, result.duplicates) == (7, 3, 4, 0)
    with database.user_session(user) as s:
        rows = s.scalars(select(UserHistory).order_by(UserHistory.played_at)).all()
    assert len(rows) == 3
    assert (rows[0].platform, rows[0].track_id, rows[0].album) == (
        "spotify",
        "spotify:track:6z4o4nVJ0Hz1vz0pE4b0ZC",
        "Windowlicker",
    )


def test_reimport_adds_nothing(database, make_user):
    user = make_user()
    first = import_history(database, user, "spotify-export", DATA / "StreamingHistory_music_0.json")
    again = import_history(database, user, "spotify-export", DATA / "StreamingHistory_music_0.json")
    assert first.imported == 6
    assert (again.read, again.imported, again.duplicates) == (8, 0, 6)
    assert history_count(database, user) == 6


def test_duplicates_inside_one_file_are_counted(database, make_user, tmp_path):
    user = make_user()
    row = {"endTime": "2023-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": 60000}
    path = tmp_path / "StreamingHistory_music_0.json"
    path.write_text(json.dumps([row, row, row]))
    result = import_history(database, user, "spotify-export", path)
    assert (result.imported, result.duplicates) == (1, 2)


def test_bad_record_after_many_good_ones_imports_nothing(
    database, make_user, tmp_path, monkeypatch
):
    monkeypatch.setattr(history, "BATCH_ROWS", 200)  # several batches are written before the error
    monkeypatch.setattr(history, "COPY_BATCH_ROWS", 200)
    user = make_user()
    good = [
        {
            "ts": f"2023-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "ms_played": 60000,
            "master_metadata_track_name": f"T{i}",
            "master_metadata_album_artist_name": "A",
            "master_metadata_album_album_name": None,
            "spotify_track_uri": None,
        }
        for i in range(900)
    ]
    bad = dict(good[0], ts="yesterday")
    path = tmp_path / "Streaming_History_Audio_2023.json"
    path.write_text(json.dumps([*good, bad]))
    with pytest.raises(FormatError, match="record 901: field 'ts' is not a valid time"):
        import_history(database, user, "spotify-extended", path)
    assert history_count(database, user) == 0


def test_other_users_cannot_see_imported_history(database, make_user):
    owner, other = make_user(), make_user()
    import_history(database, owner, "youtube-export", DATA / "watch-history.json")
    assert history_count(database, owner) == 3
    assert history_count(database, other) == 0


def test_listenbrainz_and_lastfm_keep_their_platform_names(database, make_user):
    user = make_user()
    import_history(database, user, "listenbrainz", DATA / "listenbrainz_listens.json")
    import_history(database, user, "lastfm", DATA / "lastfm-scrobbles.csv")
    with database.user_session(user) as s:
        platforms = set(s.scalars(select(UserHistory.platform)))
    assert platforms == {"listenbrainz", "lastfm"}


def test_top_artists_ranks_by_plays(database, make_user):
    user = make_user()
    import_history(database, user, "spotify-export", DATA / "StreamingHistory_music_0.json")
    import_history(database, user, "lastfm", DATA / "lastfm-to-csv.csv")
    assert top_artists(database, user, 3) == [
        "Phoebe Bridgers",
        "Radiohead",
        "Crosby, Stills, Nash & Young",
    ]
    assert top_artists(database, make_user(), 3) == []


def test_taste_is_rebuilt_after_an_import_that_added_rows(database, make_user, monkeypatch):
    calls = []
    taste = types.ModuleType("player.taste")
    taste.rebuild_taste = lambda db, user_id: calls.append(user_id)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "player.taste", taste)
    user = make_user()
    import_history(database, user, "lastfm", DATA / "lastfm-scrobbles.csv")
    import_history(database, user, "lastfm", DATA / "lastfm-scrobbles.csv")  # nothing new
    assert calls == [user]


def test_cli_prints_one_json_line(database, database_url, make_user, monkeypatch, capsys):
    make_user("listener@example.com")
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    code = main(
        [
            "import",
            "apple-export",
            str(DATA / "Apple Music Play Activity.csv"),
            "--user",
            "listener@example.com",
        ]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 1
    counts = json.loads(out[0])
    assert {k: counts[k] for k in ("read", "imported", "skipped", "duplicates")} == {
        "read": 8,
        "imported": 3,
        "skipped": 5,
        "duplicates": 0,
    }


def test_cli_unknown_user_is_a_clean_error(database, database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    code = main(["import", "lastfm", str(DATA / "lastfm-to-csv.csv"), "--user", "nobody@x.org"])
    assert code == 2
    assert "no profile with email 'nobody@x.org'" in capsys.readouterr().err


def test_cli_kinds_are_the_registered_importers():
    from player.cli.import_cmd import KINDS
    from player.imports import IMPORTERS

    assert set(KINDS) == set(IMPORTERS)


def test_cli_connect_without_client_id_explains_how_to_get_one(
    database, database_url, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    monkeypatch.delenv("INFINITE_PLAYER_SPOTIFY_CLIENT_ID", raising=False)
    assert main(["connect", "spotify", "--user", "a@example.com"]) == 2
    assert "needs the client id of a Spotify app" in capsys.readouterr().err


def test_cli_disconnect_removes_the_connection(
    database, database_url, make_user, monkeypatch, capsys
):
    from player.imports.tokens import TokenStore

    user = make_user("leaving@example.com")
    TokenStore(database).save(user, "spotify", "a", "r", None)
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    assert main(["disconnect", "spotify", "--user", "leaving@example.com"]) == 0
    assert json.loads(capsys.readouterr().out) == {"service": "spotify", "disconnected": True}
    assert TokenStore(database).load(user, "spotify") is None


@pytest.mark.parametrize("bad", ["nul\u0000inside", "lone \ud800 surrogate"])
def test_text_postgres_cannot_store_is_a_clear_error_not_a_crash(
    database, make_user, tmp_path, bad
):
    user = make_user()
    path = tmp_path / "StreamingHistory_music_0.json"
    row = {"endTime": "2023-01-01 10:00", "artistName": "A", "trackName": bad, "msPlayed": 60000}
    path.write_text(json.dumps([row]))  # ensure_ascii keeps the \\u escapes valid JSON
    with pytest.raises(FormatError, match="'trackName' contains a NUL or invalid Unicode"):
        import_history(database, user, "spotify-export", path)
    assert history_count(database, user) == 0

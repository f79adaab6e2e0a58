"""`infinite-player band …` against a real database: JSON lines out, clean errors."""

from __future__ import annotations

import json

import pytest

from player.cli import main
from player.settings import Settings
from tests.bands.helpers import SPACE, make_track, unit


@pytest.fixture
def cli_db(database, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    return database


def _run(capsys, *argv: str) -> list[dict]:
    assert main(["band", *argv]) == 0
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_create_list_show_follow_discover(cli_db, make_user, capsys):
    uid = make_user("maker@example.com")
    tracks = [str(make_track(cli_db, uid, unit(i))) for i in range(2)]

    [made] = _run(capsys, "create", "--user", "maker@example.com", "--name-seed", "3",
                  "--genre", "house", "--vibe", "chill", "--track", tracks[0],
                  "--track", tracks[1])  # fmt: skip
    assert made["track_count"] == 2 and made["genres"] == ["house"] and made["name_seed"] == 3
    assert made["cover_url"].startswith("file://") and made["has_style"]

    [second] = _run(capsys, "create", "--user", "maker@example.com", "--name-seed", "3",
                    "--genre", "house", "--vibe", "chill")  # fmt: skip
    assert second["name"] != made["name"]

    listed = _run(capsys, "list", "--user", "maker@example.com")
    assert {b["id"] for b in listed} == {made["id"], second["id"]}

    [shown] = _run(capsys, "show", made["id"], "--user", "maker@example.com")
    assert sorted(shown["track_ids"]) == sorted(tracks)

    # The app's own profile (settings.user_email) acts when --user is left out.
    settings = Settings.load()
    settings.set("user_email", "fan@example.com")
    settings.save()
    make_user("fan@example.com", taste_vector=unit(0), embedding_space=SPACE)
    [followed] = _run(capsys, "follow", made["id"])
    assert followed["follower_count"] == 1
    found = _run(capsys, "discover", "--limit", "1")
    assert [b["id"] for b in found] == [made["id"]] and found[0]["similarity"] > 0.5
    [after] = _run(capsys, "unfollow", made["id"])
    assert after["follower_count"] == 0


def test_create_makes_the_profile_user_and_errors_are_clean(cli_db, capsys):
    [made] = _run(capsys, "create", "--user", "new@example.com", "--genre", "ambient")
    assert made["track_count"] == 0 and made["name"]
    [track] = _run(capsys, "radio", made["id"], "--user", "new@example.com", "--seconds", "3")
    assert track["band_id"] == made["id"]
    [shown] = _run(capsys, "show", made["id"], "--user", "new@example.com")
    assert shown["track_ids"] == [track["track_id"]] and shown["has_style"]

    assert main(["band", "list", "--user", "nobody@example.com"]) == 2
    assert "No user with email 'nobody@example.com'" in capsys.readouterr().err
    assert main(["band", "show", "not-an-id", "--user", "new@example.com"]) == 2
    assert "not a valid id" in capsys.readouterr().err
    assert main(["band", "create", "--user", "new@example.com", "--genre", " "]) == 2
    assert "genre" in capsys.readouterr().err
    assert main(["band", "list"]) == 2  # no --user, no profile in the settings
    assert "--user EMAIL" in capsys.readouterr().err

"""`infinite-player sync` and `sync status`: one JSON line each, clean errors."""

from __future__ import annotations

import json

from player.cli import main
from tests.sync.helpers import add_playlist


def _url(db) -> str:
    return db.url.render_as_string(hide_password=False)


def test_sync_prints_one_json_line_and_status_shows_it(
    database, remote, account, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", _url(database))
    add_playlist(database, account, "CLI")
    assert main(["sync", "status"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["pending"] == 2 and before["last_sync_at"] is None
    assert main(["sync", "--remote", _url(remote)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert (result["pushed"], result["pulled"], result["conflicts"], result["errors"]) == (
        2,
        0,
        0,
        [],
    )
    assert main(["sync", "status"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["pending"] == 0 and after["last_sync_at"] and after["last_error"] is None
    assert after["last_result"]["pushed"] == 2


def test_sync_without_a_remote_names_the_fix(monkeypatch, capsys):
    monkeypatch.delenv("INFINITE_PLAYER_REMOTE_URL", raising=False)
    assert main(["sync"]) == 2
    err = capsys.readouterr().err
    assert "pass --supabase (signed in), or --remote URL / INFINITE_PLAYER_REMOTE_URL" in err


def test_bad_arguments_are_named(capsys):
    assert main(["sync", "--remote", "mysql://x/y"]) == 2
    assert "the shared database URL (--remote)" in capsys.readouterr().err
    assert main(["sync", "--remote", "postgresql://h/db", "--batch", "0"]) == 2
    assert "--batch must be a positive" in capsys.readouterr().err
    assert main(["sync", "--remote", "postgresql://h/db", "--storage", "ftp://nas"]) == 2
    assert "not a storage location" in capsys.readouterr().err


def test_an_unreachable_remote_prints_json_and_a_message(
    database, account, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", _url(database))
    code = main(["sync", "--remote", f"postgresql://x@/db?host={tmp_path}&port=1"])
    out = capsys.readouterr()
    assert code == 2
    printed = json.loads(out.out)
    assert printed["pushed"] == 0
    assert "Cannot reach the shared database" in printed["errors"][-1]
    assert "Cannot reach" in out.err


def test_direct_mode_says_who_can_use_the_url(database, remote, account, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", _url(database))
    assert main(["sync", "--remote", _url(remote)]) == 0
    err = capsys.readouterr().err
    assert "Anyone holding this URL can read and change every user's rows" in err


def test_supabase_mode_needs_a_project_and_a_sign_in(database, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", _url(database))
    monkeypatch.delenv("INFINITE_PLAYER_SUPABASE_URL", raising=False)
    assert main(["sync", "--supabase"]) == 2
    assert (
        "INFINITE_PLAYER_SUPABASE_URL and INFINITE_PLAYER_SUPABASE_KEY" in capsys.readouterr().err
    )
    monkeypatch.setenv("INFINITE_PLAYER_SUPABASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("INFINITE_PLAYER_SUPABASE_KEY", "sb_secret_abc")
    assert main(["sync", "--supabase"]) == 2
    assert "service-role (secret) key" in capsys.readouterr().err
    monkeypatch.setenv("INFINITE_PLAYER_SUPABASE_KEY", "sb_publishable_abc")
    assert main(["sync", "--supabase"]) == 2
    assert "Not signed in to the Supabase account" in capsys.readouterr().err


def test_sign_in_sync_and_sign_out_from_the_command_line(supabase, database, monkeypatch, capsys):
    from sqlalchemy import text

    monkeypatch.setenv("DATABASE_URL", _url(database))
    monkeypatch.setenv("INFINITE_PLAYER_SUPABASE_URL", supabase.url)
    monkeypatch.setenv("INFINITE_PLAYER_SUPABASE_KEY", supabase.anon_key)
    monkeypatch.setattr("builtins.input", lambda prompt: supabase.last_code("ivy@example.com"))
    assert main(["sync", "sign-in", "ivy@example.com"]) == 0
    who = json.loads(capsys.readouterr().out)
    assert who["signed_in"] and who["email"] == "ivy@example.com"
    with database.user_session(who["user_id"]) as s:
        s.execute(
            text("insert into users (id, email) values (:i, 'ivy@example.com')"),
            {"i": who["user_id"]},
        )
    add_playlist(database, who["user_id"], "from the CLI")
    assert main(["sync", "--supabase"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["pushed"] == 2
    assert "Anyone holding" not in out.err
    assert main(["sync", "account"]) == 0
    assert json.loads(capsys.readouterr().out)["email"] == "ivy@example.com"
    assert main(["sync", "sign-out"]) == 0
    capsys.readouterr()
    assert main(["sync", "--supabase"]) == 2
    assert "Not signed in" in capsys.readouterr().err

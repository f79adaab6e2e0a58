"""Settings: declared once, typed, validated, upgraded, saved atomically."""

from __future__ import annotations

import json

import pytest

from base.errors import UserFacingError
from player.settings import OPTIONS, VERSION, Settings


def test_defaults_round_trip_and_unknown_keys_are_dropped(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings.load(path)
    assert settings.as_dict() == {k: o.default for k, o in OPTIONS.items()}
    settings.set("crossfade_seconds", 3)  # an int is accepted for a float option
    settings.set("generation_engine", "procedural")
    settings.save()
    raw = json.loads(path.read_text())
    assert raw["version"] == VERSION and raw["crossfade_seconds"] == 3.0
    raw["from_the_future"] = 1
    path.write_text(json.dumps(raw))
    again = Settings.load(path)
    assert again.crossfade_seconds == 3.0 and again.generation_engine == "procedural"
    assert "from_the_future" not in again.as_dict()
    assert not list(tmp_path.glob(".settings-*"))  # no temp file left behind


def test_bad_values_are_named(tmp_path):
    settings = Settings(tmp_path / "s.json")
    with pytest.raises(UserFacingError, match=r"generation_engine.*one of"):
        settings.set("generation_engine", "gpt")
    with pytest.raises(UserFacingError, match=r"crossfade_seconds.*at most"):
        settings.set("crossfade_seconds", 60.0)
    with pytest.raises(UserFacingError, match=r"daily_limit.*int"):
        settings.set("daily_limit", "twenty")
    with pytest.raises(UserFacingError, match="unknown setting"):
        settings.set("colour", "red")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(UserFacingError, match="cannot read settings file"):
        Settings.load(broken)


def test_version_1_files_are_upgraded(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "crossfade_ms": 2500, "volume": 0.5}))
    settings = Settings.load(path)
    assert settings.crossfade_seconds == 2.5 and settings.volume == 0.5

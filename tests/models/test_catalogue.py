"""The catalogue says what it pinned and where each pinned value came from: a revision
is either a commit with its source named, or a branch listed as unverified."""

from __future__ import annotations

import json

import pytest

from player.cli import main
from player.models import catalogue, find


def test_every_revision_is_a_sourced_commit_or_said_to_be_unverified() -> None:
    for entry in catalogue():
        sources = dict(entry.sources)
        if entry.pinned:
            assert "revision" not in entry.unverified, entry.name
            assert len(sources.get("revision", "")) > 40, f"{entry.name}: pin without a source"
        else:
            assert "revision" in entry.unverified, f"{entry.name}: moving branch not flagged"
    # What public code showed (see docs/areas/models.md): these three are pinned.
    assert find("musicgen-small").revision == "4c8334b02c6ec4e8664a91979669a501ec497792"
    assert find("mert-v1-95m").revision == "12af15fef9d0ac838c3f475bfbbf26d2060dd4f5"
    assert find("mert-v1-330m").pinned
    assert not find("musicgen-medium").pinned and not find("musicgen-melody").pinned


def test_list_shows_the_pins_and_their_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "@4c8334b02c6e" in out and "@main (not pinned)" in out
    assert main(["models", "list", "--json"]) == 0
    rows = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert "snapshot_download" in rows["musicgen-small"]["sources"]["revision"]
    assert "revision" in rows["musicgen-medium"]["unverified"]

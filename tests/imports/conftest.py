"""Helpers shared by the import tests: the fixture folder and zips built from it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _no_os_keyring():
    """Never touch the developer's real keyring; tests that want one install their own."""
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def data() -> Path:
    return DATA


def make_zip(target: Path, members: dict[str, bytes | Path]) -> Path:
    """A zip like the services send: ``members`` maps archive paths to bytes or files."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            payload = content.read_bytes() if isinstance(content, Path) else content
            archive.writestr(name, payload)
    return target

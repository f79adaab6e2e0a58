"""An installed app (a wheel, pipx) carries its schema and its theme, not only a checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]


def test_the_listed_packages_are_every_package_in_the_tree() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set(find_packages(str(ROOT), include=["base*", "player*", "ui*", "db*"]))
    assert found - listed == set(), "add new packages to [tool.setuptools] packages"
    data = {"db._migrations", "ui._resources", "ui._resources.icons"}
    assert listed - found == data


def test_a_wheel_install_finds_its_migrations_and_resources(tmp_path: Path) -> None:
    # Offline: the venv's own setuptools builds it, no isolated build environment.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    probe = (
        "import json\n"
        "from db.migrate import discover, migrations_dir\n"
        "from ui.theme import RESOURCES\n"
        "import player.taste.engine_model as em\n"
        "print(json.dumps({'migrations': str(migrations_dir()), 'files': len(discover()),\n"
        "                  'engine_fit': em.shipped() is not None, 'taste': em.__file__,\n"
        "                  'resources': str(RESOURCES),\n"
        "                  'theme': (RESOURCES / 'theme.qss').is_file(),\n"
        "                  'icon': (RESOURCES / 'icons' / 'play.svg').is_file()}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(found["migrations"]).is_relative_to(site)
    assert found["files"] == len(list((ROOT / "migrations").glob("*.sql")))
    assert Path(found["resources"]).is_relative_to(site)
    assert found["theme"] and found["icon"]
    # the planner's fit of what requests sound like ships with the package
    assert found["engine_fit"] and Path(found["taste"]).is_relative_to(site)

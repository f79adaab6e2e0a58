# SPDX-License-Identifier: MIT
"""An older commit's code in a temporary folder, for benchmarks that run the old way and
the new side by side in one run (bench_mode, bench_controls, bench_variety)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def export(ref: str, dest: Path, paths: Sequence[str] = ("player", "base")) -> Path:
    """``paths`` of commit ``ref`` unpacked into the new folder ``dest`` (``git archive``)."""
    dest.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, *paths], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest

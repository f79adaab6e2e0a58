"""The models a listener can download, read from ``catalogue.json`` (shipped in the wheel).

Kept as data so that adding a model, or pinning a newer revision, is an edit to one file
that a reviewer can read at a glance, with no code to change. Nothing here touches the
network or imports torch: the CLI's ``models list`` and the Settings page read it at once.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from base.errors import UserFacingError

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")


@dataclass(frozen=True)
class Licence:
    id: str
    name: str
    url: str
    summary: str


@dataclass(frozen=True)
class ModelEntry:
    """One downloadable model: where it lives on the Hub and what it needs here."""

    name: str
    title: str
    family: str  # "musicgen" | "mert"
    engine: str
    repo: str
    revision: str
    include: tuple[str, ...]
    required: tuple[str, ...]
    size_bytes: int
    min_vram_gb: float
    licence: Licence
    authors: str
    prefer: tuple[tuple[str, ...], ...] = ()
    runnable: bool = True
    not_runnable_because: str = ""
    unverified: tuple[str, ...] = field(default_factory=tuple)
    #: where each pinned value came from (field name, source), since no network reached
    #: the Hub when the catalogue was written
    sources: tuple[tuple[str, str], ...] = ()

    @property
    def pinned(self) -> bool:
        """Whether ``revision`` is a commit (not a branch that may move)."""
        return len(self.revision) == 40 and all(c in "0123456789abcdef" for c in self.revision)

    def wanted(self, remote_names: list[str]) -> list[str]:
        """The Hub files to fetch: those matching ``include``, keeping only the first
        present of each ``prefer`` group (safetensors over a pickled ``.bin``)."""
        chosen = [n for n in remote_names if any(fnmatch.fnmatch(n, p) for p in self.include)]
        for group in self.prefer:
            present = [g for g in group if g in chosen]
            for extra in present[1:]:
                chosen.remove(extra)
        missing = [p for p in self.required if not any(fnmatch.fnmatch(n, p) for n in chosen)]
        if missing:
            raise UserFacingError(
                f"{self.repo} at {self.revision} has no file matching {', '.join(missing)}; "
                "the catalogue entry no longer matches the repository."
            )
        return sorted(chosen)


def _entry(raw: dict[str, Any], licences: dict[str, Licence]) -> ModelEntry:
    return ModelEntry(
        name=raw["name"],
        title=raw["title"],
        family=raw["family"],
        engine=raw["engine"],
        repo=raw["repo"],
        revision=raw["revision"],
        include=tuple(raw["include"]),
        required=tuple(raw["required"]),
        size_bytes=int(raw["size_bytes"]),
        min_vram_gb=float(raw["min_vram_gb"]),
        licence=licences[raw["licence"]],
        authors=raw.get("authors", ""),
        prefer=tuple(tuple(g) for g in raw.get("prefer", ())),
        runnable=bool(raw.get("runnable", True)),
        not_runnable_because=raw.get("not_runnable_because", ""),
        unverified=tuple(raw.get("unverified", ())),
        sources=tuple((str(k), str(v)) for k, v in raw.get("sources", {}).items()),
    )


@cache
def catalogue() -> tuple[ModelEntry, ...]:
    """Every model in the catalogue, in the order the listener sees them."""
    raw = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    licences = {
        key: Licence(key, value["name"], value["url"], value["summary"])
        for key, value in raw["licences"].items()
    }
    return tuple(_entry(m, licences) for m in raw["models"])


def find(name: str) -> ModelEntry:
    """The entry called ``name`` (or whose Hub repo is ``name``), else a clear error."""
    key = name.strip().lower()
    for entry in catalogue():
        if key in (entry.name, entry.repo.lower()):
            return entry
    names = ", ".join(e.name for e in catalogue())
    raise UserFacingError(f"Unknown model {name!r}; the catalogue has: {names}.")


def by_family(family: str) -> list[ModelEntry]:
    return [e for e in catalogue() if e.family == family]

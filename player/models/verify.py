"""Checksums: every downloaded file is compared with what the Hub published for it.

Large files are stored with Git LFS and the Hub publishes their sha256; small files
(``config.json``, tokenizer files) live in git itself and the Hub publishes their git
blob id, a sha1 over ``blob <size>\\0`` and the content. Both are checked, so no file
is trusted on its size alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from base.errors import UserFacingError
from player.models.catalogue import ModelEntry
from player.models.hub import RemoteFile
from player.models.local import local_state, read_manifest

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def git_blob_id(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class ChecksumMismatch(UserFacingError):
    """A file's content differs from what the Hub published: it is deleted, never used."""


def check_file(path: Path, remote: RemoteFile) -> str:
    """Raise :class:`ChecksumMismatch` unless ``path`` is exactly ``remote``; returns its
    sha256 (recorded in the manifest so later checks need no network)."""
    size = path.stat().st_size
    sha = sha256_of(path)
    if size != remote.size:
        problem = f"{size} bytes instead of {remote.size}"
    elif remote.sha256 is not None and sha != remote.sha256:
        problem = f"sha256 {sha[:12]}… instead of {remote.sha256[:12]}…"
    elif remote.sha256 is None and remote.blob_id and git_blob_id(path) != remote.blob_id:
        problem = f"git blob id differs from {remote.blob_id[:12]}…"
    else:
        return sha
    raise ChecksumMismatch(f"{remote.name} is corrupt ({problem}).")


@dataclass
class VerifyReport:
    name: str
    ok: list[str] = field(default_factory=list)
    bad: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    against: str = "manifest"  # or "hub"

    @property
    def passed(self) -> bool:
        return not self.bad and not self.missing and bool(self.ok)


def verify(entry: ModelEntry, use_hub: bool = False) -> VerifyReport:
    """Check every file of an installed model against its manifest (offline), or against
    the Hub when asked or when the folder was put there by hand."""
    state = local_state(entry)
    if state.state == "absent":
        raise UserFacingError(
            f"{entry.name} is not downloaded; run `infinite-player models get {entry.name}`."
        )
    if state.state == "partial":
        raise UserFacingError(
            f"{entry.name} is only partly downloaded; run `infinite-player models get "
            f"{entry.name}` to finish it."
        )
    report = VerifyReport(entry.name)
    manifest = read_manifest(state.folder)
    if manifest is not None and not use_hub:
        expected = {
            name: RemoteFile(name, int(f["size"]), f.get("sha256"), None)
            for name, f in manifest.get("files", {}).items()
        }
    else:
        from player.models.hub import remote_files

        report.against = "hub"
        # The commit that was downloaded, when known: the catalogue's branch may have moved.
        commit = str(manifest.get("commit") or "") if manifest is not None else ""
        _commit, files = remote_files(entry, str(state.folder), revision=commit or None)
        expected = {f.name: f for f in files}
    for name, remote in sorted(expected.items()):
        path = state.folder / name
        if not path.is_file():
            report.missing.append(name)
            continue
        try:
            check_file(path, remote)
        except ChecksumMismatch as exc:
            report.bad[name] = str(exc)
        else:
            report.ok.append(name)
    return report

"""Downloading a catalogue model: licence gate, lock, free-space check, resume, checksums.

Why not ``hf_hub_download(local_dir=…)`` alone: since huggingface_hub 1.x it writes
each attempt to a fresh uniquely named temporary file and deletes it on failure, so a
download cut by a crash, a full disk or the listener's cancel starts again from byte
zero. A multi-gigabyte model on a home connection needs better. So the partial file
is ours (``.download/<sha>.part`` in the model folder, named by the content it will
hold), and the transfer is still the hub client's: :func:`get_hf_file_metadata` for the
HEAD (redirects, ``X-Linked-Size``, ``X-Repo-Commit``) and :func:`http_get` with
``resume_size`` for a ranged GET, with its retries, proxies and ``HF_ENDPOINT``.

A file moves into place only after its checksum matched; ``manifest.json`` is written
last, and ``.download/`` removed with it, so a model is either installed and verified
or visibly partial.
"""

from __future__ import annotations

import errno
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.errors import UserFacingError
from player.models.catalogue import ModelEntry
from player.models.hub import RemoteFile, endpoint, remote_files
from player.models.local import (
    PARTIAL,
    licence_accepted,
    licence_text,
    model_dir,
    model_lock,
    models_dir,
    read_manifest,
    write_manifest,
)
from player.models.verify import ChecksumMismatch, check_file

if TYPE_CHECKING:
    from player.settings import Settings

#: Kept free beyond the model itself, so a download never fills the disk to the last byte.
SPARE_BYTES = 64 * 1024 * 1024
#: Bytes per read from the connection. The hub client's default (10 MB) would leave a
#: listener on a slow line staring at a frozen bar, and waiting that long for Cancel.
READ_CHUNK = 64 * 1024


class LicenceNotAccepted(UserFacingError):
    """The model's licence has not been accepted yet; the message quotes it."""


class DownloadCancelled(UserFacingError):
    """The listener cancelled; what arrived so far is kept and the next ``get`` resumes."""


class NotEnoughSpace(UserFacingError):
    pass


@dataclass(frozen=True)
class Progress:
    """A snapshot for a progress bar: bytes of the whole model, rate and time left."""

    file: str
    done: int
    total: int
    rate: float  # bytes per second, over the last few seconds
    resumed: int = 0  # bytes that were already on disk when this attempt began

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def seconds_left(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None

    def describe(self) -> str:
        left = self.seconds_left
        eta = "—" if left is None else f"{int(left // 60)}:{int(left % 60):02d}"
        return (
            f"{human_bytes(self.done)} of {human_bytes(self.total)} · "
            f"{human_bytes(self.rate)}/s · {eta} left"
        )


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


@dataclass
class DownloadReport:
    name: str
    folder: Path
    commit: str
    files: int
    downloaded_bytes: int
    resumed_bytes: int
    total_bytes: int


class _Meter:
    """Counts bytes from the hub client's progress hook, reports at most ten times a
    second, and raises :class:`DownloadCancelled` from inside the transfer loop."""

    def __init__(
        self,
        total: int,
        already: int,
        progress: Callable[[Progress], None] | None,
        cancel: threading.Event | None,
    ) -> None:
        self.total, self.done, self.resumed = total, already, already
        self.progress, self.cancel = progress, cancel
        self.file = ""
        self.samples: list[tuple[float, int]] = [(time.monotonic(), already)]
        self.last_report = 0.0

    def rate(self) -> float:
        now = time.monotonic()
        self.samples = [s for s in self.samples if now - s[0] <= 5.0] or self.samples[-1:]
        t0, b0 = self.samples[0]
        return (self.done - b0) / (now - t0) if now > t0 else 0.0

    def add(self, n: int) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise DownloadCancelled("Download cancelled; run it again to resume where it stopped.")
        self.done += n
        now = time.monotonic()
        self.samples.append((now, self.done))
        if self.progress is not None and (now - self.last_report >= 0.1 or n == 0):
            self.last_report = now
            self.progress(Progress(self.file, self.done, self.total, self.rate(), self.resumed))

    def bar_class(self) -> type:
        """A tqdm class for ``http_get``'s ``tqdm_class`` hook that prints nothing."""
        from tqdm import tqdm

        meter = self

        class Bar(tqdm):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs["disable"] = True
                super().__init__(*args, **kwargs)

            def update(self, n: float | None = 1) -> bool | None:
                meter.add(int(n or 0))
                return None

        return Bar


def _free_bytes(folder: Path) -> int:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free


def _part_size(path: Path, limit: int) -> int:
    if not path.is_file():
        return 0
    size = path.stat().st_size
    if size > limit:  # not a prefix of this file: start over
        path.unlink()
        return 0
    return size


def download(
    entry: ModelEntry,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    settings: Settings | None = None,
    on_files: Callable[[list[RemoteFile]], None] | None = None,
) -> DownloadReport:
    """Fetch ``entry`` into the data folder, resuming whatever an earlier attempt left.

    Raises :class:`LicenceNotAccepted` before any network traffic when the licence was
    not accepted; :class:`~player.models.local.ModelBusy` when another process holds the
    model; :class:`NotEnoughSpace` before writing anything when the disk is too small;
    :class:`DownloadCancelled` when ``cancel`` is set; :class:`ChecksumMismatch` naming a
    corrupt file (deleted, the rest kept).
    """
    if not licence_accepted(entry, settings):
        raise LicenceNotAccepted(
            f"{licence_text(entry)}\nAccept the licence first (Settings > Models, or "
            f"`infinite-player models get {entry.name} --accept-licence`)."
        )
    with model_lock(entry):
        return _download_locked(entry, progress, cancel, on_files)


def _download_locked(
    entry: ModelEntry,
    progress: Callable[[Progress], None] | None,
    cancel: threading.Event | None,
    on_files: Callable[[list[RemoteFile]], None] | None,
) -> DownloadReport:
    from huggingface_hub import constants as hub_constants
    from huggingface_hub import hf_hub_url
    from huggingface_hub.file_download import get_hf_file_metadata, http_get
    from huggingface_hub.utils import build_hf_headers

    hub_constants.DOWNLOAD_CHUNK_SIZE = READ_CHUNK  # process-wide; only this app downloads

    folder = model_dir(entry)
    commit, files = remote_files(entry, str(folder))
    if on_files is not None:
        on_files(files)
    manifest = read_manifest(folder)
    complete = manifest is not None and not (folder / PARTIAL).exists()
    if manifest is not None and complete and manifest.get("commit") == commit:
        recorded = manifest.get("files", {})
        if all(
            (folder / f.name).is_file() and recorded.get(f.name, {}).get("size") == f.size
            for f in files
        ):
            total = sum(f.size for f in files)
            return DownloadReport(entry.name, folder, commit, len(files), 0, total, total)
    partial = folder / PARTIAL
    done_record = partial / "verified.json"
    verified: dict[str, dict[str, Any]] = {}
    if done_record.is_file():
        import json

        try:
            verified = json.loads(done_record.read_text(encoding="utf-8"))
        except ValueError:
            verified = {}

    def finished(f: RemoteFile) -> bool:
        mark = verified.get(f.name)
        return (
            mark is not None
            and mark.get("key") == f.key
            and (folder / f.name).is_file()
            and (folder / f.name).stat().st_size == f.size
        )

    total = sum(f.size for f in files)
    already = sum(
        f.size if finished(f) else _part_size(partial / f"{f.key}.part", f.size) for f in files
    )
    needed = total - already
    free = _free_bytes(models_dir())
    if needed + SPARE_BYTES > free and needed > 0:
        raise NotEnoughSpace(
            f"Not enough free space for {entry.name}: it needs {human_bytes(needed)} more "
            f"(plus {human_bytes(SPARE_BYTES)} to spare) and {models_dir()} has "
            f"{human_bytes(free)} free. Free some space or set INFINITE_PLAYER_HOME to a "
            "larger disk."
        )
    partial.mkdir(parents=True, exist_ok=True)
    meter = _Meter(total, already, progress, cancel)
    headers = build_hf_headers()
    hub = endpoint()
    for f in files:
        if finished(f):
            continue
        meter.file = f.name
        meter.add(0)  # reports the file starting, and honours a cancel between files
        part = partial / f"{f.key}.part"
        resume = _part_size(part, f.size)
        url = hf_hub_url(entry.repo, f.name, revision=commit, endpoint=hub)
        try:
            meta = get_hf_file_metadata(url, headers=headers, endpoint=hub)
            with part.open("ab") as fh:
                http_get(
                    meta.location,
                    fh,
                    resume_size=resume,
                    headers=headers,
                    expected_size=f.size,
                    displayed_filename=f.name,
                    tqdm_class=meter.bar_class(),
                )
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise NotEnoughSpace(
                    f"The disk filled up while downloading {entry.name} ({f.name}). Free some "
                    f"space in {models_dir()} and run it again: it resumes where it stopped."
                ) from exc
            raise UserFacingError(f"Downloading {f.name} of {entry.name} failed: {exc}") from exc
        except (UserFacingError, KeyboardInterrupt):
            raise
        except Exception as exc:
            from player.models.hub import HubUnreachable, offline_help

            raise HubUnreachable(offline_help(entry, str(folder), exc)) from exc
        try:
            sha = check_file(part, f)
        except ChecksumMismatch as exc:
            part.unlink(missing_ok=True)
            meter.done -= f.size
            raise ChecksumMismatch(
                f"{exc} The corrupt download of {f.name} was deleted; run `infinite-player "
                f"models get {entry.name}` again to fetch it afresh."
            ) from None
        dest = folder / f.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        part.replace(dest)
        verified[f.name] = {"key": f.key, "sha256": sha, "size": f.size}
        _write_json(done_record, verified)
    meter.add(0)
    write_manifest(
        folder,
        {
            "name": entry.name,
            "repo": entry.repo,
            "revision": entry.revision,
            "commit": commit,
            "licence": entry.licence.id,
            "files": {n: {"sha256": v["sha256"], "size": v["size"]} for n, v in verified.items()},
        },
    )
    shutil.rmtree(partial, ignore_errors=True)
    return DownloadReport(
        entry.name, folder, commit, len(files), total - meter.resumed, meter.resumed, total
    )


def _write_json(path: Path, data: Any) -> None:
    import json
    import os

    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)

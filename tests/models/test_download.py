"""Downloading catalogue models from the loopback hub: the whole path, and every way it
can go wrong (crash, dropped connection, cancel, corrupt file, full disk, a second
process, the licence not accepted, no network)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from base.errors import UserFacingError
from player import models
from player.models import downloader as download_module
from player.models.local import PARTIAL
from player.settings import Settings
from tests.models.hub_server import COMMIT, LoopbackHub

ROOT = Path(__file__).resolve().parents[2]
MUSICGEN = "musicgen-small"
WEIGHTS = "model.safetensors"
CLI = "import sys; from player.cli import main; sys.exit(main(sys.argv[1:]))"


def _accepted(name: str = MUSICGEN) -> models.ModelEntry:
    entry = models.find(name)
    models.accept_licence(entry)
    return entry


def _file_gets(hub: LoopbackHub) -> list[tuple[str, str, str]]:
    return [r for r in hub.state.requests() if r[0] == "GET" and not r[1].startswith("/api/")]


def _weights_part(entry: models.ModelEntry) -> Path | None:
    parts = list((models.model_dir(entry) / PARTIAL).glob("*.part"))
    big = [p for p in parts if p.stat().st_size > 0]
    return max(big, key=lambda p: p.stat().st_size) if big else None


def _child_download(name: str = MUSICGEN) -> subprocess.Popen[bytes]:
    """Another process running ``models get`` (the CLI, as a listener would)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TRANSFORMERS_OFFLINE", None)  # the hub client reads it as HF_HUB_OFFLINE too
    return subprocess.Popen(
        [sys.executable, "-c", CLI, "models", "get", name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_part(entry: models.ModelEntry, at_least: int, proc: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        part = _weights_part(entry)
        if part is not None and part.stat().st_size >= at_least:
            return part.stat().st_size
        if proc.poll() is not None:
            raise AssertionError(f"child ended early: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError("the child never started writing the weights")


def test_full_download_installs_every_file_verified_with_progress(
    hub: LoopbackHub, tiny_musicgen_repo: Path
) -> None:
    entry = _accepted()
    seen: list[models.Progress] = []
    report = models.download(entry, progress=seen.append)

    folder = models.model_dir(entry)
    assert report.commit == COMMIT and report.resumed_bytes == 0
    state = models.local_state(entry)
    assert state.state == "installed" and state.commit == COMMIT
    assert not (folder / PARTIAL).exists()
    for name in ("config.json", "generation_config.json", WEIGHTS, "tokenizer.json"):
        assert (folder / name).read_bytes() == (tiny_musicgen_repo / name).read_bytes()
    # Progress: bytes of the whole model, monotonic, ending at the total, with a rate.
    assert seen and seen[-1].done == seen[-1].total == report.total_bytes
    assert all(a.done <= b.done for a, b in itertools.pairwise(seen))
    assert "of" in seen[-1].describe() and "/s" in seen[-1].describe()
    # The LFS file came through the Hub's redirect to its CDN, headers and all.
    assert any(r[1].startswith("/cdn/") for r in _file_gets(hub))
    check = models.verify(entry)
    assert check.passed and check.against == "manifest" and WEIGHTS in check.ok
    # Against the Hub: at the commit that was downloaded, not wherever "main" is now.
    online = models.verify(entry, use_hub=True)
    assert online.passed and online.against == "hub"
    assert hub.state.requests("/api/")[-1][1].endswith(f"/revision/{COMMIT}")
    # Asking again downloads nothing.
    before = len(_file_gets(hub))
    again = models.download(entry)
    assert again.downloaded_bytes == 0 and len(_file_gets(hub)) == before


def test_the_licence_gate_comes_before_any_network_traffic(hub: LoopbackHub) -> None:
    entry = models.find(MUSICGEN)
    with pytest.raises(models.LicenceNotAccepted, match=r"creativecommons\.org/licenses/by-nc"):
        models.download(entry)
    assert hub.state.requests() == []
    assert models.local_state(entry).state == "absent"
    models.accept_licence(entry)
    # Stored in the settings file: a fresh load (another process, the next start) sees it.
    assert Settings.load().get("accepted_model_licences") == {MUSICGEN: "CC-BY-NC-4.0"}
    assert models.licence_accepted(entry)
    assert not models.licence_accepted(models.find("mert-v1-95m"))  # once per model
    models.download(entry)
    assert models.local_state(entry).state == "installed"


def test_a_crash_mid_file_resumes_from_the_partial_bytes(hub: LoopbackHub) -> None:
    entry = _accepted()
    hub.state.throttle = 0.03
    child = _child_download()
    try:
        _wait_for_part(entry, 40_000, child)
        child.send_signal(signal.SIGKILL)  # a crash: no cleanup of any kind runs
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    kept = _weights_part(entry)
    assert kept is not None
    kept_bytes = kept.stat().st_size
    assert models.local_state(entry).state == "partial"
    assert models.usable_folder(entry) is None  # never loaded half-downloaded

    hub.state.throttle = 0.0
    report = models.download(entry)
    assert report.resumed_bytes >= kept_bytes > 0
    assert report.downloaded_bytes == report.total_bytes - report.resumed_bytes
    assert ("GET", f"/cdn/{kept.name[:-5]}", f"bytes={kept_bytes}-") in _file_gets(hub)
    assert models.verify(entry).passed


def test_a_dropped_connection_is_resumed_with_a_range_request(hub: LoopbackHub) -> None:
    entry = _accepted()
    hub.state.drop_after[WEIGHTS] = 64 * 1024
    models.download(entry)
    ranges = [r[2] for r in _file_gets(hub) if r[1].startswith("/cdn/") and r[2]]
    assert ranges and int(ranges[0].split("=")[1].rstrip("-")) >= 64 * 1024
    assert models.verify(entry).passed


def test_cancel_stops_the_transfer_keeps_the_bytes_and_the_next_get_resumes(
    hub: LoopbackHub,
) -> None:
    entry = _accepted()
    hub.state.throttle = 0.01
    cancel = threading.Event()

    def progress(p: models.Progress) -> None:
        if p.file == WEIGHTS and p.done > 60_000:
            cancel.set()

    with pytest.raises(models.DownloadCancelled, match="resume"):
        models.download(entry, progress=progress, cancel=cancel)
    assert models.local_state(entry).state == "partial"
    part = _weights_part(entry)
    assert part is not None and part.stat().st_size > 0
    kept = part.stat().st_size

    hub.state.throttle = 0.0
    report = models.download(entry)
    assert report.resumed_bytes >= kept
    assert any(r[2] == f"bytes={kept}-" for r in _file_gets(hub))
    assert models.local_state(entry).state == "installed"


def test_a_corrupt_file_is_caught_by_its_checksum_and_never_used(
    hub: LoopbackHub, tiny_musicgen_repo: Path
) -> None:
    entry = _accepted()
    hub.state.corrupt.add(WEIGHTS)
    with pytest.raises(models.ChecksumMismatch, match=r"model\.safetensors is corrupt.*sha256"):
        models.download(entry)
    folder = models.model_dir(entry)
    assert not (folder / WEIGHTS).exists() and _weights_part(entry) is None
    assert models.local_state(entry).state == "partial" and models.usable_folder(entry) is None

    hub.state.corrupt.clear()
    models.download(entry)
    assert (folder / WEIGHTS).read_bytes() == (tiny_musicgen_repo / WEIGHTS).read_bytes()
    # Files already verified in the failed attempt were not fetched twice.
    config_gets = [r for r in _file_gets(hub) if r[1].endswith("/config.json")]
    assert len(config_gets) == 1

    # Corruption on disk later is found by verify, offline, from the manifest.
    data = bytearray((folder / WEIGHTS).read_bytes())
    data[100] ^= 0x01
    (folder / WEIGHTS).write_bytes(bytes(data))
    report = models.verify(entry)
    assert not report.passed and WEIGHTS in report.bad


def test_a_hand_edited_small_file_fails_its_git_blob_check(hub: LoopbackHub) -> None:
    entry = _accepted()
    models.download(entry)
    folder = models.model_dir(entry)
    (folder / "manifest.json").unlink()  # as if put there by hand: checked against the hub
    config = folder / "config.json"
    config.write_bytes(config.read_bytes().replace(b"{", b"{ ", 1))
    report = models.verify(entry)
    assert report.against == "hub" and "config.json" in report.bad


@pytest.fixture
def small_disk(_isolated_profile: Path) -> Path:
    """A real tiny filesystem (tmpfs) mounted where the models go; needs root."""
    target = _isolated_profile / "models"
    target.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(target)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {made.stderr.decode().strip()}")
    yield target
    subprocess.run(["umount", "-l", str(target)], check=False)


def test_too_little_free_space_is_refused_before_anything_is_written(
    hub: LoopbackHub, small_disk: Path
) -> None:
    entry = _accepted()
    with pytest.raises(models.NotEnoughSpace, match=r"needs .* free"):
        models.download(entry)
    assert _file_gets(hub) == []  # only the model-info call
    assert models.local_state(entry).state == "absent"


def test_a_disk_that_fills_up_mid_download_keeps_the_bytes_for_later(
    hub: LoopbackHub, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    entry = _accepted()
    monkeypatch.setattr(download_module, "SPARE_BYTES", 0)  # the 1 MB disk holds the model
    hub.state.throttle = 0.002
    filler = small_disk / "someone-elses-file"

    def fill_the_disk(p: models.Progress) -> None:
        if p.file == WEIGHTS and not filler.exists():
            free = shutil.disk_usage(small_disk).free
            filler.write_bytes(b"\0" * max(0, free - 8192))

    with pytest.raises(models.NotEnoughSpace, match="filled up"):
        models.download(entry, progress=fill_the_disk)
    assert models.local_state(entry).state == "partial"
    filler.unlink()
    hub.state.throttle = 0.0
    models.download(entry)
    assert models.verify(entry).passed


def test_a_second_process_is_told_the_model_is_busy(hub: LoopbackHub) -> None:
    entry = _accepted()
    hub.state.throttle = 0.02
    child = _child_download()
    try:
        _wait_for_part(entry, 8_000, child)
        with pytest.raises(models.ModelBusy, match=rf"process {child.pid}"):
            models.download(entry)
        with pytest.raises(models.ModelBusy):
            models.remove(entry)
        hub.state.throttle = 0.0
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err.decode()
    assert b"installed" in out
    assert models.verify(entry).passed  # the busy attempt wrote nothing into its files


def test_offline_the_error_says_what_to_download_and_where(hub: LoopbackHub) -> None:
    entry = _accepted()
    hub.state.offline = True
    with pytest.raises(UserFacingError) as caught:
        models.download(entry)
    message = str(caught.value)
    assert "facebook/musicgen-small" in message
    assert str(models.model_dir(entry)) in message
    assert "models verify musicgen-small" in message
    assert models.local_state(entry).state == "absent"


def test_hf_hub_offline_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    entry = _accepted()
    with pytest.raises(UserFacingError, match="HF_HUB_OFFLINE"):
        models.download(entry)


def test_mert_download_prefers_safetensors_and_is_found_by_the_embedder(
    hub: LoopbackHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import player.embedding as embedding
    from player.embedding.checkpoints import find_checkpoint

    entry = _accepted("mert-v1-95m")
    models.download(entry)
    folder = models.model_dir(entry)
    assert (folder / WEIGHTS).is_file()
    assert not (folder / "pytorch_model.bin").exists()  # the pickled copy is skipped
    assert not (folder / "README.md").exists()  # only what the catalogue lists
    monkeypatch.delenv("INFINITE_PLAYER_MERT", raising=False)
    monkeypatch.setattr(embedding, "_CACHE", {})
    assert find_checkpoint() == folder
    mert = embedding.get_embedder("mert")
    vector = mert.embed(np.random.default_rng(0).standard_normal(48_000).astype("f4"), 24_000)
    assert vector.shape == (768,)
    # Remove gives the space back and the embedder no longer finds it.
    freed = models.remove(entry)
    assert freed > 0 and not folder.exists() and find_checkpoint() is None


def test_unknown_names_are_named() -> None:
    with pytest.raises(UserFacingError, match="musicgen-small, musicgen-medium"):
        models.find("musicgen-huge")
    with pytest.raises(UserFacingError, match="not downloaded"):
        models.remove(models.find(MUSICGEN))


def test_catalogue_lists_the_five_models_with_licences_and_sizes() -> None:
    names = [e.name for e in models.catalogue()]
    assert names == [
        "musicgen-small",
        "musicgen-medium",
        "musicgen-melody",
        "mert-v1-95m",
        "mert-v1-330m",
    ]
    for entry in models.catalogue():
        assert entry.licence.id == "CC-BY-NC-4.0" and entry.licence.url.startswith("https://")
        assert entry.size_bytes > 0 and entry.min_vram_gb > 0 and entry.repo.count("/") == 1


def test_a_proxy_from_the_environment_is_used(hub: LoopbackHub) -> None:
    """The hub is reachable only through the proxy: HF_ENDPOINT names a host that does not
    resolve, and HTTP_PROXY points at the loopback server (which also answers as a proxy,
    taking absolute URLs). A fresh process, as the hub client reads proxies when it starts."""
    _accepted()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_ENDPOINT": "http://hub.models.invalid",
        "HTTP_PROXY": hub.url,
        "NO_PROXY": "",
    }
    env.pop("TRANSFORMERS_OFFLINE", None)
    done = subprocess.run(
        [sys.executable, "-c", CLI, "models", "get", MUSICGEN],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert models.verify(models.find(MUSICGEN)).passed
    assert hub.state.proxied and all(
        url.startswith("http://hub.models.invalid/") for url in hub.state.proxied
    )

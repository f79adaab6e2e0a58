"""Which engine to use: MusicGen when a checkpoint is on disk and the hardware keeps up,
the procedural engine otherwise (and always when asked by name).

:func:`choose_engine` also says *why*, in a sentence for the listener (Settings, the
CLI, ``doctor``): no GPU, too little VRAM, a half-downloaded model, or no model at all.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from base.errors import UserFacingError
from base.paths import data_dir
from player.generation.protocol import Generator
from player.hf_cache import hf_cache_folder

log = logging.getLogger(__name__)

ENGINES = ("auto", "procedural", "musicgen")
CHECKPOINT_ENV = "INFINITE_PLAYER_MUSICGEN"
HF_REPOS = (
    "facebook/musicgen-small",
    "facebook/musicgen-medium",
    "facebook/musicgen-large",
    "facebook/musicgen-melody",
)
#: VRAM assumed for a checkpoint the catalogue does not describe (a hand-placed folder).
DEFAULT_MIN_VRAM_GB = 4.0


def _runnable_catalogue_models() -> list[tuple[Path, float]]:
    """Downloaded, verified MusicGen models the engine can run: (folder, min VRAM GB),
    largest first (a listener who fetched medium wants medium)."""
    from player.models import by_family, usable_folder

    found = []
    for entry in by_family("musicgen"):
        folder = usable_folder(entry)
        if folder is not None and entry.runnable:
            found.append((folder, entry.min_vram_gb))
    return sorted(found, key=lambda f: -f[1])


def musicgen_checkpoint(hf_cache_dir: str | None = None) -> Path | None:
    """A local MusicGen checkpoint folder, or ``None``. Looks (never downloads) at
    ``$INFINITE_PLAYER_MUSICGEN``, the models downloaded from the catalogue, other
    ``<data>/models/musicgen*`` folders and the Hugging Face cache. A half-downloaded
    model is never returned."""
    override = os.environ.get(CHECKPOINT_ENV)
    if override:
        path = Path(override).expanduser()
        return path if (path / "config.json").is_file() else None
    installed = _runnable_catalogue_models()
    if installed:
        return installed[0][0]
    from player.models.local import PARTIAL

    models = data_dir() / "models"
    if models.is_dir():
        for candidate in sorted(models.glob("musicgen*")):
            if (candidate / "config.json").is_file() and not (candidate / PARTIAL).exists():
                return candidate
    for repo in HF_REPOS:
        found = hf_cache_folder(repo, hf_cache_dir)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class EngineChoice:
    """The engine ``auto`` resolves to, the checkpoint it would load, and why."""

    engine: str
    checkpoint: Path | None
    reason: str


def _min_vram_gb(checkpoint: Path) -> float:
    for folder, need in _runnable_catalogue_models():
        if folder == checkpoint:
            return need
    return DEFAULT_MIN_VRAM_GB


def _partial_models() -> list[str]:
    """Each half-downloaded MusicGen model, said with how to finish it."""
    from player.models import by_family, local_state

    found = []
    for entry in by_family("musicgen"):
        state = local_state(entry)
        if state.state == "partial":
            found.append(
                f"{entry.name} is only partly downloaded ({state.bytes_on_disk / 1e6:.0f} MB so "
                f"far): finish it in Settings > Models or with `infinite-player models get "
                f"{entry.name}`"
            )
    return found


def _missing_model_reason() -> str:
    partial = _partial_models()
    if partial:
        return "; ".join(partial)
    return (
        "no MusicGen model is downloaded (Settings > Models, or `infinite-player models get "
        "musicgen-small`)"
    )


def choose_engine(gpu: tuple[str | None, float | None] | None = None) -> EngineChoice:
    """What ``auto`` picks on this machine. ``gpu`` is ``(kind, vram_gb)`` as
    :func:`gpu_memory` reports it; looked up (importing torch) only when a checkpoint
    exists, so a machine without a model decides at once."""
    checkpoint = musicgen_checkpoint()
    if checkpoint is None:
        return EngineChoice("procedural", None, f"Procedural engine: {_missing_model_reason()}.")
    kind, vram = gpu if gpu is not None else gpu_memory()
    name = checkpoint.name
    if kind is None:
        return EngineChoice(
            "procedural",
            checkpoint,
            f"Procedural engine: {name} is ready but this machine has no GPU (no CUDA, no "
            "MPS), and MusicGen on the CPU is slower than real time.",
        )
    need = _min_vram_gb(checkpoint)
    if vram is not None and vram < need:
        return EngineChoice(
            "procedural",
            checkpoint,
            f"Procedural engine: {name} needs about {need:g} GB of GPU memory and this "
            f"{kind.upper()} device has {vram:.1f} GB.",
        )
    memory = f", {vram:.0f} GB" if vram is not None else ""
    # A larger model still half-downloaded is why this one is used instead: say so.
    waiting = [p for p in _partial_models() if not p.startswith(f"{name} ")]
    also = f" Not used: {'; '.join(waiting)}." if waiting else ""
    return EngineChoice(
        "musicgen", checkpoint, f"MusicGen ({name}) on {kind.upper()}{memory}.{also}"
    )


def gpu_memory() -> tuple[str | None, float | None]:
    """``("cuda", total GB)``, ``("mps", None)`` (shared memory) or ``(None, None)``."""
    from player.generation.musicgen import accelerator

    kind = accelerator()
    if kind == "cuda":
        import torch

        return kind, torch.cuda.get_device_properties(0).total_memory / 2**30
    return kind, None


def get_generator(engine: str = "auto") -> Generator:
    """The engine named, or for ``"auto"`` the best one this machine can run in real time."""
    if engine not in ENGINES:
        raise UserFacingError(f"Unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}.")
    if engine == "musicgen":
        checkpoint = musicgen_checkpoint()
        if checkpoint is None:
            raise UserFacingError(
                f"No MusicGen checkpoint found: {_missing_model_reason()}; or put one (e.g. "
                f"facebook/musicgen-small) in the Hugging Face cache or point {CHECKPOINT_ENV} "
                "at its folder."
            )
        from player.generation.musicgen import MusicGenGenerator

        return MusicGenGenerator(checkpoint)
    if engine == "auto":
        choice = choose_engine()
        log.info("generation engine: %s", choice.reason)
        if choice.engine == "musicgen" and choice.checkpoint is not None:
            from player.generation.musicgen import MusicGenGenerator

            return MusicGenGenerator(choice.checkpoint)
    from player.generation.procedural import ProceduralGenerator

    return ProceduralGenerator()

"""Which engine to use: MusicGen when a checkpoint is on disk and the hardware keeps up,
the procedural engine otherwise (and always when asked by name)."""

from __future__ import annotations

import os
from pathlib import Path

from player.errors import UserFacingError
from player.generation.protocol import Generator
from player.hf_cache import hf_cache_folder
from player.paths import data_dir

ENGINES = ("auto", "procedural", "musicgen")
CHECKPOINT_ENV = "INFINITE_PLAYER_MUSICGEN"
HF_REPOS = ("facebook/musicgen-small", "facebook/musicgen-medium", "facebook/musicgen-large")


def musicgen_checkpoint(hf_cache_dir: str | None = None) -> Path | None:
    """A local MusicGen checkpoint folder, or ``None``. Looks (never downloads) at
    ``$INFINITE_PLAYER_MUSICGEN``, ``<data>/models/musicgen*`` and the Hugging Face cache."""
    override = os.environ.get(CHECKPOINT_ENV)
    if override:
        path = Path(override).expanduser()
        return path if (path / "config.json").is_file() else None
    models = data_dir() / "models"
    if models.is_dir():
        for candidate in sorted(models.glob("musicgen*")):
            if (candidate / "config.json").is_file():
                return candidate
    for repo in HF_REPOS:
        found = hf_cache_folder(repo, hf_cache_dir)
        if found is not None:
            return found
    return None


def get_generator(engine: str = "auto") -> Generator:
    """The engine named, or for ``"auto"`` the best one this machine can run in real time."""
    if engine not in ENGINES:
        raise UserFacingError(f"Unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}.")
    if engine in ("auto", "musicgen"):
        checkpoint = musicgen_checkpoint()
        if engine == "musicgen":
            if checkpoint is None:
                raise UserFacingError(
                    "No MusicGen checkpoint found. Put one (e.g. facebook/musicgen-small) in the "
                    f"Hugging Face cache or point {CHECKPOINT_ENV} at its folder."
                )
            from player.generation.musicgen import MusicGenGenerator

            return MusicGenGenerator(checkpoint)
        if checkpoint is not None:
            from player.generation.musicgen import MusicGenGenerator, accelerator

            # On a CPU MusicGen renders far slower than real time: the radio would stall.
            if accelerator() is not None:
                return MusicGenGenerator(checkpoint)
    from player.generation.procedural import ProceduralGenerator

    return ProceduralGenerator()

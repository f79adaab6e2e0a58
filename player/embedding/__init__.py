# SPDX-License-Identifier: MIT
"""Audio -> 768-dimension unit vectors, in a named vector space.

Two backends behind one protocol (:class:`Embedder`): the descriptor embedder
(numpy, no weights, the default) and MERT (torch, used when a checkpoint is on disk).
:func:`get_embedder` picks one; ``store`` keeps vectors with their space;
``reembed`` recomputes them in the background when the space changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from base.errors import UserFacingError
from player.embedding.base import EMBEDDING_DIM, Embedder

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "EMBEDDING_DIM",
    "Embedder",
    "active_embedder",
    "available_spaces",
    "forget_loaded",
    "get_embedder",
]

_CACHE: dict[tuple[str, str | None], Embedder] = {}


def get_embedder(name: str = "auto", checkpoint: str | Path | None = None) -> Embedder:
    """The embedder called ``name``: ``descriptor``, ``mert`` or ``auto``.

    ``auto`` is MERT when a checkpoint is available locally (``checkpoint``,
    ``$INFINITE_PLAYER_MERT`` or the Hugging Face cache) and the descriptor embedder
    otherwise. Embedders are cached: loading MERT takes seconds.
    """
    key = (name, str(checkpoint) if checkpoint else None)
    if key in _CACHE:
        return _CACHE[key]
    embedder: Embedder
    if name == "descriptor":
        from player.embedding.descriptor import DescriptorEmbedder

        embedder = DescriptorEmbedder()
    elif name in ("mert", "auto"):
        from player.embedding.checkpoints import find_checkpoint

        folder = checkpoint or find_checkpoint()
        if folder is None:
            if name == "auto":  # decided without importing torch
                return get_embedder("descriptor")
            raise UserFacingError(
                "no MERT checkpoint found: download one with `infinite-player models get "
                "mert-v1-95m` (or Settings > Models), put m-a-p/MERT-v1-95M in the Hugging "
                "Face cache or point INFINITE_PLAYER_MERT at its folder, or use --embedder "
                "descriptor"
            )
        from player.embedding.mert import MertEmbedder

        embedder = MertEmbedder.from_pretrained(folder)
    else:
        raise UserFacingError(f"unknown embedder {name!r}: choose auto, descriptor or mert")
    _CACHE[key] = embedder
    return embedder


def forget_loaded() -> None:
    """Drop cached embedders, so ``auto`` looks again (a MERT model was just installed
    or removed)."""
    _CACHE.clear()


def active_embedder() -> Embedder:
    """The embedder the user's settings choose (``embedder``, ``mert_model_dir``).

    This is the one the app's vectors should be in; taste and search default to it.
    Without the settings module (or with a broken settings file) it is ``auto``.
    """
    name, checkpoint = "auto", None
    try:
        from player.settings import Settings

        settings = Settings.load()
        name = str(settings.get("embedder") or "auto")
        checkpoint = str(settings.get("mert_model_dir") or "") or None
    except (ImportError, KeyError, UserFacingError):
        pass
    if name == "auto" and checkpoint is None:
        return get_embedder("auto")
    return get_embedder(name, checkpoint=checkpoint)


def available_spaces() -> list[str]:
    """Vector spaces this machine can produce right now (descriptor always)."""
    from player.embedding.checkpoints import find_checkpoint
    from player.embedding.descriptor import SPACE

    spaces = [SPACE]
    if find_checkpoint() is not None:
        spaces.append(get_embedder("mert").space)
    return spaces

# SPDX-License-Identifier: MIT
"""Where a MERT checkpoint may be on this machine, found without importing torch.

Kept apart from :mod:`player.embedding.mert` because importing torch takes about a
second and holds the interpreter lock: "is there a checkpoint?" must stay cheap for
``get_embedder("auto")`` and the UI. Nothing here touches the network.
"""

from __future__ import annotations

import os
from pathlib import Path

from player.hf_cache import hf_cache_folder

#: Hugging Face repositories we know how to load, and their vector-space ids.
KNOWN_REPOS = {"m-a-p/MERT-v1-95M": "mert-v1-95m", "m-a-p/MERT-v1-330M": "mert-v1-330m"}


def find_checkpoint() -> Path | None:
    """A locally available MERT folder: ``$INFINITE_PLAYER_MERT``, a model downloaded
    from the catalogue (never a half-downloaded one), or the HF cache (95M first)."""
    env = os.environ.get("INFINITE_PLAYER_MERT")
    if env:
        return Path(env).expanduser()
    from player.models import by_family, usable_folder

    for entry in by_family("mert"):
        installed = usable_folder(entry)
        if installed is not None:
            return installed
    for repo in KNOWN_REPOS:
        folder = hf_cache_folder(repo)
        if folder is not None:
            return folder
    return None

"""Finding checkpoints in the Hugging Face cache by path, without importing its client.

Importing ``huggingface_hub`` pulls in dozens of modules; done on a worker thread while
the radio plays, that import holds the interpreter long enough to stall the GUI (measured:
over 100 ms). The cache layout is stable and documented, so a look at the folders does.
"""

from __future__ import annotations

import os
from pathlib import Path


def hub_cache_dir() -> Path:
    """``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``."""
    explicit = os.environ.get("HF_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache", "huggingface"
    )
    return Path(home) / "hub"


def hf_cache_folder(repo: str, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The newest local snapshot of ``repo`` holding a ``config.json``, or ``None``."""
    hub = Path(cache_dir) if cache_dir else hub_cache_dir()
    snapshots = hub / ("models--" + repo.replace("/", "--")) / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates = [p for p in snapshots.iterdir() if (p / "config.json").is_file()]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None

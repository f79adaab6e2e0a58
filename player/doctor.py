"""What this machine offers the app: database, audio, GPU, model checkpoints, data folder.

Each probe is independent and never raises: a missing sound card or GPU is a fact to
report, not a failure, because the app has a fallback for each.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass, field
from typing import Any

from base.paths import data_dir
from player.hf_cache import hf_cache_folder

#: Hugging Face cache repos the app can use when present (the app downloads only on the
#: listener's request, into its data folder: ``infinite-player models get``).
KNOWN_CHECKPOINTS = {
    "mert": ("m-a-p/MERT-v1-95M", "m-a-p/MERT-v1-330M"),
    "musicgen": ("facebook/musicgen-small", "facebook/musicgen-medium", "facebook/musicgen-melody"),
}


CHECKPOINT_LABELS = {"mert": "MERT", "musicgen": "MusicGen"}


@dataclass
class Report:
    data_folder: str = ""
    database: dict[str, Any] = field(default_factory=dict)
    audio: dict[str, Any] = field(default_factory=dict)
    gpu: dict[str, Any] = field(default_factory=dict)
    checkpoints: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run(check_database: bool = True) -> Report:
    report = Report(data_folder=str(data_dir()))
    report.database = probe_database() if check_database else {"checked": False}
    report.audio = probe_audio()
    report.gpu = probe_gpu()
    report.checkpoints = probe_checkpoints()
    report.gpu["generation"] = engine_reason(report.gpu)
    return report


def probe_database() -> dict[str, Any]:
    from db.database import Database
    from db.url import configured_url

    kind = "url" if configured_url() else "embedded"
    try:
        database = Database.open_default(migrate_schema=False)
    except Exception as exc:
        return {"kind": kind, "ok": False, "error": str(exc)}
    try:
        states = database.migration_status()
        pending = [f"{s.version}_{s.name}" for s in states if s.state != "applied"]
        return {
            "kind": kind,
            "ok": True,
            "where": database.describe(),
            "migrated": not pending,
            "not_applied": pending,
        }
    except Exception as exc:
        return {"kind": kind, "ok": False, "where": database.describe(), "error": str(exc)}
    finally:
        database.close()


def probe_audio() -> dict[str, Any]:
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        return {"ok": False, "devices": [], "error": f"PortAudio is not available: {exc}"}
    try:
        devices = [
            {
                "index": i,
                "name": d["name"],
                "channels": d["max_output_channels"],
                "samplerate": d["default_samplerate"],
            }
            for i, d in enumerate(sd.query_devices())
            if d["max_output_channels"] > 0
        ]
    except Exception as exc:
        return {"ok": False, "devices": [], "error": str(exc)}
    return {"ok": bool(devices), "devices": devices}


def probe_gpu() -> dict[str, Any]:
    if importlib.util.find_spec("torch") is None:
        return {"cuda": False, "mps": False, "note": "torch is not installed"}
    import torch

    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
    if info["cuda"]:
        info["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        info["vram_gb"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    mps = getattr(torch.backends, "mps", None)
    info["mps"] = bool(mps and mps.is_available())
    return info


def probe_checkpoints() -> dict[str, list[str]]:
    """Models downloaded from the catalogue (or half-downloaded: said so), folders put in
    the data folder's ``models/`` by hand, and the Hugging Face cache."""
    from player.models import by_family, local_state

    found: dict[str, list[str]] = {}
    for family, repos in KNOWN_CHECKPOINTS.items():
        hits = []
        for entry in by_family(family):
            state = local_state(entry)
            if state.state == "installed":
                hits.append(f"{entry.name} ({state.folder}, verified)")
            elif state.state == "manual":
                hits.append(f"{entry.name} ({state.folder})")
            elif state.state == "partial":
                hits.append(
                    f"{entry.name} only partly downloaded: finish it with "
                    f"`infinite-player models get {entry.name}`"
                )
        for repo in repos:
            if hf_cache_folder(repo) is not None:
                hits.append(f"{repo} (Hugging Face cache)")
        found[family] = hits
    return found


def engine_reason(gpu: dict[str, Any]) -> str:
    """Why ``auto`` generates with the engine it does, from what :func:`probe_gpu` saw."""
    from player.generation.engines import choose_engine

    kind = "cuda" if gpu.get("cuda") else "mps" if gpu.get("mps") else None
    return choose_engine(gpu=(kind, gpu.get("vram_gb"))).reason


def format_report(report: Report) -> str:
    lines = [f"Data folder: {report.data_folder}"]
    db = report.database
    if db.get("checked") is False:
        lines.append("Database:    not checked")
    elif db.get("ok"):
        state = (
            "migrated"
            if db["migrated"]
            else f"NOT migrated ({len(db['not_applied'])} pending: "
            "run `infinite-player db migrate`)"
        )
        lines.append(f"Database:    {db['where']} ({db['kind']}), {state}")
    else:
        lines.append(f"Database:    unavailable ({db['kind']}): {db.get('error')}")
    audio = report.audio
    if audio["devices"]:
        names = ", ".join(d["name"] for d in audio["devices"])
        lines.append(f"Audio:       {len(audio['devices'])} output device(s): {names}")
    else:
        why = f" ({audio['error']})" if audio.get("error") else ""
        lines.append(f"Audio:       no output device{why}; the app runs silently (null output)")
    gpu = report.gpu
    if gpu.get("cuda"):
        lines.append(f"GPU:         CUDA: {', '.join(gpu['devices'])}")
    elif gpu.get("mps"):
        lines.append("GPU:         Apple MPS")
    else:
        lines.append(
            "GPU:         none (no CUDA, no MPS); generation and embeddings use the CPU engines"
        )
    for family, hits in report.checkpoints.items():
        label = f"{CHECKPOINT_LABELS[family]}:".ljust(13)
        none = (
            "no checkpoint found locally (get one: Settings > Models, or `infinite-player "
            "models list`)"
        )
        lines.append(f"{label}{', '.join(hits) if hits else none}")
    if report.gpu.get("generation"):
        lines.append(f"Generation:  {report.gpu['generation']}")
    return "\n".join(lines)

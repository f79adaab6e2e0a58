"""The app's settings: declared once, typed, with defaults and upgrades.

Every option lives in :data:`OPTIONS` with its type, default and a line saying what it is
for, so the settings view, the CLI and the core read the same truth. Values are stored as
JSON in the data folder (``settings.json``), written atomically so a crash mid-save never
leaves a half-written file. Files written by older versions are brought forward by the
functions in :data:`UPGRADES`; keys nobody declares any more are dropped on load so they
cannot linger and confuse a later version.

Window geometry and the last view are Qt's business and live in ``QSettings`` in ``ui/``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from base.errors import UserFacingError
from base.paths import data_dir

SETTINGS_FILE = "settings.json"
#: Bump when an upgrade is added; the file records the version it was written with.
VERSION = 2


@dataclass(frozen=True)
class Option:
    """One setting: its key, Python type, default and purpose."""

    key: str
    type: type
    default: Any
    doc: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to this option's type, or raise naming the problem."""
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.type is not type(value) and not (value is None and self.default is None):
            raise UserFacingError(
                f"setting {self.key!r} must be {self.type.__name__}, got {value!r}"
            )
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise UserFacingError(f"setting {self.key!r} must be one of {allowed}; got {value!r}")
        number: Any = value
        if self.minimum is not None and number < self.minimum:
            raise UserFacingError(f"setting {self.key!r} must be at least {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise UserFacingError(f"setting {self.key!r} must be at most {self.maximum}")
        return value


OPTIONS: dict[str, Option] = {
    o.key: o
    for o in (
        Option(
            "database_url",
            str,
            "",
            "Postgres URL of the app's database; empty uses the embedded server.",
        ),
        Option("sync_url", str, "", "Postgres URL of the shared database to sync with (optional)."),
        Option(
            "supabase_url",
            str,
            "",
            "Supabase project URL for sign-in and sync (https://<ref>.supabase.co).",
        ),
        Option("supabase_key", str, "", "The Supabase project's publishable (anon) key."),
        Option("audio_device", str, "", "Output device name; empty uses the system default."),
        Option(
            "crossfade_seconds",
            float,
            0.0,
            "Crossfade between tracks in seconds; 0 is gapless.",
            minimum=0.0,
            maximum=12.0,
        ),
        Option(
            "loudness_target_lufs",
            float,
            -14.0,
            "Loudness every track is normalised to (LUFS).",
            minimum=-30.0,
            maximum=-5.0,
        ),
        Option("volume", float, 0.8, "Playback volume, 0 to 1.", minimum=0.0, maximum=1.0),
        Option(
            "generation_engine",
            str,
            "auto",
            "Which generator makes new music.",
            choices=("auto", "procedural", "musicgen"),
        ),
        Option("musicgen_model_dir", str, "", "Folder of a local MusicGen checkpoint."),
        Option(
            "embedder",
            str,
            "auto",
            "Which embedder describes audio.",
            choices=("auto", "descriptor", "mert"),
        ),
        Option("mert_model_dir", str, "", "Folder of a local MERT checkpoint."),
        Option(
            "accepted_model_licences",
            dict,
            {},
            "Model name -> licence id the listener accepted before downloading it.",
        ),
        Option(
            "daily_limit",
            int,
            20,
            "Generations per UTC day for free accounts.",
            minimum=1,
            maximum=10_000,
        ),
        Option(
            "radio_ahead",
            int,
            2,
            "Tracks the radio keeps generated ahead of playback.",
            minimum=1,
            maximum=8,
        ),
        Option(
            "track_seconds",
            int,
            150,
            "Length of each generated radio track in seconds.",
            minimum=10,
            maximum=900,
        ),
        Option("user_email", str, "", "Email of the profile this app opens."),
        Option(
            "spotify_client_id",
            str,
            "",
            "Client id of your Spotify app (PKCE: no secret is needed or stored).",
        ),
        Option(
            "spotify_redirect_uri",
            str,
            "",
            "Loopback redirect registered with the Spotify app (default http://127.0.0.1:8765/callback).",
        ),
        Option("minimize_to_tray", bool, False, "Closing the window keeps playing in the tray."),
    )
}


def _upgrade_1_to_2(raw: dict[str, Any]) -> dict[str, Any]:
    # Version 1 stored the crossfade in milliseconds under "crossfade_ms".
    if "crossfade_ms" in raw:
        raw["crossfade_seconds"] = float(raw.pop("crossfade_ms")) / 1000.0
    return raw


#: ``UPGRADES[n]`` turns a version-``n`` dict into a version ``n + 1`` dict.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _upgrade_1_to_2}


class Settings:
    """Typed access to the stored settings; unknown keys are rejected loudly."""

    def __init__(self, path: Path | None = None, values: dict[str, Any] | None = None) -> None:
        self.path = path if path is not None else data_dir() / SETTINGS_FILE
        self._values: dict[str, Any] = {k: o.default for k, o in OPTIONS.items()}
        for key, value in (values or {}).items():
            self.set(key, value)

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read the settings file (missing file → defaults; a broken one is a clear error)."""
        path = path if path is not None else data_dir() / SETTINGS_FILE
        if not path.exists():
            return cls(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserFacingError(f"cannot read settings file {path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise UserFacingError(f"settings file {path} must hold a JSON object")
        version = int(raw.pop("version", 1))
        while version < VERSION:
            raw = UPGRADES[version](raw)
            version += 1
        known = {k: v for k, v in raw.items() if k in OPTIONS}
        return cls(path, known)

    def get(self, key: str) -> Any:
        if key not in OPTIONS:
            raise KeyError(f"unknown setting {key!r}")
        return self._values[key]

    def set(self, key: str, value: Any) -> None:
        option = OPTIONS.get(key)
        if option is None:
            raise UserFacingError(f"unknown setting {key!r}")
        self._values[key] = option.validate(value)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def save(self) -> None:
        """Write atomically: a temp file in the same folder, then rename over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": VERSION, **self._values}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __getattr__(self, key: str) -> Any:
        # Attribute access (settings.crossfade_seconds) for readability at call sites.
        if key.startswith("_") or key not in OPTIONS:
            raise AttributeError(key)
        return self._values[key]

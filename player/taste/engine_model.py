"""What a request will sound like, before it is rendered: the procedural engine, learned.

The sound model (:mod:`player.taste.sound`) knows what a listener likes in the terms they
judge by — tempo heard, minorness, brightness, onsets — but it can only judge sounds that
exist, and rendering a preview costs a few hundred milliseconds. So it used to pick among
the four candidates the *request* model proposed, and a taste the request model had not
yet found ("slow *and* bright *and* major": a handful of corners of the request space)
was found only by luck.

:class:`EngineSoundModel` closes that gap: a ridge regression from a request's controls
(genre, tempo, scale, energy, density, brightness, swing, bass, palette, with per-genre
slopes) to the preview's description, fitted offline on renders of random requests and
shipped as ``engine_sound.json``. It predicts every candidate of a planning round in a
few microseconds, with the spread of its residuals as its honesty about what it cannot
predict (a seed's minorness, a beat tracker's octave errors); the planner lets the sound
model score hundreds of predicted sounds and auditions only the best few, where the
real description decides.

The fit belongs to one engine: when the engine's sound changes, refit with
``python -m player.taste.engine_model --fit 800`` (a few minutes on one core);
``tests/core/test_engine_model.py`` fails while the shipped fit no longer predicts the
engine.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from player.generation.genres import GENRES
from player.taste.sound import DESCRIPTION_VERSION, SOUND_MEAN, SOUND_NAMES, SOUND_SPREAD

if TYPE_CHECKING:  # the listener module imports this one
    from player.taste.listener import Candidates

log = logging.getLogger(__name__)

FIT_FILE = "engine_sound.json"
FIT_VERSION = 1
#: Palette slots per genre in the regression (a request's palette is taken modulo this).
PALETTE_SLOTS = 8
#: Ridge penalty, in standardised target units per unit of feature.
RIDGE = 3.0
_SLOPES = ("brightness", "density", "energy", "bpm", "minor", "swing")


#: Tempo bumps (log2 BPM): a beat tracker folds slow and fast grooves into its favourite
#: octave, so what is heard is not a straight line of what is asked.
_BPM_CENTERS = np.log2(np.arange(60.0, 181.0, 10.0))
_BPM_WIDTH = 0.12


#: Where a beat tracker hears a groove, relative to the requested tempo (log2: half time,
#: as asked, double time), and the requested tempos the octave chances are tabled at.
OCTAVES = (-1.0, 0.0, 1.0)
OCTAVE_STEP = 2.0
OCTAVE_GRID = np.arange(60.0, 180.0 + OCTAVE_STEP / 2, OCTAVE_STEP)
OCTAVE_KERNEL = 0.06  # log2 BPM: renders within about ±4 % of a tempo count fully
OCTAVE_SHRINK = 3.0


def _n_features(n_scales: int) -> int:
    g = len(GENRES)
    bumps = len(_BPM_CENTERS)
    return g + (g + 1) * len(_SLOPES) + n_scales + 3 + g * PALETTE_SLOTS + 2 + 2 * bumps


def design(c: Candidates) -> np.ndarray:
    """The regression's features of many requests: ``(len(c), n_features)``."""
    from player.taste.listener import _MINOR_INDEX as minor_index
    from player.taste.listener import SCALES

    n_scales = len(SCALES)
    n = len(c.bpm)
    g = len(GENRES)
    rows = np.arange(n)
    x = np.zeros((n, _n_features(n_scales)))
    at = 0
    x[rows, at + c.genre] = 1.0
    at += g
    slope_values = {
        "brightness": c.brightness - 0.5,
        "density": c.density - 0.5,
        "energy": c.energy - 0.5,
        "bpm": np.log2(np.maximum(c.bpm, 1.0) / 110.0),
        "minor": minor_index[c.scale] - 0.5,
        "swing": c.swing - 0.5,
    }
    # A slope shared by all genres, then each genre's own deviation from it: the ridge
    # shrinks the deviations (a genre has few renders), not the slope every render shows.
    for name in _SLOPES:
        x[:, at] = slope_values[name]
        x[rows, at + 1 + c.genre] = slope_values[name]
        at += g + 1
    x[rows, at + c.scale] = 1.0
    at += n_scales
    x[rows, at + c.bass] = 1.0
    at += 3
    x[rows, at + c.genre * PALETTE_SLOTS + c.palette % PALETTE_SLOTS] = 1.0
    at += g * PALETTE_SLOTS
    x[:, at] = (c.brightness - 0.5) ** 2
    x[:, at + 1] = (c.density - 0.5) ** 2
    at += 2
    bumps = np.exp(
        -0.5 * ((np.log2(np.maximum(c.bpm, 1.0))[:, None] - _BPM_CENTERS) / _BPM_WIDTH) ** 2
    )
    x[:, at : at + len(_BPM_CENTERS)] = bumps
    at += len(_BPM_CENTERS)
    x[:, at : at + len(_BPM_CENTERS)] = bumps * (c.density - 0.5)[:, None]
    return x


@dataclass(frozen=True)
class EngineSoundModel:
    """Predicted preview descriptions of requests (in :data:`SOUND_NAMES` order)."""

    weights: np.ndarray  # (n_features, dims), standardised targets
    residual: np.ndarray  # (dims,) residual spread, in description units
    samples: int
    #: (genres, len(OCTAVE_GRID), len(OCTAVES)): how likely the beat tracker hears each
    #: genre's groove at each requested tempo at half, the same or double time; None in
    #: a fit made before it was learned.
    octaves: np.ndarray | None = None
    octave_spread: float = 0.05  # log2 BPM: how far from the exact octave it is heard

    def heard_tempo(self, c: Candidates) -> tuple[np.ndarray, np.ndarray, float] | None:
        """Where the beat tracker may hear each request's tempo: ``(log2 BPM, chance,
        spread)``, the first two ``(len(c), len(OCTAVES))``, the last how far from the
        exact octave it is heard (log2). A straight-line prediction of the heard tempo is
        useless (leave-one-out R² 0.18): it lands between the octaves, and a 160-BPM
        request heard at 80 with a chance of 0.96 becomes "about 110, give or take". The
        octave itself is quite predictable from the genre and the requested tempo."""
        if self.octaves is None:
            return None
        log_bpm = np.log2(np.maximum(c.bpm, 1.0))
        at = np.clip(np.rint((c.bpm - OCTAVE_GRID[0]) / OCTAVE_STEP), 0, len(OCTAVE_GRID) - 1)
        chance = self.octaves[c.genre, at.astype(int)]
        return (
            log_bpm[:, None] + np.asarray(OCTAVES)[None, :],
            np.asarray(chance),
            self.octave_spread,
        )

    def predict(self, c: Candidates) -> np.ndarray:
        """The expected description of each request: ``(len(c), dims)``."""
        z = design(c) @ self.weights
        out = z * SOUND_SPREAD + SOUND_MEAN
        out[:, 0] = np.log2(np.maximum(c.bpm, 1.0))  # the requested tempo is known exactly
        return np.asarray(out)

    @classmethod
    def fit(
        cls, controls: Sequence[Any], sounds: np.ndarray, ridge: float = RIDGE
    ) -> EngineSoundModel:
        """Ridge regression of ``sounds`` (one description per request) on the controls."""
        from player.taste.listener import Candidates

        x = design(Candidates.of(list(controls)))
        y = (np.asarray(sounds, dtype=float) - SOUND_MEAN) / SOUND_SPREAD
        a = x.T @ x + ridge * np.eye(x.shape[1])
        w = np.linalg.solve(a, x.T @ y)
        resid = (y - x @ w) * SOUND_SPREAD
        # Leave-one-out residuals (exact for ridge): the spread a new request will see,
        # not the optimistic in-sample one.
        hat = np.einsum("ij,ji->i", x, np.linalg.solve(a, x.T))
        loo = resid / np.maximum(1.0 - hat, 1e-3)[:, None]
        spread = np.sqrt((loo**2).mean(axis=0))
        spread[0] = 0.0
        octaves, octave_spread = fit_octaves(controls, np.asarray(sounds, dtype=float))
        return cls(w, spread, len(y), octaves, octave_spread)

    def state(self) -> dict[str, Any]:
        return {
            "version": FIT_VERSION,
            "description": DESCRIPTION_VERSION,
            "names": list(SOUND_NAMES),
            "genres": list(GENRES),
            "samples": self.samples,
            "residual": [round(float(v), 5) for v in self.residual],
            "weights": [[round(float(v), 5) for v in row] for row in self.weights],
            **(
                {
                    "octaves": np.round(self.octaves, 4).tolist(),
                    "octave_spread": round(self.octave_spread, 5),
                }
                if self.octaves is not None
                else {}
            ),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EngineSoundModel:
        from player.taste.listener import SCALES

        if state.get("version") != FIT_VERSION or list(state.get("names", [])) != list(SOUND_NAMES):
            raise ValueError("the engine sound fit is of another version: refit it")
        if state.get("description") != DESCRIPTION_VERSION:
            raise ValueError("the engine sound fit describes sounds another way: refit it")
        if list(state.get("genres", [])) != list(GENRES):
            raise ValueError("the engine sound fit knows other genres: refit it")
        weights = np.asarray(state["weights"], dtype=float)
        if weights.shape != (_n_features(len(SCALES)), len(SOUND_NAMES)):
            raise ValueError(f"the engine sound fit has the wrong shape {weights.shape}")
        octaves = np.asarray(state["octaves"], dtype=float) if "octaves" in state else None
        if octaves is not None and octaves.shape != (len(GENRES), len(OCTAVE_GRID), len(OCTAVES)):
            raise ValueError(f"the engine sound fit's octaves have the wrong shape {octaves.shape}")
        return cls(
            weights,
            np.asarray(state["residual"], dtype=float),
            int(state["samples"]),
            octaves,
            float(state.get("octave_spread", 0.05)),
        )


def fit_octaves(controls: Sequence[Any], sounds: np.ndarray) -> tuple[np.ndarray, float]:
    """The chance of each octave (:data:`OCTAVES`) per genre and requested tempo, from
    renders: a kernel average over nearby tempos (:data:`OCTAVE_KERNEL`), each genre's
    own renders shrunk towards all genres' (:data:`OCTAVE_SHRINK` renders' worth), so a
    genre with few renders at a tempo borrows what the beat tracker does to every
    genre there. Also the spread of the heard tempo around its octave."""
    from player.taste.listener import Candidates

    c = Candidates.of(list(controls))
    octaves = np.asarray(OCTAVES)
    offset = sounds[:, 1] - np.log2(np.maximum(c.bpm, 1.0))
    which = np.argmin(np.abs(offset[:, None] - octaves[None, :]), axis=1)
    onehot = np.eye(len(OCTAVES))[which]
    off = offset - octaves[which]  # from the nearest octave
    spread = float(np.sqrt(np.mean(off[np.abs(off) < 0.25] ** 2)))
    k = np.exp(
        -0.5 * ((np.log2(OCTAVE_GRID)[:, None] - np.log2(c.bpm)[None, :]) / OCTAVE_KERNEL) ** 2
    )  # (grid, renders)
    every = (k @ onehot + 1.0 / len(OCTAVES)) / (k.sum(axis=1, keepdims=True) + 1.0)
    table = np.zeros((len(GENRES), len(OCTAVE_GRID), len(OCTAVES)))
    for g in range(len(GENRES)):
        kg = k * (c.genre == g)[None, :]
        table[g] = (kg @ onehot + OCTAVE_SHRINK * every) / (
            kg.sum(axis=1, keepdims=True) + OCTAVE_SHRINK
        )
    return table, spread


@functools.cache
def shipped() -> EngineSoundModel | None:
    """The fit that ships with the engine, or None when it is missing or stale (the
    planner then auditions what the request model proposes, as before). Read once per
    process, a missing fit included: planning asks for it every round."""
    try:
        text = resources.files("player.taste").joinpath(FIT_FILE).read_text()
        return EngineSoundModel.from_state(json.loads(text))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("no engine sound fit: %s", exc)
        return None


def collect(n: int, seed: int = 0, seconds: float = 8.0) -> tuple[list[Any], np.ndarray]:
    """Render the openings of ``n`` random requests and describe them."""
    from player.generation.protocol import GenerationRequest
    from player.taste.listener import Bounds
    from player.taste.sound import Auditioner

    rng = np.random.default_rng(seed)
    auditioner = Auditioner(seconds)
    controls = Bounds().sample(rng, n)
    sounds = []
    for c in controls:
        request = GenerationRequest(
            mode="radio", genres=[c.genre], tempo_bpm=c.bpm, scale=c.scale, energy=c.energy,
            density=c.density, brightness=c.brightness, swing=c.swing, palette=c.palette,
            bass_level=c.bass_level, seed=int(rng.integers(2**31)),
            duration_seconds=seconds + 4.0,
        )  # fmt: skip
        preview = auditioner.preview(request)
        assert preview is not None
        sounds.append(preview.sound)
    return controls, np.array(sounds)


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Refit what requests sound like (dev tool).")
    ap.add_argument("--fit", type=int, default=800, help="random requests to render")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).with_name(FIT_FILE)))
    ap.add_argument(
        "--data", help="JSON of the renders' descriptions: read if it exists, else written"
    )
    args = ap.parse_args(argv)
    from player.taste.listener import Controls

    data = Path(args.data) if args.data else None
    if data is not None and data.exists():
        pairs = [(Controls.from_params(r["c"]), r["sound"]) for r in json.loads(data.read_text())]
        controls = [c for c, _ in pairs if c is not None]
        sounds = np.array([s for c, s in pairs if c is not None])
    else:
        controls, sounds = collect(args.fit, args.seed)
        if data is not None:
            rows = [
                {"c": c.as_dict(), "sound": s.tolist()}
                for c, s in zip(controls, sounds, strict=True)
            ]
            data.write_text(json.dumps(rows))
    model = EngineSoundModel.fit(controls, sounds)
    Path(args.out).write_text(json.dumps(model.state(), separators=(",", ":")) + "\n")
    mean, spread = sounds.mean(axis=0), sounds.std(axis=0)
    print("SOUND_MEAN", np.round(mean, 4).tolist(), "\nSOUND_SPREAD", np.round(spread, 4).tolist())
    for name, resid, sd in zip(SOUND_NAMES, model.residual, spread, strict=True):
        print(f"{name:16s} residual {resid:.4f}  (spread over requests {sd:.4f})")
    print(f"wrote {args.out} from {len(sounds)} renders")


if __name__ == "__main__":  # pragma: no cover
    main()

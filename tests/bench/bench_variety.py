# SPDX-License-Identifier: MIT
"""Variety benchmark of the procedural engine (issue 18), old and new engine in one run.

    .venv/bin/python tests/bench/bench_variety.py [--corpus DIR] [--baseline-root DIR]
        [--genres pop,house] [--seeds 12] [--seconds 30] [--novelty-seeds 2]
        [--png docs/variety.png]

Real music: the soundtracks of Debian's ``supertux-data`` and ``hedgewars-data``
(openly licensed game music; one album per SuperTux music folder, Hedgewars is one).
Get them once, outside the repository (no audio is ever committed)::

    mkdir -p /tmp/variety-corpus && cd /tmp/variety-corpus
    apt-get download supertux-data hedgewars-data
    for d in *.deb; do dpkg -x "$d" root; done

and pass ``--corpus /tmp/variety-corpus/root`` (or set ``INFINITE_PLAYER_SOUNDTRACKS``).

Per genre, ``--seeds`` tracks of ``--seconds`` are rendered and described by
independent librosa features (MFCC means and spreads, chroma, spectral contrast,
log-mel), standardised on 30-s clips of the real tracks. Reported:

- spread ratio: mean distance to the genre's centroid, divided by the median of the
  same figure within one real album (one composer, one soundtrack);
- genre identity: leave-one-out nearest-centroid accuracy among the generated tracks;
- within-track novelty: the mean of a Foote novelty curve (checkerboard kernel over the
  self-similarity of 1-s frames) of 3-minute tracks, against real tracks of 2 min or more;
- render speed: seconds of audio per CPU second (single-threaded BLAS, so one core) of
  the 3-minute tracks;
- where the spread is short and what identity rests on (the new engine): each feature
  family's spread against a real album's, the genres each genre is mistaken for, and the
  share of a genre's variance along the differences between genre centroids (the only
  directions a nearest-centroid rule looks at: variation orthogonal to them is free of
  identity cost, variation along them is not);
- the room the two goals leave each other: every generated track pooled against an
  album, the share of the engine's variance that lies between genres, and how well the
  same nearest-centroid rule tells the real albums apart at their own spread.

``--baseline-ref REF`` (default: the last commit before issue 18's work) exports that
commit's ``player/`` with ``git archive`` to a temporary folder and renders the same
tracks with it in a child process, so old and new figures come from one run, side by
side (``--baseline-root DIR`` takes an existing tree instead; ``--baseline-ref ''`` skips).
A PNG of log-mel thumbnails (a genre per row, a seed per column) is written to ``--png``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from itertools import pairwise  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from baseline_tree import export  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SR = 22050
CLIP_OFFSET = 20.0  # seconds into a real track, past most intros
NOVELTY_SECONDS = 180.0
BASELINE_REF = "7bdc739"  # main just before the controls and variety work of issue 18
KERNEL_HALF = 8  # frames (1 s each) either side of the checkerboard's centre


# ---------------------------------------------------------------------------- features
def clip_features(y: np.ndarray) -> np.ndarray:
    """One vector per clip: MFCC means and stds, chroma, contrast, log-mel means."""
    import librosa

    mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20)
    chroma = librosa.feature.chroma_stft(y=y, sr=SR)
    contrast = librosa.feature.spectral_contrast(y=y, sr=SR)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, n_mels=32))
    return np.concatenate(
        [mfcc.mean(1), mfcc.std(1), chroma.mean(1), contrast.mean(1), mel.mean(1)]
    ).astype(np.float64)


# Dimensions of each feature family in ``clip_features``; each family weighs the same in
# distances (32 log-mel bands would otherwise outvote 7 contrast bands).
FAMILIES = (20, 20, 12, 7, 32)
WEIGHTS = np.concatenate([np.full(n, 1.0 / np.sqrt(n)) for n in FAMILIES])


def frame_features(y: np.ndarray) -> np.ndarray:
    """(frames, dims) of 1-s frames: MFCC, chroma and contrast averaged per second."""
    import librosa

    hop = 512
    mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, hop_length=hop)
    chroma = librosa.feature.chroma_stft(y=y, sr=SR, hop_length=hop)
    contrast = librosa.feature.spectral_contrast(y=y, sr=SR, hop_length=hop)
    feats = np.concatenate([mfcc, chroma, contrast])
    per = SR // hop
    n = feats.shape[1] // per
    return feats[:, : n * per].reshape(feats.shape[0], n, per).mean(axis=2).T


def novelty(frames: np.ndarray) -> float:
    """Mean Foote novelty of a track's 1-s frames (each dimension z-scored per track)."""
    z = (frames - frames.mean(0)) / (frames.std(0) + 1e-9)
    z /= np.linalg.norm(z, axis=1, keepdims=True) + 1e-9
    ssm = z @ z.T
    k = KERNEL_HALF
    g = np.exp(-0.5 * ((np.arange(-k, k) + 0.5) / (0.5 * k)) ** 2)
    sign = np.sign(np.arange(-k, k) + 0.5)
    kernel = np.outer(g, g) * np.outer(sign, sign)
    kernel /= np.abs(kernel).sum()
    n = len(ssm)
    curve = [float((kernel * ssm[i - k : i + k, i - k : i + k]).sum()) for i in range(k, n - k)]
    return float(np.mean(curve)) if curve else 0.0


def log_mel_thumb(y: np.ndarray, width: int = 96, height: int = 32) -> np.ndarray:
    import librosa

    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, n_mels=height), ref=np.max)
    cols = np.array_split(np.arange(mel.shape[1]), width)
    thumb = np.stack([mel[:, c].mean(axis=1) for c in cols], axis=1)[::-1]
    return np.clip((thumb + 70.0) / 70.0, 0.0, 1.0)  # 70 dB below the clip's loudest


# ----------------------------------------------------------------------- the worker side
def worker(args: argparse.Namespace) -> None:
    """Render with the engine on ``sys.path`` and save features, thumbs and timings."""
    import librosa

    import player.generation.procedural as engine
    from player.generation.procedural import SAMPLERATE, ProceduralGenerator
    from player.generation.protocol import GenerationRequest

    print(f"  engine {Path(engine.__file__).parents[2]}", file=sys.stderr, flush=True)
    gen = ProceduralGenerator()
    genres = args.genres.split(",")
    out: dict[str, np.ndarray] = {}
    timings = {}
    for genre in genres:
        feats, thumbs, cpu, audio_s = [], [], 0.0, 0.0
        for seed in range(1, args.seeds + 1):
            audio = gen.generate(
                GenerationRequest(genres=[genre], seed=seed, duration_seconds=args.seconds)
            ).render()
            y = librosa.resample(audio.mean(axis=1), orig_sr=SAMPLERATE, target_sr=SR)
            feats.append(clip_features(y))
            thumbs.append(log_mel_thumb(y))
        nov = []
        for seed in range(101, 101 + args.novelty_seeds):
            t0 = time.process_time()  # one thread (BLAS pinned to one): CPU time = one core
            audio = gen.generate(
                GenerationRequest(genres=[genre], seed=seed, duration_seconds=NOVELTY_SECONDS)
            ).render()
            cpu += time.process_time() - t0
            audio_s += len(audio) / SAMPLERATE
            y = librosa.resample(audio.mean(axis=1), orig_sr=SAMPLERATE, target_sr=SR)
            nov.append(novelty(frame_features(y)))
        out[f"feat/{genre}"] = np.stack(feats)
        out[f"thumb/{genre}"] = np.stack(thumbs)
        out[f"novelty/{genre}"] = np.array(nov)
        timings[genre] = audio_s / max(cpu, 1e-9)
        print(f"  {genre}: {timings[genre]:.0f}x real time", file=sys.stderr, flush=True)
    out["timings"] = np.array(json.dumps(timings))
    np.savez_compressed(args.out, **out)  # type: ignore[arg-type]


def run_worker(engine_root: Path, args: argparse.Namespace, out: Path) -> dict[str, np.ndarray]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--genres",
        args.genres,
        "--seeds",
        str(args.seeds),
        "--seconds",
        str(args.seconds),
        "--novelty-seeds",
        str(args.novelty_seeds),
        "--out",
        str(out),
    ]
    env = dict(os.environ, PYTHONPATH=str(engine_root))
    print(f"rendering with the engine of {engine_root} ...", flush=True)
    subprocess.run(cmd, env=env, check=True, cwd=str(engine_root))
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


# ------------------------------------------------------------------------- real music
def real_tracks(corpus: Path) -> list[tuple[Path, str]]:
    tracks = []
    for p in sorted(corpus.rglob("*.ogg")):
        if "supertux2" in p.parts and "music" in p.parts:
            tracks.append((p, f"supertux/{p.parent.name}"))
        elif "hedgewars" in p.parts and p.parent.name == "Music":
            tracks.append((p, "hedgewars"))
    return tracks


def real_features(corpus: Path, cache: Path) -> dict[str, object]:
    """Clip features per album and novelty per long track, cached by the file list."""
    import librosa

    tracks = real_tracks(corpus)
    if not tracks:
        raise SystemExit(f"no soundtrack found under {corpus}: see this file's docstring")
    digest = hashlib.sha1("\n".join(str(t[0]) for t in tracks).encode()).hexdigest()[:10]
    path = cache / f"real_v3_{digest}.npz"
    if path.is_file():
        with np.load(path) as d:
            return {
                "feats": d["feats"],
                "albums": list(d["albums"]),
                "novelty": d["novelty"],
            }
    feats, albums, nov = [], [], []
    for p, album in tracks:
        y, _ = librosa.load(str(p), sr=SR, mono=True, duration=CLIP_OFFSET + NOVELTY_SECONDS)
        if len(y) >= (CLIP_OFFSET + 30) * SR:
            feats.append(clip_features(y[int(CLIP_OFFSET * SR) : int((CLIP_OFFSET + 30) * SR)]))
            albums.append(album)
        if len(y) >= 120 * SR:
            nov.append(novelty(frame_features(y[: int(NOVELTY_SECONDS * SR)])))
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, feats=np.stack(feats), albums=np.array(albums), novelty=np.array(nov))
    return {"feats": np.stack(feats), "albums": albums, "novelty": np.array(nov)}


# ----------------------------------------------------------------------------- report
def spread(x: np.ndarray) -> float:
    return float(np.linalg.norm(x - x.mean(0), axis=1).mean())


def nearest(groups: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    """(genre, nearest centroid's genre) of every track, leaving the track out of its own."""
    sums = {g: x.sum(0) for g, x in groups.items()}
    out = []
    for g, x in groups.items():
        for row in x:
            cents = {
                h: (sums[h] - row) / (len(groups[h]) - 1) if h == g else sums[h] / len(groups[h])
                for h in groups
            }
            out.append((g, min(cents, key=lambda h: float(np.linalg.norm(row - cents[h])))))
    return out


def identity(groups: dict[str, np.ndarray]) -> float:
    """Leave-one-out nearest-centroid accuracy."""
    pairs = nearest(groups)
    return sum(g == best for g, best in pairs) / len(pairs)


FAMILY_NAMES = ("mfcc mean", "mfcc std", "chroma", "contrast", "log-mel")


def family_spreads(x: np.ndarray) -> np.ndarray:
    """``spread`` of each feature family alone."""
    edges = np.cumsum((0, *FAMILIES))
    return np.array([spread(x[:, a:b]) for a, b in pairwise(edges)])


def confusions(groups: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """Leave-one-out nearest centroid: for each genre, the others its tracks went to."""
    out: dict[str, dict[str, int]] = {g: {} for g in groups}
    for g, best in nearest(groups):
        if best != g:
            out[g][best] = out[g].get(best, 0) + 1
    return out


def separating_share(groups: dict[str, np.ndarray]) -> dict[str, float]:
    """Share of each genre's within-genre variance that lies in the span of the
    differences between genre centroids: ``||x-c_g||² - ||x-c_h||²`` depends on ``x``
    only through ``x·(c_g-c_h)``, so the rest of the variance costs no identity."""
    cents = np.stack([x.mean(0) for x in groups.values()])
    basis, _ = np.linalg.qr((cents[1:] - cents[0]).T)
    out = {}
    for g, x in groups.items():
        d = x - x.mean(0)
        out[g] = float(((d @ basis) ** 2).sum() / max((d**2).sum(), 1e-12))
    return out


def print_axes(
    groups: dict[str, np.ndarray], album_families: np.ndarray, genres: list[str]
) -> None:
    """Where the spread is short and what identity rests on (see the module docstring)."""
    conf = confusions(groups)
    share = separating_share(groups)
    print("\nper feature family, spread / median album's (new engine):")
    print(f"{'genre':15}" + "".join(f"{n:>11}" for n in FAMILY_NAMES) + "  in-span  mistaken for")
    for g in genres:
        fam = family_spreads(groups[g]) / album_families
        wrong = ", ".join(f"{h} {n}" for h, n in sorted(conf[g].items(), key=lambda t: -t[1]))
        print(f"{g:15}" + "".join(f"{v:11.2f}" for v in fam) + f"{share[g]:9.2f}  {wrong}")


def print_room(
    groups: dict[str, np.ndarray], albums: dict[str, np.ndarray], album_spread: float
) -> None:
    """How much room the two goals leave each other. Pooled over every genre, the
    generated tracks spread only so far; a genre whose own spread reaches the whole
    pool's leaves its centroid nowhere to differ from the others'. The real albums,
    read with the same features, show what separation one album's spread allows."""
    pooled = np.concatenate(list(groups.values()))
    within = float(
        np.mean([np.mean(np.sum((x - x.mean(0)) ** 2, axis=1)) for x in groups.values()])
    )
    total = float(np.mean(np.sum((pooled - pooled.mean(0)) ** 2, axis=1)))
    real_pooled = np.concatenate(list(albums.values()))
    largest = max(len(x) for x in albums.values()) / len(real_pooled)
    print(
        f"\nroom: every generated track pooled spreads {spread(pooled) / album_spread:.2f}x an "
        f"album (the real corpus pooled: {spread(real_pooled) / album_spread:.2f}x); between-genre "
        f"share of the engine's variance {1 - within / total:.2f}; the real albums, classed by "
        f"the same nearest-centroid rule, {identity(albums):.2f} right (largest album "
        f"{largest:.2f} of clips)"
    )


def summarise(
    name: str,
    data: dict[str, np.ndarray],
    mean: np.ndarray,
    std: np.ndarray,
    album_spread: float,
    genres: list[str],
) -> dict[str, object]:
    groups = {g: (data[f"feat/{g}"] - mean) / std * WEIGHTS for g in genres}
    timings = json.loads(str(data["timings"]))
    return {
        "engine": name,
        "ratio": {g: spread(x) / album_spread for g, x in groups.items()},
        "identity": identity(groups),
        "novelty": {g: float(np.mean(data[f"novelty/{g}"])) for g in genres},
        "speed": timings,
    }


def write_png(path: Path, data: dict[str, np.ndarray], genres: list[str], columns: int) -> None:
    """Thumbnails through Qt's image writer (the app's own dependency, no plotting lib)."""
    from PySide6.QtGui import QImage

    rows = []
    for g in genres:
        thumbs = data[f"thumb/{g}"][:columns]
        pad = np.ones((thumbs.shape[1], 2))
        rows.append(np.concatenate([np.concatenate([t, pad], axis=1) for t in thumbs], axis=1))
        rows.append(np.ones((2, rows[-1].shape[1])))
    img = np.concatenate(rows[:-1], axis=0)
    anchors = np.array([[0, 0, 4], [60, 15, 110], [180, 50, 90], [250, 140, 40], [252, 253, 191]])
    pos = img * (len(anchors) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(anchors) - 2)
    frac = (pos - lo)[..., None]
    rgb = (anchors[lo] * (1 - frac) + anchors[lo + 1] * frac).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).save(str(path))
    print(f"wrote {path} ({path.stat().st_size // 1024} KB): rows {', '.join(genres)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.environ.get("INFINITE_PLAYER_SOUNDTRACKS"))
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--baseline-root", help="a tree holding the old engine's player/")
    parser.add_argument("--genres", default=None)
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--novelty-seeds", type=int, default=2)
    parser.add_argument("--png", default=str(ROOT / "docs" / "variety.png"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if not args.corpus:
        raise SystemExit("pass --corpus DIR or set INFINITE_PLAYER_SOUNDTRACKS (see --help)")
    sys.path.insert(0, str(ROOT))
    from player.generation.genres import GENRES

    genres = args.genres.split(",") if args.genres else list(GENRES)
    args.genres = ",".join(genres)
    real = real_features(Path(args.corpus), Path(tempfile.gettempdir()) / "bench-variety-cache")
    feats = np.asarray(real["feats"])
    albums = list(real["albums"])  # type: ignore[call-overload]
    mean, std = feats.mean(0), feats.std(0) + 1e-9
    z = (feats - mean) / std * WEIGHTS
    album_groups = {
        a: z[[i for i, b in enumerate(albums) if b == a]]
        for a in sorted(set(albums))
        if albums.count(a) >= 5
    }
    per_album = {a: spread(x) for a, x in album_groups.items()}
    album_spread = float(np.median(list(per_album.values())))
    album_families = np.median([family_spreads(x) for x in album_groups.values()], axis=0)
    real_nov = float(np.median(np.asarray(real["novelty"])))
    print(
        f"real: {len(albums)} clips, albums with >= 5 tracks: "
        + ", ".join(f"{a} {s:.2f}" for a, s in per_album.items())
        + f"; median album spread {album_spread:.2f}; median track novelty {real_nov:.4f} "
        f"over {len(np.asarray(real['novelty']))} tracks"
    )
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        base = args.baseline_root
        if not base and args.baseline_ref:
            base = str(export(args.baseline_ref, Path(tmp) / "baseline", ("player",)))
        if base:
            old = run_worker(Path(base), args, Path(tmp) / "old.npz")
            runs.append(summarise("old", old, mean, std, album_spread, genres))
        new = run_worker(ROOT, args, Path(tmp) / "new.npz")
        runs.append(summarise("new", new, mean, std, album_spread, genres))
    head = f"{'genre':15}" + "".join(
        f"{r['engine'] + ' ' + k:>13}" for k in ("spread", "novelty", "speed") for r in runs
    )
    print(
        f"\n{args.seeds} seeds x {args.seconds:g} s per genre; novelty of "
        f"{args.novelty_seeds} x {NOVELTY_SECONDS:g} s tracks (real median {real_nov:.4f})"
    )
    print(head)
    for g in genres:
        line = f"{g:15}"
        for key, fmt in (("ratio", "{:13.2f}"), ("novelty", "{:13.4f}"), ("speed", "{:12.0f}x")):
            for r in runs:
                line += fmt.format(r[key][g])  # type: ignore[index]
        print(line)
    for r in runs:
        ratios = list(r["ratio"].values())  # type: ignore[attr-defined]
        novs = list(r["novelty"].values())  # type: ignore[attr-defined]
        speeds = list(r["speed"].values())  # type: ignore[attr-defined]
        print(
            f"{r['engine']}: spread ratio min {min(ratios):.2f} median {np.median(ratios):.2f}; "
            f"identity {r['identity']:.3f}; novelty median {np.median(novs):.4f} "
            f"(real {real_nov:.4f}); speed min {min(speeds):.0f}x median {np.median(speeds):.0f}x"
        )
    new_groups = {g: (new[f"feat/{g}"] - mean) / std * WEIGHTS for g in genres}
    if len(genres) > 1:
        print_axes(new_groups, album_families, genres)
        print_room(new_groups, album_groups, album_spread)
    write_png(Path(args.png), new, genres, min(args.seeds, 6))


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MIT
"""Embedding benchmark: speed of the embedders and retrieval quality of the descriptor one.

    .venv/bin/python tests/bench/bench_embedding.py [--corpus DIR] [--fit-stats]
        [--skip-mert] [--skip-quality] [--device cpu|cuda]

Speed: seconds of audio embedded per wall-clock second, for the descriptor embedder and
for the MERT-v1-95M architecture with random weights (same FLOPs as the real model).

Quality: precision@1, leave-one-out, cosine similarity, on the soundtracks of three
Debian game data packages (openly licensed): supertux-data, hedgewars-data and
ufoai-music. Labels are the game (3 classes) and, finer, the album or composer
(SuperTux's music folders, UFO:AI's composer prefix; Hedgewars is one album). When
``--corpus`` is not given the packages are fetched with ``apt-get download`` and
unpacked with ``dpkg -x`` under /tmp (about 520 MB); no audio enters the repository.

``--fit-stats`` rewrites ``player/embedding/descriptor_stats.py`` with the per-dimension
mean and std of the raw descriptors over this corpus (label-free). Quality is reported
both with the shipped statistics and with statistics fitted on the *other* games only,
which shows how much of the figure depends on fitting the corpus itself.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from player.embedding import descriptor  # noqa: E402
from player.embedding.base import read_excerpt  # noqa: E402

DEFAULT_CORPUS = Path("/tmp/infinite-player-bench/gamemusic")
PACKAGES = ("supertux-data", "hedgewars-data", "ufoai-music")
STATS_FILE = ROOT / "player" / "embedding" / "descriptor_stats.py"


def fetch_corpus(dest: Path) -> Path:
    """Download and unpack the three Debian packages (idempotent)."""
    root = dest / "root"
    if root.is_dir() and any(root.iterdir()):
        return root
    debs = dest / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    print(f"fetching {', '.join(PACKAGES)} into {debs} ...", flush=True)
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
    root.mkdir(parents=True, exist_ok=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def collect_tracks(root: Path) -> list[tuple[Path, str, str]]:
    """(path, game label, album/composer label) for every music track under ``root``."""
    tracks: list[tuple[Path, str, str]] = []
    for p in sorted(root.rglob("*.ogg")):
        parts = p.parts
        if "supertux2" in parts and "music" in parts:
            tracks.append((p, "supertux", f"supertux/{p.parent.name}"))
        elif "hedgewars" in parts and p.parent.name == "Music":
            tracks.append((p, "hedgewars", "hedgewars"))
    for pk3 in sorted(root.rglob("0music.pk3")):
        out = pk3.parent / "music_unpacked"
        if not out.is_dir():
            with zipfile.ZipFile(pk3) as z:
                z.extractall(out)
        for p in sorted(out.rglob("*.ogg")):
            composer = re.match(r"[A-Za-z]+?(?=[A-Z0-9_-]|$)", p.stem)
            name = composer.group(0) if composer else p.stem
            tracks.append((p, "ufoai", f"ufoai/{name.lower()}"))
    return tracks


def raw_features(tracks: list[tuple[Path, str, str]], cache: Path) -> np.ndarray:
    """Raw descriptor matrix, cached by path list so reruns are quick."""
    digest = hashlib.sha1("\n".join(str(t[0]) for t in tracks).encode()).hexdigest()[:12]
    key = cache / f"raw_{len(tracks)}_{digest}.npy"
    if key.is_file():
        return np.load(key)
    rows = []
    t0 = time.perf_counter()
    for i, (path, _, _) in enumerate(tracks):
        data, rate = read_excerpt(path, descriptor.EXCERPT_SECONDS, descriptor.EXCERPTS)
        rows.append(descriptor.raw_descriptors(descriptor.prepare(data, rate)))
        if (i + 1) % 20 == 0:
            print(f"  {i + 1}/{len(tracks)} tracks, {time.perf_counter() - t0:.0f} s", flush=True)
    raw = np.stack(rows)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(key, raw)
    return raw


def fit_stats(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return raw.mean(0), np.maximum(raw.std(0), 1e-6)


def write_stats(mean: np.ndarray, std: np.ndarray, n: int) -> None:
    def fmt(values: np.ndarray) -> str:
        # One value per line, exactly as ruff format lays it out, so the file stays stable.
        return "(\n" + "".join(f"    {v:.6g},\n" for v in values) + ")"

    STATS_FILE.write_text(
        "# SPDX-License-Identifier: MIT\n"
        '"""Standardisation statistics of the descriptor embedder (generated; do not edit).\n\n'
        f"Per-dimension mean and std of the raw descriptors of {n} tracks: the soundtracks of\n"
        "Debian's supertux-data, hedgewars-data and ufoai-music packages. No labels are used.\n"
        "Regenerate with ``tests/bench/bench_embedding.py --fit-stats``; changing them changes\n"
        "the vector space, so bump ``descriptor.SPACE`` when they change meaningfully.\n"
        '"""\n\n'
        f"MEAN: tuple[float, ...] = {fmt(mean)}\n"
        f"STD: tuple[float, ...] = {fmt(std)}\n"
    )
    print(f"wrote {STATS_FILE}")


def embed_all(raw: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    emb = descriptor.DescriptorEmbedder(mean=mean, std=std)
    return np.stack([emb.standardise(r) for r in raw])


def precision_at_1(vectors: np.ndarray, labels: list[str]) -> float:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.argmax(1)
    return float(np.mean([labels[i] == labels[j] for i, j in enumerate(nearest)]))


def chance(labels: list[str]) -> float:
    n = len(labels)
    return sum(c * (c - 1) for c in Counter(labels).values()) / (n * (n - 1))


def same_vs_other(vectors: np.ndarray, labels: list[str]) -> tuple[float, float]:
    sims = vectors @ vectors.T
    lab = np.array(labels)
    same = lab[:, None] == lab[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    return float(sims[same & off].mean()), float(sims[~same].mean())


def fit_match_calibration(
    vectors: np.ndarray, labels: list[str], trials: int = 3000
) -> tuple[float, float]:
    """Logistic fit of P(same label | cosine(taste of 5 tracks, held-out track)), balanced.

    Returns (center, scale) so that match = 1 / (1 + exp(-(cos - center) / scale)).
    """
    rng = np.random.default_rng(0)
    lab = np.array(labels)
    xs, ys = [], []
    for _ in range(trials):
        label = rng.choice(sorted(set(labels)))
        members = np.nonzero(lab == label)[0]
        pick = rng.choice(members, 6, replace=False)
        taste = vectors[pick[:5]].mean(0)
        taste /= np.linalg.norm(taste)
        xs += [
            float(taste @ vectors[pick[5]]),
            float(taste @ vectors[rng.choice(np.nonzero(lab != label)[0])]),
        ]
        ys += [1.0, 0.0]
    x, y = np.array(xs), np.array(ys)
    design = np.stack([x, np.ones_like(x)], axis=1)
    w = np.zeros(2)
    for _ in range(50):  # Newton's method on the logistic log-likelihood
        p = 1 / (1 + np.exp(-design @ w))
        hessian = (design * (p * (1 - p))[:, None]).T @ design
        w -= np.linalg.solve(hessian, design.T @ (p - y))
    return float(-w[1] / w[0]), float(1 / w[0])


def bench_quality(corpus: Path | None, fit: bool) -> None:
    root = corpus if corpus else fetch_corpus(DEFAULT_CORPUS)
    tracks = collect_tracks(root)
    if len(tracks) < 10:
        raise SystemExit(f"only {len(tracks)} music tracks found under {root}")
    games = [t[1] for t in tracks]
    # Album/composer precision counts only labels with two or more tracks (a singleton
    # can never be retrieved correctly); singletons are left out of that evaluation.
    albums = [t[2] for t in tracks]
    print(f"corpus: {len(tracks)} tracks; per game {dict(Counter(games))}")
    t0 = time.perf_counter()
    raw = raw_features(tracks, DEFAULT_CORPUS.parent / "cache")
    print(f"raw descriptors: {time.perf_counter() - t0:.1f} s")
    if fit:
        write_stats(*fit_stats(raw), len(tracks))
    from player.embedding import descriptor_stats

    shipped = embed_all(raw, np.array(descriptor_stats.MEAN), np.array(descriptor_stats.STD))
    unstd = embed_all(raw, np.zeros(raw.shape[1]), np.ones(raw.shape[1]))
    # Held-out check: statistics fitted on one random half, retrieval within the other.
    rng = np.random.default_rng(0)
    order = rng.permutation(len(tracks))
    half_a, half_b = order[: len(order) // 2], order[len(order) // 2 :]
    held = embed_all(raw[half_b], *fit_stats(raw[half_a]))

    def report(name: str, vecs: np.ndarray, members: np.ndarray) -> None:
        g = [games[i] for i in members]
        a = [albums[i] for i in members]
        keep = [k for k, lab in enumerate(a) if Counter(a)[lab] > 1]
        p_game = precision_at_1(vecs, g)
        p_album = precision_at_1(vecs[keep], [a[k] for k in keep])
        print(
            f"  {name:<46}{p_game:.3f}   {p_album:.3f}   "
            f"(chance {chance(g):.3f} / {chance([a[k] for k in keep]):.3f}, n={len(members)})"
        )

    everyone = np.arange(len(tracks))
    print("\nprecision@1, leave-one-out, cosine            game    album/composer")
    report("descriptor, shipped stats", shipped, everyone)
    report("descriptor, stats fitted on the other half", held, half_b)
    report("descriptor, shipped stats, same half", shipped[half_b], half_b)
    report("descriptor, not standardised", unstd, everyone)
    center, scale = fit_match_calibration(shipped, games)
    print(
        f"\nmatch calibration (taste of 5 tracks vs a held-out track, same game or not): "
        f"center {center:.3f}, scale {scale:.3f}  (player.taste.CALIBRATION)"
    )
    same, other = same_vs_other(shipped, games)
    print(f"\nmean cosine, shipped stats: same game {same:.3f}, different game {other:.3f}")


def bench_speed(skip_mert: bool, device: str) -> None:
    rng = np.random.default_rng(0)
    seconds = 60.0
    audio = (0.1 * rng.standard_normal(int(44_100 * seconds))).astype(np.float32)
    emb = descriptor.DescriptorEmbedder()
    emb.embed(audio[:44_100], 44_100)  # warm up
    t0 = time.perf_counter()
    runs = 3
    for _ in range(runs):
        emb.embed(audio, 44_100)
    wall = (time.perf_counter() - t0) / runs
    print(
        f"descriptor: {seconds:.0f} s of 44.1 kHz audio in {wall:.3f} s "
        f"= {seconds / wall:.0f} s of audio per second"
    )
    if skip_mert:
        return
    import torch

    from player.embedding.mert import MertConfig, MertEmbedder, MertModel

    config = MertConfig()  # the MERT-v1-95M shape
    torch.manual_seed(0)
    model = MertModel(config).eval()
    params = sum(p.numel() for p in model.parameters())
    mert = MertEmbedder(model, config, space="mert-random", device=device)
    clip = audio[: (44_100 * 30)]
    mert.embed(clip[:44_100], 44_100)
    t0 = time.perf_counter()
    mert.embed(clip, 44_100)
    wall = time.perf_counter() - t0
    print(
        f"MERT-95M architecture ({params / 1e6:.1f} M params, random weights, {mert.device}, "
        f"{mert.dtype}): 30 s of audio in {wall:.2f} s = {30 / wall:.1f} s of audio per second"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, help="folder holding the unpacked packages")
    parser.add_argument("--fit-stats", action="store_true", help="rewrite descriptor_stats.py")
    parser.add_argument("--skip-mert", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    if not args.skip_speed:
        bench_speed(args.skip_mert, args.device)
    if not args.skip_quality:
        bench_quality(args.corpus, args.fit_stats)


if __name__ == "__main__":
    main()

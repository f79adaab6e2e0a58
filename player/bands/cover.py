"""Band covers: abstract art rendered with numpy from a band's style and written as PNG.

The cover is the band's face in lists, so it has to be recognisable and say something
about the music: the genre picks the motif family (rings for house, a machine grid for
techno, soft blobs for lo-fi…) and the base hue; the style vector moves the palette
and the composition, so bands that sound alike look related; the band's own id adds
the last variation, so no two bands share a cover even with the same style.

No Qt and no Pillow: the PNG is written with ``zlib`` (the format is tiny to write),
which keeps ``player/`` importable headless and the dependency list short.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from base import paths

COVER_SIZE = 512

_Image = np.ndarray  # float32, (H, W, 3) in [0, 1]
_Motif = Callable[[np.random.Generator, np.ndarray, np.ndarray, int], _Image]

# Hue (0..1) each genre starts from; the style vector moves it by up to ±0.12.
_GENRE_HUE: dict[str, float] = {
    "pop": 0.90,
    "hip-hop": 0.08,
    "house": 0.78,
    "techno": 0.58,
    "lo-fi": 0.10,
    "ambient": 0.52,
    "rock": 0.00,
    "metal": 0.98,
    "jazz": 0.62,
    "r&b": 0.83,
    "drum & bass": 0.35,
    "electronic": 0.47,
    "classical": 0.13,
    "folk": 0.25,
    "funk": 0.05,
}

# ----------------------------------------------------------------------- features


def _projections(dim: int) -> np.ndarray:
    """Fixed random directions: the same for every band, so features are comparable."""
    rng = np.random.default_rng(0xC0FE)
    return rng.standard_normal((8, dim)).astype(np.float32) / np.sqrt(dim)


def style_features(vector: np.ndarray | None) -> np.ndarray:
    """Eight numbers in (0, 1) that vary smoothly with the style vector.

    Random projections of the unit vector, squashed: nearby styles give nearby numbers,
    which is what makes covers of similar bands look related.
    """
    if vector is None:
        return np.full(8, 0.5, dtype=np.float64)
    v = np.asarray(vector, dtype=np.float32).ravel()
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm == 0.0:
        return np.full(8, 0.5, dtype=np.float64)
    proj = _projections(v.size) @ (v / norm)
    # A unit vector's projections have std ≈ 1/sqrt(dim)·sqrt(dim)=1 across directions.
    return 1.0 / (1.0 + np.exp(-2.5 * proj.astype(np.float64)))


def _seed(genre: str, salt: str, vector: np.ndarray | None) -> int:
    h = hashlib.sha256(f"cover:{genre}:{salt}".encode())
    if vector is not None:
        h.update(np.round(np.asarray(vector, dtype=np.float32) * 1000).astype(np.int16).tobytes())
    return int.from_bytes(h.digest()[:8], "little")


# ------------------------------------------------------------------------ colour


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    h = np.mod(h, 1.0) * 6.0
    i = np.floor(h).astype(np.int64) % 6
    f = h - np.floor(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices_r = [v, q, p, p, t, v]
    choices_g = [t, v, v, q, p, p]
    choices_b = [p, p, t, v, v, q]
    r = np.choose(i, choices_r)
    g = np.choose(i, choices_g)
    b = np.choose(i, choices_b)
    return np.stack([r, g, b], axis=-1)


def palette(genre: str, features: np.ndarray, rng: np.random.Generator, n: int = 5) -> np.ndarray:
    """``n`` RGB colours: a genre hue, moved by the style, with a harmony scheme."""
    base = _GENRE_HUE.get(genre)
    if base is None:
        base = int.from_bytes(hashlib.sha256(genre.encode()).digest()[:2], "little") / 65536
    hue = base + (features[0] - 0.5) * 0.24 + rng.uniform(-0.03, 0.03)
    scheme = rng.choice(
        [
            np.array([0.0, 0.05, -0.05, 0.5, 0.1]),  # analogous + complement
            np.array([0.0, 0.33, 0.66, 0.08, -0.08]),  # triad
            np.array([0.0, 0.02, 0.04, 0.06, 0.5]),  # monochrome + accent
        ]
    )
    hues = hue + scheme[:n]
    sat = np.clip(0.35 + 0.6 * features[1] + rng.uniform(-0.1, 0.1, n), 0.15, 1.0)
    val = np.clip(0.35 + 0.6 * features[2] + rng.uniform(-0.25, 0.25, n), 0.12, 1.0)
    val[0] = 0.08 + 0.25 * features[3]  # a dark ground keeps the motif readable
    return _hsv_to_rgb(hues, sat, val)


def _colorize(index_field: np.ndarray, colors: np.ndarray) -> _Image:
    """Map a field in [0, 1] through the palette as a smooth gradient."""
    x = np.clip(index_field, 0.0, 1.0) * (len(colors) - 1)
    lo = np.floor(x).astype(np.int64)
    hi = np.minimum(lo + 1, len(colors) - 1)
    t = (x - lo)[..., None]
    out: _Image = colors[lo] * (1 - t) + colors[hi] * t
    return out


# ------------------------------------------------------------------------ motifs


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    ax = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    x, y = np.meshgrid(ax, ax)
    return x, y


def _rings(rng: np.random.Generator, feat: np.ndarray, colors: np.ndarray, size: int) -> _Image:
    x, y = _grid(size)
    field = np.zeros_like(x)
    for _ in range(2 + int(feat[4] * 3)):
        cx, cy = rng.uniform(-0.8, 0.8, 2)
        freq = 8 + 30 * feat[5] * rng.uniform(0.6, 1.4)
        field += np.sin(np.hypot(x - cx, y - cy) * freq + rng.uniform(0, 6.28))
    field = (field - field.min()) / (np.ptp(field) + 1e-6)
    steps = 3 + int(feat[6] * 6)
    return _colorize(np.round(field * steps) / steps, colors)


def _waves(rng: np.random.Generator, feat: np.ndarray, colors: np.ndarray, size: int) -> _Image:
    x, y = _grid(size)
    amp = 0.05 + 0.3 * feat[4]
    warp = amp * np.sin(x * (2 + 6 * feat[5]) + rng.uniform(0, 6.28))
    warp += 0.5 * amp * np.sin(x * (5 + 9 * feat[6]) + y * 2 + rng.uniform(0, 6.28))
    bands = (y + warp) * (3 + 5 * feat[7]) + rng.uniform(0, 1)
    field = np.mod(bands, 1.0) * 0.8 + 0.2 * (y + 1) / 2
    return _colorize(field, colors)


def _blocks(rng: np.random.Generator, feat: np.ndarray, colors: np.ndarray, size: int) -> _Image:
    img = np.empty((size, size, 3), dtype=np.float32)
    img[:] = colors[0]
    cells = 4 + int(feat[4] * 10)
    edges = np.linspace(0, size, cells + 1).astype(int)
    for i in range(cells):
        for j in range(cells):
            if rng.random() < 0.35 + 0.4 * feat[5]:
                pad = max(1, size // (cells * 10))
                k = 1 + int(rng.integers(0, len(colors) - 1))
                y0, y1 = edges[i] + pad, edges[i + 1] - pad
                x0, x1 = edges[j] + pad, edges[j + 1] - pad
                if rng.random() < feat[6]:  # some cells become bars: machine rhythm
                    x1 = x0 + max(pad, int((x1 - x0) * rng.uniform(0.2, 0.6)))
                img[y0:y1, x0:x1] = colors[k]
    return img


def _blobs(rng: np.random.Generator, feat: np.ndarray, colors: np.ndarray, size: int) -> _Image:
    x, y = _grid(size)
    img = _colorize((y + 1) / 2 * 0.3, colors).astype(np.float32)
    ax = x[0]
    for _ in range(4 + int(feat[4] * 8)):
        cx, cy = rng.uniform(-0.9, 0.9, 2)
        r = 0.1 + 0.45 * rng.random() * (0.5 + feat[5])
        soft = 0.02 + 0.25 * feat[6]
        strength = rng.uniform(0.5, 0.95)
        color = colors[1 + int(rng.integers(0, len(colors) - 1))].astype(np.float32)
        # Only the blob's bounding box can change: paint there, not over the whole image.
        lo_x, hi_x = np.searchsorted(ax, [cx - r, cx + r])
        lo_y, hi_y = np.searchsorted(ax, [cy - r, cy + r])
        if lo_x >= hi_x or lo_y >= hi_y:
            continue
        d = np.hypot(x[lo_y:hi_y, lo_x:hi_x] - cx, y[lo_y:hi_y, lo_x:hi_x] - cy)
        alpha = (np.clip((r - d) / soft, 0.0, 1.0) * strength)[..., None].astype(np.float32)
        patch = img[lo_y:hi_y, lo_x:hi_x]
        img[lo_y:hi_y, lo_x:hi_x] = patch * (1 - alpha) + color * alpha
    return img


def _shards(rng: np.random.Generator, feat: np.ndarray, colors: np.ndarray, size: int) -> _Image:
    x, y = _grid(size)
    n = 8 + int(feat[4] * 24)
    pts = rng.uniform(-1.1, 1.1, (n, 2)).astype(np.float32)
    # Nearest and second-nearest site per pixel, one site at a time (no (n, H, W) array).
    d1 = np.full(x.shape, np.inf, dtype=np.float32)
    d2 = np.full(x.shape, np.inf, dtype=np.float32)
    nearest = np.zeros(x.shape, dtype=np.int64)
    second = np.zeros(x.shape, dtype=np.int64)
    for k, (px, py) in enumerate(pts):
        d = (x - px) ** 2 + (y - py) ** 2
        closer = d < d1
        between = ~closer & (d < d2)
        d2 = np.where(closer, d1, np.where(between, d, d2))
        second = np.where(closer, nearest, np.where(between, k, second))
        d1 = np.where(closer, d, d1)
        nearest = np.where(closer, k, nearest)
    shade = rng.integers(1, len(colors), n)
    img: _Image = colors[shade[nearest]].astype(np.float32)
    light = (0.7 + 0.3 * (y + 1) / 2)[..., None]
    img = img * light
    # Distance to the bisector of the two nearest sites: an even line between shards.
    gap = np.linalg.norm(pts[nearest] - pts[second], axis=-1)
    edge = (d2 - d1) / (2.0 * gap + 1e-6) < (0.004 + 0.012 * feat[5])
    img[edge] = colors[0]
    return img


_MOTIFS: dict[str, _Motif] = {
    "rings": _rings,
    "waves": _waves,
    "blocks": _blocks,
    "blobs": _blobs,
    "shards": _shards,
}

_GENRE_MOTIF: dict[str, str] = {
    "pop": "waves",
    "hip-hop": "rings",
    "house": "rings",
    "techno": "blocks",
    "electronic": "blocks",
    "lo-fi": "blobs",
    "ambient": "blobs",
    "r&b": "blobs",
    "rock": "shards",
    "metal": "shards",
    "drum & bass": "shards",
    "jazz": "waves",
    "classical": "waves",
    "folk": "waves",
    "funk": "rings",
}


def motif_for(genre: str) -> str:
    known = _GENRE_MOTIF.get(genre)
    if known:
        return known
    names = sorted(_MOTIFS)
    return names[int.from_bytes(hashlib.sha256(genre.encode()).digest()[:2], "little") % len(names)]


# ------------------------------------------------------------------------ render


def render_cover(
    vector: np.ndarray | None, genre: str, salt: str = "", size: int = COVER_SIZE
) -> np.ndarray:
    """The cover as an ``(size, size, 3)`` uint8 RGB array. Pure: same inputs, same pixels."""
    if size < 16:
        raise ValueError(f"cover size must be at least 16 pixels, got {size}")
    feat = style_features(vector)
    rng = np.random.default_rng(_seed(genre, salt, vector))
    colors = palette(genre, feat, rng).astype(np.float32)
    feat = feat.astype(np.float32)  # float32 scalars keep the image arrays float32
    img = _MOTIFS[motif_for(genre)](rng, feat, colors, size)
    # A vignette for depth (no grain: noise would triple the file size).
    x, y = _grid(size)
    vignette = 1.0 - 0.35 * np.clip(np.hypot(x, y) - 0.4, 0.0, 1.0) ** 1.5
    img = img * vignette[..., None]
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


def encode_png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of ``rgb`` (H, W, 3 uint8)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    # Filter "Up" on every row (each byte minus the one above): smooth art compresses well.
    flat = rgb.reshape(height, -1)
    up = flat.copy()
    up[1:] -= flat[:-1]  # uint8 arithmetic wraps modulo 256, as PNG specifies
    kinds = np.full((height, 1), 2, np.uint8)
    kinds[0] = 0  # the first row has nothing above it: filter "None"
    up[0] = flat[0]
    rows = np.concatenate([kinds, up], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def write_cover(
    band_id: str, vector: np.ndarray | None, genre: str, folder: Path | None = None
) -> Path:
    """Render the band's cover into the covers folder (atomically) and return its path."""
    folder = folder if folder is not None else paths.covers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{band_id}.png"
    tmp = target.with_suffix(".png.tmp")
    tmp.write_bytes(encode_png(render_cover(vector, genre, salt=band_id)))
    tmp.replace(target)
    return target

"""Butterworth filters for the procedural engine, without importing ``scipy.signal``.

The engine needs three things from ``scipy.signal``: ``butter(..., output="sos")``,
``sosfilt`` and a first-order ``lfilter``. ``import scipy.signal`` runs the whole
package's ``__init__`` (statistics, windows, spline filters, ...): about 1.3 s of CPU on
an idle machine and several seconds on a busy one, which was most of the engine
process's start-up and kept the first "Start my radio" after launch above a second
(issue 17). So:

* :func:`butter_sos` designs the sections with numpy, step for step as scipy does
  (analog prototype, frequency transform, bilinear transform, scipy's "nearest"
  pole/zero pairing). ``tests/generation/test_filters.py`` checks it is *equal* to
  ``scipy.signal.butter`` (bit for bit) over a grid of orders, types and frequencies.
* :func:`sosfilt` runs scipy's own compiled second-order-section recursion
  (``scipy/signal/_sosfilt``, a Cython extension that needs only numpy), loaded
  straight from its file so the package ``__init__`` never runs: the same C loop, so
  the same samples, for about 10 ms of import instead of 1.3 s. If a scipy release
  moves or changes it, :func:`sosfilt` falls back to ``scipy.signal.sosfilt`` (slow
  import, same result) and logs why.

The design code follows ``scipy.signal._filter_design`` (BSD-3-Clause, Copyright (c)
2001-2002 Enthought, Inc. 2003, SciPy Developers), restricted to the digital
Butterworth lowpass, highpass and bandpass designs the engine uses.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["butter_sos", "first_order_sos", "sosfilt"]

_BTYPES = ("lowpass", "highpass", "bandpass")


def butter_sos(
    order: int, freq: float | tuple[float, float] | None, btype: str, fs: float
) -> np.ndarray:
    """``scipy.signal.butter(order, freq, btype=btype, fs=fs, output="sos")``."""
    if freq is None:
        raise ValueError(f"a {btype} filter needs a frequency")
    if btype not in _BTYPES:
        raise ValueError(f"unknown filter type {btype!r}; use one of {_BTYPES}")
    if order < 1 or int(order) != order:
        raise ValueError(f"filter order must be a positive integer, not {order!r}")
    wn = np.asarray(freq, dtype=np.float64) / (fs / 2)
    if np.any(wn <= 0) or np.any(wn >= 1):
        raise ValueError(f"filter frequencies must be 0 < f < fs/2 (fs={fs}), not {freq!r}")
    if (btype == "bandpass") != (wn.size == 2):
        raise ValueError(f"a {btype} filter takes {'two' if wn.size == 1 else 'one'} frequencies")
    if wn.size == 2 and not wn[0] < wn[1]:
        raise ValueError(f"the band's low edge must be below its high edge, not {freq!r}")
    # Analog prototype (buttap): poles on the left half of the unit circle.
    z = np.asarray([], dtype=np.float64)
    m = np.arange(-order + 1, order, 2, dtype=np.float64)
    p = -np.exp(1j * np.pi * m / (2 * order))
    k = 1.0
    warped = 2 * 2.0 * np.tan(np.pi * wn / 2.0)  # pre-warped, at fs = 2
    if btype == "lowpass":
        wo = float(warped)
        degree = len(p) - len(z)
        z, p, k = wo * z, wo * p, k * wo**degree
    elif btype == "highpass":
        wo = float(warped)
        degree = len(p) - len(z)
        z_hp, p_hp = wo / z, wo / p
        k = k * np.real(np.prod(-z) / np.prod(-p))
        z, p = np.concatenate((z_hp, np.zeros(degree))), p_hp
    else:
        bw = float(warped[1] - warped[0])
        wo = float(np.sqrt(warped[0] * warped[1]))
        degree = len(p) - len(z)
        z_lp = (z * bw / 2).astype(np.complex128)
        p_lp = (p * bw / 2).astype(np.complex128)
        z = np.concatenate((z_lp + np.sqrt(z_lp**2 - wo**2), z_lp - np.sqrt(z_lp**2 - wo**2)))
        p = np.concatenate((p_lp + np.sqrt(p_lp**2 - wo**2), p_lp - np.sqrt(p_lp**2 - wo**2)))
        z = np.concatenate((z, np.zeros(degree)))
        k = k * bw**degree
    # Bilinear transform (bilinear_zpk, fs = 2).
    fs2 = 2.0 * 2.0
    degree = len(p) - len(z)
    z_z = (fs2 + z) / (fs2 - z)
    p_z = (fs2 + p) / (fs2 - p)
    z_z = np.concatenate((z_z, -np.ones(degree)))
    k_z = k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))
    return _zpk2sos(z_z, p_z, k_z)


def first_order_sos(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A first-order ``(b, a)`` filter (``a[0] == 1``) as one section, for :func:`sosfilt`."""
    return np.array([[b[0], b[1], 0.0, 1.0, a[1], 0.0]], dtype=np.float64)


def _zpk2sos(z: np.ndarray, p: np.ndarray, k: float) -> np.ndarray:
    """scipy's ``zpk2sos`` with its digital default, ``pairing="nearest"``: the poles
    closest to the unit circle go last, each with its nearest zeros."""
    p = np.concatenate((p, np.zeros(max(len(z) - len(p), 0))))
    z = np.concatenate((z, np.zeros(max(len(p) - len(z), 0))))
    n_sections = (max(len(p), len(z)) + 1) // 2
    if len(p) % 2 == 1:
        p = np.concatenate((p, [0.0]))
        z = np.concatenate((z, [0.0]))
    z = np.concatenate(_cplxreal(z))
    p = np.concatenate(_cplxreal(p))
    k = float(np.real(k))

    def worst(values: np.ndarray) -> int:
        return int(np.argmin(np.abs(1 - np.abs(values))))

    sos = np.zeros((n_sections, 6))
    for si in range(n_sections - 1, -1, -1):
        p1_idx = worst(p)
        p1 = p[p1_idx]
        p = np.delete(p, p1_idx)
        if np.isreal(p1) and np.isreal(p).sum() == 0:  # the last real pole
            z1_idx = _nearest(z, p1, "real")
            z1 = z[z1_idx]
            z = np.delete(z, z1_idx)
            sos[si] = _section([z1, 0], [p1, 0])
        elif (
            len(p) + 1 == len(z)
            and not np.isreal(p1)
            and np.isreal(p).sum() == 1
            and np.isreal(z).sum() == 1
        ):  # one real pole and one real zero left: this pole takes a complex zero
            z1_idx = _nearest(z, p1, "complex")
            z1 = z[z1_idx]
            z = np.delete(z, z1_idx)
            sos[si] = _section([z1, z1.conj()], [p1, p1.conj()])
        else:
            if np.isreal(p1):
                real_idx = np.flatnonzero(np.isreal(p))
                p2_idx = real_idx[worst(p[real_idx])]
                p2 = p[p2_idx]
                p = np.delete(p, p2_idx)
            else:
                p2 = p1.conj()
            if len(z) > 0:
                z1_idx = _nearest(z, p1, "any")
                z1 = z[z1_idx]
                z = np.delete(z, z1_idx)
                if not np.isreal(z1):
                    sos[si] = _section([z1, z1.conj()], [p1, p2])
                elif len(z) > 0:
                    z2_idx = _nearest(z, p1, "real")
                    z2 = z[z2_idx]
                    z = np.delete(z, z2_idx)
                    sos[si] = _section([z1, z2], [p1, p2])
                else:
                    sos[si] = _section([z1], [p1, p2])
            else:
                sos[si] = _section([], [p1, p2])
    sos[0][:3] *= k
    return sos


def _cplxreal(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One of each conjugate pair (averaged with its partner) and the real values, each
    sorted by real part: scipy's ``_cplxreal``."""
    z = np.atleast_1d(z)
    if z.size == 0:
        return z, z
    tol = 100 * np.finfo((1.0 * z).dtype).eps
    z = z[np.lexsort((abs(z.imag), z.real))]
    real_indices = abs(z.imag) <= tol * abs(z)
    zr = z[real_indices].real
    if len(zr) == len(z):
        return np.array([]), zr
    z = z[~real_indices]
    zp = z[z.imag > 0]
    zn = z[z.imag < 0]
    if len(zp) != len(zn):
        raise ValueError("a complex pole or zero has no conjugate")
    same_real = np.diff(zp.real) <= tol * abs(zp[:-1])
    diffs = np.diff(np.concatenate(([0], same_real, [0])))
    run_starts = np.nonzero(diffs > 0)[0]
    run_stops = np.nonzero(diffs < 0)[0]
    for start, stop in zip(run_starts, run_stops + 1, strict=True):
        for chunk in (zp[start:stop], zn[start:stop]):
            chunk[...] = chunk[np.lexsort([abs(chunk.imag)])]
    if any(abs(zp - zn.conj()) > tol * abs(zn)):
        raise ValueError("a complex pole or zero has no conjugate")
    return (zp + zn.conj()) / 2, zr


def _nearest(values: np.ndarray, to: complex, which: str) -> int:
    order = np.argsort(np.abs(values - to))
    if which == "any":
        return int(order[0])
    mask = np.isreal(values[order])
    if which == "complex":
        mask = ~mask
    return int(order[np.nonzero(mask)[0][0]])


def _section(zeros: list[Any], poles: list[Any]) -> np.ndarray:
    sos = np.zeros(6)
    b = 1.0 * _poly(zeros)
    a = _poly(poles)
    sos[3 - len(b) : 3] = b
    sos[6 - len(a) : 6] = a
    return sos


def _poly(roots: list[Any]) -> np.ndarray:
    """``np.poly`` for a short list of roots (real coefficients when they come in
    conjugate pairs), as scipy's ``zpk2tf`` computes it."""
    seq = np.atleast_1d(np.asarray(roots))
    if seq.shape[0] == 0:
        return np.atleast_1d(np.asarray(1.0, dtype=np.real(seq).dtype))
    a = np.ones((1,), dtype=seq.dtype)
    one = np.ones_like(seq[0])
    for zero in seq:
        a = np.convolve(a, np.stack((one, -zero)), mode="full")
    if np.iscomplexobj(a):
        as_complex = np.asarray(seq, dtype=np.complex128)
        if np.all(np.sort(np.imag(as_complex)) == np.sort(np.imag(np.conj(as_complex)))):
            a = np.real(a).copy()
    return a


# -- filtering ---------------------------------------------------------------------------


def sosfilt(sos: np.ndarray, x: np.ndarray, axis: int = -1, zi: np.ndarray | None = None) -> Any:
    """``scipy.signal.sosfilt(sos, x, axis, zi)``: the filtered signal, and the final
    state when ``zi`` is given (its shape is scipy's: ``(sections, ..., 2, ...)``)."""
    kernel = _kernel()
    if kernel is None:  # pragma: no cover - only with a scipy whose layout changed
        from scipy import signal

        return signal.sosfilt(sos, x, axis=axis, zi=zi)
    sos = np.atleast_2d(np.asarray(sos))
    x = np.asarray(x)
    if sos.ndim != 2 or sos.shape[1] != 6:
        raise ValueError(f"sos must have shape (sections, 6), not {sos.shape}")
    n_sections = sos.shape[0]
    zi_shape = list(x.shape)
    zi_shape[axis] = 2
    zi_shape = [n_sections, *zi_shape]
    dtype = np.result_type(sos, x, *(() if zi is None else (np.asarray(zi),)))
    if dtype.char not in "fdgFDG":
        raise NotImplementedError(f"input type {dtype} not supported")
    if zi is not None:
        state = np.array(zi, dtype=dtype)  # a copy: filtered in place
        if list(state.shape) != zi_shape:
            raise ValueError(f"zi must have shape {tuple(zi_shape)}, not {state.shape}")
    else:
        state = np.zeros(zi_shape, dtype=dtype)
    axis = axis % x.ndim
    x = np.moveaxis(x, axis, -1)
    state = np.moveaxis(state, (0, axis + 1), (-2, -1))
    x_shape, state_shape = x.shape, state.shape
    out = np.array(np.reshape(x, (-1, x.shape[-1])), dtype, order="C")
    state = np.ascontiguousarray(np.reshape(state, (-1, n_sections, 2)))
    kernel(sos.astype(dtype, copy=False), out, state)
    y = np.moveaxis(out.reshape(x_shape), -1, axis)
    if zi is None:
        return y
    final = np.moveaxis(state.reshape(state_shape), (-2, -1), (0, axis + 1))
    return y, final


@cache
def _kernel() -> Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None:
    """scipy's compiled ``_sosfilt`` loop, loaded from its file (see the module)."""
    name = "scipy.signal._sosfilt"
    loaded = sys.modules.get(name)
    if loaded is None:
        try:
            import scipy

            folder = Path(scipy.__file__).parent / "signal"
            path = next(
                folder / f"_sosfilt{suffix}"
                for suffix in importlib.machinery.EXTENSION_SUFFIXES
                if (folder / f"_sosfilt{suffix}").exists()
            )
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            loaded = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(loaded)
        except Exception as exc:  # StopIteration (no such file) included
            log.warning("scipy's sosfilt extension not loadable (%s); using scipy.signal", exc)
            return None
        # Registered under its own name: a later ``import scipy.signal`` (librosa in the
        # same process) reuses this module instead of initialising the extension twice.
        sys.modules[name] = loaded
    function = getattr(loaded, "_sosfilt", None)
    if not callable(function):
        log.warning("scipy's sosfilt extension has no _sosfilt; using scipy.signal")
        return None
    return function

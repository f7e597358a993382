"""foveal.erode, dilate and morphology on the GPU: the kernels of cuda/morphology.cu, with the
CPU path's rules for what one erode or dilate call does (cpp/src/morphology/morphology.cpp):

- no iterations, or a 1x1 kernel: a copy (so gradient, top-hat and black-hat are x - x);
- a full rectangle: its n iterations are one pass with an (n (k - 1) + 1)-rectangle anchored at
  n times the anchor, shrunk where more border reads nothing new (``_clamp_window``);
- any other mask: n passes, the border applied at each, as its rows' runs of ones.

Open and close run as one fused launch where the kernels take the pair (the border is not wrap,
each call is a single pass and the pair's tiles fit); otherwise as two passes through a
temporary. Gradient, top-hat and black-hat fold their saturating subtraction into the last
pass's stores. The result is a new array: the wrapper copies it into ``out=`` when given, so
an ``out`` that is the image itself is never read after being written.

CuPy fallback (foveal._cupy.morphology, cupyx.scipy.ndimage) for what the kernels do not take,
asked of ``morph_supported`` before anything is launched: a pass whose window's halo does not
fit a tile in 48 KiB of shared memory (wide windows on float64 images of many channels, say,
or a rectangle grown by iterations on a wide image so far that even its separate row and
column passes do not fit), masks of more than ``morph_max_runs()`` runs of ones, and images
of more than 2**30 rows or 2**30 values per row. (That fallback, like scipy's filters, does
not propagate NaN.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import Device

_ELEMS = {
    "bool": "u8",
    "uint8": "u8",
    "uint16": "u16",
    "int16": "s16",
    "float32": "f32",
    "float64": "f64",
}


class Window(NamedTuple):
    """One pass's window: its box, anchor and runs (a flat [dy, dx, len, ...]; empty: the
    full rectangle)."""

    kh: int
    kw: int
    ay: int
    ax: int
    runs: tuple[int, ...]


def _clamp_window(n: int, border: str, k: int, a: int) -> tuple[int, int]:
    """A rectangle's window of k positions anchored at a along an axis of n pixels, shrunk to
    one that reads the same pixels (the CPU's clamp_window): past the image more border adds
    nothing once the window reaches n pixels out (constant, replicate) or spans a period."""
    below = k - 1 - a
    period = 0
    if border in ("constant", "default"):
        a, below = min(a, n), min(below, n)
    elif border == "replicate":
        a, below = min(a, n - 1), min(below, n - 1)
    elif border == "wrap":
        period = n
    elif border == "reflect":
        period = 2 * n
    else:  # reflect101
        period = 1 if n == 1 else 2 * n - 2
    if period > 0 and k >= period:
        a, below = 0, period - 1
    return a + below + 1, a


def runs_of(mask: np.ndarray) -> tuple[int, ...]:
    """Each row's runs of ones, as a flat (dy, dx, len, ...) tuple."""
    m = np.asarray(mask, dtype=np.int8)
    padded = np.zeros((m.shape[0], m.shape[1] + 2), np.int8)
    padded[:, 1:-1] = m
    edges = np.diff(padded, axis=1)
    ys, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    return tuple(int(v) for run in zip(ys, starts, ends - starts, strict=True) for v in run)


def passes(mask: np.ndarray, anchor, iterations: int, h: int, w: int, border: str) -> list[Window]:
    """The passes of one erode or dilate call (empty: a copy), as the CPU makes them."""
    kh, kw = mask.shape
    ay = anchor[0] if anchor[0] >= 0 else kh // 2
    ax = anchor[1] if anchor[1] >= 0 else kw // 2
    if iterations == 0 or mask.size == 1:
        return []
    if mask.all():
        gh, gay = _clamp_window(h, border, kh + (iterations - 1) * (kh - 1), ay * iterations)
        gw, gax = _clamp_window(w, border, kw + (iterations - 1) * (kw - 1), ax * iterations)
        return [Window(gh, gw, gay, gax, ())]
    return [Window(kh, kw, ay, ax, runs_of(mask))] * iterations


def border_pixel(dtype: np.dtype, border: str, values, channels: int, dilate: bool) -> bytes:
    """The bytes of the constant border pixel, one value per channel, as the CPU fills it: for
    "default" the op's identity (the dtype's finite extreme, cv2's default border value
    saturated; 0 / 1 for bool), else the values saturated to the dtype (round half to even
    and clip for integers, != 0 for bool)."""
    dtype = np.dtype(dtype)
    if border == "default":
        if dtype == np.bool_:
            v = np.array([0 if dilate else 1], np.float64)
        else:
            info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
            v = np.array([info.min if dilate else info.max], np.float64)
    else:
        v = np.asarray(values, np.float64)
        if dtype == np.bool_:
            v = (v != 0).astype(np.float64)
        elif dtype.kind != "f":
            info = np.iinfo(dtype)
            v = np.clip(np.rint(v), info.min, info.max)
    stored = np.uint8 if dtype == np.bool_ else dtype
    pixel = np.empty(channels, stored)
    with np.errstate(over="ignore"):  # a float64 value beyond float32's range becomes inf
        pixel[:] = v.astype(stored)
    return pixel.tobytes()


class _Launcher:
    """The kernels for one image: passes and pairs with the image's geometry and border."""

    def __init__(self, dev: Device, img, border: str, values):
        self.dev, self.mod = dev, dev.module
        self.h, self.w = img.shape[:2]
        self.c = img.shape[2] if img.ndim == 3 else 1
        self.elem = _ELEMS[img.dtype.name]
        self.border = "constant" if border == "default" else border
        self.pixel = {d: border_pixel(img.dtype, border, values, self.c, d) for d in (False, True)}

    def geometry(self) -> tuple:
        return (self.elem, self.h, self.w, self.c)

    def supported(self, win: Window) -> bool:
        return bool(self.mod.morph_supported(*self.geometry(), *win[:4], list(win.runs)))

    def pair_supported(self, win: Window) -> bool:
        return bool(
            self.mod.morph_pair_supported(*self.geometry(), self.border, *win[:4], list(win.runs))
        )

    def run(self, win: Window, dilate: bool, src, dst, epilogue="none", other=None) -> None:
        dev = self.dev
        self.mod.morph_pass(
            *self.geometry(),
            self.border,
            *win[:4],
            list(win.runs),
            dilate,
            self.pixel[dilate],
            dev.ptr(src),
            dev.ptr(dst),
            epilogue,
            dev.ptr(other),
            dev.stream,
        )

    def pair(self, win: Window, first_dilates: bool, src, dst, epilogue="none", other=None):
        dev = self.dev
        self.mod.morph_pair(
            *self.geometry(),
            self.border,
            *win[:4],
            list(win.runs),
            first_dilates,
            self.pixel[first_dilates],
            self.pixel[not first_dilates],
            dev.ptr(src),
            dev.ptr(dst),
            epilogue,
            dev.ptr(other),
            dev.stream,
        )


def _chain(k: _Launcher, src, wins: list[Window], dilate: bool, epilogue="none", other=None):
    """The passes in turn, ping-ponging between two new arrays; the epilogue on the last."""
    bufs: list = []
    cur = src
    for i, win in enumerate(wins):
        if len(bufs) < 2:
            bufs.append(k.dev.xp.empty_like(src))
        dst = bufs[i % 2]
        last = i == len(wins) - 1
        k.run(win, dilate, cur, dst, epilogue if last else "none", other if last else None)
        cur = dst
    return cur


def _two(k: _Launcher, src, wins: list[Window], first_dilates: bool, epilogue="none", other=None):
    """Open (first_dilates False) or close, fused where the kernels take the pair."""
    if len(wins) == 1 and k.pair_supported(wins[0]):
        dst = k.dev.xp.empty_like(src)
        k.pair(wins[0], first_dilates, src, dst, epilogue, other)
        return dst
    mid = _chain(k, src, wins, first_dilates)
    return _chain(k, mid, wins, not first_dilates, epilogue, other)


def _self_difference(xp, img):
    """x - x as the CPU subtracts (0 for integers and bool; NaN for inf and NaN)."""
    if img.dtype.kind == "f":
        # inf - inf is NaN; NumPy (the emulator's arrays) would warn about it.
        with np.errstate(invalid="ignore"):
            return img - img
    return xp.zeros_like(img)


def plan(img, mask, anchor, iterations: int, border: str) -> list[Window]:
    """The passes of each erode or dilate of the call (as :func:`passes`)."""
    return passes(np.asarray(mask), anchor, iterations, img.shape[0], img.shape[1], border)


def fallback(dev: Device, op: str, img, mask, anchor, iterations: int, border: str, values):
    """The CuPy implementation (foveal._cupy.morphology) on the Device's arrays: cupyx.scipy's
    filters on the GPU, scipy's under the emulator (whose arrays are NumPy's)."""
    from .._cupy.morphology import apply

    if dev.emulated:
        import scipy.ndimage as ndi
    else:
        import cupyx.scipy.ndimage as ndi
    return apply(dev.xp, ndi, op, img, mask, anchor, iterations, border, values)


def morphology(dev: Device, op: str, img, mask, anchor, iterations: int, border: str, values):
    """foveal.morphology's ``op`` on the device array ``img``, arguments as the wrapper has
    checked them: a 0/1 uint8 mask, anchor (row, col) with -1 for the centre, the canonical
    border name, the border values as floats."""
    xp = dev.xp
    src = dev.contiguous(img)
    wins = plan(src, mask, anchor, iterations, border)
    if not wins:
        if op in ("gradient", "tophat", "blackhat"):
            return _self_difference(xp, src)
        return src.copy()
    binary = src.dtype == np.bool_
    work = src.view(np.uint8) if binary else src
    k = _Launcher(dev, src, border, values)
    if not k.supported(wins[0]):  # every pass has the same window
        return fallback(dev, op, src, mask, anchor, iterations, border, values)
    if op in ("erode", "dilate"):
        res = _chain(k, work, wins, op == "dilate")
    elif op in ("open", "tophat"):
        epilogue, other = ("other_minus", work) if op == "tophat" else ("none", None)
        res = _two(k, work, wins, False, epilogue, other)
    elif op in ("close", "blackhat"):
        epilogue, other = ("minus_other", work) if op == "blackhat" else ("none", None)
        res = _two(k, work, wins, True, epilogue, other)
    else:  # gradient: dilate(src) - erode(src), the subtraction in the dilation's stores
        low = _chain(k, work, wins, False)
        res = _chain(k, work, wins, True, "minus_other", low)
    return res.view(np.bool_) if binary else res

"""Erode, dilate and their compositions, as OpenCV defines them, in NumPy.

dilate(y, x) = max over kernel members (i, j) of src(y + i - ay, x + j - ax), border applied;
erode the same with min. NaN propagates (np.maximum / np.minimum).
"""

from __future__ import annotations

import numpy as np

from .border import pad


def structuring_element(shape: str, ksize: tuple[int, int], anchor=(-1, -1)) -> np.ndarray:
    """cv2.getStructuringElement's masks; ksize and anchor are (rows, cols)."""
    h, w = ksize
    cy = anchor[0] if anchor[0] >= 0 else h // 2
    cx = anchor[1] if anchor[1] >= 0 else w // 2
    mask = np.zeros((h, w), np.uint8)
    if shape == "rect" or (h == 1 and w == 1):
        mask[:] = 1
    elif shape == "cross":
        mask[cy, :] = 1
        mask[:, cx] = 1
    else:  # ellipse: row half-widths c * sqrt(1 - dy^2 / r^2), rounded half to even
        r, c = h // 2, w // 2
        for y in range(h):
            dy = y - r
            if abs(dy) <= r:
                dx = int(np.rint(c * np.sqrt((r * r - dy * dy) / (r * r)))) if r > 0 else 0
                mask[y, max(c - dx, 0) : min(c + dx + 1, w)] = 1
    return mask


def _identity(dtype: np.dtype, dilate: bool):
    """The value that never wins a max (dilate) or a min (erode)."""
    if dtype == np.bool_:
        return not dilate
    # OpenCV's default border value saturated to the dtype: finite for floats.
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if dilate else info.max


def _saturate(values, dtype: np.dtype):
    """OpenCV's saturate_cast: round half to even, clip to the dtype's range."""
    v = np.asarray(values, dtype=np.float64)
    if dtype == np.bool_:
        return v != 0
    if dtype.kind == "f":
        return v.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.rint(v), info.min, info.max).astype(dtype)


def _one_pass(img, mask, ay, ax, border, border_value, dilate):
    kh, kw = mask.shape
    h, w = img.shape[:2]
    op = np.maximum if dilate else np.minimum
    if border == "default":
        value, mode = _identity(img.dtype, dilate), "constant"
    else:
        value, mode = _saturate(border_value, img.dtype), border
    p = pad(img, ay, kh - 1 - ay, ax, kw - 1 - ax, mode, value)
    if mask.all():  # a rectangle is separable: columns of the window, then rows
        rows = p[:, 0:w].copy()
        for j in range(1, kw):
            op(rows, p[:, j : j + w], out=rows)
        out = rows[0:h].copy()
        for i in range(1, kh):
            op(out, rows[i : i + h], out=out)
        return out
    out = None
    for i, j in zip(*np.nonzero(mask), strict=True):
        window = p[i : i + h, j : j + w]
        out = window.copy() if out is None else op(out, window, out=out)
    return out


def plan_passes(mask, anchor, iterations):
    """OpenCV's rules for one erode or dilate call: ``(mask, (ay, ax), passes)``, with passes 0
    meaning a copy (no iterations, or a 1x1 kernel), and n iterations of a full rectangle
    turned into one pass of an (n (k - 1) + 1)-rectangle."""
    kh, kw = mask.shape
    ay = anchor[0] if anchor[0] >= 0 else kh // 2
    ax = anchor[1] if anchor[1] >= 0 else kw // 2
    if iterations == 0 or mask.size == 1:
        return mask, (ay, ax), 0
    if mask.all() and iterations > 1:
        grown = (kh + (iterations - 1) * (kh - 1), kw + (iterations - 1) * (kw - 1))
        return np.ones(grown, bool), (ay * iterations, ax * iterations), 1
    return mask, (ay, ax), iterations


def _erode_dilate(img, mask, anchor, iterations, border, border_value, dilate):
    mask, (ay, ax), iterations = plan_passes(mask, anchor, iterations)
    if iterations == 0:
        return img.copy()
    out = img
    for _ in range(iterations):
        out = _one_pass(out, mask, ay, ax, border, border_value, dilate)
    return out


def _subtract(a, b):
    """a - b saturated to the dtype, as cv2.subtract; bool as 0/1 values."""
    if a.dtype == np.bool_:
        return a & ~b
    if a.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):  # FLT_MAX borders overflow to inf
            return a - b
    info = np.iinfo(a.dtype)
    return np.clip(a.astype(np.int64) - b, info.min, info.max).astype(a.dtype)


def erode(image, kernel, anchor=(-1, -1), iterations=1, border="default", border_value=0):
    return _erode_dilate(
        image, np.asarray(kernel) != 0, anchor, iterations, border, border_value, False
    )


def dilate(image, kernel, anchor=(-1, -1), iterations=1, border="default", border_value=0):
    return _erode_dilate(
        image, np.asarray(kernel) != 0, anchor, iterations, border, border_value, True
    )


def morphology(image, op, kernel, anchor=(-1, -1), iterations=1, border="default", border_value=0):
    args = (kernel, anchor, iterations, border, border_value)
    if op == "erode":
        return erode(image, *args)
    if op == "dilate":
        return dilate(image, *args)
    if op == "open":
        return dilate(erode(image, *args), *args)
    if op == "close":
        return erode(dilate(image, *args), *args)
    if op == "gradient":
        return _subtract(dilate(image, *args), erode(image, *args))
    if op == "tophat":
        return _subtract(image, morphology(image, "open", *args))
    if op == "blackhat":
        return _subtract(morphology(image, "close", *args), image)
    raise ValueError(f"morphology: unknown op {op!r}")

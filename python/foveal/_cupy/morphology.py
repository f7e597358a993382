"""Morphology on the GPU through cupyx.scipy.ndimage, with OpenCV's semantics.

OpenCV's dilate is scipy's maximum_filter over the footprint (not grey_dilation, which
reflects it), with origin = anchor - size // 2, on the image padded with OpenCV's border (the
default border is a constant that never wins).
"""

from __future__ import annotations

import numpy as np

from ..reference.morphology import plan_passes


def _identity(dtype, dilate):
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if dilate else info.max


def _saturate(value, dtype):
    if dtype.kind == "f":
        return float(value)
    info = np.iinfo(dtype)
    return int(np.clip(np.rint(value), info.min, info.max))


_PAD_MODES = {"replicate": "edge", "reflect": "symmetric", "reflect101": "reflect", "wrap": "wrap"}


def _pad(xp, img, top, bottom, left, right, border, values):
    """The image with its border made explicit (scipy's own modes mishandle windows that reach
    more than the image's size past its edge)."""
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (img.ndim - 2)
    if border != "constant":
        return xp.pad(img, widths, mode=_PAD_MODES[border])
    out = xp.empty(
        (img.shape[0] + top + bottom, img.shape[1] + left + right, *img.shape[2:]), dtype=img.dtype
    )
    fill = [_saturate(v, img.dtype) for v in values]
    out[...] = xp.asarray(fill if len(fill) > 1 else fill[0], dtype=img.dtype)
    out[top : top + img.shape[0], left : left + img.shape[1]] = img
    return out


def _pass(xp, ndi, img, mask, ay, ax, border, values, dilate):
    kh, kw = mask.shape
    h, w = img.shape[:2]
    if border == "default":
        border, values = "constant", [_identity(img.dtype, dilate)]
    padded = _pad(xp, img, ay, kh - 1 - ay, ax, kw - 1 - ax, border, values)
    # On the padded image every window of an output pixel lies inside, so scipy's mode never
    # matters; origin moves scipy's centred window onto OpenCV's anchor.
    origin = [ay - kh // 2, ax - kw // 2]
    footprint = xp.asarray(mask.astype(bool))
    if img.ndim == 3:
        footprint = footprint[:, :, None]
        origin.append(0)
    filt = ndi.maximum_filter if dilate else ndi.minimum_filter
    res = filt(padded, footprint=footprint, mode="nearest", origin=origin)
    return res[ay : ay + h, ax : ax + w]


def erode_dilate(xp, ndi, img, mask, anchor, iterations, border, values, dilate):
    mask, (ay, ax), iterations = plan_passes(np.asarray(mask), anchor, iterations)
    if iterations == 0:
        return img.copy()
    binary = img.dtype == np.bool_
    out = img.view(xp.uint8) if binary else img
    if binary and border == "constant":
        values = [float(v != 0) for v in values]
    for _ in range(iterations):
        if binary and border == "default":
            cval = 0 if dilate else 1
            out = _pass(xp, ndi, out, mask, ay, ax, "constant", [cval], dilate)
        else:
            out = _pass(xp, ndi, out, mask, ay, ax, border, values, dilate)
    return out.view(xp.bool_) if binary else out


def _subtract(xp, a, b):
    if a.dtype == np.bool_:
        return a & ~b
    if a.dtype.kind == "f":
        return a - b
    info = np.iinfo(a.dtype)
    return xp.clip(a.astype(xp.int32) - b.astype(xp.int32), info.min, info.max).astype(a.dtype)


def apply(xp, ndi, op, img, mask, anchor, iterations, border, values):
    def run(x, dilate):
        return erode_dilate(xp, ndi, x, mask, anchor, iterations, border, values, dilate)

    if op == "erode":
        return run(img, False)
    if op == "dilate":
        return run(img, True)
    if op == "open":
        return run(run(img, False), True)
    if op == "close":
        return run(run(img, True), False)
    if op == "gradient":
        return _subtract(xp, run(img, True), run(img, False))
    if op == "tophat":
        return _subtract(xp, img, run(run(img, False), True))
    if op == "blackhat":
        return _subtract(xp, run(run(img, True), False), img)
    raise ValueError(f"morphology: unknown op {op!r}")


def morphology(op, img, mask, anchor, iterations, border, values):
    """foveal.morphology on a CuPy array."""
    import cupy
    import cupyx.scipy.ndimage as ndi

    return apply(cupy, ndi, op, img, mask, anchor, iterations, border, values)

"""Morphology on the GPU through cupyx.scipy.ndimage, with OpenCV's semantics.

OpenCV's dilate is scipy's maximum_filter over the footprint (not grey_dilation, which
reflects it), with origin = anchor - size // 2; OpenCV's borders map to scipy's modes
(replicate -> nearest, reflect -> reflect, reflect101 -> mirror, wrap -> wrap), and the default
border is a constant that never wins. A per-channel constant runs channel by channel.
"""

from __future__ import annotations

import numpy as np

_MODES = {"replicate": "nearest", "reflect": "reflect", "reflect101": "mirror", "wrap": "wrap"}


def _identity(dtype, dilate):
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if dilate else info.max


def _saturate(value, dtype):
    if dtype.kind == "f":
        return float(value)
    info = np.iinfo(dtype)
    return int(np.clip(np.rint(value), info.min, info.max))


def _pass(xp, ndi, img, mask, ay, ax, border, values, dilate):
    kh, kw = mask.shape
    origin = [ay - kh // 2, ax - kw // 2]
    filt = ndi.maximum_filter if dilate else ndi.minimum_filter
    footprint = xp.asarray(mask.astype(bool))
    if img.ndim == 3:
        footprint = footprint[:, :, None]
        origin.append(0)
    if border == "default":
        return filt(
            img,
            footprint=footprint,
            mode="constant",
            cval=_identity(img.dtype, dilate),
            origin=origin,
        )
    if border != "constant":
        return filt(img, footprint=footprint, mode=_MODES[border], origin=origin)
    if len(values) == 1 or img.ndim == 2:
        return filt(
            img,
            footprint=footprint,
            mode="constant",
            cval=_saturate(values[0], img.dtype),
            origin=origin,
        )
    out = xp.empty_like(img)
    for c in range(img.shape[2]):
        out[:, :, c] = filt(
            img[:, :, c],
            footprint=footprint[:, :, 0],
            mode="constant",
            cval=_saturate(values[c], img.dtype),
            origin=origin[:2],
        )
    return out


def erode_dilate(xp, ndi, img, mask, anchor, iterations, border, values, dilate):
    kh, kw = mask.shape
    ay = anchor[0] if anchor[0] >= 0 else kh // 2
    ax = anchor[1] if anchor[1] >= 0 else kw // 2
    if iterations == 0 or mask.size == 1:
        return img.copy()
    if mask.all() and iterations > 1:
        mask = np.ones((kh + (iterations - 1) * (kh - 1), kw + (iterations - 1) * (kw - 1)))
        ay, ax, iterations = ay * iterations, ax * iterations, 1
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

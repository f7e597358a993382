"""Corner responses and corner selection on the GPU (the CuPy fallback), with OpenCV's
semantics: cv2.cornerHarris, cv2.cornerMinEigenVal, cv2.goodFeaturesToTrack.

As in filters.py, each function takes ``xp`` and ``ndi`` first (filters.modules() gives cupy
and cupyx.scipy.ndimage), then arguments already validated by the wrapper (``border`` a
canonical name). The responses are computed with xp arithmetic; :func:`corners` then moves the
response to the host (``.get()``) and selects the corners in NumPy, because the greedy
minimum-distance pass is sequential by nature.
"""

from __future__ import annotations

import numpy as np

from . import filters


def structure_tensor(xp, ndi, img, block_size, ksize, border):
    """(a, b, c): block_size x block_size sums of gx^2, gx*gy, gy^2 (cv2.cornerEigenValsVecs),
    with cv2's derivative scale 1 / (2**(ksize - 1) * block_size [* 2 for Scharr]
    [* 255 for uint8]), in float32 (float64 for float64 input)."""
    work = filters.work_dtype(img.dtype)
    scale = float(2 ** ((ksize if ksize > 0 else 3) - 1) * block_size)
    if ksize < 0:
        scale *= 2.0
    if img.dtype == np.uint8:
        scale *= 255.0
    scale = work.type(1.0 / scale)
    zero = [0.0]
    gx = filters.derivative(xp, ndi, img, 1, 0, ksize, border, zero, work)
    gy = filters.derivative(xp, ndi, img, 0, 1, ksize, border, zero, work)
    gx *= scale
    gy *= scale
    cov = xp.stack([gx * gx, gx * gy, gy * gy], axis=-1)
    anchor = (block_size // 2, block_size // 2)
    s = filters.box_sum(xp, ndi, cov, (block_size, block_size), anchor, border, zero)
    s = s.astype(work, copy=False)
    return s[:, :, 0], s[:, :, 1], s[:, :, 2]


def harris(xp, ndi, img, block_size, ksize, k, border):
    """cv2.cornerHarris: R = a*c - b*b - k*(a + c)^2, float32 (float64 for float64 input)."""
    a, b, c = structure_tensor(xp, ndi, img, block_size, ksize, border)
    t = a + c
    return a * c - b * b - a.dtype.type(k) * (t * t)


def min_eigen(xp, ndi, img, block_size, ksize, border):
    """cv2.cornerMinEigenVal: (a + c)/2 - sqrt(((a - c)/2)^2 + b^2)."""
    a, b, c = structure_tensor(xp, ndi, img, block_size, ksize, border)
    half = a.dtype.type(0.5)
    a = a * half
    c = c * half
    d = a - c
    return (a + c) - xp.sqrt(d * d + b * b)


def _to_host(arr):
    return arr.get() if hasattr(arr, "get") else np.asarray(arr)


def select(response, max_corners, quality_level, min_distance, mask=None):
    """cv2.goodFeaturesToTrack's selection from a host ``response`` (H, W): (N, 2) float32
    (x, y), strongest first.

    threshold = quality_level * max(response over the mask), cast to the response's dtype;
    values not above it become 0; candidates are the pixels off the outermost rows and
    columns that are nonzero, equal to their 3x3 maximum and inside the mask; they are sorted
    by value, then by position, both descending (cv2 compares addresses on ties); then,
    greedily, a candidate is kept when no kept corner lies at squared distance
    < min_distance^2, looking, as cv2 does, only in the 3x3 neighbourhood of its cell in a grid
    of round(min_distance) pixels. That misses nothing: the coordinates are integers, so a
    corner closer than min_distance is at most floor(min_distance) <= round(min_distance)
    pixels away along each axis, hence in a neighbouring cell. The squared distance is exact
    (cv2 sums it in float32, which is exact below 2**24, beyond which this rounds as cv2 does).
    """
    resp = np.asarray(response)
    h, w = resp.shape
    if mask is not None:
        inside = np.asarray(mask) != 0
        max_val = float(resp[inside].max()) if inside.any() else 0.0
    else:
        inside = None
        max_val = float(resp.max()) if resp.size else 0.0
    thresh = resp.dtype.type(max_val * quality_level)
    eig = np.where(resp > thresh, resp, resp.dtype.type(0))
    if h < 3 or w < 3:
        return np.zeros((0, 2), np.float32)
    # 3x3 maximum of the inner pixels: every window of an inner pixel lies inside the image.
    inner = eig[1:-1, 1:-1]
    dil = inner.copy()
    for oy in (0, 1, 2):
        for ox in (0, 1, 2):
            np.maximum(dil, eig[oy : oy + h - 2, ox : ox + w - 2], out=dil)
    cand = (inner != 0) & (inner == dil)
    if inside is not None:
        cand &= inside[1:-1, 1:-1]
    ys, xs = np.nonzero(cand)
    ys += 1
    xs += 1
    vals = eig[ys, xs]
    order = np.lexsort((ys * w + xs, vals))[::-1]  # value, then position, descending
    ys, xs = ys[order], xs[order]
    limit = max_corners if max_corners > 0 else len(ys)
    if min_distance < 1:
        n = min(limit, len(ys))
        return np.stack([xs[:n], ys[:n]], axis=1).astype(np.float32).reshape(-1, 2)

    cell = int(np.rint(min_distance))
    gw = (w + cell - 1) // cell
    gh = (h + cell - 1) // cell
    md2 = float(min_distance) * float(min_distance)
    grid: dict[int, list[tuple[int, int]]] = {}
    kept: list[tuple[int, int]] = []
    f32 = np.float32
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        cx, cy = x // cell, y // cell
        good = True
        for yy in range(max(cy - 1, 0), min(cy + 1, gh - 1) + 1):
            for xx in range(max(cx - 1, 0), min(cx + 1, gw - 1) + 1):
                for px, py in grid.get(yy * gw + xx, ()):
                    d = (x - px) ** 2 + (y - py) ** 2
                    if d >= 1 << 24:  # cv2 sums the squares in float32
                        d = float(f32(f32((x - px) ** 2) + f32((y - py) ** 2)))
                    if d < md2:
                        good = False
                        break
                if not good:
                    break
            if not good:
                break
        if good:
            grid.setdefault(cy * gw + cx, []).append((x, y))
            kept.append((x, y))
            if len(kept) == limit:
                break
    return np.asarray(kept, np.float32).reshape(-1, 2)


def corners(
    xp,
    ndi,
    img,
    max_corners,
    quality_level,
    min_distance,
    block_size,
    ksize,
    method,
    k,
    mask=None,
):
    """cv2.goodFeaturesToTrack: the response (min_eigen, or harris for method "harris", with
    cv2's reflect101 border) on the device, then moved to the host with ``.get()`` and the
    selection done in NumPy (:func:`select`). Returns a host (N, 2) float32 array of (x, y);
    the wrapper moves it back to the caller's device."""
    if method == "harris":
        resp = harris(xp, ndi, img, block_size, ksize, k, "reflect101")
    else:
        resp = min_eigen(xp, ndi, img, block_size, ksize, "reflect101")
    host_mask = None if mask is None else _to_host(mask)
    return select(_to_host(resp), max_corners, quality_level, min_distance, host_mask)

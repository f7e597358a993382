"""cv2.goodFeaturesToTrack's selection of corners from a response image, on the host.

The CPU wrapper (foveal.corners) and the CuPy fallback both end with it: after the response,
the work is a sort and a greedy walk over a few thousand candidates.
"""

from __future__ import annotations

import numpy as np


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

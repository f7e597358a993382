"""cv2.goodFeaturesToTrack's selection of corners from a response image, on the host.

The CPU wrapper (foveal.corners) and the CuPy fallback both end with it: after the response,
the candidates and the greedy walk over them run natively (foveal::good_features).
"""

from __future__ import annotations

import numpy as np

from . import _core


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
    if h < 3 or w < 3:
        return np.zeros((0, 2), np.float32)
    # The candidates and the greedy walk, natively.
    native_mask = None if inside is None else np.ascontiguousarray(inside, dtype=np.uint8)
    positions = _core.good_features(
        resp, float(thresh), native_mask, int(max_corners), float(min_distance)
    )
    ys, xs = np.divmod(positions, w)
    return np.stack([xs, ys], axis=1).astype(np.float32).reshape(-1, 2)

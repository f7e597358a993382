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

from .._corner_selection import select  # the host step, shared with the CPU
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

"""Derivative filters and the Canny edge detector as OpenCV defines them, in NumPy.

sobel(dx, dy, ksize) = scale * correlation(src, outer(ky, kx)) + delta with (kx, ky) =
cv2.getDerivKernels(dx, dy, ksize); ksize -1 is the 3x3 Scharr kernel. canny reproduces
cv2.Canny's integer pipeline (int16 Sobel, integer magnitudes, OpenCV's non-maximum
suppression and 8-connected hysteresis) bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from .filters import cast, correlate_separable


def _deriv_1d(order: int, ksize: int) -> np.ndarray:
    """One factor of cv2.getDerivKernels: ksize - 1 - order binomial smoothings [1 1] and
    order differences [-1 1]; Scharr (ksize -1) is [3 10 3] or [-1 0 1]; ksize 1 means 3 for a
    derivative and [1] for smoothing."""
    if ksize == -1:
        return np.array([3.0, 10.0, 3.0]) if order == 0 else np.array([-1.0, 0.0, 1.0])
    if ksize == 1 and order > 0:
        ksize = 3
    k = np.ones(1)
    for _ in range(ksize - 1 - order):
        k = np.convolve(k, [1.0, 1.0])
    for _ in range(order):
        k = np.convolve(k, [-1.0, 1.0])
    return k


def deriv_kernels(dx: int, dy: int, ksize: int) -> tuple[np.ndarray, np.ndarray]:
    """cv2.getDerivKernels(dx, dy, ksize) as float64 (kx, ky): the row and column factors of
    the derivative filter outer(ky, kx)."""
    return _deriv_1d(dx, ksize), _deriv_1d(dy, ksize)


def _sobel64(image, dx, dy, ksize, border, border_value):
    kx, ky = deriv_kernels(dx, dy, ksize)
    return correlate_separable(image, kx, ky, None, border, border_value)


def _grad_dtype(image, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    return np.dtype(np.float64 if image.dtype == np.float64 else np.float32)


def sobel(
    image,
    dx,
    dy,
    ksize=3,
    scale=1.0,
    delta=0.0,
    border="reflect101",
    border_value=0,
    dtype=None,
):
    """cv2.Sobel: scale * sum_{i,j} ky[i] kx[j] src(y + i - r, x + j - r) + delta, with
    (kx, ky) = deriv_kernels(dx, dy, ksize) and the anchor at the centre; dtype None is
    float32 (float64 for float64 input)."""
    acc = _sobel64(image, dx, dy, ksize, border, border_value)
    return cast(acc * scale + delta, _grad_dtype(image, dtype))


def scharr(image, dx, dy, scale=1.0, delta=0.0, border="reflect101", border_value=0, dtype=None):
    """cv2.Scharr: sobel with ksize -1 (the 3x3 kernel outer([3 10 3], [-1 0 1]))."""
    return sobel(image, dx, dy, -1, scale, delta, border, border_value, dtype)


def gradient(image, ksize=3, angle_in_degrees=False, border="reflect101", border_value=0):
    """(magnitude, angle) as cv2.cartToPolar(gx, gy): gx, gy = sobel(image, 1, 0 / 0, 1, ksize)
    rounded to float32 (float64 for float64 input), magnitude = sqrt(gx^2 + gy^2), angle =
    atan2(gy, gx) in [0, 2 pi) (or [0, 360) degrees), 0 where gx = gy = 0. A float32 angle
    that would round up to 2 pi (360) is the largest float32 below it."""
    dtype = _grad_dtype(image, None)
    gx = sobel(image, 1, 0, ksize, border=border, border_value=border_value).astype(np.float64)
    gy = sobel(image, 0, 1, ksize, border=border, border_value=border_value).astype(np.float64)
    magnitude = np.sqrt(gx * gx + gy * gy)
    angle = np.arctan2(gy, gx)
    angle = np.where(angle < 0, angle + 2 * np.pi, angle)
    angle[(gx == 0) & (gy == 0)] = 0.0
    full = 2 * np.pi
    if angle_in_degrees:
        angle = np.degrees(angle)
        full = 360.0
    angle = angle.astype(dtype)
    top = dtype.type(full)
    angle[angle >= top] = np.nextafter(top, dtype.type(0))
    return magnitude.astype(dtype), angle


# tan(22.5 degrees) in Q15, as OpenCV's Canny rounds it.
_TG22 = int(0.4142135623730950488016887242097 * (1 << 15) + 0.5)


def _canny_gradients(image, ksize, l2gradient):
    """int16 Sobel derivatives (replicate border; for ksize 7 scaled by 1/16 so they fit),
    the integer magnitude, and per pixel the channel of the largest magnitude (first on
    ties)."""
    img = image if image.ndim == 3 else image[:, :, None]
    scale = 1 / 16 if ksize == 7 else 1.0
    gx = sobel(img, 1, 0, ksize, scale, border="replicate", dtype=np.int16).astype(np.int64)
    gy = sobel(img, 0, 1, ksize, scale, border="replicate", dtype=np.int16).astype(np.int64)
    mag = gx * gx + gy * gy if l2gradient else np.abs(gx) + np.abs(gy)
    best = np.argmax(mag, axis=2)[:, :, None]
    take = lambda a: np.take_along_axis(a, best, axis=2)[:, :, 0]  # noqa: E731
    return take(gx), take(gy), take(mag)


def _canny_thresholds(low, high, ksize, l2gradient):
    """OpenCV's integer thresholds: /16 for ksize 7, swapped if low > high, for L2 clamped to
    32767 and squared (positive ones only), then floored."""
    low, high = float(low), float(high)
    if ksize == 7:
        low, high = low / 16, high / 16
    if low > high:
        low, high = high, low
    if l2gradient:
        low, high = min(32767.0, low), min(32767.0, high)
        low = low * low if low > 0 else low
        high = high * high if high > 0 else high
    return math.floor(low), math.floor(high)


def _components(mask):
    """8-connected component labels of a boolean image (-1 outside it): hooking of roots
    along neighbour pairs, then pointer jumping, until no pair crosses two components."""
    h, w = mask.shape
    index = np.full((h + 2, w + 2), -1, np.int64)
    ys, xs = np.nonzero(mask)
    index[ys + 1, xs + 1] = np.arange(ys.size)
    a_parts, b_parts = [], []
    for oy, ox in ((0, 1), (1, -1), (1, 0), (1, 1)):
        nb = index[ys + 1 + oy, xs + 1 + ox]
        keep = nb >= 0
        a_parts.append(np.flatnonzero(keep))
        b_parts.append(nb[keep])
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    label = np.arange(ys.size)
    while True:
        la, lb = label[a], label[b]
        cross = la != lb
        if not cross.any():
            break
        hi = np.maximum(la[cross], lb[cross])
        lo = np.minimum(la[cross], lb[cross])
        np.minimum.at(label, hi, lo)  # hi is a root: hook it under the smaller root
        while True:
            up = label[label]
            if np.array_equal(up, label):
                break
            label = up
    out = np.full((h, w), -1, np.int64)
    out[ys, xs] = label
    return out


def canny(image, low, high, ksize=3, l2gradient=False):
    """cv2.Canny(image, low, high, apertureSize=ksize, L2gradient=l2gradient): uint8 0 / 255.

    Gradients: int16 Sobel with a replicate border (ksize 7 scaled by 1/16 and the thresholds
    too); magnitude |dx| + |dy| or dx^2 + dy^2 (thresholds then squared); for colour the
    channel with the largest magnitude. Non-maximum suppression in Q15 fixed point (magnitude
    0 outside the image): horizontal if |dy| 2^15 < |dx| TG22, vertical if it exceeds
    |dx| (TG22 + 2^16), diagonal otherwise; the pixel must beat its first neighbour (>, the one
    above or to the left) and tie or beat its second (>=), except on a diagonal, where it must
    beat both (>); candidates need magnitude > low. Hysteresis: a candidate
    with magnitude > high is an edge, and so is every candidate 8-connected to an edge."""
    gx, gy, mag = _canny_gradients(image, ksize, l2gradient)
    lo, hi = _canny_thresholds(low, high, ksize, l2gradient)
    h, w = mag.shape
    m = np.zeros((h + 2, w + 2), np.int64)
    m[1:-1, 1:-1] = mag
    nb = lambda oy, ox: m[1 + oy : 1 + oy + h, 1 + ox : 1 + ox + w]  # noqa: E731
    x = np.abs(gx)
    y = np.abs(gy) << 15
    tg22x = x * _TG22
    tg67x = tg22x + (x << 16)
    horizontal = y < tg22x
    vertical = ~horizontal & (y > tg67x)
    same_sign = (gx ^ gy) >= 0  # the gradient points down-right or up-left
    first = np.where(horizontal, nb(0, -1), np.where(vertical, nb(-1, 0), 0))
    second = np.where(horizontal, nb(0, 1), np.where(vertical, nb(1, 0), 0))
    diagonal = ~horizontal & ~vertical
    first = np.where(diagonal, np.where(same_sign, nb(-1, -1), nb(-1, 1)), first)
    second = np.where(diagonal, np.where(same_sign, nb(1, 1), nb(1, -1)), second)
    # the second neighbour may tie horizontally and vertically, never diagonally
    beats_second = np.where(diagonal, mag > second, mag >= second)
    candidate = (mag > lo) & (mag > first) & beats_second
    strong = candidate & (mag > hi)
    labels = _components(candidate)
    has_strong = np.zeros(int(candidate.sum()), bool)
    has_strong[labels[strong]] = True
    edges = candidate.copy()
    edges[candidate] = has_strong[labels[candidate]]
    return np.where(edges, 255, 0).astype(np.uint8)

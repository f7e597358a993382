"""Linear filters as OpenCV defines them, in NumPy (float64 inside).

Correlation, not convolution: with the anchor (ay, ax) (default the kernel's centre),

    dst(y, x) = sum_{i, j} kernel[i, j] * src(y + i - ay, x + j - ax) + delta

per channel, the border applied to src. Integer outputs are rounded half to even and saturated
(NaN becomes 0); float outputs are cast.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .border import pad

_ALIASES = {"nearest": "replicate", "mirror": "reflect101", "reflect_101": "reflect101"}

# cv2.getGaussianKernel's fixed kernels for sigma <= 0 (the 7-tap one is not binomial; the
# 9-tap one is [4 13 30 51 60 51 30 13 4] / 256).
_SMALL_GAUSSIANS = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
    9: (4 / 256, 13 / 256, 30 / 256, 51 / 256, 60 / 256, 51 / 256, 30 / 256, 13 / 256, 4 / 256),
}


def border_mode(border: str) -> str:
    """The canonical border name (scipy's and OpenCV's spellings accepted)."""
    border = border.lower()
    return _ALIASES.get(border, border)


def as_size(ksize) -> tuple[int, int]:
    """An int (both) or a (rows, cols) pair."""
    if np.ndim(ksize) == 0:
        return int(ksize), int(ksize)
    return int(ksize[0]), int(ksize[1])


def as_anchor(anchor, kh: int, kw: int) -> tuple[int, int]:
    """(row, col); None or a negative component means the centre (OpenCV's -1)."""
    if anchor is None:
        return kh // 2, kw // 2
    ay, ax = int(anchor[0]), int(anchor[1])
    return (ay if ay >= 0 else kh // 2), (ax if ax >= 0 else kw // 2)


def cast(values, dtype) -> np.ndarray:
    """The output rule: integers rounded half to even and saturated (NaN -> 0); floats cast."""
    dtype = np.dtype(dtype)
    v = np.asarray(values, dtype=np.float64)
    if dtype.kind == "f":
        return v.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.nan_to_num(np.rint(v), nan=0.0), info.min, info.max).astype(dtype)


def padded(image, top, bottom, left, right, border, border_value=0) -> np.ndarray:
    """``image`` in float64 with the border added; the constant border value is saturated to
    the image's dtype first (as OpenCV converts its border scalar)."""
    border = border_mode(border)
    value = cast(border_value, image.dtype) if border == "constant" else 0
    return pad(image, top, bottom, left, right, border, value).astype(np.float64)


def correlate(image, kernel, anchor=None, border="reflect101", border_value=0) -> np.ndarray:
    """float64 sum_{i,j} kernel[i, j] * src(y + i - ay, x + j - ax); zero taps are skipped."""
    kernel = np.asarray(kernel, dtype=np.float64)
    kh, kw = kernel.shape
    ay, ax = as_anchor(anchor, kh, kw)
    h, w = image.shape[:2]
    p = padded(image, ay, kh - 1 - ay, ax, kw - 1 - ax, border, border_value)
    out = np.zeros((h, w, *image.shape[2:]))
    for i, j in zip(*np.nonzero(kernel), strict=True):
        out += kernel[i, j] * p[i : i + h, j : j + w]
    return out


def correlate_separable(
    image, kernel_x, kernel_y, anchor=None, border="reflect101", border_value=0
) -> np.ndarray:
    """float64 correlation with outer(kernel_y, kernel_x): a row pass, then a column pass."""
    kx = np.asarray(kernel_x, dtype=np.float64).ravel()
    ky = np.asarray(kernel_y, dtype=np.float64).ravel()
    ay, ax = as_anchor(anchor, ky.size, kx.size)
    h, w = image.shape[:2]
    p = padded(image, ay, ky.size - 1 - ay, ax, kx.size - 1 - ax, border, border_value)
    rows = np.zeros((p.shape[0], w, *p.shape[2:]))
    for j in np.flatnonzero(kx):
        rows += kx[j] * p[:, j : j + w]
    out = np.zeros((h, w, *p.shape[2:]))
    for i in np.flatnonzero(ky):
        out += ky[i] * rows[i : i + h]
    return out


def filter2d(
    image, kernel, anchor=None, delta=0.0, border="reflect101", border_value=0, dtype=None
):
    """cv2.filter2D: sum_{i,j} kernel[i, j] * src(y + i - ay, x + j - ax) + delta per channel;
    anchor (row, col), default the centre; dtype None keeps the input's."""
    acc = correlate(image, kernel, anchor, border, border_value)
    return cast(acc + delta, image.dtype if dtype is None else dtype)


def sep_filter2d(
    image,
    kernel_x,
    kernel_y,
    anchor=None,
    delta=0.0,
    border="reflect101",
    border_value=0,
    dtype=None,
):
    """cv2.sepFilter2D: filter2d with kernel outer(kernel_y, kernel_x) (rows of kernel_y,
    columns of kernel_x), computed as a row pass and a column pass."""
    acc = correlate_separable(image, kernel_x, kernel_y, anchor, border, border_value)
    return cast(acc + delta, image.dtype if dtype is None else dtype)


def box_filter(
    image, ksize, normalize=True, anchor=None, border="reflect101", border_value=0, dtype=None
):
    """cv2.boxFilter: the kh x kw window sum at the anchor (default the centre), divided by
    kh * kw when normalize. Integer inputs give exact sums (float64 holds them exactly), so a
    normalized integer output is round_half_even(sum / area)."""
    kh, kw = as_size(ksize)
    acc = correlate_separable(image, np.ones(kw), np.ones(kh), anchor, border, border_value)
    if normalize:
        acc = acc / (kh * kw)
    return cast(acc, image.dtype if dtype is None else dtype)


def gaussian_kernel(ksize: int, sigma: float) -> np.ndarray:
    """cv2.getGaussianKernel(ksize, sigma) as float64: for sigma <= 0 and ksize 1, 3, 5, 7 or 9,
    OpenCV's fixed kernels; otherwise g_i = exp(-(i - (ksize - 1) / 2)^2 / (2 sigma^2))
    normalized to sum 1, with sigma <= 0 replaced by 0.3 ((ksize - 1) / 2 - 1) + 0.8.

    The steps follow OpenCV's order (x in half steps, the centre tap 1, the sum of the first
    half doubled, every tap times 1 / sum); OpenCV's software exp differs from NumPy's by up
    to ~5e-14 relative for the far tails, so values are not always bit-identical."""
    n = int(ksize)
    if sigma <= 0 and n in _SMALL_GAUSSIANS:
        return np.array(_SMALL_GAUSSIANS[n])
    if sigma > 0:
        s = float(sigma)
    else:  # 0.15 n + 0.35 with one rounding, as OpenCV's fused multiply-add
        s = float(Fraction(n) * Fraction(0.15) + Fraction(0.35))
    half = (n - 1) // 2
    x = np.arange(1 - n, 1 - n + 2 * half, 2, dtype=np.float64)  # 2 (i - (n - 1) / 2)
    tails = np.exp(x * x * (-0.125 / (s * s)))
    total = 0.0
    for t in tails:
        total += t
    total = total * 2.0 + 1.0 + (1.0 if n % 2 == 0 else 0.0)
    scale = 1.0 / total
    out = np.full(n, scale)
    out[:half] = tails * scale
    out[n - half :] = out[:half][::-1]
    return out


def gaussian_ksize(sigma: float, dtype) -> int:
    """OpenCV's size from sigma: round(sigma * (3 for uint8 else 4) * 2 + 1) | 1."""
    factor = 3 if np.dtype(dtype) == np.uint8 else 4
    return int(np.rint(sigma * factor * 2 + 1)) | 1


def gaussian_blur(image, ksize, sigma, sigma_y=None, border="reflect101", border_value=0):
    """cv2.GaussianBlur(src, (kw, kh), sigma, sigmaY=sigma_y): separable correlation with
    gaussian_kernel(kw, sigma) along rows and gaussian_kernel(kh, sigma_y) along columns.
    sigma_y None (or <= 0) means sigma; a size of 0 comes from its sigma (gaussian_ksize).
    Output dtype = input's."""
    kh, kw = as_size(ksize)
    sy = sigma if sigma_y is None or sigma_y <= 0 else sigma_y
    if kw <= 0:
        kw = gaussian_ksize(sigma, image.dtype)
    if kh <= 0:
        kh = gaussian_ksize(sy, image.dtype)
    kx = gaussian_kernel(kw, max(sigma, 0.0))
    ky = gaussian_kernel(kh, max(sy, 0.0))
    acc = correlate_separable(image, kx, ky, None, border, border_value)
    return cast(acc, image.dtype)

"""Linear filters, gradients and Canny on the GPU through cupyx.scipy.ndimage, with OpenCV's
semantics (the CuPy fallback for builds without the _cuda module).

Every function takes the array module ``xp`` and the ndimage module ``ndi`` first (``cupy`` and
``cupyx.scipy.ndimage`` on the GPU; :func:`modules` returns them), then its arguments already
validated and normalized by the wrapper in ``foveal.imgproc``: ``anchor`` is (row, col) with the
centre resolved, ``border`` is a canonical name ("constant", "replicate", "reflect",
"reflect101", "wrap"), ``values`` is the list of floats from ``_validate.border_values`` (one,
or one per channel), ``dtype`` a NumPy dtype. Kernels are host (NumPy) arrays. Each returns a
new array; nothing mutates its input.

How OpenCV's correlation maps onto ndimage: the image is padded explicitly with OpenCV's border
(scipy's own modes disagree with OpenCV for windows reaching more than the image's size past
an edge), so that every window of an output pixel lies inside the padded image; then
``ndi.correlate`` / ``ndi.correlate1d`` with origin = anchor - size // 2 puts scipy's centred
window on OpenCV's anchor, and the valid part is cropped out.

Precision follows the spec: float32 arithmetic, float64 when the input or the output is
float64; integer outputs are rounded half to even, saturated, NaN -> 0. Two exceptions, both
more accurate than float32: box sums of integer images are exact (int64 running sums), and
box sums of float images accumulate in float64 (as OpenCV's boxFilter does).
"""

from __future__ import annotations

import math

import numpy as np

from .morphology import _pad


def modules():
    """(cupy, cupyx.scipy.ndimage): the ``xp`` and ``ndi`` arguments of the GPU fallbacks."""
    import cupy
    import cupyx.scipy.ndimage as ndi

    return cupy, ndi


# --------------------------------------------------------------------------------------------
# helpers shared with corners.py
# --------------------------------------------------------------------------------------------


def work_dtype(*dtypes) -> np.dtype:
    """float64 when any of ``dtypes`` (input, output) is float64, else float32."""
    return np.dtype(np.float64 if any(np.dtype(d) == np.float64 for d in dtypes) else np.float32)


def finish(xp, res, dtype):
    """``res`` (floating) as ``dtype``: floats cast; integers rounded half to even, NaN -> 0,
    saturated to the dtype's range."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return res.astype(dtype, copy=False)
    info = np.iinfo(dtype)
    res = xp.rint(res)
    res = xp.where(xp.isnan(res), 0, res)
    return xp.clip(res, info.min, info.max).astype(dtype)


def _padded(xp, img, kh, kw, anchor, border, values):
    """``img`` padded so that the kh x kw window anchored at ``anchor`` of every pixel lies
    inside: ay rows above, kh - 1 - ay below, ax columns left, kw - 1 - ax right."""
    ay, ax = anchor
    return _pad(xp, img, ay, kh - 1 - ay, ax, kw - 1 - ax, border, values)


def correlate_sep(xp, ndi, img, kernel_x, kernel_y, anchor, border, values, work):
    """sum_{i,j} kernel_y[i] kernel_x[j] src(y + i - ay, x + j - ax) in ``work`` precision
    (floating, the image's shape), the border applied; kernels are 1-D host arrays."""
    kx = np.asarray(kernel_x, np.float64).ravel()
    ky = np.asarray(kernel_y, np.float64).ravel()
    h, w = img.shape[:2]
    ay, ax = anchor
    padded = _padded(xp, img, ky.size, kx.size, anchor, border, values).astype(work, copy=False)
    # kernel_x along the rows first; then only the columns the output needs take kernel_y.
    rows = ndi.correlate1d(
        padded,
        xp.asarray(kx.astype(work)),
        axis=1,
        output=work,
        mode="constant",
        origin=ax - kx.size // 2,
    )
    rows = xp.ascontiguousarray(rows[:, ax : ax + w])
    res = ndi.correlate1d(
        rows,
        xp.asarray(ky.astype(work)),
        axis=0,
        output=work,
        mode="constant",
        origin=ay - ky.size // 2,
    )
    return res[ay : ay + h]


def box_sum(xp, ndi, img, ksize, anchor, border, values):
    """The unnormalized kh x kw window sums: int64 for integer images (exact running sums,
    constant time per pixel), float64 for float images (ones correlated in float64, so a NaN or
    inf stays inside the windows that contain it)."""
    kh, kw = ksize
    h, w = img.shape[:2]
    ay, ax = anchor
    padded = _padded(xp, img, kh, kw, anchor, border, values)
    if img.dtype.kind == "f":
        ones_x = xp.ones(kw, np.float64)
        ones_y = xp.ones(kh, np.float64)
        rows = ndi.correlate1d(
            padded.astype(np.float64),
            ones_x,
            axis=1,
            output=np.float64,
            mode="constant",
            origin=ax - kw // 2,
        )
        rows = xp.ascontiguousarray(rows[:, ax : ax + w])
        res = ndi.correlate1d(
            rows, ones_y, axis=0, output=np.float64, mode="constant", origin=ay - kh // 2
        )
        return res[ay : ay + h]
    c = xp.cumsum(padded, axis=1, dtype=np.int64)
    rows = c[:, kw - 1 : kw - 1 + w].copy()
    rows[:, 1:] -= c[:, : w - 1]
    c = xp.cumsum(rows, axis=0)
    res = c[kh - 1 : kh - 1 + h].copy()
    res[1:] -= c[: h - 1]
    return res


# --------------------------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------------------------


def filter2d(xp, ndi, img, kernel, anchor, delta, border, values, dtype):
    """cv2.filter2D: dst(y, x) = sum kernel[i, j] src(y + i - ay, x + j - ax) + delta, per
    channel (correlation, not convolution); ``kernel`` a 2-D host array."""
    kernel = np.asarray(kernel, np.float64)
    dtype = np.dtype(dtype)
    work = work_dtype(img.dtype, dtype)
    kh, kw = kernel.shape
    h, w = img.shape[:2]
    ay, ax = anchor
    padded = _padded(xp, img, kh, kw, anchor, border, values).astype(work, copy=False)
    weights = xp.asarray(kernel.astype(work))
    origin = [ay - kh // 2, ax - kw // 2]
    if img.ndim == 3:
        weights = weights[:, :, None]
        origin.append(0)
    res = ndi.correlate(padded, weights, output=work, mode="constant", origin=origin)
    res = res[ay : ay + h, ax : ax + w]
    if delta != 0:
        res = res + work.type(delta)
    return finish(xp, res, dtype)


def sep_filter2d(xp, ndi, img, kernel_x, kernel_y, anchor, delta, border, values, dtype):
    """cv2.sepFilter2D: filter2d with the kernel outer(kernel_y, kernel_x), in two 1-D passes."""
    dtype = np.dtype(dtype)
    work = work_dtype(img.dtype, dtype)
    res = correlate_sep(xp, ndi, img, kernel_x, kernel_y, anchor, border, values, work)
    if delta != 0:
        res = res + work.type(delta)
    return finish(xp, res, dtype)


def box_filter(xp, ndi, img, ksize, normalize, anchor, border, values, dtype):
    """cv2.boxFilter: the kh x kw window sum, divided by kh * kw when ``normalize``; integer
    images give exact sums and round_half_even(sum / area)."""
    dtype = np.dtype(dtype)
    kh, kw = ksize
    s = box_sum(xp, ndi, img, (kh, kw), anchor, border, values)
    if normalize and kh * kw != 1:
        s = s / float(kh * kw) if img.dtype.kind != "f" else s * (1.0 / (kh * kw))
    elif s.dtype.kind != "f":
        s = s.astype(np.float64)
    return finish(xp, s, dtype)


def gaussian_blur(xp, ndi, img, ksize, sigma, sigma_y, border, values):
    """cv2.GaussianBlur(img, (kw, kh), sigma, sigmaY=sigma_y): ``ksize`` (rows, cols), a 0
    derived from the sigma; sigma_y None (or <= 0) means sigma; the kernels are
    cv2.getGaussianKernel's (foveal.reference.filters.gaussian_kernel). Output dtype = input's."""
    from ..reference.filters import gaussian_kernel, gaussian_ksize

    kh, kw = ksize
    sigma_x = float(sigma)
    sigma_y = sigma_x if sigma_y is None or sigma_y <= 0 else float(sigma_y)
    if kw <= 0 and sigma_x > 0:
        kw = gaussian_ksize(sigma_x, img.dtype)
    if kh <= 0 and sigma_y > 0:
        kh = gaussian_ksize(sigma_y, img.dtype)
    kx = np.asarray(gaussian_kernel(kw, max(sigma_x, 0.0)), np.float64)
    ky = np.asarray(gaussian_kernel(kh, max(sigma_y, 0.0)), np.float64)
    anchor = (kh // 2, kw // 2)
    return sep_filter2d(xp, ndi, img, kx, ky, anchor, 0.0, border, values, img.dtype)


# --------------------------------------------------------------------------------------------
# gradients and edges
# --------------------------------------------------------------------------------------------


def derivative(xp, ndi, img, dx, dy, ksize, border, values, work):
    """The unscaled Sobel / Scharr derivative (cv2.getDerivKernels' kernels) in ``work``
    precision; exact for integer images in float32 while the sums stay below 2**24."""
    from ..reference.gradients import deriv_kernels

    kx, ky = deriv_kernels(dx, dy, ksize)
    kx = np.asarray(kx, np.float64).ravel()
    ky = np.asarray(ky, np.float64).ravel()
    anchor = (ky.size // 2, kx.size // 2)
    return correlate_sep(xp, ndi, img, kx, ky, anchor, border, values, work)


def sobel_dtype(img_dtype, dtype) -> np.dtype:
    """sobel's output dtype: ``dtype``, or float32 (float64 for float64 input) when None."""
    if dtype is not None:
        return np.dtype(dtype)
    return np.dtype(np.float64 if np.dtype(img_dtype) == np.float64 else np.float32)


def sobel(xp, ndi, img, dx, dy, ksize, scale, delta, border, values, dtype):
    """cv2.Sobel (ksize -1: Scharr): correlation with outer(ky, kx), times scale, plus delta."""
    dtype = sobel_dtype(img.dtype, dtype)
    work = work_dtype(img.dtype, dtype)
    res = derivative(xp, ndi, img, dx, dy, ksize, border, values, work)
    if scale != 1:
        res *= work.type(scale)
    if delta != 0:
        res += work.type(delta)
    return finish(xp, res, dtype)


def scharr(xp, ndi, img, dx, dy, scale, delta, border, values, dtype):
    """cv2.Scharr = sobel with ksize -1."""
    return sobel(xp, ndi, img, dx, dy, -1, scale, delta, border, values, dtype)


def polar(xp, gx, gy, angle_in_degrees):
    """(sqrt(gx^2 + gy^2), atan2(gy, gx) in [0, 2 pi) or [0, 360)), angle 0 where gx = gy = 0;
    the angle is computed in the arrays' precision and kept below the period (float rounding
    of a tiny negative angle plus the period would give the period itself)."""
    dt = gx.dtype
    mag = xp.hypot(gx, gy)
    ang = xp.arctan2(gy, gx)
    period = 360.0 if angle_in_degrees else 2.0 * math.pi
    if angle_in_degrees:
        ang *= dt.type(180.0 / math.pi)
    ang = xp.where(ang < 0, ang + dt.type(period), ang)
    below = np.nextafter(dt.type(period), dt.type(0))
    ang = xp.minimum(ang, below)
    ang = xp.where((gx == 0) & (gy == 0), dt.type(0), ang)
    return mag, ang.astype(dt, copy=False)


def gradient(xp, ndi, img, ksize, angle_in_degrees, border, values):
    """(magnitude, angle) of (sobel(img, 1, 0, ksize), sobel(img, 0, 1, ksize)), per channel,
    float32 (float64 for float64 input), as cv2.cartToPolar (but with the exact atan2)."""
    work = work_dtype(img.dtype)
    gx = derivative(xp, ndi, img, 1, 0, ksize, border, values, work)
    gy = derivative(xp, ndi, img, 0, 1, ksize, border, values, work)
    return polar(xp, gx, gy, angle_in_degrees)


_TG22 = int(0.4142135623730950488016887242097 * (1 << 15) + 0.5)


def canny(xp, ndi, img, low, high, ksize, l2gradient):
    """cv2.Canny(img, low, high, apertureSize=ksize, L2gradient=l2gradient), bit for bit:
    int16 Sobel with a replicated border (for ksize 7 scaled by 1/16, and the thresholds too,
    as OpenCV does so that the derivatives fit), int32 magnitudes (|dx| + |dy|, or dx^2 + dy^2
    with the thresholds clamped to 32767 and squared), the channel of largest magnitude (first
    on ties), OpenCV's Q15 non-maximum suppression, then hysteresis as the 8-connected
    components of the candidates (ndi.label) that contain a strong pixel. uint8 (H, W) of
    0 / 255. No int32 expression overflows: |dx|, |dy| <= 24480 for uint8 input."""
    low, high = float(low), float(high)
    scale = 1.0
    if ksize == 7:
        scale, low, high = 1.0 / 16.0, low / 16.0, high / 16.0
    if low > high:
        low, high = high, low
    int16 = np.dtype(np.int16)
    replicate = ("replicate", [0.0], int16)
    dx = sobel(xp, ndi, img, 1, 0, ksize, scale, 0.0, *replicate).astype(np.int32)
    dy = sobel(xp, ndi, img, 0, 1, ksize, scale, 0.0, *replicate).astype(np.int32)
    if l2gradient:
        mag = dx * dx + dy * dy
        low, high = min(32767.0, low), min(32767.0, high)
        if low > 0:
            low *= low
        if high > 0:
            high *= high
    else:
        mag = xp.abs(dx) + xp.abs(dy)
    low, high = math.floor(low), math.floor(high)
    if img.ndim == 3:
        pick = xp.argmax(mag, axis=2)[:, :, None]
        mag = xp.take_along_axis(mag, pick, axis=2)[:, :, 0]
        dx = xp.take_along_axis(dx, pick, axis=2)[:, :, 0]
        dy = xp.take_along_axis(dy, pick, axis=2)[:, :, 0]

    h, w = mag.shape
    p = xp.zeros((h + 2, w + 2), np.int32)  # magnitudes outside the image are 0
    p[1:-1, 1:-1] = mag

    def at(oy, ox):
        return p[1 + oy : 1 + oy + h, 1 + ox : 1 + ox + w]

    x = xp.abs(dx)
    y = xp.left_shift(xp.abs(dy), 15)
    tg22x = x * _TG22
    tg67x = tg22x + xp.left_shift(x, 16)
    horizontal = y < tg22x
    vertical = ~horizontal & (y > tg67x)
    same_sign = (dx ^ dy) >= 0  # s = 1: the diagonal through (y-1, x-1) and (y+1, x+1)
    # On a diagonal OpenCV wants the pixel strictly above both neighbours (> and >, where the
    # horizontal and vertical cases use > and >=); checked against cv2.Canny.
    keep_h = (mag > at(0, -1)) & (mag >= at(0, 1))
    keep_v = (mag > at(-1, 0)) & (mag >= at(1, 0))
    keep_d = xp.where(
        same_sign,
        (mag > at(-1, -1)) & (mag > at(1, 1)),
        (mag > at(-1, 1)) & (mag > at(1, -1)),
    )
    keep = xp.where(horizontal, keep_h, xp.where(vertical, keep_v, keep_d))
    candidate = (mag > low) & keep
    strong = candidate & (mag > high)

    labels, n = ndi.label(candidate, structure=np.ones((3, 3), bool))
    wanted = xp.zeros(int(n) + 1, bool)
    wanted[labels[strong]] = True
    wanted[0] = False
    return wanted[labels].astype(np.uint8) * np.uint8(255)

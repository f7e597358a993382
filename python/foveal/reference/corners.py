"""Corner responses and corner detection as OpenCV defines them, in NumPy.

With gx, gy the Sobel derivatives scaled by 1 / (2^(ksize - 1) * block_size [* 2 for Scharr]
[* 255 for uint8]) and a, b, c the block_size x block_size window sums (anchor block_size // 2,
the same border) of gx^2, gx gy, gy^2:

    harris    = a c - b^2 - k (a + c)^2
    min_eigen = (a + c) / 2 - sqrt(((a - c) / 2)^2 + b^2)
"""

from __future__ import annotations

import numpy as np

from .border import pad
from .filters import correlate_separable
from .gradients import deriv_kernels, sobel


def _structure_tensor(image, block_size, ksize, border):
    """float64 (a, b, c): cv2.cornerEigenValsVecs's window sums of gx^2, gx gy, gy^2."""
    scale = float(1 << ((ksize if ksize > 0 else 3) - 1)) * block_size
    if ksize < 0:
        scale *= 2.0
    if image.dtype == np.uint8:
        scale *= 255.0
    scale = 1.0 / scale
    gx = sobel(image, 1, 0, ksize, scale, border=border, dtype=np.float64)
    gy = sobel(image, 0, 1, ksize, scale, border=border, dtype=np.float64)
    ones = np.ones(block_size)
    window = lambda v: correlate_separable(v, ones, ones, None, border)  # noqa: E731
    return window(gx * gx), window(gx * gy), window(gy * gy)


def _out_dtype(image):
    return np.float64 if image.dtype == np.float64 else np.float32


def harris(image, block_size=2, ksize=3, k=0.04, border="reflect101"):
    """cv2.cornerHarris: a c - b^2 - k (a + c)^2 of the windowed structure tensor (module
    docstring); float32 (float64 for float64 input), single channel."""
    a, b, c = _structure_tensor(image, block_size, ksize, border)
    return (a * c - b * b - k * (a + c) ** 2).astype(_out_dtype(image))


def min_eigen(image, block_size=3, ksize=3, border="reflect101"):
    """cv2.cornerMinEigenVal: the smaller eigenvalue (a + c) / 2 - sqrt(((a - c) / 2)^2 + b^2)
    of the windowed structure tensor (module docstring); float32 (float64 for float64 input)."""
    a, b, c = _structure_tensor(image, block_size, ksize, border)
    return ((a + c) / 2 - np.sqrt(((a - c) / 2) ** 2 + b * b)).astype(_out_dtype(image))


# --- cv2's float32 response, operation for operation -------------------------------------
#
# goodFeaturesToTrack sorts corners by their float32 response and keeps exact ties and
# plateaus, so corners() needs the very float32 numbers OpenCV computes, not the float64
# formula rounded once. For uint8 and float32 images (the two cv2 accepts) the helpers below
# repeat the rounding steps of OpenCV 5's CPU path as built for x86-64 with AVX2 + FMA
# (found by experiment): Sobel as a row pass and a column pass in float32 with the scale
# folded into the smoothing factor, fused multiply-adds in the vectorized part and separate
# rounding in the scalar remainder of each row; window sums in float64; the response
# formula in float32. The only known difference: Harris in the last (H * W) % 8 pixels of the
# image (bottom row, never a corner) rounds differently in OpenCV's scalar tail.

_F = np.float32


def _mul(a, b):
    return np.multiply(a, b, dtype=_F)


def _add(a, b):
    return np.add(a, b, dtype=_F)


def _fma(a, b, c):
    """a * b + c with one float32 rounding (the float64 product is exact; the float64 sum
    rounds first, which differs from a true fused multiply-add in vanishingly rare cases)."""
    return (np.asarray(a, np.float64) * np.float64(b) + c).astype(_F)


def _cv_kernels(dx, dy, ksize, scale):
    """cv2.Sobel's float32 factors: the scale goes into the smoothing one."""
    kx, ky = (k.astype(_F) for k in deriv_kernels(dx, dy, ksize))
    if dx == 0:
        kx = _mul(kx, _F(scale))
    else:
        ky = _mul(ky, _F(scale))
    return kx, ky


def _cv_rows_uint8(p, kx, w):
    """8-bit rows: fused multiply-adds over blocks of 32 pixels, separate roundings after."""
    out = np.empty((p.shape[0], w), _F)
    v = w // 32 * 32
    s = np.zeros((p.shape[0], v), _F)
    for k in range(kx.size):
        s = _fma(p[:, k : k + v], kx[k], s)
    out[:, :v] = s
    if v < w:
        s = _mul(p[:, v:w], kx[0])
        for k in range(1, kx.size):
            s = _add(s, _mul(p[:, v + k : w + k], kx[k]))
        out[:, v:] = s
    return out


def _cv_rows_float(p, kx, w):
    """float32 rows: OpenCV's small symmetric / antisymmetric kernels (3, 5 taps) work on
    pixel pairs with a different rounding for an odd last pixel; 7 taps are a chain of fused
    multiply-adds over blocks of 4, partly fused after."""
    n, c = kx.size, kx.size // 2
    tap = lambda o, a, b: p[:, c + o + a : c + o + b]  # noqa: E731
    if n == 1:
        return _mul(p[:, :w], kx[0])
    if n in (3, 5) and not np.array_equal(kx, kx[::-1]):
        s = np.zeros((p.shape[0], w), _F)
        for k in range(1, c + 1):
            s = _fma(tap(k, 0, w) - tap(-k, 0, w), kx[c + k], s)
        return s
    out = np.empty((p.shape[0], w), _F)
    if n in (3, 5):
        e = w // 2 * 2
        pairs = lambda k, a, b: _add(tap(-k, a, b), tap(k, a, b))  # noqa: E731
        if n == 3:
            out[:, :e] = _fma(tap(0, 0, e), kx[1], _mul(pairs(1, 0, e), kx[0]))
            if e < w:
                out[:, e:] = _fma(pairs(1, e, w), kx[0], _mul(tap(0, e, w), kx[1]))
        else:
            s = _mul(pairs(1, 0, e), kx[1])
            s = _fma(tap(0, 0, e), kx[2], s)
            out[:, :e] = _fma(pairs(2, 0, e), kx[0], s)
            if e < w:
                s = _add(_mul(tap(0, e, w), kx[2]), _mul(pairs(1, e, w), kx[1]))
                out[:, e:] = _add(s, _mul(pairs(2, e, w), kx[0]))
        return out
    v = w // 4 * 4
    s = _mul(p[:, :v], kx[0])
    for k in range(1, n):
        s = _fma(p[:, k : k + v], kx[k], s)
    out[:, :v] = s
    if v < w:
        s = _mul(p[:, v:w], kx[0])
        for k in range(1, n):
            term = p[:, v + k : w + k]
            s = _fma(term, kx[k], s) if k >= n - 2 else _add(s, _mul(term, kx[k]))
        out[:, v:] = s
    return out


def _cv_columns(r, ky, h):
    """float32 columns, symmetric taps paired: fused throughout for 3 taps; for more, fused
    over blocks of 16 (and one of 8) pixels, separate roundings after."""
    n, c, w = ky.size, ky.size // 2, r.shape[1]
    if n == 1:
        return _mul(r, ky[0])
    sym = np.array_equal(ky, ky[::-1])

    def block(a, b, fused):
        tap = lambda o: r[c + o : c + o + h, a:b]  # noqa: E731
        s = _mul(tap(0), ky[c]) if sym else np.zeros((h, b - a), _F)
        for k in range(1, c + 1):
            t = _add(tap(k), tap(-k)) if sym else (tap(k) - tap(-k)).astype(_F)
            s = _fma(t, ky[c + k], s) if fused else _add(s, _mul(t, ky[c + k]))
        return s

    if n <= 3:
        return block(0, w, True)
    v = w // 16 * 16
    if v + 8 <= w:
        v += 8
    return np.concatenate([block(0, v, True), block(v, w, False)], axis=1)


def _cv_window_sums(v, block_size, border):
    """cv2.boxFilter(normalize=False) of float32 images with float64 sums: direct row sums
    up to 5 taps, running ones beyond; running column sums; rounded to float32."""
    h, w = v.shape[:2]
    a = block_size // 2
    p = pad(v, a, block_size - 1 - a, a, block_size - 1 - a, border).astype(np.float64)
    if block_size <= 5:
        rows = p[:, :w].copy()
        for k in range(1, block_size):
            rows = rows + p[:, k : k + w]
    else:
        rows = np.empty((p.shape[0], w, *v.shape[2:]))
        acc = p[:, 0].copy()
        for k in range(1, block_size):
            acc = acc + p[:, k]
        rows[:, 0] = acc
        for x in range(1, w):
            acc = acc + (p[:, x + block_size - 1] - p[:, x - 1])
            rows[:, x] = acc
    out = np.empty((h, w, *v.shape[2:]), _F)
    total = np.zeros(rows.shape[1:])
    for k in range(block_size - 1):
        total = total + rows[k]
    for y in range(h):
        s = total + rows[y + block_size - 1]
        out[y] = s
        total = s - rows[y]
    return out


def _cv_response(image, block_size, ksize, harris, k):
    """cv2.cornerHarris / cv2.cornerMinEigenVal bit for bit (reflect101, uint8 or float32)."""
    border = "reflect101"
    scale = float(1 << ((ksize if ksize > 0 else 3) - 1)) * block_size
    if ksize < 0:
        scale *= 2.0
    if image.dtype == np.uint8:
        scale *= 255.0
    scale = 1.0 / scale
    h, w = image.shape
    grads = []
    for dx, dy in ((1, 0), (0, 1)):
        kx, ky = _cv_kernels(dx, dy, ksize, scale)
        rx, ry = kx.size // 2, ky.size // 2
        p = pad(image, ry, ry, rx, rx, border).astype(_F)
        rows = _cv_rows_uint8 if image.dtype == np.uint8 else _cv_rows_float
        grads.append(_cv_columns(rows(p, kx, w), ky, h))
    gx, gy = grads
    cov = np.stack([_mul(gx, gx), _mul(gx, gy), _mul(gy, gy)], axis=2)
    cov = _cv_window_sums(cov, block_size, border)
    a, b, c = cov[..., 0], cov[..., 1], cov[..., 2]
    if harris:
        trace = _add(a, c)
        det = (_mul(a, c) - _mul(b, b)).astype(_F)
        return (det - _mul(_mul(trace, trace), _F(k))).astype(_F)
    a, c = _mul(a, _F(0.5)), _mul(c, _F(0.5))
    d = (a - c).astype(_F)
    return (_add(a, c) - np.sqrt(_add(_mul(d, d), _mul(b, b)))).astype(_F)


def _dilate3x3(r):
    """3x3 maximum; pixels outside never win (OpenCV's default morphology border)."""
    p = np.pad(r, 1, mode="constant", constant_values=-np.inf)
    h, w = r.shape
    out = p[0:h, 0:w].copy()
    for i in range(3):
        for j in range(3):
            np.maximum(out, p[i : i + h, j : j + w], out=out)
    return out


def corners(
    image,
    max_corners,
    quality_level=0.01,
    min_distance=10,
    block_size=3,
    ksize=3,
    method="shi-tomasi",
    k=0.04,
    mask=None,
):
    """cv2.goodFeaturesToTrack: (N, 2) float32 (x, y), strongest first.

    response = min_eigen or harris (for uint8 and float32 images in OpenCV's own float32
    arithmetic, _cv_response, so that ties and order are OpenCV's); threshold = float32 of
    quality_level * (max of the response over the mask); values not above it become 0; a
    corner is a pixel off the 1-pixel image border with a nonzero response equal to its 3x3
    dilation (outside pixels never win) and a nonzero mask; corners are sorted by response,
    descending, ties by raster position, later first; greedily, a corner is kept if no kept
    corner lies at squared distance < min_distance^2 (OpenCV's grid of round(min_distance)
    cells finds exactly those; no test for min_distance < 1), until max_corners are kept
    (max_corners <= 0: no limit)."""
    if image.dtype in (np.uint8, np.float32):  # the two cv2 accepts: its exact float32 numbers
        r = _cv_response(image, block_size, ksize, method == "harris", k)
    elif method == "harris":
        r = harris(image, block_size, ksize, k)
    else:
        r = min_eigen(image, block_size, ksize)
    h, w = r.shape
    sel = np.ones((h, w), bool) if mask is None else np.asarray(mask) != 0
    top = r[sel].max() if sel.any() else 0.0
    thresh = r.dtype.type(quality_level * float(top))
    r = np.where(r > thresh, r, r.dtype.type(0))
    peak = (r != 0) & (r == _dilate3x3(r)) & sel
    peak[[0, -1], :] = False
    peak[:, [0, -1]] = False
    flat = np.flatnonzero(peak)
    order = np.lexsort((-flat, -r.ravel()[flat]))  # value descending, then position descending
    flat = flat[order]
    ys, xs = flat // w, flat % w
    limit = max_corners if max_corners > 0 else flat.size
    if min_distance < 1:
        keep = np.arange(min(limit, flat.size))
    else:
        md2 = float(min_distance) ** 2
        keep = np.empty(min(limit, flat.size), np.int64)
        kept_x = np.empty(keep.size, np.float64)
        kept_y = np.empty(keep.size, np.float64)
        n = 0
        for i in range(flat.size):
            if n == keep.size:
                break
            dx, dy = kept_x[:n] - xs[i], kept_y[:n] - ys[i]
            if (dx * dx + dy * dy < md2).any():
                continue
            keep[n], kept_x[n], kept_y[n] = i, xs[i], ys[i]
            n += 1
        keep = keep[:n]
    return np.stack([xs[keep], ys[keep]], axis=1).astype(np.float32).reshape(-1, 2)

"""The CNN half of ``foveal.nn`` on CuPy arrays (the fallback for builds without the _cuda
module): conv2d, max / avg / Lp pooling, adaptive pooling, patchify and unpatchify, with
torch.nn.functional's semantics number for number.

Every function takes the array module ``xp`` first (``cupy`` on the GPU; only the part of the
array API that NumPy and CuPy share is used, so the tests run it with ``xp=numpy``), then the
arguments already validated and normalized by the wrapper in ``foveal.nn``: ``x`` is always
4-D (N, C, H, W) (the wrapper adds and removes the batch axis of unbatched input); kernel,
stride, padding and dilation are (h, w) pairs of ints; conv2d's padding is resolved to four
ints (top, bottom, left, right), asymmetric for "same"; output sizes are computed here with
torch's rules (:func:`conv_out_size`, :func:`pool_out_size`). Arithmetic is in the input's
dtype (float32 or float64); each function returns new arrays of that dtype (indices int64) and
never mutates its input.

How each op maps onto array operations:

- ``conv2d``: im2col + matmul. The zero-padded input is viewed (``as_strided``, no copy) as
  windows (N, G, C_in/G, OH, OW, kH, kW); a chunk of it is copied into the im2col matrix
  (G, rows, C_in/G*kH*kW) and one batched ``matmul`` with the weight (G, C_in/G*kH*kW, C_out/G)
  computes every group at once. The chunk is a slice of the batch (or of the output rows of
  one image) whose im2col matrix, all groups together, stays under ``IM2COL_BYTES``.
- pooling: separable, one axis at a time (width, then height). The windows along an axis are
  a host table of input positions (O, K), -1 where a window has no element (padding, a
  ceil_mode edge, a shorter adaptive window); ``xp.take`` gathers them, reading a fill value
  (0 for sums, -inf for maxima) for the missing ones, and the K axis is reduced.
- ``avg_pool2d`` / ``adaptive_avg_pool2d``: window sums as above, divided by torch's divisor
  (padding counted or not, ceil_mode edges clipped to H + pad, ``divisor_override``; the
  window size for adaptive pooling).
- ``max_pool2d`` / ``adaptive_max_pool2d``: torch scans a window in row-major order and takes
  a value when ``val > max or isnan(val)``: the first maximum wins, a NaN wins over everything
  and the last NaN wins over earlier ones, and a window of -inf only keeps its first element
  (a dilated window with no element inside the input, which torch allows, gives -inf and the
  index of its first in-bounds step, a position past the plane, as torch does).
  Reduced axis by axis this is the same choice: per row of the window, (value, column) by
  that rule; then over the rows, by the same rule on the row values. The rule on one axis is
  ``max`` (NaN propagates) and ``argmax`` of a boolean mask: the first element equal to the
  maximum, or the last NaN. Indices are flat ``h * W + w`` in the input plane.
- ``lp_pool2d``: as torch defines it, ``(avg_pool2d(x ** p, k, s, 0, ceil_mode) * kH*kW) **
  (1/p)`` (a ceil_mode edge window is averaged over its clipped size and still multiplied by
  kH*kW, as in torch).
- ``patchify`` / ``unpatchify``: reshape + transpose (N, C, gh, ph, gw, pw) <-> (N, gh, gw, C,
  ph, pw), copied into a new array.
"""

from __future__ import annotations

import math

import numpy as np

#: Most bytes of the im2col matrix that conv2d materializes at once.
IM2COL_BYTES = 256 << 20


# --------------------------------------------------------------------------------------------
# output sizes (torch's rules)
# --------------------------------------------------------------------------------------------


def conv_out_size(n, k, s, pad_total, d):
    """conv2d's output length along an axis: (n + pad_total - d*(k-1) - 1) // s + 1."""
    return (n + pad_total - d * (k - 1) - 1) // s + 1


def pool_out_size(n, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape: floor (or ceil) of (n + 2p - d*(k-1) - 1) / s, plus one;
    with ceil_mode, a last window that would start past n + p (in the right padding) is
    dropped."""
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def adaptive_bounds(n, m):
    """(start, end) host arrays of the m adaptive windows over n: start = floor(o*n/m),
    end = ceil((o+1)*n/m)."""
    o = np.arange(m, dtype=np.int64)
    return (o * n) // m, -((-(o + 1) * n) // m)


# --------------------------------------------------------------------------------------------
# windows along one axis
# --------------------------------------------------------------------------------------------


def _window_table(n, starts, lengths, dilation=1):
    """Host int64 (O, K) table of the windows along an axis of length n: window o holds the
    positions starts[o] + i*dilation, i < lengths[o], that lie in [0, n); -1 elsewhere.
    K = max(lengths)."""
    starts = np.asarray(starts, np.int64)
    lengths = np.broadcast_to(np.asarray(lengths, np.int64), starts.shape)
    i = np.arange(int(lengths.max()) if lengths.size else 0, dtype=np.int64)
    pos = starts[:, None] + i[None, :] * dilation
    valid = (i[None, :] < lengths[:, None]) & (pos >= 0) & (pos < n)
    return np.where(valid, pos, -1)


def _gather(xp, x, axis, table, fill):
    """x's elements at the positions ``table`` (O, K) along ``axis``, the axis replaced by
    (O, K); -1 entries read ``fill``."""
    n = x.shape[axis]
    if (table < 0).any():
        shape = list(x.shape)
        shape[axis] = 1
        x = xp.concatenate([x, xp.full(shape, fill, dtype=x.dtype)], axis=axis)
        table = np.where(table < 0, n, table)
    g = xp.take(x, xp.asarray(table.ravel()), axis=axis)
    return g.reshape(x.shape[:axis] + table.shape + x.shape[axis + 1 :])


def _sum_axis(xp, x, axis, table):
    """Window sums along ``axis`` (the windows of ``table``)."""
    return _gather(xp, x, axis, table, 0).sum(axis=axis + 1)


def _first_in_bounds(starts, dilation):
    """The window element torch's scan starts from (and keeps when nothing beats -inf): the
    first i with starts + i*dilation >= 0 (it may lie past the input when, with dilation, a
    window holds no element)."""
    return np.maximum(0, (-starts + dilation - 1) // dilation)


def _max_axis(xp, x, axis, windows, with_pos):
    """Window maxima along ``axis`` over ``windows`` = (starts, table, dilation) (NaN
    propagates); with ``with_pos``, also the element of each window that torch's scan picks:
    the first maximum, or the last NaN when there is one (missing elements never picked; a
    window of -inf keeps its first element, an empty one :func:`_first_in_bounds`)."""
    starts, table, dilation = windows
    g = _gather(xp, x, axis, table, -math.inf)
    k = axis + 1
    vals = g.max(axis=k)
    if not with_pos:
        return vals, None
    trailing = (1,) * (x.ndim - axis - 1)
    valid = xp.asarray(table >= 0).reshape(table.shape + trailing)
    isnan = xp.isnan(g)
    last_nan = (g.shape[k] - 1) - xp.argmax(xp.flip(isnan, axis=k), axis=k)
    first_max = xp.argmax((g == xp.expand_dims(vals, k)) & valid, axis=k)
    empty = (table < 0).all(axis=1)
    if empty.any():
        init = _first_in_bounds(starts, dilation)
        first_max = xp.where(
            xp.asarray(empty).reshape((-1,) + trailing),
            xp.asarray(init).reshape((-1,) + trailing),
            first_max,
        )
    return vals, xp.where(isnan.any(axis=k), last_nan, first_max)


def _axis_shape(axis, ndim):
    shape = [1] * ndim
    shape[axis] = -1
    return shape


def _max_pool(xp, x, rows, cols, return_indices):
    """Max pooling over the windows ``rows`` = (starts, table, dilation) along H and ``cols``
    along W: values, or (values, flat indices h*W + w)."""
    w = x.shape[3]
    vals_w, pos_w = _max_axis(xp, x, 3, cols, return_indices)  # (N, C, H, OW)
    vals, pos_h = _max_axis(xp, vals_w, 2, rows, return_indices)  # (N, C, OH, OW)
    if not return_indices:
        return vals
    (sh, th, dh), (sw, _, dw) = rows, cols
    # the column picked in each input row, then the one of the row picked in each window
    col = xp.asarray(sw).reshape(_axis_shape(3, 4)) + pos_w * dw  # (N, C, H, OW)
    col = xp.take_along_axis(_gather(xp, col, 2, th, 0), xp.expand_dims(pos_h, 3), axis=3)
    col = col[:, :, :, 0]
    empty_h = (th < 0).all(axis=1)
    if empty_h.any():  # no row: torch keeps the first column of the window's first row
        init_col = sw + _first_in_bounds(sw, dw) * dw
        col = xp.where(xp.asarray(empty_h).reshape(-1, 1), xp.asarray(init_col).reshape(1, -1), col)
    row = xp.asarray(sh).reshape(_axis_shape(2, 4)) + pos_h * dh
    return vals, row * w + col


# --------------------------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------------------------


def _chunks(n, oh, row_bytes, budget):
    """(n0, n1, y0, y1) pieces of an (n, oh) output: whole images while one image's share of
    the budget fits, else rows of one image."""
    rows = max(1, budget // max(row_bytes, 1))
    if rows >= oh:
        step = max(1, rows // max(oh, 1))
        for n0 in range(0, n, step):
            yield n0, min(n, n0 + step), 0, oh
    else:
        for n0 in range(n):
            for y0 in range(0, oh, rows):
                yield n0, n0 + 1, y0, min(oh, y0 + rows)


def conv2d(xp, x, weight, bias, stride, padding4, dilation, groups):
    """Cross-correlation (torch.nn.functional.conv2d): out[n, o, y, x] = bias[o] +
    sum_{c, i, j} xpad[n, g*C_in/G + c, y*sh + i*dh, x*sw + j*dw] * weight[o, c, i, j], g the
    group of o; x (N, C_in, H, W), weight (C_out, C_in/G, kH, kW), bias None or (C_out,).
    Returns (N, C_out, OH, OW) in x's dtype."""
    dtype = x.dtype
    n, c_in, h, w = x.shape
    c_out, cg, kh, kw = weight.shape
    sh, sw = stride
    dh, dw = dilation
    top, bottom, left, right = padding4
    g = groups
    og = c_out // g
    oh = conv_out_size(h, kh, sh, top + bottom, dh)
    ow = conv_out_size(w, kw, sw, left + right, dw)
    k = cg * kh * kw

    if top or bottom or left or right:
        x = xp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    weight = xp.asarray(weight, dtype=dtype)
    wmat = weight.reshape(g, og, k).transpose(0, 2, 1)  # (G, K, C_out/G)
    out = xp.empty((n, g, og, oh, ow), dtype=dtype)
    s_n, s_c, s_h, s_w = x.strides
    for n0, n1, y0, y1 in _chunks(n, oh, ow * c_in * kh * kw * dtype.itemsize, IM2COL_BYTES):
        nb, rows = n1 - n0, y1 - y0
        win = xp.lib.stride_tricks.as_strided(
            x[n0:n1, :, y0 * sh :],
            shape=(nb, g, cg, rows, ow, kh, kw),
            strides=(s_n, cg * s_c, s_c, s_h * sh, s_w * sw, s_h * dh, s_w * dw),
        )
        cols = win.transpose(1, 0, 3, 4, 2, 5, 6).reshape(g, nb * rows * ow, k)  # im2col
        res = xp.matmul(cols, wmat)  # (G, nb*rows*OW, C_out/G)
        out[n0:n1, :, :, y0:y1] = res.reshape(g, nb, rows, ow, og).transpose(1, 0, 4, 2, 3)
    out = out.reshape(n, c_out, oh, ow)
    if bias is not None:
        out += xp.asarray(bias, dtype=dtype).reshape(1, c_out, 1, 1)
    return out


# --------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------


def max_pool2d(xp, x, kernel, stride, padding, dilation, ceil_mode, return_indices):
    """torch.nn.functional.max_pool2d: the maximum over each kH x kW window (dilated, padding
    never wins); with ``return_indices`` also the int64 flat index h*W + w of the element
    picked (first maximum in row-major order; the last NaN when the window has one)."""
    axes = []
    for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation, strict=True):
        o = pool_out_size(n, k, s, p, d, ceil_mode)
        starts = np.arange(o, dtype=np.int64) * s - p
        axes.append((starts, _window_table(n, starts, k, d), d))
    return _max_pool(xp, x, axes[0], axes[1], return_indices)


def avg_pool2d(xp, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """torch.nn.functional.avg_pool2d: window sums over torch's divisor. A window starts at
    o*s - p and ends at min(start + k, n + p); its pool size counts padding, and clipped to
    [0, n) gives the count of input elements; the divisor is ``divisor_override`` if given,
    else the pool size with ``count_include_pad``, else the count."""
    (h, w), (kh, kw), (sh, sw), (ph, pw) = x.shape[2:], kernel, stride, padding
    sums = x
    divisors = []
    for axis, n, k, s, p in ((3, w, kw, sw, pw), (2, h, kh, sh, ph)):
        start = np.arange(pool_out_size(n, k, s, p, 1, ceil_mode), dtype=np.int64) * s - p
        end = np.minimum(start + k, n + p)
        sums = _sum_axis(xp, sums, axis, _window_table(n, start, k))
        if count_include_pad:
            divisors.append(end - start)
        else:
            divisors.append(np.minimum(end, n) - np.maximum(start, 0))
    if divisor_override is not None:
        return sums / int(divisor_override)
    div_w, div_h = divisors
    return sums / xp.asarray((div_h[:, None] * div_w[None, :]).astype(x.dtype))


def lp_pool2d(xp, x, norm_type, kernel, stride, ceil_mode):
    """torch.nn.functional.lp_pool2d for a finite norm_type p > 0:
    (avg_pool2d(x ** p, kernel, stride, 0, ceil_mode) * kH*kW) ** (1/p). A negative window
    sum gives NaN for p other than 1 (as in torch)."""
    p = float(norm_type)
    kh, kw = kernel
    with np.errstate(invalid="ignore", over="ignore"):  # NumPy only; torch gives NaN / inf
        powered = x**p
        out = avg_pool2d(xp, powered, kernel, stride, (0, 0), ceil_mode, True, None)
        return (out * (kh * kw)) ** (1.0 / p)


def adaptive_avg_pool2d(xp, x, output_size):
    """torch.nn.functional.adaptive_avg_pool2d: the mean over each adaptive window, rows
    floor(o*H/OH) to ceil((o+1)*H/OH) (columns alike)."""
    sums = x
    counts = []
    for axis, n, m in ((3, x.shape[3], output_size[1]), (2, x.shape[2], output_size[0])):
        start, end = adaptive_bounds(n, m)
        sums = _sum_axis(xp, sums, axis, _window_table(n, start, end - start))
        counts.append(end - start)
    return sums / xp.asarray((counts[1][:, None] * counts[0][None, :]).astype(x.dtype))


def adaptive_max_pool2d(xp, x, output_size, return_indices):
    """torch.nn.functional.adaptive_max_pool2d: the maximum over each adaptive window, with
    ``return_indices`` also the int64 flat index (torch's rule, as in :func:`max_pool2d`)."""
    axes = []
    for n, m in zip(x.shape[2:], output_size, strict=True):
        start, end = adaptive_bounds(n, m)
        axes.append((start, _window_table(n, start, end - start), 1))
    return _max_pool(xp, x, axes[0], axes[1], return_indices)


# --------------------------------------------------------------------------------------------
# patches
# --------------------------------------------------------------------------------------------


def patchify(xp, x, patch):
    """(N, C, H, W) -> (N, L, C*ph*pw): the non-overlapping ph x pw patches in row-major
    order, each flattened in (c, i, j) order (torch's unfold with stride = kernel, transposed).
    H and W are multiples of ph and pw."""
    n, c, h, w = x.shape
    ph, pw = patch
    gh, gw = h // ph, w // pw
    out = xp.empty((n, gh, gw, c, ph, pw), dtype=x.dtype)
    out[...] = x.reshape(n, c, gh, ph, gw, pw).transpose(0, 2, 4, 1, 3, 5)
    return out.reshape(n, gh * gw, c * ph * pw)


def unpatchify(xp, p, patch, image_size, channels):
    """The inverse of :func:`patchify`: (N, L, C*ph*pw) -> (N, C, H, W), ``image_size`` (H, W)
    (None: a square grid of patches)."""
    n, length, _ = p.shape
    ph, pw = patch
    if image_size is None:
        side = math.isqrt(length)
        image_size = (side * ph, side * pw)
    h, w = image_size
    gh, gw = h // ph, w // pw
    out = xp.empty((n, channels, gh, ph, gw, pw), dtype=p.dtype)
    out[...] = p.reshape(n, gh, gw, channels, ph, pw).transpose(0, 3, 1, 4, 2, 5)
    return out.reshape(n, channels, h, w)

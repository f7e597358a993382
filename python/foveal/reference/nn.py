"""Convolution, pooling and patch layout as torch.nn.functional defines them, in NumPy.

Tensors are NCHW (x of shape (N, C, H, W)); every function also takes unbatched (C, H, W)
input and then returns unbatched output. Everything is computed in float64; values come back
as float64, indices as int64. Along one axis, with input length n, kernel k, stride s,
padding p and dilation d, the output length is

    o = floor_or_ceil((n + 2p - d (k - 1) - 1) / s) + 1,  and with ceil_mode o -= 1 when the
    last window would start in the right padding ((o - 1) s >= n + p),

and output position y reads the taps y s - p + i d, i = 0 .. k - 1 (taps outside [0, n) are
padding).

    conv2d       out[n, o, y, x] = bias[o] + sum_{c, i, j} w[o, c, i, j]
                                   * x[n, g Cg + c, y sh - pt + i dh, x sw - pl + j dw]
                 with g = o // (C_out / groups), Cg = C_in / groups, zero padding; "same" pads
                 d (k - 1) in total, the odd one at the bottom / right (stride 1 only).
    max_pool2d   the maximum over the window, padding -inf; the index h W + w of the first
                 maximum in row-major window order, or, if the window holds a NaN, NaN and the
                 index of its last NaN (torch's scan: take val if val > max or isnan(val)).
    avg_pool2d   the window sum over the divisor: divisor_override if given, else the window's
                 area clipped to [-p, n + p) (count_include_pad) or to [0, n).
    lp_pool2d    (sign(a) relu(|a|) kh kw) ** (1 / p), a = avg_pool2d(x ** p, k, s, 0, ceil_mode);
                 p = +-inf is max_pool2d of |x| (minus the max of -|x|), as torch does.
    adaptive_*   output o of m along an axis of length n pools [floor(o n / m), ceil((o+1) n / m)).
    patchify     (N, C, H, W) -> (N, L, C ph pw): row-major patches, features in (c, i, j) order.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# ----------------------------------------------------------------------------- helpers


def _pair(value) -> tuple[int, int]:
    """An int (both axes) or a pair."""
    if np.ndim(value) == 0:
        return int(value), int(value)
    return int(value[0]), int(value[1])


def _nchw(x) -> tuple[np.ndarray, bool]:
    """float64 (N, C, H, W) and whether the input was unbatched (C, H, W)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3:
        return x[None], True
    return x, False


def _pool_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling output length along one axis."""
    span = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    o = span // s + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def _windows(xp, k, s, d, out) -> np.ndarray:
    """A view (..., OH, OW, kh, kw) of the windows of the padded xp (..., Hp, Wp): output
    (y, x) reads xp[y sh + i dh, x sw + j dw]."""
    eh, ew = d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1
    v = sliding_window_view(xp, (eh, ew), axis=(-2, -1))
    v = v[..., :: s[0], :: s[1], :: d[0], :: d[1]]
    return v[..., : out[0], : out[1], :, :]


def _padded_windows(x, k, s, p, d, out, value) -> np.ndarray:
    """The windows of x (N, C, H, W) padded with p before and ``value`` after as far as the
    last window reaches (ceil_mode windows may run past n + p)."""
    h, w = x.shape[-2:]
    bottom = max((out[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1 - h - p[0], 0)
    right = max((out[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1 - w - p[1], 0)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], bottom), (p[1], right)), constant_values=value)
    return _windows(xp, k, s, d, out)


def _taps(n: int, k: int, s: int, p: int, d: int, o: int) -> np.ndarray:
    """(o, k) input coordinates of every window tap along one axis (may be out of [0, n))."""
    return np.arange(o)[:, None] * s - p + np.arange(k)[None, :] * d


def _window_argmax(win, valid) -> np.ndarray:
    """torch's max scan over the last axis of win: the position of the first maximum among
    the valid taps, or of the last NaN if there is one. Invalid taps hold -inf."""
    m = win.max(axis=-1, keepdims=True)
    first = np.argmax((win == m) & valid, axis=-1)
    isnan = np.isnan(win)
    last_nan = win.shape[-1] - 1 - np.argmax(isnan[..., ::-1], axis=-1)
    return np.where(np.isnan(m[..., 0]), last_nan, first)


def _unbatch(y, unbatched: bool):
    return y[0] if unbatched else y


# ----------------------------------------------------------------------------- convolution


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d (cross-correlation): out[n, o] = bias[o] + sum over the
    group's input channels c and taps (i, j) of w[o, c, i, j] x[n, c, y sh - pt + i dh,
    x sw - pl + j dw]; zero padding, "same" puts the odd pad at the bottom / right.
    Computed as im2col windows and one matrix product per group."""
    x, unbatched = _nchw(input)
    w = np.asarray(weight, dtype=np.float64)
    n, c, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    g = int(groups)
    s, d = _pair(stride), _pair(dilation)
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        else:  # "same": total d (k - 1), left total // 2, the rest on the right
            th, tw = d[0] * (kh - 1), d[1] * (kw - 1)
            pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    else:
        ph, pw = _pair(padding)
        pads = ((ph, ph), (pw, pw))
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    hp, wp = xp.shape[-2:]
    oh = (hp - d[0] * (kh - 1) - 1) // s[0] + 1
    ow = (wp - d[1] * (kw - 1) - 1) // s[1] + 1
    win = _windows(xp, (kh, kw), s, d, (oh, ow))  # (N, C, OH, OW, kh, kw)
    # im2col per group: (G, N OH OW, Cg kh kw) @ (G, Cg kh kw, C_out / G)
    cols = win.reshape(n, g, cg, oh, ow, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
    cols = cols.reshape(g, n * oh * ow, cg * kh * kw)
    og = c_out // g
    wm = w.reshape(g, og, cg * kh * kw).transpose(0, 2, 1)
    y = np.matmul(cols, wm)  # (G, N OH OW, og)
    y = y.reshape(g, n, oh, ow, og).transpose(1, 0, 4, 2, 3).reshape(n, c_out, oh, ow)
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)[:, None, None]
    return _unbatch(y, unbatched)


# ----------------------------------------------------------------------------- pooling


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """torch.nn.functional.max_pool2d: the maximum over each (dilated) window, -inf padding;
    with return_indices also the int64 flat index h W + w of the first maximum in row-major
    window order (of the last NaN when the window holds NaN). A window with no tap inside
    the plane (possible with dilation) gives -inf and torch's index (first tap row >= 0) W +
    (first tap column >= 0), which then lies outside the plane."""
    x, unbatched = _nchw(input)
    h, w = x.shape[-2:]
    k = _pair(kernel_size)
    s = k if stride is None or np.size(stride) == 0 else _pair(stride)
    p, d = _pair(padding), _pair(dilation)
    out = (
        _pool_size(h, k[0], s[0], p[0], d[0], ceil_mode),
        _pool_size(w, k[1], s[1], p[1], d[1], ceil_mode),
    )
    win = _padded_windows(x, k, s, p, d, out, -np.inf)
    win = win.reshape(*win.shape[:4], k[0] * k[1])
    values = win.max(axis=-1)
    if not return_indices:
        return _unbatch(values, unbatched)
    rows = _taps(h, k[0], s[0], p[0], d[0], out[0])  # (OH, kh)
    cols = _taps(w, k[1], s[1], p[1], d[1], out[1])  # (OW, kw)
    rin, cin = (rows >= 0) & (rows < h), (cols >= 0) & (cols < w)
    valid = (rin[:, None, :, None] & cin[None, :, None, :]).reshape(*out, k[0] * k[1])
    pos = _window_argmax(win, valid)
    oy, ox = np.arange(out[0])[:, None], np.arange(out[1])[None, :]
    index = rows[oy, pos // k[1]] * w + cols[ox, pos % k[1]]
    # empty windows: torch starts its scan at the first tap >= 0 along each axis and never moves
    r0 = rows[:, 0] + d[0] * (-(rows[:, 0].clip(max=0) // d[0]))
    c0 = cols[:, 0] + d[1] * (-(cols[:, 0].clip(max=0) // d[1]))
    index = np.where(valid.any(axis=-1), index, r0[:, None] * w + c0[None, :])
    return _unbatch(values, unbatched), _unbatch(index.astype(np.int64), unbatched)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """torch.nn.functional.avg_pool2d: the window sum (zero padding) over torch's divisor.
    Along each axis hs = y s - p, he = min(hs + k, n + p); the padded area is the product of
    (he - hs); clipped to [0, n) it is the real area. divisor = divisor_override, else the
    padded area if count_include_pad, else the real area."""
    x, unbatched = _nchw(input)
    h, w = x.shape[-2:]
    k = _pair(kernel_size)
    s = k if stride is None or np.size(stride) == 0 else _pair(stride)
    p = _pair(padding)
    out = (
        _pool_size(h, k[0], s[0], p[0], 1, ceil_mode),
        _pool_size(w, k[1], s[1], p[1], 1, ceil_mode),
    )
    sums = _padded_windows(x, k, s, p, (1, 1), out, 0.0).sum(axis=(-2, -1))
    if divisor_override is not None:
        return _unbatch(sums / float(divisor_override), unbatched)
    lengths = []
    for n, kk, ss, pp, o in zip((h, w), k, s, p, out, strict=True):
        start = np.arange(o) * ss - pp
        end = np.minimum(start + kk, n + pp)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        lengths.append(end - start)
    divisor = (lengths[0][:, None] * lengths[1][None, :]).astype(np.float64)
    return _unbatch(sums / divisor, unbatched)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool2d: a = avg_pool2d(x ** p, k, stride, 0, ceil_mode), then
    (sign(a) relu(|a|) kh kw) ** (1 / p) (a ceil_mode edge window is rescaled by kh kw over
    its real area, as torch's). p = inf: max_pool2d(|x|); p = -inf: -max_pool2d(-|x|)."""
    p = float(norm_type)
    x = np.asarray(input, dtype=np.float64)
    if math.isinf(p):
        sign = 1.0 if p > 0 else -1.0
        return sign * max_pool2d(sign * np.abs(x), kernel_size, stride, 0, 1, ceil_mode)
    kh, kw = _pair(kernel_size)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        a = avg_pool2d(x**p, kernel_size, stride, 0, ceil_mode)
        return (np.sign(a) * np.maximum(np.abs(a), 0.0) * (kh * kw)) ** (1.0 / p)


def _adaptive_taps(n: int, m) -> tuple[np.ndarray, np.ndarray]:
    """(m, L) tap coordinates (clipped into [0, n)) and their validity for adaptive pooling:
    output o pools [floor(o n / m), ceil((o + 1) n / m)); L is the longest window."""
    m = n if m is None else int(m)
    o = np.arange(m)
    start = (o * n) // m
    end = -((-(o + 1) * n) // m)
    taps = start[:, None] + np.arange(int((end - start).max()))[None, :]
    valid = taps < end[:, None]
    return np.minimum(taps, n - 1), valid


def _adaptive_windows(x, output_size):
    """The (N, C, OH, OW, Lh Lw) gathered windows, their validity and tap coordinates."""
    h, w = x.shape[-2:]
    oh, ow = (output_size, output_size) if np.ndim(output_size) == 0 else output_size
    rows, rvalid = _adaptive_taps(h, oh)
    cols, cvalid = _adaptive_taps(w, ow)
    win = x[..., rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, OH, Lh, OW, Lw)
    win = win.transpose(0, 1, 2, 4, 3, 5)
    shape = (rows.shape[0], cols.shape[0], rows.shape[1] * cols.shape[1])
    valid = (rvalid[:, None, :, None] & cvalid[None, :, None, :]).reshape(shape)
    return win.reshape(*win.shape[:2], *shape), valid, rows, cols


def adaptive_avg_pool2d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool2d: the mean over [floor(o n / m),
    ceil((o + 1) n / m)) along each axis; an output_size entry None keeps the input's size."""
    x, unbatched = _nchw(input)
    win, valid, _, _ = _adaptive_windows(x, output_size)
    total = np.where(valid, win, 0.0).sum(axis=-1)
    return _unbatch(total / valid.sum(axis=-1), unbatched)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool2d: the maximum over the adaptive windows (see
    adaptive_avg_pool2d) and optionally the int64 index h W + w of the first maximum in
    row-major order (of the last NaN when the window holds NaN)."""
    x, unbatched = _nchw(input)
    win, valid, rows, cols = _adaptive_windows(x, output_size)
    win = np.where(valid, win, -np.inf)
    values = win.max(axis=-1)
    if not return_indices:
        return _unbatch(values, unbatched)
    pos = _window_argmax(win, valid)
    lw = cols.shape[1]
    oy, ox = np.arange(rows.shape[0])[:, None], np.arange(cols.shape[0])[None, :]
    index = rows[oy, pos // lw] * x.shape[-1] + cols[ox, pos % lw]
    return _unbatch(values, unbatched), _unbatch(index.astype(np.int64), unbatched)


# ----------------------------------------------------------------------------- patches


def _fresh(y, x) -> np.ndarray:
    """y, copied if it may still be a view of x."""
    return y.copy() if np.may_share_memory(y, x) else y


def patchify(images, patch_size):
    """(N, C, H, W) -> (N, L, C ph pw), L = (H / ph)(W / pw) patches in row-major order,
    features in (c, i, j) order (a ViT patch-embedding conv's flattened weight order);
    (C, H, W) -> (L, C ph pw)."""
    x, unbatched = _nchw(images)
    n, c, h, w = x.shape
    ph, pw = _pair(patch_size)
    gh, gw = h // ph, w // pw
    y = x.reshape(n, c, gh, ph, gw, pw).transpose(0, 2, 4, 1, 3, 5)
    y = y.reshape(n, gh * gw, c * ph * pw)
    return _fresh(_unbatch(y, unbatched), images)


def unpatchify(patches, patch_size, image_size=None):
    """The inverse of patchify: (N, L, C ph pw) -> (N, C, H, W), (L, C ph pw) -> (C, H, W);
    image_size (H, W), None for a square grid of sqrt(L) x sqrt(L) patches."""
    x = np.asarray(patches, dtype=np.float64)
    unbatched = x.ndim == 2
    if unbatched:
        x = x[None]
    n, length, features = x.shape
    ph, pw = _pair(patch_size)
    c = features // (ph * pw)
    if image_size is None:
        gh = gw = math.isqrt(length)
    else:
        h, w = _pair(image_size)
        gh, gw = h // ph, w // pw
    y = x.reshape(n, gh, gw, c, ph, pw).transpose(0, 3, 1, 4, 2, 5)
    y = y.reshape(n, c, gh * ph, gw * pw)
    return _fresh(_unbatch(y, unbatched), patches)

"""Spectrum and band-pass filtering on the GPU (the CuPy fallback), by xp.fft.

Each function takes the array module ``xp`` first (cupy on the GPU, numpy in the tests), then
arguments already validated by the wrapper. Real input, so the transforms are the half-plane
ones (rfft2 / irfft2); the band-pass mask is built over that half plane by broadcasting a
column of row frequencies against a row of column frequencies, never as a full meshgrid.
The transforms run in complex64 for float32 results (complex128 for float64 input).
"""

from __future__ import annotations

import math

import numpy as np

from .filters import work_dtype


def _planes(xp, img):
    """The image as real planes in the working precision: (H, W), or (C, H, W) contiguous for
    (H, W, C), so that the transforms run over the last two axes as one batch."""
    x = img.astype(work_dtype(img.dtype), copy=False)
    if x.ndim == 3:
        x = xp.ascontiguousarray(xp.moveaxis(x, 2, 0))
    return x


def _image(xp, planes, ndim):
    return xp.ascontiguousarray(xp.moveaxis(planes, 0, 2)) if ndim == 3 else planes


def spectrum(xp, img):
    """fftshift(log1p(|fft2(img)|)) over axes (0, 1), per channel; float32 (float64 for
    float64 input). The half plane's magnitudes give the other half by |F(-k)| = |F(k)|."""
    x = _planes(xp, img)
    h, w = x.shape[-2:]
    half = xp.log1p(xp.abs(xp.fft.rfft2(x))).astype(x.dtype, copy=False)
    nh = half.shape[-1]  # w // 2 + 1
    full = xp.empty(x.shape, x.dtype)
    full[..., :nh] = half
    if w > nh:
        # column kx > w // 2 is column w - kx of the half plane, at row (-ky) mod h
        rows = xp.asarray(np.r_[0, np.arange(h - 1, 0, -1)])
        full[..., nh:] = half[..., rows, w - nh : 0 : -1]
    return _image(xp, xp.fft.fftshift(full, axes=(-2, -1)), img.ndim)


def _frequencies(xp, n, half):
    """The signed integer frequency indices (numpy.fft.fftfreq(n) * n), or their non-negative
    half (rfftfreq), as float64 device vectors."""
    f = np.fft.rfftfreq(n) * n if half else np.fft.fftfreq(n) * n
    return xp.asarray(np.rint(f))


def transfer_rows(xp, ky, kx, low, high, kind, order, dtype):
    """H(r) for the frequency rows ky (a column) and columns kx (a row), integer-valued, in
    ``dtype``: r^2 = ky^2 + kx^2. The CPU path calls it block of rows by block of rows."""
    dtype = np.dtype(dtype)
    r2 = ky * ky + kx * kx
    if kind == "ideal":
        keep = r2 >= low * low
        if high is not None and math.isfinite(high):
            keep &= r2 <= high * high
        return keep.astype(dtype)
    res = xp.ones(r2.shape, dtype)
    if kind == "gaussian":
        if high is not None and math.isfinite(high):
            res = xp.exp(r2 * dtype.type(-0.5 / (high * high)))
        if low > 0:
            res *= 1 - xp.exp(r2 * dtype.type(-0.5 / (low * low)))
        return res
    if kind != "butterworth":
        raise ValueError(f"bandpass: unknown kind {kind!r}")
    p = dtype.type(order)  # butterworth in r^2: (r / c)^(2n) = (r^2 / c^2)^n
    if high is not None and math.isfinite(high):
        res = 1 / (1 + (r2 * dtype.type(1 / (high * high))) ** p)
    if low > 0:
        with np.errstate(divide="ignore"):
            res *= 1 - 1 / (1 + (r2 * dtype.type(1 / (low * low))) ** p)
    return res


def transfer(xp, h, w, low, high, kind, order):
    """H(r) over the rfft2 half plane ((h, w // 2 + 1), float64), r = hypot(ky, kx)."""
    ky = _frequencies(xp, h, False)[:, None]
    kx = _frequencies(xp, w, True)[None, :]
    return transfer_rows(xp, ky, kx, low, high, kind, order, np.float64)


def bandpass(xp, img, low, high, kind, order):
    """real(ifft2(H * fft2(img))) per channel, H from :func:`transfer`; float32 (float64 for
    float64 input). H is real and even in (ky, kx), so the product stays Hermitian and
    irfft2 gives exactly that real part."""
    x = _planes(xp, img)
    h, w = x.shape[-2:]
    ky = _frequencies(xp, h, False)[:, None].astype(x.dtype)
    kx = _frequencies(xp, w, True)[None, :].astype(x.dtype)
    mask = transfer_rows(xp, ky, kx, low, high, kind, order, x.dtype)
    f = xp.fft.rfft2(x)
    f *= mask
    res = xp.fft.irfft2(f, s=(h, w)).astype(x.dtype, copy=False)
    return _image(xp, res, img.ndim)

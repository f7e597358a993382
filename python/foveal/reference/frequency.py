"""Frequency-domain views and filters, the plain NumPy route (float64 inside).

spectrum = fftshift(log1p(|fft2(image)|)); bandpass = real(ifft2(H * fft2(image))) with H a
function of the radius r = hypot(ky, kx) of the signed integer frequency indices (cycles per
image), built on the centred grid and moved back with ifftshift. Both per channel, over axes
(0, 1); float32 out (float64 for float64 input).
"""

from __future__ import annotations

import numpy as np


def _out_dtype(image):
    return np.float64 if image.dtype == np.float64 else np.float32


def spectrum(image):
    """Centred log-magnitude spectrum: fftshift(log1p(|fft2(image)|)) over axes (0, 1)."""
    f = np.fft.fft2(image.astype(np.float64), axes=(0, 1))
    return np.fft.fftshift(np.log1p(np.abs(f)), axes=(0, 1)).astype(_out_dtype(image))


def _radius(h, w):
    """hypot(ky, kx) on the centred grid, ky / kx = fftshift(fftfreq(n) * n), rounded to the
    integers they stand for (fftfreq(n) * n can be off by an ulp, which moves a radius that
    lies exactly on low or high across it)."""
    ky = np.fft.fftshift(np.rint(np.fft.fftfreq(h) * h))
    kx = np.fft.fftshift(np.rint(np.fft.fftfreq(w) * w))
    gy, gx = np.meshgrid(ky, kx, indexing="ij")
    return np.hypot(gy, gx)


def bandpass_mask(shape, low, high=None, kind="ideal", order=2):
    """H(r) on the centred (fftshift-ed) frequency grid of an (H, W) image:
    ideal: 1 where low <= r <= high; gaussian: exp(-r^2 / (2 high^2)) * (1 - exp(-r^2 /
    (2 low^2))); butterworth: 1 / (1 + (r / high)^(2 order)) * (1 - 1 / (1 + (r / low)^(2
    order))). A missing high (None) or a zero low drops that factor."""
    r = _radius(shape[0], shape[1])
    if kind == "ideal":
        keep = r >= low
        if high is not None:
            keep &= r <= high
        return keep.astype(np.float64)
    lp = np.ones_like(r)
    hp = np.ones_like(r)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if kind == "gaussian":
            if high is not None:
                lp = np.exp(-(r * r) / (2.0 * high * high))
            if low > 0:
                hp = 1.0 - np.exp(-(r * r) / (2.0 * low * low))
        else:  # butterworth
            if high is not None:
                lp = 1.0 / (1.0 + (r / high) ** (2 * order))
            if low > 0:
                hp = 1.0 - 1.0 / (1.0 + (r / low) ** (2 * order))
    return lp * hp


def bandpass(image, low, high=None, kind="ideal", order=2):
    """real(ifft2(ifftshift(H) * fft2(image))) per channel, H = bandpass_mask (low, high in
    cycles per image)."""
    h, w = image.shape[:2]
    mask = bandpass_mask((h, w), low, high, kind, order)
    if image.ndim == 3:
        mask = mask[:, :, None]
    f = np.fft.fftshift(np.fft.fft2(image.astype(np.float64), axes=(0, 1)), axes=(0, 1))
    g = np.fft.ifft2(np.fft.ifftshift(f * mask, axes=(0, 1)), axes=(0, 1))
    return g.real.astype(_out_dtype(image))

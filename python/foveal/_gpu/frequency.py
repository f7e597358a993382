"""Band-pass filtering on the GPU: cuFFT's real transforms through the Device's array module
(CuPy), and between them the fused mask kernel of cuda/frequency.cu, which multiplies the
half-plane spectrum in place by the transfer function computed from each element's frequency
indices (no mask array). Under the emulator the array module is NumPy, whose transforms stand in
for cuFFT's."""

from __future__ import annotations

import numpy as np

from . import Device


def bandpass(dev: Device, image, low: float, high: float | None, kind: str, order: int):
    """real(ifft2(H fft2(image))) per channel, float32 (float64 for float64 images), the
    image's shape; the arguments as foveal.bandpass has checked them."""
    xp = dev.xp
    dt = np.dtype(np.float64 if image.dtype == np.float64 else np.float32)
    planes = image.astype(dt, copy=False)
    if planes.ndim == 3:
        planes = xp.moveaxis(planes, 2, 0)
    planes = xp.ascontiguousarray(planes)
    h, w = planes.shape[-2:]
    spectrum = xp.ascontiguousarray(xp.fft.rfft2(planes))
    n = 1 if planes.ndim == 2 else planes.shape[0]
    dev.module.bandpass_mask(
        dt.name, dev.ptr(spectrum), n, h, w, kind, float(low), high, int(order), dev.stream
    )
    out = xp.fft.irfft2(spectrum, s=(h, w)).astype(dt, copy=False)
    if out.ndim == 3:
        out = xp.ascontiguousarray(xp.moveaxis(out, 0, 2))
    return out

"""The frequency domain: a look at an image's spectrum, and band-pass filtering.

Transforms are real FFTs (``rfft2`` / ``irfft2``): scipy.fft with ``workers`` = foveal's thread
count when scipy is installed, else numpy.fft (single-threaded). Both keep float32 data in
float32. The band-pass filter is applied in the real-FFT layout, block of rows by block of
rows, computed on the fly from the frequency indices: no fftshift and no full-size mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dispatch as dsp
from . import _validate as val
from ._config import get_num_threads
from ._cupy.frequency import transfer_rows
from ._typing import Array

__all__ = ["bandpass", "spectrum"]

_KINDS = ("ideal", "gaussian", "butterworth")
_ROWS_PER_BLOCK = 64


def _fft():
    """(rfft2, irfft2) taking a workers count."""
    try:
        import scipy.fft as sfft
    except ImportError:  # numpy.fft: one thread
        return (
            lambda x, workers: np.fft.rfft2(x),
            lambda x, s, workers: np.fft.irfft2(x, s=s),
        )
    return (
        lambda x, workers: sfft.rfft2(x, workers=workers),
        lambda x, s, workers: sfft.irfft2(x, s=s, workers=workers),
    )


def _planes(arr: np.ndarray, dtype) -> np.ndarray:
    """(C, H, W) planes (a view for one channel) in the working dtype."""
    planes = arr[None] if arr.ndim == 2 else np.moveaxis(arr, 2, 0)
    return np.asarray(planes, dtype=dtype)


def _image(planes: np.ndarray, ndim: int) -> np.ndarray:
    return planes[0] if ndim == 2 else np.ascontiguousarray(np.moveaxis(planes, 0, 2))


def _prepare(fn, image):
    arr, kind = dsp.to_array(image, fn, "image", val.IMAGE_DTYPES)
    val.check_image(arr, fn, "image", val.IMAGE_DTYPES)
    dt = np.dtype(np.float64 if arr.dtype == np.float64 else np.float32)
    return arr, kind, dt


def spectrum(image: Array) -> Any:
    """The centred log-magnitude spectrum of each channel, ``fftshift(log1p(abs(fft2(image))))``
    over the first two axes, as computed with ``numpy.fft.fft2`` and ``numpy.fft.fftshift``.

    Args:
        image: (H, W) or (H, W, C) array of uint8, uint16, int16, float32 or float64 (NumPy,
            CuPy, torch or any DLPack object).

    Returns:
        An array of the image's shape, float32 (float64 for float64 images), in the image's
        kind; the zero frequency sits at (H // 2, W // 2).

    >>> s = foveal.spectrum(np.ones((4, 4), np.float32))
    >>> bool(np.isclose(s[2, 2], np.log1p(16))), float(s[0, 0])
    (True, 0.0)
    """
    fn = "spectrum"
    arr, kind, dt = _prepare(fn, image)
    if dsp.is_cupy(arr):
        from ._cupy import frequency as gpu
        from ._cupy.filters import modules

        return kind.wrap(gpu.spectrum(modules()[0], arr))
    from ._cupy import frequency as shared

    return kind.wrap(shared.spectrum(np, np.asarray(arr)))


def bandpass(
    image: Array,
    low: float,
    high: float | None = None,
    *,
    kind: str = "ideal",
    order: int = 2,
    out: Array | None = None,
) -> Any:
    """Keeps the spatial frequencies between ``low`` and ``high`` (cycles per image): the same
    numbers as the NumPy route ``real(numpy.fft.ifft2(H * numpy.fft.fft2(image)))`` with a full
    mask H.

    The radius of frequency (ky, kx) (signed integer indices, numpy.fft.fftfreq(n) * n) is
    r = hypot(ky, kx), and the filter H(r) is
      "ideal":       1 where low <= r <= high, else 0;
      "gaussian":    exp(-r^2 / (2 high^2)) * (1 - exp(-r^2 / (2 low^2)));
      "butterworth": 1 / (1 + (r / high)^(2 order)) * (1 - 1 / (1 + (r / low)^(2 order)));
    where low = 0 drops the high-pass factor and high = None the low-pass one. Computed with real
    FFTs (scipy.fft with foveal's thread count when scipy is installed), the filter applied
    block by block of rows without a full-size mask.

    Args:
        image: as :func:`spectrum`.
        low: the lower cut-off radius, >= 0.
        high: the upper cut-off radius, > low, or None (no upper cut-off).
        kind: "ideal", "gaussian" or "butterworth".
        order: the Butterworth order, 1 to 64.
        out: an array of the result's shape and dtype to write to.

    Returns:
        An array of the image's shape, float32 (float64 for float64 images), in the image's
        kind, or ``out``; each channel filtered on its own.

    >>> x = np.cos(2 * np.pi * 8 * np.arange(64) / 64)[None, :].repeat(64, 0)  # 8 cycles
    >>> bool(np.abs(foveal.bandpass(x, 4, 12) - x).max() < 1e-12)
    True
    >>> bool(np.abs(foveal.bandpass(x, 10, 20)).max() < 1e-12)
    True
    """
    fn = "bandpass"
    arr, kind_, dt = _prepare(fn, image)
    if not isinstance(kind, str):
        raise TypeError(f"{fn}: kind must be a string, got {type(kind).__name__}")
    if kind.lower() not in _KINDS:
        raise ValueError(f"{fn}: kind must be one of {', '.join(_KINDS)}; got {kind!r}")
    kind = kind.lower()
    low = val.as_number(low, fn, "low", minimum=0)
    high = None if high is None else val.as_number(high, fn, "high", minimum=0)
    if high is not None and high <= low:
        raise ValueError(f"{fn}: high must be > low, got low={low}, high={high}")
    order = val.as_int(order, fn, "order", minimum=1, maximum=64)
    out_arr, _ = dsp.output(fn, arr, dt, out)
    if dsp.is_cupy(arr):
        from . import _gpu

        dev = _gpu.device(arr, kind_)
        if dev is not None:  # cuFFT through CuPy, the fused mask kernel between the transforms
            from ._gpu import frequency as kernels

            with dev:
                res = kernels.bandpass(dev, arr, low, high, kind, order)
        else:
            from ._cupy import frequency as gpu
            from ._cupy.filters import modules

            res = gpu.bandpass(modules()[0], arr, low, high, kind, order)
    else:
        rfft2, irfft2 = _fft()
        workers = get_num_threads()
        x = _planes(np.asarray(arr), dt)
        h, w = x.shape[-2:]
        f = rfft2(x, workers)
        ky_all = np.rint(np.fft.fftfreq(h) * h).astype(dt)[:, None]
        kx = np.rint(np.fft.rfftfreq(w) * w).astype(dt)[None, :]
        for r0 in range(0, h, _ROWS_PER_BLOCK):
            r1 = min(h, r0 + _ROWS_PER_BLOCK)
            f[:, r0:r1] *= transfer_rows(np, ky_all[r0:r1], kx, low, high, kind, order, dt)
        res = _image(irfft2(f, (h, w), workers).astype(dt, copy=False), arr.ndim)
    return dsp.deliver(kind_, out, out_arr, res)

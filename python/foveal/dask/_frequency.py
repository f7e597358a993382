"""Band-pass filtering and the spectrum of Dask arrays, by a distributed 2-D FFT.

A 2-D transform is a 1-D transform along the rows followed by one along the columns. Each
needs its whole axis in one chunk, so the array is rechunked between them: chunks of whole
rows for the row transforms, chunks of whole columns for the column transforms (a transpose
of the data, done by Dask's rechunk, never a whole array in one task). The band-pass mask is
applied to the column chunks, computed from their frequency indices; nothing is approximated,
and the results equal the in-memory ones to the transforms' rounding.
"""

from __future__ import annotations

import numpy as np

from .._cupy.frequency import transfer_rows
from ..frequency import bandpass as _bandpass_in_memory
from ..frequency import spectrum as _spectrum_in_memory
from ._blocks import as_dask, sample


def _fft_module():
    try:
        import scipy.fft as fft
    except ImportError:
        return np.fft
    return fft


def _work_dtype(arr) -> np.dtype:
    return np.dtype(np.float64 if arr.dtype == np.float64 else np.float32)


def _whole(arr, axis: int):
    """``arr`` rechunked so that ``axis`` (and the channels) is one chunk, keeping the other
    axis's chunks at about the same number of bytes."""
    spec = {axis: -1, 1 - axis: "auto"}
    if arr.ndim == 3:
        spec[2] = -1
    return arr.rechunk(spec)


def _rows_forward(x, real: bool):
    fft = _fft_module()
    return fft.rfft(x, axis=1) if real else fft.fft(x, axis=1)


def _columns(x, inverse: bool):
    fft = _fft_module()
    return fft.ifft(x, axis=0) if inverse else fft.fft(x, axis=0)


def _complex(dt: np.dtype) -> np.dtype:
    return np.dtype(np.complex128 if dt == np.float64 else np.complex64)


def _masked(block, h, w, low, high, kind, order, dt, block_info=None):
    """A chunk of whole columns of the half-plane spectrum times the band-pass mask."""
    c0, c1 = block_info[0]["array-location"][1]
    ky = np.rint(np.fft.fftfreq(h) * h).astype(dt)[:, None]
    kx = np.rint(np.fft.rfftfreq(w) * w)[c0:c1].astype(dt)[None, :]
    mask = transfer_rows(np, ky, kx, low, high, kind, order, dt)
    if block.ndim == 3:
        mask = mask[:, :, None]
    return block * mask


def bandpass(image, low, high=None, *, kind="ideal", order=2):
    """Band-pass filtering of a Dask image, as :func:`foveal.bandpass` on the whole array
    (the NumPy route fft2, mask, ifft2 gives the same numbers): the 2-D transform is taken
    exactly, rows then columns, rechunking between them.

    image: (H, W) or (H, W, C) Dask array of uint8, uint16, int16, float32 or float64; low,
    high (cycles per image), kind "ideal", "gaussian" or "butterworth", order. Returns a lazy
    float32 (float64 for float64 images) array, equal to the in-memory result to the FFTs'
    rounding.

    >>> import dask.array as da
    >>> x = np.cos(2 * np.pi * 8 * np.arange(64) / 64)[None, :].repeat(64, 0)
    >>> kept = foveal.dask.bandpass(da.from_array(x, chunks=20), 4, 12).compute()
    >>> bool(np.abs(kept - x).max() < 1e-12)
    True
    """
    fn = "bandpass"
    arr = as_dask(image, fn)
    _bandpass_in_memory(sample(arr), low, high, kind=kind, order=order)
    dt = _work_dtype(arr)
    h, w = arr.shape[:2]
    cdt = _complex(dt)
    x = _whole(arr.astype(dt), 1)
    f = x.map_blocks(_rows_forward, True, dtype=cdt, chunks=_with(x.chunks, 1, w // 2 + 1))
    f = _whole(f, 0).map_blocks(_columns, False, dtype=cdt)
    lo, hi = float(low), (None if high is None else float(high))
    f = f.map_blocks(_masked, h, w, lo, hi, kind.lower(), int(order), dt, dtype=cdt)
    f = _whole(f.map_blocks(_columns, True, dtype=cdt), 1)
    return f.map_blocks(_rows_inverse, w, dt, dtype=dt, chunks=_with(f.chunks, 1, w))


def _rows_inverse(x, w, dt):
    return _fft_module().irfft(x, n=w, axis=1).astype(dt, copy=False)


def _with(chunks, axis: int, size: int):
    """``chunks`` with ``axis`` one chunk of ``size``."""
    return tuple((size,) if a == axis else c for a, c in enumerate(chunks))


def _log_magnitude(x, dt):
    return np.log1p(np.abs(x)).astype(dt, copy=False)


def spectrum(image):
    """The centred log-magnitude spectrum of a Dask image, as :func:`foveal.spectrum`:
    fftshift(log1p(|fft2(image)|)) per channel, float32 (float64 for float64 images), the
    image's shape and chunks.

    >>> import dask.array as da
    >>> s = foveal.dask.spectrum(da.ones((4, 4), np.float32, chunks=2)).compute()
    >>> bool(np.isclose(s[2, 2], np.log1p(16))), float(s[0, 0])
    (True, 0.0)
    """
    import dask.array as da

    fn = "spectrum"
    arr = as_dask(image, fn)
    _spectrum_in_memory(sample(arr))
    dt = _work_dtype(arr)
    cdt = _complex(dt)
    x = _whole(arr.astype(dt), 1)
    f = _whole(x.map_blocks(_rows_forward, False, dtype=cdt), 0).map_blocks(
        _columns, False, dtype=cdt
    )
    magnitude = f.map_blocks(_log_magnitude, dt, dtype=dt)
    return da.fft.fftshift(magnitude, axes=(0, 1)).rechunk(arr.chunks)

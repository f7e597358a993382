"""foveal.gradient, foveal.harris and foveal.min_eigen on the GPU: the fused kernels of
cuda/gradients.cu (pixels to magnitude and angle, or to the corner response, in one pass, with
the CPU path's arithmetic). The wrappers have checked and normalized the arguments; these
functions allocate the results and launch on the Device's stream.

What the kernels do not cover goes to the CuPy fallback (``fallback()``, foveal._cupy), never
to a wrong answer:

- gradient: images of more than 128 channels, or whose row halo, channels x the derivative's
  radius (1 for ksize 1, 3 and -1; 2 for 5; 3 for 7), is more than half the block's 256
  threads (more than 42 channels with ksize 7, 64 with ksize 5, 128 otherwise);
- harris and min_eigen: block sizes above 7 (the block's sums are kept in registers);
- both: images of 2^31 - 2^16 rows or columns or more (the kernels index them in 32 bits).

Images whose rows are not each one contiguous run (a column-strided view) are copied once;
row strides, negative ones included, are read in place.
"""

from __future__ import annotations

import numpy as np

from .. import _dispatch as dsp
from . import Device

MAX_CHANNELS = 128
MAX_BLOCK = 7
MAX_SIDE = (1 << 31) - (1 << 16)
_GRADIENT_THREADS = 256

# Threads per block and output rows per block, 0 for the kernels' own choice. Tests set small
# values so that small images cross tiles and strips.
tiling = {"threads": 0, "strip": 0}


def _radius(ksize: int) -> int:
    return ksize // 2 if ksize > 1 else 1


def _rows(dev: Device, arr):
    """``arr`` (or a contiguous copy) and its row pitch in values."""
    item = arr.itemsize
    if dsp.rows_contiguous(arr) and arr.strides[0] % item == 0:
        row = arr.shape[1] * (arr.shape[2] if arr.ndim == 3 else 1)
        pitch = arr.strides[0] // item
        if abs(pitch) >= row or arr.shape[0] == 1:
            return arr, pitch
    arr = dev.contiguous(arr)
    return arr, arr.strides[0] // item


def gradient(dev: Device, arr, ksize: int, degrees: bool, border: str, values, fallback):
    """(magnitude, angle) of the (H, W) or (H, W, C) image, float32 (float64 for float64
    images), each of the image's shape."""
    channels = arr.shape[2] if arr.ndim == 3 else 1
    threads = tiling["threads"] or _GRADIENT_THREADS
    too_wide = channels > MAX_CHANNELS or 2 * _radius(ksize) * channels > threads
    if too_wide or max(arr.shape[:2]) >= MAX_SIDE:
        return fallback()
    src, pitch = _rows(dev, arr)
    dt = np.dtype(np.float64 if arr.dtype == np.float64 else np.float32)
    magnitude = dev.xp.empty(arr.shape, dt)
    angle = dev.xp.empty(arr.shape, dt)
    dev.module.gradient(
        arr.dtype.name,
        dev.ptr(src),
        pitch,
        dev.ptr(magnitude),
        dev.ptr(angle),
        arr.shape[0],
        arr.shape[1],
        channels,
        ksize,
        bool(degrees),
        border,
        [float(v) for v in values],
        dev.stream,
        tiling["threads"],
        tiling["strip"],
    )
    return magnitude, angle


def corner_response(
    dev: Device, method: str, arr, block_size: int, ksize: int, k: float, border: str, dt, fallback
):
    """The Harris ("harris") or smallest-eigenvalue ("min_eigen") response of the one-channel
    (H, W) or (H, W, 1) image, of its shape and dtype ``dt``."""
    if block_size > MAX_BLOCK or max(arr.shape[:2]) >= MAX_SIDE:
        return fallback()
    img = arr[:, :, 0] if arr.ndim == 3 else arr
    src, pitch = _rows(dev, img)
    out = dev.xp.empty(img.shape, dt)
    dev.module.corner_response(
        method,
        img.dtype.name,
        dev.ptr(src),
        pitch,
        dev.ptr(out),
        img.shape[0],
        img.shape[1],
        block_size,
        ksize,
        float(k),
        border,
        dev.stream,
        tiling["threads"],
        tiling["strip"],
    )
    return out.reshape(arr.shape)

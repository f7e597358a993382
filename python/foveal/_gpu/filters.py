"""The linear filters on the GPU (cuda/filters.cu): filter2d, sep_filter2d, box_filter,
gaussian_blur, sobel and scharr for arrays on the device, with the CPU path's numbers.

The wrappers in foveal.filters have checked and normalized the arguments (anchor resolved,
border canonical, ``values`` the border_value list, ``dtype`` the output dtype). Each function
here takes the Device first and the CuPy fallback last, prepares what the kernels read exactly
as the CPU driver does (cpp/src/filters/filters.cpp): the taps rounded once to the working type
(float32, float64 when the image or the output is float64), a tap whose float64 value is 0
marked NaN so that the kernel skips it as the CPU does; the border value saturated to the
image's dtype; the Gaussian and derivative kernels from foveal._core itself. It then launches
on the Device's stream and returns a new array of the Device's array module.

The fallback is taken, explicitly, where the kernels do not cover the sizes: a tile of the
image with the kernel's halo must fit a block's shared memory or its 1 MiB share of a bounded
scratch buffer (``_cuda.filter_fits`` says which). On one channel that is separable kernels up
to about 500 taps each way in float32 arithmetic (350 in float64), filter2d kernels up to about
500 x 500 (float32) and box windows up to about 29,000 columns for float images (over 100,000
for integer ones) of any height; several channels divide these widths. Images whose rows
are not contiguous are copied once; other strides (row slices, flipped rows) are read in place.
"""

from __future__ import annotations

import numpy as np

from .._backend import _core
from ..reference.filters import gaussian_ksize
from . import Device


def _work(*dtypes) -> np.dtype:
    return np.dtype(np.float64 if any(np.dtype(d) == np.float64 for d in dtypes) else np.float32)


def border_pixel(values, channels: int, dtype) -> np.ndarray:
    """The border value of each channel as the CPU uses it (float64): rounded half to even and
    saturated for integer images, rounded to float32 for float32 images."""
    dtype = np.dtype(dtype)
    v = np.asarray(values, np.float64)
    v = np.broadcast_to(v if v.size > 1 else v.reshape(1), (channels,)).copy()
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(v), info.min, info.max)
    if dtype == np.float32:
        with np.errstate(over="ignore"):
            return v.astype(np.float32).astype(np.float64)
    return v


def _taps(dev: Device, kernel: np.ndarray, work: np.dtype):
    """The taps in the working type on the device, float64 zeros as NaN (skipped)."""
    k = np.asarray(kernel, np.float64)
    with np.errstate(over="ignore"):
        taps = k.astype(work)
    taps[k == 0.0] = np.nan
    return dev.xp.asarray(np.ascontiguousarray(taps))


def _image(dev: Device, arr):
    """(image, pitch): ``arr`` itself where each row is contiguous (pitch = values between row
    starts, any sign), else a contiguous copy."""
    item = arr.itemsize
    values = int(np.prod(arr.shape[1:]))
    if arr.ndim == 2:
        rows_ok = arr.shape[1] <= 1 or arr.strides[1] == item
    else:
        c = arr.shape[2]
        rows_ok = (c <= 1 or arr.strides[2] == item) and (
            arr.shape[1] <= 1 or arr.strides[1] == c * item
        )
    if rows_ok and arr.strides[0] % item == 0 and (arr.shape[0] == 1 or arr.strides[0] != 0):
        return arr, arr.strides[0] // item if arr.shape[0] > 1 else values
    return dev.contiguous(arr), values


def _sizes(arr) -> tuple[int, int, int]:
    return arr.shape[0], arr.shape[1], arr.shape[2] if arr.ndim == 3 else 1


def _fits(dev: Device, kind: str, arr, dtype, kh: int, kw: int) -> bool:
    name = np.dtype(dtype).name
    return dev.module.filter_fits(kind, arr.dtype.name, name, _sizes(arr)[2], kh, kw)


def _launch(dev: Device, launcher, arr, dtype, window, border, pixel):
    """A new output of ``dtype`` from ``launcher(image arguments, *window, border, border
    pixel, stream)``, one of the module's filter2d, sep_filter2d, box_filter."""
    img, pitch = _image(dev, arr)
    out = dev.xp.empty(arr.shape, dtype)
    head = (arr.dtype.name, np.dtype(dtype).name, dev.ptr(img), pitch, dev.ptr(out))
    launcher(*head, *_sizes(arr), *window, border, dev.ptr(pixel), dev.stream)
    return out


def filter2d(dev: Device, arr, kernel, anchor, delta, border, values, dtype, fallback):
    """cv2.filter2D as foveal.filter2d: the 2-D correlation kernel (cuda/filters.cu)."""
    kh, kw = kernel.shape
    if not _fits(dev, "filter2d", arr, dtype, kh, kw):
        return fallback()
    work = _work(arr.dtype, dtype)
    taps = _taps(dev, kernel, work)
    pixel = dev.xp.asarray(border_pixel(values, _sizes(arr)[2], arr.dtype).astype(work))
    window = (dev.ptr(taps), kh, kw, anchor[0], anchor[1], float(delta))
    return _launch(dev, dev.module.filter2d, arr, dtype, window, border, pixel)


def sep_filter2d(dev: Device, arr, kx, ky, anchor, delta, border, values, dtype, fallback):
    """cv2.sepFilter2D as foveal.sep_filter2d: rows by ``kx``, then columns by ``ky``, fused in
    one kernel (cuda/filters.cu)."""
    kx = np.asarray(kx, np.float64).reshape(-1)
    ky = np.asarray(ky, np.float64).reshape(-1)
    if not _fits(dev, "separable", arr, dtype, ky.size, kx.size):
        return fallback()
    work = _work(arr.dtype, dtype)
    taps_x, taps_y = _taps(dev, kx, work), _taps(dev, ky, work)
    pixel = dev.xp.asarray(border_pixel(values, _sizes(arr)[2], arr.dtype).astype(work))
    window = (dev.ptr(taps_x), dev.ptr(taps_y), ky.size, kx.size, *anchor, float(delta))
    return _launch(dev, dev.module.sep_filter2d, arr, dtype, window, border, pixel)


def box_filter(dev: Device, arr, ksize, normalize, anchor, border, values, dtype, fallback):
    """cv2.boxFilter as foveal.box_filter: running window sums (cuda/filters.cu), exact for
    integer images."""
    kh, kw = ksize
    if not _fits(dev, "box", arr, dtype, kh, kw):
        return fallback()
    pixel = dev.xp.asarray(border_pixel(values, _sizes(arr)[2], arr.dtype))
    window = (kh, kw, anchor[0], anchor[1], bool(normalize))
    return _launch(dev, dev.module.box_filter, arr, dtype, window, border, pixel)


def gaussian_blur(dev: Device, arr, ksize, sigma_x, sigma_y, border, values, fallback):
    """cv2.GaussianBlur as foveal.gaussian_blur: the CPU's kernels (a size of 0 derived from
    its sigma, as cpp/src/filters/filters.cpp does) through :func:`sep_filter2d`."""
    kh, kw = ksize
    if kw <= 0:
        kw = gaussian_ksize(sigma_x, arr.dtype)
    if kh <= 0:
        kh = gaussian_ksize(sigma_y, arr.dtype)
    kx = _core.gaussian_kernel(kw, max(sigma_x, 0.0))
    ky = _core.gaussian_kernel(kh, max(sigma_y, 0.0))
    anchor = (kh // 2, kw // 2)
    return sep_filter2d(dev, arr, kx, ky, anchor, 0.0, border, values, arr.dtype, fallback)


def sobel(dev: Device, arr, dx, dy, ksize, scale, delta, border, values, dtype, fallback):
    """cv2.Sobel / cv2.Scharr (ksize -1) as foveal.sobel: cv2.getDerivKernels' kernels (from
    foveal._core), the column kernel times ``scale`` as the CPU applies it, through
    :func:`sep_filter2d`."""
    kx, ky = _core.deriv_kernels(dx, dy, ksize)
    ky = ky * float(scale)
    anchor = (ky.size // 2, kx.size // 2)
    return sep_filter2d(dev, arr, kx, ky, anchor, delta, border, values, dtype, fallback)

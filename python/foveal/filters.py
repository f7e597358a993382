"""Linear filters and gradients: the thin layer that validates, normalizes, dispatches, wraps.

Each function follows its OpenCV namesake number for number (cv2.filter2D, cv2.sepFilter2D,
cv2.boxFilter, cv2.GaussianBlur, cv2.Sobel, cv2.Scharr, cv2.cartToPolar), with NumPy's order
for sizes: a kernel size and an anchor are (rows, cols), where OpenCV writes (width, height)
and (x, y). Arithmetic is float32 (float64 when the image or the output is float64); integer
outputs are rounded half to even and saturated, NaN becoming 0. Unlike cv2's filters, the
"wrap" border works, and ``border_value`` sets the constant border.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _dispatch as dsp
from . import _validate as val
from ._backend import _core
from ._typing import Array, ArrayOrList, DType, Size

__all__ = [
    "box_filter",
    "canny",
    "filter2d",
    "gaussian_blur",
    "gradient",
    "scharr",
    "sep_filter2d",
    "sobel",
]

_MAX_KSIZE = 1 << 16
_MAX_KERNEL_ELEMENTS = 1 << 20


def _output_dtype(dtype, default, fn: str) -> np.dtype:
    if dtype is None:
        return np.dtype(default)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        name = getattr(dtype, "name", None) or str(dtype).replace("torch.", "")
        try:
            dt = np.dtype(name)
        except TypeError:
            raise TypeError(f"{fn}: dtype {dtype!r} is not a dtype") from None
    if dt.name not in val.IMAGE_DTYPES:
        raise TypeError(
            f"{fn}: dtype {dt} is not supported (supported: {', '.join(val.IMAGE_DTYPES)})"
        )
    return dt


def _real_kernel(kernel, fn: str, name: str, ndim: int) -> np.ndarray:
    """A finite float64 kernel: 2-D for filter2d, 1-D (or a single row / column) otherwise."""
    k = dsp.to_host(kernel, fn, name) if not isinstance(kernel, (list, tuple)) else kernel
    k = np.asarray(k)
    if k.dtype.kind not in "buif":
        raise TypeError(f"{fn}: {name} must be a real array, got dtype {k.dtype}")
    if ndim == 1 and k.ndim == 2 and 1 in k.shape:
        k = k.reshape(-1)
    if k.ndim != ndim:
        raise ValueError(f"{fn}: {name} must be {ndim}-D, got {k.ndim}-D shape {k.shape}")
    if k.size == 0:
        raise ValueError(f"{fn}: {name} must not be empty, got shape {k.shape}")
    if k.size > _MAX_KERNEL_ELEMENTS or max(k.shape) > _MAX_KSIZE:
        raise ValueError(f"{fn}: {name} of shape {k.shape} is too large")
    k = np.ascontiguousarray(k, dtype=np.float64)
    if not np.isfinite(k).all():
        raise ValueError(f"{fn}: {name} must be finite (no NaN or inf)")
    return k


def _anchor(anchor, kh: int, kw: int, fn: str) -> tuple[int, int]:
    """The anchor inside a kh x kw kernel, the centre (kh // 2, kw // 2) by default."""
    ay, ax = val.anchor(anchor, kh, kw, fn)
    return (kh // 2 if ay < 0 else ay), (kw // 2 if ax < 0 else ax)


def _prepare(fn, image, border, border_value):
    """The image as an array (and its kind), the canonical border and the border values."""
    arr, kind = dsp.to_array(image, fn, "image", val.IMAGE_DTYPES)
    val.check_image(arr, fn, "image", val.IMAGE_DTYPES)
    border = val.border_name(border, fn, allow_default=False)
    channels = arr.shape[2] if arr.ndim == 3 else 1
    values = val.border_values(border_value, channels, arr.dtype, fn)
    return arr, kind, border, values


def _cupy(name: str):
    """The CuPy fallback ``name`` with its (cupy, cupyx.scipy.ndimage) arguments bound."""
    from ._cupy import filters

    fn = getattr(filters, name)
    xp, ndi = filters.modules()
    return lambda *args: fn(xp, ndi, *args)


def _gpu_filters():
    """foveal._gpu.filters: the CUDA kernels' route for CuPy input (imported when used)."""
    from ._gpu import filters

    return filters


def filter2d(
    image: Array,
    kernel: ArrayOrList,
    *,
    anchor: tuple[int, int] | None = None,
    delta: float = 0.0,
    border: str = "reflect101",
    border_value: float | Sequence[float] = 0,
    dtype: DType | None = None,
    out: Array | None = None,
) -> Any:
    """Correlation with ``kernel`` plus ``delta``, as ``cv2.filter2D``.

    dst(y, x) = sum over (i, j) of kernel[i, j] * image(y + i - ay, x + j - ax) + delta, per
    channel, where (ay, ax) is ``anchor``.

    Args:
        image: (H, W) or (H, W, C) array of uint8, uint16, int16, float32 or float64 (NumPy,
            CuPy, torch or any DLPack object).
        kernel: a 2-D real array (or nested lists), finite. Zero taps are skipped, as OpenCV does.
        anchor: (row, col) in the kernel; default the centre (kh // 2, kw // 2).
        delta: a number added to every result.
        border: "reflect101" (default), "reflect", "replicate", "wrap" or "constant" ("nearest"
            and "mirror" are scipy's names for replicate and reflect101).
        border_value: the constant border, a scalar (every channel) or one value per channel.
        dtype: the output dtype (OpenCV's ddepth): uint8, uint16, int16, float32 or float64
            (a NumPy or torch dtype, or its name); default the image's.
        out: an array of the output's shape and dtype to write to.

    Returns:
        An array of the image's shape and the output dtype, in the image's kind, or ``out``.
        Arithmetic is float32 (float64 when the image or the output is float64); integer
        outputs are rounded half to even and saturated, NaN becoming 0.

    >>> img = np.arange(12, dtype=np.float32).reshape(3, 4)
    >>> foveal.filter2d(img, np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]]))[1]  # shift left
    array([5., 6., 7., 6.], dtype=float32)
    """
    fn = "filter2d"
    arr, kind, border, values = _prepare(fn, image, border, border_value)
    k = _real_kernel(kernel, fn, "kernel", 2)
    ay, ax = _anchor(anchor, k.shape[0], k.shape[1], fn)
    delta = val.as_number(delta, fn, "delta")
    dt = _output_dtype(dtype, arr.dtype, fn)

    def fallback():
        return _cupy("filter2d")(arr, k, (ay, ax), delta, border, values, dt)

    return dsp.run(
        fn,
        arr,
        kind,
        dt,
        out,
        lambda s, d: _core.filter2d(s, d, k, ay, ax, delta, border, values),
        fallback,
        gpu=lambda dev: _gpu_filters().filter2d(
            dev, arr, k, (ay, ax), delta, border, values, dt, fallback
        ),
    )


def sep_filter2d(
    image: Array,
    kernel_x: ArrayOrList,
    kernel_y: ArrayOrList,
    *,
    anchor: tuple[int, int] | None = None,
    delta: float = 0.0,
    border: str = "reflect101",
    border_value: float | Sequence[float] = 0,
    dtype: DType | None = None,
    out: Array | None = None,
) -> Any:
    """Correlation with the separable kernel outer(kernel_y, kernel_x), as ``cv2.sepFilter2D``.

    Rows are filtered by ``kernel_x`` first, then columns by ``kernel_y``.

    Args:
        image: as :func:`filter2d`.
        kernel_x: the row kernel, 1-D (or a single row or column), real and finite.
        kernel_y: the column kernel, likewise.
        anchor, delta, border, border_value, dtype, out: as :func:`filter2d`.

    Returns:
        An array of the image's shape and the output dtype (default the image's), in the
        image's kind, or ``out``.

    >>> img = np.zeros((5, 5), np.float32); img[2, 2] = 1
    >>> foveal.sep_filter2d(img, [1, 2, 1], [1, 0, -1])[1:4, 1:4]
    array([[-1., -2., -1.],
           [ 0.,  0.,  0.],
           [ 1.,  2.,  1.]], dtype=float32)
    """
    fn = "sep_filter2d"
    arr, kind, border, values = _prepare(fn, image, border, border_value)
    kx = _real_kernel(kernel_x, fn, "kernel_x", 1)
    ky = _real_kernel(kernel_y, fn, "kernel_y", 1)
    ay, ax = _anchor(anchor, ky.size, kx.size, fn)
    delta = val.as_number(delta, fn, "delta")
    dt = _output_dtype(dtype, arr.dtype, fn)

    def fallback():
        return _cupy("sep_filter2d")(arr, kx, ky, (ay, ax), delta, border, values, dt)

    return dsp.run(
        fn,
        arr,
        kind,
        dt,
        out,
        lambda s, d: _core.sep_filter2d(s, d, kx, ky, ay, ax, delta, border, values),
        fallback,
        gpu=lambda dev: _gpu_filters().sep_filter2d(
            dev, arr, kx, ky, (ay, ax), delta, border, values, dt, fallback
        ),
    )


def box_filter(
    image: Array,
    ksize: Size,
    *,
    normalize: bool = True,
    anchor: tuple[int, int] | None = None,
    border: str = "reflect101",
    border_value: float | Sequence[float] = 0,
    dtype: DType | None = None,
    out: Array | None = None,
) -> Any:
    """The mean (or, with ``normalize=False``, the sum) over a window, as ``cv2.boxFilter``.

    A constant number of operations per pixel whatever the size (running sums). Integer images
    are summed exactly and a normalized integer result is the exactly rounded mean (half to
    even); OpenCV's fixed-point path for small 8-bit windows can differ from it by 1 at exact
    halves.

    Args:
        image: as :func:`filter2d`.
        ksize: the window, an int or (rows, cols).
        normalize: True for the mean, False for the sum.
        anchor, border, border_value, dtype, out: as :func:`filter2d`.

    Returns:
        An array of the image's shape and the output dtype (default the image's), in the
        image's kind, or ``out``.

    >>> float(foveal.box_filter(np.arange(9, dtype=np.float32).reshape(3, 3), 3)[1, 1])
    4.0
    """
    fn = "box_filter"
    arr, kind, border, values = _prepare(fn, image, border, border_value)
    kh, kw = val.as_pair(ksize, fn, "ksize", minimum=1, maximum=_MAX_KSIZE)
    ay, ax = _anchor(anchor, kh, kw, fn)
    normalize = val.as_bool(normalize, fn, "normalize")
    normalize = bool(normalize)
    dt = _output_dtype(dtype, arr.dtype, fn)

    def fallback():
        return _cupy("box_filter")(arr, (kh, kw), normalize, (ay, ax), border, values, dt)

    def native(src, dst):
        if src.dtype.kind == "f" and not np.isfinite(src).all():
            _box_by_windows(src, dst, kh, kw, normalize, ay, ax, border, values)
        else:
            _core.box_filter(src, dst, kh, kw, normalize, ay, ax, border, values)

    return dsp.run(
        fn,
        arr,
        kind,
        dt,
        out,
        native,
        fallback,
        gpu=lambda dev: _gpu_filters().box_filter(
            dev, arr, (kh, kw), normalize, (ay, ax), border, values, dt, fallback
        ),
    )


def _box_by_windows(src, dst, kh, kw, normalize, ay, ax, border, values) -> None:
    """box_filter of an image holding NaN or inf, window by window: running sums, once NaN or
    inf - inf enters them, never recover, so each window is summed on its own (the separable
    correlation with ones, in float64), as the reference sums it."""
    sums = np.empty(dst.shape, np.float64)
    ones_x, ones_y = np.ones(kw), np.ones(kh)
    _core.sep_filter2d(src, sums, ones_x, ones_y, ay, ax, 0.0, border, values)
    if normalize:
        sums /= kh * kw
    if dst.dtype.kind == "f":
        dst[...] = sums
        return
    info = np.iinfo(dst.dtype)
    dst[...] = np.clip(np.rint(np.nan_to_num(sums, nan=0.0)), info.min, info.max)


def _gaussian_ksize(ksize, fn: str) -> tuple[int, int]:
    kh, kw = val.as_pair(ksize, fn, "ksize", minimum=0, maximum=_MAX_KSIZE)
    for k in (kh, kw):
        if k != 0 and k % 2 == 0:
            raise ValueError(f"{fn}: ksize must be odd (or 0 to derive it from sigma), got {ksize}")
    return kh, kw


def gaussian_blur(
    image: Array,
    ksize: Size,
    sigma: float = 0.0,
    *,
    sigma_y: float | None = None,
    border: str = "reflect101",
    border_value: float | Sequence[float] = 0,
    out: Array | None = None,
) -> Any:
    """Gaussian smoothing, as ``cv2.GaussianBlur(image, (kw, kh), sigma, sigmaY=sigma_y)``.

    The kernels are ``cv2.getGaussianKernel``'s (OpenCV's fixed kernels for sizes up to 9 with
    sigma <= 0). For uint8 images cv2 uses a fixed-point kernel and can differ by 1.

    Args:
        image: as :func:`filter2d`.
        ksize: an int or (rows, cols), odd; 0 derives it from the sigma as OpenCV does.
        sigma: the standard deviation along x (columns); <= 0 derives it from ksize
            (0.3 * ((k - 1) / 2 - 1) + 0.8).
        sigma_y: along y (rows); None or <= 0 means ``sigma``.
        border, border_value: as :func:`filter2d`.
        out: an array of the image's shape and dtype to write to.

    Returns:
        An array of the image's shape and dtype, in the image's kind, or ``out``.

    >>> img = np.zeros((5, 5), np.float32); img[2, 2] = 16
    >>> foveal.gaussian_blur(img, 3)[1:4, 2]
    array([2., 4., 2.], dtype=float32)
    """
    fn = "gaussian_blur"
    arr, kind, border, values = _prepare(fn, image, border, border_value)
    kh, kw = _gaussian_ksize(ksize, fn)
    sx = val.as_number(sigma, fn, "sigma")
    sy = sx if sigma_y is None else val.as_number(sigma_y, fn, "sigma_y")
    if sy <= 0:
        sy = sx
    if (kh == 0 and sy <= 0) or (kw == 0 and sx <= 0):
        raise ValueError(f"{fn}: ksize 0 needs sigma > 0 to derive it from")
    if max(sx, sy) > 1 << 16:
        raise ValueError(f"{fn}: sigma must be at most {1 << 16}, got {max(sx, sy)}")

    # A size of 0 is derived from its sigma by the kernel (and the fallback), as cv2 does.
    def fallback():
        return _cupy("gaussian_blur")(arr, (kh, kw), sx, sy, border, values)

    return dsp.run(
        fn,
        arr,
        kind,
        arr.dtype,
        out,
        lambda s, d: _core.gaussian_blur(s, d, kh, kw, sx, sy, border, values),
        fallback,
        gpu=lambda dev: _gpu_filters().gaussian_blur(
            dev, arr, (kh, kw), sx, sy, border, values, fallback
        ),
    )


def _derivative_orders(dx, dy, ksize, fn: str) -> tuple[int, int, int]:
    dx = val.as_int(dx, fn, "dx", minimum=0)
    dy = val.as_int(dy, fn, "dy", minimum=0)
    ksize = val.as_int(ksize, fn, "ksize")
    if ksize not in (-1, 1, 3, 5, 7):
        raise ValueError(f"{fn}: ksize must be 1, 3, 5, 7 or -1 (Scharr), got {ksize}")
    if dx + dy == 0:
        raise ValueError(f"{fn}: dx + dy must be > 0, got dx={dx}, dy={dy}")
    if ksize == -1 and (dx, dy) not in ((1, 0), (0, 1)):
        raise ValueError(
            f"{fn}: Scharr (ksize=-1) needs (dx, dy) = (1, 0) or (0, 1), got {(dx, dy)}"
        )
    limit = 3 if ksize == 1 else ksize
    for name, order in (("dx", dx), ("dy", dy)):
        if ksize > 0 and order >= limit:
            raise ValueError(f"{fn}: {name}={order} is too high for ksize={ksize}")
    return dx, dy, ksize


def _float_out(arr) -> np.dtype:
    return np.dtype(np.float64 if arr.dtype == np.float64 else np.float32)


def sobel(
    image: Array,
    dx: int,
    dy: int,
    *,
    ksize: int = 3,
    scale: float = 1.0,
    delta: float = 0.0,
    border: str = "reflect101",
    border_value: float | Sequence[float] = 0,
    dtype: DType | None = None,
    out: Array | None = None,
) -> Any:
    """The (dx, dy) image derivative, as ``cv2.Sobel(image, ddepth, dx, dy, ksize, scale, delta)``.

    The kernels are ``cv2.getDerivKernels(dx, dy, ksize)``; the result is the correlation times
    ``scale`` plus ``delta``.

    Args:
        image: as :func:`filter2d`.
        dx: the order of the derivative along x (columns), >= 0.
        dy: the order along y (rows), >= 0; dx + dy > 0, each below ksize (below 3 for ksize 1).
        ksize: 1, 3, 5, 7, or -1 for Scharr's 3x3 (then (dx, dy) is (1, 0) or (0, 1)); ksize 1
            is a 3-tap derivative with no smoothing.
        scale: the factor applied to the derivative.
        delta: a number added to the result.
        border, border_value, out: as :func:`filter2d`.
        dtype: the output dtype; default float32 (float64 for float64 images).

    Returns:
        An array of the image's shape and the output dtype, in the image's kind, or ``out``.

    >>> img = np.tile(np.arange(5, dtype=np.uint8) * 10, (3, 1))
    >>> foveal.sobel(img, 1, 0)[1]
    array([ 0., 80., 80., 80.,  0.], dtype=float32)
    """
    return _sobel("sobel", image, dx, dy, ksize, scale, delta, border, border_value, dtype, out)


def _sobel(fn, image, dx, dy, ksize, scale, delta, border, border_value, dtype, out):
    arr, kind, border, values = _prepare(fn, image, border, border_value)
    dx, dy, ksize = _derivative_orders(dx, dy, ksize, fn)
    scale = val.as_number(scale, fn, "scale")
    delta = val.as_number(delta, fn, "delta")
    dt = _output_dtype(dtype, _float_out(arr), fn)

    def fallback():
        return _cupy("sobel")(arr, dx, dy, ksize, scale, delta, border, values, dt)

    return dsp.run(
        fn,
        arr,
        kind,
        dt,
        out,
        lambda s, d: _core.sobel(s, d, dx, dy, ksize, scale, delta, border, values),
        fallback,
        gpu=lambda dev: _gpu_filters().sobel(
            dev, arr, dx, dy, ksize, scale, delta, border, values, dt, fallback
        ),
    )


def scharr(
    image: Array,
    dx: int,
    dy: int,
    *,
    scale: float = 1.0,
    delta: float = 0.0,
    border: str = "reflect101",
    border_value: float | Sequence[float] = 0,
    dtype: DType | None = None,
    out: Array | None = None,
) -> Any:
    """The Scharr derivative, as ``cv2.Scharr``: :func:`sobel` with ``ksize=-1``.

    Args:
        image, scale, delta, border, border_value, dtype, out: as :func:`sobel`.
        dx: the order along x, dy: the order along y; (dx, dy) is (1, 0) or (0, 1).

    Returns:
        An array of the image's shape, float32 (float64 for float64 images) unless ``dtype``
        says otherwise, in the image's kind, or ``out``.

    >>> img = np.tile(np.arange(5, dtype=np.float32), (3, 1))
    >>> foveal.scharr(img, 1, 0)[1]
    array([ 0., 32., 32., 32.,  0.], dtype=float32)
    """
    return _sobel("scharr", image, dx, dy, -1, scale, delta, border, border_value, dtype, out)


def gradient(
    image: Array,
    *,
    ksize: int = 3,
    angle_in_degrees: bool = False,
    border: str = "reflect101",
    border_value: float | Sequence[float] = 0,
    out: tuple[Array, Array] | None = None,
) -> tuple[Any, Any]:
    """Magnitude and direction of the image gradient, in one pass from pixels to both: as
    ``cv2.cartToPolar`` of two ``cv2.Sobel`` calls.

    gx = sobel(image, 1, 0, ksize), gy = sobel(image, 0, 1, ksize); magnitude = sqrt(gx^2 +
    gy^2), angle = atan2(gy, gx) in [0, 2 pi) (or [0, 360) degrees), 0 where gx = gy = 0, within
    1e-6 rad of the exact angle (cv2's is within about 0.3 degrees).

    Args:
        image: as :func:`filter2d`.
        ksize: 1, 3, 5, 7 or -1 (Scharr), as :func:`sobel`.
        angle_in_degrees: the angle in degrees instead of radians.
        border, border_value: as :func:`filter2d`.
        out: an optional (magnitude, angle) pair of arrays to write to.

    Returns:
        ``(magnitude, angle)``: two arrays of the image's shape, float32 (float64 for float64
        images), in the image's kind (or the two ``out`` arrays).

    >>> img = np.tile(np.arange(5, dtype=np.uint8), (5, 1))
    >>> mag, ang = foveal.gradient(img)
    >>> float(mag[2, 2]), float(ang[2, 2])
    (8.0, 0.0)
    """
    fn = "gradient"
    arr, kind, border, values = _prepare(fn, image, border, border_value)
    ksize = val.as_int(ksize, fn, "ksize")
    if ksize not in (-1, 1, 3, 5, 7):
        raise ValueError(f"{fn}: ksize must be 1, 3, 5, 7 or -1 (Scharr), got {ksize}")
    angle_in_degrees = val.as_bool(angle_in_degrees, fn, "angle_in_degrees")
    degrees = bool(angle_in_degrees)
    dt = _float_out(arr)
    if out is not None and (not isinstance(out, (tuple, list)) or len(out) != 2):
        raise TypeError(f"{fn}: out must be a (magnitude, angle) pair of arrays")
    outs = (None, None) if out is None else out
    mag_out, mag_t = dsp.output(fn, arr, dt, outs[0], "out[0]")
    ang_out, ang_t = dsp.output(fn, arr, dt, outs[1], "out[1]")
    if dsp.is_cupy(arr):
        from . import _gpu
        from ._gpu import gradients as gpu_gradients

        def fallback():
            return _cupy("gradient")(arr, ksize, degrees, border, values)

        dev = _gpu.device(arr, kind)
        if dev is None:
            mag_t, ang_t = fallback()
        else:
            with dev:
                mag_t, ang_t = gpu_gradients.gradient(
                    dev, arr, ksize, degrees, border, values, fallback
                )
    else:
        _core.gradient(dsp.kernel_input(arr), mag_t, ang_t, ksize, degrees, border, values)
    return (
        dsp.deliver(kind, outs[0], mag_out, mag_t),
        dsp.deliver(kind, outs[1], ang_out, ang_t),
    )


def canny(
    image: Array,
    low: float,
    high: float,
    *,
    ksize: int = 3,
    l2gradient: bool = False,
    out: Array | None = None,
) -> Any:
    """Edges by Canny's method, as ``cv2.Canny(image, low, high, apertureSize=ksize,
    L2gradient=l2gradient)``, bit for bit.

    The gradient is the int16 Sobel derivative (replicate border); its magnitude |dx| + |dy| (or
    sqrt(dx^2 + dy^2) with ``l2gradient``) is thinned to its maxima along the gradient's
    direction; maxima above ``high`` are edges, and so are maxima above ``low`` 8-connected to an
    edge (the thresholds are swapped if low > high).

    Args:
        image: uint8 (H, W) or (H, W, C) (per pixel, the channel with the largest gradient).
        low: the lower hysteresis threshold.
        high: the upper hysteresis threshold.
        ksize: the Sobel aperture, 3, 5 or 7.
        l2gradient: the L2 magnitude instead of the L1.
        out: a uint8 (H, W) array to write to.

    Returns:
        A uint8 (H, W) map of 0 and 255, in the image's kind, or ``out``.

    >>> img = np.zeros((8, 8), np.uint8); img[:, 4:] = 200
    >>> foveal.canny(img, 50, 150)[0]
    array([  0,   0,   0, 255,   0,   0,   0,   0], dtype=uint8)
    """
    fn = "canny"
    arr, kind = dsp.to_array(image, fn, "image", ("uint8",))
    val.check_image(arr, fn, "image", ("uint8",))
    lo = val.as_number(low, fn, "low")
    hi = val.as_number(high, fn, "high")
    ksize = val.as_int(ksize, fn, "ksize")
    if ksize not in (3, 5, 7):
        raise ValueError(f"{fn}: ksize must be 3, 5 or 7, got {ksize}")
    l2gradient = val.as_bool(l2gradient, fn, "l2gradient")
    l2 = bool(l2gradient)
    return dsp.run(
        fn,
        arr,
        kind,
        np.dtype(np.uint8),
        out,
        lambda s, d: _core.canny(s, d, lo, hi, ksize, l2),
        lambda: _cupy("canny")(arr, lo, hi, ksize, l2),
        shape=tuple(arr.shape[:2]),
    )

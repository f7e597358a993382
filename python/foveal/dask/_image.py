"""Morphology, filters, gradients and corner responses on Dask arrays.

Each function takes the arguments of its in-memory namesake (less ``out=``), checks them at
once by calling that function on a tiny sample, then maps it over the chunks with the halo its
kernel reaches (see ``_blocks``): the result equals the in-memory call on the whole array.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as val
from .. import filters as _filters
from .. import imgproc as _imgproc
from ..corners import harris as _harris
from ..corners import min_eigen as _min_eigen
from ._blocks import Reach, as_dask, halo_map, sample, split_fields

_COMPOSITE_PASSES = {"erode": 1, "dilate": 1, "gradient": 1, "open": 2, "close": 2}
_COMPOSITE_PASSES.update({"tophat": 2, "blackhat": 2})


def _window_reach(kh: int, kw: int, ay: int, ax: int, times: int = 1) -> Reach:
    """What a kh x kw window anchored at (ay, ax) reads, applied ``times`` times."""
    return ((times * ay, times * (kh - 1 - ay)), (times * ax, times * (kw - 1 - ax)))


def _square_reach(r: int) -> Reach:
    return ((r, r), (r, r))


def _run(block_fn, arr, reach: Reach, border: str, dtype, *, drop_channels: bool = False):
    return halo_map(
        block_fn,
        arr,
        reach,
        periodic=border == "wrap",
        dtype=np.dtype(dtype),
        drop_channels=drop_channels,
    )


# --------------------------------------------------------------------------------- morphology


def _morphology(fn: str, op: str, image, kernel, anchor, iterations, border, border_value):
    arr = as_dask(image, fn)
    args = dict(kernel=kernel, anchor=anchor, iterations=iterations, border=border)
    args["border_value"] = border_value

    def call(im):
        if fn == "morphology":
            return _imgproc.morphology(im, op, **args)
        return getattr(_imgproc, fn)(im, **args)

    call(sample(arr))  # the in-memory checks, with their messages
    mask = _imgproc._kernel_mask(kernel, fn)
    kh, kw = mask.shape
    ay, ax = val.anchor(anchor, kh, kw, fn)
    ay, ax = (kh // 2 if ay < 0 else ay), (kw // 2 if ax < 0 else ax)
    times = int(iterations) * _COMPOSITE_PASSES[op]
    canonical = val.border_name(border, fn, allow_default=True)
    return _run(call, arr, _window_reach(kh, kw, ay, ax, times), canonical, arr.dtype)


def erode(image, kernel=3, *, anchor=None, iterations=1, border="default", border_value=0):
    """Erosion of a Dask image, as :func:`foveal.erode` (``cv2.erode``'s numbers) on the
    whole array: each chunk is eroded with a halo of ``iterations`` times the kernel's reach.

    image: (H, W) or (H, W, C) Dask array of uint8, uint16, int16, float32, float64 or bool
    (the channels are kept in one chunk). The other arguments are :func:`foveal.erode`'s.
    Returns a lazy Dask array of the image's shape, dtype and chunks.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> foveal.dask.erode(img, 3).compute()[2, :4]
    array([10, 10, 11, 12], dtype=uint8)
    """
    return _morphology("erode", "erode", image, kernel, anchor, iterations, border, border_value)


def dilate(image, kernel=3, *, anchor=None, iterations=1, border="default", border_value=0):
    """Dilation of a Dask image, as :func:`foveal.dilate` (``cv2.dilate``'s numbers) on the
    whole array; the arguments, shapes and dtypes are those of :func:`erode`.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> foveal.dask.dilate(img, 3).compute()[2, :4]
    array([31, 32, 33, 34], dtype=uint8)
    """
    return _morphology("dilate", "dilate", image, kernel, anchor, iterations, border, border_value)


def morphology(image, op, kernel=3, *, anchor=None, iterations=1, border="default", border_value=0):
    """A morphological operation on a Dask image, as :func:`foveal.morphology`
    (``cv2.morphologyEx``'s numbers): ``op`` "erode", "dilate", "open", "close", "gradient",
    "tophat" or "blackhat"; open, close, tophat and blackhat read twice the reach of one
    erosion or dilation. Shapes and dtypes as :func:`erode`.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> int(foveal.dask.morphology(img, "gradient", 3).max().compute())
    22
    """
    if not isinstance(op, str) or op.lower() not in _COMPOSITE_PASSES:
        _imgproc.morphology(np.zeros((1, 1), np.uint8), op)  # raises the in-memory error
    return _morphology(
        "morphology", op.lower(), image, kernel, anchor, iterations, border, border_value
    )


# ------------------------------------------------------------------------------------ filters


def _filter_args(border, border_value, dtype):
    return dict(border=border, border_value=border_value, dtype=dtype)


def filter2d(
    image, kernel, *, anchor=None, delta=0.0, border="reflect101", border_value=0, dtype=None
):
    """Correlation of a Dask image with ``kernel``, as :func:`foveal.filter2d`
    (``cv2.filter2D``'s numbers) on the whole array; the halo is the kernel's extent around
    its anchor. image: (H, W) or (H, W, C) of uint8, uint16, int16, float32 or float64; the
    result has ``dtype`` (default the image's).

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> foveal.dask.filter2d(img, np.ones((1, 3)) / 3).compute()[0, :4]
    array([1, 1, 2, 3], dtype=uint8)
    """
    fn = "filter2d"
    arr = as_dask(image, fn)
    args = dict(anchor=anchor, delta=delta, **_filter_args(border, border_value, dtype))
    k = _filters._real_kernel(kernel, fn, "kernel", 2)

    def call(im):
        return _filters.filter2d(im, k, **args)

    out = call(sample(arr))
    kh, kw = k.shape
    ay, ax = _filters._anchor(anchor, kh, kw, fn)
    return _run(call, arr, _window_reach(kh, kw, ay, ax), _border(border, fn), out.dtype)


def sep_filter2d(
    image,
    kernel_x,
    kernel_y,
    *,
    anchor=None,
    delta=0.0,
    border="reflect101",
    border_value=0,
    dtype=None,
):
    """Separable correlation of a Dask image, as :func:`foveal.sep_filter2d`
    (``cv2.sepFilter2D``'s numbers) on the whole array; arguments, shapes and dtypes as
    :func:`filter2d`.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> foveal.dask.sep_filter2d(img, [0, 1, 0], [0, 1, 0], dtype="int16").compute()[1, 1]
    np.int16(11)
    """
    fn = "sep_filter2d"
    arr = as_dask(image, fn)
    args = dict(anchor=anchor, delta=delta, **_filter_args(border, border_value, dtype))
    kx = _filters._real_kernel(kernel_x, fn, "kernel_x", 1)
    ky = _filters._real_kernel(kernel_y, fn, "kernel_y", 1)

    def call(im):
        return _filters.sep_filter2d(im, kx, ky, **args)

    out = call(sample(arr))
    ay, ax = _filters._anchor(anchor, ky.size, kx.size, fn)
    reach = _window_reach(ky.size, kx.size, ay, ax)
    return _run(call, arr, reach, _border(border, fn), out.dtype)


def box_filter(
    image,
    ksize,
    *,
    normalize=True,
    anchor=None,
    border="reflect101",
    border_value=0,
    dtype=None,
):
    """Box mean (or sum) of a Dask image, as :func:`foveal.box_filter` (``cv2.boxFilter``'s
    numbers) on the whole array; arguments, shapes and dtypes as :func:`filter2d`.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> int(foveal.dask.box_filter(img, 3).compute()[4, 4])
    44
    """
    fn = "box_filter"
    arr = as_dask(image, fn)
    args = dict(normalize=normalize, anchor=anchor, **_filter_args(border, border_value, dtype))

    def call(im):
        return _filters.box_filter(im, ksize, **args)

    out = call(sample(arr))
    kh, kw = val.as_pair(ksize, fn, "ksize", minimum=1)
    ay, ax = _filters._anchor(anchor, kh, kw, fn)
    return _run(call, arr, _window_reach(kh, kw, ay, ax), _border(border, fn), out.dtype)


def gaussian_blur(image, ksize, sigma=0.0, *, sigma_y=None, border="reflect101", border_value=0):
    """Gaussian smoothing of a Dask image, as :func:`foveal.gaussian_blur`
    (``cv2.GaussianBlur``'s kernels) on the whole array; a ``ksize`` of 0 is derived from
    sigma. image: (H, W) or (H, W, C) of uint8, uint16, int16, float32 or float64, result of
    the image's dtype.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> int(foveal.dask.gaussian_blur(img, 5, 1.0).compute()[4, 4])
    44
    """
    fn = "gaussian_blur"
    arr = as_dask(image, fn)

    def call(im):
        return _filters.gaussian_blur(
            im, ksize, sigma, sigma_y=sigma_y, border=border, border_value=border_value
        )

    out = call(sample(arr))
    kh, kw = val.as_pair(ksize, fn, "ksize", minimum=0)
    sx = float(sigma)
    sy = sx if sigma_y is None or float(sigma_y) <= 0 else float(sigma_y)
    # A size of 0 comes from sigma, as cv2 derives it: round(sigma * (3 or 4) * 2 + 1) | 1.
    kh = kh or (int(round(sy * 8 + 1)) | 1)
    kw = kw or (int(round(sx * 8 + 1)) | 1)
    reach = ((kh // 2, kh // 2), (kw // 2, kw // 2))
    return _run(call, arr, reach, _border(border, fn), out.dtype)


def _derivative_reach(ksize: int) -> int:
    """Rows (and columns) a Sobel / Scharr derivative reads on each side."""
    return 1 if ksize in (-1, 1) else ksize // 2


def sobel(
    image,
    dx,
    dy,
    *,
    ksize=3,
    scale=1.0,
    delta=0.0,
    border="reflect101",
    border_value=0,
    dtype=None,
):
    """The (dx, dy) derivative of a Dask image, as :func:`foveal.sobel` (``cv2.Sobel``'s
    numbers) on the whole array; ksize 1, 3, 5, 7 or -1 (Scharr). image: (H, W) or (H, W, C);
    the result is float32 (float64 for float64 images) unless ``dtype`` says otherwise.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> float(foveal.dask.sobel(img, 1, 0).compute()[4, 4])
    8.0
    """
    return _sobel("sobel", image, dx, dy, ksize, scale, delta, border, border_value, dtype)


def scharr(image, dx, dy, *, scale=1.0, delta=0.0, border="reflect101", border_value=0, dtype=None):
    """The Scharr derivative of a Dask image, as :func:`foveal.scharr` (``cv2.Scharr``):
    :func:`sobel` with ksize -1.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> float(foveal.dask.scharr(img, 0, 1).compute()[4, 4])
    320.0
    """
    return _sobel("scharr", image, dx, dy, -1, scale, delta, border, border_value, dtype)


def _sobel(fn, image, dx, dy, ksize, scale, delta, border, border_value, dtype):
    arr = as_dask(image, fn)
    args = dict(scale=scale, delta=delta, **_filter_args(border, border_value, dtype))
    if fn == "scharr":

        def call(im):
            return _filters.scharr(im, dx, dy, **args)

    else:

        def call(im):
            return _filters.sobel(im, dx, dy, ksize=ksize, **args)

    out = call(sample(arr))
    reach = _square_reach(_derivative_reach(int(ksize)))
    return _run(call, arr, reach, _border(border, fn), out.dtype)


def gradient(image, *, ksize=3, angle_in_degrees=False, border="reflect101", border_value=0):
    """Gradient magnitude and angle of a Dask image, as :func:`foveal.gradient` (two
    ``cv2.Sobel`` calls and ``cv2.cartToPolar``): two lazy float32 (float64 for float64
    images) arrays of the image's (H, W[, C]) shape, computed together in one pass per chunk.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> magnitude, angle = foveal.dask.gradient(img)
    >>> round(float(magnitude.compute()[4, 4]), 2)
    80.4
    """
    fn = "gradient"
    arr = as_dask(image, fn)
    args = dict(ksize=ksize, angle_in_degrees=angle_in_degrees, border=border)
    args["border_value"] = border_value
    mag, _ = _filters.gradient(sample(arr), **args)
    packed = np.dtype([("magnitude", mag.dtype), ("angle", mag.dtype)])

    def call(im):
        m, a = _filters.gradient(im, **args)
        both = np.empty(m.shape, packed)
        both["magnitude"], both["angle"] = m, a
        return both

    reach = _square_reach(_derivative_reach(int(ksize)))
    names = ("magnitude", "angle")
    return split_fields(_run(call, arr, reach, _border(border, fn), packed), names)


# ------------------------------------------------------------------------------------ corners


def _corner(fn: str, image, block_size, ksize, k, border):
    arr = as_dask(image, fn)
    if fn == "harris":

        def call(im):
            return _harris(im, block_size, ksize, k, border=border)

    else:

        def call(im):
            return _min_eigen(im, block_size, ksize, border=border)

    out = call(sample(arr))
    # The derivative's reach, then the block_size window's (anchored at its centre).
    reach = _square_reach(_derivative_reach(int(ksize)) + int(block_size))
    return _run(call, arr, reach, _border(border, fn), out.dtype)


def harris(image, block_size=2, ksize=3, k=0.04, *, border="reflect101"):
    """The Harris corner response of a Dask image, as :func:`foveal.harris`
    (``cv2.cornerHarris``'s numbers) on the whole array. image: (H, W) of uint8, uint16,
    int16, float32 or float64; the result is float32 (float64 for float64 images).

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> foveal.dask.harris(img).compute().shape
    (8, 10)
    """
    return _corner("harris", image, block_size, ksize, k, border)


def min_eigen(image, block_size=3, ksize=3, *, border="reflect101"):
    """The Shi-Tomasi response (smaller eigenvalue) of a Dask image, as
    :func:`foveal.min_eigen` (``cv2.cornerMinEigenVal``'s numbers) on the whole array; shapes
    and dtypes as :func:`harris`.

    >>> import dask.array as da
    >>> img = da.from_array(np.arange(80, dtype=np.uint8).reshape(8, 10), chunks=(3, 4))
    >>> bool(foveal.dask.min_eigen(img).compute().min() >= 0)
    True
    """
    return _corner("min_eigen", image, block_size, ksize, 0.0, border)


def _border(border, fn: str) -> str:
    return val.border_name(border, fn, allow_default=False)

"""Corner responses and corner detection: thin wrappers over the fused C++ kernels.

``harris`` and ``min_eigen`` follow cv2.cornerHarris and cv2.cornerMinEigenVal, computed from
pixels to response in one pass over row bands; ``corners`` follows cv2.goodFeaturesToTrack.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dispatch as dsp
from . import _validate as val
from ._backend import _core
from ._corner_selection import select
from ._typing import Array

__all__ = ["corners", "harris", "min_eigen"]

_METHODS = ("shi-tomasi", "harris")


def _prepare(fn, image, block_size, ksize, border):
    arr, kind = dsp.to_array(image, fn, "image", val.IMAGE_DTYPES)
    val.check_image(arr, fn, "image", val.IMAGE_DTYPES)
    if arr.ndim == 3 and arr.shape[2] != 1:
        raise ValueError(f"{fn}: image must have one channel, got shape {tuple(arr.shape)}")
    block_size = val.as_int(block_size, fn, "block_size", minimum=1, maximum=1 << 16)
    ksize = val.as_int(ksize, fn, "ksize")
    if ksize not in (-1, 1, 3, 5, 7):
        raise ValueError(f"{fn}: ksize must be 1, 3, 5, 7 or -1 (Scharr), got {ksize}")
    border = val.border_name(border, fn, allow_default=False)
    return arr, kind, block_size, ksize, border


def _gpu_response(method, arr, block_size, ksize, k, border, dt):
    """The CuPy fallback's response, shaped and typed as the native kernel's."""
    from ._cupy import corners as gpu
    from ._cupy.filters import modules

    xp, ndi = modules()
    img2 = arr[:, :, 0] if arr.ndim == 3 else arr
    if method == "harris":
        res = gpu.harris(xp, ndi, img2, block_size, ksize, k, border)
    else:
        res = gpu.min_eigen(xp, ndi, img2, block_size, ksize, border)
    return res.reshape(arr.shape).astype(dt, copy=False)


def _response(fn, method, image, block_size, ksize, k, border, out):
    arr, kind, block_size, ksize, border = _prepare(fn, image, block_size, ksize, border)
    dt = np.dtype(np.float64 if arr.dtype == np.float64 else np.float32)

    def fallback():
        return _gpu_response(method, arr, block_size, ksize, k, border, dt)

    def gpu(dev):
        from ._gpu import gradients

        return gradients.corner_response(
            dev, method, arr, block_size, ksize, k, border, dt, fallback
        )

    return dsp.run(
        fn,
        arr,
        kind,
        dt,
        out,
        lambda s, d: _core.corner_response(method, s, d, block_size, ksize, k, border),
        fallback,
        gpu=gpu,
    )


def harris(
    image: Array,
    block_size: int = 2,
    ksize: int = 3,
    k: float = 0.04,
    *,
    border: str = "reflect101",
    out: Array | None = None,
) -> Any:
    """The Harris corner response, as ``cv2.cornerHarris(image, block_size, ksize, k)``.

    With gx, gy the Sobel derivatives scaled as cv2 does (1 / (2^(ksize - 1) block_size), and
    1/255 more for uint8), and a, b, c the sums of gx^2, gx gy, gy^2 over block_size x block_size
    windows, the response is a c - b^2 - k (a + c)^2. Fused: pixels to response in one pass over
    row bands, with no full-size intermediate.

    Args:
        image: (H, W) or (H, W, 1) array of uint8, uint16, int16, float32 or float64 (NumPy,
            CuPy, torch or any DLPack object).
        block_size: the side of the summing window, >= 1.
        ksize: the Sobel aperture, 1, 3, 5, 7 or -1 (Scharr).
        k: Harris's free parameter.
        border: "reflect101" (default), "reflect", "replicate", "wrap" or "constant" (zeros).
        out: an array of the result's shape and dtype to write to.

    Returns:
        An array of the image's shape, float32 (float64 for float64 images), in the image's
        kind, or ``out``.

    >>> img = np.zeros((9, 9), np.float32); img[4:, 4:] = 1
    >>> r = foveal.harris(img)
    >>> tuple(int(i) for i in np.unravel_index(np.argmax(r), r.shape))  # as cv2.cornerHarris
    (5, 5)
    """
    fn = "harris"
    return _response(fn, "harris", image, block_size, ksize, val.as_number(k, fn, "k"), border, out)


def min_eigen(
    image: Array,
    block_size: int = 3,
    ksize: int = 3,
    *,
    border: str = "reflect101",
    out: Array | None = None,
) -> Any:
    """The smaller eigenvalue of the gradient's structure tensor (Shi-Tomasi), as
    ``cv2.cornerMinEigenVal(image, block_size, ksize)``: (a + c) / 2 - sqrt(((a - c) / 2)^2 +
    b^2) with a, b, c as in :func:`harris`.

    Args:
        image, block_size, ksize, border, out: as :func:`harris`.

    Returns:
        An array of the image's shape, float32 (float64 for float64 images), in the image's
        kind, or ``out``.

    >>> img = np.zeros((9, 9), np.float32); img[4:, 4:] = 1
    >>> bool(foveal.min_eigen(img)[4, 4] > 0)
    True
    """
    return _response("min_eigen", "min_eigen", image, block_size, ksize, 0.0, border, out)


def corners(
    image: Array,
    max_corners: int,
    quality_level: float = 0.01,
    min_distance: float = 10,
    *,
    block_size: int = 3,
    ksize: int = 3,
    method: str = "shi-tomasi",
    k: float = 0.04,
    mask: Array | None = None,
) -> Any:
    """The strongest corners, as ``cv2.goodFeaturesToTrack``.

    The response is :func:`min_eigen` ("shi-tomasi") or :func:`harris` ("harris") with the
    reflect101 border; corners are its 3x3 local maxima above quality_level times its maximum,
    off the outermost rows and columns and inside ``mask``, taken strongest first unless a kept
    corner lies closer than ``min_distance``. Ties in the response are ordered as cv2 orders them
    (later pixels first); responses equal to cv2's to the last bit give cv2's corners exactly.

    Args:
        image: as :func:`harris` (one channel).
        max_corners: the most corners returned; <= 0 means no limit.
        quality_level: the fraction (> 0) of the strongest response a corner must exceed.
        min_distance: the least Euclidean distance between returned corners, >= 0.
        block_size, ksize: as :func:`harris`.
        method: "shi-tomasi" or "harris".
        k: Harris's parameter (method "harris").
        mask: None, or an integer or bool (H, W) array: corners only where it is nonzero.

    Returns:
        An (N, 2) float32 array of (x, y) positions, strongest first, in the image's kind.

    >>> img = np.zeros((32, 32), np.uint8); img[8:24, 8:24] = 255
    >>> foveal.corners(img, 4, 0.1, 5).tolist()
    [[23.0, 23.0], [8.0, 23.0], [23.0, 8.0], [8.0, 8.0]]
    """
    fn = "corners"
    if not isinstance(method, str):
        raise TypeError(f"{fn}: method must be a string, got {type(method).__name__}")
    if method.lower() not in _METHODS:
        raise ValueError(f"{fn}: method must be one of {', '.join(_METHODS)}; got {method!r}")
    max_corners = val.as_int(max_corners, fn, "max_corners")
    for name, v in (("quality_level", quality_level), ("min_distance", min_distance)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
            raise TypeError(f"{fn}: {name} must be a number, got {type(v).__name__}")
        if not np.isfinite(float(v)) or float(v) < 0:
            raise ValueError(f"{fn}: {name} must be finite and >= 0, got {v}")
    if float(quality_level) <= 0:
        raise ValueError(f"{fn}: quality_level must be > 0, got {quality_level}")
    arr, kind = dsp.to_array(image, fn, "image", val.IMAGE_DTYPES)
    val.check_image(arr, fn, "image", val.IMAGE_DTYPES)
    host_mask = None
    if mask is not None:
        host_mask = dsp.to_host(mask, fn, "mask")
        if host_mask.shape != tuple(arr.shape[:2]):
            raise ValueError(
                f"{fn}: mask must have shape {tuple(arr.shape[:2])}, got {host_mask.shape}"
            )
        if host_mask.dtype.kind not in "biu":
            raise TypeError(f"{fn}: mask must be an integer or bool array, got {host_mask.dtype}")
    method = method.lower()
    resp = _response(
        fn,
        "harris" if method == "harris" else "min_eigen",
        arr,
        block_size,
        ksize,
        val.as_number(k, fn, "k"),
        "reflect101",
        None,
    )
    resp = dsp.to_host(resp, fn, "image")
    if resp.ndim == 3:
        resp = resp[:, :, 0]
    pts = select(resp, max_corners, float(quality_level), float(min_distance), host_mask)
    if dsp.is_cupy(arr):
        import cupy

        return kind.wrap(cupy.asarray(pts))
    return kind.wrap(pts)

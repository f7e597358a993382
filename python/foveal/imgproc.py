"""Image functions: the thin layer that validates, normalizes, dispatches and wraps.

Morphology follows cv2.erode / cv2.dilate / cv2.morphologyEx number for number, with NumPy's
conventions for sizes: a kernel size and an anchor are (rows, cols), where OpenCV writes
(width, height) and (x, y). Two deliberate differences: a scalar ``border_value`` applies to
every channel (cv2's binding reads a scalar v as (v, 0, 0, 0); pass a tuple for that), and NaN
propagates through min and max as in NumPy and torch (OpenCV's result depends on where in the
window the NaN sits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _dispatch as dsp
from . import _validate as val
from ._backend import _core
from ._typing import Array, ArrayOrList, Size

__all__ = ["dilate", "erode", "morphology", "structuring_element"]

_SHAPES = ("rect", "ellipse", "cross")
_OPS = ("erode", "dilate", "open", "close", "gradient", "tophat", "blackhat")
_MAX_KSIZE = 1 << 16
_MAX_KERNEL_ELEMENTS = 1 << 26
_MAX_ITERATIONS = 1 << 16


def structuring_element(
    shape: str, ksize: Size, anchor: tuple[int, int] | None = None
) -> npt.NDArray[np.uint8]:
    """A 0/1 structuring element of ``shape``, as ``cv2.getStructuringElement``.

    Args:
        shape: "rect", "ellipse" or "cross" (any case).
        ksize: the mask's size, an int k (k x k) or (rows, cols); OpenCV writes (width, height).
        anchor: (row, col); it only places the bars of a cross (default: the centre).

    Returns:
        A (rows, cols) uint8 NumPy array of 0 and 1.

    >>> foveal.structuring_element("cross", 3)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]], dtype=uint8)
    """
    fn = "structuring_element"
    if not isinstance(shape, str):
        raise TypeError(f"{fn}: shape must be a string, got {type(shape).__name__}")
    if shape.lower() not in _SHAPES:
        raise ValueError(f"{fn}: shape must be one of {', '.join(_SHAPES)}; got {shape!r}")
    h, w = val.as_pair(ksize, fn, "ksize", minimum=1, maximum=_MAX_KSIZE)
    ay, ax = val.anchor(anchor, h, w, fn)
    return _core.structuring_element(shape.lower(), h, w, ay, ax)


def _check_kernel_size(h: int, w: int, fn: str) -> None:
    if h * w > _MAX_KERNEL_ELEMENTS:
        raise ValueError(
            f"{fn}: kernel of {h}x{w} is too large (at most {_MAX_KERNEL_ELEMENTS} elements)"
        )


def _kernel_mask(kernel, fn: str) -> np.ndarray:
    """An int k (k x k rectangle), a (rows, cols) pair (rectangle) or any 0/1 array."""
    if kernel is None:
        kernel = 3
    if isinstance(kernel, (tuple, list)) and any(isinstance(k, (tuple, list)) for k in kernel):
        kernel = np.asarray(kernel)  # a nested list is a mask
    if isinstance(kernel, (int, np.integer, tuple, list)) and not isinstance(kernel, bool):
        h, w = val.as_pair(kernel, fn, "kernel", minimum=1, maximum=_MAX_KSIZE)
        _check_kernel_size(h, w, fn)
        return np.ones((h, w), np.uint8)
    mask = dsp.to_host(kernel, fn, "kernel")
    if mask.ndim != 2:
        raise ValueError(f"{fn}: kernel must be 2-D, got {mask.ndim}-D shape {mask.shape}")
    if mask.size == 0:
        raise ValueError(f"{fn}: kernel must not be empty, got shape {mask.shape}")
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: kernel must be a 0/1 array, got dtype {mask.dtype}")
    if mask.dtype.kind == "f" and np.isnan(mask).any():
        raise ValueError(f"{fn}: kernel must not contain NaN")
    _check_kernel_size(mask.shape[0], mask.shape[1], fn)
    mask = np.ascontiguousarray(mask != 0, dtype=np.uint8)
    if not mask.any():
        raise ValueError(f"{fn}: kernel must have at least one non-zero element")
    return mask


def _run(fn, op, image, kernel, anchor, iterations, border, border_value, out):
    arr, kind = dsp.to_array(image, fn, "image")
    val.check_image(arr, fn, "image", val.IMAGE_DTYPES_BOOL)
    mask = _kernel_mask(kernel, fn)
    ay, ax = val.anchor(anchor, mask.shape[0], mask.shape[1], fn)
    iterations = val.as_int(iterations, fn, "iterations", minimum=0, maximum=_MAX_ITERATIONS)
    if mask.all() and max(mask.shape) > 1:
        # A rectangle's iterations become one larger rectangle; keep it a sane size.
        grown = (iterations * (mask.shape[0] - 1) + 1, iterations * (mask.shape[1] - 1) + 1)
        if max(grown) > 1 << 24:
            raise ValueError(
                f"{fn}: iterations={iterations} grow the {mask.shape[0]}x{mask.shape[1]} "
                f"kernel to {grown[0]}x{grown[1]}, more than {1 << 24} per side"
            )
    border = val.border_name(border, fn, allow_default=True)
    channels = arr.shape[2] if arr.ndim == 3 else 1
    values = val.border_values(border_value, channels, arr.dtype, fn)
    binary = arr.dtype == np.bool_
    view = (lambda a: a.view(np.uint8)) if binary else (lambda a: a)

    def fallback():
        from ._cupy import morphology as cupy_morph

        return cupy_morph.morphology(op, arr, mask, (ay, ax), iterations, border, values)

    def gpu(dev):
        from ._gpu import morphology as gpu_morph

        return gpu_morph.morphology(dev, op, arr, mask, (ay, ax), iterations, border, values)

    return dsp.run(
        fn,
        arr,
        kind,
        arr.dtype,
        out,
        lambda s, d: _core.morphology(
            op, view(s), view(d), mask, ay, ax, iterations, border, values, binary
        ),
        fallback,
        gpu=gpu,
    )


def erode(
    image: Array,
    kernel: Size | ArrayOrList = 3,
    *,
    anchor: tuple[int, int] | None = None,
    iterations: int = 1,
    border: str = "default",
    border_value: float | Sequence[float] = 0,
    out: Array | None = None,
) -> Any:
    """Erosion: each pixel becomes the minimum of its neighbourhood under ``kernel``, as
    ``cv2.erode(image, kernel, anchor=(x, y), iterations=..., borderType=...)``.

    Args:
        image: (H, W) or (H, W, C) array of uint8, uint16, int16, float32, float64 or bool
            (NumPy, CuPy, torch or any DLPack object). Channels are processed independently.
        kernel: an int k (k x k rectangle), a (rows, cols) pair (rectangle), or a 2-D 0/1 array
            such as ``structuring_element("ellipse", 5)`` (nonzero entries take part).
        anchor: (row, col) of the kernel's reference point; default the centre.
        iterations: how many times to apply it (0 copies the image).
        border: "default" (the outside never wins), "constant" (``border_value``), "replicate",
            "reflect", "reflect101" or "wrap" ("nearest" and "mirror" are scipy's names for
            replicate and reflect101).
        border_value: the constant border, a scalar (every channel) or one value per channel.
        out: an array of the image's shape and dtype to write to (it may be the image itself).

    Returns:
        An array of the image's shape and dtype, in the image's kind (NumPy, CuPy or torch), or
        ``out``. NaN propagates (any NaN in the window gives NaN).

    >>> img = np.zeros((5, 5), np.uint8); img[1:4, 1:4] = 9
    >>> int(foveal.erode(img, 3)[2, 2]), int(foveal.erode(img, 3)[1, 1])
    (9, 0)
    """
    return _run("erode", "erode", image, kernel, anchor, iterations, border, border_value, out)


def dilate(
    image: Array,
    kernel: Size | ArrayOrList = 3,
    *,
    anchor: tuple[int, int] | None = None,
    iterations: int = 1,
    border: str = "default",
    border_value: float | Sequence[float] = 0,
    out: Array | None = None,
) -> Any:
    """Dilation: each pixel becomes the maximum of its neighbourhood under ``kernel``, as
    ``cv2.dilate``.

    Args:
        image, kernel, anchor, iterations, border, border_value, out: as :func:`erode`.

    Returns:
        An array of the image's shape and dtype, in the image's kind, or ``out``.

    >>> img = np.zeros((5, 5), np.uint8); img[2, 2] = 7
    >>> foveal.dilate(img, foveal.structuring_element("cross", 3))[1:4, 1:4]
    array([[0, 7, 0],
           [7, 7, 7],
           [0, 7, 0]], dtype=uint8)
    """
    return _run("dilate", "dilate", image, kernel, anchor, iterations, border, border_value, out)


def morphology(
    image: Array,
    op: str,
    kernel: Size | ArrayOrList = 3,
    *,
    anchor: tuple[int, int] | None = None,
    iterations: int = 1,
    border: str = "default",
    border_value: float | Sequence[float] = 0,
    out: Array | None = None,
) -> Any:
    """A morphological operation, as ``cv2.morphologyEx``.

    Args:
        image: as :func:`erode`.
        op: "erode", "dilate", "open" (erode then dilate), "close" (dilate then erode),
            "gradient" (dilate - erode), "tophat" (image - open) or "blackhat" (close - image);
            integer differences saturate as in OpenCV. Each erode and dilate runs ``iterations``
            times.
        kernel, anchor, iterations, border, border_value, out: as :func:`erode`.

    Returns:
        An array of the image's shape and dtype, in the image's kind, or ``out``.

    >>> img = np.zeros((7, 7), np.uint8); img[3, 3] = 5   # a speck
    >>> int(foveal.morphology(img, "open", 3).max())       # opening removes it
    0
    """
    if not isinstance(op, str):
        raise TypeError(f"morphology: op must be a string, got {type(op).__name__}")
    if op.lower() not in _OPS:
        raise ValueError(f"morphology: op must be one of {', '.join(_OPS)}; got {op!r}")
    return _run(
        "morphology", op.lower(), image, kernel, anchor, iterations, border, border_value, out
    )


# The other image families live in their own modules; foveal.imgproc is the namespace of all.
from .corners import corners, harris, min_eigen  # noqa: E402
from .filters import (  # noqa: E402
    box_filter,
    canny,
    filter2d,
    gaussian_blur,
    gradient,
    scharr,
    sep_filter2d,
    sobel,
)
from .frequency import bandpass, spectrum  # noqa: E402

__all__ += [
    "bandpass",
    "box_filter",
    "canny",
    "corners",
    "harris",
    "min_eigen",
    "spectrum",
    "filter2d",
    "gaussian_blur",
    "gradient",
    "scharr",
    "sep_filter2d",
    "sobel",
]

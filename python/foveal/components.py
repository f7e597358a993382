"""Connected components with cv2.connectedComponentsWithStats's labels and statistics.

:func:`label` numbers the 4- or 8-connected regions of the nonzero pixels in OpenCV's order
(8-connectivity: the raster order of each region's first 2x2 block, as OpenCV's block-based
labelling gives them; 4-connectivity: the raster order of its first pixel). It works on runs of
pixels: runs are found a word at a time, joined by union-find in parallel stripes of rows, and
the statistics are gathered per run while the labels are written.

The kernels run on the CPU: CuPy input is copied to the host and the labels copied back.

>>> import foveal, numpy as np
>>> img = np.array([[1, 1, 0, 0], [0, 0, 0, 1], [1, 0, 1, 1]], np.uint8)
>>> labels, count = foveal.label(img)
>>> labels
array([[1, 1, 0, 0],
       [0, 0, 0, 2],
       [3, 0, 2, 2]], dtype=int32)
>>> stats, centroids = foveal.component_stats(labels)
>>> stats[2]  # left, top, width, height, area
array([2, 1, 2, 2, 3], dtype=int32)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _dispatch as dsp
from . import _validate as val
from ._backend import _core
from ._binary import host_binary
from ._typing import Array

__all__ = ["component_stats", "label"]


def _labels_out(out, shape, on_device: bool, binary, fn: str):
    """(``out`` as an array or None, the host int32 array the kernel writes)."""
    if out is None:
        return None, dsp.new_array(shape, np.int32)
    out_arr, _ = dsp.to_array(out, fn, "out", ("int32",), output=True)
    val.check_out(out_arr, shape, np.dtype(np.int32), fn)
    if dsp.is_cupy(out_arr) != on_device:
        raise TypeError(f"{fn}: out must live on the same device as binary")
    if on_device or not dsp.rows_contiguous(out_arr) or np.may_share_memory(out_arr, binary):
        return out_arr, dsp.new_array(shape, np.int32)
    return out_arr, out_arr


def label(
    binary: Array,
    connectivity: int = 8,
    *,
    return_stats: bool = False,
    out: Array | None = None,
) -> tuple[Any, ...]:
    """Label the connected regions of the nonzero pixels of ``binary``, as
    ``cv2.connectedComponentsWithStats(binary, connectivity=connectivity)``.

    Args:
        binary: (H, W) array of any image dtype or bool; nonzero pixels are foreground. CuPy
            input is copied to the host and the labels copied back.
        connectivity: 8 (diagonal neighbours touch) or 4.
        return_stats: also return the tables of :func:`component_stats`, computed in the same
            pass.
        out: an int32 (H, W) array to write the labels to.

    Returns:
        ``(labels, count)``: int32 (H, W) labels in the input's kind (or ``out``), 0 for the
        background and 1..count for the regions in OpenCV's order, and the number of regions
        (cv2's ``n`` is count + 1). With ``return_stats``: ``(labels, count, stats,
        centroids)``, the last two NumPy arrays as :func:`component_stats` gives them
        (background first).

    >>> foveal.label(np.eye(3, dtype=bool), connectivity=4)[1]
    3
    """
    fn = "label"
    arr, kind, on_device = host_binary(binary, fn)
    conn = val.as_int(connectivity, fn, "connectivity")
    if conn not in (4, 8):
        raise ValueError(f"{fn}: connectivity must be 4 or 8, got {conn}")
    return_stats = val.as_bool(return_stats, fn, "return_stats")
    out_arr, target = _labels_out(out, arr.shape, on_device, arr, fn)
    count, *tables = _core.label(arr, conn, target, return_stats)
    labels = target
    if on_device:
        labels = dsp._cupy().asarray(target)
    labels = dsp.deliver(kind, out, out_arr, labels)
    return (labels, count, *tables) if return_stats else (labels, count)


def component_stats(labels: Array) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """The statistics of every label 0..labels.max() of a label image, as the last two results of
    ``cv2.connectedComponentsWithStats``.

    Args:
        labels: (H, W) non-negative integers (any integer dtype up to 64 bits; :func:`label`'s
            int32 is read in place).

    Returns:
        ``(stats, centroids)``, NumPy arrays for every input kind: int32 (n, 5) rows [left, top,
        width, height, area] and float64 (n, 2) rows [x, y], the mean position of the label's
        pixels, for n = labels.max() + 1 labels (label 0 included). A label with no pixels has
        stats [-1, -1, 0, 0, 0] and centroid NaN (cv2 gives an empty background [-1,
        2147483647, 0, 0, 0]).

    >>> foveal.component_stats(np.array([[0, 2, 2]]))[0]
    array([[ 0,  0,  1,  1,  1],
           [-1, -1,  0,  0,  0],
           [ 1,  0,  2,  1,  2]], dtype=int32)
    """
    fn = "component_stats"
    arr, _ = dsp.to_array(labels, fn, "labels", ("int8", "int16", "int32", "int64", "uint8"))
    if dsp.is_cupy(arr):
        arr = arr.get()
    if arr.dtype.kind not in "iu" or arr.dtype == np.uint64:
        raise TypeError(
            f"{fn}: labels dtype {arr.dtype} is not supported (an integer dtype up to 64 bits)"
        )
    if arr.ndim != 2:
        raise ValueError(f"{fn}: labels must be 2-D (H, W), got shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise ValueError(f"{fn}: labels must not be empty, got shape {tuple(arr.shape)}")
    if arr.dtype != np.int32:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0:
            raise ValueError(f"{fn}: labels must be >= 0, got {lo}")
        if hi > np.iinfo(np.int32).max:
            raise ValueError(f"{fn}: labels must be < 2**31, got {hi}")
        arr = arr.astype(np.int32)
    return _core.component_stats(dsp.kernel_input(arr))

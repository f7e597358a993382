"""label and Canny on Dask arrays, through the cross-chunk components of ``_components``.

label numbers the components in OpenCV's order, as the in-memory call does: by the raster
position of each component's first pixel (4-connectivity) or of its first 2x2 block on the
even grid (8-connectivity). Each chunk measures that key for its pieces of the components in
whole-array coordinates; a component's key is the smallest over its pieces, and sorting the
keys gives the numbering. The statistics (bounding box, area, centroid) are combined the same
way, from integer sums, so they are those of the whole-array call.

Canny's thinning is local (the Sobel derivative and its neighbours' magnitudes), but its
hysteresis is not: an edge may run across the whole image. So each chunk, with a halo, gives
the maxima above ``low`` (every candidate: ``canny(image, low, low)``) and those above
``high`` (``canny(image, high, high)``); the edges are the candidates' 8-connected components
that hold a maximum above ``high``, found across chunks.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import _validate as val
from ..components import label as _label_in_memory
from ..filters import canny as _canny_in_memory
from ._blocks import as_dask, halo_map, sample, task_threads
from ._components import connected

_FAR = np.iinfo(np.int64).max


def _binary_2d(binary, fn: str):
    arr = as_dask(binary, fn, "binary")
    _label_in_memory(sample(arr))  # dtype and rank checks, with the in-memory messages
    return arr


def _order_measure(labels, count, stats, centroids, origin, shape, extra, *, key, with_stats):
    """Per local label: its order key in whole-array coordinates (``key`` "pixel": the raster
    index of its first pixel, OpenCV's order for 4-connectivity; "block": that of its first
    2x2 block on the even grid, OpenCV's order for 8-connectivity) and, with ``with_stats``,
    bounding box, area and coordinate sums."""
    y0, x0 = origin
    width = shape[1]
    top = stats[:, 1].astype(np.int64)
    rows = np.arange(labels.shape[0], dtype=np.int64)[:, None] + y0
    cols = np.arange(labels.shape[1], dtype=np.int64)[None, :] + x0
    fg = labels > 0
    if key == "pixel":  # the first pixel: the leftmost of the top row
        lead = top + y0
        on_lead = fg & (rows == lead[labels])
        xs = np.broadcast_to(cols, labels.shape)[on_lead]
        row_key = lead * width
    else:  # the first 2x2 block of the even grid: the leftmost in the top pair of rows
        lead = (top + y0) // 2
        on_lead = fg & (rows // 2 == lead[labels])
        xs = np.broadcast_to(cols, labels.shape)[on_lead] // 2
        row_key = lead * ((width + 1) // 2)
    first_x = np.full(count + 1, _FAR, np.int64)
    np.minimum.at(first_x, labels[on_lead], xs)
    order = np.where(first_x < _FAR, row_key + first_x, _FAR)
    order[0] = _FAR
    out = {"key": order}
    if with_stats:
        area = stats[:, 4].astype(np.int64)
        present = area > 0
        left = stats[:, 0].astype(np.int64) + x0
        top_g = stats[:, 1].astype(np.int64) + y0
        out["left"] = np.where(present, left, _FAR)
        out["top"] = np.where(present, top_g, _FAR)
        out["right"] = np.where(present, left + stats[:, 2] - 1, -1)
        out["bottom"] = np.where(present, top_g + stats[:, 3] - 1, -1)
        out["area"] = area
        # The coordinate sums are integers: recover them exactly from the local means.
        with np.errstate(invalid="ignore"):
            sx = np.where(present, np.rint(centroids[:, 0] * area), 0).astype(np.int64)
            sy = np.where(present, np.rint(centroids[:, 1] * area), 0).astype(np.int64)
        out["sum_x"] = sx + x0 * area
        out["sum_y"] = sy + y0 * area
    return out


_STATS_OPS = {"left": "min", "top": "min", "right": "max", "bottom": "max"}
_STATS_OPS.update({"area": "sum", "sum_x": "sum", "sum_y": "sum"})


def _stats_table(measures, ids):
    """cv2's (n, 5) stats and (n, 2) centroids for the components ``ids`` (0: background)."""
    area = measures["area"][ids]
    present = area > 0
    left = np.where(present, measures["left"][ids], -1)
    top = np.where(present, measures["top"][ids], -1)
    width = np.where(present, measures["right"][ids] - left + 1, 0)
    height = np.where(present, measures["bottom"][ids] - top + 1, 0)
    stats = np.stack([left, top, width, height, area], axis=1).astype(np.int32)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.where(present, measures["sum_x"][ids] / area, np.nan)
        cy = np.where(present, measures["sum_y"][ids] / area, np.nan)
    return stats, np.stack([cx, cy], axis=1)


def _order_finalize(components, *, with_stats):
    roots = components.roots()
    order = roots[np.argsort(components.measures["key"][roots], kind="stable")]
    rank = np.zeros(components.root.size, np.int32)
    rank[order] = np.arange(1, order.size + 1, dtype=np.int32)
    table = rank[components.root]
    table[0] = 0
    tables = [components.local(table, b) for b in range(components.counts.size)]
    if not with_stats:
        return tables, (order.size,)
    stats, centroids = _stats_table(components.measures, np.concatenate([[0], order]))
    return tables, (order.size, stats, centroids)


def label(binary, connectivity=8, *, return_stats=False):
    """:func:`foveal.label` on a 2-D Dask array: components that span chunks get one label,
    numbered in OpenCV's order as the in-memory call numbers them.

    binary: (H, W) Dask array of any image dtype or bool (nonzero is foreground);
    connectivity 8 or 4, as ``cv2.connectedComponentsWithStats``. Returns ``(labels, count)``
    as Dask arrays (int32 labels with ``binary``'s chunks, and a 0-d count); with
    ``return_stats``, ``(labels, count, stats, centroids)`` with the tables of
    :func:`foveal.component_stats` as Dask arrays of unknown length (``count + 1`` rows).

    >>> import dask, dask.array as da
    >>> img = da.from_array(np.eye(6, dtype=np.uint8), chunks=2)
    >>> labels, count = foveal.dask.label(img)
    >>> int(count.compute()), int(labels.max().compute())
    (1, 1)
    >>> int(foveal.dask.label(img, 4)[1].compute())
    6
    """
    import dask.array as da

    fn = "label"
    arr = _binary_2d(binary, fn)
    conn = val.as_int(connectivity, fn, "connectivity")
    if conn not in (4, 8):
        raise ValueError(f"{fn}: connectivity must be 4 or 8, got {conn}")
    with_stats = val.as_bool(return_stats, fn, "return_stats")
    ops = {"key": "min", **(_STATS_OPS if with_stats else {})}
    labels, result = connected(
        arr,
        conn,
        partial(_order_measure, key="pixel" if conn == 4 else "block", with_stats=with_stats),
        ops,
        partial(_order_finalize, with_stats=with_stats),
        np.int32,
        threads=task_threads(arr.npartitions),
    )
    count = da.from_delayed(result[0], (), dtype=np.int64)
    if not with_stats:
        return labels, count
    stats = da.from_delayed(result[1], (np.nan, 5), dtype=np.int32)
    centroids = da.from_delayed(result[2], (np.nan, 2), dtype=np.float64)
    return labels, count, stats, centroids


# ---------------------------------------------------------------------------------- Canny

_CANDIDATE, _STRONG = 1, 2


def _canny_maps(image, low, high, ksize, l2gradient):
    """1 for every thinned maximum above ``low``, 3 for those also above ``high``."""
    candidates = _canny_in_memory(image, low, low, ksize=ksize, l2gradient=l2gradient)
    strong = _canny_in_memory(image, high, high, ksize=ksize, l2gradient=l2gradient)
    return ((candidates != 0) * _CANDIDATE | (strong != 0) * _STRONG).astype(np.uint8)


def _strong_measure(labels, count, stats, centroids, origin, shape, extra):
    held = np.zeros(count + 1, np.uint8)
    maps = np.asarray(extra)
    held[labels[(maps & _STRONG != 0) & (labels > 0)]] = 1
    return {"strong": held}


def _edges_finalize(components):
    table = np.where(components.measures["strong"][components.root] > 0, 255, 0).astype(np.uint8)
    table[0] = 0
    return [components.local(table, b) for b in range(components.counts.size)], None


def canny(image, low, high, *, ksize=3, l2gradient=False):
    """Canny edges of a Dask image, as :func:`foveal.canny` (``cv2.Canny``'s edge map, bit
    for bit) on the whole array, hysteresis included across chunks.

    image: (H, W) or (H, W, C) uint8 Dask array; returns a lazy uint8 (H, W) map of 0 and 255.

    >>> import dask.array as da
    >>> step = np.zeros((8, 8), np.uint8); step[:, 4:] = 200
    >>> foveal.dask.canny(da.from_array(step, chunks=3), 50, 150).compute()[0]
    array([  0,   0,   0, 255,   0,   0,   0,   0], dtype=uint8)
    """
    fn = "canny"
    arr = as_dask(image, fn)
    _canny_in_memory(sample(arr), low, high, ksize=ksize, l2gradient=l2gradient)
    lo, hi = float(low), float(high)
    if lo > hi:
        lo, hi = hi, lo
    k = int(ksize)
    maps = halo_map(
        lambda im: _canny_maps(im, lo, hi, k, l2gradient),
        arr,
        ((k // 2 + 1,) * 2, (k // 2 + 1,) * 2),  # the derivative, then the thinning's neighbours
        periodic=False,
        dtype=np.dtype(np.uint8),
        drop_channels=True,
    )
    candidates = maps.map_blocks(lambda m: m & _CANDIDATE, dtype=np.uint8)
    edges, _ = connected(
        candidates,
        8,
        _strong_measure,
        {"strong": "max"},
        _edges_finalize,
        np.uint8,
        extra=maps,
        threads=task_threads(arr.npartitions),
    )
    return edges

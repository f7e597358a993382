"""Connected-component labelling and per-component statistics, as OpenCV defines them, in NumPy.

A binary image (H, W): nonzero pixels are foreground. Two foreground pixels are connected when
they are 4-neighbours (connectivity=4) or 8-neighbours (connectivity=8); a component is a
maximal connected set. The background is 0 and the components are numbered 1..count in the
order cv2.connectedComponents numbers them with its default algorithms (checked on cv2 5.0):

    4-connectivity   the raster (row-major) order of each component's first pixel: SAUF scans
                     pixels.
    8-connectivity   the raster order of each component's first 2x2 block, the blocks
                     (y // 2, x // 2) tiling the image from (0, 0): Spaghetti scans blocks. The
                     pixels of a block are 8-connected, so no two components share one; in
                     [[0, 0, 1], [1, 0, 0]] the pixel at row 1 comes first.

    label            a flood fill (breadth first) started at every unlabelled foreground pixel,
                     visited in that order, so the k-th fill started is component k.
                     order="raster" numbers 8-connected components by first pixel instead.
    component_stats  per label l: [left, top, width, height, area] of its pixels and the
                     centroid [sum x / area, sum y / area], as cv2.connectedComponentsWithStats.

Slow (a Python loop over pixels) but obviously correct; meant for images up to about 100x100.
"""

from __future__ import annotations

from collections import deque

import numpy as np

# (dy, dx) of the neighbours each connectivity joins
_NEIGHBOURS = {
    4: ((-1, 0), (0, -1), (0, 1), (1, 0)),
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
}


def label(binary, connectivity: int = 8, order: str = "opencv") -> tuple[np.ndarray, int]:
    """Labels of the 4- or 8-connected components of the nonzero pixels of a 2-D image.

    Returns ``(labels, count)``: labels int32 (H, W), 0 on the background and 1..count on the
    components. order="opencv" numbers them as cv2.connectedComponents does (by first pixel
    for connectivity 4, by first 2x2 block for 8; see the module docstring), order="raster"
    by first pixel for both.

    >>> label(np.array([[0, 0, 1], [1, 0, 0]]), connectivity=8)
    (array([[0, 0, 2],
           [1, 0, 0]], dtype=int32), 2)
    >>> label(np.array([[0, 0, 1], [1, 0, 0]]), connectivity=8, order="raster")[0]
    array([[0, 0, 1],
           [2, 0, 0]], dtype=int32)
    """
    fg = np.asarray(binary) != 0
    if fg.ndim != 2:
        raise ValueError(f"label: expected binary to be 2-D, got {fg.ndim}-D")
    if connectivity not in _NEIGHBOURS:
        raise ValueError(f"label: expected connectivity 4 or 8, got {connectivity!r}")
    if order not in ("opencv", "raster"):
        raise ValueError(f'label: expected order "opencv" or "raster", got {order!r}')
    steps = _NEIGHBOURS[connectivity]
    h, w = fg.shape
    labels = np.zeros((h, w), np.int32)
    count = 0
    seeds = np.argwhere(fg)  # (y, x) rows in raster order
    if connectivity == 8 and order == "opencv":  # by 2x2 block, then raster within
        seeds = seeds[np.lexsort((seeds[:, 1], seeds[:, 0], seeds[:, 1] // 2, seeds[:, 0] // 2))]
    for y0, x0 in seeds:
        if labels[y0, x0]:
            continue
        count += 1
        labels[y0, x0] = count
        queue = deque([(y0, x0)])
        while queue:
            y, x = queue.popleft()
            for dy, dx in steps:
                ny, nx = y + dy, x + dx
                if 0 <= ny < h and 0 <= nx < w and fg[ny, nx] and not labels[ny, nx]:
                    labels[ny, nx] = count
                    queue.append((ny, nx))
    return labels, count


def component_stats(labels) -> tuple[np.ndarray, np.ndarray]:
    """Bounding box, area and centroid of every label 0..labels.max() of a label image.

    Returns ``(stats, centroids)``: stats int32 (n, 5) with rows [left, top, width, height,
    area] (cv2.CC_STAT_* order) and centroids float64 (n, 2) with rows [mean x, mean y], where
    n = max(labels.max(), 0) + 1, so label 0 (the background) always has a row. A label with
    no pixels gets [-1, -1, 0, 0, 0] and [nan, nan]. cv2 gives the same nan centroid for an
    image without background but the stats row [-1, 2147483647, 0, 0, 0], left over from its
    running minimum; that row is an artifact, not a specification, so it is not copied.

    >>> stats, centroids = component_stats(np.array([[0, 1, 1], [0, 0, 1]], np.int32))
    >>> stats
    array([[0, 0, 2, 2, 3],
           [1, 0, 2, 2, 3]], dtype=int32)
    >>> centroids
    array([[0.33333333, 0.66666667],
           [1.66666667, 0.33333333]])
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"component_stats: expected labels to be 2-D, got {labels.ndim}-D")
    n = max(int(labels.max(initial=0)), 0) + 1
    flat = labels.ravel().astype(np.intp)
    ys, xs = np.indices(labels.shape)
    ys, xs = ys.ravel(), xs.ravel()
    area = np.bincount(flat, minlength=n)
    big = np.iinfo(np.int64).max
    left, top = np.full(n, big), np.full(n, big)
    right, bottom = np.full(n, -1), np.full(n, -1)
    np.minimum.at(left, flat, xs)
    np.minimum.at(top, flat, ys)
    np.maximum.at(right, flat, xs)
    np.maximum.at(bottom, flat, ys)
    # exact integer sums, one division each: the rounding cv2's centroids have
    sum_x = np.zeros(n, np.int64)
    sum_y = np.zeros(n, np.int64)
    np.add.at(sum_x, flat, xs)
    np.add.at(sum_y, flat, ys)
    empty = area == 0
    stats = np.stack([left, top, right - left + 1, bottom - top + 1, area], axis=1)
    stats[empty] = (-1, -1, 0, 0, 0)
    stats = stats.astype(np.int32)
    centroids = np.full((n, 2), np.nan)
    full = ~empty
    centroids[full, 0] = sum_x[full] / area[full]
    centroids[full, 1] = sum_y[full] / area[full]
    return stats, centroids

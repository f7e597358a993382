"""find_contours on Dask arrays: OpenCV's contours, order and hierarchy, traced across chunks.

Border following walks a component's border pixels and looks only at their 8 neighbours, which
are the component's own pixels or background (an 8-neighbour in the foreground would belong to
the component). So each component's borders are traced exactly from any window that holds the
whole component with only it in the foreground: its chunk, when it lies inside one, else its
bounding box cut out of the labels. What the scan of the whole image adds is the order and
the nesting, and both follow from geometry:

- a border is discovered where the raster scan meets its start pixel, which is its first point:
  the component's first pixel for an outer border, the pixel left of the hole's first pixel for
  a hole border; so sorting by first point gives the discovery order;
- a hole border's parent is its component's outer border; an outer border's parent is the hole
  border around the background region that surrounds the component (the region holding the
  pixel above the component's first pixel), or none when that region reaches the image edge.

The foreground components (8-connected) and the background regions (4-connected) are found
across chunks (``_components``); each border is traced once; then the tree is built and listed
as the in-memory call lists it (each border first among its siblings in discovery order, so
siblings in reverse; depth first). The two label images are held in memory (persisted) while the
call runs.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..contours import find_contours as _find_contours_in_memory
from ._blocks import as_dask, sample, task_threads
from ._components import connected
from ._label import _STATS_OPS, _order_measure

_FRAME = -1


def _first_pixel_finalize(components):
    """Foreground components numbered by their first pixel's raster position, with that
    position and their bounding boxes."""
    roots = components.roots()
    m = components.measures
    order = roots[np.argsort(m["key"][roots], kind="stable")]
    rank = np.zeros(components.root.size, np.int32)
    rank[order] = np.arange(1, order.size + 1, dtype=np.int32)
    table = rank[components.root]
    table[0] = 0
    boxes = np.stack([m["left"][order], m["top"][order], m["right"][order], m["bottom"][order]], 1)
    tables = [components.local(table, b) for b in range(components.counts.size)]
    return tables, (m["key"][order], boxes)


def _edge_measure(labels, count, stats, centroids, origin, shape, extra):
    """Whether each background region touches the image's edge (then it is the frame's)."""
    y0, x0 = origin
    h, w = labels.shape
    touch = np.zeros(count + 1, np.uint8)
    lines = []
    if y0 == 0:
        lines.append(labels[0])
    if y0 + h == shape[0]:
        lines.append(labels[-1])
    if x0 == 0:
        lines.append(labels[:, 0])
    if x0 + w == shape[1]:
        lines.append(labels[:, -1])
    for line in lines:
        touch[line] = 1
    touch[0] = 0
    return {"edge": touch}


def _root_finalize(components):
    """Background regions labelled by their provisional root id, with their edge flags."""
    table = components.root.astype(np.int32)
    tables = [components.local(table, b) for b in range(components.counts.size)]
    return tables, components.measures["edge"]


def _depths(hierarchy) -> np.ndarray:
    """Each contour's depth in a tree-mode hierarchy: even for outer borders, odd for holes."""
    depth = np.full(len(hierarchy), -1, np.int64)
    for i in range(len(hierarchy)):
        chain = []
        j = i
        while j >= 0 and depth[j] < 0:
            chain.append(j)
            j = int(hierarchy[j, 3])
        d = -1 if j < 0 else depth[j]
        for c in reversed(chain):
            d += 1
            depth[c] = d
    return depth


def _corners_only(points: np.ndarray) -> np.ndarray:
    """CHAIN_APPROX_SIMPLE of a traced border (every pixel, in walking order, closing back to
    the first): the points where the walk turns, the first included only if it turns there
    too (the walk arrives at it from the last point)."""
    if len(points) == 1:
        return points
    out_step = np.roll(points, -1, axis=0) - points
    in_step = np.roll(out_step, 1, axis=0)
    return points[(out_step != in_step).any(axis=1)]


def _trace(foreground, labels, wanted, method: str, origin):
    """The borders of the components ``wanted`` (a set of labels) in a window of the image:
    (component, is_hole, start pixel (x, y), points) for each, in whole-image coordinates.
    Traced with every pixel so that the first point is the start pixel."""
    y0, x0 = origin
    contours, hierarchy = _find_contours_in_memory(np.asarray(foreground), "tree", "none")
    depth = _depths(hierarchy)
    found = []
    shift = np.array([x0, y0], np.int64)
    for points, d in zip(contours, depth, strict=True):
        x, y = int(points[0, 0]), int(points[0, 1])
        component = int(labels[y, x])
        if component in wanted:
            kept = _corners_only(points) if method == "simple" else points
            found.append((component, bool(d % 2), (x + x0, y + y0), kept + shift))
    return found


def _trace_chunk(foreground, labels, inside, method, origin):
    return _trace(foreground, labels, set(inside.tolist()), method, origin)


def _trace_one(labels, component, method, origin):
    mask = (np.asarray(labels) == component).view(np.uint8)
    return _trace(mask, labels, {component}, method, origin)


def _chunk_bounds(chunks):
    starts = [np.concatenate([[0], np.cumsum(c)]) for c in chunks]
    return starts


def find_contours(binary, mode="tree", method="simple", *, offset=(0, 0)):
    """The borders of the regions of a Dask binary image, as :func:`foveal.find_contours`
    (``cv2.findContours``): the same contours, points, order and hierarchy as the in-memory
    call on the whole array, whatever the chunks.

    binary: (H, W) Dask array of any image dtype or bool; mode "external", "list", "ccomp" or
    "tree"; method "none" or "simple"; offset (dx, dy). Returns ``(contours, hierarchy)``
    computed: a tuple of (n, 2) int32 NumPy arrays and an (N, 4) int32 array.

    >>> import dask.array as da
    >>> img = np.zeros((6, 6), np.uint8); img[1:5, 1:5] = 1; img[2:4, 2:4] = 0
    >>> contours, hierarchy = foveal.dask.find_contours(da.from_array(img, chunks=3))
    >>> contours[0].tolist(), hierarchy.tolist()
    ([[1, 1], [1, 4], [4, 4], [4, 1]], [[-1, -1, 1, -1], [-1, -1, -1, 0]])
    """
    import dask

    fn = "find_contours"
    arr = as_dask(binary, fn, "binary")
    _find_contours_in_memory(sample(arr), mode, method, offset=offset)  # argument checks
    mode, method = mode.lower(), method.lower()
    dx, dy = (int(v) for v in offset)
    h, w = arr.shape
    fg = arr.map_blocks(lambda b: (np.asarray(b) != 0).view(np.uint8), dtype=np.uint8)
    threads = task_threads(arr.npartitions)
    fl, fl_info = connected(
        fg,
        8,
        partial(_order_measure, key="pixel", with_stats=True),
        {"key": "min", **_STATS_OPS},
        _first_pixel_finalize,
        np.int32,
        threads=threads,
    )
    bg = fg.map_blocks(lambda b: 1 - b, dtype=np.uint8)
    bl, bl_edge = connected(
        bg, 4, _edge_measure, {"edge": "max"}, _root_finalize, np.int32, threads=threads
    )
    fl, bl = dask.persist(fl, bl)
    (firsts, boxes), edge = dask.compute(fl_info, bl_edge)

    # Trace: components inside one chunk from their chunk, the others one by one.
    rows, cols = _chunk_bounds(arr.chunks)
    bi = np.searchsorted(rows, boxes[:, 1], side="right") - 1
    bj = np.searchsorted(cols, boxes[:, 0], side="right") - 1
    inside = (boxes[:, 3] < rows[bi + 1]) & (boxes[:, 2] < cols[bj + 1])
    ids = np.arange(1, len(boxes) + 1)
    fg_blocks, fl_blocks = fg.to_delayed(), fl.to_delayed()
    tasks = []
    trace_chunk = dask.delayed(_trace_chunk, pure=True)
    for i in range(len(rows) - 1):
        for j in range(len(cols) - 1):
            here = ids[inside & (bi == i) & (bj == j)]
            if here.size:
                origin = (int(rows[i]), int(cols[j]))
                tasks.append(trace_chunk(fg_blocks[i, j], fl_blocks[i, j], here, method, origin))
    trace_one = dask.delayed(_trace_one, pure=True)
    for c in ids[~inside]:
        left, top, right, bottom = (int(v) for v in boxes[c - 1])
        window = fl[top : bottom + 1, left : right + 1]
        tasks.append(trace_one(window, int(c), method, (top, left)))
    traced = [t for part in dask.compute(*tasks) for t in part]

    # Which background region surrounds each component, and which region each hole bounds.
    above_y = firsts // w - 1
    above_x = firsts % w
    holes = [t for t in traced if t[1]]
    hole_y = np.array([t[2][1] for t in holes], np.int64)
    hole_x = np.array([t[2][0] + 1 for t in holes], np.int64)
    ys = np.concatenate([np.maximum(above_y, 0), hole_y])
    xs = np.concatenate([above_x, hole_x])
    regions = bl.vindex[ys, xs].compute() if ys.size else np.zeros(0, np.int32)
    surrounding = np.where(above_y >= 0, regions[: len(firsts)], 0)
    surrounding = np.where((above_y >= 0) & (edge[surrounding] == 0), surrounding, _FRAME)
    bounded = regions[len(firsts) :]
    del fl, bl

    contours, hierarchy = _tree(traced, holes, bounded, surrounding, firsts, w, mode)
    if dx or dy:
        contours = [c + np.array([dx, dy], np.int32) for c in contours]
    return tuple(contours), hierarchy


def _tree(traced, holes, bounded, surrounding, firsts, width, mode):
    """The in-memory call's listing: (contours, hierarchy) in pre-order with siblings latest
    first."""
    outer_of = {}
    for n, (component, is_hole, _, _) in enumerate(traced):
        if not is_hole:
            outer_of[component] = n
    hole_of_region = {}
    hole_index = [n for n, t in enumerate(traced) if t[1]]
    for n, region in zip(hole_index, bounded.tolist(), strict=True):
        hole_of_region[region] = n
    key = np.array([t[2][1] * width + t[2][0] for t in traced], np.int64)
    parent = np.full(len(traced), _FRAME, np.int64)
    keep = np.ones(len(traced), bool)
    for n, (component, is_hole, _, _) in enumerate(traced):
        if is_hole:
            if mode in ("external",):
                keep[n] = False
            elif mode in ("tree", "ccomp"):
                parent[n] = outer_of[component]
        else:
            region = int(surrounding[component - 1])
            enclosing = _FRAME if region == _FRAME else hole_of_region[region]
            if mode == "tree":
                parent[n] = enclosing
            elif mode == "external" and enclosing != _FRAME:
                keep[n] = False
    children: dict[int, list[int]] = {_FRAME: []}
    for n in np.flatnonzero(keep)[np.argsort(-key[keep], kind="stable")].tolist():
        children.setdefault(int(parent[n]), []).append(n)
    order: list[int] = []
    stack = list(reversed(children[_FRAME]))
    while stack:
        n = stack.pop()
        order.append(n)
        stack.extend(reversed(children.get(n, [])))
    index = {n: i for i, n in enumerate(order)}
    hierarchy = np.full((len(order), 4), -1, np.int32)
    for node, kids in children.items():
        for k, kid in enumerate(kids):
            row = hierarchy[index[kid]]
            row[0] = index[kids[k + 1]] if k + 1 < len(kids) else -1
            row[1] = index[kids[k - 1]] if k > 0 else -1
            row[3] = index[node] if node != _FRAME else -1
        if kids and node != _FRAME:
            hierarchy[index[node], 2] = index[kids[0]]
    contours = [np.ascontiguousarray(traced[n][3], dtype=np.int32) for n in order]
    return contours, hierarchy

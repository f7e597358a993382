"""Connected components across chunks: the machinery behind label, Canny's hysteresis and
find_contours on Dask arrays.

Each chunk is labelled on its own (foveal.label), giving chunk-local labels 1..count and, per
label, whatever the caller measures (its first pixel, its bounding box, whether it holds a
strong edge...). Local label l of chunk b becomes the provisional global id base[b] + l. The
rows and columns on both sides of every chunk face are compared: two foreground pixels that
touch across a face (straight across, or diagonally for 8-connectivity) join their ids. A
union-find over those pairs gives each provisional id its component; the measures are combined
per component (min, max or sum), and the caller turns them into a lookup table from
provisional id to final value, which each chunk applies to its local labels. Only the chunk
faces and the per-label measures travel to the one task that resolves the components; the
labels stay with their chunks. This is the approach of dask-image's ``label``, with the
measures added so that the final numbering can follow OpenCV's order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._config import num_threads
from ..components import label as _label

# A measure: per chunk, {name: per-label array (count + 1 long, index 0 the background)}.
Measure = Callable[..., dict]


class Part:
    """One chunk's local labelling: labels, count, measures and the four edge lines."""

    __slots__ = ("count", "labels", "measures")

    def __init__(self, labels: np.ndarray, count: int, measures: dict):
        self.labels, self.count, self.measures = labels, count, measures


def _label_part(block, connectivity, origin, shape, measure, extra, threads) -> Part:
    binary = np.asarray(block) != 0
    with num_threads(threads):
        labels, count, stats, centroids = _label(binary, connectivity, return_stats=True)
    measures = measure(labels, count, stats, centroids, origin, shape, extra)
    return Part(labels, count, measures)


def _summary(part: Part):
    """What the resolving task needs of a chunk: its count, its measures and its edges."""
    lab = part.labels
    edges = (lab[0].copy(), lab[-1].copy(), lab[:, 0].copy(), lab[:, -1].copy())
    return part.count, part.measures, edges


def _union_find(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest id of each id's component, for ids 0..n-1 joined by the pairs (a, b)."""
    parent = np.arange(n, dtype=np.int64)
    while a.size:
        ra, rb = parent[a], parent[b]
        lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
        live = lo != hi
        if not live.any():
            break
        a, b = a[live], b[live]
        np.minimum.at(parent, hi[live], lo[live])
        while True:  # point every id at its root
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    return parent


def _face_pairs(before: np.ndarray, after: np.ndarray, diagonal: bool):
    """Pairs of ids that touch across a face: before[i] with after[i] (and after[i +- 1])."""
    pairs = []
    shifts = (-1, 0, 1) if diagonal else (0,)
    n = before.size
    for s in shifts:
        lo, hi = max(0, -s), min(n, n - s)
        x, y = before[lo:hi], after[lo + s : hi + s]
        both = (x > 0) & (y > 0)
        pairs.append((x[both], y[both]))
    return pairs


_COMBINE = {"min": np.minimum, "max": np.maximum, "sum": np.add}


class Components:
    """The resolved components: ``root[g]`` for each provisional id g (0 the background),
    ``base`` per chunk, and the measures combined per root (``measures[name][root]``) with
    the background's combined over every chunk at index 0."""

    def __init__(self, root, base, counts, measures):
        self.root, self.base, self.counts, self.measures = root, base, counts, measures

    def roots(self) -> np.ndarray:
        """The provisional ids that are roots (one per component), in increasing order."""
        ids = np.arange(1, self.root.size)
        return ids[self.root[1:] == ids]

    def local(self, table: np.ndarray, block: int) -> np.ndarray:
        """``table`` (indexed by provisional id, 0 the background) for one chunk's local labels."""
        start = self.base[block]
        return np.concatenate([table[:1], table[start + 1 : start + 1 + self.counts[block]]])


def _resolve(summaries, grid, connectivity, ops, finalize):
    rows, cols = grid
    counts = np.array([s[0] for s in summaries], np.int64)
    base = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n = int(counts.sum()) + 1

    def globalize(edge, b):
        return np.where(edge > 0, edge.astype(np.int64) + base[b], 0)

    a_ids, b_ids = [], []
    diagonal = connectivity == 8
    for i in range(rows):
        for j in range(cols):
            b = i * cols + j
            top, bottom, left, right = summaries[b][2]
            if i + 1 < rows:  # the face below this chunk, one chunk wide
                below = summaries[b + cols][2][0]
                line_a, line_b = globalize(bottom, b), globalize(below, b + cols)
                # diagonal pairs across the corner to the next chunk column
                if diagonal and j + 1 < cols:
                    corner = summaries[b + cols + 1][2][0][:1]
                    line_a = np.concatenate([line_a, [0]])
                    line_b = np.concatenate([line_b, globalize(corner, b + cols + 1)])
                if diagonal and j > 0:
                    corner = summaries[b + cols - 1][2][0][-1:]
                    line_a = np.concatenate([[0], line_a])
                    line_b = np.concatenate([globalize(corner, b + cols - 1), line_b])
                for x, y in _face_pairs(line_a, line_b, diagonal):
                    a_ids.append(x)
                    b_ids.append(y)
            if j + 1 < cols:  # the face to the right, one chunk tall
                beside = summaries[b + 1][2][2]
                for x, y in _face_pairs(globalize(right, b), globalize(beside, b + 1), diagonal):
                    a_ids.append(x)
                    b_ids.append(y)
    a = np.concatenate(a_ids) if a_ids else np.zeros(0, np.int64)
    b = np.concatenate(b_ids) if b_ids else np.zeros(0, np.int64)
    root = _union_find(n, a, b)

    combined = {}
    for name, op in ops.items():
        first = summaries[0][1][name]
        values = np.concatenate([s[1][name][1:] for s in summaries])
        table = np.zeros(n, first.dtype)
        if op == "min":
            table[:] = np.iinfo(first.dtype).max if first.dtype.kind in "iu" else np.inf
        elif op == "max":
            table[:] = np.iinfo(first.dtype).min if first.dtype.kind in "iu" else -np.inf
        ufunc = _COMBINE[op]
        ufunc.at(table, root[1:], values)
        background = [s[1][name][0] for s in summaries]
        table[0] = ufunc.reduce(np.asarray(background, first.dtype))
        combined[name] = table
    return finalize(Components(root, base, counts, combined))


def _relabel(part: Part, tables, block: int, dtype):
    lut = tables[block]
    return lut.astype(dtype, copy=False)[part.labels]


def connected(
    binary,
    connectivity: int,
    measure: Measure,
    ops: dict,
    finalize: Callable,
    dtype,
    *,
    extra=None,
    threads: int = 1,
):
    """Label ``binary`` (a 2-D Dask array) across its chunks and map each chunk's labels
    through the tables ``finalize(components)`` returns.

    ``measure(labels, count, stats, centroids, origin, shape, extra_block)`` gives each
    chunk's per-label measures (arrays count + 1 long, background first); ``ops`` says how
    each is combined across chunks ("min", "max", "sum"); ``finalize`` receives the
    :class:`Components` and returns ``(tables, result)``: a list of per-chunk lookup tables
    (``components.local(table, b)``) and anything else to hand back. Returns ``(image,
    result)``: the Dask array of looked-up values (``dtype``) and a Delayed of ``result``.
    """
    import dask
    import dask.array as da

    blocks = binary.to_delayed()
    extras = extra.to_delayed() if extra is not None else None
    rows, cols = blocks.shape
    starts = [np.concatenate([[0], np.cumsum(c)[:-1]]) for c in binary.chunks]
    label_part = dask.delayed(_label_part, pure=True)
    parts, summaries = [], []
    for i in range(rows):
        for j in range(cols):
            origin = (int(starts[0][i]), int(starts[1][j]))
            ex = extras[i, j] if extras is not None else None
            part = label_part(
                blocks[i, j], connectivity, origin, binary.shape, measure, ex, threads
            )
            parts.append(part)
            summaries.append(dask.delayed(_summary, pure=True)(part))
    resolved = dask.delayed(_resolve, pure=True)(
        summaries, (rows, cols), connectivity, ops, finalize
    )
    tables = resolved[0]
    relabel = dask.delayed(_relabel, pure=True)
    pieces = []
    for i in range(rows):
        row = []
        for j in range(cols):
            b = i * cols + j
            shape = (binary.chunks[0][i], binary.chunks[1][j])
            row.append(da.from_delayed(relabel(parts[b], tables, b, dtype), shape, dtype=dtype))
        pieces.append(row)
    return da.block(pieces), resolved[1]

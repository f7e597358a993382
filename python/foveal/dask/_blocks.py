"""The pieces every Dask wrapper shares: taking the caller's array, running a block function
with a halo, and choosing foveal's threads per task.

A block function sees its chunk grown by the halo the kernel reaches on every side that has a
neighbour, and nothing on the sides that are the array's own edges (Dask's ``boundary="none"``).
So the in-memory function, called on the grown block with the caller's border, applies that
border exactly where the whole-array call would (at the array's edges), while every output
pixel it keeps reads true neighbours inside. Trimming the halo leaves results identical to the
call on the whole array. The "wrap" border is the one exception: its outside is the opposite
edge, so its blocks get periodic halos (Dask's ``boundary="periodic"``) on every side.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

from .._config import get_num_threads, num_threads

_threads_per_task: int | None = None


def set_threads_per_task(n: int | None) -> None:
    """foveal's CPU threads inside each Dask task; ``None`` (the default) chooses: the cores
    shared among the tasks that run at once (at least 1), so that Dask's parallelism over chunks
    and foveal's inside a chunk do not oversubscribe the machine. On a dask.distributed worker
    the default is the machine's cores shared among the worker's threads.

    >>> foveal.dask.set_threads_per_task(1)     # one core per chunk, Dask runs the chunks
    >>> foveal.dask.set_threads_per_task(None)  # back to the default
    """
    global _threads_per_task
    if n is not None:
        from .. import _validate as val

        n = val.as_int(n, "set_threads_per_task", "n", minimum=1, maximum=1 << 16)
    _threads_per_task = n


def task_threads(n_tasks: int) -> int:
    """Threads for each of ``n_tasks`` tasks run by the scheduler at hand: the explicit setting,
    or the cores divided among the tasks that can run at once."""
    if _threads_per_task is not None:
        return _threads_per_task
    import dask

    cores = get_num_threads()
    workers = dask.config.get("num_workers", None) or os.cpu_count() or 1
    return max(1, cores // max(1, min(n_tasks, workers)))


def _in_worker_threads(planned: int) -> int:
    """Inside a task: on a dask.distributed worker, the cores of its machine shared among the
    worker's threads (unless set explicitly); elsewhere, the number planned with the graph."""
    if _threads_per_task is not None:
        return _threads_per_task
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return planned
    nthreads = getattr(getattr(worker, "state", worker), "nthreads", 1) or 1
    return max(1, (os.cpu_count() or 1) // nthreads)


def with_threads(fn: Callable, planned: int) -> Callable:
    """``fn`` run with foveal's per-thread setting for the task (restored afterwards)."""

    def run(*args, **kwargs):
        with num_threads(_in_worker_threads(planned)):
            return fn(*args, **kwargs)

    return run


def as_dask(image, fn: str, name: str = "image"):
    """A Dask array for ``image``: Dask arrays as they are; any other array becomes one chunk."""
    import dask.array as da

    if isinstance(image, da.Array):
        return image
    if hasattr(image, "__array__") or hasattr(image, "__array_interface__"):
        return da.from_array(np.asarray(image), chunks=-1)
    raise TypeError(
        f"{fn}: {name} must be a Dask array (or a NumPy array), got {type(image).__name__}"
    )


def sample(arr) -> np.ndarray:
    """A small NumPy array of ``arr``'s dtype and channels, to run an in-memory call on first:
    its arguments are then checked (with the in-memory function's own messages) when the
    graph is built, not when it runs."""
    shape = tuple(min(3, n) if i < 2 else n for i, n in enumerate(arr.shape))
    return np.zeros(shape, dtype=arr.dtype)


Reach = tuple[tuple[int, int], tuple[int, int]]


def _segments(start: int, stop: int, edges: np.ndarray, size: int, periodic: bool):
    """The pieces of the index range [start, stop) of an axis cut into chunks at ``edges``:
    (chunk, first index in the chunk, last + 1, offset in the range). Indices outside the axis
    wrap around when ``periodic``; otherwise the range must lie inside it."""
    pieces = []
    at = start
    while at < stop:
        index = at % size if periodic else at
        chunk = int(np.searchsorted(edges, index, side="right")) - 1
        chunk_stop = int(edges[chunk + 1])
        take = min(stop - at, chunk_stop - index)
        lo = index - int(edges[chunk])
        pieces.append((chunk, lo, lo + take, at - start))
        at += take
    return pieces


def _window_apply(block_fn, shape, dtype, copies, crop, *blocks):
    """Assemble a chunk's window from the pieces of its neighbours (one copy), run
    ``block_fn`` on it, and keep the chunk's own part of the result."""
    window = np.empty(shape, dtype)
    for n, rows, cols, at_y, at_x in copies:
        src = blocks[n][rows[0] : rows[1], cols[0] : cols[1]]
        window[at_y : at_y + src.shape[0], at_x : at_x + src.shape[1]] = src
    (y0, y1), (x0, x1) = crop
    return block_fn(window)[y0:y1, x0:x1]


def halo_map(
    block_fn: Callable[[np.ndarray], np.ndarray],
    arr,
    reach: Reach,
    *,
    periodic: bool,
    dtype,
    drop_channels: bool = False,
):
    """``block_fn`` over the chunks of the (H, W[, C]) Dask array ``arr``, each grown by
    ``reach`` = ((top, bottom), (left, right)) (the rows and columns an output pixel reads
    above, below, left and right of itself) and trimmed back; ``periodic`` for the wrap border.
    The channels of a 3-D image stay in one chunk; ``drop_channels`` for an (H, W) result.

    Each output chunk is one task that copies its window straight out of the input chunks it
    overlaps (its own and its neighbours', however many the reach spans) and keeps its own
    part of the result: one copy per chunk, and the output has the input's chunks."""
    import dask
    import dask.array as da

    (top, bottom), (left, right) = reach
    if arr.ndim == 3:
        arr = arr.rechunk({2: -1})
    h, w = arr.shape[:2]
    rows_at = np.concatenate([[0], np.cumsum(arr.chunks[0])])
    cols_at = np.concatenate([[0], np.cumsum(arr.chunks[1])])
    blocks = arr.to_delayed().reshape(len(arr.chunks[0]), len(arr.chunks[1]))
    tail = arr.shape[2:]
    fn = with_threads(block_fn, task_threads(arr.npartitions))
    apply = dask.delayed(_window_apply, pure=True)
    out_dtype = np.dtype(dtype)
    keep_tail = () if drop_channels else tail
    grid = []
    for i in range(blocks.shape[0]):
        row = []
        r0, r1 = int(rows_at[i]), int(rows_at[i + 1])
        y0 = r0 - top if periodic else max(0, r0 - top)
        y1 = r1 + bottom if periodic else min(h, r1 + bottom)
        row_pieces = _segments(y0, y1, rows_at, h, periodic)
        for j in range(blocks.shape[1]):
            c0, c1 = int(cols_at[j]), int(cols_at[j + 1])
            x0 = c0 - left if periodic else max(0, c0 - left)
            x1 = c1 + right if periodic else min(w, c1 + right)
            col_pieces = _segments(x0, x1, cols_at, w, periodic)
            needed: dict = {}
            copies = []
            for bi, ra, rb, at_y in row_pieces:
                for bj, ca, cb, at_x in col_pieces:
                    n = needed.setdefault((bi, bj), len(needed))
                    copies.append((n, (ra, rb), (ca, cb), at_y, at_x))
            sources = [blocks[bi, bj] for bi, bj in needed]
            crop = ((r0 - y0, r1 - y0), (c0 - x0, c1 - x0))
            task = apply(fn, (y1 - y0, x1 - x0, *tail), arr.dtype, copies, crop, *sources)
            row.append(da.from_delayed(task, (r1 - r0, c1 - c0, *keep_tail), dtype=out_dtype))
        grid.append(row)
    if keep_tail:
        grid = [[[piece] for piece in row] for row in grid]
    return da.block(grid)


def split_fields(packed, names: Sequence[str]):
    """The fields of a structured Dask array as separate arrays (several results of one
    block function travel together through the halo and trimming as one structured array)."""
    return tuple(packed.map_blocks(lambda b, f=f: b[f], dtype=packed.dtype[f]) for f in names)

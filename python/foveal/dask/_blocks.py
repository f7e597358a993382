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
    The channels of a 3-D image stay in one chunk; ``drop_channels`` for an (H, W) result."""
    (top, bottom), (left, right) = reach
    if arr.ndim == 3:
        arr = arr.rechunk({2: -1})
    if periodic:
        dy, dx = max(top, bottom), max(left, right)
        depth = {0: dy, 1: dx}
        boundary = "periodic"
    else:
        depth = {0: (top, bottom), 1: (left, right)}
        boundary = "none"
    if arr.ndim == 3:
        depth[2] = (0, 0) if not periodic else 0
    fn = with_threads(block_fn, task_threads(arr.npartitions))
    kwargs = {}
    if drop_channels and arr.ndim == 3:
        kwargs["drop_axis"] = 2
    return arr.map_overlap(fn, depth=depth, boundary=boundary, dtype=dtype, **kwargs)


def split_fields(packed, names: Sequence[str]):
    """The fields of a structured Dask array as separate arrays (several results of one
    block function travel together through the halo and trimming as one structured array)."""
    return tuple(packed.map_blocks(lambda b, f=f: b[f], dtype=packed.dtype[f]) for f in names)

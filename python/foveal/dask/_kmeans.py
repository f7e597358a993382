"""k-means on Dask arrays: Lloyd's iterations with per-chunk partial sums reduced by Dask.

Each iteration is one Dask computation over the chunks of points (whole rows, all features in
one chunk). A chunk's task runs foveal's fused assignment pass (distances, argmin, float64
per-cluster sums and weights) and returns only those sums, the weights, and how many of its
labels changed since the previous centers; the labels themselves are never kept between
iterations (a chunk recomputes its previous labels from the previous centers, which is what
lets data larger than memory stream through), so memory is a few (k, d) tables per chunk. The
sums are added in chunk order. Stopping rules, tolerance, empty-cluster relocation and the
final assignment are those of :func:`foveal.kmeans` (scikit-learn's), so with the same initial
centers the result is the in-memory one (centers and inertia to float64 rounding of the sums).
"""

from __future__ import annotations

import numpy as np

from .. import _validate as val
from .._backend import _core
from ..segment import KMeansResult, lloyd_arguments
from ..segment import _kmeans_plusplus as _plusplus
from ._blocks import task_threads, with_threads

_INIT_SAMPLE = 100_000  # points drawn for k-means++ on Dask arrays


def _assign(x, centers, w, labels=None):
    """One fused pass: (labels, sums, counts, inertia, changed vs ``labels`` if given)."""
    k, d = centers.shape
    sums = np.empty((k, d), np.float64)
    counts = np.empty(k, np.float64)
    lab = np.full(x.shape[0], -1, np.int32) if labels is None else labels
    inertia, changed = _core.kmeans_assign(x, centers, w, lab, sums, counts, None, True, False)
    return lab, sums, counts, inertia, changed


def _chunk(x, w, dtype):
    x = np.ascontiguousarray(x, dtype=dtype)
    w = None if w is None else np.ascontiguousarray(w, dtype=dtype)
    return x, w


def _pass(x, w, centers, previous, dtype):
    """A chunk's share of one Lloyd iteration."""
    x, w = _chunk(x, w, dtype)
    if not np.isfinite(x).all():
        return None
    before = None if previous is None else _assign(x, previous, w)[0]
    _, sums, counts, inertia, changed = _assign(x, centers, w, before)
    return sums, counts, inertia, changed


def _farthest(x, w, centers, n_far, dtype):
    """The chunk's ``n_far`` points farthest from their assigned centers: (distance, index in
    the chunk, point, weight, label) rows, for the relocation of empty clusters."""
    x, w = _chunk(x, w, dtype)
    labels = _assign(x, centers, w)[0]
    dist = np.empty(x.shape[0], np.float64)
    _core.kmeans_inertia(x, centers, None, labels, dist)
    pick = np.argsort(-dist, kind="stable")[:n_far]
    weights = np.ones(pick.size) if w is None else w[pick].astype(np.float64)
    return dist[pick], pick, x[pick].astype(np.float64), weights, labels[pick]


def _predict(x, centers, dtype):
    x, _ = _chunk(x, None, dtype)
    return _assign(x, centers, None)[0]


class _Data:
    """The points as chunks of whole rows, with their weights and each chunk's first row."""

    def __init__(self, x, w):
        self.x = x.rechunk({1: -1})
        self.blocks = self.x.to_delayed().ravel()
        self.w = None if w is None else w.rechunk((self.x.chunks[0],)).to_delayed().ravel()
        self.starts = np.concatenate([[0], np.cumsum(self.x.chunks[0])[:-1]]).astype(np.int64)
        self.dtype = x.dtype
        self.threads = task_threads(len(self.blocks))

    def map(self, fn, *args):
        """``fn(chunk, weights, *args)`` for every chunk, computed; in chunk order."""
        import dask

        call = dask.delayed(with_threads(fn, self.threads), pure=True)
        tasks = [
            call(b, None if self.w is None else self.w[i], *args) for i, b in enumerate(self.blocks)
        ]
        return dask.compute(*tasks)


def _iteration(data: _Data, centers, previous, fn: str):
    parts = data.map(_pass, centers, previous, data.dtype)
    if any(p is None for p in parts):
        raise ValueError(f"{fn}: data must be finite (no NaN or inf)")
    sums = np.zeros_like(parts[0][0])
    counts = np.zeros_like(parts[0][1])
    inertia, changed = 0.0, 0
    for s, c, i, ch in parts:
        sums += s
        counts += c
        inertia += i
        changed += ch
    return sums, counts, inertia, changed


def _lloyd(data: _Data, centers, max_iter: int, tol: float, fn: str):
    previous = None
    strict = False
    i = 0
    for i in range(max_iter):  # noqa: B007 - i is the iteration count afterwards
        sums, counts, _, changed = _iteration(data, centers, previous, fn)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            _relocate(data, centers, empty, sums, counts)
        safe = np.where(counts > 0, counts, 1.0)
        new = np.where((counts > 0)[:, None], sums / safe[:, None], 0.0).astype(data.dtype)
        shift = float(((new.astype(np.float64) - centers) ** 2).sum())
        previous, centers = centers, new
        if changed == 0:
            strict = True
            break
        if shift <= tol:
            break
    _, _, inertia, _ = _iteration(data, centers, None, fn)
    return centers, inertia, i + 1, strict


def _relocate(data: _Data, centers_old, empty, sums, counts):
    """The in-memory relocation: the points farthest from their assigned old centers (ties:
    the first) each become one empty cluster's center, taking their weight from their own."""
    n_empty = empty.size
    found = data.map(_farthest, centers_old, n_empty, data.dtype)
    dist = np.concatenate([f[0] for f in found])
    index = np.concatenate([f[1] + s for f, s in zip(found, data.starts, strict=True)])
    far = np.lexsort((index, -dist))[:n_empty]
    chunk_of = np.repeat(np.arange(len(found)), [f[0].size for f in found])
    row_in = np.concatenate([np.arange(f[0].size) for f in found])
    for new_id, pick in zip(empty.tolist(), far.tolist(), strict=False):
        f = found[chunk_of[pick]]
        r = row_in[pick]
        weight = f[3][r]
        value = f[2][r] * weight
        old_id = int(f[4][r])
        sums[old_id] -= value
        sums[new_id] = value
        counts[new_id] = weight
        counts[old_id] -= weight


def _data(data, fn: str, name: str = "data"):
    import dask.array as da

    x = data if isinstance(data, da.Array) else da.asarray(np.asarray(data))
    if x.dtype.name not in ("float32", "float64"):
        raise TypeError(
            f"{fn}: {name} dtype {x.dtype} is not supported (supported: float32, float64)"
        )
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{fn}: {name} must be (n, d) or (n,), got shape {tuple(x.shape)}")
    if any(np.isnan(s) for s in x.shape):
        raise ValueError(f"{fn}: {name} must have a known shape (compute its chunk sizes)")
    if min(x.shape) == 0:
        raise ValueError(f"{fn}: {name} must not be empty, got shape {tuple(x.shape)}")
    return x


def _initial(x, w, k: int, init, rng, fn: str):
    """Initial centers: a given array, k distinct random points, or greedy k-means++ on a
    uniform sample of at most ``_INIT_SAMPLE`` points."""
    n = x.shape[0]
    if not isinstance(init, str):
        return np.asarray(init, dtype=x.dtype)
    if init == "random":
        ids = np.sort(rng.choice(n, k, replace=False))
        return np.asarray(x[ids].compute(), dtype=x.dtype)
    ids = np.sort(rng.choice(n, min(n, _INIT_SAMPLE), replace=False))
    points = np.ascontiguousarray(x[ids].compute())
    weights = None if w is None else np.asarray(w[ids].compute(), dtype=x.dtype)
    return np.asarray(_plusplus(points, weights, k, rng), dtype=x.dtype)


def kmeans(
    data,
    k,
    *,
    init="k-means++",
    n_init=1,
    max_iter=300,
    tol=1e-4,
    seed=None,
    sample_weight=None,
) -> KMeansResult:
    """:func:`foveal.kmeans` on a Dask array of points (n, d) (or (n,)), float32 or float64.

    Each Lloyd iteration is one pass over the chunks, reduced by Dask. With an ``init`` array
    the result is the in-memory one. ``init="k-means++"`` runs greedy k-means++ on a uniform
    sample of at most 100,000 points (the whole data when smaller); ``"random"`` picks k
    distinct points. Returns a :class:`foveal.KMeansResult` whose centers are a NumPy array
    and whose labels are a lazy Dask array (the assignment to the final centers). The other
    arguments are :func:`foveal.kmeans`'s (``sklearn.cluster.KMeans(algorithm="lloyd")``'s
    numbers for the same initial centers).

    >>> import dask.array as da
    >>> x = da.from_array(np.array([[0.0, 0], [0, 1], [10, 0], [10, 1]]), chunks=(3, 2))
    >>> r = foveal.dask.kmeans(x, 2, init=np.array([[0.0, 0], [10, 0]]))
    >>> r.centers.tolist(), r.labels.compute().tolist(), r.inertia
    ([[0.0, 0.5], [10.0, 0.5]], [0, 0, 1, 1], 1.0)
    """
    import dask.array as da

    fn = "kmeans"
    x = _data(data, fn)
    n = x.shape[0]
    k, n_init, max_iter, tol = lloyd_arguments(fn, k, n, n_init, max_iter, tol)
    w = None
    if sample_weight is not None:
        w = sample_weight if isinstance(sample_weight, da.Array) else da.asarray(sample_weight)
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError(f"{fn}: sample_weight must have {n} values, got shape {w.shape}")
        w = w.astype(x.dtype)
        lo, total = da.compute(w.min(), w.sum())
        if not np.isfinite(total) or lo < 0 or not total > 0:
            raise ValueError(f"{fn}: sample_weight must be finite, >= 0 and not all 0")
    if seed is not None:
        seed = val.as_int(seed, fn, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    if isinstance(init, str):
        if init not in ("k-means++", "random"):
            raise ValueError(f"{fn}: init must be 'k-means++', 'random' or an array, got {init!r}")
    else:
        given = np.asarray(init)
        if given.ndim == 1 and x.shape[1] == 1:
            given = given[:, None]
        if given.shape != (k, x.shape[1]):
            raise ValueError(f"{fn}: init must have shape {(k, x.shape[1])}, got {given.shape}")
        if not np.isfinite(given).all():
            raise ValueError(f"{fn}: init must be finite (no NaN or inf)")
        if n_init != 1:
            raise ValueError(f"{fn}: n_init must be 1 when init is an array, got {n_init}")
    variance = float(x.astype(np.float64).var(axis=0).mean().compute()) if tol else 0.0
    tol_abs = variance * tol

    chunks = _Data(x, w)
    best: tuple | None = None
    for _ in range(n_init):
        centers = np.ascontiguousarray(_initial(chunks.x, w, k, init, rng, fn))
        run = _lloyd(chunks, centers, max_iter, tol_abs, fn)
        if best is None or run[1] < best[1]:
            best = run
    assert best is not None  # n_init >= 1
    centers, inertia, n_iter, _ = best
    labels = _labels(chunks, centers)
    return KMeansResult(centers, labels, float(inertia), n_iter)


def _labels(chunks: _Data, centers):
    fn = with_threads(_predict, chunks.threads)
    return chunks.x.map_blocks(fn, centers, chunks.dtype, dtype=np.int32, drop_axis=1)


def kmeans_predict(data, centers):
    """The nearest of ``centers`` for each point of a Dask array (n, d), as
    :func:`foveal.kmeans_predict` (``KMeans.predict``): lazy int32 labels, ties to the lowest
    index.

    >>> import dask.array as da
    >>> pts = da.from_array(np.array([[0.1], [0.9], [0.2]]), chunks=2)
    >>> foveal.dask.kmeans_predict(pts, np.array([[0.0], [1.0]])).compute()
    array([0, 1, 0], dtype=int32)
    """
    fn = "kmeans_predict"
    x = _data(data, fn)
    c = np.ascontiguousarray(np.asarray(centers))
    if c.ndim == 1 and x.shape[1] == 1:
        c = c[:, None]
    if c.ndim != 2 or c.shape[1] != x.shape[1] or c.dtype != x.dtype or c.shape[0] == 0:
        raise ValueError(
            f"{fn}: centers must be (k, {x.shape[1]}) of data's dtype {x.dtype}, "
            f"got {tuple(c.shape)} {c.dtype}"
        )
    if not np.isfinite(c).all():
        raise ValueError(f"{fn}: centers must be finite (no NaN or inf)")
    return _labels(_Data(x, None), c)


def segment_colors(image, k, **kmeans_args):
    """Colour quantization of a Dask image by k-means, as :func:`foveal.segment_colors`:
    (labels (H, W) int32, the image with each pixel replaced by its center), both lazy; the
    clustering itself runs when this is called. image: (H, W) or (H, W, C) of uint8, uint16,
    int16, float32 or float64; ``kmeans_args`` go to :func:`kmeans`.

    >>> import dask.array as da
    >>> img = np.zeros((4, 4, 3), np.uint8); img[:, 2:] = 200
    >>> labels, quantized = foveal.dask.segment_colors(da.from_array(img, chunks=2), 2, seed=0)
    >>> bool((quantized.compute() == img).all()), len(set(labels.compute().ravel().tolist()))
    (True, 2)
    """
    import dask.array as da

    from ..segment import segment_colors as in_memory

    arr = image if isinstance(image, da.Array) else da.asarray(np.asarray(image))
    in_memory(np.zeros((1, 1) + arr.shape[2:], arr.dtype), 1)  # the in-memory checks
    h, w = arr.shape[:2]
    channels = arr.shape[2] if arr.ndim == 3 else 1
    work = np.float64 if arr.dtype == np.float64 else np.float32
    rows = arr.rechunk({1: -1} if arr.ndim == 2 else {1: -1, 2: -1})
    pixels = rows.reshape(h * w, channels).astype(work)
    result = kmeans(pixels, k, **kmeans_args)
    centers = result.centers
    labels = result.labels.reshape(h, w)
    if arr.ndim == 2:
        quantized = labels.map_blocks(_quantize, centers, arr.dtype, 2, dtype=arr.dtype)
    else:
        quantized = labels.map_blocks(
            _quantize,
            centers,
            arr.dtype,
            3,
            dtype=arr.dtype,
            new_axis=[2],
            chunks=(*labels.chunks, (channels,)),
        )
    return labels, quantized


def _quantize(labels, centers, dtype, ndim):
    q = centers[labels]
    if ndim == 2:
        q = q[..., 0]
    if np.dtype(dtype).kind != "f":
        info = np.iinfo(dtype)
        q = np.clip(np.rint(q), info.min, info.max)
    return q.astype(dtype)

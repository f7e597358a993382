"""k-means clustering and colour segmentation, with scikit-learn's numbers for the same initial
centers.

:func:`kmeans` runs Lloyd's algorithm as ``sklearn.cluster.KMeans(algorithm="lloyd")`` does:
the same tolerance (relative to the data's mean variance), the same stopping rules (labels
unchanged, or the centers' total squared shift at most the tolerance), the same relocation of
empty clusters (the points farthest from their centers move to them), the same final
assignment; and greedy k-means++ as scikit-learn draws it (with NumPy's generator: the same
algorithm, another random stream). Each iteration is one fused pass over the data in C++
(distances by register-tiled products, argmin and float64 partial sums per chunk of points,
never an N x K matrix); on CuPy arrays it is the CUDA kernels' fused pass (cuda/kmeans.cu, the
same labels), or a blocked CuPy computation where the _cuda module was not built.

>>> import foveal, numpy as np
>>> x = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
>>> r = foveal.kmeans(x, 2, init=x[[0, 2]])
>>> r.labels, r.centers
(array([0, 0, 1, 1], dtype=int32), array([[ 0. ,  0.5],
       [10. ,  0.5]]))
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import _dispatch as dsp
from . import _gpu
from . import _validate as val
from ._backend import _core
from ._typing import Array

__all__ = ["KMeansResult", "kmeans", "kmeans_predict", "segment_colors"]

FLOAT_DTYPES = ("float32", "float64")


class KMeansResult(NamedTuple):
    """What :func:`kmeans` returns: the fitted attributes of ``sklearn.cluster.KMeans``
    (``cluster_centers_``, ``labels_``, ``inertia_``, ``n_iter_``) as a named tuple.

    Fields:
        centers: (k, d) array of the data's dtype, in the data's kind.
        labels: (n,) int32 array, each point's center, in the data's kind.
        inertia: the sum of the weighted squared distances to the assigned centers (float).
        n_iter: the Lloyd iterations of the best run (int).

    >>> r = foveal.kmeans(np.array([[0.0], [2.0]]), 1, init=np.array([[0.0]]))
    >>> r.centers, r.labels, r.inertia, r.n_iter  # scikit-learn's n_iter_ is 2 as well
    (array([[1.]]), array([0, 0], dtype=int32), 2.0, 2)
    """

    centers: Any  # (k, d), the data's dtype, in the data's kind
    labels: Any  # (n,) int32, in the data's kind
    inertia: float  # sum of the weighted squared distances to the assigned centers
    n_iter: int  # Lloyd iterations of the best run


def _xp_of(arr):
    if dsp.is_cupy(arr):
        dev = _gpu.device(arr)
        if dev is not None:  # CuPy, or NumPy when the tests run the kernels' emulator
            return dev.xp
        import cupy

        return cupy
    return np


def _data(data, fn: str, name: str = "data"):
    arr, kind = dsp.float_array(data, fn, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{fn}: {name} must be (n, d) or (n,), got shape {tuple(arr.shape)}")
    if min(arr.shape) == 0:
        raise ValueError(f"{fn}: {name} must not be empty, got shape {tuple(arr.shape)}")
    xp = _xp_of(arr)
    if not bool(xp.isfinite(arr).all()):
        raise ValueError(f"{fn}: {name} must be finite (no NaN or inf)")
    return (arr if arr.flags.c_contiguous else xp.ascontiguousarray(arr)), kind


class _Assign:
    """One fused assignment pass: labels, per-cluster float64 sums and weights, inertia, and how
    many labels changed (all of them on the first pass). Natively, repeated passes keep the
    sums up to date from the points that changed label alone; with many centers or dimensions
    they also keep Hamerly's bounds: ``moved(old, new)`` before the next pass lets points whose
    nearest center cannot have changed skip the search (the labels stay those of a full
    search)."""

    def __init__(self, x, weights, k: int, *, bounded: bool = False):
        self.x, self.w = x, weights
        xp = _xp_of(x)
        n, d = x.shape
        self.labels = xp.full(n, -1, np.int32)
        self.sums = xp.empty((k, d), np.float64)
        self.counts = xp.empty(k, np.float64)
        self.native = not dsp.is_cupy(x)
        self.dev = None if self.native else _gpu.device(x)  # None: the CuPy fallback
        self.bounds = None
        if bounded and self.native and (k > 16 or d > 8):  # the few-centers path has none
            self.bounds = tuple(np.empty(n, np.float64) for _ in range(3))  # upper, lower, |x|
        self.shift = None
        self.passes = 0

    def moved(self, old, new) -> None:
        """The centers went from ``old`` to ``new`` since the last pass."""
        if self.bounds is not None:
            diff = new.astype(np.float64) - old.astype(np.float64)
            self.shift = np.sqrt((diff * diff).sum(axis=1))

    def __call__(self, centers, want_inertia: bool = True) -> tuple[float, int]:
        if self.dev is not None:
            from ._gpu import segment as kernels

            return kernels.assign(
                self.dev,
                self.x,
                self.w,
                centers,
                self.labels,
                self.sums,
                self.counts,
                want_inertia=want_inertia,
            )
        if not self.native:
            from ._cupy import segment as fallback

            return fallback.assign(
                self.x, self.w, centers, self.labels, self.sums, self.counts, _xp_of(self.x)
            )
        incremental = self.passes > 0
        self.passes += 1
        sums, counts = self.sums, self.counts
        if incremental:
            sums, counts = np.empty_like(sums), np.empty_like(counts)
        upper, lower, norms = self.bounds if self.bounds is not None else (None, None, None)
        result = _core.kmeans_assign(
            self.x,
            centers,
            self.w,
            self.labels,
            sums,
            counts,
            None,
            want_inertia,
            incremental,
            upper,
            lower,
            norms,
            self.shift,
        )
        if incremental:  # the changes the relabelled points bring
            self.sums += sums
            self.counts += counts
            self._settle_emptied()
        self.shift = None
        return result

    def _settle_emptied(self) -> None:
        """Adding and taking away weights leaves rounding behind: a cluster that lost every
        point can keep a weight of -4e-15 instead of 0, and would not count as empty. The
        clusters whose weight fell to within rounding of zero get their sums and weight again
        from their members (none: exactly 0); rare, as it takes a cluster emptying."""
        n = self.x.shape[0]
        total = float(n) if self.w is None else float(np.abs(self.w).sum())
        # Each pass adds at most n weights, each rounded by at most eps of the total weight.
        low = np.flatnonzero(self.counts <= 64 * np.finfo(np.float64).eps * n * total)
        if not low.size:
            return
        members = np.flatnonzero(np.isin(self.labels, low))
        weights = None if self.w is None else self.w[members].astype(np.float64)
        of = self.labels[members]
        k = self.counts.shape[0]
        counts = np.bincount(of, weights=weights, minlength=k)
        points = self.x[members].astype(np.float64)
        if weights is not None:
            points *= weights[:, None]
        sums = np.zeros_like(self.sums)
        np.add.at(sums, of, points)
        self.counts[low] = counts[low]
        self.sums[low] = sums[low]


def _lloyd(x, w, centers, max_iter: int, tol: float) -> tuple[Any, Any, float, int]:
    """scikit-learn's ``_kmeans_single_lloyd`` from ``centers``: (centers, labels, inertia,
    n_iter)."""
    xp = _xp_of(x)
    k = centers.shape[0]
    step = _Assign(x, w, k, bounded=True)
    strict = False
    i = 0
    for i in range(max_iter):  # noqa: B007 - i is the iteration count afterwards
        _, changed = step(centers, want_inertia=False)
        labels = step.labels
        sums, counts = step.sums.copy(), step.counts.copy()
        empty = xp.flatnonzero(counts == 0)
        if empty.size:
            _relocate(x, w, centers, labels, empty, sums, counts)
        safe = xp.where(counts > 0, counts, 1.0)
        new = xp.where((counts > 0)[:, None], sums / safe[:, None], 0.0).astype(x.dtype)
        shift = float(((new.astype(np.float64) - centers) ** 2).sum())
        step.moved(centers, new)
        centers = new
        if changed == 0:
            strict = True
            break
        if shift <= tol:
            break
    if not strict:
        inertia, _ = step(centers)
    else:
        # labels are those of the centers before the last update, which left them unchanged:
        # the inertia is taken against the final centers, as scikit-learn's.
        inertia = _inertia(x, w, centers, step.labels)
    return centers, step.labels.copy(), float(inertia), i + 1


def _inertia(x, w, centers, labels) -> float:
    if not dsp.is_cupy(x):
        return _core.kmeans_inertia(x, centers, w, labels)
    dev = _gpu.device(x)
    if dev is not None:
        from ._gpu import segment as kernels

        return kernels.inertia(dev, x, w, centers, labels)
    diff = x.astype(np.float64) - centers[labels].astype(np.float64)
    dist = (diff * diff).sum(axis=1)
    return float((dist if w is None else dist * w).sum())


def _relocate(x, w, centers_old, labels, empty, sums, counts):
    """scikit-learn's empty-cluster relocation: the points farthest (in the data's dtype) from
    their assigned old centers each become one empty cluster's center."""
    xp = _xp_of(x)
    n_empty = int(empty.size)
    dev = _gpu.device(x) if dsp.is_cupy(x) else None
    if dev is not None:  # the data dtype's values, exactly, as natively
        from ._gpu import segment as kernels

        distances = xp.empty(x.shape[0], np.float64)
        kernels.inertia(dev, x, None, centers_old, labels, distances)
    elif dsp.is_cupy(x):
        distances = ((x - centers_old[labels]) ** 2).sum(axis=1)
    else:
        distances = np.empty(x.shape[0], np.float64)  # the data dtype's values, exactly
        _core.kmeans_inertia(x, centers_old, None, labels, distances)
    far = xp.argpartition(distances, -n_empty)[: -n_empty - 1 : -1]
    for idx in range(n_empty):
        new_id = int(empty[idx])
        point = int(far[idx])
        weight = 1.0 if w is None else float(w[point])
        old_id = int(labels[point])
        value = x[point].astype(np.float64) * weight
        sums[old_id] -= value
        sums[new_id] = value
        counts[new_id] = weight
        counts[old_id] -= weight


def _on_host(arr):
    return arr if isinstance(arr, np.ndarray) else arr.get()  # NumPy (or its subclasses) or CuPy


def _kmeans_plusplus(x, w, k: int, rng: np.random.Generator):
    """Greedy k-means++ (scikit-learn's algorithm): each new center is the best, by total
    potential, of 2 + int(ln k) candidates drawn with probability proportional to weight times
    squared distance to the closest center so far."""
    xh = np.asarray(_on_host(x), dtype=np.float64)
    wh = np.ones(len(xh)) if w is None else np.asarray(_on_host(w), np.float64)
    n = len(xh)
    trials = 2 + int(np.log(k))
    norms = (xh * xh).sum(axis=1)
    centers = np.empty((k, xh.shape[1]))
    first = rng.choice(n, p=wh / wh.sum())
    centers[0] = xh[first]

    def sq_dist(points):
        d = norms[None, :] - 2 * points @ xh.T + (points * points).sum(axis=1)[:, None]
        return np.maximum(d, 0)

    closest = sq_dist(xh[first][None])[0]
    potential = closest @ wh
    for c in range(1, k):
        draws = rng.uniform(size=trials) * potential
        ids = np.searchsorted(np.cumsum(wh * closest), draws)
        np.clip(ids, None, n - 1, out=ids)
        to_candidates = np.minimum(closest, sq_dist(xh[ids]))
        pots = to_candidates @ wh
        best = int(np.argmin(pots))
        potential = pots[best]
        closest = to_candidates[best]
        centers[c] = xh[ids[best]]
    return centers


def lloyd_arguments(fn: str, k, n: int, n_init, max_iter, tol) -> tuple[int, int, int, float]:
    """k-means' counts and tolerance, checked (shared with foveal.dask.kmeans)."""
    k = val.as_int(k, fn, "k", minimum=1)
    if k > n:
        raise ValueError(f"{fn}: k={k} is larger than the number of points ({n})")
    n_init = val.as_int(n_init, fn, "n_init", minimum=1)
    max_iter = val.as_int(max_iter, fn, "max_iter", minimum=1)
    tol = val.as_number(tol, fn, "tol")
    if tol < 0:
        raise ValueError(f"{fn}: tol must be >= 0, got {tol}")
    return k, n_init, max_iter, tol


def kmeans(
    data: Array,
    k: int,
    *,
    init: str | Array = "k-means++",
    n_init: int = 1,
    max_iter: int = 300,
    tol: float = 1e-4,
    seed: int | None = None,
    sample_weight: Array | None = None,
) -> KMeansResult:
    """k-means clustering by Lloyd's algorithm, with ``sklearn.cluster.KMeans(algorithm="lloyd")``'s
    numbers for the same initial centers.

    Iterations stop when the labels no longer change, when the centers' total squared shift is
    at most ``tol`` times the data's mean variance, or after ``max_iter``; empty clusters take the
    points farthest from their centers. The best of ``n_init`` runs by inertia is returned.

    Args:
        data: (n, d) (or (n,)) float32 or float64 array, finite (NumPy, CuPy, torch or any
            DLPack object).
        k: the number of clusters, 1 <= k <= n.
        init: "k-means++" (greedy, as scikit-learn), "random" (k distinct points) or a (k, d)
            array of initial centers (then ``n_init`` must be 1).
        n_init: how many runs from different initial centers, >= 1.
        max_iter: the most Lloyd iterations of a run, >= 1.
        tol: the relative tolerance on the centers' shift, >= 0.
        seed: an int >= 0 or None; drives the initialisation (a run is deterministic for a seed
            and a thread count).
        sample_weight: None or n non-negative finite weights, not all 0.

    Returns:
        A :class:`KMeansResult` (centers (k, d) of the data's dtype, labels (n,) int32, inertia,
        n_iter); the arrays in the data's kind.

    >>> x = np.concatenate([np.zeros((5, 2)), np.ones((5, 2)) * 4])
    >>> r = foveal.kmeans(x, 2, seed=0)
    >>> sorted(r.centers[:, 0].tolist()), r.inertia
    ([0.0, 4.0], 0.0)
    """
    fn = "kmeans"
    x, kind = _data(data, fn)
    xp = _xp_of(x)
    n = x.shape[0]
    k, n_init, max_iter, tol = lloyd_arguments(fn, k, n, n_init, max_iter, tol)
    w = None
    if sample_weight is not None:
        w, _ = dsp.to_array(sample_weight, fn, "sample_weight", FLOAT_DTYPES)
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError(f"{fn}: sample_weight must have {n} values, got shape {w.shape}")
        if dsp.is_cupy(w) != dsp.is_cupy(x):
            raise TypeError(f"{fn}: sample_weight must live on the same device as data")
        w = xp.ascontiguousarray(w, dtype=x.dtype)
        if not bool(xp.isfinite(w).all()) or bool((w < 0).any()) or not float(w.sum()) > 0:
            raise ValueError(f"{fn}: sample_weight must be finite, >= 0 and not all 0")
    if seed is not None:
        seed = val.as_int(seed, fn, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    given = None
    if isinstance(init, str):
        if init not in ("k-means++", "random"):
            raise ValueError(f"{fn}: init must be 'k-means++', 'random' or an array, got {init!r}")
    else:
        given, _ = _data(init, fn, "init")
        if given.shape != (k, x.shape[1]):
            raise ValueError(
                f"{fn}: init must have shape {(k, x.shape[1])}, got {tuple(given.shape)}"
            )
        if n_init != 1:
            raise ValueError(f"{fn}: n_init must be 1 when init is an array, got {n_init}")
        given = xp.asarray(given, dtype=x.dtype)
    tol_abs = float(xp.var(x.astype(np.float64), axis=0).mean()) * tol if tol else 0.0

    best: tuple[Any, Any, float, int] | None = None
    for _ in range(n_init):
        if given is not None:
            centers = given.copy()
        elif init == "random":
            ids = rng.choice(n, k, replace=False)
            centers = x[xp.asarray(ids)].copy()
        else:
            centers = xp.asarray(_kmeans_plusplus(x, w, k, rng), dtype=x.dtype)
        run = _lloyd(x, w, xp.ascontiguousarray(centers), max_iter, tol_abs)
        if best is None or run[2] < best[2]:
            best = run
    assert best is not None  # n_init >= 1
    centers, labels, inertia, n_iter = best
    return KMeansResult(kind.wrap(centers), kind.wrap(labels), inertia, n_iter)


def kmeans_predict(data: Array, centers: Array) -> Any:
    """The index of each point's nearest center (ties: the lowest index), as
    ``sklearn.cluster.KMeans.predict``.

    Args:
        data: (n, d) (or (n,)) float32 or float64 array, finite.
        centers: (k, d) array of the data's dtype, on the data's device.

    Returns:
        An (n,) int32 array in the data's kind.

    >>> foveal.kmeans_predict(np.array([[0.1], [0.9]]), np.array([[0.0], [1.0]]))
    array([0, 1], dtype=int32)
    """
    fn = "kmeans_predict"
    x, kind = _data(data, fn)
    c, _ = _data(centers, fn, "centers")
    if c.shape[1] != x.shape[1] or c.dtype != x.dtype or dsp.is_cupy(c) != dsp.is_cupy(x):
        raise ValueError(
            f"{fn}: centers must be (k, {x.shape[1]}) of data's dtype {x.dtype} on its device, "
            f"got {tuple(c.shape)} {c.dtype}"
        )
    step = _Assign(x, None, c.shape[0])
    step(c, want_inertia=False)
    return kind.wrap(step.labels)


def segment_colors(image: Array, k: int, **kmeans_args: Any) -> tuple[Any, Any]:
    """Colour quantization by k-means: each pixel's colour vector clustered as
    ``sklearn.cluster.KMeans`` would (see :func:`kmeans`), and replaced by its cluster's center.

    Pixels cluster as float32 vectors (float64 for float64 images); integer outputs are rounded
    and clipped to the dtype's range.

    Args:
        image: (H, W, C) or (H, W) array of uint8, uint16, int16, float32 or float64.
        k: the number of colours.
        kmeans_args: keyword arguments for :func:`kmeans` (init, n_init, max_iter, tol, seed,
            sample_weight).

    Returns:
        ``(labels, quantized)``: (H, W) int32 labels and the image with each pixel replaced by
        its center (the image's shape and dtype), both in the image's kind.

    >>> img = np.zeros((4, 4, 3), np.uint8); img[:, 2:] = 200
    >>> labels, quantized = foveal.segment_colors(img, 2, seed=0)
    >>> bool((quantized == img).all()), len(set(labels.ravel().tolist()))
    (True, 2)
    """
    fn = "segment_colors"
    arr, kind = dsp.to_array(image, fn, "image", val.IMAGE_DTYPES)
    val.check_image(arr, fn, "image", val.IMAGE_DTYPES)  # TypeError for dtypes, ValueError else
    xp = _xp_of(arr)
    h, w_ = arr.shape[:2]
    channels = arr.shape[2] if arr.ndim == 3 else 1
    work = np.float64 if arr.dtype == np.float64 else np.float32
    pixels = xp.ascontiguousarray(arr.reshape(h * w_, channels), dtype=work)
    try:
        result = kmeans(pixels, k, **kmeans_args)
    except (TypeError, ValueError) as exc:  # kmeans's checks, in this function's name
        if not str(exc).startswith("kmeans:"):
            raise
        raise type(exc)(fn + str(exc)[len("kmeans") :]) from None
    centers, labels = result.centers, result.labels
    if kind.name == "torch":  # kmeans wrapped them; work on the arrays
        centers = dsp.to_array(centers, fn, "centers")[0]
        labels = dsp.to_array(labels, fn, "labels")[0]
    quantized = centers[labels].reshape(arr.shape)
    if arr.dtype.kind != "f":
        info = np.iinfo(arr.dtype)
        quantized = xp.clip(xp.rint(quantized), info.min, info.max)
    return kind.wrap(labels.reshape(h, w_)), kind.wrap(quantized.astype(arr.dtype))

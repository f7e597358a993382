"""k-means clustering (Lloyd's algorithm, k-means++ seeding) and colour quantization, in NumPy.

Data x is (N, D) (a 1-D (N,) array is (N, 1)), weights w (N,) default to ones, k centers
c (k, D). Everything is computed in float64 on data centred on its mean (as scikit-learn
does, so that ||x||^2 - 2 x.c + ||c||^2 stays accurate); centers come back in the data's
dtype, labels as int32.

    assign       label_i = argmin_j ||x_i - c_j||^2, ties to the lowest j.
    update       c_j = sum_{label_i = j} w_i x_i / sum_{label_i = j} w_i, after empty clusters
                 are refilled (scikit-learn's _relocate_empty_clusters_dense): the n_empty
                 points farthest from their assigned old center, farthest first (ties: lowest
                 point index), go one each to the empty clusters in increasing order; each
                 leaves its old cluster's sums. If every point sits on its center (more
                 clusters than distinct points) nothing moves, and a cluster still without
                 weight is put on the center of the heaviest cluster (first on ties).
    lloyd        tol_abs = tol * mean_d var(x[:, d]); labels_old = -1;
                 for i in range(max_iter):
                     labels = assign(c); c_old, c = c, update(labels)
                     if labels == labels_old: strict convergence, stop
                     if sum ||c - c_old||^2 <= tol_abs: stop
                     labels_old = labels
                 without strict convergence labels = assign(c) once more;
                 inertia = sum_i w_i ||x_i - c_{label_i}||^2, n_iter = i + 1.
    k-means++    first center drawn with probability w_i / sum w; each next one is the best
                 (lowest potential sum_i w_i min_j ||x_i - c_j||^2) of 2 + int(ln k)
                 candidates drawn with probability proportional to w_i min_j ||x_i - c_j||^2.
    kmeans       n_init seeded runs; a later run replaces the best one only when its inertia
                 is strictly lower and its partition differs (scikit-learn's rule).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

_CHUNK = 8192  # points per block of the (points, k) distance matrix


class KMeansResult(NamedTuple):
    """What kmeans returns: centers (k, D) in the data's dtype, labels (N,) int32, the
    inertia sum_i w_i ||x_i - c_{label_i}||^2 and the number of Lloyd iterations run."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int


# ----------------------------------------------------------------------------- helpers


def _float_dtype(a: np.ndarray) -> np.dtype:
    """The dtype centers come back in: the data's if it is float32 / float64, else float64."""
    return a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _as_2d(data) -> np.ndarray:
    a = np.asarray(data)
    return a.reshape(-1, 1) if a.ndim == 1 else a


def _assign(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """int32 labels argmin_j ||x_i - c_j||^2 (ties: lowest j), computed per block of points as
    ||c_j||^2 - 2 x_i.c_j (||x_i||^2 does not change the argmin)."""
    c_sq = np.einsum("kd,kd->k", c, c)
    labels = np.empty(x.shape[0], dtype=np.int32)
    for s in range(0, x.shape[0], _CHUNK):
        d = c_sq[None, :] - 2.0 * (x[s : s + _CHUNK] @ c.T)
        labels[s : s + _CHUNK] = np.argmin(d, axis=1)
    return labels


def _sq_dist_to_assigned(x, c, labels) -> np.ndarray:
    """||x_i - c_{label_i}||^2 from the differences themselves."""
    diff = x - c[labels]
    return np.einsum("nd,nd->n", diff, diff)


def _update(x, w, c_old, labels) -> np.ndarray:
    """The M-step: weighted means of the clusters, with scikit-learn's empty-cluster
    relocation."""
    k, dims = c_old.shape
    weights = np.bincount(labels, weights=w, minlength=k)
    wx = w[:, None] * x
    sums = np.stack([np.bincount(labels, weights=wx[:, d], minlength=k) for d in range(dims)], 1)
    empty = np.flatnonzero(weights == 0)
    if empty.size:
        dist = _sq_dist_to_assigned(x, c_old, labels)
        if dist.max() > 0:  # else: more clusters than distinct points, nothing to move
            far = np.argsort(-dist, kind="stable")[: empty.size]
            for j, p in zip(empty, far, strict=True):
                old = labels[p]
                sums[old] -= wx[p]
                sums[j] = wx[p]
                weights[old] -= w[p]
                weights[j] = w[p]
    full = weights > 0
    c = np.zeros_like(c_old)
    c[full] = sums[full] / weights[full, None]
    c[~full] = c[np.argmax(weights)]
    return c


def _lloyd(x, w, c, max_iter: int, tol_abs: float) -> KMeansResult:
    """One Lloyd run from the centers c (centred coordinates, float64)."""
    labels_old = np.full(x.shape[0], -1, dtype=np.int32)
    strict = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        labels = _assign(x, c)
        c_old, c = c, _update(x, w, c, labels)
        if np.array_equal(labels, labels_old):
            strict = True
            break
        if np.sum((c - c_old) ** 2) <= tol_abs:
            break
        labels_old = labels
    if not strict:
        labels = _assign(x, c)
    inertia = float(_sq_dist_to_assigned(x, c, labels) @ w)
    return KMeansResult(c, labels, inertia, n_iter)


def _kmeans_plusplus(x, w, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding (scikit-learn's _kmeans_plusplus): indices of k points."""
    n = x.shape[0]
    trials = 2 + int(np.log(k))
    idx = np.empty(k, dtype=np.intp)
    idx[0] = rng.choice(n, p=w / w.sum())
    closest = np.sum((x - x[idx[0]]) ** 2, axis=1)
    potential = closest @ w
    for c in range(1, k):
        draws = rng.uniform(size=trials) * potential
        candidates = np.searchsorted(np.cumsum(w * closest), draws)
        candidates = np.minimum(candidates, n - 1)  # rounding can push a draw past the end
        best: tuple[float, np.ndarray, int] | None = None
        for cand in candidates:
            dist = np.minimum(closest, np.sum((x - x[cand]) ** 2, axis=1))
            pot = dist @ w
            if best is None or pot < best[0]:  # first candidate wins ties, like argmin
                best = (pot, dist, cand)
        assert best is not None  # there are 2 + int(ln k) candidates
        potential, closest, idx[c] = best
    return idx


def _same_partition(a: np.ndarray, b: np.ndarray, k: int) -> bool:
    """Whether labels a map to labels b by a function (scikit-learn's _is_same_clustering)."""
    pairs = np.unique(a.astype(np.int64) * k + b)
    firsts = pairs // k
    return np.unique(firsts).size == firsts.size


# ----------------------------------------------------------------------------- public


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
    """k-means of the rows of data (N, D) by Lloyd's algorithm with scikit-learn's semantics
    (see the module docstring). init: "k-means++", "random" (k distinct points drawn with
    probability proportional to the weights, as scikit-learn does) or a (k, D) array (then
    n_init must be 1; it is first rounded to the data's dtype, as scikit-learn does). The
    random draws come from np.random.default_rng(seed)."""
    a = _as_2d(data)
    dtype = _float_dtype(a)
    n = a.shape[0]
    k = int(k)
    if not 1 <= k <= n:
        raise ValueError(f"kmeans: expected 1 <= k <= N = {n}, got k = {k}")
    x = a.astype(np.float64)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    mean = x.mean(axis=0)
    x = x - mean
    tol_abs = float(tol) * float(np.mean(np.var(x, axis=0))) if tol else 0.0

    if isinstance(init, str):
        if init not in ("k-means++", "random"):
            raise ValueError(
                f'kmeans: init must be "k-means++", "random" or an array, got {init!r}'
            )
        c0 = None
    else:
        if int(n_init) != 1:
            raise ValueError(f"kmeans: an init array needs n_init = 1, got {n_init}")
        c0 = np.asarray(init).astype(dtype).astype(np.float64).reshape(k, -1) - mean
    rng = np.random.default_rng(seed)

    best: KMeansResult | None = None
    for _ in range(int(n_init)):
        if c0 is not None:
            c = c0
        elif init == "k-means++":
            c = x[_kmeans_plusplus(x, w, k, rng)]
        else:
            c = x[rng.choice(n, size=k, replace=False, p=w / w.sum())]
        run = _lloyd(x, w, c, int(max_iter), tol_abs)
        if best is None or (
            run.inertia < best.inertia and not _same_partition(run.labels, best.labels, k)
        ):
            best = run
    if best is None:
        raise ValueError(f"kmeans: n_init must be >= 1, got {n_init}")
    centers = (best.centers + mean).astype(dtype)
    return KMeansResult(centers, best.labels, best.inertia, best.n_iter)


def kmeans_predict(data, centers) -> np.ndarray:
    """int32 index of the nearest center of every row of data (ties: lowest index)."""
    x = _as_2d(data).astype(np.float64)
    c = np.asarray(centers, dtype=np.float64).reshape(-1, x.shape[1])
    mean = x.mean(axis=0) if x.shape[0] else np.zeros(x.shape[1])
    return _assign(x - mean, c - mean)


def segment_colors(image, k, **kmeans_kwargs):
    """Colour quantization: k-means of the pixel vectors of image (H, W, C) or (H, W), in
    float32 (float64 for float64 images). Returns labels (H, W) int32 and the image with each
    pixel replaced by its center, in the input's dtype and shape (integer images: rounded half
    to even, clipped to the dtype's range)."""
    img = np.asarray(image)
    work = np.float64 if img.dtype == np.float64 else np.float32
    channels = img.shape[2] if img.ndim == 3 else 1
    pixels = img.reshape(-1, channels).astype(work)
    result = kmeans(pixels, k, **kmeans_kwargs)
    quantized = result.centers[result.labels]
    if np.issubdtype(img.dtype, np.integer):
        info = np.iinfo(img.dtype)
        quantized = np.clip(np.rint(quantized), info.min, info.max)
    quantized = quantized.astype(img.dtype).reshape(img.shape)
    return result.labels.reshape(img.shape[:2]), quantized

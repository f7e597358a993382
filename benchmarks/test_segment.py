"""Segmentation benchmarks: foveal's k-means, contours and connected components against
scikit-learn, cv2, scipy.ndimage and NumPy on the k-means and contours workloads of
WORKLOADS.md.

Run (from the repository root; the lead runs the full suite):

    PYTHONPATH=python python -m pytest benchmarks/test_segment.py \
        --benchmark-json=benchmarks/results/segment-<machine>.json

then make the table (and optionally the chart):

    python benchmarks/report.py benchmarks/results/segment-<machine>.json \
        --out benchmarks/results/segment-<machine>.md \
        --plot benchmarks/results/segment-<machine>.png

Smoke test (a sixteenth of the photo's colours, a tenth of the blobs, 540 x 960 binary image;
each body once): add ``--fv-quick --benchmark-disable``. Rows are selected with ``-k``:
``-k kmeans``, ``-k "contours and not crop"``, ``-k "label_crop and numpy"`` (ids look like
``test_kmeans[sklearn-t8-photo-k8]``, ``test_contours_crop[cv2-t1-tree]``,
``test_label[scipy-t1]``).

k-means (``test_kmeans``): exactly 20 Lloyd iterations (tol = 0) from the same initial centers,
K distinct data points drawn with a fixed seed, on

- ``photo-k8``: 1,000,000 x 3 float32, the pixel colours (0..255) of skimage's astronaut()
  resized (cv2 INTER_LINEAR) to 1000 x 1000 (deterministic random colours without skimage or
  cv2), K = 8;
- ``blobs-k256``: 100,000 x 64 float32 Gaussian blobs (256 centers uniform in [-10, 10]^64,
  unit standard deviation), K = 256.

Libraries: ``foveal`` (foveal.kmeans, init = the centers, max_iter = 20, tol = 0); ``sklearn``
(sklearn.cluster.KMeans(init = the centers, n_init = 1, max_iter = 20, tol = 0,
algorithm = "lloyd").fit, its OpenMP pool limited by threadpoolctl; the call includes its
input checks and centring of the data, as foveal's includes its own); ``cv2`` (cv2.kmeans: it
takes initial labels, not centers, so it gets KMEANS_USE_INITIAL_LABELS with the labels of the
nearest initial center, computed outside the timing and copied into each call since cv2
overwrites them; criteria (MAX_ITER, 20, 0), 1 attempt; its first step is a center update and
it refills empty clusters its own way, so its semantics differ slightly); ``numpy`` (a plain
vectorised Lloyd loop, :func:`numpy_lloyd`: float32 distances ||x||^2 - 2 x c^T + ||c||^2 per
block of points, argmin, np.bincount float64 sums, scikit-learn's empty-cluster refill and
strict convergence (labels unchanged), 20 iterations and a final assignment; BLAS held to one
thread). foveal, sklearn and cv2 run at 1
thread and at all usable cores, NumPy once. Every row records ``extra_info["n_iter"]``, the
iterations its checked call ran (cv2 reports none: its cap, 20), from which report.py shows
the time per iteration (each library's whole call / its n_iter).

Contours and components, on the 4K binary image (conftest's photo thresholded at its median,
uint8 0 / 255): ``test_contours`` times find_contours with mode "tree" and "external", method
"simple" (foveal.find_contours against cv2.findContours with RETR_TREE / RETR_EXTERNAL and
CHAIN_APPROX_SIMPLE); ``test_label`` times 8-connected labelling with statistics
(foveal.label(return_stats=True) against cv2.connectedComponentsWithStats(connectivity=8,
ltype=CV_32S) and scipy.ndimage.label with a 3 x 3 structure, which gives labels alone: its
row times no statistics). The NumPy baselines (the pure-Python references
foveal.reference.contours.find_contours and foveal.reference.components.label +
component_stats) are too slow for 4K: ``test_contours_crop`` and ``test_label_crop`` time them,
with foveal, cv2 and scipy again, on a crop of the same binary image (an eighth of each side,
270 x 480 at 4K: the bottom-right corner, the busiest one; the top-left corner of camera() is
sky, every pixel set), as their own workloads so that each ratio is taken on one input.

Checks, before timing. k-means: foveal at each thread count against scikit-learn on a float64
copy of the data (foveal.reference.segment.kmeans without scikit-learn): the same number of
iterations, labels equal on >= 99.9% of the points, inertia within 1e-4 relative; NumPy
(float64 sums too) against foveal, the same three; scikit-learn on the float32 data
against foveal: the same number of iterations, labels >= 99.5%, inertia within 5e-3 (its
center sums are float32 and drift over 20 iterations; see SKLEARN_FLOAT32); cv2 against foveal:
labels >= 99%, compactness within 5% (another algorithm from the same start; see CV2). Contours:
every library's contours (reshaped to (n, 2)) and hierarchy (to (N, 4)) equal cv2's exactly
(foveal's when cv2 is missing). Labels: labels, count, stats and centroids equal cv2's exactly;
scipy numbers the components in another order, so its labels must be the same partition with
the same count.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import foveal
import numpy as np
import pytest
from foveal import reference
from tensor_checks import blas_single_threaded

SEED = 20240601
MAX_ITER = 20
KMEANS_LIBRARIES = ("foveal", "numpy", "sklearn", "cv2")
#: Points per block of the NumPy baseline's (points, K) float32 distance matrix: 4 MiB.
BLOCK_ELEMENTS = 1 << 20


# --------------------------------------------------------------------------- k-means workloads


@dataclasses.dataclass(frozen=True)
class KMeansWorkload:
    id: str
    data: str  # "photo" or "blobs"
    n: int  # points (the photo: a side x side image)
    quick_n: int
    d: int
    k: int

    def size(self, quick: bool) -> int:
        return self.quick_n if quick else self.n


KMEANS_WORKLOADS = [
    KMeansWorkload("photo-k8", "photo", 1000 * 1000, 250 * 250, 3, 8),
    KMeansWorkload("blobs-k256", "blobs", 100_000, 10_000, 64, 256),
]
_KMEANS = {w.id: w for w in KMEANS_WORKLOADS}
BLOB_CENTERS = 256
BLOB_BOX = 10.0  # blob centers uniform in [-BLOB_BOX, BLOB_BOX]^d, unit standard deviation


class Agreement(NamedTuple):
    labels: float  # the least fraction of points with the same label
    inertia: float  # the largest relative difference of the inertia


#: foveal (float32 data, float64 sums) against scikit-learn on a float64 copy of the data, and
#: the NumPy baseline (float64 sums) against foveal: measured 1e-10 and 2e-6 relative inertia
#: and 100% of the labels on 1M photo colours, K = 8.
EXACT = Agreement(labels=0.999, inertia=1e-4)
#: scikit-learn on the float32 data sums its centers in float32, which drifts over 20
#: iterations of 1M points: measured 4.6e-4 (1 thread) and 6.9e-4 (2 threads) relative inertia
#: from foveal and 99.94% of the labels on photo-k8; its own 1- and 2-thread runs differ by
#: 1.2e-3; other seeds down to 99.82%.
SKLEARN_FLOAT32 = Agreement(labels=0.995, inertia=5e-3)
#: cv2.kmeans runs another algorithm from the same start (a center update first, empty clusters
#: refilled its own way), so it ends in another local optimum: measured 4e-4 and 1.3% relative
#: compactness, 99.55% and 99.37% of the labels on photo-k8 and blobs-k256 (2.0% on the
#: --fv-quick blobs).
CV2 = Agreement(labels=0.99, inertia=0.05)


def _photo_colours(side: int) -> np.ndarray:
    """(side * side, 3) float32 colours 0..255: astronaut() resized up (cv2 INTER_LINEAR);
    without skimage or cv2, deterministic random colours."""
    try:
        import cv2
        from skimage import data

        img = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_LINEAR)
        x = img.reshape(-1, 3).astype(np.float32)
    except ImportError:
        rng = np.random.default_rng([SEED, 10])
        x = rng.integers(0, 256, (side * side, 3)).astype(np.float32)
    return np.ascontiguousarray(x)


def _blobs(n: int, d: int) -> np.ndarray:
    """(n, d) float32: points around BLOB_CENTERS centers uniform in the box, unit deviation."""
    rng = np.random.default_rng([SEED, 11])
    centers = rng.uniform(-BLOB_BOX, BLOB_BOX, (BLOB_CENTERS, d)).astype(np.float32)
    which = rng.integers(0, BLOB_CENTERS, n)
    return np.ascontiguousarray(centers[which] + rng.standard_normal((n, d), dtype=np.float32))


def _initial_centers(x: np.ndarray, k: int, stream: int) -> np.ndarray:
    """k distinct data points (in the order drawn), with a fixed seed."""
    rng = np.random.default_rng([SEED, stream])
    drawn = rng.choice(x.shape[0], min(4 * k, x.shape[0]), replace=False)
    _, first = np.unique(x[drawn], axis=0, return_index=True)
    assert first.size >= k, f"fewer than {k} distinct points drawn"
    return np.ascontiguousarray(x[drawn[np.sort(first)[:k]]])


@pytest.fixture(scope="module")
def kmeans_inputs(fv_quick) -> dict:
    """{workload id: (x, initial centers)}, the --fv-quick sizes when asked."""
    inputs = {}
    for i, w in enumerate(KMEANS_WORKLOADS):
        n = w.size(fv_quick)
        x = _photo_colours(round(n**0.5)) if w.data == "photo" else _blobs(n, w.d)
        assert x.shape == (n, w.d) and x.min() < x.max(), "benchmark input must not be constant"
        inputs[w.id] = (x, _initial_centers(x, w.k, 20 + i))
    return inputs


# --------------------------------------------------------------------------- the NumPy baseline


def _assign(x, x_sq, c, labels, dist_min):
    """labels = argmin_j ||x_i - c_j||^2 (float32, ||x||^2 - 2 x c^T + ||c||^2, per block of
    points) and dist_min the minimum, in place."""
    c_sq = np.einsum("kd,kd->k", c, c)
    block = max(1, BLOCK_ELEMENTS // c.shape[0])
    for s in range(0, x.shape[0], block):
        dist = x[s : s + block] @ c.T
        dist *= -2.0
        dist += c_sq
        dist += x_sq[s : s + block, None]
        best = dist.argmin(axis=1)
        labels[s : s + block] = best
        dist_min[s : s + block] = np.take_along_axis(dist, best[:, None], axis=1)[:, 0]


def numpy_lloyd(x: np.ndarray, centers: np.ndarray, max_iter: int) -> foveal.KMeansResult:
    """``max_iter`` Lloyd iterations from ``centers`` (fewer when the labels stop changing,
    scikit-learn's strict convergence, its only stop with tol = 0), plain vectorised NumPy, then
    a final assignment. The sums are float64 (np.bincount); an empty cluster takes the point
    farthest from its assigned center, the farthest first (scikit-learn's refill)."""
    n, d = x.shape
    k = centers.shape[0]
    x_sq = np.einsum("nd,nd->n", x, x)
    labels = np.empty(n, np.int32)
    labels_old = np.full(n, -1, np.int32)
    dist_min = np.empty(n, x.dtype)
    c = centers.copy()
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is the count afterwards
        _assign(x, x_sq, c, labels, dist_min)
        if np.array_equal(labels, labels_old):  # c is already the mean of these labels
            break
        labels_old[...] = labels
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        sums = np.stack([np.bincount(labels, weights=x[:, j], minlength=k) for j in range(d)], 1)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            far = np.argsort(-dist_min, kind="stable")[: empty.size]
            for j, p in zip(empty, far, strict=True):
                sums[labels[p]] -= x[p]
                counts[labels[p]] -= 1
                sums[j], counts[j] = x[p], 1
        full = counts > 0
        c[full] = sums[full] / counts[full, None]
    else:
        _assign(x, x_sq, c, labels, dist_min)
    inertia = float(np.maximum(dist_min, 0).sum(dtype=np.float64))
    return foveal.KMeansResult(c, labels, inertia, n_iter)


# --------------------------------------------------------------------------- k-means calls


class Outcome(NamedTuple):
    labels: np.ndarray
    inertia: float
    n_iter: int


def _nearest(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    labels = np.empty(x.shape[0], np.int32)
    _assign(x, np.einsum("nd,nd->n", x, x), centers, labels, np.empty(x.shape[0], x.dtype))
    return labels


def _kmeans_call(library: str, x: np.ndarray, init: np.ndarray):
    k = init.shape[0]
    if library == "foveal":
        return lambda: foveal.kmeans(x, k, init=init, max_iter=MAX_ITER, tol=0.0)
    if library == "numpy":
        return lambda: numpy_lloyd(x, init, MAX_ITER)
    if library == "sklearn":
        cluster = pytest.importorskip("sklearn.cluster")

        def fit():
            km = cluster.KMeans(
                n_clusters=k, init=init, n_init=1, max_iter=MAX_ITER, tol=0.0, algorithm="lloyd"
            )
            return km.fit(x)

        return fit
    cv2 = pytest.importorskip("cv2")
    start = _nearest(x, init).reshape(-1, 1)
    criteria = (cv2.TERM_CRITERIA_MAX_ITER, MAX_ITER, 0)
    flags = cv2.KMEANS_USE_INITIAL_LABELS
    return lambda: cv2.kmeans(x, k, start.copy(), criteria, 1, flags)  # cv2 writes the labels


def _outcome(library: str, result) -> Outcome:
    if library == "sklearn":
        return Outcome(result.labels_, float(result.inertia_), int(result.n_iter_))
    if library == "cv2":  # (compactness, labels, centers); no iteration count: its cap
        compactness, labels, _ = result
        return Outcome(labels.reshape(-1), float(compactness), MAX_ITER)
    return Outcome(np.asarray(result.labels), float(result.inertia), int(result.n_iter))


# --------------------------------------------------------------------------- k-means checks

_KMEANS_RESULTS: dict[tuple, Outcome] = {}


def _reference(w: KMeansWorkload, x, init) -> Outcome:
    """scikit-learn on a float64 copy of the data (foveal.reference.segment.kmeans without
    scikit-learn), once per workload and input size."""
    key = ("reference", w.id, x.shape)
    if key not in _KMEANS_RESULTS:
        x64, init64 = x.astype(np.float64), init.astype(np.float64)
        try:
            from sklearn.cluster import KMeans
        except ImportError:
            from foveal.reference.segment import kmeans

            r = kmeans(x64, w.k, init=init64, max_iter=MAX_ITER, tol=0.0)
            _KMEANS_RESULTS[key] = _outcome("numpy", r)
        else:
            km = KMeans(w.k, init=init64, n_init=1, max_iter=MAX_ITER, tol=0.0, algorithm="lloyd")
            _KMEANS_RESULTS[key] = _outcome("sklearn", km.fit(x64))
    return _KMEANS_RESULTS[key]


def _foveal_result(w: KMeansWorkload, x, init) -> Outcome:
    """foveal's result at its default thread count, once per workload and input size."""
    key = ("foveal", w.id, x.shape)
    if key not in _KMEANS_RESULTS:
        _KMEANS_RESULTS[key] = _outcome("foveal", _kmeans_call("foveal", x, init)())
    return _KMEANS_RESULTS[key]


def _compare(where: str, got: Outcome, want: Outcome, bound: Agreement, same_n_iter: bool):
    assert got.labels.shape == want.labels.shape, f"{where}: labels {got.labels.shape}"
    agree = float(np.mean(got.labels == want.labels))
    rel = abs(got.inertia - want.inertia) / want.inertia
    assert agree >= bound.labels, (
        f"{where}: labels agree on {agree:.4%} of the points, expected >= {bound.labels:.1%}"
    )
    assert rel <= bound.inertia, (
        f"{where}: inertia {got.inertia:.8g} vs {want.inertia:.8g}, relative difference "
        f"{rel:.2e} > {bound.inertia:g}"
    )
    if same_n_iter:
        assert got.n_iter == want.n_iter, f"{where}: {got.n_iter} iterations vs {want.n_iter}"


def _kmeans_check(request, library: str, w: KMeansWorkload, x, init, label: str):
    """``check(result)``: compare with the reference (foveal) or with foveal (the others), and
    record the iterations run in the benchmark's extra_info."""

    def check(result):
        got = _outcome(library, result)
        request.getfixturevalue("benchmark").extra_info["n_iter"] = got.n_iter
        where = f"{library} on {label}"
        if library == "foveal":
            _compare(f"{where} (vs float64 reference)", got, _reference(w, x, init), EXACT, True)
            return
        want = _foveal_result(w, x, init)
        if library == "numpy":
            _compare(f"{where} (vs foveal)", got, want, EXACT, True)
        elif library == "sklearn":
            _compare(f"{where} (vs foveal)", got, want, SKLEARN_FLOAT32, True)
        else:
            _compare(f"{where} (vs foveal)", got, want, CV2, False)

    return check


_KMEANS_NOTES = {
    "sklearn": "KMeans(lloyd, n_init=1, tol=0).fit on float32, OpenMP threads by threadpoolctl",
    "cv2": "cv2.kmeans has no initial centers: KMEANS_USE_INITIAL_LABELS with the nearest "
    "initial center's labels (copied into each call), criteria (MAX_ITER, 20, 0), 1 attempt; "
    "it starts with a center update and refills empty clusters its own way (semantics differ "
    "slightly); it reports no iteration count, n_iter is its cap",
    "numpy": "plain vectorised NumPy Lloyd loop (benchmarks/test_segment.py numpy_lloyd), "
    "float32 distances, float64 bincount sums",
}


@pytest.mark.fv_libraries(*KMEANS_LIBRARIES)  # parametrizes library_threads (conftest.py)
@pytest.mark.parametrize("workload", [pytest.param(w.id, id=w.id) for w in KMEANS_WORKLOADS])
def test_kmeans(fv_benchmark, request, kmeans_inputs, workload, library_threads):
    w = _KMEANS[workload]
    library, threads = library_threads
    x, init = kmeans_inputs[w.id]
    label = f"kmeans: {x.shape[0]}x{x.shape[1]} {w.data}, K={w.k}, {MAX_ITER} iterations"
    fn = _kmeans_call(library, x, init)
    with blas_single_threaded(library) as blas:
        fv_benchmark(
            fn,
            library=library,
            threads=threads,
            workload=label,
            dtype="float32",
            shape=x.shape,
            extra_info={
                "k": w.k,
                "max_iter": MAX_ITER,
                **({"note": _KMEANS_NOTES[library]} if library in _KMEANS_NOTES else {}),
                **({"blas_threads": blas} if blas else {}),
            },
            check=_kmeans_check(request, library, w, x, init, label),
        )


# --------------------------------------------------------------------------- binary inputs


@pytest.fixture(scope="module")
def binary_u8(image_bool) -> np.ndarray:
    """The 4K photo thresholded at its median, uint8 0 / 255."""
    return np.where(image_bool, np.uint8(255), np.uint8(0))


@pytest.fixture(scope="module")
def binary_crop(binary_u8) -> np.ndarray:
    """The bottom-right eighth (of each side) of :func:`binary_u8`: 270 x 480 at 4K."""
    h, w = binary_u8.shape
    crop = np.ascontiguousarray(binary_u8[h - h // 8 :, w - w // 8 :])
    assert crop.min() < crop.max(), "benchmark input must not be constant"
    return crop


def _dims(shape) -> str:
    return "x".join(map(str, shape))


# --------------------------------------------------------------------------- contours

CONTOUR_MODES = ("tree", "external")


def _contours_call(library: str, img: np.ndarray, mode: str):
    if library == "foveal":
        return lambda: foveal.find_contours(img, mode=mode, method="simple")
    if library == "numpy":
        return lambda: reference.contours.find_contours(img, mode=mode, method="simple")
    cv2 = pytest.importorskip("cv2")
    flag = {"tree": cv2.RETR_TREE, "external": cv2.RETR_EXTERNAL}[mode]
    return lambda: cv2.findContours(img, flag, cv2.CHAIN_APPROX_SIMPLE)


def _as_contours(result) -> tuple[list[np.ndarray], np.ndarray]:
    """(contours as (n, 2) arrays, hierarchy (N, 4)) from foveal's, the reference's or cv2's."""
    contours, hierarchy = result
    points = [np.asarray(c).reshape(-1, 2) for c in contours]
    if hierarchy is None:  # cv2, no contours
        return points, np.zeros((0, 4), np.int32)
    return points, np.asarray(hierarchy).reshape(-1, 4)


_CONTOURS: dict[tuple, tuple] = {}


def _expected_contours(img: np.ndarray, mode: str):
    """cv2's contours (foveal's without cv2; None without either), once per mode and input."""
    key = (mode, img.shape)
    if key not in _CONTOURS:
        result = None
        for library in ("cv2", "foveal"):
            try:
                result = _as_contours(_contours_call(library, img, mode)())
                break
            except pytest.skip.Exception:
                continue
        _CONTOURS[key] = result
    return _CONTOURS[key]


def _contours_check(library: str, label: str, expected):
    def check(result):
        points, hierarchy = _as_contours(result)
        if expected is None:
            return
        where = f"{library} on {label}"
        want_points, want_hierarchy = expected
        assert len(points) == len(want_points), (
            f"{where}: {len(points)} contours, expected {len(want_points)}"
        )
        for i, (got, want) in enumerate(zip(points, want_points, strict=True)):
            if got.dtype != want.dtype or not np.array_equal(got, want):
                raise AssertionError(
                    f"{where}: contour {i} differs: {len(got)} {got.dtype} points "
                    f"{got[:4].tolist()}... vs {len(want)} {want.dtype} {want[:4].tolist()}..."
                )
        if not np.array_equal(hierarchy, want_hierarchy):
            bad = np.flatnonzero((hierarchy != want_hierarchy).any(axis=1))
            raise AssertionError(
                f"{where}: hierarchy differs at {bad.size} contours, first {bad[0]}: "
                f"{hierarchy[bad[0]].tolist()} vs {want_hierarchy[bad[0]].tolist()}"
            )

    return check


def _bench_contours(fv_benchmark, img: np.ndarray, what: str, mode: str, library_threads):
    library, threads = library_threads
    fn = _contours_call(library, img, mode)
    label = f"find_contours {mode} simple: {_dims(img.shape)} {what}"
    expected = _expected_contours(img, mode)
    counts = {}
    if expected is not None:
        counts = {"contours": len(expected[0]), "points": int(sum(len(c) for c in expected[0]))}
    fv_benchmark(
        fn,
        library=library,
        threads=threads,
        workload=label,
        dtype="uint8",
        shape=img.shape,
        extra_info={"mode": mode, "method": "simple", **counts},
        check=_contours_check(library, label, expected),
        slow_rounds=1,  # the pure-Python reference
    )


@pytest.mark.fv_libraries("foveal", "cv2")  # parametrizes library_threads (conftest.py)
@pytest.mark.parametrize("mode", CONTOUR_MODES)
def test_contours(fv_benchmark, binary_u8, mode, library_threads):
    _bench_contours(fv_benchmark, binary_u8, "binary", mode, library_threads)


@pytest.mark.fv_libraries("foveal", "numpy", "cv2")  # parametrizes library_threads
@pytest.mark.parametrize("mode", CONTOUR_MODES)
def test_contours_crop(fv_benchmark, binary_crop, mode, library_threads):
    _bench_contours(fv_benchmark, binary_crop, "binary crop", mode, library_threads)


# --------------------------------------------------------------------------- labels


def _label_call(library: str, img: np.ndarray):
    """A call whose result :func:`_as_labels` reads."""
    if library == "foveal":
        return lambda: foveal.label(img, connectivity=8, return_stats=True)
    if library == "numpy":

        def numpy_labels():
            labels, count = reference.components.label(img, connectivity=8)
            stats, centroids = reference.components.component_stats(labels)
            return labels, count, stats, centroids

        return numpy_labels
    if library == "scipy":
        ndi = pytest.importorskip("scipy.ndimage")
        structure = np.ones((3, 3), bool)
        return lambda: ndi.label(img, structure=structure)
    cv2 = pytest.importorskip("cv2")
    return lambda: cv2.connectedComponentsWithStats(img, connectivity=8, ltype=cv2.CV_32S)


def _as_labels(library: str, result) -> tuple:
    """(labels, count without the background, stats or None, centroids or None)."""
    if library == "cv2":
        n, labels, stats, centroids = result
        return labels, n - 1, stats, centroids
    if library == "scipy":
        labels, count = result
        return labels, int(count), None, None
    labels, count, stats, centroids = result
    return labels, int(count), stats, centroids


_LABELS: dict[tuple, tuple] = {}


def _expected_labels(img: np.ndarray):
    """cv2's labels and statistics (foveal's without cv2; None without either), once per
    input."""
    if img.shape not in _LABELS:
        result = None
        for library in ("cv2", "foveal"):
            try:
                result = _as_labels(library, _label_call(library, img)())
                break
            except pytest.skip.Exception:
                continue
        _LABELS[img.shape] = result
    return _LABELS[img.shape]


def _label_check(library: str, label: str, expected):
    def check(result):
        labels, count, stats, centroids = _as_labels(library, result)
        if expected is None:
            return
        where = f"{library} on {label}"
        want_labels, want_count, want_stats, want_centroids = expected
        assert count == want_count, f"{where}: {count} components, expected {want_count}"
        assert labels.shape == want_labels.shape, f"{where}: labels {labels.shape}"
        if library == "scipy":  # its own numbering: the same partition, background 0
            assert np.array_equal(labels == 0, want_labels == 0), f"{where}: background differs"
            pairs = np.unique(want_labels.astype(np.int64) * (count + 1) + labels)
            assert pairs.size == count + 1, f"{where}: not the same components"
            return
        assert labels.dtype == np.int32, f"{where}: labels {labels.dtype}"
        if not np.array_equal(labels, want_labels):
            y, x = np.argwhere(labels != want_labels)[0]
            raise AssertionError(
                f"{where}: labels differ, first at ({y}, {x}): {labels[y, x]} vs "
                f"{want_labels[y, x]}"
            )
        stats, centroids = np.asarray(stats), np.asarray(centroids)
        assert stats.shape == want_stats.shape and np.array_equal(stats, want_stats), (
            f"{where}: stats differ"
        )
        assert centroids.shape == want_centroids.shape, f"{where}: centroids {centroids.shape}"
        assert np.array_equal(centroids, want_centroids), (
            f"{where}: centroids differ, largest by {np.abs(centroids - want_centroids).max():.3g}"
        )

    return check


_LABEL_NOTES = {
    "scipy": "scipy.ndimage.label alone (3x3 structure): labels and count, no statistics "
    "(find_objects / centroids not timed); its own numbering, checked as the same partition",
}


def _bench_label(fv_benchmark, img: np.ndarray, what: str, library_threads):
    library, threads = library_threads
    fn = _label_call(library, img)
    label = f"label 8-connected with stats: {_dims(img.shape)} {what}"
    expected = _expected_labels(img)
    fv_benchmark(
        fn,
        library=library,
        threads=threads,
        workload=label,
        dtype="uint8",
        shape=img.shape,
        extra_info={
            "connectivity": 8,
            **({"components": expected[1]} if expected is not None else {}),
            **({"note": _LABEL_NOTES[library]} if library in _LABEL_NOTES else {}),
        },
        check=_label_check(library, label, expected),
        slow_rounds=1,  # the pure-Python reference
    )


@pytest.mark.fv_libraries("foveal", "cv2", "scipy")  # parametrizes library_threads
def test_label(fv_benchmark, binary_u8, library_threads):
    _bench_label(fv_benchmark, binary_u8, "binary", library_threads)


@pytest.mark.fv_libraries("foveal", "numpy", "cv2", "scipy")  # parametrizes library_threads
def test_label_crop(fv_benchmark, binary_crop, library_threads):
    _bench_label(fv_benchmark, binary_crop, "binary crop", library_threads)

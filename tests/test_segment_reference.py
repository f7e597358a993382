"""foveal.reference.segment against scikit-learn's KMeans(algorithm="lloyd"), the semantic
anchor of foveal's k-means.

Given the same initial centers (init=<array>, n_init=1) the reference must reproduce
scikit-learn's run: the same labels and number of iterations, centers within 1e-5 and the
inertia within 1e-5 relative (scikit-learn computes float32 data in float32, the reference in
float64). Cases: well separated and overlapping blobs, float32 / float64, with and without
sample weights, tol = 0 and tol > 0, a small max_iter (the final E-step), empty clusters
(relocation), k = 1, k = N, duplicated points. k-means++ and "random" seeding draw from a numpy
Generator, not scikit-learn's RandomState, so they are compared statistically.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import SEED
from foveal import reference as ref

sklearn_cluster = pytest.importorskip("sklearn.cluster")
# scikit-learn warns when duplicates leave fewer distinct clusters than k; that is tested.
pytestmark = pytest.mark.filterwarnings("ignore:Number of distinct clusters")


def case_rng(*tags: int) -> np.random.Generator:
    return np.random.default_rng([SEED, *tags])


def blobs(rng, n: int, k: int, d: int, spread: float, offset: float = 100.0) -> np.ndarray:
    """n points around k normal(0, 10) centers (plus offset), normal(0, spread) noise."""
    centers = rng.normal(0.0, 10.0, (k, d))
    return centers[rng.integers(0, k, n)] + rng.normal(0.0, spread, (n, d)) + offset


def sk_fit(x, init, *, sample_weight=None, **kw):
    km = sklearn_cluster.KMeans(len(init), init=init, n_init=1, algorithm="lloyd", **kw)
    return km.fit(x, sample_weight=sample_weight)


def assert_same_run(ours, theirs, x) -> None:
    """Same labels and n_iter, inertia within 1e-5 relative, centers within 1e-5."""
    assert ours.labels.dtype == np.int32 and ours.labels.shape == (x.shape[0],)
    assert ours.centers.dtype == x.dtype
    np.testing.assert_array_equal(ours.labels, theirs.labels_)
    assert ours.n_iter == theirs.n_iter_
    assert isinstance(ours.inertia, float)
    assert ours.inertia == pytest.approx(theirs.inertia_, rel=1e-5, abs=1e-9)
    scale = max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(ours.centers, theirs.cluster_centers_, rtol=1e-5, atol=1e-5 * scale)


def same_partition(a, b) -> bool:
    """Whether labels a and b split the points the same way, up to renaming the clusters."""
    pairs = np.unique(np.stack([a, b], 1), axis=0)
    return len(np.unique(pairs[:, 0])) == len(pairs) == len(np.unique(pairs[:, 1]))


# ----------------------------------------------------------------------------- Lloyd runs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spread", [1.0, 6.0], ids=["separated", "overlapping"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(
    ("tol", "max_iter"), [(0.0, 300), (1e-4, 300), (1e-2, 300), (0.0, 2)], ids=str
)
def test_lloyd_matches_sklearn(dtype, spread, weighted, tol, max_iter):
    rng = case_rng(1, int(spread), weighted, int(tol * 1e4), max_iter, dtype == np.float32)
    n, k, d = 400, 6, 3
    x = blobs(rng, n, k, d, spread).astype(dtype)
    w = rng.uniform(0.2, 3.0, n).astype(dtype) if weighted else None
    init = x[rng.choice(n, k, replace=False)]
    ours = ref.kmeans(x, k, init=init, max_iter=max_iter, tol=tol, sample_weight=w)
    theirs = sk_fit(x, init, sample_weight=w, max_iter=max_iter, tol=tol)
    assert_same_run(ours, theirs, x)


def test_tolerance_stops_before_strict_convergence():
    """tol is scaled by the mean per-feature variance; a loose one stops the run early, and
    the labels then come from one more E-step against the final centers."""
    rng = case_rng(2)
    x = blobs(rng, 600, 5, 2, 6.0)
    init = x[:5]
    strict = ref.kmeans(x, 5, init=init, tol=0.0)
    loose = ref.kmeans(x, 5, init=init, tol=1e-2)
    assert loose.n_iter < strict.n_iter
    assert_same_run(loose, sk_fit(x, init, tol=1e-2), x)
    np.testing.assert_array_equal(loose.labels, ref.kmeans_predict(x, loose.centers))


@pytest.mark.parametrize("max_iter", [1, 2, 3])
def test_max_iter_ends_with_an_e_step(max_iter):
    rng = case_rng(3, max_iter)
    x = blobs(rng, 300, 4, 2, 5.0)
    init = x[:4]
    ours = ref.kmeans(x, 4, init=init, max_iter=max_iter, tol=0.0)
    assert ours.n_iter == max_iter
    np.testing.assert_array_equal(ours.labels, ref.kmeans_predict(x, ours.centers))
    assert_same_run(ours, sk_fit(x, init, max_iter=max_iter, tol=0.0), x)


def test_one_dimensional_data_is_a_column():
    rng = case_rng(4)
    x = np.concatenate([rng.normal(0, 1, 50), rng.normal(20, 1, 50)])
    ours = ref.kmeans(x, 2, init=[[0.0], [1.0]], tol=0.0)
    assert ours.centers.shape == (2, 1)
    assert_same_run(ours, sk_fit(x[:, None], np.array([[0.0], [1.0]]), tol=0.0), x[:, None])


# ----------------------------------------------------------------------------- empty clusters


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("max_iter", [1, 300])
def test_one_empty_cluster_is_relocated_like_sklearn(dtype, weighted, max_iter):
    """A center far from the data gets no point; the point farthest from its own center moves
    to it (and leaves its old cluster's mean)."""
    rng = case_rng(5, weighted, max_iter)
    n, k = 200, 5
    x = blobs(rng, n, k, 2, 3.0).astype(dtype)
    w = rng.uniform(0.2, 3.0, n).astype(dtype) if weighted else None
    init = x[rng.choice(n, k, replace=False)].copy()
    init[2] = 1e4
    ours = ref.kmeans(x, k, init=init, max_iter=max_iter, tol=0.0, sample_weight=w)
    assert_same_run(ours, sk_fit(x, init, sample_weight=w, max_iter=max_iter, tol=0.0), x)
    if max_iter == 1:  # the relocated center is the far point itself
        assert np.any(np.all(x == ours.centers[2], axis=1))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_several_empty_clusters_are_relocated_like_sklearn(weighted):
    """Three far centers: the three farthest points refill them. scikit-learn orders those
    points with np.argpartition, whose order among them is unspecified, the reference
    farthest first; so the relocated centers are compared as a set and the final runs up to
    a renaming of the clusters."""
    rng = case_rng(6, weighted)
    n, k = 300, 7
    x = blobs(rng, n, k, 3, 3.0)
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    init = x[rng.choice(n, k, replace=False)].copy()
    init[[0, 3, 6]] = rng.normal(5e3, 100.0, (3, 3))
    one = ref.kmeans(x, k, init=init, max_iter=1, sample_weight=w)
    sk_one = sk_fit(x, init, sample_weight=w, max_iter=1)
    moved = [0, 3, 6]
    assert all(np.any(np.all(x == one.centers[j], axis=1)) for j in moved)
    np.testing.assert_allclose(
        np.sort(one.centers[moved], axis=0), np.sort(sk_one.cluster_centers_[moved], axis=0)
    )
    ours = ref.kmeans(x, k, init=init, tol=0.0, sample_weight=w)
    theirs = sk_fit(x, init, sample_weight=w, tol=0.0)
    assert same_partition(ours.labels, theirs.labels_)
    assert ours.inertia == pytest.approx(theirs.inertia_, rel=1e-9)
    np.testing.assert_allclose(
        np.sort(ours.centers, axis=0), np.sort(theirs.cluster_centers_, axis=0), rtol=1e-9
    )


def test_duplicates_with_k_equal_n():
    """More clusters than distinct points: nothing can be relocated (every point sits on its
    center), the later copy of a duplicated center stays empty and is put on the heaviest
    cluster's center, where ties keep it empty. Small integers and N = 16 keep every mean
    exact: whether any point is off its center (> 0) is decided by rounding otherwise."""
    rng = case_rng(7)
    base = rng.permutation(np.stack(np.meshgrid(np.arange(4.0), np.arange(3.0)), -1).reshape(12, 2))
    x = base[[0, 1, 2, 3, 1, 4, 5, 3, 6, 7, 8, 9, 3, 10, 11, 0]]
    ours = ref.kmeans(x, len(x), init=x, tol=0.0)
    assert_same_run(ours, sk_fit(x, x, tol=0.0), x)
    assert ours.inertia == 0.0 and len(np.unique(ours.labels)) == 12


def test_unfillable_cluster_goes_to_the_heaviest_center():
    """A cluster that stays empty is put on the center of the heaviest cluster. (scikit-learn
    1.9's _average_centers copies that cluster's weighted sum, not its mean, when the heaviest
    cluster comes after the empty one, and in its mean-centred coordinates: it would return
    (4/3, 0) for center 0 here. The reference follows the documented intent.) Then the two
    equal centers tie and the lower one takes the points."""
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    init = np.array([[50.0, 50.0], [1.0, 0.0], [0.0, 0.0]])
    ours = ref.kmeans(x, 3, init=init, tol=0.0)
    np.testing.assert_array_equal(ours.centers, [[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(ours.labels, [0, 0, 2])
    assert ours.inertia == 0.0 and ours.n_iter == 2


# ----------------------------------------------------------------------------- k = 1, k = N


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_k_is_one(dtype):
    rng = case_rng(8)
    x = blobs(rng, 100, 3, 4, 2.0).astype(dtype)
    w = rng.uniform(0.5, 2.0, 100).astype(dtype)
    ours = ref.kmeans(x, 1, init=x[:1], tol=0.0, sample_weight=w)
    assert_same_run(ours, sk_fit(x, x[:1], sample_weight=w, tol=0.0), x)
    mean = (w.astype(np.float64) @ x.astype(np.float64)) / w.sum(dtype=np.float64)
    np.testing.assert_allclose(ours.centers[0], mean, rtol=1e-6)
    assert ours.n_iter == 2 and np.all(ours.labels == 0)


def test_k_is_n():
    rng = case_rng(9)
    x = rng.normal(0.0, 1.0, (30, 3))
    init = x[::-1].copy()
    ours = ref.kmeans(x, 30, init=init, tol=0.0)
    assert_same_run(ours, sk_fit(x, init, tol=0.0), x)
    np.testing.assert_array_equal(ours.labels, np.arange(30)[::-1])
    assert ours.inertia == 0.0 and ours.n_iter == 1  # no center moved: shift 0 <= tol 0


def test_k_out_of_range():
    with pytest.raises(ValueError, match="k"):
        ref.kmeans(np.zeros((3, 2)), 4)
    with pytest.raises(ValueError, match="n_init"):
        ref.kmeans(np.zeros((3, 2)), 2, init=np.zeros((2, 2)), n_init=2)


# ----------------------------------------------------------------------------- seeding


def grid_blobs(rng, n: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """n points around the 8 nodes of a 4 x 2 grid of step 10."""
    nodes = np.stack(np.meshgrid(np.arange(4.0), np.arange(2.0)), -1).reshape(-1, 2) * 10.0
    return nodes[rng.integers(0, 8, n)] + rng.normal(0.0, spread, (n, 2)), nodes


def test_kmeans_plusplus_finds_separated_blobs():
    """Greedy k-means++ puts one seed in every well separated blob, for every seed; so does
    scikit-learn's."""
    x, nodes = grid_blobs(case_rng(10), 800, 1.0)
    best = ref.kmeans(x, 8, init=nodes, tol=0.0).inertia
    for seed in range(12):
        ours = ref.kmeans(x, 8, seed=seed, tol=0.0)
        theirs = sklearn_cluster.KMeans(8, n_init=1, tol=0.0, random_state=seed).fit(x)
        assert ours.inertia == pytest.approx(best, rel=1e-9)
        assert theirs.inertia_ == pytest.approx(best, rel=1e-9)
        assert ours.centers.dtype == np.float64


def test_kmeans_plusplus_statistically_like_sklearn():
    """16 overlapping weighted blobs: over 20 seeds the mean inertia of a single k-means++
    run is within 5% of scikit-learn's (they differ by ~1%), and below random seeding's."""
    rng = case_rng(11)
    x = rng.uniform(0.0, 40.0, (16, 2))[rng.integers(0, 16, 800)]
    x += rng.normal(0.0, 1.5, x.shape)
    w = rng.uniform(0.5, 2.0, len(x))
    ours = [ref.kmeans(x, 16, seed=s, sample_weight=w).inertia for s in range(20)]
    theirs = [
        sklearn_cluster.KMeans(16, n_init=1, random_state=s).fit(x, sample_weight=w).inertia_
        for s in range(20)
    ]
    assert np.mean(ours) == pytest.approx(np.mean(theirs), rel=0.05)
    rand = [ref.kmeans(x, 16, init="random", seed=s, sample_weight=w).inertia for s in range(8)]
    assert np.mean(rand) > np.mean(ours)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_seeded_runs_are_deterministic(init):
    x, _ = grid_blobs(case_rng(12), 300, 2.0)
    a = ref.kmeans(x, 8, init=init, seed=3, n_init=2)
    b = ref.kmeans(x, 8, init=init, seed=3, n_init=2)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centers, b.centers)
    assert a.inertia == b.inertia and a.n_iter == b.n_iter
    ref.kmeans(x, 8, init=init, seed=None)  # a fresh entropy seed also runs


def test_n_init_keeps_the_best_run():
    """The first of n_init runs draws what a single run draws; later runs only improve."""
    x, _ = grid_blobs(case_rng(13), 400, 3.0)
    for seed in range(4):
        one = ref.kmeans(x, 8, init="random", seed=seed)
        many = ref.kmeans(x, 8, init="random", seed=seed, n_init=6)
        assert many.inertia <= one.inertia


def test_random_init_draws_distinct_points():
    x = np.repeat(np.arange(10.0)[:, None], 2, axis=1)
    res = ref.kmeans(x, 10, init="random", seed=0, max_iter=1, tol=0.0)
    assert res.inertia == 0.0 and len(np.unique(res.labels)) == 10


# ----------------------------------------------------------------------------- predict, colours


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kmeans_predict_matches_sklearn(dtype):
    rng = case_rng(14)
    x = blobs(rng, 300, 5, 3, 4.0).astype(dtype)
    km = sklearn_cluster.KMeans(5, n_init=1, random_state=0).fit(x)
    new = blobs(rng, 500, 5, 3, 8.0).astype(dtype)
    labels = ref.kmeans_predict(new, km.cluster_centers_)
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, km.predict(new))


def test_kmeans_predict_ties_go_to_the_lowest_index():
    centers = np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0]])
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 5.0], [-1.0, 0.0]])
    np.testing.assert_array_equal(ref.kmeans_predict(x, centers), [0, 0, 0, 1])


def with_warnings_as_errors(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kw)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("channels", [None, 3])
def test_segment_colors(dtype, channels):
    """Labels are the k-means of the pixel vectors (float32, float64 for float64 images); the
    quantized image holds each pixel's center (rounded and clipped for integer images)."""
    rng = case_rng(15, channels or 1)
    h, w, c = 24, 20, channels or 1
    top = 200.0 if dtype == np.uint8 else 1.0 if dtype in (np.float32, np.float64) else 60000.0
    palette = rng.uniform(0.1 * top, 0.9 * top, (4, c))
    img = palette[rng.integers(0, 4, (h, w))] + rng.normal(0.0, 0.02 * top, (h, w, c))
    img = img.astype(dtype) if channels else img[..., 0].astype(dtype)
    kw = dict(seed=1, n_init=2)
    labels, quantized = with_warnings_as_errors(ref.segment_colors, img, 4, **kw)
    assert labels.shape == (h, w) and labels.dtype == np.int32
    assert quantized.shape == img.shape and quantized.dtype == img.dtype
    work = np.float64 if dtype == np.float64 else np.float32
    res = ref.kmeans(img.reshape(h * w, c).astype(work), 4, **kw)
    assert res.centers.dtype == work
    np.testing.assert_array_equal(labels.ravel(), res.labels)
    expect = res.centers[res.labels]
    if np.issubdtype(dtype, np.integer):
        expect = np.rint(expect)
    np.testing.assert_array_equal(quantized.reshape(h * w, c), expect.astype(dtype))
    # the four colours are found: one label per palette entry
    assert len(np.unique(labels)) == 4

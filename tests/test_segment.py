"""Correctness of foveal's k-means: kmeans, kmeans_predict, segment_colors.

With the same initial centers, foveal.kmeans must give scikit-learn's Lloyd result (when
scikit-learn is installed): the same labels, the same iteration count, inertia within 1e-5
relative and centers within 1e-5 of the data's scale; and the NumPy reference's
(``foveal.reference.segment``) likewise. Data are blobs (separated or overlapping) where
float32 rounding cannot flip an assignment. k-means++ is checked for determinism and quality
(it draws another random stream than scikit-learn). Bad input raises TypeError / ValueError
naming the argument.
"""

from __future__ import annotations

import foveal
import numpy as np
import pytest
from foveal.reference import segment as rseg

DTYPES = (np.float32, np.float64)


def blobs(rng, n, d, k, spread=1.0, dtype=np.float64):
    centers = rng.uniform(-10, 10, (k, d))
    which = rng.integers(0, k, n)
    return (centers[which] + spread * rng.standard_normal((n, d))).astype(dtype)


def assert_same_run(got, want, x, what):
    np.testing.assert_array_equal(np.asarray(got.labels), np.asarray(want.labels), err_msg=what)
    assert got.n_iter == want.n_iter, what
    assert abs(got.inertia - want.inertia) <= 1e-5 * abs(want.inertia) + 1e-9, what
    scale = max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(
        np.asarray(got.centers, np.float64),
        np.asarray(want.centers, np.float64),
        atol=1e-5 * scale,
        rtol=0,
        err_msg=what,
    )


CASES = [
    # (n, d, k, spread, weighted, tol, max_iter)
    (200, 2, 3, 0.5, False, 0.0, 300),
    (1000, 3, 8, 2.0, False, 1e-4, 300),
    (777, 5, 6, 3.0, True, 0.0, 50),
    (513, 17, 13, 1.5, False, 1e-4, 300),
    (300, 64, 20, 4.0, True, 1e-4, 300),
    (50, 1, 4, 0.3, False, 0.0, 300),
    (90, 3, 1, 1.0, True, 0.0, 300),
    (40, 2, 5, 6.0, False, 0.0, 3),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[f"n{c[0]}-d{c[1]}-k{c[2]}" for c in CASES])
def test_matches_reference_and_sklearn(case, dtype):
    n, d, k, spread, weighted, tol, max_iter = case
    rng = np.random.default_rng(n * 31 + d)
    x = blobs(rng, n, d, k, spread, dtype)
    init = x[rng.choice(n, k, replace=False)].copy()
    w = rng.uniform(0.2, 2.0, n).astype(dtype) if weighted else None
    got = foveal.kmeans(x, k, init=init, tol=tol, max_iter=max_iter, sample_weight=w)
    assert got.labels.dtype == np.int32 and got.centers.dtype == dtype
    want = rseg.kmeans(x, k, init=init, tol=tol, max_iter=max_iter, sample_weight=w)
    assert_same_run(got, want, x, "vs reference")
    cluster = pytest.importorskip("sklearn.cluster")
    km = cluster.KMeans(k, init=init, n_init=1, max_iter=max_iter, tol=tol, algorithm="lloyd")
    km.fit(x, sample_weight=w)
    sk = rseg.KMeansResult(km.cluster_centers_, km.labels_, km.inertia_, km.n_iter_)
    assert_same_run(got, sk, x, "vs scikit-learn")


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_cluster_relocation(dtype):
    """A center far from every point gets nothing: scikit-learn moves it to the point farthest
    from its center; so must foveal."""
    rng = np.random.default_rng(5)
    x = blobs(rng, 300, 2, 3, 1.0, dtype)
    init = np.concatenate([x[:2], np.full((2, 2), 1e3, dtype)]).astype(dtype)
    got = foveal.kmeans(x, 4, init=init, tol=0.0)
    want = rseg.kmeans(x, 4, init=init, tol=0.0)
    assert_same_run(got, want, x, "vs reference")
    cluster = pytest.importorskip("sklearn.cluster")
    km = cluster.KMeans(4, init=init, n_init=1, tol=0.0, algorithm="lloyd").fit(x)
    np.testing.assert_array_equal(got.labels, km.labels_)
    assert got.n_iter == km.n_iter_


@pytest.mark.parametrize("dtype", DTYPES)
def test_degenerate_data(dtype):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((12, 3)).astype(dtype)
    # k = n: every point its own cluster.
    r = foveal.kmeans(x, 12, init=x.copy())
    assert sorted(r.labels.tolist()) == list(range(12)) and r.inertia == 0.0
    # k = 1: the weighted mean.
    r = foveal.kmeans(x, 1, seed=0)
    np.testing.assert_allclose(r.centers[0], x.mean(axis=0), rtol=1e-5, atol=1e-6)
    # duplicates and constant data: no NaN, inertia 0.
    dup = np.repeat(x[:3], 5, axis=0)
    r = foveal.kmeans(dup, 3, seed=1)
    assert np.isfinite(r.centers).all() and r.inertia < 1e-9
    const = np.ones((20, 2), dtype)
    r = foveal.kmeans(const, 2, seed=0)
    assert np.isfinite(r.centers).all() and r.inertia == 0.0


def test_kmeans_plus_plus_is_deterministic_and_finds_blobs():
    rng = np.random.default_rng(3)
    x = blobs(rng, 2000, 4, 6, 0.3, np.float32)
    a = foveal.kmeans(x, 6, seed=7, n_init=3)
    b = foveal.kmeans(x, 6, seed=7, n_init=3)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centers, b.centers)
    # Well-separated blobs: the best of three k-means++ runs finds them (inertia ~ n * d * 0.09).
    assert a.inertia < 2000 * 4 * 0.3**2 * 1.5
    r = foveal.kmeans(x, 6, init="random", seed=2, n_init=4)
    assert r.inertia >= a.inertia * (1 - 1e-6) or r.inertia > 0


def test_same_thread_count_is_deterministic_and_isas_agree(restore_isa):
    rng = np.random.default_rng(11)
    x = blobs(rng, 20000, 8, 10, 1.0, np.float32)
    init = x[:10].copy()
    runs = [foveal.kmeans(x, 10, init=init, tol=0.0, max_iter=30) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].centers, runs[1].centers)
    with foveal.num_threads(1):
        one = foveal.kmeans(x, 10, init=init, tol=0.0, max_iter=30)
    np.testing.assert_array_equal(one.labels, runs[0].labels)
    for isa in foveal._core.supported_isas():
        foveal.set_isa(isa)
        r = foveal.kmeans(x, 10, init=init, tol=0.0, max_iter=30)
        np.testing.assert_array_equal(r.labels, runs[0].labels, err_msg=isa)
        assert abs(r.inertia - one.inertia) <= 1e-6 * one.inertia


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (1000, 17)])
def test_predict(dtype, shape):
    rng = np.random.default_rng(shape[0])
    x = rng.standard_normal(shape).astype(dtype)
    c = rng.standard_normal((min(5, shape[0]) + 2, shape[1])).astype(dtype)
    got = foveal.kmeans_predict(x, c)
    d = ((x[:, None, :].astype(np.float64) - c[None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_array_equal(got, d.argmin(1))
    np.testing.assert_array_equal(got, rseg.kmeans_predict(x, c))
    # Ties go to the lowest index.
    np.testing.assert_array_equal(foveal.kmeans_predict(x, np.repeat(c[:1], 3, axis=0)), 0)


def test_predict_non_contiguous_and_1d():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((50, 6))
    c = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(
        foveal.kmeans_predict(x[:, ::2], c), foveal.kmeans_predict(x[:, ::2].copy(), c)
    )
    v = rng.standard_normal(20)
    np.testing.assert_array_equal(foveal.kmeans_predict(v, np.array([[0.0], [1.0]])), v > 0.5)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_segment_colors(dtype):
    rng = np.random.default_rng(4)
    palette = np.array([[10, 20, 30], [200, 40, 90], [90, 220, 140]], np.float64)
    which = rng.integers(0, 3, (31, 45))
    img = (palette[which] + rng.normal(0, 2, (31, 45, 3))).clip(0, 255).astype(dtype)
    labels, quantized = foveal.segment_colors(img, 3, seed=0)
    assert labels.shape == (31, 45) and labels.dtype == np.int32
    assert quantized.shape == img.shape and quantized.dtype == img.dtype
    # Each palette colour is one cluster.
    for j in range(3):
        assert len(set(labels[which == j].tolist())) == 1
    assert np.abs(quantized.astype(np.float64) - palette[which]).max() < 5
    gray_labels, gray = foveal.segment_colors(img[..., 0], 2, seed=0)
    assert gray.shape == img.shape[:2] and gray_labels.shape == img.shape[:2]


BAD = [
    (lambda: foveal.kmeans([[1.0, 2.0]], 1), TypeError, "kmeans: data"),
    (lambda: foveal.kmeans(np.ones((4, 2), np.int32), 1), TypeError, "kmeans: data"),
    (lambda: foveal.kmeans(np.ones((4, 2)), 5), ValueError, "kmeans: k=5"),
    (lambda: foveal.kmeans(np.ones((4, 2)), 0), ValueError, "kmeans: k"),
    (lambda: foveal.kmeans(np.ones((4, 2)), 1.5), TypeError, "kmeans: k"),
    (lambda: foveal.kmeans(np.array([[np.nan, 1.0]]), 1), ValueError, "kmeans: data"),
    (lambda: foveal.kmeans(np.ones((0, 2)), 1), ValueError, "kmeans: data"),
    (lambda: foveal.kmeans(np.ones((4, 2, 2)), 1), ValueError, "kmeans: data"),
    (lambda: foveal.kmeans(np.ones((4, 2)), 2, init=np.ones((3, 2))), ValueError, "kmeans: init"),
    (lambda: foveal.kmeans(np.ones((4, 2)), 2, init="best"), ValueError, "kmeans: init"),
    (
        lambda: foveal.kmeans(np.ones((4, 2)), 2, init=np.ones((2, 2)), n_init=2),
        ValueError,
        "kmeans: n_init",
    ),
    (lambda: foveal.kmeans(np.ones((4, 2)), 2, tol=-1), ValueError, "kmeans: tol"),
    (lambda: foveal.kmeans(np.ones((4, 2)), 2, max_iter=0), ValueError, "kmeans: max_iter"),
    (
        lambda: foveal.kmeans(np.ones((4, 2)), 2, sample_weight=np.ones(3)),
        ValueError,
        "kmeans: sample_weight",
    ),
    (
        lambda: foveal.kmeans(np.ones((4, 2)), 2, sample_weight=-np.ones(4)),
        ValueError,
        "kmeans: sample_weight",
    ),
    (lambda: foveal.kmeans(np.ones((4, 2)), 2, seed=-1), ValueError, "kmeans: seed"),
    (
        lambda: foveal.kmeans_predict(np.ones((4, 2)), np.ones((2, 3))),
        ValueError,
        "kmeans_predict: centers",
    ),
    (
        lambda: foveal.segment_colors(np.ones((4, 4, 3), np.int64), 2),
        TypeError,
        "segment_colors: image",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD, ids=[b[2] for b in BAD])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


class _Dressed(np.ndarray):
    """A NumPy array that foveal's dispatch takes for a CuPy one (with the fixture below)."""


def test_cupy_route(monkeypatch):
    """On "CuPy" input the assignment pass is the array-module fallback (run here with NumPy):
    the same run as the native pass."""
    from foveal import _dispatch
    from foveal import segment as seg
    from foveal._cupy import segment as fallback

    calls = []
    original = fallback.assign

    def counted(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(_dispatch, "is_cupy", lambda arr: isinstance(arr, _Dressed))
    monkeypatch.setattr(seg, "_xp_of", lambda arr: np)
    monkeypatch.setattr(fallback, "assign", counted)
    monkeypatch.setattr(fallback, "BLOCK_BYTES", 4096)  # several blocks
    rng = np.random.default_rng(8)
    x = blobs(rng, 500, 3, 4, 1.0, np.float64)
    init = x[:4].copy()
    routed = foveal.kmeans(x.view(_Dressed), 4, init=init.view(_Dressed), tol=0.0)
    assert calls, "the fallback was not used"
    native = foveal.kmeans(x, 4, init=init, tol=0.0)
    assert_same_run(routed, native, x, "routed")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "n, d, k, spread, weighted",
    [
        (3000, 12, 40, 0.3, False),  # well separated: most points pruned after a few passes
        (3000, 12, 40, 3.0, True),  # overlapping blobs: many points near two centers
        (2500, 3, 24, 1.0, False),  # more than 16 centers in few dimensions
        (997, 33, 17, 0.5, True),  # sizes off the tile and vector widths
    ],
)
def test_bounds_never_change_a_run(monkeypatch, dtype, n, d, k, spread, weighted):
    """Hamerly's bounds skip searches and keep the sums from the relabelled points alone; the
    run (labels every pass, iterations, inertia, centers) must be that of full searches."""
    from foveal import segment as seg

    rng = np.random.default_rng(31 + d + k)
    x = blobs(rng, n, d, k, spread, dtype)
    w = rng.uniform(0.5, 2.0, n).astype(dtype) if weighted else None
    init = x[rng.choice(n, k, replace=False)]
    bounded = foveal.kmeans(x, k, init=init, tol=0.0, max_iter=60, sample_weight=w)
    full_init = seg._Assign.__init__
    monkeypatch.setattr(
        seg._Assign,
        "__init__",
        lambda self, x, w, k, bounded=False: full_init(self, x, w, k, bounded=False),
    )
    full = foveal.kmeans(x, k, init=init, tol=0.0, max_iter=60, sample_weight=w)
    assert bounded.n_iter > 3, "the bounds were never used"
    assert_same_run(bounded, full, x, "bounded vs full search")


def test_bounds_never_change_a_run_with_centers_searched_in_place(monkeypatch):
    """Many centers in many dimensions (600 x 900 float64): the packed copies of each center's
    near centers would pass their memory limit (64 MiB), so the search among near centers
    reads the centers in place, one point at a time; still the run of full searches."""
    from foveal import segment as seg

    rng = np.random.default_rng(77)
    n, d, k = 1500, 900, 600
    x = blobs(rng, n, d, k // 2, 1.0, np.float64)  # about two centers to a blob
    init = x[rng.choice(n, k, replace=False)]
    bounded = foveal.kmeans(x, k, init=init, tol=0.0, max_iter=12)
    full_init = seg._Assign.__init__
    monkeypatch.setattr(
        seg._Assign,
        "__init__",
        lambda self, x, w, k, bounded=False: full_init(self, x, w, k, bounded=False),
    )
    full = foveal.kmeans(x, k, init=init, tol=0.0, max_iter=12)
    assert bounded.n_iter > 3, "the bounds were never used"
    assert_same_run(bounded, full, x, "bounded (near centers in place) vs full search")


def test_bounds_never_change_a_run_on_four_threads(monkeypatch):
    """Each center's near list is made by the first thread whose point asks for it while the
    others wait for it: four threads on shared centers still give the run of full searches."""
    from foveal import segment as seg

    rng = np.random.default_rng(5)
    x = blobs(rng, 20000, 24, 60, 1.0, np.float32)
    init = x[rng.choice(x.shape[0], 120, replace=False)]
    with foveal.num_threads(4):
        bounded = foveal.kmeans(x, 120, init=init, tol=0.0, max_iter=25)
        full_init = seg._Assign.__init__
        monkeypatch.setattr(
            seg._Assign,
            "__init__",
            lambda self, x, w, k, bounded=False: full_init(self, x, w, k, bounded=False),
        )
        full = foveal.kmeans(x, 120, init=init, tol=0.0, max_iter=25)
    assert bounded.n_iter > 3, "the bounds were never used"
    assert_same_run(bounded, full, x, "bounded on four threads vs full search")


def test_a_weighted_cluster_that_empties_is_reseeded_as_in_full_searches(monkeypatch):
    """The incremental sums add and take away float64 weights, which can leave an emptied
    cluster at -4e-15 rather than 0; it must still count as empty and be re-seeded, as the
    full-search run (whose sums start from zero every pass) re-seeds it. One initial center far
    from every point empties at once; this case left two clusters empty, centered at 0."""
    from foveal import segment as seg

    rng = np.random.default_rng(11)
    n, d, k = 800, 65, 20
    means = rng.uniform(-10, 10, (k // 2 + 1, d))
    x = means[rng.integers(0, k // 2 + 1, n)] + 0.4 * rng.standard_normal((n, d))
    init = x[rng.choice(n, k, replace=False)].copy()
    init[-1] = 1e3
    w = rng.uniform(0.5, 1.5, n)
    bounded = foveal.kmeans(x, k, init=init, sample_weight=w, max_iter=50)
    full_init = seg._Assign.__init__
    monkeypatch.setattr(
        seg._Assign,
        "__init__",
        lambda self, x, w, k, bounded=False: full_init(self, x, w, k, bounded=False),
    )
    full = foveal.kmeans(x, k, init=init, sample_weight=w, max_iter=50)
    assert np.bincount(bounded.labels, minlength=k).min() > 0, "a cluster was left empty"
    assert_same_run(bounded, full, x, "weighted, a cluster emptied")

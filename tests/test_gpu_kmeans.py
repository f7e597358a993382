"""k-means on the GPU (cuda/kmeans.cu through foveal._gpu.segment) against the CPU pass.

The assignment pass: labels and the changed count exactly (the kernels compute the CPU's
distance |c|^2 - 2 x.c by the same fused multiply-adds in the same order, so ties and near
ties go the same way); per-cluster sums and weights to float64 rounding (1e-12 of their
scale), except against the CPU's few-centers path in float32 (k <= 16, d <= 8), which adds
each block of 256 points in float32 (1e-6); the inertia to 1e-12 relative (1e-6 in float32,
where the CPU's few-centers path rounds each distance to float32). Both kernels (few and many
centers) and the many-centers kernel's sums in global memory run on every case they take. The
distance pass: each distance exactly (the data's precision, separate multiplies and adds, as
the CPU), the inertia to 1e-12. The whole of foveal.kmeans (and kmeans_predict,
segment_colors) through the GPU route against the native result from the same initial
centers: the same labels and n_iter, centers and inertia to 1e-6 relative.
"""

from __future__ import annotations

import foveal
import numpy as np
import pytest
from foveal import _gpu
from foveal._backend import _core
from foveal._gpu import segment as kernels

DTYPES = ["float32", "float64"]


def _clustered(rng, n, d, groups=8):
    means = rng.uniform(-10, 10, (groups, d))
    return means[rng.integers(0, groups, n)] + 0.4 * rng.standard_normal((n, d))


def _grid(rng, n, d):
    """Small integers: exact distances, so many exact ties between centers."""
    return rng.integers(0, 5, (n, d)).astype(np.float64)


DATA = {"random": lambda rng, n, d: rng.standard_normal((n, d)), "clustered": _clustered}
DATA["grid"] = _grid

# (n, d, k, data): d = 1, 2, 3, 4, 16, 64, 65; k = 1 and k = n; n never a multiple of the
# tiles (256 points for few centers, 128 / 64 for many) and, at 2100, more tiles than the
# emulator's blocks of the few-centers kernel (each block then takes several; the emulated
# many-centers kernel runs 2 blocks, so always several).
CASES = [
    (1000, 1, 5, "random"),
    (1001, 2, 7, "clustered"),
    (2100, 3, 8, "clustered"),
    (777, 4, 16, "random"),
    (500, 16, 15, "random"),
    (257, 5, 1, "random"),
    (300, 3, 300, "random"),
    (600, 64, 40, "clustered"),
    (401, 65, 33, "random"),
    (150, 2, 150, "grid"),
    (700, 3, 20, "grid"),
    (130, 9, 130, "clustered"),
]


def _few_fits(d, k):
    return d <= 16 and k * (d + 1) <= 256


def _cpu_pass(x, c, w, labels):
    k, d = c.shape
    lab, sums, counts = labels.copy(), np.empty((k, d)), np.empty(k)
    inertia, changed = _core.kmeans_assign(x, c, w, lab, sums, counts, None, True, False)
    return lab, sums, counts, inertia, changed


def _gpu_pass(backend, x, c, w, labels, **kwargs):
    to_device, to_host = backend
    xd = to_device(x)
    dev = _gpu.device(xd)
    k, d = c.shape
    lab = to_device(labels.copy())
    sums, counts = dev.xp.empty((k, d)), dev.xp.empty(k)
    wd = None if w is None else to_device(w)
    inertia, changed = kernels.assign(dev, xd, wd, to_device(c), lab, sums, counts, **kwargs)
    return to_host(lab), to_host(sums), to_host(counts), inertia, changed


def _close(got, want, rtol, what):
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=what)


def _inputs(case, dtype, weighted, seed=0):
    n, d, k, kind = case
    rng = np.random.default_rng(seed)
    x = DATA[kind](rng, n, d).astype(dtype)
    c = x[rng.choice(n, k, replace=False)].copy()
    if kind == "grid" and k < n:  # duplicated centers too: the lowest index wins
        c[1::3] = c[::3][: len(c[1::3])]
    w = rng.uniform(0.1, 2.0, n).astype(dtype) if weighted else None
    labels = rng.integers(-1, k, n).astype(np.int32)  # -1: a point new to the pass
    return x, c, w, labels


def _variants(d, k):
    """The kernels and sums placements that take (d, k) (the route's own choice among them runs
    in the tests of foveal.kmeans)."""
    out = [dict(path="many"), dict(path="many", shared_limit=0)]
    if _few_fits(d, k):
        out.append(dict(path="few"))
    return out


# Each case weighted in one dtype and not in the other (half the emulated time of both in both).
PASS_CASES = [
    (case, dtype, (i + j) % 2 == 1)
    for i, case in enumerate(CASES)
    for j, dtype in enumerate(DTYPES)
]


@pytest.mark.parametrize(
    ("case", "dtype", "weighted"),
    PASS_CASES,
    ids=[f"{n}x{d}-k{k}-{kind}-{t}" + "-w" * w for (n, d, k, kind), t, w in PASS_CASES],
)
def test_assign_pass(backend, case, dtype, weighted):
    n, d, k, _ = case
    x, c, w, labels = _inputs(case, dtype, weighted)
    want = _cpu_pass(x, c, w, labels)
    cpu_few32 = dtype == "float32" and k <= 16 and d <= 8
    sum_tol = 1e-6 if cpu_few32 else 1e-12
    inertia_tol = 1e-6 if dtype == "float32" else 1e-12
    for kwargs in _variants(d, k):
        lab, sums, counts, inertia, changed = _gpu_pass(backend, x, c, w, labels, **kwargs)
        what = f"{case} {dtype} {kwargs}"
        np.testing.assert_array_equal(lab, want[0], err_msg=what)
        assert changed == want[4], what
        _close(sums, want[1], sum_tol, what + " sums")
        _close(counts, want[2], sum_tol, what + " counts")
        assert inertia == pytest.approx(want[3], rel=inertia_tol, abs=1e-300), what


@pytest.mark.parametrize("dtype", DTYPES)
def test_assign_without_inertia_and_repeated(backend, dtype):
    """want_inertia=False reports 0; a second pass over its own labels changes none; the same
    pass twice gives the same bits (no atomics)."""
    x, c, w, labels = _inputs((900, 3, 6, "clustered"), dtype, True)
    first = _gpu_pass(backend, x, c, w, labels, want_inertia=False)
    assert first[3] == 0.0
    again = _gpu_pass(backend, x, c, w, first[0])
    assert again[4] == 0
    np.testing.assert_array_equal(again[0], first[0])
    for path in ("few", "many"):
        a = _gpu_pass(backend, x, c, w, labels, path=path)
        b = _gpu_pass(backend, x, c, w, labels, path=path)
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[2], b[2])
        assert a[3] == b[3]


def test_assign_ties_to_lowest_index(backend):
    """Every point equidistant from several identical centers takes the first of them."""
    x = np.repeat(np.arange(6.0), 40)[:, None].astype(np.float32)  # duplicated points
    c = np.array([[5.0], [1.0], [1.0], [5.0], [3.0], [1.0]], np.float32)
    labels = np.full(len(x), -1, np.int32)
    want = _cpu_pass(x, c, None, labels)
    assert set(np.unique(want[0])) == {0, 1, 4}
    for kwargs in _variants(1, 6):
        got = _gpu_pass(backend, x, c, None, labels, **kwargs)
        np.testing.assert_array_equal(got[0], want[0], err_msg=str(kwargs))


def _near_ties(rng, n, d, k, dtype, integer_centers):
    """Points on the bisector of two centers, nearer to neither but for rounding, and k - 2
    centers far away: the labels follow the last bits of |c|^2 - 2 x.c. Integer centers have
    exact norms, so that only the products' rounding decides."""
    if integer_centers:
        pair = rng.integers(-20, 21, (2, d)).astype(np.float64)
    else:
        pair = rng.uniform(-50, 50, (2, d)).astype(dtype).astype(np.float64)
    mid = pair.mean(axis=0)
    u = (pair[1] - pair[0]) / np.linalg.norm(pair[1] - pair[0])
    v = rng.standard_normal((n, d))
    v -= (v @ u)[:, None] * u
    far = rng.uniform(500, 1000, (k - 2, d))
    return (mid + 30 * v).astype(dtype), np.concatenate([pair, far]).astype(dtype)


# (d, k, integer centers). The CPU's |c|^2 is a chain of fused multiply-adds only for d <= 3
# (beyond, its build rounds the squares of the first 4 floor(d / 4) coordinates apart: see
# the route's docstring), so larger d take integer centers, whose norms are exact either way.
NEAR_TIES = [
    (1, 2, False),
    (2, 3, False),
    (3, 2, False),
    (3, 20, False),
    (4, 2, True),
    (9, 20, True),
    (64, 3, True),
    (65, 40, True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("d", "k", "integer_centers"), NEAR_TIES)
def test_assign_near_ties(backend, d, k, integer_centers, dtype):
    """The CPU's labels where only the distance's rounding decides them (most points here):
    the same products, sums and comparisons in the same order."""
    rng = np.random.default_rng(d * 100 + k)
    x, c = _near_ties(rng, 600, d, k, dtype, integer_centers)
    labels = np.full(len(x), -1, np.int32)
    want = _cpu_pass(x, c, None, labels)
    for kwargs in _variants(d, k):
        if "shared_limit" in kwargs:  # where the sums go changes no label
            continue
        got = _gpu_pass(backend, x, c, None, labels, want_inertia=False, **kwargs)
        np.testing.assert_array_equal(got[0], want[0], err_msg=str(kwargs))


def test_assign_few_path_refuses_what_it_cannot_take(backend):
    x, c, w, labels = _inputs((100, 17, 2, "random"), "float32", False)
    with pytest.raises(ValueError, match="few-centers"):
        _gpu_pass(backend, x, c, w, labels, path="few")
    with pytest.raises(ValueError, match="path"):
        _gpu_pass(backend, x, c, w, labels, path="fast")


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [(1000, 3, 8, "random"), (333, 65, 40, "clustered")])
def test_distance_pass(backend, case, dtype, weighted):
    to_device, to_host = backend
    x, c, w, _ = _inputs(case, dtype, weighted)
    labels = np.random.default_rng(3).integers(0, case[2], case[0]).astype(np.int32)
    want_dist = np.empty(case[0])
    want = _core.kmeans_inertia(x, c, w, labels, want_dist)
    xd = to_device(x)
    dev = _gpu.device(xd)
    dist = dev.xp.empty(case[0], np.float64)
    wd = None if w is None else to_device(w)
    got = kernels.inertia(dev, xd, wd, to_device(c), to_device(labels), dist)
    np.testing.assert_array_equal(to_host(dist), want_dist)  # the data's precision, exactly
    assert got == pytest.approx(want, rel=1e-12)
    assert kernels.inertia(dev, xd, wd, to_device(c), to_device(labels)) == got
    labels[7] = case[2]
    with pytest.raises(ValueError, match="labels"):
        kernels.inertia(dev, xd, wd, to_device(c), to_device(labels))


# ------------------------------------------------------------------ the whole of foveal.kmeans

RUNS = [
    # (n, d, k, weighted, far): far puts one initial center far from every point, so that its
    # cluster empties and the relocation (the distance pass) runs.
    (2000, 3, 8, False, False),
    (2000, 3, 8, True, True),
    (1000, 16, 40, False, False),
    (800, 65, 20, True, True),
]


def _same_run(got, want, to_host, what):
    np.testing.assert_array_equal(to_host(got.labels), want.labels, err_msg=what)
    assert got.n_iter == want.n_iter, what
    np.testing.assert_allclose(to_host(got.centers), want.centers, rtol=1e-6, atol=1e-6)
    assert got.inertia == pytest.approx(want.inertia, rel=1e-6), what


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "run", RUNS, ids=[f"{n}x{d}-k{k}" + "-w" * w + "-far" * f for n, d, k, w, f in RUNS]
)
def test_kmeans_through_gpu_route(backend, run, dtype):
    to_device, to_host = backend
    n, d, k, weighted, far = run
    rng = np.random.default_rng(11)
    x = _clustered(rng, n, d, groups=k // 2 + 1).astype(dtype)
    init = x[rng.choice(n, k, replace=False)].copy()
    if far:
        init[-1] = 1e3
    w = rng.uniform(0.5, 1.5, n).astype(dtype) if weighted else None
    want = foveal.kmeans(x, k, init=init, sample_weight=w, max_iter=50)
    wd = None if w is None else to_device(w)
    got = foveal.kmeans(to_device(x), k, init=to_device(init), sample_weight=wd, max_iter=50)
    assert isinstance(got.inertia, float) and isinstance(got.n_iter, int)
    _same_run(got, want, to_host, str(run))
    assert to_host(got.labels).dtype == np.int32


def test_kmeans_predict_and_segment_colors(request, backend):
    to_device, to_host = backend
    rng = np.random.default_rng(4)
    x = _clustered(rng, 1200, 4).astype(np.float32)
    c = x[:9].copy()
    want = foveal.kmeans_predict(x, c)
    np.testing.assert_array_equal(to_host(foveal.kmeans_predict(to_device(x), to_device(c))), want)
    img = rng.integers(0, 256, (23, 31, 3)).astype(np.uint8)
    labels, quantized = foveal.segment_colors(img, 5, seed=3, max_iter=20)  # k-means++ init
    got_labels, got_quantized = foveal.segment_colors(to_device(img), 5, seed=3, max_iter=20)
    np.testing.assert_array_equal(to_host(got_labels), labels)
    np.testing.assert_array_equal(to_host(got_quantized), quantized)
    if hasattr(request.node, "taken"):  # the emulated backend really took the GPU route
        assert request.node.taken

"""foveal.dask: every function on Dask arrays of several chunks (odd sizes, halos wider than a
chunk) equals the in-memory call on the whole array, with the threaded scheduler, the
synchronous one, and a 2-process dask.distributed cluster."""

from __future__ import annotations

import os

import foveal
import numpy as np
import pytest
from conftest import random_image

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
fd = pytest.importorskip("foveal.dask")

BORDERS = ("constant", "replicate", "reflect", "reflect101", "wrap")
ODD_CHUNKS = [(17, 23), (40, 9)]


@pytest.fixture(autouse=True)
def threaded():
    with dask.config.set(scheduler="threads"):
        yield


def chunked(img, chunks):
    return da.from_array(img, chunks=chunks + img.shape[2:])


def smooth_image(rng, shape, sigma=2.0):
    """uint8 with structure (edges, blobs), not white noise."""
    noise = (rng.random(shape) * 255).astype(np.uint8)
    return foveal.gaussian_blur(noise, 0, sigma)


def blobs(rng, shape, density=0.5):
    """A binary image of blobs of many sizes, with holes and blobs in holes."""
    img = smooth_image(rng, shape, 1.5)
    return (img > np.quantile(img, 1 - density)).astype(np.uint8)


def rings(shape):
    """Nested square rings (holes in holes, regions inside holes) crossing chunk faces."""
    img = np.zeros(shape, np.uint8)
    h, w = shape
    for k in range(0, min(h, w) // 2, 3):
        img[k : h - k, k : h - k if h - k <= w else w - k] = (k // 3) % 2 == 0
    img[h // 2, w // 2] = 1
    return img


# ------------------------------------------------------------------------- image functions


@pytest.mark.parametrize(
    "dtype, chunks",
    [("uint8", (17, 23)), ("int16", (40, 9)), ("float32", (17, 23)), ("bool", (40, 9))],
)
def test_morphology_equals_in_memory(rng, chunks, dtype):
    img = random_image(rng, (61, 53, 3) if dtype == "uint8" else (61, 53), dtype)
    x = chunked(img, chunks)
    se = foveal.structuring_element("ellipse", (5, 7))
    ops = ("erode", "dilate", "open", "close", "gradient", "tophat", "blackhat")
    for n, op in enumerate(ops):
        for border in ("default", BORDERS[n % len(BORDERS)]):
            args = dict(anchor=(1, 5), iterations=2, border=border, border_value=3)
            got = fd.morphology(x, op, se, **args)
            assert got.chunks[:2] == x.chunks[:2] or got.shape == img.shape
            np.testing.assert_array_equal(
                got.compute(), foveal.morphology(img, op, se, **args), err_msg=f"{op} {border}"
            )
    np.testing.assert_array_equal(fd.erode(x, 9).compute(), foveal.erode(img, 9))
    np.testing.assert_array_equal(
        fd.dilate(x, (3, 15), iterations=3).compute(), foveal.dilate(img, (3, 15), iterations=3)
    )


def test_halo_wider_than_chunks(rng):
    img = random_image(rng, (50, 47), "uint8")
    x = chunked(img, (6, 5))
    np.testing.assert_array_equal(fd.dilate(x, 15).compute(), foveal.dilate(img, 15))
    np.testing.assert_array_equal(
        fd.box_filter(x, 21, border="wrap").compute(), foveal.box_filter(img, 21, border="wrap")
    )


@pytest.mark.parametrize("border", BORDERS)
def test_filters_equal_in_memory(rng, border):
    img = random_image(rng, (59, 71), "uint8")
    f = random_image(rng, (59, 71, 2), "float32")
    x, xf = chunked(img, (13, 29)), chunked(f, (11, 17))
    k = rng.standard_normal((5, 4))
    kw = dict(border=border, border_value=5)
    cases = [
        (fd.filter2d(xf, k, anchor=(1, 3), **kw), foveal.filter2d(f, k, anchor=(1, 3), **kw)),
        (
            fd.filter2d(x, k, delta=2, dtype="int16", **kw),
            foveal.filter2d(img, k, delta=2, dtype="int16", **kw),
        ),
        (
            fd.sep_filter2d(xf, [1, 2, 3], [1, -1], **kw),
            foveal.sep_filter2d(f, [1, 2, 3], [1, -1], **kw),
        ),
        (fd.box_filter(x, (7, 3), **kw), foveal.box_filter(img, (7, 3), **kw)),
        (
            fd.box_filter(x, 4, normalize=False, dtype="float32", **kw),
            foveal.box_filter(img, 4, normalize=False, dtype="float32", **kw),
        ),
        (fd.gaussian_blur(x, 0, 2.5, **kw), foveal.gaussian_blur(img, 0, 2.5, **kw)),
        (fd.gaussian_blur(xf, (7, 3), 1.1, **kw), foveal.gaussian_blur(f, (7, 3), 1.1, **kw)),
        (fd.sobel(x, 1, 1, ksize=5, **kw), foveal.sobel(img, 1, 1, ksize=5, **kw)),
        (fd.sobel(xf, 2, 0, ksize=1, **kw), foveal.sobel(f, 2, 0, ksize=1, **kw)),
        (fd.scharr(x, 0, 1, scale=0.5, **kw), foveal.scharr(img, 0, 1, scale=0.5, **kw)),
    ]
    for n, (got, want) in enumerate(cases):
        assert got.dtype == want.dtype, n
        np.testing.assert_array_equal(got.compute(), want, err_msg=f"case {n}")
    for ksize in (-1, 3, 7):
        mag, ang = fd.gradient(x, ksize=ksize, angle_in_degrees=True, **kw)
        mag2, ang2 = foveal.gradient(img, ksize=ksize, angle_in_degrees=True, **kw)
        np.testing.assert_array_equal(mag.compute(), mag2)
        np.testing.assert_array_equal(ang.compute(), ang2)


@pytest.mark.parametrize("border", ("replicate", "reflect101", "wrap", "constant"))
def test_corner_responses_equal_in_memory(rng, border):
    f = random_image(rng, (45, 58), "float32")
    x = chunked(f, (10, 13))
    for block_size, ksize in [(2, 3), (3, 5), (5, -1), (7, 7)]:
        np.testing.assert_array_equal(
            fd.harris(x, block_size, ksize, 0.05, border=border).compute(),
            foveal.harris(f, block_size, ksize, 0.05, border=border),
        )
        np.testing.assert_array_equal(
            fd.min_eigen(x, block_size, ksize, border=border).compute(),
            foveal.min_eigen(f, block_size, ksize, border=border),
        )


@pytest.mark.parametrize("channels", [None, 3])
def test_canny_equals_in_memory(rng, channels):
    shape = (97, 113) if channels is None else (97, 113, channels)
    img = smooth_image(rng, shape)
    x = chunked(img, (19, 21))
    for low, high, ksize, l2 in [(5, 20, 3, False), (20, 5, 3, True), (1, 60, 5, False)]:
        got = fd.canny(x, low, high, ksize=ksize, l2gradient=l2)
        assert got.shape == img.shape[:2]
        want = foveal.canny(img, low, high, ksize=ksize, l2gradient=l2)
        assert want.any()
        np.testing.assert_array_equal(got.compute(), want, err_msg=f"{low} {high} {ksize}")


def test_canny_hysteresis_crosses_chunks():
    # One long weak edge whose only strong pixel is in the first chunk.
    img = np.zeros((40, 200), np.uint8)
    img[:, 100:] = 40
    img[:, :5] = 0
    img[18:22, 100:] = 140  # a stronger stretch at one end
    x = chunked(img, (9, 11))
    want = foveal.canny(img, 10, 100)
    np.testing.assert_array_equal(fd.canny(x, 10, 100).compute(), want)


# -------------------------------------------------------------------------- labels, contours


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("chunks", [(11, 19), (5, 64), (64, 4)])
def test_label_equals_in_memory(rng, connectivity, chunks):
    for img in (blobs(rng, (64, 83), 0.45), (rng.random((64, 83)) < 0.5), rings((64, 83))):
        x = chunked(img, chunks)
        labels, count, stats, centroids = dask.compute(
            *fd.label(x, connectivity, return_stats=True)
        )
        want = foveal.label(img, connectivity, return_stats=True)
        assert count == want[1]
        np.testing.assert_array_equal(labels, want[0])
        np.testing.assert_array_equal(stats, want[2])
        np.testing.assert_array_equal(centroids, want[3])
        got, n = fd.label(x, connectivity)
        np.testing.assert_array_equal(got.compute(), want[0])
        assert n.compute() == want[1]


def test_label_edge_cases(rng):
    for img in (np.zeros((9, 7), bool), np.ones((9, 7), bool), np.eye(12, dtype=np.uint8)):
        x = chunked(img, (2, 3))
        for conn in (4, 8):
            labels, count = dask.compute(*fd.label(x, conn))
            want = foveal.label(img, conn)
            assert count == want[1]
            np.testing.assert_array_equal(labels, want[0])


def _same_contours(got, want, what):
    assert len(got[0]) == len(want[0]), what
    for a, b in zip(got[0], want[0], strict=True):
        np.testing.assert_array_equal(a, b, err_msg=what)
    np.testing.assert_array_equal(got[1], want[1], err_msg=what)


@pytest.mark.parametrize("mode", ["tree", "ccomp", "list", "external"])
def test_find_contours_equals_in_memory(rng, mode):
    cases = [
        (blobs(rng, (70, 90), 0.5), (19, 23), "none"),
        (blobs(rng, (70, 90), 0.5), (19, 23), "simple"),
        (rings((61, 70)), (6, 70), "simple"),
        (rings((61, 70)), (61, 9), "none"),
    ]
    for img, chunks, method in cases:
        got = fd.find_contours(chunked(img, chunks), mode, method, offset=(3, -2))
        want = foveal.find_contours(img, mode, method, offset=(3, -2))
        _same_contours(got, want, f"{mode} {method} {img.shape} {chunks}")


def test_find_contours_random_sweep(rng):
    for _ in range(8):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        img = rng.random((h, w)) < rng.random()
        chunks = (int(rng.integers(3, 12)), int(rng.integers(3, 12)))
        for mode in ("tree", "external"):
            got = fd.find_contours(chunked(img, chunks), mode, "simple")
            _same_contours(got, foveal.find_contours(img, mode, "simple"), f"{img.shape}")


# --------------------------------------------------------------------------------- frequency


@pytest.mark.parametrize("dtype, tol", [("uint8", 2e-6), ("float64", 1e-12)])
def test_bandpass_and_spectrum(rng, dtype, tol):
    img = random_image(rng, (67, 45, 3), dtype)
    x = chunked(img, (13, 11))
    for kind in ("ideal", "gaussian", "butterworth"):
        for low, high in [(0, 10), (3, None), (2.5, 15)]:
            got = fd.bandpass(x, low, high, kind=kind).compute()
            want = foveal.bandpass(img, low, high, kind=kind)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.abs(got - want).max() <= tol * np.abs(want).max(), (kind, low, high)
    got = fd.spectrum(x[..., 1]).compute()
    want = foveal.spectrum(img[..., 1])
    assert np.abs(got - want).max() <= tol * np.abs(want).max()


# ------------------------------------------------------------------------------------ k-means


def _clusters(rng, n_per, k, d, dtype):
    centers = rng.uniform(-10, 10, (k, d))
    pts = np.concatenate([rng.normal(c, 0.7, (n_per, d)) for c in centers]).astype(dtype)
    rng.shuffle(pts)
    return pts


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_kmeans_equals_in_memory(rng, dtype, tol):
    pts = _clusters(rng, 250, 7, 5, dtype)
    x = da.from_array(pts, chunks=(173, 5))
    init = pts[:7].copy()
    got = fd.kmeans(x, 7, init=init, tol=tol)
    want = foveal.kmeans(pts, 7, init=init, tol=tol)
    assert got.n_iter == want.n_iter
    np.testing.assert_array_equal(got.labels.compute(), want.labels)
    np.testing.assert_allclose(got.centers, want.centers, rtol=1e-6, atol=1e-6)
    assert got.inertia == pytest.approx(want.inertia, rel=1e-6)


def test_kmeans_weights_and_empty_clusters(rng):
    pts = _clusters(rng, 200, 5, 3, "float64")
    x = da.from_array(pts, chunks=(151, 3))
    w = rng.random(len(pts))
    init = pts[:5].copy()
    got = fd.kmeans(x, 5, init=init, sample_weight=da.from_array(w, chunks=300))
    want = foveal.kmeans(pts, 5, init=init, sample_weight=w)
    np.testing.assert_array_equal(got.labels.compute(), want.labels)
    np.testing.assert_allclose(got.centers, want.centers, rtol=1e-9)
    # A center far from every point starts empty and takes the farthest point.
    far = np.vstack([pts[:4], [[1e4, 1e4, 1e4]]])
    got = fd.kmeans(x, 5, init=far, tol=0)
    want = foveal.kmeans(pts, 5, init=far, tol=0)
    assert got.n_iter == want.n_iter
    np.testing.assert_array_equal(got.labels.compute(), want.labels)
    np.testing.assert_allclose(got.centers, want.centers, rtol=1e-9)


def test_kmeans_seeded_inits_and_predict(rng):
    pts = _clusters(rng, 150, 4, 2, "float32")
    x = da.from_array(pts, chunks=(97, 2))
    for init in ("k-means++", "random"):
        a = fd.kmeans(x, 4, init=init, seed=3, n_init=2)
        b = fd.kmeans(x, 4, init=init, seed=3, n_init=2)
        np.testing.assert_array_equal(a.centers, b.centers)
        labels = a.labels.compute()
        assert labels.shape == (len(pts),) and labels.dtype == np.int32
        np.testing.assert_array_equal(
            fd.kmeans_predict(x, a.centers).compute(), foveal.kmeans_predict(pts, a.centers)
        )
        d = pts.astype(np.float64) - a.centers[labels].astype(np.float64)
        assert a.inertia == pytest.approx(float((d * d).sum()), rel=1e-6)


def test_segment_colors(rng):
    img = smooth_image(rng, (40, 30, 3))
    x = chunked(img, (11, 7))
    labels, quantized = fd.segment_colors(x, 3, init=np.array([[60] * 3, [128] * 3, [200] * 3]))
    want_l, want_q = foveal.segment_colors(
        img, 3, init=np.array([[60] * 3, [128] * 3, [200] * 3], np.float32)
    )
    np.testing.assert_array_equal(labels.compute(), want_l)
    np.testing.assert_array_equal(quantized.compute(), want_q)


# ----------------------------------------------------------------------- arguments, threads


def test_arguments_checked_when_called(rng):
    x = chunked(random_image(rng, (20, 20), "uint8"), (7, 7))
    with pytest.raises(ValueError, match="^dilate: border"):
        fd.dilate(x, 3, border="bogus")
    with pytest.raises(ValueError, match="^morphology: op"):
        fd.morphology(x, "thin")
    with pytest.raises(TypeError, match="^canny: image dtype"):
        fd.canny(x.astype(np.float32), 1, 2)
    with pytest.raises(ValueError, match="^find_contours: mode"):
        fd.find_contours(x, "all")
    with pytest.raises(ValueError, match="^label: connectivity"):
        fd.label(x, 6)
    with pytest.raises(ValueError, match="^kmeans: k=50"):
        fd.kmeans(da.ones((10, 2), chunks=3), 50)
    with pytest.raises(ValueError, match="^kmeans: data must be finite"):
        fd.kmeans(da.from_array(np.array([[0.0], [np.nan], [1.0]]), chunks=2), 2)
    with pytest.raises(TypeError, match="^sobel: image must be a Dask array"):
        fd.sobel([[1, 2]], 1, 0)
    with pytest.raises(ValueError, match="^set_threads_per_task: n"):
        fd.set_threads_per_task(0)


def test_numpy_input_and_schedulers(rng):
    img = random_image(rng, (31, 29), "uint16")
    want = foveal.dilate(img, 5)
    np.testing.assert_array_equal(fd.dilate(img, 5).compute(), want)
    x = chunked(img, (6, 8))
    with dask.config.set(scheduler="synchronous"):
        np.testing.assert_array_equal(fd.dilate(x, 5).compute(), want)


def test_threads_per_task(rng):
    from foveal.dask._blocks import task_threads

    img = random_image(rng, (40, 40), "uint8")
    x = chunked(img, (10, 10))
    try:
        fd.set_threads_per_task(1)
        assert task_threads(16) == 1
        np.testing.assert_array_equal(fd.erode(x, 7).compute(), foveal.erode(img, 7))
        fd.set_threads_per_task(None)
        with foveal.num_threads(4), dask.config.set(num_workers=2):
            assert task_threads(1) == 4  # one task: all of foveal's threads
            assert task_threads(16) == 2  # two at once: half each
    finally:
        fd.set_threads_per_task(None)


@pytest.mark.skipif(
    os.environ.get("FOVEAL_SANITIZED") == "1", reason="worker processes under the sanitizer"
)
def test_distributed_local_cluster(rng):
    distributed = pytest.importorskip("distributed")
    img = smooth_image(rng, (90, 70))
    x = chunked(img, (23, 31))
    pts = _clusters(rng, 100, 3, 2, "float64")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        np.testing.assert_array_equal(fd.dilate(x, 7).compute(), foveal.dilate(img, 7))
        np.testing.assert_array_equal(fd.harris(x, 2, 3).compute(), foveal.harris(img, 2, 3))
        np.testing.assert_array_equal(fd.canny(x, 5, 30).compute(), foveal.canny(img, 5, 30))
        labels, count = fd.label(img > 128)
        want = foveal.label(img > 128)
        np.testing.assert_array_equal(labels.compute(), want[0])
        _same_contours(
            fd.find_contours(chunked(img > 120, (23, 31))),
            foveal.find_contours(img > 120),
            "distributed",
        )
        got = fd.kmeans(da.from_array(pts, chunks=(70, 2)), 3, init=pts[:3])
        np.testing.assert_array_equal(
            got.labels.compute(), foveal.kmeans(pts, 3, init=pts[:3]).labels
        )


@pytest.mark.parametrize(
    "module", ["", "._image", "._label", "._contours", "._frequency", "._kmeans", "._blocks"]
)
def test_docstring_examples(module):
    import doctest
    import importlib

    mod = importlib.import_module("foveal.dask" + module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(mod, mod.__name__, globs={"np": np, "foveal": foveal})
    assert tests
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_every_public_function_documented():
    for name in fd.__all__:
        doc = getattr(fd, name).__doc__ or ""
        assert ">>>" in doc, f"foveal.dask.{name} has no example"

"""GPU benchmarks: foveal's CUDA kernels on CuPy arrays against cupyx.scipy.ndimage, CuPy
arithmetic and torch (CUDA) on the standard workloads of WORKLOADS.md, each memory-bound row
with its bandwidth as a fraction of a device-to-device copy measured in the same run.

    python -m pytest benchmarks/test_gpu.py --benchmark-json=benchmarks/results/gpu-<device>.json
    python benchmarks/report.py benchmarks/results/gpu-<device>.json --out ...md --plot ...png

Skips without CuPy and a CUDA device. Every call is timed to the end of its work (the stream is
synchronized inside the timed function); inputs live on the device before timing. Before timing,
each anchor's result is compared with foveal's where the two compute the same thing (exactly
for integer images; to float32 rounding otherwise). The attention rows are in
benchmarks/test_gpu_attention.py.
"""

from __future__ import annotations

import foveal
import foveal.nn as fnn
import numpy as np
import pytest
from conftest import make_photo_u8

cupy = pytest.importorskip("cupy")
try:
    if cupy.cuda.runtime.getDeviceCount() == 0:
        pytest.skip("no CUDA device", allow_module_level=True)
except cupy.cuda.runtime.CUDARuntimeError:
    pytest.skip("no CUDA device", allow_module_level=True)
ndi = pytest.importorskip("cupyx.scipy.ndimage")

SHAPE_4K = (2160, 3840)


def _sync():
    cupy.cuda.get_current_stream().synchronize()


@pytest.fixture(scope="session")
def copy_gbps() -> float:
    """A device-to-device copy's bandwidth (read + write), median of 20 copies of 1 GiB."""
    src = cupy.ones(1 << 30, cupy.uint8)
    dst = cupy.empty_like(src)
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    times = []
    for _ in range(21):
        start.record()
        cupy.copyto(dst, src)
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return 2 * src.nbytes / float(np.median(times[1:])) / 1e9


@pytest.fixture(scope="session")
def photo():
    """The standard 4K photograph on the device: uint8, float32 in [0, 1], bool."""
    u8 = cupy.asarray(make_photo_u8(SHAPE_4K))
    f32 = u8.astype(cupy.float32) / 255
    return {"uint8": u8, "float32": f32, "bool": u8 > 127}


def _time(benchmark, fn, *, library, workload, copy_gbps, moved=None, check=None, extra=None):
    """Time ``fn`` to the end of its work on the device; record what report.py reads."""

    def run():
        out = fn()
        _sync()
        return out

    result = run()  # warm-up (and plans, caches) before timing
    if check is not None:
        check(result)
    benchmark.group = workload
    benchmark.extra_info.update(library=library, threads=1, workload=workload)
    if moved is not None:
        benchmark.extra_info.update(bytes=int(moved), copy_gbps=copy_gbps)
    if extra:
        benchmark.extra_info.update(extra)
    benchmark.pedantic(run, rounds=20, iterations=1, warmup_rounds=2)


def _close(a, b, rtol=1e-5):
    a, b = cupy.asnumpy(a), cupy.asnumpy(b)
    assert a.shape == b.shape
    if a.dtype.kind in "iub":
        assert np.array_equal(a, b)
        return
    scale = max(1.0, float(np.abs(b).max()))
    assert float(np.abs(a.astype(np.float64) - b).max()) <= rtol * scale


# --------------------------------------------------------------------------------- morphology

MORPH = [
    ("uint8", "dilate", "rect", 3),
    ("uint8", "dilate", "rect", 5),
    ("uint8", "dilate", "rect", 15),
    ("uint8", "dilate", "rect", 31),
    ("uint8", "erode", "rect", 5),
    ("uint8", "erode", "rect", 31),
    ("uint8", "open", "rect", 5),
    ("uint8", "close", "rect", 5),
    ("uint8", "dilate", "ellipse", 5),
    ("float32", "dilate", "rect", 5),
    ("bool", "dilate", "rect", 5),
]


def _morph_anchor(dtype, op, shape, k, img):
    se = cupy.asarray(foveal.structuring_element(shape, k).astype(bool))
    if dtype == "bool":
        return lambda: ndi.binary_dilation(img, structure=se)
    fn = {
        "dilate": ndi.grey_dilation,
        "erode": ndi.grey_erosion,
        "open": ndi.grey_opening,
        "close": ndi.grey_closing,
    }[op]
    if shape == "rect":
        return lambda: fn(img, size=(k, k), mode="nearest")
    return lambda: fn(img, footprint=se, mode="nearest")


@pytest.mark.parametrize("library", ["foveal", "cupyx"])
@pytest.mark.parametrize("case", MORPH, ids=["-".join(map(str, c)) for c in MORPH])
def test_morphology(benchmark, photo, copy_gbps, case, library):
    dtype, op, shape, k = case
    img = photo[dtype]
    kernel = k if shape == "rect" else foveal.structuring_element(shape, k)
    mine = lambda: foveal.morphology(img, op, kernel)  # noqa: E731
    fn = mine if library == "foveal" else _morph_anchor(dtype, op, shape, k, img)
    want = mine() if library != "foveal" else None
    passes = 2 if op in ("open", "close") else 1
    _time(
        benchmark,
        fn,
        library=library,
        workload=f"{dtype} {op} {shape} {k}x{k} 4K",
        copy_gbps=copy_gbps,
        moved=2 * img.nbytes * passes,
        # a replicated edge never wins a centred max or min: cupyx agrees exactly
        check=(lambda r: _close(r, want)) if want is not None else None,
    )


# ------------------------------------------------------------------------ filters, gradients


def _filter_case(name, img_u8, img_f32):
    rng = np.random.default_rng(3)
    if name == "filter2d 5x5":
        k = rng.standard_normal((5, 5)).astype(np.float32)
        return (
            lambda: foveal.filter2d(img_f32, k),
            lambda: ndi.correlate(img_f32, cupy.asarray(k), mode="mirror"),
            2 * img_f32.nbytes,
        )
    if name == "filter2d 15x15":
        k = rng.standard_normal((15, 15)).astype(np.float32)
        return (
            lambda: foveal.filter2d(img_f32, k),
            lambda: ndi.correlate(img_f32, cupy.asarray(k), mode="mirror"),
            2 * img_f32.nbytes,
        )
    if name == "gaussian 15 taps":
        return (
            lambda: foveal.gaussian_blur(img_f32, 15, 2.5),
            lambda: ndi.gaussian_filter(img_f32, 2.5, mode="mirror", truncate=7 / 2.5),
            2 * img_f32.nbytes,
        )
    if name == "box 31x31 uint8":
        return (
            lambda: foveal.box_filter(img_u8, 31),
            lambda: ndi.uniform_filter(img_u8, 31, mode="mirror"),
            2 * img_u8.nbytes,
        )
    if name == "sobel dx uint8 -> float32":
        return (
            lambda: foveal.sobel(img_u8, 1, 0),
            lambda: ndi.sobel(img_u8.astype(cupy.float32), axis=1, mode="mirror"),
            img_u8.nbytes + 4 * img_u8.size,
        )
    if name == "gradient magnitude and angle":

        def anchor():
            f = img_u8.astype(cupy.float32)
            gx = ndi.sobel(f, axis=1, mode="mirror")
            gy = ndi.sobel(f, axis=0, mode="mirror")
            return cupy.hypot(gx, gy), cupy.arctan2(gy, gx) % (2 * np.pi)

        return lambda: foveal.gradient(img_u8), anchor, img_u8.nbytes + 8 * img_u8.size
    if name == "harris block 2 ksize 3":

        def anchor():
            gx = ndi.sobel(img_f32, axis=1, mode="mirror") / 8
            gy = ndi.sobel(img_f32, axis=0, mode="mirror") / 8

            def box(v):
                return ndi.uniform_filter(v, 2, mode="mirror") * 4

            a, b, c = box(gx * gx), box(gx * gy), box(gy * gy)
            return a * c - b * b - 0.04 * (a + c) ** 2

        return lambda: foveal.harris(img_f32, 2, 3, 0.04), anchor, 2 * img_f32.nbytes
    raise KeyError(name)


FILTERS = [
    "filter2d 5x5",
    "filter2d 15x15",
    "gaussian 15 taps",
    "box 31x31 uint8",
    "sobel dx uint8 -> float32",
    "gradient magnitude and angle",
    "harris block 2 ksize 3",
]


@pytest.mark.parametrize("library", ["foveal", "cupyx"])
@pytest.mark.parametrize("name", FILTERS)
def test_filters(benchmark, photo, copy_gbps, name, library):
    mine, anchor, moved = _filter_case(name, photo["uint8"], photo["float32"])
    _time(
        benchmark,
        mine if library == "foveal" else anchor,
        library=library,
        workload=f"{name} 4K",
        copy_gbps=copy_gbps,
        moved=moved,
    )


# ------------------------------------------------------------------------------------ pooling

POOLS = [
    ("max 2x2 s2", lambda x, F: F.max_pool2d(x, 2, 2)),
    ("max 3x3 s2 p1", lambda x, F: F.max_pool2d(x, 3, 2, 1)),
    ("avg 3x3 s1 p1", lambda x, F: F.avg_pool2d(x, 3, 1, 1)),
    ("adaptive avg 7x7", lambda x, F: F.adaptive_avg_pool2d(x, 7)),
    ("lp p=2 2x2", lambda x, F: F.lp_pool2d(x, 2, 2)),
]


@pytest.fixture(scope="session")
def pool_input():
    return cupy.random.default_rng(0).standard_normal((8, 64, 112, 112), dtype=cupy.float32)


@pytest.mark.parametrize("library", ["foveal", "torch"])
@pytest.mark.parametrize("pool", POOLS, ids=[p[0] for p in POOLS])
def test_pooling(benchmark, pool_input, copy_gbps, pool, library):
    name, call = pool
    x = pool_input
    if library == "torch":
        torch = pytest.importorskip("torch")
        import torch.nn.functional as F

        xt = torch.as_tensor(x, device="cuda")
        fn = lambda: call(xt, F)  # noqa: E731
        want = call(x, fnn)
        check = lambda r: _close(cupy.asarray(r), want)  # noqa: E731
    else:
        fn = lambda: call(x, fnn)  # noqa: E731
        check = None
    out_size = call(x[:1, :1], fnn).size * x.shape[0] * x.shape[1]
    _time(
        benchmark,
        fn,
        library=library,
        workload=f"{name} (8,64,112,112) float32",
        copy_gbps=copy_gbps,
        moved=x.nbytes + 4 * out_size,
        check=check,
    )


# ------------------------------------------------------------------------------------- conv2d

CONVS = [
    ("3x3 ResNet", (8, 64, 56, 56), (64, 64, 3, 3), dict(padding=1), "float32"),
    ("3x3 ResNet", (8, 64, 56, 56), (64, 64, 3, 3), dict(padding=1), "float16"),
    ("7x7 s2 stem", (1, 3, 224, 224), (64, 3, 7, 7), dict(stride=2, padding=3), "float32"),
    ("depthwise", (8, 128, 56, 56), (128, 1, 3, 3), dict(padding=1, groups=128), "float32"),
    ("1x1", (8, 256, 28, 28), (512, 256, 1, 1), dict(), "float32"),
]


@pytest.mark.parametrize("library", ["foveal", "torch"])
@pytest.mark.parametrize("conv", CONVS, ids=[f"{c[0]}-{c[4]}" for c in CONVS])
def test_conv2d(benchmark, copy_gbps, conv, library):
    name, xs, ws, kw, dtype = conv
    rng = cupy.random.default_rng(1)
    x = rng.standard_normal(xs, dtype=cupy.float32).astype(dtype)
    w = rng.standard_normal(ws, dtype=cupy.float32).astype(dtype) * 0.1
    n, c, h, wd = xs
    out = fnn.conv2d(x[:1], w, **kw)
    gflop = 2 * n * out.shape[1] * out.shape[2] * out.shape[3] * (ws[1] * ws[2] * ws[3]) / 1e9
    if library == "torch":
        torch = pytest.importorskip("torch")
        import torch.nn.functional as F

        xt, wt = torch.as_tensor(x, device="cuda"), torch.as_tensor(w, device="cuda")
        fn = lambda: F.conv2d(xt, wt, **kw)  # noqa: E731
    else:
        fn = lambda: fnn.conv2d(x, w, **kw)  # noqa: E731
    _time(
        benchmark,
        fn,
        library=library,
        workload=f"conv2d {name} {dtype}",
        copy_gbps=copy_gbps,
        extra={"gflop": gflop},
    )


# ------------------------------------------------------------------------------------ k-means

KMEANS = [("photo 1M x 3, K=8", 1_000_000, 3, 8), ("blobs 100k x 64, K=256", 100_000, 64, 256)]
ITERATIONS = 20


def _cupy_lloyd(x, centers, iterations):
    """The same Lloyd loop in CuPy arithmetic: distances by one matrix product, argmin, sums."""
    k = centers.shape[0]
    norms = (x * x).sum(axis=1)
    for _ in range(iterations):
        d = norms[:, None] - 2 * x @ centers.T + (centers * centers).sum(axis=1)[None, :]
        labels = d.argmin(axis=1)
        counts = cupy.bincount(labels, minlength=k).astype(x.dtype)
        sums = cupy.zeros_like(centers)
        cupy.add.at(sums, labels, x)
        centers = cupy.where(counts[:, None] > 0, sums / cupy.maximum(counts, 1)[:, None], centers)
    return centers, labels


@pytest.mark.parametrize("library", ["foveal", "cupy"])
@pytest.mark.parametrize("case", KMEANS, ids=[c[0] for c in KMEANS])
def test_kmeans(benchmark, copy_gbps, case, library):
    name, n, d, k = case
    rng = np.random.default_rng(2)
    if d == 3:
        x = make_photo_u8((1000, 1000))[..., None].repeat(3, axis=2).reshape(-1, 3)
        x = (x + rng.normal(0, 4, x.shape)).astype(np.float32)
    else:
        centers = rng.uniform(-10, 10, (k, d))
        x = (centers[rng.integers(0, k, n)] + rng.normal(0, 1, (n, d))).astype(np.float32)
    x = cupy.asarray(x)
    init = x[cupy.asarray(rng.choice(n, k, replace=False))].copy()
    if library == "foveal":
        fn = lambda: foveal.kmeans(x, k, init=init, max_iter=ITERATIONS, tol=0.0)  # noqa: E731
        n_iter = fn().n_iter  # it may converge before ITERATIONS: per-iteration times use this
    else:
        fn = lambda: _cupy_lloyd(x, init, ITERATIONS)  # noqa: E731
        n_iter = ITERATIONS
    _time(
        benchmark,
        fn,
        library=library,
        workload=f"k-means {name}, {ITERATIONS} iterations",
        copy_gbps=copy_gbps,
        extra={"n_iter": n_iter},
    )

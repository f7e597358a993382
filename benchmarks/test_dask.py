"""foveal.dask against dask-image on an image larger than the standard ones: a 16384 x 16384
uint8 photograph (skimage's camera resized up, 256 MiB) in 2048 x 2048 chunks, dilated with a
15 x 15 rectangle and put through the Harris response (block 2, Sobel 3, k 0.04), with the
threaded scheduler at 1 and at all usable workers.

dask-image has no Harris: its row is the same computation written with its filters (Sobel
derivatives, products, 2 x 2 box sums, the response), with scipy's "mirror" border standing in
for OpenCV's reflect101. Both libraries get the same chunks; each result is stored into a
preallocated array (``da.store``), so that the timing is the filter, not the concatenation of
chunks. Before timing, dask-image's dilation must equal foveal's exactly and its Harris
response foveal's to float32 rounding.

    PYTHONPATH=python python -m pytest benchmarks/test_dask.py \
        --benchmark-json=benchmarks/results/dask-<machine>.json
    python benchmarks/report.py benchmarks/results/dask-<machine>.json --out ...md --plot ...png

``--fv-quick`` uses 2048 x 2048 in 512 x 512 chunks.
"""

from __future__ import annotations

import foveal
import numpy as np
import pytest
from conftest import ALL_CORES, make_photo_u8, thread_counts

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
fd = pytest.importorskip("foveal.dask")

FULL = (16384, 16384), (2048, 2048)
QUICK = (2048, 2048), (512, 512)
LIBRARIES = ("foveal", "dask-image")
BLOCK, KSIZE, K = 2, 3, 0.04


@pytest.fixture(scope="session")
def big_image(fv_quick):
    shape, chunks = QUICK if fv_quick else FULL
    return make_photo_u8(shape), chunks


def _foveal(workload, x):
    if workload == "dilate 15x15":
        return fd.dilate(x, 15)
    return fd.harris(x, BLOCK, KSIZE, K)


def _dask_image(workload, x):
    ndf = pytest.importorskip("dask_image.ndfilters")
    if workload == "dilate 15x15":
        # scipy's replicated edge adds only values already in a centred window: the same max
        # as OpenCV's default border, where the outside never wins.
        return ndf.maximum_filter(x, size=15, mode="nearest")
    f = x.astype(np.float32)
    scale = np.float32(1.0 / ((1 << (KSIZE - 1)) * BLOCK * 255.0))  # cv2's Sobel scaling
    gx = ndf.sobel(f, axis=1, mode="mirror") * scale
    gy = ndf.sobel(f, axis=0, mode="mirror") * scale
    area = np.float32(BLOCK * BLOCK)  # box sums from box means

    def box(v):
        return ndf.uniform_filter(v, size=BLOCK, mode="mirror") * area

    a, b, c = box(gx * gx), box(gx * gy), box(gy * gy)
    return a * c - b * b - np.float32(K) * (a + c) * (a + c)


_EXPECTED: dict = {}


def _run(result, target):
    da.store(result, target, lock=False)
    return target


@pytest.mark.parametrize("workload", ["dilate 15x15", "harris"])
@pytest.mark.parametrize(
    "library_and_threads",
    [pytest.param((lib, n), id=f"{lib}-t{n}") for lib in LIBRARIES for n in thread_counts()],
)
def test_dask(benchmark, big_image, workload, library_and_threads):
    library, threads = library_and_threads
    img, chunks = big_image
    x = da.from_array(img, chunks=chunks)
    make = _foveal if library == "foveal" else _dask_image
    with dask.config.set(scheduler="threads", num_workers=threads), foveal.num_threads(threads):
        result = make(workload, x)
        target = np.empty(result.shape, result.dtype)
        _run(result, target)
        _check(library, workload, img, target)
        benchmark.group = workload
        benchmark.extra_info.update(
            library=library,
            threads=threads,
            workload=f"{workload} {img.shape[0]}x{img.shape[1]} uint8, chunks {chunks[0]}",
            shape=list(img.shape),
            dtype="uint8",
            cores=ALL_CORES,
        )
        benchmark.pedantic(_run, args=(result, target), rounds=3, iterations=1)


def _check(library, workload, img, got):
    if workload not in _EXPECTED:  # foveal in memory, on the whole image
        _EXPECTED[workload] = (
            foveal.dilate(img, 15)
            if workload == "dilate 15x15"
            else foveal.harris(img, BLOCK, KSIZE, K)
        )
    want = _EXPECTED[workload]
    assert got.shape == want.shape
    if workload == "dilate 15x15":
        assert np.array_equal(got, want), f"{library} differs from foveal's dilation"
        return
    scale = float(np.abs(want).max())
    err = float(np.abs(got.astype(np.float64) - want).max())
    assert err <= 1e-5 * scale, f"{library}: Harris off by {err:.3g} (scale {scale:.3g})"

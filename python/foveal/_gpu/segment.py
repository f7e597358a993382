"""k-means on the GPU: the fused assignment pass and the distance pass of cuda/kmeans.cu on the
Device's stream, for foveal.segment's Lloyd loop (its ``_Assign``, ``_inertia`` and
``_relocate``). The caller has checked the arrays: ``x`` (n, d) and ``centers`` (k, d)
C-contiguous of one float dtype, ``w`` None or n contiguous values of that dtype, ``labels``
n int32. Every case runs on the kernels (the many-centers kernel takes any k and d); nothing
falls back to CuPy here.

The pass's labels are the CPU pass's (foveal._core.kmeans_assign): the same distance
|c|^2 - 2 x.c by the same fused multiply-adds in the same order, but for one difference: the
CPU's AVX2 build rounds the squares of the first 4 floor(d / 4) coordinates of |c|^2 apart
(for d <= 3 the norms are the same), which can move a norm by its last bit and a label where
a point's two nearest centers are that close (see cuda/kmeans.cu). Its sums, weights and inertia
are float64 sums in another order than the CPU's (within a few units of the last place, and
deterministic on a device). The inertia is from exact float64 differences, as the CPU's
many-centers path (its few-centers path rounds each distance to the data's precision: 1e-7
relative apart in float32).
"""

from __future__ import annotations

import numpy as np

from . import Device

PATHS = ("auto", "few", "many")


def _small_result(dev: Device):
    return dev.xp.empty(2, np.float64)


def _host(dev: Device, arr) -> np.ndarray:
    """A small result on the host (waits for the stream to reach it)."""
    return np.asarray(arr) if dev.emulated else arr.get()


def assign(
    dev: Device,
    x,
    w,
    centers,
    labels,
    sums,
    counts,
    *,
    want_inertia: bool = True,
    path: str = "auto",
    shared_limit: int = -1,
) -> tuple[float, int]:
    """One Lloyd step in one pass over ``x``: each point's nearest center (ties: the lowest
    index) into ``labels`` (whose previous values count the changes), the weighted per-cluster
    sums into ``sums`` ((k, d) float64) and the weights into ``counts`` ((k,) float64); returns
    (inertia, changed labels), the inertia 0.0 unless ``want_inertia``. ``path`` ("few",
    "many") and ``shared_limit`` (bytes) choose a kernel and where its sums live: for tests."""
    n, d = x.shape
    k = centers.shape[0]
    if path not in PATHS:
        raise ValueError(f"kmeans: path must be one of {PATHS}, got {path!r}")
    centers = dev.xp.ascontiguousarray(centers, dtype=x.dtype)  # as the kernel reads them
    result = _small_result(dev)
    dev.module.kmeans_assign(
        x.dtype.name,
        dev.ptr(x),
        dev.ptr(centers),
        dev.ptr(w),
        dev.ptr(labels),
        dev.ptr(sums),
        dev.ptr(counts),
        dev.ptr(result),
        n,
        d,
        k,
        bool(want_inertia),
        path,
        int(shared_limit),
        dev.stream,
    )
    inertia, changed = _host(dev, result)
    return float(inertia), int(changed)


def inertia(dev: Device, x, w, centers, labels, distances=None) -> float:
    """sum_i w_i |x_i - c_label_i|^2 as foveal._core.kmeans_inertia: each squared distance in
    the data's precision (into ``distances``, n float64 values, unless None), the sum in
    float64. A label outside [0, k) is a ValueError."""
    n, d = x.shape
    k = centers.shape[0]
    centers = dev.xp.ascontiguousarray(centers, dtype=x.dtype)
    result = _small_result(dev)
    dev.module.kmeans_distances(
        x.dtype.name,
        dev.ptr(x),
        dev.ptr(centers),
        dev.ptr(w),
        dev.ptr(labels),
        dev.ptr(distances),
        dev.ptr(result),
        n,
        d,
        k,
        dev.stream,
    )
    total, bad = _host(dev, result)
    if bad:
        raise ValueError("kmeans: labels must lie in [0, k)")
    return float(total)

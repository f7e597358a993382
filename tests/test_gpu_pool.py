"""foveal.nn's pools on the GPU (cuda/pool.cu) against the CPU kernels: values exactly for
maxima (NaN included) and their indices, to the summation order's rounding for the averages."""

from __future__ import annotations

import foveal.nn as fnn
import numpy as np
import pytest
from gpu_support import same

# --------------------------------------------------------------------------------- pooling

POOLS = [
    ("max_pool2d", dict(kernel_size=2)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),
    ("max_pool2d", dict(kernel_size=(2, 3), dilation=(2, 1), return_indices=True)),
    ("max_pool2d", dict(kernel_size=5, stride=3, padding=2, dilation=2, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=1, padding=1)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", dict(kernel_size=2, ceil_mode=True, divisor_override=3)),
    ("avg_pool2d", dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), ceil_mode=True)),
    ("lp_pool2d", dict(norm_type=2.0, kernel_size=2)),
    ("lp_pool2d", dict(norm_type=3.0, kernel_size=3, stride=2, ceil_mode=True)),
    ("lp_pool2d", dict(norm_type=1.0, kernel_size=(1, 3))),
    ("adaptive_avg_pool2d", dict(output_size=7)),
    ("adaptive_avg_pool2d", dict(output_size=(5, None))),
    ("adaptive_avg_pool2d", dict(output_size=(17, 3))),  # larger than the input: overlapping
    ("adaptive_max_pool2d", dict(output_size=4, return_indices=True)),
    ("adaptive_max_pool2d", dict(output_size=(3, 20))),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("name", "kwargs"), POOLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(POOLS)]
)
def test_pools(backend, name, kwargs, dtype):
    to_device, to_host = backend
    rng = np.random.default_rng(5)
    for shape in [(2, 3, 13, 11), (1, 2, 1, 7), (3, 16, 16)]:
        x = rng.standard_normal(shape).astype(dtype)
        if name == "lp_pool2d":
            x = np.abs(x)
        x.flat[3] = np.nan  # NaN wins a max and spreads through sums
        fn = getattr(fnn, name)
        try:
            want = fn(x, **kwargs)
        except ValueError:
            continue  # a window the shape does not allow
        got = fn(to_device(x), **kwargs)
        if not isinstance(want, tuple):
            got, want = (got,), (want,)
        for g, w in zip(got, want, strict=True):
            same(to_host(g), w, f"{name} {kwargs} {shape}")


def test_emulated_route_taken(request, backend):
    """The emulated backend really runs the kernels: the route's device was asked for."""
    to_device, _ = backend
    fnn.max_pool2d(to_device(np.ones((1, 4, 4), np.float32)), 2)
    if hasattr(request.node, "taken"):
        assert request.node.taken


def test_pool_noncontiguous_and_unbatched(backend):
    to_device, to_host = backend
    x = np.random.default_rng(2).standard_normal((4, 9, 10)).astype(np.float32)
    view = x[:, ::-1, 1:]  # negative strides and an offset
    want = fnn.max_pool2d(view, 2, return_indices=True)
    got = fnn.max_pool2d(to_device(np.ascontiguousarray(view)), 2, return_indices=True)
    same(to_host(got[0]), want[0], "values")
    same(to_host(got[1]), want[1], "indices")

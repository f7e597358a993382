"""Convolution and pooling benchmarks: foveal.nn against torch.nn.functional and NumPy
(foveal.reference.nn) on the conv2d and pooling workloads of WORKLOADS.md.

Run (from the repository root; the lead runs the full suite):

    PYTHONPATH=python python -m pytest benchmarks/test_nn.py \
        --benchmark-json=benchmarks/results/nn-<machine>.json

then make the table (and optionally the chart):

    python benchmarks/report.py benchmarks/results/nn-<machine>.json \
        --out benchmarks/results/nn-<machine>.md \
        --plot benchmarks/results/nn-<machine>.png

Smoke test (batch 1, fewer channels and smaller planes; each body once): add
``--fv-quick --benchmark-disable``. Rows are selected with ``-k``: ``-k conv2d``,
``-k pooling``, ``-k "torch and max2"`` (ids look like ``test_pooling[torch-t8-max2x2-s2]``).

Inputs are float32 NCHW, seeded standard-normal, made once per module. torch runs
``torch.nn.functional`` on ``torch.from_numpy`` of the same arrays (no copy), at 1 thread and
at all usable cores (``torch.set_num_threads``), like foveal. NumPy is the float64 reference
of ``foveal.reference.nn``; its matrix products go through BLAS, which is held to one thread
(threadpoolctl, when installed) so that its row is single-threaded as labelled. Its slow calls
are timed once (``benchmark.pedantic(rounds=1)``) after the checked call.

Before it is timed, every library's result is compared with foveal's (computed once per
workload, at foveal's default thread count): foveal at each thread count must match it exactly;
torch and NumPy (cast to float32) within 1e-4 (conv2d) or 1e-5 (pooling) of the largest
magnitude of foveal's result. Convolution rows also record ``extra_info["gflop"]``
(2 N C_out OH OW C_in/groups kH kW / 1e9), from which report.py shows GFLOP/s.
"""

from __future__ import annotations

import dataclasses

import foveal.nn as fnn
import foveal.reference.nn as ref
import numpy as np
import pytest
from tensor_checks import blas_single_threaded, check_result

LIBRARIES = ("foveal", "numpy", "torch")
SEED = 20240601
CONV_TOL = 1e-4  # float32 sums in another order (float64 for NumPy)
POOL_TOL = 1e-5


@dataclasses.dataclass(frozen=True)
class Conv:
    id: str
    x: tuple[int, int, int, int]  # input (N, C_in, H, W)
    w: tuple[int, int, int, int]  # weight (C_out, C_in / groups, kH, kW)
    quick_x: tuple[int, int, int, int]  # the --fv-quick shapes
    quick_w: tuple[int, int, int, int]
    stride: int = 1
    padding: int = 0
    groups: int = 1
    quick_groups: int = 1


CONVS = [
    Conv("3x3-pad1", (8, 64, 56, 56), (64, 64, 3, 3), (1, 16, 28, 28), (16, 16, 3, 3), padding=1),
    Conv(
        "7x7-s2-pad3",
        (1, 3, 224, 224),
        (64, 3, 7, 7),
        (1, 3, 64, 64),
        (16, 3, 7, 7),
        stride=2,
        padding=3,
    ),
    Conv(
        "depthwise3x3",
        (8, 128, 56, 56),
        (128, 1, 3, 3),
        (1, 32, 28, 28),
        (32, 1, 3, 3),
        padding=1,
        groups=128,
        quick_groups=32,
    ),
    Conv("1x1", (8, 256, 28, 28), (512, 256, 1, 1), (1, 64, 14, 14), (128, 64, 1, 1)),
]
_CONV = {c.id: c for c in CONVS}


@dataclasses.dataclass(frozen=True)
class Pool:
    id: str
    op: str  # "max", "avg", "adaptive_avg" or "lp"
    label: str
    kernel: int = 0
    stride: int | None = None
    padding: int = 0
    output: int = 0  # adaptive output size
    p: float = 0.0  # lp norm


POOL_SHAPE = (8, 64, 112, 112)
QUICK_POOL_SHAPE = (1, 16, 56, 56)
POOLS = [
    Pool("max2x2-s2", "max", "max 2x2 s2", kernel=2, stride=2),
    Pool("max3x3-s2-p1", "max", "max 3x3 s2 p1", kernel=3, stride=2, padding=1),
    Pool("avg3x3-s1-p1", "avg", "avg 3x3 s1 p1", kernel=3, stride=1, padding=1),
    Pool("adaptive-avg7x7", "adaptive_avg", "adaptive avg to 7x7", output=7),
    Pool("lp2-2x2", "lp", "lp p=2 2x2", kernel=2, p=2.0),
]
_POOL = {p.id: p for p in POOLS}


def _dims(shape) -> str:
    return "x".join(map(str, shape))


# --------------------------------------------------------------------------- inputs


def _normal(shape, stream: int) -> np.ndarray:
    rng = np.random.default_rng([SEED, stream])
    return np.ascontiguousarray(rng.standard_normal(shape, dtype=np.float32))


@pytest.fixture(scope="module")
def nn_inputs(fv_quick) -> dict:
    """{conv id: (input, weight, groups), "pool": input}: seeded standard-normal float32 NCHW,
    the --fv-quick shapes when asked."""
    inputs: dict = {}
    for i, c in enumerate(CONVS):
        xs, ws = (c.quick_x, c.quick_w) if fv_quick else (c.x, c.w)
        groups = c.quick_groups if fv_quick else c.groups
        inputs[c.id] = (_normal(xs, 2 * i + 1), _normal(ws, 2 * i + 2), groups)
    x = _normal(QUICK_POOL_SHAPE if fv_quick else POOL_SHAPE, 100)
    assert x.min() < x.max(), "benchmark input must not be constant"
    inputs["pool"] = x
    return inputs


# --------------------------------------------------------------------------- the calls


def _torch():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


def _conv_call(library: str, c: Conv, x, w, groups: int):
    kwargs = dict(stride=c.stride, padding=c.padding, groups=groups)
    if library == "foveal":
        return lambda: fnn.conv2d(x, w, **kwargs)
    if library == "numpy":
        return lambda: ref.conv2d(x, w, None, c.stride, c.padding, 1, groups)
    torch, F = _torch()
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    return lambda: F.conv2d(xt, wt, **kwargs)


def _pool_call(library: str, p: Pool, x):
    if library == "torch":
        torch, mod = _torch()
        x = torch.from_numpy(x)
    else:
        mod = fnn if library == "foveal" else ref
    if p.op == "max":
        return lambda: mod.max_pool2d(x, p.kernel, p.stride, p.padding)
    if p.op == "avg":
        return lambda: mod.avg_pool2d(x, p.kernel, p.stride, p.padding)
    if p.op == "adaptive_avg":
        return lambda: mod.adaptive_avg_pool2d(x, p.output)
    if p.op == "lp":
        return lambda: mod.lp_pool2d(x, p.p, p.kernel, p.stride)
    raise AssertionError(p.op)


# --------------------------------------------------------------------------- checking

_EXPECTED: dict[tuple, np.ndarray] = {}


def _expected(key: str, fn, x: np.ndarray) -> np.ndarray:
    """foveal's result (at its default thread count), once per workload and input shape."""
    k = (key, x.shape)
    if k not in _EXPECTED:
        _EXPECTED[k] = fn()
    return _EXPECTED[k]


# --------------------------------------------------------------------------- the benchmarks


def _gflop(x_shape, w_shape, c: Conv, groups: int) -> float:
    n, c_in, h, w = x_shape
    c_out, _, kh, kw = w_shape
    oh = (h + 2 * c.padding - kh) // c.stride + 1
    ow = (w + 2 * c.padding - kw) // c.stride + 1
    return 2.0 * n * c_out * oh * ow * (c_in // groups) * kh * kw / 1e9


@pytest.mark.fv_libraries(*LIBRARIES)  # parametrizes library_threads (conftest.py)
@pytest.mark.parametrize("workload", [pytest.param(c.id, id=c.id) for c in CONVS])
def test_conv2d(fv_benchmark, nn_inputs, workload, library_threads):
    c = _CONV[workload]
    library, threads = library_threads
    x, w, groups = nn_inputs[c.id]
    label = f"conv2d: {_dims(x.shape)} * {_dims(w.shape)}"
    label += f" stride {c.stride}" if c.stride != 1 else ""
    label += f" pad {c.padding}" if c.padding else ""
    label += f" groups {groups}" if groups != 1 else ""
    expected = _expected(c.id, _conv_call("foveal", c, x, w, groups), x)
    fn = _conv_call(library, c, x, w, groups)
    with blas_single_threaded(library) as blas:
        fv_benchmark(
            fn,
            library=library,
            threads=threads,
            workload=label,
            dtype="float32",
            shape=x.shape,
            extra_info={
                "weight_shape": list(w.shape),
                "gflop": _gflop(x.shape, w.shape, c, groups),
                **({"blas_threads": blas} if blas else {}),
            },
            check=check_result(library, label, expected, CONV_TOL),
            slow_rounds=1,  # NumPy's im2col products take seconds on the full workloads
        )


@pytest.mark.fv_libraries(*LIBRARIES)  # parametrizes library_threads (conftest.py)
@pytest.mark.parametrize("workload", [pytest.param(p.id, id=p.id) for p in POOLS])
def test_pooling(fv_benchmark, nn_inputs, workload, library_threads):
    p = _POOL[workload]
    library, threads = library_threads
    x = nn_inputs["pool"]
    label = f"pooling: {_dims(x.shape)} {p.label}"
    expected = _expected(p.id, _pool_call("foveal", p, x), x)
    fv_benchmark(
        _pool_call(library, p, x),
        library=library,
        threads=threads,
        workload=label,
        dtype="float32",
        shape=x.shape,
        check=check_result(library, label, expected, POOL_TOL),
        slow_rounds=1,
    )

"""Scaled dot-product attention benchmarks: foveal.nn.scaled_dot_product_attention against
torch's fused SDPA, torch's unfused math and NumPy (foveal.reference.attention) on the CPU
attention workloads of WORKLOADS.md.

Run (from the repository root; the lead runs the full suite):

    PYTHONPATH=python python -m pytest benchmarks/test_attention.py \
        --benchmark-json=benchmarks/results/attention-<machine>.json

then make the table (and optionally the chart):

    python benchmarks/report.py benchmarks/results/attention-<machine>.json \
        --out benchmarks/results/attention-<machine>.md \
        --plot benchmarks/results/attention-<machine>.png

Smoke test (batch 1 and a quarter of each sequence length; each body once): add
``--fv-quick --benchmark-disable``. Rows are selected with ``-k``: ``-k causal``,
``-k 32x8x128x64``, ``-k "torch-math and 4x8x1024x64"`` (ids look like
``test_sdpa[torch-t2-4x8x1024x64-causal]``; the id names the full workload also under
``--fv-quick``, the recorded shape and the workload label name what ran).

Workloads: float32 (B, H, L, E) query, key and value (S = L, Ev = E), seeded standard normal,
made once per module: (4,8,1024,64) plain and causal, (1,8,4096,64) causal, (32,8,128,64)
plain; the default scale 1/sqrt(E); causal is top-left aligned (query i sees keys j <= i).

Libraries:

- ``foveal``: foveal.nn.scaled_dot_product_attention (the fused C++ kernel), at 1 thread and
  at all usable cores.
- ``torch``: torch.nn.functional.scaled_dot_product_attention on ``torch.from_numpy`` of the
  same arrays (no copy), whichever CPU kernel torch picks (its fused flash kernel for these
  shapes), at 1 thread and all usable cores (``torch.set_num_threads``).
- ``torch-math``: torch's unfused path written with torch ops,
  ``softmax(q @ k^T * scale + mask) @ v``, materializing the (B, H, L, S) scores; the causal
  mask is an additive (L, S) float tensor (0 / -inf) made once, outside the timing. Same
  thread counts as torch.
- ``numpy``: foveal.reference.attention.scaled_dot_product_attention, float64, its matrix
  products through BLAS held to one thread (threadpoolctl, when installed) so that the row is
  single-threaded as labelled. Its slow calls are timed once (``benchmark.pedantic(rounds=1)``)
  after the checked call.

Before it is timed, every library's result is compared with foveal's (computed once per
workload, at foveal's default thread count): foveal at each thread count must match it
exactly (each output row is computed by one thread, in one order); torch, torch-math and
NumPy (cast to float32) within 1e-4 of the largest magnitude of foveal's result.

Every row records ``extra_info["gflop"]`` = 4 B H L S E / 1e9 (two products of
2 L S E flops per head: q k^T and p v) for a plain workload and half of that for a causal one
(about half of the (L, S) scores are masked out; the exact count is (L + 1) / (2 L) of the
plain one), the count of WORKLOADS.md; report.py shows GFLOP/s from it. The count is the same
for every library: it is the work of attention, not of how a library does it (torch-math and
NumPy compute the masked half and throw it away).

``test_peak_memory`` (not a benchmark; runs only with ``FOVEAL_BENCH_MEMORY=1`` in the
environment) measures in a fresh subprocess per length the resident-set high-water mark
(``resource.getrusage(...).ru_maxrss``) that one call of foveal's causal SDPA adds, for
(1, 8, L, 64) float32 with L = 4096, 8192 and 16384, asserts that it grows linearly in L
(at most ~3 L x E x H float32 tensors: the output and the packed copies of K and V; never
anything like the L x L x H scores) and prints the figures next to the 4 L^2 H bytes the
unfused math path's scores would need (and, at L = 4096 only, what torch-math measurably
adds).

    FOVEAL_BENCH_MEMORY=1 PYTHONPATH=python python -m pytest benchmarks/test_attention.py \
        -k memory -q -s
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import textwrap

import foveal
import foveal.nn as fnn
import foveal.reference.attention as ref
import numpy as np
import pytest
from tensor_checks import blas_single_threaded, check_result

LIBRARIES = ("foveal", "numpy", "torch", "torch-math")
SEED = 20240601
TOL = 1e-4  # float32 sums in another order (float64 for NumPy), relative to max |out|


def _dims(shape) -> str:
    return "x".join(map(str, shape))


@dataclasses.dataclass(frozen=True)
class Workload:
    shape: tuple[int, int, int, int]  # (B, H, L, E); S = L, Ev = E
    causal: bool

    @property
    def id(self) -> str:
        return f"{_dims(self.shape)}-{'causal' if self.causal else 'plain'}"

    def quick_shape(self) -> tuple[int, int, int, int]:
        """The --fv-quick shape: batch 1, a quarter of the sequence length."""
        _, h, l, e = self.shape
        return (1, h, max(l // 4, 16), e)


WORKLOADS = [
    Workload((4, 8, 1024, 64), causal=False),
    Workload((4, 8, 1024, 64), causal=True),
    Workload((1, 8, 4096, 64), causal=True),
    Workload((32, 8, 128, 64), causal=False),
]
_WORKLOAD = {w.id: w for w in WORKLOADS}


def gflop(shape, causal: bool) -> float:
    """4 B H L S E / 1e9 for (B, H, L, E) with S = L; half of that when causal."""
    b, h, l, e = shape
    plain = 4.0 * b * h * l * l * e / 1e9
    return plain / 2 if causal else plain


# --------------------------------------------------------------------------- inputs


def _normal(shape, stream: int) -> np.ndarray:
    rng = np.random.default_rng([SEED, stream])
    return np.ascontiguousarray(rng.standard_normal(shape, dtype=np.float32))


@pytest.fixture(scope="module")
def attention_inputs(fv_quick) -> dict:
    """{shape: (q, k, v)}: seeded standard-normal float32 (B, H, L, E), the --fv-quick shapes
    when asked; plain and causal workloads of one shape share their inputs."""
    inputs: dict = {}
    for i, w in enumerate(WORKLOADS):
        shape = w.quick_shape() if fv_quick else w.shape
        if shape not in inputs:
            q, k, v = (_normal(shape, 3 * i + j) for j in range(3))
            assert q.min() < q.max(), "benchmark input must not be constant"
            inputs[shape] = (q, k, v)
    return inputs


# --------------------------------------------------------------------------- the calls


def _torch():
    return pytest.importorskip("torch")


def _sdpa_call(library: str, q, k, v, causal: bool):
    if library == "foveal":
        return lambda: fnn.scaled_dot_product_attention(q, k, v, is_causal=causal)
    if library == "numpy":
        return lambda: ref.scaled_dot_product_attention(q, k, v, is_causal=causal)
    torch = _torch()
    qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))
    if library == "torch":
        sdpa = torch.nn.functional.scaled_dot_product_attention
        return lambda: sdpa(qt, kt, vt, is_causal=causal)
    if library == "torch-math":
        scale = 1.0 / math.sqrt(q.shape[-1])
        mask = None
        if causal:  # made once: 0 where query i sees key j <= i, -inf above the diagonal
            l, s = q.shape[-2], k.shape[-2]
            mask = torch.full((l, s), float("-inf"), dtype=qt.dtype).triu(1)

        def math_path():
            scores = torch.matmul(qt, kt.transpose(-2, -1)) * scale
            if mask is not None:
                scores = scores + mask
            return torch.matmul(torch.softmax(scores, dim=-1), vt)

        return math_path
    raise AssertionError(library)


# --------------------------------------------------------------------------- checking

_EXPECTED: dict[tuple, np.ndarray] = {}


def _expected(w: Workload, q, k, v) -> np.ndarray:
    """foveal's result (at its default thread count), once per workload and input shape."""
    key = (w.id, q.shape)
    if key not in _EXPECTED:
        _EXPECTED[key] = _sdpa_call("foveal", q, k, v, w.causal)()
    return _EXPECTED[key]


# --------------------------------------------------------------------------- the benchmarks


@pytest.mark.fv_libraries(*LIBRARIES)  # parametrizes library_threads (conftest.py)
@pytest.mark.parametrize("workload", [pytest.param(w.id, id=w.id) for w in WORKLOADS])
def test_sdpa(fv_benchmark, attention_inputs, fv_quick, workload, library_threads):
    w = _WORKLOAD[workload]
    library, threads = library_threads
    shape = w.quick_shape() if fv_quick else w.shape
    q, k, v = attention_inputs[shape]
    label = f"sdpa: {_dims(shape)} float32 {'causal' if w.causal else 'plain'}"
    expected = _expected(w, q, k, v)
    fn = _sdpa_call(library, q, k, v, w.causal)
    with blas_single_threaded(library) as blas:
        fv_benchmark(
            fn,
            library=library,
            threads=threads,
            workload=label,
            dtype="float32",
            shape=shape,
            extra_info={
                "causal": w.causal,
                "gflop": gflop(shape, w.causal),
                **({"blas_threads": blas} if blas else {}),
            },
            check=check_result(library, label, expected, TOL),
            slow_rounds=1,  # NumPy's float64 (B, H, L, S) scores take seconds at L = 4096
        )


# --------------------------------------------------------------------------- peak memory

MEMORY_LENGTHS = (4096, 8192, 16384)
MEMORY_HEADS, MEMORY_E = 8, 64
#: The call may add at most this many (1, H, L, E) float32 tensors: the output is one, and the
#: kernel packs all of K and V into NR-wide panels up front (two more; attention_simd.cpp,
#: attention_typed), measured at 2.99; the per-task tiles are a few hundred KiB ...
MEMORY_TENSORS = 3.25
#: ... plus this much (allocator arenas, page-granular accounting, thread stacks), bytes.
MEMORY_SLACK = 8 << 20
#: The unfused path's scores are measured only at this length (4 L^2 H bytes: 512 MiB here).
MATH_LENGTH = 4096

# Run in a fresh interpreter: argv = library ("foveal" or "torch-math"), L, H, E. Prints one
# JSON line with kibibytes: rss_before (VmRSS just before the call), maxrss_before and
# maxrss_after (ru_maxrss, the process's resident-set high-water mark) around one causal call.
_PROBE = textwrap.dedent(
    """
    import json, math, resource, sys
    import numpy as np

    library, L, H, E = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

    def vmrss_kib():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc/self/status")

    def maxrss_kib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    if library == "foveal":
        import foveal.nn as fnn

        def call(q, k, v):
            return fnn.scaled_dot_product_attention(q, k, v, is_causal=True)
    else:
        import torch

        def call(q, k, v):
            qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))
            n = q.shape[-2]
            mask = torch.full((n, n), float("-inf")).triu(1)
            scores = torch.matmul(qt, kt.transpose(-2, -1)) / math.sqrt(E) + mask
            return torch.matmul(torch.softmax(scores, dim=-1), vt).numpy()

    rng = np.random.default_rng(20240601)
    small = [rng.standard_normal((1, H, 128, E), dtype=np.float32) for _ in range(3)]
    call(*small)  # warm up: thread pool, allocator, lazy imports
    del small
    q, k, v = (rng.standard_normal((1, H, L, E), dtype=np.float32) for _ in range(3))
    rss_before, maxrss_before = vmrss_kib(), maxrss_kib()
    out = call(q, k, v)
    maxrss_after = maxrss_kib()
    assert out.shape == (1, H, L, E) and np.isfinite(out).all()
    print(json.dumps(dict(rss_before=rss_before, maxrss_before=maxrss_before,
                          maxrss_after=maxrss_after)))
    """
)


def _probe(library: str, length: int) -> dict:
    """Run _PROBE in a fresh interpreter that imports the same foveal as this one."""
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(foveal.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    args = [sys.executable, "-c", _PROBE, library, str(length), str(MEMORY_HEADS)]
    done = subprocess.run(
        [*args, str(MEMORY_E)], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"memory probe {library} L={length} failed:\n{done.stderr}"
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    # What the call added on top of what was resident just before it: an upper bound of its
    # peak extra memory (the high-water mark after the call minus the resident set before).
    figures["added"] = (figures["maxrss_after"] - figures["rss_before"]) * 1024
    return figures


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


@pytest.mark.skipif(
    os.environ.get("FOVEAL_BENCH_MEMORY") != "1",
    reason="peak-memory probe: set FOVEAL_BENCH_MEMORY=1 to run it",
)
def test_peak_memory():
    """foveal's causal SDPA adds O(L E H) memory: at most MEMORY_TENSORS tensors of
    (1, H, L, E) float32 plus MEMORY_SLACK, at every L of MEMORY_LENGTHS (linear in L),
    where the unfused path's scores alone are 4 L^2 H bytes."""
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/self/status and ru_maxrss in KiB (Linux)")
    h, e = MEMORY_HEADS, MEMORY_E
    lines = [
        f"peak memory of one causal SDPA call, (1, {h}, L, {e}) float32, foveal at its default "
        f"thread count ({foveal.get_num_threads()}); 'added' = ru_maxrss after the call - "
        "VmRSS before it",
        f"{'L':>6} {'tensor (L E H 4 B)':>19} {'q+k+v+out':>11} {'VmRSS before':>13} "
        f"{'maxrss after':>13} {'foveal added':>13} {'added/tensor':>13} "
        f"{'unfused scores (4 L^2 H B)':>27}",
    ]
    measured = {}
    for length in MEMORY_LENGTHS:
        tensor = length * e * h * 4
        figures = _probe("foveal", length)
        measured[length] = figures["added"]
        lines.append(
            f"{length:>6} {_mib(tensor):>19} {_mib(4 * tensor):>11} "
            f"{_mib(figures['rss_before'] * 1024):>13} {_mib(figures['maxrss_after'] * 1024):>13} "
            f"{_mib(figures['added']):>13} {figures['added'] / tensor:>13.2f} "
            f"{_mib(4 * length * length * h):>27}"
        )
    torch_math = None
    try:
        import torch  # noqa: F401
    except ImportError:
        lines.append("torch is not installed: the unfused path is not measured")
    else:
        torch_math = _probe("torch-math", MATH_LENGTH)
        lines.append(
            f"torch-math (unfused) at L={MATH_LENGTH}: added {_mib(torch_math['added'])} "
            f"(scores alone {_mib(4 * MATH_LENGTH**2 * h)}); foveal added "
            f"{_mib(measured[MATH_LENGTH])}"
        )
    print("\n" + "\n".join(lines))

    for length, added in measured.items():
        bound = MEMORY_TENSORS * length * e * h * 4 + MEMORY_SLACK
        assert added <= bound, (
            f"foveal SDPA at L={length} added {_mib(added)} > {MEMORY_TENSORS} tensors of "
            f"{_mib(length * e * h * 4)} + {_mib(MEMORY_SLACK)}: not O(L E H)"
        )
    # Linear, not quadratic: 4x the length adds at most ~4x the memory (16x if it were L^2).
    lo, hi = MEMORY_LENGTHS[0], MEMORY_LENGTHS[-1]
    assert measured[hi] <= (hi / lo) * 1.5 * measured[lo] + MEMORY_SLACK, measured
    if torch_math is not None:  # the unfused scores are really there, and foveal avoids them
        assert torch_math["added"] >= 4 * MATH_LENGTH**2 * h * 0.9, torch_math
        assert measured[MATH_LENGTH] * 10 < torch_math["added"], (measured, torch_math)

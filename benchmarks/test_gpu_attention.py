"""GPU attention benchmarks: foveal.nn.scaled_dot_product_attention (the fused tensor-core
kernel, cuda/attention_kernel.cuh) against torch.nn.functional.scaled_dot_product_attention on
the GPU attention rows of WORKLOADS.md: bfloat16 and float16 (B, H, L, E) = (4,16,4096,128)
and (8,16,1024,64), plain and causal (S = L, Ev = E, the default scale).

    python -m pytest benchmarks/test_gpu_attention.py \
        --benchmark-json=benchmarks/results/attention-gpu-<device>.json
    python benchmarks/report.py benchmarks/results/attention-gpu-<device>.json --out ...md

Skips without torch, a CUDA device, or (for foveal's rows) foveal's _cuda module; float16
rows of foveal also need CuPy (torch float16 tensors reach the kernel through CuPy; bfloat16
ones through torch's own pointers and stream). ``--fv-quick`` runs batch 1 and a quarter of
each sequence length.

Libraries: ``foveal``; ``torch`` (whatever backend torch picks); ``torch-flash`` and
``torch-cudnn`` (one backend forced by torch.nn.attention.sdpa_kernel; skipped where torch
has it not for these inputs). Inputs are seeded standard normal torch CUDA tensors, made once
per shape and dtype. Each call is timed to the end of its device work (torch.cuda.synchronize
inside the timed function), after a warm-up call whose result is compared with torch's within
the tests' bounds (2e-3 float16, 1e-2 bfloat16, relative to the largest magnitude).

Every row records ``extra_info["gflop"]`` = 4 B H L L E / 1e9 (half of it when causal; report.py
shows GFLOP/s from it), and after timing ``tflops`` (from the median) and ``of_matmul``: that
rate as a fraction of a dense bfloat16 matrix product's, ``matmul_tflops``, measured in the
same run (torch.matmul of two 8192 x 8192 bfloat16 matrices, median of 20 after warm-up). The
issue's target for (4,16,4096,128) bfloat16: at least torch's rate and at least 0.5 of the
matrix product's.
"""

from __future__ import annotations

import dataclasses

import foveal.nn as fnn
import numpy as np
import pytest
from foveal._gpu import attention as gpu_attention

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)

SEED = 20240601
LIBRARIES = ("foveal", "torch", "torch-flash", "torch-cudnn")
TOL = {"float16": 2e-3, "bfloat16": 1e-2}
MATMUL_N = 8192


@dataclasses.dataclass(frozen=True)
class Workload:
    shape: tuple[int, int, int, int]  # (B, H, L, E); S = L, Ev = E
    dtype: str
    causal: bool

    @property
    def id(self) -> str:
        dims = "x".join(map(str, self.shape))
        return f"{self.dtype}-{dims}-{'causal' if self.causal else 'plain'}"

    def run_shape(self, quick: bool) -> tuple[int, int, int, int]:
        b, h, l, e = self.shape
        return (1, h, max(l // 4, 64), e) if quick else self.shape


WORKLOADS = [
    Workload(shape, dtype, causal)
    for dtype in ("bfloat16", "float16")
    for shape in ((4, 16, 4096, 128), (8, 16, 1024, 64))
    for causal in (False, True)
]
_WORKLOAD = {w.id: w for w in WORKLOADS}


def gflop(shape, causal: bool) -> float:
    """4 B H L L E / 1e9 for (B, H, L, E) with S = L; half of that when causal."""
    b, h, l, e = shape
    plain = 4.0 * b * h * l * l * e / 1e9
    return plain / 2 if causal else plain


def _median_seconds(fn, rounds: int = 20) -> float:
    """The median device time of ``fn`` (CUDA events), after two warm-up calls."""
    for _ in range(2):
        fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(rounds):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / 1e3)
    return float(np.median(times))


@pytest.fixture(scope="session")
def matmul_tflops() -> float:
    """A dense bfloat16 matrix product's rate on this device (TFLOP/s), the yardstick."""
    gen = torch.Generator(device="cuda").manual_seed(SEED)
    a, b = (
        torch.randn((MATMUL_N, MATMUL_N), device="cuda", dtype=torch.bfloat16, generator=gen)
        for _ in range(2)
    )
    seconds = _median_seconds(lambda: torch.matmul(a, b))
    return 2.0 * MATMUL_N**3 / seconds / 1e12


_INPUTS: dict[tuple, tuple] = {}


def _inputs(shape, dtype: str):
    """Seeded standard-normal (q, k, v) torch CUDA tensors of ``shape`` and ``dtype``, made once."""
    key = (shape, dtype)
    if key not in _INPUTS:
        gen = torch.Generator(device="cuda").manual_seed(SEED)
        _INPUTS[key] = tuple(
            torch.randn(shape, device="cuda", dtype=getattr(torch, dtype), generator=gen)
            for _ in range(3)
        )
    return _INPUTS[key]


def _call(library: str, q, k, v, causal: bool):
    if library == "foveal":
        if gpu_attention.torch_device(q) is None:
            pytest.skip("foveal's _cuda module was not built or sees no device")
        if q.dtype != torch.bfloat16:
            pytest.importorskip("cupy")
        return lambda: fnn.scaled_dot_product_attention(q, k, v, is_causal=causal)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    if library == "torch":
        return lambda: sdpa(q, k, v, is_causal=causal)
    from torch.nn.attention import SDPBackend, sdpa_kernel

    name = {"torch-flash": "FLASH_ATTENTION", "torch-cudnn": "CUDNN_ATTENTION"}[library]
    backend = getattr(SDPBackend, name, None)
    if backend is None:
        pytest.skip(f"this torch has no {name} backend")

    def forced():
        with sdpa_kernel(backend):
            return sdpa(q, k, v, is_causal=causal)

    try:
        forced()
    except RuntimeError as exc:  # the backend does not take these inputs here
        pytest.skip(f"{library}: {str(exc).splitlines()[0]}")
    return forced


def _relative_error(got, want) -> float:
    want = want.float()
    return float((got.float() - want).abs().max() / want.abs().max())


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("workload", [pytest.param(w.id, id=w.id) for w in WORKLOADS])
def test_sdpa_gpu(benchmark, matmul_tflops, fv_quick, workload, library):
    w = _WORKLOAD[workload]
    shape = w.run_shape(fv_quick)
    q, k, v = _inputs(shape, w.dtype)
    fn = _call(library, q, k, v, w.causal)

    def run():
        out = fn()
        torch.cuda.synchronize()
        return out

    got = run()
    if library != "torch":
        want = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=w.causal)
        err = _relative_error(got, want)
        assert err <= TOL[w.dtype], f"{library} differs from torch by {err:.3g} on {workload}"
    work = gflop(shape, w.causal)
    benchmark.group = workload
    benchmark.extra_info.update(
        library=library,
        threads=1,
        workload=workload,
        shape=list(shape),
        dtype=w.dtype,
        gflop=work,
        matmul_tflops=matmul_tflops,
        device=torch.cuda.get_device_name(q.device),
    )
    benchmark.pedantic(run, rounds=20, iterations=1, warmup_rounds=2)
    tflops = work / benchmark.stats.stats.median / 1e3
    benchmark.extra_info.update(tflops=tflops, of_matmul=tflops / matmul_tflops)

"""foveal.nn.scaled_dot_product_attention on the GPU (cuda/attention_kernel.cuh, the fused
tensor-core kernel) against the float64 reference (foveal.reference.attention) on the same
inputs, on the emulator and on a real GPU (where it is also compared with torch's SDPA).

The error is measured relative to the result's largest magnitude, max |got - want| / max |want|,
and must stay within (the issue's bounds, and what 3xTF32 gives):

- float16 <= 3e-3 (P and the output rounded to float16, 2^-11 each, and float32 sums);
- bfloat16 <= 1e-2 (the same with 2^-8);
- float32 <= 2e-5 (3xTF32: each product to ~2^-21 with float32 accumulation, against 1e-3
  for plain tf32, which these bounds would reject).

Rows with no key give 0 (torch's rule, EMPTY_ROW) and their log-sum-exp +inf; NaN in an input
gives NaN in the rows it reaches, as on the CPU. Results are NaN-filled before the kernel
writes them (poisoned allocations and ``out=``), so an element left unwritten fails. Inputs are
drawn afresh each run from a clock seed, which every failure message prints
(``FOVEAL_TEST_SEED=<seed>`` repeats a run).

bfloat16 has no NumPy or CuPy dtype: under the emulator the route's launcher gets bfloat16 bit
patterns in uint16 arrays, and torch's bfloat16 route runs with CPU tensors on the emulator's
device; on a GPU, torch CUDA tensors.

The emulator runs each tensor-core instruction in software, so the shapes are small (L, S
<= 160): they still cover several query tiles (128 rows for 16-bit heads up to 128, 64 rows
for float32 and for head 256), several key tiles and partial tiles of both.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import zlib

import foveal.attention as fatt
import foveal.nn as fnn
import foveal.reference.attention as ref
import numpy as np
import pytest
import test_gpu_conv
from foveal import _gpu
from foveal._gpu import attention as route

# Shared with the conv2d tests: the backend fixture with the route's results NaN-filled, the
# emulator's Device likewise, and torch's bfloat16 route taken by CPU tensors on it (fixtures
# are registered here by these names).
emulator = test_gpu_conv.emulator
poisoned = test_gpu_conv.poisoned
conv_torch_emulated = test_gpu_conv.torch_emulated

SEED = int(os.environ.get("FOVEAL_TEST_SEED", time.time_ns() % 2**32))
TOL = {"float16": 3e-3, "bfloat16": 1e-2, "float32": 2e-5}
NP_DTYPE = {"float16": np.float16, "float32": np.float32}


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(repr(key).encode())])


# --------------------------------------------------------------------------- cases


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    lead: tuple  # the leading dimensions of the query, heads last
    L: int
    S: int
    E: int
    Ev: int
    hkv: int | None = None  # fewer key/value heads (enable_gqa)
    causal: bool = False
    mask: str | None = None  # see make_mask
    scale: float | None = None


CASES = [
    Case("basic", (1, 2), 16, 16, 64, 64),
    Case("l_ne_s", (2, 1), 37, 80, 64, 64),
    Case("l_1", (1, 3), 1, 70, 64, 64),
    Case("s_1", (1, 1), 9, 1, 64, 64),
    Case("two_query_tiles", (1, 1), 150, 90, 64, 64),
    Case("e32", (1, 2), 40, 50, 32, 32),
    Case("e96", (1, 1), 33, 40, 96, 96),
    Case("e128_partial", (1, 1), 50, 33, 128, 128),
    Case("e256", (1, 1), 70, 40, 256, 256),
    Case("e_ne_ev", (1, 2), 24, 30, 48, 80),
    Case("ev_wider_tile", (1, 1), 20, 20, 64, 136),
    Case("odd_heads", (1, 2), 21, 35, 20, 13),
    Case("causal_square", (1, 1), 150, 150, 64, 64, causal=True),
    Case("causal_l_lt_s", (1, 2), 20, 70, 64, 64, causal=True),
    Case("causal_l_gt_s", (1, 2), 70, 20, 64, 64, causal=True),
    Case("causal_e256", (1, 1), 80, 80, 256, 256, causal=True),
    Case("gqa_2", (1, 4), 30, 40, 64, 64, hkv=2),
    Case("gqa_1", (2, 3), 17, 25, 64, 64, hkv=1, causal=True),
    Case("bool_mask_ls", (2, 2), 30, 45, 64, 64, mask="bool"),
    Case("bool_mask_empty_rows", (1, 2), 30, 45, 64, 64, mask="bool-empty"),
    Case("additive_batch", (2, 2), 25, 70, 64, 64, mask="additive"),
    Case("additive_key_padding", (1, 3), 25, 70, 64, 64, mask="padding"),
    Case("additive_empty_rows", (1, 2), 20, 33, 64, 64, mask="additive-empty"),
    Case("additive_gqa_e128", (1, 4), 20, 33, 128, 128, hkv=2, mask="additive"),
    Case("five_d", (2, 2, 2), 12, 19, 64, 64),
    Case("unbatched", (), 11, 13, 64, 64),
    Case("empty_batch", (0, 2), 11, 13, 64, 64),
    Case("three_d", (3,), 11, 13, 64, 64, mask="bool"),
    Case("scale", (1, 2), 20, 30, 64, 64, scale=0.3),
    Case("negative_scale", (1, 1), 20, 30, 64, 64, scale=-0.2, causal=True),
]
CASE_IDS = [c.id for c in CASES]
F32_CASES = [
    "basic",
    "l_ne_s",
    "e_ne_ev",
    "odd_heads",
    "causal_l_gt_s",
    "e256",
    "gqa_1",
    "additive_empty_rows",
    "bool_mask_ls",
]
BF16_CASES = [
    "basic",
    "two_query_tiles",
    "e_ne_ev",
    "odd_heads",
    "causal_l_lt_s",
    "gqa_2",
    "additive_batch",
    "bool_mask_empty_rows",
]
CASE = {c.id: c for c in CASES}


def make_mask(case: Case, rng):
    """The case's mask (float64 or bool), of a shape that broadcasts to (*lead, L, S)."""
    lead, L, S = case.lead, case.L, case.S
    kind = case.mask
    if kind is None:
        return None
    if kind == "bool":  # one (L, S) mask for every batch and head
        return rng.random((L, S)) < 0.7
    if kind == "bool-empty":  # per head, some rows with no key at all
        m = rng.random((*lead, L, S)) < 0.5
        m[..., ::4, :] = False
        return m
    if kind == "additive":  # per batch item, broadcast over the heads; some -inf
        m = rng.standard_normal((lead[0], 1, L, S)) * 2
        m[rng.random(m.shape) < 0.2] = -np.inf
        return m
    if kind == "padding":  # one row of key biases per head, the last keys masked out
        m = rng.standard_normal((lead[-1], 1, S))
        m[..., S - 7 :] = -np.inf
        return m
    if kind == "additive-empty":
        m = rng.standard_normal((*lead, L, S))
        m[..., 1::3, :] = -np.inf
        return m
    raise AssertionError(kind)


def make_inputs(case: Case, rng):
    """float64 q, k, v and the mask of a case."""
    heads_kv = case.lead[:-1] + (case.hkv,) if case.hkv else case.lead
    q = rng.standard_normal((*case.lead, case.L, case.E))
    k = rng.standard_normal((*heads_kv, case.S, case.E))
    v = rng.standard_normal((*heads_kv, case.S, case.Ev))
    return q, k, v, make_mask(case, rng)


def kwargs_of(case: Case) -> dict:
    return dict(is_causal=case.causal, scale=case.scale, enable_gqa=case.hkv is not None)


def reference(q, k, v, mask, **kwargs):
    """The float64 reference on the (already rounded) inputs."""
    m = mask if mask is None or mask.dtype == np.bool_ else np.asarray(mask, np.float64)
    f64 = [np.asarray(a, np.float64) for a in (q, k, v)]
    return ref.scaled_dot_product_attention(*f64, attn_mask=m, **kwargs)


def check(got, want, dtype: str, what: str, tol: float | None = None):
    tol = TOL[dtype] if tol is None else tol
    got = np.asarray(got, np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), f"{what}: NaN where not expected (seed {SEED})"
    if nan.all():
        return
    scale = max(float(np.abs(want[~nan]).max()), 1e-30)
    err = float(np.abs(got[~nan] - want[~nan]).max()) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol} (seed {SEED})"


# --------------------------------------------------------------------------- float16, float32


def run_case(backend, case: Case, dtype: str, **extra):
    to_device, to_host = backend
    rng = rng_for(case.id, dtype)
    q, k, v, mask = make_inputs(case, rng)
    nd = NP_DTYPE[dtype]
    q, k, v = (a.astype(nd) for a in (q, k, v))
    if mask is not None and mask.dtype != np.bool_:
        mask = mask.astype(nd)
    dev_mask = None if mask is None else to_device(mask)
    got = fnn.scaled_dot_product_attention(
        to_device(q), to_device(k), to_device(v), dev_mask, **kwargs_of(case), **extra
    )
    want = reference(q, k, v, mask, **kwargs_of(case))
    return to_host(got), want


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_float16(poisoned, case):
    got, want = run_case(poisoned, case, "float16")
    assert got.dtype == np.float16
    check(got, want, "float16", f"float16 {case}")


@pytest.mark.parametrize("case_id", F32_CASES)
def test_float32(poisoned, case_id):
    case = CASE[case_id]
    got, want = run_case(poisoned, case, "float32")
    assert got.dtype == np.float32
    check(got, want, "float32", f"float32 {case}")


def test_route_taken(request, poisoned):
    """The emulated backend really runs the kernel: the route's device was asked for."""
    to_device, _ = poisoned
    q = to_device(np.ones((1, 4, 8), np.float16))
    fnn.scaled_dot_product_attention(q, q, q)
    if hasattr(request.node, "taken"):
        assert request.node.taken


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_out_poisoned_strided_and_overlapping(poisoned, dtype):
    """out=: written whole when contiguous (NaN-filled first), through a copy when strided or
    when it overlaps an input."""
    to_device, to_host = poisoned
    case = Case("out", (2, 2), 19, 23, 64, 64)
    q, k, v, _ = make_inputs(case, rng_for("out", dtype))
    nd = NP_DTYPE[dtype]
    q, k, v = (a.astype(nd) for a in (q, k, v))
    want = reference(q, k, v, None)
    out = to_device(np.full(want.shape, np.nan, nd))
    assert (
        fnn.scaled_dot_product_attention(to_device(q), to_device(k), to_device(v), out=out) is out
    )
    check(to_host(out), want, dtype, "out= contiguous")
    wide = to_device(np.full((*want.shape[:-1], 2 * want.shape[-1]), np.nan, nd))
    fnn.scaled_dot_product_attention(to_device(q), to_device(k), to_device(v), out=wide[..., ::2])
    check(to_host(wide)[..., ::2], want, dtype, "out= strided")
    assert np.isnan(to_host(wide)[..., 1::2]).all()
    qd = to_device(q.copy())
    fnn.scaled_dot_product_attention(qd, to_device(k), to_device(v), out=qd)  # out is query
    check(to_host(qd), want, dtype, "out= overlapping query")


def test_strided_inputs(poisoned):
    """Views: (B, L, H, E) transposed to (B, H, L, E) (the usual projection layout), negative
    strides, a broadcast key, a non-contiguous last dimension (copied by the route)."""
    to_device, to_host = poisoned
    rng = rng_for("strided")
    blhe = rng.standard_normal((2, 21, 3, 64)).astype(np.float16)
    k = rng.standard_normal((2, 3, 30, 128)).astype(np.float16)
    v = rng.standard_normal((2, 1, 30, 64)).astype(np.float16)
    qd = to_device(blhe).transpose(0, 2, 1, 3)
    kd = to_device(k)[..., ::-1, ::2]  # negative row stride, last dimension strided
    vd = broadcast(to_device(v), (2, 3, 30, 64))  # stride 0 over the heads
    got = fnn.scaled_dot_product_attention(qd, kd, vd, is_causal=True)
    want = reference(
        blhe.transpose(0, 2, 1, 3),
        k[..., ::-1, ::2],
        np.broadcast_to(v, (2, 3, 30, 64)),
        None,
        is_causal=True,
    )
    check(to_host(got), want, "float16", "strided views")


def broadcast(arr, shape):
    """A broadcast view of a device array (a dressed NumPy array stays dressed)."""
    if isinstance(arr, np.ndarray):
        return np.broadcast_to(arr, shape, subok=True)
    return type(arr).__module__.startswith("cupy") and __import__("cupy").broadcast_to(arr, shape)


def test_nan_and_finfo_min(poisoned):
    """A NaN in a query row makes that row NaN; rows whose keys all carry finfo.min (torch's
    padding value) average their values uniformly in float32 as on the CPU (the scores cancel
    against the mask), a row with some finfo.min keys ignores them."""
    to_device, to_host = poisoned
    rng = rng_for("nan")
    q, k, v = (rng.standard_normal((1, 2, 20, 64)).astype(np.float32) for _ in range(3))
    q[0, 1, 5, 3] = np.nan
    low = np.finfo(np.float32).min
    mask = np.zeros((20, 20), np.float32)
    mask[7] = low
    mask[9, ::2] = low
    want = fnn.scaled_dot_product_attention(q, k, v, mask)  # the CPU path, float32
    got = fnn.scaled_dot_product_attention(
        to_device(q), to_device(k), to_device(v), to_device(mask)
    )
    assert np.isnan(want[0, 1, 5]).all() and not np.isnan(np.delete(want[0, 1], 5, 0)).any()
    np.testing.assert_allclose(
        want[..., 7, :], np.broadcast_to(v.mean(-2), want[..., 7, :].shape), rtol=1e-5, atol=1e-6
    )
    check(to_host(got), want.astype(np.float64), "float32", "NaN and finfo.min rows")


# --------------------------------------------------------------------------- the launcher


def to_bf16_bits(a) -> np.ndarray:
    """float64 values rounded to bfloat16 (torch's rounding), as uint16 bit patterns."""
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(np.ascontiguousarray(a, np.float32)).to(torch.bfloat16)
    return t.view(torch.int16).numpy().view(np.uint16)


def bits_to_float(bits) -> np.ndarray:
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(np.float32)


def launcher_args(case: Case, q, k, v, mask):
    """The route's 4-D operands of a case (as the wrapper hands them over)."""
    z = fatt._sdpa_plan(
        "sdpa", q.shape, k.shape, v.shape, 0.0, case.causal, mask, case.scale, case.hkv is not None
    )
    q4 = q.reshape(z.b, z.hq, z.L, z.E)
    k4 = k.reshape(z.b, z.hkv, z.S, z.E)
    v4 = v.reshape(z.b, z.hkv, z.S, z.Ev)
    m4 = None if mask is None else fatt._broadcast_mask(np, mask, z, "sdpa")
    return z, q4, k4, v4, m4


@pytest.mark.parametrize("case_id", BF16_CASES)
def test_bfloat16_launcher(case_id):
    """The kernel on bfloat16 bit patterns, through the route's launcher, with the
    log-sum-exp."""
    dev = emulator()
    case = CASE[case_id]
    q, k, v, mask = make_inputs(case, rng_for(case_id, "bfloat16"))
    qb, kb, vb = (to_bf16_bits(a) for a in (q, k, v))
    mb = mask if mask is None or mask.dtype == np.bool_ else to_bf16_bits(mask)
    z, q4, k4, v4, m4 = launcher_args(case, qb, kb, vb, mb)
    lse = np.full((z.b, z.hq, z.L), np.nan, np.float32)
    got = route.sdpa(dev, "bfloat16", q4, k4, v4, m4, causal=case.causal, scale=z.scale, lse=lse)
    assert got.dtype == np.uint16
    rounded = [None if a is None else bits_to_float(a) for a in (qb, kb, vb)]
    mr = mb if mb is None or mb.dtype == np.bool_ else bits_to_float(mb)
    want = reference(*rounded, mr, **kwargs_of(case))
    check(bits_to_float(got).reshape(want.shape), want, "bfloat16", f"bfloat16 {case}")
    check_lse(lse, case, *launcher_args(case, *rounded, mr)[1:])


def log_sum_exp(case: Case, q4, k4, v4, m4) -> np.ndarray:
    """log sum_j exp(x_ij) of the scaled, masked scores in float64; +inf for a row with no key."""
    group = q4.shape[1] // k4.shape[1]
    kk = np.repeat(np.asarray(k4, np.float64), group, axis=1)
    scale = 1 / math.sqrt(q4.shape[-1]) if case.scale is None else case.scale
    x = np.asarray(q4, np.float64) @ np.swapaxes(kk, -1, -2) * scale
    if case.causal:
        x = np.where(np.arange(x.shape[-1]) <= np.arange(x.shape[-2])[:, None], x, -np.inf)
    if m4 is not None:
        x = np.where(m4, x, -np.inf) if m4.dtype == np.bool_ else x + m4
    top = x.max(-1, keepdims=True)
    empty = np.isneginf(top[..., 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        lse = (top + np.log(np.exp(x - np.where(np.isneginf(top), 0, top)).sum(-1, keepdims=True)))[
            ..., 0
        ]
    return np.where(empty, np.inf, lse)


def check_lse(lse, case, q4, k4, v4, m4):
    want = log_sum_exp(case, q4, k4, v4, m4)
    empty = np.isinf(want)
    assert np.array_equal(lse[empty], want[empty]), f"lse of rows with no key (seed {SEED})"
    err = np.abs(lse[~empty] - want[~empty]).max(initial=0.0)
    assert err <= 1e-4 * max(1.0, np.abs(want[~empty]).max(initial=0.0)), f"lse {err} (seed {SEED})"


@pytest.mark.parametrize("case_id", ["basic", "causal_square", "additive_empty_rows", "e256"])
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_log_sum_exp(dtype, case_id):
    """The launcher's optional float32 log-sum-exp per row (for a backward pass)."""
    dev = emulator()
    case = CASE[case_id]
    q, k, v, mask = make_inputs(case, rng_for(case_id, dtype, "lse"))
    nd = NP_DTYPE[dtype]
    q, k, v = (a.astype(nd) for a in (q, k, v))
    mask = mask if mask is None or mask.dtype == np.bool_ else mask.astype(nd)
    z, q4, k4, v4, m4 = launcher_args(case, q, k, v, mask)
    lse = np.full((z.b, z.hq, z.L), np.nan, np.float32)
    route.sdpa(dev, dtype, q4, k4, v4, m4, causal=case.causal, scale=z.scale, lse=lse)
    check_lse(lse, case, q4, k4, v4, m4)


# --------------------------------------------------------------------------- torch's bfloat16 route


@pytest.fixture
def torch_emulated(conv_torch_emulated, monkeypatch):
    """CPU bfloat16 tensors take foveal's torch route for attention too, on the emulator."""
    monkeypatch.setattr(route, "is_cuda_bfloat16", test_gpu_conv.gpu_conv.is_cuda_bfloat16)
    monkeypatch.setattr(route, "torch_device", test_gpu_conv.gpu_conv.torch_device)
    return conv_torch_emulated


@pytest.mark.parametrize("case_id", ["l_ne_s", "gqa_1", "bool_mask_ls", "padding_three_d"])
def test_bfloat16_torch_route(torch_emulated, case_id):
    """foveal.nn's hook for bfloat16 torch tensors: checks, launch, masks, out=."""
    torch = torch_emulated
    case = CASE.get(case_id) or Case(case_id, (3,), 15, 22, 64, 64, mask="padding")
    q, k, v, mask = make_inputs(case, rng_for(case_id, "torch"))
    t = lambda a: torch.from_numpy(np.asarray(a, np.float32)).to(torch.bfloat16)  # noqa: E731
    tm = None if mask is None else (torch.from_numpy(mask) if mask.dtype == np.bool_ else t(mask))
    got = fnn.scaled_dot_product_attention(t(q), t(k), t(v), tm, **kwargs_of(case))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.bfloat16
    out = torch.full(tuple(got.shape), float("nan"), dtype=torch.bfloat16)
    res = fnn.scaled_dot_product_attention(t(q), t(k), t(v), tm, **kwargs_of(case), out=out)
    assert res is out
    rounded = [t(a).float().numpy() for a in (q, k, v)]
    mr = mask if mask is None or mask.dtype == np.bool_ else t(mask).float().numpy()
    want = reference(*rounded, mr, **kwargs_of(case))
    for r in (got, out):
        check(r.float().numpy(), want, "bfloat16", f"bfloat16 torch {case}")


def test_bfloat16_torch_route_errors(torch_emulated):
    torch = torch_emulated
    q = torch.zeros((1, 2, 4, 8), dtype=torch.bfloat16)
    with pytest.raises(TypeError, match="key dtype"):
        fnn.scaled_dot_product_attention(q, q.float(), q)
    with pytest.raises(TypeError, match="value must be a torch tensor"):
        fnn.scaled_dot_product_attention(q, q, np.zeros((1, 2, 4, 8)))
    with pytest.raises(TypeError, match="attn_mask dtype"):
        fnn.scaled_dot_product_attention(q, q, q, torch.zeros((4, 4)))
    with pytest.raises(ValueError, match="does not broadcast"):
        fnn.scaled_dot_product_attention(q, q, q, torch.zeros((3, 4), dtype=torch.bool))
    with pytest.raises(ValueError, match="cannot both"):
        fnn.scaled_dot_product_attention(
            q, q, q, torch.ones((4, 4), dtype=torch.bool), is_causal=True
        )
    with pytest.raises(ValueError, match="out must have shape"):
        fnn.scaled_dot_product_attention(
            q, q, q, out=torch.zeros((1, 2, 4, 7), dtype=torch.bfloat16)
        )


def test_bfloat16_torch_without_kernels(torch_emulated, monkeypatch):
    """Without the kernels a bfloat16 torch call is made again in float32 and rounded back."""
    torch = torch_emulated
    monkeypatch.setattr(route, "torch_device", lambda x: None)
    calls = []
    real = fatt.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(args[0].dtype)
        return real(*args, **kwargs)

    monkeypatch.setattr(fatt, "scaled_dot_product_attention", spy)
    q = torch.from_numpy(rng_for("widened").standard_normal((1, 2, 5, 8), np.float32))
    q = q.to(torch.bfloat16)
    got = fnn.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert calls == [torch.float32] and got.dtype == torch.bfloat16
    f = q.float().numpy()
    check(got.float().numpy(), reference(f, f, f, None, is_causal=True), "bfloat16", "widened")


# ----------------------------------------------------------- what the kernel does not take


@pytest.mark.parametrize(
    ("dtype", "e", "why"),
    [("float16", 64, "no kernels"), ("float64", 64, "float64"), ("float32", 300, "wide head")],
)
def test_fallbacks(request, backend, monkeypatch, dtype, e, why):
    """float64, heads past 256 and builds without the kernels take the CuPy fallback (run
    here with NumPy in CuPy's place); float16 is computed there in float32."""
    if request.node.callspec.params["backend"] != "emulated":
        pytest.skip("NumPy stands in for CuPy: emulated backend only")
    to_device, to_host = backend
    if why == "no kernels":
        monkeypatch.setattr(_gpu, "device", lambda arr, kind=None: None)
    monkeypatch.setattr(fatt, "_xp", lambda: np)
    launched = []
    monkeypatch.setattr(route, "sdpa", lambda *a, **k: launched.append(1))
    rng = rng_for("fallback", dtype, e)
    q, k, v = (rng.standard_normal((1, 2, 9, e)).astype(dtype) for _ in range(3))
    mask = (rng.random((9, 9)) < 0.6).astype(dtype) - 1  # 0 and -1: additive
    got = fnn.scaled_dot_product_attention(
        to_device(q), to_device(k), to_device(v), to_device(mask)
    )
    assert not launched and np.asarray(got).dtype == np.dtype(dtype)
    check(to_host(got), reference(q, k, v, mask), "float16", f"fallback {why}")


def test_gpu_errors(backend):
    to_device, _ = backend
    q = to_device(np.zeros((1, 2, 4, 8), np.float16))
    with pytest.raises(TypeError, match="attn_mask dtype"):
        fnn.scaled_dot_product_attention(q, q, q, to_device(np.zeros((4, 4), np.float32)))
    with pytest.raises(TypeError, match="attn_mask must live on the same device"):
        fnn.scaled_dot_product_attention(q, q, q, np.zeros((4, 4), np.float16))
    with pytest.raises(TypeError, match="on the GPU"):
        fnn.scaled_dot_product_attention(to_device(np.zeros((2, 2), np.int32)), q, q)
    with pytest.raises(TypeError, match="float32, float64\\)"):
        fnn.scaled_dot_product_attention(np.zeros((2, 2), np.float16), q, q)


def test_launcher_rejects_bad_sizes():
    dev = emulator()
    a = np.zeros((1, 1, 4, 8), np.float16)
    args = dict(causal=False, scale=1.0)
    with pytest.raises(ValueError, match="head sizes"):
        route.sdpa(
            dev,
            "float16",
            np.zeros((1, 1, 4, 300), np.float16),
            np.zeros((1, 1, 4, 300), np.float16),
            a,
            **args,
        )
    with pytest.raises(ValueError, match="bad sizes"):
        route.sdpa(
            dev,
            "float16",
            np.zeros((1, 3, 4, 8), np.float16),
            np.zeros((1, 2, 4, 8), np.float16),
            np.zeros((1, 2, 4, 8), np.float16),
            **args,
        )
    with pytest.raises(TypeError, match="dtype must be"):
        route.sdpa(dev, "float64", a, a, a, **args)


# ---------------------------------------------------------------- a GPU: torch's SDPA too


def _torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available() or route.torch_device(torch.zeros(1, device="cuda")) is None:
        pytest.skip("needs torch with CUDA and foveal's _cuda module")
    return torch


@pytest.mark.parametrize(
    "case_id", ["l_ne_s", "two_query_tiles", "causal_l_gt_s", "gqa_2", "additive_batch", "e256"]
)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_against_torch_sdpa(dtype, case_id):
    """On a GPU: foveal and torch.nn.functional.scaled_dot_product_attention on the same torch
    CUDA tensors, each within the bound of the float64 reference."""
    torch = _torch_cuda()
    if dtype != "bfloat16":
        pytest.importorskip("cupy")  # float16 and float32 torch tensors go through CuPy
    case = CASE[case_id]
    q, k, v, mask = make_inputs(case, rng_for(case_id, dtype, "torch-cuda"))
    tdtype = getattr(torch, dtype)
    t = lambda a: torch.from_numpy(np.asarray(a, np.float32)).to("cuda", tdtype)  # noqa: E731
    tm = (
        None
        if mask is None
        else (torch.from_numpy(mask).cuda() if mask.dtype == np.bool_ else t(mask))
    )
    args = (t(q), t(k), t(v), tm)
    kw = kwargs_of(case)
    mine = fnn.scaled_dot_product_attention(*args, **kw)
    theirs = torch.nn.functional.scaled_dot_product_attention(*args, **kw)
    rounded = [a.float().cpu().numpy() for a in args[:3]]
    mr = mask if tm is None or tm.dtype == torch.bool else tm.float().cpu().numpy()
    want = reference(*rounded, mr, **kw)
    check(mine.float().cpu().numpy(), want, dtype, f"foveal {dtype} {case}")
    if dtype != "float32":  # torch's float32 SDPA may run tf32
        check(theirs.float().cpu().numpy(), want, dtype, f"torch {dtype} {case}")

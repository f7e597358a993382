"""The CuPy fallbacks of the CNN half of foveal.nn (``foveal._cupy.nn``), run on the CPU with
NumPy standing in for CuPy, against torch.nn.functional (the semantic anchor).

Arguments are passed as the wrapper normalizes them: 4-D input, (h, w) pairs, conv2d's padding
as (top, bottom, left, right). Cases are drawn from a fixed seed: random shapes, strides,
paddings (asymmetric for conv2d), dilations, groups (1, 2, depthwise, depthwise with a
multiplier), ceil_mode, count_include_pad, divisor_override; a few hand-picked edge cases
(a ceil_mode window dropped because it would start in the right padding, windows of -inf,
ties, NaNs) are added.

Tolerances. The reference is torch in float64 on the same (float64-cast) input; ``scale`` is
the same op applied to |input| (and |weight|, |bias|), the largest magnitude that the sums can
reach: |got - ref| <= rtol * max(1, scale) with rtol 1e-5 for float32 and 1e-12 for float64.
Max pooling, patchify and unpatchify are compared exactly (values with NaN in place, indices
as int64), against torch in the input's own dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
from foveal._cupy import nn as cu_nn

torch = pytest.importorskip("torch")
F = torch.nn.functional

SEED = 20240607


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's thread pool costs ~20 ms per call on these tiny tensors."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


DTYPES = (np.float32, np.float64)
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def t64(a):
    return torch.from_numpy(np.asarray(a, np.float64))


def assert_close(got, ref, scale, dtype):
    """got has ``dtype`` and ref's shape, NaN where ref is, and is within the tolerance."""
    ref = np.asarray(ref)
    assert got.dtype == np.dtype(dtype)
    assert got.shape == ref.shape
    got64 = got.astype(np.float64)
    nan = np.isnan(ref)
    np.testing.assert_array_equal(np.isnan(got64), nan)
    tol = RTOL[np.dtype(dtype)] * max(1.0, float(np.max(np.abs(scale), initial=0.0)))
    err = np.abs(got64[~nan] - ref[~nan])
    assert err.max(initial=0.0) <= tol, (err.max(), tol)


# --------------------------------------------------------------------------------------------
# conv2d
# --------------------------------------------------------------------------------------------

GROUPINGS = ("1", "2", "depthwise", "depthwise_x2")


def conv_cases(count=24):
    rng = np.random.default_rng(SEED)
    cases = []
    for i in range(count):
        grouping = GROUPINGS[i % len(GROUPINGS)]
        if grouping == "1":
            groups, c_in, c_out = 1, int(rng.integers(1, 5)), int(rng.integers(1, 5))
        elif grouping == "2":
            groups = 2
            c_in, c_out = 2 * int(rng.integers(1, 3)), 2 * int(rng.integers(1, 3))
        else:
            groups = c_in = int(rng.integers(2, 6))
            c_out = c_in * (2 if grouping == "depthwise_x2" else 1)
        kh, kw = (int(v) for v in rng.integers(1, 6, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        dilation = tuple(int(v) for v in rng.integers(1, 4, 2))
        padding4 = tuple(int(v) for v in rng.integers(0, 4, 4))
        # smallest size with one output, plus a random margin
        h = max(1, dilation[0] * (kh - 1) + 1 - padding4[0] - padding4[1]) + int(rng.integers(0, 9))
        w = max(1, dilation[1] * (kw - 1) + 1 - padding4[2] - padding4[3]) + int(rng.integers(0, 9))
        cases.append(
            dict(
                n=int(rng.integers(1, 4)),
                c_in=c_in,
                c_out=c_out,
                groups=groups,
                hw=(h, w),
                kernel=(kh, kw),
                stride=stride,
                dilation=dilation,
                padding4=padding4,
                bias=bool(i % 3),
            )
        )
    return cases


def torch_conv(x, w, b, case):
    top, bottom, left, right = case["padding4"]
    xp = F.pad(x, (left, right, top, bottom))
    return F.conv2d(xp, w, b, case["stride"], 0, case["dilation"], case["groups"]).numpy()


def run_conv(case, dtype, seed):
    rng = np.random.default_rng(seed)
    n, (h, w) = case["n"], case["hw"]
    x = rng.standard_normal((n, case["c_in"], h, w)).astype(dtype)
    weight = rng.standard_normal(
        (case["c_out"], case["c_in"] // case["groups"], *case["kernel"])
    ).astype(dtype)
    bias = rng.standard_normal(case["c_out"]).astype(dtype) if case["bias"] else None
    got = cu_nn.conv2d(
        np,
        x,
        weight,
        bias,
        case["stride"],
        case["padding4"],
        case["dilation"],
        case["groups"],
    )
    ref = torch_conv(t64(x), t64(weight), None if bias is None else t64(bias), case)
    scale = torch_conv(
        t64(np.abs(x)), t64(np.abs(weight)), None if bias is None else t64(np.abs(bias)), case
    )
    assert_close(got, ref, scale, dtype)
    return got


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", conv_cases(), ids=lambda c: f"g{c['groups']}")
def test_conv2d(case, dtype):
    run_conv(case, dtype, seed=SEED + 1)


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", [(3, 3), (4, 2), (2, 5)])
@pytest.mark.parametrize("dilation", [(1, 1), (2, 3)])
def test_conv2d_same_padding(kernel, dilation, dtype):
    """The "same" padding of the API (total d*(k-1), top/left total // 2, the rest on the
    bottom/right) gives torch's padding="same" output."""
    rng = np.random.default_rng(SEED + 2)
    x = rng.standard_normal((2, 3, 9, 10)).astype(dtype)
    weight = rng.standard_normal((4, 3, *kernel)).astype(dtype)
    pads = []
    for k, d in zip(kernel, dilation, strict=True):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    got = cu_nn.conv2d(np, x, weight, None, (1, 1), tuple(pads), dilation, 1)
    ref = F.conv2d(t64(x), t64(weight), None, 1, "same", dilation).numpy()
    scale = F.conv2d(t64(np.abs(x)), t64(np.abs(weight)), None, 1, "same", dilation).numpy()
    assert got.shape == x.shape[:1] + (4,) + x.shape[2:]
    assert_close(got, ref, scale, dtype)


@pytest.mark.parametrize("budget", [1, 3000, 40000])
def test_conv2d_chunked(monkeypatch, budget):
    """A small im2col budget splits the work into rows of one image or a few images; the
    result is the same."""
    case = dict(
        n=3,
        c_in=4,
        c_out=6,
        groups=2,
        hw=(11, 9),
        kernel=(3, 2),
        stride=(1, 2),
        dilation=(2, 1),
        padding4=(1, 2, 0, 1),
        bias=True,
    )
    whole = run_conv(case, np.float64, seed=SEED + 3)
    monkeypatch.setattr(cu_nn, "IM2COL_BYTES", budget)
    chunked = run_conv(case, np.float64, seed=SEED + 3)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-13)


# --------------------------------------------------------------------------------------------
# max pooling
# --------------------------------------------------------------------------------------------


def pool_cases(count, dilated):
    """Random pooling parameters; padding within torch's limit: pad <= k // 2 of the kernel
    itself, not of the dilated kernel (torch 2.13 refuses kW=3, dW=2, padW=2)."""
    rng = np.random.default_rng(SEED + (10 if dilated else 11))
    cases = []
    for i in range(count):
        kernel = tuple(int(v) for v in rng.integers(1, 5, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, 2)) if dilated else (1, 1)
        eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        hw = tuple(
            max(1, e - 2 * p) + int(rng.integers(0, 8)) for e, p in zip(eff, padding, strict=True)
        )
        cases.append(
            dict(
                n=int(rng.integers(1, 3)),
                c=int(rng.integers(1, 4)),
                hw=hw,
                kernel=kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
                ceil_mode=bool(i % 2),
            )
        )
    return cases


# ceil_mode with a last window that would start in the right padding (dropped), and one that
# starts inside the input and runs past it (kept)
EDGE_POOL_CASES = [
    dict(n=1, c=2, hw=(5, 5), kernel=(2, 2), stride=(2, 2), padding=(1, 1), dilation=(1, 1),
         ceil_mode=True),
    dict(n=1, c=1, hw=(6, 7), kernel=(3, 3), stride=(2, 3), padding=(1, 0), dilation=(1, 1),
         ceil_mode=True),
    dict(n=2, c=1, hw=(7, 8), kernel=(2, 3), stride=(3, 2), padding=(1, 1), dilation=(2, 1),
         ceil_mode=True),
    # dilated windows with no element in the input (torch: -inf, the index of the first
    # in-bounds step, which lies past the plane)
    dict(n=1, c=1, hw=(2, 3), kernel=(2, 2), stride=(1, 1), padding=(1, 1), dilation=(3, 2),
         ceil_mode=False),
    dict(n=1, c=2, hw=(8, 1), kernel=(4, 2), stride=(2, 3), padding=(0, 1), dilation=(2, 2),
         ceil_mode=True),
]  # fmt: skip


def tie_input(rng, shape, dtype, nan_fraction=0.1, neg_inf_fraction=0.05):
    """Small integers (many ties), some NaN, some -inf (whole -inf windows happen)."""
    x = rng.integers(-2, 3, shape).astype(dtype)
    x[rng.random(shape) < neg_inf_fraction] = -np.inf
    x[rng.random(shape) < nan_fraction] = np.nan
    return x


def assert_max_equal(got, ref, dtype, index=False):
    assert got.dtype == (np.dtype(np.int64) if index else np.dtype(dtype))
    np.testing.assert_array_equal(got, ref)  # NaN equal to NaN


MAX_CASES = pool_cases(14, dilated=True) + EDGE_POOL_CASES


@pytest.mark.parametrize("nan_fraction", [0.0, 0.15])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d(case, dtype, nan_fraction):
    rng = np.random.default_rng(SEED + 4)
    x = tie_input(rng, (case["n"], case["c"], *case["hw"]), dtype, nan_fraction)
    args = (case["kernel"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"])
    got, idx = cu_nn.max_pool2d(np, x, *args, True)
    ref, ref_idx = F.max_pool2d(torch.from_numpy(x), *args, return_indices=True)
    assert_max_equal(got, ref.numpy(), dtype)
    assert_max_equal(idx, ref_idx.numpy(), dtype, index=True)
    assert_max_equal(cu_nn.max_pool2d(np, x, *args, False), ref.numpy(), dtype)


def test_max_pool2d_nan_rules():
    """First maximum in row-major order; with NaNs, the last NaN; -inf windows keep their first
    element (a padded position never wins)."""
    x = np.array(
        [[1, 5, 5, 0], [5, 2, np.nan, 1], [np.nan, 3, 3, np.nan], [-np.inf, -np.inf, 4, 4]],
        np.float64,
    )[None, None]
    for args in [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 1), (1, 1)), ((2, 2), (1, 1), (1, 1))]:
        got, idx = cu_nn.max_pool2d(np, x, *args, (1, 1), False, True)
        ref, ref_idx = F.max_pool2d(torch.from_numpy(x), *args, return_indices=True)
        np.testing.assert_array_equal(got, ref.numpy())
        np.testing.assert_array_equal(idx, ref_idx.numpy())
    x = np.full((1, 1, 3, 3), -np.inf)
    got, idx = cu_nn.max_pool2d(np, x, (3, 3), (2, 2), (1, 1), (1, 1), True, True)
    ref, ref_idx = F.max_pool2d(torch.from_numpy(x), 3, 2, 1, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(idx, ref_idx.numpy())


# --------------------------------------------------------------------------------------------
# average and Lp pooling
# --------------------------------------------------------------------------------------------

AVG_CASES = pool_cases(10, dilated=False) + [dict(c, dilation=(1, 1)) for c in EDGE_POOL_CASES[:2]]


@pytest.mark.parametrize("divisor_override", [None, 3])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d(case, dtype, count_include_pad, divisor_override):
    rng = np.random.default_rng(SEED + 5)
    x = rng.standard_normal((case["n"], case["c"], *case["hw"])).astype(dtype)
    args = (case["kernel"], case["stride"], case["padding"], case["ceil_mode"])
    got = cu_nn.avg_pool2d(np, x, *args, count_include_pad, divisor_override)
    ref = F.avg_pool2d(t64(x), *args, count_include_pad, divisor_override).numpy()
    scale = F.avg_pool2d(t64(np.abs(x)), *args, count_include_pad, divisor_override).numpy()
    assert_close(got, ref, scale, dtype)


def test_avg_pool2d_nonfinite():
    """NaN and inf stay in the windows that hold them."""
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 4, 4] = np.inf
    got = cu_nn.avg_pool2d(np, x, (2, 2), (2, 2), (0, 0), False, True, None)
    np.testing.assert_array_equal(got, F.avg_pool2d(torch.from_numpy(x), 2).numpy())


LP_NORMS = [(1.0, True), (2.0, True), (3, False), (1.5, False), (1.5, True)]  # (p, signed)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm", LP_NORMS, ids=lambda v: f"p{v[0]}{'s' if v[1] else ''}")
@pytest.mark.parametrize("case", AVG_CASES[::3])
def test_lp_pool2d(case, norm, dtype):
    """Signed input with p = 1.5 gives NaN where the input is negative (as in torch); p = 3
    only on non-negative input (a cube root of a cancelled sum is ill-conditioned)."""
    p, signed = norm
    rng = np.random.default_rng(SEED + 6)
    hw = [max(n, k) for n, k in zip(case["hw"], case["kernel"], strict=True)]  # no padding
    x = rng.standard_normal((case["n"], case["c"], *hw))
    x = (x if signed else np.abs(x)).astype(dtype)
    args = (case["kernel"], case["stride"], case["ceil_mode"])
    got = cu_nn.lp_pool2d(np, x, p, *args)
    ref = F.lp_pool2d(t64(x), p, *args).numpy()
    scale = F.lp_pool2d(t64(np.abs(x)), p, *args).numpy()
    assert_close(got, ref, scale, dtype)


# --------------------------------------------------------------------------------------------
# adaptive pooling
# --------------------------------------------------------------------------------------------


def adaptive_cases(count=10):
    rng = np.random.default_rng(SEED + 7)
    cases = [((7, 7), (1, 1)), ((6, 9), (3, 3)), ((5, 4), (7, 6))]  # global, even, upsampling
    for _ in range(count - len(cases)):
        hw = tuple(int(v) for v in rng.integers(1, 13, 2))
        out = tuple(int(v) for v in rng.integers(1, 9, 2))
        cases.append((hw, out))
    return cases


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", adaptive_cases(), ids=str)
def test_adaptive_avg_pool2d(shapes, dtype):
    hw, out = shapes
    rng = np.random.default_rng(SEED + 8)
    x = rng.standard_normal((2, 3, *hw)).astype(dtype)
    got = cu_nn.adaptive_avg_pool2d(np, x, out)
    ref = F.adaptive_avg_pool2d(t64(x), out).numpy()
    scale = F.adaptive_avg_pool2d(t64(np.abs(x)), out).numpy()
    assert_close(got, ref, scale, dtype)


@pytest.mark.parametrize("nan_fraction", [0.0, 0.15])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", adaptive_cases(), ids=str)
def test_adaptive_max_pool2d(shapes, dtype, nan_fraction):
    hw, out = shapes
    rng = np.random.default_rng(SEED + 9)
    x = tie_input(rng, (2, 3, *hw), dtype, nan_fraction)
    got, idx = cu_nn.adaptive_max_pool2d(np, x, out, True)
    ref, ref_idx = F.adaptive_max_pool2d(torch.from_numpy(x), out, return_indices=True)
    assert_max_equal(got, ref.numpy(), dtype)
    assert_max_equal(idx, ref_idx.numpy(), dtype, index=True)
    assert_max_equal(cu_nn.adaptive_max_pool2d(np, x, out, False), ref.numpy(), dtype)


# --------------------------------------------------------------------------------------------
# patches
# --------------------------------------------------------------------------------------------

PATCH_CASES = [((2, 3, 8, 12), (4, 4)), ((1, 1, 6, 6), (2, 3)), ((3, 2, 5, 7), (5, 7))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,patch", PATCH_CASES)
def test_patchify_unpatchify(shape, patch, dtype):
    """patchify is torch's unfold with stride = kernel, transposed to (N, L, C*ph*pw);
    unpatchify is fold, its inverse; both exact and new arrays."""
    rng = np.random.default_rng(SEED + 12)
    x = rng.standard_normal(shape).astype(dtype)
    got = cu_nn.patchify(np, x, patch)
    ref = F.unfold(torch.from_numpy(x), patch, stride=patch).transpose(1, 2).numpy()
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, ref)
    assert not np.shares_memory(got, x)
    back = cu_nn.unpatchify(np, got, patch, shape[2:], shape[1])
    fold = F.fold(torch.from_numpy(ref).transpose(1, 2), shape[2:], patch, stride=patch)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, fold.numpy())
    np.testing.assert_array_equal(back, x)
    assert not np.shares_memory(back, got)


def test_unpatchify_square_grid():
    x = np.arange(2 * 3 * 6 * 6, dtype=np.float32).reshape(2, 3, 6, 6)
    p = cu_nn.patchify(np, x, (2, 2))
    np.testing.assert_array_equal(cu_nn.unpatchify(np, p, (2, 2), None, 3), x)


# --------------------------------------------------------------------------------------------
# general
# --------------------------------------------------------------------------------------------


def test_new_arrays_input_untouched():
    """Every function returns a new array and leaves its input as it was."""
    rng = np.random.default_rng(SEED + 13)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    keep = x.copy()
    weight = np.ones((2, 1, 1, 1), np.float32)
    outs = [
        cu_nn.conv2d(np, x, weight, None, (1, 1), (0, 0, 0, 0), (1, 1), 2),
        cu_nn.max_pool2d(np, x, (1, 1), (1, 1), (0, 0), (1, 1), False, False),
        cu_nn.avg_pool2d(np, x, (1, 1), (1, 1), (0, 0), False, True, None),
        cu_nn.lp_pool2d(np, x, 1.0, (1, 1), (1, 1), False),
        cu_nn.adaptive_avg_pool2d(np, x, (4, 4)),
        cu_nn.adaptive_max_pool2d(np, x, (4, 4), False),
        cu_nn.patchify(np, x, (4, 4)),
    ]
    for out in outs:
        assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(x, keep)

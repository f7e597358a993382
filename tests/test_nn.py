"""Correctness of foveal.nn: conv2d, the pools (max, avg, lp, adaptive avg / max), patchify and
unpatchify.

``foveal.reference.nn`` (float64 NumPy, itself checked against torch in test_nn_reference.py)
is the spec and is used everywhere; torch.nn.functional is compared directly on a smaller set
of cases where torch is installed (those tests skip without it). Cases are drawn from seeded
generators (``conftest.SEED``) plus hand-picked ones aimed at the kernels' paths: 1x1, 1xN and
Nx1 images; odd widths and widths around the SIMD widths (16, 32, 48 +- 1); output channels
that are not multiples of the micro-kernel's 6 rows; K = C_in / groups * kh * kw past 300 and
past 600 (several K blocks with AVX2 and with the baseline ISA); more output channels than one
A block; the stride-1 "shifted" product, the 1x1 plane product and the strided implicit
im2col; the depthwise kernel (groups == C_in, channel multiplier 1 and 2); the pools'
vectorized path (no indices) and their scalar index path.

Tolerances. A float result must be within ``rtol * max(1, scale)`` of the float64 reference
computed from the same (float32- or float64-valued) input, with rtol = 1e-5 for float32 and
1e-12 for float64; ``scale`` is the largest value the same operation reaches on |input| (and
|weight|, |bias|): for conv2d the largest sum of |w| * |x| + |b|, for the pools the pool of
|x|. NaN and +-inf must sit where the reference has them. Max-pool values, indices (int64,
exactly), patchify and unpatchify are exact. Results for non-contiguous inputs, for ``out=``,
and for other thread counts are compared bit for bit with the plain call; results under
another instruction set within the tolerance (max pools exactly).
"""

from __future__ import annotations

import concurrent.futures
import math
import re

import foveal
import foveal.nn as fnn
import numpy as np
import pytest
from conftest import SEED
from foveal.reference import nn as rnn

DTYPES = (np.float32, np.float64)
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
FUNCS = (
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "lp_pool2d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "patchify",
    "unpatchify",
)
# the name of each function's tensor argument in its messages
INPUT_NAME = {"patchify": "images", "unpatchify": "patches"}
RANDOM_CASES = 56


def case_rng(tag: int, case: int = 0) -> np.random.Generator:
    return np.random.default_rng([SEED, 2222, tag, case])


def dtype_id(dtype) -> str:
    return np.dtype(dtype).name


def tol_of(dtype, scale: float) -> float:
    return RTOL[np.dtype(dtype)] * max(1.0, float(scale))


def assert_close(got, expected, scale, dtype, what: str = "") -> None:
    """got: a ``dtype`` ndarray of expected's shape; non-finite values exactly where the
    reference has them; the finite ones within rtol * max(1, scale)."""
    assert isinstance(got, np.ndarray), f"{what}: got a {type(got).__name__}"
    expected = np.asarray(expected, np.float64)
    assert got.dtype == np.dtype(dtype), f"{what}: dtype {got.dtype}, expected {dtype_id(dtype)}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    g = got.astype(np.float64)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(g[~finite], expected[~finite], err_msg=f"{what}: non-finite")
    tol = tol_of(dtype, float(np.max(scale, initial=0.0)))
    err = np.abs(g - expected)
    bad = finite & ~(err <= tol)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} values off by more than {tol:.3g}; "
            f"max error {float(np.nanmax(np.where(finite, err, 0))):.3g}; first at {i}: "
            f"got {g[i]!r}, expected {expected[i]!r}"
        )


def assert_exact(got, expected, dtype, what: str = "") -> None:
    """Same dtype (``dtype``) and shape, the same values (NaN where the reference has NaN)."""
    assert isinstance(got, np.ndarray), f"{what}: got a {type(got).__name__}"
    assert got.dtype == np.dtype(dtype), f"{what}: dtype {got.dtype}, expected {dtype_id(dtype)}"
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    np.testing.assert_array_equal(got, expected, err_msg=what, strict=False)


def assert_same(a, b, what: str = "") -> None:
    """Bit-for-bit equal results (arrays or tuples of arrays), dtypes included."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), what
        for x, y in zip(a, b, strict=True):
            assert_same(x, y, what)
        return
    assert type(a) is type(b), f"{what}: {type(a).__name__} vs {type(b).__name__}"
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (
        f"{what}: {a.dtype}{a.shape} {b.dtype}{b.shape}"
    )
    # equal including NaN positions and the sign of zeros
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"), err_msg=what)


def conv_scale(x, w, b, **kwargs) -> float:
    """The largest sum of |w| |x| + |b| over the outputs."""
    s = rnn.conv2d(np.abs(x), np.abs(w), None if b is None else np.abs(b), **kwargs)
    return float(np.max(s, initial=0.0))


def check_conv(x, w, b=None, **kwargs):
    """foveal's conv2d against the reference; returns foveal's result."""
    got = fnn.conv2d(x, w, b, **kwargs)
    expected = rnn.conv2d(x, w, b, **kwargs)
    what = f"conv2d x{x.shape} w{w.shape} bias={b is not None} {kwargs}"
    assert_close(got, expected, conv_scale(x, w, b, **kwargs), x.dtype, what)
    return got


def maybe_pair(rng, a: int, b: int):
    if a == b and rng.random() < 0.5:
        return int(a)
    return (int(a), int(b))


def tie_image(rng, shape, dtype, mode: str = "mixed") -> np.ndarray:
    """Small integer values (many tied maxima); "nan" adds NaNs, "neg_inf" adds -inf (whole
    -inf windows included), "mixed" picks at random."""
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    if mode == "mixed":
        mode = str(rng.choice(["ties", "nan", "neg_inf", "both"]))
    if mode in ("neg_inf", "both"):
        x[rng.random(shape) < 0.3] = -np.inf
        if x.ndim and x.shape[0] > 1:
            x[-1] = -np.inf
    if mode in ("nan", "both"):
        x[rng.random(shape) < 0.12] = np.nan
    return x


def image_shape(rng, c: int, h: int, w: int) -> tuple[int, ...]:
    """(N, C, H, W), unbatched (C, H, W) a fifth of the time."""
    if rng.random() < 0.2:
        return (c, h, w)
    return (int(rng.integers(1, 3)), c, h, w)


def size_for(rng, need: int, simd: bool = False) -> int:
    """An axis length >= max(1, need): the minimum, a little more, or (simd) one of the
    lengths around the vector widths."""
    low = max(1, need)
    r = rng.random()
    if r < 0.25:
        return low
    if simd and r < 0.6:
        return max(low, int(rng.choice([7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49])))
    return low + int(rng.integers(1, 9))


# --------------------------------------------------------------------------------------------
# conv2d against the reference
# --------------------------------------------------------------------------------------------

# (id, input shape, weight shape, bias, keyword arguments)
CONV_CASES = [
    ("one_pixel_pad1", (2, 3, 1, 1), (5, 3, 3, 3), True, dict(padding=1)),
    ("one_pixel_1x1", (1, 4, 1, 1), (7, 4, 1, 1), True, {}),
    ("one_pixel_1x1_s2", (1, 4, 1, 1), (7, 4, 1, 1), False, dict(stride=2)),
    ("one_pixel_depthwise_same", (2, 3, 1, 1), (6, 1, 3, 3), True, dict(padding="same", groups=3)),
    ("row_1xN", (2, 3, 1, 37), (5, 3, 1, 3), True, dict(padding=(0, 1))),
    ("row_1xN_s2", (1, 2, 1, 50), (4, 2, 1, 5), False, dict(stride=(1, 2), padding=(0, 2))),
    ("row_1xN_k3_pad1", (1, 2, 1, 33), (3, 2, 3, 3), True, dict(padding=1)),
    ("col_Nx1", (2, 3, 29, 1), (4, 3, 3, 1), True, dict(padding="same")),
    ("col_Nx1_s3_d2", (1, 5, 41, 1), (7, 5, 4, 1), True, dict(stride=3, dilation=(2, 1))),
    ("col_Nx1_k3_pad1", (1, 2, 17, 1), (3, 2, 3, 3), False, dict(padding=1)),
    *[
        (f"shifted_w{w}", (1, 3, 5, w), (7, 3, 3, 3), True, dict(padding=1))
        for w in (1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49)
    ],
    *[
        (f"strided_w{w}", (1, 4, 6, w), (5, 4, 3, 3), w % 2 == 1, dict(stride=2, padding=1))
        for w in (31, 33, 63, 65, 95, 97)
    ],
    *[
        (f"c_out{m}_shifted", (2, 3, 9, 10), (m, 3, 3, 3), True, dict(padding=1))
        for m in (1, 5, 6, 7, 11, 12, 13)
    ],
    *[
        (f"c_out{m}_strided", (1, 3, 9, 10), (m, 3, 3, 2), m % 2 == 0, dict(stride=(2, 1)))
        for m in (5, 7, 13)
    ],
    ("deep_K333_shifted", (1, 37, 7, 19), (13, 37, 3, 3), True, dict(padding=1)),
    ("deep_K333_strided", (2, 37, 9, 17), (7, 37, 3, 3), True, dict(stride=2, padding=1)),
    ("deep_K603_shifted", (1, 67, 6, 11), (8, 67, 3, 3), True, dict(padding=(1, 0))),
    ("deep_K603_strided", (1, 67, 8, 13), (5, 67, 3, 3), False, dict(stride=(2, 3))),
    ("deep_K603_dilated", (1, 67, 9, 12), (3, 67, 3, 3), True, dict(dilation=2, padding=1)),
    ("deep_1x1_K300", (2, 300, 3, 7), (9, 300, 1, 1), True, {}),
    ("deep_1x1_K600_s2", (1, 600, 5, 5), (7, 600, 1, 1), True, dict(stride=2)),
    ("many_rows_M290", (1, 32, 5, 9), (290, 32, 3, 3), True, dict(padding=1)),
    ("many_rows_M290_s2", (1, 32, 7, 9), (290, 32, 3, 3), False, dict(stride=2)),
    ("big_plane_shifted", (1, 3, 40, 45), (8, 3, 3, 3), True, dict(padding=1)),
    ("big_plane_strided", (2, 3, 40, 45), (8, 3, 5, 5), True, dict(stride=2, padding=2)),
    ("pointwise_s1", (2, 5, 9, 13), (7, 5, 1, 1), True, {}),
    ("pointwise_s1_pad1", (1, 5, 9, 13), (7, 5, 1, 1), True, dict(padding=1)),
    ("pointwise_s1_pad_1x2", (1, 5, 4, 3), (2, 5, 1, 1), False, dict(padding=(1, 2))),
    ("pointwise_s2", (2, 5, 9, 13), (7, 5, 1, 1), False, dict(stride=2)),
    ("pointwise_s2x3", (1, 6, 10, 17), (5, 6, 1, 1), True, dict(stride=(2, 3))),
    ("pointwise_big_plane", (1, 4, 33, 47), (6, 4, 1, 1), True, {}),
    ("pointwise_dilated", (1, 4, 6, 7), (3, 4, 1, 1), True, dict(dilation=3)),
    ("same_even_2x2", (2, 3, 9, 10), (4, 3, 2, 2), True, dict(padding="same")),
    ("same_even_4x2_d2", (1, 3, 11, 17), (5, 3, 4, 2), False, dict(padding="same", dilation=2)),
    ("same_2x5_d3x1", (1, 2, 12, 16), (3, 2, 2, 5), True, dict(padding="same", dilation=(3, 1))),
    ("same_odd_5x3", (1, 2, 7, 33), (4, 2, 5, 3), True, dict(padding="same")),
    ("valid", (1, 3, 8, 9), (4, 3, 3, 2), True, dict(padding="valid")),
    ("dilation3", (2, 2, 13, 17), (3, 2, 3, 3), True, dict(dilation=3, padding=2)),
    (
        "stride3_dil2",
        (1, 4, 19, 23),
        (5, 4, 3, 4),
        True,
        dict(stride=3, dilation=2, padding=(1, 3)),
    ),
    ("stride_2x3_pad_big", (1, 3, 5, 6), (2, 3, 2, 2), True, dict(stride=(2, 3), padding=3)),
    ("kernel_is_image", (2, 3, 4, 5), (6, 3, 4, 5), True, {}),
    ("kernel_past_image_padded", (1, 2, 3, 3), (3, 2, 5, 5), True, dict(padding=1)),
    ("groups2", (2, 4, 9, 17), (6, 2, 3, 3), True, dict(groups=2, padding=1)),
    ("groups2_s2", (1, 6, 11, 15), (4, 3, 3, 3), True, dict(groups=2, stride=2)),
    ("groups3", (1, 6, 10, 33), (9, 2, 3, 3), True, dict(groups=3, padding=1)),
    ("groups3_1x1", (2, 9, 5, 7), (6, 3, 1, 1), False, dict(groups=3)),
    ("groups3_1x1_s2", (1, 9, 5, 7), (12, 3, 1, 1), True, dict(groups=3, stride=2)),
    ("groups2_deep", (1, 80, 5, 6), (4, 40, 3, 3), True, dict(groups=2, padding=1)),
    ("groups2_same_even", (1, 4, 7, 9), (6, 2, 2, 4), True, dict(groups=2, padding="same")),
    ("depthwise", (2, 5, 17, 70), (5, 1, 3, 3), True, dict(groups=5, padding=1)),
    ("depthwise_s2", (1, 4, 15, 71), (4, 1, 3, 3), True, dict(groups=4, stride=2, padding=1)),
    (
        "depthwise_s3x2_d2",
        (1, 3, 16, 40),
        (3, 1, 5, 3),
        False,
        dict(groups=3, stride=(3, 2), dilation=2, padding=(2, 1)),
    ),
    ("depthwise_x2", (2, 3, 9, 33), (6, 1, 3, 3), True, dict(groups=3, padding="same")),
    ("depthwise_x2_s2", (1, 4, 12, 35), (8, 1, 5, 5), True, dict(groups=4, stride=2, padding=2)),
    ("depthwise_x3_s3", (1, 2, 12, 50), (6, 1, 3, 3), True, dict(groups=2, stride=3, padding=1)),
    ("depthwise_same_even", (1, 3, 9, 18), (3, 1, 4, 4), True, dict(groups=3, padding="same")),
    ("depthwise_1x1", (1, 6, 7, 9), (12, 1, 1, 1), True, dict(groups=6)),
    ("depthwise_wide_rows", (1, 2, 3, 131), (2, 1, 3, 5), True, dict(groups=2, padding=(1, 2))),
    ("depthwise_kernel_is_image", (2, 3, 4, 5), (3, 1, 4, 5), True, dict(groups=3)),
    ("single_channel", (2, 1, 13, 34), (4, 1, 3, 3), True, dict(padding=1)),
    ("single_channel_s2", (1, 1, 13, 34), (1, 1, 2, 2), False, dict(stride=2)),
    ("unbatched", (3, 11, 18), (5, 3, 3, 3), True, dict(padding=1)),
    ("unbatched_strided", (3, 11, 18), (5, 3, 3, 3), False, dict(stride=2, dilation=2)),
    ("unbatched_depthwise", (4, 9, 20), (4, 1, 3, 3), True, dict(groups=4, stride=2)),
    ("unbatched_1x1", (4, 9, 20), (6, 4, 1, 1), False, {}),
    ("batch0", (0, 3, 8, 8), (4, 3, 3, 3), True, dict(padding=1)),
    ("batch0_strided", (0, 3, 8, 8), (4, 3, 3, 3), False, dict(stride=2)),
    ("batch0_depthwise", (0, 3, 8, 8), (3, 1, 3, 3), True, dict(groups=3)),
    ("batch0_1x1", (0, 3, 8, 8), (4, 3, 1, 1), False, {}),
]


def conv_data(rng, x_shape, w_shape, bias, dtype):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("index", "x_shape", "w_shape", "bias", "kwargs"),
    [pytest.param(i, *c[1:], id=c[0]) for i, c in enumerate(CONV_CASES)],
)
def test_conv2d_cases(index, x_shape, w_shape, bias, kwargs, dtype):
    x, w, b = conv_data(case_rng(1, index), x_shape, w_shape, bias, dtype)
    got = check_conv(x, w, b, **kwargs)
    if x.ndim == 3:
        assert got.ndim == 3
    if x.shape[0] == 0 and x.ndim == 4:
        assert got.size == 0 and got.shape[:2] == (0, w_shape[0])


def random_conv_case(rng):
    """(input shape, weight shape, bias, kwargs): random groupings, kernels, strides,
    paddings (int, pair, "same", "valid"), dilations, and sizes from the smallest valid one."""
    kind = str(rng.choice(["plain", "plain", "groups", "depthwise", "multiplier", "deep", "1x1"]))
    if kind == "plain":
        groups, c_in, c_out = 1, int(rng.integers(1, 9)), int(rng.integers(1, 15))
    elif kind == "groups":
        groups = int(rng.choice([2, 3]))
        c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 5))
    elif kind == "deep":
        groups, c_in, c_out = 1, int(rng.integers(34, 70)), int(rng.integers(1, 20))
    elif kind == "1x1":
        groups, c_in, c_out = 1, int(rng.integers(1, 40)), int(rng.integers(1, 15))
    else:
        groups = c_in = int(rng.integers(1, 7))
        c_out = c_in * (1 if kind == "depthwise" else int(rng.integers(2, 4)))
    if kind == "1x1":
        k = np.ones(2, int)
    elif kind == "deep":
        k = rng.integers(3, 4, size=2)
    else:
        k = rng.integers(1, 6, size=2)
    d = rng.integers(1, 4, size=2) if rng.random() < 0.35 else np.ones(2, int)
    mode = str(rng.choice(["int", "pair", "same", "valid"]))
    if mode == "same":
        s, p, padding = np.ones(2, int), np.zeros(2, int), "same"
    else:
        s = rng.integers(1, 4, size=2) if rng.random() < 0.6 else np.ones(2, int)
        p = np.zeros(2, int) if mode == "valid" else rng.integers(0, 4, size=2)
        if mode == "int":
            p[1] = p[0]
            padding = int(p[0])
        elif mode == "pair":
            padding = maybe_pair(rng, *p)
        else:
            padding = "valid"
    need = [int(d[i] * (k[i] - 1) + 1 - 2 * p[i]) for i in range(2)]
    deep = kind == "deep"
    h = size_for(rng, need[0]) if not deep else max(1, need[0]) + int(rng.integers(0, 4))
    w = size_for(rng, need[1], simd=not deep)
    x_shape = image_shape(rng, c_in, h, w)
    w_shape = (c_out, c_in // groups, int(k[0]), int(k[1]))
    kwargs = dict(
        stride=maybe_pair(rng, *s),
        padding=padding,
        dilation=maybe_pair(rng, *d),
        groups=groups,
    )
    return x_shape, w_shape, bool(rng.random() < 0.7), kwargs


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(RANDOM_CASES))
def test_conv2d_random(case, dtype):
    rng = case_rng(2, case)
    x_shape, w_shape, bias, kwargs = random_conv_case(rng)
    x, w, b = conv_data(rng, x_shape, w_shape, bias, dtype)
    check_conv(x, w, b, **kwargs)


def test_conv2d_integer_values_exact():
    """Small integers: every partial sum is exact in float32, so the result is exactly the
    reference's on every path (shifted, 1x1, strided, depthwise, several K blocks)."""
    rng = case_rng(3)
    for x_shape, w_shape, kwargs in [
        ((2, 5, 9, 33), (7, 5, 3, 3), dict(padding=1)),
        ((1, 67, 6, 17), (7, 67, 3, 3), dict(padding=1)),
        ((1, 67, 9, 17), (7, 67, 3, 3), dict(stride=2)),
        ((2, 300, 3, 5), (5, 300, 1, 1), {}),
        ((2, 4, 9, 70), (8, 1, 3, 3), dict(groups=4, padding=1)),
    ]:
        x = rng.integers(-4, 5, x_shape).astype(np.float32)
        w = rng.integers(-3, 4, w_shape).astype(np.float32)
        b = rng.integers(-5, 6, w_shape[0]).astype(np.float32)
        got = fnn.conv2d(x, w, b, **kwargs)
        assert_exact(got, rnn.conv2d(x, w, b, **kwargs), np.float32, f"conv2d {x_shape} {w_shape}")


@pytest.mark.parametrize(
    ("dtype", "channels", "stride"), [(np.float32, 12, 1), (np.float64, 6, 2)], ids=["s1", "s2"]
)
def test_conv2d_batch_in_phase_chunks(dtype, channels, stride):
    """A batch whose padded stride phases outgrow one chunk (~32 MB: here 2 images of 3 per
    chunk) gives each image what it gets alone, and the reference on corner windows."""
    rng = case_rng(5)
    x = rng.standard_normal((3, channels, 512, 512)).astype(dtype)
    w = rng.standard_normal((5, channels, 3, 3)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    got = fnn.conv2d(x, w, b, stride=stride, padding=1)
    for n in range(3):
        assert_same(fnn.conv2d(x[n : n + 1], w, b, stride=stride, padding=1), got[n : n + 1])
    oh, ow = got.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for y0, x0 in ((0, 0), (oh - 20, ow - 20), (oh // 2, 0)):
        rows = slice(y0 * stride, (y0 + 19) * stride + 3)
        cols = slice(x0 * stride, (x0 + 19) * stride + 3)
        window = xp[:, :, rows, cols]
        expected = rnn.conv2d(window, w, b, stride=stride)
        scale = conv_scale(window, w, b, stride=stride)
        part = got[:, :, y0 : y0 + 20, x0 : x0 + 20]
        assert_close(np.ascontiguousarray(part), expected, scale, dtype, f"window {y0}, {x0}")


def test_conv2d_nonfinite_input():
    """A NaN or inf pixel reaches the outputs whose windows hold it (and only those)."""
    for groups, w_shape in ((1, (3, 2, 3, 3)), (2, (2, 1, 3, 3))):
        x = np.zeros((1, 2, 7, 20), np.float64)
        x[0, 0, 1, 1] = np.nan
        x[0, 1, 5, 15] = np.inf
        w = np.ones(w_shape)
        for kwargs in (dict(padding=1), dict(stride=2, padding=1), dict(padding="same")):
            got = fnn.conv2d(x, w, groups=groups, **kwargs)
            expected = rnn.conv2d(x, w, groups=groups, **kwargs)
            assert_exact(got, expected, np.float64, f"conv2d nonfinite groups={groups} {kwargs}")


def test_conv2d_accepts_equivalent_arguments():
    """Ints and pairs, numpy integers, "SAME" / "Valid" spellings give the same result."""
    rng = case_rng(4)
    x, w, b = conv_data(rng, (1, 2, 7, 8), (3, 2, 3, 3), True, np.float64)
    base = fnn.conv2d(x, w, b, stride=1, padding=1, dilation=1)
    assert_same(fnn.conv2d(x, w, b, (1, 1), (1, 1), (1, 1), 1), base)
    assert_same(fnn.conv2d(x, w, b, np.int64(1), [1, 1], np.int32(1), np.int16(1)), base)
    assert_same(fnn.conv2d(x, w, b, padding="SAME"), fnn.conv2d(x, w, b, padding="same"))
    assert_same(fnn.conv2d(x, w, b, padding="Valid"), fnn.conv2d(x, w, b))
    assert_same(fnn.conv2d(input=x, weight=w, bias=b, padding=1), base)


# --------------------------------------------------------------------------------------------
# pools against the reference
# --------------------------------------------------------------------------------------------


def check_max_pool(x, what="", **kwargs):
    values, indices = fnn.max_pool2d(x, return_indices=True, **kwargs)
    ref_values, ref_indices = rnn.max_pool2d(x, return_indices=True, **kwargs)
    what = f"max_pool2d x{x.shape} {kwargs} {what}"
    assert_exact(values, ref_values, x.dtype, what + " values")
    assert_exact(indices, ref_indices, np.int64, what + " indices")
    # the vectorized path (no indices) gives the same values
    assert_exact(fnn.max_pool2d(x, **kwargs), ref_values, x.dtype, what + " no indices")
    return values, indices


# (id, input shape, keyword arguments)
MAX_POOL_CASES = [
    ("one_pixel_k1", (2, 3, 1, 1), dict(kernel_size=1)),
    ("one_pixel_k2_p1", (2, 3, 1, 1), dict(kernel_size=2, stride=1, padding=1)),
    (
        "one_pixel_k2_p1_ceil",
        (1, 2, 1, 1),
        dict(kernel_size=2, stride=1, padding=1, ceil_mode=True),
    ),
    (
        "one_pixel_k3_p1_ceil",
        (1, 2, 1, 1),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    ),
    ("row", (1, 2, 1, 37), dict(kernel_size=(1, 3), stride=(1, 2), padding=(0, 1))),
    ("col", (2, 1, 37, 1), dict(kernel_size=(3, 1), stride=(2, 1))),
    *[
        (f"k3s1p1_w{w}", (1, 2, 6, w), dict(kernel_size=3, stride=1, padding=1))
        for w in (2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 65)
    ],
    *[
        (f"k2s2_w{w}_ceil", (1, 2, 5, w), dict(kernel_size=2, ceil_mode=True))
        for w in (15, 16, 17, 33)
    ],
    ("k3s2p1_ceil_odd", (1, 2, 9, 33), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("k2x4_s3_p1x2", (2, 2, 10, 50), dict(kernel_size=(2, 4), stride=3, padding=(1, 2))),
    ("k5_s4_d2", (1, 2, 21, 70), dict(kernel_size=5, stride=4, dilation=2, padding=2)),
    ("k3_s1_d3_p1", (1, 1, 11, 40), dict(kernel_size=3, stride=1, dilation=3, padding=1)),
    ("stride_past_kernel", (1, 2, 13, 37), dict(kernel_size=2, stride=(3, 5))),
    ("outside_plane_1x1", (1, 1, 1, 1), dict(kernel_size=2, stride=1, padding=1, dilation=2)),
    ("outside_plane_1x3", (1, 1, 1, 3), dict(kernel_size=2, stride=1, padding=1, dilation=2)),
    ("outside_plane_2x2", (1, 1, 2, 2), dict(kernel_size=2, stride=1, padding=1, dilation=3)),
    ("global", (2, 3, 7, 9), dict(kernel_size=(7, 9))),
    ("ceil_drops_window", (1, 2, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ("ceil_keeps_window", (1, 1, 6, 7), dict(kernel_size=3, stride=(2, 3), ceil_mode=True)),
    ("unbatched", (3, 10, 11), dict(kernel_size=3, stride=2, padding=1)),
    ("batch0", (0, 3, 8, 8), dict(kernel_size=2)),
]


@pytest.mark.parametrize("mode", ["ties", "nan", "neg_inf"])
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("index", "shape", "kwargs"),
    [pytest.param(i, *c[1:], id=c[0]) for i, c in enumerate(MAX_POOL_CASES)],
)
def test_max_pool2d_cases(index, shape, kwargs, dtype, mode):
    x = tie_image(case_rng(10, index), shape, dtype, mode)
    check_max_pool(x, mode, **kwargs)


def random_pool_kwargs(rng, dilated: bool):
    k = rng.integers(1, 6, size=2)
    d = rng.integers(1, 4, size=2) if dilated and rng.random() < 0.5 else np.ones(2, int)
    p = np.array([rng.integers(0, k[i] // 2 + 1) for i in range(2)])
    s = rng.integers(1, 5, size=2)
    hw = [size_for(rng, int(d[i] * (k[i] - 1) + 1 - 2 * p[i]), simd=i == 1) for i in range(2)]
    kwargs = dict(
        kernel_size=maybe_pair(rng, *k),
        stride=None if rng.random() < 0.25 else maybe_pair(rng, *s),
        padding=maybe_pair(rng, *p),
        ceil_mode=bool(rng.random() < 0.5),
    )
    if dilated:
        kwargs["dilation"] = maybe_pair(rng, *d)
    return hw, kwargs


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(RANDOM_CASES))
def test_max_pool2d_random(case, dtype):
    rng = case_rng(11, case)
    hw, kwargs = random_pool_kwargs(rng, dilated=True)
    x = tie_image(rng, image_shape(rng, int(rng.integers(1, 4)), *hw), dtype)
    check_max_pool(x, **kwargs)


def test_max_pool2d_nan_and_tie_rules():
    """The first maximum in row-major window order; a NaN window: NaN at its last NaN; an
    all -inf window: its first in-plane tap."""
    x = np.array([[[[1.0, np.nan, 3.0], [np.nan, 5.0, 2.0], [0.0, 0.0, 0.0]]]], np.float32)
    values, indices = fnn.max_pool2d(x, 3, return_indices=True)
    assert np.isnan(values).all() and indices.item() == 3
    x = np.array([[[[5.0, 1.0, 5.0], [5.0, 5.0, 2.0], [0.0, 0.0, 0.0]]]])
    values, indices = fnn.max_pool2d(x, 3, return_indices=True)
    assert values.item() == 5.0 and indices.item() == 0
    x = np.full((1, 1, 3, 3), -np.inf)
    values, indices = fnn.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert np.all(values == -np.inf)
    assert indices.ravel().tolist() == [0, 1, 3, 4]
    values, indices = fnn.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)
    ref_values, ref_indices = rnn.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)
    assert_exact(indices, ref_indices, np.int64)
    x = np.arange(3.0).reshape(1, 1, 1, 3)  # windows with no tap in the plane
    values, indices = fnn.max_pool2d(x, 2, 1, 1, 2, return_indices=True)
    ref_values, ref_indices = rnn.max_pool2d(x, 2, 1, 1, 2, return_indices=True)
    assert indices[0, 0, 0].tolist() == [4, 3, 4] and np.all(values == -np.inf)
    assert_exact(values, ref_values, np.float64)
    assert_exact(indices, ref_indices, np.int64)


def scale_of_pool(op, x, *args, **kwargs) -> float:
    with np.errstate(invalid="ignore"):
        s = op(np.abs(x), *args, **kwargs)
    s = np.asarray(s)
    s = s[np.isfinite(s)]
    return float(s.max(initial=0.0))


def check_avg_pool(x, **kwargs):
    got = fnn.avg_pool2d(x, **kwargs)
    expected = rnn.avg_pool2d(x, **kwargs)
    scale = scale_of_pool(rnn.avg_pool2d, x, **kwargs)
    assert_close(got, expected, scale, x.dtype, f"avg_pool2d x{x.shape} {kwargs}")
    return got


AVG_POOL_CASES = [
    ("one_pixel_k1", (2, 3, 1, 1), dict(kernel_size=1)),
    ("one_pixel_k2_p1", (2, 3, 1, 1), dict(kernel_size=2, stride=1, padding=1)),
    (
        "one_pixel_k3_p1_ceil",
        (1, 2, 1, 1),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    ),
    ("row", (1, 2, 1, 37), dict(kernel_size=(1, 3), stride=(1, 2), padding=(0, 1))),
    ("col", (2, 1, 37, 1), dict(kernel_size=(3, 1), stride=(2, 1), padding=(1, 0))),
    *[
        (f"k3s1p1_w{w}", (1, 2, 6, w), dict(kernel_size=3, stride=1, padding=1))
        for w in (2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 65)
    ],
    ("k2s2_ceil_odd", (1, 2, 7, 33), dict(kernel_size=2, ceil_mode=True)),
    ("k3s2p1_ceil", (1, 2, 9, 33), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("k2_s2_p1_ceil_5x5", (1, 1, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ("k4x2_s3_p2x1", (2, 2, 10, 50), dict(kernel_size=(4, 2), stride=3, padding=(2, 1))),
    ("k5_s4_p2_ceil", (1, 2, 21, 70), dict(kernel_size=5, stride=4, padding=2, ceil_mode=True)),
    ("global", (2, 3, 7, 9), dict(kernel_size=(7, 9))),
    ("unbatched", (3, 10, 11), dict(kernel_size=3, stride=2, padding=1)),
    ("batch0", (0, 3, 8, 8), dict(kernel_size=2)),
]


@pytest.mark.parametrize(
    "divisor",
    [dict(count_include_pad=True), dict(count_include_pad=False), dict(divisor_override=3)],
)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("shape", "kwargs"), [pytest.param(*c[1:], id=c[0]) for c in AVG_POOL_CASES]
)
def test_avg_pool2d_cases(shape, kwargs, dtype, divisor):
    x = case_rng(20).standard_normal(shape).astype(dtype)
    check_avg_pool(x, **kwargs, **divisor)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(RANDOM_CASES))
def test_avg_pool2d_random(case, dtype):
    rng = case_rng(21, case)
    hw, kwargs = random_pool_kwargs(rng, dilated=False)
    shape = image_shape(rng, int(rng.integers(1, 4)), *hw)
    x = rng.standard_normal(shape).astype(dtype)
    if rng.random() < 0.15:
        x[rng.random(shape) < 0.1] = np.nan
    kwargs["count_include_pad"] = bool(rng.random() < 0.5)
    if rng.random() < 0.4:
        kwargs["divisor_override"] = int(rng.choice([1, 2, 5, 7]))
    check_avg_pool(x, **kwargs)


def test_avg_pool2d_nonfinite():
    x = np.zeros((1, 1, 6, 20), np.float32)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 4, 14] = np.inf
    x[0, 0, 4, 17] = -np.inf
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        assert_exact(fnn.avg_pool2d(x, **kwargs), rnn.avg_pool2d(x, **kwargs), np.float32)


LP_NORMS = [1, 2, 3, 1.5, 0.5, 4.0, 2.5]


def check_lp_pool(x, p, **kwargs):
    got = fnn.lp_pool2d(x, p, **kwargs)
    with np.errstate(invalid="ignore"):
        expected = rnn.lp_pool2d(x, p, **kwargs)
    scale = scale_of_pool(rnn.lp_pool2d, x, p, **kwargs)
    assert_close(got, expected, scale, x.dtype, f"lp_pool2d p={p} x{x.shape} {kwargs}")
    return got


LP_POOL_CASES = [
    ("one_pixel", (2, 3, 1, 1), dict(kernel_size=1)),
    ("row", (1, 2, 1, 37), dict(kernel_size=(1, 3), stride=(1, 2))),
    ("col", (2, 1, 37, 1), dict(kernel_size=(3, 1), stride=(2, 1), ceil_mode=True)),
    ("k3s1_w33", (1, 2, 6, 33), dict(kernel_size=3, stride=1)),
    ("k2_w17", (1, 2, 6, 17), dict(kernel_size=2)),
    ("k2_w17_ceil", (1, 2, 7, 17), dict(kernel_size=2, ceil_mode=True)),
    ("k3x2_s2x3_ceil", (2, 2, 10, 50), dict(kernel_size=(3, 2), stride=(2, 3), ceil_mode=True)),
    ("global", (2, 3, 7, 9), dict(kernel_size=(7, 9))),
    ("unbatched", (3, 10, 11), dict(kernel_size=3, stride=2)),
    ("batch0", (0, 3, 8, 8), dict(kernel_size=2)),
]


@pytest.mark.parametrize("p", LP_NORMS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("shape", "kwargs"), [pytest.param(*c[1:], id=c[0]) for c in LP_POOL_CASES]
)
def test_lp_pool2d_cases(shape, kwargs, dtype, p):
    """Non-negative input: a p-th root of a cancelled sum would be ill-conditioned."""
    x = np.abs(case_rng(30).standard_normal(shape)).astype(dtype)
    check_lp_pool(x, p, **kwargs)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(RANDOM_CASES // 2))
def test_lp_pool2d_random(case, dtype):
    """Signed input with p = 1 (plain sums), 2 (squares) and 1.5 (NaN where negative, as
    torch), non-negative input otherwise."""
    rng = case_rng(31, case)
    p = LP_NORMS[case % len(LP_NORMS)]
    k = rng.integers(1, 6, size=2)
    s = rng.integers(1, 5, size=2)
    hw = [size_for(rng, int(k[i]), simd=i == 1) for i in range(2)]
    x = rng.standard_normal(image_shape(rng, int(rng.integers(1, 4)), *hw)).astype(dtype)
    if p not in (1, 2, 1.5) or rng.random() < 0.3:
        x = np.abs(x)
    kwargs = dict(
        kernel_size=maybe_pair(rng, *k),
        stride=None if rng.random() < 0.25 else maybe_pair(rng, *s),
        ceil_mode=bool(rng.random() < 0.5),
    )
    check_lp_pool(x, p, **kwargs)


def test_lp_pool2d_signed_fractional_gives_nan():
    x = np.array([[[[1.0, -1.0], [2.0, 3.0]]]], np.float32)
    got = fnn.lp_pool2d(x, 1.5, 1)
    np.testing.assert_array_equal(np.isnan(got), x < 0)
    assert np.isnan(fnn.lp_pool2d(x, 1.5, 2)).all()
    assert fnn.lp_pool2d(x, 1, 2).item() == pytest.approx(5.0)


# (id, (h, w), output_size)
ADAPTIVE_CASES = [
    ("one_pixel_to_1", (1, 1), 1),
    ("one_pixel_up", (1, 1), (3, 4)),
    ("global", (7, 7), 1),
    ("even", (6, 9), (3, 3)),
    ("up", (5, 4), (7, 6)),
    ("row", (1, 37), (1, 5)),
    ("col", (33, 1), (4, None)),
    ("none_h", (17, 33), (None, 8)),
    ("none_both", (10, 10), (None, None)),
    ("wide", (9, 50), (4, 16)),
    ("tall", (50, 9), (16, 4)),
    ("uneven", (16, 48), (5, 17)),
    ("up_wide", (3, 17), (7, 33)),
    ("same", (8, 8), 8),
]


def adaptive_data(rng, shape, dtype, kind):
    if kind == "max":
        return tie_image(rng, shape, dtype)
    x = rng.standard_normal(shape).astype(dtype)
    if rng.random() < 0.2:
        x[rng.random(shape) < 0.1] = np.nan
    return x


def check_adaptive(x, output_size, kind):
    what = f"adaptive_{kind}_pool2d x{x.shape} output_size={output_size}"
    if kind == "avg":
        got = fnn.adaptive_avg_pool2d(x, output_size)
        expected = rnn.adaptive_avg_pool2d(x, output_size)
        scale = scale_of_pool(rnn.adaptive_avg_pool2d, x, output_size)
        assert_close(got, expected, scale, x.dtype, what)
        return
    values, indices = fnn.adaptive_max_pool2d(x, output_size, return_indices=True)
    ref_values, ref_indices = rnn.adaptive_max_pool2d(x, output_size, return_indices=True)
    assert_exact(values, ref_values, x.dtype, what + " values")
    assert_exact(indices, ref_indices, np.int64, what + " indices")
    assert_exact(fnn.adaptive_max_pool2d(x, output_size), ref_values, x.dtype, what)


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("hw", "output_size"), [pytest.param(*c[1:], id=c[0]) for c in ADAPTIVE_CASES]
)
def test_adaptive_pool_cases(hw, output_size, dtype, kind):
    rng = case_rng(40)
    for shape in ((2, 3, *hw), (3, *hw)):
        check_adaptive(adaptive_data(rng, shape, dtype, kind), output_size, kind)


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(RANDOM_CASES // 2))
def test_adaptive_pool_random(case, dtype, kind):
    rng = case_rng(41, case)
    h, w = int(rng.integers(1, 14)), int(rng.integers(1, 50))
    oh, ow = (int(rng.integers(1, n + 4)) for n in (h, w))
    r = rng.random()
    output_size = (
        oh if r < 0.25 else (None, ow) if r < 0.35 else (oh, None) if r < 0.45 else (oh, ow)
    )
    shape = image_shape(rng, int(rng.integers(1, 4)), h, w)
    check_adaptive(adaptive_data(rng, shape, dtype, kind), output_size, kind)


def test_adaptive_batch0():
    x = np.zeros((0, 3, 5, 6), np.float32)
    assert fnn.adaptive_avg_pool2d(x, (2, 4)).shape == (0, 3, 2, 4)
    values, indices = fnn.adaptive_max_pool2d(x, 3, return_indices=True)
    assert values.shape == indices.shape == (0, 3, 3, 3)
    assert values.dtype == np.float32 and indices.dtype == np.int64


# --------------------------------------------------------------------------------------------
# patchify / unpatchify
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(RANDOM_CASES // 2))
def test_patchify_unpatchify_random(case, dtype):
    rng = case_rng(50, case)
    ph, pw = (int(v) for v in rng.integers(1, 6, size=2))
    gh, gw = (int(v) for v in rng.integers(1, 6, size=2))
    if rng.random() < 0.3:
        gw = gh
    shape = image_shape(rng, int(rng.integers(1, 4)), gh * ph, gw * pw)
    x = rng.standard_normal(shape).astype(dtype)
    patch = maybe_pair(rng, ph, pw)
    patches = fnn.patchify(x, patch)
    assert_exact(patches, rnn.patchify(x, patch), dtype, f"patchify {shape} {patch}")
    assert not np.shares_memory(patches, x)
    size = None if gh == gw and rng.random() < 0.5 else (gh * ph, gw * pw)
    back = fnn.unpatchify(patches, patch, size)
    assert_exact(back, x, dtype, f"unpatchify {shape} {patch} {size}")
    assert_exact(back, rnn.unpatchify(patches, patch, size), dtype)
    assert not np.shares_memory(back, patches)


def test_patchify_is_a_patch_embedding_conv():
    rng = case_rng(51)
    x = rng.standard_normal((2, 3, 8, 12))
    w = rng.standard_normal((5, 3, 4, 4))
    tokens = fnn.patchify(x, 4) @ w.reshape(5, -1).T  # (N, L, D)
    conv = fnn.conv2d(x, w, stride=4)  # (N, D, 2, 3)
    np.testing.assert_allclose(tokens, conv.reshape(2, 5, 6).transpose(0, 2, 1), rtol=1e-12)


def test_patchify_unpatchify_edges():
    x = np.arange(2 * 3 * 4 * 6, dtype=np.float32).reshape(2, 3, 4, 6)
    # one patch per image, patches of one pixel, non-square grids, unbatched
    assert fnn.patchify(x, (4, 6)).shape == (2, 1, 72)
    assert_exact(fnn.unpatchify(fnn.patchify(x, (4, 6)), (4, 6)), x, np.float32)
    assert_exact(fnn.patchify(x, 1), x.reshape(2, 3, 24).transpose(0, 2, 1), np.float32)
    assert_exact(fnn.unpatchify(fnn.patchify(x, 2), 2, (4, 6)), x, np.float32)
    assert_exact(fnn.unpatchify(fnn.patchify(x[0], (2, 3)), (2, 3)), x[0], np.float32)
    assert fnn.patchify(x[0], (2, 3)).shape == (4, 18)
    empty = fnn.patchify(np.zeros((0, 3, 4, 6)), 2)
    assert empty.shape == (0, 6, 12) and empty.dtype == np.float64
    back = fnn.unpatchify(np.zeros((0, 4, 12), np.float32), 2)
    assert back.shape == (0, 3, 4, 4) and back.dtype == np.float32


# --------------------------------------------------------------------------------------------
# against torch
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: the pool only adds latency
    yield torch
    torch.set_num_threads(threads)


TORCH_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}
TORCH_CASES = 16


def to_torch(torch, a):
    return torch.from_numpy(np.ascontiguousarray(a))


def torch64(torch, a):
    return None if a is None else torch.from_numpy(np.asarray(a, np.float64))


def check_torch_kind(torch, got, dtype):
    assert isinstance(got, torch.Tensor), type(got)
    assert got.dtype == getattr(torch, TORCH_DTYPES[np.dtype(dtype)])
    return got.numpy()


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(TORCH_CASES))
def test_torch_conv2d(torch, case, dtype):
    F = torch.nn.functional
    rng = case_rng(60, case)
    x_shape, w_shape, bias, kwargs = random_conv_case(rng)
    x, w, b = conv_data(rng, x_shape, w_shape, bias, dtype)
    tb = None if b is None else to_torch(torch, b)
    got = fnn.conv2d(to_torch(torch, x), to_torch(torch, w), tb, **kwargs)
    got = check_torch_kind(torch, got, dtype)
    expected = F.conv2d(torch64(torch, x), torch64(torch, w), torch64(torch, b), **kwargs).numpy()
    scale = F.conv2d(
        torch64(torch, np.abs(x)),
        torch64(torch, np.abs(w)),
        None if b is None else torch64(torch, np.abs(b)),
        **kwargs,
    ).numpy()
    assert_close(
        got, expected, scale.max(initial=0.0), dtype, f"conv2d {x_shape} {w_shape} {kwargs}"
    )


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs"),
    [
        ((1, 67, 6, 17), (13, 67, 3, 3), dict(padding=1)),
        ((1, 67, 9, 17), (7, 67, 3, 3), dict(stride=2, dilation=(1, 2))),
        ((2, 300, 3, 5), (5, 300, 1, 1), {}),
        ((2, 4, 9, 70), (8, 1, 3, 3), dict(groups=4, padding="same")),
        ((1, 6, 8, 33), (9, 2, 4, 2), dict(groups=3, padding="same", dilation=2)),
    ],
    ids=["shifted_K603", "strided_K603", "1x1_K300", "depthwise_x2", "groups3_same_even"],
)
def test_torch_conv2d_paths(torch, x_shape, w_shape, kwargs):
    F = torch.nn.functional
    rng = case_rng(61)
    for dtype in DTYPES:
        x, w, b = conv_data(rng, x_shape, w_shape, True, dtype)
        got = fnn.conv2d(to_torch(torch, x), to_torch(torch, w), to_torch(torch, b), **kwargs)
        got = check_torch_kind(torch, got, dtype)
        expected = F.conv2d(torch64(torch, x), torch64(torch, w), torch64(torch, b), **kwargs)
        assert_close(got, expected.numpy(), conv_scale(x, w, b, **kwargs), dtype, str(kwargs))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(TORCH_CASES))
def test_torch_max_pool2d(torch, case, dtype):
    F = torch.nn.functional
    rng = case_rng(62, case)
    hw, kwargs = random_pool_kwargs(rng, dilated=True)
    x = tie_image(rng, image_shape(rng, int(rng.integers(1, 4)), *hw), dtype)
    tx = to_torch(torch, x)
    values, indices = fnn.max_pool2d(tx, return_indices=True, **kwargs)
    ref_values, ref_indices = F.max_pool2d(tx, return_indices=True, **kwargs)
    assert isinstance(indices, torch.Tensor) and indices.dtype == torch.int64
    assert_exact(check_torch_kind(torch, values, dtype), ref_values.numpy(), dtype, str(kwargs))
    assert_exact(indices.numpy(), ref_indices.numpy(), np.int64, str(kwargs))
    plain = fnn.max_pool2d(tx, **kwargs)
    assert_exact(check_torch_kind(torch, plain, dtype), ref_values.numpy(), dtype, str(kwargs))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(TORCH_CASES))
def test_torch_avg_pool2d(torch, case, dtype):
    F = torch.nn.functional
    rng = case_rng(63, case)
    hw, kwargs = random_pool_kwargs(rng, dilated=False)
    x = rng.standard_normal(image_shape(rng, int(rng.integers(1, 4)), *hw)).astype(dtype)
    kwargs["count_include_pad"] = bool(rng.random() < 0.5)
    kwargs["divisor_override"] = None if rng.random() < 0.6 else int(rng.choice([1, 2, 5, 7]))
    got = check_torch_kind(torch, fnn.avg_pool2d(to_torch(torch, x), **kwargs), dtype)
    expected = F.avg_pool2d(torch64(torch, x), **kwargs).numpy()
    scale = F.avg_pool2d(torch64(torch, np.abs(x)), **kwargs).numpy()
    assert_close(got, expected, scale.max(initial=0.0), dtype, str(kwargs))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(TORCH_CASES))
def test_torch_lp_pool2d(torch, case, dtype):
    F = torch.nn.functional
    rng = case_rng(64, case)
    p = LP_NORMS[case % len(LP_NORMS)]
    k = rng.integers(1, 5, size=2)
    s = rng.integers(1, 4, size=2)
    hw = [size_for(rng, int(k[i]), simd=i == 1) for i in range(2)]
    x = rng.standard_normal(image_shape(rng, int(rng.integers(1, 4)), *hw)).astype(dtype)
    if p not in (1, 2, 1.5):
        x = np.abs(x)
    args = (maybe_pair(rng, *k), None if rng.random() < 0.25 else maybe_pair(rng, *s))
    ceil_mode = bool(rng.random() < 0.5)
    got = check_torch_kind(torch, fnn.lp_pool2d(to_torch(torch, x), p, *args, ceil_mode), dtype)
    expected = F.lp_pool2d(torch64(torch, x), p, *args, ceil_mode).numpy()
    scale = F.lp_pool2d(torch64(torch, np.abs(x)), p, *args, ceil_mode).numpy()
    assert_close(got, expected, scale.max(initial=0.0), dtype, f"p={p} {args} {ceil_mode}")


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("hw", "output_size"), [pytest.param(*c[1:], id=c[0]) for c in ADAPTIVE_CASES]
)
def test_torch_adaptive_pools(torch, hw, output_size, dtype):
    F = torch.nn.functional
    rng = case_rng(65)
    x = rng.standard_normal((2, 3, *hw)).astype(dtype)
    got = check_torch_kind(torch, fnn.adaptive_avg_pool2d(to_torch(torch, x), output_size), dtype)
    expected = F.adaptive_avg_pool2d(torch64(torch, x), output_size).numpy()
    scale = F.adaptive_avg_pool2d(torch64(torch, np.abs(x)), output_size).numpy()
    assert_close(got, expected, scale.max(), dtype, f"adaptive_avg {hw} {output_size}")
    x = tie_image(rng, (3, *hw), dtype)  # unbatched
    tx = to_torch(torch, x)
    values, indices = fnn.adaptive_max_pool2d(tx, output_size, return_indices=True)
    ref_values, ref_indices = F.adaptive_max_pool2d(tx, output_size, return_indices=True)
    assert isinstance(indices, torch.Tensor) and indices.dtype == torch.int64
    assert_exact(check_torch_kind(torch, values, dtype), ref_values.numpy(), dtype)
    assert_exact(indices.numpy(), ref_indices.numpy(), np.int64)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("shape", "patch"), [((2, 3, 8, 12), (4, 4)), ((1, 1, 6, 6), (2, 3)), ((3, 2, 5, 7), (5, 7))]
)
def test_torch_patchify_unpatchify(torch, shape, patch, dtype):
    F = torch.nn.functional
    x = case_rng(66).standard_normal(shape).astype(dtype)
    tx = to_torch(torch, x)
    patches = fnn.patchify(tx, patch)
    expected = F.unfold(tx, patch, stride=patch).transpose(1, 2)
    assert_exact(check_torch_kind(torch, patches, dtype), expected.numpy(), dtype)
    back = fnn.unpatchify(patches, patch, shape[2:])
    fold = F.fold(expected.transpose(1, 2), shape[2:], patch, stride=patch)
    assert_exact(check_torch_kind(torch, back, dtype), fold.numpy(), dtype)


def test_torch_inputs_and_out(torch):
    """Non-contiguous and requires_grad tensors are read; a torch out= is written and returned
    as is; unbatched tensors give unbatched tensors."""
    F = torch.nn.functional
    rng = case_rng(67)
    x = torch.from_numpy(rng.standard_normal((2, 3, 9, 14)).astype(np.float32))
    w = torch.from_numpy(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    expected = fnn.conv2d(x, w, padding=1)
    xt = x.transpose(2, 3).contiguous().transpose(2, 3)  # the same values, other strides
    assert not xt.is_contiguous()
    assert torch.equal(fnn.conv2d(xt, w, padding=1), expected)
    assert torch.equal(fnn.conv2d(x.clone().requires_grad_(True), w, padding=1), expected)
    wt = w.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    assert torch.equal(fnn.conv2d(x, wt, padding=1), expected)
    out = torch.full((2, 4, 9, 14), float("nan"))
    assert fnn.conv2d(x, w, padding=1, out=out) is out
    assert torch.equal(out, expected)
    out = torch.full((2, 3, 5, 7), float("nan"))
    values, indices = fnn.max_pool2d(x, 2, ceil_mode=True, return_indices=True, out=out)
    ref_values, ref_indices = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    assert values is out and torch.equal(out, ref_values) and torch.equal(indices, ref_indices)
    out_t = torch.empty(2, 3, 14, 9).transpose(2, 3)  # non-contiguous torch out
    assert fnn.avg_pool2d(x, 3, 1, 1, out=out_t) is out_t
    assert torch.equal(out_t, fnn.avg_pool2d(x, 3, 1, 1))
    single = fnn.max_pool2d(x[0], 3, 2, 1, return_indices=True)
    assert single[0].shape == (3, 5, 7) and single[1].shape == (3, 5, 7)
    assert isinstance(single[1], torch.Tensor) and single[1].dtype == torch.int64


@pytest.mark.parametrize("name", ["float16", "bfloat16", "int32", "int64"])
def test_torch_bad_dtypes(torch, name):
    x = torch.zeros((1, 2, 4, 4), dtype=getattr(torch, name))
    with pytest.raises(TypeError, match=r"max_pool2d: input dtype .*float32, float64"):
        fnn.max_pool2d(x, 2)
    w = torch.zeros((1, 2, 1, 1), dtype=getattr(torch, name))
    with pytest.raises(TypeError, match=r"conv2d: weight dtype"):
        fnn.conv2d(torch.zeros((1, 2, 4, 4)), w)


# --------------------------------------------------------------------------------------------
# layouts: non-contiguous inputs, out=
# --------------------------------------------------------------------------------------------


def _step2(a):
    base = np.full((*a.shape[:-2], 2 * a.shape[-2] + 1, 2 * a.shape[-1] + 1), np.nan, a.dtype)
    base[..., 1::2, 1::2] = a
    return base[..., 1::2, 1::2]


def _negative(a):
    flip = (slice(None, None, -1),) * a.ndim
    return a[flip].copy()[flip]


def _transposed(a):
    return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)


def _channels_last(a):
    return np.ascontiguousarray(np.moveaxis(a, -3, -1)).transpose(
        *range(a.ndim - 3), a.ndim - 1, a.ndim - 3, a.ndim - 2
    )


def _batch_step(a):
    base = np.zeros((2 * a.shape[0], *a.shape[1:]), a.dtype)
    base[::2] = a
    return base[::2]


VIEWS = {
    "step2": _step2,
    "negative": _negative,
    "fortran": np.asfortranarray,
    "transposed": _transposed,
    "channels_last": _channels_last,
    "batch_step": _batch_step,
    "big_endian": lambda a: a.astype(a.dtype.newbyteorder(">")),
}


def layout_calls(dtype):
    """Each function (and conv2d's paths) on a (2, 3, 10, 18) input; each call takes ``out=``."""
    rng = case_rng(70)
    w = rng.standard_normal((5, 3, 3, 3)).astype(dtype)
    w1 = rng.standard_normal((4, 3, 1, 1)).astype(dtype)
    wd = rng.standard_normal((6, 1, 3, 3)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    b6 = rng.standard_normal(6).astype(dtype)
    return {
        "conv2d_shifted": lambda x, **kw: fnn.conv2d(x, w, b, padding=1, **kw),
        "conv2d_strided": lambda x, **kw: fnn.conv2d(x, w, None, 2, (1, 2), (1, 2), **kw),
        "conv2d_1x1": lambda x, **kw: fnn.conv2d(x, w1, **kw),
        "conv2d_depthwise": lambda x, **kw: fnn.conv2d(x, wd, b6, padding="same", groups=3, **kw),
        "max_pool2d": lambda x, **kw: fnn.max_pool2d(x, 3, 2, 1, return_indices=True, **kw),
        "max_pool2d_plain": lambda x, **kw: fnn.max_pool2d(x, (2, 3), ceil_mode=True, **kw),
        "avg_pool2d": lambda x, **kw: fnn.avg_pool2d(x, 3, 1, 1, count_include_pad=False, **kw),
        "lp_pool2d": lambda x, **kw: fnn.lp_pool2d(x, 2, 3, 2, **kw),
        "adaptive_avg_pool2d": lambda x, **kw: fnn.adaptive_avg_pool2d(x, (4, 7), **kw),
        "adaptive_max_pool2d": lambda x, **kw: fnn.adaptive_max_pool2d(
            x, (4, 7), return_indices=True, **kw
        ),
        "patchify": lambda x, **kw: fnn.patchify(x, (2, 3), **kw),
        "unpatchify": lambda x, **kw: fnn.unpatchify(
            fnn.patchify(x, (2, 3)), (2, 3), (10, 18), **kw
        ),
    }


LAYOUT_CALLS = tuple(layout_calls(np.float32))


def layout_input(dtype, batched=True):
    x = case_rng(71).standard_normal((2, 3, 10, 18)).astype(dtype)
    x[0, 1, 2, 3] = np.nan
    return x if batched else x[1]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("call", LAYOUT_CALLS)
def test_noncontiguous_input(call, dtype, view):
    f = layout_calls(dtype)[call]
    for batched in (True, False):
        x = layout_input(dtype, batched)
        if view == "batch_step" and not batched:
            continue
        expected = f(x)
        xv = VIEWS[view](x)
        if view != "big_endian":
            assert not xv.flags.c_contiguous or x.shape[0] == 1
        keep = xv.copy()
        assert_same(f(xv), expected, f"{call} {view} batched={batched}")
        assert_same(xv, keep, "the input was modified")


@pytest.mark.parametrize("view", ["step2", "negative", "fortran", "transposed"])
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_noncontiguous_patches(dtype, view):
    p = case_rng(72).standard_normal((2, 12, 15)).astype(dtype)
    expected = fnn.unpatchify(p, (1, 5), (3, 20))
    assert_same(fnn.unpatchify(VIEWS[view](p), (1, 5), (3, 20)), expected)
    assert_same(fnn.unpatchify(VIEWS[view](p[0]), (1, 5), (3, 20)), expected[0])


@pytest.mark.parametrize(
    "view", ["step2", "negative", "fortran", "transposed", "channels_last", "big_endian"]
)
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_noncontiguous_weight_and_bias(dtype, view):
    rng = case_rng(73)
    x = rng.standard_normal((2, 4, 9, 21)).astype(dtype)
    for w_shape, kwargs in [
        ((6, 4, 3, 3), dict(padding=1)),
        ((6, 4, 3, 2), dict(stride=2)),
        ((6, 4, 1, 1), {}),
        ((6, 2, 3, 3), dict(groups=2)),
        ((8, 1, 3, 3), dict(groups=4, padding=1)),
    ]:
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(w_shape[0]).astype(dtype)
        expected = fnn.conv2d(x, w, b, **kwargs)
        b_view = np.repeat(b, 2)[::2] if view == "step2" else b[::-1].copy()[::-1]
        assert not b_view.flags.c_contiguous
        got = fnn.conv2d(x, VIEWS[view](w), b_view, **kwargs)
        assert_same(got, expected, f"{w_shape} {kwargs} {view}")


def _values(result):
    return result[0] if isinstance(result, tuple) else result


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("call", LAYOUT_CALLS)
def test_out(call, dtype, batched):
    """out= C-contiguous (written in place and returned), F-ordered or strided (the values
    copied in, nothing else touched): the same result as without out."""
    f = layout_calls(dtype)[call]
    x = layout_input(dtype, batched)
    expected = f(x)
    shape = _values(expected).shape
    # contiguous
    out = np.full(shape, -7.0, dtype)
    got = f(x, out=out)
    assert _values(got) is out
    assert_same(got, expected, f"{call} contiguous out")
    # strided: every other column of a wider array
    base = np.full((*shape[:-1], 2 * shape[-1]), -7.0, dtype)
    out = base[..., ::2]
    got = f(x, out=out)
    assert _values(got) is out
    assert_same(got, expected, f"{call} strided out")
    assert np.all(base[..., 1::2] == -7.0), "out= wrote past its view"
    # F-ordered
    out = np.asfortranarray(np.full(shape, -7.0, dtype))
    got = f(x, out=out)
    assert _values(got) is out
    assert_same(got, expected, f"{call} fortran out")


def test_out_aliasing_input():
    """out= sharing memory with the input (or the weight) still gives the right answer."""
    rng = case_rng(74)
    x0 = rng.standard_normal((2, 3, 11, 17)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 3)).astype(np.float32)
    w1 = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    wd = rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    same_shape = {
        "avg_pool2d": lambda x, **kw: fnn.avg_pool2d(x, 3, 1, 1, **kw),
        "avg_pool2d_no_pad": lambda x, **kw: fnn.avg_pool2d(x, 3, 1, 1, False, False, **kw),
        "max_pool2d": lambda x, **kw: fnn.max_pool2d(x, 3, 1, 1, **kw),
        "max_pool2d_indices": lambda x, **kw: fnn.max_pool2d(x, 3, 1, 1, return_indices=True, **kw),
        "lp_pool2d": lambda x, **kw: fnn.lp_pool2d(x, 1, 1, **kw),
        "conv2d_shifted": lambda x, **kw: fnn.conv2d(x, w, padding=1, **kw),
        "conv2d_same_even": lambda x, **kw: fnn.conv2d(x, w[..., :2, :2], padding="same", **kw),
        "conv2d_1x1": lambda x, **kw: fnn.conv2d(x, w1, **kw),
        "conv2d_depthwise": lambda x, **kw: fnn.conv2d(x, wd, padding=1, groups=3, **kw),
        "adaptive_avg_pool2d": lambda x, **kw: fnn.adaptive_avg_pool2d(x, (11, 17), **kw),
        "adaptive_max_pool2d": lambda x, **kw: fnn.adaptive_max_pool2d(x, (11, 17), **kw),
    }
    for name, f in same_shape.items():
        expected = f(x0.copy())
        x = x0.copy()
        got = f(x, out=x)
        assert _values(got) is x
        assert_same(got, expected, f"{name} out=input")
        # the unbatched form
        x = x0[1].copy()
        got = f(x, out=x)
        assert_same(_values(got), _values(f(x0[1].copy())), f"{name} unbatched out=input")
        # out overlapping the input, shifted by two rows (both C-contiguous)
        buf = np.zeros((1, 1, 13, 17), np.float32)
        buf[:, :, :11] = x0[:1, :1]
        xs, outs = buf[:, :, :11], buf[:, :, 2:]
        if name.startswith("conv2d"):
            continue  # the weights have 3 input channels
        expected = f(xs.copy())
        got = f(xs, out=outs)
        assert _values(got) is outs
        assert_same(got, expected, f"{name} out overlapping the input")
    # convs whose C-contiguous out overlaps the C-contiguous input, 37 values further on
    size = x0.size
    for name in ("conv2d_shifted", "conv2d_same_even", "conv2d_1x1", "conv2d_depthwise"):
        for shift in (37, -37):
            buf = np.zeros(size + 37, np.float32)
            xs = buf[max(0, -shift) :][:size].reshape(x0.shape)
            outs = buf[max(0, shift) :][:size].reshape(x0.shape)
            xs[...] = x0
            expected = same_shape[name](x0.copy())
            assert same_shape[name](xs, out=outs) is outs
            assert_same(outs, expected, f"{name} out overlapping the input by {shift}")
    # out aliasing the weight: x (4, 4, 5, 5) * w (4, 4, 3, 3) valid -> (4, 4, 3, 3)
    x = rng.standard_normal((4, 4, 5, 5))
    w = rng.standard_normal((4, 4, 3, 3))
    b = rng.standard_normal(4)
    expected = fnn.conv2d(x, w.copy(), b)
    assert_same(fnn.conv2d(x, w, b, out=w), expected, "conv2d out=weight")
    # patchify / unpatchify into a reshaped view of their own input
    x = x0.copy()[:, :, :10, :15]
    x = np.ascontiguousarray(x)
    expected = fnn.patchify(x.copy(), 5)
    out = x.reshape(expected.shape)
    assert np.shares_memory(out, x)
    assert fnn.patchify(x, 5, out=out) is out
    assert_same(out, expected, "patchify out aliasing images")
    p = expected.copy()
    back = fnn.unpatchify(p.copy(), 5, (10, 15))
    out = p.reshape(back.shape)
    assert fnn.unpatchify(p, 5, (10, 15), out=out) is out
    assert_same(out, back, "unpatchify out aliasing patches")


@pytest.mark.parametrize("call", LAYOUT_CALLS)
def test_out_errors(call):
    f = layout_calls(np.float32)[call]
    x = layout_input(np.float32)
    shape = _values(f(x)).shape
    fn = call.split("_plain")[0]
    fn = fn if fn in FUNCS else fn.rsplit("_", 1)[0]
    fn = re.escape(fn)
    wrong = (*shape[:-1], shape[-1] + 1)
    with pytest.raises(ValueError, match=rf"{fn}: out must have shape"):
        f(x, out=np.empty(wrong, np.float32))
    with pytest.raises(ValueError, match=rf"{fn}: out must have shape"):
        f(x, out=np.empty(shape[1:], np.float32))  # unbatched out for batched input
    with pytest.raises(ValueError, match=rf"{fn}: out must have shape"):
        f(x[0], out=np.empty(shape, np.float32))  # batched out for unbatched input
    with pytest.raises(TypeError, match=rf"{fn}: out must have dtype float32"):
        f(x, out=np.empty(shape, np.float64))
    with pytest.raises(TypeError, match=rf"{fn}: out must have dtype float32"):
        f(x, out=np.empty(shape, np.int32))
    ro = np.empty(shape, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=rf"{fn}: out is read-only"):
        f(x, out=ro)
    with pytest.raises(TypeError, match=rf"{fn}: out must be an array"):
        f(x, out=np.empty(shape, np.float32).tolist())
    if np.little_endian:
        with pytest.raises(TypeError, match=rf"{fn}: out must be in native byte order"):
            f(x, out=np.empty(shape, ">f4"))


# --------------------------------------------------------------------------------------------
# instruction sets
# --------------------------------------------------------------------------------------------


def isa_workload(dtype):
    """(name, call, reference result, scale, exact) for conv2d's paths (K = 603: several K
    blocks on every ISA), the depthwise kernel and every pool."""
    rng = case_rng(80)
    x = rng.standard_normal((2, 67, 9, 35)).astype(dtype)
    xs = rng.standard_normal((2, 8, 17, 70)).astype(dtype)
    ties = tie_image(rng, (2, 3, 17, 70), dtype, "both")
    convs = {
        "conv_shifted": (x, (13, 67, 3, 3), dict(padding=1)),
        "conv_same_even": (x[:, :5], (7, 5, 2, 4), dict(padding="same")),
        "conv_strided": (x, (7, 67, 3, 3), dict(stride=2, dilation=(1, 2))),
        "conv_1x1": (x, (9, 67, 1, 1), {}),
        "conv_1x1_s2": (x, (9, 67, 1, 1), dict(stride=2)),
        "conv_groups": (xs, (12, 4, 3, 3), dict(groups=2, padding=1)),
        "conv_depthwise": (xs, (8, 1, 3, 3), dict(groups=8, padding=1)),
        "conv_depthwise_x2_s2": (xs, (16, 1, 5, 3), dict(groups=8, stride=2, padding=(2, 1))),
    }
    cases = []
    for name, (xi, w_shape, kwargs) in convs.items():
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(w_shape[0]).astype(dtype)
        cases.append(
            (
                name,
                lambda xi=xi, w=w, b=b, kwargs=kwargs: fnn.conv2d(xi, w, b, **kwargs),
                rnn.conv2d(xi, w, b, **kwargs),
                conv_scale(xi, w, b, **kwargs),
                False,
            )
        )
    pos = np.abs(xs)
    pools = [
        ("max_pool", fnn.max_pool2d, rnn.max_pool2d, ties, (3, 2, 1, 2), {}, True),
        (
            "max_pool_indices",
            fnn.max_pool2d,
            rnn.max_pool2d,
            ties,
            (3, 1, 1),
            dict(return_indices=True),
            True,
        ),
        (
            "max_pool_k2_ceil",
            fnn.max_pool2d,
            rnn.max_pool2d,
            ties,
            ((2, 3),),
            dict(ceil_mode=True),
            True,
        ),
        ("avg_pool", fnn.avg_pool2d, rnn.avg_pool2d, xs, (3, 2, 1, True), {}, False),
        (
            "avg_pool_s1",
            fnn.avg_pool2d,
            rnn.avg_pool2d,
            xs,
            (3, 1, 1),
            dict(count_include_pad=False),
            False,
        ),
        ("lp_pool2", fnn.lp_pool2d, rnn.lp_pool2d, xs, (2, 3, 1), {}, False),
        (
            "lp_pool1.5",
            fnn.lp_pool2d,
            rnn.lp_pool2d,
            pos,
            (1.5, (2, 3)),
            dict(ceil_mode=True),
            False,
        ),
        (
            "adaptive_avg",
            fnn.adaptive_avg_pool2d,
            rnn.adaptive_avg_pool2d,
            xs,
            ((5, 33),),
            {},
            False,
        ),
        (
            "adaptive_max",
            fnn.adaptive_max_pool2d,
            rnn.adaptive_max_pool2d,
            ties,
            ((5, 33), True),
            {},
            True,
        ),
    ]
    for name, f, r, xi, args, kwargs, exact in pools:
        scale = 0.0 if exact else scale_of_pool(r, xi, *args, **kwargs)
        cases.append(
            (
                name,
                lambda f=f, xi=xi, args=args, kwargs=kwargs: f(xi, *args, **kwargs),
                r(xi, *args, **kwargs),
                scale,
                exact,
            )
        )
    return cases


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("isa", foveal._core.supported_isas())
def test_isa_matches_default(restore_isa, isa, dtype):
    cases = isa_workload(dtype)
    default = [f() for _, f, _, _, _ in cases]
    foveal.set_isa(isa)
    assert foveal.get_isa() == isa
    for (name, f, expected, scale, exact), base in zip(cases, default, strict=True):
        got = f()
        what = f"{name} under {isa} (default {restore_isa})"
        if exact:
            assert_same(got, base, what)
            if isinstance(got, tuple):
                assert_exact(got[0], expected[0], dtype, what)
                assert_exact(got[1], expected[1], np.int64, what)
            else:
                assert_exact(got, expected, got.dtype, what)
        else:
            assert_close(got, expected, scale, dtype, what)
            assert_close(got, base, 2 * scale, dtype, what + " vs default")


# --------------------------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------------------------


def thread_workload():
    rng = case_rng(90)
    x = rng.standard_normal((3, 12, 41, 53)).astype(np.float32)
    x64 = x.astype(np.float64)
    w = rng.standard_normal((14, 12, 3, 3)).astype(np.float32)
    w1 = rng.standard_normal((7, 12, 1, 1)).astype(np.float32)
    wd = rng.standard_normal((24, 1, 3, 3)).astype(np.float32)
    wg = rng.standard_normal((9, 4, 3, 3)).astype(np.float32)
    wdeep = rng.standard_normal((5, 12, 5, 5)).astype(np.float64)
    b = rng.standard_normal(14).astype(np.float32)
    return {
        "conv_shifted": lambda: fnn.conv2d(x, w, b, padding=1),
        "conv_strided": lambda: fnn.conv2d(x, w, b, stride=2, padding=1),
        "conv_1x1": lambda: fnn.conv2d(x, w1),
        "conv_depthwise": lambda: fnn.conv2d(x, wd, padding=1, groups=12),
        "conv_groups": lambda: fnn.conv2d(x, wg, stride=(1, 2), groups=3),
        "conv_deep64": lambda: fnn.conv2d(x64, wdeep, padding=2, dilation=(1, 2)),
        "max_pool": lambda: fnn.max_pool2d(x, 3, 2, 1),
        "max_pool_indices": lambda: fnn.max_pool2d(x, 3, 2, 1, return_indices=True),
        "avg_pool": lambda: fnn.avg_pool2d(x64, 3, 1, 1),
        "lp_pool": lambda: fnn.lp_pool2d(np.abs(x), 1.5, 3, 2),
        "adaptive_avg": lambda: fnn.adaptive_avg_pool2d(x, (7, 9)),
        "adaptive_max": lambda: fnn.adaptive_max_pool2d(x, (7, 9), True),
        "patchify": lambda: fnn.patchify(x[:, :, :40, :50], (4, 5)),
    }


def test_thread_count_does_not_change_results():
    work = thread_workload()
    default = {name: f() for name, f in work.items()}
    for n in (1, 3):
        with foveal.num_threads(n):
            for name, f in work.items():
                assert_same(f(), default[name], f"{name} with {n} threads")


def test_concurrent_python_threads():
    """Several Python threads calling conv2d (and the pools) at once get the right answers."""
    rng = case_rng(91)
    jobs = []
    for i in range(12):
        dtype = DTYPES[i % 2]
        x = rng.standard_normal((2, 6, 23, 37)).astype(dtype)
        if i % 3 == 0:
            w = rng.standard_normal((8, 6, 3, 3)).astype(dtype)
            kwargs = dict(padding=1)
        elif i % 3 == 1:
            w = rng.standard_normal((5, 6, 3, 5)).astype(dtype)
            kwargs = dict(stride=2, dilation=(2, 1))
        else:
            w = rng.standard_normal((12, 1, 3, 3)).astype(dtype)
            kwargs = dict(groups=6, padding="same")
        jobs.append((x, w, kwargs))
    expected = [fnn.conv2d(x, w, **kw) for x, w, kw in jobs]
    for (x, w, kw), e in zip(jobs, expected, strict=True):
        assert_close(e, rnn.conv2d(x, w, **kw), conv_scale(x, w, None, **kw), x.dtype)
    pools = [fnn.max_pool2d(x, 3, 2, 1, return_indices=True) for x, _, _ in jobs]

    def work(i):
        x, w, kw = jobs[i % len(jobs)]
        if i % 4 == 3:
            return fnn.max_pool2d(x, 3, 2, 1, return_indices=True)
        return fnn.conv2d(x, w, **kw)

    indices = list(range(96))
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, indices))
    for i, got in zip(indices, results, strict=True):
        want = pools[i % len(jobs)] if i % 4 == 3 else expected[i % len(jobs)]
        assert_same(got, want, f"call {i}")


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


def call(fn, x, **kwargs):
    """``fn`` on ``x`` with valid other arguments (overridden by ``kwargs``)."""
    dtype = x.dtype if isinstance(x, np.ndarray) and x.dtype.kind == "f" else np.float32
    if dtype not in DTYPES:
        dtype = np.float32
    if fn == "conv2d":
        args = dict(weight=np.ones((4, 3, 3, 3), dtype))
        args.update(kwargs)
        return fnn.conv2d(x, **args)
    if fn in ("max_pool2d", "avg_pool2d"):
        return getattr(fnn, fn)(x, **{"kernel_size": 2, **kwargs})
    if fn == "lp_pool2d":
        return fnn.lp_pool2d(x, **{"norm_type": 2, "kernel_size": 2, **kwargs})
    if fn.startswith("adaptive"):
        return getattr(fnn, fn)(x, **{"output_size": 2, **kwargs})
    if fn == "patchify":
        return fnn.patchify(x, **{"patch_size": 2, **kwargs})
    return fnn.unpatchify(x, **{"patch_size": 2, **kwargs})


def good_input(fn, dtype=np.float32):
    if fn == "unpatchify":
        return np.zeros((1, 9, 12), dtype)  # a 3 x 3 grid of 2 x 2 patches, 3 channels
    return np.zeros((1, 3, 6, 6), dtype)


def raises(exc, fn, *words):
    """pytest.raises for a message that starts with ``fn: `` and then holds ``words`` in order."""
    pattern = "^" + re.escape(fn) + ": .*" + ".*".join(re.escape(w) for w in words)
    return pytest.raises(exc, match=pattern)


@pytest.mark.parametrize("fn", FUNCS)
def test_every_function_works_on_the_good_input(fn):
    for dtype in DTYPES:
        result = call(fn, good_input(fn, dtype))
        assert _values(result).dtype == dtype


@pytest.mark.parametrize("bad", ["list", "none", "scalar", "string"])
@pytest.mark.parametrize("fn", FUNCS)
def test_input_not_an_array(fn, bad):
    x = good_input(fn)
    x = {"list": x.tolist(), "none": None, "scalar": 3.0, "string": "x"}[bad]
    with raises(TypeError, fn, INPUT_NAME.get(fn, "input"), "must be an array"):
        call(fn, x)


@pytest.mark.parametrize("dtype", ["int32", "float16", "uint8", "int64", "bool", "complex64"])
@pytest.mark.parametrize("fn", FUNCS)
def test_input_dtype(fn, dtype):
    x = good_input(fn).astype(dtype)
    with raises(TypeError, fn, INPUT_NAME.get(fn, "input"), "dtype", "float32", "float64"):
        call(fn, x)


@pytest.mark.parametrize("ndim", [0, 1, 2, 5])
@pytest.mark.parametrize("fn", FUNCS)
def test_input_rank(fn, ndim):
    if fn == "unpatchify" and ndim == 2:
        ndim = 4
    x = np.zeros((2,) * ndim, np.float32)
    with raises(ValueError, fn, INPUT_NAME.get(fn, "input"), "must be"):
        call(fn, x)


@pytest.mark.parametrize(
    "shape", [(1, 0, 6, 6), (1, 3, 0, 6), (1, 3, 6, 0), (0, 6, 6), (3, 0, 6), (3, 6, 0)]
)
@pytest.mark.parametrize("fn", [f for f in FUNCS if f != "unpatchify"])
def test_input_empty_dimensions(fn, shape):
    with raises(ValueError, fn, INPUT_NAME.get(fn, "input"), "must not have empty"):
        call(fn, np.zeros(shape, np.float32))


@pytest.mark.parametrize("shape", [(1, 0, 12), (1, 9, 0), (0, 12), (9, 0)])
def test_unpatchify_empty(shape):
    with raises(ValueError, "unpatchify", "patches must not be empty"):
        fnn.unpatchify(np.zeros(shape, np.float32), 2)


@pytest.mark.parametrize("fn", [f for f in FUNCS if f != "unpatchify"])
def test_batch_zero(fn):
    x = np.zeros((0, 3, 6, 6), np.float64)
    expected_shape = {
        "conv2d": (0, 4, 4, 4),
        "patchify": (0, 9, 12),
        "adaptive_avg_pool2d": (0, 3, 2, 2),
        "adaptive_max_pool2d": (0, 3, 2, 2),
    }.get(fn, (0, 3, 3, 3))
    result = call(fn, x)
    assert result.shape == expected_shape and result.dtype == np.float64


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        (dict(weight=np.ones((4, 3, 7, 7), np.float32)), ("kernel", "larger than the input")),
        (dict(weight=np.ones((4, 3, 9, 3), np.float32), padding=1), ("kernel", "larger")),
        (dict(weight=np.ones((4, 3, 3, 3), np.float32), dilation=3), ("kernel", "larger")),
        (dict(weight=np.ones((4, 3, 1, 7), np.float32), padding=(2, 0)), ("kernel", "larger")),
    ],
)
def test_conv2d_kernel_larger_than_input(kwargs, words):
    with raises(ValueError, "conv2d", *words):
        call("conv2d", good_input("conv2d"), **kwargs)


@pytest.mark.parametrize(
    ("fn", "kwargs"),
    [
        ("max_pool2d", dict(kernel_size=7)),
        ("max_pool2d", dict(kernel_size=(2, 7), padding=(1, 0))),
        ("max_pool2d", dict(kernel_size=3, dilation=3)),
        # with ceil_mode, torch refuses only a window longer than the (padded) input by the
        # stride or more (a 7-window every 7 on 6 inputs gives one output: test_fuzz_regressions)
        ("max_pool2d", dict(kernel_size=3, dilation=(1, 4), stride=1, ceil_mode=True)),
        ("avg_pool2d", dict(kernel_size=7)),
        ("avg_pool2d", dict(kernel_size=(7, 1), stride=1, ceil_mode=True)),
        ("lp_pool2d", dict(kernel_size=(1, 7))),
        ("lp_pool2d", dict(kernel_size=7, stride=1, ceil_mode=True)),
    ],
)
def test_pool_kernel_larger_than_input(fn, kwargs):
    with raises(ValueError, fn, "output would be empty", "kernel_size"):
        call(fn, good_input(fn), **kwargs)


# (function, argument, ...) for arguments that must be >= 1
POSITIVE_ARGS = [
    ("conv2d", "stride"),
    ("conv2d", "dilation"),
    ("conv2d", "groups"),
    ("max_pool2d", "kernel_size"),
    ("max_pool2d", "stride"),
    ("max_pool2d", "dilation"),
    ("avg_pool2d", "kernel_size"),
    ("avg_pool2d", "stride"),
    ("avg_pool2d", "divisor_override"),
    ("lp_pool2d", "kernel_size"),
    ("lp_pool2d", "stride"),
    ("adaptive_avg_pool2d", "output_size"),
    ("adaptive_max_pool2d", "output_size"),
    ("patchify", "patch_size"),
    ("unpatchify", "patch_size"),
    ("unpatchify", "image_size"),
]


@pytest.mark.parametrize("value", [0, -1, (1, 0), (-2, 1)])
@pytest.mark.parametrize(("fn", "arg"), POSITIVE_ARGS)
def test_sizes_must_be_positive(fn, arg, value):
    if arg in ("groups", "divisor_override") and isinstance(value, tuple):
        value = min(value)  # scalar arguments
    with raises(ValueError, fn, arg, "must be >= 1"):
        call(fn, good_input(fn), **{arg: value})


def non_integer_cases():
    """(fn, arg, value) for every size argument and non-integer value; None only where it is
    not the argument's default, strings not for conv2d's padding (a padding mode)."""
    cases = []
    pad_args = [("conv2d", "padding"), ("max_pool2d", "padding"), ("avg_pool2d", "padding")]
    for fn, arg in POSITIVE_ARGS + pad_args:
        scalar = arg in ("groups", "divisor_override")
        for value in (2.5, 2.0, "2", None, True, (2, 1.5), (np.float64(2), 1), np.float32(1)):
            if isinstance(value, tuple) and scalar:
                continue
            if value is None and (
                (arg == "stride" and fn != "conv2d") or arg in ("divisor_override", "image_size")
            ):
                continue
            if value == "2" and fn == "conv2d" and arg == "padding":
                continue
            cases.append((fn, arg, value))
    return cases


@pytest.mark.parametrize(("fn", "arg", "value"), non_integer_cases())
def test_sizes_must_be_integers(fn, arg, value):
    with raises(TypeError, fn, arg, "must be an integer"):
        call(fn, good_input(fn), **{arg: value})


@pytest.mark.parametrize(
    ("fn", "arg"),
    [(f, a) for f, a in POSITIVE_ARGS if a not in ("groups", "divisor_override")]
    + [("conv2d", "padding"), ("max_pool2d", "padding"), ("avg_pool2d", "padding")],
)
def test_pairs_must_have_two_values(fn, arg):
    with raises(ValueError, fn, arg, "must be an int or a pair"):
        call(fn, good_input(fn), **{arg: (1, 1, 1)})


@pytest.mark.parametrize("fn", ["conv2d", "max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("value", [-1, (0, -1), (-3, 0)])
def test_padding_must_not_be_negative(fn, value):
    with raises(ValueError, fn, "padding", "must be >= 0"):
        call(fn, good_input(fn), padding=value)


@pytest.mark.parametrize(
    ("fn", "kwargs"),
    [
        ("max_pool2d", dict(kernel_size=3, padding=2)),
        ("max_pool2d", dict(kernel_size=(2, 4), padding=(1, 3))),
        ("max_pool2d", dict(kernel_size=1, padding=1)),
        ("max_pool2d", dict(kernel_size=3, padding=2, dilation=3)),  # torch: the undilated kernel
        ("avg_pool2d", dict(kernel_size=3, padding=2)),
        ("avg_pool2d", dict(kernel_size=(4, 2), padding=(3, 1))),
    ],
)
def test_pool_padding_at_most_half_the_kernel(fn, kwargs):
    with raises(ValueError, fn, "padding must be at most half the kernel"):
        call(fn, np.zeros((1, 3, 12, 12), np.float32), **kwargs)


def test_conv2d_padding_errors():
    x = good_input("conv2d")
    for stride in (2, (1, 2), (2, 1)):
        with raises(ValueError, "conv2d", "padding='same'", "stride"):
            call("conv2d", x, padding="same", stride=stride)
    for mode in ("full", "", "causal"):
        with raises(ValueError, "conv2d", "padding must be", "'same' or 'valid'"):
            call("conv2d", x, padding=mode)
    with raises(TypeError, "conv2d", "padding must be an integer"):
        call("conv2d", x, padding=1.5)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "groups", "exc", "words"),
    [
        ((1, 3, 6, 6), (4, 1, 3, 3), 2, ValueError, ("groups=2", "input channels (3)")),
        ((1, 4, 6, 6), (3, 2, 3, 3), 2, ValueError, ("groups=2", "output channels (3)")),
        ((1, 6, 6, 6), (6, 1, 3, 3), 3, ValueError, ("weight", "expects 3 input channels")),
        ((1, 6, 6, 6), (6, 3, 3, 3), 1, ValueError, ("weight", "expects 3 input channels")),
        ((1, 3, 6, 6), (4, 3, 3, 3), 0, ValueError, ("groups must be >= 1",)),
        ((1, 3, 6, 6), (4, 3, 3, 3), -3, ValueError, ("groups must be >= 1",)),
        ((1, 3, 6, 6), (3, 1, 3, 3), 1.0, TypeError, ("groups must be an integer",)),
        ((1, 3, 6, 6), (3, 1, 3, 3), True, TypeError, ("groups must be an integer",)),
    ],
)
def test_conv2d_groups_errors(x_shape, w_shape, groups, exc, words):
    x = np.zeros(x_shape, np.float32)
    with raises(exc, "conv2d", *words):
        fnn.conv2d(x, np.ones(w_shape, np.float32), groups=groups)


@pytest.mark.parametrize(
    ("weight", "bias", "exc", "words"),
    [
        (np.ones((4, 3, 3, 3), np.float64), None, TypeError, ("weight dtype float64", "float32")),
        (np.ones((4, 3, 3, 3), np.int32), None, TypeError, ("weight dtype int32",)),
        (np.ones((4, 3, 3, 3), np.float16), None, TypeError, ("weight dtype float16",)),
        (np.ones((4, 3, 3), np.float32), None, ValueError, ("weight must be 4-D",)),
        (np.ones((1, 4, 3, 3, 3), np.float32), None, ValueError, ("weight must be 4-D",)),
        (np.ones((4, 2, 3, 3), np.float32), None, ValueError, ("weight", "input channels")),
        (np.ones((0, 3, 3, 3), np.float32), None, ValueError, ("weight must not be empty",)),
        (np.ones((4, 3, 0, 3), np.float32), None, ValueError, ("weight must not be empty",)),
        (np.ones((4, 3, 3, 3)).tolist(), None, TypeError, ("weight must be an array",)),
        (None, None, TypeError, ("weight must be an array",)),
        (np.ones((4, 3, 3, 3), np.float32), np.ones(4), TypeError, ("bias dtype float64",)),
        (np.ones((4, 3, 3, 3), np.float32), np.ones(4, np.int64), TypeError, ("bias dtype",)),
        (np.ones((4, 3, 3, 3), np.float32), np.ones(3, np.float32), ValueError, ("bias", "4")),
        (np.ones((4, 3, 3, 3), np.float32), np.ones(5, np.float32), ValueError, ("bias", "4")),
        (
            np.ones((4, 3, 3, 3), np.float32),
            np.ones((4, 1), np.float32),
            ValueError,
            ("bias", "1-D"),
        ),
        (np.ones((4, 3, 3, 3), np.float32), np.float32(1), ValueError, ("bias", "1-D")),
        (np.ones((4, 3, 3, 3), np.float32), [1.0] * 4, TypeError, ("bias must be an array",)),
    ],
)
def test_conv2d_weight_and_bias_errors(weight, bias, exc, words):
    with raises(exc, "conv2d", *words):
        fnn.conv2d(good_input("conv2d"), weight, bias)


@pytest.mark.parametrize("p", [0, -1, -0.5, 0.0, math.nan, math.inf, -math.inf])
def test_lp_norm_type_values(p):
    with raises(ValueError, "lp_pool2d", "norm_type"):
        call("lp_pool2d", good_input("lp_pool2d"), norm_type=p)


@pytest.mark.parametrize("p", ["2", None, True, [2], np.ones(1)])
def test_lp_norm_type_types(p):
    with raises(TypeError, "lp_pool2d", "norm_type must be a number"):
        call("lp_pool2d", good_input("lp_pool2d"), norm_type=p)


def test_lp_norm_type_numpy_scalars():
    x = np.abs(case_rng(95).standard_normal((1, 2, 6, 6)))
    assert_same(fnn.lp_pool2d(x, np.float32(2), 2), fnn.lp_pool2d(x, 2, 2))
    assert_same(fnn.lp_pool2d(x, np.int64(3), 2), fnn.lp_pool2d(x, 3.0, 2))


@pytest.mark.parametrize("fn", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
def test_adaptive_output_size_errors(fn):
    x = good_input(fn)
    with raises(ValueError, fn, "output_size must be an int or a pair"):
        call(fn, x, output_size=(2, 2, 2))
    with raises(ValueError, fn, "output_size must be an int or a pair"):
        call(fn, x, output_size=[2])
    with raises(TypeError, fn, "output_size must be an integer"):
        call(fn, x, output_size=(2, 2.5))
    with raises(TypeError, fn, "output_size must be an integer"):
        call(fn, x, output_size="2")
    with raises(ValueError, fn, "output_size must be >= 1"):
        call(fn, x, output_size=(None, 0))


def test_patchify_errors():
    x = good_input("patchify")
    for patch in (4, (2, 4), (5, 1), 7):
        with raises(ValueError, "patchify", "not a multiple of patch_size"):
            fnn.patchify(x, patch)


def test_unpatchify_errors():
    with raises(ValueError, "unpatchify", "image_size is needed", "square"):
        fnn.unpatchify(np.zeros((1, 6, 12), np.float32), 2)
    with raises(ValueError, "unpatchify", "image_size is needed"):
        fnn.unpatchify(np.zeros((2, 12), np.float32), 2)
    with raises(ValueError, "unpatchify", "not a multiple of patch_size"):
        fnn.unpatchify(np.zeros((1, 4, 10), np.float32), 2)
    with raises(ValueError, "unpatchify", "image_size", "does not hold"):
        fnn.unpatchify(np.zeros((1, 4, 12), np.float32), 2, (4, 6))
    with raises(ValueError, "unpatchify", "image_size", "does not hold"):
        fnn.unpatchify(np.zeros((1, 4, 12), np.float32), 2, (5, 4))
    with raises(ValueError, "unpatchify", "image_size must be an int or a pair"):
        fnn.unpatchify(np.zeros((1, 4, 12), np.float32), 2, (4, 4, 1))
    # the non-square grid works with image_size
    assert fnn.unpatchify(np.zeros((1, 6, 12), np.float32), 2, (4, 6)).shape == (1, 3, 4, 6)

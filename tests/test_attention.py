"""Correctness of foveal.nn's attention: scaled_dot_product_attention (the fused C++ kernel),
multi_head_attention, additive_attention, luong_attention and self_attentive_pooling.

``foveal.reference.attention`` (float64 NumPy, itself checked against torch in
test_attention_reference.py) is the spec and is used everywhere; torch is compared directly
(torch.nn.functional.scaled_dot_product_attention, torch.nn.MultiheadAttention in training
mode, batch_first, with the same weights copied in) on a smaller set where it is installed
(those tests skip without it). Cases come from seeded generators (``conftest.SEED``) plus
hand-picked ones aimed at the kernel's tiling: 48 query rows per task, 128 keys per tile, K
and V packed in panels of NR keys / columns (16 float32 with AVX2), causal tiles skipped and
the computed width trimmed to the diagonal. So L and S run over 1 and the values around those
sizes (47, 48, 49, 127, 128, 129, 255, 257 ...), E / Ev over 1, 3, 8, 16, 17, 64, 80, 128,
with 0-3 leading dimensions, every broadcast shape of bool and float masks, -inf entries and
rows with no key left (zeros, as torch's CPU kernel), +inf and NaN mask entries (NaN, as
torch), causal with L < S, L = S and L > S, grouped key / value heads, custom scales (0 too),
``out=`` (contiguous, strided, aliasing an input), strided / negative-stride / F-order inputs
and torch tensors.

Tolerances. A float result must be within ``rtol * max(1, scale)`` of the float64 reference
computed from the same (float32- or float64-valued) input, rtol = 1e-5 for float32 and 1e-12
for float64. ``scale`` is the largest magnitude the output can reach: max |value| for the
attentions (their outputs are convex combinations of values; weights: 1), for
multi_head_attention the bound max |v-projection| * max row sum |out_proj_weight| +
max |out_proj_bias|, for the penalty of self_attentive_pooling R + R^2. NaN must sit exactly
where the reference has NaN. Against torch's own float32 / float64 results (which round too)
the tolerance is doubled (SDPA) or tripled (MultiheadAttention). Inputs are drawn so that
the scaled scores stay O(1) (the float32 error of a score grows with scale * sum |q_i k_i|).
Results for non-contiguous inputs, for ``out=``, for other thread counts and from concurrent
Python threads are compared bit for bit with the plain call (masks of other layouts: within
the tolerance); results under another instruction set within the tolerance.

Known failures, kept on purpose (foveal bugs): test_sdpa_extreme_finite_mask_values (the
kernel multiplies float masks by log2(e), which overflows for |mask| > finfo.max / log2(e):
a row masked with finfo.min gives 0, not the values' mean; a finfo.max entry gives NaN) and
test_self_attentive_pooling_torch_kind[False] (the unbatched penalty is a NumPy scalar, which
torch.from_dlpack refuses).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import math
import re

import foveal
import foveal.nn as fnn
import numpy as np
import pytest
from conftest import SEED
from foveal.reference import attention as ref

DTYPES = (np.float32, np.float64)
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
# lengths around the kernel's tiles: 48 query rows, 128 keys, panels of 16 (8 with float64)
LENGTHS = (1, 2, 3, 5, 8, 15, 16, 17, 31, 47, 48, 49, 95, 96, 97, 127, 128, 129, 255, 257)
WIDTHS = (1, 3, 8, 16, 17, 64, 80, 128)

# the reference warns on inf - inf (rows with +inf / NaN scores): that NaN is the point
pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
    # torch warns about a bool attn_mask next to a float key_padding_mask (still their sum)
    pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning"),
]


def case_rng(tag: int, case: int = 0) -> np.random.Generator:
    return np.random.default_rng([SEED, 4444, tag, case])


def dtype_id(dtype) -> str:
    return np.dtype(dtype).name


def randn(rng, shape, dtype=np.float64, scale: float = 1.0) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


def tol_of(dtype, scale: float) -> float:
    return RTOL[np.dtype(dtype)] * max(1.0, float(scale))


def assert_close(got, expected, scale, dtype, what: str = "") -> None:
    """got: a ``dtype`` ndarray of expected's shape; NaN / +-inf exactly where the reference
    has them; the finite values within rtol * max(1, scale)."""
    assert isinstance(got, np.ndarray), f"{what}: got a {type(got).__name__}"
    expected = np.asarray(expected, np.float64)
    assert got.dtype == np.dtype(dtype), f"{what}: dtype {got.dtype}, expected {dtype_id(dtype)}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    g = got.astype(np.float64)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(g[~finite], expected[~finite], err_msg=f"{what}: non-finite")
    tol = tol_of(dtype, scale)
    err = np.abs(g - expected)
    bad = finite & ~(err <= tol)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} values off by more than {tol:.3g}; "
            f"max error {float(np.nanmax(np.where(finite, err, 0))):.3g}; first at {i}: "
            f"got {g[i]!r}, expected {expected[i]!r}"
        )


def assert_same(a, b, what: str = "") -> None:
    """Bit-for-bit equal results (arrays, tensors, tuples of them, None), dtypes included."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), what
        for x, y in zip(a, b, strict=True):
            assert_same(x, y, what)
        return
    if a is None or b is None:
        assert a is None and b is None, what
        return
    assert type(a) is type(b), f"{what}: {type(a).__name__} vs {type(b).__name__}"
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (
        f"{what}: {a.dtype}{a.shape} {b.dtype}{b.shape}"
    )
    # equal including NaN positions and the sign of zeros
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"), err_msg=what)


def raises(exc, fn, *words):
    """pytest.raises for a message that starts with ``fn: `` and then holds ``words`` in order."""
    pattern = "^" + re.escape(fn) + ": .*" + ".*".join(re.escape(w) for w in words)
    return pytest.raises(exc, match=pattern)


# --------------------------------------------------------------------------------------------
# scaled_dot_product_attention against the reference
# --------------------------------------------------------------------------------------------


def sdpa_scale(v) -> float:
    return float(np.max(np.abs(np.asarray(v, np.float64)), initial=0.0))


def check_sdpa(q, k, v, what: str = "", **kwargs):
    """foveal's scaled_dot_product_attention against the reference; returns foveal's result.
    The inputs must come back untouched."""
    before = [np.array(x, copy=True) for x in (q, k, v)]
    got = fnn.scaled_dot_product_attention(q, k, v, **kwargs)
    for x, b in zip((q, k, v), before, strict=True):
        assert_same(np.asarray(x), b, f"{what}: an input was modified")
    expected = ref.scaled_dot_product_attention(q, k, v, **kwargs)
    shapes = f"q{np.shape(q)} k{np.shape(k)} v{np.shape(v)}"
    desc = {
        n: (np.shape(m), np.asarray(m).dtype) if n == "attn_mask" else m for n, m in kwargs.items()
    }
    assert_close(got, expected, sdpa_scale(v), np.asarray(q).dtype, f"{what} {shapes} {desc}")
    return got


def qkv(rng, lead, l, s, e, ev, dtype, kv_lead=None):
    kv_lead = lead if kv_lead is None else kv_lead
    return (
        randn(rng, (*lead, l, e), dtype),
        randn(rng, (*kv_lead, s, e), dtype),
        randn(rng, (*kv_lead, s, ev), dtype),
    )


# (leading dims, L, S, E, Ev): every tile boundary of L and S, every width
SHAPES = [
    ((), 1, 1, 1, 1),
    ((), 1, 1, 128, 80),
    ((), 5, 9, 3, 17),
    ((2,), 1, 129, 16, 8),
    ((2,), 47, 1, 8, 3),
    ((3,), 48, 48, 16, 16),
    ((1, 2), 48, 128, 64, 64),
    ((2, 1), 49, 127, 17, 80),
    ((1, 1, 2), 96, 257, 128, 16),
    ((3,), 255, 48, 80, 1),
    ((), 257, 255, 1, 128),
    ((2,), 129, 49, 3, 17),
    ((), 48, 47, 16, 64),
    ((2, 2), 97, 129, 8, 8),
    ((1,), 127, 256, 64, 3),
    ((2, 1, 1), 31, 17, 17, 1),
    ((), 3, 300, 128, 128),
    ((1,), 300, 3, 80, 17),
]


def shape_id(shape) -> str:
    lead, l, s, e, ev = shape
    return "x".join(map(str, lead)) + f"-L{l}-S{s}-E{e}-Ev{ev}"


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_sdpa_shapes(shape, dtype):
    lead, l, s, e, ev = shape
    rng = case_rng(1, SHAPES.index(shape))
    q, k, v = qkv(rng, lead, l, s, e, ev, dtype)
    got = check_sdpa(q, k, v)
    assert got.shape == (*lead, l, ev)
    check_sdpa(q, k, v, is_causal=True)
    mask = rng.random((l, s)) < 0.7
    check_sdpa(q, k, v, attn_mask=mask)


def broadcast_shape(rng, lead, l, s) -> tuple[int, ...]:
    keep = int(rng.integers(0, len(lead) + 1))
    dims = [d if rng.random() < 0.5 else 1 for d in lead[len(lead) - keep :]]
    dims.append(l if rng.random() < 0.8 else 1)
    dims.append(s if rng.random() < 0.9 else 1)
    return tuple(dims)


def empty_some_rows(rng, mask: np.ndarray, empty) -> np.ndarray:
    """mask with some query rows set to ``empty`` everywhere, sometimes all of them."""
    mask = np.array(mask, copy=True)
    u = rng.random()
    if u < 0.3 and mask.ndim >= 2:
        rows = rng.random(mask.shape[-2]) < 0.4
        mask[..., rows, :] = empty
    elif u < 0.4:
        mask[...] = empty
    return mask


def sdpa_case(rng, dtype):
    """Random shapes from LENGTHS and WIDTHS (the work bounded), GQA, masks, causal, scales."""
    while True:
        lead = tuple(int(d) for d in rng.integers(1, 4, size=int(rng.integers(0, 4))))
        l, s = (int(x) for x in rng.choice(LENGTHS, 2))
        e, ev = (int(x) for x in rng.choice(WIDTHS, 2))
        if math.prod(lead) * l * s * (e + ev) <= 4_000_000:
            break
    kv_lead = lead
    gqa = len(lead) >= 1 and rng.random() < 0.3
    if gqa:
        groups, hkv = int(rng.choice([1, 2, 4])), int(rng.integers(1, 3))
        lead = (*lead[:-1], groups * hkv)
        kv_lead = (*lead[:-1], hkv)
    q, k, v = qkv(rng, lead, l, s, e, ev, dtype, kv_lead)
    kwargs = dict(enable_gqa=gqa)
    if rng.random() < 0.3:
        kwargs["scale"] = float(rng.uniform(0.05, 2.0)) / math.sqrt(e)
    kind = rng.choice(["none", "causal", "bool", "float"])
    if kind == "causal":
        kwargs["is_causal"] = True
    elif kind == "bool":
        mask = rng.random(broadcast_shape(rng, lead, l, s)) < 0.7
        kwargs["attn_mask"] = empty_some_rows(rng, mask, False)
    elif kind == "float":
        mask = randn(rng, broadcast_shape(rng, lead, l, s), dtype)
        mask[rng.random(mask.shape) < 0.2] = -np.inf
        kwargs["attn_mask"] = empty_some_rows(rng, mask, -np.inf)
    return q, k, v, kwargs


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(96))
def test_sdpa_random(case, dtype):
    q, k, v, kwargs = sdpa_case(case_rng(2, case), dtype)
    check_sdpa(q, k, v, f"case {case}", **kwargs)


def all_broadcast_shapes(lead, l, s):
    """Every shape that broadcasts to lead + (L, S) without extra leading dims: 0-d, then a
    trailing part of the leading dims (each kept or 1), L or 1 and S or 1."""
    shapes = [()]
    for keep in range(len(lead) + 1):
        tail = lead[len(lead) - keep :]
        for dims in itertools.product(*[(d, 1) for d in tail], (l, 1), (s, 1)):
            shapes.append(tuple(dims))
    return shapes


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_every_mask_broadcast(kind, dtype):
    """Masks of every broadcast shape against (2, 3, L, S), L and S across tiles; bool (True:
    takes part) and float (added, with -inf entries); some rows with no key left."""
    rng = case_rng(3, kind == "float")
    lead, l, s = (2, 3), 49, 130
    q, k, v = qkv(rng, lead, l, s, 8, 5, dtype)
    shapes = all_broadcast_shapes(lead, l, s)
    assert len(shapes) == 29
    for i, shape in enumerate(shapes):
        if kind == "bool":
            mask = np.asarray(rng.random(shape) < 0.6)
            if i % 3 == 0:
                mask = empty_some_rows(rng, mask, False)
        else:
            mask = randn(rng, shape, dtype)
            mask[rng.random(shape) < 0.2] = -np.inf
            if i % 3 == 0:
                mask = empty_some_rows(rng, mask, -np.inf)
        check_sdpa(q, k, v, f"mask {shape}", attn_mask=mask)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_rows_without_keys_give_zero(kind, dtype):
    """A query row whose keys are all masked gives 0 (torch's CPU kernel), whatever tile the
    keys lie in, and the other rows are unaffected; a mask of nothing at all gives zeros."""
    rng = case_rng(4, kind == "float")
    l, s = 60, 300  # three key tiles, two row tiles
    q, k, v = qkv(rng, (2,), l, s, 16, 7, dtype)
    keep = rng.random((2, l, s)) < 0.5
    keep[:, :, 0] = True
    keep[:, 5] = False  # no key at all
    keep[1, 50] = False  # no key at all, second row tile, second batch item only
    keep[:, 7] = False
    keep[:, 7, 299] = True  # only the very last key (third tile)
    keep[:, 8] = False
    keep[:, 8, 128] = True  # only the first key of the second tile
    mask = keep if kind == "bool" else np.where(keep, randn(rng, (2, l, s), dtype), -np.inf)
    mask = mask.astype(bool if kind == "bool" else dtype)
    got = check_sdpa(q, k, v, attn_mask=mask)
    assert np.all(got[:, 5] == 0) and np.all(got[1, 50] == 0) and np.isfinite(got).all()
    assert not np.any(got[0, 50] == 0)
    np.testing.assert_allclose(got[:, 7], v[:, 299], rtol=RTOL[np.dtype(dtype)])
    np.testing.assert_allclose(got[:, 8], v[:, 128], rtol=RTOL[np.dtype(dtype)])
    nothing = np.zeros((l, s), bool) if kind == "bool" else np.full((l, s), -np.inf, dtype)
    got = fnn.scaled_dot_product_attention(q, k, v, attn_mask=nothing)
    assert got.shape == (2, l, 7) and np.all(got == 0)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_sdpa_inf_and_nan_mask_entries(dtype):
    """A +inf or NaN mask entry makes its row NaN (torch's inf - inf; NaN propagates), in
    every key tile; the other rows are untouched; -inf is simply a masked key."""
    rng = case_rng(5)
    l, s = 12, 300
    q, k, v = qkv(rng, (2,), l, s, 8, 5, dtype)
    mask = randn(rng, (l, s), dtype)
    mask[0, 3] = np.inf  # first tile
    mask[1, 200] = np.inf  # third tile, after finite tiles
    mask[2, 5] = np.nan
    mask[3, 260] = np.nan
    mask[4, :] = -np.inf
    mask[4, 130] = np.inf  # the only unmasked key is +inf
    mask[5, :200] = -np.inf
    mask[5, 200] = np.nan  # NaN after all-masked tiles
    mask[6, 0] = np.inf
    mask[6, 1] = np.nan
    mask[7, ::2] = -np.inf
    got = check_sdpa(q, k, v, attn_mask=mask)
    assert np.isnan(got[:, :7]).all()
    assert np.isfinite(got[:, 7:]).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_sdpa_extreme_finite_mask_values(dtype):
    """Finite float masks at the ends of the dtype's range are finite additions, not -inf /
    +inf: a row padded with finfo(dtype).min everywhere (the usual additive padding mask) is a
    softmax of equal scores, the mean of the values (torch and the reference), not an empty
    row; a finfo.max entry takes the whole weight, without NaN."""
    rng = case_rng(35, dtype == np.float64)
    l, s = 6, 140
    q, k, v = qkv(rng, (2,), l, s, 8, 3, dtype)
    low, high = np.finfo(dtype).min, np.finfo(dtype).max
    mask = randn(rng, (l, s), dtype)
    mask[0] = low  # every key at the lowest finite value
    mask[1, :100] = low  # only the keys of the second tile are not
    mask[2, 7] = high
    mask[3, 137] = high
    mask[4] = low
    mask[4, 50] = high
    mask[5] = -1e30 if dtype == np.float32 else -1e300
    got = check_sdpa(q, k, v, "extreme mask", attn_mask=mask)
    mean = v.astype(np.float64).mean(axis=-2)
    assert_close(got[:, 0], mean, sdpa_scale(v), dtype, "finfo.min row is the mean")
    assert np.isfinite(got).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(
    ("l", "s"),
    [(1, 1), (1, 300), (300, 1), (47, 129), (48, 48), (49, 48), (130, 130), (257, 49), (49, 257)],
)
def test_sdpa_causal(l, s, dtype):
    """is_causal: query i sees keys j <= i, top-left aligned (L < S: the last keys are seen
    by nobody; L > S: every row sees key 0); equal to the explicit tril mask."""
    rng = case_rng(6, 1000 * l + s)
    q, k, v = qkv(rng, (2, 1), l, s, 17, 9, dtype)
    got = check_sdpa(q, k, v, is_causal=True)
    tril = np.tril(np.ones((l, s), dtype=bool))
    explicit = fnn.scaled_dot_product_attention(q, k, v, attn_mask=tril)
    assert_close(got, explicit, sdpa_scale(v), dtype, "causal vs tril mask")
    np.testing.assert_array_equal(
        got[..., 0, :], np.broadcast_to(v[..., 0, :], got[..., 0, :].shape)
    )
    if l < s:  # the keys past L take part nowhere
        v2 = v.copy()
        v2[..., l:, :] = 1e6
        assert_same(fnn.scaled_dot_product_attention(q, k, v2, is_causal=True), got)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("ndim", [3, 4, 5])
@pytest.mark.parametrize("groups", [1, 2, 4])
def test_sdpa_gqa(groups, ndim, dtype):
    """enable_gqa: query head h reads key / value head h // groups; equal (bit for bit) to the
    keys and values repeated per query head."""
    rng = case_rng(7, 10 * groups + ndim)
    hkv, l, s = 3, 50, 140
    lead = (2, 1)[: ndim - 3]
    q = randn(rng, (*lead, groups * hkv, l, 16), dtype)
    k = randn(rng, (*lead, hkv, s, 16), dtype)
    v = randn(rng, (*lead, hkv, s, 5), dtype)
    mask = rng.random((l, s)) < 0.7
    fmask = randn(rng, (groups * hkv, 1, s), dtype)
    for kwargs in (
        dict(),
        dict(is_causal=True),
        dict(attn_mask=mask, scale=0.1),
        dict(attn_mask=fmask),
    ):
        got = check_sdpa(q, k, v, f"groups {groups}", enable_gqa=True, **kwargs)
        repeated = fnn.scaled_dot_product_attention(
            q, np.repeat(k, groups, axis=-3), np.repeat(v, groups, axis=-3), **kwargs
        )
        assert_same(got, repeated, f"gqa groups={groups} {list(kwargs)}")


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_sdpa_scale(dtype):
    """scale=None is 1/sqrt(E); 0 gives the plain mean of the values; ints, NumPy scalars and
    negative scales are scales."""
    rng = case_rng(8)
    q, k, v = qkv(rng, (2,), 20, 150, 16, 6, dtype)
    default = check_sdpa(q, k, v)
    assert_same(fnn.scaled_dot_product_attention(q, k, v, scale=0.25), default)
    for scale in (0.0, 0, 0.3, -0.2, 1, np.float32(0.125), np.float64(0.4)):
        check_sdpa(q, k, v, f"scale {scale!r}", scale=scale)
    zero = fnn.scaled_dot_product_attention(q, k, v, scale=0.0)
    mean = np.broadcast_to(v.astype(np.float64).mean(axis=-2, keepdims=True), zero.shape)
    assert_close(zero, mean, sdpa_scale(v), dtype, "scale 0")
    # a large scale on a small E is a hard max
    q1 = np.eye(3, 4, dtype=dtype)[None]
    k1 = np.eye(3, 4, dtype=dtype)[None]
    v1 = randn(rng, (1, 3, 2), dtype)
    hard = fnn.scaled_dot_product_attention(q1, k1, v1, scale=80.0)
    np.testing.assert_allclose(hard, v1, rtol=RTOL[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_sdpa_out(dtype):
    """out=: written and returned for a contiguous out, a strided or F-order one, and one that
    aliases query or value (computed before it is overwritten); bit for bit the plain result."""
    rng = case_rng(9)
    q, k, v = qkv(rng, (2, 3), 50, 50, 8, 8, dtype)
    mask = rng.random((50, 50)) < 0.7
    plain = fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out = np.full(plain.shape, np.nan, dtype)
    assert fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask, out=out) is out
    assert_same(out, plain, "contiguous out")
    big = np.full((2, 3, 50, 16), 7.0, dtype)
    strided = big[..., ::2]
    assert fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask, out=strided) is strided
    assert_same(np.ascontiguousarray(strided), plain, "strided out")
    assert np.all(big[..., 1::2] == 7.0)
    fortran = np.asfortranarray(np.zeros(plain.shape, dtype))
    assert fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask, out=fortran) is fortran
    assert_same(np.ascontiguousarray(fortran), plain, "F-order out")
    neg = np.zeros(plain.shape, dtype)[:, ::-1]
    assert fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask, out=neg) is neg
    assert_same(np.ascontiguousarray(neg), plain, "negative-stride out")
    for name in ("query", "key", "value"):
        qq, kk, vv = q.copy(), k.copy(), v.copy()
        target = {"query": qq, "key": kk, "value": vv}[name]
        got = fnn.scaled_dot_product_attention(qq, kk, vv, attn_mask=mask, out=target)
        assert got is target
        assert_same(target, plain, f"out aliasing {name}")
    # out overlapping query partly (a shifted view of the same buffer)
    buf = np.concatenate([q, q[:, :, :1]], axis=2)
    shifted = buf[:, :, 1:]
    got = fnn.scaled_dot_product_attention(buf[:, :, :50], k, v, attn_mask=mask, out=shifted)
    assert got is shifted
    assert_same(np.ascontiguousarray(shifted), plain, "out overlapping query")
    # a 2-D call into out
    out2 = np.empty((50, 8), dtype)
    fnn.scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0], attn_mask=mask, out=out2)
    assert_same(out2, plain[0, 0], "2-D out")


LAYOUTS = {
    "strided": lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
    "neg_rows": lambda a: np.ascontiguousarray(a[..., ::-1, :])[..., ::-1, :],
    "neg_cols": lambda a: np.ascontiguousarray(a[..., ::-1])[..., ::-1],
    "neg_lead": lambda a: np.ascontiguousarray(a[::-1])[::-1],
    "fortran": np.asfortranarray,
    "transposed": lambda a: np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2),
    "lead_permuted": lambda a: np.ascontiguousarray(np.moveaxis(a, 0, -1)).transpose(3, 0, 1, 2),
    "big_endian": lambda a: a.astype(a.dtype.newbyteorder(">")),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_sdpa_layouts(layout, dtype):
    """Strided, negative-stride, F-order, permuted and byte-swapped query / key / value (and
    masks) give bit for bit the result of contiguous ones."""
    rng = case_rng(10)
    q, k, v = qkv(rng, (2, 3), 50, 140, 17, 9, dtype)
    bmask = rng.random((2, 3, 50, 140)) < 0.6
    fmask = randn(rng, (2, 3, 50, 140), dtype)
    view = LAYOUTS[layout]
    for kwargs in (dict(), dict(is_causal=True), dict(attn_mask=bmask)):
        plain = fnn.scaled_dot_product_attention(q, k, v, **kwargs)
        got = fnn.scaled_dot_product_attention(view(q), view(k), view(v), **kwargs)
        assert got.flags.c_contiguous
        assert_same(got, plain, f"{layout} q, k, v {list(kwargs)}")
        for which in range(3):
            args = [q, k, v]
            args[which] = view(args[which])
            assert_same(fnn.scaled_dot_product_attention(*args, **kwargs), plain, layout)
    # masks of other layouts: the same values (read through their strides)
    for mask in (bmask, fmask):
        plain = fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        got = fnn.scaled_dot_product_attention(q, k, v, attn_mask=view(mask))
        assert_close(got, plain, sdpa_scale(v), dtype, f"{layout} mask {mask.dtype}")


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_sdpa_two_dimensional(dtype):
    """2-D input (L, E): one head, with masks and causal; the same as a (1, L, E) call."""
    rng = case_rng(11)
    q, k, v = qkv(rng, (), 97, 200, 17, 16, dtype)
    mask = rng.random((97, 200)) < 0.5
    for kwargs in (dict(), dict(is_causal=True), dict(attn_mask=mask), dict(enable_gqa=True)):
        got = check_sdpa(q, k, v, "2-D", **kwargs)
        assert got.shape == (97, 16)
        batched = fnn.scaled_dot_product_attention(q[None], k[None], v[None], **kwargs)
        assert_same(got, batched[0], f"2-D vs 3-D {list(kwargs)}")


# --------------------------------------------------------------------------------------------
# a large case: many row tiles and key tiles
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_sdpa_large(dtype):
    rng = case_rng(12)
    q, k, v = qkv(rng, (1, 2), 600, 600, 64, 64, dtype)
    check_sdpa(q, k, v, "large causal", is_causal=True)
    bmask = rng.random((1, 2, 600, 600)) < 0.3
    bmask[0, 1, 333] = False
    got = check_sdpa(q, k, v, "large bool mask", attn_mask=bmask)
    assert np.all(got[0, 1, 333] == 0)
    fmask = randn(rng, (600, 600), dtype, 2.0)
    fmask[rng.random((600, 600)) < 0.4] = -np.inf
    check_sdpa(q, k, v, "large float mask", attn_mask=fmask)
    check_sdpa(q[..., :577, :], k, v[..., :40], "large L < S causal", is_causal=True)


# --------------------------------------------------------------------------------------------
# torch tensors, and torch itself
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: the pool only adds latency
    yield torch
    torch.set_num_threads(threads)


def tt(torch, x):
    return None if x is None else torch.from_numpy(np.ascontiguousarray(x))


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_sdpa_torch_tensors(torch, dtype):
    """torch tensors in (contiguous or not, masks too) give a torch tensor out, the values of
    the NumPy call; out= a torch tensor is written and returned."""
    rng = case_rng(13)
    q, k, v = qkv(rng, (2, 2), 50, 130, 16, 8, dtype)
    mask = rng.random((50, 130)) < 0.6
    plain = fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    got = fnn.scaled_dot_product_attention(
        tt(torch, q), tt(torch, k), tt(torch, v), tt(torch, mask)
    )
    assert isinstance(got, torch.Tensor) and got.dtype == tt(torch, q).dtype
    assert_same(got.numpy(), plain, "torch in")
    qt = tt(torch, np.ascontiguousarray(np.swapaxes(q, -1, -2))).transpose(-1, -2)
    assert not qt.is_contiguous()
    got = fnn.scaled_dot_product_attention(
        qt, tt(torch, k), tt(torch, v), attn_mask=tt(torch, mask)
    )
    assert_same(got.numpy(), plain, "non-contiguous torch in")
    out = torch.empty(plain.shape, dtype=got.dtype)
    res = fnn.scaled_dot_product_attention(
        tt(torch, q), tt(torch, k), tt(torch, v), tt(torch, mask), out=out
    )
    assert res is out
    assert_same(out.numpy(), plain, "torch out")


def torch_sdpa(torch, q, k, v, **kwargs):
    if kwargs.get("attn_mask") is not None:
        kwargs = dict(kwargs, attn_mask=tt(torch, kwargs["attn_mask"]))
    return torch.nn.functional.scaled_dot_product_attention(
        tt(torch, q), tt(torch, k), tt(torch, v), **kwargs
    ).numpy()


TORCH_CASES = [
    # (leading dims, L, S, E, Ev, kwargs maker)
    ((2, 3), 49, 130, 16, 16, lambda rng, l, s, dt: dict()),
    ((2, 3), 49, 130, 16, 16, lambda rng, l, s, dt: dict(is_causal=True)),
    ((1, 2), 130, 49, 64, 64, lambda rng, l, s, dt: dict(is_causal=True)),
    ((3,), 17, 257, 8, 3, lambda rng, l, s, dt: dict(scale=0.3)),
    ((), 48, 128, 17, 80, lambda rng, l, s, dt: dict(scale=0.0)),
    ((2, 2), 47, 129, 16, 16, lambda rng, l, s, dt: dict(attn_mask=rng.random((l, s)) < 0.5)),
    (
        (2, 2),
        47,
        129,
        16,
        16,
        lambda rng, l, s, dt: dict(
            attn_mask=empty_some_rows(rng, randn(rng, (2, 1, l, s), dt), -np.inf)
        ),
    ),
    ((2, 4), 33, 65, 8, 8, lambda rng, l, s, dt: dict(enable_gqa=True, is_causal=True)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(len(TORCH_CASES)))
def test_sdpa_against_torch(torch, case, dtype):
    lead, l, s, e, ev, make = TORCH_CASES[case]
    rng = case_rng(14, case)
    kv_lead = lead
    kwargs = make(rng, l, s, dtype)
    if kwargs.get("enable_gqa"):
        kv_lead = (*lead[:-1], lead[-1] // 2)
    q, k, v = qkv(rng, lead, l, s, e, ev, dtype, kv_lead)
    if "attn_mask" in kwargs and kwargs["attn_mask"].dtype == np.bool_:
        kwargs["attn_mask"][..., 3, :] = False  # a row with no key: 0 in both
    got = fnn.scaled_dot_product_attention(q, k, v, **kwargs)
    expected = torch_sdpa(
        torch,
        q.astype(np.float64),
        k.astype(np.float64),
        v.astype(np.float64),
        **{
            n: (m.astype(np.float64) if isinstance(m, np.ndarray) and m.dtype != np.bool_ else m)
            for n, m in kwargs.items()
        },
    )
    assert_close(got, expected, sdpa_scale(v), dtype, f"torch case {case}")
    same_dtype = torch_sdpa(torch, q, k, v, **kwargs)  # torch's own float32 / float64 kernel
    assert_close(got, same_dtype, 2 * sdpa_scale(v), dtype, f"torch {dtype_id(dtype)} case {case}")


def test_sdpa_inf_nan_mask_like_torch(torch):
    rng = case_rng(15)
    q, k, v = qkv(rng, (2,), 6, 140, 8, 4, np.float64)
    mask = randn(rng, (6, 140))
    mask[0, 2] = np.inf
    mask[1, 135] = np.nan
    mask[2] = -np.inf
    mask[3, :139] = -np.inf
    mask[3, 139] = np.inf
    got = fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    expected = torch_sdpa(torch, q, k, v, attn_mask=mask)
    assert_close(got, expected, sdpa_scale(v), np.float64, "inf / NaN mask vs torch")


# --------------------------------------------------------------------------------------------
# instruction sets and threads
# --------------------------------------------------------------------------------------------


def sdpa_workload(dtype):
    """(name, call, reference, scale) across the kernel's paths."""
    rng = case_rng(16, dtype == np.float64)
    q, k, v = qkv(rng, (2, 2), 130, 257, 17, 33, dtype)
    q1, k1, v1 = qkv(rng, (), 1, 1, 1, 1, dtype)
    qg = randn(rng, (1, 4, 97, 64), dtype)
    kg, vg = randn(rng, (1, 2, 129, 64), dtype), randn(rng, (1, 2, 129, 80), dtype)
    bmask = rng.random((2, 1, 130, 257)) < 0.5
    bmask[0, 0, 7] = False
    fmask = randn(rng, (130, 257), dtype)
    fmask[rng.random(fmask.shape) < 0.3] = -np.inf
    f = fnn.scaled_dot_product_attention
    cases = [
        ("plain", (q, k, v), dict()),
        ("causal", (q, k, v), dict(is_causal=True)),
        ("bool mask", (q, k, v), dict(attn_mask=bmask)),
        ("float mask", (q, k, v), dict(attn_mask=fmask, scale=0.1)),
        ("one", (q1, k1, v1), dict()),
        ("gqa causal", (qg, kg, vg), dict(is_causal=True, enable_gqa=True)),
        ("L > S causal", (v[..., :3], k[..., :100, :3], q[..., :100, :]), dict(is_causal=True)),
    ]
    return [
        (
            name,
            (lambda a=args, kw=kw: f(*a, **kw)),
            ref.scaled_dot_product_attention(*args, **kw),
            sdpa_scale(args[2]),
        )
        for name, args, kw in cases
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("isa", foveal._core.supported_isas())
def test_isa_matches_reference(restore_isa, isa, dtype):
    cases = sdpa_workload(dtype)
    default = [f() for _, f, _, _ in cases]
    foveal.set_isa(isa)
    assert foveal.get_isa() == isa
    for (name, f, expected, scale), base in zip(cases, default, strict=True):
        got = f()
        what = f"{name} under {isa} (default {restore_isa})"
        assert_close(got, expected, scale, dtype, what)
        assert_close(got, base, 2 * scale, dtype, what + " vs default")
    # the forms built on it follow too
    rng = case_rng(17)
    x = randn(rng, (2, 60, 8), dtype)
    w_in, w_out = randn(rng, (24, 8), dtype, 0.35), randn(rng, (8, 8), dtype, 0.35)
    out, _ = fnn.multi_head_attention(x, x, x, 2, w_in, None, w_out, None)
    expected, _ = ref.multi_head_attention(x, x, x, 2, w_in, None, w_out, None)
    assert_close(out, expected, mha_scale(x, w_in, None, w_out, None), dtype, f"mha under {isa}")


def test_thread_count_does_not_change_results():
    work = [f for dtype in DTYPES for _, f, _, _ in sdpa_workload(dtype)]
    rng = case_rng(18)
    q, k, v = qkv(rng, (1, 2), 600, 600, 64, 64, np.float32)
    mask = rng.random((600, 600)) < 0.5
    work.append(lambda: fnn.scaled_dot_product_attention(q, k, v, is_causal=True))
    work.append(lambda: fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    default = [f() for f in work]
    for n in (1, 2, 3):
        with foveal.num_threads(n):
            for i, f in enumerate(work):
                assert_same(f(), default[i], f"call {i} with {n} threads")


def test_concurrent_python_threads():
    """Several Python threads calling scaled_dot_product_attention (and multi-head attention)
    at once get the answers of serial calls."""
    rng = case_rng(19)
    jobs = []
    for i in range(12):
        dtype = DTYPES[i % 2]
        l, s = int(rng.choice([17, 49, 130])), int(rng.choice([1, 48, 129, 200]))
        q, k, v = qkv(rng, (2, 2), l, s, 16, 8, dtype)
        kwargs = [dict(), dict(is_causal=True), dict(attn_mask=rng.random((l, s)) < 0.5)][i % 3]
        jobs.append((q, k, v, kwargs))
    x = randn(rng, (2, 40, 8), np.float32)
    w_in, w_out = randn(rng, (24, 8), np.float32, 0.35), randn(rng, (8, 8), np.float32, 0.35)

    def work(i):
        if i % 5 == 4:
            return fnn.multi_head_attention(x, x, x, 4, w_in, None, w_out, None)
        q, k, v, kwargs = jobs[i % len(jobs)]
        return fnn.scaled_dot_product_attention(q, k, v, **kwargs)

    mha = work(4)
    serial = [fnn.scaled_dot_product_attention(q, k, v, **kw) for q, k, v, kw in jobs]
    for q, k, v, kwargs in jobs:
        check_sdpa(q, k, v, "concurrency job", **kwargs)
    indices = list(range(120))
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, indices))
    for i, got in zip(indices, results, strict=True):
        assert_same(got, mha if i % 5 == 4 else serial[i % len(jobs)], f"call {i}")


# --------------------------------------------------------------------------------------------
# multi_head_attention
# --------------------------------------------------------------------------------------------


def mha_weights(rng, d, bias, dtype):
    return dict(
        in_proj_weight=randn(rng, (3 * d, d), dtype, 1 / math.sqrt(d)),
        in_proj_bias=randn(rng, 3 * d, dtype) if bias else None,
        out_proj_weight=randn(rng, (d, d), dtype, 1 / math.sqrt(d)),
        out_proj_bias=randn(rng, d, dtype) if bias else None,
    )


def mha_scale(value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias) -> float:
    """A bound of |output|: max |v-projection| * max row sum |W_o| + max |b_o|."""
    d = out_proj_weight.shape[0]
    wv = np.abs(np.asarray(in_proj_weight, np.float64)[2 * d :])
    vh = np.abs(np.asarray(value, np.float64)) @ wv.T
    if in_proj_bias is not None:
        vh = vh + np.abs(np.asarray(in_proj_bias, np.float64)[2 * d :])
    bound = float(vh.max()) * float(np.abs(out_proj_weight).sum(axis=1).max())
    if out_proj_bias is not None:
        bound += float(np.abs(out_proj_bias).max())
    return bound


def mha_mask(rng, kind: str, shape, dtype) -> np.ndarray:
    """A bool (True = masked OUT) or float (additive, some -inf) mask."""
    if kind == "bool":
        return empty_some_rows(rng, rng.random(shape) < 0.3, True)
    mask = randn(rng, shape, dtype)
    mask[rng.random(shape) < 0.2] = -np.inf
    return empty_some_rows(rng, mask, -np.inf)


def mha_case(rng, dtype):
    h = int(rng.choice([1, 2, 3, 4]))
    d = h * int(rng.choice([1, 2, 3, 5, 16]))
    unbatched = rng.random() < 0.2
    n = 1 if unbatched else int(rng.integers(1, 4))
    l = int(rng.choice([1, 2, 5, 9, 48, 49, 70]))
    s = l if rng.random() < 0.3 else int(rng.choice([1, 3, 8, 128, 130]))
    query = randn(rng, (n, l, d), dtype)
    key = query if s == l and rng.random() < 0.5 else randn(rng, (n, s, d), dtype)
    value = key if rng.random() < 0.5 else randn(rng, (n, s, d), dtype)
    kwargs = dict(need_weights=bool(rng.random() < 0.5))
    u = rng.random()
    if u < 0.2:  # the is_causal hint with the causal mask it promises
        causal = ~np.tril(np.ones((l, s), dtype=bool))
        kwargs["is_causal"] = True
        kwargs["attn_mask"] = causal if rng.random() < 0.5 else np.where(causal, -np.inf, 0.0)
    elif u < 0.7:
        shape = (l, s) if rng.random() < 0.5 else (n * h, l, s)
        kwargs["attn_mask"] = mha_mask(rng, str(rng.choice(["bool", "float"])), shape, dtype)
    if rng.random() < 0.5:
        kwargs["key_padding_mask"] = mha_mask(
            rng, str(rng.choice(["bool", "float"])), (n, s), dtype
        )
    if unbatched:
        query, key, value = query[0], key[0], value[0]
        if "key_padding_mask" in kwargs:
            kwargs["key_padding_mask"] = kwargs["key_padding_mask"][0]
    return h, bool(rng.random() < 0.7), query, key, value, kwargs


def check_mha(query, key, value, h, weights, what="", **kwargs):
    out, avg = fnn.multi_head_attention(query, key, value, h, **weights, **kwargs)
    e_out, e_avg = ref.multi_head_attention(query, key, value, h, **weights, **kwargs)
    dtype = query.dtype
    scale = mha_scale(value, **weights)
    assert_close(out, e_out, scale, dtype, f"{what} mha output")
    if kwargs.get("need_weights"):
        assert_close(avg, e_avg, 1.0, dtype, f"{what} mha weights")
    else:
        assert avg is None
    return out, avg


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(40))
def test_mha_random(case, dtype):
    rng = case_rng(20, case)
    h, bias, query, key, value, kwargs = mha_case(rng, dtype)
    weights = mha_weights(rng, query.shape[-1], bias, dtype)
    check_mha(query, key, value, h, weights, f"case {case}", **kwargs)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_rows_without_keys(need_weights, dtype):
    """A query with every key masked: out_proj_bias with need_weights=False (attention 0),
    NaN in its output row and weights with need_weights=True (as torch)."""
    rng = case_rng(21)
    n, l, s, d, h = 2, 50, 130, 8, 2
    weights = mha_weights(rng, d, True, dtype)
    query, key = randn(rng, (n, l, d), dtype), randn(rng, (n, s, d), dtype)
    attn = np.zeros((l, s), bool)
    attn[3] = True
    pad = np.zeros((n, s), bool)
    pad[1] = True
    for kwargs in (dict(attn_mask=attn), dict(key_padding_mask=pad)):
        empty = (slice(None), 3) if "attn_mask" in kwargs else (1,)
        out, avg = check_mha(query, key, key, h, weights, need_weights=need_weights, **kwargs)
        if need_weights:
            assert np.isnan(out[empty]).all() and np.isnan(avg[empty]).all()
        else:
            expected = np.broadcast_to(weights["out_proj_bias"], out[empty].shape)
            assert_close(out[empty], expected, 1.0, dtype, "empty row is the bias")
            assert np.isfinite(out).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_mha_is_causal_hint(dtype):
    """is_causal with need_weights=False and no key_padding_mask: the causal mask replaces
    attn_mask (torch's hint); otherwise attn_mask is used. Without attn_mask: ValueError."""
    rng = case_rng(22)
    n, l, s, d, h = 2, 60, 140, 12, 3
    weights = mha_weights(rng, d, True, dtype)
    query, key = randn(rng, (n, l, d), dtype), randn(rng, (n, s, d), dtype)
    not_causal = rng.random((l, s)) < 0.3
    pad = rng.random((n, s)) < 0.2
    causal_out, _ = check_mha(query, key, key, h, weights, attn_mask=not_causal, is_causal=True)
    tril = ~np.tril(np.ones((l, s), bool))
    explicit, _ = fnn.multi_head_attention(query, key, key, h, **weights, attn_mask=tril)
    assert_close(causal_out, explicit, mha_scale(key, **weights), dtype, "hint = causal")
    plain, _ = fnn.multi_head_attention(query, key, key, h, **weights, attn_mask=not_causal)
    assert not np.allclose(causal_out, plain)
    for kwargs in (dict(key_padding_mask=pad), dict(need_weights=True)):
        got, _ = check_mha(
            query, key, key, h, weights, attn_mask=not_causal, is_causal=True, **kwargs
        )
        without, _ = fnn.multi_head_attention(
            query, key, key, h, **weights, attn_mask=not_causal, **kwargs
        )
        assert_same(got, without, f"is_causal ignored with {list(kwargs)}")
    with raises(ValueError, "multi_head_attention", "is_causal", "attn_mask"):
        fnn.multi_head_attention(query, key, key, h, **weights, is_causal=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_mha_unbatched_and_forms(dtype):
    """Unbatched input gives the batched result's first item; (L, S) and (N*H, L, S) masks,
    bool / float key_padding_mask ((S,) unbatched), no biases."""
    rng = case_rng(23)
    l, s, d, h = 50, 129, 8, 4
    weights = mha_weights(rng, d, False, dtype)
    query, key, value = (randn(rng, shape, dtype) for shape in ((l, d), (s, d), (s, d)))
    kwargs = dict(
        attn_mask=randn(rng, (h, l, s), dtype),
        key_padding_mask=rng.random(s) < 0.3,
        need_weights=True,
    )
    out, avg = check_mha(query, key, value, h, weights, "unbatched", **kwargs)
    assert out.shape == (l, d) and avg.shape == (l, s)
    batched = dict(kwargs, key_padding_mask=kwargs["key_padding_mask"][None])
    out_b, avg_b = fnn.multi_head_attention(
        query[None], key[None], value[None], h, **weights, **batched
    )
    assert_same((out, avg), (out_b[0], avg_b[0]), "unbatched vs batched")
    for need in (False, True):
        kw = dict(attn_mask=rng.random((l, s)) < 0.2, key_padding_mask=randn(rng, s, dtype))
        out, avg = check_mha(query, key, value, h, weights, need_weights=need, **kw)
        assert (avg is None) == (not need)


def torch_mha_module(torch, d, h, bias, weights, dtype):
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    m = torch.nn.MultiheadAttention(d, h, bias=bias, batch_first=True, dtype=tdtype)
    with torch.no_grad():
        m.in_proj_weight.copy_(tt(torch, weights["in_proj_weight"]))
        m.out_proj.weight.copy_(tt(torch, weights["out_proj_weight"]))
        if bias:
            m.in_proj_bias.copy_(tt(torch, weights["in_proj_bias"]))
            m.out_proj.bias.copy_(tt(torch, weights["out_proj_bias"]))
    m.train()  # dropout 0: the same numbers, without the inference fast path
    return m


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(24))
def test_mha_against_torch(torch, case, dtype):
    rng = case_rng(24, case)
    h, bias, query, key, value, kwargs = mha_case(rng, dtype)
    d = query.shape[-1]
    weights = mha_weights(rng, d, bias, dtype)
    module = torch_mha_module(torch, d, h, bias, weights, dtype)
    out, avg = fnn.multi_head_attention(query, key, value, h, **weights, **kwargs)
    masks = {m: tt(torch, kwargs.get(m)) for m in ("attn_mask", "key_padding_mask")}
    with torch.no_grad():
        e_out, e_avg = module(
            tt(torch, query),
            tt(torch, key),
            tt(torch, value),
            **masks,
            need_weights=kwargs["need_weights"],
            is_causal=kwargs.get("is_causal", False),
        )
    scale = mha_scale(value, **weights)
    assert_close(out, e_out.numpy(), 3 * scale, dtype, f"torch mha case {case}")
    if kwargs["need_weights"]:
        assert_close(avg, e_avg.numpy(), 3.0, dtype, f"torch mha weights case {case}")
    else:
        assert avg is None and e_avg is None


def test_mha_torch_tensors(torch):
    rng = case_rng(25)
    weights = mha_weights(rng, 8, True, np.float32)
    x = randn(rng, (2, 30, 8), np.float32)
    plain = fnn.multi_head_attention(x, x, x, 2, **weights, need_weights=True)
    tw = {n: tt(torch, w) for n, w in weights.items()}
    got = fnn.multi_head_attention(
        tt(torch, x), tt(torch, x), tt(torch, x), 2, **tw, need_weights=True
    )
    assert all(isinstance(r, torch.Tensor) for r in got)
    assert_same(tuple(r.numpy() for r in got), plain, "mha torch in")


# --------------------------------------------------------------------------------------------
# additive, Luong and self-attentive forms
# --------------------------------------------------------------------------------------------


def pool_mask(rng, shape):
    """None a third of the time, else a bool mask (True = takes part) with some empty rows."""
    if rng.random() < 0.33:
        return None
    return empty_some_rows(rng, rng.random(shape) < 0.7, False)


def pool_inputs(rng, dtype):
    n, s = int(rng.integers(1, 4)), int(rng.choice([1, 2, 5, 17, 130]))
    dq, dk, dv, hidden = (int(x) for x in rng.choice([1, 3, 8, 17], size=4))
    query = randn(rng, (n, dq), dtype, 1 / math.sqrt(dq))
    keys = randn(rng, (n, s, dk), dtype, 1 / math.sqrt(dk))
    values = randn(rng, (n, s, dv), dtype)
    return n, s, dq, dk, hidden, query, keys, values, pool_mask(rng, (n, s))


def check_pool(rng, fn, ref_fn, args, mask, dtype, what):
    """fn against ref_fn, batched and unbatched (first item); the weights of a row with no key
    are 0 and so is its context."""
    query, keys, values, *rest = args
    kwargs = rest[0] if rest else {}
    context, weights = fn(query, keys, values, mask=mask, **kwargs)
    e_context, e_weights = ref_fn(query, keys, values, mask=mask, **kwargs)
    assert_close(weights, e_weights, 1.0, dtype, f"{what} weights")
    assert_close(context, e_context, sdpa_scale(values), dtype, f"{what} context")
    if mask is not None:
        empty = ~mask.any(axis=1)
        assert np.all(weights[empty] == 0) and np.all(context[empty] == 0)
        assert np.all(weights[~mask] == 0)
    one = None if mask is None else mask[0]
    c1, w1 = fn(query[0], keys[0], values[0], mask=one, **kwargs)
    assert c1.shape == context.shape[1:] and w1.shape == weights.shape[1:]
    e_c1, e_w1 = ref_fn(query[0], keys[0], values[0], mask=one, **kwargs)
    assert_close(w1, e_w1, 1.0, dtype, f"{what} unbatched weights")
    assert_close(c1, e_c1, sdpa_scale(values), dtype, f"{what} unbatched context")


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(20))
def test_additive_attention(case, dtype):
    rng = case_rng(30, case)
    n, s, dq, dk, hid, query, keys, values, mask = pool_inputs(rng, dtype)
    kwargs = dict(
        w_query=randn(rng, (hid, dq), dtype),
        w_key=randn(rng, (hid, dk), dtype),
        v=randn(rng, hid, dtype, 1 / math.sqrt(hid)),
    )
    check_pool(
        rng,
        fnn.additive_attention,
        ref.additive_attention,
        (query, keys, values, kwargs),
        mask,
        dtype,
        f"additive case {case}",
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("score", ["dot", "general", "concat"])
@pytest.mark.parametrize("case", range(12))
def test_luong_attention(case, score, dtype):
    rng = case_rng(31, case)
    n, s, dq, dk, hid, query, keys, values, mask = pool_inputs(rng, dtype)
    kwargs = dict(score=score)
    if score == "dot":
        keys = randn(rng, (n, s, dq), dtype, 1 / math.sqrt(dq))
    elif score == "general":
        kwargs["weight"] = randn(rng, (dk, dq), dtype)
    else:
        kwargs["weight"] = randn(rng, (hid, dq + dk), dtype)
        kwargs["v"] = randn(rng, hid, dtype, 1 / math.sqrt(hid))
    check_pool(
        rng,
        fnn.luong_attention,
        ref.luong_attention,
        (query, keys, values, kwargs),
        mask,
        dtype,
        f"luong {score} case {case}",
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("case", range(20))
def test_self_attentive_pooling(case, dtype):
    rng = case_rng(32, case)
    n, steps = int(rng.integers(1, 4)), int(rng.choice([1, 2, 7, 50, 130]))
    d, da, r = (int(x) for x in rng.choice([1, 3, 8, 17], size=3))
    hidden = randn(rng, (n, steps, d), dtype)
    w1 = randn(rng, (da, d), dtype, 1 / math.sqrt(d))
    w2 = randn(rng, (r, da), dtype, 1 / math.sqrt(da))
    mask = pool_mask(rng, (n, steps))
    m, a, penalty = fnn.self_attentive_pooling(hidden, w1, w2, mask=mask)
    e_m, e_a, e_p = ref.self_attentive_pooling(hidden, w1, w2, mask=mask)
    what = f"self-attentive case {case}"
    assert_close(a, e_a, 1.0, dtype, what + " A")
    assert_close(m, e_m, sdpa_scale(hidden), dtype, what + " M")
    assert_close(penalty, e_p, r + r * r, dtype, what + " penalty")
    if mask is not None:
        empty = ~mask.any(axis=1)
        assert np.all(a[empty] == 0) and np.all(m[empty] == 0)
        assert np.all(penalty[empty] == r)
    one = None if mask is None else mask[0]
    m1, a1, p1 = fnn.self_attentive_pooling(hidden[0], w1, w2, mask=one)
    assert m1.shape == (r, d) and a1.shape == (r, steps) and p1.shape == ()
    e_m1, e_a1, e_p1 = ref.self_attentive_pooling(hidden[0], w1, w2, mask=one)
    assert_close(a1, e_a1, 1.0, dtype, what + " unbatched A")
    assert_close(m1, e_m1, sdpa_scale(hidden), dtype, what + " unbatched M")
    # a NumPy scalar or a 0-d array (the reference gives a 0-d array)
    assert_close(np.asarray(p1), e_p1, r + r * r, dtype, what + " unbatched penalty")


def test_forms_all_masked_and_torch_kind(torch):
    """Every key masked: weights 0, context 0; torch tensors in give torch tensors out."""
    rng = case_rng(33)
    q, keys, values = randn(rng, (2, 4)), randn(rng, (2, 5, 4)), randn(rng, (2, 5, 3))
    mask = np.zeros((2, 5), bool)
    for fn, kw in (
        (fnn.luong_attention, dict()),
        (fnn.luong_attention, dict(score="general", weight=randn(rng, (4, 4)))),
        (
            fnn.additive_attention,
            dict(w_query=randn(rng, (6, 4)), w_key=randn(rng, (6, 4)), v=randn(rng, 6)),
        ),
    ):
        context, weights = fn(q, keys, values, mask=mask, **kw)
        assert np.all(context == 0) and np.all(weights == 0)
        tkw = {n: tt(torch, x) if isinstance(x, np.ndarray) else x for n, x in kw.items()}
        got = fn(tt(torch, q), tt(torch, keys), tt(torch, values), mask=tt(torch, mask), **tkw)
        assert all(isinstance(x, torch.Tensor) for x in got)
        assert_same(tuple(x.numpy() for x in got), (context, weights), fn.__name__)
    w1, w2 = randn(rng, (3, 4)), randn(rng, (2, 3))
    m, a, p = fnn.self_attentive_pooling(keys, w1, w2, mask=mask)
    assert np.all(m == 0) and np.all(a == 0) and np.all(p == 2.0)


@pytest.mark.parametrize("batched", [True, False])
def test_self_attentive_pooling_torch_kind(torch, batched):
    """torch tensors in give three torch tensors out, batched or not (the unbatched penalty
    is a 0-d tensor), with the NumPy call's values."""
    rng = case_rng(34)
    hidden, w1, w2 = randn(rng, (2, 5, 4)), randn(rng, (3, 4)), randn(rng, (2, 3))
    if not batched:
        hidden = hidden[0]
    expected = fnn.self_attentive_pooling(hidden, w1, w2)
    got = fnn.self_attentive_pooling(tt(torch, hidden), tt(torch, w1), tt(torch, w2))
    assert all(isinstance(x, torch.Tensor) for x in got)
    assert got[2].shape == (() if not batched else (2,))
    assert_same(tuple(x.numpy() for x in got), tuple(np.asarray(x) for x in expected))


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


def good_args(fn, dtype=np.float32):
    """(positional args, kwargs) of a valid call of ``fn``; arrays by argument name."""
    z = lambda *shape: np.full(shape, 0.5, dtype)  # noqa: E731
    if fn == "scaled_dot_product_attention":
        return dict(query=z(2, 3, 5, 4), key=z(2, 3, 6, 4), value=z(2, 3, 6, 2))
    if fn == "multi_head_attention":
        return dict(
            query=z(2, 5, 6),
            key=z(2, 7, 6),
            value=z(2, 7, 6),
            num_heads=2,
            in_proj_weight=z(18, 6),
            in_proj_bias=z(18),
            out_proj_weight=z(6, 6),
            out_proj_bias=z(6),
        )
    if fn == "additive_attention":
        return dict(
            query=z(2, 4),
            keys=z(2, 5, 3),
            values=z(2, 5, 2),
            w_query=z(6, 4),
            w_key=z(6, 3),
            v=z(6),
        )
    if fn == "luong_attention":
        return dict(
            query=z(2, 4),
            keys=z(2, 5, 3),
            values=z(2, 5, 2),
            score="concat",
            weight=z(6, 7),
            v=z(6),
        )
    assert fn == "self_attentive_pooling"
    return dict(hidden=z(2, 5, 4), w_s1=z(6, 4), w_s2=z(3, 6))


FUNCS = (
    "scaled_dot_product_attention",
    "multi_head_attention",
    "additive_attention",
    "luong_attention",
    "self_attentive_pooling",
)
ARRAY_ARGS = [
    (fn, name)
    for fn in FUNCS
    for name, value in good_args(fn).items()
    if isinstance(value, np.ndarray)
]
# arguments for which None means something (no bias; luong's weight and v: "not given")
NONE_MEANS = {"in_proj_bias", "out_proj_bias", "weight", "v"}


def call(fn, **override):
    args = good_args(fn)
    args.update(override)
    return getattr(fnn, fn)(**args)


@pytest.mark.parametrize("fn", FUNCS)
def test_good_args_work(fn):
    for dtype in DTYPES:
        result = getattr(fnn, fn)(**good_args(fn, dtype))
        first = result[0] if isinstance(result, tuple) else result
        assert first.dtype == dtype


@pytest.mark.parametrize(
    ("fn", "name", "bad"),
    [
        (fn, name, bad)
        for fn, name in ARRAY_ARGS
        for bad in ("list", "none", "scalar", "string")
        if not (bad == "none" and name in NONE_MEANS and fn != "additive_attention")
    ],
)
def test_argument_not_an_array(fn, name, bad):
    value = {"list": good_args(fn)[name].tolist(), "none": None, "scalar": 3.0, "string": "x"}[bad]
    with raises(TypeError, fn, name, "must be an array"):
        call(fn, **{name: value})


@pytest.mark.parametrize("dtype", ["int32", "int64", "float16", "uint8", "bool", "complex64"])
@pytest.mark.parametrize(("fn", "name"), ARRAY_ARGS)
def test_argument_dtype(fn, name, dtype):
    value = good_args(fn)[name].astype(dtype)
    with raises(TypeError, fn, name, "dtype", "float32", "float64"):
        call(fn, **{name: value})


@pytest.mark.parametrize(("fn", "name"), [a for a in ARRAY_ARGS if a[1] not in ("query", "hidden")])
def test_argument_dtype_differs_from_query(fn, name):
    """float64 next to a float32 query (and the reverse) is refused, naming the argument."""
    with raises(TypeError, fn, name, "float64", "float32"):
        call(fn, **{name: good_args(fn, np.float64)[name]})
    args = good_args(fn, np.float64)
    args[name] = good_args(fn, np.float32)[name]
    with raises(TypeError, fn, name, "float32", "float64"):
        getattr(fnn, fn)(**args)


def test_torch_unsupported_dtype(torch):
    args = good_args("scaled_dot_product_attention")
    bf16 = torch.from_numpy(args["query"]).to(torch.bfloat16)
    with raises(TypeError, "scaled_dot_product_attention", "query", "float32", "float64"):
        fnn.scaled_dot_product_attention(bf16, args["key"], args["value"])
    f16 = torch.from_numpy(args["key"]).half()
    with raises(TypeError, "scaled_dot_product_attention", "key", "float32", "float64"):
        fnn.scaled_dot_product_attention(args["query"], f16, args["value"])


SDPA = "scaled_dot_product_attention"


def sdpa(**override):
    return call(SDPA, **override)


def f32(*shape):
    return np.zeros(shape, np.float32)


@pytest.mark.parametrize(
    ("override", "exc", "words"),
    [
        # ranks
        (dict(query=f32(4)), ValueError, ("query", "at least 2 dimensions")),
        (dict(query=np.float32(1.0)), ValueError, ("query", "at least 2")),
        (dict(key=f32(6)), ValueError, ("key", "at least 2 dimensions")),
        (dict(value=f32(6)), ValueError, ("value", "at least 2 dimensions")),
        (dict(key=f32(3, 6, 4)), ValueError, ("same rank",)),
        (dict(value=f32(1, 2, 3, 6, 2)), ValueError, ("same rank",)),
        # shapes
        (dict(key=f32(2, 3, 6, 5)), ValueError, ("key", "E")),
        (dict(key=f32(2, 3, 7, 4)), ValueError, ("key", "S")),
        (dict(value=f32(2, 3, 7, 2)), ValueError, ("key", "S")),
        (dict(key=f32(2, 2, 6, 4), value=f32(2, 2, 6, 2)), ValueError, ("leading dimensions",)),
        (dict(key=f32(1, 3, 6, 4), value=f32(1, 3, 6, 2)), ValueError, ("leading dimensions",)),
        (dict(value=f32(2, 1, 6, 2)), ValueError, ("leading dimensions",)),
        # GQA
        (
            dict(key=f32(2, 2, 6, 4), value=f32(2, 2, 6, 2), enable_gqa=True),
            ValueError,
            ("enable_gqa", "divide"),
        ),
        (
            dict(key=f32(2, 1, 6, 4), value=f32(2, 3, 6, 2), enable_gqa=True),
            ValueError,
            ("enable_gqa",),
        ),
        (
            dict(key=f32(1, 1, 6, 4), value=f32(1, 1, 6, 2), enable_gqa=True),
            ValueError,
            ("enable_gqa",),
        ),
        (
            dict(key=f32(2, 4, 6, 4), value=f32(2, 4, 6, 2), enable_gqa=True),
            ValueError,
            ("enable_gqa",),
        ),
        # empty
        (dict(query=f32(2, 3, 0, 4)), ValueError, (">= 1",)),
        (dict(query=f32(2, 3, 5, 0), key=f32(2, 3, 6, 0)), ValueError, (">= 1",)),
        (dict(key=f32(2, 3, 0, 4), value=f32(2, 3, 0, 2)), ValueError, (">= 1",)),
        (dict(value=f32(2, 3, 6, 0)), ValueError, (">= 1",)),
        # masks
        (dict(attn_mask=np.ones((5, 7), bool)), ValueError, ("attn_mask", "broadcast")),
        (dict(attn_mask=np.ones((4, 6), bool)), ValueError, ("attn_mask", "broadcast")),
        (dict(attn_mask=np.ones((3, 3, 5, 6), bool)), ValueError, ("attn_mask", "broadcast")),
        (dict(attn_mask=np.ones((1, 2, 3, 5, 6), bool)), ValueError, ("attn_mask", "broadcast")),
        (dict(attn_mask=f32(2, 1, 1, 5, 6)), ValueError, ("attn_mask", "broadcast")),
        (dict(attn_mask=np.ones((5, 6), np.int32)), TypeError, ("attn_mask", "bool or floating")),
        (dict(attn_mask=np.ones((5, 6), np.uint8)), TypeError, ("attn_mask", "bool or floating")),
        (dict(attn_mask=np.ones((5, 6), np.float16)), TypeError, ("attn_mask", "float16")),
        (dict(attn_mask=np.ones((5, 6), np.float64)), TypeError, ("attn_mask", "float64")),
        (dict(attn_mask=np.ones((5, 6), np.complex64)), TypeError, ("attn_mask",)),
        (dict(attn_mask=[[True] * 6] * 5), TypeError, ("attn_mask", "must be an array")),
        (
            dict(attn_mask=np.ones((5, 6), bool), is_causal=True),
            ValueError,
            ("attn_mask", "is_causal"),
        ),
        # dropout, scale
        (dict(dropout_p=0.1), ValueError, ("dropout_p", "0")),
        (dict(dropout_p=1), ValueError, ("dropout_p",)),
        (dict(dropout_p="0"), TypeError, ("dropout_p", "number")),
        (dict(dropout_p=None), TypeError, ("dropout_p", "number")),
        (dict(scale="1"), TypeError, ("scale", "number")),
        (dict(scale=True), TypeError, ("scale", "number")),
        (dict(scale=float("nan")), ValueError, ("scale", "finite")),
        (dict(scale=float("inf")), ValueError, ("scale", "finite")),
        # out
        (dict(out=f32(2, 3, 5, 3)), ValueError, ("out must have shape",)),
        (dict(out=f32(3, 5, 2)), ValueError, ("out must have shape",)),
        (dict(out=np.zeros((2, 3, 5, 2))), TypeError, ("out must have dtype float32",)),
        (dict(out=np.zeros((2, 3, 5, 2), np.int32)), TypeError, ("out must have dtype",)),
        (dict(out=f32(2, 3, 5, 2).tolist()), TypeError, ("out must be an array",)),
        (dict(out=np.zeros((2, 3, 5, 2), ">f4")), TypeError, ("out", "native byte order")),
    ],
)
def test_sdpa_bad_input(override, exc, words):
    with raises(exc, SDPA, *words):
        sdpa(**override)


def test_sdpa_read_only_out_and_untouched_out():
    ro = f32(2, 3, 5, 2)
    ro.flags.writeable = False
    with raises(ValueError, SDPA, "out is read-only"):
        sdpa(out=ro)
    out = np.full((2, 3, 5, 2), 9.0, np.float32)
    with raises(ValueError, SDPA, "attn_mask"):
        sdpa(attn_mask=np.ones((4, 6), bool), out=out)
    assert np.all(out == 9.0)


MHA = "multi_head_attention"


@pytest.mark.parametrize(
    ("override", "exc", "words"),
    [
        (dict(query=f32(2, 2, 5, 6)), ValueError, ("query", "2-D or 3-D")),
        (dict(query=f32(6)), ValueError, ("query", "2-D or 3-D")),
        (dict(key=f32(7, 6)), ValueError, ("key", "3-D")),
        (dict(value=f32(1, 2, 7, 6)), ValueError, ("value", "3-D")),
        (dict(key=f32(2, 7, 5)), ValueError, ("key and value",)),
        (dict(value=f32(2, 8, 6)), ValueError, ("key and value",)),
        (dict(key=f32(3, 7, 6), value=f32(3, 7, 6)), ValueError, ("key and value", "N")),
        (dict(query=f32(2, 0, 6)), ValueError, ("must not be empty",)),
        (dict(key=f32(2, 0, 6), value=f32(2, 0, 6)), ValueError, ("must not be empty",)),
        (
            dict(query=f32(0, 5, 6), key=f32(0, 7, 6), value=f32(0, 7, 6)),
            ValueError,
            ("must not be empty",),
        ),
        (dict(num_heads=4), ValueError, ("num_heads=4", "divide", "6")),
        (dict(num_heads=0), ValueError, ("num_heads", ">= 1")),
        (dict(num_heads=2.0), TypeError, ("num_heads", "integer")),
        (dict(num_heads="2"), TypeError, ("num_heads", "integer")),
        (dict(in_proj_weight=f32(6, 6)), ValueError, ("in_proj_weight", "shape (18, 6)")),
        (dict(in_proj_weight=f32(18, 6, 1)), ValueError, ("in_proj_weight", "shape")),
        (dict(in_proj_bias=f32(6)), ValueError, ("in_proj_bias", "shape (18,)")),
        (dict(out_proj_weight=f32(6, 18)), ValueError, ("out_proj_weight", "shape (6, 6)")),
        (dict(out_proj_bias=f32(1, 6)), ValueError, ("out_proj_bias", "shape (6,)")),
        (dict(attn_mask=np.ones((5, 8), bool)), ValueError, ("attn_mask", "shape")),
        (dict(attn_mask=np.ones((2, 5, 7), bool)), ValueError, ("attn_mask", "shape")),
        (dict(attn_mask=np.ones((2, 2, 5, 7), bool)), ValueError, ("attn_mask", "shape")),
        (dict(attn_mask=np.ones((5, 7), np.int64)), TypeError, ("attn_mask", "bool or floating")),
        (dict(attn_mask=[[False] * 7] * 5), TypeError, ("attn_mask", "must be an array")),
        (dict(key_padding_mask=np.ones((2, 8), bool)), ValueError, ("key_padding_mask", "shape")),
        (dict(key_padding_mask=np.ones(7, bool)), ValueError, ("key_padding_mask", "shape")),
        (
            dict(key_padding_mask=np.ones((2, 7), np.int32)),
            TypeError,
            ("key_padding_mask", "bool or floating"),
        ),
        (dict(is_causal=True), ValueError, ("is_causal", "attn_mask")),
    ],
)
def test_mha_bad_input(override, exc, words):
    with raises(exc, MHA, *words):
        call(MHA, **override)


def test_mha_unbatched_key_padding_mask_shape():
    args = good_args(MHA)
    args.update(query=f32(5, 6), key=f32(7, 6), value=f32(7, 6))
    out, _ = fnn.multi_head_attention(**args, key_padding_mask=np.zeros(7, bool))
    assert out.shape == (5, 6)
    with raises(ValueError, MHA, "key_padding_mask", "shape"):
        fnn.multi_head_attention(**args, key_padding_mask=np.zeros(6, bool))
    with raises(ValueError, MHA, "key", "2-D"):
        fnn.multi_head_attention(**dict(args, key=f32(1, 7, 6)))


ADD, LUONG, POOL = "additive_attention", "luong_attention", "self_attentive_pooling"


@pytest.mark.parametrize(
    ("fn", "override", "exc", "words"),
    [
        (ADD, dict(query=f32(2, 1, 4)), ValueError, ("query", "1-D or 2-D")),
        (ADD, dict(keys=f32(5, 3)), ValueError, ("keys", "3-D")),
        (ADD, dict(values=f32(2, 1, 5, 2)), ValueError, ("values", "3-D")),
        (ADD, dict(query=f32(4)), ValueError, ("keys", "2-D")),
        (ADD, dict(keys=f32(3, 5, 3), values=f32(3, 5, 2)), ValueError, ("keys and values",)),
        (ADD, dict(values=f32(2, 6, 2)), ValueError, ("keys and values",)),
        (
            ADD,
            dict(query=f32(0, 4), keys=f32(0, 5, 3), values=f32(0, 5, 2)),
            ValueError,
            ("query", "empty"),
        ),
        (ADD, dict(query=f32(2, 0), w_query=f32(6, 0)), ValueError, ("query", "empty")),
        (
            ADD,
            dict(keys=f32(2, 0, 3), values=f32(2, 0, 2)),
            ValueError,
            ("keys and values", "empty"),
        ),
        (ADD, dict(values=f32(2, 5, 0)), ValueError, ("empty",)),
        (ADD, dict(w_query=f32(6, 5)), ValueError, ("w_query", "shape (6, 4)")),
        (ADD, dict(w_query=f32(6)), ValueError, ("w_query", "2-D")),
        (ADD, dict(w_key=f32(5, 3)), ValueError, ("w_key", "shape (6, 3)")),
        (ADD, dict(w_key=f32(6, 4)), ValueError, ("w_key", "shape (6, 3)")),
        (ADD, dict(v=f32(5)), ValueError, ("v", "shape (6,)")),
        (ADD, dict(v=f32(6, 1)), ValueError, ("v", "shape (6,)")),
        (ADD, dict(mask=np.ones((2, 4), bool)), ValueError, ("mask", "shape (2, 5)")),
        (ADD, dict(mask=np.ones((2, 5), np.int32)), TypeError, ("mask", "bool")),
        (ADD, dict(mask=np.ones((2, 5), np.float32)), TypeError, ("mask", "bool")),
        (ADD, dict(mask=[[True] * 5] * 2), TypeError, ("mask", "must be an array")),
        (LUONG, dict(score="cosine"), ValueError, ("score", "'dot', 'general' or 'concat'")),
        (LUONG, dict(score=None), ValueError, ("score",)),
        (LUONG, dict(score=1), ValueError, ("score",)),
        (LUONG, dict(score="dot"), ValueError, ("score='dot'", "size 4", "3")),
        (LUONG, dict(score="general", weight=None), ValueError, ("general", "weight")),
        (LUONG, dict(score="general", weight=f32(4, 3)), ValueError, ("weight", "shape (3, 4)")),
        (LUONG, dict(weight=None), ValueError, ("concat", "weight")),
        (LUONG, dict(v=None), ValueError, ("concat", "v")),
        (LUONG, dict(weight=f32(6, 6)), ValueError, ("weight", "shape (6, 7)")),
        (LUONG, dict(weight=f32(7)), ValueError, ("weight", "2-D")),
        (LUONG, dict(v=f32(5)), ValueError, ("v", "shape (6,)")),
        (LUONG, dict(mask=np.ones((2, 5), np.int8)), TypeError, ("mask", "bool")),
        (LUONG, dict(mask=np.ones(5, bool)), ValueError, ("mask", "shape (2, 5)")),
        (LUONG, dict(keys=f32(2, 5, 3, 1)), ValueError, ("keys", "3-D")),
        (POOL, dict(hidden=f32(1, 2, 5, 4)), ValueError, ("hidden", "2-D or 3-D")),
        (POOL, dict(hidden=f32(4)), ValueError, ("hidden", "2-D or 3-D")),
        (POOL, dict(hidden=f32(2, 0, 4)), ValueError, ("hidden", "empty")),
        (POOL, dict(hidden=f32(0, 5, 4)), ValueError, ("hidden", "empty")),
        (POOL, dict(w_s1=f32(6, 5)), ValueError, ("w_s1", "shape (6, 4)")),
        (POOL, dict(w_s1=f32(6)), ValueError, ("w_s1", "2-D")),
        (POOL, dict(w_s2=f32(3, 5)), ValueError, ("w_s2", "shape (3, 6)")),
        (POOL, dict(w_s2=f32(3, 6, 1)), ValueError, ("w_s2", "2-D")),
        (POOL, dict(w_s1=f32(0, 4), w_s2=f32(3, 0)), ValueError, ("w_s1 and w_s2", "empty")),
        (POOL, dict(w_s2=f32(0, 6)), ValueError, ("empty",)),
        (POOL, dict(mask=np.ones((2, 4), bool)), ValueError, ("mask", "shape (2, 5)")),
        (POOL, dict(mask=np.ones((2, 5), np.float64)), TypeError, ("mask", "bool")),
    ],
)
def test_forms_bad_input(fn, override, exc, words):
    with raises(exc, fn, *words):
        call(fn, **override)


def test_forms_unbatched_mask_shape():
    args = good_args(ADD)
    args.update(query=f32(4), keys=f32(5, 3), values=f32(5, 2))
    context, weights = fnn.additive_attention(**args, mask=np.ones(5, bool))
    assert context.shape == (2,) and weights.shape == (5,)
    with raises(ValueError, ADD, "mask", "shape (5,)", "(4,)"):
        fnn.additive_attention(**args, mask=np.ones(4, bool))
    with raises(ValueError, POOL, "mask", "shape (5,)"):
        fnn.self_attentive_pooling(f32(5, 4), f32(6, 4), f32(3, 6), mask=np.ones((1, 5), bool))

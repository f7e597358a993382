"""The CuPy fallbacks of the attention half of foveal.nn (``foveal._cupy.attention``), run on
the CPU with NumPy standing in for CuPy, against torch (the semantic anchor).

Arguments are passed as the wrapper normalizes them: sdpa gets 4-D q (B, Hq, L, E),
k (B, Hkv, S, E), v (B, Hkv, S, Ev), an additive float mask broadcastable to (B, Hq, L, S)
(bool masks as 0 / -inf) or None, and a float scale; the poolings get batched arrays and bool
masks (True = takes part). Cases are drawn from a fixed seed: random shapes with L != S, L = 1,
grouped kv heads, masks of several broadcast shapes with rows whose keys are all masked,
causal with L < S and L > S; sdpa runs again with the score budget forced down so that it
works in blocks of a few rows, of whole heads and of whole batch items.

Torch behaviours pinned here: its CPU scaled_dot_product_attention gives 0 for a row whose
scores are all -inf (bool or float mask); causal is top-left aligned (tril of the L x S
matrix); a +inf score makes its row NaN. The poolings follow foveal's reference: a row with
no key left gives weights 0 and context 0 (torch.softmax's NaN, set to 0).

Tolerances: the reference is torch in float64 on the same (float64-cast) input; the output
is compared with |got - ref| <= rtol * max(1, scale), scale the largest |value| (outputs are
convex combinations of values) or of the output itself, rtol 1e-5 for float32, 1e-12 for
float64; NaN must sit exactly where torch's NaN sits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from foveal import _attention_forms as forms
from foveal._cupy import attention as cu

torch = pytest.importorskip("torch")
F = torch.nn.functional

SEED = 20240611
DTYPES = (np.float32, np.float64)
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's thread pool costs more than these tiny tensors."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def check(got, ref, dtype, scale=None):
    """got (our dtype) against ref (float64): NaN in the same places, the rest within
    rtol * max(1, scale)."""
    ref = ref.numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert got.dtype == np.dtype(dtype)
    assert got.shape == ref.shape
    nan = np.isnan(ref)
    np.testing.assert_array_equal(np.isnan(got), nan)
    if scale is None:
        scale = float(np.abs(ref[~nan]).max(initial=0.0))
    tol = RTOL[np.dtype(dtype)] * max(1.0, scale)
    err = np.abs(got[~nan].astype(np.float64) - ref[~nan]).max(initial=0.0)
    assert err <= tol, f"max error {err:.3g} > {tol:.3g}"


# --------------------------------------------------------------------------------------------
# scaled dot-product attention
# --------------------------------------------------------------------------------------------


def empty_rows(rng, mask):
    """An additive mask (float, -inf excluded) with some of its rows all -inf (when it has
    more than one), sometimes every row."""
    rows = mask.shape[-2]
    if rows > 1 and rng.random() < 0.7:
        mask[..., rng.choice(rows, size=max(1, rows // 3), replace=False), :] = -np.inf
    elif rng.random() < 0.15:
        mask[...] = -np.inf
    return mask


def make_mask(rng, kind, b, hq, l, s):
    """An additive mask of one of several shapes broadcastable to (B, Hq, L, S)."""
    shape = [(l, s), (1, 1, l, s), (b, 1, l, s), (1, hq, 1, s), (b, hq, l, s)][rng.integers(5)]
    if kind == "bool":  # as the wrapper hands over a bool mask: 0 / -inf
        mask = np.where(rng.random(shape) < 0.6, 0.0, -np.inf)
    else:
        mask = rng.standard_normal(shape) * 2
        mask[rng.random(shape) < 0.2] = -np.inf
    return empty_rows(rng, mask)


def sdpa_cases():
    rng = np.random.default_rng(SEED)
    cases = []
    for i in range(14):
        b = int(rng.integers(1, 4))
        hkv = int(rng.integers(1, 4))
        group = int(rng.choice([1, 1, 2, 3]))
        l = 1 if i % 5 == 0 else int(rng.integers(2, 13))
        s = int(rng.integers(1, 15))
        if s == l:
            s += 1
        e, ev = int(rng.integers(1, 9)), int(rng.integers(1, 7))
        kind = ["none", "bool", "float", "causal"][i % 4]
        scale = None if rng.random() < 0.5 else float(rng.uniform(0.1, 1.5))
        cases.append((b, hkv, group, l, s, e, ev, kind, scale, int(rng.integers(1 << 30))))
    # causal with L > S (every row sees key 0) and L < S (the last keys seen by nobody)
    cases.append((2, 2, 2, 9, 4, 5, 3, "causal", None, 7))
    cases.append((1, 1, 3, 3, 11, 4, 6, "causal", None, 8))
    cases.append((2, 1, 1, 1, 7, 3, 2, "causal", None, 9))
    return cases


def sdpa_inputs(case, dtype):
    b, hkv, group, l, s, e, ev, kind, scale, seed = case
    rng = np.random.default_rng(seed)
    hq = hkv * group
    q = rng.standard_normal((b, hq, l, e)).astype(dtype)
    k = rng.standard_normal((b, hkv, s, e)).astype(dtype)
    v = (rng.standard_normal((b, hkv, s, ev)) * 3).astype(dtype)
    mask = None
    if kind in ("bool", "float"):
        mask = make_mask(rng, kind, b, hq, l, s).astype(dtype)
    sc = 1.0 / math.sqrt(e) if scale is None else scale
    return q, k, v, mask, kind == "causal", sc


def torch_sdpa(q, k, v, mask, causal, scale):
    return F.scaled_dot_product_attention(
        t64(q),
        t64(k),
        t64(v),
        attn_mask=None if mask is None else t64(mask),
        is_causal=causal,
        scale=scale,
        enable_gqa=True,
    )


def run_sdpa(q, k, v, mask, causal, scale):
    return cu.sdpa(np, q, k, v, mask, causal, scale)


CASES = sdpa_cases()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_sdpa(case, dtype, monkeypatch):
    """Against torch with the default budget (one block) and with budgets forcing blocks of a
    few query rows, of one row, of whole kv heads and of whole batch items."""
    args = sdpa_inputs(case, dtype)
    q, k, v = args[:3]
    ref = torch_sdpa(*args)
    scale = float(np.abs(v).max())
    check(run_sdpa(*args), ref, dtype, scale)
    b, hq, l, _ = q.shape
    hkv, s = k.shape[1], k.shape[2]
    row = (hq // hkv) * s * q.itemsize
    for budget in {1, row * 3, row * l * max(1, hkv - 1), row * l * hkv * max(1, b - 1)}:
        monkeypatch.setattr(cu, "SCORES_BYTES", budget)
        check(run_sdpa(*args), ref, dtype, scale)


def test_sdpa_never_forms_more_than_a_block(monkeypatch):
    """Every scores product sdpa forms stays under the budget (run through a NumPy stand-in
    that records the size of each matmul result)."""
    sizes = []

    class Spy:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def matmul(a, b):
            r = np.matmul(a, b)
            sizes.append(r.nbytes)
            return r

    case = (3, 2, 2, 40, 30, 8, 4, "float", None, 11)
    args = sdpa_inputs(case, np.float64)
    ref = torch_sdpa(*args)
    row = 2 * 30 * 8  # group * S * itemsize
    for budget in (row * 7, row * 40 * 1, row * 40 * 2 + 5, row * 40 * 3):
        monkeypatch.setattr(cu, "SCORES_BYTES", budget)
        sizes.clear()
        got = cu.sdpa(Spy(), *args)
        check(got, ref, np.float64, float(np.abs(args[2]).max()))
        assert max(sizes[0::2]) <= budget  # the scores; the odd ones are the (rows, Ev) products
        assert len(sizes) > 2


@pytest.mark.parametrize("b,hkv,group,l,s", [(3, 4, 2, 37, 5), (1, 1, 1, 1, 1), (2, 3, 3, 5, 9)])
def test_blocks_cover_once_within_budget(b, hkv, group, l, s):
    row = group * s * 4
    for budget in (1, row, row * 4, row * l, row * l * 2, row * l * hkv, row * l * hkv * 2, 1e12):
        seen = np.zeros((b, hkv, l), dtype=int)
        for b0, b1, h0, h1, l0, l1 in cu._blocks(b, hkv, group, l, s, 4, int(budget)):
            seen[b0:b1, h0:h1, l0:l1] += 1
            assert (b1 - b0) * (h1 - h0) * (l1 - l0) * row <= max(budget, row)
        assert (seen == 1).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_torch_rules(dtype):
    """The rules found in torch 2.13 (CPU): rows of -inf give 0; one +inf score, or NaN, makes
    the row NaN; causal is tril of the L x S matrix (top-left aligned) for L > S and L < S."""
    rng = np.random.default_rng(3)
    q = rng.standard_normal((1, 2, 4, 3)).astype(dtype)
    k = rng.standard_normal((1, 2, 6, 3)).astype(dtype)
    v = rng.standard_normal((1, 2, 6, 2)).astype(dtype)
    mask = np.zeros((4, 6), dtype)
    mask[1] = -np.inf
    mask[2, 3] = np.inf
    mask[3, 0] = np.nan
    ref = torch_sdpa(q, k, v, mask, False, 0.5)
    assert (ref[:, :, 1] == 0).all() and ref[:, :, 2:].isnan().all()
    got = run_sdpa(q, k, v, mask, False, 0.5)
    check(got, ref, dtype, float(np.abs(v).max()))
    assert (got[:, :, 1] == 0).all()
    for l, s in ((4, 6), (6, 4)):
        qq, kk, vv = q[:, :, :1].repeat(l, 2), k[:, :, :1].repeat(s, 2), v[:, :, :1].repeat(s, 2)
        qq = qq + rng.standard_normal(qq.shape).astype(dtype)
        kk = kk + rng.standard_normal(kk.shape).astype(dtype)
        vv = vv + rng.standard_normal(vv.shape).astype(dtype)
        tril = np.where(np.tril(np.ones((l, s), bool)), 0.0, -np.inf)
        causal = torch_sdpa(qq, kk, vv, None, True, 0.7)
        torch.testing.assert_close(causal, torch_sdpa(qq, kk, vv, tril, False, 0.7))
        check(run_sdpa(qq, kk, vv, None, True, 0.7), causal, dtype, float(np.abs(vv).max()))


# --------------------------------------------------------------------------------------------
# additive, Luong and self-attentive forms
# --------------------------------------------------------------------------------------------


def torch_attend(scores, values, mask):
    """softmax over the keys with mask True (no key left: 0, foveal's reference) and the
    weighted values."""
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(mask), -math.inf)
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return torch.bmm(weights[:, None, :], values)[:, 0], weights


def pool_mask(rng, shape):
    """None a third of the time, else a bool mask with some rows empty (sometimes all)."""
    if rng.random() < 0.33:
        return None
    mask = rng.random(shape) < 0.7
    if rng.random() < 0.15:
        mask[...] = False
    elif shape[0] > 1:
        mask[rng.integers(shape[0])] = False
    return mask


def pool_cases(count):
    rng = np.random.default_rng(SEED + 1)
    return [
        (int(rng.integers(1, 5)), 1 if i % 4 == 0 else int(rng.integers(2, 12)), i)
        for i in range(count)
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,s,seed", pool_cases(6))
def test_additive(n, s, seed, dtype):
    rng = np.random.default_rng(seed)
    dq, dk, dv, h = (int(x) for x in rng.integers(1, 9, size=4))
    arrs = [
        rng.standard_normal(shape).astype(dtype)
        for shape in ((n, dq), (n, s, dk), (n, s, dv), (h, dq), (h, dk), (h,))
    ]
    q, k, v, wq, wk, vv = arrs
    mask = pool_mask(rng, (n, s))
    ctx, w = forms.additive(np, q, k, v, wq, wk, vv, mask)
    tq, tk, tv, twq, twk, tvv = (t64(a) for a in arrs)
    scores = torch.tanh((tq @ twq.T)[:, None, :] + tk @ twk.T) @ tvv
    rctx, rw = torch_attend(scores, tv, mask)
    check(w, rw, dtype, 1.0)
    check(ctx, rctx, dtype, float(np.abs(v).max()))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("score", ["dot", "general", "concat"])
@pytest.mark.parametrize("n,s,seed", pool_cases(4))
def test_luong(n, s, seed, score, dtype):
    rng = np.random.default_rng(seed)
    dq, dk, dv, h = (int(x) for x in rng.integers(1, 9, size=4))
    if score == "dot":
        dk = dq
    q = rng.standard_normal((n, dq)).astype(dtype)
    k = rng.standard_normal((n, s, dk)).astype(dtype)
    v = rng.standard_normal((n, s, dv)).astype(dtype)
    weight = vv = None
    if score == "general":
        weight = rng.standard_normal((dk, dq)).astype(dtype)
    elif score == "concat":
        weight = rng.standard_normal((h, dq + dk)).astype(dtype)
        vv = rng.standard_normal(h).astype(dtype)
    mask = pool_mask(rng, (n, s))
    ctx, w = forms.luong(np, q, k, v, score, weight, vv, mask)
    tq, tk, tv = t64(q), t64(k), t64(v)
    if score == "dot":
        scores = torch.einsum("nsd,nd->ns", tk, tq)
    elif score == "general":
        scores = torch.einsum("nsd,nd->ns", tk, tq @ t64(weight).T)
    else:
        cat = torch.cat([tq[:, None, :].expand(n, s, dq), tk], dim=-1)
        scores = torch.tanh(cat @ t64(weight).T) @ t64(vv)
    rctx, rw = torch_attend(scores, tv, mask)
    check(w, rw, dtype, 1.0)
    check(ctx, rctx, dtype, float(np.abs(v).max()))


def test_luong_bad_score():
    z = np.zeros((1, 2))
    with pytest.raises(ValueError, match="luong_attention: score"):
        forms.luong(np, z, z[:, None], z[:, None], "cosine", None, None, None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,t,seed", pool_cases(6))
def test_self_attentive(n, t, seed, dtype):
    rng = np.random.default_rng(seed)
    d, da, r = (int(x) for x in rng.integers(1, 9, size=3))
    h = rng.standard_normal((n, t, d)).astype(dtype)
    w1 = rng.standard_normal((da, d)).astype(dtype)
    w2 = rng.standard_normal((r, da)).astype(dtype)
    mask = pool_mask(rng, (n, t))
    m, a, penalty = forms.self_attentive(np, h, w1, w2, mask)
    th = t64(h)
    logits = (torch.tanh(th @ t64(w1).T) @ t64(w2).T).transpose(1, 2)  # (N, R, T)
    if mask is not None:
        logits = logits.masked_fill(~torch.from_numpy(mask)[:, None, :], -math.inf)
    ra = torch.softmax(logits, dim=-1).nan_to_num(0.0)
    rm = ra @ th
    gram = ra @ ra.transpose(1, 2) - torch.eye(r, dtype=torch.float64)
    rpen = (gram**2).sum(dim=(1, 2))
    check(a, ra, dtype, 1.0)
    check(m, rm, dtype, float(np.abs(h).max()))
    check(penalty, rpen, dtype, float(r))

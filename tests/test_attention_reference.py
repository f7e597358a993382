"""foveal.reference.attention against torch 2.13, the semantic anchor of foveal.nn's attention.

scaled_dot_product_attention against torch.nn.functional's: random cases (a seeded numpy
Generator per case) with 0-3 leading dims, L != S, E != Ev, L = 1, S = 1, odd sizes, bool
and float masks broadcast from (L, S), (1, 1, L, S), (B, 1, 1, S) and the like, rows with no
key left, causal with L < S and L > S, GQA with 1, 2 and 4 query heads per key / value head,
custom scales; and the two facts that needed checking in torch: rows with no key left give 0
(not NaN), and is_causal is top-left aligned. multi_head_attention against
torch.nn.MultiheadAttention(batch_first=True) with the same weights copied in (need_weights
both ways, every mask convention, bias=False, unbatched input, the is_causal hint). The three
poolings against straightforward torch compositions. Inputs are float64, values are compared
at rtol 1e-10 (atol 1e-10 of the largest |value|); NaN must sit where torch's NaN sits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SEED
from foveal import reference as ref

torch = pytest.importorskip("torch")
F = torch.nn.functional
# a bool attn_mask with a float key_padding_mask (or the reverse) is deprecated in torch but
# still computed as their sum; that is what is being tested
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")

CASES = 48


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The inputs are tiny: torch's thread pool only adds wake-up latency."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def case_rng(tag: int, case: int) -> np.random.Generator:
    return np.random.default_rng([SEED, tag, case])


def t(x):
    """A torch tensor of x: bool stays bool, everything else float64; None stays None."""
    if x is None:
        return None
    x = np.asarray(x)
    if x.dtype == np.bool_:
        return torch.from_numpy(np.ascontiguousarray(x))
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))


def assert_close(ours, theirs) -> None:
    """float64 values equal to torch's at rtol 1e-10 (atol 1e-10 of the largest finite
    |value|), NaN exactly where torch has NaN."""
    theirs = theirs.detach().numpy()
    assert isinstance(ours, np.ndarray) and ours.dtype == np.float64
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    finite = theirs[np.isfinite(theirs)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10 * scale)


def length(rng) -> int:
    """A sequence length: 1 a fifth of the time, else 2-9 (odd ones included)."""
    return 1 if rng.random() < 0.2 else int(rng.integers(2, 10))


# ----------------------------------------------------------------------------- SDPA


def broadcast_shape(rng, lead, l, s) -> tuple[int, ...]:
    """A mask shape that broadcasts to lead + (L, S): some trailing part of the leading dims,
    each kept or 1, then L or 1 and S or 1 ((L, S), (1, 1, L, S), (B, 1, 1, S), ...)."""
    keep = int(rng.integers(0, len(lead) + 1))
    dims = [d if rng.random() < 0.5 else 1 for d in lead[len(lead) - keep :]]
    dims.append(l if rng.random() < 0.8 else 1)
    dims.append(s if rng.random() < 0.9 else 1)
    return tuple(dims)


def empty_some_rows(rng, mask: np.ndarray, empty) -> np.ndarray:
    """mask with some (query) rows set to ``empty`` everywhere, sometimes all of them."""
    mask = mask.copy()
    u = rng.random()
    if u < 0.3:
        rows = rng.random(mask.shape[-2]) < 0.4
        mask[..., rows, :] = empty
    elif u < 0.4:
        mask[...] = empty
    return mask


def sdpa_case(rng):
    lead = tuple(int(d) for d in rng.integers(1, 4, size=int(rng.integers(0, 4))))
    l, s = length(rng), length(rng)
    e, ev = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    kv_lead = lead
    gqa = len(lead) >= 1 and rng.random() < 0.3
    if gqa:
        groups, hkv = int(rng.choice([1, 2, 4])), int(rng.integers(1, 4))
        lead = lead[:-1] + (groups * hkv,)
        kv_lead = lead[:-1] + (hkv,)
    q = rng.standard_normal(lead + (l, e))
    k = rng.standard_normal(kv_lead + (s, e))
    v = rng.standard_normal(kv_lead + (s, ev))
    kwargs = dict(enable_gqa=gqa)
    if rng.random() < 0.3:
        kwargs["scale"] = float(rng.uniform(0.05, 2.0))
    kind = rng.choice(["none", "causal", "bool", "float"])
    if kind == "causal":
        kwargs["is_causal"] = True
    elif kind == "bool":
        mask = rng.random(broadcast_shape(rng, lead, l, s)) < 0.7
        kwargs["attn_mask"] = empty_some_rows(rng, mask, False)
    elif kind == "float":
        mask = rng.standard_normal(broadcast_shape(rng, lead, l, s))
        mask[rng.random(mask.shape) < 0.2] = -np.inf
        kwargs["attn_mask"] = empty_some_rows(rng, mask, -np.inf)
    return q, k, v, kwargs


def torch_sdpa(q, k, v, **kwargs):
    if "attn_mask" in kwargs:
        kwargs = dict(kwargs, attn_mask=t(kwargs["attn_mask"]))
    return F.scaled_dot_product_attention(t(q), t(k), t(v), **kwargs)


@pytest.mark.parametrize("case", range(3 * CASES))
def test_sdpa(case):
    q, k, v, kwargs = sdpa_case(case_rng(1, case))
    assert_close(ref.scaled_dot_product_attention(q, k, v, **kwargs), torch_sdpa(q, k, v, **kwargs))


def torch_backends(ndim: int):
    """The SDPA backends torch may pick on the CPU for inputs of this rank: its fused flash
    kernel (4-D only, E = Ev) and the math fallback."""
    from torch.nn.attention import SDPBackend

    if ndim == 4:
        return [SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]
    return [SDPBackend.MATH]


def torch_sdpa_on(backend, q, k, v, dtype=torch.float64, **kwargs):
    from torch.nn.attention import sdpa_kernel

    mask = kwargs.pop("attn_mask", None)
    if mask is not None:
        mask = t(mask) if mask.dtype == np.bool_ else t(mask).to(dtype)
    q, k, v = (t(x).to(dtype) for x in (q, k, v))
    with sdpa_kernel(backend):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kwargs).double()


@pytest.mark.parametrize("ndim", [2, 3, 4, 5])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_rows_without_keys_give_zero(ndim, kind):
    """torch 2.13 on the CPU gives 0 (not NaN) for a query whose keys are all masked, from its
    fused flash kernel and from its math fallback (a safe softmax), float32 and float64."""
    rng = case_rng(2, ndim)
    lead = (2, 3, 2)[: ndim - 2]
    q, k, v = (rng.standard_normal(lead + shape) for shape in ((4, 5), (6, 5), (6, 5)))
    mask = rng.random((4, 6)) < 0.7
    mask[:, 0] = True
    mask[1] = False
    if kind == "float":
        mask = np.where(mask, rng.standard_normal((4, 6)), -np.inf)
    got = ref.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.all(got[..., 1, :] == 0.0) and np.isfinite(got).all()
    assert_close(got, torch_sdpa(q, k, v, attn_mask=mask))
    for backend in torch_backends(ndim):
        assert_close(got, torch_sdpa_on(backend, q, k, v, attn_mask=mask))
        out32 = torch_sdpa_on(backend, q, k, v, dtype=torch.float32, attn_mask=mask)
        assert torch.all(out32[..., 1, :] == 0) and torch.isfinite(out32).all()


@pytest.mark.parametrize(("l", "s"), [(3, 7), (7, 3), (1, 5), (5, 1), (4, 4)])
@pytest.mark.parametrize("ndim", [3, 4])
def test_sdpa_causal_is_top_left(l, s, ndim):
    """is_causal lets query i see keys j <= i for L != S too (torch's tril(ones(L, S)), in the
    flash kernel and the math fallback alike), not the bottom-right alignment j <= i + S - L:
    with L > S every row still sees key 0 (no empty rows), with L < S the last keys are seen
    by nobody."""
    rng = case_rng(3, 100 * l + 10 * s + ndim)
    lead = (2, 3)[: ndim - 2]
    q, k, v = (rng.standard_normal(lead + shape) for shape in ((l, 4), (s, 4), (s, 4)))
    expected = torch_sdpa(q, k, v, is_causal=True)
    top_left = np.tril(np.ones((l, s), dtype=bool))
    assert_close(ref.scaled_dot_product_attention(q, k, v, attn_mask=top_left), expected)
    got = ref.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert_close(got, expected)
    for backend in torch_backends(ndim):
        assert_close(got, torch_sdpa_on(backend, q, k, v, is_causal=True))
    if l != s and min(l, s) > 1:
        bottom_right = np.tril(np.ones((l, s), dtype=bool), k=s - l)
        other = torch_sdpa(q, k, v, attn_mask=bottom_right).numpy()
        assert not np.allclose(other, expected.numpy())


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("ndim", [3, 4, 5])
def test_sdpa_gqa(groups, ndim):
    """Query head h reads key / value head h // groups (torch's repeat_interleave)."""
    rng = case_rng(4, 10 * groups + ndim)
    hkv = 3
    lead = (2, 2)[: ndim - 3]
    q = rng.standard_normal(lead + (groups * hkv, 5, 4))
    k = rng.standard_normal(lead + (hkv, 6, 4))
    v = rng.standard_normal(lead + (hkv, 6, 3))
    mask = rng.random((5, 6)) < 0.7
    for kwargs in (dict(), dict(is_causal=True), dict(attn_mask=mask, scale=0.3)):
        got = ref.scaled_dot_product_attention(q, k, v, enable_gqa=True, **kwargs)
        assert_close(got, torch_sdpa(q, k, v, enable_gqa=True, **kwargs))
        repeated = torch_sdpa(
            q, np.repeat(k, groups, axis=-3), np.repeat(v, groups, axis=-3), **kwargs
        )
        assert_close(got, repeated)


def test_sdpa_float32_input_and_scale_zero():
    """float32 input is computed in float64; scale=0 is a scale (uniform weights), not None."""
    rng = case_rng(5, 0)
    q, k, v = (rng.standard_normal(shape).astype(np.float32) for shape in ((3, 4), (5, 4), (5, 2)))
    got = ref.scaled_dot_product_attention(q, k, v)
    assert got.dtype == np.float64
    assert_close(got, torch_sdpa(q, k, v))
    got = ref.scaled_dot_product_attention(q, k, v, scale=0.0)
    assert_close(got, torch_sdpa(q, k, v, scale=0.0))
    np.testing.assert_allclose(got, np.broadcast_to(v.astype(np.float64).mean(0), (3, 2)))


# ----------------------------------------------------------------------------- MHA


def mha_module(d, h, bias, rng):
    """torch.nn.MultiheadAttention(batch_first=True) in float64 with random weights copied in.
    It stays in training mode (dropout 0): the fast inference path is not taken."""
    m = torch.nn.MultiheadAttention(d, h, bias=bias, batch_first=True, dtype=torch.float64)
    weights = dict(
        in_proj_weight=rng.standard_normal((3 * d, d)) / math.sqrt(d),
        in_proj_bias=rng.standard_normal(3 * d) if bias else None,
        out_proj_weight=rng.standard_normal((d, d)) / math.sqrt(d),
        out_proj_bias=rng.standard_normal(d) if bias else None,
    )
    with torch.no_grad():
        m.in_proj_weight.copy_(t(weights["in_proj_weight"]))
        m.out_proj.weight.copy_(t(weights["out_proj_weight"]))
        if bias:
            m.in_proj_bias.copy_(t(weights["in_proj_bias"]))
            m.out_proj.bias.copy_(t(weights["out_proj_bias"]))
    assert m.training
    return m, weights


def mha_mask(rng, kind: str, shape) -> np.ndarray:
    """A bool (True = masked OUT) or float (additive, some -inf) mask of the shape."""
    if kind == "bool":
        return empty_some_rows(rng, rng.random(shape) < 0.3, True)
    mask = rng.standard_normal(shape)
    mask[rng.random(shape) < 0.2] = -np.inf
    return empty_some_rows(rng, mask, -np.inf)


def mha_case(rng):
    h = int(rng.choice([1, 2, 3, 4]))
    d = h * int(rng.choice([1, 2, 3, 5]))
    unbatched = rng.random() < 0.2
    n = 1 if unbatched else int(rng.integers(1, 4))
    l = length(rng)
    s = l if rng.random() < 0.3 else length(rng)
    query = rng.standard_normal((n, l, d))
    key = query if s == l and rng.random() < 0.5 else rng.standard_normal((n, s, d))
    value = key if rng.random() < 0.5 else rng.standard_normal((n, s, d))
    kwargs = dict(need_weights=bool(rng.random() < 0.5))
    u = rng.random()
    if u < 0.2:  # the is_causal hint with the causal mask it promises (torch requires it)
        causal = ~np.tril(np.ones((l, s), dtype=bool))
        kwargs["is_causal"] = True
        kwargs["attn_mask"] = causal if rng.random() < 0.5 else np.where(causal, -np.inf, 0.0)
    elif u < 0.7:
        shape = (l, s) if rng.random() < 0.5 else (n * h, l, s)
        kwargs["attn_mask"] = mha_mask(rng, str(rng.choice(["bool", "float"])), shape)
    if rng.random() < 0.5:
        kpm = mha_mask(rng, str(rng.choice(["bool", "float"])), (n, s))
        kwargs["key_padding_mask"] = kpm
    if unbatched:
        query, key, value = query[0], key[0], value[0]
        if "key_padding_mask" in kwargs:
            kwargs["key_padding_mask"] = kwargs["key_padding_mask"][0]
    return h, bool(rng.random() < 0.7), query, key, value, kwargs


def torch_mha(module, query, key, value, **kwargs):
    masks = {name: t(kwargs.pop(name, None)) for name in ("attn_mask", "key_padding_mask")}
    with torch.no_grad():
        return module(t(query), t(key), t(value), **masks, **kwargs)


def check_mha(module, weights, h, query, key, value, **kwargs):
    kwargs.setdefault("need_weights", False)  # the module's default is True, foveal's False
    out, avg = ref.multi_head_attention(query, key, value, h, **weights, **kwargs)
    expected_out, expected_avg = torch_mha(module, query, key, value, **kwargs)
    assert_close(out, expected_out)
    if kwargs.get("need_weights"):
        assert_close(avg, expected_avg)
    else:
        assert avg is None and expected_avg is None
    return out, avg


@pytest.mark.parametrize("case", range(2 * CASES))
def test_mha(case):
    rng = case_rng(6, case)
    h, bias, query, key, value, kwargs = mha_case(rng)
    module, weights = mha_module(query.shape[-1], h, bias, rng)
    check_mha(module, weights, h, query, key, value, **kwargs)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("where", ["attn_mask", "key_padding_mask"])
def test_mha_rows_without_keys(kind, where):
    """torch.nn.MultiheadAttention: a query with no key left gives out_proj_bias (attention 0,
    through scaled_dot_product_attention) with need_weights=False, NaN (its own softmax) in
    the output row and the weights with need_weights=True."""
    rng = case_rng(7, 0)
    n, l, s, d, h = 2, 3, 4, 6, 2
    module, weights = mha_module(d, h, True, rng)
    query, key = rng.standard_normal((n, l, d)), rng.standard_normal((n, s, d))
    if where == "attn_mask":
        mask = np.zeros((l, s), dtype=bool)
        mask[1] = True  # query 1 of every item
    else:
        mask = np.zeros((n, s), dtype=bool)
        mask[1] = True  # every query of item 1
    if kind == "float":
        mask = np.where(mask, -np.inf, 0.0)
    empty = (slice(None), 1) if where == "attn_mask" else (1,)
    out, _ = check_mha(module, weights, h, query, key, key, **{where: mask})
    np.testing.assert_allclose(
        out[empty], np.broadcast_to(weights["out_proj_bias"], out[empty].shape)
    )
    out, avg = check_mha(module, weights, h, query, key, key, need_weights=True, **{where: mask})
    assert np.isnan(out[empty]).all() and np.isnan(avg[empty]).all()
    assert np.isfinite(np.delete(out, 1, axis=1 if where == "attn_mask" else 0)).all()


def test_mha_one_head_without_keys():
    """A (N * H, L, S) mask may empty a row in one head only: with need_weights=False that head
    contributes 0, with need_weights=True its NaN spreads to the whole output row."""
    rng = case_rng(8, 0)
    n, l, s, d, h = 2, 3, 5, 8, 4
    module, weights = mha_module(d, h, True, rng)
    query, key = rng.standard_normal((n, l, d)), rng.standard_normal((n, s, d))
    mask = rng.random((n * h, l, s)) < 0.3
    mask[..., 0] = False  # every row keeps key 0 ...
    mask[1 * h + 2, 0] = True  # ... but this one  # item 1, head 2, query 0
    out, _ = check_mha(module, weights, h, query, key, key, attn_mask=mask)
    assert np.isfinite(out).all()
    out, _ = check_mha(module, weights, h, query, key, key, attn_mask=mask, need_weights=True)
    assert np.isnan(out[1, 0]).all() and np.isfinite(out[0]).all()


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("padding", [False, True])
def test_mha_is_causal_hint(need_weights, padding):
    """is_causal is a hint that attn_mask is causal: torch uses the causal mask and drops
    attn_mask when there is no key_padding_mask and need_weights is False, else attn_mask."""
    rng = case_rng(9, 2 * need_weights + padding)
    n, l, s, d, h = 2, 4, 6, 6, 3
    module, weights = mha_module(d, h, True, rng)
    query, key = rng.standard_normal((n, l, d)), rng.standard_normal((n, s, d))
    not_causal = rng.random((l, s)) < 0.3
    kwargs = dict(attn_mask=not_causal, need_weights=need_weights, is_causal=True)
    if padding:
        kwargs["key_padding_mask"] = rng.random((n, s)) < 0.2
    check_mha(module, weights, h, query, key, key, **kwargs)
    # without attn_mask (torch raises): the causal mask, top-left
    causal = ~np.tril(np.ones((l, s), dtype=bool))
    out, _ = ref.multi_head_attention(query, key, key, h, **weights, is_causal=True)
    expected = torch_mha(module, query, key, key, attn_mask=causal, need_weights=False)[0]
    assert_close(out, expected)


def test_mha_unbatched_and_no_bias():
    rng = case_rng(10, 0)
    l, s, d, h = 3, 5, 4, 2
    module, weights = mha_module(d, h, False, rng)
    query, key, value = rng.standard_normal((l, d)), *rng.standard_normal((2, s, d))
    kwargs = dict(
        attn_mask=rng.standard_normal((h, l, s)),
        key_padding_mask=np.array([False, True, False, False, True]),
        need_weights=True,
    )
    out, avg = check_mha(module, weights, h, query, key, value, **kwargs)
    assert out.shape == (l, d) and avg.shape == (l, s)


# ----------------------------------------------------------------------------- poolings


def torch_softmax(scores, mask):
    """Softmax over the last axis of the entries with mask True; no entry left: 0."""
    if mask is not None:
        scores = scores.masked_fill(~t(mask), -math.inf)
    return torch.softmax(scores, dim=-1).nan_to_num(0.0)


def pool_mask(rng, shape):
    """None a third of the time, else a bool mask (True = takes part) with some empty rows."""
    if rng.random() < 0.33:
        return None
    return empty_some_rows(rng, rng.random(shape) < 0.7, False)


def attention_inputs(rng):
    n, s = int(rng.integers(1, 4)), length(rng)
    dq, dk, dv, hidden = (int(x) for x in rng.integers(1, 8, size=4))
    query = rng.standard_normal((n, dq))
    keys, values = rng.standard_normal((n, s, dk)), rng.standard_normal((n, s, dv))
    return n, s, dq, dk, hidden, query, keys, values, pool_mask(rng, (n, s))


def check_pool(rng, fn, expected_fn, query, keys, values, mask, **kwargs):
    """fn against expected_fn (torch, batched), batched and (a third of the time) unbatched."""
    context, weights = fn(query, keys, values, mask=mask, **kwargs)
    expected_weights = expected_fn(t(query), t(keys))
    expected_weights = torch_softmax(expected_weights, mask)
    assert_close(weights, expected_weights)
    assert_close(context, torch.einsum("ns,nsd->nd", expected_weights, t(values)))
    if rng.random() < 0.33:
        one = None if mask is None else mask[0]
        context1, weights1 = fn(query[0], keys[0], values[0], mask=one, **kwargs)
        assert_close(context1, torch.from_numpy(context[0]))
        assert_close(weights1, torch.from_numpy(weights[0]))


@pytest.mark.parametrize("case", range(CASES // 2))
def test_additive_attention(case):
    rng = case_rng(11, case)
    n, s, dq, dk, hid, query, keys, values, mask = attention_inputs(rng)
    wq, wk, v = (
        rng.standard_normal((hid, dq)),
        rng.standard_normal((hid, dk)),
        rng.standard_normal(hid),
    )

    def expected(q, k):
        return torch.tanh((q @ t(wq).T)[:, None, :] + k @ t(wk).T) @ t(v)

    check_pool(
        rng, ref.additive_attention, expected, query, keys, values, mask, w_query=wq, w_key=wk, v=v
    )


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
@pytest.mark.parametrize("case", range(CASES // 4))
def test_luong_attention(score, case):
    rng = case_rng(12, case)
    n, s, dq, dk, hid, query, keys, values, mask = attention_inputs(rng)
    kwargs = dict(score=score)
    if score == "dot":
        keys = rng.standard_normal((n, s, dq))

        def expected(q, k):
            return torch.einsum("nsd,nd->ns", k, q)

    elif score == "general":
        w = rng.standard_normal((dk, dq))
        kwargs["weight"] = w

        def expected(q, k):
            return torch.einsum("nsd,nd->ns", k, q @ t(w).T)

    else:
        w, v = rng.standard_normal((hid, dq + dk)), rng.standard_normal(hid)
        kwargs.update(weight=w, v=v)

        def expected(q, k):
            both = torch.cat([q[:, None, :].expand(-1, k.shape[1], -1), k], dim=-1)
            return torch.tanh(both @ t(w).T) @ t(v)

    check_pool(rng, ref.luong_attention, expected, query, keys, values, mask, **kwargs)


@pytest.mark.parametrize("case", range(CASES // 2))
def test_self_attentive_pooling(case):
    rng = case_rng(13, case)
    n, steps, d = int(rng.integers(1, 4)), length(rng), int(rng.integers(1, 8))
    da, r = int(rng.integers(1, 8)), int(rng.integers(1, 5))
    hidden = rng.standard_normal((n, steps, d))
    w1, w2 = rng.standard_normal((da, d)), rng.standard_normal((r, da))
    mask = pool_mask(rng, (n, steps))
    m, a, penalty = ref.self_attentive_pooling(hidden, w1, w2, mask=mask)

    x = t(hidden)
    logits = (torch.tanh(x @ t(w1).T) @ t(w2).T).transpose(1, 2)  # (N, R, T)
    expected_a = torch_softmax(logits, None if mask is None else mask[:, None, :])
    gram = expected_a @ expected_a.transpose(1, 2) - torch.eye(r, dtype=torch.float64)
    assert_close(a, expected_a)
    assert_close(m, expected_a @ x)
    assert_close(penalty, torch.linalg.matrix_norm(gram, ord="fro") ** 2)
    if rng.random() < 0.33:
        one = None if mask is None else mask[0]
        m1, a1, p1 = ref.self_attentive_pooling(hidden[0], w1, w2, mask=one)
        assert m1.shape == (r, d) and a1.shape == (r, steps) and p1.shape == ()
        assert_close(m1, torch.from_numpy(m[0]))
        assert_close(a1, torch.from_numpy(a[0]))
        assert_close(p1, torch.from_numpy(penalty[0, ...]))


def test_poolings_without_keys_give_zero():
    """An item with no key (step) left: weights 0, context 0 (as torch's SDPA), penalty R."""
    rng = case_rng(14, 0)
    keys, values = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 5))
    mask = np.array([[True, False, True], [False, False, False]])
    context, weights = ref.luong_attention(rng.standard_normal((2, 4)), keys, values, mask=mask)
    assert np.all(context[1] == 0) and np.all(weights[1] == 0) and np.isfinite(context).all()
    assert weights[0, 1] == 0 and math.isclose(weights[0].sum(), 1.0)
    w1, w2 = rng.standard_normal((6, 4)), rng.standard_normal((2, 6))
    m, a, penalty = ref.self_attentive_pooling(keys, w1, w2, mask=mask)
    assert np.all(m[1] == 0) and np.all(a[1] == 0) and penalty[1] == 2.0

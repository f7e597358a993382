"""Attention as torch 2.13 defines it (torch.nn.functional / torch.nn.MultiheadAttention), and
three classic attention poolings, in NumPy.

Everything is computed in float64 and comes back as float64. Shapes use L query positions,
S key positions, E the query / key width, Ev the value width, H heads.

    sdpa      scores = scale q k^T + m                                   (..., L, S)
              out    = softmax_s(scores) v                               (..., L, Ev)
              scale defaults to 1 / sqrt(E); m is 0 / -inf from a bool mask (True = takes
              part), the float mask itself, or the causal mask of is_causal: query i sees the
              keys j <= i (top-left aligned, also for L != S: with L > S every row still sees
              key 0, with L < S the last S - L keys are seen by nobody). enable_gqa: query
              head h (axis -3) reads key / value head h // (Hq / Hkv).
    mha       q, k, v = query Wq^T + bq, key Wk^T + bk, value Wv^T + bv (in_proj = [Wq; Wk; Wv]),
              split into H heads of width D / H, sdpa per head with scale sqrt(H / D) and the
              additive mask attn_mask + key_padding_mask (bool True = masked OUT, torch's
              MultiheadAttention convention), heads concatenated, out = o Wo^T + bo; weights
              averaged over the heads.
    additive  e[n, s] = v . tanh(Wq q[n] + Wk k[n, s])                    (Bahdanau)
    luong     e[n, s] = k[n, s] . q[n] (dot), k[n, s] . (W q[n]) (general),
              v . tanh(W [q[n]; k[n, s]]) (concat)
              a = softmax_s(e) over the keys with mask True; context = a values.
    pooling   A = softmax_t(Ws2 tanh(Ws1 H^T)) (N, R, T), M = A H (N, R, D),
              penalty = ||A A^T - I||_F^2 (N,)                           (Lin et al. 2017)

Rows whose keys are all masked (every score -inf). torch 2.13 on the CPU gives 0 from
scaled_dot_product_attention there (both its fused CPU kernel and its math fallback use a
"safe" softmax that zeroes a row of -inf), for bool and for -inf float masks alike. The
reference does the same, and so do the three poolings here (weights 0, context 0).
torch.nn.MultiheadAttention is not consistent about it: with need_weights=False it calls
scaled_dot_product_attention (those rows give 0, so the output row is out_proj_bias), with
need_weights=True it calls softmax itself (those rows give NaN, in the weights and in the
output row). multi_head_attention reproduces both. (torch's inference fast path, taken in
eval mode without autograd for self-attention, gives NaN either way; it is not reproduced.)
"""

from __future__ import annotations

import math

import numpy as np

# ----------------------------------------------------------------------------- helpers


def _f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _softmax(x: np.ndarray, empty_rows_zero: bool = True) -> np.ndarray:
    """softmax over the last axis. A row of -inf gives 0 (torch's safe softmax) when
    empty_rows_zero, else NaN (torch.softmax)."""
    m = x.max(axis=-1, keepdims=True)
    empty = np.isneginf(m)
    if not empty_rows_zero:
        with np.errstate(invalid="ignore"):
            e = np.exp(x - m)  # -inf - -inf = NaN on empty rows, as torch.softmax
        return e / e.sum(axis=-1, keepdims=True)
    e = np.exp(x - np.where(empty, 0.0, m))  # empty rows: exp(-inf) = 0
    s = e.sum(axis=-1, keepdims=True)
    return e / np.where(empty, 1.0, s)


def _causal(l: int, s: int) -> np.ndarray:
    """(L, S) bool, True where query i may see key j: j <= i (top-left aligned)."""
    return np.arange(s)[None, :] <= np.arange(l)[:, None]


def _additive(mask, masked_out_if_true: bool) -> np.ndarray:
    """A bool or float mask as the float64 term added to the scores: a bool mask gives -inf
    where it excludes (True = excluded when masked_out_if_true, else False = excluded)."""
    mask = np.asarray(mask)
    if mask.dtype == np.bool_:
        excluded = mask if masked_out_if_true else ~mask
        return np.where(excluded, -np.inf, 0.0)
    return _f64(mask)


def _take_part(scores: np.ndarray, mask) -> np.ndarray:
    """scores with -inf where the bool mask (True = takes part) is False; mask None: all."""
    if mask is None:
        return scores
    return np.where(np.asarray(mask, dtype=bool), scores, -np.inf)


def _batched(x, ndim: int) -> tuple[np.ndarray, bool]:
    """float64 x with a leading batch axis added when it has ndim - 1 axes."""
    x = _f64(x)
    if x.ndim == ndim - 1:
        return x[None], True
    return x, False


# ----------------------------------------------------------------------------- SDPA


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
):
    """torch.nn.functional.scaled_dot_product_attention (without dropout): query (..., L, E),
    key (..., S, E), value (..., S, Ev) -> (..., L, Ev) = softmax(scale q k^T + m) v.

    scale defaults to 1 / sqrt(E). attn_mask is bool (True = takes part; -inf elsewhere) or
    float (added to the scaled scores), broadcast against (..., L, S). is_causal: query i sees
    keys j <= i, top-left aligned for L != S (torch's; not flash-attn's bottom-right).
    enable_gqa: the head axis (-3) of key and value may divide query's; query head h reads
    key / value head h // (Hq / Hkv) (torch's repeat_interleave). A row with no key left
    gives 0 (torch 2.13 on the CPU). Materializes the (..., L, S) scores: this is the
    baseline, not a kernel.
    """
    if dropout_p != 0.0:
        raise ValueError("scaled_dot_product_attention: dropout_p must be 0 in the reference")
    q, k, v = _f64(query), _f64(key), _f64(value)
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        groups = q.shape[-3] // k.shape[-3]
        k = np.repeat(k, groups, axis=-3)
        v = np.repeat(v, groups, axis=-3)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * float(scale)  # (..., L, S)
    if is_causal:
        scores = _take_part(scores, _causal(q.shape[-2], k.shape[-2]))
    elif attn_mask is not None:
        mask = np.asarray(attn_mask)
        if mask.dtype == np.bool_:
            scores = _take_part(scores, mask)
        else:
            scores = scores + _f64(mask)
    return np.matmul(_softmax(scores), v)


# ----------------------------------------------------------------------------- MHA


def multi_head_attention(
    query,
    key,
    value,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    out_proj_weight,
    out_proj_bias,
    attn_mask=None,
    key_padding_mask=None,
    is_causal=False,
    need_weights=False,
):
    """torch.nn.MultiheadAttention(batch_first=True) forward (no dropout, no bias_kv, no
    zero_attn, kdim = vdim = D): query (N, L, D), key and value (N, S, D) -> (output (N, L, D),
    weights (N, L, S) averaged over the heads, or None); unbatched (L, D) / (S, D) input gives
    (L, D) and (L, S).

    q, k, v = x W^T + b with W the three (D, D) blocks of in_proj_weight (bias None: 0); each
    of the num_heads heads of width hd = D / num_heads computes softmax(q k^T / sqrt(hd) + m) v;
    the heads are concatenated and projected by out_proj. m = attn_mask ((L, S) or
    (N * num_heads, L, S), item n head h at n * num_heads + h) + key_padding_mask ((N, S),
    broadcast over heads and queries); a bool mask is True where a key is masked OUT (-inf),
    a float one is added. is_causal is torch's hint that attn_mask is the causal mask: torch
    then uses the causal mask itself (top-left, j <= i) and drops attn_mask when there is no
    key_padding_mask and need_weights is False, else it uses attn_mask; this does the same,
    and without attn_mask (torch raises) uses the causal mask. Rows with no key left give 0
    with need_weights=False and NaN with need_weights=True, as torch (see the module doc).
    """
    q, unbatched = _batched(query, 3)
    k, _ = _batched(key, 3)
    v, _ = _batched(value, 3)
    n, l, d = q.shape
    s = k.shape[1]
    h = int(num_heads)
    hd = d // h
    w_in = _f64(in_proj_weight)
    b_in = np.zeros(3 * d) if in_proj_bias is None else _f64(in_proj_bias)
    heads = []
    for i, x in enumerate((q, k, v)):  # (N, T, D) -> (N, H, T, hd)
        y = np.matmul(x, w_in[i * d : (i + 1) * d].T) + b_in[i * d : (i + 1) * d]
        heads.append(y.reshape(n, -1, h, hd).transpose(0, 2, 1, 3))
    qh, kh, vh = heads

    mask = np.zeros((1, 1, 1, 1))
    if is_causal and (attn_mask is None or (key_padding_mask is None and not need_weights)):
        mask = np.where(_causal(l, s), 0.0, -np.inf)
    elif attn_mask is not None:
        am = _additive(attn_mask, masked_out_if_true=True)
        mask = am.reshape(n, h, l, s) if am.ndim == 3 else am
    if key_padding_mask is not None:
        kpm = _additive(key_padding_mask, masked_out_if_true=True).reshape(n, 1, 1, s)
        mask = mask + kpm

    scores = np.matmul(qh, np.swapaxes(kh, -1, -2)) / math.sqrt(hd) + mask  # (N, H, L, S)
    weights = _softmax(scores, empty_rows_zero=not need_weights)
    o = np.matmul(weights, vh).transpose(0, 2, 1, 3).reshape(n, l, d)
    out = np.matmul(o, _f64(out_proj_weight).T)
    if out_proj_bias is not None:
        out = out + _f64(out_proj_bias)
    avg = weights.mean(axis=1) if need_weights else None
    if unbatched:
        return out[0], (None if avg is None else avg[0])
    return out, avg


# ----------------------------------------------------------------------------- poolings


def _attend(scores, values, mask) -> tuple[np.ndarray, np.ndarray]:
    """softmax over the keys (mask True = takes part; no key left: weights 0) and the
    weighted sum of values: scores (N, S), values (N, S, Dv) -> ((N, Dv), (N, S))."""
    weights = _softmax(_take_part(scores, mask))
    context = np.matmul(weights[:, None, :], values)[:, 0]
    return context, weights


def additive_attention(query, keys, values, w_query, w_key, v, mask=None):
    """Bahdanau (additive) attention: query (N, Dq), keys (N, S, Dk), values (N, S, Dv),
    w_query (H, Dq), w_key (H, Dk), v (H,); score[n, s] = v . tanh(w_query q[n] +
    w_key k[n, s]); weights = softmax over s of the keys with mask (N, S) True (all if
    None; none: weights 0); context = weights values. Returns (context (N, Dv), weights
    (N, S)); unbatched query (Dq,) with keys (S, Dk), values (S, Dv), mask (S,) gives
    ((Dv,), (S,))."""
    q, unbatched = _batched(query, 2)
    keys, _ = _batched(keys, 3)
    values, _ = _batched(values, 3)
    if mask is not None and unbatched:
        mask = np.asarray(mask)[None]
    hidden = np.matmul(q, _f64(w_query).T)[:, None, :] + np.matmul(keys, _f64(w_key).T)
    scores = np.matmul(np.tanh(hidden), _f64(v))  # (N, S)
    context, weights = _attend(scores, values, mask)
    if unbatched:
        return context[0], weights[0]
    return context, weights


def luong_attention(query, keys, values, score="dot", weight=None, v=None, mask=None):
    """Luong (multiplicative) attention: query (N, Dq), keys (N, S, Dk), values (N, S, Dv);
    score[n, s] = k[n, s] . q[n] ("dot", Dk = Dq), k[n, s] . (weight q[n]) ("general",
    weight (Dk, Dq)) or v . tanh(weight [q[n]; k[n, s]]) ("concat", weight (H, Dq + Dk),
    v (H,)); weights and context as additive_attention. Returns (context (N, Dv), weights
    (N, S)); unbatched as additive_attention."""
    q, unbatched = _batched(query, 2)
    keys, _ = _batched(keys, 3)
    values, _ = _batched(values, 3)
    if mask is not None and unbatched:
        mask = np.asarray(mask)[None]
    if score == "dot":
        scores = np.matmul(keys, q[:, :, None])[:, :, 0]
    elif score == "general":
        wq = np.matmul(q, _f64(weight).T)  # (N, Dk)
        scores = np.matmul(keys, wq[:, :, None])[:, :, 0]
    elif score == "concat":
        w = _f64(weight)
        dq = q.shape[1]
        hidden = np.matmul(q, w[:, :dq].T)[:, None, :] + np.matmul(keys, w[:, dq:].T)
        scores = np.matmul(np.tanh(hidden), _f64(v))
    else:
        raise ValueError(f"luong_attention: score must be dot, general or concat, got {score!r}")
    context, weights = _attend(scores, values, mask)
    if unbatched:
        return context[0], weights[0]
    return context, weights


def self_attentive_pooling(hidden, w_s1, w_s2, mask=None):
    """Structured self-attentive pooling (Lin et al. 2017): hidden (N, T, D), w_s1 (Da, D),
    w_s2 (R, Da); A = softmax over t of w_s2 tanh(w_s1 H^T) (N, R, T), over the steps with
    mask (N, T) True (none: A 0); M = A H (N, R, D); penalty = ||A A^T - I||_F^2 (N,).
    Returns (M, A, penalty); unbatched hidden (T, D) gives (R, D), (R, T) and a 0-d penalty."""
    x, unbatched = _batched(hidden, 3)
    if mask is not None and unbatched:
        mask = np.asarray(mask)[None]
    logits = np.matmul(np.tanh(np.matmul(x, _f64(w_s1).T)), _f64(w_s2).T)  # (N, T, R)
    logits = logits.transpose(0, 2, 1)  # (N, R, T)
    if mask is not None:
        logits = _take_part(logits, np.asarray(mask, dtype=bool)[:, None, :])
    a = _softmax(logits)
    m = np.matmul(a, x)
    r = a.shape[1]
    gram = np.matmul(a, a.transpose(0, 2, 1)) - np.eye(r)
    penalty = np.square(gram).sum(axis=(1, 2))
    if unbatched:
        return m[0], a[0], penalty[0, ...]
    return m, a, penalty

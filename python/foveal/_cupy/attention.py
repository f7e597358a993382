"""The attention half of ``foveal.nn`` on CuPy arrays (the fallback for builds without the
_cuda module): scaled dot-product attention with torch 2.13's numbers.

Every function takes the array module ``xp`` first (``cupy`` on the GPU; only the part of the
array API that NumPy and CuPy share is used, so the tests run it with ``xp=numpy``), then the
arguments already validated and normalized by the wrapper in ``foveal.attention``. Arithmetic
is in the input's dtype (float32 or float64); each function returns new arrays of that dtype
and never mutates its input.

- :func:`sdpa`: q (B, Hq, L, E), k (B, Hkv, S, E), v (B, Hkv, S, Ev), Hkv dividing Hq (query
  head h reads kv head h // (Hq // Hkv)); mask None or an additive float array broadcastable
  to (B, Hq, L, S) (the wrapper has turned bool masks into 0 / -inf); scale a float. The
  scores are never formed whole: the output is computed block by block, a block being a slice
  of the batch, of the kv heads (with all the query heads that read them) and of the query
  rows, sized so that its scores stay under ``SCORES_BYTES``. The query heads that share a kv
  head are stacked along the rows, so a block is one batched ``matmul`` against the kv heads
  as stored (nothing is repeated). Softmax is max-subtracted; the row sums divide the
  (rows, Ev) product, not the (rows, S) weights. With ``is_causal`` query i sees keys
  j <= i, top-left aligned as torch's (for L > S the rows past S see every key; for L < S
  the last S - L keys are seen by nobody); a block of rows [l0, l1) only computes scores
  against keys [0, min(S, l1)).
- the additive, Luong and self-attentive forms are in ``foveal._attention_forms`` (array
  compositions that serve NumPy and CuPy alike).

Rows whose keys are all masked (every score -inf): torch 2.13's CPU
scaled_dot_product_attention gives 0 there (its "safe" softmax), for bool and for -inf float
masks alike, and so does :func:`sdpa`. The three poolings follow foveal's reference
(``foveal.reference.attention``): weights 0 and context 0 for such rows (torch.softmax itself
would give NaN). A +inf or NaN score still gives NaN, as in torch (inf - inf in the
max-subtraction).
"""

from __future__ import annotations

import math

from .._attention_forms import _exp_shifted

#: Most bytes of attention scores (one block of queries against its keys) that sdpa forms at
#: once; the exponentials take as much again while a block is in flight.
SCORES_BYTES = 128 << 20


# --------------------------------------------------------------------------------------------
# scaled dot-product attention
# --------------------------------------------------------------------------------------------


def _blocks(b, hkv, group, l, s, itemsize, budget):
    """(b0, b1, h0, h1, l0, l1) blocks covering batch x kv heads x query rows, each with scores
    (b1-b0) * (h1-h0) * group * (l1-l0) * s * itemsize under ``budget`` when a single query
    row of one kv head's group fits it (else one row at a time): whole batch items while
    they fit, else whole kv heads of one item, else rows of one kv head."""
    row = group * max(s, 1) * itemsize  # one query row of one kv head's query heads
    rows = max(1, budget // row)
    if rows < l:
        for b0 in range(b):
            for h0 in range(hkv):
                for l0 in range(0, l, rows):
                    yield b0, b0 + 1, h0, h0 + 1, l0, min(l, l0 + rows)
        return
    heads = rows // l
    if heads < hkv:
        for b0 in range(b):
            for h0 in range(0, hkv, heads):
                yield b0, b0 + 1, h0, min(hkv, h0 + heads), 0, l
        return
    items = heads // hkv
    for b0 in range(0, b, items):
        yield b0, min(b, b0 + items), 0, hkv, 0, l


def sdpa(xp, q, k, v, mask, is_causal, scale):
    """torch.nn.functional.scaled_dot_product_attention (no dropout):
    out = softmax(scale * q k^T + mask) v with q (B, Hq, L, E), k (B, Hkv, S, E),
    v (B, Hkv, S, Ev) -> (B, Hq, L, Ev); query head h reads kv head h // (Hq // Hkv).
    ``mask`` None or additive float broadcastable to (B, Hq, L, S); ``is_causal``: query i
    sees keys j <= i (top-left). A row with no key left gives 0, as torch's CPU kernel.
    Computed in blocks whose scores stay under ``SCORES_BYTES``."""
    dtype = q.dtype
    b, hq, l, e = q.shape
    hkv, s, ev = v.shape[1], v.shape[2], v.shape[3]
    group = hq // hkv
    out = xp.empty((b, hq, l, ev), dtype=dtype)
    if s == 0:  # no keys at all: torch gives 0
        out[...] = 0
        return out
    if mask is not None:
        mask = xp.broadcast_to(mask, (b, hq, l, s))  # a view: sliced per block below
    scale = dtype.type(scale)
    neg_inf = dtype.type(-math.inf)
    for b0, b1, h0, h1, l0, l1 in _blocks(b, hkv, group, l, s, dtype.itemsize, SCORES_BYTES):
        nb, nh, lb = b1 - b0, h1 - h0, l1 - l0
        q0, q1 = h0 * group, h1 * group
        send = min(s, l1) if is_causal else s  # keys past the block's last row: all masked
        # the group's query heads stacked along the rows: one matmul per kv head
        qb = q[b0:b1, q0:q1, l0:l1].reshape(nb, nh, group * lb, e)
        scores = xp.matmul(qb, xp.swapaxes(k[b0:b1, h0:h1, :send], -1, -2))
        scores = scores.reshape(nb, nh * group, lb, send)  # (items, query heads, rows, keys)
        scores *= scale
        if is_causal:
            rows = xp.arange(l0, l1).reshape(lb, 1)
            scores = xp.where(xp.arange(send).reshape(1, send) <= rows, scores, neg_inf)
        elif mask is not None:
            scores += mask[b0:b1, q0:q1, l0:l1, :send]
        ex, sums, empty = _exp_shifted(xp, scores)
        ctx = xp.matmul(ex.reshape(nb, nh, group * lb, send), v[b0:b1, h0:h1, :send])
        ctx = ctx.reshape(nb, nh * group, lb, ev)
        out[b0:b1, q0:q1, l0:l1] = ctx / xp.where(empty, dtype.type(1), sums)
    return out

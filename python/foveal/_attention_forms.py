"""The additive (Bahdanau), Luong and structured self-attentive forms of attention, written once
for NumPy and CuPy alike: each function takes the array module ``xp`` first (numpy on the CPU,
cupy on the GPU), then the arguments already validated and normalized by ``foveal.attention``
(batched: q (N, Dq), k (N, S, Dk), v (N, S, Dv); hidden (N, T, D); masks bool, True = takes
part, or None). Arithmetic in the input's dtype; new arrays returned, inputs never mutated.
They are small compositions of ``matmul`` and ``tanh`` over the batch, run by the BLAS of the
array module: there is no fused kernel to write for them.

Rows whose keys are all masked give weights 0 and context 0 (foveal's reference; torch.softmax
itself would give NaN, torch's scaled_dot_product_attention gives 0). A +inf or NaN score
still gives NaN (inf - inf in the max-subtraction).
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------------------------


def _exp_shifted(xp, scores):
    """exp(scores - row max) over the last axis, in place, and the row sums: (e, sums, empty)
    with ``empty`` True on rows of -inf only (their e is 0 and their sum is 0)."""
    m = scores.max(axis=-1, keepdims=True)
    empty = m == -math.inf
    with np.errstate(invalid="ignore"):  # NumPy only: a +inf score gives NaN, as in torch
        scores -= xp.where(empty, m.dtype.type(0), m)
    xp.exp(scores, out=scores)
    return scores, scores.sum(axis=-1, keepdims=True), empty


def _softmax(xp, scores, mask):
    """Softmax over the last axis of the entries where ``mask`` (broadcast, bool; None: all)
    is True; a row with no entry left gives 0 (foveal's reference). ``scores`` is consumed."""
    if mask is not None:
        scores = xp.where(mask, scores, scores.dtype.type(-math.inf))
    e, sums, empty = _exp_shifted(xp, scores)
    return e / xp.where(empty, sums.dtype.type(1), sums)


# --------------------------------------------------------------------------------------------
# additive, Luong and self-attentive forms
# --------------------------------------------------------------------------------------------


def _attend(xp, scores, v, mask):
    """weights = masked softmax of scores (N, S) (mask (N, S) bool True = takes part, or
    None); context = weights @ v (N, S, Dv). Returns (context (N, Dv), weights (N, S))."""
    weights = _softmax(xp, scores, mask)
    context = xp.matmul(weights[:, None, :], v)[:, 0]
    return context, weights


def additive(xp, q, k, v, w_query, w_key, vvec, mask):
    """Bahdanau attention: q (N, Dq), k (N, S, Dk), v (N, S, Dv), w_query (H, Dq),
    w_key (H, Dk), vvec (H,); score[n, s] = vvec . tanh(w_query q[n] + w_key k[n, s]);
    weights = softmax over the keys with mask (N, S) True (None: all; none: 0);
    context = weights v. Returns (context (N, Dv), weights (N, S))."""
    hidden = xp.matmul(k, w_key.T)  # (N, S, H)
    hidden += xp.matmul(q, w_query.T)[:, None, :]
    scores = xp.matmul(xp.tanh(hidden), vvec)  # (N, S)
    return _attend(xp, scores, v, mask)


def luong(xp, q, k, v, score, weight, vvec, mask):
    """Luong attention: q (N, Dq), k (N, S, Dk), v (N, S, Dv); score[n, s] = k[n, s] . q[n]
    ("dot"), k[n, s] . (weight q[n]) ("general", weight (Dk, Dq)) or
    vvec . tanh(weight [q[n]; k[n, s]]) ("concat", weight (H, Dq + Dk), vvec (H,)); weights
    and context as :func:`additive`. Returns (context (N, Dv), weights (N, S))."""
    if score == "dot":
        scores = xp.matmul(k, q[:, :, None])[:, :, 0]
    elif score == "general":
        scores = xp.matmul(k, xp.matmul(q, weight.T)[:, :, None])[:, :, 0]
    elif score == "concat":
        dq = q.shape[1]
        hidden = xp.matmul(k, weight[:, dq:].T)  # (N, S, H)
        hidden += xp.matmul(q, weight[:, :dq].T)[:, None, :]
        scores = xp.matmul(xp.tanh(hidden), vvec)
    else:
        raise ValueError(f"luong_attention: score must be dot, general or concat, got {score!r}")
    return _attend(xp, scores, v, mask)


def self_attentive(xp, h, w_s1, w_s2, mask):
    """Structured self-attentive pooling (Lin et al. 2017): h (N, T, D), w_s1 (Da, D),
    w_s2 (R, Da); A = softmax over t of w_s2 tanh(w_s1 h^T) (N, R, T), over the steps with
    mask (N, T) True (None: all; none: A 0); M = A h (N, R, D);
    penalty = ||A A^T - I||_F^2 (N,). Returns (M, A, penalty)."""
    logits = xp.matmul(xp.tanh(xp.matmul(h, w_s1.T)), w_s2.T)  # (N, T, R)
    logits = xp.swapaxes(logits, 1, 2)  # (N, R, T)
    a = _softmax(xp, logits, None if mask is None else mask[:, None, :])
    m = xp.matmul(a, h)
    gram = xp.matmul(a, xp.swapaxes(a, 1, 2))
    gram -= xp.eye(a.shape[1], dtype=a.dtype)
    penalty = (gram * gram).sum(axis=(1, 2))
    return m, a, penalty

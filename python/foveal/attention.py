"""Attention with torch's arguments and numbers: fused scaled dot-product attention, multi-head
attention, and the additive (Bahdanau), multiplicative (Luong) and structured self-attentive
forms. Re-exported by :mod:`foveal.nn`.

NumPy arrays, torch tensors (CPU or CUDA), CuPy arrays and any DLPack object are accepted and
the results come back in the same kind; float32 and float64 on the CPU.
:func:`scaled_dot_product_attention` runs foveal's fused C++ kernel (tiles of queries against
tiles of keys with an online softmax: memory O(L*E), never O(L*S)); multi-head attention runs it
between its projections. The additive, Luong and self-attentive forms are small array
compositions (foveal._attention_forms) run by NumPy on the CPU and CuPy on the GPU.

>>> import numpy as np, foveal.nn as fnn
>>> q = np.random.default_rng(0).standard_normal((2, 4, 16, 8)).astype(np.float32)
>>> fnn.scaled_dot_product_attention(q, q, q, is_causal=True).shape
(2, 4, 16, 8)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from . import _dispatch as dsp
from . import _validate as val
from ._backend import _core
from ._typing import Array

__all__ = [
    "additive_attention",
    "luong_attention",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "self_attentive_pooling",
]

FLOAT_DTYPES = ("float32", "float64")
# What CuPy input takes besides: the fused CUDA kernel's float16 (bfloat16 comes as torch tensors).
GPU_DTYPES = ("float16",)
# What a row gives when none of its keys takes part (torch 2.13's CPU kernel: zeros).
EMPTY_ROW = 0.0


def _fallbacks():
    from ._cupy import attention as cupy_attention

    return cupy_attention


def _xp():
    import cupy

    return cupy


def _float(obj, fn: str, name: str, *, min_ndim: int = 1, ndims=None):
    """``(array, kind)`` for a float32 / float64 argument."""
    arr, kind = dsp.float_array(obj, fn, name)
    if ndims is not None and arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{fn}: {name} must be {want}, got {arr.ndim}-D shape {arr.shape}")
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{fn}: {name} must have at least {min_ndim} dimensions, got shape {arr.shape}"
        )
    # A strided argument is copied once: NumPy's matrix products (the projections, the forms)
    # round differently by memory layout, and a result must not depend on the layout.
    return (_xp() if dsp.is_cupy(arr) else np).ascontiguousarray(arr), kind


def _same(arr, ref, fn: str, name: str, ref_name: str):
    if arr.dtype != ref.dtype:
        raise TypeError(f"{fn}: {name} dtype {arr.dtype} differs from {ref_name}'s {ref.dtype}")
    if dsp.is_cupy(arr) != dsp.is_cupy(ref):
        raise TypeError(f"{fn}: {name} must live on the same device as {ref_name}")


def _additive_mask(mask, dtype, fn: str, *, true_means_keep: bool = True):
    """A mask argument as an additive float array of its own shape (no broadcast copy): bool
    masks become 0 where a key takes part and -inf where not; float masks are cast."""
    arr, _ = dsp.to_array(mask, fn, "attn_mask", (*FLOAT_DTYPES, "bool"))
    if arr.dtype == np.bool_:
        keep = arr if true_means_keep else ~arr
        xp = _xp() if dsp.is_cupy(arr) else np
        return xp.where(keep, dtype.type(0), dtype.type(-np.inf)).astype(dtype)
    if arr.dtype.kind != "f":
        raise TypeError(f"{fn}: attn_mask must be bool or floating, got dtype {arr.dtype}")
    if arr.dtype != dtype:
        raise TypeError(
            f"{fn}: attn_mask dtype {arr.dtype} differs from query's {dtype} (use bool or the "
            "query's dtype)"
        )
    return arr


def scaled_dot_product_attention(
    query: Array,
    key: Array,
    value: Array,
    attn_mask: Array | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    out: Array | None = None,
) -> Any:
    """Scaled dot-product attention, as ``torch.nn.functional.scaled_dot_product_attention``:
    softmax(query @ key^T * scale + mask) @ value.

    Fused: tiles of 48 queries against tiles of 128 keys with an online softmax, register-tiled
    products per instruction set, threads over batches, heads and query tiles; causal tiles
    above the diagonal are skipped. Memory O(L*E + S*E), never O(L*S).

    On the GPU (CuPy arrays, torch CUDA tensors) with foveal's CUDA kernels, a fused
    tensor-core kernel (FlashAttention-2's forward pass, cuda/attention_kernel.cuh) takes
    float16 and bfloat16 (float32 accumulation) and float32 (3xTF32: float32's accuracy) with
    heads up to 256, on the caller's stream; float64, wider heads and builds without the
    kernels take CuPy's matrix products (float16 in float32; bfloat16 torch tensors are
    computed in float32 and rounded back).

    Args:
        query: (..., L, E), float32 or float64 (NumPy, CuPy, torch or any DLPack object); on the
            GPU also float16, and bfloat16 torch CUDA tensors.
        key: (..., S, E), the query's dtype and device, the same leading dimensions.
        value: (..., S, Ev), likewise.
        attn_mask: None, or broadcastable to (..., L, S): bool (True: the key takes part) or
            float of the query's dtype (added to the scaled scores).
        dropout_p: must be 0 (dropout is not implemented).
        is_causal: query i sees keys j <= i (top-left aligned when L != S, as torch); not
            together with ``attn_mask``.
        scale: the factor on the scores; None means 1/sqrt(E).
        enable_gqa: grouped-query attention: the head dimension -3 of key and value may divide
            the query's, query head h reading key/value head h // (Hq // Hkv).
        out: an array of the result's shape and dtype to write to.

    Returns:
        (..., L, Ev) in the query's dtype and kind, or ``out``. Rows none of whose keys take
        part give zeros (as torch's CPU kernel).

    >>> q = np.eye(2, 3)[None]; k = np.eye(2, 3)[None]; v = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    >>> foveal.nn.scaled_dot_product_attention(q, k, v, scale=100.0).round(6)
    array([[[1., 0.],
            [0., 1.]]])
    """
    fn = "scaled_dot_product_attention"

    def plan(q_shape, k_shape, v_shape):
        return _sdpa_plan(
            fn, q_shape, k_shape, v_shape, dropout_p, is_causal, attn_mask, scale, enable_gqa
        )

    if _gpu_attention().is_cuda_bfloat16(query):  # CuPy has no bfloat16: torch's own route
        return _gpu_attention().sdpa_torch(
            query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa, out, plan
        )
    q, kind = _sdpa_operand(query, fn, "query")
    k, _ = _sdpa_operand(key, fn, "key")
    v, _ = _sdpa_operand(value, fn, "value")
    _same(k, q, fn, "key", "query")
    _same(v, q, fn, "value", "query")
    z = plan(q.shape, k.shape, v.shape)
    if dsp.is_cupy(q):
        return _sdpa_device(fn, q, k, v, kind, attn_mask, bool(is_causal), z, out)
    lead, L, S, E, Ev, b, hq, hkv, sc = z
    mask = None
    if attn_mask is not None:
        mask = _additive_mask(attn_mask, q.dtype, fn)
        if dsp.is_cupy(mask):
            raise TypeError(f"{fn}: attn_mask must live on the same device as query")
        mask = _broadcast_mask(np, mask, z, fn)

    shape = (*lead, L, Ev)
    out_arr: Any = None  # a NumPy array
    if out is not None:
        out_arr, _ = dsp.to_array(out, fn, "out", FLOAT_DTYPES, output=True)
        val.check_out(out_arr, shape, q.dtype, fn)
        if dsp.is_cupy(out_arr):
            raise TypeError(f"{fn}: out must live on the same device as query")
    q4 = q.reshape(b, hq, L, E)
    k4 = k.reshape(b, hkv, S, E)
    v4 = v.reshape(b, hkv, S, Ev)
    # the kernel reads the inputs (the mask too) while it writes out=: never the same memory
    reads = (q, k, v) if mask is None else (q, k, v, mask)
    overlap = out_arr is not None and any(np.may_share_memory(out_arr, a) for a in reads)
    direct = out_arr is not None and out_arr.flags.c_contiguous and not overlap
    dst = out_arr.reshape(b, hq, L, Ev) if direct else dsp.new_array((b, hq, L, Ev), q.dtype)
    _core.scaled_dot_product_attention(
        np.ascontiguousarray(q4),
        np.ascontiguousarray(k4),
        np.ascontiguousarray(v4),
        dst,
        mask,
        sc,
        bool(is_causal),
        EMPTY_ROW,
    )
    if direct:
        return out
    return dsp.deliver(kind, out, out_arr, dst.reshape(shape))


def _gpu_attention():
    from ._gpu import attention as gpu_attention

    return gpu_attention


def _sdpa_operand(obj, fn: str, name: str):
    """``(array, kind)`` for query, key or value: float32 / float64 (float16 too on the GPU),
    at least 2-D, as the caller gave it (no copy)."""
    arr, kind = dsp.to_array(obj, fn, name, FLOAT_DTYPES)
    gpu = dsp.is_cupy(arr)
    allowed = (*GPU_DTYPES, *FLOAT_DTYPES) if gpu else FLOAT_DTYPES
    if arr.dtype.name not in allowed:
        where, extra = (" on the GPU", "; bfloat16 as torch CUDA tensors") if gpu else ("", "")
        raise TypeError(
            f"{fn}: {name} dtype {arr.dtype} is not supported{where} (supported: "
            f"{', '.join(allowed)}{extra})"
        )
    if arr.ndim < 2:
        raise ValueError(f"{fn}: {name} must have at least 2 dimensions, got shape {arr.shape}")
    return arr, kind


class _SdpaPlan(NamedTuple):
    lead: tuple  # the leading (batch, head) dimensions of query and of the result
    L: int
    S: int
    E: int
    Ev: int
    b: int  # the leading dimensions but the heads, flattened
    hq: int
    hkv: int
    scale: float


def _sdpa_plan(
    fn, q_shape, k_shape, v_shape, dropout_p, is_causal, attn_mask, scale, enable_gqa
) -> _SdpaPlan:
    """The sizes of an attention call, its shapes and scalar arguments checked (torch's rules)."""
    q_shape, k_shape, v_shape = tuple(q_shape), tuple(k_shape), tuple(v_shape)
    ndim = len(q_shape)
    if len(k_shape) != ndim or len(v_shape) != ndim:
        raise ValueError(
            f"{fn}: query, key and value must have the same rank, got shapes {q_shape}, "
            f"{k_shape}, {v_shape}"
        )
    dropout = val.as_number(dropout_p, fn, "dropout_p")
    if dropout != 0.0:
        raise ValueError(f"{fn}: dropout_p must be 0 (dropout is not implemented), got {dropout}")
    L, E = q_shape[-2:]
    S, Ev = v_shape[-2:]
    if k_shape[-2] != S or k_shape[-1] != E:
        raise ValueError(
            f"{fn}: key must be (..., {S}, {E}) to match value's S and query's E, got {k_shape}"
        )
    if min(L, E, S, Ev) == 0:
        raise ValueError(
            f"{fn}: sequence lengths and head sizes must be >= 1, got query {q_shape}, key "
            f"{k_shape}, value {v_shape}"
        )
    lead = q_shape[:-2]
    if bool(enable_gqa) and ndim >= 3:
        hq, hkv = q_shape[-3], k_shape[-3]
        same_rest = k_shape[:-3] == lead[:-1] and v_shape[:-3] == lead[:-1]
        if not same_rest or v_shape[-3] != hkv or hkv == 0 or hq % hkv:
            raise ValueError(
                f"{fn}: with enable_gqa, key and value must match query's leading dimensions "
                f"but the heads (-3), whose count must divide query's {hq}; got query "
                f"{q_shape}, key {k_shape}, value {v_shape}"
            )
    elif k_shape[:-2] != lead or v_shape[:-2] != lead:
        raise ValueError(
            f"{fn}: query, key and value must have the same leading dimensions, got "
            f"{q_shape}, {k_shape}, {v_shape} (enable_gqa=True for fewer key/value heads)"
        )
    if is_causal and attn_mask is not None:
        raise ValueError(f"{fn}: attn_mask and is_causal cannot both be given")
    sc = 1.0 / math.sqrt(E) if scale is None else val.as_number(scale, fn, "scale")
    hq = q_shape[-3] if ndim >= 3 else 1
    hkv = k_shape[-3] if ndim >= 3 else 1
    b = int(np.prod(lead[:-1])) if ndim >= 3 else 1
    return _SdpaPlan(lead, L, S, E, Ev, b, hq, hkv, sc)


def _broadcast_mask(xp, mask, z: _SdpaPlan, fn: str):
    """``mask`` broadcast to (..., L, S) (a view, stride 0 along broadcast dimensions) and
    reshaped to (b, hq, L, S)."""
    try:
        mask = xp.broadcast_to(mask, (*z.lead, z.L, z.S))
    except ValueError:
        raise ValueError(
            f"{fn}: attn_mask of shape {mask.shape} does not broadcast to {(*z.lead, z.L, z.S)}"
        ) from None
    return mask.reshape(z.b, z.hq, z.L, z.S)


def _sdpa_device(fn, q, k, v, kind, attn_mask, is_causal, z: _SdpaPlan, out):
    """scaled_dot_product_attention of CuPy arrays: the fused CUDA kernel where it takes the
    call (foveal._gpu.attention: float16, float32, heads up to 256, the _cuda module and a
    device), else the CuPy fallback (float16 computed in float32 and rounded back)."""
    from . import _gpu

    shape = (*z.lead, z.L, z.Ev)
    out_arr: Any = None
    if out is not None:
        out_arr, _ = dsp.to_array(out, fn, "out", (*GPU_DTYPES, *FLOAT_DTYPES), output=True)
        val.check_out(out_arr, shape, q.dtype, fn)
        if not dsp.is_cupy(out_arr):
            raise TypeError(f"{fn}: out must live on the same device as query")
    mask = None
    if attn_mask is not None:
        mask, _ = dsp.to_array(attn_mask, fn, "attn_mask", (*GPU_DTYPES, *FLOAT_DTYPES, "bool"))
        if not dsp.is_cupy(mask):
            raise TypeError(f"{fn}: attn_mask must live on the same device as query")
        if mask.dtype != np.bool_ and mask.dtype != q.dtype:
            raise TypeError(
                f"{fn}: attn_mask dtype {mask.dtype} differs from query's {q.dtype} (use bool "
                "or the query's dtype)"
            )
    route = _gpu_attention()
    dev = _gpu.device(q, kind) if route.supported(q.dtype.name, z.E, z.Ev) else None
    if dev is not None:
        with dev:
            return _sdpa_on_device(
                dev, route, (q, k, v, mask), z, is_causal, (out, out_arr, kind, shape), fn
            )
    xp = _xp()
    work = np.dtype(np.float32) if q.dtype == np.float16 else q.dtype
    if mask is not None:
        widened = mask if mask.dtype == np.bool_ else mask.astype(work, copy=False)
        mask = _broadcast_mask(xp, _additive_mask(widened, work, fn), z, fn)
    # A strided argument is copied once (the matrix products round by memory layout).
    q4, k4, v4 = (
        xp.ascontiguousarray(a).astype(work, copy=False).reshape(z.b, h, n, a.shape[-1])
        for a, h, n in ((q, z.hq, z.L), (k, z.hkv, z.S), (v, z.hkv, z.S))
    )
    res = _fallbacks().sdpa(xp, q4, k4, v4, mask, is_causal, z.scale)
    return dsp.deliver(kind, out, out_arr, res.astype(q.dtype, copy=False).reshape(shape))


def _module_of(arr):
    return _xp() if dsp.is_cupy(arr) else np


def _param(obj, ref, fn: str, name: str, shape, ref_name: str = "query"):
    """A weight or bias of exactly ``shape``, of ``ref``'s dtype and device."""
    arr, _ = _float(obj, fn, name)
    _same(arr, ref, fn, name, ref_name)
    if tuple(arr.shape) != tuple(shape):
        raise ValueError(f"{fn}: {name} must have shape {tuple(shape)}, got {tuple(arr.shape)}")
    return arr


def _mha_mask(mask, name: str, dtype, fn: str, shape_ok, expand):
    """torch.nn.MultiheadAttention's masks: bool True = masked out, float added; returned as
    an additive float array shaped by ``expand``."""
    arr, _ = dsp.to_array(mask, fn, name, (*FLOAT_DTYPES, "bool"))
    if not shape_ok(arr.shape):
        raise ValueError(f"{fn}: {name} has shape {tuple(arr.shape)}, which does not fit")
    if arr.dtype == np.bool_:
        xp = _module_of(arr)
        arr = xp.where(arr, dtype.type(-np.inf), dtype.type(0)).astype(dtype)
    elif arr.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be bool or floating, got dtype {arr.dtype}")
    else:
        arr = arr.astype(dtype, copy=False)
    return expand(arr)


def _softmax(xp, x, axis=-1):
    """softmax with torch's rule for rows of -inf only: NaN."""
    m = x.max(axis=axis, keepdims=True)
    e = xp.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


def multi_head_attention(
    query: Array,
    key: Array,
    value: Array,
    num_heads: int,
    in_proj_weight: Array,
    in_proj_bias: Array | None,
    out_proj_weight: Array,
    out_proj_bias: Array | None,
    attn_mask: Array | None = None,
    key_padding_mask: Array | None = None,
    is_causal: bool = False,
    need_weights: bool = False,
) -> tuple[Any, Any]:
    """Multi-head attention with the numbers of ``torch.nn.MultiheadAttention(batch_first=True)``
    (no dropout).

    The inputs are projected by ``in_proj_weight`` to queries, keys and values, split into
    ``num_heads`` heads of D / num_heads, attended by foveal's fused
    :func:`scaled_dot_product_attention` (rows with every key masked give zeros, as in torch),
    joined and projected by ``out_proj_weight``; with ``need_weights`` the scores are formed
    explicitly (rows with every key masked give NaN, as in torch).

    Args:
        query: (N, L, D) or unbatched (L, D), float32 or float64.
        key: (N, S, D) or (S, D), the query's dtype and device.
        value: (N, S, D) or (S, D), likewise.
        num_heads: the number of heads; it divides D.
        in_proj_weight: (3D, D), the query, key and value projections stacked.
        in_proj_bias: (3D,) or None.
        out_proj_weight: (D, D).
        out_proj_bias: (D,) or None.
        attn_mask: None, (L, S) or (N * num_heads, L, S): bool True means *masked out* (torch's
            convention), floats are added to the scores.
        key_padding_mask: None or (N, S) (unbatched: (S,)), bool True = masked out, or float.
        is_causal: torch's hint that ``attn_mask`` is causal: it requires attn_mask, and, as in
            torch, without a key_padding_mask or need_weights the causal mask is applied in its
            place.
        need_weights: also return the attention weights averaged over the heads.

    Returns:
        ``(output, weights)``: output (N, L, D) (unbatched: (L, D)) in the query's dtype and
        kind; weights (N, L, S) when ``need_weights``, else None.

    >>> x = np.random.default_rng(0).standard_normal((2, 5, 8))
    >>> w = np.random.default_rng(1).standard_normal((24, 8)) / 3
    >>> out, weights = foveal.nn.multi_head_attention(x, x, x, 2, w, None, np.eye(8), None)
    >>> out.shape, weights
    ((2, 5, 8), None)
    """
    fn = "multi_head_attention"
    q, kind = _float(query, fn, "query", ndims=(2, 3))
    k, _ = _float(key, fn, "key", ndims=(q.ndim,))
    v, _ = _float(value, fn, "value", ndims=(q.ndim,))
    _same(k, q, fn, "key", "query")
    _same(v, q, fn, "value", "query")
    batched = q.ndim == 3
    if not batched:
        q, k, v = q[None], k[None], v[None]
    n, L, d = q.shape
    S = k.shape[1]
    if k.shape != (n, S, d) or v.shape != (n, S, d):
        raise ValueError(
            f"{fn}: key and value must be (N, S, {d}) with query's N, got {k.shape}, {v.shape}"
        )
    if min(n, L, S, d) == 0:
        raise ValueError(f"{fn}: query, key and value must not be empty")
    heads = val.as_int(num_heads, fn, "num_heads", minimum=1)
    if d % heads:
        raise ValueError(f"{fn}: num_heads={heads} must divide the embedding size {d}")
    hd = d // heads
    w_in = _param(in_proj_weight, q, fn, "in_proj_weight", (3 * d, d))
    b_in = None if in_proj_bias is None else _param(in_proj_bias, q, fn, "in_proj_bias", (3 * d,))
    w_out = _param(out_proj_weight, q, fn, "out_proj_weight", (d, d))
    b_out = None if out_proj_bias is None else _param(out_proj_bias, q, fn, "out_proj_bias", (d,))
    if is_causal and attn_mask is None:
        raise ValueError(f"{fn}: is_causal is a hint that attn_mask is causal: attn_mask is needed")
    xp = _module_of(q)

    def project(x, i):
        y = x @ w_in[i * d : (i + 1) * d].T
        if b_in is not None:
            y = y + b_in[i * d : (i + 1) * d]
        return xp.ascontiguousarray(y.reshape(n, -1, heads, hd).transpose(0, 2, 1, 3))

    qh, kh, vh = project(q, 0), project(k, 1), project(v, 2)
    mask = None
    if attn_mask is not None:
        mask = _mha_mask(
            attn_mask,
            "attn_mask",
            q.dtype,
            fn,
            lambda s: s in ((L, S), (n * heads, L, S)),
            lambda a: a[None, None] if a.ndim == 2 else a.reshape(n, heads, L, S),
        )
    if key_padding_mask is not None:
        pad = _mha_mask(
            key_padding_mask,
            "key_padding_mask",
            q.dtype,
            fn,
            lambda s: s == (n, S) or (not batched and s == (S,)),
            lambda a: a.reshape(n, 1, 1, S),
        )
        mask = pad if mask is None else mask + pad
    weights = None
    if need_weights:
        scores = (qh @ kh.transpose(0, 1, 3, 2)) * q.dtype.type(1.0 / math.sqrt(hd))
        if mask is not None:
            scores = scores + mask
        p = _softmax(xp, scores)
        ctx = p @ vh
        weights = p.mean(axis=1)
    elif is_causal and key_padding_mask is None:
        # torch takes the hint here: the causal mask, whatever attn_mask holds.
        ctx = scaled_dot_product_attention(qh, kh, vh, is_causal=True)
    else:
        ctx = scaled_dot_product_attention(qh, kh, vh, attn_mask=mask)
    joined = ctx.transpose(0, 2, 1, 3).reshape(n, L, d)
    out = joined @ w_out.T
    if b_out is not None:
        out = out + b_out
    if not batched:
        out = out[0]
        weights = None if weights is None else weights[0]
    return kind.wrap(out), (None if weights is None else kind.wrap(weights))


def _forms():
    from . import _attention_forms

    return _attention_forms


def _keys_values(fn, q, keys, values, batched):
    """keys (N, S, Dk) and values (N, S, Dv) (or (S, Dk), (S, Dv) for one query)."""
    nd = 3 if batched else 2
    k, _ = _float(keys, fn, "keys", ndims=(nd,))
    v, _ = _float(values, fn, "values", ndims=(nd,))
    _same(k, q, fn, "keys", "query")
    _same(v, q, fn, "values", "query")
    if not batched:
        k, v = k[None], v[None]
    n = q.shape[0]
    if k.shape[0] != n or v.shape[0] != n or k.shape[1] != v.shape[1]:
        raise ValueError(
            f"{fn}: keys and values must be (N, S, D) with query's N and one S, got keys "
            f"{tuple(k.shape)}, values {tuple(v.shape)} for {n} queries"
        )
    if min(k.shape + v.shape) == 0:
        raise ValueError(f"{fn}: keys and values must not be empty")
    return k, v


def _bool_mask(mask, fn: str, shape, batched: bool, ref):
    """A bool mask (True = takes part) of ``shape`` (batched), or None."""
    if mask is None:
        return None
    arr, _ = dsp.to_array(mask, fn, "mask", ("bool",))
    if arr.dtype != np.bool_:
        raise TypeError(f"{fn}: mask must be bool (True: takes part), got dtype {arr.dtype}")
    if dsp.is_cupy(arr) != dsp.is_cupy(ref):
        raise TypeError(f"{fn}: mask must live on the same device as the inputs")
    if not batched:
        arr = arr[None]
    if tuple(arr.shape) != tuple(shape):
        want = tuple(shape) if batched else tuple(shape[1:])
        got = tuple(arr.shape) if batched else tuple(arr.shape[1:])
        raise ValueError(f"{fn}: mask must have shape {want}, got {got}")
    return arr


def _query(query, fn: str):
    q, kind = _float(query, fn, "query", ndims=(1, 2))
    batched = q.ndim == 2
    if not batched:
        q = q[None]
    if min(q.shape) == 0:
        raise ValueError(f"{fn}: query must not be empty, got shape {tuple(q.shape)}")
    return q, kind, batched


def _results(kind, batched, *arrays):
    """The results in the caller's kind, the batch axis dropped for unbatched input (a 0-d
    array, not a scalar, where that leaves no axis)."""
    return tuple(kind.wrap(a if batched else a[0, ...]) for a in arrays)


def additive_attention(
    query: Array,
    keys: Array,
    values: Array,
    w_query: Array,
    w_key: Array,
    v: Array,
    mask: Array | None = None,
) -> tuple[Any, Any]:
    """Additive attention (Bahdanau et al., 2015): ``score[n, s] = v . tanh(w_query @ query[n] +
    w_key @ keys[n, s])``, weights the softmax of the scores over the keys, context the weighted
    sum of the values. The same numbers as ``foveal.reference.attention.additive_attention``.

    Args:
        query: (N, Dq) or one query (Dq,), float32 or float64.
        keys: (N, S, Dk) (one query: (S, Dk)), the query's dtype and device.
        values: (N, S, Dv) (one query: (S, Dv)).
        w_query: (H, Dq).
        w_key: (H, Dk).
        v: (H,).
        mask: None or bool (N, S) (one query: (S,)), True where the key takes part.

    Returns:
        ``(context (N, Dv), weights (N, S))`` (one query: (Dv,), (S,)) in the query's dtype and
        kind; a query whose keys are all masked gets weights 0 and context 0.

    >>> ctx, w = foveal.nn.additive_attention(np.ones(2), np.ones((3, 2)), np.eye(3),
    ...                                       np.eye(2), np.eye(2), np.ones(2))
    >>> w
    array([0.33333333, 0.33333333, 0.33333333])
    """
    fn = "additive_attention"
    q, kind, batched = _query(query, fn)
    k, vals = _keys_values(fn, q, keys, values, batched)
    wq, _ = _float(w_query, fn, "w_query", ndims=(2,))
    h = wq.shape[0]
    wq = _param(w_query, q, fn, "w_query", (h, q.shape[1]))
    wk = _param(w_key, q, fn, "w_key", (h, k.shape[2]))
    vv = _param(v, q, fn, "v", (h,))
    m = _bool_mask(mask, fn, k.shape[:2], batched, q)
    xp = _module_of(q)
    ctx, weights = _forms().additive(xp, q, k, vals, wq, wk, vv, m)
    return _results(kind, batched, ctx, weights)


def luong_attention(
    query: Array,
    keys: Array,
    values: Array,
    score: str = "dot",
    weight: Array | None = None,
    v: Array | None = None,
    mask: Array | None = None,
) -> tuple[Any, Any]:
    """Multiplicative attention (Luong et al., 2015): ``score[n, s]`` is ``keys[n, s] . query[n]``
    ("dot"), ``keys[n, s] . (weight @ query[n])`` ("general") or ``v . tanh(weight @ [query[n];
    keys[n, s]])`` ("concat"); weights the softmax over the keys, context the weighted sum of the
    values. The same numbers as ``foveal.reference.attention.luong_attention``.

    Args:
        query, keys, values, mask: as :func:`additive_attention`.
        score: "dot" (Dk == Dq), "general" or "concat".
        weight: (Dk, Dq) for "general", (H, Dq + Dk) for "concat", else unused.
        v: (H,) for "concat", else unused.

    Returns:
        ``(context (N, Dv), weights (N, S))`` (one query: (Dv,), (S,)) in the query's dtype and
        kind; a query whose keys are all masked gets weights 0 and context 0.

    >>> ctx, w = foveal.nn.luong_attention(np.array([0.0, 50.0]), np.eye(2), np.eye(2))
    >>> ctx.round(6)
    array([0., 1.])
    """
    fn = "luong_attention"
    q, kind, batched = _query(query, fn)
    k, vals = _keys_values(fn, q, keys, values, batched)
    if not isinstance(score, str) or score not in ("dot", "general", "concat"):
        raise ValueError(f"{fn}: score must be 'dot', 'general' or 'concat', got {score!r}")
    dq, dk = q.shape[1], k.shape[2]
    w = vv = None
    if score == "dot":
        if dq != dk:
            raise ValueError(f"{fn}: score='dot' needs keys of query's size {dq}, got {dk}")
    elif score == "general":
        if weight is None:
            raise ValueError(f"{fn}: score='general' needs weight (Dk, Dq)")
        w = _param(weight, q, fn, "weight", (dk, dq))
    else:
        if weight is None or v is None:
            raise ValueError(f"{fn}: score='concat' needs weight (H, Dq + Dk) and v (H,)")
        wa, _ = _float(weight, fn, "weight", ndims=(2,))
        w = _param(weight, q, fn, "weight", (wa.shape[0], dq + dk))
        vv = _param(v, q, fn, "v", (wa.shape[0],))
    m = _bool_mask(mask, fn, k.shape[:2], batched, q)
    ctx, weights = _forms().luong(_module_of(q), q, k, vals, score, w, vv, m)
    return _results(kind, batched, ctx, weights)


def self_attentive_pooling(
    hidden: Array, w_s1: Array, w_s2: Array, mask: Array | None = None
) -> tuple[Any, Any, Any]:
    """Structured self-attentive sentence embedding (Lin et al., 2017):
    ``A = softmax(w_s2 @ tanh(w_s1 @ H^T))`` over the T steps, ``M = A @ H`` and the redundancy
    penalty ``||A A^T - I||_F^2``. The same numbers as
    ``foveal.reference.attention.self_attentive_pooling``.

    Args:
        hidden: H, (N, T, D) or one sequence (T, D), float32 or float64.
        w_s1: (Da, D), the hidden's dtype and device.
        w_s2: (R, Da): R attention hops.
        mask: None or bool (N, T) (one sequence: (T,)), True where the step takes part.

    Returns:
        ``(M (N, R, D), A (N, R, T), penalty (N,))`` (one sequence: (R, D), (R, T) and a 0-d
        array) in the hidden's dtype and kind.

    >>> m, a, p = foveal.nn.self_attentive_pooling(np.eye(3), np.eye(3), np.zeros((2, 3)))
    >>> a.round(4), float(p.round(4))
    (array([[0.3333, 0.3333, 0.3333],
           [0.3333, 0.3333, 0.3333]]), 1.1111)
    """
    fn = "self_attentive_pooling"
    h, kind = _float(hidden, fn, "hidden", ndims=(2, 3))
    batched = h.ndim == 3
    if not batched:
        h = h[None]
    if min(h.shape) == 0:
        raise ValueError(f"{fn}: hidden must not be empty, got shape {tuple(h.shape)}")
    w1a, _ = _float(w_s1, fn, "w_s1", ndims=(2,))
    w1 = _param(w_s1, h, fn, "w_s1", (w1a.shape[0], h.shape[2]), "hidden")
    w2a, _ = _float(w_s2, fn, "w_s2", ndims=(2,))
    w2 = _param(w_s2, h, fn, "w_s2", (w2a.shape[0], w1.shape[0]), "hidden")
    if min(w1.shape + w2.shape) == 0:
        raise ValueError(f"{fn}: w_s1 and w_s2 must not be empty")
    m = _bool_mask(mask, fn, h.shape[:2], batched, h)
    pooled, a, penalty = _forms().self_attentive(_module_of(h), h, w1, w2, m)
    return _results(kind, batched, pooled, a, penalty)


def _sdpa_on_device(dev, route, qkvm, z, is_causal, result, fn):
    """scaled_dot_product_attention's CUDA kernel route, on the Device's stream: ``qkvm`` the
    checked (query, key, value, mask), ``result`` (out, out_arr, kind, shape)."""
    q, k, v, mask = qkvm
    out, out_arr, kind, shape = result
    xp = dev.xp
    if mask is not None:
        mask = _broadcast_mask(xp, mask, z, fn)
    reads = (q, k, v) if mask is None else (q, k, v, mask)
    direct = (
        out_arr is not None
        and out_arr.flags.c_contiguous
        and not any(xp.may_share_memory(out_arr, a) for a in reads)
    )
    res = route.sdpa(
        dev,
        q.dtype.name,
        q.reshape(z.b, z.hq, z.L, z.E),
        k.reshape(z.b, z.hkv, z.S, z.E),
        v.reshape(z.b, z.hkv, z.S, z.Ev),
        mask,
        causal=is_causal,
        scale=z.scale,
        empty_row=EMPTY_ROW,
        out=out_arr.reshape(z.b, z.hq, z.L, z.Ev) if direct else None,
    )
    if direct:
        return out
    return dsp.deliver(kind, out, out_arr, res.reshape(shape))

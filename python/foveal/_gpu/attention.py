"""foveal.nn.scaled_dot_product_attention on the GPU: the fused tensor-core kernel
(cuda/attention*.cu) for float16, bfloat16 and float32 (3xTF32, float32's accuracy), head
sizes up to 256.

CuPy arrays come through :func:`sdpa` from the wrapper (foveal.attention), which has checked
the arguments. CuPy has no bfloat16, so bfloat16 torch CUDA tensors come through
:func:`sdpa_torch` from the wrapper's hook: their pointers and strides are read from torch, the
result allocated by torch and the kernel launched on torch's current stream, without CuPy.

What the kernel does not take goes back to the wrapper, which runs the CuPy fallback
(foveal._cupy.attention): float64, heads wider than :data:`MAX_HEAD`, and builds without the
_cuda module; bfloat16 torch tensors there are computed in float32 and rounded back.
"""

from __future__ import annotations

import contextlib
from typing import Any

from . import Device
from .conv import is_cuda_bfloat16, torch_device

__all__ = ["MAX_HEAD", "is_cuda_bfloat16", "sdpa", "sdpa_torch", "supported", "torch_device"]

#: The widest query/key and value heads the kernel takes (cuda/attention.hpp).
MAX_HEAD = 256
DTYPES = ("float16", "bfloat16", "float32")


def supported(dtype: str, e: int, ev: int) -> bool:
    """Whether the kernel takes this dtype and these head sizes."""
    return dtype in DTYPES and 1 <= e <= MAX_HEAD and 1 <= ev <= MAX_HEAD


def _is_torch(arr) -> bool:
    return type(arr).__module__.startswith("torch")


def _strides(arr) -> tuple[int, ...]:
    """The strides of ``arr`` in elements (torch's own, or NumPy / CuPy bytes / itemsize)."""
    if _is_torch(arr):
        return tuple(arr.stride())
    return tuple(s // arr.itemsize for s in arr.strides)


def _rows(dev: Device, arr):
    """``arr`` itself when its last dimension is contiguous (or of size 1) and its strides are
    whole elements, else a contiguous copy: the kernel reads rows, strided otherwise."""
    if _is_torch(arr):
        return arr if arr.shape[-1] == 1 or arr.stride(-1) == 1 else arr.contiguous()
    whole = all(s % arr.itemsize == 0 for s in arr.strides)
    if whole and (arr.shape[-1] == 1 or arr.strides[-1] == arr.itemsize):
        return arr
    return dev.xp.ascontiguousarray(arr)


def _ptr(dev: Device, arr) -> int:
    if arr is None:
        return 0
    return int(arr.data_ptr()) if _is_torch(arr) else dev.ptr(arr)


def sdpa(
    dev: Device,
    dtype: str,
    q,
    k,
    v,
    mask=None,
    *,
    causal: bool = False,
    scale: float,
    empty_row: float = 0.0,
    out=None,
    lse=None,
):
    """out = softmax(scale q k^T + mask) v by the fused kernel, on the Device's stream.

    q (B, Hq, L, E), k (B, Hkv, S, E), v (B, Hkv, S, Ev), Hkv dividing Hq (query head h reads
    key/value head h // (Hq // Hkv)); arrays of the Device's kind (CuPy, NumPy under the
    emulator, or torch tensors), any strides (a dimension of stride 0 included) with whole
    elements; ``dtype`` names their element type ("bfloat16" for uint16 bit patterns under
    the emulator). ``mask``: None or (B, Hq, L, S), strides 0 on broadcast dimensions, bool
    (True: the key takes part) or additive of the inputs' dtype. ``causal``: query i sees keys
    j <= i (top-left). A row with no key gives ``empty_row``. ``out``: (B, Hq, L, Ev) with a
    contiguous last dimension to write to, sharing no memory with the inputs, or None for a
    new contiguous array. ``lse``: None or a C-contiguous float32 (B, Hq, L) array that
    receives each row's log-sum-exp of the scaled, masked scores (+inf for a row with no
    key). Returns ``out``."""
    q, k, v = _rows(dev, q), _rows(dev, k), _rows(dev, v)
    b, hq, l, e = q.shape
    hkv, s, ev = v.shape[1], v.shape[2], v.shape[3]
    if out is None:
        shape = (b, hq, l, ev)
        if _is_torch(q):
            import torch

            out = torch.empty(shape, dtype=q.dtype, device=q.device)
        else:
            out = dev.xp.empty(shape, q.dtype)
    if b == 0 or hq == 0:  # an empty batch: nothing to launch
        return out
    kind: str = "none"
    mask_strides: tuple[int, ...] = (0, 0, 0, 0)
    if mask is not None:
        is_bool = str(mask.dtype) in ("bool", "torch.bool")
        kind = "bool" if is_bool else "additive"
        mask_strides = _strides(mask)
    dev.module.scaled_dot_product_attention(
        dtype,
        _ptr(dev, q),
        _ptr(dev, k),
        _ptr(dev, v),
        _ptr(dev, out),
        _ptr(dev, mask),
        kind,
        _ptr(dev, lse),
        b,
        hq,
        hkv,
        l,
        s,
        e,
        ev,
        _strides(q)[:3],
        _strides(k)[:3],
        _strides(v)[:3],
        _strides(out)[:3],
        mask_strides,
        float(scale),
        bool(causal),
        float(empty_row),
        dev.stream,
    )
    return out


# --------------------------------------------------------------------------------------------
# bfloat16 torch CUDA tensors
# --------------------------------------------------------------------------------------------


def _torch_operand(obj, ref, fn: str, name: str):
    import torch

    if not isinstance(obj, torch.Tensor) or obj.device != ref.device:
        raise TypeError(f"{fn}: {name} must be a torch tensor on query's device {ref.device}")
    if obj.dtype != ref.dtype:
        raise TypeError(f"{fn}: {name} dtype {obj.dtype} differs from query's {ref.dtype}")
    if obj.ndim < 2:
        raise ValueError(
            f"{fn}: {name} must have at least 2 dimensions, got shape {tuple(obj.shape)}"
        )
    return obj.detach()


def _shares_storage(a, others) -> bool:
    base = a.untyped_storage().data_ptr()
    return any(o is not None and o.untyped_storage().data_ptr() == base for o in others)


def sdpa_torch(
    query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa, out, plan
) -> Any:
    """scaled_dot_product_attention of bfloat16 torch CUDA tensors (foveal.attention's hook).

    ``plan(q_shape, k_shape, v_shape)`` is the wrapper's own check of the shapes and scalar
    arguments, returning its sizes (lead, L, S, E, Ev, b, hq, hkv, scale). The kernel runs on
    torch's current stream; without it (no _cuda module or device, heads wider than
    :data:`MAX_HEAD`) the call is made again in float32 and rounded back to bfloat16."""
    import torch

    from .. import attention as wrapper

    fn = "scaled_dot_product_attention"
    q = _torch_operand(query, query, fn, "query")
    k = _torch_operand(key, q, fn, "key")
    v = _torch_operand(value, q, fn, "value")
    z = plan(tuple(q.shape), tuple(k.shape), tuple(v.shape))
    shape = (*z.lead, z.L, z.Ev)
    if out is not None:
        ok = isinstance(out, torch.Tensor) and out.device == q.device and out.dtype == q.dtype
        if not ok:
            raise TypeError(f"{fn}: out must be a {q.dtype} torch tensor on {q.device}")
        if tuple(out.shape) != shape:
            raise ValueError(f"{fn}: out must have shape {shape}, got {tuple(out.shape)}")
    mask = None
    if attn_mask is not None:
        mask = _torch_operand_mask(attn_mask, q, fn)
    dev = torch_device(q) if supported("bfloat16", z.E, z.Ev) else None
    if dev is None:
        widened = None if mask is None or mask.dtype == torch.bool else mask.float()
        result = wrapper.scaled_dot_product_attention(
            q.float(), k.float(), v.float(), widened, 0.0, is_causal, z.scale, enable_gqa
        ).to(torch.bfloat16)
    else:
        if mask is not None:
            try:
                mask = torch.broadcast_to(mask, (*z.lead, z.L, z.S))
            except RuntimeError:
                raise ValueError(
                    f"{fn}: attn_mask of shape {tuple(mask.shape)} does not broadcast to "
                    f"{(*z.lead, z.L, z.S)}"
                ) from None
            mask = mask.reshape(z.b, z.hq, z.L, z.S)
        reads = (q, k, v, mask)
        direct = out is not None and out.is_contiguous() and not _shares_storage(out, reads)
        target = out.view(z.b, z.hq, z.L, z.Ev) if direct else None
        guard = torch.cuda.device(q.device) if q.is_cuda else contextlib.nullcontext()
        with guard:
            result = sdpa(
                dev,
                "bfloat16",
                q.reshape(z.b, z.hq, z.L, z.E),
                k.reshape(z.b, z.hkv, z.S, z.E),
                v.reshape(z.b, z.hkv, z.S, z.Ev),
                mask,
                causal=bool(is_causal),
                scale=z.scale,
                empty_row=wrapper.EMPTY_ROW,
                out=target,
            )
        if direct:
            return out
        result = result.reshape(shape)
    if out is None:
        return result
    out.copy_(result)
    return out


def _torch_operand_mask(mask, q, fn: str):
    import torch

    if not isinstance(mask, torch.Tensor) or mask.device != q.device:
        raise TypeError(f"{fn}: attn_mask must be a torch tensor on query's device {q.device}")
    if mask.dtype not in (torch.bool, q.dtype):
        raise TypeError(
            f"{fn}: attn_mask dtype {mask.dtype} differs from query's {q.dtype} (use bool or "
            "the query's dtype)"
        )
    return mask.detach()

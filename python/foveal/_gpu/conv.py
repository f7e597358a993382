"""foveal.nn.conv2d on the GPU (cuda/conv.cu, cuda/conv_gemm.cu): the wrapper has checked and
normalized the arguments; this allocates the result and launches the kernels on the stream.

Which kernel runs:

- groups == C_in (depthwise): a direct kernel, every dtype, float accumulation (double for
  float64);
- otherwise an implicit GEMM: float16 and bfloat16 on tensor cores (mma.m16n8k16, float
  accumulation); float32 on tf32 tensor cores where torch would use them for a convolution
  (:func:`tf32_allowed`), else plain float32 FMAs; float64 by float64 FMAs.

CuPy arrays come through :func:`conv2d` (float16, float32, float64). CuPy has no bfloat16, so
bfloat16 torch CUDA tensors come through :func:`conv2d_torch`, which reads their pointers and
strides, allocates with torch and launches on torch's current stream, without CuPy.
"""

from __future__ import annotations

import contextlib
import sys

from . import Device

_TORCH_DTYPES = ("float16", "bfloat16", "float32")


def tf32_allowed() -> bool:
    """Whether float32 convolutions may run on tf32 tensor cores: torch's rule for cuDNN
    convolutions. With torch imported, its flag decides: ``torch.backends.cudnn.conv
    .fp32_precision`` ("tf32" yes, "ieee" no, "none" inherits from ``torch.backends.cudnn``
    and then ``torch.backends``; all "none" is no), or ``torch.backends.cudnn.allow_tf32`` on
    a torch without that API. Without torch, True: torch's default for convolutions
    (``allow_tf32 = True``)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return True
    cudnn = torch.backends.cudnn
    conv = getattr(cudnn, "conv", None)
    if conv is None or not hasattr(conv, "fp32_precision"):
        return bool(cudnn.allow_tf32)
    for level in (conv, cudnn, torch.backends):
        precision = getattr(level, "fp32_precision", "none")
        if precision != "none":
            return precision == "tf32"
    return False


def _launch(dev: Device, dtype: str, tf32: bool, x_ptr, x_strides, w_ptr, b_ptr, out_ptr, geo):
    (n, c_in, h, w), (c_out, _, kh, kw), stride, pads, dilation, groups, (oh, ow) = geo
    dev.module.conv2d(
        dtype,
        tf32,
        x_ptr,
        *x_strides,
        w_ptr,
        b_ptr,
        out_ptr,
        n,
        c_in,
        h,
        w,
        c_out,
        kh,
        kw,
        oh,
        ow,
        *stride,
        pads[0],
        pads[2],
        *dilation,
        groups,
        dev.stream,
    )


def conv2d(
    dev: Device,
    x,
    weight,
    bias,
    stride: tuple[int, int],
    pads: tuple[int, int, int, int],
    dilation: tuple[int, int],
    groups: int,
    out_hw: tuple[int, int],
    *,
    dtype: str | None = None,
    tf32: bool | None = None,
):
    """The (N, C_out, OH, OW) convolution of the (N, C_in, H, W) array ``x`` (any strides) as
    a new array of the Device's array module. ``pads`` is (top, bottom, left, right);
    ``dtype`` names the element type where the array's dtype does not ("bfloat16" for uint16
    bit patterns under the emulator); ``tf32`` None means :func:`tf32_allowed`."""
    n, _, _, _ = x.shape
    c_out = weight.shape[0]
    result = dev.xp.empty((n, c_out, *out_hw), x.dtype)
    if result.size == 0:
        return result
    item = x.dtype.itemsize
    if any(s % item for s in x.strides):  # a byte stride between elements: read a copy
        x = dev.contiguous(x)
    weight = dev.contiguous(weight)
    bias = None if bias is None else dev.contiguous(bias)
    geo = (x.shape, weight.shape, stride, pads, dilation, groups, out_hw)
    _launch(
        dev,
        dtype or x.dtype.name,
        tf32_allowed() if tf32 is None else bool(tf32),
        dev.ptr(x),
        [s // item for s in x.strides],
        dev.ptr(weight),
        dev.ptr(bias),
        dev.ptr(result),
        geo,
    )
    return result


# --------------------------------------------------------------------------------------------
# torch CUDA tensors (bfloat16)
# --------------------------------------------------------------------------------------------


def is_cuda_bfloat16(obj) -> bool:
    """Whether ``obj`` is a bfloat16 torch tensor on a CUDA device (never imports torch)."""
    torch = sys.modules.get("torch")
    return (
        torch is not None
        and isinstance(obj, torch.Tensor)
        and obj.dtype == torch.bfloat16
        and obj.device.type == "cuda"
    )


def torch_device(x) -> Device | None:
    """The CUDA kernels' Device for the torch CUDA tensor ``x`` (torch's current stream on its
    device), or None where the _cuda module was not built or sees no GPU."""
    from .._backend import _cuda, cuda_device_count

    if _cuda is None or cuda_device_count() == 0:
        return None
    import torch

    return Device(_cuda, torch, int(torch.cuda.current_stream(x.device).cuda_stream))


def _torch_param(obj, x, fn: str, name: str, ndim: int):
    import torch

    if not isinstance(obj, torch.Tensor) or obj.device != x.device:
        raise TypeError(f"{fn}: {name} must be a torch tensor on the input's device {x.device}")
    if obj.dtype != x.dtype:
        raise TypeError(f"{fn}: {name} dtype {obj.dtype} differs from input's {x.dtype}")
    if obj.ndim != ndim:
        raise ValueError(
            f"{fn}: {name} must be {ndim}-D, got {obj.ndim}-D shape {tuple(obj.shape)}"
        )
    return obj.detach()


def torch_operands(input, weight, bias, fn: str):
    """``(x, weight, bias, batched)`` for a torch tensor ``input``: x 4-D (a batch axis added
    to unbatched input), the parameters checked against it (device, dtype, rank)."""
    x = input.detach()
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{fn}: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got {x.ndim}-D shape "
            f"{tuple(x.shape)}"
        )
    batched = x.ndim == 4
    if not batched:
        x = x[None]
    if any(s == 0 for s in x.shape[1:]):
        raise ValueError(
            f"{fn}: input must not have empty channel or spatial dimensions, got shape "
            f"{tuple(input.shape)}"
        )
    w = _torch_param(weight, x, fn, "weight", 4)
    b = None if bias is None else _torch_param(bias, x, fn, "bias", 1)
    return x, w, b, batched


def conv2d_torch(x, weight, bias, geometry, batched: bool, out=None, *, dev: Device | None = None):
    """conv2d of torch tensors (float16, bfloat16 or float32; any strides for ``x``) by the
    CUDA kernels on torch's current stream, the result a new torch tensor (or written to
    ``out``). ``geometry`` is (stride, pads, dilation, groups, (oh, ow)) as foveal.nn checked
    it; ``dev`` (tests) replaces the device, e.g. the emulator's with CPU tensors."""
    import torch

    fn = "conv2d"
    dev = dev or torch_device(x)
    if dev is None:
        raise TypeError(
            f"{fn}: input dtype {x.dtype} on the GPU needs foveal's CUDA kernels (the _cuda "
            "module and a device); CuPy, the fallback, has no bfloat16"
        )
    name = str(x.dtype).removeprefix("torch.")
    if name not in _TORCH_DTYPES:
        raise TypeError(f"{fn}: input dtype {x.dtype} is not supported here ({_TORCH_DTYPES})")
    stride, pads, dilation, groups, out_hw = geometry
    shape = (x.shape[0], weight.shape[0], *out_hw)
    if out is not None:
        want = shape if batched else shape[1:]
        if not isinstance(out, torch.Tensor) or out.device != x.device:
            raise TypeError(f"{fn}: out must be a torch tensor on the input's device {x.device}")
        if tuple(out.shape) != want:
            raise ValueError(f"{fn}: out must have shape {want}, got {tuple(out.shape)}")
        if out.dtype != x.dtype:
            raise TypeError(f"{fn}: out must have dtype {x.dtype}, got {out.dtype}")
    result = torch.empty(shape, dtype=x.dtype, device=x.device)
    if result.numel():
        weight = weight.contiguous()
        bias = None if bias is None else bias.contiguous()
        guard = torch.cuda.device(x.device) if x.is_cuda else contextlib.nullcontext()
        with guard:
            _launch(
                dev,
                name,
                tf32_allowed(),
                x.data_ptr(),
                x.stride(),
                weight.data_ptr(),
                0 if bias is None else bias.data_ptr(),
                result.data_ptr(),
                (tuple(x.shape), tuple(weight.shape), stride, pads, dilation, groups, out_hw),
            )
    if not batched:
        result = result[0]
    if out is None:
        return result
    out.copy_(result)
    return out

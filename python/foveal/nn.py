"""Neural-network operations with torch.nn.functional's arguments and numbers: 2-D convolution,
pooling, ViT patch sequences, and (from foveal.attention) scaled dot-product attention and its
relatives.

Tensors are NCHW, ``(N, C, H, W)``, and every function also takes one unbatched ``(C, H, W)``
tensor and then returns unbatched results, as torch does. NumPy arrays, torch tensors (CPU or
CUDA), CuPy arrays and any DLPack object are accepted and the result comes back in the same
kind; float32 and float64 on the CPU. Non-contiguous inputs are copied once. A batch of zero
images gives an empty result; other empty dimensions are a ValueError.

>>> import numpy as np, foveal.nn as fnn
>>> x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
>>> w = np.random.default_rng(1).standard_normal((8, 3, 3, 3)).astype(np.float32)
>>> fnn.conv2d(x, w, padding=1).shape
(2, 8, 32, 32)
>>> fnn.max_pool2d(x, 2).shape
(2, 3, 16, 16)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import _dispatch as dsp
from . import _gpu
from . import _validate as val
from ._backend import _core
from ._typing import Array, Size
from .attention import (
    additive_attention,
    luong_attention,
    multi_head_attention,
    scaled_dot_product_attention,
    self_attentive_pooling,
)

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "additive_attention",
    "avg_pool2d",
    "conv2d",
    "lp_pool2d",
    "luong_attention",
    "max_pool2d",
    "multi_head_attention",
    "patchify",
    "scaled_dot_product_attention",
    "self_attentive_pooling",
    "unpatchify",
]

NN_DTYPES = ("float32", "float64")
# Sizes past this are refused before any arithmetic on them can overflow.
_MAX_SIZE = 1 << 31


def _fallbacks():
    from ._cupy import nn as cupy_nn

    return cupy_nn


def _kernels():
    from ._gpu import nn as gpu_nn

    return gpu_nn


def _conv_kernels():
    from ._gpu import conv as gpu_conv

    return gpu_conv


def _xp():
    import cupy

    return cupy


def _float_array(obj, fn: str, name: str, ranks: tuple[int, int], shapes: str, gpu_dtypes=()):
    """``(array, kind)`` for a float32 / float64 argument (or, on the GPU, one of
    ``gpu_dtypes``) of rank ``ranks[0]`` or ``ranks[1]``."""
    arr, kind = dsp.to_array(obj, fn, name, NN_DTYPES)
    gpu = gpu_dtypes and dsp.is_cupy(arr)
    allowed = (*gpu_dtypes, *NN_DTYPES) if gpu else NN_DTYPES
    if arr.dtype.name not in allowed:
        where = " on the GPU" if gpu else ""
        extra = "; bfloat16 as torch CUDA tensors" if gpu else ""
        raise TypeError(
            f"{fn}: {name} dtype {arr.dtype} is not supported{where} (supported: "
            f"{', '.join(allowed)}{extra})"
        )
    if arr.ndim not in ranks:
        raise ValueError(
            f"{fn}: {name} must be {shapes}, got {arr.ndim}-D shape {tuple(arr.shape)}"
        )
    return arr, kind


class _Tensor:
    """An NCHW input: the 4-D array (a batch axis added to unbatched input), its kind, and
    whether the caller's tensor was batched."""

    def __init__(self, obj, fn: str, name: str = "input", gpu_dtypes=()):
        arr, self.kind = _float_array(
            obj, fn, name, (4, 3), "4-D (N, C, H, W) or 3-D (C, H, W)", gpu_dtypes
        )
        self.batched = arr.ndim == 4
        self.arr = arr if self.batched else arr[None]
        if any(s == 0 for s in self.arr.shape[1:]):
            raise ValueError(
                f"{fn}: {name} must not have empty channel or spatial dimensions, "
                f"got shape {tuple(arr.shape)}"
            )
        if max(self.arr.shape) >= _MAX_SIZE:
            raise ValueError(f"{fn}: {name} of shape {tuple(arr.shape)} is too large")
        self.fn = fn

    @property
    def dtype(self) -> np.dtype:
        return self.arr.dtype

    @property
    def cupy(self) -> bool:
        return dsp.is_cupy(self.arr)

    def host(self) -> np.ndarray:
        """The input as the C-contiguous array the kernels read (one copy if it is not)."""
        return np.ascontiguousarray(self.arr)

    def shape_of(self, shape4) -> tuple:
        """A 4-D result shape as the caller sees it (batched or not)."""
        return tuple(shape4) if self.batched else tuple(shape4[1:])


def _param(obj, t: _Tensor, name: str, ndim: int):
    """A parameter tensor (weight, bias) on the input's device, of the input's dtype."""
    arr, _ = dsp.to_array(obj, t.fn, name, NN_DTYPES)
    if dsp.is_cupy(arr) != t.cupy:
        raise TypeError(f"{t.fn}: {name} must live on the same device as input")
    if arr.dtype != t.dtype:
        raise TypeError(f"{t.fn}: {name} dtype {arr.dtype} differs from input's {t.dtype}")
    if arr.ndim != ndim:
        raise ValueError(
            f"{t.fn}: {name} must be {ndim}-D, got {arr.ndim}-D shape {tuple(arr.shape)}"
        )
    return arr


def _positive_pair(value, fn: str, name: str, minimum: int = 1) -> tuple[int, int]:
    return val.as_pair(value, fn, name, minimum=minimum, maximum=_MAX_SIZE)


def _run(t: _Tensor, shape4, out, native, fallback, sources=(), gpu=None):
    """Runs ``native(dst)`` into a C-contiguous 4-D ``dst`` (``out`` itself when it can be: when
    it is C-contiguous and shares no memory with the input or ``sources``) on host input; on
    CuPy input ``gpu(device)`` with the CUDA kernels where they are there (see foveal._gpu),
    else ``fallback()``; the result in the caller's kind or in ``out``."""
    shape = t.shape_of(shape4)
    out_arr = None
    if out is not None:
        out_arr, _ = dsp.to_array(out, t.fn, "out", NN_DTYPES, output=True)
        val.check_out(out_arr, shape, t.dtype, t.fn)
        if dsp.is_cupy(out_arr) != t.cupy:
            raise TypeError(f"{t.fn}: out must live on the same device as input")
    if t.cupy:
        dev = _gpu.device(t.arr, t.kind) if gpu is not None else None
        if dev is None:
            result = fallback()
        else:
            with dev:
                result = gpu(dev)
        if not t.batched:
            result = result[0]
        return dsp.deliver(t.kind, out, out_arr, result)
    if (
        out_arr is not None
        and out_arr.flags.c_contiguous
        and not _overlaps(out_arr, t.arr, *sources)
    ):
        if out_arr.size:
            native(out_arr.reshape(shape4))
        return out
    dst = dsp.new_array(shape4, t.dtype)
    if dst.size:
        native(dst)
    return dsp.deliver(t.kind, out, out_arr, dst if t.batched else dst[0])


def _overlaps(out_arr, *arrays) -> bool:
    return any(a is not None and np.may_share_memory(out_arr, a) for a in arrays)


def _with_indices(t: _Tensor, values, indices):
    if not t.batched:
        indices = indices[0]
    return values, t.kind.wrap(indices)


# --------------------------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------------------------


def _conv_padding(
    padding: Size | str,
    kh: int,
    kw: int,
    dilation: tuple[int, int],
    stride: tuple[int, int],
    fn: str,
) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair, "valid" or "same" (torch: total
    d*(k-1), the odd one extra at the bottom / right; only with stride 1)."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0, 0, 0
        if mode == "same":
            if stride != (1, 1):
                raise ValueError(f"{fn}: padding='same' needs stride 1, got stride {stride}")
            th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
            return th // 2, th - th // 2, tw // 2, tw - tw // 2
        raise ValueError(
            f"{fn}: padding must be an int, a pair, 'same' or 'valid'; got {padding!r}"
        )
    ph, pw = val.as_pair(padding, fn, "padding", minimum=0, maximum=_MAX_SIZE)
    return ph, ph, pw, pw


def conv2d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: Size = 1,
    padding: Size | str = 0,
    dilation: Size = 1,
    groups: int = 1,
    *,
    out: Array | None = None,
) -> Any:
    """2-D convolution (cross-correlation) of NCHW ``input`` with ``weight``, as
    ``torch.nn.functional.conv2d``.

    Depthwise convolutions (groups == C_in) run a direct SIMD kernel; the rest a packed matrix
    product (register- and cache-blocked, one micro-kernel per instruction set) that reads the
    image in place for stride 1 and packs implicit im2col panels otherwise.

    On the GPU (CuPy arrays, torch CUDA tensors) with foveal's CUDA kernels: depthwise by a
    direct kernel; the rest by an implicit GEMM on tensor cores for float16 and bfloat16
    (float accumulation) and for float32 as tf32 where torch would use tf32 for a convolution
    (``torch.backends.cudnn`` flags when torch is imported, else yes, torch's default), float32
    and float64 FMAs otherwise. Without the kernels CuPy input takes CuPy's matrix products.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W), float32 or float64 (NumPy, CuPy, torch
            or any DLPack object); on the GPU also float16, and bfloat16 torch CUDA tensors.
        weight: (C_out, C_in / groups, kH, kW), the input's dtype and device.
        bias: (C_out,) or None.
        stride: an int or (rows, cols) pair, >= 1.
        padding: an int or pair (zeros on both sides), "valid" (none) or "same" (output as large
            as the input; stride 1 only; an odd total goes to the bottom / right, as torch).
        dilation: an int or pair, >= 1.
        groups: splits the channels into this many groups; it divides C_in and C_out.
        out: an array of the result's shape and dtype to write to.

    Returns:
        (N, C_out, OH, OW) (unbatched: (C_out, OH, OW)) in the input's dtype and kind, or
        ``out``, with OH = (H + pad_top + pad_bottom - dilation*(kH - 1) - 1) // stride + 1 and
        OW likewise.

    >>> x = np.ones((1, 2, 4, 4), np.float32); w = np.ones((3, 2, 3, 3), np.float32)
    >>> foveal.nn.conv2d(x, w, padding="same")[0, 0]
    array([[ 8., 12., 12.,  8.],
           [12., 18., 18., 12.],
           [12., 18., 18., 12.],
           [ 8., 12., 12.,  8.]], dtype=float32)
    """
    fn = "conv2d"
    if _conv_kernels().is_cuda_bfloat16(input):  # CuPy has no bfloat16: torch's own route
        x, w, b, batched = _conv_kernels().torch_operands(input, weight, bias, fn)
        geometry = _conv_geometry(fn, x.shape, w.shape, b, stride, padding, dilation, groups)
        return _conv_kernels().conv2d_torch(x, w, b, geometry, batched, out)
    t = _Tensor(input, fn, gpu_dtypes=("float16",))
    w = _param(weight, t, "weight", 4)
    b = None if bias is None else _param(bias, t, "bias", 1)
    st, pads, dil, g, (oh, ow) = _conv_geometry(
        fn, t.arr.shape, w.shape, b, stride, padding, dilation, groups
    )
    shape4 = (t.arr.shape[0], w.shape[0], oh, ow)

    def native(dst):
        _core.conv2d(
            t.host(),
            np.ascontiguousarray(w),
            None if b is None else np.ascontiguousarray(b),
            dst,
            st[0],
            st[1],
            *pads,
            dil[0],
            dil[1],
            g,
        )

    def fallback():
        return _fallbacks().conv2d(_xp(), t.arr, w, b, st, pads, dil, g)

    def gpu(dev):
        return _conv_kernels().conv2d(dev, t.arr, w, b, st, pads, dil, g, (oh, ow))

    return _run(t, shape4, out, native, fallback, (w, b), gpu=gpu)


def _conv_geometry(
    fn: str, x_shape, w_shape, b, stride, padding, dilation, groups
) -> tuple[tuple[int, int], tuple[int, int, int, int], tuple[int, int], int, tuple[int, int]]:
    """(stride, (top, bottom, left, right) padding, dilation, groups, (oh, ow)) of a conv2d
    of an (N, C_in, H, W) input by a (C_out, C_in / groups, kH, kW) weight, checked."""
    groups = val.as_int(groups, fn, "groups", minimum=1, maximum=_MAX_SIZE)
    n, c_in, h, wd = x_shape
    c_out, c_in_g, kh, kw = w_shape
    if min(w_shape) == 0:
        raise ValueError(f"{fn}: weight must not be empty, got shape {tuple(w_shape)}")
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{fn}: groups={groups} must divide the input channels ({c_in}) and the output "
            f"channels ({c_out})"
        )
    if c_in_g * groups != c_in:
        raise ValueError(
            f"{fn}: weight of shape {tuple(w_shape)} expects {c_in_g * groups} input channels "
            f"for groups={groups}, got input with {c_in}"
        )
    if b is not None and b.shape[0] != c_out:
        raise ValueError(f"{fn}: bias must have {c_out} values, got {b.shape[0]}")
    stride = _positive_pair(stride, fn, "stride")
    dilation = _positive_pair(dilation, fn, "dilation")
    pads = _conv_padding(padding, kh, kw, dilation, stride, fn)
    oh = _core.conv_output_size(h, kh, stride[0], pads[0] + pads[1], dilation[0])
    ow = _core.conv_output_size(wd, kw, stride[1], pads[2] + pads[3], dilation[1])
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{fn}: the (dilated, padded) kernel {kh}x{kw} is larger than the input {h}x{wd}"
        )
    return stride, pads, dilation, groups, (oh, ow)


# --------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------


_Pair = tuple[int, int]


def _pool_geometry(
    t: _Tensor, kernel_size: Size, stride: Size | None, padding: Size, dilation: Size, ceil_mode
) -> tuple[_Pair, _Pair, _Pair, _Pair, _Pair]:
    """Kernel, stride (None: the kernel), padding (<= half the kernel, torch's rule), dilation
    and the output (oh, ow)."""
    fn = t.fn
    kernel = _positive_pair(kernel_size, fn, "kernel_size")
    stride = kernel if stride is None else _positive_pair(stride, fn, "stride")
    pad = val.as_pair(padding, fn, "padding", minimum=0, maximum=_MAX_SIZE)
    dil = _positive_pair(dilation, fn, "dilation")
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(
            f"{fn}: padding must be at most half the kernel size, got padding {pad} for "
            f"kernel_size {kernel}"
        )
    h, w = t.arr.shape[2:]
    oh = _core.pool_output_size(h, kernel[0], stride[0], pad[0], dil[0], bool(ceil_mode))
    ow = _core.pool_output_size(w, kernel[1], stride[1], pad[1], dil[1], bool(ceil_mode))
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{fn}: the output would be empty ({oh}x{ow}) for input {h}x{w}, kernel_size "
            f"{kernel}, stride {stride}, padding {pad}, dilation {dil}"
        )
    return kernel, stride, pad, dil, (oh, ow)


def max_pool2d(
    input: Array,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    out: Array | None = None,
) -> Any:
    """Max pooling, as ``torch.nn.functional.max_pool2d``. NaN wins.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W), float32 or float64.
        kernel_size: the window, an int or (rows, cols) pair.
        stride: an int or pair; default the kernel size.
        padding: an int or pair, at most half the kernel; padding never wins.
        dilation: an int or pair, >= 1.
        ceil_mode: keep a last partial window that starts inside the input or its left padding.
        return_indices: also return the position of each maximum.
        out: an array to write the values to.

    Returns:
        (N, C, OH, OW) values in the input's dtype and kind (or ``out``); with
        ``return_indices``, ``(values, indices)``, indices int64 flat ``y * W + x`` positions of
        each maximum in its input plane (the first maximum in row-major window order; the last
        NaN if any).

    >>> foveal.nn.max_pool2d(np.arange(16.0).reshape(1, 4, 4), 2, return_indices=True)[1]
    array([[[ 5,  7],
            [13, 15]]])
    """
    t = _Tensor(input, "max_pool2d")
    kernel, stride, pad, dil, (oh, ow) = _pool_geometry(
        t, kernel_size, stride, padding, dilation, ceil_mode
    )
    n, c = t.arr.shape[:2]
    shape4 = (n, c, oh, ow)
    want = bool(return_indices)
    indices = np.empty(shape4, np.int64) if want and not t.cupy else None
    found = {}

    def native(dst):
        _core.max_pool2d(t.host(), dst, indices, *kernel, *stride, *pad, *dil, bool(ceil_mode))

    def fallback():
        res = _fallbacks().max_pool2d(_xp(), t.arr, kernel, stride, pad, dil, bool(ceil_mode), want)
        if want:
            res, found["indices"] = res
        return res

    def gpu(dev):
        res, found["indices"] = _kernels().pool2d(
            dev,
            "max",
            t.arr,
            (oh, ow),
            kernel=kernel,
            stride=stride,
            pad=pad,
            dilation=dil,
            indices=want,
        )
        return res

    values = _run(t, shape4, out, native, fallback, gpu=gpu)
    if not want:
        return values
    return _with_indices(t, values, found.get("indices", indices))


def avg_pool2d(
    input: Array,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    *,
    out: Array | None = None,
) -> Any:
    """Average pooling, as ``torch.nn.functional.avg_pool2d``.

    The divisor is torch's: ``divisor_override`` when given; else the window's size clipped to
    the padded input when ``count_include_pad`` (padding counts, ceil_mode's overhang does not),
    or the number of input values it covers when not.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W), float32 or float64.
        kernel_size, stride, padding, ceil_mode: as :func:`max_pool2d` (padding adds zeros).
        count_include_pad: whether the zero padding counts in the divisor.
        divisor_override: an int >= 1 to divide by instead, or None.
        out: an array of the result's shape and dtype to write to.

    Returns:
        (N, C, OH, OW) in the input's dtype and kind, or ``out``.

    >>> foveal.nn.avg_pool2d(np.ones((1, 3, 3)), 3, stride=1, padding=1, count_include_pad=False)
    array([[[1., 1., 1.],
            [1., 1., 1.],
            [1., 1., 1.]]])
    """
    t = _Tensor(input, "avg_pool2d")
    kernel, stride, pad, _, (oh, ow) = _pool_geometry(t, kernel_size, stride, padding, 1, ceil_mode)
    divisor = 0
    if divisor_override is not None:
        divisor = val.as_int(divisor_override, t.fn, "divisor_override", minimum=1)
    n, c = t.arr.shape[:2]

    def native(dst):
        _core.avg_pool2d(
            t.host(), dst, *kernel, *stride, *pad, bool(ceil_mode), bool(count_include_pad), divisor
        )

    def fallback():
        return _fallbacks().avg_pool2d(
            _xp(),
            t.arr,
            kernel,
            stride,
            pad,
            bool(ceil_mode),
            bool(count_include_pad),
            divisor_override if divisor else None,
        )

    def gpu(dev):
        return _kernels().pool2d(
            dev,
            "avg",
            t.arr,
            (oh, ow),
            kernel=kernel,
            stride=stride,
            pad=pad,
            count_include_pad=bool(count_include_pad),
            divisor=divisor,
        )[0]

    return _run(t, (n, c, oh, ow), out, native, fallback, gpu=gpu)


def lp_pool2d(
    input: Array,
    norm_type: float,
    kernel_size: Size,
    stride: Size | None = None,
    ceil_mode: bool = False,
    *,
    out: Array | None = None,
) -> Any:
    """Power-average pooling, as ``torch.nn.functional.lp_pool2d``: ``(sum over the window of
    x**p) ** (1/p)``, built as torch builds it from an unpadded ``avg_pool2d`` times the kernel
    area (so ceil_mode's partial windows are scaled up to the full area). Negative inputs give
    NaN for fractional p, as in torch.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W), float32 or float64.
        norm_type: p, a finite number > 0.
        kernel_size, stride, ceil_mode: as :func:`max_pool2d` (no padding).
        out: an array of the result's shape and dtype to write to.

    Returns:
        (N, C, OH, OW) in the input's dtype and kind, or ``out``.

    >>> foveal.nn.lp_pool2d(np.full((1, 2, 2), 3.0), 2, 2)
    array([[[6.]]])
    """
    t = _Tensor(input, "lp_pool2d")
    p = val.as_number(norm_type, t.fn, "norm_type")
    if not p > 0:
        raise ValueError(f"{t.fn}: norm_type must be > 0, got {p}")
    kernel, stride, _, _, (oh, ow) = _pool_geometry(t, kernel_size, stride, 0, 1, ceil_mode)
    n, c = t.arr.shape[:2]

    def native(dst):
        _core.lp_pool2d(t.host(), dst, p, *kernel, *stride, bool(ceil_mode))

    def fallback():
        return _fallbacks().lp_pool2d(_xp(), t.arr, p, kernel, stride, bool(ceil_mode))

    def gpu(dev):
        return _kernels().pool2d(
            dev, "lp", t.arr, (oh, ow), kernel=kernel, stride=stride, norm_type=p
        )[0]

    return _run(t, (n, c, oh, ow), out, native, fallback, gpu=gpu)


def _adaptive_size(t: _Tensor, output_size: int | tuple[int | None, int | None]) -> tuple[int, int]:
    """(oh, ow): an int, or a pair whose None entries mean the input's size."""
    h, w = t.arr.shape[2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(
                f"{t.fn}: output_size must be an int or a pair, got {len(output_size)} values"
            )
        sizes = [
            size if v is None else val.as_int(v, t.fn, "output_size", minimum=1, maximum=_MAX_SIZE)
            for v, size in zip(output_size, (h, w), strict=True)
        ]
        return _plane_size(t, sizes[0], sizes[1])
    if not isinstance(output_size, numbers.Integral) and output_size is not None:
        val.as_int(output_size, t.fn, "output_size")  # raises the TypeError
    v = val.as_int(output_size, t.fn, "output_size", minimum=1, maximum=_MAX_SIZE)
    return _plane_size(t, v, v)


def _plane_size(t: _Tensor, oh: int, ow: int) -> tuple[int, int]:
    """(oh, ow), refused before any allocation when one output plane would hold 2**31 values
    or more (NumPy's own "array is too big" would not name the argument)."""
    if oh * ow >= _MAX_SIZE:
        raise ValueError(f"{t.fn}: output_size {oh}x{ow} is too large (a plane of 2**31 or more)")
    return oh, ow


def adaptive_avg_pool2d(
    input: Array, output_size: int | tuple[int | None, int | None], *, out: Array | None = None
) -> Any:
    """Adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool2d``: output (y, x) of an
    (oh, ow) output averages input rows [floor(y*H/oh), ceil((y+1)*H/oh)) and the columns
    likewise.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W), float32 or float64.
        output_size: (oh, ow) or an int for both; None in the pair keeps that input size.
        out: an array of the result's shape and dtype to write to.

    Returns:
        (N, C, oh, ow) in the input's dtype and kind, or ``out``.

    >>> foveal.nn.adaptive_avg_pool2d(np.arange(6.0).reshape(1, 2, 3), (1, 2))
    array([[[2., 3.]]])
    """
    t = _Tensor(input, "adaptive_avg_pool2d")
    oh, ow = _adaptive_size(t, output_size)
    n, c = t.arr.shape[:2]

    def native(dst):
        _core.adaptive_avg_pool2d(t.host(), dst)

    def fallback():
        return _fallbacks().adaptive_avg_pool2d(_xp(), t.arr, (oh, ow))

    def gpu(dev):
        return _kernels().pool2d(dev, "avg", t.arr, (oh, ow), adaptive=True)[0]

    return _run(t, (n, c, oh, ow), out, native, fallback, gpu=gpu)


def adaptive_max_pool2d(
    input: Array,
    output_size: int | tuple[int | None, int | None],
    return_indices: bool = False,
    *,
    out: Array | None = None,
) -> Any:
    """Adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool2d``: the windows of
    :func:`adaptive_avg_pool2d`, the maximum of :func:`max_pool2d` (NaN wins).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W), float32 or float64.
        output_size: as :func:`adaptive_avg_pool2d`.
        return_indices: also return the int64 flat index (y * W + x) of each maximum in its
            plane.
        out: an array to write the values to.

    Returns:
        (N, C, oh, ow) values in the input's dtype and kind (or ``out``); with
        ``return_indices``, ``(values, indices)``.

    >>> foveal.nn.adaptive_max_pool2d(np.arange(6.0).reshape(1, 2, 3), 1, return_indices=True)
    (array([[[5.]]]), array([[[5]]]))
    """
    t = _Tensor(input, "adaptive_max_pool2d")
    oh, ow = _adaptive_size(t, output_size)
    n, c = t.arr.shape[:2]
    shape4 = (n, c, oh, ow)
    want = bool(return_indices)
    indices = np.empty(shape4, np.int64) if want and not t.cupy else None
    found = {}

    def native(dst):
        _core.adaptive_max_pool2d(t.host(), dst, indices)

    def fallback():
        res = _fallbacks().adaptive_max_pool2d(_xp(), t.arr, (oh, ow), want)
        if want:
            res, found["indices"] = res
        return res

    def gpu(dev):
        res, found["indices"] = _kernels().pool2d(
            dev, "max", t.arr, (oh, ow), adaptive=True, indices=want
        )
        return res

    values = _run(t, shape4, out, native, fallback, gpu=gpu)
    if not want:
        return values
    return _with_indices(t, values, found.get("indices", indices))


# --------------------------------------------------------------------------------------------
# patch sequences
# --------------------------------------------------------------------------------------------


def patchify(images: Array, patch_size: Size, *, out: Array | None = None) -> Any:
    """Cuts images into ViT patch sequences: ``torch.nn.functional.unfold(images, patch_size,
    stride=patch_size).transpose(1, 2)``.

    The L = (H/ph)*(W/pw) patches come in row-major order, each patch's values in (c, i, j) order
    (the order of a patch-embedding convolution's flattened weight, so ``patchify(x, p) @
    w.reshape(D, -1).T`` is that convolution).

    Args:
        images: (N, C, H, W) or unbatched (C, H, W), float32 or float64.
        patch_size: (ph, pw) or an int for both, dividing H and W.
        out: an array of the result's shape and dtype to write to.

    Returns:
        (N, L, C*ph*pw) (unbatched: (L, C*ph*pw)) in the images' dtype and kind, or ``out``.

    >>> foveal.nn.patchify(np.arange(16.0).reshape(1, 4, 4), 2)[1]
    array([2., 3., 6., 7.])
    """
    fn = "patchify"
    t = _Tensor(images, fn, "images")
    ph, pw = _positive_pair(patch_size, fn, "patch_size")
    n, c, h, w = t.arr.shape
    if h % ph or w % pw:
        raise ValueError(f"{fn}: the image size {h}x{w} is not a multiple of patch_size {ph}x{pw}")
    shape = (n, (h // ph) * (w // pw), c * ph * pw)
    shape_out = shape if t.batched else shape[1:]
    out_arr: Any = None  # a NumPy or CuPy array
    if out is not None:
        out_arr, _ = dsp.to_array(out, fn, "out", NN_DTYPES, output=True)
        val.check_out(out_arr, shape_out, t.dtype, fn)
        if dsp.is_cupy(out_arr) != t.cupy:
            raise TypeError(f"{fn}: out must live on the same device as images")
    if t.cupy:
        res = _fallbacks().patchify(_xp(), t.arr, (ph, pw))
        return dsp.deliver(t.kind, out, out_arr, res if t.batched else res[0])
    direct = out_arr is not None and out_arr.flags.c_contiguous
    dst = out_arr if direct and not _overlaps(out_arr, t.arr) else dsp.new_array(shape, t.dtype)
    if dst.size:
        _core.patchify(t.host(), dst, ph, pw)
    if dst is out_arr:
        return out
    return dsp.deliver(t.kind, out, out_arr, dst if t.batched else dst[0])


def unpatchify(
    patches: Array,
    patch_size: Size,
    image_size: tuple[int, int] | None = None,
    *,
    out: Array | None = None,
) -> Any:
    """The inverse of :func:`patchify`: ``torch.nn.functional.fold`` of the transposed patches with
    kernel and stride ``patch_size``.

    Args:
        patches: (N, L, C*ph*pw) or unbatched (L, C*ph*pw), float32 or float64.
        patch_size: (ph, pw) or an int for both.
        image_size: (H, W); None means a square grid (L a perfect square).
        out: an array of the result's shape and dtype to write to.

    Returns:
        (N, C, H, W) (unbatched: (C, H, W)) in the patches' dtype and kind, or ``out``.

    >>> x = np.arange(32.0).reshape(2, 4, 4)
    >>> bool((foveal.nn.unpatchify(foveal.nn.patchify(x, 2), 2, (4, 4)) == x).all())
    True
    """
    fn = "unpatchify"
    arr, kind = _float_array(patches, fn, "patches", (3, 2), "3-D (N, L, F) or 2-D (L, F)")
    batched = arr.ndim == 3
    p3 = arr if batched else arr[None]
    n, count, features = p3.shape
    ph, pw = _positive_pair(patch_size, fn, "patch_size")
    if count == 0 or features == 0:
        raise ValueError(f"{fn}: patches must not be empty, got shape {tuple(arr.shape)}")
    if features % (ph * pw):
        raise ValueError(
            f"{fn}: {features} features per patch are not a multiple of patch_size {ph}x{pw}"
        )
    c = features // (ph * pw)
    if image_size is None:
        side = math.isqrt(count)
        if side * side != count:
            raise ValueError(
                f"{fn}: image_size is needed: {count} patches do not form a square grid"
            )
        h, w = side * ph, side * pw
    else:
        h, w = _positive_pair(image_size, fn, "image_size")
        if h % ph or w % pw or (h // ph) * (w // pw) != count:
            raise ValueError(f"{fn}: image_size {h}x{w} does not hold {count} patches of {ph}x{pw}")
    shape = (n, c, h, w)
    shape_out = shape if batched else shape[1:]
    out_arr: Any = None  # a NumPy or CuPy array
    if out is not None:
        out_arr, _ = dsp.to_array(out, fn, "out", NN_DTYPES, output=True)
        val.check_out(out_arr, shape_out, arr.dtype, fn)
        if dsp.is_cupy(out_arr) != dsp.is_cupy(arr):
            raise TypeError(f"{fn}: out must live on the same device as patches")
    if dsp.is_cupy(arr):
        res = _fallbacks().unpatchify(_xp(), p3, (ph, pw), (h, w), c)
        return dsp.deliver(kind, out, out_arr, res if batched else res[0])
    direct = out_arr is not None and out_arr.flags.c_contiguous
    dst = out_arr if direct and not _overlaps(out_arr, arr) else dsp.new_array(shape, arr.dtype)
    if dst.size:
        _core.unpatchify(np.ascontiguousarray(p3), dst.reshape(shape), ph, pw)
    if dst is out_arr:
        return out
    return dsp.deliver(kind, out, out_arr, dst if batched else dst[0])

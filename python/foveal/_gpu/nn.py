"""foveal.nn's pools on the GPU: the wrappers have checked and normalized the arguments; this
allocates the results and launches the kernel (cuda/pool.cu) on the Device's stream."""

from __future__ import annotations

import numpy as np

from . import Device


def pool2d(
    dev: Device,
    kind: str,
    x,
    out_hw: tuple[int, int],
    *,
    kernel=(1, 1),
    stride=(1, 1),
    pad=(0, 0),
    dilation=(1, 1),
    adaptive: bool = False,
    count_include_pad: bool = True,
    divisor: int = 0,
    norm_type: float = 2.0,
    indices: bool = False,
):
    """(values, indices or None) of a pool over the (N, C, H, W) array ``x``."""
    x = dev.contiguous(x)
    n, c, h, w = x.shape
    oh, ow = out_hw
    values = dev.xp.empty((n, c, oh, ow), x.dtype)
    where = dev.xp.empty((n, c, oh, ow), np.int64) if indices else None
    dev.module.pool2d(
        kind,
        adaptive,
        x.dtype.name,
        dev.ptr(x),
        dev.ptr(values),
        dev.ptr(where),
        n * c,
        h,
        w,
        oh,
        ow,
        *kernel,
        *stride,
        *pad,
        *dilation,
        count_include_pad,
        divisor,
        float(norm_type),
        dev.stream,
    )
    return values, where

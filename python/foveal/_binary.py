"""Binary images as the connected-component and contour kernels read them: one-channel uint8
rows, nonzero = foreground. Those kernels run on the CPU only, so CuPy input is copied to the
host (and results copied back where they are images)."""

from __future__ import annotations

import numpy as np

from . import _dispatch as dsp
from . import _validate as val


def host_binary(image, fn: str, name: str = "binary"):
    """``(uint8 array the kernels can read, kind, on_device)`` for a 2-D image of any image
    dtype or bool; values other than 0 count as foreground (NaN included)."""
    arr, kind = dsp.to_array(image, fn, name)
    val.check_image(arr, fn, name, val.IMAGE_DTYPES_BOOL)
    if arr.ndim != 2:
        raise ValueError(
            f"{fn}: {name} must be 2-D (H, W), got {arr.ndim}-D shape {tuple(arr.shape)}"
        )
    on_device = dsp.is_cupy(arr)
    if on_device:
        arr = arr.get()
    if arr.dtype == np.bool_:
        arr = arr.view(np.uint8)
    elif arr.dtype != np.uint8:
        arr = (arr != 0).view(np.uint8)
    return dsp.kernel_input(arr), kind, on_device

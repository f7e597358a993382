"""Any array in, the same kind of array out, without copies.

``to_array`` turns the caller's object into a NumPy array (host memory) or a CuPy array
(device memory) that shares its memory: NumPy and CuPy arrays as they are, torch tensors through
``Tensor.numpy()`` or DLPack, anything with ``__cuda_array_interface__`` through CuPy, and any
other ``__dlpack__`` / ``__array_interface__`` object through NumPy or CuPy by the device it lives
on. ``wrap`` gives a result back in the caller's kind. Only lists and other non-array objects are
refused, with a TypeError that names the argument.
"""

from __future__ import annotations

import sys

import numpy as np

from ._backend import _core
from ._validate import IMAGE_DTYPES_BOOL, check_out

_DLPACK_CPU = 1


def _cupy():
    try:
        import cupy
    except Exception:  # noqa: BLE001 - CuPy missing or without a usable CUDA runtime
        return None
    return cupy


def is_cupy(arr) -> bool:
    return type(arr).__module__.startswith("cupy")


def _is_torch(obj) -> bool:
    torch = sys.modules.get("torch")  # never import torch just to ask
    return torch is not None and isinstance(obj, torch.Tensor)


class Kind:
    """How to give a result back: as NumPy, CuPy or torch (on the input's device)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def wrap(self, arr):
        if self.name == "torch":
            import torch

            if isinstance(arr, np.ndarray):
                return torch.from_numpy(arr)
            return torch.from_dlpack(arr)
        return arr


_NUMPY = Kind("numpy")
_CUPY = Kind("cupy")
_TORCH = Kind("torch")


def to_array(obj, fn: str, name: str, supported=IMAGE_DTYPES_BOOL, *, output: bool = False):
    """``(array, kind)`` for ``obj``; the array shares ``obj``'s memory. Arrays in a non-native
    byte order are the one exception: an input is copied once to native order (the kernels read
    native values), an ``output`` is refused, as a copy of it would never be seen."""
    arr, kind = _view(obj, fn, name, supported)
    if isinstance(arr, np.ndarray) and not arr.dtype.isnative:
        if output:
            raise TypeError(f"{fn}: {name} must be in native byte order, got dtype {arr.dtype}")
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr, kind


def _view(obj, fn: str, name: str, supported):
    if isinstance(obj, np.ndarray):
        return obj, _NUMPY
    if is_cupy(obj) and hasattr(obj, "__cuda_array_interface__"):
        return obj, _CUPY
    if _is_torch(obj):
        t = obj.detach()
        if t.device.type == "cpu":
            if t.is_conj() or t.is_neg():
                t = t.resolve_conj().resolve_neg()
            try:
                return t.numpy(), _TORCH
            except TypeError as exc:  # e.g. bfloat16 has no NumPy dtype
                raise TypeError(
                    f"{fn}: {name} dtype {t.dtype} is not supported on the CPU "
                    f"(supported: {', '.join(supported)})"
                ) from exc
        cupy = _cupy()
        if cupy is None:
            raise TypeError(f"{fn}: {name} is a CUDA tensor but CuPy is not installed")
        return cupy.from_dlpack(t), _TORCH
    if hasattr(obj, "__cuda_array_interface__"):
        cupy = _cupy()
        if cupy is None:
            raise TypeError(f"{fn}: {name} is a CUDA array but CuPy is not installed")
        return cupy.asarray(obj), _CUPY
    if hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__"):
        device_type = obj.__dlpack_device__()[0]
        if device_type == _DLPACK_CPU:
            return np.from_dlpack(obj), _NUMPY
        cupy = _cupy()
        if cupy is None:
            raise TypeError(f"{fn}: {name} lives on a device but CuPy is not installed")
        return cupy.from_dlpack(obj), _CUPY
    if hasattr(obj, "__array_interface__") or hasattr(obj, "__array_struct__"):
        return np.asarray(obj), _NUMPY
    raise TypeError(
        f"{fn}: {name} must be an array (NumPy, CuPy, torch or any DLPack object), "
        f"got {type(obj).__name__}"
    )


FLOAT_DTYPES = ("float32", "float64")


def float_array(obj, fn: str, name: str):
    """``(array, kind)`` for a float32 / float64 argument (foveal.nn, attention, k-means); a
    TypeError naming the two otherwise."""
    arr, kind = to_array(obj, fn, name, FLOAT_DTYPES)
    if arr.dtype.name not in FLOAT_DTYPES:
        raise TypeError(
            f"{fn}: {name} dtype {arr.dtype} is not supported (supported: float32, float64)"
        )
    return arr, kind


def to_host(obj, fn: str, name: str) -> np.ndarray:
    """A small parameter (a kernel mask, say) as a NumPy array, copied from the device if needed."""
    arr, _ = to_array(obj, fn, name)
    if is_cupy(arr):
        return arr.get()
    return arr


def rows_contiguous(arr: np.ndarray) -> bool:
    """Whether each row of an (H, W[, C]) array is one contiguous run of values, as the C++
    kernels read them (the row stride itself may be anything, negative included)."""
    item = arr.itemsize
    if arr.ndim == 2:
        return arr.shape[1] <= 1 or arr.strides[1] == item
    c = arr.shape[2]
    return (c <= 1 or arr.strides[2] == item) and (arr.shape[1] <= 1 or arr.strides[1] == c * item)


def kernel_input(arr: np.ndarray) -> np.ndarray:
    """``arr`` itself where the kernels can read it, else one contiguous copy."""
    return arr if rows_contiguous(arr) else np.ascontiguousarray(arr)


# Outputs this large come from foveal's output cache (cpp/bindings/output_pool.cpp): blocks of
# arrays the caller has dropped are reused instead of faulted in afresh from the kernel.
POOLED_BYTES = 1 << 20


def new_array(shape, dtype) -> np.ndarray:
    """An uninitialized C-contiguous host array, as ``np.empty``; one of POOLED_BYTES or more
    lives on a block of the output cache (``foveal.set_output_cache``) while it is on."""
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    if dtype.itemsize * int(np.prod(shape, dtype=np.float64)) < POOLED_BYTES:
        return np.empty(shape, dtype)
    return _core.pooled_empty(shape, dtype)


def output(fn: str, arr, dtype, out, name: str = "out", shape=None):
    """(``out`` as an array or None, the array a native kernel writes: ``out`` itself when its
    rows are contiguous, else a new one; None for CuPy input, whose fallbacks return theirs).
    The result has ``shape``, by default the image's."""
    shape = arr.shape if shape is None else shape
    out_arr = None
    if out is not None:
        out_arr, _ = to_array(out, fn, name, output=True)
        check_out(out_arr, shape, dtype, fn)
        if is_cupy(out_arr) != is_cupy(arr):
            raise TypeError(f"{fn}: {name} must live on the same device as image")
    if is_cupy(arr):
        return out_arr, None
    if out_arr is not None and rows_contiguous(out_arr):
        return out_arr, out_arr
    return out_arr, new_array(shape, dtype)


def deliver(kind: Kind, out, out_arr, result):
    """The result in the caller's kind, or copied into ``out`` (unless written there) and
    ``out`` returned."""
    if out_arr is None:
        return kind.wrap(result)
    if result is not out_arr:
        out_arr[...] = result
    return out


def run(fn: str, arr, kind: Kind, dtype, out, native, fallback, shape=None, gpu=None):
    """An image function's last step: ``native(src, dst)`` on NumPy input; on CuPy input
    ``gpu(device)`` with the CUDA kernels where they are there (see foveal._gpu), else
    ``fallback()`` (both returning a CuPy array); the result in the caller's kind or in
    ``out``."""
    out_arr, target = output(fn, arr, dtype, out, shape=shape)
    if is_cupy(arr):
        from . import _gpu

        dev = _gpu.device(arr, kind) if gpu is not None else None
        if dev is None:
            return deliver(kind, out, out_arr, fallback())
        with dev:
            return deliver(kind, out, out_arr, gpu(dev))
    native(kernel_input(arr), target)
    return deliver(kind, out, out_arr, target)

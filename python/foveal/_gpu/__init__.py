"""The CUDA kernels' route for arrays on the GPU: which kernel module runs, on which stream,
with which pointers.

A :class:`Device` bundles what a kernel launch needs from Python: the kernel module (``_cuda``,
or ``_cuda_emu`` whose kernels the SIMT emulator runs on the CPU), the array module that
allocates results (CuPy, or NumPy under the emulator), the stream to launch on (torch's current
stream for torch tensors, CuPy's otherwise, so that foveal's kernels are ordered with the
caller's work) and how to read an array's address. The family modules beside this one take a
Device first and return arrays of its array module; the wrappers use :func:`device` for CuPy
input and fall back to the CuPy implementations (foveal._cupy) where it returns None.
"""

from __future__ import annotations

from typing import Any

from .._backend import _cuda, cuda_device_count


class Device:
    """A kernel module, its array module and the stream its launches go to."""

    def __init__(self, module: Any, xp: Any, stream: int, *, emulated: bool = False):
        self.module, self.xp, self.stream, self.emulated = module, xp, stream, emulated

    def ptr(self, arr) -> int:
        """The address of ``arr``'s first element (0 for None)."""
        if arr is None:
            return 0
        if self.emulated:
            return int(arr.ctypes.data)
        return int(arr.data.ptr)

    def contiguous(self, arr):
        return self.xp.ascontiguousarray(arr)

    def __enter__(self) -> Device:
        """``with dev:`` makes the launch stream CuPy's current one for the block, so that the
        route's CuPy temporaries are allocated, used and freed in the kernels' stream order
        (for torch tensors, torch's stream; CuPy's own otherwise)."""
        self._scope = None
        if not self.emulated:
            self._scope = self.xp.cuda.ExternalStream(self.stream)
            self._scope.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._scope is not None:
            self._scope.__exit__(*exc)
            self._scope = None


def _stream(kind) -> int:
    if getattr(kind, "name", None) == "torch":
        import torch

        return int(torch.cuda.current_stream().cuda_stream)
    import cupy

    return int(cupy.cuda.get_current_stream().ptr)


def device(arr, kind=None) -> Device | None:
    """The CUDA kernels' Device for a CuPy array (on its current device and stream), or None
    when the _cuda module was not built or sees no GPU: the caller then takes the CuPy
    fallback."""
    if _cuda is None or cuda_device_count() == 0:
        return None
    if not type(arr).__module__.startswith("cupy"):
        return None  # an array standing in for CuPy's (the fallback tests' NumPy arrays)
    import cupy

    if arr.device.id != cupy.cuda.Device().id:
        # The kernels launch on the current device: an array on another one takes the CuPy
        # fallback, which follows CuPy's own device rules.
        return None
    return Device(_cuda, cupy, _stream(kind))


def emulated() -> Device | None:
    """The emulator's Device (NumPy arrays, kernels run on the CPU), or None when _cuda_emu
    was not built. ``FOVEAL_CUDA_EMU_PATH`` (a file) loads another build of the module: a
    development build of kernels being written, beside the installed package."""
    import os

    import numpy

    path = os.environ.get("FOVEAL_CUDA_EMU_PATH")
    if path:
        return Device(_load(path), numpy, 0, emulated=True)
    try:
        from .. import _cuda_emu
    except ImportError:
        return None
    return Device(_cuda_emu, numpy, 0, emulated=True)


def _load(path: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location("foveal._cuda_emu", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"FOVEAL_CUDA_EMU_PATH={path!r} is not a loadable module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

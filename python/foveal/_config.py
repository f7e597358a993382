"""Threads, instruction sets and show_config()."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from . import _validate as val
from ._backend import _core, _cuda, cuda_device_count


def set_num_threads(n: int) -> None:
    """Use ``n`` CPU threads in every native call from now on (default: the usable cores)."""
    _core.set_num_threads(val.as_int(n, "set_num_threads", "n", minimum=1, maximum=1 << 16))


def get_num_threads() -> int:
    """The number of CPU threads the next call from this thread will use."""
    return _core.get_num_threads()


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[int]:
    """Use ``n`` threads for calls made from this thread inside the ``with`` block; other
    threads keep their setting.

    >>> with foveal.num_threads(1):
    ...     out = foveal.dilate(img, 5)
    """
    n = val.as_int(n, "num_threads", "n", minimum=1, maximum=1 << 16)
    previous = _core.get_num_threads() if _local_depth() else 0
    _LOCAL.depth = _local_depth() + 1
    _core.set_local_num_threads(n)
    try:
        yield n
    finally:
        _LOCAL.depth -= 1
        _core.set_local_num_threads(previous)


class _Local(threading.local):
    depth = 0


_LOCAL = _Local()


def _local_depth() -> int:
    return _LOCAL.depth


def _check_isa_env() -> None:
    value = os.environ.get("FOVEAL_ISA")
    if value is not None and value.lower() not in ("baseline", "avx2", "avx512"):
        warnings.warn(
            f"FOVEAL_ISA={value!r} is not one of baseline, avx2, avx512; ignored",
            RuntimeWarning,
            stacklevel=3,
        )


_check_isa_env()


def set_isa(name: str) -> None:
    """Force the kernels' instruction set ("baseline", "avx2", "avx512"), for tests and
    comparisons; it must be one the CPU supports."""
    _core.set_isa(name)


def get_isa() -> str:
    """The instruction set the CPU kernels use now."""
    return _core.active_isa()


def _cupy_version() -> str | None:
    try:
        import cupy
    except Exception:  # noqa: BLE001
        return None
    return cupy.__version__


def show_config(file: IO[str] | None = None) -> dict[str, Any]:
    """Print and return what this build of foveal is and runs on."""
    devices = []
    if _cuda is not None:
        for i in range(cuda_device_count()):
            devices.append(_cuda.device_info(i))
    info: dict[str, Any] = {
        "foveal": _core.version(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "compiler": _core.compiler(),
        "cpu_isa": _core.active_isa(),
        "cpu_isa_detected": _core.detected_isa(),
        "cpu_isas_usable": _core.supported_isas(),
        "threads": _core.get_num_threads(),
        "cuda_module_built": _cuda is not None,
        "cuda_runtime": _cuda.runtime_version() if _cuda is not None else None,
        "cuda_driver": _cuda.driver_version() if _cuda is not None else None,
        "cuda_devices": devices,
        "cupy": _cupy_version(),
    }
    if info["cuda_module_built"] and devices:
        info["gpu_path"] = "_cuda kernels (CuPy fallback for functions without one)"
    elif info["cupy"]:
        info["gpu_path"] = "CuPy fallback"
    else:
        info["gpu_path"] = "none"
    width = max(len(k) for k in info)
    lines = [f"{k:<{width}}  {v}" for k, v in info.items()]
    print("\n".join(lines), file=file if file is not None else sys.stdout)
    return info

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
    """Use ``n`` CPU threads in every native call from now on, as ``torch.set_num_threads`` (or
    ``cv2.setNumThreads``) does for its library. The default is the number of usable cores.

    Args:
        n: the thread count, 1 to 65536.

    >>> n = foveal.get_num_threads()
    >>> foveal.set_num_threads(2); foveal.get_num_threads()
    2
    >>> foveal.set_num_threads(n)
    """
    _core.set_num_threads(val.as_int(n, "set_num_threads", "n", minimum=1, maximum=1 << 16))


def get_num_threads() -> int:
    """The number of CPU threads the next native call from this thread will use (the
    :func:`num_threads` setting inside its ``with`` block, else :func:`set_num_threads`'s), as
    ``torch.get_num_threads``.

    Returns:
        An int >= 1.

    >>> with foveal.num_threads(3):
    ...     foveal.get_num_threads()
    3
    """
    return _core.get_num_threads()


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[int]:
    """Use ``n`` threads for native calls made from this thread inside the ``with`` block; other
    threads keep their setting. Blocks nest, and the previous setting returns on exit: a
    per-thread ``threadpoolctl.threadpool_limits`` for foveal's pool.

    Args:
        n: the thread count, 1 to 65536.

    Yields:
        ``n``.

    >>> with foveal.num_threads(1) as n:
    ...     n, foveal.get_num_threads()
    (1, 1)
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


def set_output_cache(max_bytes: int) -> None:
    """Keep up to ``max_bytes`` of memory from dropped foveal outputs for reuse (default 256 MiB,
    or the environment variable ``FOVEAL_OUTPUT_CACHE_MB`` at import); 0 turns the cache off and
    frees what it holds. The host-memory counterpart of ``cupy.cuda.MemoryPool.set_limit``.

    Arrays of 1 MiB or more that foveal returns live on blocks that come back to this cache when
    the last array or view on them is gone, and the next output of a similar size reuses one
    instead of asking the operating system for fresh pages (whose faulting and zeroing can cost
    more than the kernel that fills them, for a 4K float32 image several milliseconds). Such an
    array's ``base`` is a capsule that owns the block, so it cannot be resized in place. With
    the cache off, outputs are plain NumPy arrays again.

    Args:
        max_bytes: the most memory the cache keeps, an int >= 0.

    >>> foveal.set_output_cache(64 << 20)
    >>> foveal.get_output_cache()["limit"]
    67108864
    >>> foveal.set_output_cache(256 << 20)
    """
    max_bytes = val.as_int(max_bytes, "set_output_cache", "max_bytes", minimum=0, maximum=1 << 62)
    _core.set_output_cache(max_bytes)


def get_output_cache() -> dict[str, int]:
    """The output cache's state (see :func:`set_output_cache`), as
    ``cupy.cuda.MemoryPool.total_bytes`` and its siblings report CuPy's pool.

    Returns:
        A dict: "limit" (bytes kept at most), "cached_bytes" and "cached_blocks" (held now, free
        for reuse), "hits" and "misses" (outputs that reused a block, and that needed a new
        one, since the process started).

    >>> sorted(foveal.get_output_cache())
    ['cached_blocks', 'cached_bytes', 'hits', 'limit', 'misses']
    """
    return dict(_core.output_cache_info())


def _output_cache_from_env() -> None:
    text = os.environ.get("FOVEAL_OUTPUT_CACHE_MB")
    if text is None:
        return
    try:
        mb = float(text)
    except ValueError:
        mb = -1.0
    if not mb >= 0:
        warnings.warn(
            f"FOVEAL_OUTPUT_CACHE_MB must be a number of MiB >= 0, got {text!r}; ignored",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    _core.set_output_cache(int(mb * (1 << 20)))


_output_cache_from_env()


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
    """Force the CPU kernels' instruction set, for tests and comparisons; it must be one the CPU
    supports. Like setting ``ATEN_CPU_CAPABILITY`` for torch, but at run time; the environment
    variable ``FOVEAL_ISA`` caps the choice at start-up.

    Args:
        name: "baseline", "avx2" or "avx512".

    >>> isa = foveal.get_isa()
    >>> foveal.set_isa("baseline"); foveal.get_isa()
    'baseline'
    >>> foveal.set_isa(isa)
    """
    _core.set_isa(name)


def get_isa() -> str:
    """The instruction set the CPU kernels use now, as ``torch.backends.cpu.get_cpu_capability()``
    reports torch's.

    Returns:
        "baseline", "avx2" or "avx512".

    >>> foveal.get_isa() in ("baseline", "avx2", "avx512")
    True
    """
    return _core.active_isa()


def _cupy_version() -> str | None:
    try:
        import cupy
    except Exception:  # noqa: BLE001
        return None
    return cupy.__version__


def show_config(file: IO[str] | None = None) -> dict[str, Any]:
    """Print and return what this build of foveal is and runs on, as ``numpy.show_config`` does for
    NumPy: the version, Python and NumPy versions, platform, compiler, the CPU instruction set
    chosen and those usable, the thread count, whether the CUDA module was built, the CUDA
    runtime, driver and devices, CuPy's version and the GPU path.

    Args:
        file: a text stream to print to; default ``sys.stdout``.

    Returns:
        A dict of those facts, keyed "foveal", "python", "numpy", "platform", "compiler",
        "cpu_isa", "cpu_isa_detected", "cpu_isas_usable", "threads", "cuda_module_built",
        "cuda_runtime", "cuda_driver", "cuda_devices", "cupy" and "gpu_path".

    >>> import io
    >>> info = foveal.show_config(file=io.StringIO())
    >>> info["foveal"] == foveal.__version__, info["threads"] == foveal.get_num_threads()
    (True, True)
    """
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

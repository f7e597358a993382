"""The compiled modules, imported once: _core always, _cuda when it was built and loads."""

from __future__ import annotations

from . import _core

try:
    from . import _cuda
except ImportError:  # built without nvcc, or its runtime cannot load here
    _cuda = None  # type: ignore[assignment]  # a module or None; callers check


def cuda_device_count() -> int:
    return _cuda.device_count() if _cuda is not None else 0


__all__ = ["_core", "_cuda", "cuda_device_count"]

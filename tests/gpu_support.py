"""What the GPU kernel tests (tests/test_gpu_*.py) share: the ``backend`` fixture and the
comparison with the CPU result.

Each GPU test runs twice where it can: on a real GPU (CuPy arrays, the _cuda module; skipped
without one) and under the SIMT emulator (the same kernel sources built into _cuda_emu and run
on the CPU; skipped when that module was not built). For the emulated run, NumPy arrays are
dressed as CuPy ones so that the wrappers take their GPU route, arguments and all, and the
route's Device is the emulator's. Results must equal the CPU path's: exactly for maxima,
indices and integer images; to the summation order's rounding for sums (1e-5 of the result's
scale in float32, 1e-12 in float64).

tests/conftest.py makes the ``backend`` fixture available to every test; a test module takes
``backend``, a pair (to_device, to_host) of array converters, and compares with ``same``.
"""

from __future__ import annotations

import numpy as np
import pytest
from foveal import _gpu


class _Dressed(np.ndarray):
    """A NumPy array that foveal's dispatch takes for a CuPy one (in the emulated backend)."""


def _cuda_ready() -> bool:
    try:
        import cupy

        return _gpu.device(cupy.zeros(1)) is not None
    except Exception:  # noqa: BLE001 - no CuPy, no driver, no device
        return False


@pytest.fixture(params=["emulated", pytest.param("cuda", marks=pytest.mark.gpu)])
def backend(request, monkeypatch):
    """(to_device, to_host) for the backend; skips when it is not there."""
    if request.param == "cuda":
        if not _cuda_ready():
            pytest.skip("needs CuPy, a CUDA device and the _cuda module")
        import cupy

        return cupy.asarray, cupy.asnumpy
    dev = _gpu.emulated()
    if dev is None:
        pytest.skip("the _cuda_emu module was not built")
    from foveal import _dispatch

    taken = []

    def device(arr, kind=None):
        taken.append(1)
        return dev

    monkeypatch.setattr(_dispatch, "is_cupy", lambda arr: isinstance(arr, _Dressed))
    monkeypatch.setattr(_gpu, "device", device)
    request.node.taken = taken
    return (lambda a: np.ascontiguousarray(a).view(_Dressed)), (lambda a: np.asarray(a))


def same(got, want, what, *, rtol32=1e-5, rtol64=1e-12, scale=None):
    """``got`` equals ``want``: exactly for integers and bools; NaN where ``want`` has NaN; else
    within rtol (per dtype) times ``scale`` (default: the largest finite |want|, at least 1)."""
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if want.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    tol = rtol64 if want.dtype == np.float64 else rtol32
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
    if scale is None:
        scale = max(1.0, float(np.abs(want[finite]).max())) if finite.any() else 1.0
    np.testing.assert_allclose(got[finite], want[finite], rtol=0, atol=tol * scale, err_msg=what)

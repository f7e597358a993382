"""Shared by the tensor benchmark suites (test_nn.py, test_attention.py): the check each
library's result passes before it is timed, and NumPy's BLAS held to one thread."""

from __future__ import annotations

import contextlib

import numpy as np


def check_result(library: str, label: str, expected: np.ndarray, tol: float):
    """``check(result)``: foveal's results must equal ``expected`` (foveal at its default thread
    count) exactly; the others (NumPy's float64 cast to float32) must be finite and within
    ``tol`` of max |expected|."""

    def check(result):
        if not isinstance(result, np.ndarray) and hasattr(result, "numpy"):
            result = result.numpy()  # a torch tensor
        result = np.asarray(result)
        where = f"{library} on {label}"
        assert result.shape == expected.shape, f"{where}: shape {result.shape}"
        if library == "numpy":  # the reference computes in float64
            assert result.dtype == np.float64, f"{where}: dtype {result.dtype}"
            result = result.astype(np.float32)
        assert result.dtype == expected.dtype, f"{where}: dtype {result.dtype}"
        assert np.isfinite(result).all() or not np.isfinite(expected).all(), (
            f"{where}: non-finite values"
        )
        if library == "foveal":
            if not np.array_equal(result, expected):
                d = np.abs(result.astype(np.float64) - expected)
                first = tuple(int(i) for i in np.unravel_index(np.argmax(d), d.shape))
                raise AssertionError(
                    f"{where}: {int((d > 0).sum())} values differ from foveal at its default "
                    f"thread count, largest at {first}: {result[first]!r} vs {expected[first]!r}"
                )
            return
        scale = float(np.abs(expected).max()) or 1.0
        d = np.abs(result.astype(np.float64) - expected.astype(np.float64))
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(d), d.shape))
        assert d.max() <= tol * scale, (
            f"{where}: max |diff| {d.max():.3g} > {tol} * {scale:.3g} at {worst}: "
            f"{library}={result[worst]!r} foveal={expected[worst]!r}"
        )

    return check


@contextlib.contextmanager
def blas_single_threaded(library: str):
    """NumPy's matrix products at one BLAS thread (when threadpoolctl is installed)."""
    if library != "numpy":
        yield None
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield None
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield 1

"""Device out-of-memory is a MemoryError (DESIGN.md, Errors), on CuPy input.

foveal's GPU path allocates through CuPy (the CuPy fallbacks; the _cuda module has no kernels
of its own yet), and CuPy's ``cupy.cuda.memory.OutOfMemoryError`` derives from MemoryError, so
an allocation the device cannot satisfy must reach the caller as a MemoryError, never as a
RuntimeError, a crash or a wrong result. Two ways to run out: a request no device can hold
(terabytes: a thousand 1x1 planes pooled up to 40000x40000 each, every plane under the
2**31-value limit that the wrappers refuse with a ValueError), and a memory-pool limit just
above the inputs, which makes the first large allocation of every function fail. The GPU tests
skip without CuPy and a CUDA device; the host twin (a NumPy input) runs wherever the kernel
refuses to overcommit memory.
"""

from __future__ import annotations

import os

import foveal
import foveal.nn as fnn
import numpy as np
import pytest


def _cupy_with_device():
    try:
        import cupy
    except Exception:  # noqa: BLE001 - not installed, or no CUDA runtime
        return None
    try:
        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # noqa: BLE001 - a driver without a device
        return None


cp = _cupy_with_device()
# FOVEAL_SANITIZED=1 is set by .ci/sanitize.sh; an ASan preload says the same.
SANITIZED = os.environ.get("FOVEAL_SANITIZED") == "1" or "libasan" in os.environ.get(
    "LD_PRELOAD", ""
)
needs_gpu = pytest.mark.skipif(cp is None, reason="needs CuPy and a CUDA device")


HUGE = (40000, 40000)  # 1.6e9 values a plane: under the wrappers' 2**31 limit


def _overcommit_refuses_huge() -> bool:
    """Whether a 5.8 TiB malloc fails at once (overcommit heuristic or strict), rather than
    succeeding virtually and being killed later when touched."""
    try:
        with open("/proc/sys/vm/overcommit_memory") as fh:
            return fh.read().strip() in ("0", "2")
    except OSError:
        return False


@pytest.mark.skipif(not _overcommit_refuses_huge(), reason="the kernel may overcommit 5.8 TiB")
@pytest.mark.skipif(SANITIZED, reason="ASan aborts on allocations past 1 TiB")
def test_host_impossible_request_is_memory_error():
    """The host twin of the device test below: a 5.8 TiB NumPy output is a MemoryError."""
    x = np.ones((1000, 1, 1, 1), np.float32)
    with pytest.raises(MemoryError):
        fnn.adaptive_avg_pool2d(x, HUGE)


@pytest.mark.gpu
@needs_gpu
def test_cupy_out_of_memory_is_a_memory_error():
    assert issubclass(cp.cuda.memory.OutOfMemoryError, MemoryError)


@pytest.mark.gpu
@needs_gpu
def test_impossible_request_is_memory_error():
    """A thousand 1x1 planes pooled up to 40000x40000: a 5.8 TiB float32 output."""
    x = cp.ones((1000, 1, 1, 1), cp.float32)
    with pytest.raises(MemoryError):
        fnn.adaptive_avg_pool2d(x, HUGE)
    # the device is still usable afterwards
    cp.testing.assert_array_equal(fnn.adaptive_avg_pool2d(x, 2), cp.ones((1000, 1, 2, 2)))


def _inputs():
    rng = np.random.default_rng(0)
    return {
        "img": cp.asarray(rng.integers(0, 256, (512, 512), dtype=np.uint8)),
        "f32": cp.asarray(rng.standard_normal((512, 512)).astype(np.float32)),
        "x": cp.asarray(rng.standard_normal((2, 16, 64, 64)).astype(np.float32)),
        "w": cp.asarray(rng.standard_normal((16, 16, 3, 3)).astype(np.float32)),
        "q": cp.asarray(rng.standard_normal((2, 4, 256, 32)).astype(np.float32)),
        "pts": cp.asarray(rng.standard_normal((20000, 3)).astype(np.float32)),
    }


CALLS = {
    "dilate": lambda i: foveal.dilate(i["img"], 7),
    "gaussian_blur": lambda i: foveal.gaussian_blur(i["f32"], 9, 2.0),
    "sobel": lambda i: foveal.sobel(i["img"], 1, 0),
    "harris": lambda i: foveal.harris(i["f32"], 3, 3, 0.04),
    "bandpass": lambda i: foveal.bandpass(i["f32"], 4, 40),
    "conv2d": lambda i: fnn.conv2d(i["x"], i["w"], padding=1),
    "max_pool2d": lambda i: fnn.max_pool2d(i["x"], 3, 1, 1),
    "sdpa": lambda i: fnn.scaled_dot_product_attention(i["q"], i["q"], i["q"], is_causal=True),
    "kmeans": lambda i: foveal.kmeans(i["pts"], 8, init=i["pts"][:8]),
    "label": lambda i: foveal.label(i["img"] > 128),
}


@pytest.fixture
def tight_pool():
    """The default memory pool limited to the bytes in use plus 64 KiB (its cached free blocks
    released first, or the call would reuse them); the limit restored after."""
    pool = cp.get_default_memory_pool()
    before = pool.get_limit()

    def limit():
        cp.cuda.Device().synchronize()
        pool.free_all_blocks()
        pool.set_limit(size=pool.used_bytes() + (64 << 10))

    yield limit
    pool.set_limit(size=before)
    pool.free_all_blocks()


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("name", list(CALLS))
def test_pool_limit_gives_memory_error(name, tight_pool):
    inputs = _inputs()
    expected = CALLS[name](inputs)  # works with room to spare
    tight_pool()
    try:
        CALLS[name](inputs)
    except MemoryError:
        pass
    else:
        pytest.fail(f"{name}: no MemoryError with the pool limited to its inputs")
    # after the failure, with room again, the same call gives the same result
    cp.get_default_memory_pool().set_limit(size=0)
    again = CALLS[name](inputs)
    for a, b in zip(_leaves(again), _leaves(expected), strict=True):
        cp.testing.assert_array_equal(a, b)


def _leaves(result):
    if isinstance(result, (tuple, list)):
        return [leaf for item in result for leaf in _leaves(item)]
    return [result] if isinstance(result, cp.ndarray) else []

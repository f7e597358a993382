"""Shared fixtures for foveal's pytest-benchmark suites.

Inputs are the standard ones of /work/shared/WORKLOADS.md: 4K (2160 x 3840), deterministic,
never constant. ``--fv-quick`` shrinks them to 540 x 960 for smoke tests.

Every benchmark records ``group`` = the workload's name and ``extra_info`` =
{library, threads, workload, shape, dtype} so that ``benchmarks/report.py`` can put libraries
side by side and compute ratios. foveal, cv2, torch and scikit-learn rows run at 1 thread and
at all usable cores; NumPy, scipy and scikit-image are single-threaded and run once, labelled
threads=1.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import time

import foveal
import numpy as np
import pytest
from machine import cpu_model

SEED = 20240601
FULL_SHAPE = (2160, 3840)  # 4K, (rows, cols)
QUICK_SHAPE = (540, 960)

#: Libraries with a thread pool that we drive; every other library runs single-threaded.
#: "torch-math" is torch's unfused attention written with torch ops (benchmarks/test_attention.py);
#: "sklearn" is scikit-learn, whose OpenMP pool threadpoolctl limits (benchmarks/test_segment.py).
THREADED_LIBRARIES = ("foveal", "cv2", "torch", "torch-math", "sklearn")
DEFAULT_LIBRARIES = ("foveal", "numpy", "cv2", "scipy", "skimage")
#: A call of a single-threaded library slower than this (seconds) is timed with
#: ``benchmark.pedantic(rounds=3)`` instead of pytest-benchmark's calibrated loop.
SLOW_CALL_S = 0.3
SLOW_ROUNDS = 3


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask), not the machine's total."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


ALL_CORES = usable_cores()


# --------------------------------------------------------------------------- options, metadata


def pytest_addoption(parser):
    group = parser.getgroup("foveal benchmarks")
    group.addoption(
        "--fv-quick",
        action="store_true",
        default=False,
        help=f"shrink the standard inputs from {FULL_SHAPE} to {QUICK_SHAPE} (smoke tests)",
    )


def foveal_machine_info() -> dict:
    """What report.py prints in its header: the machine and the foveal build that ran."""
    config = foveal.show_config(file=io.StringIO())
    return {
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cores_usable": ALL_CORES,
        "cores_total": os.cpu_count(),
        "foveal_version": config["foveal"],
        "foveal_isa": config["cpu_isa"],
        "foveal_isa_detected": config["cpu_isa_detected"],
        "foveal_compiler": config["compiler"],
        "foveal_threads_default": config["threads"],
    }


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fv_libraries(*names): parametrize the test's library_threads argument with "
        "(library, threads) for these libraries (see library_params)",
    )


def pytest_generate_tests(metafunc):
    """A test that takes ``library_threads`` runs once per (library, threads) pair of
    :func:`library_params` over the libraries of its ``fv_libraries`` marker."""
    if "library_threads" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("fv_libraries")
    libraries = marker.args if marker is not None else DEFAULT_LIBRARIES
    metafunc.parametrize("library_threads", library_params(libraries))


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["foveal"] = foveal_machine_info()
    machine_info["foveal"]["quick"] = bool(config.getoption("--fv-quick"))


# --------------------------------------------------------------------------- threads


def thread_counts() -> list[int]:
    """1 and all usable cores (just 1 on a single-core machine)."""
    return [1] if ALL_CORES == 1 else [1, ALL_CORES]


def library_params(libraries) -> list:
    """``pytest.param((library, threads))`` for each library: foveal, cv2, torch, torch-math
    and sklearn at every count of :func:`thread_counts`, the single-threaded libraries once at
    threads=1."""
    params = []
    for lib in libraries:
        counts = thread_counts() if lib in THREADED_LIBRARIES else [1]
        params.extend(pytest.param((lib, n), id=f"{lib}-t{n}") for n in counts)
    return params


@contextlib.contextmanager
def use_threads(library: str, n: int):
    """Run the block with ``library`` limited to ``n`` threads; restore the setting after."""
    if library == "foveal":
        with foveal.num_threads(n):
            yield
    elif library == "cv2":
        import cv2

        previous = cv2.getNumThreads()
        cv2.setNumThreads(n)
        try:
            yield
        finally:
            cv2.setNumThreads(previous)
    elif library in ("torch", "torch-math"):
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(previous)
    elif library == "sklearn":
        from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

        with threadpool_limits(limits=n):
            yield
    else:
        yield


# --------------------------------------------------------------------------- inputs


@pytest.fixture(scope="session")
def fv_quick(request) -> bool:
    return bool(request.config.getoption("--fv-quick"))


@pytest.fixture(scope="session")
def image_shape(fv_quick) -> tuple[int, int]:
    return QUICK_SHAPE if fv_quick else FULL_SHAPE


def _smooth_noise(shape, rng) -> np.ndarray:
    """A Gaussian-blurred random field plus fine noise, in [0, 1] (NumPy only)."""
    h, w = shape
    field = rng.standard_normal(shape)
    sigma = max(h, w) / 200.0
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    gain = np.exp(-2.0 * np.pi**2 * sigma**2 * (fx**2 + fy**2))
    smooth = np.fft.irfft2(np.fft.rfft2(field) * gain, s=shape)
    smooth = (smooth - smooth.min()) / (np.ptp(smooth) or 1.0)
    return np.clip(smooth + rng.normal(0.0, 0.03, shape), 0.0, 1.0)


def make_photo_u8(shape) -> np.ndarray:
    """skimage's camera() resized up (cv2 INTER_LINEAR) to ``shape``; without skimage or cv2,
    smooth random noise. Deterministic either way."""
    h, w = shape
    try:
        import cv2
        from skimage import data

        img = cv2.resize(data.camera(), (w, h), interpolation=cv2.INTER_LINEAR)
    except ImportError:
        rng = np.random.default_rng(SEED)
        img = np.rint(_smooth_noise(shape, rng) * 255.0).astype(np.uint8)
    img = np.ascontiguousarray(img, dtype=np.uint8)
    assert img.shape == (h, w) and img.min() < img.max(), "benchmark input must not be constant"
    return img


@pytest.fixture(scope="session")
def image_u8(image_shape) -> np.ndarray:
    return make_photo_u8(image_shape)


@pytest.fixture(scope="session")
def image_f32(image_u8) -> np.ndarray:
    """The uint8 photo as float32 in [0, 1], with a little deterministic noise so that values
    are not all multiples of 1/255."""
    rng = np.random.default_rng(SEED + 1)
    noise = rng.normal(0.0, 1e-3, image_u8.shape).astype(np.float32)
    return np.ascontiguousarray(image_u8.astype(np.float32) / np.float32(255.0) + noise)


@pytest.fixture(scope="session")
def image_bool(image_u8) -> np.ndarray:
    """A threshold of the photo at its median: about half the pixels set."""
    img = image_u8 > np.median(image_u8)
    assert img.any() and not img.all()
    return img


@pytest.fixture(scope="session")
def images(image_u8, image_f32, image_bool) -> dict[str, np.ndarray]:
    return {"uint8": image_u8, "float32": image_f32, "bool": image_bool}


# --------------------------------------------------------------------------- timing


@pytest.fixture
def fv_benchmark(request, image_shape):
    """``fv_benchmark(fn, library=, threads=, workload=, check=None, slow_rounds=SLOW_ROUNDS)``:
    label the benchmark, call ``fn`` once under the thread setting and pass its result to
    ``check`` (before any timing), then time ``fn``. Single-threaded libraries whose call takes
    longer than SLOW_CALL_S get ``benchmark.pedantic(rounds=slow_rounds)``. ``shape`` (default:
    the image shape) is the input shape recorded; ``extra_info`` adds fields to the record."""
    pytest.importorskip("pytest_benchmark")
    benchmark = request.getfixturevalue("benchmark")

    def run(
        fn,
        *,
        library: str,
        threads: int,
        workload: str,
        check=None,
        dtype=None,
        slow_rounds: int = SLOW_ROUNDS,
        shape=None,
        extra_info=None,
    ):
        benchmark.group = workload
        benchmark.extra_info.update(
            library=library,
            threads=threads,
            workload=workload,
            shape=list(image_shape if shape is None else shape),
            dtype=dtype,
        )
        if extra_info:
            benchmark.extra_info.update(extra_info)
        with use_threads(library, threads):
            start = time.perf_counter()
            result = fn()
            first_call_s = time.perf_counter() - start
            if check is not None:
                check(result)
            del result
            if library not in THREADED_LIBRARIES and first_call_s > SLOW_CALL_S:
                benchmark.extra_info["pedantic_rounds"] = slow_rounds
                return benchmark.pedantic(fn, rounds=slow_rounds, iterations=1)
            return benchmark(fn)

    return run

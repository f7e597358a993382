"""Threads: the pool size API, thread safety of concurrent calls, show_config and FOVEAL_ISA."""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import subprocess
import sys
import threading

import foveal
import numpy as np
import pytest
from conftest import random_image
from foveal import reference as ref


@pytest.fixture(autouse=True)
def restore_threads():
    n = foveal.get_num_threads()
    try:
        yield n
    finally:
        foveal.set_num_threads(n)


def _in_thread(fn):
    result = []
    t = threading.Thread(target=lambda: result.append(fn()))
    t.start()
    t.join()
    return result[0]


# --------------------------------------------------------------------------------------------
# set_num_threads / get_num_threads / num_threads
# --------------------------------------------------------------------------------------------


def test_default_is_positive():
    assert isinstance(foveal.get_num_threads(), int)
    assert foveal.get_num_threads() >= 1


def test_set_and_get():
    foveal.set_num_threads(1)
    assert foveal.get_num_threads() == 1
    foveal.set_num_threads(3)
    assert foveal.get_num_threads() == 3
    foveal.set_num_threads(np.int64(2))
    assert foveal.get_num_threads() == 2
    # the global setting is seen by other threads
    assert _in_thread(foveal.get_num_threads) == 2


def test_context_manager_restores():
    before = foveal.get_num_threads()
    with foveal.num_threads(1) as n:
        assert n == 1
        assert foveal.get_num_threads() == 1
    assert foveal.get_num_threads() == before
    with pytest.raises(RuntimeError, match="boom"):
        with foveal.num_threads(3):
            assert foveal.get_num_threads() == 3
            raise RuntimeError("boom")
    assert foveal.get_num_threads() == before


def test_context_manager_nested():
    before = foveal.get_num_threads()
    with foveal.num_threads(1):
        with foveal.num_threads(3):
            assert foveal.get_num_threads() == 3
            with foveal.num_threads(2):
                assert foveal.get_num_threads() == 2
            assert foveal.get_num_threads() == 3
        assert foveal.get_num_threads() == 1
    assert foveal.get_num_threads() == before


def test_context_manager_is_thread_local():
    foveal.set_num_threads(2)
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with foveal.num_threads(1):
            seen["inside"] = foveal.get_num_threads()
            entered.set()
            release.wait(10)
        seen["after"] = foveal.get_num_threads()

    t = threading.Thread(target=worker)
    t.start()
    assert entered.wait(10)
    # the worker is inside its block: this thread and a third one keep the global value
    assert foveal.get_num_threads() == 2
    assert _in_thread(foveal.get_num_threads) == 2
    release.set()
    t.join()
    assert seen == {"inside": 1, "after": 2}
    with foveal.num_threads(3):
        assert _in_thread(foveal.get_num_threads) == 2
    assert foveal.get_num_threads() == 2


def test_results_do_not_depend_on_threads(rng):
    img = random_image(rng, (257, 301, 3), "float32")
    results = []
    for n in (1, 2, 3, 8):
        with foveal.num_threads(n):
            results.append(foveal.morphology(img, "gradient", (5, 9), border="reflect"))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0], strict=True)


@pytest.mark.parametrize("bad", [0, -1, -(2**40)])
def test_invalid_thread_counts_value(bad):
    before = foveal.get_num_threads()
    with pytest.raises(ValueError, match=r"set_num_threads: n must be >= 1"):
        foveal.set_num_threads(bad)
    with pytest.raises(ValueError, match=r"num_threads: n must be >= 1"):
        with foveal.num_threads(bad):
            pass
    assert foveal.get_num_threads() == before


def test_too_many_threads():
    with pytest.raises(ValueError, match=r"set_num_threads: n must be <= \d+"):
        foveal.set_num_threads(10**9)
    with pytest.raises(ValueError, match=r"num_threads: n must be <= \d+"):
        with foveal.num_threads(10**9):
            pass


@pytest.mark.parametrize("bad", [1.5, 2.0, "2", None, True, [2]])
def test_invalid_thread_counts_type(bad):
    before = foveal.get_num_threads()
    with pytest.raises(TypeError, match=r"set_num_threads: n must be an integer"):
        foveal.set_num_threads(bad)
    with pytest.raises(TypeError, match=r"num_threads: n must be an integer"):
        with foveal.num_threads(bad):
            pass
    assert foveal.get_num_threads() == before


# --------------------------------------------------------------------------------------------
# concurrent calls
# --------------------------------------------------------------------------------------------

OPS = ("erode", "dilate", "open", "close", "gradient", "tophat", "blackhat")
DTYPES = ("uint8", "uint16", "int16", "float32", "float64", "bool")


def _job(i):
    """A reproducible task: (image, function name, kwargs)."""
    rng = np.random.default_rng(1000 + i)
    dtype = DTYPES[i % len(DTYPES)]
    shape = [(40, 67), (33, 50, 3), (64, 129)][i % 3]
    img = random_image(rng, shape, dtype)
    kernel = [(3, 5), foveal.structuring_element("ellipse", 7), (1, 9), (6, 2)][i % 4]
    border = ["default", "reflect", "constant", "wrap", "replicate"][i % 5]
    kw = dict(iterations=1 + i % 2, border=border, border_value=3)
    op = OPS[i % len(OPS)]
    return img, op, kernel, kw


def _call(img, op, kernel, kw, threads=None):
    def go():
        if op == "erode":
            return foveal.erode(img, kernel, **kw)
        if op == "dilate":
            return foveal.dilate(img, kernel, **kw)
        return foveal.morphology(img, op, kernel, **kw)

    if threads is None:
        return go()
    with foveal.num_threads(threads):
        return go()


def test_concurrent_calls_match_reference():
    n_tasks = 200
    jobs = [_job(i) for i in range(n_tasks)]
    expected = []
    for img, op, kernel, kw in jobs:
        mask = np.ones(kernel, np.uint8) if isinstance(kernel, tuple) else kernel
        expected.append(
            ref.morphology(
                img, op, mask, (-1, -1), kw["iterations"], kw["border"], kw["border_value"]
            )
        )
    # the serial answers equal the reference
    for (img, op, kernel, kw), exp in zip(jobs[:24], expected[:24], strict=True):
        np.testing.assert_array_equal(_call(img, op, kernel, kw), exp, strict=True)

    def task(i):
        img, op, kernel, kw = jobs[i]
        return i, _call(img, op, kernel, kw, threads=(None, 1, 2, 3)[i % 4])

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(task, range(n_tasks)))
    assert len(results) == n_tasks
    for i, got in results:
        np.testing.assert_array_equal(got, expected[i], strict=True, err_msg=f"task {i}")


def test_concurrent_out_and_thread_counts():
    """Concurrent calls writing to distinct out= views of one array."""
    rng = np.random.default_rng(7)
    img = random_image(rng, (64, 96), "float32")
    out = np.zeros((8, 64, 96), np.float32)

    def task(i):
        foveal.set_num_threads(1 + i % 3) if i % 5 == 0 else None
        with foveal.num_threads(1 + i % 2):
            foveal.dilate(img, 3 + 2 * i, out=out[i])
        return i

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(task, range(8)))
    for i in range(8):
        np.testing.assert_array_equal(out[i], ref.dilate(img, np.ones((3 + 2 * i,) * 2)))


# --------------------------------------------------------------------------------------------
# show_config, ISA
# --------------------------------------------------------------------------------------------


def test_show_config(capsys):
    info = foveal.show_config()
    assert isinstance(info, dict)
    for key in ("foveal", "cpu_isa", "threads", "cuda_module_built"):
        assert key in info
    assert info["foveal"] == foveal.__version__
    assert info["cpu_isa"] == foveal.get_isa()
    assert info["threads"] == foveal.get_num_threads()
    assert isinstance(info["cuda_module_built"], bool)
    printed = capsys.readouterr().out
    for key in ("foveal", "cpu_isa", "threads", "cuda_module_built"):
        assert key in printed
        assert str(info[key]) in printed
    with foveal.num_threads(1):
        assert foveal.show_config()["threads"] == 1
    capsys.readouterr()


def test_show_config_to_file(tmp_path, capsys):
    path = tmp_path / "config.txt"
    with open(path, "w") as fh:
        info = foveal.show_config(file=fh)
    assert capsys.readouterr().out == ""
    text = path.read_text()
    assert "cpu_isa" in text and str(info["cpu_isa"]) in text


def test_set_isa_roundtrip():
    original = foveal.get_isa()
    try:
        for isa in foveal._core.supported_isas():
            foveal.set_isa(isa)
            assert foveal.get_isa() == isa
    finally:
        foveal.set_isa(original)
    assert foveal.get_isa() == original
    with pytest.raises(ValueError, match=r"set_isa"):
        foveal.set_isa("sse1")


def _python_dir() -> str:
    return str(pathlib.Path(foveal.__file__).resolve().parents[1])


ISA_ORDER = ("baseline", "avx2", "avx512")


def _isa_in_subprocess(value: str) -> str:
    env = dict(os.environ)
    env["FOVEAL_ISA"] = value
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_python_dir(), env.get("PYTHONPATH")]))
    code = (
        "import foveal, numpy as np\n"
        "img = np.arange(600, dtype=np.float32).reshape(20, 30)\n"
        "assert foveal.dilate(img, 3)[0, 0] == 31\n"
        "print(foveal.get_isa())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_foveal_isa_env_baseline():
    assert _isa_in_subprocess("baseline") == "baseline"


@pytest.mark.parametrize("requested", ISA_ORDER)
def test_foveal_isa_env_caps(requested):
    """FOVEAL_ISA is a cap: the best usable instruction set not above it."""
    usable = foveal._core.supported_isas()
    expected = max(
        (i for i in usable if ISA_ORDER.index(i) <= ISA_ORDER.index(requested)), key=ISA_ORDER.index
    )
    assert _isa_in_subprocess(requested) == expected

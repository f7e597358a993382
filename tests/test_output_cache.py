"""foveal's output cache (``set_output_cache``): outputs of 1 MiB or more live on blocks that
come back for reuse when the caller drops them. What must hold: a reused block gives the same
answers as a fresh one; a block is never reused while any array or view on it lives (a view
kept past its parent sees its values unchanged after later calls); the limit is kept; small
outputs are plain arrays; bad limits are errors that name the argument."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import threading

import foveal
import numpy as np
import pytest
from foveal import _dispatch as dsp
from foveal import reference as ref

BIG = (640, 640)  # float32: 1.6 MB, above the pooled size; uint8 0.4 MB, below it


@pytest.fixture
def cache():
    """A cache of 64 MiB, emptied before and after the test (other tests' blocks out of it)."""
    limit = foveal.get_output_cache()["limit"]
    foveal.set_output_cache(0)
    foveal.set_output_cache(64 << 20)
    yield
    gc.collect()
    foveal.set_output_cache(0)
    foveal.set_output_cache(limit)


def _image(seed=0, shape=BIG, dtype=np.float32):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def test_a_dropped_output_is_reused_with_the_same_answers(cache):
    img = _image()
    first = foveal.gaussian_blur(img, 5, 1.5)
    assert isinstance(first, np.ndarray) and not first.flags.owndata
    assert first.flags.writeable and first.flags.c_contiguous
    expected = first.copy()
    address = first.ctypes.data
    del first
    info = foveal.get_output_cache()
    assert info["cached_blocks"] == 1
    hits = info["hits"]
    again = foveal.gaussian_blur(img, 5, 1.5)
    assert again.ctypes.data == address  # the same block
    assert foveal.get_output_cache()["hits"] == hits + 1
    np.testing.assert_array_equal(again, expected)
    # another function's output of the same size takes it too, and writes every value
    del again
    other = foveal.filter2d(img, np.ones((3, 3)) / 9)
    np.testing.assert_allclose(other, ref.filter2d(img, np.ones((3, 3)) / 9), rtol=1e-5, atol=1e-6)


def test_a_view_keeps_its_block_out_of_the_cache(cache):
    img = _image(1)
    out = foveal.dilate(img, 3)
    view = out[::2, 1::3]
    kept = view.copy()
    del out
    assert foveal.get_output_cache()["cached_blocks"] == 0  # the view still holds the block
    for seed in range(3):  # later outputs of the same size must not land on the view's memory
        later = foveal.dilate(_image(seed + 5), 3)
        assert not np.shares_memory(later, view)
        del later
    np.testing.assert_array_equal(view, kept)
    assert foveal.get_output_cache()["cached_blocks"] == 1  # the later outputs' block
    del view
    assert foveal.get_output_cache()["cached_blocks"] == 2


def test_the_limit_is_kept_and_zero_turns_the_cache_off(cache):
    img = _image(2, (2048, 2048))  # 16 MiB float32 outputs
    foveal.set_output_cache(40 << 20)
    outs = [foveal.box_filter(img, 3) for _ in range(3)]
    del outs
    info = foveal.get_output_cache()
    assert info["cached_blocks"] == 2 and info["cached_bytes"] <= 40 << 20
    foveal.set_output_cache(20 << 20)  # lowering the limit frees the oldest blocks
    info = foveal.get_output_cache()
    assert info["cached_blocks"] == 1 and info["cached_bytes"] <= 20 << 20
    foveal.set_output_cache(0)
    assert foveal.get_output_cache()["cached_bytes"] == 0
    out = foveal.box_filter(img, 3)
    np.testing.assert_allclose(out, ref.box_filter(img, 3), rtol=1e-5, atol=1e-6)
    assert out.flags.owndata  # off: NumPy's own array
    del out
    assert foveal.get_output_cache()["cached_blocks"] == 0


def test_small_outputs_are_plain_arrays(cache):
    small = foveal.dilate(_image(3, BIG, np.uint8), 3)
    assert small.flags.owndata and small.base is None
    assert foveal.get_output_cache()["cached_blocks"] == 0
    assert dsp.new_array((3, 5), np.int16).flags.owndata
    big = dsp.new_array(BIG, np.float64)
    assert big.shape == BIG and big.dtype == np.float64 and not big.flags.owndata


def test_pooled_outputs_pickle_and_wrap_like_any_array(cache):
    out = foveal.gaussian_blur(_image(4), 3, 0)
    back = pickle.loads(pickle.dumps(out))
    np.testing.assert_array_equal(back, out)
    back[0, 0] = -1.0
    assert out[0, 0] != -1.0  # a copy, not the block
    torch = pytest.importorskip("torch")
    t = foveal.gaussian_blur(torch.from_numpy(_image(4)), 3, 0)
    assert isinstance(t, torch.Tensor)
    expected = t.numpy().copy()
    del out, back
    for _ in range(2):
        foveal.gaussian_blur(_image(6), 3, 0)  # the tensor's block must not be reused
    np.testing.assert_array_equal(t.numpy(), expected)


def test_threads_taking_and_dropping_outputs_get_their_own_answers(cache):
    images = [_image(10 + i) for i in range(4)]
    expected = [ref.box_filter(im, 5) for im in images]
    errors: list[str] = []

    def work(i):
        for _ in range(25):
            got = foveal.box_filter(images[i], 5)
            if not np.allclose(got, expected[i], rtol=1e-5, atol=1e-6):
                errors.append(f"thread {i}")
            del got

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@pytest.mark.parametrize(
    ("value", "error"), [(-1, ValueError), ("1", TypeError), (1.5, TypeError), (None, TypeError)]
)
def test_bad_limits_are_errors(value, error):
    with pytest.raises(error, match="max_bytes"):
        foveal.set_output_cache(value)


@pytest.mark.parametrize(("text", "limit"), [("0", 0), ("8", 8 << 20), ("0.5", 1 << 19)])
def test_the_environment_sets_the_limit(text, limit):
    code = "import foveal; print(foveal.get_output_cache()['limit'])"
    env = dict(os.environ, FOVEAL_OUTPUT_CACHE_MB=text)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == limit


def test_a_bad_environment_value_warns_and_keeps_the_default():
    code = "import foveal; print(foveal.get_output_cache()['limit'])"
    env = dict(os.environ, FOVEAL_OUTPUT_CACHE_MB="lots")
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "FOVEAL_OUTPUT_CACHE_MB" in out.stderr
    assert int(out.stdout) == 256 << 20

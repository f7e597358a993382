"""What the fuzzers (fuzz/) found, kept as plain tests: each case is the minimized input of one
finding, checked against foveal.reference (and torch's documented numbers where it is the
anchor). fuzz/RUNS.md lists the runs and the findings."""

from __future__ import annotations

import foveal
import foveal.nn as fnn
import numpy as np
import pytest
from foveal.reference import nn as rnn

# --------------------------------------------------------------------------------------------
# pooling: with ceil_mode, a window longer than the padded input still gives one output
# (torch's floor((n + 2p - d(k-1) - 1 + s - 1) / s) + 1); foveal refused it as empty.
# --------------------------------------------------------------------------------------------

ROW = np.arange(29.0).reshape(1, 1, 1, 29)


def test_avg_pool_ceil_mode_window_longer_than_a_one_row_input():
    got = fnn.avg_pool2d(ROW, 3, 3, 0, ceil_mode=True)
    # torch 2.13: the rows past the input are not counted (the window ends at n + p)
    expected = [1, 4, 7, 10, 13, 16, 19, 22, 25, 27.5]
    np.testing.assert_allclose(got[0, 0, 0], expected, rtol=1e-12)
    np.testing.assert_allclose(got, rnn.avg_pool2d(ROW, 3, 3, 0, ceil_mode=True), rtol=1e-12)


def test_max_pool_ceil_mode_window_longer_than_a_one_row_input():
    values, indices = fnn.max_pool2d(ROW, 3, 3, 0, ceil_mode=True, return_indices=True)
    assert values.shape == (1, 1, 1, 10)
    assert indices[0, 0, 0].tolist() == [2, 5, 8, 11, 14, 17, 20, 23, 26, 28]
    np.testing.assert_array_equal(values[0, 0, 0], [2, 5, 8, 11, 14, 17, 20, 23, 26, 28])


def test_lp_pool_ceil_mode_window_longer_than_a_one_row_input():
    got = fnn.lp_pool2d(ROW, 2, 3, 3, ceil_mode=True)
    np.testing.assert_allclose(got, rnn.lp_pool2d(ROW, 2, 3, 3, ceil_mode=True), rtol=1e-12)
    assert got[0, 0, 0, 0] == pytest.approx(3.8729833462, rel=1e-10)  # torch's value


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pools_ceil_mode_padded_window_longer_than_a_one_column_input(dtype):
    """The fuzzer's case: 9x1 input, kernel 6, stride 2, padding (3, 2): the 6-wide window
    overhangs the 1 + 2 * 2 padded columns by one; torch gives 6x1."""
    x = np.arange(1.0, 10.0, dtype=dtype).reshape(1, 1, 9, 1)
    kw = dict(kernel_size=6, stride=2, padding=(3, 2), ceil_mode=True)
    for include in (True, False):
        got = fnn.avg_pool2d(x, **kw, count_include_pad=include)
        expected = rnn.avg_pool2d(x, **kw, count_include_pad=include)
        assert got.shape == (1, 1, 6, 1)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    values, indices = fnn.max_pool2d(x, **kw, return_indices=True)
    e_values, e_indices = rnn.max_pool2d(x, **kw, return_indices=True)
    np.testing.assert_array_equal(values, e_values.astype(dtype))
    np.testing.assert_array_equal(indices, e_indices)


def test_pool_output_size_is_torchs():
    """Every small geometry: the C++ output size equals the reference's (torch's) formula."""
    from foveal._backend import _core

    for n in range(1, 6):
        for k in range(1, 7):
            for s in range(1, 5):
                for p in range(k // 2 + 1):
                    for d in (1, 2):
                        for ceil in (False, True):
                            want = max(rnn._pool_size(n, k, s, p, d, ceil), 0)
                            assert _core.pool_output_size(n, k, s, p, d, ceil) == want, (
                                n,
                                k,
                                s,
                                p,
                                d,
                                ceil,
                            )


# --------------------------------------------------------------------------------------------
# draw_contours: thickness 32767 (the documented maximum) on a tiny image took seconds even
# with nothing to draw (the disc was built in O(r^2)), and minutes along a long edge (every
# row of the disc visited for every step); the disc must still be the set dx^2 + dy^2 <= r^2.
# --------------------------------------------------------------------------------------------


def disc(shape, cx: int, cy: int, thickness: int) -> np.ndarray:
    r = (thickness + 1) // 2
    ys, xs = np.indices(shape)
    return ((xs - cx) ** 2 + (ys - cy) ** 2 <= r * r).astype(np.uint8)


@pytest.mark.parametrize("thickness", [2, 3, 7, 40, 101, 1000, 32767])
def test_one_point_is_a_disc_of_the_thickness(thickness):
    r = (thickness + 1) // 2
    shape = (9, 11)
    # centres on the image, and just beyond the disc's reach of it on either side
    for cx, cy in ((5, 4), (-r + 3, 4), (10 + r - 2, 8), (5, -r + 1), (-r, -r)):
        got = foveal.draw_contours(
            np.zeros(shape, np.uint8), [np.array([[cx, cy]])], 0, 1, thickness
        )
        np.testing.assert_array_equal(got, disc(shape, cx, cy, thickness), err_msg=f"{cx}, {cy}")


def test_widest_line_across_a_small_image():
    """A 32767-thick polygon whose edges run far past a 6x5 image covers all of it; an empty
    contour list draws nothing."""
    image = np.zeros((5, 6), np.uint8)
    far = (1 << 20) - 1
    square = np.array([[-far, -far], [far, -far], [far, far], [-far, far]], np.int32)
    assert (foveal.draw_contours(image, [square], -1, 3, 32767) == 0).all()  # edges far away
    line = np.array([[-far, 2], [far, 2]], np.int32)
    assert (foveal.draw_contours(image, [line], -1, 3, 32767) == 3).all()
    assert (foveal.draw_contours(image, [], -1, 3, 32767) == 0).all()

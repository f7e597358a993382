"""The bad-input contract of the morphology functions.

TypeError for types and dtypes, ValueError for shapes, sizes and values; every message names
the function and the argument. Nothing crashes and nothing returns garbage.
"""

from __future__ import annotations

import re

import foveal
import numpy as np
import pytest

SUPPORTED = r"uint8, uint16, int16, float32, float64, bool"


def _erode(image, *args, **kw):
    return foveal.erode(image, *args, **kw)


def _dilate(image, *args, **kw):
    return foveal.dilate(image, *args, **kw)


def _morphology(image, *args, **kw):
    return foveal.morphology(image, "gradient", *args, **kw)


FUNCS = {"erode": _erode, "dilate": _dilate, "morphology": _morphology}


@pytest.fixture(params=list(FUNCS))
def fn(request):
    """(name, callable(image, kernel=..., **kw))."""
    return request.param, FUNCS[request.param]


@pytest.fixture
def img():
    return np.arange(35, dtype=np.uint8).reshape(5, 7)


# --------------------------------------------------------------------------------------------
# image
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [[[1, 2], [3, 4]], None, "image", 3, 2.5, {"a": 1}, object()])
def test_image_not_an_array(fn, bad):
    name, f = fn
    with pytest.raises(
        TypeError, match=rf"^{name}: image must be an array.*got {type(bad).__name__}"
    ):
        f(bad)


@pytest.mark.parametrize(
    "dtype",
    [
        "int32",
        "int64",
        "uint32",
        "int8",
        "float16",
        "complex64",
        "complex128",
        "object",
        "U3",
        "datetime64[s]",
    ],
)
def test_image_unsupported_dtype(fn, dtype):
    name, f = fn
    img = np.zeros((4, 4), dtype=dtype)
    with pytest.raises(TypeError, match=rf"{name}: image dtype .* not supported.*{SUPPORTED}"):
        f(img)


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 1), (1, 1, 1, 1), ()])
def test_image_wrong_rank(fn, shape):
    name, f = fn
    with pytest.raises(ValueError, match=rf"{name}: image must be 2-D \(H, W\) or 3-D"):
        f(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (3, 3, 0), (0, 4, 3)])
def test_image_empty(fn, shape):
    name, f = fn
    message = rf"{name}: image must not be empty, got shape {re.escape(str(shape))}"
    with pytest.raises(ValueError, match=message):
        f(np.zeros(shape, np.float32))


# --------------------------------------------------------------------------------------------
# kernel
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, exc, message",
    [
        (np.ones((3, 3, 3), np.uint8), ValueError, r"kernel must be 2-D, got 3-D"),
        (np.ones(3, np.uint8), ValueError, r"kernel must be 2-D, got 1-D"),
        (np.array(3), ValueError, r"kernel must be 2-D, got 0-D"),
        (np.ones((0, 3), np.uint8), ValueError, r"kernel must not be empty"),
        (np.ones((3, 0), bool), ValueError, r"kernel must not be empty"),
        (np.zeros((3, 3), np.uint8), ValueError, r"kernel must have at least one non-zero"),
        (np.zeros((1, 1), bool), ValueError, r"kernel must have at least one non-zero"),
        (np.array([[1.0, np.nan]]), ValueError, r"kernel must not contain NaN"),
        (np.ones((3, 3), np.complex64), TypeError, r"kernel must be a 0/1 array"),
        (np.ones((3, 3), object), TypeError, r"kernel must be a 0/1 array"),
        (-3, ValueError, r"kernel must be >= 1, got -3"),
        (0, ValueError, r"kernel must be >= 1, got 0"),
        ((3, 0), ValueError, r"kernel must be >= 1, got 0"),
        ((-1, 3), ValueError, r"kernel must be >= 1, got -1"),
        (10**9, ValueError, r"kernel must be <= \d+, got 1000000000"),
        ((3, 10**9), ValueError, r"kernel must be <= \d+, got 1000000000"),
        (2**63, ValueError, r"kernel must be <= \d+"),
        ((1, 2, 3), ValueError, r"kernel must be an int or a pair, got 3 values"),
        ((), ValueError, r"kernel must be an int or a pair, got 0 values"),
        (3.0, TypeError, r"kernel must be an array.*got float"),
        ("3", TypeError, r"kernel must be an array.*got str"),
        (True, TypeError, r"kernel must be an array.*got bool"),
        ((3.5, 3), TypeError, r"kernel must be an integer, got float"),
    ],
)
def test_bad_kernel(fn, img, kernel, exc, message):
    name, f = fn
    with pytest.raises(exc, match=rf"{name}: {message}"):
        f(img, kernel)


# --------------------------------------------------------------------------------------------
# anchor and iterations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, anchor, exc, message",
    [
        (3, (3, 0), ValueError, r"anchor \(3, 0\) is outside the 3x3 kernel"),
        (3, (0, 3), ValueError, r"anchor \(0, 3\) is outside the 3x3 kernel"),
        ((2, 5), (1, 5), ValueError, r"anchor \(1, 5\) is outside the 2x5 kernel"),
        (np.ones((4, 2), np.uint8), (4, 1), ValueError, r"anchor \(4, 1\) is outside the 4x2"),
        (3, (-2, 0), ValueError, r"anchor must be >= -1, got -2"),
        (3, (0, -5), ValueError, r"anchor must be >= -1, got -5"),
        (3, (1, 1, 1), ValueError, r"anchor must be an int or a pair, got 3 values"),
        (3, (0.5, 1), TypeError, r"anchor must be an integer, got float"),
        (3, "a", TypeError, r"anchor must be an integer, got str"),
        (3, 7, ValueError, r"anchor \(7, 7\) is outside the 3x3 kernel"),
    ],
)
def test_bad_anchor(fn, img, kernel, anchor, exc, message):
    name, f = fn
    with pytest.raises(exc, match=rf"{name}: {message}"):
        f(img, kernel, anchor=anchor)


@pytest.mark.parametrize("iterations", [-1, -100])
def test_negative_iterations(fn, img, iterations):
    name, f = fn
    with pytest.raises(ValueError, match=rf"{name}: iterations must be >= 0, got {iterations}"):
        f(img, 3, iterations=iterations)


@pytest.mark.parametrize("iterations", [1.5, 2.0, "2", True, False, None, [1], np.float64(2)])
def test_non_integer_iterations(fn, img, iterations):
    name, f = fn
    with pytest.raises(TypeError, match=rf"{name}: iterations must be an integer"):
        f(img, 3, iterations=iterations)


def test_integer_like_iterations_accepted(img):
    expected = foveal.dilate(img, 3, iterations=2)
    for it in (np.int64(2), np.uint8(2), np.int32(2)):
        np.testing.assert_array_equal(foveal.dilate(img, 3, iterations=it), expected)


def test_huge_iterations(fn, img):
    name, f = fn
    with pytest.raises(ValueError, match=rf"{name}: iterations must be <= \d+"):
        f(img, 3, iterations=10**9)
    # allowed by itself, but the kernel it amounts to is too large
    with pytest.raises(ValueError, match=r"iterations"):
        f(img, (65536, 1), iterations=1 << 20)


# --------------------------------------------------------------------------------------------
# border, border_value, op
# --------------------------------------------------------------------------------------------

ALLOWED_BORDERS = r"constant, replicate, nearest, reflect, reflect101, .*mirror, wrap, default"


@pytest.mark.parametrize("border", ["foo", "", "reflect-101", "zeros", "circular", "BORDER_WRAP"])
def test_unknown_border(fn, img, border):
    name, f = fn
    with pytest.raises(ValueError, match=rf"{name}: border must be one of {ALLOWED_BORDERS}"):
        f(img, 3, border=border)


@pytest.mark.parametrize("border", [1, None, 4.0, b"wrap"])
def test_border_not_a_string(fn, img, border):
    name, f = fn
    with pytest.raises(TypeError, match=rf"{name}: border must be a string"):
        f(img, 3, border=border)


@pytest.mark.parametrize("op", ["foo", "opening", "", "tophat "])
def test_unknown_op(img, op):
    allowed = "erode, dilate, open, close, gradient, tophat, blackhat"
    with pytest.raises(ValueError, match=rf"morphology: op must be one of {allowed}; got"):
        foveal.morphology(img, op)


@pytest.mark.parametrize("op", [3, None, 1.5])
def test_op_not_a_string(img, op):
    with pytest.raises(TypeError, match=r"morphology: op must be"):
        foveal.morphology(img, op)


@pytest.mark.parametrize("value", [[1, 2], [1, 2, 3, 4], []])
def test_border_value_wrong_length(fn, value):
    name, f = fn
    img = np.zeros((5, 6, 3), np.uint8)
    with pytest.raises(ValueError, match=rf"{name}: border_value must be a scalar or 3 values"):
        f(img, 3, border="constant", border_value=value)
    with pytest.raises(ValueError, match=rf"{name}: border_value must be a scalar or 1 values"):
        f(img[:, :, 0], 3, border="constant", border_value=[1, 2])


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "bool"])
def test_border_value_nan_for_integer_images(fn, dtype):
    name, f = fn
    img = np.zeros((5, 6, 3), dtype)
    with pytest.raises(ValueError, match=rf"{name}: border_value must not be NaN for {dtype}"):
        f(img, 3, border="constant", border_value=float("nan"))
    with pytest.raises(ValueError, match=rf"{name}: border_value must not be NaN"):
        f(img, 3, border="constant", border_value=[1, np.nan, 2])


def test_border_value_nan_allowed_for_float_images(fn):
    _, f = fn
    out = f(np.zeros((5, 6), np.float32), 3, border="constant", border_value=np.nan)
    assert np.isnan(out).any()


@pytest.mark.parametrize("value", ["a", None, 1 + 2j, object()])
def test_border_value_wrong_type(fn, img, value):
    name, f = fn
    with pytest.raises(TypeError, match=rf"{name}: border_value must be a number"):
        f(img, 3, border="constant", border_value=value)


@pytest.mark.parametrize("value", [["a"], ("x", 1, 2)])
def test_border_value_sequence_of_non_numbers(fn, value):
    name, f = fn
    img = np.zeros((5, 6, 3), np.uint8)
    with pytest.raises(TypeError, match=rf"{name}: border_value"):
        f(img, 3, border="constant", border_value=value)


# --------------------------------------------------------------------------------------------
# out
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 6), (7, 5), (5, 7, 1), (5,), (35,)])
def test_out_wrong_shape(fn, img, shape):
    name, f = fn
    with pytest.raises(ValueError, match=rf"{name}: out must have shape \(5, 7\), got"):
        f(img, 3, out=np.zeros(shape, np.uint8))


@pytest.mark.parametrize("dtype", ["uint16", "int8", "float32", "bool"])
def test_out_wrong_dtype(fn, img, dtype):
    name, f = fn
    with pytest.raises(TypeError, match=rf"{name}: out must have dtype uint8, got {dtype}"):
        f(img, 3, out=np.zeros(img.shape, dtype))


def test_out_read_only(fn, img):
    name, f = fn
    out = np.zeros_like(img)
    out.setflags(write=False)
    with pytest.raises(ValueError, match=rf"{name}: out is read-only"):
        f(img, 3, out=out)
    with pytest.raises(ValueError, match=rf"{name}: out is read-only"):
        f(img, 3, out=np.broadcast_to(np.zeros(7, np.uint8), img.shape))
    assert not out.any()


@pytest.mark.parametrize("out", [[[0] * 7] * 5, "out", 3])
def test_out_not_an_array(fn, img, out):
    name, f = fn
    with pytest.raises(TypeError, match=rf"{name}: out must be an array"):
        f(img, 3, out=out)


def test_failed_call_leaves_out_untouched(img):
    out = np.full_like(img, 7)
    with pytest.raises(ValueError):
        foveal.dilate(img, 3, border="nope", out=out)
    with pytest.raises(ValueError):
        foveal.dilate(img, 0, out=out)
    assert (out == 7).all()


# --------------------------------------------------------------------------------------------
# structuring_element
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["circle", "", "rectangle", "MORPH_RECT"])
def test_structuring_element_unknown_shape(shape):
    with pytest.raises(
        ValueError, match=r"structuring_element: shape must be one of rect, ellipse, cross"
    ):
        foveal.structuring_element(shape, 3)


@pytest.mark.parametrize("shape", [0, None])
def test_structuring_element_shape_not_a_string(shape):
    with pytest.raises(TypeError, match=r"structuring_element: shape"):
        foveal.structuring_element(shape, 3)


@pytest.mark.parametrize(
    "ksize, exc, message",
    [
        (0, ValueError, r"ksize must be >= 1, got 0"),
        ((3, -1), ValueError, r"ksize must be >= 1, got -1"),
        ((0, 0), ValueError, r"ksize must be >= 1, got 0"),
        (10**9, ValueError, r"ksize must be <= \d+, got 1000000000"),
        ((1, 2, 3), ValueError, r"ksize must be an int or a pair, got 3 values"),
        ((3,), ValueError, r"ksize must be an int or a pair, got 1 values"),
        (2.5, TypeError, r"ksize must be an integer, got float"),
        ("3", TypeError, r"ksize must be an integer, got str"),
        (None, TypeError, r"ksize must be an integer, got NoneType"),
        (True, TypeError, r"ksize must be an integer, got bool"),
    ],
)
def test_structuring_element_bad_ksize(ksize, exc, message):
    with pytest.raises(exc, match=rf"structuring_element: {message}"):
        foveal.structuring_element("rect", ksize)


@pytest.mark.parametrize(
    "anchor, exc, message",
    [
        ((3, 1), ValueError, r"anchor \(3, 1\) is outside the 3x3 kernel"),
        ((1, 3), ValueError, r"anchor \(1, 3\) is outside the 3x3 kernel"),
        ((-2, 1), ValueError, r"anchor must be >= -1"),
        ((1, 1, 1), ValueError, r"anchor must be an int or a pair"),
        ((1.0, 1), TypeError, r"anchor must be an integer"),
    ],
)
def test_structuring_element_bad_anchor(anchor, exc, message):
    with pytest.raises(exc, match=rf"structuring_element: {message}"):
        foveal.structuring_element("cross", 3, anchor=anchor)


# --------------------------------------------------------------------------------------------
# nothing crashes on odd but valid input
# --------------------------------------------------------------------------------------------


def test_odd_valid_inputs_do_not_crash(fn):
    _, f = fn
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (6, 9), dtype=np.uint8)
    f(img, (1, 65536))
    f(img, np.ones((1, 100_000), np.uint8), border="wrap")
    f(img, np.ones((1, 100_000), np.uint8), anchor=(0, 99_999), border="reflect")
    f(img, (3, 3), iterations=1 << 16)
    f(np.zeros((1, 1), bool), 41, border="reflect101")
    f(np.zeros((1, 1, 512), np.float64), 5, border="constant", border_value=list(range(512)))

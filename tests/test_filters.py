"""Correctness of foveal's linear filters: filter2d, sep_filter2d, box_filter, gaussian_blur.

Every result is compared with ``foveal.reference`` (float64 inside) by the spec's rule (see
``conftest.assert_rule``): float outputs within 1e-5 (float32 arithmetic) or 1e-12 (float64)
of the result's scale max|image| * sum|kernel| + |delta|; integer outputs exactly, but for a
difference of 1 at a .5 tie of the float64 value; integer images with integer kernels
(sums < 2**24) and box sums exactly. OpenCV is the anchor when cv2 is installed. Conventions:
foveal's ksize and anchor are (rows, cols) / (row, col); OpenCV's are (width, height) / (x, y).
"""

from __future__ import annotations

import itertools

import foveal
import numpy as np
import pytest
from conftest import (
    ALL_FILTER_BORDERS,
    BORDER_ALIASES,
    CV2_DEPTHS,
    CV2_FILTER_BORDERS,
    FILTER_BORDERS,
    IMAGE_DTYPES,
    IMAGE_VIEWS,
    assert_rule,
    canonical_border,
    cv2_border,
    random_image,
    tolerance,
    working_dtype,
)
from foveal import reference as ref

FUNCS = ("filter2d", "sep_filter2d", "box_filter", "gaussian_blur")
ODD_SHAPES = [
    (1, 1),
    (1, 2),
    (2, 1),
    (1, 7),
    (7, 1),
    (1, 17),
    (17, 1),
    (3, 33),
    (2, 65),
    (65, 2),
    (3, 129),
    (1, 1, 3),
    (5, 7, 1),
    (4, 17, 3),
    (3, 33, 4),
]


# --------------------------------------------------------------------------------------------
# helpers: call foveal and the reference with the same arguments, compare by the rule
# --------------------------------------------------------------------------------------------


def _amax(img, border="reflect101", border_value=0) -> float:
    m = float(np.abs(img.astype(np.float64)).max())
    if canonical_border(border) == "constant":
        m = max(m, float(np.abs(np.asarray(border_value, np.float64)).max()))
    return m


def _integer_valued(*values) -> bool:
    return all(np.array_equal(np.asarray(v, np.float64), np.rint(v)) for v in values)


def _dt(dtype):
    return None if dtype is None else np.dtype(dtype)


def _is_integer(dtype) -> bool:
    return np.dtype(dtype).kind in "ui"


def check_filter2d(
    img, kernel, *, anchor=None, delta=0.0, border="reflect101", border_value=0, dtype=None
):
    kw = dict(anchor=anchor, delta=delta, border=border, border_value=border_value)
    got = foveal.filter2d(img, kernel, dtype=dtype, **kw)
    kw["border"] = canonical_border(border)
    expected = ref.filter2d(img, kernel, dtype=_dt(dtype), **kw)
    k = np.asarray(kernel, np.float64)
    scale = _amax(img, border, border_value) * np.abs(k).sum() + abs(delta)
    exact = _is_integer(img.dtype) and _integer_valued(k, delta) and scale < 2**24
    atol = 0.0 if exact else tolerance(working_dtype(img.dtype, expected.dtype), scale)
    unrounded = None
    if atol and _is_integer(expected.dtype):
        unrounded = ref.filter2d(img, kernel, dtype=np.dtype(np.float64), **kw)
    assert_rule(got, expected, atol=atol, unrounded=unrounded, err_msg=f"filter2d {kw}")
    return got


def check_sep(
    img, kx, ky, *, anchor=None, delta=0.0, border="reflect101", border_value=0, dtype=None
):
    kw = dict(anchor=anchor, delta=delta, border=border, border_value=border_value)
    got = foveal.sep_filter2d(img, kx, ky, dtype=dtype, **kw)
    kw["border"] = canonical_border(border)
    expected = ref.sep_filter2d(img, kx, ky, dtype=_dt(dtype), **kw)
    fx, fy = np.asarray(kx, np.float64), np.asarray(ky, np.float64)
    scale = _amax(img, border, border_value) * np.abs(fx).sum() * np.abs(fy).sum() + abs(delta)
    exact = _is_integer(img.dtype) and _integer_valued(fx, fy, delta) and scale < 2**24
    atol = 0.0 if exact else tolerance(working_dtype(img.dtype, expected.dtype), scale)
    unrounded = None
    if atol and _is_integer(expected.dtype):
        unrounded = ref.sep_filter2d(img, kx, ky, dtype=np.dtype(np.float64), **kw)
    assert_rule(got, expected, atol=atol, unrounded=unrounded, err_msg=f"sep_filter2d {kw}")
    return got


def _box_area(ksize) -> int:
    kh, kw = (ksize, ksize) if np.ndim(ksize) == 0 else ksize
    return int(kh) * int(kw)


def check_box(
    img, ksize, *, normalize=True, anchor=None, border="reflect101", border_value=0, dtype=None
):
    kw = dict(normalize=normalize, anchor=anchor, border=border, border_value=border_value)
    got = foveal.box_filter(img, ksize, dtype=dtype, **kw)
    kw["border"] = canonical_border(border)
    expected = ref.box_filter(img, ksize, dtype=_dt(dtype), **kw)
    # integer images: exact sums, so exact results (a normalized float output may still be
    # one rounding away: sum * (1 / area) or sum / area)
    exact = _is_integer(img.dtype) and (_is_integer(expected.dtype) or not normalize)
    scale = _amax(img, border, border_value) * (1 if normalize else _box_area(ksize))
    atol = 0.0 if exact else tolerance(working_dtype(img.dtype, expected.dtype), scale)
    unrounded = None
    if atol and _is_integer(expected.dtype):
        unrounded = ref.box_filter(img, ksize, dtype=np.dtype(np.float64), **kw)
    assert_rule(got, expected, atol=atol, unrounded=unrounded, err_msg=f"box_filter {kw}")
    return got


def derived_ksize(sigma: float, dtype) -> int:
    """OpenCV's Gaussian size for a size of 0: round(sigma * (3 for uint8, 4 else) * 2 + 1) | 1."""
    return int(np.rint(sigma * (3 if np.dtype(dtype) == np.uint8 else 4) * 2 + 1)) | 1


def resolved_gaussian(dtype, ksize, sigma, sigma_y=None):
    """The (rows, cols) size and (sigma_y, sigma_x) that gaussian_blur uses."""
    kh, kw = (ksize, ksize) if np.ndim(ksize) == 0 else ksize
    sy = sigma if sigma_y is None or sigma_y <= 0 else sigma_y
    kh = derived_ksize(sy, dtype) if kh == 0 else kh
    kw = derived_ksize(sigma, dtype) if kw == 0 else kw
    return (int(kh), int(kw)), (sy, sigma)


def check_gauss(img, ksize, sigma, *, sigma_y=None, border="reflect101", border_value=0):
    kw = dict(sigma_y=sigma_y, border=border, border_value=border_value)
    got = foveal.gaussian_blur(img, ksize, sigma, **kw)
    kw["border"] = canonical_border(border)
    expected = ref.gaussian_blur(img, ksize, sigma, **kw)
    scale = _amax(img, border, border_value)  # the kernel is positive and sums to 1
    atol = tolerance(working_dtype(img.dtype), scale)
    unrounded = None
    if _is_integer(img.dtype):
        size, _ = resolved_gaussian(img.dtype, ksize, sigma, sigma_y)  # the float64 copy
        unrounded = ref.gaussian_blur(img.astype(np.float64), size, sigma, **kw)  # would not
    msg = f"gaussian_blur {ksize} {sigma} {kw}"
    assert_rule(got, expected, atol=atol, unrounded=unrounded, err_msg=msg)
    return got


def random_kernel(rng, shape, kind="float"):
    if kind == "int":
        k = rng.integers(-3, 4, size=shape).astype(np.float64)
        k.flat[0] = 1.0  # never all zero
        return k
    if kind == "dyadic":  # exactly representable in float32
        return (rng.integers(-64, 65, size=shape) / 32.0).astype(np.float32)
    return rng.standard_normal(shape)


def border_values(border, channels, dtype):
    """A few constant border values (the image's range: the reference saturates them)."""
    if canonical_border(border) != "constant":
        return [0]
    vals = [0, 7] if channels == 1 else [9, [5, 3, 200, 1][:channels]]
    if np.dtype(dtype).kind == "f":
        vals.append(-2.5)
    return vals


def channels_of(img) -> int:
    return img.shape[2] if img.ndim == 3 else 1


# --------------------------------------------------------------------------------------------
# filter2d
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", FILTER_BORDERS)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_filter2d_reference(rng, dtype, border):
    images = [random_image(rng, (23, 37), dtype), random_image(rng, (9, 70, 3), dtype)]
    kernels = [
        (random_kernel(rng, (3, 3)), None),
        (random_kernel(rng, (1, 5), "int"), None),
        (random_kernel(rng, (4, 2), "dyadic"), (0, 1)),
        (random_kernel(rng, (5, 5), "int"), (4, 0)),
        (random_kernel(rng, (7, 3)), (2, 2)),
        (np.array([[2.0]]), None),
    ]
    for img in images:
        for (kernel, anchor), bv in itertools.product(
            kernels, border_values(border, channels_of(img), dtype)
        ):
            check_filter2d(img, kernel, anchor=anchor, border=border, border_value=bv)
        check_filter2d(img, kernels[0][0], delta=3.0, border=border)
        check_filter2d(img, kernels[1][0], delta=-7.0, border=border)


@pytest.mark.parametrize("out_dtype", IMAGE_DTYPES)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_filter2d_output_dtypes(rng, dtype, out_dtype):
    """Every input x output dtype; large kernels and deltas saturate the integer outputs."""
    for shape in [(13, 35), (6, 17, 3)]:
        img = random_image(rng, shape, dtype)
        for kernel, delta in [
            (random_kernel(rng, (3, 3)), 0.0),
            (random_kernel(rng, (3, 3), "int") * 5, 0.0),
            (random_kernel(rng, (2, 5), "dyadic"), 12.5),
            (np.ones((1, 1)), -100.0),
        ]:
            got = check_filter2d(img, kernel, delta=delta, dtype=out_dtype)
            assert got.dtype == np.dtype(out_dtype)
        # the dtype as a string, a NumPy type or a np.dtype
        for form in (np.dtype(out_dtype), getattr(np, out_dtype)):
            np.testing.assert_array_equal(
                foveal.filter2d(img, kernel, delta=delta, dtype=form), got, strict=True
            )


def test_filter2d_default_dtype_is_the_input(rng):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, (6, 9), dtype)
        assert foveal.filter2d(img, np.ones((3, 3)) / 9).dtype == img.dtype
        assert foveal.filter2d(img, np.ones((3, 3)) / 9, dtype=None).dtype == img.dtype


@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
@pytest.mark.parametrize("shape", [(2, 40), (5, 33), (9, 70, 3), (31, 129)])
def test_filter2d_dense_rows_in_pairs_give_the_sparse_bits(rng, dtype, shape):
    """A kernel without zero taps makes output rows two at a time; one with a zero tap, one
    at a time. A zero row and column added around a kernel (anchor moved with them) leave the
    same taps in the same order, so both ways must give the same bits, on every row (odd
    heights end a band with a single row)."""
    img = random_image(rng, shape, dtype)
    for kh, kw in [(1, 1), (1, 4), (3, 3), (5, 5), (4, 7)]:
        kernel = rng.uniform(0.5, 1.5, (kh, kw)) * rng.choice([-1.0, 1.0], (kh, kw))
        padded = np.zeros((kh + 1, kw + 1))
        padded[1:, 1:] = kernel
        for border in ("reflect101", "constant"):
            dense = foveal.filter2d(
                img, kernel, anchor=(kh // 2, kw // 2), border=border, dtype="float32"
            )
            sparse = foveal.filter2d(
                img, padded, anchor=(kh // 2 + 1, kw // 2 + 1), border=border, dtype="float32"
            )
            np.testing.assert_array_equal(dense, sparse, err_msg=f"{kh}x{kw} {border}")


@pytest.mark.parametrize("ksize", [(3, 3), (2, 4), (1, 5), (5, 1), (4, 4)])
def test_filter2d_every_anchor(rng, ksize):
    img = random_image(rng, (13, 21), "int16")
    fimg = random_image(rng, (11, 17, 3), "float32")
    kernel = random_kernel(rng, ksize, "int")
    fkernel = random_kernel(rng, ksize)
    kh, kw = ksize
    for ay, ax in itertools.product(range(kh), range(kw)):
        for border in ("constant", "replicate", "reflect", "wrap"):
            check_filter2d(img, kernel, anchor=(ay, ax), border=border, border_value=5)
            check_filter2d(fimg, fkernel, anchor=(ay, ax), border=border, border_value=1.5)
    # the default anchor and -1 are the centre
    centre = check_filter2d(img, kernel, anchor=(kh // 2, kw // 2))
    np.testing.assert_array_equal(foveal.filter2d(img, kernel), centre)
    np.testing.assert_array_equal(foveal.filter2d(img, kernel, anchor=(-1, -1)), centre)


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=["x".join(map(str, s)) for s in ODD_SHAPES])
def test_filter2d_odd_sizes_and_kernels_larger_than_image(rng, shape):
    """Widths off the vector widths, single rows and columns, images smaller than the kernel
    (the border is reflected / wrapped many times over)."""
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, shape, dtype)
        for (kernel, anchor), border in itertools.product(
            [
                (random_kernel(rng, (3, 3)), None),
                (random_kernel(rng, (7, 9), "int"), (0, 8)),
                (random_kernel(rng, (1, 15), "dyadic"), None),
                (random_kernel(rng, (15, 1)), (14, 0)),
            ],
            FILTER_BORDERS,
        ):
            check_filter2d(img, kernel, anchor=anchor, border=border, border_value=3)


def test_filter2d_kernel_forms(rng):
    img = random_image(rng, (15, 22, 3), "int16")
    base = random_kernel(rng, (3, 5), "int")
    expected = check_filter2d(img, base)
    for kdt in ("int8", "uint8", "int16", "int32", "int64", "float32", "float64"):
        k = np.abs(base).astype(kdt) if kdt.startswith("u") else base.astype(kdt)
        check_filter2d(img, k)
    # non-contiguous kernel arrays read as their values
    big = random_kernel(rng, (8, 12))
    for k in (big[::2, ::3], big[::-2, 1::4], big.T[:5, :3], np.asfortranarray(big[:3, :4])):
        got = check_filter2d(img, k)
        np.testing.assert_array_equal(got, foveal.filter2d(img, np.ascontiguousarray(k)))
    np.testing.assert_array_equal(foveal.filter2d(img, base.astype(np.float32)), expected)


def test_filter2d_shift_kernels_are_exact(rng):
    """A single 1 at (i, j) with the anchor at (ay, ax) and a wrap border is np.roll by
    (ay - i, ax - j): exact for every dtype."""
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, (9, 13, 2), dtype)
        for (kh, kw), (i, j), (ay, ax) in [
            ((3, 3), (1, 1), (1, 1)),
            ((3, 3), (0, 2), (1, 1)),
            ((1, 5), (0, 0), (0, 4)),
            ((4, 2), (3, 1), (0, 0)),
        ]:
            k = np.zeros((kh, kw))
            k[i, j] = 1
            got = foveal.filter2d(img, k, anchor=(ay, ax), border="wrap")
            np.testing.assert_array_equal(
                got, np.roll(img, (ay - i, ax - j), axis=(0, 1)), strict=True
            )


def test_filter2d_cv2(cv2, rng):
    for dtype, out_dtype in itertools.product(IMAGE_DTYPES, IMAGE_DTYPES):
        for shape in [(23, 37), (9, 70, 3), (6, 33, 4), (1, 1)]:
            img = random_image(rng, shape, dtype)
            kernels = [
                (random_kernel(rng, (3, 3)), (-1, -1), 0.0),
                (random_kernel(rng, (5, 7), "int"), (1, 6), 2.0),
                (random_kernel(rng, (1, 4), "dyadic"), (0, 0), -3.5),
            ]
            for (kernel, anchor, delta), border in itertools.product(kernels, CV2_FILTER_BORDERS):
                try:
                    expected = cv2.filter2D(
                        img,
                        getattr(cv2, CV2_DEPTHS[out_dtype]),
                        kernel,
                        anchor=(anchor[1], anchor[0]),
                        delta=delta,
                        borderType=cv2_border(cv2, border),
                    ).reshape(img.shape)
                except cv2.error:
                    continue  # a dtype pair cv2 does not do
                got = check_filter2d(
                    img, kernel, anchor=anchor, delta=delta, border=border, dtype=out_dtype
                )
                scale = _amax(img) * np.abs(kernel).sum() + abs(delta)
                work = working_dtype(dtype, out_dtype)
                unrounded = ref.filter2d(
                    img, kernel, anchor=anchor, delta=delta, border=border, dtype=np.float64
                )
                assert_rule(
                    got,
                    expected,
                    atol=2 * tolerance(work, scale),
                    unrounded=unrounded,
                    err_msg=f"cv2.filter2D {dtype}->{out_dtype} {border} {anchor}",
                )


def test_filter2d_real_images(cv2, real_image):
    kernel = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float64)  # sharpen
    blur = np.full((5, 5), 1 / 25)
    for k in (kernel, blur):
        got = check_filter2d(real_image, k)
        expected = cv2.filter2D(real_image, -1, k).reshape(real_image.shape)
        unrounded = ref.filter2d(real_image, k, dtype=np.float64)
        assert_rule(got, expected, atol=2 * tolerance(np.float32, 255 * 5), unrounded=unrounded)
    got = check_filter2d(real_image, kernel, dtype="int16")
    np.testing.assert_array_equal(got, cv2.filter2D(real_image, cv2.CV_16S, kernel))
    f = real_image.astype(np.float32) / 255
    got = check_filter2d(f, blur, border="replicate")
    expected = cv2.filter2D(f, -1, blur, borderType=cv2.BORDER_REPLICATE)
    assert_rule(got, expected.reshape(f.shape), atol=2 * tolerance(np.float32, 1.0))


# --------------------------------------------------------------------------------------------
# sep_filter2d
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", FILTER_BORDERS)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_sep_filter2d_reference(rng, dtype, border):
    images = [random_image(rng, (21, 39), dtype), random_image(rng, (8, 67, 3), dtype)]
    pairs = [
        (rng.standard_normal(3), rng.standard_normal(3), None),
        (np.array([1.0, 2.0, 1.0]), np.array([-1.0, 0.0, 1.0]), None),
        (rng.standard_normal(5), rng.standard_normal(1), (0, 4)),
        (rng.standard_normal(1), rng.standard_normal(6), (5, 0)),
        (np.array([1.0, -2.0, 1.0, 3.0]), np.array([2.0, 1.0]), (1, 1)),
    ]
    for img in images:
        for (kx, ky, anchor), bv in itertools.product(
            pairs, border_values(border, channels_of(img), dtype)
        ):
            check_sep(img, kx, ky, anchor=anchor, border=border, border_value=bv)
        check_sep(img, pairs[0][0], pairs[0][1], delta=-4.5, border=border)


def test_sep_filter2d_equals_filter2d_with_outer(rng):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, (17, 26, 3), dtype)
        for kx, ky, anchor, out_dtype in [
            (rng.standard_normal(3), rng.standard_normal(5), (4, 0), None),
            (np.array([1, 4, 6, 4, 1]), np.array([-1, 0, 1]), None, "float32"),
            (np.array([1, 2, 1]), np.array([1, -2, 1]), (0, 2), "int16"),
        ]:
            sep = check_sep(img, kx, ky, anchor=anchor, delta=1.0, dtype=out_dtype)
            full = check_filter2d(img, np.outer(ky, kx), anchor=anchor, delta=1.0, dtype=out_dtype)
            scale = _amax(img) * np.abs(kx).sum() * np.abs(ky).sum() + 1
            exact = _is_integer(dtype) and _integer_valued(kx, ky) and scale < 2**24
            atol = 0.0 if exact else 2 * tolerance(working_dtype(dtype, sep.dtype), scale)
            unrounded = ref.filter2d(
                img, np.outer(ky, kx), anchor=anchor, delta=1.0, dtype=np.float64
            )
            assert_rule(sep, full, atol=atol, unrounded=unrounded)


def test_sep_filter2d_kernel_shapes(rng):
    """kernel_x / kernel_y may be 1-D, (1, n) or (n, 1), of any numeric dtype, any strides."""
    img = random_image(rng, (14, 23), "uint16")
    kx, ky = np.array([1, -3, 3, -1]), np.array([2, 5, 2])
    expected = check_sep(img, kx, ky, dtype="float32")
    for fx, fy in [
        (kx[None, :], ky[:, None]),
        (kx[:, None], ky[None, :]),
        (kx.astype(np.int8), ky.astype(np.float32)),
        (np.repeat(kx, 2)[::2], np.repeat(ky, 3)[2::3]),
        (kx[::-1][::-1], ky.astype(np.float64)[None, ::-1][:, ::-1]),
    ]:
        np.testing.assert_array_equal(
            foveal.sep_filter2d(img, fx, fy, dtype="float32"), expected, strict=True
        )


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=["x".join(map(str, s)) for s in ODD_SHAPES])
def test_sep_filter2d_odd_sizes(rng, shape):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, shape, dtype)
        for border in FILTER_BORDERS:
            check_sep(img, rng.standard_normal(9), rng.standard_normal(3), border=border)
            check_sep(img, np.ones(1), rng.standard_normal(11), anchor=(10, 0), border=border)


def test_sep_filter2d_cv2(cv2, rng):
    for dtype, out_dtype in itertools.product(IMAGE_DTYPES, IMAGE_DTYPES):
        for shape in [(19, 41), (7, 66, 3)]:
            img = random_image(rng, shape, dtype)
            for (kx, ky, anchor, delta), border in itertools.product(
                [
                    (rng.standard_normal(3), rng.standard_normal(5), (-1, -1), 0.0),
                    (np.array([1.0, 2, 1]), np.array([-1.0, 0, 1]), (0, 2), 5.0),
                    (rng.standard_normal(7), rng.standard_normal(2), (1, 0), -2.5),
                ],
                CV2_FILTER_BORDERS,
            ):
                try:
                    expected = cv2.sepFilter2D(
                        img,
                        getattr(cv2, CV2_DEPTHS[out_dtype]),
                        kx,
                        ky,
                        anchor=(anchor[1], anchor[0]),
                        delta=delta,
                        borderType=cv2_border(cv2, border),
                    ).reshape(img.shape)
                except cv2.error:
                    continue
                got = check_sep(
                    img, kx, ky, anchor=anchor, delta=delta, border=border, dtype=out_dtype
                )
                scale = _amax(img) * np.abs(kx).sum() * np.abs(ky).sum() + abs(delta)
                unrounded = ref.sep_filter2d(
                    img, kx, ky, anchor=anchor, delta=delta, border=border, dtype=np.float64
                )
                assert_rule(
                    got,
                    expected,
                    atol=2 * tolerance(working_dtype(dtype, out_dtype), scale),
                    unrounded=unrounded,
                    err_msg=f"cv2.sepFilter2D {dtype}->{out_dtype} {border}",
                )


# --------------------------------------------------------------------------------------------
# box_filter
# --------------------------------------------------------------------------------------------

BOX_SIZES = [1, 3, (2, 2), (4, 6), (1, 5), (5, 1), (15, 15), (31, 2), (17, 16)]


@pytest.mark.parametrize("border", FILTER_BORDERS)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_box_filter_reference(rng, dtype, border):
    images = [random_image(rng, (23, 37), dtype), random_image(rng, (9, 70, 3), dtype)]
    for img in images:
        for ksize, normalize in itertools.product(BOX_SIZES, (True, False)):
            for bv in border_values(border, channels_of(img), dtype)[:2]:
                check_box(img, ksize, normalize=normalize, border=border, border_value=bv)
        check_box(img, (3, 4), anchor=(0, 3), border=border)
        check_box(img, (5, 2), normalize=False, anchor=(4, 1), border=border)


@pytest.mark.parametrize("out_dtype", IMAGE_DTYPES)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_box_filter_output_dtypes(rng, dtype, out_dtype):
    img = random_image(rng, (11, 29, 3), dtype)
    for ksize, normalize in itertools.product([(3, 3), (2, 5), (9, 9)], (True, False)):
        got = check_box(img, ksize, normalize=normalize, dtype=out_dtype)
        assert got.dtype == np.dtype(out_dtype)


def test_box_filter_integer_sums_are_exact(rng):
    """Unnormalized sums of integer images beyond float32's 24 bits: still exact in float64
    and int outputs saturate exactly."""
    img = np.full((40, 50), 65535, np.uint16)
    img[::3, ::7] = 65534
    got = foveal.box_filter(img, (31, 31), normalize=False, dtype="float64")
    np.testing.assert_array_equal(got, ref.box_filter(img, (31, 31), normalize=False, dtype="f8"))
    assert got.max() > 2**24
    assert (foveal.box_filter(img, 31, normalize=False, dtype="uint16") == 65535).all()
    # a normalized window of a ramp: exact round-half-even of sum / area, ties included
    ramp = np.arange(64, dtype=np.uint8).reshape(8, 8)
    check_box(ramp, (1, 2), border="replicate")  # (a + a + 1) / 2 is always a .5 tie
    got = foveal.box_filter(ramp, (1, 2), border="replicate")
    np.testing.assert_array_equal(got[:, 1:], np.rint(ramp[:, 1:] - 0.5))
    np.testing.assert_array_equal(got[:, 0], ramp[:, 0])


@pytest.mark.parametrize("ksize", [(3, 3), (2, 4), (1, 6), (5, 1)])
def test_box_filter_every_anchor(rng, ksize):
    img = random_image(rng, (12, 19), "uint8")
    fimg = random_image(rng, (10, 14, 2), "float64")
    for ay, ax in itertools.product(range(-1, ksize[0]), range(-1, ksize[1])):
        for border in ("constant", "reflect", "wrap"):
            check_box(img, ksize, anchor=(ay, ax), border=border, border_value=9)
            check_box(fimg, ksize, normalize=False, anchor=(ay, ax), border=border)


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=["x".join(map(str, s)) for s in ODD_SHAPES])
def test_box_filter_odd_sizes(rng, shape):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, shape, dtype)
        for ksize, border in itertools.product([(3, 3), (1, 9), (9, 2), (21, 21)], FILTER_BORDERS):
            check_box(img, ksize, border=border, border_value=4)
            check_box(img, ksize, normalize=False, border=border, border_value=4)


def test_box_filter_equals_filter2d_of_ones(rng):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, (16, 35), dtype)
        for ksize, anchor, border in [((3, 5), None, "reflect101"), ((4, 2), (3, 0), "wrap")]:
            box = foveal.box_filter(img, ksize, normalize=False, anchor=anchor, border=border)
            f2d = foveal.filter2d(img, np.ones(ksize), anchor=anchor, border=border)
            if _is_integer(dtype):
                np.testing.assert_array_equal(box, f2d)
            else:
                atol = 2 * tolerance(working_dtype(dtype), _amax(img) * _box_area(ksize))
                assert_rule(box, f2d, atol=atol)


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_box_filter_of_constant_is_constant(dtype):
    value = {"uint8": 200, "uint16": 60000, "int16": -1234, "float32": 3.25, "float64": -0.1}
    c = value[dtype]
    for shape in [(1, 1), (7, 33), (16, 17, 3)]:
        img = np.full(shape, c, dtype)
        for ksize, border in itertools.product([(3, 3), (2, 6), (15, 15)], ALL_FILTER_BORDERS):
            got = foveal.box_filter(img, ksize, border=border, border_value=c)
            if _is_integer(dtype):
                np.testing.assert_array_equal(got, img, strict=True)
            else:
                np.testing.assert_allclose(got, img, rtol=tolerance(working_dtype(dtype), 1))
            area = _box_area(ksize)
            sums = foveal.box_filter(
                img, ksize, normalize=False, border=border, border_value=c, dtype="float64"
            )
            np.testing.assert_allclose(sums, np.full(shape, float(img.flat[0]) * area), rtol=1e-12)


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_box_filter_cv2(cv2, rng, dtype):
    for shape in [(23, 37), (9, 70, 3), (33, 1)]:
        img = random_image(rng, shape, dtype)
        for (ksize, anchor), normalize, out_dtype, border in itertools.product(
            [((3, 3), (-1, -1)), ((2, 2), (0, 0)), ((4, 6), (3, 1)), ((15, 15), None)],
            (True, False),
            IMAGE_DTYPES,
            CV2_FILTER_BORDERS,
        ):
            if _is_integer(out_dtype) and np.dtype(dtype).kind == "i" and out_dtype[0] == "u":
                continue  # cv2 wraps int16 -> unsigned instead of saturating
            try:
                expected = cv2.boxFilter(
                    img,
                    getattr(cv2, CV2_DEPTHS[out_dtype]),
                    (ksize[1], ksize[0]),
                    anchor=(-1, -1) if anchor is None else (anchor[1], anchor[0]),
                    normalize=normalize,
                    borderType=cv2_border(cv2, border),
                ).reshape(img.shape)
            except cv2.error:
                continue
            got = check_box(
                img, ksize, normalize=normalize, anchor=anchor, border=border, dtype=out_dtype
            )
            if _is_integer(out_dtype) and normalize:
                # cv2 divides in fixed point for small integer windows: within 1
                diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
                assert diff.max(initial=0) <= 1, (dtype, out_dtype, ksize, border)
                continue
            scale = _amax(img) * (1 if normalize else _box_area(ksize))
            unrounded = ref.box_filter(
                img, ksize, normalize=normalize, anchor=anchor, border=border, dtype=np.float64
            )
            assert_rule(
                got,
                expected,
                atol=2 * tolerance(working_dtype(dtype, out_dtype), scale),
                unrounded=unrounded,
                err_msg=f"cv2.boxFilter {dtype}->{out_dtype} {ksize} {border} {normalize}",
            )


def test_box_filter_real_images(cv2, real_image):
    for ksize in [(5, 5), (31, 31), (3, 9)]:
        got = check_box(real_image, ksize)
        expected = cv2.blur(real_image, (ksize[1], ksize[0])).reshape(real_image.shape)
        assert np.abs(got.astype(int) - expected).max() <= 1
        sums = check_box(real_image, ksize, normalize=False, dtype="float32")
        expected = cv2.boxFilter(real_image, cv2.CV_32F, (ksize[1], ksize[0]), normalize=False)
        np.testing.assert_array_equal(sums, expected.reshape(real_image.shape))


# --------------------------------------------------------------------------------------------
# gaussian_blur
# --------------------------------------------------------------------------------------------

GAUSS_CASES = [
    # ksize, sigma, sigma_y
    (1, 0.0, None),
    (3, 0.0, None),
    (5, 0.0, None),
    (7, 0.0, None),
    (9, 0.0, None),
    (11, 0.0, None),
    ((3, 7), 0.0, None),
    ((5, 3), 1.3, None),
    (0, 1.1, None),
    (0, 0.8, 2.0),
    ((7, 5), 2.0, 0.5),
    ((0, 5), 0.0, 1.5),
    ((9, 0), 1.2, None),
    (15, 3.0, None),
    (3, 10.0, None),
]


@pytest.mark.parametrize("border", FILTER_BORDERS)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_gaussian_blur_reference(rng, dtype, border):
    images = [random_image(rng, (23, 37), dtype), random_image(rng, (9, 70, 3), dtype)]
    for img in images:
        for ksize, sigma, sigma_y in GAUSS_CASES:
            check_gauss(img, ksize, sigma, sigma_y=sigma_y, border=border, border_value=7)
        if canonical_border(border) == "constant" and img.ndim == 3:
            check_gauss(img, 5, 1.0, border=border, border_value=[1, 100, 3])


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=["x".join(map(str, s)) for s in ODD_SHAPES])
def test_gaussian_blur_odd_sizes(rng, shape):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, shape, dtype)
        for border in FILTER_BORDERS:
            check_gauss(img, 3, 0.0, border=border)
            check_gauss(img, (1, 9), 2.0, border=border)
            check_gauss(img, 0, 2.5, border=border)


def gaussian_1d(ksize: int, sigma: float, cv2=None) -> np.ndarray:
    """cv2.getGaussianKernel when cv2 is there; else the spec's rule (OpenCV's fixed kernels
    for ksize 1..9 and sigma <= 0; otherwise the normalized exponential)."""
    if cv2 is not None:
        return cv2.getGaussianKernel(ksize, sigma, ktype=cv2.CV_64F).ravel()
    table = {
        1: [1],
        3: [1, 2, 1],
        5: [1, 4, 6, 4, 1],
        7: [2, 7, 14, 18, 14, 7, 2],
        9: [4, 13, 30, 51, 60, 51, 30, 13, 4],
    }
    if sigma <= 0 and ksize in table:
        k = np.array(table[ksize], np.float64)
        return k / k.sum()
    s = sigma if sigma > 0 else 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    x = np.arange(ksize) - (ksize - 1) / 2
    g = np.exp(-x * x / (2 * s * s))
    return g / g.sum()


@pytest.mark.parametrize("with_cv2", [False, True])
def test_gaussian_blur_impulse_response_is_the_kernel(with_cv2):
    """The blur of a unit impulse (float64, zero border) is outer(k_y, k_x): the kernel
    choice (fixed tables for sigma <= 0, sigma from ksize, ksize from sigma) exactly."""
    cv = pytest.importorskip("cv2") if with_cv2 else None
    img = np.zeros((41, 43), np.float64)
    img[20, 21] = 1.0
    for ksize, sigma, sigma_y in GAUSS_CASES:
        if cv is not None and not _gaussian_matches_cv2_kernel(
            cv, img.dtype, ksize, sigma, sigma_y
        ):
            continue  # OpenCV 4.x has no fixed 9-tap kernel
        got = foveal.gaussian_blur(img, ksize, sigma, sigma_y=sigma_y, border="constant")
        (kh, kw), (sy, sx) = resolved_gaussian(img.dtype, ksize, sigma, sigma_y)
        expected = np.zeros_like(img)
        expected[20 - kh // 2 : 20 + kh // 2 + 1, 21 - kw // 2 : 21 + kw // 2 + 1] = np.outer(
            gaussian_1d(kh, sy, cv), gaussian_1d(kw, sx, cv)
        )[::-1, ::-1]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=str(ksize))


def test_gaussian_blur_derived_size_depends_on_dtype(rng):
    """ksize 0: round(sigma * 3 * 2 + 1) | 1 for uint8, with 4 for every other dtype."""
    impulse = np.zeros((3, 61), np.float64)
    impulse[1, 30] = 1.0
    for sigma in (0.5, 1.0, 1.7, 2.0, 3.3):
        got = foveal.gaussian_blur(impulse, (1, 0), sigma, border="constant")
        assert np.count_nonzero(got[1]) == derived_ksize(sigma, np.float64)  # the support
        for dtype in IMAGE_DTYPES:
            img = random_image(rng, (12, 40), dtype)
            got = check_gauss(img, 0, sigma)
            size = derived_ksize(sigma, dtype)
            np.testing.assert_array_equal(got, foveal.gaussian_blur(img, size, sigma))
            got = check_gauss(img, (3, 0), sigma, border="replicate")
            np.testing.assert_array_equal(
                got, foveal.gaussian_blur(img, (3, size), sigma, border="replicate")
            )
    # the uint8 and other sizes differ (13 against 17 at sigma 2)
    assert derived_ksize(2.0, np.uint8) == 13 and derived_ksize(2.0, np.float64) == 17


def test_gaussian_blur_sigma_y_defaults_to_sigma(rng):
    img = random_image(rng, (19, 24, 3), "float32")
    a = foveal.gaussian_blur(img, (7, 5), 1.4)
    np.testing.assert_array_equal(foveal.gaussian_blur(img, (7, 5), 1.4, sigma_y=None), a)
    np.testing.assert_array_equal(foveal.gaussian_blur(img, (7, 5), 1.4, sigma_y=1.4), a)
    b = foveal.gaussian_blur(img, (7, 5), 1.4, sigma_y=0.6)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_gaussian_blur_invariants(rng, dtype):
    """A constant image stays constant; with a wrap border the total is preserved (the kernel
    sums to 1 and the filter is circulant)."""
    c = {"uint8": 77, "uint16": 40000, "int16": -300, "float32": 2.5, "float64": 1e3}[dtype]
    for ksize, sigma in [(3, 0.0), (7, 0.0), (0, 2.0), ((9, 3), 1.0)]:
        img = np.full((15, 21, 2), c, dtype)
        for border in ALL_FILTER_BORDERS:
            got = foveal.gaussian_blur(img, ksize, sigma, border=border, border_value=c)
            if _is_integer(dtype):
                np.testing.assert_array_equal(got, img, strict=True)
            else:
                np.testing.assert_allclose(got, img, rtol=tolerance(working_dtype(dtype), 1))
        x = random_image(rng, (16, 23), "float64")
        total = foveal.gaussian_blur(x, ksize, sigma, border="wrap").sum()
        assert abs(total - x.sum()) <= 1e-10 * np.abs(x).sum()


def _gaussian_cv2_tolerance(dtype, ksize, sigma, sigma_y):
    """cv2 blurs uint8 and uint16 in fixed point: within 1 for the fixed kernels, 2 beyond."""
    (kh, kw), _ = resolved_gaussian(dtype, ksize, sigma, sigma_y)
    small = sigma <= 0 and (sigma_y is None or sigma_y <= 0) and max(kh, kw) <= 7
    return 1 if small else 2


def _gaussian_matches_cv2_kernel(cv2, dtype, ksize, sigma, sigma_y) -> bool:
    """Whether this cv2 has the kernel foveal's reference uses (OpenCV 4.x has no fixed 9-tap
    kernel, 5.x has one)."""
    (kh, kw), (sy, sx) = resolved_gaussian(dtype, ksize, sigma, sigma_y)
    return all(
        np.allclose(gaussian_1d(k, s, cv2), gaussian_1d(k, s), rtol=1e-9)
        for k, s in ((kh, sy), (kw, sx))
    )


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_gaussian_blur_cv2(cv2, rng, dtype):
    for shape in [(23, 37), (9, 70, 3), (1, 17), (2, 3)]:
        img = random_image(rng, shape, dtype)
        for (ksize, sigma, sigma_y), border in itertools.product(GAUSS_CASES, CV2_FILTER_BORDERS):
            if not _gaussian_matches_cv2_kernel(cv2, dtype, ksize, sigma, sigma_y):
                continue
            kh, kw = (ksize, ksize) if np.ndim(ksize) == 0 else ksize
            expected = cv2.GaussianBlur(
                img,
                (kw, kh),
                sigma,
                sigmaY=0 if sigma_y is None else sigma_y,
                borderType=cv2_border(cv2, border),
            ).reshape(img.shape)
            got = check_gauss(img, ksize, sigma, sigma_y=sigma_y, border=border)
            if dtype in ("uint8", "uint16"):
                diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
                limit = _gaussian_cv2_tolerance(dtype, ksize, sigma, sigma_y)
                assert diff.max() <= limit, (shape, ksize, sigma, sigma_y, border)
            else:
                size, _ = resolved_gaussian(dtype, ksize, sigma, sigma_y)
                unrounded = ref.gaussian_blur(
                    img.astype(np.float64), size, sigma, sigma_y=sigma_y, border=border
                )
                assert_rule(
                    got,
                    expected,
                    atol=2 * tolerance(working_dtype(dtype), _amax(img)),
                    unrounded=unrounded,
                    err_msg=f"cv2.GaussianBlur {dtype} {ksize} {sigma} {sigma_y} {border}",
                )


def test_gaussian_blur_real_images(cv2, real_image):
    for ksize, sigma in [(5, 0.0), (0, 1.5), (15, 3.0)]:
        got = check_gauss(real_image, ksize, sigma)
        expected = cv2.GaussianBlur(real_image, (ksize, ksize), sigma).reshape(real_image.shape)
        limit = _gaussian_cv2_tolerance("uint8", ksize, sigma, None)
        assert np.abs(got.astype(int) - expected).max() <= limit
    f = real_image.astype(np.float32)
    got = check_gauss(f, (7, 3), 0.0)
    expected = cv2.GaussianBlur(f, (3, 7), 0).reshape(f.shape)
    assert_rule(got, expected, atol=2 * tolerance(np.float32, 255))


# --------------------------------------------------------------------------------------------
# every function: non-contiguous input, out=, torch, threads
# --------------------------------------------------------------------------------------------


SEP_X, SEP_Y = np.array([1.0, 3.0, -2.0]), np.array([0.5, 1.0])


def call(name, img, out=None, **extra):
    """One representative call of each function."""
    kw = dict(border="reflect", **extra)
    if out is not None:
        kw["out"] = out
    if name == "filter2d":
        k = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
        return foveal.filter2d(img, k, anchor=(1, 0), delta=1.5, **kw)
    if name == "sep_filter2d":
        return foveal.sep_filter2d(img, SEP_X, SEP_Y, delta=-2.0, **kw)
    if name == "box_filter":
        return foveal.box_filter(img, (3, 4), **kw)
    return foveal.gaussian_blur(img, (5, 3), 1.2, **kw)


def reference_of(name, img):
    kw = dict(border="reflect")
    if name == "filter2d":
        k = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
        return ref.filter2d(img, k, anchor=(1, 0), delta=1.5, **kw), np.abs(k).sum() + 1.5
    if name == "sep_filter2d":
        return ref.sep_filter2d(img, SEP_X, SEP_Y, delta=-2.0, **kw), 11.0
    if name == "box_filter":
        return ref.box_filter(img, (3, 4), **kw), 1.0
    return ref.gaussian_blur(img, (5, 3), 1.2, **kw), 1.0


@pytest.mark.parametrize("view", list(IMAGE_VIEWS))
@pytest.mark.parametrize("name", FUNCS)
def test_non_contiguous_inputs(rng, name, view):
    for dtype in ("uint8", "int16", "float32", "float64"):
        base = random_image(rng, (40, 90, 4), dtype)
        base0 = base.copy()
        img = IMAGE_VIEWS[view](base)
        contiguous = np.ascontiguousarray(img)
        got = call(name, img)
        np.testing.assert_array_equal(got, call(name, contiguous), strict=True)
        expected, l1 = reference_of(name, contiguous)
        atol = tolerance(working_dtype(dtype), _amax(contiguous) * l1)
        if _is_integer(dtype) and name == "box_filter":
            atol = 0.0
        if _is_integer(dtype) and name != "box_filter":
            # only ties may differ: check against the unrounded value
            unrounded = reference_of(name, contiguous.astype(np.float64))[0]
            assert_rule(got, expected, atol=atol, unrounded=unrounded)
        else:
            assert_rule(got, expected, atol=atol)
        np.testing.assert_array_equal(base, base0)


OUTS = {
    "contiguous": lambda shape, dt: np.zeros(shape, dt),
    "fortran": lambda shape, dt: np.zeros(shape, dt, order="F"),
    "strided": lambda shape, dt: np.zeros((shape[0] * 2, shape[1] * 3, *shape[2:]), dt)[::2, ::3],
    "negative": lambda shape, dt: np.zeros(shape, dt)[::-1, ::-1],
}


@pytest.mark.parametrize("out_kind", list(OUTS))
@pytest.mark.parametrize("name", FUNCS)
def test_out(rng, name, out_kind):
    for dtype in IMAGE_DTYPES:
        for shape in [(17, 45), (11, 20, 3)]:
            img = random_image(rng, shape, dtype)
            expected = call(name, img)
            out = OUTS[out_kind](shape, dtype)
            assert call(name, img, out=out) is out
            np.testing.assert_array_equal(out, expected, strict=True)


@pytest.mark.parametrize("name", ["filter2d", "sep_filter2d", "box_filter"])
def test_out_with_dtype(rng, name):
    img = random_image(rng, (13, 18, 3), "uint8")
    for out_dtype in IMAGE_DTYPES:
        expected = call(name, img, dtype=out_dtype)
        out = np.zeros(img.shape, out_dtype)
        assert call(name, img, out=out, dtype=out_dtype) is out
        np.testing.assert_array_equal(out, expected, strict=True)
        wrong = "float64" if out_dtype != "float64" else "float32"
        with pytest.raises(TypeError, match=rf"{name}: out must have dtype {out_dtype}"):
            call(name, img, out=np.zeros(img.shape, wrong), dtype=out_dtype)


@pytest.mark.parametrize("name", FUNCS)
def test_out_in_place(rng, name):
    """out may be the image itself (the result is as if computed from a copy)."""
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, (21, 34, 2), dtype)
        expected = call(name, img.copy())
        assert call(name, img, out=img) is img
        np.testing.assert_array_equal(img, expected, strict=True)


@pytest.mark.parametrize("name", FUNCS)
def test_out_wrong_shape_or_dtype(name):
    img = np.zeros((6, 7), np.uint8)
    for shape in [(6, 8), (7, 6), (6, 7, 1), (42,)]:
        with pytest.raises(ValueError, match=rf"{name}: out must have shape \(6, 7\)"):
            call(name, img, out=np.zeros(shape, np.uint8))
    for dtype in ("uint16", "float32", "int8", "bool"):
        with pytest.raises(TypeError, match=rf"{name}: out must have dtype uint8"):
            call(name, img, out=np.zeros((6, 7), dtype))
    out = np.zeros((6, 7), np.uint8)
    out.setflags(write=False)
    with pytest.raises(ValueError, match=rf"{name}: out"):
        call(name, img, out=out)


@pytest.mark.parametrize("name", FUNCS)
def test_inputs_are_not_mutated(rng, name):
    img = random_image(rng, (15, 18, 3), "float64")
    img0 = img.copy()
    call(name, img)
    np.testing.assert_array_equal(img, img0)


@pytest.mark.parametrize("name", FUNCS)
def test_torch_in_torch_out(rng, name):
    torch = pytest.importorskip("torch")
    for dtype in ("uint8", "int16", "float32", "float64"):
        t = torch.from_numpy(random_image(rng, (14, 19, 3), dtype))
        t0 = t.clone()
        got = call(name, t)
        assert isinstance(got, torch.Tensor)
        assert got.dtype == t.dtype and tuple(got.shape) == tuple(t.shape)
        np.testing.assert_array_equal(got.numpy(), call(name, t.numpy()), strict=True)
        assert torch.equal(t, t0)
    # a transposed (non-contiguous) tensor, and a torch kernel
    t = torch.from_numpy(random_image(rng, (20, 30), "float32")).T
    np.testing.assert_array_equal(call(name, t).numpy(), call(name, t.numpy()))
    if name != "filter2d":
        return
    k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(
        foveal.filter2d(t, k).numpy(), foveal.filter2d(t.numpy(), k.numpy())
    )


@pytest.mark.parametrize("name", FUNCS)
def test_threads_agree(rng, name):
    for dtype in ("uint8", "float32"):
        img = random_image(rng, (203, 157, 3), dtype)
        with foveal.num_threads(1):
            one = call(name, img)
        with foveal.num_threads(2):
            two = call(name, img)
        with foveal.num_threads(3):
            three = call(name, img)
        if _is_integer(dtype):
            np.testing.assert_array_equal(two, one)
            np.testing.assert_array_equal(three, one)
        else:
            atol = 2 * tolerance(np.float32, _amax(img) * 11)
            assert_rule(two, one, atol=atol)
            assert_rule(three, one, atol=atol)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


def bad_call(name, image, **kw):
    """``name`` on ``image`` with defaults for the other essential arguments; kw override."""
    if name == "filter2d":
        kernel = kw.pop("kernel", np.ones((3, 3)))
        return foveal.filter2d(image, kernel, **kw)
    if name == "sep_filter2d":
        kx = kw.pop("kernel_x", np.ones(3))
        ky = kw.pop("kernel_y", np.ones(3))
        return foveal.sep_filter2d(image, kx, ky, **kw)
    if name == "box_filter":
        return foveal.box_filter(image, kw.pop("ksize", 3), **kw)
    ksize = kw.pop("ksize", 3)
    sigma = kw.pop("sigma", 0.0)
    return foveal.gaussian_blur(image, ksize, sigma, **kw)


GOOD = np.arange(35, dtype=np.uint8).reshape(5, 7)


@pytest.mark.parametrize(
    "dtype", ["bool", "int32", "int8", "uint32", "int64", "float16", "complex64"]
)
@pytest.mark.parametrize("name", FUNCS)
def test_bad_image_dtype(name, dtype):
    with pytest.raises(TypeError, match=rf"{name}: image dtype {dtype} is not supported"):
        bad_call(name, np.zeros((5, 5), dtype))


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 1), ()])
@pytest.mark.parametrize("name", FUNCS)
def test_bad_image_rank(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: image must be 2-D \(H, W\) or 3-D"):
        bad_call(name, np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (3, 3, 0)])
@pytest.mark.parametrize("name", FUNCS)
def test_empty_image(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: image must not be empty"):
        bad_call(name, np.zeros(shape, np.float32))


@pytest.mark.parametrize("name", FUNCS)
def test_image_not_an_array(name):
    for bad in (None, "image", 3):
        with pytest.raises(TypeError, match=rf"{name}: image"):
            bad_call(name, bad)


@pytest.mark.parametrize("name", FUNCS)
def test_bad_border(name):
    for border in ("foo", "", "default", "reflect-101", "BORDER_WRAP"):
        with pytest.raises(ValueError, match=rf"{name}: border must be one of"):
            bad_call(name, GOOD, border=border)
    for border in (1, None):
        with pytest.raises(TypeError, match=rf"{name}: border must be a string"):
            bad_call(name, GOOD, border=border)


@pytest.mark.parametrize("name", FUNCS)
def test_border_spellings(rng, name):
    img = random_image(rng, (9, 12, 3), "int16")
    for alias, canonical in BORDER_ALIASES.items():
        expected = bad_call(name, img, border=canonical)
        for spelling in (alias, alias.upper()):
            np.testing.assert_array_equal(bad_call(name, img, border=spelling), expected)
    expected = bad_call(name, img, border="reflect101")
    np.testing.assert_array_equal(bad_call(name, img, border="Reflect101"), expected)
    np.testing.assert_array_equal(bad_call(name, img), expected)  # the default


@pytest.mark.parametrize("name", FUNCS)
def test_bad_border_value(name):
    img = np.zeros((5, 6, 3), np.uint8)
    with pytest.raises(ValueError, match=rf"{name}: border_value"):
        bad_call(name, img, border="constant", border_value=[1, 2])
    with pytest.raises(TypeError, match=rf"{name}: border_value"):
        bad_call(name, img, border="constant", border_value="a")
    with pytest.raises(ValueError, match=rf"{name}: border_value"):
        bad_call(name, img, border="constant", border_value=float("nan"))


@pytest.mark.parametrize(
    "kernel, exc",
    [
        (np.ones((3, 3, 3)), ValueError),
        (np.ones(3), ValueError),
        (np.array(2.0), ValueError),
        (np.ones((0, 3)), ValueError),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError),
        (np.array([[1.0, np.inf]]), ValueError),
        (np.ones((3, 3), np.complex128), TypeError),
        (np.array([["a", "b"]]), TypeError),
        (None, TypeError),
        ("kernel", TypeError),
    ],
)
def test_filter2d_bad_kernel(kernel, exc):
    with pytest.raises(exc, match=r"filter2d: kernel"):
        foveal.filter2d(GOOD, kernel)


@pytest.mark.parametrize(
    "which, kernel, exc",
    [
        ("kernel_x", np.ones((3, 3)), ValueError),
        ("kernel_y", np.ones((2, 2)), ValueError),
        ("kernel_x", np.ones(0), ValueError),
        ("kernel_y", np.array([1.0, np.nan, 1.0]), ValueError),
        ("kernel_x", np.array([np.inf]), ValueError),
        ("kernel_y", np.ones(3, np.complex64), TypeError),
        ("kernel_x", np.ones((1, 3, 1)), ValueError),
    ],
)
def test_sep_filter2d_bad_kernels(which, kernel, exc):
    with pytest.raises(exc, match=rf"sep_filter2d: {which}"):
        bad_call("sep_filter2d", GOOD, **{which: kernel})


@pytest.mark.parametrize("name", ["filter2d", "sep_filter2d", "box_filter"])
def test_bad_anchor(name):
    for anchor in [(3, 0), (0, 3), (7, 7), (-2, 0), (1, 1, 1)]:
        with pytest.raises(ValueError, match=rf"{name}: anchor"):
            bad_call(name, GOOD, anchor=anchor)
    for anchor in [(0.5, 1), "a"]:
        with pytest.raises(TypeError, match=rf"{name}: anchor"):
            bad_call(name, GOOD, anchor=anchor)


@pytest.mark.parametrize("name", ["filter2d", "sep_filter2d", "box_filter"])
def test_bad_output_dtype(name):
    for dtype in ("int32", "bool", "complex64", "int8", np.uint32):
        with pytest.raises(TypeError, match=rf"{name}: dtype"):
            bad_call(name, GOOD, dtype=dtype)
    with pytest.raises(TypeError, match=rf"{name}: dtype"):
        bad_call(name, GOOD, dtype="not-a-dtype")


@pytest.mark.parametrize("name", ["filter2d", "sep_filter2d"])
def test_bad_delta(name):
    with pytest.raises(TypeError, match=rf"{name}: delta"):
        bad_call(name, GOOD, delta="1")


@pytest.mark.parametrize(
    "ksize, exc",
    [
        (0, ValueError),
        (-3, ValueError),
        ((3, 0), ValueError),
        ((-1, 3), ValueError),
        ((1, 2, 3), ValueError),
        (2.5, TypeError),
        ("3", TypeError),
        (None, TypeError),
    ],
)
def test_box_filter_bad_ksize(ksize, exc):
    with pytest.raises(exc, match=r"box_filter: ksize"):
        foveal.box_filter(GOOD, ksize)


@pytest.mark.parametrize(
    "ksize, sigma, exc, arg",
    [
        (2, 1.0, ValueError, "ksize"),  # even
        ((3, 4), 1.0, ValueError, "ksize"),
        (-3, 1.0, ValueError, "ksize"),
        ((5, -1), 1.0, ValueError, "ksize"),
        (0, 0.0, ValueError, "(ksize|sigma)"),  # nothing to derive the size from
        (0, -1.0, ValueError, "(ksize|sigma)"),
        (2.5, 1.0, TypeError, "ksize"),
        ((1, 2, 3), 1.0, ValueError, "ksize"),
        (3, float("nan"), ValueError, "sigma"),
        (0, float("inf"), ValueError, "sigma"),  # no size to derive
        (3, "1", TypeError, "sigma"),
        (3, None, TypeError, "sigma"),
    ],
)
def test_gaussian_blur_bad_arguments(ksize, sigma, exc, arg):
    with pytest.raises(exc, match=rf"gaussian_blur: {arg}"):
        foveal.gaussian_blur(GOOD, ksize, sigma)


def test_gaussian_blur_bad_sigma_y():
    with pytest.raises(ValueError, match=r"gaussian_blur: sigma_y"):
        foveal.gaussian_blur(GOOD, 3, 1.0, sigma_y=float("nan"))
    with pytest.raises(TypeError, match=r"gaussian_blur: sigma_y"):
        foveal.gaussian_blur(GOOD, 3, 1.0, sigma_y="2")


def test_keyword_only_arguments():
    with pytest.raises(TypeError):
        foveal.filter2d(GOOD, np.ones((3, 3)), (1, 1))  # anchor is keyword-only
    with pytest.raises(TypeError):
        foveal.box_filter(GOOD, 3, False)  # normalize is keyword-only
    with pytest.raises(TypeError):
        foveal.gaussian_blur(GOOD, 3, 1.0, 1.0)  # sigma_y is keyword-only


def test_failed_call_leaves_out_untouched():
    out = np.full(GOOD.shape, 7, np.uint8)
    with pytest.raises(ValueError):
        foveal.filter2d(GOOD, np.array([[np.nan]]), out=out)
    with pytest.raises(ValueError):
        foveal.gaussian_blur(GOOD, 4, 1.0, out=out)
    assert (out == 7).all()


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

try:
    import hypothesis
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    hypothesis = None


def _image(draw):
    dtype = draw(st.sampled_from(IMAGE_DTYPES))
    h, w = draw(st.integers(1, 20)), draw(st.integers(1, 40))
    channels = draw(st.sampled_from([None, 1, 3]))
    shape = (h, w) if channels is None else (h, w, channels)
    seed = draw(st.integers(0, 2**32 - 1))
    return random_image(np.random.default_rng(seed), shape, dtype), seed


def _filter_case(draw):
    img, seed = _image(draw)
    rng = np.random.default_rng(seed + 1)
    kh, kw = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    kind = draw(st.sampled_from(["float", "int", "dyadic"]))
    anchor = draw(st.one_of(st.none(), st.tuples(st.integers(0, kh - 1), st.integers(0, kw - 1))))
    return dict(
        img=img,
        kernel=random_kernel(rng, (kh, kw), kind),
        anchor=anchor,
        delta=draw(st.sampled_from([0.0, 1.0, -2.5])),
        border=draw(st.sampled_from(ALL_FILTER_BORDERS)),
        border_value=draw(st.sampled_from([0, 3])),
        dtype=draw(st.sampled_from((None,) + IMAGE_DTYPES)),
    )


def _box_case(draw):
    img, _ = _image(draw)
    kh, kw = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    anchor = draw(st.one_of(st.none(), st.tuples(st.integers(0, kh - 1), st.integers(0, kw - 1))))
    return dict(
        img=img,
        ksize=(kh, kw),
        normalize=draw(st.booleans()),
        anchor=anchor,
        border=draw(st.sampled_from(ALL_FILTER_BORDERS)),
        dtype=draw(st.sampled_from((None,) + IMAGE_DTYPES)),
    )


def _gauss_case(draw):
    img, _ = _image(draw)
    kh = draw(st.sampled_from([0, 1, 3, 5, 7, 9, 11]))
    kw = draw(st.sampled_from([0, 1, 3, 5, 7, 9, 11]))
    sigma = draw(st.sampled_from([0.0, 0.5, 1.0, 1.7, 2.5]))
    if sigma <= 0 and 0 in (kh, kw):
        sigma = 1.0
    return dict(
        img=img,
        ksize=(kh, kw),
        sigma=sigma,
        sigma_y=draw(st.sampled_from([None, 0.0, 0.8, 2.0])),
        border=draw(st.sampled_from(ALL_FILTER_BORDERS)),
    )


def _property_filter2d(case):
    case = dict(case)
    check_filter2d(case.pop("img"), case.pop("kernel"), **case)


def _property_sep_filter2d(case):
    case = dict(case)
    k = case.pop("kernel")
    check_sep(case.pop("img"), k[0], k[:, 0], **case)


def _property_box_filter(case):
    case = dict(case)
    check_box(case.pop("img"), case.pop("ksize"), **case)


def _property_gaussian_blur(case):
    case = dict(case)
    img, ksize, sigma = case.pop("img"), case.pop("ksize"), case.pop("sigma")
    check_gauss(img, ksize, sigma, **case)


if hypothesis is not None:
    test_property_filter2d = hypothesis.given(case=st.composite(_filter_case)())(_property_filter2d)
    test_property_sep_filter2d = hypothesis.given(case=st.composite(_filter_case)())(
        _property_sep_filter2d
    )
    test_property_box_filter = hypothesis.given(case=st.composite(_box_case)())(
        _property_box_filter
    )
    test_property_gaussian_blur = hypothesis.given(case=st.composite(_gauss_case)())(
        _property_gaussian_blur
    )
else:  # pragma: no cover

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_property_tests_need_hypothesis():
        pass


def test_box_filter_nonfinite_and_large_float64():
    """NaN and inf stay in the windows that hold them (running sums never recover from them, so
    such images are summed window by window), and a normalized float64 result large enough for
    streaming stores is still divided by the area."""
    img = np.ones((40, 30), np.float32)
    img[5, 5], img[20, 10], img[30, 20] = np.nan, np.inf, -np.inf
    for normalize in (True, False):
        got = foveal.box_filter(img, 3, normalize=normalize)
        want = ref.box_filter(img, 3, normalize=normalize)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert np.isnan(got).sum() == 9
    big = np.ones((1100, 1000))  # 8.8 MB of float64 output
    np.testing.assert_array_equal(foveal.box_filter(big, 3), big)

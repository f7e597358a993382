"""The CuPy fallbacks of the filters, gradients, corners and frequency families
(``foveal._cupy.filters``, ``.corners``, ``.frequency``), run on the CPU with NumPy standing in
for CuPy and scipy.ndimage for cupyx.scipy.ndimage.

Each fallback is compared with the float64 NumPy reference (``foveal.reference``, or a float64
computation written here where the reference has no such function) and with OpenCV, the
semantic anchor. cv2 refuses BORDER_WRAP and takes no border value for most filters: for those
cases the image is padded here (np.pad mode "wrap" / a constant) and cv2 runs on the padded
image, whose border then never matters, and the result is cropped.

Tolerances (the spec's, with the float32 bound made explicit). ``scale`` below is the largest
value that the sums can reach, max|src| * sum|kernel| (times |scale|, plus |delta|).

- float outputs: |got - ref64| <= rtol * max(1, scale), rtol 1e-5 where the arithmetic is
  float32 and 1e-12 where it is float64 (cupyx computes float32 data in float32; scipy, in this
  test, in float64, so the float32 bound is what the GPU needs);
- integer outputs: equal to the rounded reference, except a difference of exactly 1 where the
  float64 reference lies within max(1e-3, 4 * eps(work) * scale) of a .5 tie (float32 sums of
  uint16 / int16 values can be 1e-2 off, so the spec's flat 1e-3 is too tight for them);
- exact where the spec promises it: integer images with integer kernels and sums below 2**24
  (Sobel, Scharr, the derivatives of Canny), integer box filters, Canny's edge map (bit for
  bit against cv2), corner selection from a given response (point for point against cv2);
- gradient: magnitude 1e-6 relative for integer images (exact derivatives) and 1e-5 of the
  scale for float images; angle 1e-5 rad from the exact atan2 (1e-4 degree), circularly,
  where the gradient is not below the float32 noise; cv2.cartToPolar within 0.01 rad;
- Harris / min-eigenvalue: 1e-5 (float32) or 1e-12 (float64) of max(|a c| + b^2 +
  k (a + c)^2), the size of the terms that cancel;
- spectrum: 1e-5 (float32) / 1e-12 (float64) of max(1, max|ref|); bandpass: the same of
  max(1, max|image|) (a high-pass output can be far smaller than the image whose FFT error it
  carries).
"""

from __future__ import annotations

import contextlib
import itertools
import math

import foveal
import numpy as np
import pytest
from conftest import (
    CV2_DEPTHS,
    CV2_FILTER_BORDERS,
    FILTER_BORDERS,
    IMAGE_DTYPES,
    cv2_border,
    random_image,
)
from foveal._cupy import corners as cu_corners
from foveal._cupy import filters as cu_filters
from foveal._cupy import frequency as cu_freq
from foveal.reference import border as ref_border
from foveal.reference import filters as ref_filters
from foveal.reference import gradients as ref_gradients

DTYPES = IMAGE_DTYPES
BORDERS = FILTER_BORDERS
SHAPES = ((13, 27), (9, 11, 3))
EPS = {np.dtype(np.float32): 2.0**-23, np.dtype(np.float64): 2.0**-52}


@pytest.fixture
def ndi():
    return pytest.importorskip("scipy.ndimage")


@contextlib.contextmanager
def without_ipp(cv2):
    """cv2 with its Intel IPP paths off. IPP's cornerHarris (taken for 8U / 32F images, ksize
    3 or 5, constant or replicate borders) centres an even block one pixel up and left of
    OpenCV's own code (anchor (bs - 1) // 2 instead of bs // 2); the spec follows OpenCV's
    own code, which every other case takes."""
    ipp = getattr(cv2, "ipp", None)
    was = ipp.useIPP() if ipp is not None else False
    if ipp is not None:
        ipp.setUseIPP(False)
    try:
        yield
    finally:
        if ipp is not None:
            ipp.setUseIPP(was)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def work_of(*dtypes) -> np.dtype:
    return cu_filters.work_dtype(*dtypes)


def border_cases(border: str, channels: int):
    """(values for the fallback, border_value for the reference): 0, and for constant also
    a nonzero scalar and one value per channel (300 saturates for uint8)."""
    if border != "constant":
        return [([0.0], 0)]
    cases = [([0.0], 0), ([7.0], 7.0)]
    per = [-3.0, 5.0, 300.0][:channels] if channels > 1 else [-3.0]
    cases.append((per, np.asarray(per) if channels > 1 else per[0]))
    return cases


def check(got, ref64, dtype, scale, work, what=""):
    """``got`` (of ``dtype``) against the float64 ``ref64`` with the tolerances of the module
    docstring; ``scale`` bounds the sums' magnitude, ``work`` is the arithmetic's precision."""
    dtype = np.dtype(dtype)
    assert got.dtype == dtype, what
    assert got.shape == ref64.shape, what
    if dtype.kind == "f":
        rtol = 1e-12 if np.dtype(work) == np.float64 and dtype == np.float64 else 1e-5
        np.testing.assert_allclose(
            got.astype(np.float64), ref64, rtol=0, atol=rtol * max(1.0, scale), err_msg=what
        )
        return
    expected = ref_filters.cast(ref64, dtype).astype(np.int64)
    diff = got.astype(np.int64) - expected
    tie_tol = max(1e-3, 4 * EPS[np.dtype(work)] * scale)
    near_tie = np.abs(np.abs(ref64 - np.floor(ref64)) - 0.5) <= tie_tol
    bad = (diff != 0) & ~((np.abs(diff) == 1) & near_tie)
    assert not bad.any(), (
        f"{what}: {int(bad.sum())} pixels off, e.g. got {got[bad][:5]} expected "
        f"{expected[bad][:5]} (float64 {ref64[bad][:5]})"
    )


def max_abs(img) -> float:
    return float(np.abs(img.astype(np.float64)).max()) if img.size else 0.0


def cv2_depth(cv2, dtype):
    return getattr(cv2, CV2_DEPTHS[np.dtype(dtype).name])


def cv2_run(cv2, fn, img, reach, border, border_value=0):
    """``fn(src, borderType)`` on ``img`` with foveal's ``border``: directly where cv2 has it,
    else on the image padded by ``reach`` = (top, bottom, left, right) and cropped. cv2's
    constant border is 0 in these functions, so a nonzero value is padded too."""
    nonzero = np.any(np.asarray(border_value) != 0)
    if border in CV2_FILTER_BORDERS and not (border == "constant" and nonzero):
        return fn(img, cv2_border(cv2, border))
    top, bottom, left, right = reach
    value = ref_filters.cast(border_value, img.dtype) if border == "constant" else 0
    padded = ref_border.pad(img, top, bottom, left, right, border, value)
    res = fn(padded, cv2.BORDER_CONSTANT | cv2.BORDER_ISOLATED)
    h, w = img.shape[:2]
    return res[top : top + h, left : left + w]


def kernel_reach(kh, kw, anchor):
    ay, ax = anchor
    return ay, kh - 1 - ay, ax, kw - 1 - ax


def int_or_float_kernels(rng):
    """(kernel, anchor): float kernels, an integer one, rows and columns, odd anchors."""
    return [
        (rng.uniform(-1, 1, (3, 3)), (1, 1)),
        (rng.uniform(-0.5, 1, (5, 4)), (1, 3)),
        (rng.uniform(0, 0.3, (1, 7)), (0, 0)),
        (rng.uniform(-1, 1, (6, 1)), (5, 0)),
        (np.array([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]]), (2, 0)),
    ]


def out_dtypes(dtype):
    """The output dtypes tried for an input dtype: its own, float32, float64, and int16 for
    uint8 (OpenCV's usual ddepth)."""
    extra = ["int16"] if dtype == "uint8" else []
    return [dtype, "float32", "float64", *extra]


# --------------------------------------------------------------------------------------------
# filter2d, sep_filter2d
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_filter2d_matches_reference(ndi, rng, dtype, border):
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        for (kernel, anchor), (values, bv) in itertools.product(
            int_or_float_kernels(rng), border_cases(border, c)
        ):
            for out, delta in itertools.product(out_dtypes(dtype), (0.0, 3.5)):
                got = cu_filters.filter2d(np, ndi, img, kernel, anchor, delta, border, values, out)
                ref64 = ref_filters.correlate(img, kernel, anchor, border, bv) + delta
                scale = max_abs(img) * np.abs(kernel).sum() + abs(delta) + 300
                check(got, ref64, out, scale, work_of(dtype, out), f"{kernel.shape} {out}")


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_filter2d_matches_cv2(ndi, cv2, rng, dtype, border):
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        for (kernel, anchor), (values, bv) in itertools.product(
            int_or_float_kernels(rng), border_cases(border, c)
        ):
            for out in out_dtypes(dtype):
                kh, kw = kernel.shape

                def run(src, btype, kernel=kernel, anchor=anchor, out=out):
                    k32 = kernel.astype(np.float32)
                    return cv2.filter2D(
                        src, cv2_depth(cv2, out), k32, anchor=anchor[::-1], delta=1.25,
                        borderType=btype,
                    )  # fmt: skip

                try:
                    expected = cv2_run(cv2, run, img, kernel_reach(kh, kw, anchor), border, bv)
                except cv2.error:  # a depth pair cv2 does not support
                    continue
                expected = expected.reshape(img.shape)
                k32 = kernel.astype(np.float32)  # the kernel cv2 got
                got = cu_filters.filter2d(np, ndi, img, k32, anchor, 1.25, border, values, out)
                ref64 = ref_filters.correlate(img, k32, anchor, border, bv)
                ref64 = ref64 + 1.25
                scale = max_abs(img) * np.abs(kernel).sum() + 300
                work = work_of(dtype, out)
                check(expected, ref64, out, scale, work, f"cv2 {kernel.shape} {out}")
                check(got, ref64, out, scale, work, f"fallback {kernel.shape} {out}")
                if np.dtype(out).kind != "f":
                    assert np.abs(got.astype(np.int64) - expected.astype(np.int64)).max() <= 1


def sep_kernels(rng):
    return [
        (rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 3), (1, 2)),
        (np.array([1.0, 2, 1]), np.array([-1.0, 0, 1]), (1, 1)),
        (rng.uniform(0, 1, 1), rng.uniform(-1, 1, 6), (5, 0)),
        (rng.uniform(-1, 1, 4), np.ones(1), (0, 3)),
    ]


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sep_filter2d(ndi, rng, dtype, border):
    cv2 = None
    try:
        import cv2
    except ImportError:  # pragma: no cover - the cv2 comparison is optional here
        pass
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        for (kx, ky, anchor), (values, bv) in itertools.product(
            sep_kernels(rng), border_cases(border, c)
        ):
            scale = max_abs(img) * np.abs(kx).sum() * np.abs(ky).sum() + 2 + 300
            for out in out_dtypes(dtype):
                args = (anchor, -2.0, border, values, out)
                got = cu_filters.sep_filter2d(np, ndi, img, kx, ky, *args)
                ref64 = ref_filters.correlate_separable(img, kx, ky, anchor, border, bv) - 2.0
                work = work_of(dtype, out)
                check(got, ref64, out, scale, work, f"{kx.size}x{ky.size} {out}")
                # equal to filter2d with outer(ky, kx)
                both = cu_filters.filter2d(np, ndi, img, np.outer(ky, kx), *args)
                check(both, ref64, out, scale, work, "filter2d(outer)")
                if cv2 is None:
                    continue

                def run(src, btype, kx=kx, ky=ky, anchor=anchor, out=out):
                    return cv2.sepFilter2D(
                        src, cv2_depth(cv2, out), kx.astype(np.float32), ky.astype(np.float32),
                        anchor=anchor[::-1], delta=-2.0, borderType=btype,
                    )  # fmt: skip

                reach = kernel_reach(ky.size, kx.size, anchor)
                try:
                    expected = cv2_run(cv2, run, img, reach, border, bv).reshape(img.shape)
                except cv2.error:
                    continue
                ref32 = ref_filters.correlate_separable(
                    img, kx.astype(np.float32), ky.astype(np.float32), anchor, border, bv
                )
                check(expected, ref32 - 2.0, out, scale, work, f"cv2 {kx.size}x{ky.size} {out}")


def test_filters_small_images_far_reaching_borders(ndi, rng):
    """Images smaller than the kernel: the explicit padding extends them as OpenCV does (scipy's
    own modes would not for reflect)."""
    kernel = rng.uniform(-1, 1, (7, 9))
    for dtype, border, shape in itertools.product(
        DTYPES, BORDERS, [(1, 1), (2, 3), (1, 2, 3), (3, 1)]
    ):
        img = random_image(rng, shape, dtype)
        for anchor in [(3, 4), (0, 8), (6, 0)]:
            got = cu_filters.filter2d(np, ndi, img, kernel, anchor, 0.0, border, [4.0], dtype)
            ref64 = ref_filters.correlate(img, kernel, anchor, border, 4.0)
            scale = max(max_abs(img), 4) * np.abs(kernel).sum()
            check(got, ref64, dtype, scale, work_of(dtype), f"{shape} {border} {anchor}")
            got = cu_filters.sep_filter2d(
                np, ndi, img, kernel[0], kernel[:, 0], anchor, 0.0, border, [4.0], dtype
            )
            ref64 = ref_filters.correlate_separable(
                img, kernel[0], kernel[:, 0], anchor, border, 4.0
            )
            check(got, ref64, dtype, scale, work_of(dtype), f"sep {shape} {border} {anchor}")


def test_filters_do_not_mutate_and_keep_views(ndi, rng):
    img = random_image(rng, (20, 30, 3), "uint8")
    view = img[::-2, 1::2]
    before = view.copy()
    k = rng.uniform(-1, 1, (3, 3))
    got = cu_filters.filter2d(np, ndi, view, k, (1, 1), 0.0, "reflect101", [0.0], "float32")
    np.testing.assert_array_equal(view, before)
    ref64 = ref_filters.correlate(np.ascontiguousarray(view), k, (1, 1), "reflect101", 0)
    check(got, ref64, "float32", 255 * np.abs(k).sum(), np.float32)


# --------------------------------------------------------------------------------------------
# box_filter
# --------------------------------------------------------------------------------------------

BOXES = [((3, 3), (1, 1)), ((2, 5), (1, 4)), ((1, 1), (0, 0)), ((7, 1), (0, 0)), ((4, 4), (2, 2))]


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_box_filter_matches_reference(ndi, rng, dtype, border):
    """Integer images: exact sums, and round_half_even(sum / area) exactly."""
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        for (ksize, anchor), (values, bv), normalize in itertools.product(
            BOXES, border_cases(border, c), (True, False)
        ):
            area = ksize[0] * ksize[1]
            for out in out_dtypes(dtype):
                got = cu_filters.box_filter(
                    np, ndi, img, ksize, normalize, anchor, border, values, out
                )
                expected = ref_filters.box_filter(img, ksize, normalize, anchor, border, bv, out)
                what = f"{ksize} {anchor} {normalize} {out}"
                if np.dtype(dtype).kind != "f" and np.dtype(out).kind != "f":
                    np.testing.assert_array_equal(got, expected, err_msg=what)
                    continue
                ref64 = ref_filters.correlate_separable(
                    img, np.ones(ksize[1]), np.ones(ksize[0]), anchor, border, bv
                )
                if normalize:
                    ref64 = ref64 / area
                scale = (max_abs(img) + 300) * (1 if normalize else area)
                check(got, ref64, out, scale, work_of(dtype, out), what)


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_box_filter_matches_cv2(ndi, cv2, rng, dtype, border):
    """cv2's normalized integer box filter uses fixed point: within 1 of the exact rounding
    (which the fallback gives exactly)."""
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        for (ksize, anchor), normalize in itertools.product(BOXES, (True, False)):
            area = ksize[0] * ksize[1]
            for out in out_dtypes(dtype):

                def run(src, btype, ksize=ksize, anchor=anchor, normalize=normalize, out=out):
                    return cv2.boxFilter(
                        src, cv2_depth(cv2, out), ksize[::-1], anchor=anchor[::-1],
                        normalize=normalize, borderType=btype,
                    )  # fmt: skip

                reach = kernel_reach(*ksize, anchor)
                try:
                    expected = cv2_run(cv2, run, img, reach, border).reshape(img.shape)
                except cv2.error:
                    continue
                got = cu_filters.box_filter(
                    np, ndi, img, ksize, normalize, anchor, border, [0.0], out
                )
                what = f"{ksize} {anchor} {normalize} {out}"
                if np.dtype(out).kind == "f":
                    ref64 = ref_filters.correlate_separable(
                        img, np.ones(ksize[1]), np.ones(ksize[0]), anchor, border, 0
                    )
                    ref64 = ref64 / area if normalize else ref64
                    scale = max_abs(img) * (1 if normalize else area)
                    work = work_of(dtype, out)
                    check(expected, ref64, out, scale, work, "cv2 " + what)
                    check(got, ref64, out, scale, work, what)
                else:
                    diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
                    assert diff.max() <= (1 if normalize else 0), what


# --------------------------------------------------------------------------------------------
# gaussian_blur
# --------------------------------------------------------------------------------------------

GAUSSIANS = [
    ((3, 3), 0.0, None),
    ((5, 7), 1.3, 0.8),
    ((0, 0), 1.1, None),
    ((1, 9), 0.0, None),
    ((7, 5), 0.0, 0.0),
    ((0, 3), 0.9, 1.7),
]


def gaussian_kernels(ksize, sigma, sigma_y, dtype):
    kh, kw = ksize
    sy = sigma if sigma_y is None or sigma_y <= 0 else sigma_y
    kw = kw if kw > 0 else ref_filters.gaussian_ksize(sigma, dtype)
    kh = kh if kh > 0 else ref_filters.gaussian_ksize(sy, dtype)
    return ref_filters.gaussian_kernel(kw, max(sigma, 0)), ref_filters.gaussian_kernel(kh, sy)


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_blur_matches_reference(ndi, rng, dtype, border):
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        for (ksize, sigma, sigma_y), (values, bv) in itertools.product(
            GAUSSIANS, border_cases(border, c)
        ):
            got = cu_filters.gaussian_blur(np, ndi, img, ksize, sigma, sigma_y, border, values)
            kx, ky = gaussian_kernels(ksize, sigma, sigma_y, img.dtype)
            ref64 = ref_filters.correlate_separable(img, kx, ky, None, border, bv)
            scale = max_abs(img) + 300
            check(got, ref64, dtype, scale, work_of(dtype), f"{ksize} {sigma} {sigma_y}")
            expected = ref_filters.gaussian_blur(img, ksize, sigma, sigma_y, border, bv)
            assert expected.dtype == got.dtype


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_blur_matches_cv2(ndi, cv2, rng, dtype, border):
    """Float images by :func:`check`. Integer images: cv2 uses fixed-point kernels for 8 and
    16 bits, up to 1.7 from the exact value (measured), so it is within 2 of the fallback (which
    :func:`test_gaussian_blur_matches_reference` holds to the exact rounding); int16 (float
    arithmetic in cv2) within 1."""
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        for ksize, sigma, sigma_y in GAUSSIANS:
            kx, ky = gaussian_kernels(ksize, sigma, sigma_y, img.dtype)
            reach = kernel_reach(ky.size, kx.size, (ky.size // 2, kx.size // 2))

            def run(src, btype, ksize=ksize, sigma=sigma, sigma_y=sigma_y):
                return cv2.GaussianBlur(
                    src, ksize[::-1], sigma, sigmaY=sigma_y or 0, borderType=btype
                )

            expected = cv2_run(cv2, run, img, reach, border).reshape(img.shape)
            got = cu_filters.gaussian_blur(np, ndi, img, ksize, sigma, sigma_y, border, [0.0])
            what = f"{ksize} {sigma} {sigma_y}"
            if img.dtype.kind == "f":
                ref64 = ref_filters.correlate_separable(img, kx, ky, None, border, 0)
                check(expected, ref64, dtype, max_abs(img), work_of(dtype), "cv2 " + what)
                check(got, ref64, dtype, max_abs(img), work_of(dtype), what)
            else:
                diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
                assert diff.max() <= (1 if dtype == "int16" else 2), what


# --------------------------------------------------------------------------------------------
# sobel, scharr, gradient
# --------------------------------------------------------------------------------------------

DERIVS = [
    (1, 0, 3),
    (0, 1, 3),
    (1, 1, 3),
    (2, 0, 5),
    (0, 2, 7),
    (3, 1, 5),
    (1, 0, 1),
    (0, 2, 1),
    (1, 1, 1),
    (1, 0, -1),
    (0, 1, -1),
]


def sobel_ref64(img, dx, dy, ksize, border, bv=0):
    kx, ky = ref_gradients.deriv_kernels(dx, dy, ksize)
    return ref_filters.correlate_separable(img, kx, ky, None, border, bv), kx, ky


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sobel_matches_reference(ndi, rng, dtype, border):
    """Exact for integer images with scale 1 and delta 0 while the sums stay below 2**24."""
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        outs = [None, "float64", *(["int16"] if dtype == "uint8" else [])]
        for (dx, dy, ksize), (values, bv) in itertools.product(DERIVS, border_cases(border, c)):
            acc, kx, ky = sobel_ref64(img, dx, dy, ksize, border, bv)
            reach = (max_abs(img) + 300) * np.abs(kx).sum() * np.abs(ky).sum()
            for out, (sc, delta) in itertools.product(outs, [(1.0, 0.0), (0.37, -5.5)]):
                got = cu_filters.sobel(np, ndi, img, dx, dy, ksize, sc, delta, border, values, out)
                dt = cu_filters.sobel_dtype(img.dtype, out)
                ref64 = acc * sc + delta
                what = f"{dx} {dy} {ksize} {out} {sc}"
                if img.dtype.kind != "f" and sc == 1 and reach < 2**24:
                    np.testing.assert_array_equal(got, ref_filters.cast(ref64, dt), err_msg=what)
                else:
                    check(got, ref64, dt, reach * sc + abs(delta), work_of(dtype, dt), what)
                if ksize == -1:
                    again = cu_filters.scharr(np, ndi, img, dx, dy, sc, delta, border, values, out)
                    np.testing.assert_array_equal(again, got)


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sobel_matches_cv2(ndi, cv2, rng, dtype, border):
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        outs = [None, "float64", *(["int16"] if dtype == "uint8" else [])]
        for (dx, dy, ksize), out in itertools.product(DERIVS, outs):
            dt = cu_filters.sobel_dtype(img.dtype, out)
            acc, kx, ky = sobel_ref64(img, dx, dy, ksize, border)
            r = max(kx.size, ky.size) // 2
            for sc, delta in [(1.0, 0.0), (0.25, 2.0)]:

                def run(src, btype, dx=dx, dy=dy, ksize=ksize, dt=dt, sc=sc, delta=delta):
                    return cv2.Sobel(
                        src, cv2_depth(cv2, dt), dx, dy, ksize=ksize, scale=sc, delta=delta,
                        borderType=btype,
                    )  # fmt: skip

                try:
                    expected = cv2_run(cv2, run, img, (r, r, r, r), border).reshape(img.shape)
                except cv2.error:
                    continue
                got = cu_filters.sobel(np, ndi, img, dx, dy, ksize, sc, delta, border, [0.0], out)
                scale = max_abs(img) * np.abs(kx).sum() * np.abs(ky).sum() * sc + abs(delta)
                work = work_of(dtype, dt)
                what = f"{dx} {dy} {ksize} {dt} {sc}"
                check(expected, acc * sc + delta, dt, scale, work, "cv2 " + what)
                check(got, acc * sc + delta, dt, scale, work, what)


def circular_diff(a, b, period):
    d = np.mod(a - b, period)
    return np.minimum(d, period - d)


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient(ndi, rng, dtype, border):
    cv2 = None
    try:
        import cv2
    except ImportError:  # pragma: no cover - the cv2 comparison is optional here
        pass
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        for ksize, degrees, (values, bv) in itertools.product(
            (3, 5, 1, -1), (False, True), border_cases(border, c)
        ):
            mag, ang = cu_filters.gradient(np, ndi, img, ksize, degrees, border, values)
            dt = np.dtype(np.float64 if dtype == "float64" else np.float32)
            assert mag.dtype == dt and ang.dtype == dt
            assert mag.shape == img.shape and ang.shape == img.shape
            gx, kx, ky = sobel_ref64(img, 1, 0, ksize, border, bv)
            gy = sobel_ref64(img, 0, 1, ksize, border, bv)[0]
            mag64 = np.hypot(gx, gy)
            scale = (max_abs(img) + 300) * np.abs(kx).sum() * np.abs(ky).sum()
            exact = img.dtype.kind != "f"
            if dt == np.float64:
                atol = 1e-12 * max(1.0, scale)
            else:
                atol = 1e-6 * max(1.0, mag64.max()) if exact else 1e-5 * max(1.0, scale)
            np.testing.assert_allclose(mag, mag64, rtol=1e-6, atol=atol)
            period = 360.0 if degrees else 2 * np.pi
            ang64 = np.mod(np.arctan2(gy, gx), 2 * np.pi)
            ang64 = np.degrees(ang64) if degrees else ang64
            assert (ang >= 0).all() and (ang < period).all()
            assert (ang[(gx == 0) & (gy == 0)] == 0).all() if exact else True
            tol = 1e-4 if degrees else 1e-5
            trusted = (mag64 > 1e-3 * scale) | exact  # float input: skip noise-level gradients
            diff = circular_diff(ang.astype(np.float64), ang64, period)
            assert diff[trusted].max(initial=0) <= tol, f"{ksize} {degrees}"
            ref_mag, ref_ang = ref_gradients.gradient(img, ksize, degrees, border, bv)
            np.testing.assert_allclose(mag, ref_mag, rtol=1e-6, atol=atol)
            assert circular_diff(ang, ref_ang, period)[trusted].max(initial=0) <= tol
            if cv2 is None or dtype == "float64":
                continue
            cx, cy = gx.astype(np.float32), gy.astype(np.float32)
            cmag, cang = cv2.cartToPolar(cx, cy, angleInDegrees=degrees)
            cang = cang.reshape(ang.shape)
            np.testing.assert_allclose(mag, cmag.reshape(mag.shape), rtol=1e-6, atol=atol)
            ctol = np.degrees(0.01) if degrees else 0.01
            diff = circular_diff(ang.astype(np.float64), cang.astype(np.float64), period)
            assert diff[trusted].max(initial=0) <= ctol


def test_gradient_angle_stays_below_the_period(ndi):
    """A tiny negative angle plus 2 pi rounds to 2 pi in float32: kept just below."""
    img = np.zeros((3, 3), np.float32)
    img[2, :] = 1e-7  # gy > 0 tiny ...
    img[:, 0] = 1.0  # ... and gx < 0 large: atan2 just below pi; flip the sign of gy:
    img = img[::-1].copy()
    for degrees in (False, True):
        _, ang = cu_filters.gradient(np, ndi, img, 3, degrees, "reflect101", [0.0])
        assert (ang >= 0).all() and (ang < (360.0 if degrees else 2 * np.pi)).all()
    gx = np.array([[1.0, -1.0, 0.0, 0.0]], np.float32)
    gy = np.array([[-1e-30, -1e-30, -0.0, 0.0]], np.float32)
    for degrees, period in ((False, np.float32(2 * np.pi)), (True, np.float32(360))):
        _, ang = cu_filters.polar(np, gx, gy, degrees)
        assert ang[0, 0] == np.nextafter(period, np.float32(0))
        assert ang[0, 2] == 0 and ang[0, 3] == 0


# --------------------------------------------------------------------------------------------
# canny
# --------------------------------------------------------------------------------------------


def canny_images(rng, cv2):
    out = []
    for shape in [(31, 45), (17, 23, 3), (64, 64), (40, 29, 3), (5, 7)]:
        noisy = rng.integers(0, 256, shape, dtype=np.uint8)
        out.append(noisy)
        out.append(cv2.GaussianBlur(noisy, (7, 7), 2.0))
    blocks = np.zeros((48, 60), np.uint8)
    blocks[10:30, 12:40] = 200
    blocks[20:44, 30:55] = 90
    yy, xx = np.mgrid[:48, :60]
    blocks[(yy - 30) ** 2 + (xx - 15) ** 2 < 80] = 160
    out.append(blocks)
    out.append(np.dstack([blocks, blocks[::-1], blocks[:, ::-1]]))
    out.append(np.full((9, 9), 77, np.uint8))
    return out


@pytest.mark.parametrize("ksize", (3, 5, 7))
@pytest.mark.parametrize("l2gradient", (False, True))
def test_canny_matches_cv2_bit_for_bit(ndi, cv2, rng, ksize, l2gradient):
    gain = {3: 1, 5: 4, 7: 16}[ksize]
    for img in canny_images(rng, cv2):
        for low, high in [(20, 60), (100, 50), (0.5, 10.7), (150, 400), (0, 0)]:
            low, high = low * gain, high * gain
            expected = cv2.Canny(img, low, high, apertureSize=ksize, L2gradient=l2gradient)
            got = cu_filters.canny(np, ndi, img, low, high, ksize, l2gradient)
            assert got.dtype == np.uint8 and got.shape == img.shape[:2]
            np.testing.assert_array_equal(got, expected, err_msg=f"{img.shape} {low} {high}")


def test_canny_random_sweep(ndi, cv2, rng, thorough):
    for _ in range(400 if thorough else 60):
        h, w = rng.integers(3, 50, 2)
        shape = (h, w) if rng.random() < 0.5 else (h, w, int(rng.integers(2, 5)))
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        if rng.random() < 0.5:
            img = cv2.GaussianBlur(img, (5, 5), 1.2)
        ksize = int(rng.choice([3, 5, 7]))
        l2 = bool(rng.random() < 0.5)
        low, high = rng.uniform(0, 300, 2) * {3: 1, 5: 4, 7: 16}[ksize]
        expected = cv2.Canny(img, low, high, apertureSize=ksize, L2gradient=l2)
        got = cu_filters.canny(np, ndi, img, low, high, ksize, l2)
        np.testing.assert_array_equal(got, expected, err_msg=f"{shape} {ksize} {l2} {low} {high}")


def test_canny_hysteresis_follows_weak_chains(ndi):
    """A weak edge 8-connected to a strong one is kept; an isolated weak edge is not."""
    img = np.zeros((20, 30), np.uint8)
    img[:, 10:] = 100  # a strong vertical step (|dx| = 400)
    img[10:, 10:] = 130  # a weak horizontal step (|dy| = 120) that touches it
    img[15:, :5] = 30  # a weak step on its own
    got = cu_filters.canny(np, ndi, img, 60, 300, 3, False) != 0
    assert got[:, 9:11].any(axis=1).all()  # the strong edge, top to bottom
    assert got[9, 11:].all()  # the weak edge along its whole length
    assert not got[:, :8].any()  # the isolated weak edge is dropped
    assert not cu_filters.canny(np, ndi, img, 60, 1000, 3, False).any()  # nothing strong


# --------------------------------------------------------------------------------------------
# harris, min_eigen, corners
# --------------------------------------------------------------------------------------------


def tensor_ref64(img, block_size, ksize, border):
    """float64 (a, b, c) by the spec's recipe."""
    scale = 2.0 ** ((ksize if ksize > 0 else 3) - 1) * block_size
    scale *= 2.0 if ksize < 0 else 1.0
    scale *= 255.0 if img.dtype == np.uint8 else 1.0
    gx = sobel_ref64(img, 1, 0, ksize, border)[0] / scale
    gy = sobel_ref64(img, 0, 1, ksize, border)[0] / scale
    ones = np.ones(block_size)
    anchor = (block_size // 2, block_size // 2)

    def box(v):
        return ref_filters.correlate_separable(v, ones, ones, anchor, border, 0)

    return box(gx * gx), box(gx * gy), box(gy * gy)


def corner_images(rng, dtype, shape=(23, 31)):
    img = random_image(rng, shape, dtype).astype(np.float64)
    if dtype != "float64" and dtype != "float32":
        info = np.iinfo(dtype)
        lo, hi = info.min, info.max
    else:
        lo, hi = -300.0, 300.0
    blocks = np.full(shape, lo + (hi - lo) * 0.2)
    blocks[4:15, 6:20] = lo + (hi - lo) * 0.9
    blocks[9:20, 14:28] = lo + (hi - lo) * 0.5
    return [random_image(rng, shape, dtype), blocks.astype(dtype), img[::-1].astype(dtype)]


CORNER_CASES = [(2, 3), (3, 3), (5, 5), (3, 1), (2, -1), (4, 7)]


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_harris_min_eigen_match_reference(ndi, rng, dtype, border):
    work = work_of(dtype)
    rtol = 1e-12 if work == np.float64 else 1e-5
    for img in corner_images(rng, dtype):
        for block_size, ksize in CORNER_CASES:
            a, b, c = tensor_ref64(img, block_size, ksize, border)
            for k in (0.04, 0.15):
                got = cu_corners.harris(np, ndi, img, block_size, ksize, k, border)
                assert got.dtype == work and got.shape == img.shape
                ref64 = a * c - b * b - k * (a + c) ** 2
                size = np.max(np.abs(a * c) + b * b + k * (a + c) ** 2)
                np.testing.assert_allclose(got, ref64, rtol=0, atol=rtol * size)
            got = cu_corners.min_eigen(np, ndi, img, block_size, ksize, border)
            assert got.dtype == work and got.shape == img.shape
            ref64 = (a + c) / 2 - np.sqrt(((a - c) / 2) ** 2 + b * b)
            size = np.max(np.abs(a) + np.abs(c) + np.abs(b))
            np.testing.assert_allclose(got, ref64, rtol=0, atol=rtol * size)


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", ("uint8", "float32"))  # the dtypes cv2 accepts
def test_harris_min_eigen_match_cv2(ndi, cv2, rng, dtype, border):
    for img in corner_images(rng, dtype):
        for block_size, ksize in CORNER_CASES:
            a, b, c = tensor_ref64(img, block_size, ksize, border)
            r = max(abs(ksize) // 2, 1) + block_size  # the derivative's reach, then the box's
            reach = (r, r, r, r)
            for k in (0.04, 0.15):

                def run(src, btype, block_size=block_size, ksize=ksize, k=k):
                    return cv2.cornerHarris(src, block_size, ksize, k, borderType=btype)

                with without_ipp(cv2):
                    expected = cv2_run(cv2, run, img, reach, border)
                got = cu_corners.harris(np, ndi, img, block_size, ksize, k, border)
                size = np.max(np.abs(a * c) + b * b + k * (a + c) ** 2)
                np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * size)

            def run_eig(src, btype, block_size=block_size, ksize=ksize):
                return cv2.cornerMinEigenVal(src, block_size, ksize=ksize, borderType=btype)

            expected = cv2_run(cv2, run_eig, img, reach, border)
            got = cu_corners.min_eigen(np, ndi, img, block_size, ksize, border)
            size = np.max(np.abs(a) + np.abs(c) + np.abs(b))
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * size)


def cv2_corners(cv2, img, max_corners, quality, min_distance, block, ksize, harris, k, mask):
    pts = cv2.goodFeaturesToTrack(
        img, max_corners, quality, min_distance, mask=mask, blockSize=block,
        gradientSize=ksize, useHarrisDetector=harris, k=k,
    )  # fmt: skip
    return np.zeros((0, 2), np.float32) if pts is None else pts.reshape(-1, 2)


def feature_images(rng, cv2, ties=True):
    """Blurred noise; with ``ties`` also checkerboards (many exactly equal responses), a
    constant image and one too small to have inner pixels."""
    out = []
    for shape in [(40, 50), (33, 61), (64, 48)]:
        noisy = rng.integers(0, 256, shape, dtype=np.uint8)
        out.append(cv2.GaussianBlur(noisy, (5, 5), 1.5))
        if ties:
            checker = ((np.indices(shape) // 7).sum(axis=0) % 2 * 180 + 30).astype(np.uint8)
            out.append(checker)
    out.append(np.full((12, 12), 9, np.uint8))
    out.append(rng.integers(0, 256, (2, 5), dtype=np.uint8))
    return out


SELECTIONS = [
    (0, 0.01, 10.0),
    (25, 0.01, 3.0),
    (100, 0.05, 0.0),
    (7, 0.001, 1.0),
    (0, 0.1, 2.4),
    (50, 0.02, 5.6),
]


@pytest.mark.parametrize("harris", (False, True))
def test_corner_selection_matches_cv2_on_cv2_response(cv2, rng, harris):
    """select() given cv2's own response equals cv2.goodFeaturesToTrack point for point."""
    for img in feature_images(rng, cv2):
        for (block, ksize), (n, quality, dist) in itertools.product(
            [(3, 3), (5, 5), (2, 3)], SELECTIONS
        ):
            k = 0.04
            for mask in (None, (rng.random(img.shape) < 0.7).astype(np.uint8)):
                if harris:
                    resp = cv2.cornerHarris(img, block, ksize, k)
                else:
                    resp = cv2.cornerMinEigenVal(img, block, ksize=ksize)
                got = cu_corners.select(resp, n, quality, dist, mask)
                expected = cv2_corners(cv2, img, n, quality, dist, block, ksize, harris, k, mask)
                assert got.dtype == np.float32 and got.shape[1:] == (2,)
                np.testing.assert_array_equal(got, expected, err_msg=f"{block} {n} {dist}")


@pytest.mark.parametrize("harris", (False, True))
def test_corners_match_cv2(ndi, cv2, rng, harris):
    """The whole path, on images without exactly tied responses: where cv2's float32 responses
    tie exactly (a checkerboard), the fallback's, summed in another order, may not, and the
    order of the tied corners, hence the greedy choice, can differ. The selection itself is
    checked on ties above, from cv2's own response."""
    for img in feature_images(rng, cv2, ties=False):
        for n, quality, dist in SELECTIONS:
            method = "harris" if harris else "shi-tomasi"
            got = cu_corners.corners(np, ndi, img, n, quality, dist, 3, 3, method, 0.04)
            expected = cv2_corners(cv2, img, n, quality, dist, 3, 3, harris, 0.04, None)
            np.testing.assert_array_equal(got, expected, err_msg=f"{img.shape} {n} {dist}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_corners_match_reference(ndi, rng, dtype):
    import importlib

    ref_corners = importlib.import_module("foveal.reference.corners")

    for shape in [(40, 50), (33, 61)]:
        noisy = random_image(rng, shape, dtype).astype(np.float64)
        img = ndi.uniform_filter(noisy, 5).astype(dtype)
        for (n, quality, dist), method in itertools.product(SELECTIONS, ("shi-tomasi", "harris")):
            mask = (rng.random(shape) < 0.8).astype(np.uint8)
            args = (n, quality, dist, 3, 3, method, 0.04, mask)
            got = cu_corners.corners(np, ndi, img, *args)
            expected = ref_corners.corners(
                img, n, quality, dist, block_size=3, ksize=3, method=method, k=0.04, mask=mask
            )
            # The reference repeats cv2's float32 rounding for uint8 and float32 images; this
            # fallback's float64 response may order near-equal corners differently.
            if len(got) and len(expected):
                a, b = got.astype(np.float64), expected.astype(np.float64)
                d = np.abs(a[:, None, :] - b[None, :, :]).max(axis=2).min(axis=1)
                assert (d <= 2).mean() >= 0.8, f"{shape} {n} {dist} {method}"


def test_corner_selection_edges():
    resp = np.zeros((5, 5), np.float32)
    assert cu_corners.select(resp, 10, 0.01, 1.0).shape == (0, 2)
    resp[2, 2] = 1.0
    resp[0, 0] = 5.0  # outermost rows / columns are never corners
    np.testing.assert_array_equal(cu_corners.select(resp, 0, 0.01, 1.0), [[2, 2]])
    # ties: the later position first
    resp = np.zeros((6, 6), np.float32)
    resp[1, 1] = resp[3, 4] = 2.0
    np.testing.assert_array_equal(cu_corners.select(resp, 0, 0.5, 0.0), [[4, 3], [1, 1]])
    assert cu_corners.select(np.ones((2, 2), np.float32), 5, 0.1, 1.0).shape == (0, 2)


# --------------------------------------------------------------------------------------------
# spectrum, bandpass
# --------------------------------------------------------------------------------------------

FREQ_SHAPES = [(1, 1), (1, 6), (5, 1), (2, 2), (13, 27), (16, 10), (9, 12, 3), (8, 7, 2)]


def spectrum_ref64(img):
    f = np.fft.fft2(img.astype(np.float64), axes=(0, 1))
    return np.fft.fftshift(np.log1p(np.abs(f)), axes=(0, 1))


def bandpass_ref64(img, low, high, kind, order):
    """The plain route: full fft2, fftshift, a meshgrid mask, ifftshift, ifft2, real part."""
    h, w = img.shape[:2]
    f = np.fft.fftshift(np.fft.fft2(img.astype(np.float64), axes=(0, 1)), axes=(0, 1))
    ky = np.fft.fftshift(np.fft.fftfreq(h) * h)
    kx = np.fft.fftshift(np.fft.fftfreq(w) * w)
    kyy, kxx = np.meshgrid(ky, kx, indexing="ij")
    r = np.hypot(kyy, kxx)
    if kind == "ideal":
        m = (r >= low) & ((r <= high) if high is not None else True)
        m = m.astype(np.float64)
    elif kind == "gaussian":
        lp = np.exp(-(r**2) / (2 * high**2)) if high is not None else 1.0
        hp = 1 - np.exp(-(r**2) / (2 * low**2)) if low > 0 else 1.0
        m = lp * hp * np.ones_like(r)
    else:
        lp = 1 / (1 + (r / high) ** (2 * order)) if high is not None else 1.0
        hp = 1 - 1 / (1 + (r / low) ** (2 * order)) if low > 0 else 1.0
        m = lp * hp * np.ones_like(r)
    if img.ndim == 3:
        m = m[:, :, None]
    g = np.fft.ifftshift(f * m, axes=(0, 1))
    return np.real(np.fft.ifft2(g, axes=(0, 1)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spectrum(rng, dtype):
    for shape in FREQ_SHAPES:
        img = random_image(rng, shape, dtype)
        got = cu_freq.spectrum(np, img)
        ref64 = spectrum_ref64(img)
        work = work_of(dtype)
        assert got.dtype == work and got.shape == img.shape
        rtol = 1e-12 if work == np.float64 else 1e-5
        np.testing.assert_allclose(got, ref64, rtol=0, atol=rtol * max(1.0, np.abs(ref64).max()))


BANDS = [
    (0, 4, "ideal", 2),
    (5, None, "ideal", 2),  # r = 5 exactly at (3, 4): kept
    (3, 6.5, "ideal", 2),
    (0, 3.0, "gaussian", 2),
    (2.5, None, "gaussian", 2),
    (1.5, 7.0, "gaussian", 2),
    (0, 4.0, "butterworth", 1),
    (2.0, None, "butterworth", 3.5),
    (1.0, 5.0, "butterworth", 2),
    (0, None, "ideal", 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_bandpass(rng, dtype):
    for shape, (low, high, kind, order) in itertools.product(FREQ_SHAPES, BANDS):
        img = random_image(rng, shape, dtype)
        got = cu_freq.bandpass(np, img, low, high, kind, order)
        ref64 = bandpass_ref64(img, low, high, kind, order)
        work = work_of(dtype)
        assert got.dtype == work and got.shape == img.shape
        rtol = 1e-12 if work == np.float64 else 1e-5
        np.testing.assert_allclose(
            got, ref64, rtol=0, atol=rtol * max(1.0, max_abs(img)), err_msg=f"{shape} {kind}"
        )


def test_bandpass_ideal_mask_boundaries():
    """The ideal mask keeps low <= r <= high, with r = hypot(ky, kx) on signed indices."""
    h, w = 16, 11
    m = cu_freq.transfer(np, h, w, 5, 5, "ideal", 2)
    ky = np.fft.fftfreq(h) * h
    kx = np.fft.rfftfreq(w) * w
    ys, xs = np.nonzero(m)
    np.testing.assert_array_equal(np.hypot(ky[ys], kx[xs]), 5.0)
    assert len(ys) == 7  # (ky, kx) = (0, 5), (+-3, 4), (+-4, 3), (+-5, 0): the half plane
    assert math.isclose(cu_freq.transfer(np, h, w, 2, None, "butterworth", 2)[0, 0], 0.0)
    assert cu_freq.transfer(np, h, w, 0, None, "gaussian", 2).min() == 1.0


# --------------------------------------------------------------------------------------------
# the public wrappers' CuPy route, with NumPy arrays dressed as CuPy ones
# --------------------------------------------------------------------------------------------


class _Dressed(np.ndarray):
    """A NumPy array that foveal's dispatch takes for a CuPy one (with the fixture below)."""


@pytest.fixture
def cupy_route(monkeypatch, ndi):
    """_Dressed arrays count as CuPy arrays and the fallbacks get (numpy, scipy.ndimage): the
    wrappers then take their CuPy route on the CPU, arguments and all."""
    from foveal import _dispatch
    from foveal._cupy import filters as fallbacks

    calls = []

    def modules():
        calls.append(1)
        return np, ndi

    monkeypatch.setattr(_dispatch, "is_cupy", lambda arr: isinstance(arr, _Dressed))
    monkeypatch.setattr(fallbacks, "modules", modules)
    return calls


ROUTED = [
    ("filter2d", lambda img: ((np.arange(12.0).reshape(3, 4) - 5) / 7,), {}),
    ("filter2d", lambda img: (np.ones((2, 5)) / 10,), dict(anchor=(1, 0), border="wrap")),
    ("sep_filter2d", lambda img: ([1.0, 2.0, 1.0], [1.0, -1.0]), dict(delta=3.0)),
    ("box_filter", lambda img: ((4, 5),), dict(border="constant", border_value=9)),
    ("gaussian_blur", lambda img: (5, 1.5), {}),
    ("gaussian_blur", lambda img: (0, 2.0), dict(sigma_y=1.0)),
    ("sobel", lambda img: (1, 1), dict(ksize=5, scale=0.5)),
    ("scharr", lambda img: (0, 1), {}),
    ("harris", lambda img: (3, 3, 0.05), {}),
    ("min_eigen", lambda img: (2, 5), {}),
    ("spectrum", lambda img: (), {}),
    ("bandpass", lambda img: (3, 20), dict(kind="gaussian")),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), ROUTED, ids=[r[0] for r in ROUTED])
def test_wrappers_route_to_the_fallbacks(cupy_route, rng, name, args, kwargs):
    """The CuPy route of each wrapper passes the fallback what it takes: the same numbers as
    the native route, within the family's float32 tolerance."""
    img = (rng.random((23, 37)) * 200).astype(np.uint8)
    routed = getattr(foveal, name)(img.view(_Dressed), *args(img), **kwargs)
    assert cupy_route, "the CuPy route was not taken"
    native = getattr(foveal, name)(img, *args(img), **kwargs)
    assert routed.shape == native.shape and routed.dtype == native.dtype
    scale = max(1.0, float(np.abs(native.astype(np.float64)).max()))
    np.testing.assert_allclose(
        routed, native, rtol=0, atol=(1 if native.dtype.kind in "iu" else 1e-5 * scale)
    )


def test_gradient_and_canny_route_to_the_fallbacks(cupy_route, rng):
    img = (rng.random((31, 29)) * 255).astype(np.uint8)
    mag, ang = foveal.gradient(img.view(_Dressed), ksize=5)
    edges = foveal.canny(img.view(_Dressed), 40, 120)
    assert len(cupy_route) == 2, "the CuPy route was not taken"
    mag_n, ang_n = foveal.gradient(img, ksize=5)
    edges_n = foveal.canny(img, 40, 120)
    np.testing.assert_allclose(mag, mag_n, rtol=1e-6)
    d = np.abs(ang - ang_n)
    assert np.minimum(d, 2 * np.pi - d)[mag_n > 1].max() < 1e-5
    np.testing.assert_array_equal(edges, edges_n)

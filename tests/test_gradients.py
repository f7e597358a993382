"""Correctness of foveal's derivatives and edges: sobel, scharr, gradient, canny.

sobel / scharr are compared with ``foveal.reference`` by the spec's rule (``conftest.
assert_rule``): exact for integer images with scale 1 and an integer delta (the kernels are
integers and the sums stay below 2**24), else within 1e-5 (float32 arithmetic) or 1e-12
(float64) of max|image| * sum|kernel| * |scale| + |delta|. gradient's magnitude is within
rtol 1e-6 and its angle within 1e-5 rad of the exact atan2 (cv2.cartToPolar's own angle only
within ~0.3 degrees: compared at 0.01 rad). canny must give cv2.Canny's edge map bit for bit.
"""

from __future__ import annotations

import itertools

import foveal
import numpy as np
import pytest
from conftest import (
    ALL_FILTER_BORDERS,
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

KSIZES = (1, 3, 5, 7)
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
]


def valid_orders(ksize: int):
    """Every (dx, dy) that cv2.Sobel accepts for ``ksize``."""
    if ksize == -1:
        return [(1, 0), (0, 1)]
    top = 2 if ksize == 1 else ksize - 1
    return [(dx, dy) for dx in range(top + 1) for dy in range(top + 1) if dx + dy > 0]


def deriv_1d(order: int, ksize: int) -> np.ndarray:
    """One factor of cv2.getDerivKernels (the spec): ksize - 1 - order smoothings [1 1] and
    order differences [-1 1]; ksize 1 is 3 taps along a derivative and [1] across; ksize -1 is
    Scharr's [3 10 3] / [-1 0 1]."""
    if ksize == -1:
        return np.array([3.0, 10.0, 3.0]) if order == 0 else np.array([-1.0, 0.0, 1.0])
    if ksize == 1:
        if order == 0:
            return np.ones(1)
        ksize = 3
    k = np.ones(1)
    for _ in range(ksize - 1 - order):
        k = np.convolve(k, [1.0, 1.0])
    for _ in range(order):
        k = np.convolve(k, [-1.0, 1.0])
    return k


def deriv_l1(dx, dy, ksize) -> float:
    return float(np.abs(deriv_1d(dx, ksize)).sum() * np.abs(deriv_1d(dy, ksize)).sum())


def _amax(img, border="reflect101", border_value=0) -> float:
    m = float(np.abs(img.astype(np.float64)).max())
    if canonical_border(border) == "constant":
        m = max(m, float(np.abs(np.asarray(border_value, np.float64)).max()))
    return m


def _is_integer(dtype) -> bool:
    return np.dtype(dtype).kind in "ui"


def check_sobel(
    img,
    dx,
    dy,
    *,
    ksize=3,
    scale=1.0,
    delta=0.0,
    border="reflect101",
    border_value=0,
    dtype=None,
):
    kw = dict(scale=scale, delta=delta, border=border, border_value=border_value)
    if ksize == -1 and dtype is None and scale == 1.0:  # scharr's own spelling, sometimes
        got = foveal.scharr(img, dx, dy, **kw)
    else:
        got = foveal.sobel(img, dx, dy, ksize=ksize, dtype=dtype, **kw)
    kw["border"] = canonical_border(border)
    dt = None if dtype is None else np.dtype(dtype)
    expected = ref.sobel(img, dx, dy, ksize=ksize, dtype=dt, **kw)
    s = _amax(img, border, border_value) * deriv_l1(dx, dy, ksize) * abs(scale) + abs(delta)
    exact = _is_integer(img.dtype) and scale == 1.0 and float(delta).is_integer() and s < 2**24
    atol = 0.0 if exact else tolerance(working_dtype(img.dtype, expected.dtype), s)
    unrounded = None
    if atol and _is_integer(expected.dtype):
        unrounded = ref.sobel(img, dx, dy, ksize=ksize, dtype=np.dtype(np.float64), **kw)
    msg = f"sobel dx={dx} dy={dy} ksize={ksize} {kw}"
    assert_rule(got, expected, atol=atol, unrounded=unrounded, err_msg=msg)
    return got


# --------------------------------------------------------------------------------------------
# sobel and scharr against the reference
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", FILTER_BORDERS)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_sobel_reference(rng, dtype, border):
    images = [random_image(rng, (23, 37), dtype), random_image(rng, (9, 70, 3), dtype)]
    for img in images:
        bvs = [0] if border != "constant" else [7, [5, 3, 200][: img.shape[-1]]]
        bvs = bvs if img.ndim == 3 else bvs[:1]
        for ksize in (-1,) + KSIZES:
            orders = valid_orders(ksize)
            if ksize in (5, 7):  # a spread of the orders (every one is in test_every_order)
                orders = [o for o in orders if o in ((1, 0), (0, 1), (1, 1), (2, 0), (3, 2))]
                orders.append((ksize - 1, ksize - 1))
            for (dx, dy), bv in itertools.product(orders, bvs):
                check_sobel(img, dx, dy, ksize=ksize, border=border, border_value=bv)
        check_sobel(img, 1, 0, ksize=3, scale=0.25, delta=10.0, border=border)
        check_sobel(img, 0, 2, ksize=5, scale=-3.0, delta=-0.5, border=border)
        check_sobel(img, 1, 1, ksize=1, scale=1e-3, border=border)


@pytest.mark.parametrize("ksize", (-1,) + KSIZES)
def test_sobel_every_order(rng, ksize):
    img = random_image(rng, (19, 26), "uint8")
    fimg = random_image(rng, (11, 33, 2), "float32")
    for dx, dy in valid_orders(ksize):
        check_sobel(img, dx, dy, ksize=ksize)
        check_sobel(img, dx, dy, ksize=ksize, dtype="int16")
        check_sobel(fimg, dx, dy, ksize=ksize, border="replicate")


@pytest.mark.parametrize("out_dtype", IMAGE_DTYPES)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_sobel_output_dtypes(rng, dtype, out_dtype):
    """Every input x output dtype, with scales and deltas that saturate integer outputs."""
    img = random_image(rng, (13, 35, 3), dtype)
    for (dx, dy, ksize), scale, delta in itertools.product(
        [(1, 0, 3), (0, 2, 5), (1, 1, 1), (0, 1, -1)], (1.0, 0.5, 3.0), (0.0, 100.0)
    ):
        got = check_sobel(img, dx, dy, ksize=ksize, scale=scale, delta=delta, dtype=out_dtype)
        assert got.dtype == np.dtype(out_dtype)


def test_sobel_default_dtype():
    for dtype in IMAGE_DTYPES:
        img = np.zeros((4, 5), dtype)
        want = np.float64 if dtype == "float64" else np.float32
        assert foveal.sobel(img, 1, 0).dtype == want
        assert foveal.scharr(img, 0, 1).dtype == want
        assert foveal.sobel(img, 1, 0, dtype=None).dtype == want


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=["x".join(map(str, s)) for s in ODD_SHAPES])
def test_sobel_odd_sizes(rng, shape):
    """Sizes off the vector widths and smaller than the kernel."""
    for dtype, border in itertools.product(IMAGE_DTYPES, FILTER_BORDERS):
        img = random_image(rng, shape, dtype)
        for dx, dy, ksize in [(1, 0, 3), (0, 1, -1), (2, 1, 7), (0, 2, 1), (1, 1, 5)]:
            check_sobel(img, dx, dy, ksize=ksize, border=border, border_value=3)


def test_default_arguments(rng):
    """The spec's defaults: ksize 3, scale 1, delta 0, border reflect101, border_value 0;
    canny ksize 3 and L1."""
    img = random_image(rng, (14, 23, 2), "int16")
    expected = foveal.sobel(
        img, 1, 2, ksize=3, scale=1.0, delta=0.0, border="reflect101", border_value=0
    )
    np.testing.assert_array_equal(foveal.sobel(img, 1, 2), expected, strict=True)
    np.testing.assert_array_equal(expected, ref.sobel(img, 1, 2))
    np.testing.assert_array_equal(
        foveal.scharr(img, 0, 1),
        foveal.scharr(img, 0, 1, scale=1.0, delta=0.0, border="reflect101", border_value=0),
    )
    np.testing.assert_array_equal(foveal.scharr(img, 0, 1), ref.scharr(img, 0, 1))
    for a, b in zip(
        foveal.gradient(img),
        foveal.gradient(img, ksize=3, angle_in_degrees=False, border="reflect101"),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b, strict=True)
    grey = random_image(rng, (30, 41), "uint8")
    np.testing.assert_array_equal(
        foveal.canny(grey, 60, 180), foveal.canny(grey, 60, 180, ksize=3, l2gradient=False)
    )
    np.testing.assert_array_equal(foveal.canny(grey, 60, 180), ref.canny(grey, 60, 180))


def test_scharr_is_sobel_ksize_minus_1(rng):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, (15, 29, 2), dtype)
        for (dx, dy), out_dtype in itertools.product([(1, 0), (0, 1)], (None, "int16", "float64")):
            kw = dict(scale=0.5, delta=1.0, border="reflect", dtype=out_dtype)
            np.testing.assert_array_equal(
                foveal.scharr(img, dx, dy, **kw), foveal.sobel(img, dx, dy, ksize=-1, **kw)
            )
            expected = ref.scharr(img, dx, dy, **kw)
            np.testing.assert_array_equal(expected, ref.sobel(img, dx, dy, ksize=-1, **kw))


@pytest.mark.parametrize("with_cv2", [False, True])
def test_impulse_response_is_the_kernel(with_cv2):
    """The response to a unit impulse is outer(ky, kx) flipped (a correlation): the kernels
    are exactly cv2.getDerivKernels(dx, dy, ksize)."""
    cv = pytest.importorskip("cv2") if with_cv2 else None
    img = np.zeros((15, 17), np.float64)
    img[7, 8] = 1.0
    for ksize in (-1,) + KSIZES:
        for dx, dy in valid_orders(ksize):
            if cv is not None:
                kx, ky = (k.ravel() for k in cv.getDerivKernels(dx, dy, ksize, ktype=cv.CV_64F))
            else:
                kx, ky = deriv_1d(dx, ksize), deriv_1d(dy, ksize)
            expected = np.zeros_like(img)
            h, w = ky.size // 2, kx.size // 2
            expected[7 - h : 8 + h, 8 - w : 9 + w] = np.outer(ky, kx)[::-1, ::-1]
            got = foveal.sobel(img, dx, dy, ksize=ksize, border="constant")
            np.testing.assert_array_equal(got, expected, err_msg=f"{dx} {dy} {ksize}")


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_sobel_of_constant_is_zero(dtype):
    c = {"uint8": 255, "uint16": 65535, "int16": -32768, "float32": 3.5, "float64": -1e6}[dtype]
    for shape in [(1, 1), (9, 33), (6, 17, 3)]:
        img = np.full(shape, c, dtype)
        for ksize, border in itertools.product((-1,) + KSIZES, ALL_FILTER_BORDERS):
            for dx, dy in valid_orders(ksize)[:4]:
                got = foveal.sobel(img, dx, dy, ksize=ksize, border=border, border_value=c)
                np.testing.assert_array_equal(got, np.zeros(shape, got.dtype))


def test_sobel_of_ramps(rng):
    """dx of a ramp a*x + b*y is the kernel's response to a slope, exactly, inside the image;
    second derivatives of it are 0."""
    y, x = np.mgrid[0:20, 0:30]
    img = (3 * x + 2 * y + 5).astype(np.int16)
    inner = (slice(3, -3), slice(3, -3))
    for ksize in (1, 3, 5, 7):
        smooth = deriv_1d(0, ksize).sum()
        slope = float((deriv_1d(1, ksize) * np.arange(deriv_1d(1, ksize).size)).sum())
        gx = foveal.sobel(img, 1, 0, ksize=ksize)
        gy = foveal.sobel(img, 0, 1, ksize=ksize)
        np.testing.assert_array_equal(gx[inner], 3 * slope * smooth)
        np.testing.assert_array_equal(gy[inner], 2 * slope * smooth)
        for dx, dy in [(2, 0), (0, 2), (1, 1)]:
            np.testing.assert_array_equal(foveal.sobel(img, dx, dy, ksize=ksize)[inner], 0)


# --------------------------------------------------------------------------------------------
# sobel and scharr against OpenCV
# --------------------------------------------------------------------------------------------


def _cv2_saturates_first(cv2, dtype, out_dtype, scale, delta) -> bool:
    """Whether this cv2 saturates an int16 image's int16 derivative before scaling it (5.1 and
    later, when scale or delta change the value)."""
    version = tuple(int(v) for v in cv2.__version__.split(".")[:2])
    return (
        version >= (5, 1)
        and dtype == "int16"
        and out_dtype == "int16"
        and (scale != 1.0 or delta != 0.0)
    )


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_sobel_cv2(cv2, rng, dtype):
    for shape in [(23, 37), (9, 70, 3), (2, 17)]:
        img = random_image(rng, shape, dtype)
        cases = [
            (1, 0, 3, 1.0, 0.0),
            (0, 1, 3, 0.5, 3.0),
            (1, 1, 1, 1.0, 0.0),
            (2, 0, 1, 2.0, -1.0),
            (0, 2, 5, 1.0, 0.0),
            (3, 1, 7, 1e-2, 0.0),
            (1, 0, -1, 1.0, 0.0),
            (0, 1, -1, 0.25, 7.0),
        ]
        for (dx, dy, ksize, scale, delta), border, out_dtype in itertools.product(
            cases, CV2_FILTER_BORDERS, (None, "uint8", "int16", "float64")
        ):
            ddepth = cv2.CV_32F if dtype != "float64" else cv2.CV_64F
            if out_dtype is not None:
                ddepth = getattr(cv2, CV2_DEPTHS[out_dtype])
            try:
                expected = cv2.Sobel(
                    img,
                    ddepth,
                    dx,
                    dy,
                    ksize=ksize,
                    scale=scale,
                    delta=delta,
                    borderType=cv2_border(cv2, border),
                ).reshape(img.shape)
            except cv2.error:
                continue  # a dtype pair cv2 does not do
            if _cv2_saturates_first(cv2, dtype, out_dtype, scale, delta):
                # cv2 5.1's int16 -> int16 path saturates the derivative to int16 before the
                # scale and delta; foveal (like cv2 up to 5.0 and cv2's float path) rounds the
                # scaled value once. Compare with cv2's float result, rounded and saturated.
                raw = cv2.Sobel(
                    img,
                    cv2.CV_64F,
                    dx,
                    dy,
                    ksize=ksize,
                    scale=scale,
                    delta=delta,
                    borderType=cv2_border(cv2, border),
                ).reshape(img.shape)
                expected = np.clip(np.rint(raw), -32768, 32767).astype(np.int16)
            got = check_sobel(
                img,
                dx,
                dy,
                ksize=ksize,
                scale=scale,
                delta=delta,
                border=border,
                dtype=out_dtype,
            )
            s = _amax(img) * deriv_l1(dx, dy, ksize) * abs(scale) + abs(delta)
            unrounded = ref.sobel(
                img, dx, dy, ksize=ksize, scale=scale, delta=delta, border=border, dtype="f8"
            )
            assert_rule(
                got,
                expected,
                atol=2 * tolerance(working_dtype(dtype, got.dtype), s),
                unrounded=unrounded,
                err_msg=f"cv2.Sobel {dtype}->{got.dtype} {dx} {dy} {ksize} {border}",
            )


def test_scharr_cv2(cv2, rng):
    for dtype, border in itertools.product(IMAGE_DTYPES, CV2_FILTER_BORDERS):
        img = random_image(rng, (17, 45, 3), dtype)
        for dx, dy in [(1, 0), (0, 1)]:
            ddepth = cv2.CV_64F if dtype == "float64" else cv2.CV_32F
            expected = cv2.Scharr(
                img, ddepth, dx, dy, scale=0.5, delta=2.0, borderType=cv2_border(cv2, border)
            )
            got = foveal.scharr(img, dx, dy, scale=0.5, delta=2.0, border=border)
            s = _amax(img) * 16 * 2 * 0.5 + 2.0
            assert_rule(got, expected, atol=2 * tolerance(working_dtype(dtype), s))


def test_sobel_real_images(cv2, real_image):
    for dx, dy, ksize in [(1, 0, 3), (0, 1, 5), (1, 1, 3), (2, 0, 7), (0, 1, -1)]:
        got = check_sobel(real_image, dx, dy, ksize=ksize)
        expected = cv2.Sobel(real_image, cv2.CV_32F, dx, dy, ksize=ksize)
        np.testing.assert_array_equal(got, expected.reshape(real_image.shape))
        got = check_sobel(real_image, dx, dy, ksize=ksize, dtype="int16")
        expected = cv2.Sobel(real_image, cv2.CV_16S, dx, dy, ksize=ksize)
        np.testing.assert_array_equal(got, expected.reshape(real_image.shape))


# --------------------------------------------------------------------------------------------
# gradient
# --------------------------------------------------------------------------------------------


def circular_distance(a, b, full):
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) % full
    return np.minimum(d, full - d)


def check_gradient(img, *, ksize=3, angle_in_degrees=False, border="reflect101", border_value=0):
    kw = dict(ksize=ksize, border=border, border_value=border_value)
    mag, ang = foveal.gradient(img, angle_in_degrees=angle_in_degrees, **kw)
    want = np.dtype(np.float64 if img.dtype == np.float64 else np.float32)
    for a in (mag, ang):
        assert isinstance(a, np.ndarray) and a.dtype == want and a.shape == img.shape
    kw["border"] = canonical_border(border)
    rmag, rang = ref.gradient(img, angle_in_degrees=angle_in_degrees, **kw)
    full = 360.0 if angle_in_degrees else 2 * np.pi
    assert (ang >= 0).all() and (ang < full).all()
    # the derivatives themselves are exact for integer images (sums below 2**24)
    s = _amax(img, border, border_value) * deriv_l1(1, 0, ksize)
    exact = _is_integer(img.dtype) and s < 2**24
    g_atol = 0.0 if exact else 2 * tolerance(working_dtype(img.dtype), s)
    rm = rmag.astype(np.float64)
    eps = np.finfo(want).eps
    np.testing.assert_array_less(np.abs(mag - rm), 1e-6 * rm + g_atol + eps * rm + 1e-300)
    # angle: within 1e-5 rad of atan2 where the gradient is determined
    unit = 180 / np.pi if angle_in_degrees else 1.0
    determined = np.ones(rm.shape, bool) if exact else rm > 2 * g_atol
    tol = (1e-5 + g_atol / np.maximum(rm, 1e-300)) * unit + eps * full
    d = circular_distance(ang, rang, full)
    bad = determined & ~(d <= tol)
    assert not bad.any(), (
        f"angle off at {np.argwhere(bad)[:3].tolist()}: {ang[bad][:3]} vs {rang[bad][:3]}"
    )
    if exact:  # zero gradient: angle 0
        np.testing.assert_array_equal(ang[rm == 0], 0)
    return mag, ang


@pytest.mark.parametrize("border", FILTER_BORDERS)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_gradient_reference(rng, dtype, border):
    images = [random_image(rng, (23, 37), dtype), random_image(rng, (9, 70, 3), dtype)]
    for img, ksize, degrees in itertools.product(images, (-1,) + KSIZES, (False, True)):
        check_gradient(img, ksize=ksize, angle_in_degrees=degrees, border=border, border_value=4)


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_gradient_is_sobel_then_polar(rng, dtype):
    """magnitude and angle from foveal's own gx, gy (same arithmetic): magnitude within rtol
    1e-6 of sqrt(gx^2 + gy^2), angle within 1e-5 rad of atan2(gy, gx) mod 2 pi, 0 where both
    are 0; degrees = radians * 180 / pi."""
    img = random_image(rng, (31, 47, 2), dtype)
    # A flat patch: zero gradients. An integer value keeps every partial sum exact, so that
    # they are exactly 0 with or without fused multiply-adds (FOVEAL_ISA=baseline).
    img[5:12, 5:15] = 3
    for ksize, border in itertools.product((-1,) + KSIZES, ("reflect101", "constant", "wrap")):
        gx = foveal.sobel(img, 1, 0, ksize=ksize, border=border).astype(np.float64)
        gy = foveal.sobel(img, 0, 1, ksize=ksize, border=border).astype(np.float64)
        mag, ang = foveal.gradient(img, ksize=ksize, border=border)
        _, deg = foveal.gradient(img, ksize=ksize, border=border, angle_in_degrees=True)
        m = np.hypot(gx, gy)
        eps = np.finfo(mag.dtype).eps
        np.testing.assert_array_less(np.abs(mag - m), 1e-6 * m + eps * m + 1e-300)
        exact_angle = np.arctan2(gy, gx) % (2 * np.pi)
        np.testing.assert_array_less(circular_distance(ang, exact_angle, 2 * np.pi), 1e-5)
        np.testing.assert_array_less(
            circular_distance(deg, np.degrees(exact_angle), 360.0), np.degrees(1e-5)
        )
        zero = (gx == 0) & (gy == 0)
        assert zero.any()
        np.testing.assert_array_equal(ang[zero], 0)
        np.testing.assert_array_equal(deg[zero], 0)
        np.testing.assert_array_equal(mag[zero], 0)


def test_gradient_angles_of_known_directions():
    """Ramps in 8 directions: the angle is the direction of increase, in [0, 2 pi)."""
    y, x = np.mgrid[0:16, 0:16].astype(np.float64)
    for k in range(8):
        theta = k * np.pi / 4
        img = np.cos(theta) * x + np.sin(theta) * y
        mag, ang = foveal.gradient(img, border="replicate")
        _, deg = foveal.gradient(img, border="replicate", angle_in_degrees=True)
        inner = (slice(2, -2), slice(2, -2))
        np.testing.assert_allclose(mag[inner], 8.0, rtol=1e-12)
        np.testing.assert_array_less(circular_distance(ang[inner], theta, 2 * np.pi), 1e-5)
        np.testing.assert_array_less(circular_distance(deg[inner], 45.0 * k, 360.0), 1e-3)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64"])
def test_gradient_cv2(cv2, rng, dtype):
    ddepth = cv2.CV_64F if dtype == "float64" else cv2.CV_32F
    for shape in [(23, 37), (9, 70, 3), (1, 1), (1, 9)]:
        img = random_image(rng, shape, dtype)
        for ksize, border, degrees in itertools.product(
            (-1, 1, 3, 5, 7), CV2_FILTER_BORDERS, (False, True)
        ):
            bt = cv2_border(cv2, border)
            gx = cv2.Sobel(img, ddepth, 1, 0, ksize=ksize, borderType=bt)
            gy = cv2.Sobel(img, ddepth, 0, 1, ksize=ksize, borderType=bt)
            cmag, cang = cv2.cartToPolar(gx, gy, angleInDegrees=degrees)
            cmag, cang = cmag.reshape(img.shape), cang.reshape(img.shape)
            mag, ang = foveal.gradient(img, ksize=ksize, border=border, angle_in_degrees=degrees)
            s = _amax(img) * deriv_l1(1, 0, ksize)
            g_atol = 2 * tolerance(working_dtype(dtype), s)
            cm = cmag.astype(np.float64)
            np.testing.assert_array_less(np.abs(mag - cm), 1e-6 * cm + g_atol + 1e-300)
            full, unit = (360.0, 180 / np.pi) if degrees else (2 * np.pi, 1.0)
            determined = cm > 100 * g_atol
            d = circular_distance(ang, cang, full)[determined]
            assert (d <= 0.01 * unit).all(), (ksize, border, degrees, d.max())


def test_gradient_real_images(cv2, real_image):
    for ksize in (3, -1):
        mag, ang = check_gradient(real_image, ksize=ksize)
        gx = cv2.Sobel(real_image, cv2.CV_32F, 1, 0, ksize=ksize)
        gy = cv2.Sobel(real_image, cv2.CV_32F, 0, 1, ksize=ksize)
        cmag, cang = cv2.cartToPolar(gx, gy)
        cmag, cang = cmag.reshape(mag.shape), cang.reshape(ang.shape)
        np.testing.assert_allclose(mag, cmag, rtol=1e-6)
        assert circular_distance(ang, cang, 2 * np.pi).max() <= 0.01


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=["x".join(map(str, s)) for s in ODD_SHAPES])
def test_gradient_odd_sizes(rng, shape):
    for dtype, ksize in itertools.product(IMAGE_DTYPES, (-1, 1, 3, 7)):
        img = random_image(rng, shape, dtype)
        check_gradient(img, ksize=ksize, border="reflect")
        check_gradient(img, ksize=ksize, border="constant", border_value=9)


# --------------------------------------------------------------------------------------------
# canny
# --------------------------------------------------------------------------------------------

THRESHOLDS = [(50, 150), (10, 30), (200, 100), (0, 0), (100.7, 200.2), (1000, 3000), (5, 5)]


def check_canny(img, low, high, *, ksize=3, l2gradient=False, cv2=None):
    got = foveal.canny(img, low, high, ksize=ksize, l2gradient=l2gradient)
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8 and got.shape == img.shape[:2]
    assert np.isin(got, (0, 255)).all()
    expected = ref.canny(img, low, high, ksize=ksize, l2gradient=l2gradient)
    msg = f"canny low={low} high={high} ksize={ksize} l2={l2gradient} shape={img.shape}"
    np.testing.assert_array_equal(got, expected, err_msg=msg, strict=True)
    if cv2 is not None:
        expected = cv2.Canny(
            np.ascontiguousarray(img), low, high, apertureSize=ksize, L2gradient=l2gradient
        )
        np.testing.assert_array_equal(got, expected, err_msg="cv2 " + msg, strict=True)
    return got


def canny_images(rng):
    """Noise, smoothed noise (long connected edges) and a few shapes, grey and colour."""
    noise = random_image(rng, (48, 67), "uint8")
    smooth = noise.astype(np.float64)
    for _ in range(3):  # a cheap blur, so that hysteresis has chains to follow
        smooth = (smooth + np.roll(smooth, 1, 0) + np.roll(smooth, 1, 1)) / 3
    smooth = (smooth - smooth.min()) * (255 / max(np.ptp(smooth), 1))
    shapes = np.zeros((48, 53), np.uint8)
    shapes[10:30, 8:25] = 200
    yy, xx = np.mgrid[0:48, 0:53]
    shapes[(yy - 30) ** 2 + (xx - 38) ** 2 < 100] = 90
    shapes[40:, :] = 255 - 3 * xx[40:, :]
    colour = random_image(rng, (33, 29, 3), "uint8")
    return [noise, smooth.astype(np.uint8), shapes, colour, np.dstack([shapes, noise[:48, :53]])]


@pytest.mark.parametrize("l2gradient", [False, True])
@pytest.mark.parametrize("ksize", [3, 5, 7])
def test_canny_cv2_random(rng, ksize, l2gradient):
    cv2 = pytest.importorskip("cv2")
    for img, (low, high) in itertools.product(canny_images(rng), THRESHOLDS):
        check_canny(img, low, high, ksize=ksize, l2gradient=l2gradient, cv2=cv2)


@pytest.mark.parametrize("ksize", [3, 5, 7])
def test_canny_reference(rng, ksize):
    """Without cv2, against the reference only (the reference itself is checked against cv2
    in test_canny_cv2_random)."""
    for img, (low, high), l2 in itertools.product(canny_images(rng), THRESHOLDS[:4], (False, True)):
        check_canny(img, low, high, ksize=ksize, l2gradient=l2)


def test_canny_real_images(cv2, real_image):
    for ksize, l2, (low, high) in [
        (3, False, (50, 150)),
        (5, True, (300, 900)),
        (7, False, (1000, 4000)),
    ]:
        check_canny(real_image, low, high, ksize=ksize, l2gradient=l2, cv2=cv2)


def test_canny_hysteresis_grows_long_chains(cv2, rng):
    """Thresholds far apart on smooth noise: most edges are candidates reached through long
    chains from few strong pixels, in every direction, across the 8-pixel steps of the map
    scan and along the image's edges (widths 1 to 41, heights 1 to 12)."""
    grown = 0
    for width in range(1, 42):
        height = int(rng.integers(1, 13))
        noise = rng.integers(0, 256, (height + 8, width + 8)).astype(np.float32)
        img = cv2.GaussianBlur(noise, (0, 0), 2.0)[4:-4, 4:-4]
        img = np.clip((img - img.mean()) * 8 + 128, 0, 255).astype(np.uint8)
        got = check_canny(img, 40, 400, cv2=cv2)
        strong_only = foveal.canny(img, 400, 400)
        assert (got >= strong_only).all()
        grown += int((got > 0).sum() - (strong_only > 0).sum())
    assert grown > 500


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=["x".join(map(str, s)) for s in ODD_SHAPES])
def test_canny_odd_sizes(cv2, rng, shape):
    img = random_image(rng, shape, "uint8")
    for ksize, l2 in itertools.product((3, 5, 7), (False, True)):
        check_canny(img, 20, 60, ksize=ksize, l2gradient=l2, cv2=cv2)


def test_canny_large_thresholds_and_saturation(cv2, rng):
    """ksize 7 and bright steps saturate the int16 derivatives; L2 thresholds beyond 32767
    are clamped before squaring; a 1-pixel checkerboard is all ties."""
    img = np.zeros((30, 40), np.uint8)
    img[:, 20:] = 255
    img[15:, :] = 255 - img[15:, :]
    checker = (np.indices((24, 31)).sum(axis=0) % 2 * 255).astype(np.uint8)
    for im, (low, high), ksize, l2 in itertools.product(
        [img, checker, random_image(rng, (20, 25), "uint8")],
        [(30000, 32767), (32767, 40000), (40000, 1e9), (1e6, 2e6)],
        (3, 5, 7),
        (False, True),
    ):
        check_canny(im, low, high, ksize=ksize, l2gradient=l2, cv2=cv2)


def test_canny_thresholds_swap_and_floor(rng):
    img = canny_images(rng)[1]
    for l2 in (False, True):
        a = foveal.canny(img, 40, 120, l2gradient=l2)
        np.testing.assert_array_equal(foveal.canny(img, 120, 40, l2gradient=l2), a)
        np.testing.assert_array_equal(
            foveal.canny(img, np.float32(40), np.int64(120), l2gradient=l2), a
        )
    # L1 thresholds are floored; L2 ones squared first, then floored
    a = foveal.canny(img, 40, 120)
    np.testing.assert_array_equal(foveal.canny(img, 40.9, 120.99), a)
    a = foveal.canny(img, 40.5, 121.0, l2gradient=True)  # 1640.25, 14641
    np.testing.assert_array_equal(foveal.canny(img, 40.501, 121.001, l2gradient=True), a)


def test_canny_negative_thresholds(cv2, rng):
    """cv2 takes negative thresholds (an L2 one is not squared); foveal either matches cv2 or
    refuses them with a ValueError naming the threshold."""
    img = canny_images(rng)[0]
    for (low, high), l2 in itertools.product([(-5, 100), (-10, -3)], (False, True)):
        try:
            got = foveal.canny(img, low, high, l2gradient=l2)
        except ValueError as exc:
            assert "low" in str(exc) or "high" in str(exc)
            continue
        np.testing.assert_array_equal(got, cv2.Canny(img, low, high, L2gradient=l2))


def test_canny_monotone_in_thresholds(rng):
    """A higher ``high`` keeps a subset of the edges; a lower ``low`` a superset."""
    for img in canny_images(rng):
        edges = [foveal.canny(img, 30, high) > 0 for high in (30, 60, 120, 240)]
        for a, b in itertools.pairwise(edges):
            assert not (b & ~a).any()
        edges = [foveal.canny(img, low, 200) > 0 for low in (200, 100, 50, 0)]
        for a, b in itertools.pairwise(edges):
            assert not (a & ~b).any()


def test_canny_colour_takes_the_strongest_channel(rng):
    """A colour image whose other channels are flat gives the edges of its one busy channel;
    the same image in every channel gives the grey image's edges."""
    grey = canny_images(rng)[2]
    flat = np.full_like(grey, 77)
    for c in range(3):
        planes = [flat, flat, flat]
        planes[c] = grey
        np.testing.assert_array_equal(
            foveal.canny(np.dstack(planes), 50, 150), foveal.canny(grey, 50, 150)
        )
    same = np.dstack([grey] * 4)
    np.testing.assert_array_equal(foveal.canny(same, 50, 150), foveal.canny(grey, 50, 150))


# --------------------------------------------------------------------------------------------
# every function: non-contiguous input, out=, torch
# --------------------------------------------------------------------------------------------

FUNCS = ("sobel", "scharr", "gradient", "canny")


def call(name, img, **kw):
    if name == "sobel":
        return foveal.sobel(img, 1, 1, ksize=5, scale=0.5, border="reflect", **kw)
    if name == "scharr":
        return foveal.scharr(img, 0, 1, delta=3.0, border="replicate", **kw)
    if name == "gradient":
        return foveal.gradient(img, ksize=3, border="reflect", **kw)
    return foveal.canny(img, 30, 90, **kw)


def dtypes_for(name):
    """The dtypes a function takes, in a fixed order (canny: uint8 only)."""
    return ("uint8",) if name == "canny" else ("uint8", "int16", "float32", "float64")


@pytest.mark.parametrize("view", list(IMAGE_VIEWS))
@pytest.mark.parametrize("name", FUNCS)
def test_non_contiguous_inputs(rng, name, view):
    for dtype in dtypes_for(name):
        base = random_image(rng, (40, 90, 4), dtype)
        base0 = base.copy()
        img = IMAGE_VIEWS[view](base)
        got, expected = call(name, img), call(name, np.ascontiguousarray(img))
        for g, e in zip(
            got if name == "gradient" else [got],
            expected if name == "gradient" else [expected],
            strict=True,
        ):
            np.testing.assert_array_equal(g, e, strict=True)
        np.testing.assert_array_equal(base, base0)
        if name in ("sobel", "scharr"):
            contiguous = np.ascontiguousarray(img)
            if name == "sobel":
                check_sobel(contiguous, 1, 1, ksize=5, scale=0.5, border="reflect")
            else:
                check_sobel(contiguous, 0, 1, ksize=-1, delta=3.0, border="replicate")


OUTS = {
    "contiguous": lambda shape, dt: np.zeros(shape, dt),
    "fortran": lambda shape, dt: np.zeros(shape, dt, order="F"),
    "strided": lambda shape, dt: np.zeros((shape[0] * 2, shape[1] * 3, *shape[2:]), dt)[::2, ::3],
    "negative": lambda shape, dt: np.zeros(shape, dt)[::-1, ::-1],
}


@pytest.mark.parametrize("out_kind", list(OUTS))
@pytest.mark.parametrize("name", ["sobel", "scharr"])
def test_out(rng, name, out_kind):
    for dtype, out_dtype in itertools.product(IMAGE_DTYPES, (None, "int16", "float64")):
        for shape in [(17, 45), (11, 20, 3)]:
            img = random_image(rng, shape, dtype)
            expected = call(name, img, dtype=out_dtype)
            out = OUTS[out_kind](shape, expected.dtype)
            assert call(name, img, dtype=out_dtype, out=out) is out
            np.testing.assert_array_equal(out, expected, strict=True)


@pytest.mark.parametrize("out_kind", list(OUTS))
def test_canny_and_gradient_out(rng, out_kind):
    """canny and gradient take out= too (DESIGN: on every function that returns an array):
    canny an (H, W) uint8 array, gradient a (magnitude, angle) pair."""
    img = random_image(rng, (19, 33, 3), "uint8")
    expected = foveal.canny(img, 40, 120)
    out = OUTS[out_kind](img.shape[:2], np.uint8)
    assert foveal.canny(img, 40, 120, out=out) is out
    np.testing.assert_array_equal(out, expected, strict=True)
    for dtype in ("int16", "float64"):
        src = random_image(rng, (19, 33, 3), dtype)
        mag, ang = foveal.gradient(src, ksize=5)
        outs = (OUTS[out_kind](src.shape, mag.dtype), OUTS[out_kind](src.shape, ang.dtype))
        got = foveal.gradient(src, ksize=5, out=outs)
        assert got[0] is outs[0] and got[1] is outs[1]
        np.testing.assert_array_equal(outs[0], mag, strict=True)
        np.testing.assert_array_equal(outs[1], ang, strict=True)
    with pytest.raises(ValueError, match=r"canny: out must have shape \(19, 33\)"):
        foveal.canny(img, 40, 120, out=np.zeros(img.shape, np.uint8))
    with pytest.raises(TypeError, match=r"canny: out must have dtype uint8"):
        foveal.canny(img, 40, 120, out=np.zeros(img.shape[:2], np.float32))


@pytest.mark.parametrize("name", ["sobel", "scharr"])
def test_out_wrong_shape_or_dtype(name):
    img = np.zeros((6, 7), np.uint8)
    with pytest.raises(ValueError, match=rf"{name}: out must have shape \(6, 7\)"):
        call(name, img, out=np.zeros((7, 6), np.float32))
    with pytest.raises(ValueError, match=rf"{name}: out must have shape \(6, 7\)"):
        call(name, img, out=np.zeros((6, 7, 1), np.float32))
    for dtype in ("uint8", "float64", "int16"):  # the default output is float32
        with pytest.raises(TypeError, match=rf"{name}: out must have dtype float32"):
            call(name, img, out=np.zeros((6, 7), dtype))
    with pytest.raises(TypeError, match=rf"{name}: out must have dtype int16"):
        call(name, img, dtype="int16", out=np.zeros((6, 7), np.float32))


@pytest.mark.parametrize("name", FUNCS)
def test_torch_in_torch_out(rng, name):
    torch = pytest.importorskip("torch")
    for dtype in dtypes_for(name):
        for shape in [(14, 19), (14, 19, 3)]:
            t = torch.from_numpy(random_image(rng, shape, dtype))
            t0 = t.clone()
            got, expected = call(name, t), call(name, t.numpy())
            pairs = zip(got, expected, strict=True) if name == "gradient" else [(got, expected)]
            for g, e in pairs:
                assert isinstance(g, torch.Tensor)
                np.testing.assert_array_equal(g.numpy(), e, strict=True)
            assert torch.equal(t, t0)


@pytest.mark.parametrize("name", FUNCS)
def test_threads_agree(rng, name):
    for dtype in dtypes_for(name)[::2]:
        img = random_image(rng, (211, 163, 3), dtype)
        with foveal.num_threads(1):
            one = call(name, img)
        with foveal.num_threads(3):
            three = call(name, img)
        for a, b in zip(
            one if name == "gradient" else [one],
            three if name == "gradient" else [three],
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------

GOOD = np.arange(35, dtype=np.uint8).reshape(5, 7)


def bad_call(name, image, **kw):
    if name == "sobel":
        return foveal.sobel(image, kw.pop("dx", 1), kw.pop("dy", 0), **kw)
    if name == "scharr":
        return foveal.scharr(image, kw.pop("dx", 1), kw.pop("dy", 0), **kw)
    if name == "gradient":
        return foveal.gradient(image, **kw)
    return foveal.canny(image, kw.pop("low", 50), kw.pop("high", 150), **kw)


@pytest.mark.parametrize("dtype", ["bool", "int32", "int8", "uint32", "float16", "complex64"])
@pytest.mark.parametrize("name", FUNCS)
def test_bad_image_dtype(name, dtype):
    with pytest.raises(TypeError, match=rf"{name}: image dtype {dtype} is not supported"):
        bad_call(name, np.zeros((5, 5), dtype))


@pytest.mark.parametrize("dtype", ["uint16", "int16", "float32", "float64"])
def test_canny_needs_uint8(dtype):
    with pytest.raises(TypeError, match=rf"canny: image dtype {dtype} is not supported.*uint8"):
        foveal.canny(np.zeros((5, 5), dtype), 10, 20)


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 1), ()])
@pytest.mark.parametrize("name", FUNCS)
def test_bad_image_rank(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: image must be 2-D \(H, W\) or 3-D"):
        bad_call(name, np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (3, 3, 0)])
@pytest.mark.parametrize("name", FUNCS)
def test_empty_image(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: image must not be empty"):
        bad_call(name, np.zeros(shape, np.uint8))


@pytest.mark.parametrize("name", ["sobel", "scharr", "gradient"])
def test_bad_border(name):
    for border in ("foo", "default", "BORDER_REFLECT"):
        with pytest.raises(ValueError, match=rf"{name}: border must be one of"):
            bad_call(name, GOOD, border=border)
    with pytest.raises(TypeError, match=rf"{name}: border must be a string"):
        bad_call(name, GOOD, border=None)
    with pytest.raises(ValueError, match=rf"{name}: border_value"):
        bad_call(name, np.zeros((4, 4, 3), np.uint8), border="constant", border_value=[1, 2])


@pytest.mark.parametrize(
    "dx, dy, ksize, arg",
    [
        (0, 0, 3, r"d[xy]"),  # no derivative
        (-1, 1, 3, "dx"),
        (1, -2, 3, "dy"),
        (3, 0, 3, "dx"),  # the order must be below ksize
        (0, 5, 5, "dy"),
        (7, 0, 7, "dx"),
        (3, 0, 1, "dx"),  # ksize 1: orders up to 2
        (1, 1, -1, r"(dx|dy|[Ss]charr)"),  # Scharr: (1, 0) or (0, 1) only
        (2, 0, -1, r"(dx|dy|[Ss]charr)"),
        (1, 0, 0, "ksize"),
        (1, 0, 2, "ksize"),
        (1, 0, 9, "ksize"),
        (1, 0, -3, "ksize"),
    ],
)
def test_sobel_bad_orders_and_ksize(dx, dy, ksize, arg):
    with pytest.raises(ValueError, match=rf"sobel: .*{arg}"):
        foveal.sobel(GOOD, dx, dy, ksize=ksize)


@pytest.mark.parametrize("dx, dy", [(1, 1), (2, 0), (0, 2), (0, 0)])
def test_scharr_bad_orders(dx, dy):
    with pytest.raises(ValueError, match=r"scharr: "):
        foveal.scharr(GOOD, dx, dy)


def test_sobel_bad_types():
    for kw, arg in [
        (dict(dx=1.5), "dx"),
        (dict(dy="1"), "dy"),
        (dict(ksize=3.0), "ksize"),
        (dict(scale="2"), "scale"),
        (dict(delta=None), "delta"),
        (dict(dtype="int32"), "dtype"),
        (dict(dtype=bool), "dtype"),
    ]:
        with pytest.raises(TypeError, match=rf"sobel: {arg}"):
            bad_call("sobel", GOOD, **kw)
    with pytest.raises(ValueError, match=r"sobel: scale"):
        bad_call("sobel", GOOD, scale=float("nan"))


@pytest.mark.parametrize("ksize", [0, 2, 9, -3])
def test_gradient_bad_ksize(ksize):
    with pytest.raises(ValueError, match=r"gradient: ksize"):
        foveal.gradient(GOOD, ksize=ksize)


@pytest.mark.parametrize("ksize", [1, 2, 4, 9, -1, 0])
def test_canny_bad_ksize(ksize):
    with pytest.raises(ValueError, match=r"canny: ksize"):
        foveal.canny(GOOD, 10, 20, ksize=ksize)


def test_canny_bad_thresholds():
    for low, high, exc, arg in [
        (float("nan"), 20, ValueError, "low"),
        (10, float("nan"), ValueError, "high"),
        ("10", 20, TypeError, "low"),
        (10, None, TypeError, "high"),
    ]:
        with pytest.raises(exc, match=rf"canny: {arg}"):
            foveal.canny(GOOD, low, high)
    with pytest.raises(TypeError, match=r"canny: ksize"):
        foveal.canny(GOOD, 10, 20, ksize=3.0)


def test_keyword_only_arguments():
    with pytest.raises(TypeError):
        foveal.sobel(GOOD, 1, 0, 3)  # ksize is keyword-only
    with pytest.raises(TypeError):
        foveal.canny(GOOD, 10, 20, 3)  # ksize is keyword-only
    with pytest.raises(TypeError):
        foveal.gradient(GOOD, 3)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

try:
    import hypothesis
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    hypothesis = None


def _sobel_case(draw):
    dtype = draw(st.sampled_from(IMAGE_DTYPES))
    h, w = draw(st.integers(1, 20)), draw(st.integers(1, 40))
    channels = draw(st.sampled_from([None, 1, 3]))
    shape = (h, w) if channels is None else (h, w, channels)
    ksize = draw(st.sampled_from((-1,) + KSIZES))
    dx, dy = draw(st.sampled_from(valid_orders(ksize)))
    img = random_image(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), shape, dtype)
    return dict(
        img=img,
        dx=dx,
        dy=dy,
        ksize=ksize,
        scale=draw(st.sampled_from([1.0, 0.5, -2.0])),
        delta=draw(st.sampled_from([0.0, 3.0, -1.5])),
        border=draw(st.sampled_from(ALL_FILTER_BORDERS)),
        border_value=draw(st.sampled_from([0, 5])),
        dtype=draw(st.sampled_from((None,) + IMAGE_DTYPES)),
    )


def _canny_case(draw):
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 40))
    channels = draw(st.sampled_from([None, 3]))
    shape = (h, w) if channels is None else (h, w, channels)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    img = random_image(rng, shape, "uint8")
    if draw(st.booleans()):  # smoother images: longer edges
        img = ((img.astype(np.int32) + np.roll(img, 1, 0) + np.roll(img, 1, 1)) // 3).astype(
            np.uint8
        )
    return dict(
        img=img,
        low=draw(st.floats(0, 600, allow_nan=False)),
        high=draw(st.floats(0, 1500, allow_nan=False)),
        ksize=draw(st.sampled_from([3, 5, 7])),
        l2gradient=draw(st.booleans()),
    )


def _property_sobel(case):
    case = dict(case)
    img, dx, dy = case.pop("img"), case.pop("dx"), case.pop("dy")
    check_sobel(img, dx, dy, **case)


def _property_canny(case):
    case = dict(case)
    img, low, high = case.pop("img"), case.pop("low"), case.pop("high")
    try:
        import cv2
    except ImportError:  # pragma: no cover - cv2 is a test extra
        cv2 = None
    check_canny(img, low, high, cv2=cv2, **case)


if hypothesis is not None:
    test_property_sobel = hypothesis.given(case=st.composite(_sobel_case)())(_property_sobel)
    test_property_canny = hypothesis.given(case=st.composite(_canny_case)())(_property_canny)
else:  # pragma: no cover

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_property_tests_need_hypothesis():
        pass

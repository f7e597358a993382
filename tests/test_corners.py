"""Correctness of foveal's corner responses and corner detection: harris, min_eigen, corners.

harris and min_eigen are compared with ``foveal.reference`` within 1e-5 (float32 arithmetic)
or 1e-12 (float64) of the response's scale over the image: (a + c)^2 for Harris, a + c for
the smaller eigenvalue (a, c: the windowed sums of gx^2 and gy^2), and with cv2.cornerHarris /
cv2.cornerMinEigenVal within twice that. corners must give cv2.goodFeaturesToTrack's points,
in its order, exactly, and the reference's for every dtype.
"""

from __future__ import annotations

import itertools

import foveal
import numpy as np
import pytest
from conftest import (
    ALL_FILTER_BORDERS,
    BORDER_ALIASES,
    CV2_FILTER_BORDERS,
    FILTER_BORDERS,
    IMAGE_DTYPES,
    canonical_border,
    cv2_border,
    random_image,
    tolerance,
    working_dtype,
)
from foveal import reference as ref
from foveal._corner_selection import select

KSIZES = (-1, 1, 3, 5, 7)
BLOCK_SIZES = (1, 2, 3, 5)
ODD_SHAPES = [(1, 1), (1, 2), (2, 1), (1, 17), (17, 1), (3, 33), (2, 65), (65, 2), (4, 7)]


def _out_dtype(img):
    return np.dtype(np.float64 if img.dtype == np.float64 else np.float32)


def response_scales(img, block_size, ksize, border):
    """Tolerance scales of the Harris and min-eigenvalue responses: max (a + c)^2 and
    max (a + c) over the image (harris with k = 0 minus harris with k = 1 is (a + c)^2), but
    at least what derivatives off by 1e-6 of their largest possible value give (a flat image's
    derivatives cancel to 0 only up to rounding; OpenCV's fused multiply-adds leave ~1e-8)."""
    kw = dict(border=canonical_border(border))
    r0 = ref.harris(img, block_size, ksize, 0.0, **kw).astype(np.float64)
    r1 = ref.harris(img, block_size, ksize, 1.0, **kw).astype(np.float64)
    s = float(np.abs(r0 - r1).max())
    k = ksize if ksize > 0 else 3
    norm = (
        2.0 ** (k - 1)
        * block_size
        * (2 if ksize < 0 else 1)
        * (255 if img.dtype == np.uint8 else 1)
    )
    l1 = 32.0 if ksize < 0 else 2.0 if ksize == 1 else 4.0 ** (k - 1)  # sum |kernel|
    g = float(np.abs(img.astype(np.float64)).max()) * l1 / norm  # the largest derivative
    floor = 2 * block_size**2 * (1e-6 * g) ** 2 / tolerance(working_dtype(img.dtype), 1.0)
    return max(s, floor**2), max(float(np.sqrt(s)), floor)


def assert_response(got, expected, atol, err_msg=""):
    assert isinstance(got, np.ndarray), type(got)
    assert got.shape == expected.shape and got.dtype == expected.dtype, (got.dtype, err_msg)
    e = expected.astype(np.float64)
    tol = atol + np.finfo(expected.dtype).eps * np.abs(e)
    bad = ~(np.abs(got.astype(np.float64) - e) <= tol)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise AssertionError(
            f"{err_msg}: {int(bad.sum())} of {bad.size} off by more than {atol:.3g}; first at "
            f"{i}: got {got[i]!r}, expected {expected[i]!r}"
        )


def check_harris(img, block_size=2, ksize=3, k=0.04, *, border="reflect101", scales=None):
    got = foveal.harris(img, block_size, ksize, k, border=border)
    assert got.dtype == _out_dtype(img) and got.shape == img.shape
    expected = ref.harris(img, block_size, ksize, k, border=canonical_border(border))
    s, _ = scales or response_scales(img, block_size, ksize, border)
    atol = tolerance(working_dtype(img.dtype), 1.0) * s
    assert_response(got, expected, atol, f"harris {block_size} {ksize} {k} {border}")
    return got


def check_min_eigen(img, block_size=3, ksize=3, *, border="reflect101", scales=None):
    got = foveal.min_eigen(img, block_size, ksize, border=border)
    assert got.dtype == _out_dtype(img) and got.shape == img.shape
    expected = ref.min_eigen(img, block_size, ksize, border=canonical_border(border))
    _, t = scales or response_scales(img, block_size, ksize, border)
    atol = tolerance(working_dtype(img.dtype), 1.0) * t
    assert_response(got, expected, atol, f"min_eigen {block_size} {ksize} {border}")
    return got


def check_both(img, block_size, ksize, k=0.04, *, border="reflect101"):
    """harris and min_eigen against the reference; returns both and the scales."""
    scales = response_scales(img, block_size, ksize, border)
    h = check_harris(img, block_size, ksize, k, border=border, scales=scales)
    m = check_min_eigen(img, block_size, ksize, border=border, scales=scales)
    return h, m, scales


def smooth_noise(rng, shape, passes=3):
    """Noise blurred a few times: corners of many strengths, few exact ties."""
    x = random_image(rng, shape, "uint8").astype(np.float64)
    for _ in range(passes):
        x = (x + np.roll(x, 1, 0) + np.roll(x, 1, 1) + np.roll(x, -1, 1)) / 4
    return ((x - x.min()) * (255 / max(np.ptp(x), 1))).astype(np.uint8)


def shapes_image():
    """Rectangles, a disc and a checkerboard patch: corners with exactly equal responses."""
    img = np.full((56, 64), 20, np.uint8)
    img[8:24, 6:30] = 200
    img[30:50, 40:58] = 120
    yy, xx = np.mgrid[0:56, 0:64]
    img[(yy - 40) ** 2 + (xx - 16) ** 2 < 64] = 250
    img[4:20, 40:60] = (np.indices((16, 20)).sum(axis=0) // 4 % 2 * 255).astype(np.uint8)
    return img


# --------------------------------------------------------------------------------------------
# harris and min_eigen against the reference
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", FILTER_BORDERS)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_responses_reference(rng, dtype, border):
    img = random_image(rng, (23, 37), dtype)
    smooth = smooth_noise(rng, (19, 41)).astype(dtype)
    for block_size, ksize in itertools.product(BLOCK_SIZES, KSIZES):
        check_both(smooth, block_size, ksize, 0.04, border=border)
        if block_size in (2, 3):
            check_both(img, block_size, ksize, 0.04, border=border)
    check_harris(smooth, 3, 3, 0.15, border=border)
    check_harris(smooth, 2, 5, -0.02, border=border)
    check_harris(img, 9, 3, 0.04, border=border)
    check_min_eigen(img, 8, 1, border=border)


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=["x".join(map(str, s)) for s in ODD_SHAPES])
def test_responses_odd_sizes(rng, shape):
    """Sizes off the vector widths and smaller than the Sobel kernel or the block."""
    for dtype, border in itertools.product(IMAGE_DTYPES, ("reflect101", "constant", "wrap")):
        img = random_image(rng, shape, dtype)
        for block_size, ksize in [(2, 3), (3, -1), (5, 7)]:
            check_both(img, block_size, ksize, border=border)


def test_responses_defaults_and_aliases(rng):
    img = smooth_noise(rng, (21, 30))
    np.testing.assert_array_equal(foveal.harris(img), foveal.harris(img, 2, 3, 0.04))
    np.testing.assert_array_equal(
        foveal.harris(img), foveal.harris(img, block_size=2, ksize=3, k=0.04, border="reflect101")
    )
    np.testing.assert_array_equal(foveal.min_eigen(img), foveal.min_eigen(img, 3, 3))
    for alias, canonical in BORDER_ALIASES.items():
        np.testing.assert_array_equal(
            foveal.harris(img, border=alias), foveal.harris(img, border=canonical)
        )
        np.testing.assert_array_equal(
            foveal.min_eigen(img, border=alias.upper()), foveal.min_eigen(img, border=canonical)
        )


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_responses_invariants(rng, dtype):
    """A constant image has no corners (both responses exactly 0); the smaller eigenvalue is
    never above half the trace and Harris with k = 0 is the determinant, both >= 0 up to
    rounding; the responses of a transposed image are the transposed responses (gx and gy
    swap roles)."""
    for border in ALL_FILTER_BORDERS:
        if border == "constant":
            continue  # a 0 border around 100s is an edge
        flat = np.full((9, 14), 100, dtype)
        check_both(flat, 2, 3, border=border)  # 0 up to rounding (response_scales)
        check_both(flat, 5, -1, border=border)
    img = smooth_noise(rng, (25, 31)).astype(dtype)
    s, t = response_scales(img, 3, 3, "reflect101")
    tol = tolerance(working_dtype(dtype), 1.0)
    assert foveal.min_eigen(img).min() >= -tol * t
    assert foveal.harris(img, 3, 3, 0.0).min() >= -tol * s
    for block_size, ksize in [(2, 3), (3, 5), (4, -1)]:
        for border in ("reflect101", "replicate", "constant"):
            a = foveal.harris(img.T, block_size, ksize, border=border)
            b = foveal.harris(np.ascontiguousarray(img), block_size, ksize, border=border).T
            s, t = response_scales(img, block_size, ksize, border)
            assert_response(a, np.ascontiguousarray(b), 2 * tol * s)
            a = foveal.min_eigen(img.T, block_size, ksize, border=border)
            b = foveal.min_eigen(img, block_size, ksize, border=border).T
            assert_response(a, np.ascontiguousarray(b), 2 * tol * t)


# --------------------------------------------------------------------------------------------
# harris and min_eigen against OpenCV (uint8 and float32: what cv2 takes)
# --------------------------------------------------------------------------------------------


def _ipp_quirk(block_size, ksize, border) -> bool:
    """cv2.cornerHarris hands even blocks with ksize 3 or 5 and a replicate or constant border
    to IPP, which puts the window's anchor at (b - 1) // 2 instead of b // 2 (OpenCV's own
    path, and the spec): those cases are not comparable."""
    return block_size % 2 == 0 and ksize in (3, 5) and border in ("replicate", "constant")


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_responses_cv2(cv2, rng, dtype):
    images = [random_image(rng, (23, 37), dtype), smooth_noise(rng, (26, 45)).astype(dtype)]
    images.append(random_image(rng, (1, 17), dtype))
    for img, block_size, ksize, border in itertools.product(
        images, BLOCK_SIZES, KSIZES, CV2_FILTER_BORDERS
    ):
        bt = cv2_border(cv2, border)
        harris, min_eigen, (s, t) = check_both(img, block_size, ksize, 0.04, border=border)
        tol = 2 * tolerance(np.float32, 1.0)
        expected = cv2.cornerMinEigenVal(img, block_size, ksize=ksize, borderType=bt)
        msg = f"cv2 min_eigen {block_size} {ksize} {border}"
        assert_response(min_eigen, expected, tol * t, msg)
        if _ipp_quirk(block_size, ksize, border):
            continue
        expected = cv2.cornerHarris(img, block_size, ksize, 0.04, borderType=bt)
        assert_response(harris, expected, tol * s, f"cv2 harris {block_size} {ksize} {border}")


def test_responses_real_images(cv2, real_image):
    """The central 256 x 256 of each photograph (its green channel for colour)."""
    img = real_image if real_image.ndim == 2 else real_image[:, :, 1]
    img = np.ascontiguousarray(img[128:384, 128:384])
    for block_size, ksize in [(2, 3), (5, -1)]:
        harris, min_eigen, (s, t) = check_both(img, block_size, ksize, 0.05)
        tol = 2 * tolerance(np.float32, 1.0)
        assert_response(harris, cv2.cornerHarris(img, block_size, ksize, 0.05), tol * s)
        expected = cv2.cornerMinEigenVal(img, block_size, ksize=ksize)
        assert_response(min_eigen, expected, tol * t)
    f = img.astype(np.float32) / 255
    s, _ = response_scales(f, 2, 3, "reflect")
    got = check_harris(f, 2, 3, 0.04, border="reflect")
    expected = cv2.cornerHarris(f, 2, 3, 0.04, borderType=cv2.BORDER_REFLECT)
    assert_response(got, expected, 2 * tolerance(np.float32, 1.0) * s)


# --------------------------------------------------------------------------------------------
# corners
# --------------------------------------------------------------------------------------------


def cv2_corners(cv2, img, max_corners, quality_level, min_distance, **kw):
    mask = kw.get("mask")
    pts = cv2.goodFeaturesToTrack(
        img,
        max_corners,
        quality_level,
        min_distance,
        mask=mask,
        blockSize=kw.get("block_size", 3),
        gradientSize=kw.get("ksize", 3),
        useHarrisDetector=kw.get("method", "shi-tomasi") == "harris",
        k=kw.get("k", 0.04),
    )
    return np.empty((0, 2), np.float32) if pts is None else pts.reshape(-1, 2)


def _overlap(a, b) -> float:
    """The share of the shorter list's points with a point of the other list at most 2 pixels
    away (a plateau of equal responses is resolved by the last bits of rounding)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 2), np.asarray(b, np.float64).reshape(-1, 2)
    if min(len(a), len(b)) == 0:
        return 1.0 if len(a) == len(b) else 0.0
    short, other = (a, b) if len(a) <= len(b) else (b, a)
    d = np.abs(short[:, None, :] - other[None, :, :]).max(axis=2).min(axis=1)
    return float((d <= 2).mean())


def check_corners(img, max_corners, quality_level=0.01, min_distance=10, cv2=None, **kw):
    """Exactly the selection from foveal's own response; against the reference and cv2, whose
    float32 responses round differently in the last bits (so near-equal corners may swap
    places and then suppress different neighbours), at least 80% of the same points and the
    same count when the count is limited by max_corners."""
    got = foveal.corners(img, max_corners, quality_level, min_distance, **kw)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    assert got.ndim == 2 and got.shape[1] == 2
    msg = f"corners {img.shape} {img.dtype} {max_corners} {quality_level} {min_distance} {kw}"
    method = kw.get("method", "shi-tomasi")
    block, ksize = kw.get("block_size", 3), kw.get("ksize", 3)
    if method == "harris":
        resp = foveal.harris(img, block, ksize, kw.get("k", 0.04))
    else:
        resp = foveal.min_eigen(img, block, ksize)
    mask = kw.get("mask")
    own = select(np.asarray(resp), max_corners, quality_level, min_distance, mask)
    np.testing.assert_array_equal(got, own, err_msg=msg, strict=True)
    others = [ref.corners(img, max_corners, quality_level, min_distance, **kw)]
    if cv2 is not None:
        others.append(cv2_corners(cv2, img, max_corners, quality_level, min_distance, **kw))
    for expected in others:
        if max(len(got), len(expected)) > 4:
            assert _overlap(got, expected) >= 0.8, msg
        if max_corners > 0 and len(expected) == max_corners:
            assert abs(len(got) - len(expected)) <= max(1, len(expected) // 10), msg
    return got


def corner_images(rng, dtype="uint8"):
    """Noise, smoothed noise and, for the dtypes cv2 takes, shapes_image. Its symmetric
    corners have mathematically equal responses, so their order is decided by the rounding
    of the float32 arithmetic: for uint8 and float32 cv2's rounding defines it (and foveal
    must repeat it); for the other dtypes nothing does, so they are tested without exact
    ties."""
    images = [random_image(rng, (40, 53), dtype), smooth_noise(rng, (60, 70)).astype(dtype)]
    if dtype in ("uint8", "float32"):
        images.append(shapes_image().astype(dtype))
    return images


CORNER_CASES = [
    # max_corners, quality_level, min_distance, keywords
    (0, 0.01, 10, {}),
    (25, 0.01, 3, {}),
    (5, 0.1, 0, {}),
    (0, 0.3, 2.5, dict(method="harris")),
    (40, 0.01, 1, dict(method="harris", k=0.1)),
    (0, 0.05, 5, dict(block_size=2, ksize=5)),
    (30, 0.02, 0.5, dict(block_size=5, ksize=1)),
    (0, 0.01, 4, dict(block_size=3, ksize=-1)),
    (12, 0.001, 7, dict(block_size=7, ksize=7, method="harris", k=0.06)),
]


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_corners_cv2(cv2, rng, dtype):
    for img, (n, q, md, kw) in itertools.product(corner_images(rng, dtype), CORNER_CASES):
        if dtype == "float32":
            img = img / np.float32(3.0)
        check_corners(img, n, q, md, cv2=cv2, **kw)


def test_corners_cv2_masks(cv2, rng):
    for img in corner_images(rng):
        h, w = img.shape
        masks = [
            (rng.random((h, w)) < 0.7).astype(np.uint8),
            np.zeros((h, w), np.uint8),
            np.full((h, w), 255, np.uint8),
        ]
        masks[1][h // 4 : 3 * h // 4, w // 3 :] = 1  # the maximum over the mask sets the threshold
        for mask, (n, q, md, kw) in itertools.product(masks, CORNER_CASES[:4]):
            check_corners(img, n, q, md, cv2=cv2, mask=mask, **kw)
        assert check_corners(img, 0, 0.01, 2, mask=np.zeros((h, w), np.uint8)).shape == (0, 2)


def test_corners_real_images(cv2, real_image):
    img = real_image if real_image.ndim == 2 else np.ascontiguousarray(real_image[:, :, 0])
    check_corners(img, 1000, 0.01, 10, cv2=cv2)
    check_corners(img, 200, 0.05, 5, cv2=cv2, method="harris")
    check_corners(img.astype(np.float32), 100, 0.02, 8, cv2=cv2, block_size=5, ksize=5)


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_corners_reference(rng, dtype):
    """Every dtype (cv2 takes only uint8 and float32) against the reference."""
    for img, (n, q, md, kw) in itertools.product(corner_images(rng, dtype), CORNER_CASES[:6]):
        check_corners(img, n, q, md, **kw)


@pytest.mark.parametrize("shape", ODD_SHAPES + [(3, 3), (3, 4)])
def test_corners_small_images(cv2, rng, shape):
    """Images with no interior (corners are never on the 1-pixel border)."""
    img = random_image(rng, shape, "uint8")
    for n, q, md, kw in CORNER_CASES[:3]:
        got = check_corners(img, n, q, md, cv2=cv2, **kw)
        if min(shape) < 3:
            assert got.shape == (0, 2)


def test_corners_properties(rng):
    """Points are (x, y) inside the image off its border, at local maxima of the response,
    strongest first, at least min_distance apart, fewer than max_corners; the first n of the
    unlimited list are the list for max_corners = n; a higher quality level keeps a prefix;
    zero-mask pixels are never corners."""
    for img in corner_images(rng):
        h, w = img.shape
        resp = foveal.min_eigen(img, 3, 3)
        everything = foveal.corners(img, 0, 0.01, 6)
        assert len(everything) > 5
        x, y = everything[:, 0].astype(int), everything[:, 1].astype(int)
        np.testing.assert_array_equal(everything, np.stack([x, y], 1).astype(np.float32))
        assert (x >= 1).all() and (x <= w - 2).all() and (y >= 1).all() and (y <= h - 2).all()
        v = resp[y, x]
        assert (np.diff(v) <= 1e-5 * resp.max()).all()  # descending, up to rounding
        assert (v > 0.01 * resp.max() * (1 - 1e-5)).all()
        d2 = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2
        assert (d2[np.triu_indices(len(x), 1)] >= 36).all()
        for n in (1, 3, len(everything) - 1, len(everything), len(everything) + 5):
            np.testing.assert_array_equal(foveal.corners(img, n, 0.01, 6), everything[:n])
        for n in (-1, -100):
            np.testing.assert_array_equal(foveal.corners(img, n, 0.01, 6), everything)
        for q in (0.05, 0.2, 0.6):
            fewer = foveal.corners(img, 0, q, 6)
            np.testing.assert_array_equal(fewer, everything[: len(fewer)])
        mask = np.zeros((h, w), np.uint8)
        mask[:, : w // 2] = 1
        masked = foveal.corners(img, 0, 0.01, 6, mask=mask)
        assert len(masked) and (masked[:, 0] < w // 2).all()


def test_corners_min_distance_below_one_keeps_all_maxima(rng):
    img = smooth_noise(rng, (40, 50))
    a = foveal.corners(img, 0, 0.01, 0)
    np.testing.assert_array_equal(foveal.corners(img, 0, 0.01, 0.99), a)
    assert len(foveal.corners(img, 0, 0.01, 1)) <= len(a)


def test_corners_of_a_rectangle():
    """A bright rectangle on a dark background: its four corners, (x, y) ordered."""
    img = np.zeros((40, 50), np.uint8)
    img[10:30, 12:40] = 255
    pts = foveal.corners(img, 4, 0.1, 5)
    assert pts.shape == (4, 2)
    found = {(float(x), float(y)) for x, y in pts}
    for cx, cy in [(12, 10), (39, 10), (12, 29), (39, 29)]:
        assert any(abs(x - cx) <= 1.5 and abs(y - cy) <= 1.5 for x, y in found), (cx, cy, pts)


# --------------------------------------------------------------------------------------------
# strides, out=, torch
# --------------------------------------------------------------------------------------------

VIEWS_2D = {
    "fortran": lambda a: np.asfortranarray(a),
    "neg_rows": lambda a: a[::-1],
    "neg_cols": lambda a: a[:, ::-1],
    "step2": lambda a: a[::2, ::2],
    "step3_neg": lambda a: a[::-3, 1::3],
    "offset": lambda a: a[3:30, 5:77],
    "transposed": lambda a: a.T,
    "channel": lambda a: np.dstack([a, a])[:, :, 1],
}

FUNCS = ("harris", "min_eigen", "corners")


def call(name, img, **kw):
    if name == "harris":
        return foveal.harris(img, 3, 3, 0.05, border="reflect", **kw)
    if name == "min_eigen":
        return foveal.min_eigen(img, 2, -1, border="replicate", **kw)
    return foveal.corners(img, 50, 0.02, 3, **kw)


@pytest.mark.parametrize("view", list(VIEWS_2D))
@pytest.mark.parametrize("name", FUNCS)
def test_non_contiguous_inputs(rng, name, view):
    for dtype in ("uint8", "int16", "float32", "float64"):
        base = random_image(rng, (40, 90), dtype)
        base0 = base.copy()
        img = VIEWS_2D[view](base)
        got = call(name, img)
        np.testing.assert_array_equal(got, call(name, np.ascontiguousarray(img)), strict=True)
        np.testing.assert_array_equal(base, base0)


OUTS = {
    "contiguous": lambda shape, dt: np.zeros(shape, dt),
    "fortran": lambda shape, dt: np.zeros(shape, dt, order="F"),
    "strided": lambda shape, dt: np.zeros((shape[0] * 2, shape[1] * 3), dt)[::2, ::3],
    "negative": lambda shape, dt: np.zeros(shape, dt)[::-1, ::-1],
}


@pytest.mark.parametrize("out_kind", list(OUTS))
@pytest.mark.parametrize("name", ["harris", "min_eigen"])
def test_out(rng, name, out_kind):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, (17, 45), dtype)
        expected = call(name, img)
        out = OUTS[out_kind](img.shape, expected.dtype)
        assert call(name, img, out=out) is out
        np.testing.assert_array_equal(out, expected, strict=True)


@pytest.mark.parametrize("name", ["harris", "min_eigen"])
def test_out_wrong_shape_or_dtype(name):
    img = np.zeros((6, 7), np.uint8)
    for shape in [(7, 6), (6, 7, 1), (42,)]:
        with pytest.raises(ValueError, match=rf"{name}: out must have shape \(6, 7\)"):
            call(name, img, out=np.zeros(shape, np.float32))
    for dtype in ("uint8", "float64"):
        with pytest.raises(TypeError, match=rf"{name}: out must have dtype float32"):
            call(name, img, out=np.zeros((6, 7), dtype))
    with pytest.raises(TypeError, match=rf"{name}: out must have dtype float64"):
        call(name, img.astype(np.float64), out=np.zeros((6, 7), np.float32))


@pytest.mark.parametrize("name", FUNCS)
def test_torch_in_torch_out(rng, name):
    torch = pytest.importorskip("torch")
    for dtype in ("uint8", "int16", "float32", "float64"):
        t = torch.from_numpy(smooth_noise(rng, (30, 41)).astype(dtype))
        t0 = t.clone()
        got = call(name, t)
        assert isinstance(got, torch.Tensor)
        np.testing.assert_array_equal(got.numpy(), call(name, t.numpy()), strict=True)
        assert torch.equal(t, t0)


@pytest.mark.parametrize("name", FUNCS)
def test_threads_agree(rng, name):
    img = smooth_noise(rng, (230, 190))
    with foveal.num_threads(1):
        one = call(name, img)
    with foveal.num_threads(3):
        three = call(name, img)
    np.testing.assert_array_equal(three, one)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------

GOOD = (np.arange(48, dtype=np.uint8) * 5).reshape(6, 8)


def bad_call(name, image, **kw):
    if name == "harris":
        return foveal.harris(image, **kw)
    if name == "min_eigen":
        return foveal.min_eigen(image, **kw)
    return foveal.corners(image, kw.pop("max_corners", 10), **kw)


@pytest.mark.parametrize("dtype", ["bool", "int32", "int8", "float16", "complex64"])
@pytest.mark.parametrize("name", FUNCS)
def test_bad_image_dtype(name, dtype):
    with pytest.raises(TypeError, match=rf"{name}: image dtype {dtype} is not supported"):
        bad_call(name, np.zeros((6, 6), dtype))


@pytest.mark.parametrize("shape", [(6, 6, 3), (6, 6, 2), (6,), (2, 3, 4, 1)])
@pytest.mark.parametrize("name", FUNCS)
def test_single_channel_only(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: image"):
        bad_call(name, np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
@pytest.mark.parametrize("name", FUNCS)
def test_empty_image(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: image must not be empty"):
        bad_call(name, np.zeros(shape, np.uint8))


@pytest.mark.parametrize("name", FUNCS)
def test_bad_block_size_and_ksize(name):
    for block_size in (0, -1):
        with pytest.raises(ValueError, match=rf"{name}: block_size"):
            bad_call(name, GOOD, block_size=block_size)
    with pytest.raises(TypeError, match=rf"{name}: block_size"):
        bad_call(name, GOOD, block_size=2.5)
    for ksize in (0, 2, 9, -3):
        with pytest.raises(ValueError, match=rf"{name}: ksize"):
            bad_call(name, GOOD, ksize=ksize)
    with pytest.raises(TypeError, match=rf"{name}: ksize"):
        bad_call(name, GOOD, ksize="3")


@pytest.mark.parametrize("name", ["harris", "min_eigen"])
def test_bad_border(name):
    for border in ("foo", "default", ""):
        with pytest.raises(ValueError, match=rf"{name}: border must be one of"):
            bad_call(name, GOOD, border=border)
    with pytest.raises(TypeError, match=rf"{name}: border must be a string"):
        bad_call(name, GOOD, border=3)


@pytest.mark.parametrize("name", ["harris", "corners"])
def test_bad_k(name):
    kw = {} if name == "harris" else dict(method="harris")
    with pytest.raises(ValueError, match=rf"{name}: k\b"):
        bad_call(name, GOOD, k=float("nan"), **kw)
    with pytest.raises(TypeError, match=rf"{name}: k\b"):
        bad_call(name, GOOD, k="0.04", **kw)


@pytest.mark.parametrize(
    "kw, exc, arg",
    [
        (dict(quality_level=0.0), ValueError, "quality_level"),
        (dict(quality_level=-0.1), ValueError, "quality_level"),
        (dict(quality_level=float("nan")), ValueError, "quality_level"),
        (dict(quality_level="high"), TypeError, "quality_level"),
        (dict(min_distance=-1), ValueError, "min_distance"),
        (dict(min_distance=float("nan")), ValueError, "min_distance"),
        (dict(max_corners=2.5), TypeError, "max_corners"),
        (dict(max_corners="10"), TypeError, "max_corners"),
        (dict(method="fast"), ValueError, "method"),
        (dict(method="shi_tomasi_x"), ValueError, "method"),
        (dict(method=1), TypeError, "method"),
        (dict(mask=np.ones((6, 7), np.uint8)), ValueError, "mask"),
        (dict(mask=np.ones((6, 8, 1), np.uint8)), ValueError, "mask"),
        (dict(mask="everywhere"), TypeError, "mask"),
        (dict(mask=np.ones((6, 8), np.complex64)), TypeError, "mask"),
    ],
)
def test_corners_bad_arguments(kw, exc, arg):
    with pytest.raises(exc, match=rf"corners: {arg}"):
        bad_call("corners", GOOD, **kw)


def test_corners_default_arguments(rng):
    """quality_level 0.01, min_distance 10, block_size 3, ksize 3, Shi-Tomasi, no mask."""
    img = smooth_noise(rng, (50, 61))
    expected = foveal.corners(
        img, 30, 0.01, 10, block_size=3, ksize=3, method="shi-tomasi", k=0.04, mask=None
    )
    np.testing.assert_array_equal(foveal.corners(img, 30), expected, strict=True)
    np.testing.assert_array_equal(expected, ref.corners(img, 30))


def test_corners_method_spellings(rng):
    img = smooth_noise(rng, (30, 40))
    np.testing.assert_array_equal(
        foveal.corners(img, 20, method="HARRIS"), foveal.corners(img, 20, method="harris")
    )
    np.testing.assert_array_equal(
        foveal.corners(img, 20, method="Shi-Tomasi"), foveal.corners(img, 20)
    )


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

try:
    import hypothesis
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    hypothesis = None


def _image(draw, dtypes=IMAGE_DTYPES):
    dtype = draw(st.sampled_from(dtypes))
    shape = (draw(st.integers(1, 24)), draw(st.integers(1, 40)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        return smooth_noise(rng, shape, draw(st.integers(1, 3))).astype(dtype)
    return random_image(rng, shape, dtype)


def _response_case(draw):
    return dict(
        img=_image(draw),
        block_size=draw(st.integers(1, 6)),
        ksize=draw(st.sampled_from(KSIZES)),
        k=draw(st.sampled_from([0.04, 0.0, 0.15])),
        border=draw(st.sampled_from(ALL_FILTER_BORDERS)),
    )


def _corner_case(draw):
    return dict(
        img=_image(draw),
        max_corners=draw(st.integers(-1, 30)),
        quality_level=draw(st.sampled_from([0.001, 0.01, 0.1, 0.5])),
        min_distance=draw(st.sampled_from([0, 0.5, 1, 2, 3.5, 10])),
        # not 1: a 1 x 1 block makes the tensor rank 1, min_eigen 0 but for rounding noise
        block_size=draw(st.integers(2, 5)),
        ksize=draw(st.sampled_from(KSIZES)),
        method=draw(st.sampled_from(["shi-tomasi", "harris"])),
    )


def _property_responses(case):
    check_both(case["img"], case["block_size"], case["ksize"], case["k"], border=case["border"])


def _property_corners(case):
    case = dict(case)
    img = case.pop("img")
    n, q, md = case.pop("max_corners"), case.pop("quality_level"), case.pop("min_distance")
    cv2 = None
    if img.dtype in (np.uint8, np.float32) and n >= 0:  # cv2 5 refuses max_corners < 0
        try:
            import cv2
        except ImportError:  # pragma: no cover - cv2 is a test extra
            cv2 = None
    check_corners(img, n, q, md, cv2=cv2, **case)


if hypothesis is not None:
    test_property_responses = hypothesis.given(case=st.composite(_response_case)())(
        _property_responses
    )
    test_property_corners = hypothesis.given(case=st.composite(_corner_case)())(_property_corners)
else:  # pragma: no cover

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_property_tests_need_hypothesis():
        pass

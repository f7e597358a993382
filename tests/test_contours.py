"""Correctness of foveal's contours: find_contours, contour_area, arc_length, bounding_rect and
draw_contours.

find_contours must give the NumPy reference's (``foveal.reference.contours``, on images up to
65x65) and ``cv2.findContours``'s contours point for point, in the same order, and the same
hierarchy, for every mode x method, on the shared BINARY_IMAGES, noise and blobs of several
densities and odd sizes, images of up to 450 rows (cv2 only), holes in holes, one-pixel
regions, regions on the border and skimage's camera / astronaut thresholded at several levels;
for every binary dtype, strided / flipped / F-order / offset views and torch tensors.

The measures are compared with cv2.contourArea / arcLength / boundingRect: exactly for integer
contours (their shoelace terms are exact in float64), within rtol 1e-12 of the magnitude of
the summed terms for float polygons and for arc lengths (the sums may be added in another
order).

draw_contours with thickness 1 and -1 (filled) must be cv2.drawContours's image exactly
(LINE_8; every index, hierarchy and max_level, cv2's maxLevel default being INT_MAX) for the
contours of blobs and real images and for random polygons whose points lie inside the image,
on uint8 / uint16 / int16 / float32 images of 1 to 4 channels. Thicker lines are a documented
approximation of cv2's; the bound measured on the polygons below (cv2 5.0) is that every pixel
either drawing sets lies within one pixel (8-neighbourhood) of the other drawing, and that the
differing pixels are at most 10% of cv2's drawn pixels per thickness (measured: 7.0% for
thickness 2, 4.9% for 3, 4.2% for 4, 2.4% for 5). Points outside the image are drawn as on
a larger canvas, cropped (cv2 re-rounds the lines it clips to the image, so it may differ there
by a pixel: documented in draw_contours). Bad
input raises TypeError / ValueError naming the argument.
"""

from __future__ import annotations

import foveal
import numpy as np
import pytest
from conftest import SEED
from foveal.reference import contours as ref
from test_components import (
    BASE,
    BINARY_DTYPES,
    LARGE_IMAGES,
    SMALL_IMAGES,
    VIEWS,
    as_dtype,
    gray_of,
    thresholds,
)
from test_components_reference import BINARY_IMAGES

MODES = ("external", "list", "ccomp", "tree")
METHODS = ("none", "simple")
INT_MAX = np.iinfo(np.int32).max
_CV2_MODES = {"external": "RETR_EXTERNAL", "list": "RETR_LIST", "ccomp": "RETR_CCOMP"}
_CV2_MODES["tree"] = "RETR_TREE"
_CV2_METHODS = {"none": "CHAIN_APPROX_NONE", "simple": "CHAIN_APPROX_SIMPLE"}
RTOL = 1e-12


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def cv2_find(cv2, img, mode, method, offset=(0, 0)):
    """cv2.findContours in foveal's layout: (n, 2) contours, an (N, 4) hierarchy."""
    contours, hierarchy = cv2.findContours(
        np.ascontiguousarray(img != 0, np.uint8),
        getattr(cv2, _CV2_MODES[mode]),
        getattr(cv2, _CV2_METHODS[method]),
        offset=offset,
    )
    hierarchy = np.zeros((0, 4), np.int32) if hierarchy is None else hierarchy.reshape(-1, 4)
    return [c.reshape(-1, 2) for c in contours], hierarchy


def assert_contours_equal(got, expected, what: str = "") -> None:
    """The same contours (each the same points, in order) and the same hierarchy."""
    contours, hierarchy = got
    e_contours, e_hierarchy = expected
    assert isinstance(contours, list), f"{what}: contours are a {type(contours).__name__}"
    assert isinstance(hierarchy, np.ndarray) and hierarchy.dtype == np.int32, what
    assert hierarchy.shape == (len(contours), 4), f"{what}: hierarchy {hierarchy.shape}"
    np.testing.assert_array_equal(hierarchy, np.asarray(e_hierarchy), err_msg=f"{what}: hierarchy")
    assert [len(c) for c in contours] == [len(c) for c in e_contours], f"{what}: lengths"
    for c in contours:
        assert isinstance(c, np.ndarray) and c.dtype == np.int32 and c.ndim == 2, what
        assert c.shape[1] == 2, what
    if contours:
        np.testing.assert_array_equal(
            np.concatenate(contours),
            np.concatenate([np.asarray(c).reshape(-1, 2) for c in e_contours]),
            err_msg=f"{what}: points",
        )


def check_all_modes(img, expected_fn, what: str = "") -> None:
    for mode in MODES:
        for method in METHODS:
            got = foveal.find_contours(img, mode, method)
            assert_contours_equal(got, expected_fn(img, mode, method), f"{what} {mode} {method}")


def depths(hierarchy) -> np.ndarray:
    """The nesting depth of each contour (0 for top level)."""
    out = np.zeros(len(hierarchy), np.int64)
    for i in range(len(hierarchy)):
        p = hierarchy[i, 3]
        while p >= 0:
            out[i] += 1
            p = hierarchy[p, 3]
    return out


# --------------------------------------------------------------------------------------------
# hand-written
# --------------------------------------------------------------------------------------------


def test_docstring_example_by_hand():
    img = np.zeros((6, 6), np.uint8)
    img[1:5, 1:5] = 1
    img[2:4, 2:4] = 0
    outer = [[1, 1], [1, 4], [4, 4], [4, 1]]
    hole = [[1, 2], [2, 1], [3, 1], [4, 2], [4, 3], [3, 4], [2, 4], [1, 3]]
    expected = ([outer, hole], [[-1, -1, 1, -1], [-1, -1, -1, 0]])
    assert_contours_equal(foveal.find_contours(img, "tree", "simple"), expected)
    assert_contours_equal(foveal.find_contours(img), expected)  # the defaults
    # external: the hole is not followed
    assert_contours_equal(foveal.find_contours(img, "external"), ([outer], [[-1, -1, -1, -1]]))
    # list: reverse order of discovery, no nesting
    flat = ([hole, outer], [[1, -1, -1, -1], [-1, 0, -1, -1]])
    assert_contours_equal(foveal.find_contours(img, "list", "simple"), flat)


def test_no_contours():
    for img in (np.zeros((4, 5), np.uint8), np.zeros((1, 1), bool), np.zeros((3, 1), np.float32)):
        contours, hierarchy = foveal.find_contours(img)
        assert contours == [] and hierarchy.shape == (0, 4) and hierarchy.dtype == np.int32


def test_single_pixel_and_whole_image():
    contours, hierarchy = foveal.find_contours(np.ones((1, 1), np.uint8), "tree", "none")
    assert_contours_equal((contours, hierarchy), ([[[0, 0]]], [[-1, -1, -1, -1]]))
    whole = foveal.find_contours(np.full((3, 4), 7, np.uint8), "ccomp", "simple")
    assert_contours_equal(whole, ([[[0, 0], [0, 2], [3, 2], [3, 0]]], [[-1, -1, -1, -1]]))


# --------------------------------------------------------------------------------------------
# against the reference and cv2
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BINARY_IMAGES))
def test_binary_images_match_reference_and_cv2(name):
    img = BINARY_IMAGES[name]
    check_all_modes(img, ref.find_contours, "reference")
    cv2 = pytest.importorskip("cv2")
    check_all_modes(img, lambda i, m, a: cv2_find(cv2, i, m, a), "cv2")


@pytest.mark.parametrize("name", list(SMALL_IMAGES))
def test_random_images_match_reference_and_cv2(name):
    img = SMALL_IMAGES[name]
    check_all_modes(img, ref.find_contours, "reference")
    cv2 = pytest.importorskip("cv2")
    check_all_modes(img, lambda i, m, a: cv2_find(cv2, i, m, a), "cv2")


@pytest.mark.parametrize("name", list(LARGE_IMAGES))
def test_large_images_match_cv2(cv2, name):
    check_all_modes(LARGE_IMAGES[name], lambda i, m, a: cv2_find(cv2, i, m, a), name)


def test_real_image_thresholds_match_cv2(cv2, real_image):
    for level, img in thresholds(gray_of(real_image)).items():
        check_all_modes(img, lambda i, m, a: cv2_find(cv2, i, m, a), level)


def test_real_image_crops_match_reference(real_image):
    gray = gray_of(real_image)[200:248, 230:294]
    for level, img in thresholds(gray).items():
        check_all_modes(img, ref.find_contours, level)


def test_deep_nesting_hierarchy():
    """11 concentric rings (the innermost a pixel) from the image border in: a chain of
    holes in holes, 21 levels deep."""
    img = SMALL_IMAGES["deep_rings_on_border"]
    contours, hierarchy = foveal.find_contours(img, "tree", "simple")
    assert len(contours) == 21
    np.testing.assert_array_equal(depths(hierarchy), np.arange(21))
    contours, hierarchy = foveal.find_contours(img, "ccomp", "simple")
    assert depths(hierarchy).max() == 1


OFFSETS = [(0, 0), (3, -2), (-7, 11), [5, 0], (2**20, -(2**20)), (np.int64(-4), np.int32(9))]


@pytest.mark.parametrize("offset", OFFSETS, ids=str)
def test_offset(offset):
    img = SMALL_IMAGES["blobs_31x33_0.5"]
    dx, dy = int(offset[0]), int(offset[1])
    for mode in ("tree", "list"):
        for method in METHODS:
            plain = foveal.find_contours(img, mode, method)
            shifted = ([c + np.array([dx, dy], np.int32) for c in plain[0]], plain[1])
            got = foveal.find_contours(img, mode, method, offset=offset)
            assert_contours_equal(got, shifted, f"{mode} {method}")


def test_offset_matches_cv2(cv2):
    img = SMALL_IMAGES["blobs_64x64_0.5"]
    for offset in [(3, -2), (-70, 110)]:
        for mode in MODES:
            got = foveal.find_contours(img, mode, "simple", offset=offset)
            assert_contours_equal(got, cv2_find(cv2, img, mode, "simple", offset), str(offset))


# --------------------------------------------------------------------------------------------
# dtypes and layouts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", BINARY_DTYPES)
@pytest.mark.parametrize(
    "name", ["blobs_31x33_0.5", "noise_64x64_0.5", "islands", "noise_1x29_0.5"]
)
def test_dtypes_give_the_uint8_result(name, dtype):
    fg = SMALL_IMAGES[name]
    img = as_dtype(fg, dtype, 12)
    assert img.dtype == np.dtype(dtype) and np.array_equal(img != 0, fg != 0)
    check_all_modes(img, lambda i, m, a: foveal.find_contours(fg, m, a), dtype)


def test_nan_is_foreground():
    img = np.zeros((3, 5), np.float64)
    img[1, 1] = np.nan
    img[1, 3] = -0.0
    assert_contours_equal(foveal.find_contours(img), ([[[1, 1]]], [[-1, -1, -1, -1]]))


@pytest.mark.parametrize("view", list(VIEWS))
def test_views_give_the_contiguous_result(view):
    img = VIEWS[view](BASE)
    copy = np.ascontiguousarray(img)
    check_all_modes(img, lambda i, m, a: foveal.find_contours(copy, m, a), view)


def test_torch_tensors():
    torch = pytest.importorskip("torch")
    for dtype in ("uint8", "bool", "float32"):
        img = as_dtype(BASE, dtype, 13)
        for tensor, array in [
            (torch.from_numpy(img), img),
            (torch.from_numpy(img).t(), img.T),
            (torch.from_numpy(img)[5:80:3, 2:], img[5:80:3, 2:]),
        ]:
            copy = np.ascontiguousarray(array)
            for mode in MODES:
                for method in METHODS:
                    expected = foveal.find_contours(copy, mode, method)
                    got = foveal.find_contours(tensor, mode, method)
                    assert_contours_equal(got, expected, f"{dtype} {mode} {method}")


# --------------------------------------------------------------------------------------------
# contour_area, arc_length, bounding_rect
# --------------------------------------------------------------------------------------------


def assert_measures_match_cv2(cv2, contour) -> None:
    """Integer contour: area and bounding box exactly, arc length within RTOL."""
    c = np.ascontiguousarray(contour, np.int32).reshape(-1, 1, 2)
    for form in (contour, c):
        assert foveal.contour_area(form) == cv2.contourArea(c)
        assert foveal.contour_area(form, oriented=True) == cv2.contourArea(c, oriented=True)
        for closed in (True, False):
            expected = cv2.arcLength(c, closed=closed)
            assert foveal.arc_length(form, closed=closed) == pytest.approx(expected, rel=RTOL)
        assert foveal.bounding_rect(form) == tuple(cv2.boundingRect(c))


@pytest.mark.parametrize("method", METHODS)
def test_measures_match_cv2_on_real_image_contours(cv2, real_image, method):
    img = thresholds(gray_of(real_image))["median"]
    contours, _ = foveal.find_contours(img, "list", method)
    assert len(contours) > 100
    for contour in contours[::3]:
        assert_measures_match_cv2(cv2, contour)


def test_measures_match_cv2_on_random_integer_polygons(cv2):
    """Self-intersecting polygons with large coordinates: float32 segment lengths matter."""
    rng = np.random.default_rng(SEED + 40)
    for n in (0, 1, 2, 3, 5, 8, 13, 50, 300):
        for _ in range(8):
            assert_measures_match_cv2(cv2, rng.integers(-5000, 5000, (n, 2)).astype(np.int32))


def test_measures_match_cv2_on_random_float_polygons(cv2):
    rng = np.random.default_rng(SEED + 41)
    for n in (1, 2, 3, 5, 8, 13, 50, 300):
        for k in range(8):
            pts = rng.uniform(-3000, 3000, (n, 2)).astype(np.float32)
            if k % 2:
                pts = np.round(pts * 2) / 2  # ties at .5 for the floors of bounding_rect
            c = pts.reshape(-1, 1, 2)
            x, y = pts[:, 0].astype(np.float64), pts[:, 1].astype(np.float64)
            scale = np.abs(np.roll(x, 1) * y).sum() + np.abs(np.roll(y, 1) * x).sum()
            for form in (pts, pts.astype(np.float64), c):
                for oriented in (False, True):
                    got = foveal.contour_area(form, oriented=oriented)
                    expected = cv2.contourArea(c, oriented=oriented)
                    assert abs(got - expected) <= RTOL * scale
                for closed in (True, False):
                    expected = cv2.arcLength(c, closed=closed)
                    assert foveal.arc_length(form, closed=closed) == pytest.approx(
                        expected, rel=RTOL
                    )
                assert foveal.bounding_rect(form) == tuple(cv2.boundingRect(c))


def test_measures_by_hand():
    square = np.array([[1, 1], [1, 5], [5, 5], [5, 1]])  # counter-clockwise on screen
    assert foveal.contour_area(square) == 16.0
    assert foveal.contour_area(square, oriented=True) == -16.0
    assert foveal.contour_area(square[::-1], oriented=True) == 16.0
    assert foveal.contour_area(square.tolist()) == 16.0
    assert foveal.contour_area(square[:2]) == 0.0
    assert foveal.arc_length(square) == 16.0 and foveal.arc_length(square, closed=False) == 12.0
    assert foveal.arc_length([[0, 0], [3, 4]]) == 10.0
    assert foveal.arc_length([[2, 2]]) == 0.0
    assert foveal.bounding_rect(square) == (1, 1, 5, 5)
    assert foveal.bounding_rect(np.zeros((0, 2), np.int32)) == (0, 0, 0, 0)
    assert foveal.bounding_rect(np.array([[-0.5, 2.5], [1.25, 2.0]])) == (-1, 2, 3, 1)
    for value in (foveal.contour_area(square), foveal.arc_length(square)):
        assert type(value) is float
    assert all(type(v) is int for v in foveal.bounding_rect(square.astype(np.uint16)))


def test_oriented_area_sign_of_outer_contours_and_holes(cv2):
    """Outer contours of find_contours go counter-clockwise on screen (negative area), holes
    clockwise (positive), at every level of the tree."""
    for img in (SMALL_IMAGES["blobs_64x64_0.5"], SMALL_IMAGES["deep_rings_w2"]):
        contours, hierarchy = foveal.find_contours(img, "tree", "none")
        level = depths(hierarchy)
        signed = np.array([foveal.contour_area(c, oriented=True) for c in contours])
        areas = np.array([foveal.contour_area(c) for c in contours])
        assert (level % 2 == 1).any() and (areas > 0).sum() > 3
        np.testing.assert_array_equal(signed[level % 2 == 0], -areas[level % 2 == 0])
        np.testing.assert_array_equal(signed[level % 2 == 1], areas[level % 2 == 1])
        for c, s in zip(contours, signed, strict=True):
            assert s == cv2.contourArea(c.reshape(-1, 1, 2), oriented=True)


# --------------------------------------------------------------------------------------------
# draw_contours
# --------------------------------------------------------------------------------------------


def cv2_draw(cv2, image, contours, index=-1, color=255, thickness=1, **kw):
    """cv2.drawContours on a copy, with foveal's arguments (hierarchy (N, 4), max_level None
    meaning cv2's default INT_MAX, a number on a multichannel image meaning every channel)."""
    out = np.ascontiguousarray(image).copy()
    channels = 1 if out.ndim == 2 else out.shape[2]
    if not isinstance(color, tuple):
        color = (color,) * channels
    extra = {}
    if kw.get("hierarchy") is not None:
        extra["hierarchy"] = np.asarray(kw["hierarchy"], np.int32).reshape(1, -1, 4)
        max_level = kw.get("max_level")
        extra["maxLevel"] = INT_MAX if max_level is None else max_level
    if "offset" in kw:
        extra["offset"] = tuple(kw["offset"])
    cv_contours = [np.ascontiguousarray(c, np.int32).reshape(-1, 1, 2) for c in contours]
    cv2.drawContours(out, cv_contours, index, color, thickness, cv2.LINE_8, **extra)
    return out


def assert_drawn_equal(got, expected, what: str = "") -> None:
    assert isinstance(got, np.ndarray) and got.dtype == expected.dtype, what
    assert got.shape == expected.shape, what
    diff = got != expected
    if diff.any():
        where = np.argwhere(diff)[0].tolist()
        raise AssertionError(f"{what}: {int(diff.sum())} values differ, first at {where}")


def draw_indices(hierarchy) -> list[int]:
    """-1, the first contour, one at depth 1 and one at the deepest level, the last one."""
    n = len(hierarchy)
    level = depths(hierarchy)
    picks = [-1, 0, n - 1, int(np.argmax(level))]
    if (level == 1).any():
        picks.append(int(np.flatnonzero(level == 1)[0]))
    return sorted(set(picks))


DRAW_IMAGES = ["rings_w1", "nested_squares", "border_regions", "blobs_37x53_0.5"]
DRAW_SMALL = ["blobs_64x64_0.5", "deep_rings_w2", "framed_dots", "noise_32x32_0.5"]


@pytest.mark.parametrize("thickness", [1, -1])
@pytest.mark.parametrize("name", DRAW_IMAGES + DRAW_SMALL)
def test_draw_matches_cv2_on_found_contours(cv2, name, thickness):
    img = BINARY_IMAGES[name] if name in BINARY_IMAGES else SMALL_IMAGES[name]
    canvas = np.zeros(img.shape, np.uint8)
    for mode in MODES:
        for method in METHODS:
            contours, hierarchy = foveal.find_contours(img, mode, method)
            for index in draw_indices(hierarchy):
                what = f"{mode} {method} index={index}"
                got = foveal.draw_contours(canvas, contours, index, 200, thickness)
                assert_drawn_equal(
                    got, cv2_draw(cv2, canvas, contours, index, 200, thickness), what
                )
                for max_level in (0, 1, 2, None):
                    kw = dict(hierarchy=hierarchy, max_level=max_level)
                    got = foveal.draw_contours(canvas, contours, index, 200, thickness, **kw)
                    expected = cv2_draw(cv2, canvas, contours, index, 200, thickness, **kw)
                    assert_drawn_equal(got, expected, f"{what} max_level={max_level}")


# (dtype, how the real image becomes a canvas of it, colour)
CANVASES = {
    "uint8": (lambda g: g, 255),
    "uint8_rgb": (lambda g: np.stack([g, 255 - g, g // 2], -1), (10, 200.4, 31.5)),
    "uint8_rgba": (lambda g: np.stack([g, g, g, g], -1), (1, 2, 3, 250)),
    "uint16": (lambda g: g.astype(np.uint16) * 257, 40000.5),
    "int16": (lambda g: g.astype(np.int16) - 128, -300),
    "float32": (lambda g: g.astype(np.float32) / 255, 0.625),
    "float32_2ch": (lambda g: np.stack([g, g], -1).astype(np.float32), (0.5, -3.25)),
    "float64": (lambda g: g.astype(np.float64) / 255, 0.1),
}


@pytest.mark.parametrize("canvas", list(CANVASES))
def test_draw_real_image_contours_matches_cv2(cv2, real_image, canvas):
    gray = gray_of(real_image)
    make, color = CANVASES[canvas]
    image = make(gray)
    before = image.copy()
    for level in ("median", "q0.8"):
        contours, hierarchy = foveal.find_contours(thresholds(gray)[level], "tree", "simple")
        for thickness in (1, -1):
            for kw in ({}, {"hierarchy": hierarchy, "max_level": 1}):
                got = foveal.draw_contours(image, contours, -1, color, thickness, **kw)
                expected = cv2_draw(cv2, image, contours, -1, color, thickness, **kw)
                assert_drawn_equal(got, expected, f"{level} thickness={thickness} {kw.keys()}")
    np.testing.assert_array_equal(image, before)  # not modified
    if image.ndim == 2:  # the real image as the canvas of its own contours, 3 channels
        rgb = np.ascontiguousarray(real_image) if real_image.ndim == 3 else None
        if rgb is not None:
            contours, _ = foveal.find_contours(thresholds(gray)["median"], "list", "none")
            got = foveal.draw_contours(rgb, contours, -1, (0, 255, 0), -1)
            assert_drawn_equal(got, cv2_draw(cv2, rgb, contours, -1, (0, 255, 0), -1), "rgb")


FILL_IMAGES = {**BINARY_IMAGES, **SMALL_IMAGES}


@pytest.mark.parametrize("name", list(FILL_IMAGES))
def test_filling_tree_contours_gives_the_binary_image_back(name):
    img = FILL_IMAGES[name]
    canvas = np.zeros(img.shape, np.uint8)
    for mode in ("tree", "list", "ccomp"):
        for method in METHODS:
            contours, _ = foveal.find_contours(img, mode, method)
            filled = foveal.draw_contours(canvas, contours, color=1, thickness=-1)
            np.testing.assert_array_equal(filled, img != 0, err_msg=f"{mode} {method}")


def test_filling_real_image_contours_gives_it_back(real_image):
    for level, img in thresholds(gray_of(real_image)).items():
        contours, _ = foveal.find_contours(img, "tree", "simple")
        filled = foveal.draw_contours(
            np.zeros(img.shape, np.uint8), contours, color=1, thickness=-1
        )
        np.testing.assert_array_equal(filled, img, err_msg=level)


def random_polygons(seed: int, count: int, inside: bool = True):
    """(image shape, list of 1..3 polygons of 1..12 points) with every point inside the image,
    or (inside=False) points up to a whole image size outside it."""
    rng = np.random.default_rng(SEED + seed)
    cases = []
    for _ in range(count):
        h, w = (int(v) for v in rng.integers(3, 90, 2))
        polygons = []
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(1, 13))
            if inside:
                xy = np.stack([rng.integers(0, w, n), rng.integers(0, h, n)], 1)
            else:
                xy = np.stack([rng.integers(-w, 2 * w, n), rng.integers(-h, 2 * h, n)], 1)
            polygons.append(xy.astype(np.int32))
        cases.append(((h, w), polygons))
    return cases


@pytest.mark.parametrize("thickness", [1, -1])
def test_random_polygons_match_cv2(cv2, thickness):
    for k, (shape, polygons) in enumerate(random_polygons(50, 250)):
        canvas = np.zeros(shape, np.uint8)
        got = foveal.draw_contours(canvas, polygons, -1, 255, thickness)
        what = f"case {k}: {[p.tolist() for p in polygons]} in {shape}"
        assert_drawn_equal(got, cv2_draw(cv2, canvas, polygons, -1, 255, thickness), what)
        got = foveal.draw_contours(canvas, polygons, len(polygons) - 1, 255, thickness)
        expected = cv2_draw(cv2, canvas, polygons, len(polygons) - 1, 255, thickness)
        assert_drawn_equal(got, expected, what)
    rgb = np.zeros((40, 50, 3), np.uint16)
    for _, polygons in random_polygons(51, 20):
        polygons = [np.minimum(p, [49, 39]).astype(np.int32) for p in polygons]
        got = foveal.draw_contours(rgb, polygons, -1, (1, 1000, 65535), thickness)
        assert_drawn_equal(got, cv2_draw(cv2, rgb, polygons, -1, (1, 1000, 65535), thickness))


def _dilate(mask: np.ndarray) -> np.ndarray:
    """The 3x3 (8-neighbourhood) dilation of a boolean image."""
    p = np.pad(mask, 1)
    h, w = mask.shape
    return np.logical_or.reduce([p[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)])


@pytest.mark.parametrize("thickness", [2, 3, 4, 5])
def test_thick_lines_close_to_cv2(cv2, thickness):
    """The documented approximation (see the module docstring for the bound)."""
    drawn = differing = 0
    for shape, polygons in random_polygons(60 + thickness, 60):
        canvas = np.zeros(shape, np.uint8)
        got = foveal.draw_contours(canvas, polygons, -1, 1, thickness) != 0
        expected = cv2_draw(cv2, canvas, polygons, -1, 1, thickness) != 0
        assert not (got & ~_dilate(expected)).any(), "a pixel drawn far from cv2's drawing"
        assert not (expected & ~_dilate(got)).any(), "a pixel of cv2's drawing missed by far"
        drawn += int(expected.sum())
        differing += int((got != expected).sum())
    assert differing <= 0.10 * drawn, f"{differing} of {drawn} pixels differ"


def test_thick_axis_aligned_rectangles_match_cv2(cv2):
    """On axis-aligned edges a disc swept along the edge is cv2's thick line, corners included."""
    rect = [np.array([[10, 8], [10, 30], [40, 30], [40, 8]], np.int32)]
    segment = [np.array([[10, 20], [40, 20]], np.int32)]
    canvas = np.zeros((40, 50), np.uint8)
    for thickness in (2, 3, 4, 5, 6, 7):
        for contours in (rect, segment):
            got = foveal.draw_contours(canvas, contours, -1, 1, thickness)
            expected = cv2_draw(cv2, canvas, contours, -1, 1, thickness)
            assert_drawn_equal(got, expected, f"thickness={thickness} {contours[0].tolist()}")


@pytest.mark.parametrize("thickness", [1, -1, 3])
def test_points_outside_the_image_are_drawn_as_if_on_a_larger_image(thickness):
    """Lines and fills are clipped, not re-rasterised: drawing on a padded canvas with an offset
    and cropping gives the same image. (cv2 re-rounds lines it clips, so it is no anchor
    here.)"""
    pad = 100
    for shape, polygons in random_polygons(70, 60, inside=False):
        canvas = np.zeros(shape, np.uint8)
        got = foveal.draw_contours(canvas, polygons, -1, 255, thickness)
        big = np.zeros((shape[0] + 2 * pad, shape[1] + 2 * pad), np.uint8)
        expected = foveal.draw_contours(big, polygons, -1, 255, thickness, offset=(pad, pad))
        assert_drawn_equal(got, expected[pad:-pad, pad:-pad], f"{polygons}")


def test_draw_offset_matches_cv2(cv2):
    """Offsets that keep every point inside the image (see the test below for the others)."""
    img = np.pad(SMALL_IMAGES["blobs_31x33_0.5"], 6)  # points in x 6..38, y 6..36
    contours, hierarchy = foveal.find_contours(img, "tree", "simple")
    canvas = np.zeros((44, 46), np.uint8)
    for offset in [(0, 0), (5, 3), (-4, 7), [2, -6], (-6, -6), (7, 7)]:
        for thickness in (1, -1):
            got = foveal.draw_contours(canvas, contours, -1, 9, thickness, offset=offset)
            expected = cv2_draw(cv2, canvas, contours, -1, 9, thickness, offset=offset)
            assert_drawn_equal(got, expected, f"offset={offset}")


COLOURS = [
    ("uint8", 100.5),
    ("uint8", 101.5),
    ("uint8", 2.5),
    ("uint8", 300),
    ("uint8", -5),
    ("uint8", np.uint8(7)),
    ("uint16", 70000),
    ("uint16", 1000.5),
    ("int16", -40000),
    ("int16", -3.5),
    ("float32", 0.1),
    ("float32", -1e10),
    ("float64", 0.1),
]


@pytest.mark.parametrize(("dtype", "color"), COLOURS, ids=str)
def test_colours_saturate_and_round_as_cv2(cv2, dtype, color):
    contours = [np.array([[1, 1], [1, 5], [6, 6], [5, 1]], np.int32)]
    canvas = np.zeros((8, 9), dtype)
    for thickness in (1, -1):
        got = foveal.draw_contours(canvas, contours, -1, color, thickness)
        assert_drawn_equal(got, cv2_draw(cv2, canvas, contours, -1, float(color), thickness))


def test_a_number_colours_every_channel():
    contours = [np.array([[1, 1], [1, 5], [6, 6], [5, 1]], np.int32)]
    for channels in (1, 2, 3, 4):
        canvas = np.zeros((8, 9, channels), np.uint8)
        one = foveal.draw_contours(canvas, contours, color=77, thickness=-1)
        each = foveal.draw_contours(canvas, contours, color=(77,) * channels, thickness=-1)
        assert_drawn_equal(one, each)
        assert (one[2, 2] == 77).all() and (one[0, 0] == 0).all()


def test_contour_forms():
    """(n, 2) int32, cv2's (n, 1, 2), int64, uint16, lists and tuples, F-order and strided
    arrays draw the same."""
    rng = np.random.default_rng(SEED + 80)
    polygons = [rng.integers(0, 30, (n, 2)).astype(np.int32) for n in (3, 7, 12)]
    canvas = np.zeros((32, 32), np.uint8)
    for thickness in (1, -1, 2):
        expected = foveal.draw_contours(canvas, polygons, thickness=thickness)
        forms = {
            "cv2": [p.reshape(-1, 1, 2) for p in polygons],
            "int64": [p.astype(np.int64) for p in polygons],
            "uint16": [p.astype(np.uint16) for p in polygons],
            "lists": [p.tolist() for p in polygons],
            "tuple": tuple(polygons),
            "fortran": [np.asfortranarray(p) for p in polygons],
            "strided": [np.repeat(p, 2, axis=0)[::2] for p in polygons],
        }
        for name, contours in forms.items():
            got = foveal.draw_contours(canvas, contours, thickness=thickness)
            assert_drawn_equal(got, expected, f"{name} thickness={thickness}")
        # an empty contour draws nothing; the others are still drawn
        got = foveal.draw_contours(
            canvas, [np.zeros((0, 2), np.int32), *polygons], thickness=thickness
        )
        assert_drawn_equal(got, expected, f"with an empty contour, thickness={thickness}")


def test_draw_out_and_in_place():
    img = SMALL_IMAGES["blobs_31x33_0.5"]
    contours, _ = foveal.find_contours(img, "tree", "simple")
    rng = np.random.default_rng(SEED + 90)
    image = rng.integers(0, 100, (31, 33, 3)).astype(np.uint8)
    before = image.copy()
    expected = foveal.draw_contours(image, contours, -1, (1, 2, 250), -1)
    np.testing.assert_array_equal(image, before)  # the input is not modified
    assert not np.array_equal(expected, before)
    out = np.zeros_like(image)
    assert foveal.draw_contours(image, contours, -1, (1, 2, 250), -1, out=out) is out
    assert_drawn_equal(out, expected, "out")
    np.testing.assert_array_equal(image, before)
    # strided out: every other channel of a 6-channel buffer, every other column
    big = np.full((31, 66, 6), 9, np.uint8)
    view = big[:, ::2, ::2]
    assert foveal.draw_contours(image, contours, -1, (1, 2, 250), -1, out=view) is view
    assert_drawn_equal(view, expected, "strided out")
    assert (big[:, 1::2] == 9).all() and (big[:, :, 1::2] == 9).all()
    # in place
    same = image.copy()
    assert foveal.draw_contours(same, contours, -1, (1, 2, 250), -1, out=same) is same
    assert_drawn_equal(same, expected, "in place")
    # in place on a view that is not contiguous
    buffer = np.repeat(image, 2, axis=1)
    flipped = buffer[::-1, ::2]
    want = foveal.draw_contours(np.ascontiguousarray(flipped), contours, -1, (1, 2, 250), 1)
    assert foveal.draw_contours(flipped, contours, -1, (1, 2, 250), 1, out=flipped) is flipped
    assert_drawn_equal(flipped, want, "in place, flipped view")
    np.testing.assert_array_equal(buffer[:, 1::2], image)


@pytest.mark.parametrize("view", ["step2", "neg_rows", "neg_both_step", "fortran", "transposed"])
def test_draw_on_views(view):
    canvas = VIEWS[view](
        np.random.default_rng(SEED + 91).integers(0, 9, (90, 140)).astype(np.uint8)
    )
    before = canvas.copy()
    contours, _ = foveal.find_contours(VIEWS[view](BASE), "list", "none")
    for thickness in (1, -1, 3):
        got = foveal.draw_contours(canvas, contours, -1, 200, thickness)
        expected = foveal.draw_contours(np.ascontiguousarray(canvas), contours, -1, 200, thickness)
        assert_drawn_equal(got, expected, f"thickness={thickness}")
    np.testing.assert_array_equal(canvas, before)


def test_draw_torch():
    torch = pytest.importorskip("torch")
    contours, _ = foveal.find_contours(SMALL_IMAGES["blobs_31x33_0.5"], "tree", "simple")
    image = np.zeros((31, 33), np.float32)
    expected = foveal.draw_contours(image, contours, -1, 0.5, -1)
    got = foveal.draw_contours(torch.from_numpy(image), contours, -1, 0.5, -1)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_array_equal(got.numpy(), expected)
    assert not image.any()
    out = torch.zeros((31, 33), dtype=torch.float32)
    assert foveal.draw_contours(image, contours, -1, 0.5, -1, out=out) is out
    np.testing.assert_array_equal(out.numpy(), expected)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------

IMG = SMALL_IMAGES["blobs_8x8_0.5"]
SQUARE = [np.array([[1, 1], [1, 3], [3, 3], [3, 1]], np.int32)]
CANVAS = np.zeros((6, 7), np.uint8)
RGB = np.zeros((6, 7, 3), np.uint8)
HIER = np.array([[-1, -1, -1, -1]], np.int32)


def draw(**kw):
    args = dict(image=CANVAS, contours=SQUARE)
    args.update(kw)
    return lambda: foveal.draw_contours(**args)


BAD = [
    # find_contours
    (lambda: foveal.find_contours([[0, 1]]), TypeError, "find_contours: binary must be an array"),
    (lambda: foveal.find_contours(None), TypeError, "find_contours: binary must be an array"),
    (lambda: foveal.find_contours(IMG.astype(complex)), TypeError, "find_contours: binary dtype"),
    (lambda: foveal.find_contours(IMG.astype(np.int32)), TypeError, "find_contours: binary dtype"),
    (lambda: foveal.find_contours(IMG.astype(np.int64)), TypeError, "find_contours: binary dtype"),
    (lambda: foveal.find_contours(IMG[0]), ValueError, "find_contours: binary must be 2-D"),
    (lambda: foveal.find_contours(IMG[..., None]), ValueError, "find_contours: binary must be 2-D"),
    (lambda: foveal.find_contours(IMG[:0]), ValueError, "find_contours: binary must not be empty"),
    (lambda: foveal.find_contours(IMG[:, :0]), ValueError, "find_contours: binary must not be"),
    (lambda: foveal.find_contours(IMG, "floodfill"), ValueError, "find_contours: mode must be"),
    (lambda: foveal.find_contours(IMG, ""), ValueError, "find_contours: mode must be"),
    (lambda: foveal.find_contours(IMG, 3), TypeError, "find_contours: mode must be a string"),
    (lambda: foveal.find_contours(IMG, "tree", "tc89_l1"), ValueError, "find_contours: method"),
    (lambda: foveal.find_contours(IMG, "tree", None), TypeError, "find_contours: method must be"),
    (lambda: foveal.find_contours(IMG, offset=(1, 2, 3)), TypeError, "find_contours: offset"),
    (lambda: foveal.find_contours(IMG, offset=1), TypeError, "find_contours: offset"),
    (lambda: foveal.find_contours(IMG, offset="ab"), TypeError, "find_contours: offset"),
    (lambda: foveal.find_contours(IMG, offset=(1.5, 0)), TypeError, "find_contours: offset"),
    (lambda: foveal.find_contours(IMG, offset=(0, 2**21)), ValueError, "find_contours: offset"),
    (lambda: foveal.find_contours(IMG, offset=(-(2**20) - 1, 0)), ValueError, "offset must be"),
    # contour_area, arc_length, bounding_rect
    (lambda: foveal.contour_area("abc"), TypeError, "contour_area: contour must hold"),
    (lambda: foveal.contour_area(None), TypeError, "contour_area: contour must hold"),
    (lambda: foveal.contour_area(np.ones((3, 2), complex)), TypeError, "contour_area: contour"),
    (lambda: foveal.contour_area(np.ones((3, 2), bool)), TypeError, "contour_area: contour"),
    (lambda: foveal.contour_area(np.ones((3, 3))), ValueError, r"contour_area: contour must be"),
    (lambda: foveal.contour_area(np.ones(4)), ValueError, r"contour_area: contour must be an"),
    (lambda: foveal.contour_area(np.ones((3, 2, 1))), ValueError, "contour_area: contour must"),
    (
        lambda: foveal.contour_area([[0, 0], [np.nan, 1], [1, 1]]),
        ValueError,
        "contour_area: contour must be finite",
    ),
    (lambda: foveal.arc_length(np.ones((3, 3))), ValueError, "arc_length: contour must be an"),
    (lambda: foveal.arc_length([[0, 0], [np.inf, 1]]), ValueError, "arc_length: contour must be"),
    (lambda: foveal.arc_length(object()), TypeError, "arc_length: contour must hold"),
    (lambda: foveal.arc_length(np.ones((3, 2), np.uint64)), TypeError, "arc_length: contour"),
    (lambda: foveal.bounding_rect(np.ones((2, 3))), ValueError, "bounding_rect: contour must be"),
    (lambda: foveal.bounding_rect(np.ones((2, 2), "U1")), TypeError, "bounding_rect: contour"),
    (lambda: foveal.bounding_rect([[0, np.nan]]), ValueError, "bounding_rect: contour must be"),
    # draw_contours: the image
    (draw(image=[[0, 0]]), TypeError, "draw_contours: image must be an array"),
    (draw(image=CANVAS.astype(complex)), TypeError, "draw_contours: image dtype complex128"),
    (draw(image=CANVAS.astype(np.int32)), TypeError, "draw_contours: image dtype int32"),
    (draw(image=CANVAS.astype(bool)), TypeError, "draw_contours: image dtype bool"),
    (draw(image=CANVAS[0]), ValueError, "draw_contours: image must be 2-D"),
    (draw(image=CANVAS[..., None, None]), ValueError, "draw_contours: image must be 2-D"),
    (draw(image=np.zeros((6, 7, 5), np.uint8)), ValueError, "draw_contours: image must have at"),
    (draw(image=CANVAS[:0]), ValueError, "draw_contours: image must not be empty"),
    # the contours
    (draw(contours=SQUARE[0]), TypeError, "draw_contours: contours must be a list"),
    (draw(contours=None), TypeError, "draw_contours: contours must be a list"),
    (draw(contours=[np.ones((3, 3), np.int32)]), ValueError, r"draw_contours: contours\[0\]"),
    (draw(contours=[[1, 1], [2, 2]]), ValueError, r"draw_contours: contours\[0\]"),
    (draw(contours=[SQUARE[0] * 1.0]), TypeError, r"draw_contours: contours\[0\] must hold"),
    (draw(contours=[SQUARE[0], "ab"]), TypeError, r"draw_contours: contours\[1\] must hold"),
    (
        draw(contours=[np.array([[0, 0], [2**20 + 1, 0], [0, 3]], np.int32)]),
        ValueError,
        r"draw_contours: contours\[0\] has points",
    ),
    (
        draw(contours=[np.array([[0, 0], [-(2**20) - 1, 0], [0, 3]], np.int64)]),
        ValueError,
        r"draw_contours: contours\[0\] has points",
    ),
    (
        draw(contours=[np.array([[0, 0], [0, 2**31]], np.int64)]),
        ValueError,
        r"draw_contours: contours\[0\] has points",
    ),
    (
        draw(contours=[np.array([[0, 0], [2**20, 0]], np.int32)], offset=(1, 0)),
        ValueError,
        r"draw_contours: contours\[0\] has points",
    ),
    # index, thickness, colour, hierarchy, max_level, offset
    (draw(index=1), ValueError, "draw_contours: index must be -1 or below"),
    (draw(contours=[], index=0), ValueError, "draw_contours: index must be -1 or below"),
    (draw(index=-2), ValueError, "draw_contours: index must be >= -1"),
    (draw(index=0.0), TypeError, "draw_contours: index must be an integer"),
    (draw(thickness=0), ValueError, "draw_contours: thickness must be"),
    (draw(thickness=-2), ValueError, "draw_contours: thickness must be"),
    (draw(thickness=40000), ValueError, "draw_contours: thickness must be"),
    (draw(thickness=1.5), TypeError, "draw_contours: thickness must be an integer"),
    (draw(image=RGB, color=(1, 2)), ValueError, "draw_contours: color must be a number or 3"),
    (draw(image=RGB, color=(1, 2, 3, 4)), ValueError, "draw_contours: color must be"),
    (draw(color=(1, 2)), ValueError, "draw_contours: color must be a number or 1"),
    (draw(image=RGB, color="red"), TypeError, "draw_contours: color must be a number"),
    (draw(color=(True,)), TypeError, "draw_contours: color values must be numbers"),
    (draw(color=float("nan")), ValueError, "draw_contours: color must not be NaN"),
    (draw(hierarchy=np.zeros((2, 4), np.int32)), ValueError, "draw_contours: hierarchy must be"),
    (draw(hierarchy=np.zeros((1, 3), np.int32)), ValueError, "draw_contours: hierarchy must be"),
    (draw(hierarchy=HIER.astype(float)), ValueError, "draw_contours: hierarchy must be an"),
    (draw(hierarchy="x"), ValueError, "draw_contours: hierarchy must be an"),
    (draw(hierarchy=HIER + [[5, 0, 0, 0]]), ValueError, "draw_contours: hierarchy links"),
    (draw(hierarchy=HIER - [[0, 0, 1, 0]]), ValueError, "draw_contours: hierarchy links"),
    (draw(hierarchy=HIER, max_level=-1), ValueError, "draw_contours: max_level must be >= 0"),
    (draw(hierarchy=HIER, max_level=1.5), TypeError, "draw_contours: max_level must be an"),
    (draw(offset=(1,)), TypeError, "draw_contours: offset must be a pair"),
    (draw(offset=None), TypeError, "draw_contours: offset must be a pair"),
    (draw(offset=(2**20 + 1, 0)), ValueError, "draw_contours: offset must be <="),
    (draw(out=np.zeros((6, 6), np.uint8)), ValueError, "draw_contours: out must have shape"),
    (draw(out=np.zeros((6, 7), np.uint16)), TypeError, "draw_contours: out must have dtype"),
    (
        draw(out=np.broadcast_to(np.uint8(0), (6, 7))),
        ValueError,
        "draw_contours: out is read-only",
    ),
    (draw(out=[[0] * 7] * 6), TypeError, "draw_contours: out must be an array"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD, ids=[b[2] for b in BAD])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("color", [None, object()], ids=["None", "object"])
def test_bad_colour_object_names_the_argument(color):
    with pytest.raises(TypeError, match="draw_contours: color"):
        foveal.draw_contours(CANVAS, SQUARE, color=color)


def test_bad_input_leaves_out_untouched():
    out = np.full((6, 7), 3, np.uint8)
    with pytest.raises(ValueError, match="thickness"):
        foveal.draw_contours(CANVAS, SQUARE, thickness=0, out=out)
    with pytest.raises(ValueError, match="has points"):
        foveal.draw_contours(CANVAS, [np.array([[0, 0], [0, 2**30]], np.int64)], out=out)
    assert (out == 3).all()

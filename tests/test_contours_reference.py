"""foveal.reference.contours against cv2.findContours and cv2's contour measures, the anchor of
foveal's border following.

The reference must give cv2's contours point for point, in cv2's order, and cv2's hierarchy
exactly, for every mode (external, list, ccomp, tree) and method (none, simple), on the
BINARY_IMAGES of test_components_reference (noise and blobs of several densities and shapes,
nested rings, single pixels, border regions, all-zero / all-one images, thin diagonals).
contour_area, arc_length and bounding_rect must equal cv2.contourArea, cv2.arcLength and
cv2.boundingRect exactly on those contours and on random polygons. Hand-written expectations
come first; they run without cv2.
"""

from __future__ import annotations

import numpy as np
import pytest
from foveal.reference.contours import arc_length, bounding_rect, contour_area, find_contours
from test_components_reference import BINARY_IMAGES

MODES = ("external", "list", "ccomp", "tree")
METHODS = ("none", "simple")
CV2_MODES = {"external": "RETR_EXTERNAL", "list": "RETR_LIST", "ccomp": "RETR_CCOMP"}
CV2_MODES["tree"] = "RETR_TREE"
CV2_METHODS = {"none": "CHAIN_APPROX_NONE", "simple": "CHAIN_APPROX_SIMPLE"}


def assert_contours_equal(got, expected) -> None:
    """Contours and hierarchies equal: the same number, each the same points in order."""
    contours, hierarchy = got
    assert hierarchy.dtype == np.int32 and hierarchy.shape == (len(contours), 4)
    np.testing.assert_array_equal(hierarchy, expected[1])
    assert len(contours) == len(expected[0])
    for i, (c, e) in enumerate(zip(contours, expected[0], strict=True)):
        assert c.dtype == np.int32 and c.ndim == 2 and c.shape[1] == 2, f"contour {i}"
        np.testing.assert_array_equal(c, np.asarray(e).reshape(-1, 2), err_msg=f"contour {i}")


def cv2_contours(cv2, img, mode, method):
    """cv2.findContours in the reference's layout: (n, 2) contours, an (N, 4) hierarchy."""
    mode, method = getattr(cv2, CV2_MODES[mode]), getattr(cv2, CV2_METHODS[method])
    contours, hierarchy = cv2.findContours(img, mode, method)
    hierarchy = np.zeros((0, 4), np.int32) if hierarchy is None else hierarchy.reshape(-1, 4)
    return [c.reshape(-1, 2) for c in contours], hierarchy


# ----------------------------------------------------------------------------- hand-written

SQUARE = np.pad(np.ones((3, 3), np.uint8), 1)  # pixels (1..3, 1..3) of a 5x5 image
# a 5x5 ring (1..5) around a 3x3 hole holding the pixel (3, 3)
RING = np.pad(np.pad(np.pad(np.ones((1, 1), np.uint8), 1), 1, constant_values=1), 1)
RING_OUTER = [[1, 1], [1, 5], [5, 5], [5, 1]]
# the hole's border, 8-connected, cuts the hole's corners; it turns clockwise on screen
RING_HOLE = [[1, 2], [2, 1], [4, 1], [5, 2], [5, 4], [4, 5], [2, 5], [1, 4]]


def test_square():
    # outer borders go down their left side first (counter-clockwise on screen)
    none = [[1, 1], [1, 2], [1, 3], [2, 3], [3, 3], [3, 2], [3, 1], [2, 1]]
    for mode in MODES:
        assert_contours_equal(find_contours(SQUARE, mode, "none"), ([none], [[-1, -1, -1, -1]]))
        simple = ([[[1, 1], [1, 3], [3, 3], [3, 1]]], [[-1, -1, -1, -1]])
        assert_contours_equal(find_contours(SQUARE, mode, "simple"), simple)


def test_ring_with_dot_every_mode():
    dot = [[3, 3]]
    # tree: outer ring -> its hole -> the dot
    tree = ([RING_OUTER, RING_HOLE, dot], [[-1, -1, 1, -1], [-1, -1, 2, 0], [-1, -1, -1, 1]])
    assert_contours_equal(find_contours(RING, "tree"), tree)
    # ccomp: outer borders on top, holes below them; the dot was found last, so it is first
    ccomp = ([dot, RING_OUTER, RING_HOLE], [[1, -1, -1, -1], [-1, 0, 2, -1], [-1, -1, -1, 1]])
    assert_contours_equal(find_contours(RING, "ccomp"), ccomp)
    # list: every border on top, in reverse order of discovery
    flat = ([dot, RING_HOLE, RING_OUTER], [[1, -1, -1, -1], [2, 0, -1, -1], [-1, 1, -1, -1]])
    assert_contours_equal(find_contours(RING, "list"), flat)
    # external: the dot inside the ring's hole is not an external border
    assert_contours_equal(find_contours(RING, "external"), ([RING_OUTER], [[-1, -1, -1, -1]]))


def test_siblings_in_reverse_order():
    img = np.zeros((3, 7), np.uint8)
    img[1, 1] = img[1, 3] = img[1, 5] = 1
    expected = ([[[5, 1]], [[3, 1]], [[1, 1]]], [[1, -1, -1, -1], [2, 0, -1, -1], [-1, 1, -1, -1]])
    assert_contours_equal(find_contours(img, "tree", "none"), expected)


def test_hole_starting_on_outer_border():
    """The hole of the diamond starts at (0, 1), a pixel the outer border already marked, with
    nothing marked before it on its row: Suzuki's rule sets LNBD to that pixel's border, so
    the hole is the outer border's child (taking LNBD = the frame would orphan it)."""
    diamond = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.uint8)
    outer, hole = [[1, 0], [0, 1], [1, 2], [2, 1]], [[0, 1], [1, 0], [2, 1], [1, 2]]
    expected = ([outer, hole], [[-1, -1, 1, -1], [-1, -1, -1, 0]])
    assert_contours_equal(find_contours(diamond, "tree", "none"), expected)


def test_no_contours():
    for img in (np.zeros((4, 5), np.uint8), np.zeros((0, 3), np.uint8)):
        contours, hierarchy = find_contours(img)
        assert contours == [] and hierarchy.shape == (0, 4) and hierarchy.dtype == np.int32


def test_whole_image_is_one_contour():
    contours, hierarchy = find_contours(np.full((3, 4), 255, np.uint8), "tree", "simple")
    assert_contours_equal((contours, hierarchy), ([[[0, 0], [0, 2], [3, 2], [3, 0]]], [[-1] * 4]))


def test_measures_by_hand():
    square = np.array(RING_OUTER)  # 4x4 between the pixel centres, counter-clockwise
    assert contour_area(square) == 16.0
    assert contour_area(square, oriented=True) == -16.0
    assert contour_area(square[::-1], oriented=True) == 16.0
    assert contour_area(square[:2]) == 0.0
    assert arc_length(square) == 16.0 and arc_length(square, closed=False) == 12.0
    assert arc_length(np.array([[0, 0], [3, 4]])) == 10.0
    assert arc_length(np.array([[2, 2]])) == 0.0
    assert bounding_rect(square) == (1, 1, 5, 5)
    assert bounding_rect(np.zeros((0, 2), np.int32)) == (0, 0, 0, 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        find_contours(SQUARE, mode="floodfill")
    with pytest.raises(ValueError, match="method"):
        find_contours(SQUARE, method="tc89_l1")
    with pytest.raises(ValueError, match="2-D"):
        find_contours(np.ones((2, 2, 2)))


# ----------------------------------------------------------------------------- against cv2


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(BINARY_IMAGES))
def test_matches_cv2(cv2, name, mode, method):
    img = BINARY_IMAGES[name]
    assert_contours_equal(find_contours(img, mode, method), cv2_contours(cv2, img, mode, method))


def assert_measures_match_cv2(cv2, contour) -> None:
    c = np.ascontiguousarray(contour, np.int32).reshape(-1, 1, 2)  # cv2's layout
    assert contour_area(contour) == cv2.contourArea(c)
    assert contour_area(contour, oriented=True) == cv2.contourArea(c, oriented=True)
    assert arc_length(contour) == cv2.arcLength(c, closed=True)
    assert arc_length(contour, closed=False) == cv2.arcLength(c, closed=False)
    assert bounding_rect(contour) == tuple(cv2.boundingRect(c))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ["noise_37x53_0.5", "blobs_37x53_0.3", "diagonals", "rings_w3"])
def test_measures_match_cv2_on_contours(cv2, name, method):
    contours, _ = find_contours(BINARY_IMAGES[name], "list", method)
    assert contours
    for contour in contours:
        assert_measures_match_cv2(cv2, contour)


def test_measures_match_cv2_on_random_polygons(cv2):
    """Self-intersecting polygons with large coordinates: float32 segment lengths matter."""
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 5, 8, 13, 50):
        for _ in range(10):
            assert_measures_match_cv2(cv2, rng.integers(-5000, 5000, (n, 2)))

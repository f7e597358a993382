"""foveal.reference.components against cv2.connectedComponentsWithStats, the anchor of foveal's
connected-component labelling.

The reference must give cv2's labels, count, stats and centroids exactly, for 4- and
8-connectivity, on BINARY_IMAGES: thresholded noise and smoothed noise (blobs with holes in
holes) of several densities and shapes (1x1, 1xN, Nx1, 2x2, 37x53, ...), nested rings, single
pixels, regions on the image border, all-zero and all-one images, thin diagonal lines. The one
licensed difference: the background row of an image without background, which cv2 leaves at
its artifact [-1, INT_MAX, 0, 0, 0]. Hand-written expectations come first; they run without cv2.

BINARY_IMAGES is shared with test_contours_reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from foveal.reference.components import component_stats, label

INT_MAX = np.iinfo(np.int32).max


# ----------------------------------------------------------------------------- images


def noise(seed: int, shape, density: float) -> np.ndarray:
    """Uniform noise below ``density``: scattered pixels and small clusters."""
    return (np.random.default_rng(seed).random(shape) < density).astype(np.uint8)


def blobs(seed: int, shape, density: float) -> np.ndarray:
    """Noise smoothed by a 5x5 mean (wrapping) and thresholded at its ``density`` quantile:
    rounder regions, with holes and regions in holes."""
    r = np.random.default_rng(seed).random(shape)
    smooth = sum(np.roll(r, (dy, dx), (0, 1)) for dy in range(-2, 3) for dx in range(-2, 3))
    return (smooth < np.quantile(smooth, density)).astype(np.uint8)


def rings(size: int, width: int, margin: int) -> np.ndarray:
    """Concentric square rings ``width`` wide, separated by ``width`` of background, inside a
    ``margin`` of background (0: the outer ring lies on the image border)."""
    y, x = np.mgrid[0:size, 0:size]
    depth = np.minimum(np.minimum(y, x), np.minimum(size - 1 - y, size - 1 - x))
    return np.pad(((depth // width) % 2 == 0).astype(np.uint8), margin)


def nested_squares() -> np.ndarray:
    """Side by side: a filled square, a square with a hole, one with a dot in its hole, one with
    a ring in its hole and a dot in that ring's hole."""
    img = np.zeros((13, 52), np.uint8)
    for i in range(4):
        img[1:12, 1 + 13 * i : 12 + 13 * i] = 1
        if i:
            img[3:10, 3 + 13 * i : 10 + 13 * i] = 0
        if i == 2:
            img[6, 6 + 13 * i] = 1
        if i == 3:
            img[5:8, 5 + 13 * i : 8 + 13 * i] = 1
            img[6, 6 + 13 * i] = 0
    return img


def single_pixels() -> np.ndarray:
    """Isolated pixels, the four corners included."""
    img = np.zeros((9, 11), np.uint8)
    img[::4, ::5] = 1
    img[2, 3] = img[6, 8] = 1
    return img


def border_regions() -> np.ndarray:
    """Regions touching each side, a corner, and one running along a whole side."""
    img = np.zeros((12, 15), np.uint8)
    img[0:3, 4:8] = 1  # top
    img[5:9, 0:2] = 1  # left
    img[-1, :] = 1  # the whole bottom row
    img[3:6, -1] = 1  # right
    img[0, 0] = 1  # a corner pixel
    img[0:2, -2:] = 1  # a corner block
    img[6:9, 5:10] = 1  # inside, with a hole
    img[7, 6:9] = 0
    return img


def diagonals() -> np.ndarray:
    """One-pixel diagonal lines: a long one, an anti-diagonal crossing it, parallel ones one
    pixel apart (8-connected through their corners), a diagonal diamond enclosing a hole."""
    img = np.zeros((24, 24), np.uint8)
    i = np.arange(24)
    img[i, i] = 1
    img[i[:12], 11 - i[:12]] = 1
    for k in (14, 16, 18):
        img[i[: 24 - k], i[: 24 - k] + k] = 1
    for d in range(4):  # diamond with corners (x, y) = (5, 16), (8, 19), (5, 22), (2, 19)
        img[16 + d, 5 + d] = img[19 + d, 8 - d] = img[22 - d, 5 - d] = img[19 - d, 2 + d] = 1
    return img


def checkerboard(shape) -> np.ndarray:
    return (np.add.outer(np.arange(shape[0]), np.arange(shape[1])) % 2).astype(np.uint8)


def diamond() -> np.ndarray:
    """Four pixels around a background one: a hole border starts on a pixel of the outer
    border, with no marked pixel before it on its row (Suzuki's LNBD update)."""
    return np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.uint8)


def gray_values() -> np.ndarray:
    """Any nonzero value is foreground, not just 1."""
    img = np.random.default_rng(7).integers(0, 256, (17, 19)).astype(np.uint8)
    img[img < 140] = 0
    return img


RANDOM_SHAPES = ((1, 1), (1, 17), (17, 1), (2, 2), (5, 8), (16, 16), (37, 53))
DENSITIES = (0.1, 0.3, 0.5, 0.7, 0.9)

BINARY_IMAGES = {
    f"{kind.__name__}_{h}x{w}_{d}": kind(1000 * k + 10 * s + j, (h, w), d)
    for k, kind in enumerate((noise, blobs))
    for s, (h, w) in enumerate(RANDOM_SHAPES)
    for j, d in enumerate(DENSITIES)
    if kind is noise or h * w >= 25
}
BINARY_IMAGES.update(
    {
        "rings_w1": rings(19, 1, 1),
        "rings_w1_on_border": rings(21, 1, 0),
        "rings_w2_on_border": rings(30, 2, 0),
        "rings_w3": rings(27, 3, 2),
        "nested_squares": nested_squares(),
        "single_pixels": single_pixels(),
        "border_regions": border_regions(),
        "all_zero_5x7": np.zeros((5, 7), np.uint8),
        "all_zero_1x1": np.zeros((1, 1), np.uint8),
        "all_one_5x7": np.ones((5, 7), np.uint8),
        "all_one_1x1": np.ones((1, 1), np.uint8),
        "all_one_1x6": np.ones((1, 6), np.uint8),
        "all_one_6x1": np.ones((6, 1), np.uint8),
        "diagonals": diagonals(),
        "checkerboard_7x8": checkerboard((7, 8)),
        "diamond": diamond(),
        "gray_values": gray_values(),
    }
)


# ----------------------------------------------------------------------------- hand-written


def test_label_example():
    # 8-connected, the two pixels are apart; cv2 numbers the one in block (0, 0) first
    img = np.array([[0, 0, 1], [1, 0, 0]], np.uint8)
    labels, count = label(img, connectivity=8)
    assert count == 2 and labels.dtype == np.int32
    np.testing.assert_array_equal(labels, [[0, 0, 2], [1, 0, 0]])
    labels, count = label(img, connectivity=8, order="raster")
    np.testing.assert_array_equal(labels, [[0, 0, 1], [2, 0, 0]])
    labels, count = label(img, connectivity=4)
    np.testing.assert_array_equal(labels, [[0, 0, 1], [2, 0, 0]])


def test_label_connectivity():
    img = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]], np.uint8)
    labels, count = label(img, connectivity=4)
    assert count == 3
    np.testing.assert_array_equal(labels, [[1, 0, 2], [0, 3, 0], [3, 3, 0]])
    labels, count = label(img, connectivity=8)
    assert count == 1
    np.testing.assert_array_equal(labels, img)


def test_component_stats_example():
    labels = np.array([[0, 1, 1, 0], [3, 0, 1, 0]], np.int32)  # label 2 has no pixels
    stats, centroids = component_stats(labels)
    assert stats.dtype == np.int32 and centroids.dtype == np.float64
    np.testing.assert_array_equal(
        stats,
        [[0, 0, 4, 2, 4], [1, 0, 2, 2, 3], [-1, -1, 0, 0, 0], [0, 1, 1, 1, 1]],
    )
    np.testing.assert_array_equal(
        centroids, [[(0 + 3 + 1 + 3) / 4, 2 / 4], [5 / 3, 1 / 3], [np.nan, np.nan], [0, 1]]
    )


def test_empty_and_full_images():
    labels, count = label(np.zeros((0, 0), np.uint8))
    assert count == 0 and labels.shape == (0, 0) and labels.dtype == np.int32
    stats, centroids = component_stats(labels)
    np.testing.assert_array_equal(stats, [[-1, -1, 0, 0, 0]])
    assert np.isnan(centroids).all() and centroids.shape == (1, 2)
    labels, count = label(np.ones((2, 3), bool))
    stats, _ = component_stats(labels)
    np.testing.assert_array_equal(stats, [[-1, -1, 0, 0, 0], [0, 0, 3, 2, 6]])


def test_bad_arguments():
    with pytest.raises(ValueError, match="connectivity"):
        label(np.ones((2, 2)), connectivity=6)
    with pytest.raises(ValueError, match="2-D"):
        label(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="order"):
        label(np.ones((2, 2)), order="blocks")


# ----------------------------------------------------------------------------- against cv2


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("name", list(BINARY_IMAGES))
def test_matches_cv2(cv2, name, connectivity):
    img = BINARY_IMAGES[name]
    n, cv_labels, cv_stats, cv_centroids = cv2.connectedComponentsWithStats(
        img, connectivity=connectivity
    )
    labels, count = label(img, connectivity)
    assert count + 1 == n
    np.testing.assert_array_equal(labels, cv_labels)
    stats, centroids = component_stats(labels)
    if img.all():  # no background: cv2's row 0 is its artifact, ours the empty-label row
        np.testing.assert_array_equal(cv_stats[0], [-1, INT_MAX, 0, 0, 0])
        cv_stats[0] = (-1, -1, 0, 0, 0)
    np.testing.assert_array_equal(stats, cv_stats)
    np.testing.assert_array_equal(centroids, cv_centroids)  # nan where nan, else exact


@pytest.mark.parametrize("name", ["noise_37x53_0.5", "blobs_37x53_0.7", "diagonals"])
def test_raster_order_renumbers_cv2(cv2, name):
    """order="raster": cv2's 8-connected components, numbered by first pixel."""
    img = BINARY_IMAGES[name]
    _, cv_labels = cv2.connectedComponents(img, connectivity=8)
    labels, count = label(img, 8, order="raster")
    first = np.array([np.flatnonzero(labels == k)[0] for k in range(1, count + 1)])
    assert np.all(np.diff(first) > 0)
    renumber = np.zeros(count + 1, np.int32)
    renumber[labels.flat[first]] = cv_labels.flat[first]
    np.testing.assert_array_equal(renumber[labels], cv_labels)

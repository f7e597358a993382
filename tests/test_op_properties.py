"""Property tests over the op table: hypothesis draws shapes, dtypes, borders and parameters
from each entry's generator (op_table's DataPicker drives the same ``make`` the fixed sweep
uses) and compares every function with foveal.reference; and invariants that hold whatever the
input: erode <= image <= dilate, opening and closing idempotent, k-means inertia never rising
between iterations, labels and contours consistent with the image and with each other.

The example count is the profile's (conftest: "ci" 40, FOVEAL_HYPOTHESIS_PROFILE=thorough
400).
"""

from __future__ import annotations

import foveal
import numpy as np
import pytest
from op_table import BY_NAME, OPS, DataPicker, assert_identical, to_numpy

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning"),
]


def draw_sample(data, op, dtype=None):
    p = DataPicker(data)
    dtype = dtype or p.choice(op.dtypes)
    s = op.make(p, dtype, op.draw_shape(p))
    return s.replace(desc=f"{op.name}[{dtype}] {s.desc}")


@pytest.mark.parametrize("name", [op.name for op in OPS])
@given(data=st.data())
def test_matches_reference(name, data):
    op = BY_NAME[name]
    s = draw_sample(data, op)
    op.check(op.func(*s.args, **s.kwargs), op.ref(s), s)


# --------------------------------------------------------------------------------------------
# morphology
# --------------------------------------------------------------------------------------------


def _no_nan(img: np.ndarray) -> np.ndarray:
    return np.nan_to_num(img, nan=0.0) if img.dtype.kind == "f" else img


@given(data=st.data())
def test_erode_below_image_below_dilate(data):
    """For a kernel holding its anchor (the generator's rule), any border, any iterations:
    each pixel's window includes the pixel itself."""
    s = draw_sample(data, BY_NAME["erode"])
    img = _no_nan(s.args[0])
    kw = s.kwargs
    lo, hi = foveal.erode(img, **kw), foveal.dilate(img, **kw)
    assert (lo <= img).all() and (img <= hi).all(), s.desc


SYMMETRIC = [
    (shape, k) for shape in ("rect", "ellipse", "cross") for k in (1, 3, 5, (3, 5), (7, 1))
]


@given(data=st.data())
def test_opening_and_closing_are_idempotent(data):
    """With a symmetric kernel about its centre and the default border (the outside never
    wins), opening and closing are idempotent, opening <= image <= closing, and the top-hat and
    black-hat are >= 0."""
    p = DataPicker(data)
    dtype = p.choice(BY_NAME["morphology"].dtypes)
    img = _no_nan(p.image(BY_NAME["morphology"].draw_shape(p), dtype))
    shape, k = p.choice(SYMMETRIC)
    kernel = foveal.structuring_element(shape, k)
    it = p.choice((1, 2))
    m = lambda x, op: foveal.morphology(x, op, kernel, iterations=it)  # noqa: E731
    opened, closed = m(img, "open"), m(img, "close")
    np.testing.assert_array_equal(m(opened, "open"), opened)
    np.testing.assert_array_equal(m(closed, "close"), closed)
    assert (opened <= img).all() and (img <= closed).all()
    if dtype != "bool":
        zero = np.zeros((), dtype)
        assert (m(img, "tophat") >= zero).all() and (m(img, "blackhat") >= zero).all()


# --------------------------------------------------------------------------------------------
# k-means
# --------------------------------------------------------------------------------------------


@given(data=st.data())
def test_kmeans_inertia_never_rises(data):
    """Lloyd's iterations from the same initial centers: the inertia after max_iter = i is
    never above that after i - 1 (tol 0: no early stop but strict convergence) beyond the
    rounding of a sum of squares in the data's precision (1e-6 relative for float32: the same
    centers summed in another order); each result's labels are its centers' nearest."""
    s = draw_sample(data, BY_NAME["kmeans"])
    x, k = s.args
    kw = {key: v for key, v in s.kwargs.items() if key in ("init", "sample_weight")}
    inertias = []
    for i in range(1, 7):
        r = foveal.kmeans(x, k, max_iter=i, tol=0.0, **kw)
        inertias.append(r.inertia)
        np.testing.assert_array_equal(foveal.kmeans_predict(x, r.centers), r.labels)
    rel = 1e-6 if x.dtype == np.float32 else 1e-12
    for a, b in zip(inertias, inertias[1:], strict=False):
        assert b <= a * (1 + rel) + 1e-12, (s.desc, inertias)


# --------------------------------------------------------------------------------------------
# connected components and contours
# --------------------------------------------------------------------------------------------


@given(data=st.data())
def test_labels_are_consistent(data):
    """Labels 1..count exactly on the foreground, each used; 8-connectivity joins what
    4-connectivity does (never more components); the statistics computed with the labels are
    component_stats's, and the areas add up to the foreground."""
    s = draw_sample(data, BY_NAME["label"])
    binary = s.args[0]
    labels, count, stats, centroids = foveal.label(binary, 8, return_stats=True)
    four, count4 = foveal.label(binary, 4)
    fg = binary != 0
    np.testing.assert_array_equal(labels > 0, fg)
    np.testing.assert_array_equal(four > 0, fg)
    assert count == labels.max(initial=0) and count <= count4
    assert set(np.unique(labels[fg]).tolist()) == set(range(1, count + 1))
    # each 4-component lies inside one 8-component
    pairs = np.unique(np.stack([four[fg], labels[fg]]), axis=1)
    assert pairs.shape[1] == count4
    s2, c2 = foveal.component_stats(labels)
    np.testing.assert_array_equal(stats, s2)
    np.testing.assert_array_equal(centroids, c2)
    assert stats[1:, 4].sum() == fg.sum()


def _check_hierarchy(h: np.ndarray) -> None:
    n = len(h)
    for i, (nxt, prev, child, parent) in enumerate(h.tolist()):
        if nxt >= 0:
            assert h[nxt, 1] == i and h[nxt, 3] == parent
        if prev >= 0:
            assert h[prev, 0] == i
        if child >= 0:
            assert h[child, 3] == i and h[child, 1] == -1
        assert -1 <= parent < n


@given(data=st.data())
def test_contours_are_consistent(data):
    """Every point of a "none" contour is a foreground pixel (offset removed), each next to the
    one before (8-neighbours, the last to the first); the hierarchy's links agree; "simple"
    contours are the same polygons (same count, areas and bounding rectangles); filling all of
    them gives the image back."""
    s = draw_sample(data, BY_NAME["find_contours"])
    binary, mode = s.args[0], s.args[1].lower()
    fg = binary != 0
    dx, dy = s.kwargs.get("offset", (0, 0))
    none, h = foveal.find_contours(binary, mode, "none", offset=(dx, dy))
    simple, h2 = foveal.find_contours(binary, mode, "simple", offset=(dx, dy))
    np.testing.assert_array_equal(h, h2)
    _check_hierarchy(h)
    if mode in ("external", "list"):
        assert (h[:, 2:] == -1).all()
    assert len(none) == len(simple)
    for c, cs in zip(none, simple, strict=True):
        pts = c - (dx, dy)
        assert fg[pts[:, 1], pts[:, 0]].all()
        step = np.abs(np.diff(np.vstack([pts, pts[:1]]), axis=0))
        assert (step.max(axis=1) <= 1).all() if len(pts) > 1 else True
        assert foveal.contour_area(c) == foveal.contour_area(cs)
        assert foveal.bounding_rect(c) == foveal.bounding_rect(cs)
    if mode in ("list", "tree", "ccomp"):
        filled = foveal.draw_contours(
            np.zeros(fg.shape, np.uint8), simple, -1, 1, -1, offset=(-dx, -dy)
        )
        np.testing.assert_array_equal(filled, fg.astype(np.uint8))


# --------------------------------------------------------------------------------------------
# foveal.nn
# --------------------------------------------------------------------------------------------


@given(data=st.data())
def test_patches_round_trip(data):
    s = draw_sample(data, BY_NAME["patchify"])
    x, patch = s.args
    back = foveal.nn.unpatchify(foveal.nn.patchify(x, patch), patch, x.shape[-2:])
    assert_identical(to_numpy(back), x)


@given(data=st.data())
def test_identity_pools(data):
    """A 1x1 window every step, or an adaptive output of the input's size, is the input."""
    s = draw_sample(data, BY_NAME["max_pool2d"])
    x = s.args[0]
    for y in (
        foveal.nn.max_pool2d(x, 1),
        foveal.nn.avg_pool2d(x, 1),
        foveal.nn.adaptive_avg_pool2d(x, x.shape[-2:]),
        foveal.nn.adaptive_max_pool2d(x, x.shape[-2:]),
    ):
        assert_identical(to_numpy(y), x)

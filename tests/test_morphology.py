"""Correctness of foveal's morphology: structuring_element, erode, dilate, morphology.

Every result is compared, exactly, with ``foveal.reference`` (the executable specification),
with OpenCV (the semantic anchor) when cv2 is installed, and with scipy.ndimage where it has an
equivalent call. Conventions: foveal's ksize and anchor are (rows, cols) / (row, col); OpenCV's
are (width, height) / (x, y).
"""

from __future__ import annotations

import itertools

import foveal
import numpy as np
import pytest
from conftest import DTYPES, random_image, random_mask
from foveal import reference as ref
from foveal._cupy import morphology as cupy_morph

OPS = ("erode", "dilate", "open", "close", "gradient", "tophat", "blackhat")
BORDERS = ("default", "constant", "replicate", "reflect", "reflect101", "wrap")
ALIASES = {"nearest": "replicate", "mirror": "reflect101", "reflect_101": "reflect101"}
ALL_BORDERS = BORDERS + tuple(ALIASES)
CV2_BORDERS = ("default", "constant", "replicate", "reflect", "reflect101")  # cv2: no wrap
CV2_DTYPES = ("uint8", "uint16", "int16", "float32", "float64", "bool")  # bool as uint8 0/1
SCIPY_MODES = {"replicate": "nearest", "reflect": "reflect", "reflect101": "mirror", "wrap": "wrap"}
SHAPES = ("rect", "ellipse", "cross")

_CV2_OPS = {
    "erode": "MORPH_ERODE",
    "dilate": "MORPH_DILATE",
    "open": "MORPH_OPEN",
    "close": "MORPH_CLOSE",
    "gradient": "MORPH_GRADIENT",
    "tophat": "MORPH_TOPHAT",
    "blackhat": "MORPH_BLACKHAT",
}
_CV2_BORDER_TYPES = {
    "constant": "BORDER_CONSTANT",
    "replicate": "BORDER_REPLICATE",
    "reflect": "BORDER_REFLECT",
    "reflect101": "BORDER_REFLECT_101",
    "wrap": "BORDER_WRAP",
}
_CV2_SHAPES = {"rect": "MORPH_RECT", "ellipse": "MORPH_ELLIPSE", "cross": "MORPH_CROSS"}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def canonical(border: str) -> str:
    return ALIASES.get(border, border)


def as_mask(kernel) -> np.ndarray:
    """The 0/1 mask that foveal builds for ``kernel`` (int, pair or array)."""
    if kernel is None:
        kernel = 3
    if isinstance(kernel, (int, np.integer)):
        return np.ones((int(kernel), int(kernel)), np.uint8)
    if isinstance(kernel, tuple):
        return np.ones(kernel, np.uint8)
    return (np.asarray(kernel) != 0).astype(np.uint8)


def ref_values(border_value):
    return np.asarray(border_value, np.float64) if isinstance(border_value, list) else border_value


def reference(img, op, kernel=3, anchor=(-1, -1), iterations=1, border="default", border_value=0):
    return ref.morphology(
        img,
        op,
        as_mask(kernel),
        tuple(anchor),
        iterations,
        canonical(border),
        ref_values(border_value),
    )


def run(img, op, kernel=3, anchor=(-1, -1), iterations=1, border="default", border_value=0, **kw):
    """foveal, through erode/dilate for those two ops and morphology for the rest."""
    args = dict(anchor=anchor, iterations=iterations, border=border, border_value=border_value)
    if op in ("erode", "dilate"):
        return getattr(foveal, op)(img, kernel, **args, **kw)
    return foveal.morphology(img, op, kernel, **args, **kw)


def assert_same(got, expected):
    """Exact equality of values, shape and dtype; NaN positions must match."""
    assert isinstance(got, np.ndarray), type(got)
    np.testing.assert_array_equal(got, expected, strict=True)


def check_ref(img, op, kernel=3, anchor=(-1, -1), iterations=1, border="default", border_value=0):
    expected = reference(img, op, kernel, anchor, iterations, border, border_value)
    got = run(img, op, kernel, anchor, iterations, border, border_value)
    assert_same(got, expected)
    return got


def cv2_morph(
    cv2, img, op, kernel=3, anchor=(-1, -1), iterations=1, border="default", border_value=0
):
    """cv2.morphologyEx with foveal's arguments mapped to OpenCV's (bool through uint8 0/1)."""
    binary = img.dtype == np.bool_
    src = np.ascontiguousarray(img.astype(np.uint8) if binary else img)
    channels = img.shape[2] if img.ndim == 3 else 1
    kw = dict(anchor=(int(anchor[1]), int(anchor[0])), iterations=iterations)
    border = canonical(border)
    if border != "default":
        kw["borderType"] = getattr(cv2, _CV2_BORDER_TYPES[border])
        if border == "constant":
            vals = np.broadcast_to(np.asarray(border_value, np.float64).ravel(), (channels,))
            if binary:
                vals = (vals != 0).astype(np.float64)
            kw["borderValue"] = tuple(float(v) for v in vals) + (0.0,) * (4 - channels)
    res = cv2.morphologyEx(src, getattr(cv2, _CV2_OPS[op]), as_mask(kernel), **kw)
    res = res.reshape(img.shape)
    return res != 0 if binary else res


def check_cv2(
    cv2, img, op, kernel=3, anchor=(-1, -1), iterations=1, border="default", border_value=0
):
    expected = cv2_morph(cv2, img, op, kernel, anchor, iterations, border, border_value)
    got = run(img, op, kernel, anchor, iterations, border, border_value)
    assert_same(got, expected)


def scipy_origin(mask: np.ndarray, anchor) -> tuple[int, int]:
    """scipy's origin for OpenCV's anchor with maximum_filter / minimum_filter / grey_erosion."""
    kh, kw = mask.shape
    ay = anchor[0] if anchor[0] >= 0 else kh // 2
    ax = anchor[1] if anchor[1] >= 0 else kw // 2
    return ay - kh // 2, ax - kw // 2


def scipy_reflected_origin(mask: np.ndarray, anchor) -> tuple[int, int]:
    """scipy's origin for grey_dilation / binary_dilation, which reflect their footprint:
    size // 2 - anchor, one less along an even size."""
    oy, ox = scipy_origin(mask, anchor)
    kh, kw = mask.shape
    return -oy - (1 - kh % 2), -ox - (1 - kw % 2)


@pytest.fixture(scope="module")
def ndi():
    return pytest.importorskip("scipy.ndimage")


# --------------------------------------------------------------------------------------------
# structuring_element
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_structuring_element_matches_cv2(cv2, shape):
    cv_shape = getattr(cv2, _CV2_SHAPES[shape])
    for h, w in itertools.product(range(1, 42), range(1, 42)):
        got = foveal.structuring_element(shape, (h, w))
        expected = cv2.getStructuringElement(cv_shape, (w, h))  # cv2: (width, height)
        assert_same(got, expected.astype(np.uint8))
        assert_same(ref.structuring_element(shape, (h, w)), expected)


@pytest.mark.parametrize("shape", SHAPES)
def test_structuring_element_matches_reference(shape):
    for h, w in itertools.product(range(1, 42, 2), range(1, 42, 3)):
        assert_same(
            foveal.structuring_element(shape, (h, w)), ref.structuring_element(shape, (h, w))
        )


@pytest.mark.parametrize("shape", SHAPES)
def test_structuring_element_anchor_matches_cv2(cv2, shape):
    cv_shape = getattr(cv2, _CV2_SHAPES[shape])
    for h, w in itertools.product(range(1, 8), range(1, 8)):
        for ay, ax in itertools.product(range(h), range(w)):
            got = foveal.structuring_element(shape, (h, w), anchor=(ay, ax))
            expected = cv2.getStructuringElement(cv_shape, (w, h), anchor=(ax, ay))
            assert_same(got, expected)
            assert_same(got, ref.structuring_element(shape, (h, w), (ay, ax)))


def test_structuring_element_forms():
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
    assert_same(foveal.structuring_element("cross", 3), cross)
    assert_same(foveal.structuring_element("CROSS", [3, 3]), cross)
    assert_same(foveal.structuring_element("cross", np.int64(3)), cross)
    assert_same(foveal.structuring_element("rect", (2, 5)), np.ones((2, 5), np.uint8))
    assert foveal.structuring_element("ellipse", (3, 7)).shape == (3, 7)
    assert_same(foveal.structuring_element("cross", (3, 3), anchor=(-1, -1)), cross)
    # a cross with its bar moved by the anchor (row 0, col 2)
    expected = np.array([[1, 1, 1], [0, 0, 1], [0, 0, 1]], np.uint8)
    assert_same(foveal.structuring_element("cross", 3, anchor=(0, 2)), expected)


def test_structuring_element_as_kernel(rng):
    img = random_image(rng, (31, 45), "uint8")
    for shape in SHAPES:
        se = foveal.structuring_element(shape, (5, 7))
        check_ref(img, "dilate", se)
        check_ref(img, "gradient", se)


# --------------------------------------------------------------------------------------------
# every op x border x dtype, against the reference
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", ALL_BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_ops_borders_dtypes_reference(rng, dtype, border):
    images = [random_image(rng, (23, 37), dtype), random_image(rng, (9, 70, 3), dtype)]
    kernels = [
        3,
        (2, 5),
        foveal.structuring_element("cross", (5, 3)),
        random_mask(rng, (4, 3)),
    ]
    for img in images:
        c = img.shape[2] if img.ndim == 3 else 1
        values = [7] if c == 1 else [[5, -3, 200][:c], 7]
        for op, kernel in itertools.product(OPS, kernels):
            for bv in values if canonical(border) == "constant" else [0]:
                check_ref(img, op, kernel, border=border, border_value=bv)


@pytest.mark.parametrize("border", ("default",) + tuple(b for b in ALL_BORDERS if b != "default"))
def test_aliases_and_case_equal_canonical(rng, border):
    img = random_image(rng, (17, 29, 3), "int16")
    expected = run(img, "close", (3, 4), border=canonical(border), border_value=11)
    for spelling in (border, border.upper(), border.title()):
        assert_same(run(img, "close", (3, 4), border=spelling, border_value=11), expected)


def test_morphology_op_names_equal_functions(rng):
    img = random_image(rng, (19, 23), "float32")
    k = foveal.structuring_element("ellipse", 5)
    assert_same(foveal.morphology(img, "erode", k), foveal.erode(img, k))
    assert_same(foveal.morphology(img, "DILATE", k), foveal.dilate(img, k))
    assert_same(foveal.morphology(img, "Open", k), foveal.dilate(foveal.erode(img, k), k))
    assert_same(foveal.morphology(img, "close", k), foveal.erode(foveal.dilate(img, k), k))
    assert_same(foveal.morphology(img, "gradient", k), foveal.dilate(img, k) - foveal.erode(img, k))


def test_kernel_forms(rng):
    img = random_image(rng, (21, 26), "uint16")
    expected = ref.dilate(img, np.ones((3, 3)))
    assert_same(foveal.dilate(img), expected)
    assert_same(foveal.dilate(img, None), expected)
    assert_same(foveal.dilate(img, 3), expected)
    assert_same(foveal.dilate(img, np.int32(3)), expected)
    assert_same(foveal.dilate(img, (3, 3)), expected)
    assert_same(foveal.dilate(img, [3, 3]), expected)
    assert_same(foveal.dilate(img, np.ones((3, 3), bool)), expected)
    assert_same(foveal.dilate(img, np.ones((3, 3), np.float64)), expected)
    # any non-zero entry is a member, as cv2 does it
    mask = np.array([[0, 0.5, 0], [-2, 1, 3], [0, 1e-9, 0]])
    assert_same(foveal.dilate(img, mask), ref.dilate(img, mask != 0))
    # non-contiguous kernel arrays
    big = random_mask(rng, (10, 12))
    assert_same(foveal.erode(img, big[::2, ::-3]), ref.erode(img, big[::2, ::-3]))
    assert_same(foveal.erode(img, big.T), ref.erode(img, big.T))


def test_inputs_are_not_mutated(rng):
    img = random_image(rng, (15, 18, 3), "float64")
    kernel = random_mask(rng, (3, 5))
    img0, kernel0 = img.copy(), kernel.copy()
    for op in OPS:
        run(img, op, kernel, border="constant", border_value=[1, 2, 3])
    assert_same(img, img0)
    assert_same(kernel, kernel0)


def test_read_only_input(rng):
    img = random_image(rng, (12, 40), "uint8")
    img.setflags(write=False)
    check_ref(img, "open", (3, 5), border="reflect")


def test_iterations_zero_and_1x1_copy(rng):
    for dtype in DTYPES:
        img = random_image(rng, (7, 9, 3), dtype)
        for op in ("erode", "dilate"):
            for kw in (dict(kernel=3, iterations=0), dict(kernel=1, iterations=2)):
                got = run(img, op, **kw)
                assert_same(got, img)
                assert not np.shares_memory(got, img)


# --------------------------------------------------------------------------------------------
# against OpenCV
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", CV2_BORDERS)
@pytest.mark.parametrize("dtype", CV2_DTYPES)
def test_ops_borders_dtypes_cv2(cv2, rng, dtype, border):
    images = [
        random_image(rng, (23, 37), dtype),
        random_image(rng, (9, 70, 3), dtype),
        random_image(rng, (6, 33, 4), dtype),
        random_image(rng, (5, 8, 1), dtype),
    ]
    for img in images:
        c = img.shape[2] if img.ndim == 3 else 1
        values = [-3, 7, 300.0] if c == 1 else [7, [5, -3, 1000, 2][:c]]
        kernels = [
            (3, 3),
            (4, 2),
            foveal.structuring_element("ellipse", (5, 7)),
            random_mask(rng, (3, 4), anchor=(-1, -1)),
        ]
        for op, kernel in itertools.product(OPS, kernels):
            for bv in values if border == "constant" else [0]:
                check_cv2(cv2, img, op, kernel, border=border, border_value=bv)
                check_ref(img, op, kernel, border=border, border_value=bv)


KSIZES = [
    (1, 1),
    (1, 2),
    (2, 1),
    (2, 2),
    (3, 3),
    (4, 4),
    (5, 3),
    (3, 8),
    (1, 41),
    (41, 1),
    (7, 7),
    (8, 8),
    (15, 2),
    (16, 16),
    (21, 21),
    (31, 7),
    (40, 41),
    (41, 41),
    (6, 40),
    (33, 32),
]


@pytest.mark.parametrize("ksize", KSIZES, ids=[f"{h}x{w}" for h, w in KSIZES])
def test_kernel_sizes(cv2, rng, ksize):
    for dtype in ("uint8", "float32"):
        img = random_image(rng, (45, 67), dtype)
        for shape in SHAPES:
            se = foveal.structuring_element(shape, ksize)
            for op, border in itertools.product(("erode", "dilate"), ("default", "reflect101")):
                check_ref(img, op, se, border=border)
                check_cv2(cv2, img, op, se, border=border)
        check_cv2(cv2, img, "dilate", ksize, border="constant", border_value=3)
        check_ref(img, "erode", ksize, border="wrap")


def test_random_masks(cv2, rng, thorough):
    for _ in range(400 if thorough else 40):
        kh, kw = (int(v) for v in rng.integers(1, 10, size=2))
        anchor = (int(rng.integers(-1, kh)), int(rng.integers(-1, kw)))
        mask = random_mask(rng, (kh, kw), density=float(rng.uniform(0.1, 0.9)), anchor=anchor)
        dtype = DTYPES[int(rng.integers(len(DTYPES)))]
        img = random_image(rng, (int(rng.integers(5, 40)), int(rng.integers(5, 70))), dtype)
        border = CV2_BORDERS[int(rng.integers(len(CV2_BORDERS)))]
        op = OPS[int(rng.integers(len(OPS)))]
        check_ref(img, op, mask, anchor, 1, border, 9)
        check_cv2(cv2, img, op, mask, anchor, 1, border, 9)
        check_ref(img, op, mask, anchor, 2, "wrap")


@pytest.mark.parametrize("ksize", [(3, 3), (4, 5), (1, 6), (6, 1), (2, 2)])
def test_all_anchors(cv2, rng, ksize):
    img = random_image(rng, (13, 21), "int16")
    fimg = random_image(rng, (11, 17, 3), "float32")
    kh, kw = ksize
    for ay, ax in itertools.product(range(-1, kh), range(-1, kw)):
        anchor = (ay, ax)
        kernels = [ksize, random_mask(rng, ksize, anchor=anchor)]
        for kernel, border in itertools.product(kernels, ("default", "replicate", "constant")):
            for op in ("erode", "dilate", "gradient"):
                check_ref(img, op, kernel, anchor, 1, border, -5)
                check_cv2(cv2, img, op, kernel, anchor, 1, border, -5)
                check_cv2(cv2, fimg, op, kernel, anchor, 2, border, 2.5)
        check_ref(img, "open", random_mask(rng, ksize), anchor, 1, "wrap")


@pytest.mark.parametrize("iterations", [0, 1, 2, 3])
def test_iterations(cv2, rng, iterations):
    img = random_image(rng, (19, 34), "uint8")
    fimg = random_image(rng, (15, 22, 3), "float64")
    kernels = [
        (3, 3),
        (2, 4),
        (1, 5),
        foveal.structuring_element("cross", 3),
        foveal.structuring_element("ellipse", (5, 4)),
        random_mask(rng, (3, 4), anchor=(0, 3)),
    ]
    anchors = [(-1, -1), (-1, -1), (0, 4), (-1, -1), (2, 0), (0, 3)]
    for (kernel, anchor), op in itertools.product(zip(kernels, anchors, strict=True), OPS):
        for border in ("default", "constant", "reflect"):
            check_cv2(cv2, img, op, kernel, anchor, iterations, border, 77)
            check_ref(img, op, kernel, anchor, iterations, border, 77)
            check_cv2(cv2, fimg, op, kernel, anchor, iterations, border, [1.5, -2.0, 100.0])
        check_ref(img, op, kernel, anchor, iterations, "wrap")


IMAGE_SHAPES = [
    (1, 1),
    (1, 2),
    (2, 1),
    (1, 37),
    (37, 1),
    (1, 1, 3),
    (5, 31),
    (7, 33),
    (3, 63),
    (4, 65),
    (2, 129),
    (3, 97, 4),
    (6, 5, 1),
    (3, 31, 3),
    (2, 64, 4),
    (1, 200),
    (200, 1),
    (9, 96),
]


@pytest.mark.parametrize("shape", IMAGE_SHAPES, ids=["x".join(map(str, s)) for s in IMAGE_SHAPES])
def test_image_shapes(cv2, rng, shape):
    for dtype in DTYPES:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        for kernel in [(3, 3), (1, 4), (5, 1), foveal.structuring_element("cross", (3, 5))]:
            for border in BORDERS:
                for op in ("erode", "dilate", "blackhat"):
                    check_ref(img, op, kernel, border=border, border_value=[3] * c)
                    if border != "wrap":
                        check_cv2(cv2, img, op, kernel, border=border, border_value=[3] * c)


@pytest.mark.parametrize("dtype", DTYPES)
def test_image_smaller_than_kernel(cv2, rng, dtype):
    images = [random_image(rng, (2, 3), dtype), random_image(rng, (1, 2, 3), dtype)]
    kernels = [
        ((7, 9), (-1, -1)),
        ((7, 9), (0, 0)),
        ((7, 9), (6, 8)),
        ((15, 4), (14, 0)),
        (foveal.structuring_element("cross", 9), (-1, -1)),
        (foveal.structuring_element("ellipse", (9, 11)), (0, 10)),
    ]
    for img in images:
        for (kernel, anchor), border in itertools.product(kernels, BORDERS):
            mask = as_mask(kernel)
            in_mask = mask[
                anchor[0] if anchor[0] >= 0 else mask.shape[0] // 2,
                anchor[1] if anchor[1] >= 0 else mask.shape[1] // 2,
            ]
            for op in OPS:
                for iterations in (1, 2):
                    check_ref(img, op, kernel, anchor, iterations, border, 4)
                    # A bool window with no member inside, run by cv2 as uint8, is 255, which a
                    # later subtraction does not treat as 1 (True).
                    if border != "wrap" and (in_mask or img.dtype != np.bool_):
                        check_cv2(cv2, img, op, kernel, anchor, iterations, border, 4)


# --------------------------------------------------------------------------------------------
# strides, views and out=
# --------------------------------------------------------------------------------------------

VIEWS = {
    "fortran": lambda a: np.asfortranarray(a[:, :, 0]),
    "fortran3": lambda a: np.asfortranarray(a),
    "neg_rows": lambda a: a[::-1, :, 0],
    "neg_cols": lambda a: a[:, ::-1, 0],
    "neg_all": lambda a: a[::-1, ::-1, ::-1],
    "step2": lambda a: a[::2, ::2],
    "step2_cols": lambda a: a[:, ::2, 1],
    "step3_neg": lambda a: a[::-3, ::3, ::2],
    "offset": lambda a: a[3:30, 5:77],
    "offset_2d": lambda a: a[1:-2, 3:-1, 2],
    "channels_1to4": lambda a: a[:, :, 1:4],
    "channel_1of1": lambda a: a[:, :, 2:3],
    "channel_slice": lambda a: a[:, :, 0],
    "transposed": lambda a: a[:, :, 0].T,
    "swapped": lambda a: a.transpose(1, 0, 2),
    "broadcast_rows": lambda a: np.broadcast_to(a[0, :, 0], (31, a.shape[1])),
    "broadcast_channels": lambda a: np.broadcast_to(a[:, :, :1], a.shape[:2] + (3,)),
}


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(rng, dtype, view):
    base = random_image(rng, (40, 90, 4), dtype)
    img = VIEWS[view](base)
    base0 = base.copy()
    contiguous = np.ascontiguousarray(img)
    kernels = [(3, 5), foveal.structuring_element("ellipse", 5), random_mask(rng, (2, 3))]
    for kernel, op in itertools.product(kernels, ("dilate", "erode", "tophat")):
        for border in ("default", "reflect", "wrap", "constant"):
            got = run(img, op, kernel, iterations=2, border=border, border_value=7)
            assert_same(
                got, run(contiguous, op, kernel, iterations=2, border=border, border_value=7)
            )
            assert_same(got, reference(contiguous, op, kernel, (-1, -1), 2, border, 7))
    assert_same(base, base0)


OUTS = {
    "contiguous": lambda shape, dt: np.zeros(shape, dt),
    "fortran": lambda shape, dt: np.zeros(shape, dt, order="F"),
    "strided": lambda shape, dt: np.zeros((shape[0] * 2, shape[1] * 3, *shape[2:]), dt)[::2, ::3],
    "negative": lambda shape, dt: np.zeros(shape, dt)[::-1, ::-1],
    "offset": lambda shape, dt: np.zeros((shape[0] + 3, shape[1] + 5, *shape[2:]), dt)[2:-1, 4:-1],
}


@pytest.mark.parametrize("out_kind", list(OUTS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_out(rng, dtype, out_kind):
    for shape in [(17, 45), (11, 20, 3)]:
        img = random_image(rng, shape, dtype)
        for op, kernel in itertools.product(OPS, [(3, 3), random_mask(rng, (3, 2))]):
            out = OUTS[out_kind](shape, dtype)
            got = run(img, op, kernel, iterations=2, border="reflect101", out=out)
            assert got is out
            assert_same(out, reference(img, op, kernel, (-1, -1), 2, "reflect101"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_in_place(rng, dtype):
    for shape in [(17, 45), (11, 20, 3)]:
        for op, kernel in itertools.product(OPS, [(3, 3), random_mask(rng, (4, 3))]):
            for border in ("default", "constant", "wrap"):
                img = random_image(rng, shape, dtype)
                expected = reference(img, op, kernel, (-1, -1), 2, border, 5)
                got = run(img, op, kernel, iterations=2, border=border, border_value=5, out=img)
                assert got is img
                assert_same(img, expected)


VIEW_SLICES = {
    "neg": (slice(None, None, -1), slice(None, None, -1), 0),
    "step2": (slice(None, None, 2), slice(None, None, 2)),
    "offset": (slice(3, 30), slice(5, 77)),
    "channels": (slice(None), slice(None), slice(1, 4)),
    "one_channel": (slice(None), slice(None), 2),
}


@pytest.mark.parametrize("where", list(VIEW_SLICES))
@pytest.mark.parametrize("dtype", ["uint8", "float32", "bool"])
def test_out_in_place_on_view(rng, dtype, where):
    """out=image where image is a view into a larger array: only the view changes."""
    big = random_image(rng, (40, 90, 4), dtype)
    big0 = big.copy()
    sl = VIEW_SLICES[where]
    view = big[sl]
    expected = reference(big0[sl], "close", (3, 5), border="reflect")
    got = foveal.morphology(view, "close", (3, 5), border="reflect", out=view)
    assert got is view
    assert_same(big[sl], expected)
    rest = big.copy()
    rest[sl] = big0[sl]
    assert_same(rest, big0)


@pytest.mark.parametrize("op", OPS)
def test_out_overlapping_image(rng, op):
    """out overlaps the image without being it (shifted, reversed, transposed, channel-shifted)."""
    for kernel in (3, foveal.structuring_element("cross", 3), (1, 5)):
        for case in ("shift", "reverse", "transpose", "channels"):
            big = random_image(rng, (41, 41, 3), "uint8")
            if case == "shift":
                img, out = big[:-1], big[1:]
            elif case == "reverse":
                img, out = big, big[::-1]
            elif case == "transpose":
                img, out = big, big.transpose(1, 0, 2)
            else:
                img, out = big[:, :, :2], big[:, :, 1:]
            expected = reference(img.copy(), op, kernel)
            assert run(img, op, kernel, out=out) is out
            assert_same(out, expected)


# --------------------------------------------------------------------------------------------
# NaN
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_propagates_like_reference(rng, dtype, border):
    for shape in [(17, 70), (12, 33, 3)]:
        img = random_image(rng, shape, dtype)
        img[rng.random(shape) < 0.05] = np.nan
        img[0, 0] = np.nan
        kernels = [(3, 3), (2, 6), (9, 9), random_mask(rng, (4, 5))]
        for op, kernel in itertools.product(OPS, kernels):
            for bv in [1.5, np.nan] if border == "constant" else [0]:
                with np.errstate(invalid="ignore"):
                    check_ref(img, op, kernel, (-1, -1), 2, border, bv)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_semantics(dtype):
    img = np.zeros((7, 7), dtype)
    img[3, 3] = np.nan
    block = np.zeros((7, 7), bool)
    block[2:5, 2:5] = True
    for op in ("erode", "dilate"):
        got = run(img, op, 3)
        np.testing.assert_array_equal(np.isnan(got), block)
    got = foveal.dilate(np.ones((4, 5), dtype), 3, border="constant", border_value=np.nan)
    inner = np.zeros((4, 5), bool)
    inner[1:-1, 1:-1] = True
    np.testing.assert_array_equal(np.isnan(got), ~inner)


# --------------------------------------------------------------------------------------------
# real images
# --------------------------------------------------------------------------------------------


def test_real_images(cv2, real_image):
    img = real_image
    for kernel in (foveal.structuring_element("ellipse", 5), (3, 7)):
        for op in OPS:
            expected = cv2_morph(cv2, img, op, kernel, border="reflect101")
            got = run(img, op, kernel, border="reflect101")
            assert_same(got, expected)
        assert_same(run(img, "gradient", kernel), reference(img, "gradient", kernel))
    for dtype in ("float32", "uint16"):
        x = img.astype(dtype) * 3
        assert_same(run(x, "tophat", (15, 15)), cv2_morph(cv2, x, "tophat", (15, 15)))


# --------------------------------------------------------------------------------------------
# scipy.ndimage
# --------------------------------------------------------------------------------------------


def _scipy_cases(rng):
    for kh, kw in [(1, 1), (3, 3), (2, 5), (4, 4), (5, 2), (6, 3)]:
        for anchor in [(-1, -1), (0, 0), (kh - 1, kw - 1), (kh // 3, kw - 1)]:
            yield random_mask(rng, (kh, kw), anchor=anchor), anchor


def test_scipy_maximum_filter_mapping_equals_cv2(cv2, ndi, rng):
    """maximum_filter(footprint=mask, origin=anchor - size // 2) is cv2.dilate; grey_erosion
    with the same arguments is cv2.erode; grey_dilation needs the mask reflected and
    origin = size // 2 - anchor (one less along an even size)."""
    img = random_image(rng, (15, 19), "uint8")
    for mask, anchor in _scipy_cases(rng):
        fp = mask.astype(bool)
        org = scipy_origin(mask, anchor)
        dil = cv2_morph(cv2, img, "dilate", mask, anchor)
        ero = cv2_morph(cv2, img, "erode", mask, anchor)
        assert_same(ndi.maximum_filter(img, footprint=fp, mode="constant", cval=0, origin=org), dil)
        assert_same(
            ndi.minimum_filter(img, footprint=fp, mode="constant", cval=255, origin=org), ero
        )
        assert_same(ndi.grey_erosion(img, footprint=fp, mode="constant", cval=255, origin=org), ero)
        rorg = scipy_reflected_origin(mask, anchor)
        assert_same(
            ndi.grey_dilation(img, footprint=fp[::-1, ::-1], mode="constant", cval=0, origin=rorg),
            dil,
        )


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64"])
def test_scipy_filters(ndi, rng, dtype, border):
    img = random_image(rng, (16, 21), dtype)  # larger than every kernel: see test_cupy_fallback
    for mask, anchor in _scipy_cases(rng):
        fp = mask.astype(bool)
        org = scipy_origin(mask, anchor)
        if border == "default":
            lo, hi = (
                (np.iinfo(dtype).min, np.iinfo(dtype).max) if dtype[0] != "f" else (-np.inf, np.inf)
            )
            kw_max, kw_min = dict(mode="constant", cval=lo), dict(mode="constant", cval=hi)
        elif border == "constant":
            kw_max = kw_min = dict(mode="constant", cval=6)
        else:
            kw_max = kw_min = dict(mode=SCIPY_MODES[border])
        got = run(img, "dilate", mask, anchor, border=border, border_value=6)
        assert_same(got, ndi.maximum_filter(img, footprint=fp, origin=org, **kw_max))
        got = run(img, "erode", mask, anchor, border=border, border_value=6)
        assert_same(got, ndi.minimum_filter(img, footprint=fp, origin=org, **kw_min))
        if border == "default":
            rorg = scipy_reflected_origin(mask, anchor)
            assert_same(
                run(img, "dilate", mask, anchor),
                ndi.grey_dilation(img, footprint=fp[::-1, ::-1], origin=rorg, **kw_max),
            )
            assert_same(
                run(img, "erode", mask, anchor),
                ndi.grey_erosion(img, footprint=fp, origin=org, **kw_min),
            )


def test_scipy_binary(ndi, rng):
    img = random_image(rng, (18, 25), "bool")
    for mask, anchor in _scipy_cases(rng):
        fp = mask.astype(bool)
        rorg = scipy_reflected_origin(mask, anchor)
        org = scipy_origin(mask, anchor)
        assert_same(
            run(img, "dilate", mask, anchor),
            ndi.binary_dilation(img, structure=fp[::-1, ::-1], origin=rorg),
        )
        # the default border never wins: outside is 1 for an erosion
        assert_same(
            run(img, "erode", mask, anchor),
            ndi.binary_erosion(img, structure=fp, origin=org, border_value=1),
        )
        assert_same(
            run(img, "erode", mask, anchor, border="constant", border_value=0),
            ndi.binary_erosion(img, structure=fp, origin=org, border_value=0),
        )


# --------------------------------------------------------------------------------------------
# the reference itself against OpenCV
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", CV2_BORDERS)
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32", "float64"])
def test_reference_matches_cv2(cv2, rng, dtype, border):
    for shape in [(1, 1), (3, 4), (9, 1), (13, 40), (7, 9, 3), (5, 6, 4)]:
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        for op in OPS:
            kh, kw = (int(v) for v in rng.integers(1, 8, size=2))
            anchor = (int(rng.integers(-1, kh)), int(rng.integers(-1, kw)))
            for kernel in [(kh, kw), random_mask(rng, (kh, kw), anchor=anchor)]:
                for iterations in (1, 2, 3):
                    bv = [float(v) for v in rng.integers(-10, 300, size=c)]
                    expected = cv2_morph(cv2, img, op, kernel, anchor, iterations, border, bv)
                    assert_same(
                        reference(img, op, kernel, anchor, iterations, border, bv), expected
                    )


@pytest.mark.parametrize("border", ["constant", "replicate", "reflect", "reflect101", "wrap"])
def test_reference_pad_matches_copy_make_border(cv2, rng, border):
    bt = getattr(cv2, _CV2_BORDER_TYPES[border])
    for shape in [(1, 1), (1, 4), (3, 1), (2, 3), (5, 5), (4, 7, 3), (2, 2, 4)]:
        img = random_image(rng, shape, "uint8")
        h, w = shape[:2]
        c = shape[2] if len(shape) == 3 else 1
        for pads in [
            (0, 0, 0, 0),
            (1, 2, 3, 4),
            (h, h, w, w),
            (2 * h + 1, 3 * h, w + 1, 4 * w),
            (7, 9, 11, 13),
            (0, 25, 17, 0),
        ]:
            value = [9, 200, 3, 77][:c]
            expected = cv2.copyMakeBorder(img, *pads, bt, value=value + [0] * (4 - c))
            got = ref.pad(img, *pads, border, value if c > 1 else value[0])
            assert_same(got, expected.reshape(got.shape))


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32", "float64"])
def test_window_all_outside_matches_cv2(cv2, dtype):
    """A window with no member inside the image (a kernel without its anchor): the default
    border's 'never wins' value is OpenCV's, saturated to the dtype (finite for floats)."""
    img = np.full((1, 1), 5, dtype)
    mask = np.zeros((3, 3), np.uint8)
    mask[0, 0] = 1
    info = np.finfo(dtype) if img.dtype.kind == "f" else np.iinfo(dtype)
    for op, value in (("erode", info.max), ("dilate", info.min)):
        expected = cv2_morph(cv2, img, op, mask)
        assert_same(expected, np.full((1, 1), value, dtype))
        assert_same(reference(img, op, mask), expected)
        assert_same(run(img, op, mask), expected)
        img3 = np.full((4, 5, 3), 5, dtype)
        mask3 = np.zeros((9, 11), np.uint8)
        mask3[0, 0] = mask3[8, 10] = 1
        assert_same(run(img3, op, mask3), cv2_morph(cv2, img3, op, mask3))


# --------------------------------------------------------------------------------------------
# the CuPy fallback's logic, run with NumPy and scipy.ndimage
# --------------------------------------------------------------------------------------------


def _fallback(ndi, img, op, kernel, anchor=(-1, -1), iterations=1, border="default", values=None):
    c = img.shape[2] if img.ndim == 3 else 1
    values = [0.0] if values is None else [float(v) for v in values]
    assert len(values) in (1, c)
    # FLT_MAX borders make a float gradient overflow to inf, as the reference does (quietly)
    with np.errstate(over="ignore", invalid="ignore"):
        return cupy_morph.apply(
            np, ndi, op, img, as_mask(kernel), tuple(anchor), iterations, canonical(border), values
        )


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cupy_fallback_on_cpu(ndi, rng, dtype, border):
    images = [random_image(rng, (13, 27), dtype), random_image(rng, (9, 11, 3), dtype)]
    for img in images:
        c = img.shape[2] if img.ndim == 3 else 1
        kernels = [
            ((3, 3), (-1, -1)),
            ((2, 5), (1, 4)),
            (foveal.structuring_element("cross", 5), (0, 0)),
            (random_mask(rng, (3, 4)), (2, 1)),
        ]
        for (kernel, anchor), op in itertools.product(kernels, OPS):
            for iterations in (0, 1, 2):
                for values in ([7.0], [-3.0, 5.0, 300.0][:c]) if border == "constant" else ([0],):
                    bv = values if len(values) > 1 else values[0]
                    got = _fallback(ndi, img, op, kernel, anchor, iterations, border, values)
                    expected = reference(img, op, kernel, anchor, iterations, border, bv)
                    assert_same(got, expected)


def test_cupy_fallback_small_images(ndi, rng):
    """Images smaller than the kernel, for the borders where scipy extends them correctly."""
    for dtype, border in itertools.product(
        DTYPES, ["default", "constant", "replicate", "reflect101", "wrap"]
    ):
        for shape in [(1, 1), (2, 3), (1, 2, 3)]:
            img = random_image(rng, shape, dtype)
            for kernel, anchor in [((7, 9), (-1, -1)), ((5, 5), (4, 0)), ((1, 11), (0, 10))]:
                for op in OPS:
                    got = _fallback(ndi, img, op, kernel, anchor, 1, border, [4])
                    assert_same(got, reference(img, op, kernel, anchor, 1, border, 4))


def test_cupy_fallback_reflect_far_beyond_small_image(ndi, cv2):
    img = np.array([[10, 20]], np.uint8)
    mask = np.zeros((1, 9), np.uint8)
    mask[0, 0] = 1
    anchor = (0, 8)
    expected = reference(img, "dilate", mask, anchor, 1, "reflect")
    assert_same(expected, cv2_morph(cv2, img, "dilate", mask, anchor, 1, "reflect"))
    assert_same(_fallback(ndi, img, "dilate", mask, anchor, 1, "reflect"), expected)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

try:
    import hypothesis
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    hypothesis = None


def morph_cases(draw):
    dtype = draw(st.sampled_from(DTYPES))
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 48))
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    shape = (h, w) if channels is None else (h, w, channels)
    kh, kw = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    anchor = draw(
        st.one_of(st.just((-1, -1)), st.tuples(st.integers(-1, kh - 1), st.integers(-1, kw - 1)))
    )
    kind = draw(st.sampled_from(["int", "pair", "rect", "ellipse", "cross", "mask"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kernel = {
        "int": kh,
        "pair": (kh, kw),
        "rect": np.ones((kh, kw), np.uint8),
        "ellipse": foveal.structuring_element("ellipse", (kh, kw)),
        "cross": foveal.structuring_element("cross", (kh, kw)),
        "mask": random_mask(rng, (kh, kw), density=draw(st.floats(0.05, 1.0))),
    }[kind]
    if kind == "int":
        anchor = tuple(min(a, kh - 1) for a in anchor)
    border = draw(st.sampled_from(ALL_BORDERS))
    c = channels or 1
    value = st.sampled_from([0, 1, -3.5, 7, 255, 2.5, 70000, -1e6])
    border_value = draw(st.one_of(value, st.lists(value, min_size=c, max_size=c)))
    return dict(
        img=random_image(rng, shape, dtype),
        op=draw(st.sampled_from(OPS)),
        kernel=kernel,
        anchor=anchor,
        iterations=draw(st.integers(0, 3)),
        border=border,
        border_value=border_value,
    )


def _property_matches_reference(case):
    case = dict(case)
    img, op = case.pop("img"), case.pop("op")
    got = run(img, op, **case)
    expected = reference(img, op, **case)
    assert_same(got, expected)


def _property_erode_le_image_le_dilate(dtype, shape, kh, kw, seed, kind, iterations):
    rng = np.random.default_rng(seed)
    img = random_image(rng, shape, dtype)
    anchor = (int(rng.integers(-1, kh)), int(rng.integers(-1, kw)))
    mask = (
        np.ones((kh, kw), np.uint8) if kind == "rect" else random_mask(rng, (kh, kw), anchor=anchor)
    )
    ero = foveal.erode(img, mask, anchor=anchor, iterations=iterations)
    dil = foveal.dilate(img, mask, anchor=anchor, iterations=iterations)
    assert (ero <= img).all()
    assert (img <= dil).all()
    assert (
        foveal.morphology(img, "gradient", mask, anchor=anchor, iterations=iterations) >= 0
    ).all()


def _property_opening_closing_idempotent(dtype, shape, half, seed, iterations):
    """For a symmetric (odd, centred) rectangle and the default border, opening is
    anti-extensive and idempotent, closing extensive and idempotent."""
    img = random_image(np.random.default_rng(seed), shape, dtype)
    k = (2 * half[0] + 1, 2 * half[1] + 1)
    opened = foveal.morphology(img, "open", k, iterations=iterations)
    closed = foveal.morphology(img, "close", k, iterations=iterations)
    assert (opened <= img).all() and (img <= closed).all()
    assert_same(foveal.morphology(opened, "open", k, iterations=iterations), opened)
    assert_same(foveal.morphology(closed, "close", k, iterations=iterations), closed)


if hypothesis is not None:
    _cases = st.composite(morph_cases)
    test_property_matches_reference = hypothesis.given(case=_cases())(_property_matches_reference)
    test_property_erode_le_image_le_dilate = hypothesis.given(
        dtype=st.sampled_from(DTYPES),
        shape=st.tuples(st.integers(1, 30), st.integers(1, 50)),
        kh=st.integers(1, 6),
        kw=st.integers(1, 6),
        seed=st.integers(0, 2**32 - 1),
        kind=st.sampled_from(["rect", "mask"]),
        iterations=st.integers(0, 3),
    )(_property_erode_le_image_le_dilate)
    test_property_opening_closing_idempotent = hypothesis.given(
        dtype=st.sampled_from(DTYPES),
        shape=st.tuples(st.integers(1, 30), st.integers(1, 50)),
        half=st.tuples(st.integers(0, 3), st.integers(0, 3)),
        seed=st.integers(0, 2**32 - 1),
        iterations=st.integers(1, 2),
    )(_property_opening_closing_idempotent)
else:  # pragma: no cover

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_property_tests_need_hypothesis():
        pass


# --------------------------------------------------------------------------------------------
# every instruction set, threads, big images
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("isa", foveal._core.supported_isas())
def test_every_isa_matches_reference(rng, restore_isa, isa):
    foveal.set_isa(isa)
    assert foveal.get_isa() == isa
    kernels = [
        (5, 7),
        (1, 33),
        (17, 1),
        (2, 2),
        foveal.structuring_element("ellipse", 7),
        random_mask(rng, (4, 6)),
    ]
    for dtype in DTYPES:
        # widths around and off the SIMD widths (16, 32, 64 bytes)
        images = [
            random_image(rng, (37, 203), dtype),
            random_image(rng, (21, 65, 3), dtype),
            random_image(rng, (9, 31, 4), dtype),
            random_image(rng, (3, 129), dtype),
        ]
        for img in images:
            for kernel, border in itertools.product(kernels, BORDERS):
                check_ref(img, "dilate", kernel, border=border, border_value=3)
                check_ref(img, "erode", kernel, iterations=2, border=border, border_value=3)
            for op in OPS:
                check_ref(img, op, (3, 3), border="reflect101")


@pytest.mark.parametrize("isa", foveal._core.supported_isas())
def test_every_isa_nan(rng, restore_isa, isa):
    foveal.set_isa(isa)
    for dtype in ("float32", "float64"):
        img = random_image(rng, (33, 129, 3), dtype)
        img[rng.random(img.shape) < 0.05] = np.nan
        for kernel in [(3, 3), (1, 41), (15, 15), random_mask(rng, (5, 5))]:
            for op in ("erode", "dilate", "gradient"):
                with np.errstate(invalid="ignore"):
                    check_ref(img, op, kernel, border="replicate")


def test_large_images(rng):
    for dtype in DTYPES:
        img = random_image(rng, (300, 517), dtype)
        check_ref(img, "dilate", (41, 41), border="reflect101")
        check_ref(img, "erode", (2, 40), border="default")
        check_ref(img, "gradient", foveal.structuring_element("cross", 9), border="wrap")
    img = random_image(rng, (97, 131, 3), "float32")
    check_ref(
        img,
        "open",
        foveal.structuring_element("ellipse", (15, 21)),
        border="constant",
        border_value=[1, 2, 3],
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_give_identical_results(rng, dtype):
    img = random_image(rng, (300, 517), dtype)
    kernels = [(7, 9), foveal.structuring_element("ellipse", 5)]
    for kernel, op in itertools.product(kernels, ("dilate", "erode", "gradient")):
        with foveal.num_threads(1):
            one = run(img, op, kernel, border="reflect")
        with foveal.num_threads(2):
            two = run(img, op, kernel, border="reflect")
        with foveal.num_threads(5):
            five = run(img, op, kernel, border="reflect")
        assert_same(two, one)
        assert_same(five, one)
    assert_same(one, reference(img, "gradient", kernels[-1], border="reflect"))


@pytest.mark.parametrize("border", BORDERS)
def test_huge_kernel_is_a_global_extreme(rng, border):
    """A rectangle far larger than the image (through iterations too): every output pixel
    sees the whole image (or its whole row) and the border."""
    img = random_image(rng, (20, 30), "int16")
    for kernel, iterations, axis in [
        ((101, 151), 1, None),
        ((3, 3), 60, None),
        ((1, 65536), 1, 1),
        ((3, 1), 40, 0),
    ]:
        hi = img.max(axis=axis, keepdims=True)
        lo = img.min(axis=axis, keepdims=True)
        if border == "constant":
            hi, lo = np.maximum(hi, 7), np.minimum(lo, 7)
        args = dict(iterations=iterations, border=border, border_value=7)
        assert_same(foveal.dilate(img, kernel, **args), np.broadcast_to(hi, img.shape).copy())
        assert_same(foveal.erode(img, kernel, **args), np.broadcast_to(lo, img.shape).copy())


@pytest.mark.parametrize("dtype", [">f8", ">f4", ">u2", ">i2"])
def test_non_native_byte_order(dtype):
    img = np.array([[1, 256, 2, 513], [300, 7, 1024, 3], [5, 6, 1000, 8]]).astype(dtype)
    try:
        got = foveal.dilate(img, 3)
    except TypeError:
        return  # refusing it is fine too
    np.testing.assert_array_equal(
        got, ref.dilate(img.astype(img.dtype.newbyteorder("=")), np.ones((3, 3)))
    )


# --------------------------------------------------------------------------------------------
# outputs past 4 MiB take the streaming-store path; views keep rows unaligned to 32 bytes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "dtype", "kernel"),
    [
        ((1200, 1203, 3), np.uint8, 5),
        ((1100, 1001), np.float32, (3, 7)),
        ((1100, 1001), np.float32, 31),
        ((2100, 2100), np.uint8, "ellipse"),
        ((1100, 1001, 2), np.uint16, (40, 9)),
    ],
)
@pytest.mark.parametrize("op", ["dilate", "erode", "gradient", "open", "blackhat"])
def test_large_outputs_match_reference(shape, dtype, kernel, op):
    rng = np.random.default_rng(7)
    base = random_image(rng, (shape[0], shape[1] + 1, *shape[2:]), np.dtype(dtype))
    img = base[:, 1:]  # one element in: rows start off any 32-byte boundary
    if kernel == "ellipse":
        kernel = mask = foveal.structuring_element("ellipse", 5)
    else:
        mask = np.ones(kernel if isinstance(kernel, tuple) else (kernel, kernel), np.uint8)
    got = foveal.morphology(img, op, kernel)
    want = foveal.reference.morphology(img, op, mask)
    np.testing.assert_array_equal(got, want)


def test_structuring_element_with_many_run_lengths():
    # A triangle has a different run length on every row: 80 distinct horizontal windows.
    rng = np.random.default_rng(3)
    img = random_image(rng, (100, 121), np.dtype(np.uint8))
    mask = np.tril(np.ones((80, 80), np.uint8))
    for op in ("dilate", "erode", "gradient", "open"):
        np.testing.assert_array_equal(
            foveal.morphology(img, op, mask), ref.morphology(img, op, mask)
        )

"""foveal.erode, dilate and morphology on the GPU (cuda/morphology.cu through
foveal._gpu.morphology) against the CPU path, exactly: every value equal, NaN where the CPU has
NaN. (Signed zeros compare equal: each path takes min and max over a window in its own order,
and max(+0.0, -0.0) keeps either; no other value depends on the order.)

The sweeps draw their cases from fixed seeds: every op x dtype x border, structuring elements
of every shape and size 1..41 (rectangles, ellipses, crosses, random masks with and without
the anchor), anchors, iterations, 2-D and 3-D images of odd sizes (1x1, 1xN, Nx1, widths
around the tile widths and the 16-byte vector widths). Targeted tests pin each kernel path
(direct and van Herk row windows, the row / column split, runs, the fused pair, the CuPy
fallback) with the plan the launcher reports, and the edge cases: NaN and inf, cv2's finite
default border, saturating border values and differences, per-channel border values, border
pixels wider than the inline 256 bytes, out= aliasing the image, strided input.
"""

from __future__ import annotations

import foveal
import numpy as np
import pytest
from conftest import DTYPES, random_image, random_mask
from foveal import _gpu
from foveal._gpu import morphology as gpu_morph

OPS = ("erode", "dilate", "open", "close", "gradient", "tophat", "blackhat")
COMPOSITES = OPS[2:]
BORDERS = ("default", "constant", "replicate", "reflect", "reflect101", "wrap")
# Small images keep the emulator fast; widths around the tile widths (32 .. 256 elements) and
# not multiples of the 16-byte vectors come from the channel counts and the odd shapes.
SHAPES = [(40, 70), (23, 37), (9, 13), (1, 1), (1, 29), (31, 1), (2, 3), (6, 33)]


def device(backend):
    """The Device the route uses (the emulator's, or the GPU's)."""
    to_device, _ = backend
    return _gpu.device(to_device(np.zeros((1, 1), np.uint8)))


def check(backend, img, op, kernel=3, what="", **kw):
    """The GPU result equals the CPU's for ``foveal.morphology(img, op, kernel, **kw)``."""
    to_device, to_host = backend
    want = foveal.morphology(img, op, kernel, **kw)
    got = to_host(foveal.morphology(to_device(img), op, kernel, **kw))
    assert got.shape == want.shape and got.dtype == want.dtype, what
    np.testing.assert_array_equal(got, want, err_msg=f"{op} {what} {kw}")


def random_se(rng, kind: str, size: tuple[int, int]):
    """(kernel, anchor) for a structuring element of ``kind``: an int pair for rectangles, a
    mask otherwise; the anchor is the centre or a random member of the box."""
    kh, kw = size
    anchor = None if rng.random() < 0.4 else (int(rng.integers(kh)), int(rng.integers(kw)))
    if kind == "rect":
        return (kh, kw), anchor
    if kind in ("ellipse", "cross"):
        return foveal.structuring_element(kind, size, anchor if kind == "cross" else None), anchor
    mask = random_mask(rng, size, density=float(rng.uniform(0.2, 0.8)))
    if kind == "holed":  # a random mask without its anchor
        ay, ax = anchor if anchor is not None else (kh // 2, kw // 2)
        mask[ay, ax] = 0
        if not mask.any():
            mask[(ay + 1) % kh, (ax + 1) % kw] = 1
        if not mask.any():  # 1x1
            return np.ones((1, 1), np.uint8), None
    return mask, anchor


def with_specials(rng, img):
    """A float image with a few NaN and infinities (NaN propagates through min and max)."""
    if img.dtype.kind == "f" and img.size > 4 and rng.random() < 0.5:
        flat = img.reshape(-1)
        at = rng.choice(img.size, 3, replace=False)
        flat[at] = [np.nan, np.inf, -np.inf]
    return img


def random_case(rng, dtype):
    """(image, kernel, keyword arguments) of a random call."""
    shape = SHAPES[rng.integers(len(SHAPES))]
    channels = int(rng.choice([0, 1, 2, 3, 4, 5]))
    if channels:
        shape = (*shape, channels)
    img = with_specials(rng, random_image(rng, shape, dtype))
    kind = str(rng.choice(["rect", "rect", "ellipse", "cross", "random", "holed"]))
    size = tuple(int(s) for s in rng.choice([1, 2, 3, 4, 5, 6, 7, 9, 12, 17], 2))
    kernel, anchor = random_se(rng, kind, size)
    iterations = int(rng.choice([0, 1, 1, 1, 2, 3]))
    n_values = shape[2] if len(shape) == 3 and rng.random() < 0.5 else 1
    values = [float(v) for v in rng.uniform(-300, 70000, n_values)]
    kw = dict(
        anchor=anchor, iterations=iterations, border_value=values if n_values > 1 else values[0]
    )
    return img, kernel, kw


# ------------------------------------------------------------------------------- the sweeps


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_erode_dilate_sweep(backend, dtype, border):
    rng = np.random.default_rng([DTYPES.index(dtype), BORDERS.index(border), 1])
    for case in range(14):
        img, kernel, kw = random_case(rng, dtype)
        op = "erode" if case % 2 else "dilate"
        check(backend, img, op, kernel, f"{img.shape} case {case}", border=border, **kw)


@pytest.mark.parametrize("op", COMPOSITES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_composite_sweep(backend, dtype, op):
    rng = np.random.default_rng([DTYPES.index(dtype), OPS.index(op), 2])
    for case in range(len(BORDERS)):
        img, kernel, kw = random_case(rng, dtype)
        border = BORDERS[case]
        check(backend, img, op, kernel, f"{img.shape} case {case}", border=border, **kw)


SE_KINDS = ("rect", "ellipse", "cross", "random", "holed")
SE_SIZES = [
    (1, 1),
    (1, 2),
    (2, 1),
    (3, 3),
    (4, 4),
    (5, 3),
    (2, 7),
    (8, 8),
    (9, 5),
    (15, 15),
    (16, 17),
    (5, 31),
    (31, 4),
    (33, 33),
    (41, 41),
    (41, 7),
]


@pytest.mark.parametrize("kind", SE_KINDS)
def test_structuring_element_sizes(backend, kind):
    """Every shape at sizes 1..41 (the halo past a 40x70 image included), every border."""
    rng = np.random.default_rng([SE_KINDS.index(kind), 3])
    for i, size in enumerate(SE_SIZES):
        dtype = DTYPES[i % len(DTYPES)]
        img = with_specials(rng, random_image(rng, (40, 70) if i % 3 else (17, 23, 3), dtype))
        kernel, anchor = random_se(rng, kind, size)
        border = BORDERS[i % len(BORDERS)]
        op = ("erode", "dilate", "open", "gradient")[i % 4]
        check(
            backend,
            img,
            op,
            kernel,
            f"{size} {dtype}",
            anchor=anchor,
            border=border,
            border_value=[-3.0, 250.0, 1e9][i % 3],
        )


@pytest.mark.parametrize("channels", [0, 1, 3])
def test_widths_around_tiles_and_vectors(backend, channels):
    """Rows of 1..257 elements: tails of the 16-byte chunks, tiles of 32..256 elements, a
    tile's first element in the middle of a pixel."""
    rng = np.random.default_rng([channels, 4])
    widths = [1, 5, 11, 15, 16, 17, 31, 32, 33, 63, 65, 85, 86, 127, 129, 255, 257]
    for i, w in enumerate(widths):
        if channels:
            w = max(1, w // channels + (i % 2))
        shape = (3 + i % 5, w, channels) if channels else (3 + i % 5, w)
        dtype = DTYPES[i % len(DTYPES)]
        img = random_image(rng, shape, dtype)
        for op, kernel in (("dilate", (3, 7)), ("erode", foveal.structuring_element("ellipse", 5))):
            check(backend, img, op, kernel, f"{shape} {dtype}", border=BORDERS[i % 6])


@pytest.mark.parametrize("border", BORDERS)
def test_iterations(backend, border):
    """Rectangles fold their iterations into one larger (clamped) window; other SEs run pass
    after pass, the border applied each time."""
    rng = np.random.default_rng([BORDERS.index(border), 5])
    cross = foveal.structuring_element("cross", (3, 5))
    for iterations in (0, 1, 2, 5, 40):
        for kernel in ((3, 3), (2, 5), cross):
            img = random_image(rng, (11, 14, 2), "int16")
            op = ("erode", "dilate", "close")[iterations % 3]
            its = min(iterations, 5) if kernel is cross else iterations
            check(
                backend,
                img,
                op,
                kernel,
                f"{iterations}",
                iterations=its,
                border=border,
                anchor=(0, 1),
                border_value=[7, -9],
            )


# ---------------------------------------------------------------------- each kernel's path


def plan_of(backend, img, kernel, anchor=None, iterations=1, border="default"):
    """The launcher's plan for the first pass of ``kernel`` on ``img``."""
    mask = np.ones(kernel, np.uint8) if isinstance(kernel, tuple) else np.asarray(kernel)
    win = gpu_morph.plan(img, mask, anchor or (-1, -1), iterations, border)[0]
    c = img.shape[2] if img.ndim == 3 else 1
    elem = gpu_morph._ELEMS[img.dtype.name]
    b = "constant" if border == "default" else border
    return device(backend).module.morph_plan(elem, *img.shape[:2], c, b, *win[:4], list(win.runs))


def test_paths_rectangle(backend):
    """Direct row windows (up to 4 wide), van Herk rows and columns, a rectangle split into a
    row pass and a column pass when one tile would hold too much halo."""
    rng = np.random.default_rng(6)
    img = with_specials(rng, random_image(rng, (40, 70), "float32"))
    assert plan_of(backend, img, (3, 4))["split"] is False
    assert plan_of(backend, img, (17, 9))["split"] is False
    wide = random_image(rng, (12, 9, 8), "float64")
    assert plan_of(backend, wide, (41, 41))["split"] is True
    for op in OPS:
        check(backend, img, op, (3, 4), border="reflect")
        check(backend, img, op, (17, 9), anchor=(16, 0), border="replicate")
        check(backend, wide, op, (41, 41), anchor=(3, 38), border="reflect101")


def test_paths_pair(backend):
    """Open and close as one fused launch (the first pass over the hull of what the second
    reads) for every border but wrap; wrap runs them as two passes."""
    rng = np.random.default_rng(7)
    ellipse = foveal.structuring_element("ellipse", (7, 5))
    for border in BORDERS:
        for kernel, anchor in (((5, 5), None), ((3, 9), (2, 0)), (ellipse, (6, 4))):
            img = with_specials(rng, random_image(rng, (23, 37, 2), "float32"))
            plan = plan_of(backend, img, kernel, anchor, 1, border)
            assert plan["pair"] is (border != "wrap")
            for op in ("open", "close", "tophat", "blackhat"):
                check(
                    backend,
                    img,
                    op,
                    kernel,
                    f"{border}",
                    anchor=anchor,
                    border=border,
                    border_value=[1.5, -2.0],
                )


def test_pair_tiny_images(backend):
    """The pair's hull on images smaller than the windows: every row and column is an edge."""
    rng = np.random.default_rng(8)
    for shape in [(1, 1), (2, 1), (1, 3), (3, 2, 3), (5, 4)]:
        for border in BORDERS[:5]:
            for kernel in ((9, 9), foveal.structuring_element("cross", (9, 7), (8, 0))):
                img = random_image(rng, shape, "uint8")
                anchor = (8, 6) if isinstance(kernel, tuple) else None
                for op in ("open", "close", "tophat", "blackhat"):
                    check(backend, img, op, kernel, f"{shape}", anchor=anchor, border=border)


def test_paths_fallback(backend):
    """Masks of more runs than the kernels take, and windows whose halo cannot fit a tile, go
    to the CuPy fallback (here without NaN: cupyx's and scipy's filters skip it)."""
    rng = np.random.default_rng(9)
    checker = (np.indices((41, 41)).sum(axis=0) % 2).astype(np.uint8)  # 41 x 21 runs
    assert len(gpu_morph.runs_of(checker)) // 3 > device(backend).module.morph_max_runs()
    img = random_image(rng, (12, 15), "uint16")
    assert plan_of(backend, img, checker)["supported"] is False
    check(backend, img, "dilate", checker, border="reflect")
    check(backend, img, "gradient", checker, border="constant", border_value=3)
    deep = random_image(rng, (4, 120, 40), "float64")  # rows of 201 x 40 float64: 64 KiB
    assert plan_of(backend, deep, (3, 201), border="wrap")["supported"] is False
    check(backend, deep, "erode", (3, 201), border="wrap")


@pytest.mark.parametrize("dtype", ["uint8", "bool", "float32"])
def test_workload_shapes(backend, dtype):
    """The standard workloads' windows on an image large enough for full tiles (64 rows, 256
    elements) several times over: rectangles 3 to 31, ellipse 5, open and close 5x5."""
    rng = np.random.default_rng([DTYPES.index(dtype), 14])
    img = random_image(rng, (150, 530), dtype)
    ellipse = foveal.structuring_element("ellipse", 5)
    for op, kernel in [
        ("dilate", 3),
        ("erode", 5),
        ("dilate", 15),
        ("erode", 31),
        ("dilate", ellipse),
        ("open", 5),
        ("close", 5),
        ("tophat", 5),
    ]:
        check(backend, img, op, kernel, f"{kernel}")


def test_misaligned_rows(backend):
    """A source whose address is not 16-byte aligned (element loads, not vectors; no 4-byte
    stores of the epilogue's other image), and rows whose length breaks the alignment."""
    rng = np.random.default_rng(15)
    for dtype, shape in [("uint8", (21, 44)), ("uint16", (13, 30, 3)), ("int16", (9, 17))]:
        raw = np.zeros(int(np.prod(shape)) * np.dtype(dtype).itemsize + 2, np.uint8)
        img = raw[1 : 1 + raw.size - 2].view(dtype).reshape(shape)  # odd address
        img[...] = random_image(rng, shape, dtype)
        assert img.ctypes.data % 2 == 1 and img.flags.c_contiguous
        for op in ("erode", "tophat", "blackhat", "gradient"):
            check(backend, img, op, (3, 6), border="reflect")
            check(backend, img, op, foveal.structuring_element("cross", 5), border="replicate")


# --------------------------------------------------------------------------- edge semantics


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_inf_and_the_default_border(backend, dtype):
    """NaN wins min and max; the default border is cv2's finite extreme, so an infinite image
    erodes to FLT_MAX (DBL_MAX) at its edges; inf - inf is NaN in the differences."""
    img = np.full((9, 12), np.inf, dtype)
    img[4, 5] = np.nan
    img[0, 11] = -np.inf
    for op in OPS:
        for kernel in ((3, 3), (9, 9), foveal.structuring_element("ellipse", 5)):
            check(backend, img, op, kernel)
            check(backend, -img, op, kernel, border="constant", border_value=np.inf)


@pytest.mark.parametrize("dtype", DTYPES)
def test_border_values_saturate(backend, dtype):
    """Constant border values saturate to the dtype (round half to even, clip; != 0 for bool;
    beyond float32's range: inf), one per channel or one for all."""
    rng = np.random.default_rng(10)
    img = random_image(rng, (7, 9, 3), dtype)
    for values in ([300.0, -2.5, 3.5], [1e40, -1e40, 0.5], 65535.5, -40000.0, [0.0, 1.0, 2.0]):
        for op in ("erode", "dilate", "gradient"):
            check(backend, img, op, (3, 5), border="constant", border_value=values)


def test_wide_border_pixel(backend):
    """40 float64 channels: the border pixels (320 bytes) go through a device buffer."""
    rng = np.random.default_rng(11)
    img = random_image(rng, (5, 6, 40), "float64")
    values = [float(v) for v in rng.standard_normal(40) * 1000]
    for op in ("erode", "open", "blackhat"):
        check(backend, img, op, (3, 3), border="constant", border_value=values)
        check(backend, img, op, foveal.structuring_element("cross", 3), border="default")


@pytest.mark.parametrize("op", OPS)
def test_out_aliasing_the_image(backend, op):
    to_device, to_host = backend
    rng = np.random.default_rng(12)
    for kernel in ((5, 3), foveal.structuring_element("ellipse", (5, 7))):
        img = random_image(rng, (19, 26, 3), "uint8")
        want = foveal.morphology(img, op, kernel, border="reflect")
        dev_img = to_device(img.copy())  # the emulator's "device" arrays share host memory
        res = foveal.morphology(dev_img, op, kernel, border="reflect", out=dev_img)
        assert res is dev_img
        np.testing.assert_array_equal(to_host(dev_img), want)
        other = to_device(np.zeros_like(img))
        foveal.morphology(to_device(img), op, kernel, border="reflect", out=other)
        np.testing.assert_array_equal(to_host(other), want)


def test_strided_input_and_wrappers(backend):
    """Non-contiguous views, and erode / dilate as wrappers of the same route."""
    to_device, to_host = backend
    rng = np.random.default_rng(13)
    base = random_image(rng, (30, 40, 3), "int16")
    view = base[::-2, 3:, ::2]
    want = foveal.erode(view, (5, 4), border="wrap")
    got = foveal.erode(to_device(np.ascontiguousarray(view)), (5, 4), border="wrap")
    np.testing.assert_array_equal(to_host(got), want)
    ellipse = foveal.structuring_element("ellipse", 7)
    want = foveal.dilate(view, ellipse, iterations=2, border="reflect101")
    got = foveal.dilate(
        to_device(np.ascontiguousarray(view)), ellipse, iterations=2, border="reflect101"
    )
    np.testing.assert_array_equal(to_host(got), want)


def test_emulated_route_taken(request, backend):
    """The emulated backend really runs the kernels: the route's device was asked for."""
    to_device, _ = backend
    foveal.dilate(to_device(np.ones((4, 4), np.uint8)), 3)
    if hasattr(request.node, "taken"):
        assert request.node.taken

"""Correctness of foveal's connected components: label and component_stats.

Every result is compared exactly with the NumPy reference (``foveal.reference.components``, on
images up to 65x65) and with ``cv2.connectedComponentsWithStats(img, connectivity=c,
ltype=CV_32S)`` when cv2 is installed: the same labels, count + 1 == cv2's n, the same stats
and the same centroids, exactly (NaN where NaN; both divide exact integer sums once). The one
licensed difference is cv2's artefact background row [-1, INT_MAX, 0, 0, 0] for an image
without background, which foveal gives as [-1, -1, 0, 0, 0]. Images: the shared BINARY_IMAGES,
noise and blobs of several densities and odd sizes (1x1, 1xN, Nx1, around 8/16/32/64), images
of up to 450 rows that the C++ cuts into parallel stripes (against cv2 only), nested rings,
one-pixel regions, regions on the border, and skimage's camera / astronaut thresholded at
several levels. Then: every binary dtype (nonzero and NaN are foreground), strided / flipped /
F-order / offset views and torch tensors, ``out=``, foveal thread counts and Python threads,
component_stats on its own, and bad input (TypeError / ValueError naming the argument).
"""

from __future__ import annotations

import concurrent.futures

import foveal
import numpy as np
import pytest
from conftest import SEED
from foveal._backend import _core
from foveal.reference import components as ref
from foveal.reference import contours as ref_contours
from test_components_reference import BINARY_IMAGES, blobs, noise, rings

INT_MAX = np.iinfo(np.int32).max
CONNECTIVITIES = (4, 8)
#: label and component_stats give an image several threads only from 768 Ki pixels a stripe.
DEFAULT_STRIPE_PIXELS = 768 * 1024


@pytest.fixture(autouse=True)
def stripes_from_64_rows():
    """Every test here cuts images of 64 rows a stripe (the pixels' minimum off), so the small
    images below exercise the stripes and their seams as a large image does by default."""
    previous = _core._set_label_stripe_pixels(0)
    yield
    _core._set_label_stripe_pixels(previous)


def test_small_images_keep_one_stripe_by_default(cv2):
    """With the default minimum a 300x400 image is one stripe on any thread count; the result
    is the same as in stripes and as cv2's."""
    img = LARGE_IMAGES["blobs_300x400_0.5"]
    assert _core._set_label_stripe_pixels(DEFAULT_STRIPE_PIXELS) == 0
    with foveal.num_threads(4):
        whole = run_label(img, 8)
    _core._set_label_stripe_pixels(0)
    with foveal.num_threads(4):
        striped = run_label(img, 8)
    assert_components_equal(whole, striped, "one stripe vs stripes")
    assert_components_equal(whole, cv2_components(cv2, img, 8), "one stripe vs cv2")


def test_stripe_pixels_must_not_be_negative():
    with pytest.raises(ValueError, match="pixels"):
        _core._set_label_stripe_pixels(-1)


BINARY_DTYPES = ("bool", "uint8", "uint16", "int16", "float32", "float64")


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------

SMALL_SHAPES = (
    (1, 1),
    (1, 29),
    (29, 1),
    (2, 3),
    (7, 9),
    (8, 8),
    (9, 7),
    (15, 17),
    (16, 16),
    (17, 15),
    (31, 33),
    (32, 32),
    (33, 31),
    (63, 65),
    (64, 64),
)
# 2 threads cut images of >= 128 rows into 2 stripes, 4 threads those of >= 256 rows into 4
LARGE_SHAPES = ((128, 200), (129, 257), (257, 301), (300, 400), (450, 37), (37, 450))
DENSITIES = (0.1, 0.5, 0.9)


def random_images(shapes, densities, first_seed: int) -> dict[str, np.ndarray]:
    """Noise (scattered pixels, small clusters) and blobs (rounder regions with holes and
    regions in holes; for images at least 7 pixels on each side) of each shape and density."""
    images = {}
    k = first_seed
    for h, w in shapes:
        for d in densities:
            k += 1
            images[f"noise_{h}x{w}_{d}"] = noise(SEED + k, (h, w), d)
            if min(h, w) >= 7:
                images[f"blobs_{h}x{w}_{d}"] = blobs(SEED + k, (h, w), d)
    return images


def islands(shape=(23, 31), seed: int = 5) -> np.ndarray:
    """One-pixel regions (for 8-connectivity too) on a grid, the four corners included, and a
    few 4-connected-only pairs (diagonal neighbours)."""
    rng = np.random.default_rng(SEED + seed)
    img = np.zeros(shape, np.uint8)
    img[::2, ::2] = rng.random(img[::2, ::2].shape) < 0.6
    img[0, 0] = img[0, -1] = img[-1, 0] = img[-1, -1] = 1
    return img


def framed_dots() -> np.ndarray:
    """A ring along the whole image border around a hole holding a ring holding a dot."""
    img = np.ones((15, 15), np.uint8)
    img[1:-1, 1:-1] = 0
    img[4:11, 4:11] = 1
    img[5:10, 5:10] = 0
    img[7, 7] = 1
    return img


SPECIAL_IMAGES = {
    "deep_rings_on_border": rings(41, 1, 0),  # 11 rings: 21 levels of holes in holes
    "deep_rings_w2": rings(37, 2, 1),
    "islands": islands(),
    "islands_1xN": islands((1, 17), 6),
    "framed_dots": framed_dots(),
}
SMALL_IMAGES = {
    **random_images(SMALL_SHAPES, DENSITIES, 0),
    **SPECIAL_IMAGES,
}
LARGE_IMAGES = random_images(LARGE_SHAPES, (0.05, 0.5, 0.95), 100)


def big_image() -> np.ndarray:
    """1000 x 1500: blobs near the percolation density (big tangled components), specks (one
    pixel components), a cross spanning every stripe and a comb of short teeth."""
    rng = np.random.default_rng(SEED + 900)
    img = blobs(SEED + 901, (1000, 1500), 0.45)
    img |= (rng.random(img.shape) < 0.01).astype(np.uint8)
    img[:, 700] = 1
    img[517, :] = 1
    img[::97, 3::5] = 1
    return img


def thresholds(gray: np.ndarray) -> dict[str, np.ndarray]:
    """The image above its median and above a few other levels (quantiles and fixed values)."""
    levels = {"median": np.median(gray)}
    levels.update({f"q{q}": np.quantile(gray, q) for q in (0.05, 0.3, 0.8)})
    levels.update({"fixed100": 100, "fixed200": 200})
    return {name: (gray > level).astype(np.uint8) for name, level in levels.items()}


def gray_of(real_image: np.ndarray) -> np.ndarray:
    return real_image if real_image.ndim == 2 else np.ascontiguousarray(real_image[..., 1])


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def reference_components(img, connectivity):
    labels, count = ref.label(img, connectivity)
    stats, centroids = ref.component_stats(labels)
    return labels, count, stats, centroids


def cv2_components(cv2, img, connectivity):
    """cv2's results in foveal's form: (labels, count, stats, centroids), the artefact row of
    an image without background replaced by the empty-label row."""
    img = np.ascontiguousarray(img, np.uint8)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(
        img, connectivity=connectivity, ltype=cv2.CV_32S
    )
    if img.all():
        np.testing.assert_array_equal(stats[0], [-1, INT_MAX, 0, 0, 0])
        stats[0] = (-1, -1, 0, 0, 0)
    return labels, n - 1, stats, centroids


def assert_components_equal(got, expected, what: str = "") -> None:
    """Exact equality of (labels, count, stats, centroids), NaN centroids included."""
    labels, count, stats, centroids = got
    e_labels, e_count, e_stats, e_centroids = expected
    assert isinstance(labels, np.ndarray), f"{what}: labels are a {type(labels).__name__}"
    assert labels.dtype == np.int32 and labels.shape == e_labels.shape, what
    assert isinstance(count, int) and count == e_count, f"{what}: count {count} != {e_count}"
    np.testing.assert_array_equal(labels, e_labels, err_msg=f"{what}: labels")
    assert stats.dtype == np.int32 and stats.shape == (count + 1, 5), what
    np.testing.assert_array_equal(stats, e_stats, err_msg=f"{what}: stats")
    assert centroids.dtype == np.float64 and centroids.shape == (count + 1, 2), what
    np.testing.assert_array_equal(centroids, e_centroids, err_msg=f"{what}: centroids")


def run_label(img, connectivity, **kw):
    return foveal.label(img, connectivity, return_stats=True, **kw)


# --------------------------------------------------------------------------------------------
# hand-written
# --------------------------------------------------------------------------------------------


def test_docstring_example_by_hand():
    img = np.array([[1, 1, 0, 0], [0, 0, 0, 1], [1, 0, 1, 1]], np.uint8)
    labels, count = foveal.label(img)
    assert count == 3
    np.testing.assert_array_equal(labels, [[1, 1, 0, 0], [0, 0, 0, 2], [3, 0, 2, 2]])
    labels, count, stats, centroids = foveal.label(img, 4, return_stats=True)
    assert count == 3
    np.testing.assert_array_equal(labels, [[1, 1, 0, 0], [0, 0, 0, 2], [3, 0, 2, 2]])
    np.testing.assert_array_equal(
        stats, [[0, 0, 4, 3, 6], [0, 0, 2, 1, 2], [2, 1, 2, 2, 3], [0, 2, 1, 1, 1]]
    )
    np.testing.assert_array_equal(centroids[2], [(3 + 2 + 3) / 3, (1 + 2 + 2) / 3])


def test_block_order_for_8_connectivity():
    """8-connected regions are numbered by their first 2x2 block, 4-connected by first pixel."""
    img = np.array([[0, 0, 1], [1, 0, 0]], np.uint8)
    np.testing.assert_array_equal(foveal.label(img, 8)[0], [[0, 0, 2], [1, 0, 0]])
    np.testing.assert_array_equal(foveal.label(img, 4)[0], [[0, 0, 1], [2, 0, 0]])
    diagonal = np.eye(4, dtype=np.uint8)
    assert foveal.label(diagonal, 8)[1] == 1 and foveal.label(diagonal, 4)[1] == 4


def test_no_foreground_and_no_background():
    labels, count, stats, centroids = run_label(np.zeros((3, 4), np.uint8), 8)
    assert count == 0 and not labels.any()
    np.testing.assert_array_equal(stats, [[0, 0, 4, 3, 12]])
    np.testing.assert_array_equal(centroids, [[1.5, 1.0]])
    labels, count, stats, centroids = run_label(np.ones((3, 4), np.uint8), 4)
    assert count == 1 and (labels == 1).all()
    np.testing.assert_array_equal(stats, [[-1, -1, 0, 0, 0], [0, 0, 4, 3, 12]])
    assert np.isnan(centroids[0]).all()
    np.testing.assert_array_equal(centroids[1], [1.5, 1.0])


# --------------------------------------------------------------------------------------------
# against the reference and cv2
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
@pytest.mark.parametrize("name", list(BINARY_IMAGES))
def test_binary_images_match_reference_and_cv2(name, connectivity):
    img = BINARY_IMAGES[name]
    got = run_label(img, connectivity)
    assert_components_equal(got, reference_components(img, connectivity), "reference")
    labels, count = foveal.label(img, connectivity)
    np.testing.assert_array_equal(labels, got[0])
    assert count == got[1]
    cv2 = pytest.importorskip("cv2")
    assert_components_equal(got, cv2_components(cv2, img, connectivity), "cv2")


@pytest.mark.parametrize("connectivity", CONNECTIVITIES)
@pytest.mark.parametrize("name", list(SMALL_IMAGES))
def test_random_images_match_reference_and_cv2(name, connectivity):
    img = SMALL_IMAGES[name]
    got = run_label(img, connectivity)
    assert_components_equal(got, reference_components(img, connectivity), "reference")
    cv2 = pytest.importorskip("cv2")
    assert_components_equal(got, cv2_components(cv2, img, connectivity), "cv2")


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("name", list(LARGE_IMAGES))
def test_large_images_in_stripes_match_cv2(cv2, name, threads):
    """Images of 128..450 rows: 2 and 4 threads label them in 2..7 stripes joined at seams."""
    img = LARGE_IMAGES[name]
    for connectivity in CONNECTIVITIES:
        expected = cv2_components(cv2, img, connectivity)
        with foveal.num_threads(threads):
            got = run_label(img, connectivity)
            plain = foveal.label(img, connectivity)
        assert_components_equal(got, expected, f"{name} connectivity={connectivity}")
        np.testing.assert_array_equal(plain[0], expected[0])
        assert plain[1] == expected[1]


def test_real_image_thresholds_match_cv2(cv2, real_image):
    for level, img in thresholds(gray_of(real_image)).items():
        for connectivity in CONNECTIVITIES:
            got = run_label(img, connectivity)
            expected = cv2_components(cv2, img, connectivity)
            assert_components_equal(got, expected, f"{level} connectivity={connectivity}")


def test_real_image_crops_match_reference(real_image):
    gray = gray_of(real_image)[200:248, 230:294]
    for level, img in thresholds(gray).items():
        for connectivity in CONNECTIVITIES:
            got = run_label(img, connectivity)
            expected = reference_components(img, connectivity)
            assert_components_equal(got, expected, f"{level} connectivity={connectivity}")


# --------------------------------------------------------------------------------------------
# dtypes and layouts
# --------------------------------------------------------------------------------------------


def as_dtype(fg: np.ndarray, dtype, seed: int) -> np.ndarray:
    """An image of ``dtype`` whose nonzero pixels are ``fg``: random nonzero values (negative,
    extreme, tiny, inf and NaN for floats), zeros (and -0.0 for floats) elsewhere."""
    rng = np.random.default_rng(SEED + seed)
    dtype = np.dtype(dtype)
    fg = fg != 0
    if dtype == np.bool_:
        return fg.copy()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, fg.shape, endpoint=True).astype(dtype)
        values[values == 0] = info.max
        specials = [v for v in (info.min, info.max, 1, -1) if v and info.min <= v <= info.max]
    else:
        values = (rng.standard_normal(fg.shape) * 100).astype(dtype)
        values[values == 0] = 1
        tiny = np.finfo(dtype).smallest_subnormal
        specials = [np.nan, np.inf, -np.inf, tiny, -tiny, np.finfo(dtype).max]
    flat = np.flatnonzero(fg)
    for i, v in zip(flat[:: max(1, len(flat) // 17)], specials * 3, strict=False):
        values.flat[i] = v
    out = np.where(fg, values, np.zeros((), dtype)).astype(dtype)
    if dtype.kind == "f":
        background = np.flatnonzero(~fg)
        out.flat[background[::3]] = -0.0
    return out


@pytest.mark.parametrize("dtype", BINARY_DTYPES)
@pytest.mark.parametrize(
    "name", ["blobs_31x33_0.5", "noise_64x64_0.5", "islands", "noise_1x29_0.5"]
)
def test_dtypes_give_the_uint8_result(name, dtype):
    fg = SMALL_IMAGES[name]
    img = as_dtype(fg, dtype, 10)
    assert img.dtype == np.dtype(dtype) and np.array_equal(img != 0, fg != 0)
    for connectivity in CONNECTIVITIES:
        expected = run_label(fg, connectivity)
        assert_components_equal(run_label(img, connectivity), expected, f"{dtype}")


def test_nan_is_foreground():
    img = np.zeros((3, 5), np.float32)
    img[1, 1] = np.nan
    img[1, 3] = -0.0
    labels, count = foveal.label(img)
    assert count == 1 and labels[1, 1] == 1 and labels.sum() == 1


BASE = blobs(SEED + 300, (90, 140), 0.5) * np.uint8(200)

VIEWS = {
    "step2": lambda a: a[::2, ::2],
    "step2_odd": lambda a: a[1::2, 1::3],
    "neg_rows": lambda a: a[::-1],
    "neg_cols": lambda a: a[:, ::-1],
    "neg_both_step": lambda a: a[::-2, ::-3],
    "fortran": np.asfortranarray,
    "offset": lambda a: a[3:81, 5:127],
    "transposed": lambda a: a.T,
    "bool_neg_step": lambda a: (a != 0)[::-1, ::2],
    "float64_step": lambda a: a.astype(np.float64)[1::2, ::-1],
    "uint16_fortran_offset": lambda a: np.asfortranarray(a.astype(np.uint16))[7:, 2:-3],
    "one_column": lambda a: a[:, 17:18],
    "one_row_step": lambda a: a[40:41, ::3],
    "big_endian_uint16": lambda a: a.astype(">u2")[::-1],
    "big_endian_float64": lambda a: a.astype(">f8")[:, 1::2],
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_views_give_the_contiguous_result(view):
    img = VIEWS[view](BASE)
    assert not img.flags.c_contiguous or view in ("one_column",)
    copy = np.ascontiguousarray(img)
    for connectivity in CONNECTIVITIES:
        expected = run_label(copy, connectivity)
        assert_components_equal(run_label(img, connectivity), expected, view)


@pytest.mark.parametrize("dtype", ["uint8", "bool", "float32", "int16"])
def test_torch_tensors(dtype):
    torch = pytest.importorskip("torch")
    img = as_dtype(BASE, dtype, 11)
    for tensor, array in [
        (torch.from_numpy(img), img),
        (torch.from_numpy(img).t(), img.T),  # not contiguous
        (torch.from_numpy(img)[10:70:2, 3:], img[10:70:2, 3:]),
    ]:
        for connectivity in CONNECTIVITIES:
            labels, count, stats, centroids = run_label(tensor, connectivity)
            assert isinstance(labels, torch.Tensor) and labels.dtype == torch.int32
            expected = run_label(np.ascontiguousarray(array), connectivity)
            got = (labels.numpy(), count, np.asarray(stats), np.asarray(centroids))
            assert_components_equal(got, expected, f"torch {dtype}")


# --------------------------------------------------------------------------------------------
# out=
# --------------------------------------------------------------------------------------------

OUT_IMAGE = SMALL_IMAGES["blobs_31x33_0.5"]


# layout -> (the base array's shape for an (h, w) image, its order, the view of it used as out)
OUTS = {
    "c_contiguous": (lambda h, w: (h, w), "C", lambda b: b),
    "fortran": (lambda h, w: (h, w), "F", lambda b: b),
    "step_view": (lambda h, w: (2 * h, 3 * w), "C", lambda b: b[::2, ::3]),
    "neg_rows_view": (lambda h, w: (h, w), "C", lambda b: b[::-1]),
    "neg_cols_view": (lambda h, w: (h, w), "C", lambda b: b[:, ::-1]),
    "offset_view": (lambda h, w: (h + 9, w + 11), "C", lambda b: b[4:-5, 6:-5]),
}


@pytest.mark.parametrize("return_stats", [False, True])
@pytest.mark.parametrize("layout", list(OUTS))
def test_out_is_written_and_returned(layout, return_stats):
    img = OUT_IMAGE
    base_shape, order, view = OUTS[layout]
    base = np.full(base_shape(*img.shape), -7, np.int32, order=order)
    out = view(base)
    probe = np.zeros(base.shape, np.int32)
    view(probe)[...] = 1
    outside = probe == 0  # the pixels of base that out does not cover
    for connectivity in CONNECTIVITIES:
        expected = run_label(img, connectivity)
        base[...] = -7
        result = foveal.label(img, connectivity, return_stats=return_stats, out=out)
        assert len(result) == (4 if return_stats else 2)
        assert result[0] is out
        np.testing.assert_array_equal(out, expected[0])
        assert result[1] == expected[1]
        if return_stats:
            np.testing.assert_array_equal(result[2], expected[2])
            np.testing.assert_array_equal(result[3], expected[3])
        assert (base[outside] == -7).all(), "out= wrote outside its view"


def test_out_aliasing_the_binary_image():
    """``out`` is the int32 buffer whose bytes the (uint8 view) binary image reads."""
    buf = np.zeros((40, 48), np.int32)
    binary = buf.view(np.uint8)[:, :48]  # (40, 48) uint8, the low bytes of buf's first columns
    binary[...] = SMALL_IMAGES["blobs_63x65_0.5"][:40, :48]
    expected = run_label(binary.copy(), 8)
    result = foveal.label(binary, 8, return_stats=True, out=buf)
    assert result[0] is buf
    assert_components_equal(result, expected, "aliased out")


def test_out_torch():
    torch = pytest.importorskip("torch")
    img = OUT_IMAGE
    expected = run_label(img, 8)
    for source in (img, torch.from_numpy(img)):
        out = torch.full(img.shape, -7, dtype=torch.int32)
        labels, count = foveal.label(source, out=out)
        assert labels is out and count == expected[1]
        np.testing.assert_array_equal(out.numpy(), expected[0])
        big = torch.full((img.shape[0], 2 * img.shape[1]), -7, dtype=torch.int32)
        view = big[:, ::2]
        labels, _ = foveal.label(source, out=view)
        assert labels is view
        np.testing.assert_array_equal(view.numpy(), expected[0])
        assert (big[:, 1::2] == -7).all()


def _read_only(shape):
    a = np.zeros(shape, np.int32)
    a.setflags(write=False)
    return a


BAD_OUTS = [
    (lambda s: np.empty((s[0], s[1] - 1), np.int32), ValueError, "label: out must have shape"),
    (lambda s: np.empty(s[::-1], np.int32), ValueError, "label: out must have shape"),
    (lambda s: np.empty(s, np.int64), TypeError, "label: out must have dtype int32"),
    (lambda s: np.empty(s, np.uint32), TypeError, "label: out must have dtype int32"),
    (lambda s: np.empty(s, np.float32), TypeError, "label: out must have dtype int32"),
    (_read_only, ValueError, "label: out is read-only"),
    (lambda s: np.broadcast_to(np.int32(0), s), ValueError, "label: out is read-only"),
    (lambda s: np.empty(s, ">i4"), TypeError, "label: out must be in native byte order"),
    (lambda s: np.zeros(s, np.int32).tolist(), TypeError, "label: out must be an array"),
]


@pytest.mark.parametrize(("make", "error", "match"), BAD_OUTS)
def test_bad_out(make, error, match):
    with pytest.raises(error, match=match):
        foveal.label(OUT_IMAGE, out=make(OUT_IMAGE.shape))


# --------------------------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big():
    return big_image()


def test_thread_counts_agree_on_a_big_image(big):
    results = {}
    for threads in (1, 2, 3):
        with foveal.num_threads(threads):
            for connectivity in CONNECTIVITIES:
                results[threads, connectivity] = run_label(big, connectivity)
    for connectivity in CONNECTIVITIES:
        one = results[1, connectivity]
        assert one[1] > 1000 and one[2][1:, 4].max() > 10000  # big and small components
        assert one[2][1:, 4].min() == 1
        for threads in (2, 3):
            assert_components_equal(
                results[threads, connectivity], one, f"{threads} threads c={connectivity}"
            )
        with foveal.num_threads(3):
            stats, centroids = foveal.component_stats(one[0])
        np.testing.assert_array_equal(stats, one[2])
        np.testing.assert_array_equal(centroids, one[3])


def test_big_image_matches_cv2(cv2, big):
    for connectivity in CONNECTIVITIES:
        with foveal.num_threads(2):
            got = run_label(big, connectivity)
        assert_components_equal(got, cv2_components(cv2, big, connectivity), f"c={connectivity}")


def test_python_threads_call_label_and_find_contours_concurrently():
    """A pool of Python threads (each call using foveal's own threads too) gives every call
    the result it gives alone."""
    names = [n for n in LARGE_IMAGES if "0.5" in n] + ["blobs_64x64_0.5", "deep_rings_w2"]
    images = [LARGE_IMAGES.get(n, SMALL_IMAGES.get(n)) for n in names]
    jobs = [(i, c, mode) for i in range(len(images)) for c, mode in ((4, "tree"), (8, "ccomp"))]
    expected = {}
    for i, c, mode in jobs:
        expected[i, c, mode] = (run_label(images[i], c), foveal.find_contours(images[i], mode))

    def work(job):
        i, c, mode = job
        return job, run_label(images[i], c), foveal.find_contours(images[i], mode)

    order = np.random.default_rng(SEED + 7).permutation(len(jobs) * 4) % len(jobs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        for job, components, (contours, hierarchy) in pool.map(work, [jobs[k] for k in order]):
            want_components, (want_contours, want_hierarchy) = expected[job]
            assert_components_equal(components, want_components, str(job))
            np.testing.assert_array_equal(hierarchy, want_hierarchy)
            assert [len(c) for c in contours] == [len(c) for c in want_contours]
            np.testing.assert_array_equal(np.concatenate(contours), np.concatenate(want_contours))
    # and the results given alone are the right ones
    i = names.index("deep_rings_w2")
    want, want_h = ref_contours.find_contours(images[i], "tree", "simple")
    got, got_h = expected[i, 4, "tree"][1]
    np.testing.assert_array_equal(got_h, want_h)
    for c, e in zip(got, want, strict=True):
        np.testing.assert_array_equal(c, e)


# --------------------------------------------------------------------------------------------
# component_stats
# --------------------------------------------------------------------------------------------


def test_component_stats_labels_with_gaps():
    labels = np.array([[0, 2, 2, 0], [5, 0, 2, 0], [5, 5, 0, 0]], np.int32)
    stats, centroids = foveal.component_stats(labels)
    assert stats.dtype == np.int32 and stats.shape == (6, 5)
    assert centroids.dtype == np.float64 and centroids.shape == (6, 2)
    empty = [-1, -1, 0, 0, 0]
    np.testing.assert_array_equal(
        stats,
        [[0, 0, 4, 3, 6], empty, [1, 0, 2, 2, 3], empty, empty, [0, 1, 2, 2, 3]],
    )
    assert np.isnan(centroids[[1, 3, 4]]).all()
    np.testing.assert_array_equal(centroids[2], [5 / 3, 1 / 3])
    np.testing.assert_array_equal(centroids[5], [1 / 3, 5 / 3])
    # no background: row 0 is an empty label too
    stats, centroids = foveal.component_stats(np.full((2, 3), 2, np.int64))
    np.testing.assert_array_equal(stats, [empty, empty, [0, 0, 3, 2, 6]])
    assert np.isnan(centroids[:2]).all()
    stats, centroids = foveal.component_stats(np.zeros((1, 1), np.uint8))
    np.testing.assert_array_equal(stats, [[0, 0, 1, 1, 1]])
    np.testing.assert_array_equal(centroids, [[0.0, 0.0]])


def random_labels(seed: int, shape, n: int) -> np.ndarray:
    """Labels 0..n-1 in random blocks and pixels, with a few labels left out."""
    rng = np.random.default_rng(SEED + seed)
    labels = rng.integers(0, n, shape)
    labels[labels % 7 == 3] = 0  # gaps
    labels[: shape[0] // 2, : shape[1] // 3] = n - 1  # a block
    return labels.astype(np.int32)


@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (37, 53), (64, 64)])
def test_component_stats_matches_reference(shape):
    for k, n in enumerate((1, 2, 9, 200)):
        labels = random_labels(20 + k, shape, n)
        stats, centroids = foveal.component_stats(labels)
        e_stats, e_centroids = ref.component_stats(labels)
        np.testing.assert_array_equal(stats, e_stats, err_msg=f"n={n}")
        np.testing.assert_array_equal(centroids, e_centroids, err_msg=f"n={n}")


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64"])
def test_component_stats_integer_dtypes(dtype):
    labels = random_labels(30, (45, 61), 100)
    expected = ref.component_stats(labels)
    stats, centroids = foveal.component_stats(labels.astype(dtype))
    np.testing.assert_array_equal(stats, expected[0])
    np.testing.assert_array_equal(centroids, expected[1])


@pytest.mark.parametrize(
    "view", ["step2", "neg_rows", "neg_both_step", "fortran", "offset", "transposed"]
)
def test_component_stats_views(view):
    labels = random_labels(31, (90, 140), 50)
    v = VIEWS[view](labels)
    expected = ref.component_stats(np.ascontiguousarray(v))
    stats, centroids = foveal.component_stats(v)
    np.testing.assert_array_equal(stats, expected[0])
    np.testing.assert_array_equal(centroids, expected[1])


def test_component_stats_byte_order_and_torch():
    labels = random_labels(33, (37, 53), 30)
    expected = ref.component_stats(labels)
    inputs = [labels.astype(">i4"), labels.astype(">i2")]
    try:
        import torch
    except ImportError:  # torch is optional: the NumPy inputs still run
        torch = None
    if torch is not None:
        inputs += [torch.from_numpy(labels), torch.from_numpy(labels.astype(np.int64)).t().t()]
    for arr in inputs:
        stats, centroids = foveal.component_stats(arr)
        assert isinstance(stats, np.ndarray) and isinstance(centroids, np.ndarray)
        np.testing.assert_array_equal(stats, expected[0])
        np.testing.assert_array_equal(centroids, expected[1])


def test_component_stats_of_cv2_labels(cv2, real_image):
    img = thresholds(gray_of(real_image))["median"]
    _, labels, cv_stats, cv_centroids = cv2.connectedComponentsWithStats(
        img, connectivity=8, ltype=cv2.CV_32S
    )
    stats, centroids = foveal.component_stats(labels)
    np.testing.assert_array_equal(stats, cv_stats)
    np.testing.assert_array_equal(centroids, cv_centroids)


def test_component_stats_threads_agree():
    labels = random_labels(32, (700, 301), 5000)
    expected = ref.component_stats(labels[:64])
    with foveal.num_threads(1):
        one = foveal.component_stats(labels)
        top = foveal.component_stats(labels[:64])
    np.testing.assert_array_equal(top[0], expected[0])
    np.testing.assert_array_equal(top[1], expected[1])
    for threads in (2, 3):
        with foveal.num_threads(threads):
            got = foveal.component_stats(labels)
        np.testing.assert_array_equal(got[0], one[0])
        np.testing.assert_array_equal(got[1], one[1])
    assert one[0][:, 4].sum() == labels.size


BAD_STATS = [
    (np.array([[0, -1]], np.int32), ValueError, r"component_stats: labels must be >= 0"),
    (np.array([[0, -3]], np.int8), ValueError, r"component_stats: labels must be >= 0"),
    (np.array([[0, -1]], np.int64), ValueError, r"component_stats: labels must be >= 0"),
    (np.array([[0, 2**31]], np.int64), ValueError, r"component_stats: labels must be < 2\*\*31"),
    (np.array([[0, 2**31 - 1]], np.int32), ValueError, r"component_stats: the highest label"),
    (np.array([[0, 2**40]], np.int64), ValueError, r"component_stats: labels must be < 2\*\*31"),
    (np.array([[0, 1]], np.float64), TypeError, "component_stats: labels dtype float64"),
    (np.array([[0, 1]], np.float32), TypeError, "component_stats: labels dtype float32"),
    (np.array([[0, 1]], bool), TypeError, "component_stats: labels dtype bool"),
    (np.array([[0, 1]], np.uint64), TypeError, "component_stats: labels dtype uint64"),
    (np.array([[0, 1]], np.complex64), TypeError, "component_stats: labels dtype complex64"),
    ([[0, 1]], TypeError, "component_stats: labels must be an array"),
    (None, TypeError, "component_stats: labels must be an array"),
    (np.array([0, 1], np.int32), ValueError, "component_stats: labels must be 2-D"),
    (np.zeros((2, 2, 2), np.int32), ValueError, "component_stats: labels must be 2-D"),
    (np.zeros((0, 3), np.int32), ValueError, "component_stats: labels must not be empty"),
    (np.zeros((3, 0), np.int64), ValueError, "component_stats: labels must not be empty"),
]


@pytest.mark.parametrize(("labels", "error", "match"), BAD_STATS, ids=lambda v: None)
def test_component_stats_bad_input(labels, error, match):
    with pytest.raises(error, match=match):
        foveal.component_stats(labels)


# --------------------------------------------------------------------------------------------
# bad input to label
# --------------------------------------------------------------------------------------------

IMG = SMALL_IMAGES["blobs_8x8_0.5"]

BAD_LABEL = [
    (lambda: foveal.label([[1, 0], [0, 1]]), TypeError, "label: binary must be an array"),
    (lambda: foveal.label(None), TypeError, "label: binary must be an array"),
    (lambda: foveal.label(IMG.astype(np.complex64)), TypeError, "label: binary dtype complex64"),
    (lambda: foveal.label(IMG.astype(np.int32)), TypeError, "label: binary dtype int32"),
    (lambda: foveal.label(IMG.astype(np.int64)), TypeError, "label: binary dtype int64"),
    (lambda: foveal.label(IMG.astype(np.float16)), TypeError, "label: binary dtype float16"),
    (lambda: foveal.label(IMG.astype(object)), TypeError, "label: binary dtype object"),
    (lambda: foveal.label(IMG[0]), ValueError, "label: binary must be 2-D"),
    (lambda: foveal.label(np.uint8(1)), ValueError, "label: binary must be 2-D"),
    (lambda: foveal.label(IMG[:, :, None]), ValueError, "label: binary must be 2-D"),
    (lambda: foveal.label(np.stack([IMG] * 3, -1)), ValueError, "label: binary must be 2-D"),
    (lambda: foveal.label(IMG[:0]), ValueError, "label: binary must not be empty"),
    (lambda: foveal.label(IMG[:, :0]), ValueError, "label: binary must not be empty"),
    (lambda: foveal.label(IMG, 6), ValueError, "label: connectivity must be 4 or 8"),
    (lambda: foveal.label(IMG, 0), ValueError, "label: connectivity must be 4 or 8"),
    (lambda: foveal.label(IMG, -8), ValueError, "label: connectivity must be 4 or 8"),
    (lambda: foveal.label(IMG, 8.0), TypeError, "label: connectivity must be an integer"),
    (lambda: foveal.label(IMG, "8"), TypeError, "label: connectivity must be an integer"),
    (lambda: foveal.label(IMG, True), TypeError, "label: connectivity must be an integer"),
    (lambda: foveal.label(IMG, return_stats=1), TypeError, "label: return_stats must be a bool"),
    (lambda: foveal.label(IMG, return_stats="y"), TypeError, "label: return_stats must be"),
    (lambda: foveal.label(IMG, return_stats=None), TypeError, "label: return_stats must be"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_LABEL, ids=[b[2] for b in BAD_LABEL])
def test_label_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_label_accepts_numpy_scalars_for_arguments():
    expected = foveal.label(IMG, 4)
    got = foveal.label(IMG, np.int64(4), return_stats=np.bool_(False))
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1] == expected[1]

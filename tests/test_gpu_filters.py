"""The linear filters on the GPU (cuda/filters.cu) against the CPU path: filter2d, sep_filter2d,
gaussian_blur, sobel, scharr and box_filter, for every input dtype x output dtype x border,
kernel sizes and anchors, one and several channels, odd sizes.

How results compare. The kernels repeat the CPU kernels' arithmetic in the CPU's order with
fused multiply-adds, so where the CPU build fuses too (its AVX2 / AVX-512 kernels, the usual
case, ``FUSED``) every linear filter is compared bit for bit, NaN positions included, but for
the CPU's tail values: the last (values per row mod its vector width) values of each row,
which its dot_rows computes in a scalar loop that GCC compiles with unfused products for some
tap counts (float64, AVX2: 1-ulp differences), compared like the baseline's. Under the
CPU's baseline kernels (products rounded before the add) float outputs are compared within
``gpu_support.same``'s 1e-5 (float32) / 1e-12 (float64) of the result's scale and integer
outputs within 1, for a last-bit difference that lands on a .5 tie. Box sums of integer images
are exact on both sides (integer sums, the exactly rounded mean) and compared exactly always;
box sums of float images are float64 running sums on the CPU whose rounding depends on where
its bands start, so they are compared exactly on data whose sums float64 holds exactly
(multiples of 1/8) and within ``same``'s tolerance on random data. NaN and infinities in a box
window are checked against direct sums: the CPU's running sums carry a NaN past its window.

Every case runs on the emulator (and on a GPU where there is one) and must take the kernels'
route, not the CuPy fallback (the ``no_fallback`` fixture), except where a test asks for it.
"""

from __future__ import annotations

import itertools
import zlib

import foveal
import numpy as np
import pytest
from conftest import random_image
from foveal._backend import _core
from gpu_support import same

DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
BORDERS = ("constant", "replicate", "reflect", "reflect101", "wrap")
FUSED = _core.active_isa() in ("avx2", "avx512")
TAIL_WIDTH = 16 if _core.active_isa() == "avx512" else 8  # float32 lanes of the CPU's vectors
SHAPES = [(40, 70), (23, 37, 3), (17, 29, 2), (9, 130)]


@pytest.fixture(autouse=True)
def no_fallback(monkeypatch):
    """The CuPy fallback must not be taken (a test that wants it patches ``_cupy`` itself)."""

    def refuse(name):
        raise AssertionError(f"the CuPy fallback for {name} was taken")

    monkeypatch.setattr(foveal.filters, "_cupy", refuse)


def run(backend, name, img, *args, **kwargs):
    """(the GPU result on the host, the CPU result) of foveal.<name>(img, *args, **kwargs)."""
    to_device, to_host = backend
    fn = getattr(foveal, name)
    want = fn(img, *args, **kwargs)
    got = fn(to_device(img), *args, **kwargs)
    return np.asarray(to_host(got)), want


def _close(got, want, what):
    if want.dtype.kind in "ui":
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
        assert diff.max(initial=0) <= 1, what
    else:
        same(got, want, what)


def check(got, want, what, *, exact=FUSED):
    """``got`` equals ``want`` bit for bit (``exact``) but for the CPU's tail values, else
    within the stated tolerance. The tail: the last (values per row mod the vector width)
    values of each row, which the CPU's dot_rows leaves to a scalar loop that GCC compiles with
    unfused products for some tap counts (seen in float64 with AVX2)."""
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if not exact:
        _close(got, want, what)
        return
    rows = want.reshape(want.shape[0], -1)
    n = rows.shape[1]
    body = n - n % TAIL_WIDTH
    g = got.reshape(rows.shape)
    np.testing.assert_array_equal(g[:, :body], rows[:, :body], err_msg=what)
    _close(g[:, body:], rows[:, body:], what + " (the CPU's tail values)")


def exact_for(name, dtype):
    """Whether foveal.<name> on ``dtype`` images is compared bit for bit (see above)."""
    if name == "box_filter":
        return np.dtype(dtype).kind in "ui"
    return FUSED


def kernel_of(rng, shape, zeros=0.2):
    """Random taps, about ``zeros`` of them exactly 0 (skipped, as the CPU skips them)."""
    k = rng.standard_normal(shape)
    k[rng.random(shape) < zeros] = 0.0
    return k


def border_value(rng, channels, dtype):
    """A scalar or one value per channel, out of the dtype's range at times (saturated)."""
    if rng.random() < 0.5:
        return float(rng.choice([0.0, 2.5, -7.0, 300.0, 1e5]))
    return [float(v) for v in rng.uniform(-400, 70000 if dtype != "float32" else 10, channels)]


def channels_of(img):
    return img.shape[2] if img.ndim == 3 else 1


# --------------------------------------------------------------------- filter2d, sep_filter2d


@pytest.mark.parametrize("dst", DTYPES)
@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("name", ["filter2d", "sep_filter2d"])
def test_linear_dtypes_and_borders(backend, name, src, dst):
    """Every input dtype x output dtype x border; sizes, anchors and deltas drawn per case."""
    rng = np.random.default_rng(zlib.crc32(f"{name} {src} {dst}".encode()))
    for i, border in enumerate(BORDERS):
        shape = SHAPES[i % len(SHAPES)]
        img = random_image(rng, shape, src)
        kh, kw = (int(v) for v in rng.choice([1, 2, 3, 4, 5, 7, 9, 16], 2))
        anchor = (int(rng.integers(kh)), int(rng.integers(kw)))
        delta = float(rng.choice([0.0, 0.5, -3.25, 100.0]))
        bv = border_value(rng, channels_of(img), src)
        kwargs = dict(anchor=anchor, delta=delta, border=border, border_value=bv, dtype=dst)
        if name == "filter2d":
            args = (kernel_of(rng, (kh, kw)),)
        else:
            args = (kernel_of(rng, kw), kernel_of(rng, kh))
        got, want = run(backend, name, img, *args, **kwargs)
        check(got, want, f"{name} {src}->{dst} {border} {shape} k={kh}x{kw} {kwargs}")


@pytest.mark.parametrize("name", ["filter2d", "sep_filter2d", "box_filter"])
def test_every_anchor(backend, name):
    rng = np.random.default_rng(3)
    img = random_image(rng, (13, 21, 2), "float32")
    kh, kw = 4, 5
    for anchor in itertools.product(range(kh), range(kw)):
        if name == "filter2d":
            args = (kernel_of(rng, (kh, kw)),)
        elif name == "sep_filter2d":
            args = (kernel_of(rng, kw), kernel_of(rng, kh))
        else:
            args = ((kh, kw),)
        for border in ("constant", "reflect"):
            got, want = run(backend, name, img, *args, anchor=anchor, border=border)
            check(got, want, f"{name} anchor {anchor} {border}", exact=exact_for(name, img.dtype))


# Widths around the vector word (4 floats, 2 doubles, 16-byte loads) and the tile (up to 128
# values of a row), heights around the column run (4) and tile (4 to 32 rows).
ODD_SHAPES = [
    (1, 1),
    (1, 2),
    (2, 1),
    (1, 7),
    (7, 1),
    (1, 129),
    (33, 1),
    (3, 3),
    (5, 9),
    (4, 31),
    (31, 4),
    (6, 127),
    (5, 128),
    (3, 131),
    (35, 257),
    (1, 1, 3),
    (2, 5, 4),
    (7, 33, 5),
    (5, 43, 3),
    (6, 9, 40),
]


@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64"])
@pytest.mark.parametrize("shape", ODD_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_odd_sizes(backend, shape, dtype):
    rng = np.random.default_rng(sum(shape))
    img = random_image(rng, shape, dtype)
    border = BORDERS[sum(shape) % len(BORDERS)]
    cases = [
        ("filter2d", (kernel_of(rng, (3, 5)),), {}),
        ("sep_filter2d", (kernel_of(rng, 5), kernel_of(rng, 3)), dict(anchor=(0, 4))),
        ("gaussian_blur", (5,), {}),
        ("sobel", (1, 1), dict(dtype="int16")),
        ("box_filter", ((3, 4),), {}),
    ]
    for name, args, kwargs in cases:
        got, want = run(backend, name, img, *args, border=border, **kwargs)
        check(got, want, f"{name} {shape} {dtype} {border}", exact=exact_for(name, dtype))


@pytest.mark.parametrize("border", BORDERS)
def test_kernels_larger_than_the_image(backend, border):
    """Windows reaching several image sizes past an edge (reflections repeat periodically)."""
    rng = np.random.default_rng(4)
    img = random_image(rng, (5, 7, 2), "float32")
    kernel = kernel_of(rng, (11, 19))
    got, want = run(backend, "filter2d", img, kernel, anchor=(2, 15), border=border)
    check(got, want, f"filter2d large {border}")
    got, want = run(backend, "sep_filter2d", img, kernel_of(rng, 23), kernel_of(rng, 13),
                    border=border, border_value=[1.5, -2])  # fmt: skip
    check(got, want, f"sep_filter2d large {border}")
    got, want = run(backend, "box_filter", img.astype(np.int16), (13, 17), anchor=(12, 0),
                    border=border, border_value=[3, 9])  # fmt: skip
    check(got, want, f"box_filter large {border}", exact=True)


@pytest.mark.parametrize("dtype", ["uint16", "float32", "float64"])
def test_long_kernels(backend, dtype):
    """More than 16 taps along a direction: taps read from memory rather than registers."""
    rng = np.random.default_rng(5)
    img = random_image(rng, (40, 70, 2), dtype)
    for kx, ky in [(17, 3), (3, 33), (40, 25)]:
        got, want = run(backend, "sep_filter2d", img, kernel_of(rng, kx), kernel_of(rng, ky))
        check(got, want, f"sep_filter2d {dtype} {kx}x{ky}")
    for kh, kw in [(3, 17), (17, 3), (9, 31)]:
        kernel = kernel_of(rng, (kh, kw), zeros=0.5)
        got, want = run(backend, "filter2d", img, kernel, border="wrap", dtype="float32")
        check(got, want, f"filter2d {dtype} {kh}x{kw}")


def test_tiles_in_global_scratch(backend):
    """Kernels whose tile does not fit a block's shared memory: tiles in a scratch buffer."""
    rng = np.random.default_rng(6)
    img = random_image(rng, (37, 60), "float32")
    got, want = run(backend, "sep_filter2d", img, kernel_of(rng, 211), kernel_of(rng, 197),
                    border="reflect")  # fmt: skip
    check(got, want, "sep_filter2d 197x211")
    got, want = run(backend, "filter2d", img, kernel_of(rng, (121, 125)), border="wrap")
    check(got, want, "filter2d 121x125")
    f64 = img.astype(np.float64)
    got, want = run(backend, "box_filter", f64 / 8, (5, 3001), normalize=False)
    check(got, want, "box_filter float64 (5, 3001)", exact=False)


def test_zero_taps_and_special_values(backend):
    """NaN and infinities reach exactly the outputs the CPU's do: zero taps skip them."""
    rng = np.random.default_rng(7)
    for dtype in ("float32", "float64"):
        img = random_image(rng, (30, 45, 2), dtype)
        img[3, 4, 0], img[10, 20, 1], img[25, 40, 0] = np.nan, np.inf, -np.inf
        for dst in (dtype, "uint8", "int16"):
            kernel = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, -1.0], [0.0, 0.5, 0.0]])
            got, want = run(backend, "filter2d", img, kernel, dtype=dst)
            check(got, want, f"filter2d {dtype}->{dst} specials")
            got, want = run(backend, "sep_filter2d", img, [1.0, 0.0, -1.0], [0.0, 2.0, 1.0],
                            dtype=dst)  # fmt: skip
            check(got, want, f"sep_filter2d {dtype}->{dst} specials")
        # A float64 tap too small for float32 is a zero float32 tap, not a skipped one.
        got, want = run(backend, "sep_filter2d", img, [1e-50, 1.0, 1e-50], [1.0])
        check(got, want, f"sep_filter2d {dtype} tiny taps")
        for name in ("gaussian_blur", "sobel"):
            args = (31, 1.0) if name == "gaussian_blur" else (0, 1)
            got, want = run(backend, name, img, *args)
            check(got, want, f"{name} {dtype} specials")


def test_rounding_ties_and_saturation(backend):
    """Integer kernels and delta 0.5: exact .5 results, rounded half to even as on the CPU."""
    rng = np.random.default_rng(8)
    img = random_image(rng, (20, 33), "int16")
    kernel = rng.integers(-3, 4, (3, 3)).astype(np.float64)
    for dst in ("uint8", "uint16", "int16"):
        for delta in (0.5, -0.5, 1.5, 40000.5):
            got, want = run(backend, "filter2d", img, kernel, delta=delta, dtype=dst)
            check(got, want, f"filter2d ties {dst} {delta}", exact=True)
            got, want = run(backend, "sep_filter2d", img, [1, -2, 1], [1, 1], delta=delta,
                            dtype=dst)  # fmt: skip
            check(got, want, f"sep_filter2d ties {dst} {delta}", exact=True)


# --------------------------------------------------------------- gaussian_blur, sobel, scharr


GAUSSIANS = [
    (3, 0.0, None),
    (5, 0.0, None),
    ((7, 9), 0.0, None),
    (1, 0.0, None),
    (5, 1.3, None),
    ((5, 3), 1.0, 2.0),
    (15, 3.0, None),
    (0, 1.5, None),  # the size from sigma: 3 sigma for uint8, 4 sigma for the others
    ((0, 11), 0.8, 2.2),
    (31, 1.0, None),  # tails far below float32's smallest value
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_blur(backend, dtype):
    rng = np.random.default_rng(9)
    for i, (ksize, sigma, sigma_y) in enumerate(GAUSSIANS):
        img = random_image(rng, SHAPES[i % len(SHAPES)], dtype)
        border = BORDERS[i % len(BORDERS)]
        bv = border_value(rng, channels_of(img), dtype)
        got, want = run(backend, "gaussian_blur", img, ksize, sigma, sigma_y=sigma_y,
                        border=border, border_value=bv)  # fmt: skip
        check(got, want, f"gaussian_blur {dtype} {ksize} {sigma} {sigma_y} {border}")


SOBELS = [
    (dx, dy, k)
    for k in (1, 3, 5, 7)
    for dx in range(3 if k == 1 else k)
    for dy in range(3 if k == 1 else k)
    if dx + dy > 0
]


@pytest.mark.parametrize("src", DTYPES)
def test_sobel_every_order(backend, src):
    rng = np.random.default_rng(10)
    dsts = (None, "uint8", "int16", "float64", "uint16")
    for i, (dx, dy, ksize) in enumerate(SOBELS):
        img = random_image(rng, SHAPES[i % len(SHAPES)], src)
        kwargs = dict(
            ksize=ksize,
            scale=float(rng.choice([1.0, 0.25, -3.0])),
            delta=float(rng.choice([0.0, 7.5])),
            border=BORDERS[i % len(BORDERS)],
            border_value=border_value(rng, channels_of(img), src),
            dtype=dsts[i % len(dsts)],
        )
        got, want = run(backend, "sobel", img, dx, dy, **kwargs)
        check(got, want, f"sobel {src} ({dx}, {dy}) {kwargs}")


@pytest.mark.parametrize("src", DTYPES)
def test_scharr(backend, src):
    rng = np.random.default_rng(11)
    for i, (dx, dy) in enumerate([(1, 0), (0, 1)]):
        for border in BORDERS:
            img = random_image(rng, SHAPES[i], src)
            dst = ("float32", "int16", "float64", "uint8", None)[BORDERS.index(border)]
            got, want = run(backend, "scharr", img, dx, dy, scale=0.5, delta=1.0, border=border,
                            dtype=dst)  # fmt: skip
            check(got, want, f"scharr {src} ({dx}, {dy}) {border} {dst}")


# ------------------------------------------------------------------------------- box_filter


def quantized(rng, shape, dtype):
    """Float data whose window sums float64 holds exactly (multiples of 1/8, |v| < 2^20)."""
    return (np.round(rng.standard_normal(shape) * 800) / 8).astype(dtype)


@pytest.mark.parametrize("dst", DTYPES)
@pytest.mark.parametrize("src", DTYPES)
def test_box_dtypes_and_borders(backend, src, dst):
    rng = np.random.default_rng(zlib.crc32(f"box {src} {dst}".encode()))
    for i, border in enumerate(BORDERS):
        shape = SHAPES[i % len(SHAPES)]
        img = (
            quantized(rng, shape, src) if src.startswith("float") else random_image(rng, shape, src)
        )
        ksize = [(3, 3), (1, 5), (4, 2), (7, 31), (15, 1)][i]
        for normalize in (True, False):
            bv = border_value(rng, channels_of(img), src)
            if src.startswith("float"):
                bv = np.round(np.asarray(bv, np.float64) * 8).clip(-1e5, 1e5) / 8
                bv = bv.tolist() if bv.ndim else float(bv)
            kwargs = dict(normalize=normalize, border=border, border_value=bv, dtype=dst)
            got, want = run(backend, "box_filter", img, ksize, **kwargs)
            check(got, want, f"box {src}->{dst} {ksize} {kwargs}", exact=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_box_random_floats(backend, dtype):
    rng = np.random.default_rng(12)
    for shape, ksize in [((40, 70), 5), ((23, 37, 3), (9, 4)), ((64, 130), 31)]:
        img = random_image(rng, shape, dtype)
        for dst in (dtype, "float64", "int16"):
            got, want = run(backend, "box_filter", img, ksize, dtype=dst)
            check(got, want, f"box {dtype}->{dst} {shape} {ksize}", exact=False)


def test_box_wide_integer_sums(backend):
    """Windows whose sums need int64 (area x 65536 >= 2^31): still exact."""
    rng = np.random.default_rng(13)
    for dtype, ksize in [("uint16", (190, 200)), ("int16", (33, 1001)), ("uint8", (1, 9))]:
        img = random_image(rng, (21, 38, 2), dtype)
        for normalize, dst in [(True, dtype), (False, "float64"), (True, "float32")]:
            got, want = run(backend, "box_filter", img, ksize, normalize=normalize, dtype=dst,
                            border="wrap")  # fmt: skip
            check(got, want, f"box {dtype} {ksize} {normalize} {dst}", exact=True)


def _direct_box_sum(img, kh, kw, ay, ax):
    """Window sums by direct summation over a reflect101-padded copy (windows within the
    image's size): NaN and infinities stay in the windows that hold them."""
    pad = [(ay, kh - 1 - ay), (ax, kw - 1 - ax)] + [(0, 0)] * (img.ndim - 2)
    p = np.pad(img.astype(np.float64), pad, mode="reflect")
    out = np.zeros(img.shape, np.float64)
    with np.errstate(invalid="ignore"):  # inf - inf: the NaN wanted
        for i in range(kh):
            for j in range(kw):
                out = out + p[i : i + img.shape[0], j : j + img.shape[1]]
    return out


def test_box_nan_and_infinities_stay_in_their_windows(backend):
    to_device, to_host = backend
    img = np.arange(60 * 50, dtype=np.float32).reshape(60, 50) % 7
    img[5, 5], img[30, 10], img[31, 40], img[45, 20] = np.nan, np.inf, np.inf, -np.inf
    img[46, 21] = np.inf  # +inf and -inf in one window: NaN
    want = _direct_box_sum(img, 5, 3, 2, 1)
    got = to_host(foveal.box_filter(to_device(img), (5, 3), normalize=False, dtype="float64"))
    np.testing.assert_array_equal(np.asarray(got), want)


# -------------------------------------------------------------------------- layout and route


@pytest.mark.parametrize("name", ["filter2d", "sep_filter2d", "box_filter", "sobel"])
def test_strided_inputs(backend, name):
    """Row slices and flipped rows are read in place (a pitch); other layouts copied."""
    rng = np.random.default_rng(14)
    base = random_image(rng, (50, 80, 3), "uint16")
    args = {
        "filter2d": (kernel_of(rng, (3, 4)),),
        "sep_filter2d": (kernel_of(rng, 5), kernel_of(rng, 3)),
        "box_filter": ((5, 5),),
        "sobel": (1, 0),
    }[name]
    to_device, to_host = backend
    dev = to_device(base)
    views = {
        "rows": (slice(3, 40, 2), slice(None)),
        "flipped": (slice(None, None, -1), slice(5, 70)),
        "columns": (slice(None), slice(None, None, 2)),
        "channel": (slice(None), slice(None), 1),
    }
    for what, index in views.items():
        want = getattr(foveal, name)(base[index], *args)
        got = to_host(getattr(foveal, name)(dev[index], *args))
        check(np.asarray(got), want, f"{name} {what}", exact=exact_for(name, base.dtype))


def test_out_argument(backend):
    to_device, to_host = backend
    img = random_image(np.random.default_rng(15), (20, 30), "uint8")
    out = to_device(np.zeros((20, 30), np.float32))
    res = foveal.gaussian_blur(to_device(img), 5, out=None)
    got = foveal.sobel(to_device(img), 1, 0, out=out)
    assert got is out
    check(np.asarray(to_host(out)), foveal.sobel(img, 1, 0), "sobel out=")
    check(np.asarray(to_host(res)), foveal.gaussian_blur(img, 5), "gaussian")


def test_emulated_route_taken(request, backend):
    to_device, _ = backend
    foveal.box_filter(to_device(np.ones((4, 4), np.uint8)), 3)
    if hasattr(request.node, "taken"):
        assert request.node.taken


def test_too_large_kernels_take_the_fallback(backend, monkeypatch):
    """Where no tile fits, the route hands the call to the CuPy fallback, arguments intact."""
    to_device, _ = backend
    calls = []

    def fallback(name):
        return lambda *args: calls.append((name, args)) or "fallback"

    monkeypatch.setattr(foveal.filters, "_cupy", fallback)
    img = to_device(np.ones((8, 9), np.float32))
    assert foveal.sep_filter2d(img, np.ones(3000), np.ones(3000)) == "fallback"
    assert foveal.filter2d(img, np.ones((1000, 1000))) == "fallback"
    assert foveal.box_filter(img, (3, 65536)) == "fallback"
    assert [c[0] for c in calls] == ["sep_filter2d", "filter2d", "box_filter"]
    # ... and nothing smaller than that does.
    calls.clear()
    foveal.sep_filter2d(img, np.ones(300), np.ones(300))
    foveal.box_filter(img, (65536, 3))
    assert not calls


def test_filter_fits_bounds():
    """The sizes the kernels take (foveal._gpu.filters' docstring states them)."""
    from foveal import _gpu

    dev = _gpu.emulated()
    if dev is None:
        pytest.skip("the _cuda_emu module was not built")
    fits = dev.module.filter_fits
    assert fits("separable", "float32", "float32", 1, 400, 400)
    assert not fits("separable", "float32", "float32", 1, 600, 600)
    assert fits("filter2d", "uint8", "float32", 1, 480, 480)
    assert not fits("filter2d", "uint8", "float32", 1, 560, 560)
    assert fits("box", "uint8", "uint8", 1, 65536, 30000)
    assert not fits("box", "float32", "float32", 1, 3, 40000)
    with pytest.raises(ValueError, match="kind"):
        fits("median", "uint8", "uint8", 1, 3, 3)

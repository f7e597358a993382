"""foveal.gradient, foveal.harris and foveal.min_eigen on the GPU (cuda/gradients.cu's fused
kernels) against the CPU path, on the SIMT emulator (and on a GPU where there is one).

Exact where the CPU's own kernels fuse: the GPU computes the CPU's operations in the CPU's order
(each derivative an FMA chain over its non-zero taps, block sums down then across, and the final
expressions fused as GCC fuses them with -ffp-contract=fast). So where the CPU runs its AVX2 or
AVX-512 kernels, every result of every dtype equals the CPU's to the bit: magnitudes, angles and
responses; all but the float64 angle on a GPU, whose atan2 is CUDA's rather than the C
library's. Otherwise (the baseline kernels, which do not fuse; that angle) the rule is:

- magnitude within 1e-6 (float32) or 1e-12 (float64) of G, the largest a derivative can be
  (max |image| x sum |kernel|): both derivatives are the same sums rounded in another order,
  off by a few ulps of G at most;
- angle within 1e-6 rad (or 1e-12) plus that error of the derivatives seen from the gradient's
  length, (1e-6 G / magnitude) rad, plus an ulp of 2 pi: the angle moves by at most the
  derivatives' error over the magnitude; 0 where both derivatives are 0;
- harris within 1e-6 (1e-12) of the response's scale max (a + c)^2 and min_eigen of max (a + c)
  (a, c the windowed sums of gx^2 and gy^2): derivatives off by a few ulps make the sums off by
  a few ulps of a + c and each term of the response by a few ulps of (a + c)^2, and
  2^-24 x (the dozen roundings at most) < 1e-6. Where the image is flat the derivatives are 0
  only up to that rounding, so the scales are at least what derivatives off by 1e-6 G
  (1e-12 G) give: 2 block^2 (1e-6 G)^2 / 1e-6 for a + c, its square for (a + c)^2.
"""

from __future__ import annotations

import itertools

import foveal
import numpy as np
import pytest
from conftest import random_image
from foveal._backend import _core
from foveal._gpu import gradients as gpu_gradients

DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
BORDERS = ("constant", "replicate", "reflect", "reflect101", "wrap")
KSIZES = (-1, 1, 3, 5, 7)
BLOCKS = (1, 2, 3, 4, 5, 6, 7)
# The GPU's results are the CPU's to the bit where the CPU's kernels fuse as the GPU's do.
EXACT = _core.active_isa() in ("avx2", "avx512")


def _on_gpu(to_device) -> bool:
    return type(to_device(np.zeros(1))).__module__.startswith("cupy")


def _rtol(dtype) -> float:
    return 1e-12 if np.dtype(dtype) == np.float64 else 1e-6


# sum |kernel| of gx (and gy): the derivative along x times the smoothing along y.
KERNEL_L1 = {-1: 2 * 16, 1: 2 * 1, 3: 2 * 4, 5: 6 * 16, 7: 20 * 64}


def derivative_bound(img, ksize, border="reflect101", border_value=0) -> float:
    """G: the largest |gx| or |gy| the image (and a constant border) allows."""
    m = float(np.abs(img.astype(np.float64)).max())
    if border == "constant":
        m = max(m, float(np.abs(np.asarray(border_value, np.float64)).max()))
    return max(m * KERNEL_L1[ksize], 1e-300)


@pytest.fixture
def small_tiles(monkeypatch):
    """Blocks of 16 threads and strips of 5 rows: small images cross tiles and strips."""
    monkeypatch.setitem(gpu_gradients.tiling, "threads", 16)
    monkeypatch.setitem(gpu_gradients.tiling, "strip", 5)


def circular_distance(a, b, full):
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) % full
    return np.minimum(d, full - d)


def check_gradient(backend, img, *, ksize, degrees=False, border="reflect101", border_value=0):
    to_device, to_host = backend
    kw = dict(ksize=ksize, angle_in_degrees=degrees, border=border, border_value=border_value)
    mag, ang = foveal.gradient(img, **kw)
    gmag, gang = (to_host(a) for a in foveal.gradient(to_device(img), **kw))
    what = f"gradient {img.dtype} {img.shape} {kw}"
    for got, want in ((gmag, mag), (gang, ang)):
        assert got.shape == want.shape and got.dtype == want.dtype, what
    rtol = _rtol(img.dtype)
    m = mag.astype(np.float64)
    g = derivative_bound(img, ksize, border, border_value)
    if EXACT:
        np.testing.assert_array_equal(gmag, mag, err_msg=what, strict=True)
        if img.dtype != np.float64 or not _on_gpu(to_device):
            np.testing.assert_array_equal(gang, ang, err_msg=what, strict=True)
            return
    np.testing.assert_array_less(np.abs(gmag - m), rtol * g, err_msg=what)
    full = 360.0 if degrees else 2 * np.pi
    unit = 180 / np.pi if degrees else 1.0
    tol = (rtol + rtol * g / np.maximum(m, 1e-300)) * unit + np.finfo(mag.dtype).eps * full
    bad = ~(circular_distance(gang, ang, full) <= tol)
    assert not bad.any(), f"{what}: angle off at {np.argwhere(bad)[:3].tolist()}"
    np.testing.assert_array_equal(gang[m == 0], 0, err_msg=what)


def response_scales(img, block_size, ksize, border):
    """max (a + c)^2 and max (a + c) over the image, from the CPU's Harris responses with
    k = 0 and k = 1 (their difference is (a + c)^2), but at least what derivatives off by
    rtol G give."""
    r0 = foveal.harris(img, block_size, ksize, 0.0, border=border).astype(np.float64)
    r1 = foveal.harris(img, block_size, ksize, 1.0, border=border).astype(np.float64)
    s = float(np.abs(r0 - r1).max())
    norm = 2.0 ** ((ksize if ksize > 0 else 3) - 1) * block_size * (2 if ksize < 0 else 1)
    norm *= 255 if img.dtype == np.uint8 else 1
    rtol = _rtol(img.dtype)
    floor = 2 * block_size**2 * (rtol * derivative_bound(img, ksize) / norm) ** 2 / rtol
    return max(s, floor**2), max(np.sqrt(s), floor)


def check_response(backend, method, img, block_size, ksize, k=0.04, border="reflect101"):
    to_device, to_host = backend
    if method == "harris":
        want = foveal.harris(img, block_size, ksize, k, border=border)
        got = to_host(foveal.harris(to_device(img), block_size, ksize, k, border=border))
    else:
        want = foveal.min_eigen(img, block_size, ksize, border=border)
        got = to_host(foveal.min_eigen(to_device(img), block_size, ksize, border=border))
    what = f"{method} {img.dtype} {img.shape} block {block_size} ksize {ksize} k {k} {border}"
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if EXACT:
        np.testing.assert_array_equal(got, want, err_msg=what, strict=True)
        return
    s, t = response_scales(img, block_size, ksize, border)
    atol = _rtol(img.dtype) * (s if method == "harris" else t)
    np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=what)


# ------------------------------------------------------------------------------ gradient


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient(backend, dtype, border):
    """Every dtype x ksize x border, radians and degrees, one and three channels (a border
    value per channel)."""
    rng = np.random.default_rng(11)
    for shape, bv in [((40, 70), 7), ((13, 37, 3), [5, 300, -2])]:
        img = random_image(rng, shape, dtype)
        for ksize, degrees in itertools.product(KSIZES, (False, True)):
            check_gradient(
                backend, img, ksize=ksize, degrees=degrees, border=border, border_value=bv
            )


GRADIENT_SHAPES = [(1, 1), (1, 2), (2, 1), (1, 9), (9, 1), (3, 255), (2, 256), (2, 257), (1, 513)]
GRADIENT_SHAPES += [(2, 85, 3), (4, 86, 3), (3, 3, 5), (2, 2, 21), (5, 9, 42)]


@pytest.mark.parametrize(
    "shape", GRADIENT_SHAPES, ids=["x".join(map(str, s)) for s in GRADIENT_SHAPES]
)
def test_gradient_odd_sizes(backend, shape):
    """Images smaller than the kernel, widths around the tile of 256 values (flattened: 85 and
    86 pixels of three channels), and 42 channels (ksize 7: a halo of 126 values each side)."""
    rng = np.random.default_rng(12)
    for dtype in ("uint8", "float32", "float64"):
        img = random_image(rng, shape, dtype)
        for ksize, border in itertools.product((1, 3, 7), BORDERS):
            check_gradient(backend, img, ksize=ksize, border=border, border_value=3)


@pytest.mark.parametrize("channels", [None, 1, 2, 3])
def test_gradient_small_tiles(backend, small_tiles, channels):
    """Tiles of 16 values and strips of 5 rows: widths and heights around both (ksize 7 with 2
    channels has a halo of 6 values each side)."""
    rng = np.random.default_rng(13)
    c = () if channels is None else (channels,)
    for h, w in [(4, 16), (5, 17), (6, 15), (11, 33), (16, 8)]:
        for dtype in ("int16", "float32"):
            img = random_image(rng, (h, w, *c), dtype)
            for ksize, border in itertools.product(KSIZES, BORDERS):
                if 2 * max(ksize // 2, 1) * (channels or 1) > 16:
                    continue  # the route takes the fallback (test_routing)
                check_gradient(backend, img, ksize=ksize, border=border, border_value=9)


def test_gradient_special_values(backend):
    """inf and NaN in a float32 image, zero gradients (a flat patch: angle 0) and -0."""
    rng = np.random.default_rng(14)
    img = random_image(rng, (24, 40), "float32")
    img[2:14, 2:18] = 17.0
    img[18, 30], img[20, 33], img[21, 8] = np.inf, -np.inf, np.nan
    img[0, :] = -0.0
    to_device, to_host = backend
    for ksize in KSIZES:
        mag, ang = foveal.gradient(img, ksize=ksize)
        gmag, gang = (to_host(a) for a in foveal.gradient(to_device(img), ksize=ksize))
        np.testing.assert_array_equal(np.isnan(gmag), np.isnan(mag))
        np.testing.assert_array_equal(np.isnan(gang), np.isnan(ang))
        if EXACT:
            np.testing.assert_array_equal(gmag, mag)
            np.testing.assert_array_equal(gang, ang)
        assert (gang[5:11, 5:15] == 0).all() and (gmag[5:11, 5:15] == 0).all()


# ------------------------------------------------------------------------------ corners


@pytest.mark.parametrize("method", ["harris", "min_eigen"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_responses(backend, dtype, method):
    """Every dtype x ksize x block size 1..7 x border, and Harris's k."""
    rng = np.random.default_rng(21)
    img = random_image(rng, (40, 70), dtype)
    for ksize, block, border in itertools.product(KSIZES, BLOCKS, BORDERS):
        check_response(backend, method, img, block, ksize, 0.04, border)
    if method == "harris":
        for k, border in itertools.product((0.0, -0.02, 0.2), ("reflect101", "constant")):
            check_response(backend, method, img, 3, 3, k, border)


CORNER_SHAPES = [(1, 1), (1, 2), (2, 1), (1, 17), (17, 1), (2, 3), (3, 2), (5, 127), (4, 128)]
CORNER_SHAPES += [(3, 129), (7, 5)]


@pytest.mark.parametrize("shape", CORNER_SHAPES, ids=["x".join(map(str, s)) for s in CORNER_SHAPES])
def test_responses_odd_sizes(backend, shape):
    """Images smaller than the Sobel kernel or the block, and widths around the tile (128
    threads: 128 - block + 1 outputs)."""
    rng = np.random.default_rng(22)
    for dtype in ("uint8", "float64"):  # float32 reads as uint8 does (one kernel)
        img = random_image(rng, shape, dtype)
        for (block, ksize), border in itertools.product(
            [(1, 1), (2, 3), (3, -1), (4, 5), (7, 7), (6, 3)], BORDERS
        ):
            for method in ("harris", "min_eigen"):
                check_response(backend, method, img, block, ksize, 0.04, border)


@pytest.mark.parametrize("block", BLOCKS)
def test_responses_small_tiles(backend, small_tiles, block):
    """Tiles of 16 - block + 1 outputs and strips of 5 rows: products outside the image mapped
    across tile and strip edges, and images narrower or shorter than one tile or strip."""
    rng = np.random.default_rng(23 + block)
    tile = 16 - block + 1
    for h, w in [(4, tile), (5, tile + 1), (6, tile - 1), (11, 2 * tile + 3), (17, 3)]:
        for dtype, method in (("uint8", "harris"), ("float32", "min_eigen")):
            img = random_image(rng, (h, w), dtype)
            for ksize, border in itertools.product((-1, 3, 7), BORDERS):
                check_response(backend, method, img, block, ksize, 0.04, border)


def test_responses_one_channel_and_views(backend):
    """(H, W, 1) images keep their shape; flipped rows and a column-strided view read right
    (the route reads row strides in place and copies what is not row-contiguous): the same
    numbers as the kernels give for a contiguous copy."""
    rng = np.random.default_rng(24)
    to_device, to_host = backend
    base = random_image(rng, (30, 50), "float32")
    d = to_device(base)
    for view in (d[::-1], d[:, ::2], d[3:20, 5:44]):
        copy = to_device(np.ascontiguousarray(to_host(view)))
        want = to_host(foveal.harris(copy, 3, 5))
        np.testing.assert_array_equal(to_host(foveal.harris(view, 3, 5)), want, strict=True)
        for got, want in zip(
            foveal.gradient(view, ksize=3, border="wrap"),
            foveal.gradient(copy, ksize=3, border="wrap"),
            strict=True,
        ):
            np.testing.assert_array_equal(to_host(got), to_host(want), strict=True)
    img = random_image(rng, (12, 19, 1), "uint16")
    got = to_host(foveal.min_eigen(to_device(img), 2, 3))
    assert got.shape == (12, 19, 1)
    want = to_host(foveal.min_eigen(to_device(np.ascontiguousarray(img[:, :, 0])), 2, 3))
    np.testing.assert_array_equal(got[:, :, 0], want, strict=True)


def test_out_arguments(backend):
    """out= on the device: the result is written there and out is returned."""
    to_device, to_host = backend
    rng = np.random.default_rng(25)
    img = to_device(random_image(rng, (17, 23), "uint8"))
    out = to_device(np.zeros((17, 23), np.float32))
    assert foveal.harris(img, out=out) is out
    np.testing.assert_array_equal(to_host(out), to_host(foveal.harris(img)))
    outs = (to_device(np.zeros((17, 23), np.float32)), to_device(np.zeros((17, 23), np.float32)))
    got = foveal.gradient(img, ksize=5, out=outs)
    assert got[0] is outs[0] and got[1] is outs[1]
    for o, want in zip(outs, foveal.gradient(img, ksize=5), strict=True):
        np.testing.assert_array_equal(to_host(o), to_host(want))


def test_emulated_route_taken(request, backend):
    """The emulated backend really runs the kernels: the route's device was asked for."""
    to_device, _ = backend
    foveal.harris(to_device(np.ones((4, 5), np.float32)))
    foveal.gradient(to_device(np.ones((4, 5), np.float32)))
    if hasattr(request.node, "taken"):
        assert len(request.node.taken) == 2


def test_routing_to_the_fallback(backend):
    """What the kernels do not cover goes to the fallback, explicitly: block sizes above 7,
    more than 128 channels, and channel x radius halos wider than half a block."""
    from foveal import _gpu

    to_device, _ = backend
    dev = _gpu.device(to_device(np.zeros(1)), None)
    if dev is None:
        pytest.skip("no device route")
    marker = object()

    def fallback():
        return marker

    img = to_device(np.zeros((6, 7), np.float32))
    route = gpu_gradients.corner_response
    assert route(dev, "harris", img, 8, 3, 0.04, "reflect101", np.float32, fallback) is marker
    assert route(dev, "min_eigen", img, 7, 3, 0.0, "reflect101", np.float32, fallback) is not marker
    for channels, ksize, covered in [
        (129, 3, False),
        (43, 7, False),
        (65, 5, False),
        (128, 3, True),
        (42, 7, True),
        (64, 5, True),
    ]:
        wide = to_device(np.zeros((3, 2, channels), np.uint8))
        got = gpu_gradients.gradient(dev, wide, ksize, False, "wrap", [0], fallback)
        assert (got is not marker) == covered, (channels, ksize)

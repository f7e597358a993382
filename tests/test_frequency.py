"""Correctness of foveal's frequency-domain functions: spectrum and bandpass.

Both are compared with ``foveal.reference`` (the plain NumPy route in float64). Tolerances:
bandpass outputs within 1e-5 (float32 arithmetic) or 1e-12 (float64) of max|image|; spectrum
values (log1p of a magnitude) within 1e-5 (1e-12) of their maximum plus the error of a float32
(float64) FFT, eps * log2(N) * ||image||_2, divided by 1 + the magnitude (the derivative of
log1p). The filters' transfer functions are checked directly on cosines, whose frequency is
exactly known.
"""

from __future__ import annotations

import itertools

import foveal
import numpy as np
import pytest
from conftest import IMAGE_DTYPES, random_image
from foveal import reference as ref

KINDS = ("ideal", "gaussian", "butterworth")
SHAPES = [
    (1, 1),
    (1, 2),
    (2, 1),
    (1, 17),
    (17, 1),
    (7, 33),
    (16, 16),
    (9, 64),
    (65, 2),
    (23, 37),
    (1, 1, 3),
    (6, 17, 3),
    (8, 9, 4),
]
BANDS = [(0, None), (0, 3.5), (2, None), (1.5, 6.2), (4, 4.5), (0.5, 40), (10, 11)]


def _out_dtype(img):
    return np.dtype(np.float64 if img.dtype == np.float64 else np.float32)


def _eps(img):
    return float(np.finfo(_out_dtype(img)).eps)


def _rtol(img):
    return 1e-12 if img.dtype == np.float64 else 1e-5


def _amax(img):
    return max(1.0, float(np.abs(img.astype(np.float64)).max()))


def _norm2(img):
    """The largest per-channel ||image||_2."""
    x = img.astype(np.float64).reshape(img.shape[0] * img.shape[1], -1)
    return float(np.sqrt((x * x).sum(axis=0)).max())


def spectrum_tolerance(img, values):
    """Elementwise: the output's rounding, 1e-5 (1e-12) of the largest value, and the FFT's
    error eps * log2(N) * ||x||_2 through log1p (divided by 1 + |F|)."""
    n = img.shape[0] * img.shape[1]
    v = np.asarray(values, np.float64)
    fft_err = 4 * _eps(img) * max(1.0, np.log2(n)) * _norm2(img)
    return _rtol(img) * max(1.0, float(v.max())) + fft_err / (1 + np.expm1(v)) + _eps(img) * v


def assert_close(got, expected, atol, err_msg=""):
    assert isinstance(got, np.ndarray), type(got)
    assert got.shape == expected.shape and got.dtype == expected.dtype, (got.dtype, err_msg)
    e = expected.astype(np.float64)
    tol = atol + np.finfo(expected.dtype).eps * np.abs(e)
    bad = ~(np.abs(got.astype(np.float64) - e) <= tol)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise AssertionError(
            f"{err_msg}: {int(bad.sum())} of {bad.size} off; first at {i}: got {got[i]!r}, "
            f"expected {expected[i]!r}, tolerance {np.broadcast_to(tol, bad.shape)[i]:.3g}"
        )


def check_spectrum(img):
    got = foveal.spectrum(img)
    assert got.dtype == _out_dtype(img) and got.shape == img.shape
    expected = ref.spectrum(img)
    assert_close(got, expected, spectrum_tolerance(img, expected), f"spectrum {img.shape}")
    return got


def bandpass_tolerance(img):
    return _rtol(img) * _amax(img)


def check_bandpass(img, low, high=None, kind="ideal", order=2):
    got = foveal.bandpass(img, low, high, kind=kind, order=order)
    assert got.dtype == _out_dtype(img) and got.shape == img.shape
    expected = ref.bandpass(img, low, high, kind=kind, order=order)
    msg = f"bandpass {img.shape} {img.dtype} {low} {high} {kind} {order}"
    assert_close(got, expected, bandpass_tolerance(img), msg)
    return got


def cosine(shape, ky, kx, phase=0.3, dtype=np.float64):
    """cos(2 pi (ky y / H + kx x / W) + phase): frequencies +-(ky, kx) only."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    return np.cos(2 * np.pi * (ky * y / h + kx * x / w) + phase).astype(dtype)


def transfer(r, low, high, kind, order):
    """The spec's H(r), written out."""
    if kind == "ideal":
        return float(low <= r and (high is None or r <= high))
    if kind == "gaussian":
        lp = 1.0 if high is None else np.exp(-(r**2) / (2 * high**2))
        hp = 1.0 if low == 0 else 1 - np.exp(-(r**2) / (2 * low**2))
        return lp * hp
    lp = 1.0 if high is None else 1 / (1 + (r / high) ** (2 * order))
    hp = 1.0 if low == 0 else 1 - 1 / (1 + (r / low) ** (2 * order))
    return lp * hp


# --------------------------------------------------------------------------------------------
# spectrum
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_spectrum_reference(rng, dtype):
    for shape in SHAPES:
        check_spectrum(random_image(rng, shape, dtype))


def test_spectrum_matches_numpy(rng):
    """The definition, independently of the reference: fftshift(log1p(|fft2|)) over (0, 1)."""
    for shape in [(12, 20), (13, 21, 3), (1, 9)]:
        for dtype in ("float64", "uint8"):
            img = random_image(rng, shape, dtype)
            f = np.fft.fft2(img.astype(np.float64), axes=(0, 1))
            expected = np.fft.fftshift(np.log1p(np.abs(f)), axes=(0, 1)).astype(_out_dtype(img))
            got = foveal.spectrum(img)
            assert_close(got, expected, spectrum_tolerance(img, expected))


@pytest.mark.parametrize("shape", [(8, 8), (9, 7), (1, 6), (5, 1), (4, 6, 2)])
def test_spectrum_of_constant_is_the_centred_dc(shape):
    """A constant c: log1p(|c| H W) at (H // 2, W // 2), 0 elsewhere."""
    for dtype, c in [("uint8", 200), ("int16", -7), ("float32", 0.5), ("float64", 3.0)]:
        img = np.full(shape, c, dtype)
        got = foveal.spectrum(img)
        expected = np.zeros(shape, np.float64)
        expected[shape[0] // 2, shape[1] // 2] = np.log1p(abs(c) * shape[0] * shape[1])
        assert_close(got, expected.astype(_out_dtype(img)), spectrum_tolerance(img, expected))


def test_spectrum_is_point_symmetric(rng):
    """|F(-k)| = |F(k)| for a real image: the centred spectrum is symmetric about its centre
    (index i pairs with N - i for even N, N - 1 - i for odd N)."""
    for shape, dtype in itertools.product([(8, 10), (9, 11), (6, 7, 2)], IMAGE_DTYPES):
        img = random_image(rng, shape, dtype)
        s = foveal.spectrum(img)
        mirrored = np.flip(s, axis=(0, 1))
        mirrored = np.roll(mirrored, (1 - shape[0] % 2, 1 - shape[1] % 2), axis=(0, 1))
        assert_close(mirrored, s, 2 * spectrum_tolerance(img, s))


def test_spectrum_per_channel(rng):
    for dtype in IMAGE_DTYPES:
        img = random_image(rng, (10, 13, 3), dtype)
        s = foveal.spectrum(img)
        for c in range(3):
            one = foveal.spectrum(np.ascontiguousarray(img[:, :, c]))
            assert_close(s[:, :, c], one, 2 * spectrum_tolerance(img, one))


def test_spectrum_peaks_at_a_cosine():
    """A cosine of (ky, kx) cycles has its two peaks at centre +- (ky, kx)."""
    for shape, (ky, kx) in [((32, 48), (3, 5)), ((31, 45), (-4, 7)), ((16, 16), (0, 8))]:
        s = foveal.spectrum(cosine(shape, ky, kx) * 100)
        cy, cx = shape[0] // 2, shape[1] // 2
        peaks = {tuple(int(v) for v in p) for p in np.argwhere(s > s.max() - 1e-6)}
        expected = {((cy + ky) % shape[0], (cx + kx) % shape[1])}
        expected.add(((cy - ky) % shape[0], (cx - kx) % shape[1]))
        assert peaks == expected, (shape, ky, kx, peaks)


def test_spectrum_real_images(real_image):
    check_spectrum(real_image)
    check_spectrum(real_image.astype(np.float64) / 255)


def test_spectrum_cv2_dft(real_image):
    """cv2.dft as a second anchor (float32, one channel)."""
    cv2 = pytest.importorskip("cv2")
    img = real_image if real_image.ndim == 2 else real_image[:, :, 2]
    f = np.ascontiguousarray(img, dtype=np.float32)
    dft = cv2.dft(f, flags=cv2.DFT_COMPLEX_OUTPUT)
    mag = cv2.magnitude(dft[:, :, 0], dft[:, :, 1])
    expected = np.fft.fftshift(np.log1p(mag.astype(np.float64))).astype(np.float32)
    got = foveal.spectrum(f)
    assert_close(got, expected, 2 * spectrum_tolerance(f, expected))


# --------------------------------------------------------------------------------------------
# bandpass
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
def test_bandpass_reference(rng, dtype, kind):
    for shape in SHAPES:
        img = random_image(rng, shape, dtype)
        for low, high in BANDS:
            check_bandpass(img, low, high, kind)
    if kind == "butterworth":
        img = random_image(rng, (20, 31, 2), dtype)
        for order in (1, 3, 8):
            check_bandpass(img, 2.5, 9.0, kind, order)
            check_bandpass(img, 0, 4.0, kind, order)
            check_bandpass(img, 3.0, None, kind, order)


@pytest.mark.parametrize("kind", KINDS)
def test_bandpass_transfer_on_cosines(kind):
    """A cosine of radius r comes out scaled by exactly H(r): the spec's formulas, the radius
    hypot(ky, kx) of the integer frequency indices in cycles per image, both band edges
    inclusive for the ideal filter, the Nyquist frequency of even sizes at r = N / 2. Sizes
    33 and 17 are ones where numpy.fft.fftfreq(n) * n is not exactly an integer (11 and 3
    come out as 11.000000000000002 and 2.9999999999999996): the indices are integers."""
    cases = {
        (32, 40): [(0, 5), (3, 4), (-3, 4), (5, 0), (0, 20), (16, 0), (16, 20), (7, -9)],
        (33, 17): [(11, 0), (0, 3), (-11, 0), (0, 5), (3, 4)],
    }
    bands = [(0, None), (5, None), (5.01, None), (0, 5), (0, 4.99), (2, 8), (5, 5.5), (20, 30)]
    bands += [(0, 11), (11, None), (3, 4), (0, 3), (3, None)]
    for shape, freqs in cases.items():
        for (ky, kx), (low, high), order in itertools.product(freqs, bands, (1, 2, 4)):
            if kind != "butterworth" and order != 2:
                continue
            x = cosine(shape, ky, kx)
            r = float(np.hypot(ky, kx))
            got = foveal.bandpass(x, low, high, kind=kind, order=order)
            expected = transfer(r, low, high, kind, order) * x
            msg = f"{kind} {shape} {ky} {kx} {low} {high} {order}"
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, err_msg=msg)


@pytest.mark.parametrize("kind", KINDS)
def test_bandpass_identity(rng, kind):
    """low = 0, high = None keeps everything."""
    for dtype, shape in itertools.product(IMAGE_DTYPES, [(1, 1), (9, 14), (10, 11, 3)]):
        img = random_image(rng, shape, dtype)
        got = foveal.bandpass(img, 0, kind=kind)
        assert_close(got, img.astype(_out_dtype(img)), bandpass_tolerance(img))
        got = foveal.bandpass(img, 0, None, kind=kind)
        assert_close(got, img.astype(_out_dtype(img)), bandpass_tolerance(img))


def test_bandpass_ideal_is_idempotent(rng):
    for dtype, (low, high) in itertools.product(("float64", "float32", "uint8"), BANDS):
        img = random_image(rng, (18, 27, 2), dtype)
        once = foveal.bandpass(img, low, high)
        twice = foveal.bandpass(once, low, high)
        assert_close(twice, once, 2 * bandpass_tolerance(img))


@pytest.mark.parametrize("kind", KINDS)
def test_bandpass_low_and_high_pass_are_complementary(rng, kind):
    """bandpass(x, 0, s) + bandpass(x, s) = x (s^2 not an integer: no radius equals s, so
    the ideal pair splits the frequencies; the others sum to 1 by construction)."""
    for dtype in ("float64", "float32", "int16"):
        img = random_image(rng, (21, 30, 2), dtype)
        for s in (1.3, 3.3, 7.7, 50.5):
            total = foveal.bandpass(img, 0, s, kind=kind) + foveal.bandpass(img, s, kind=kind)
            assert_close(total, img.astype(_out_dtype(img)), 2 * bandpass_tolerance(img))


@pytest.mark.parametrize("kind", KINDS)
def test_bandpass_means_and_energy(rng, kind):
    """A low-pass keeps the mean (H(0) = 1), a filter with low > 0 removes it (H(0) = 0), and
    no filter adds energy (|H| <= 1)."""
    img = random_image(rng, (24, 33, 3), "float64")
    mean = img.mean(axis=(0, 1))
    scale = 1e-12 * np.abs(img).max()
    np.testing.assert_allclose(
        foveal.bandpass(img, 0, 3.0, kind=kind).mean(axis=(0, 1)), mean, atol=scale
    )
    np.testing.assert_allclose(
        foveal.bandpass(img, 1.0, kind=kind).mean(axis=(0, 1)), 0, atol=scale
    )
    np.testing.assert_allclose(
        foveal.bandpass(img, 2.0, 9.0, kind=kind).mean(axis=(0, 1)), 0, atol=scale
    )
    for low, high in BANDS:
        out = foveal.bandpass(img, low, high, kind=kind)
        assert (
            np.square(out).sum(axis=(0, 1)) <= np.square(img).sum(axis=(0, 1)) * (1 + 1e-12)
        ).all()


def test_bandpass_is_linear(rng):
    a = random_image(rng, (15, 26), "float64")
    b = random_image(rng, (15, 26), "float64")
    for kind, (low, high) in itertools.product(KINDS, [(0, 4.0), (2.0, 7.5), (3.0, None)]):
        lhs = foveal.bandpass(2.5 * a - b, low, high, kind=kind)
        rhs = 2.5 * foveal.bandpass(a, low, high, kind=kind) - foveal.bandpass(
            b, low, high, kind=kind
        )
        np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-12 * 4 * np.abs(a).max())


def test_bandpass_real_images(real_image):
    for kind, (low, high) in [
        ("ideal", (10, 200)),
        ("gaussian", (10, 200)),
        ("butterworth", (0, 30)),
    ]:
        check_bandpass(real_image, low, high, kind)
    check_bandpass(real_image.astype(np.float64), 5.0, None, "gaussian")


# --------------------------------------------------------------------------------------------
# strides, out=, torch
# --------------------------------------------------------------------------------------------

VIEWS = {
    "fortran_2d": lambda a: np.asfortranarray(a[:, :, 0]),
    "fortran_3d": lambda a: np.asfortranarray(a[:, :, :3]),
    "neg_rows": lambda a: a[::-1, :, 0],
    "neg_all": lambda a: a[::-1, ::-1, ::-1],
    "step2": lambda a: a[::2, ::2, :3],
    "step3_neg": lambda a: a[::-3, ::3, ::2],
    "transposed": lambda a: a[:, :, 0].T,
    "swapped": lambda a: a.transpose(1, 0, 2),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_non_contiguous_inputs(rng, view):
    for dtype in ("uint8", "int16", "float32", "float64"):
        base = random_image(rng, (24, 30, 4), dtype)
        base0 = base.copy()
        img = VIEWS[view](base)
        contiguous = np.ascontiguousarray(img)
        np.testing.assert_array_equal(foveal.spectrum(img), foveal.spectrum(contiguous))
        for kind in KINDS:
            np.testing.assert_array_equal(
                foveal.bandpass(img, 1.5, 6.0, kind=kind),
                foveal.bandpass(contiguous, 1.5, 6.0, kind=kind),
            )
        check_spectrum(contiguous)
        check_bandpass(contiguous, 1.5, 6.0)
        np.testing.assert_array_equal(base, base0)


OUTS = {
    "contiguous": lambda shape, dt: np.zeros(shape, dt),
    "fortran": lambda shape, dt: np.zeros(shape, dt, order="F"),
    "strided": lambda shape, dt: np.zeros((shape[0] * 2, shape[1] * 3, *shape[2:]), dt)[::2, ::3],
    "negative": lambda shape, dt: np.zeros(shape, dt)[::-1, ::-1],
}


@pytest.mark.parametrize("out_kind", list(OUTS))
def test_bandpass_out(rng, out_kind):
    for dtype, shape in itertools.product(IMAGE_DTYPES, [(17, 20), (11, 14, 3)]):
        img = random_image(rng, shape, dtype)
        expected = foveal.bandpass(img, 1.0, 5.0, kind="gaussian")
        out = OUTS[out_kind](shape, expected.dtype)
        assert foveal.bandpass(img, 1.0, 5.0, kind="gaussian", out=out) is out
        np.testing.assert_array_equal(out, expected, strict=True)


def test_bandpass_out_in_place(rng):
    img = random_image(rng, (16, 21, 2), "float32")
    expected = foveal.bandpass(img.copy(), 2.0, 6.0)
    assert foveal.bandpass(img, 2.0, 6.0, out=img) is img
    np.testing.assert_array_equal(img, expected)


def test_bandpass_out_wrong_shape_or_dtype():
    img = np.zeros((6, 7), np.uint8)
    for shape in [(7, 6), (6, 7, 1), (42,)]:
        with pytest.raises(ValueError, match=r"bandpass: out must have shape \(6, 7\)"):
            foveal.bandpass(img, 1.0, out=np.zeros(shape, np.float32))
    for dtype in ("uint8", "float64", "complex64"):
        with pytest.raises(TypeError, match=r"bandpass: out must have dtype float32"):
            foveal.bandpass(img, 1.0, out=np.zeros((6, 7), dtype))
    with pytest.raises(TypeError, match=r"bandpass: out must have dtype float64"):
        foveal.bandpass(img.astype(np.float64), 1.0, out=np.zeros((6, 7), np.float32))


@pytest.mark.parametrize("name", ["spectrum", "bandpass"])
def test_torch_in_torch_out(rng, name):
    torch = pytest.importorskip("torch")

    def call(x):
        return foveal.spectrum(x) if name == "spectrum" else foveal.bandpass(x, 1.0, 6.0)

    for dtype, shape in itertools.product(
        ("uint8", "int16", "float32", "float64"), [(12, 17), (12, 17, 3)]
    ):
        t = torch.from_numpy(random_image(rng, shape, dtype))
        t0 = t.clone()
        got = call(t)
        assert isinstance(got, torch.Tensor)
        np.testing.assert_array_equal(got.numpy(), call(t.numpy()), strict=True)
        assert torch.equal(t, t0)


def test_threads_agree(rng):
    img = random_image(rng, (128, 96, 3), "float32")
    with foveal.num_threads(1):
        one = foveal.spectrum(img), foveal.bandpass(img, 3.0, 20.0, kind="butterworth")
    with foveal.num_threads(3):
        three = foveal.spectrum(img), foveal.bandpass(img, 3.0, 20.0, kind="butterworth")
    for a, b in zip(one, three, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(a).max())


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------

GOOD = np.arange(35, dtype=np.uint8).reshape(5, 7)


def bad_call(name, image, **kw):
    if name == "spectrum":
        return foveal.spectrum(image)
    return foveal.bandpass(image, kw.pop("low", 1.0), kw.pop("high", None), **kw)


@pytest.mark.parametrize(
    "dtype", ["bool", "int32", "int8", "uint32", "float16", "complex64", "complex128"]
)
@pytest.mark.parametrize("name", ["spectrum", "bandpass"])
def test_bad_image_dtype(name, dtype):
    with pytest.raises(TypeError, match=rf"{name}: image dtype {dtype} is not supported"):
        bad_call(name, np.zeros((5, 5), dtype))


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 1), ()])
@pytest.mark.parametrize("name", ["spectrum", "bandpass"])
def test_bad_image_rank(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: image must be 2-D \(H, W\) or 3-D"):
        bad_call(name, np.zeros(shape, np.float32))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (3, 3, 0)])
@pytest.mark.parametrize("name", ["spectrum", "bandpass"])
def test_empty_image(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: image must not be empty"):
        bad_call(name, np.zeros(shape, np.float32))


@pytest.mark.parametrize(
    "low, high, exc, arg",
    [
        (-1.0, None, ValueError, "low"),
        (float("nan"), None, ValueError, "low"),
        (1.0, float("nan"), ValueError, "high"),
        (5.0, 2.0, ValueError, "(low|high)"),  # low > high
        (3.0, 3.0, ValueError, "(low|high)"),  # an empty band
        (0.0, 0.0, ValueError, "(low|high)"),
        (0.0, -1.0, ValueError, "(low|high)"),
        ("1", None, TypeError, "low"),
        (None, 2.0, TypeError, "low"),
        (1.0, "2", TypeError, "high"),
    ],
)
def test_bandpass_bad_band(low, high, exc, arg):
    with pytest.raises(exc, match=rf"bandpass: {arg}"):
        foveal.bandpass(GOOD, low, high)


def test_bandpass_bad_kind_and_order():
    for kind in ("box", "", "lowpass", "gauss"):
        with pytest.raises(ValueError, match=r"bandpass: kind must be one of"):
            foveal.bandpass(GOOD, 1.0, kind=kind)
    with pytest.raises(TypeError, match=r"bandpass: kind"):
        foveal.bandpass(GOOD, 1.0, kind=None)
    for order in (0, -2):
        with pytest.raises(ValueError, match=r"bandpass: order"):
            foveal.bandpass(GOOD, 1.0, kind="butterworth", order=order)
    for order in (2.5, "2", None):
        with pytest.raises(TypeError, match=r"bandpass: order"):
            foveal.bandpass(GOOD, 1.0, kind="butterworth", order=order)


def test_bandpass_default_arguments(rng):
    """high None, kind "ideal", order 2."""
    img = random_image(rng, (14, 19), "float64")
    np.testing.assert_array_equal(
        foveal.bandpass(img, 2.0), foveal.bandpass(img, 2.0, None, kind="ideal", order=2)
    )
    np.testing.assert_array_equal(
        foveal.bandpass(img, 1.0, 4.0), foveal.bandpass(img, 1.0, 4.0, kind="ideal")
    )
    np.testing.assert_array_equal(
        foveal.bandpass(img, 1.0, 4.0, kind="butterworth"),
        foveal.bandpass(img, 1.0, 4.0, kind="butterworth", order=2),
    )
    assert not np.array_equal(
        foveal.bandpass(img, 1.0, 4.0, kind="butterworth"),
        foveal.bandpass(img, 1.0, 4.0, kind="butterworth", order=3),
    )


def test_bandpass_kind_spellings(rng):
    img = random_image(rng, (10, 12), "float32")
    for kind in KINDS:
        np.testing.assert_array_equal(
            foveal.bandpass(img, 1.0, 4.0, kind=kind.upper()),
            foveal.bandpass(img, 1.0, 4.0, kind=kind),
        )


def test_keyword_only_arguments():
    with pytest.raises(TypeError):
        foveal.bandpass(GOOD, 1.0, 4.0, "gaussian")  # kind is keyword-only


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

try:
    import hypothesis
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    hypothesis = None


def _image(draw):
    dtype = draw(st.sampled_from(IMAGE_DTYPES))
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 40))
    channels = draw(st.sampled_from([None, 1, 3]))
    shape = (h, w) if channels is None else (h, w, channels)
    return random_image(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), shape, dtype)


def _bandpass_case(draw):
    low = draw(st.sampled_from([0.0, 0.5, 1.0, 2.5, 6.0]))
    high = draw(st.one_of(st.none(), st.sampled_from([0.7, 1.5, 3.0, 8.2, 30.0])))
    if high is not None and high <= low:
        high = low + draw(st.sampled_from([0.25, 2.0]))
    return dict(
        img=_image(draw),
        low=low,
        high=high,
        kind=draw(st.sampled_from(KINDS)),
        order=draw(st.integers(1, 6)),
    )


def _property_spectrum(img):
    check_spectrum(img)


def _property_bandpass(case):
    case = dict(case)
    check_bandpass(case.pop("img"), case.pop("low"), case.pop("high"), **case)


if hypothesis is not None:
    test_property_spectrum = hypothesis.given(img=st.composite(_image)())(_property_spectrum)
    test_property_bandpass = hypothesis.given(case=st.composite(_bandpass_case)())(
        _property_bandpass
    )
else:  # pragma: no cover

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_property_tests_need_hypothesis():
        pass

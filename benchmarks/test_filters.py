"""Linear filter, gradient, corner and frequency benchmarks: foveal against NumPy
(foveal.reference), cv2, scipy and scikit-image on the standard workloads of WORKLOADS.md.

Run (from the repository root; the lead runs the full 4K suite):

    PYTHONPATH=python python -m pytest benchmarks/test_filters.py \
        --benchmark-json=benchmarks/results/filters-<machine>.json

then make the table (and optionally the chart):

    python benchmarks/report.py benchmarks/results/filters-<machine>.json \
        --out benchmarks/results/filters-<machine>.md \
        --plot benchmarks/results/filters-<machine>.png

Smoke test (540 x 960 inputs, each body once): add ``--fv-quick --benchmark-disable``.

Before it is timed, every library's result is compared with foveal's (computed once per
workload): foveal at each thread count must match it exactly; integer results (box filter,
Canny, Sobel of uint8) must match exactly too; float results within the workload's tolerance,
relative to the largest magnitude of foveal's result (float32 sums in another order, float64
inside, another FFT). Libraries whose definition differs (scikit-image's Canny, Harris and
Sobel magnitude) are only checked for shape (see ``_differs_by_design``).

The single-threaded baselines here take up to seconds per 4K call (NumPy's 15x15 filter2d,
Canny and corner selection), so each of their slow rows is timed once
(``benchmark.pedantic(rounds=1)``) after its checked call.
"""

from __future__ import annotations

import dataclasses

import foveal
import foveal.reference as ref
import numpy as np
import pytest

LIBRARIES = ("foveal", "numpy", "cv2", "scipy", "skimage")
SEED = 20240601


@dataclasses.dataclass(frozen=True)
class Workload:
    id: str
    name: str
    family: str  # "filters", "gradients", "corners" or "frequency"
    dtype: str  # the input: "uint8" or "float32"
    tol: float  # float results: max |diff| <= tol * max |foveal's result|


WORKLOADS = [
    Workload("filter2d5", "float32 filter2d 5x5", "filters", "float32", 1e-5),
    Workload("filter2d15", "float32 filter2d 15x15", "filters", "float32", 1e-5),
    Workload("gaussian15", "float32 gaussian_blur 15 taps", "filters", "float32", 1e-5),
    Workload("box31", "uint8 box_filter 31x31", "filters", "uint8", 0.0),
    Workload("sobel-dx", "uint8 sobel dx ksize 3 (float32 out)", "gradients", "uint8", 0.0),
    Workload("gradient", "uint8 gradient magnitude + angle", "gradients", "uint8", 1e-4),
    Workload("canny", "uint8 canny 50/150", "gradients", "uint8", 0.0),
    Workload("harris", "float32 harris block 2 ksize 3 k 0.04", "corners", "float32", 1e-4),
    Workload("corners", "float32 corners 1000 q 0.01 d 10", "corners", "float32", 0.0),
    Workload("bandpass-ideal", "float32 bandpass ideal 10-200", "frequency", "float32", 1e-3),
    Workload("bandpass-gauss", "float32 bandpass gaussian 10-200", "frequency", "float32", 1e-5),
]
_BY_ID = {w.id: w for w in WORKLOADS}

BLOCK, KSIZE, HARRIS_K = 2, 3, 0.04
MAX_CORNERS, QUALITY, MIN_DISTANCE = 1000, 0.01, 10
LOW, HIGH = 10, 200
GAUSS_K = 15
GAUSS_SIGMA = 0.3 * ((GAUSS_K - 1) * 0.5 - 1) + 0.8  # what sigma 0 means for ksize 15 (cv2)


def _kernel(k: int) -> np.ndarray:
    """The random k x k float32 correlation kernel (fixed seed)."""
    return np.random.default_rng(SEED + k).standard_normal((k, k)).astype(np.float32)


# --------------------------------------------------------------------------- the calls


def _foveal_call(w: Workload, img):
    if w.id.startswith("filter2d"):
        kernel = _kernel(int(w.id[len("filter2d") :]))
        return lambda: foveal.filter2d(img, kernel)
    if w.id.startswith("bandpass"):
        kind = "ideal" if w.id.endswith("ideal") else "gaussian"
        return lambda: foveal.bandpass(img, LOW, HIGH, kind=kind)
    return {
        "gaussian15": lambda: foveal.gaussian_blur(img, GAUSS_K, 0),
        "box31": lambda: foveal.box_filter(img, 31),
        "sobel-dx": lambda: foveal.sobel(img, 1, 0, ksize=3, dtype=np.float32),
        "gradient": lambda: foveal.gradient(img),
        "canny": lambda: foveal.canny(img, 50, 150),
        "harris": lambda: foveal.harris(img, BLOCK, KSIZE, HARRIS_K),
        "corners": lambda: foveal.corners(img, MAX_CORNERS, QUALITY, MIN_DISTANCE),
    }[w.id]


def _numpy_call(w: Workload, img):
    if w.id.startswith("filter2d"):
        kernel = _kernel(int(w.id[len("filter2d") :]))
        return lambda: ref.filter2d(img, kernel)
    if w.id.startswith("bandpass"):
        kind = "ideal" if w.id.endswith("ideal") else "gaussian"
        return lambda: ref.bandpass(img, LOW, HIGH, kind)
    return {
        "gaussian15": lambda: ref.gaussian_blur(img, GAUSS_K, 0),
        "box31": lambda: ref.box_filter(img, 31),
        "sobel-dx": lambda: ref.sobel(img, 1, 0, 3, dtype=np.float32),
        "gradient": lambda: ref.gradient(img),
        "canny": lambda: ref.canny(img, 50, 150),
        "harris": lambda: ref.harris(img, BLOCK, KSIZE, HARRIS_K),
        "corners": lambda: ref.corners(img, MAX_CORNERS, QUALITY, MIN_DISTANCE),
    }[w.id]


def _transfer(shape, kind: str, rfft: bool) -> np.ndarray:
    """H(r) of the band-pass in the unshifted FFT layout (full or real-FFT half), float32."""
    h, w = shape
    ky = np.fft.fftfreq(h) * h
    kx = (np.fft.rfftfreq(w) if rfft else np.fft.fftfreq(w)) * w
    r2 = ky[:, None] ** 2 + kx[None, :] ** 2
    if kind == "ideal":
        return ((r2 >= LOW * LOW) & (r2 <= HIGH * HIGH)).astype(np.float32)
    lp = np.exp(-r2 / (2.0 * HIGH * HIGH))
    hp = 1.0 - np.exp(-r2 / (2.0 * LOW * LOW))
    return (lp * hp).astype(np.float32)


def _cv2_call(w: Workload, img):
    cv2 = pytest.importorskip("cv2")
    if w.id.startswith("filter2d"):
        kernel = _kernel(int(w.id[len("filter2d") :]))
        return lambda: cv2.filter2D(img, -1, kernel)
    if w.id.startswith("bandpass"):
        kind = "ideal" if w.id.endswith("ideal") else "gaussian"

        def bandpass():  # the transfer function is made in the call, as foveal does
            spec = cv2.dft(img, flags=cv2.DFT_COMPLEX_OUTPUT)
            spec *= _transfer(img.shape, kind, rfft=False)[:, :, None]
            return cv2.idft(spec, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)

        return bandpass

    def gradient():
        gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=KSIZE)
        gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=KSIZE)
        return cv2.cartToPolar(gx, gy)

    def corners():
        pts = cv2.goodFeaturesToTrack(img, MAX_CORNERS, QUALITY, MIN_DISTANCE)
        return np.empty((0, 2), np.float32) if pts is None else pts.reshape(-1, 2)

    return {
        "gaussian15": lambda: cv2.GaussianBlur(img, (GAUSS_K, GAUSS_K), 0),
        "box31": lambda: cv2.blur(img, (31, 31)),
        "sobel-dx": lambda: cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3),
        "gradient": gradient,
        "canny": lambda: cv2.Canny(img, 50, 150),
        "harris": lambda: cv2.cornerHarris(img, BLOCK, KSIZE, HARRIS_K),
        "corners": corners,
    }[w.id]


def _scipy_call(w: Workload, img):
    if w.id.startswith("bandpass"):
        sfft = pytest.importorskip("scipy.fft")
        kind = "ideal" if w.id.endswith("ideal") else "gaussian"

        def bandpass():  # single-threaded (workers=1), float32 throughout
            spec = sfft.rfft2(img)
            spec *= _transfer(img.shape, kind, rfft=True)
            return sfft.irfft2(spec, s=img.shape)

        return bandpass
    ndi = pytest.importorskip("scipy.ndimage")
    if w.id.startswith("filter2d"):
        kernel = _kernel(int(w.id[len("filter2d") :]))
        return lambda: ndi.correlate(img, kernel, mode="mirror")  # mirror = reflect101
    if w.id == "gaussian15":
        truncate = (GAUSS_K // 2) / GAUSS_SIGMA  # radius 7: 15 taps
        return lambda: ndi.gaussian_filter(img, GAUSS_SIGMA, mode="mirror", truncate=truncate)
    if w.id == "box31":
        return lambda: ndi.uniform_filter(img, 31, mode="mirror")
    if w.id == "sobel-dx":
        return lambda: ndi.sobel(img, axis=1, output=np.float32, mode="mirror")
    pytest.skip(f"scipy has no {w.name} in WORKLOADS.md")


def _skimage_call(w: Workload, img):
    if w.id == "gradient":
        filters = pytest.importorskip("skimage.filters")
        return lambda: filters.sobel(img)
    if w.id == "canny":
        feature = pytest.importorskip("skimage.feature")
        return lambda: feature.canny(img, low_threshold=50, high_threshold=150)
    if w.id == "harris":
        feature = pytest.importorskip("skimage.feature")
        return lambda: feature.corner_harris(img, k=HARRIS_K)
    pytest.skip(f"scikit-image has no {w.name} in WORKLOADS.md")


_CALLS = {
    "foveal": _foveal_call,
    "numpy": _numpy_call,
    "cv2": _cv2_call,
    "scipy": _scipy_call,
    "skimage": _skimage_call,
}


def _differs_by_design(library: str, w: Workload) -> str | None:
    """Why ``library`` is not expected to give foveal's numbers for ``w``, or None."""
    if library == "skimage":
        return {
            "gradient": "skimage.filters.sobel is a normalized magnitude only, without angle",
            "canny": "skimage's Canny smooths with a Gaussian first and thresholds otherwise",
            "harris": "skimage's Harris sums the structure tensor under a Gaussian window",
        }.get(w.id)
    if library == "scipy" and w.id == "box31":
        return "scipy.ndimage.uniform_filter stores each 1-D pass in uint8 (off by up to 2)"
    return None


# --------------------------------------------------------------------------- the benchmark

_EXPECTED: dict[tuple, object] = {}


def _expected(w: Workload, img: np.ndarray):
    """foveal's result at its default thread count, once per workload and input."""
    key = (w, img.shape, img.dtype.str)
    if key not in _EXPECTED:
        _EXPECTED[key] = _foveal_call(w, img)()
    return _EXPECTED[key]


def _compare(library: str, w: Workload, result, expected, exact: bool, part: str = ""):
    label = f"{library} on {w.name}{part}"
    result = np.asarray(result)
    assert result.shape == expected.shape, f"{label}: shape {result.shape}, not {expected.shape}"
    if w.id == "corners":  # (x, y) points: cv2 may order ties of equal response otherwise
        assert result.dtype == expected.dtype, f"{label}: dtype {result.dtype}"
        if exact or np.array_equal(result, expected):
            np.testing.assert_array_equal(result, expected, err_msg=label)
            return
        got = {tuple(p) for p in result.tolist()}
        want = {tuple(p) for p in expected.tolist()}
        assert len(got ^ want) <= max(len(want) // 100, 2), f"{label}: other corners"
        return
    if exact or expected.dtype.kind != "f" or w.tol == 0:
        assert result.dtype == expected.dtype, f"{label}: dtype {result.dtype}"
        if not np.array_equal(result, expected):
            diff = np.argwhere(result != expected)
            y, x = diff[0][:2]
            raise AssertionError(
                f"{label}: {len(diff)} pixels differ from foveal, first ({y}, {x}): "
                f"{library}={result[y, x]!r} foveal={expected[y, x]!r}"
            )
        return
    scale = float(np.abs(expected).max()) or 1.0
    if part == " (angle)":  # radians: compare on the circle
        scale = 2 * np.pi
        d = np.abs(result.astype(np.float64) - expected.astype(np.float64))
        d = np.minimum(d, 2 * np.pi - d)
    else:
        d = np.abs(result.astype(np.float64) - expected.astype(np.float64))
    assert d.max() <= w.tol * scale, f"{label}: max |diff| {d.max():.3g} > {w.tol} * {scale:.3g}"


def _check(library: str, w: Workload, expected):
    reason = _differs_by_design(library, w)
    exact = library == "foveal"

    def check(result):
        if reason is not None:
            first = result[0] if isinstance(result, tuple) else result
            shape = (expected[0] if isinstance(expected, tuple) else expected).shape
            assert np.asarray(first).shape == shape, f"{library}: shape {np.shape(first)}"
            return
        if isinstance(expected, tuple):  # gradient: (magnitude, angle)
            assert len(result) == 2, f"{library}: {len(result)} results"
            for part, got, want in zip((" (magnitude)", " (angle)"), result, expected, strict=True):
                _compare(library, w, got, want, exact, part)
            return
        _compare(library, w, result, expected, exact)

    return check


@pytest.mark.fv_libraries(*LIBRARIES)  # parametrizes library_threads (conftest.py)
@pytest.mark.parametrize("workload", [pytest.param(w.id, id=w.id) for w in WORKLOADS])
def test_filters(fv_benchmark, images, workload, library_threads):
    w = _BY_ID[workload]
    library, threads = library_threads
    img = images[w.dtype]
    fn = _CALLS[library](w, img)
    fv_benchmark(
        fn,
        library=library,
        threads=threads,
        workload=f"{w.family}: {w.name}",
        dtype=w.dtype,
        check=_check(library, w, _expected(w, img)),
        slow_rounds=1,  # the slow single-threaded baselines take seconds per 4K call
    )

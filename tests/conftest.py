"""Shared fixtures and helpers for the foveal test suite.

Run with ``PYTHONPATH=python python -m pytest tests`` from the repository root (or after
``pip install -e .``). Set ``FOVEAL_HYPOTHESIS_PROFILE=thorough`` for 10x more property-test
examples.
"""

from __future__ import annotations

import os
import pathlib
import sys

import numpy as np
import pytest

try:  # let ``pytest tests`` work from a plain checkout too
    import foveal
except ImportError:  # pragma: no cover - only without PYTHONPATH / an install
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
    import foveal

SEED = 20240607

HYPOTHESIS_PROFILE = os.environ.get("FOVEAL_HYPOTHESIS_PROFILE", "ci")
THOROUGH = HYPOTHESIS_PROFILE == "thorough"

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is a test extra
    pass
else:
    _common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("ci", max_examples=40, **_common)
    settings.register_profile("thorough", max_examples=400, **_common)
    settings.load_profile(HYPOTHESIS_PROFILE)


DTYPES = ("uint8", "uint16", "int16", "float32", "float64", "bool")


def random_image(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Non-constant random data of ``dtype``: full integer range (extremes included), floats
    with negatives and a wide range, bools about half True."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    if dtype == np.bool_:
        out = rng.random(shape) < 0.5
        if out.size > 1:
            out.flat[0], out.flat[-1] = True, False
        return out
    if dtype.kind == "f":
        out = (rng.standard_normal(shape) * 100.0).astype(dtype)
        if out.size > 1:
            out.flat[0], out.flat[-1] = -1234.5, 987.25
        return out
    info = np.iinfo(dtype)
    out = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    if out.size > 1:
        out.flat[0], out.flat[-1] = info.min, info.max
    return out


def random_mask(rng: np.random.Generator, shape, density: float = 0.5, anchor=None) -> np.ndarray:
    """A random 0/1 uint8 kernel with at least one member; ``anchor`` (row, col, -1 = centre)
    forced to be a member when given."""
    mask = (rng.random(shape) < density).astype(np.uint8)
    if anchor is not None:
        ay = anchor[0] if anchor[0] >= 0 else shape[0] // 2
        ax = anchor[1] if anchor[1] >= 0 else shape[1] // 2
        mask[ay, ax] = 1
    if not mask.any():
        mask.flat[rng.integers(mask.size)] = 1
    return mask


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


@pytest.fixture
def restore_isa():
    """The active instruction set (the test may switch it), restored afterwards."""
    original = foveal.get_isa()
    try:
        yield original
    finally:
        foveal.set_isa(original)


@pytest.fixture
def thorough() -> bool:
    """True when FOVEAL_HYPOTHESIS_PROFILE=thorough: tests may widen their sweeps."""
    return THOROUGH


@pytest.fixture
def make_image():
    """The :func:`random_image` helper, as a fixture."""
    return random_image


def _camera():
    skimage_data = pytest.importorskip("skimage.data")
    try:
        img = skimage_data.camera()
    except Exception as exc:  # noqa: BLE001 - data missing / not downloadable
        pytest.skip(f"skimage camera() unavailable: {exc}")
    return np.ascontiguousarray(img, dtype=np.uint8)


def _astronaut():
    skimage_data = pytest.importorskip("skimage.data")
    try:
        img = skimage_data.astronaut()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"skimage astronaut() unavailable: {exc}")
    return np.ascontiguousarray(img, dtype=np.uint8)


@pytest.fixture(params=["camera", "astronaut"])
def real_image(request) -> np.ndarray:
    """skimage's camera (512x512 uint8 grayscale) and astronaut (512x512x3 uint8 RGB)."""
    img = _camera() if request.param == "camera" else _astronaut()
    assert img.ndim == (2 if request.param == "camera" else 3)
    return img


# --------------------------------------------------------------------------------------------
# the filters family (filters, gradients, corners, frequency): shared names and the tolerance
# rule of the spec
# --------------------------------------------------------------------------------------------

IMAGE_DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
FILTER_BORDERS = ("constant", "replicate", "reflect", "reflect101", "wrap")
BORDER_ALIASES = {"nearest": "replicate", "mirror": "reflect101", "reflect_101": "reflect101"}
ALL_FILTER_BORDERS = FILTER_BORDERS + tuple(BORDER_ALIASES)
CV2_FILTER_BORDERS = ("constant", "replicate", "reflect", "reflect101")  # cv2 refuses wrap
# cv2's depth constant of each dtype (the ddepth of its filters)
CV2_DEPTHS = {
    "uint8": "CV_8U",
    "uint16": "CV_16U",
    "int16": "CV_16S",
    "float32": "CV_32F",
    "float64": "CV_64F",
}
_CV2_BORDER_NAMES = {
    "constant": "BORDER_CONSTANT",
    "replicate": "BORDER_REPLICATE",
    "reflect": "BORDER_REFLECT",
    "reflect101": "BORDER_REFLECT_101",
    "wrap": "BORDER_WRAP",
}


@pytest.fixture(scope="session")
def cv2():
    """OpenCV, the anchor of the image functions; its tests skip where it is missing."""
    return pytest.importorskip("cv2")


def canonical_border(border: str) -> str:
    border = border.lower()
    return BORDER_ALIASES.get(border, border)


def cv2_border(cv2, border: str) -> int:
    return getattr(cv2, _CV2_BORDER_NAMES[canonical_border(border)])


def working_dtype(*dtypes) -> np.dtype:
    """The arithmetic of the filters: float64 when the input or the output is float64, else
    float32."""
    return np.dtype(np.float64 if any(np.dtype(d) == np.float64 for d in dtypes) else np.float32)


def tolerance(working, scale: float) -> float:
    """Absolute tolerance of a result of magnitude up to ``scale`` (e.g. max|image| *
    sum|kernel| + |delta|) computed in ``working`` precision: 1e-5 (float32) or 1e-12
    (float64) of max(1, scale)."""
    rtol = 1e-12 if np.dtype(working) == np.float64 else 1e-5
    return rtol * max(1.0, float(scale))


def assert_rule(got, expected, *, atol: float = 0.0, unrounded=None, err_msg: str = "") -> None:
    """The spec's comparison of a result with the float64 reference: same shape and dtype;
    float outputs within ``atol`` (plus one unit of the output dtype's own rounding); integer
    outputs equal, except a difference of exactly 1 where the unrounded float64 value lies
    within max(1e-3, atol) of a .5 tie. ``atol=0`` means exact, NaN positions included."""
    assert isinstance(got, np.ndarray), f"{err_msg}: got a {type(got).__name__}"
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{err_msg}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{err_msg}: dtype {got.dtype} != {expected.dtype}"
    if atol == 0:
        np.testing.assert_array_equal(got, expected, err_msg=err_msg)
        return
    if expected.dtype.kind == "f":
        g, e = got.astype(np.float64), expected.astype(np.float64)
        tol = atol + np.finfo(expected.dtype).eps * np.abs(e)
        nan = np.isnan(g) & np.isnan(e)
        bad = ~(np.abs(g - e) <= tol) & ~nan
        if bad.any():
            i = tuple(int(v) for v in np.argwhere(bad)[0])
            raise AssertionError(
                f"{err_msg}: {int(bad.sum())} of {bad.size} values off by more than "
                f"atol={atol:.3g}; first at {i}: got {g[i]!r}, expected {e[i]!r}"
            )
        return
    diff = got.astype(np.int64) - expected.astype(np.int64)
    off = diff != 0
    if not off.any():
        return
    assert unrounded is not None, f"{err_msg}: {int(off.sum())} integer values differ"
    v = np.asarray(unrounded, np.float64)[off]
    near_tie = np.abs(np.abs(v - np.floor(v)) - 0.5) <= max(1e-3, atol)
    bad = ~((np.abs(diff[off]) == 1) & near_tie)
    if bad.any():
        i = tuple(int(c) for c in np.argwhere(off)[np.argmax(bad)])
        raise AssertionError(
            f"{err_msg}: {int(bad.sum())} of {got.size} integer values differ beyond a .5 tie; "
            f"first at {i}: got {got[i]}, expected {expected[i]}, unrounded "
            f"{float(np.asarray(unrounded)[i])!r}"
        )


# Views of a (40, 90, 4) base image that are not C-contiguous.
IMAGE_VIEWS = {
    "fortran_2d": lambda a: np.asfortranarray(a[:, :, 0]),
    "fortran_3d": lambda a: np.asfortranarray(a[:, :, :3]),
    "neg_rows": lambda a: a[::-1, :, 0],
    "neg_cols": lambda a: a[:, ::-1, 1],
    "neg_all": lambda a: a[::-1, ::-1, ::-1],
    "step2": lambda a: a[::2, ::2, :3],
    "step2_2d": lambda a: a[1::2, ::2, 2],
    "step3_neg": lambda a: a[::-3, ::3, ::2],
    "offset": lambda a: a[3:30, 5:77, 0],
    "transposed": lambda a: a[:, :, 0].T,
    "swapped": lambda a: a.transpose(1, 0, 2),
}


# The GPU kernel tests' ``backend`` fixture: a real GPU, and the SIMT emulator on the CPU.
from gpu_support import backend  # noqa: E402, F401

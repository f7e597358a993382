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
    import foveal  # noqa: F401
except ImportError:  # pragma: no cover - only without PYTHONPATH / an install
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
    import foveal  # noqa: F401

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

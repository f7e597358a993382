"""foveal.nn's CuPy route, taken on the CPU: arrays dressed as CuPy ones and NumPy standing in
for CuPy, so that each wrapper hands its fallback (foveal._cupy.nn) the normalized arguments
the fallback takes. The routed result must equal the native one (float32 within 1e-5 of the
result's scale; indices and patches exactly). No torch needed."""

from __future__ import annotations

import numpy as np
import pytest

# --------------------------------------------------------------------------------------------
# the wrappers' CuPy route, taken on the CPU
# --------------------------------------------------------------------------------------------


class _Dressed(np.ndarray):
    """A NumPy array that foveal's dispatch takes for a CuPy one (with the fixture below)."""


@pytest.fixture
def cupy_route(monkeypatch):
    """_Dressed arrays count as CuPy arrays and the fallbacks get NumPy as ``xp``: foveal.nn's
    wrappers then take their CuPy route on the CPU, arguments and all."""
    import foveal.nn as fnn
    from foveal import _dispatch

    calls = []

    def xp():
        calls.append(1)
        return np

    monkeypatch.setattr(_dispatch, "is_cupy", lambda arr: isinstance(arr, _Dressed))
    monkeypatch.setattr(fnn, "_xp", xp)
    return calls


ROUTED = [
    ("conv2d", dict(stride=2, padding=(1, 2), dilation=(1, 2), groups=2), True),
    ("conv2d", dict(padding="same", groups=4), True),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), False),
    ("max_pool2d", dict(kernel_size=(2, 3), dilation=2, return_indices=True), False),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), False),
    ("avg_pool2d", dict(kernel_size=2, ceil_mode=True, divisor_override=3), False),
    ("lp_pool2d", dict(norm_type=3.0, kernel_size=2, ceil_mode=True), False),
    ("adaptive_avg_pool2d", dict(output_size=(5, None)), False),
    ("adaptive_max_pool2d", dict(output_size=4, return_indices=True), False),
]


@pytest.mark.parametrize(("name", "kwargs", "weighted"), ROUTED, ids=[r[0] for r in ROUTED])
@pytest.mark.parametrize("batched", [True, False])
def test_wrappers_route_to_the_fallbacks(cupy_route, name, kwargs, weighted, batched):
    """The CuPy route of each foveal.nn wrapper hands the fallback what it takes: the same
    numbers as the native route (float32, 1e-5 of the result's scale; indices exactly)."""
    import foveal.nn as fnn

    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4, 13, 11)).astype(np.float32)
    if not batched:
        x = x[0]
    args = ()
    if weighted:
        w = rng.standard_normal((8, 4 // kwargs["groups"], 3, 3)).astype(np.float32)
        args = (w.view(_Dressed), rng.standard_normal(8).astype(np.float32).view(_Dressed))
    fn = getattr(fnn, name)
    routed = fn(x.view(_Dressed), *args, **kwargs)
    assert cupy_route, "the CuPy route was not taken"
    native = fn(x, *[np.asarray(a) for a in args], **kwargs)
    if not isinstance(native, tuple):
        routed, native = (routed,), (native,)
    for got, want in zip(routed, native, strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype
        if want.dtype.kind == "i":
            np.testing.assert_array_equal(got, want)
        else:
            scale = max(1.0, float(np.abs(want).max()))
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)


def test_patches_route_to_the_fallbacks(cupy_route):
    import foveal.nn as fnn

    x = np.random.default_rng(12).standard_normal((2, 3, 8, 12)).astype(np.float32)
    p = fnn.patchify(x.view(_Dressed), (4, 3))
    back = fnn.unpatchify(p.view(_Dressed), (4, 3), (8, 12))
    assert len(cupy_route) == 2, "the CuPy route was not taken"
    np.testing.assert_array_equal(p, fnn.patchify(x, (4, 3)))
    np.testing.assert_array_equal(back, x)

"""foveal.bandpass on the GPU (cuFFT's transforms with cuda/frequency.cu's fused mask between
them) against the CPU path: every kind, with and without either cut-off, 2-D and 3-D, even and
odd sizes, float32 to 2e-6 and float64 to 1e-12 of the image's scale (the transforms' and the
exponentials' rounding; a narrow band attenuates the image a thousandfold, so its float32 gain,
1 - exp(-small), has only a few correct digits on either path)."""

from __future__ import annotations

import foveal
import numpy as np
import pytest
from conftest import random_image
from gpu_support import same

CUTOFFS = [(0, 10), (3, None), (2.5, 15.5), (0, None), (40, 41)]


@pytest.mark.parametrize("kind", ["ideal", "gaussian", "butterworth"])
@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64"])
def test_bandpass(backend, kind, dtype):
    to_device, to_host = backend
    rng = np.random.default_rng(9)
    for shape in [(37, 52), (16, 9, 3), (1, 7), (8, 1)]:
        img = random_image(rng, shape, dtype)
        for low, high in CUTOFFS:
            for order in (1, 2, 5) if kind == "butterworth" else (2,):
                want = foveal.bandpass(img, low, high, kind=kind, order=order)
                got = to_host(foveal.bandpass(to_device(img), low, high, kind=kind, order=order))
                scale = max(1.0, float(np.abs(img.astype(np.float64)).max()))
                what = f"{kind} {low} {high} {order} {shape}"
                same(got, want, what, rtol32=2e-6, scale=scale)

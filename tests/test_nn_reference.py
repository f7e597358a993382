"""foveal.reference.nn against torch.nn.functional, the semantic anchor of foveal.nn.

Random cases (a seeded numpy Generator per case) cover 1x1 images, odd sizes, kernels as
large as the image, strides, paddings, dilations, groups (1, 2, depthwise, depthwise with a
channel multiplier), "same" / "valid", ceil_mode, count_include_pad, divisor_override,
unbatched input and NaN / -inf / tied maxima for the max pools. Inputs are float64, values
are compared at rtol 1e-12 and indices exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SEED
from foveal import reference as ref

torch = pytest.importorskip("torch")
F = torch.nn.functional
# torch notes that an asymmetric "same" pad copies the input; that is what is being tested.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

CASES = 48


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The inputs are tiny: torch's thread pool only adds wake-up latency (~0.1 s a grouped
    conv on a loaded 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def case_rng(tag: int, case: int) -> np.random.Generator:
    return np.random.default_rng([SEED, tag, case])


def t(x: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))


def assert_close(ours, theirs) -> None:
    """float64 values equal to torch's at rtol 1e-12 (atol 1e-12 of the largest |value|)."""
    theirs = theirs.numpy()
    assert isinstance(ours, np.ndarray) and ours.dtype == np.float64
    assert ours.shape == theirs.shape
    finite = theirs[np.isfinite(theirs)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12 * scale)


def assert_indices(ours, theirs) -> None:
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours, theirs.numpy())


def maybe_pair(rng, a: int, b: int):
    """An int when both are equal (half the time), else the pair."""
    if a == b and rng.random() < 0.5:
        return int(a)
    return (int(a), int(b))


def tie_image(rng, shape) -> np.ndarray:
    """Small integers (many tied maxima), sometimes with NaN and -inf sprinkled in."""
    x = rng.integers(-3, 4, size=shape).astype(np.float64)
    if rng.random() < 0.4:
        x[rng.random(shape) < 0.15] = np.nan
    if rng.random() < 0.3:
        x[rng.random(shape) < 0.2] = -np.inf
    if rng.random() < 0.1:
        x[...] = -np.inf
    return x


def image_shape(rng, channels: int, h: int, w: int) -> tuple[int, ...]:
    """(N, C, H, W), or unbatched (C, H, W) a fifth of the time."""
    if rng.random() < 0.2:
        return (channels, h, w)
    return (int(rng.integers(1, 3)), channels, h, w)


def size_for(rng, need: int) -> int:
    """An axis length >= max(1, need): the minimum a quarter of the time, else a little more."""
    low = max(1, need)
    return low if rng.random() < 0.25 else low + int(rng.integers(1, 7))


# ----------------------------------------------------------------------------- conv2d


def conv_case(rng):
    kind = rng.choice(["plain", "groups2", "depthwise", "multiplier"])
    if kind == "plain":
        groups, c_in, c_out = 1, int(rng.integers(1, 5)), int(rng.integers(1, 5))
    elif kind == "groups2":
        groups, c_in, c_out = 2, 2 * int(rng.integers(1, 3)), 2 * int(rng.integers(1, 3))
    else:
        groups = c_in = int(rng.integers(1, 6))
        c_out = c_in * (1 if kind == "depthwise" else int(rng.integers(2, 4)))
    k = rng.integers(1, 5, size=2)
    d = rng.integers(1, 4, size=2) if rng.random() < 0.4 else np.ones(2, int)
    mode = rng.choice(["int", "pair", "same", "valid"])
    if mode == "same":
        s, p, padding = np.ones(2, int), np.zeros(2, int), "same"
    else:
        s = rng.integers(1, 4, size=2)
        p = np.zeros(2, int) if mode == "valid" else rng.integers(0, 4, size=2)
        if mode == "int":
            p[1] = p[0]
        padding = "valid" if mode == "valid" else maybe_pair(rng, *p)
        if mode == "int":
            padding = int(p[0])
    h, w = (size_for(rng, int(d[i] * (k[i] - 1) + 1 - 2 * p[i])) for i in range(2))
    x = rng.standard_normal(image_shape(rng, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups, int(k[0]), int(k[1])))
    bias = rng.standard_normal(c_out) if rng.random() < 0.7 else None
    kwargs = dict(
        stride=maybe_pair(rng, *s),
        padding=padding,
        dilation=maybe_pair(rng, *d),
        groups=groups,
    )
    return x, weight, bias, kwargs


@pytest.mark.parametrize("case", range(2 * CASES))
def test_conv2d(case):
    x, weight, bias, kwargs = conv_case(case_rng(1, case))
    expected = F.conv2d(t(x), t(weight), None if bias is None else t(bias), **kwargs)
    assert_close(ref.conv2d(x, weight, bias, **kwargs), expected)


@pytest.mark.parametrize("k", [(2, 2), (4, 3), (1, 4)])
@pytest.mark.parametrize("dilation", [1, (2, 3)])
def test_conv2d_same_is_asymmetric(k, dilation):
    """An odd total pad d (k - 1) puts the extra row / column at the bottom / right."""
    rng = case_rng(2, k[0] * 10 + k[1])
    x = rng.standard_normal((1, 2, 5, 6))
    weight = rng.standard_normal((3, 2, *k))
    expected = F.conv2d(t(x), t(weight), padding="same", dilation=dilation)
    got = ref.conv2d(x, weight, padding="same", dilation=dilation)
    assert got.shape == x.shape[:1] + (3,) + x.shape[2:]
    assert_close(got, expected)


def test_conv2d_kernel_is_image_and_1x1():
    rng = case_rng(3, 0)
    x = rng.standard_normal((2, 3, 4, 5))
    weight = rng.standard_normal((6, 3, 4, 5))
    assert_close(ref.conv2d(x, weight), F.conv2d(t(x), t(weight)))
    one = rng.standard_normal((3, 1, 1))
    w1 = rng.standard_normal((2, 3, 1, 1))
    assert_close(ref.conv2d(one, w1, padding=1), F.conv2d(t(one), t(w1), padding=1))


# ----------------------------------------------------------------------------- max pools


def max_pool_case(rng):
    k = rng.integers(1, 5, size=2)
    d = rng.integers(1, 4, size=2) if rng.random() < 0.5 else np.ones(2, int)
    p = np.array([rng.integers(0, k[i] // 2 + 1) for i in range(2)])  # torch: p <= k // 2
    s = rng.integers(1, 4, size=2)
    h, w = (size_for(rng, int(d[i] * (k[i] - 1) + 1 - 2 * p[i])) for i in range(2))
    x = tie_image(rng, image_shape(rng, int(rng.integers(1, 4)), h, w))
    kwargs = dict(
        kernel_size=maybe_pair(rng, *k),
        stride=None if rng.random() < 0.25 else maybe_pair(rng, *s),
        padding=maybe_pair(rng, *p),
        dilation=maybe_pair(rng, *d),
        ceil_mode=bool(rng.random() < 0.5),
    )
    return x, kwargs


@pytest.mark.parametrize("case", range(2 * CASES))
def test_max_pool2d(case):
    x, kwargs = max_pool_case(case_rng(4, case))
    values, indices = F.max_pool2d(t(x), return_indices=True, **kwargs)
    got_values, got_indices = ref.max_pool2d(x, return_indices=True, **kwargs)
    assert_close(got_values, values)
    assert_indices(got_indices, indices)
    assert_close(ref.max_pool2d(x, **kwargs), values)


def test_max_pool2d_nan_and_ties():
    """The first maximum in row-major order wins; a NaN window gives NaN at its last NaN."""
    x = np.array([[[[1.0, np.nan, 3.0], [np.nan, 5.0, 2.0], [0.0, 0.0, 0.0]]]])
    values, indices = ref.max_pool2d(x, 3, return_indices=True)
    assert np.isnan(values).all() and indices.item() == 3
    x = np.array([[[[5.0, 1.0, 5.0], [5.0, 5.0, 2.0], [0.0, 0.0, 0.0]]]])
    values, indices = ref.max_pool2d(x, 3, return_indices=True)
    assert values.item() == 5.0 and indices.item() == 0
    x = np.full((1, 1, 3, 3), -np.inf)  # all -inf: the first in-plane tap
    expected = F.max_pool2d(t(x), 3, 2, 1, return_indices=True)
    got = ref.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert_close(got[0], expected[0])
    assert_indices(got[1], expected[1])
    assert got[1].ravel().tolist() == [0, 1, 3, 4]


@pytest.mark.parametrize(
    ("hw", "kernel", "padding", "dilation", "index"),
    [((1, 1), 2, 1, 2, [[2]]), ((1, 3), 2, 1, 2, [[4, 3, 4]]), ((2, 2), 2, 1, 3, [[6]])],
)
def test_max_pool2d_window_outside_plane(hw, kernel, padding, dilation, index):
    """A dilated window with no tap in the plane: -inf and torch's out-of-plane index."""
    x = np.arange(float(hw[0] * hw[1])).reshape(1, 1, *hw)
    expected = F.max_pool2d(t(x), kernel, 1, padding, dilation, return_indices=True)
    values, indices = ref.max_pool2d(x, kernel, 1, padding, dilation, return_indices=True)
    assert_indices(indices, expected[1])
    assert_close(values, expected[0])
    assert indices[0, 0].tolist() == index


def test_torch_max_pool_padding_rule():
    """torch bounds padding by kernel_size // 2, not by the dilated kernel's half."""
    x = t(np.zeros((1, 1, 9, 9)))
    F.max_pool2d(x, 3, 1, 1, 2)
    with pytest.raises(RuntimeError, match="half of kernel size"):
        F.max_pool2d(x, 3, 1, 2, 2)


def adaptive_case(rng):
    h, w = (int(rng.integers(1, 11)) for _ in range(2))
    oh, ow = (int(rng.integers(1, n + 3)) for n in (h, w))
    r = rng.random()
    output_size = (
        oh if r < 0.25 else (None, ow) if r < 0.35 else (oh, None) if r < 0.45 else (oh, ow)
    )
    return image_shape(rng, int(rng.integers(1, 4)), h, w), output_size


@pytest.mark.parametrize("case", range(CASES))
def test_adaptive_max_pool2d(case):
    rng = case_rng(5, case)
    shape, output_size = adaptive_case(rng)
    x = tie_image(rng, shape)
    values, indices = F.adaptive_max_pool2d(t(x), output_size, return_indices=True)
    got_values, got_indices = ref.adaptive_max_pool2d(x, output_size, return_indices=True)
    assert_close(got_values, values)
    assert_indices(got_indices, indices)
    assert_close(ref.adaptive_max_pool2d(x, output_size), values)


@pytest.mark.parametrize("case", range(CASES))
def test_adaptive_avg_pool2d(case):
    rng = case_rng(6, case)
    shape, output_size = adaptive_case(rng)
    x = rng.standard_normal(shape)
    if rng.random() < 0.2:
        x[rng.random(shape) < 0.1] = np.nan
    expected = F.adaptive_avg_pool2d(t(x), output_size)
    assert_close(ref.adaptive_avg_pool2d(x, output_size), expected)


# ----------------------------------------------------------------------------- avg / lp pools


@pytest.mark.parametrize("case", range(2 * CASES))
def test_avg_pool2d(case):
    rng = case_rng(7, case)
    k = rng.integers(1, 5, size=2)
    p = np.array([rng.integers(0, k[i] // 2 + 1) for i in range(2)])
    s = rng.integers(1, 4, size=2)
    h, w = (size_for(rng, int(k[i] - 2 * p[i])) for i in range(2))
    shape = image_shape(rng, int(rng.integers(1, 4)), h, w)
    x = rng.standard_normal(shape)
    if rng.random() < 0.15:
        x[rng.random(shape) < 0.1] = np.nan
    kwargs = dict(
        kernel_size=maybe_pair(rng, *k),
        stride=None if rng.random() < 0.25 else maybe_pair(rng, *s),
        padding=maybe_pair(rng, *p),
        ceil_mode=bool(rng.random() < 0.5),
        count_include_pad=bool(rng.random() < 0.5),
        divisor_override=None if rng.random() < 0.6 else int(rng.choice([-3, 1, 2, 5, 7])),
    )
    assert_close(ref.avg_pool2d(x, **kwargs), F.avg_pool2d(t(x), **kwargs))


def test_avg_pool2d_ceil_mode_divisor():
    """A ceil_mode window past n + p counts only up to n + p (count_include_pad)."""
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    for include in (True, False):
        expected = F.avg_pool2d(t(x), 2, 2, 1, ceil_mode=True, count_include_pad=include)
        got = ref.avg_pool2d(x, 2, 2, 1, ceil_mode=True, count_include_pad=include)
        assert_close(got, expected)


NORMS = [1, 2, 3, 1.5, 0.5, 4.0, math.inf, -math.inf]


@pytest.mark.parametrize("case", range(CASES))
def test_lp_pool2d(case):
    rng = case_rng(8, case)
    norm = NORMS[case % len(NORMS)]
    k = rng.integers(1, 5, size=2)
    s = rng.integers(1, 4, size=2)
    h, w = (size_for(rng, int(k[i])) for i in range(2))
    x = rng.standard_normal(image_shape(rng, int(rng.integers(1, 4)), h, w))
    if rng.random() < 0.5:  # mostly defined powers; negative bases give NaN in both
        x = np.abs(x)
    stride = None if rng.random() < 0.25 else maybe_pair(rng, *s)
    ceil_mode = bool(rng.random() < 0.5)
    kernel = maybe_pair(rng, *k)
    expected = F.lp_pool2d(t(x), norm, kernel, stride, ceil_mode)
    assert_close(ref.lp_pool2d(x, norm, kernel, stride, ceil_mode), expected)


# ----------------------------------------------------------------------------- patches


@pytest.mark.parametrize("case", range(CASES))
def test_patchify_unpatchify(case):
    rng = case_rng(9, case)
    ph, pw = (int(v) for v in rng.integers(1, 5, size=2))
    gh, gw = (int(v) for v in rng.integers(1, 5, size=2))
    if rng.random() < 0.3:
        gw = gh
    shape = image_shape(rng, int(rng.integers(1, 4)), gh * ph, gw * pw)
    x = rng.standard_normal(shape)
    patch = maybe_pair(rng, ph, pw)
    batched = t(x if x.ndim == 4 else x[None])
    expected = F.unfold(batched, (ph, pw), stride=(ph, pw)).transpose(1, 2)
    if x.ndim == 3:
        expected = expected[0]
    patches = ref.patchify(x, patch)
    assert_close(patches, expected)
    size = None if gh == gw and rng.random() < 0.5 else (gh * ph, gw * pw)
    back = ref.unpatchify(patches, patch, size)
    np.testing.assert_array_equal(back, x)
    assert back.dtype == np.float64
    folded = F.fold(
        t(patches if patches.ndim == 3 else patches[None]).transpose(1, 2),
        (gh * ph, gw * pw),
        (ph, pw),
        stride=(ph, pw),
    )
    assert_close(back, folded if x.ndim == 4 else folded[0])


def test_patchify_returns_a_new_array():
    x = np.arange(12.0).reshape(1, 3, 2, 2)  # one 2x2 patch: a plain reshape of x
    patches = ref.patchify(x, 2)
    assert not np.shares_memory(patches, x)
    assert not np.shares_memory(ref.unpatchify(patches, 2), patches)


# ----------------------------------------------------------------------------- 1x1 images


def test_one_pixel_images():
    rng = case_rng(11, 0)
    x = rng.standard_normal((2, 3, 1, 1))
    w = rng.standard_normal((6, 1, 3, 3))
    for padding in ("same", 1):
        expected = F.conv2d(t(x), t(w), padding=padding, groups=3)
        assert_close(ref.conv2d(x, w, padding=padding, groups=3), expected)
    for kernel, padding, ceil_mode in ((1, 0, False), (2, 1, False), (2, 1, True), (3, 1, True)):
        args = (kernel, 1, padding)
        values, indices = F.max_pool2d(t(x), *args, ceil_mode=ceil_mode, return_indices=True)
        got = ref.max_pool2d(x, *args, ceil_mode=ceil_mode, return_indices=True)
        assert_close(got[0], values)
        assert_indices(got[1], indices)
        for include in (True, False):
            expected = F.avg_pool2d(t(x), *args, ceil_mode, include)
            assert_close(ref.avg_pool2d(x, *args, ceil_mode, include), expected)
    assert_close(ref.adaptive_avg_pool2d(x, 3), F.adaptive_avg_pool2d(t(x), 3))
    values, indices = F.adaptive_max_pool2d(t(x), (2, 3), return_indices=True)
    got = ref.adaptive_max_pool2d(x, (2, 3), return_indices=True)
    assert_close(got[0], values)
    assert_indices(got[1], indices)
    assert_close(ref.lp_pool2d(np.abs(x), 1.5, 1), F.lp_pool2d(t(np.abs(x)), 1.5, 1))
    assert_close(ref.patchify(x, 1), F.unfold(t(x), 1).transpose(1, 2))


# ----------------------------------------------------------------------------- dtypes


def test_float32_input_gives_float64_and_int64():
    rng = case_rng(10, 0)
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    x64 = t(x.astype(np.float64))
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    assert_close(ref.conv2d(x, w, groups=2), F.conv2d(x64, t(w), groups=2))
    values, indices = ref.max_pool2d(x, 3, 2, 1, return_indices=True)
    expected = F.max_pool2d(x64, 3, 2, 1, return_indices=True)
    assert_close(values, expected[0])
    assert_indices(indices, expected[1])
    assert_close(ref.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(x64, 3, 2, 1))
    assert_close(ref.lp_pool2d(x, 2, 2), F.lp_pool2d(x64, 2, 2))
    assert_close(ref.adaptive_avg_pool2d(x, (3, 2)), F.adaptive_avg_pool2d(x64, (3, 2)))
    values, indices = ref.adaptive_max_pool2d(x, 4, return_indices=True)
    expected = F.adaptive_max_pool2d(x64, 4, return_indices=True)
    assert_close(values, expected[0])
    assert_indices(indices, expected[1])
    assert ref.patchify(x[:, :, :6], 3).dtype == np.float64

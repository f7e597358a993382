"""foveal.nn.conv2d on the GPU (cuda/conv.cu, cuda/conv_gemm.cu) against the CPU path in
float64 on the same inputs (upcast exactly), on the emulator and on a real GPU.

Each output value is checked against a bound relative to its own scale, s = (|x| * |w|) + |b|
(the convolution of the absolute values), which bounds every rounding error of the sum. With
K = C_in / groups * kH * kW terms and u = 2^-24 (float32's unit roundoff):

- float32 by FMAs: (2K + 2) u (each step's rounding; 2K in case the compiler splits an FMA);
- float32 by tf32: 2^-10 + 2^-22 (each operand rounded to tf32's 10-bit mantissa, relative
  error <= 2^-11, so a product's <= 2^-10 + 2^-22) plus the float accumulation, (K + 2) 4u
  (4u, not u: tensor cores truncate their partial sums instead of rounding them);
- float16: 2^-11 (the result's rounding to float16) plus (K + 2) 4u;
- bfloat16: 2^-8 (the result's rounding to bfloat16) plus (K + 2) 4u;
- float64: 1e-12.

For K = 72 that is about 8.7e-6, 1.0e-3, 5.1e-4 and 3.9e-3. Every result array of the route is
allocated NaN-filled (the ``poisoned`` fixture) and the kernels' temporaries are NaN-filled
under the emulator (conv.cu), so an element left unwritten fails. bfloat16 has no NumPy or CuPy
dtype: under the emulator the launcher gets bfloat16 bit patterns in uint16 arrays, and torch's
route runs with CPU tensors on the emulator's device; on a GPU torch CUDA tensors are used.
"""

from __future__ import annotations

import foveal.nn as fnn
import numpy as np
import pytest
from foveal import _gpu
from foveal._gpu import conv as gpu_conv

U = 2.0**-24

# (id, input shape, weight shape, bias, keyword arguments)
CASES = [
    ("plain_pad1", (2, 8, 9, 11), (16, 8, 3, 3), True, dict(padding=1)),
    ("stride2_pad_pair", (2, 8, 9, 11), (12, 8, 3, 3), False, dict(stride=2, padding=(1, 2))),
    (
        "stride_dilation",
        (1, 6, 10, 13),
        (8, 6, 3, 2),
        True,
        dict(stride=(2, 1), dilation=(2, 3), padding=(2, 1)),
    ),
    ("same_even_kernel", (2, 5, 9, 10), (9, 5, 2, 4), True, dict(padding="same")),
    ("same_dilated", (1, 3, 11, 9), (8, 3, 3, 3), False, dict(padding="same", dilation=2)),
    ("valid", (2, 4, 8, 9), (7, 4, 3, 2), True, dict(padding="valid")),
    ("groups2", (2, 8, 9, 11), (16, 4, 3, 3), True, dict(groups=2, padding=1)),
    ("groups2_strided", (1, 6, 7, 9), (10, 3, 3, 3), False, dict(groups=2, stride=2, padding=1)),
    ("groups4_two_channels", (1, 8, 5, 6), (8, 2, 3, 3), True, dict(groups=4, padding=1)),
    ("depthwise", (2, 8, 9, 11), (8, 1, 3, 3), True, dict(groups=8, padding=1)),
    (
        "depthwise_x2_s2_d2",
        (1, 4, 12, 13),
        (8, 1, 3, 3),
        False,
        dict(groups=4, stride=2, dilation=2, padding=2),
    ),
    ("depthwise_same_even", (1, 3, 9, 8), (3, 1, 4, 2), True, dict(groups=3, padding="same")),
    ("depthwise_1x1_image", (2, 3, 1, 1), (6, 1, 3, 3), True, dict(groups=3, padding=1)),
    ("one_input_channel", (2, 1, 9, 11), (8, 1, 3, 3), True, dict(padding=1)),
    ("pointwise", (2, 8, 9, 11), (16, 8, 1, 1), True, {}),
    ("pointwise_s2", (1, 5, 9, 11), (7, 5, 1, 1), False, dict(stride=2)),
    ("one_pixel", (2, 3, 1, 1), (5, 3, 3, 3), True, dict(padding=1)),
    ("one_pixel_1x1", (1, 4, 1, 1), (6, 4, 1, 1), False, {}),
    ("row_1xN", (1, 3, 1, 23), (5, 3, 1, 3), True, dict(padding=(0, 1))),
    ("deep_K", (1, 37, 6, 7), (9, 37, 3, 3), True, dict(padding=1)),
    ("two_channel_tiles", (1, 8, 5, 6), (70, 8, 3, 3), True, dict(padding=1)),
    ("kernel_is_image", (2, 3, 4, 5), (6, 3, 4, 5), True, {}),
    ("kernel_past_image", (1, 2, 3, 3), (3, 2, 5, 5), True, dict(padding=1)),
    ("unbatched", (5, 9, 10), (7, 5, 3, 3), True, dict(padding=1, stride=(1, 2))),
    ("batch0", (0, 3, 8, 8), (4, 3, 3, 3), True, dict(padding=1)),
]
CASE_PARAMS = [pytest.param(*c[1:], id=c[0]) for c in CASES]

# path: (dtype, tf32)
PATHS = {
    "float16": ("float16", None),
    "float32-tf32": ("float32", True),
    "float32-fma": ("float32", False),
    "float64": ("float64", None),
}


def bound(path: str, k: int) -> float:
    """The error bound relative to each output's scale (see the module docstring)."""
    acc = (k + 2) * 4 * U
    return {
        "float16": 2.0**-11 + acc,
        "float32-tf32": 2.0**-10 + 2.0**-22 + acc,
        "float32-fma": (2 * k + 2) * U,
        "bfloat16": 2.0**-8 + acc,
        "float64": 1e-12,
    }[path]


def terms(w_shape) -> int:
    """K: the terms of each output's sum."""
    return w_shape[1] * w_shape[2] * w_shape[3]


class _Poisoned:
    """An array module whose ``empty`` is filled with NaN (all bits set for integer dtypes)."""

    def __init__(self, xp):
        self._xp = xp

    def __getattr__(self, name):
        return getattr(self._xp, name)

    def empty(self, shape, dtype):
        dtype = np.dtype(dtype)
        fill = np.nan if dtype.kind == "f" else np.iinfo(dtype).max
        return self._xp.full(shape, fill, dtype)


@pytest.fixture
def poisoned(backend, monkeypatch):
    """The backend, with the route's results allocated NaN-filled."""
    real = _gpu.device

    def device(arr, kind=None):
        dev = real(arr, kind)
        if dev is None:
            return None
        return _gpu.Device(dev.module, _Poisoned(dev.xp), dev.stream, emulated=dev.emulated)

    monkeypatch.setattr(_gpu, "device", device)
    return backend


@pytest.fixture(params=list(PATHS))
def path(request, monkeypatch):
    """(path name, dtype): float32's tf32 switch set through tf32_allowed."""
    dtype, tf32 = PATHS[request.param]
    if tf32 is not None:
        monkeypatch.setattr(gpu_conv, "tf32_allowed", lambda: tf32)
    return request.param, dtype


def conv_data(x_shape, w_shape, bias, dtype):
    rng = np.random.default_rng([*x_shape, *w_shape])
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype) if bias else None
    return x, w, b


def f64(a):
    return None if a is None else np.asarray(a).astype(np.float64)


def expected(x, w, b, kwargs):
    """(the float64 CPU result, each output's scale |x| * |w| + |b|)."""
    want = fnn.conv2d(f64(x), f64(w), f64(b), **kwargs)
    absb = None if b is None else np.abs(f64(b))
    scale = fnn.conv2d(np.abs(f64(x)), np.abs(f64(w)), absb, **kwargs)
    return want, scale


def check(got, x, w, b, kwargs, path, what):
    want, scale = expected(x, w, b, kwargs)
    got = np.asarray(got).astype(np.float64)
    assert got.shape == want.shape, what
    err = np.abs(got - want)
    limit = bound(path, terms(w.shape)) * scale
    bad = ~(err <= limit)  # NaN (an unwritten element) fails too
    assert not bad.any(), (
        f"{what}: {int(bad.sum())} of {bad.size} outside the bound, first at "
        f"{np.argwhere(bad)[0]}: got {got[bad][0]}, want {want[bad][0]}, limit {limit[bad][0]}"
    )


# ----------------------------------------------------------------------------- the wrapper


@pytest.mark.parametrize(("x_shape", "w_shape", "bias", "kwargs"), CASE_PARAMS)
def test_conv2d(poisoned, path, x_shape, w_shape, bias, kwargs):
    to_device, to_host = poisoned
    name, dtype = path
    x, w, b = conv_data(x_shape, w_shape, bias, dtype)
    dev_b = None if b is None else to_device(b)
    got = fnn.conv2d(to_device(x), to_device(w), dev_b, **kwargs)
    assert got.dtype == np.dtype(dtype)
    check(to_host(got), x, w, b, kwargs, name, f"{name} x{x_shape} w{w_shape} {kwargs}")


def test_emulated_route_taken(request, poisoned):
    """The emulated backend runs the kernels (the route's device was asked for)."""
    to_device, _ = poisoned
    x = to_device(np.ones((1, 2, 4, 4), np.float16))
    fnn.conv2d(x, to_device(np.ones((3, 2, 3, 3), np.float16)))
    if hasattr(request.node, "taken"):
        assert request.node.taken


@pytest.mark.parametrize(
    ("w_shape", "groups"), [((6, 4, 3, 3), 1), ((6, 2, 2, 3), 2), ((8, 1, 3, 3), 4)]
)
def test_noncontiguous_input(poisoned, path, w_shape, groups):
    """A view with a negative channel stride, an offset and a column step is read in place
    through its strides (the packing and the depthwise kernel take them)."""
    to_device, to_host = poisoned
    name, dtype = path
    x, w, b = conv_data((2, 5, 11, 19), w_shape, True, dtype)
    view = (slice(None), slice(4, 0, -1), slice(1, None), slice(None, None, 2))
    kwargs = dict(padding=1, groups=groups)
    got = fnn.conv2d(to_device(x)[view], to_device(w), to_device(b), **kwargs)
    check(to_host(got), x[view], w, b, kwargs, name, f"{name} view groups={groups}")
    unbatched = fnn.conv2d(to_device(x)[view][1], to_device(w), to_device(b), **kwargs)
    check(to_host(unbatched), x[view][1], w, b, kwargs, name, f"{name} unbatched view")


def test_out(poisoned, path):
    to_device, to_host = poisoned
    name, dtype = path
    x, w, b = conv_data((2, 4, 7, 9), (5, 4, 3, 3), True, dtype)
    out = to_device(np.full((2, 5, 4, 5), np.nan, dtype))
    res = fnn.conv2d(to_device(x), to_device(w), to_device(b), stride=2, padding=1, out=out)
    assert res is out
    check(to_host(out), x, w, b, dict(stride=2, padding=1), name, f"{name} out=")


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nonfinite_input(poisoned, dtype, groups):
    """A NaN or inf pixel reaches exactly the outputs whose windows hold it (as on the CPU:
    padding and the kernels' zero-filled tile edges add zeros, never 0 * inf)."""
    to_device, to_host = poisoned
    x = np.zeros((1, 2, 7, 20), dtype)
    x[0, 0, 1, 1] = np.nan
    x[0, 1, 5, 15] = np.inf
    w = np.ones((3 * groups, 2 // groups, 3, 3), dtype)
    for kwargs in (dict(padding=1), dict(stride=2, padding=1), dict(padding="same")):
        got = to_host(fnn.conv2d(to_device(x), to_device(w), groups=groups, **kwargs))
        want = fnn.conv2d(f64(x), f64(w), groups=groups, **kwargs)
        what = f"{dtype} groups={groups} {kwargs}"
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want), err_msg=what)
        np.testing.assert_array_equal(got[np.isfinite(want)], 0, err_msg=what)


def test_tf32_rounds_the_operands(poisoned, monkeypatch):
    """tf32 and FMA are different paths: 1 + 2^-15 rounds to 1 in tf32 (10-bit mantissa)."""
    to_device, to_host = poisoned
    x = np.full((1, 4, 5, 5), 1 + 2.0**-15, np.float32)
    w = np.ones((3, 4, 1, 1), np.float32)
    for tf32, value in ((True, 4.0), (False, 4 * (1 + 2.0**-15))):
        monkeypatch.setattr(gpu_conv, "tf32_allowed", lambda tf32=tf32: tf32)
        got = to_host(fnn.conv2d(to_device(x), to_device(w)))
        np.testing.assert_array_equal(got, np.float32(value), err_msg=f"tf32={tf32}")


# ------------------------------------------------------------------------- dtype handling


def test_dtypes_on_the_gpu_only(backend):
    """float16 runs on the GPU only; the CPU path still refuses it with today's message; on
    the GPU other dtypes get a TypeError that names the GPU's."""
    to_device, _ = backend
    x = np.ones((1, 2, 4, 4), np.float16)
    w = np.ones((3, 2, 3, 3), np.float16)
    with pytest.raises(TypeError, match=r"input dtype float16 is not supported \(supported: "):
        fnn.conv2d(x, w)
    with pytest.raises(TypeError, match="on the GPU .*float16, float32, float64"):
        fnn.conv2d(to_device(x.astype(np.int32)), to_device(w))
    with pytest.raises(TypeError, match="weight dtype float32 differs"):
        fnn.conv2d(to_device(x), to_device(w.astype(np.float32)))


def test_tf32_follows_torch(monkeypatch):
    """tf32 where torch would use it for a cuDNN convolution; torch's default without torch."""
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    assert gpu_conv.tf32_allowed()
    monkeypatch.undo()
    torch = pytest.importorskip("torch")
    cudnn = torch.backends.cudnn
    if not hasattr(getattr(cudnn, "conv", None), "fp32_precision"):
        saved = cudnn.allow_tf32
        try:
            cudnn.allow_tf32 = False
            assert not gpu_conv.tf32_allowed()
            cudnn.allow_tf32 = True
            assert gpu_conv.tf32_allowed()
        finally:
            cudnn.allow_tf32 = saved
        return
    saved = cudnn.conv.fp32_precision
    try:
        cudnn.conv.fp32_precision = "ieee"
        assert not gpu_conv.tf32_allowed()
        cudnn.conv.fp32_precision = "tf32"
        assert gpu_conv.tf32_allowed()
    finally:
        cudnn.conv.fp32_precision = saved


# ------------------------------------------------------------------------------- bfloat16


def to_bf16_bits(a) -> np.ndarray:
    """float32 values rounded to bfloat16 (nearest even), as uint16 bit patterns."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(bits) -> np.ndarray:
    return (np.asarray(bits).astype(np.uint32) << 16).view(np.float32)


def bf16_data(x_shape, w_shape, bias):
    x, w, b = conv_data(x_shape, w_shape, bias, np.float32)
    return [None if a is None else to_bf16_bits(a) for a in (x, w, b)]


def emulator():
    dev = _gpu.emulated()
    if dev is None:
        pytest.skip("the _cuda_emu module was not built")
    return _gpu.Device(dev.module, _Poisoned(dev.xp), 0, emulated=True)


@pytest.mark.parametrize(("x_shape", "w_shape", "bias", "kwargs"), CASE_PARAMS)
def test_bfloat16_launcher_emulated(x_shape, w_shape, bias, kwargs):
    """The kernels on bfloat16 bit patterns (uint16 arrays), through the route's launcher."""
    dev = emulator()
    xb, wb, bb = bf16_data(x_shape, w_shape, bias)
    x4 = xb if len(x_shape) == 4 else xb[None]
    geometry = fnn._conv_geometry("conv2d", x4.shape, wb.shape, bb, **_geometry_args(kwargs))
    stride, pads, dilation, groups, out_hw = geometry
    got = gpu_conv.conv2d(dev, x4, wb, bb, stride, pads, dilation, groups, out_hw, dtype="bfloat16")
    assert got.dtype == np.uint16
    if len(x_shape) == 3:
        got = got[0]
    x, w, b = (None if a is None else from_bf16_bits(a) for a in (xb, wb, bb))
    check(from_bf16_bits(got), x, w, b, kwargs, "bfloat16", f"bfloat16 x{x_shape} {kwargs}")


def _geometry_args(kwargs):
    args = dict(stride=1, padding=0, dilation=1, groups=1)
    args.update(kwargs)
    return args


@pytest.fixture
def torch_emulated(monkeypatch):
    """torch's bfloat16 route taken by CPU tensors, on the emulator's device."""
    torch = pytest.importorskip("torch")
    dev = emulator()
    monkeypatch.setattr(
        gpu_conv, "is_cuda_bfloat16", lambda obj: getattr(obj, "dtype", None) == torch.bfloat16
    )
    monkeypatch.setattr(gpu_conv, "torch_device", lambda x: dev)
    full = torch.full  # results allocated NaN-filled, as with the poisoned fixture

    def empty(shape, dtype=None, device=None):
        return full(shape, float("nan"), dtype=dtype, device=device)

    monkeypatch.setattr(torch, "empty", empty)
    return torch


@pytest.mark.parametrize("case", ["plain_pad1", "groups2", "depthwise", "unbatched", "batch0"])
def test_bfloat16_torch_route(torch_emulated, case):
    """foveal.nn.conv2d's hook for bfloat16 torch tensors: checks, launch, unbatched, out=."""
    torch = torch_emulated
    _, x_shape, w_shape, bias, kwargs = next(c for c in CASES if c[0] == case)
    xb, wb, bb = bf16_data(x_shape, w_shape, bias)
    tensors = [
        None if a is None else torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
        for a in (xb, wb, bb)
    ]
    got = fnn.conv2d(*tensors, **kwargs)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.bfloat16
    out = torch.full(tuple(got.shape), float("nan"), dtype=torch.bfloat16)
    assert fnn.conv2d(*tensors, **kwargs, out=out) is out
    x, w, b = (None if a is None else from_bf16_bits(a) for a in (xb, wb, bb))
    for res in (got, out):
        bits = res.view(torch.int16).numpy().view(np.uint16)
        check(from_bf16_bits(bits), x, w, b, kwargs, "bfloat16", f"bfloat16 torch {case}")


def test_bfloat16_torch_route_errors(torch_emulated):
    torch = torch_emulated
    x = torch.ones((1, 4, 5, 5), dtype=torch.bfloat16)
    w = torch.ones((3, 4, 3, 3), dtype=torch.bfloat16)
    with pytest.raises(TypeError, match="weight dtype torch.float32 differs"):
        fnn.conv2d(x, w.float())
    with pytest.raises(ValueError, match="weight must be 4-D"):
        fnn.conv2d(x, w[0])
    with pytest.raises(ValueError, match="input must be 4-D"):
        fnn.conv2d(x[0, 0], w)
    with pytest.raises(ValueError, match="groups=3 must divide"):
        fnn.conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        fnn.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="out must have shape"):
        fnn.conv2d(x, w, out=torch.empty((1, 3, 4, 4), dtype=torch.bfloat16))
    with pytest.raises(TypeError, match="out must have dtype"):
        fnn.conv2d(x, w, out=torch.empty((1, 3, 3, 3)))


def test_bfloat16_cpu_still_refused():
    torch = pytest.importorskip("torch")
    x = torch.ones((1, 2, 4, 4), dtype=torch.bfloat16)
    with pytest.raises(TypeError, match="bfloat16 is not supported on the CPU"):
        fnn.conv2d(x, torch.ones((3, 2, 3, 3), dtype=torch.bfloat16))


def _torch_cuda():
    torch = pytest.importorskip("torch")
    if (
        not torch.cuda.is_available()
        or gpu_conv.torch_device(torch.empty(0, device="cuda")) is None
    ):
        pytest.skip("needs torch with CUDA and the _cuda module")
    return torch


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
@pytest.mark.parametrize(("x_shape", "w_shape", "bias", "kwargs"), CASE_PARAMS)
def test_torch_cuda(dtype, x_shape, w_shape, bias, kwargs):
    """torch CUDA tensors on a real GPU: bfloat16 through torch's route, float16 and float32
    through CuPy's (DLPack), on torch's current stream."""
    torch = _torch_cuda()
    x, w, b = conv_data(x_shape, w_shape, bias, np.float32)
    tdt = getattr(torch, dtype)
    ts = [None if a is None else torch.from_numpy(a).to("cuda", tdt) for a in (x, w, b)]
    got = fnn.conv2d(*ts, **kwargs)
    assert isinstance(got, torch.Tensor) and got.dtype == tdt and got.is_cuda
    x, w, b = (None if t is None else t.float().cpu().numpy() for t in ts)
    path = "float32-tf32" if dtype == "float32" and gpu_conv.tf32_allowed() else dtype
    path = "float32-fma" if path == "float32" else path
    check(got.float().cpu().numpy(), x, w, b, kwargs, path, f"torch {dtype} {kwargs}")

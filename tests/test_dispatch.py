"""Array kinds in and out: NumPy, torch (CPU), any DLPack or __array_interface__ object, CuPy.

The result comes back in the caller's kind, without copying the output, and with the same
numbers as the NumPy call.
"""

from __future__ import annotations

import itertools

import foveal
import numpy as np
import pytest
from conftest import random_image
from foveal import imgproc

OPS = ("erode", "dilate", "open", "close", "gradient", "tophat", "blackhat")


def _numpy_result(arr, op="gradient", kernel=3, **kw):
    return foveal.morphology(np.ascontiguousarray(arr), op, kernel, **kw)


class DLPackOnly:
    """Exposes a NumPy array through the DLPack protocol and nothing else."""

    def __init__(self, arr):
        self._arr = arr

    def __dlpack__(self, **kwargs):
        return self._arr.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._arr.__dlpack_device__()


class OldDLPack(DLPackOnly):
    """The pre-2023 protocol: __dlpack__(stream=None) only."""

    def __dlpack__(self, stream=None):
        return self._arr.__dlpack__()


class ArrayInterfaceOnly:
    def __init__(self, arr):
        self._arr = arr

    @property
    def __array_interface__(self):
        return self._arr.__array_interface__


# --------------------------------------------------------------------------------------------
# NumPy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32", "float64", "bool"])
def test_numpy_in_numpy_out(rng, dtype):
    img = random_image(rng, (12, 17, 3), dtype)
    for op in OPS:
        out = foveal.morphology(img, op, 3)
        assert type(out) is np.ndarray
        assert out.dtype == img.dtype and out.shape == img.shape
        assert not np.shares_memory(out, img)
        assert out.flags.c_contiguous and out.flags.writeable
    for fn in (foveal.erode, foveal.dilate):
        assert type(fn(img, 3)) is np.ndarray


def test_numpy_subclass_memmap(tmp_path, rng):
    img = random_image(rng, (20, 30), "uint16")
    mm = np.memmap(tmp_path / "img.bin", dtype=np.uint16, mode="w+", shape=img.shape)
    mm[...] = img
    np.testing.assert_array_equal(foveal.dilate(mm, 5), foveal.dilate(img, 5))
    foveal.erode(img, 3, out=mm)
    np.testing.assert_array_equal(np.asarray(mm), foveal.erode(img, 3))


# --------------------------------------------------------------------------------------------
# generic protocols
# --------------------------------------------------------------------------------------------

VIEWS = {
    "contiguous": lambda a: a,
    "negative": lambda a: a[::-1, ::-1],
    "strided": lambda a: a[::2, ::3],
    "transposed": lambda a: a.T,
}


@pytest.mark.parametrize("wrapper", [DLPackOnly, OldDLPack, ArrayInterfaceOnly])
@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64", "bool"])
def test_protocol_objects_give_numpy(rng, wrapper, view, dtype):
    base = random_image(rng, (18, 24), dtype)
    arr = VIEWS[view](base)
    obj = wrapper(arr)
    assert not isinstance(obj, np.ndarray)
    for op in ("dilate", "tophat"):
        out = foveal.morphology(obj, op, (3, 5), border="reflect")
        assert type(out) is np.ndarray
        np.testing.assert_array_equal(
            out, _numpy_result(arr, op, (3, 5), border="reflect"), strict=True
        )
    out = foveal.erode(obj, 3)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, foveal.erode(np.ascontiguousarray(arr), 3), strict=True)


@pytest.mark.parametrize("wrapper", [DLPackOnly, ArrayInterfaceOnly])
def test_protocol_objects_as_out(rng, wrapper):
    img = random_image(rng, (10, 11, 3), "float32")
    buf = np.zeros_like(img)
    out = wrapper(buf)
    assert foveal.dilate(img, 3, out=out) is out
    np.testing.assert_array_equal(buf, foveal.dilate(img, 3))


def test_protocol_objects_as_kernel(rng):
    img = random_image(rng, (10, 11), "uint8")
    mask = foveal.structuring_element("cross", 5)
    expected = foveal.dilate(img, mask)
    for wrapper in (DLPackOnly, ArrayInterfaceOnly):
        np.testing.assert_array_equal(foveal.dilate(img, wrapper(mask)), expected)


# --------------------------------------------------------------------------------------------
# torch (CPU)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


TORCH_DTYPES = ["uint8", "int16", "float32", "float64", "bool", "uint16"]


def _tensor(torch, rng, shape, dtype):
    arr = random_image(rng, shape, dtype)
    try:
        return torch.from_numpy(arr)
    except TypeError:  # an older torch without this dtype
        pytest.skip(f"torch {torch.__version__} cannot hold {dtype}")


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_torch_in_torch_out(torch, rng, dtype):
    t = _tensor(torch, rng, (14, 19, 3), dtype)
    t0 = t.clone()
    for op in OPS:
        out = foveal.morphology(t, op, (3, 4), border="reflect101")
        assert isinstance(out, torch.Tensor)
        assert out.dtype == t.dtype and out.shape == t.shape and out.device == t.device
        np.testing.assert_array_equal(
            out.numpy(), _numpy_result(t.numpy(), op, (3, 4), border="reflect101"), strict=True
        )
        assert not np.shares_memory(out.numpy(), t.numpy())
    assert torch.equal(t, t0)
    for fn in (foveal.erode, foveal.dilate):
        out = fn(t, 5)
        assert isinstance(out, torch.Tensor)
        np.testing.assert_array_equal(out.numpy(), fn(t.numpy(), 5))


def test_torch_result_is_the_kernel_output_not_a_copy(torch, rng, monkeypatch):
    """The returned tensor wraps the very buffer the native kernel wrote."""
    written = []
    real = imgproc._core

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def morphology(self, *args, **kwargs):
            written.extend(a for a in args if isinstance(a, np.ndarray))
            return real.morphology(*args, **kwargs)

    monkeypatch.setattr(imgproc, "_core", Spy())
    for dtype in ("uint8", "float32", "bool"):
        written.clear()
        t = _tensor(torch, rng, (16, 21), dtype)
        out = foveal.dilate(t, 3)
        assert isinstance(out, torch.Tensor)
        assert written, "the native kernel was not called"
        res = out.numpy()
        assert any(np.shares_memory(res, a) for a in written)
        assert not np.shares_memory(res, t.numpy())


def test_torch_views(torch, rng):
    base = _tensor(torch, rng, (20, 30, 4), "float32")
    views = {
        "step": base[::2, ::3],
        "permuted": base.permute(1, 0, 2),
        "channel": base[:, :, 1],
        "channels": base[:, :, 1:3],
        "narrow": base.narrow(1, 5, 17),
        "transposed2d": base[:, :, 0].t(),
        "as_strided": base.as_strided((10, 7), (240, 8)),
        "expanded": base[:1, :, 0].expand(9, 30),
    }
    base0 = base.clone()
    for name, v in views.items():
        assert not v.is_contiguous() or name == "narrow", name
        for op in ("erode", "dilate", "gradient"):
            out = foveal.morphology(v, op, (3, 5), border="wrap")
            assert isinstance(out, torch.Tensor)
            expected = _numpy_result(v.contiguous().numpy(), op, (3, 5), border="wrap")
            np.testing.assert_array_equal(out.numpy(), expected, strict=True)
    assert torch.equal(base, base0)


@pytest.mark.parametrize("dtype", ["uint8", "float64", "bool"])
def test_torch_out(torch, rng, dtype):
    t = _tensor(torch, rng, (12, 15, 3), dtype)
    expected = foveal.dilate(t.numpy(), 3, border="replicate")
    outs = {
        "contiguous": torch.zeros_like(t),
        "transposed": torch.zeros((15, 12, 3), dtype=t.dtype).transpose(0, 1),
        "strided": torch.zeros((24, 15, 3), dtype=t.dtype)[::2],
    }
    for out in outs.values():
        assert foveal.dilate(t, 3, border="replicate", out=out) is out
        np.testing.assert_array_equal(out.numpy(), expected)
    # out= the input itself
    t2 = t.clone()
    assert foveal.dilate(t2, 3, border="replicate", out=t2) is t2
    np.testing.assert_array_equal(t2.numpy(), expected)
    # mixed kinds: the result is always `out`
    buf = np.zeros(t.shape, t.numpy().dtype)
    assert foveal.dilate(t, 3, border="replicate", out=buf) is buf
    np.testing.assert_array_equal(buf, expected)
    tout = torch.zeros_like(t)
    assert foveal.dilate(t.numpy(), 3, border="replicate", out=tout) is tout
    np.testing.assert_array_equal(tout.numpy(), expected)


def test_torch_requires_grad_and_parameter(torch, rng):
    t = torch.from_numpy(random_image(rng, (9, 10), "float32")).requires_grad_(True)
    out = foveal.erode(t, 3)
    assert isinstance(out, torch.Tensor) and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), foveal.erode(t.detach().numpy(), 3))
    p = torch.nn.Parameter(t.detach().clone())
    out = foveal.dilate(p, 3)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), foveal.dilate(t.detach().numpy(), 3))


def test_torch_kernel(torch, rng):
    img = random_image(rng, (13, 14), "int16")
    mask = foveal.structuring_element("ellipse", 5)
    expected = foveal.dilate(img, mask)
    np.testing.assert_array_equal(foveal.dilate(img, torch.from_numpy(mask)), expected)
    np.testing.assert_array_equal(foveal.dilate(img, torch.from_numpy(mask).bool()), expected)
    np.testing.assert_array_equal(foveal.dilate(img, torch.from_numpy(mask).float()), expected)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float16", "int8"])
def test_torch_unsupported_dtypes(torch, dtype):
    t = torch.zeros((4, 4), dtype=getattr(torch, dtype))
    with pytest.raises(TypeError, match=r"dilate: image dtype .*not supported.*uint8.*float64"):
        foveal.dilate(t, 3)


def test_torch_bfloat16_error_lists_supported(torch):
    t = torch.zeros((4, 4), dtype=torch.bfloat16)
    with pytest.raises(TypeError, match=r"dilate: image dtype .*not supported.*uint8.*float64"):
        foveal.dilate(t, 3)


def test_torch_tensor_subclass_gives_torch(torch, rng):
    class MyTensor(torch.Tensor):
        pass

    t = torch.from_numpy(random_image(rng, (8, 9), "uint8")).as_subclass(MyTensor)
    out = foveal.dilate(t, 3)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(np.asarray(out), foveal.dilate(t.numpy(), 3))


# --------------------------------------------------------------------------------------------
# CuPy (GPU)
# --------------------------------------------------------------------------------------------


def _cupy_with_device():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - not installed, no driver, no device
        return False


needs_gpu = pytest.mark.skipif(not _cupy_with_device(), reason="needs CuPy and a CUDA device")


@pytest.fixture(scope="module")
def cupy():
    return pytest.importorskip("cupy")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32", "float64", "bool"])
def test_cupy_matches_numpy(cupy, rng, dtype):
    borders = [
        "default",
        "constant",
        "replicate",
        "reflect",
        "reflect101",
        "wrap",
        "nearest",
        "mirror",
    ]
    for shape, border in itertools.product([(23, 37), (9, 70, 3), (2, 3)], borders):
        img = random_image(rng, shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        d = cupy.asarray(img)
        kernels = [
            (3, 3),
            (2, 5),
            foveal.structuring_element("ellipse", 5),
            (rng.random((3, 4)) < 0.5).astype(np.uint8) | np.eye(3, 4, dtype=np.uint8),
        ]
        for kernel in kernels:
            for op in OPS:
                for iterations in (1, 2):
                    kw = dict(
                        iterations=iterations,
                        border=border,
                        border_value=[3, -1, 400][:c] if c > 1 else 5,
                    )
                    out = foveal.morphology(d, op, kernel, **kw)
                    assert isinstance(out, cupy.ndarray)
                    np.testing.assert_array_equal(
                        cupy.asnumpy(out), foveal.morphology(img, op, kernel, **kw), strict=True
                    )


@pytest.mark.gpu
@needs_gpu
def test_cupy_views_and_out(cupy, rng):
    img = random_image(rng, (30, 40, 3), "float32")
    d = cupy.asarray(img)
    for view, host in ((d[::-1, ::2], img[::-1, ::2]), (d[:, :, 1], img[:, :, 1])):
        np.testing.assert_array_equal(cupy.asnumpy(foveal.dilate(view, 3)), foveal.dilate(host, 3))
    out = cupy.zeros_like(d)
    assert foveal.erode(d, (3, 5), out=out) is out
    np.testing.assert_array_equal(cupy.asnumpy(out), foveal.erode(img, (3, 5)))
    kernel = cupy.asarray(foveal.structuring_element("cross", 3))
    np.testing.assert_array_equal(
        cupy.asnumpy(foveal.dilate(d, kernel)),
        foveal.dilate(img, foveal.structuring_element("cross", 3)),
    )
    with pytest.raises(TypeError, match=r"out must live on the same device"):
        foveal.erode(d, 3, out=np.zeros_like(img))
    with pytest.raises(TypeError, match=r"out must live on the same device"):
        foveal.erode(img, 3, out=out)


@pytest.mark.gpu
@needs_gpu
def test_torch_cuda_in_torch_cuda_out(cupy, rng):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device")
    img = random_image(rng, (20, 33), "float32")
    t = torch.from_numpy(img).cuda()
    out = foveal.morphology(t, "gradient", 5)
    assert isinstance(out, torch.Tensor) and out.is_cuda
    np.testing.assert_array_equal(out.cpu().numpy(), foveal.morphology(img, "gradient", 5))

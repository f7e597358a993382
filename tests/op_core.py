"""The op table's machinery: samples, error inputs, entries (:class:`OpInfo`), the pickers
that drive the sample generators, the comparisons and the memory layouts. The table itself and
its rules are in op_table.py."""

from __future__ import annotations

import math
import traceback
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from conftest import SEED, random_image

# --------------------------------------------------------------------------------------------
# the bad-input classes of the contract
# --------------------------------------------------------------------------------------------

BAD_CLASSES = (
    "not_array",  # a non-array object where an array goes
    "dtype",  # an unsupported dtype: TypeError naming the supported ones
    "rank",  # the wrong number of dimensions
    "empty",  # a zero-size dimension: a clear error or a documented empty result
    "shape_mismatch",  # shapes that disagree: q/k/v, masks, out=
    "size",  # non-positive or huge sizes, iterations, k
    "kernel_too_large",  # a kernel (window) larger than the image: an error or the right answer
    "nonfinite",  # NaN / inf where forbidden
    "option",  # unknown option strings
    "out_readonly",  # a read-only out=
    "out_alias",  # out= aliasing an input: works correctly or is refused
    "huge_count",  # element counts / offsets past 2**31: 64-bit indexing or a clean ValueError
    "no_partial_write",  # out= left untouched by every error
)

# dtypes tried as unsupported ones for an op's main input
CANDIDATE_DTYPES = (
    "bool",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)

RTOL = {"float32": 1e-5, "float64": 1e-12}


# --------------------------------------------------------------------------------------------
# samples, error inputs, entries
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One call: ``func(*args, **kwargs)``; ``desc`` says what it is in failure messages."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    desc: str = ""

    def replace(self, *, args=None, kwargs=None, desc=None) -> Sample:
        return Sample(
            self.args if args is None else tuple(args),
            self.kwargs if kwargs is None else dict(kwargs),
            self.desc if desc is None else desc,
        )

    def arg(self, key):
        return self.args[key] if isinstance(key, int) else self.kwargs.get(key)

    def with_arg(self, key, value) -> Sample:
        if isinstance(key, int):
            args = list(self.args)
            args[key] = value
            return self.replace(args=args)
        return self.replace(kwargs={**self.kwargs, key: value})


@dataclass(frozen=True)
class ErrorInput:
    """A bad call: ``func(*sample.args, **sample.kwargs)`` must raise ``exc`` with a message
    matching ``match`` (which names the argument); ``exc=None`` means the call is legitimate
    and must give the reference's answer instead (a kernel larger than the image, say)."""

    cls: str
    sample: Sample
    exc: type[Exception] | tuple[type[Exception], ...] | None
    match: str = ""


class Skip(Exception):  # noqa: N818 - a signal, not an error
    """Raised by an anchor for a sample it does not cover (a border cv2 lacks, say)."""


@dataclass
class OpInfo:
    name: str
    func: Callable
    dtypes: tuple[str, ...]
    make: Callable[[Picker, str, tuple], Sample]
    shapes: tuple[tuple, ...]
    draw_shape: Callable[[Picker], tuple]
    ref: Callable[[Sample], Any]
    check: Callable[[Any, Any, Sample], None]
    anchor: Callable[[Sample], Any] | None = None
    anchor_name: str = ""
    anchor_check: Callable[[Any, Any, Sample], None] | None = None
    anchor_dtypes: tuple[str, ...] = ()  # the dtypes the anchor takes (default: all)
    errors: Callable[[Sample], list[ErrorInput]] = lambda base: []
    # array parameters: key (position or keyword) -> the name the messages use; the first
    # is the main input
    arrays: dict = field(default_factory=lambda: {0: "image"})
    ranks: tuple[int, ...] | None = (2, 3)  # ranks the main input may have (None: unbounded)
    min_rank: int = 0  # with ranks None: the smallest rank
    dtype_message: str | None = None  # what an unsupported-dtype message lists
    empty_ok_axes: tuple[int, ...] = ()  # axes whose zero size gives a documented empty result
    out: str | None = None  # "array" or "pair" when the function takes out=
    wraps_kind: bool = True  # results come back as the caller's kind (torch for torch)
    lists_ok: bool = False  # the main input may be a (nested) list (contours)
    na: dict = field(default_factory=dict)  # bad-input class -> why it does not apply
    variants: int = 1  # samples per (dtype, shape) in the fixed sweep

    @property
    def main(self):
        return next(iter(self.arrays))

    @property
    def main_name(self) -> str:
        return self.arrays[self.main]

    def seed(self, *more) -> list[int]:
        return [SEED, zlib.crc32(self.name.encode()), *more]

    def sweep(self, dtype: str) -> list[Sample]:
        """The fixed, seeded samples for one dtype."""
        out = []
        for i, shape in enumerate(self.shapes):
            for v in range(self.variants):
                rng = np.random.default_rng(self.seed(CANDIDATE_DTYPES.index(dtype), i, v))
                s = self.make(RngPicker(rng), dtype, shape)
                out.append(s.replace(desc=f"{self.name}[{dtype} {shape} #{v}] {s.desc}"))
        return out

    def base(self, dtype: str | None = None) -> Sample:
        """A small valid sample (the first of the sweep's second shape) for the bad inputs."""
        dtype = dtype or self.dtypes[0]
        shape = self.shapes[min(3, len(self.shapes) - 1)]
        rng = np.random.default_rng(self.seed(99))
        return self.make(RngPicker(rng), dtype, shape)


# --------------------------------------------------------------------------------------------
# pickers: one sample generator for the fixed sweep (NumPy) and for hypothesis
# --------------------------------------------------------------------------------------------


class Picker:
    """The choices a sample generator makes."""

    def choice(self, options: Sequence):
        raise NotImplementedError

    def integer(self, lo: int, hi: int) -> int:  # inclusive
        raise NotImplementedError

    def real(self, lo: float, hi: float) -> float:
        raise NotImplementedError

    def rng(self) -> np.random.Generator:
        """A generator for array contents."""
        raise NotImplementedError

    def coin(self, p: float = 0.5) -> bool:
        return self.real(0.0, 1.0) < p

    def image(self, shape, dtype) -> np.ndarray:
        """conftest.random_image data (extremes included), now and then constant."""
        rng = self.rng()
        img = random_image(rng, shape, dtype)
        if img.size > 1 and self.coin(0.1):
            img[...] = img.flat[int(rng.integers(img.size))]
        return img

    def normal(self, shape, dtype, scale: float = 1.0) -> np.ndarray:
        return np.asarray(self.rng().standard_normal(shape) * scale, dtype=dtype)

    def binary(self, shape, density: float | None = None) -> np.ndarray:
        rng = self.rng()
        d = self.choice((0.2, 0.5, 0.8)) if density is None else density
        return rng.random(shape) < d


class RngPicker(Picker):
    def __init__(self, rng: np.random.Generator):
        self._rng = rng

    def choice(self, options):
        return options[int(self._rng.integers(len(options)))]

    def integer(self, lo, hi):
        return int(self._rng.integers(lo, hi, endpoint=True))

    def real(self, lo, hi):
        return float(self._rng.uniform(lo, hi))

    def rng(self):
        return self._rng


class DataPicker(Picker):
    """Choices drawn by hypothesis (``data`` from ``st.data()``): shapes and parameters shrink;
    array contents come from a drawn seed."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self._data, self._st = data, st

    def choice(self, options):
        return self._data.draw(self._st.sampled_from(list(options)))

    def integer(self, lo, hi):
        return self._data.draw(self._st.integers(lo, hi))

    def real(self, lo, hi):
        return self._data.draw(self._st.floats(lo, hi, allow_nan=False, allow_infinity=False))

    def rng(self):
        return np.random.default_rng(self._data.draw(self._st.integers(0, 2**32 - 1)))


# --------------------------------------------------------------------------------------------
# comparisons
# --------------------------------------------------------------------------------------------


def to_numpy(x):
    """Results with torch tensors (and tuples / lists / named tuples of them) as NumPy."""
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(to_numpy(v) for v in x))
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x)
    if type(x).__module__.startswith("torch"):
        return x.numpy()
    return x


def leaves(x) -> list:
    if isinstance(x, (tuple, list)):
        return [leaf for v in x for leaf in leaves(v)]
    return [x]


def assert_identical(a, b, what: str = "") -> None:
    """Bit-for-bit the same results: types, dtypes, shapes, values (NaN and -0.0 included)."""
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), f"{what}: {type(a)} vs {type(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{what}[{i}]")
        return
    assert type(a) is type(b), f"{what}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, (
            f"{what}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        )
        if a.dtype.kind in "fc":
            a, b = a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")
        np.testing.assert_array_equal(a, b, err_msg=what)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), what
    else:
        assert a == b, f"{what}: {a!r} vs {b!r}"


def assert_exact(got, expected, what: str = "") -> None:
    """The same values (NaN where expected has NaN), the same dtypes and shapes; tuples and
    lists element by element."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected), (
            f"{what}: got {type(got).__name__} of {len(got) if hasattr(got, '__len__') else '?'}"
        )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_exact(g, e, f"{what}[{i}]")
        return
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), f"{what}: got a {type(got).__name__}"
        assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
        assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
        np.testing.assert_array_equal(got, expected, err_msg=what)
        return
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got), f"{what}: {got!r} vs nan"
        return
    assert got == expected and type(got) is type(expected), f"{what}: {got!r} vs {expected!r}"


def assert_close(got, expected, atol: float, what: str = "") -> None:
    """A float array within ``atol`` plus one unit of its dtype's rounding of expected;
    non-finite values exactly where expected has them. Non-float arrays exactly."""
    if not (isinstance(expected, np.ndarray) and expected.dtype.kind == "f"):
        assert_exact(got, expected, what)
        return
    assert isinstance(got, np.ndarray), f"{what}: got a {type(got).__name__}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    g, e = got.astype(np.float64), expected.astype(np.float64)
    finite = np.isfinite(e)
    np.testing.assert_array_equal(g[~finite], e[~finite], err_msg=f"{what}: non-finite")
    tol = atol + np.finfo(expected.dtype).eps * np.abs(e)
    bad = finite & ~(np.abs(g - e) <= tol)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} values off by more than {atol:.3g}; "
            f"first at {i}: got {g[i]!r}, expected {e[i]!r}"
        )


def rtol_of(dtype) -> float:
    return RTOL[np.dtype(dtype).name]


def check_exact(got, expected, sample: Sample) -> None:
    assert_exact(to_numpy(got), expected, sample.desc)


def _amax(*arrays) -> float:
    return max(
        [1.0] + [float(np.nanmax(np.abs(np.asarray(a, np.float64)), initial=0)) for a in arrays]
    )


# --------------------------------------------------------------------------------------------
# layouts: the same values in other memory layouts
# --------------------------------------------------------------------------------------------


def _junk(arr: np.ndarray) -> np.ndarray:
    """A fill value that changes any result it leaks into."""
    if arr.dtype == np.bool_:
        return np.True_
    if arr.dtype.kind == "f":
        return np.asarray(np.nan, arr.dtype)
    return np.asarray(np.iinfo(arr.dtype).max, arr.dtype)


def _fortran(a):
    return np.asfortranarray(a)


def _negative(a):
    flip = (slice(None, None, -1),) * a.ndim
    return a[flip].copy()[flip]


def _step2(a):
    big = np.full(tuple(2 * s + 1 for s in a.shape), _junk(a), a.dtype)
    view = big[tuple(slice(1, 1 + 2 * s, 2) for s in a.shape)]
    view[...] = a
    return view


def _offset(a):
    big = np.full(tuple(s + 5 for s in a.shape), _junk(a), a.dtype)
    view = big[tuple(slice(3, 3 + s) for s in a.shape)]
    view[...] = a
    return view


def _torch(a):
    import torch

    return torch.from_numpy(np.ascontiguousarray(a))


LAYOUTS = {
    "fortran": _fortran,
    "negative_strides": _negative,
    "step2": _step2,
    "offset_view": _offset,
    "torch": _torch,
}


def relayout(sample: Sample, layout: str) -> Sample:
    """The sample with every NumPy array argument in ``layout`` (same values)."""
    f = LAYOUTS[layout]
    conv = lambda v: f(v) if isinstance(v, np.ndarray) and v.ndim else v  # noqa: E731
    return sample.replace(
        args=[conv(a) for a in sample.args], kwargs={k: conv(v) for k, v in sample.kwargs.items()}
    )


def E(cls, base: Sample, exc, match: str = "", *, args=None, **kwargs) -> ErrorInput:  # noqa: N802
    """An error input derived from ``base``: ``args`` replaces positional arguments (a dict
    of position -> value), ``kwargs`` replaces keywords."""
    s = base
    for k, v in (args or {}).items():
        s = s.with_arg(k, v)
    if kwargs:
        s = s.replace(kwargs={**s.kwargs, **kwargs})
    return ErrorInput(cls, s.replace(desc=f"{cls}: {match}"), exc, match)


def big_broadcast(shape, dtype) -> np.ndarray:
    """A read-only view of ``shape`` (past 2**31 elements, say) over one element of memory."""
    return np.broadcast_to(np.zeros(1, dtype), shape)


def run_all(samples, body) -> None:
    """body(sample) on every sample; one failure report listing every failing sample."""
    failures = []
    for s in samples:
        try:
            body(s)
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            where = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(
                f"{s.desc}\n    {type(exc).__name__}: {exc}\n    at {where.filename}:{where.lineno}"
            )
    assert not failures, f"{len(failures)} of {len(samples)} samples failed:\n" + "\n".join(
        failures[:12]
    )

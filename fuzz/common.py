"""What every foveal fuzz harness shares: foveal imported under atheris's coverage
instrumentation, arguments drawn from the fuzzer's bytes, the contract a call must keep, and
the comparisons with ``foveal.reference``.

The contract (a breach raises :class:`Finding`, which atheris reports as a crash and saves the
input for):

- a call either returns or raises ``TypeError`` / ``ValueError`` whose message starts with
  ``"<function>: "``; any other exception is a finding (the harnesses keep every size small, so
  a ``MemoryError`` is one too), and so is a crash, which the sanitizers report;
- a call whose arguments the harness drew as valid must not be refused;
- a result equals the reference's: exactly for integer, bool, index and label outputs, within
  the tolerance of the family's tests for floats (``rtol * max(1, scale)``, rtol 1e-5 for
  float32 and 1e-12 for float64, NaN and +-inf exactly where the reference has them).
"""

from __future__ import annotations

import importlib.machinery
import sys
import zlib

import atheris
import numpy as np


def _prefer_plain_package() -> None:
    """The package under test is the one on PYTHONPATH (the sanitized copy). An editable
    install's import redirect would outrank it, and its loader is one atheris cannot
    instrument, so it is set aside when a plain ``foveal`` package is on the path."""
    spec = importlib.machinery.PathFinder.find_spec("foveal")
    if spec is not None and spec.origin and spec.origin.endswith("__init__.py"):
        sys.meta_path[:] = [f for f in sys.meta_path if "foveal" not in type(f).__module__]


_prefer_plain_package()

with atheris.instrument_imports(include=["foveal"]):
    import foveal
    import foveal.nn
    from foveal import reference

__all__ = [
    "Args",
    "Draw",
    "Finding",
    "REFUSED",
    "assert_close",
    "assert_exact",
    "foveal",
    "reference",
]

RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


class Finding(AssertionError):
    """A breach of the contract: the harness's input is a bug report."""


class _Refused:
    def __repr__(self) -> str:
        return "REFUSED"


REFUSED = _Refused()


class Args:
    """Whether one call's arguments were all drawn valid."""

    def __init__(self, p_bad: float = 1 / 40):
        self.valid = True
        self.p_bad = p_bad

    def bad(self, draw: Draw, p: float | None = None) -> bool:
        """Whether to draw this argument invalid (about one in ``1 / p``); the call is then
        expected to be refused."""
        if draw.chance(self.p_bad if p is None else p):
            self.valid = False
            return True
        return False


def call(fn: str, thunk, *, valid: bool):
    """``thunk()``'s result, or REFUSED when it raised a TypeError / ValueError that names
    ``fn``. Refusing arguments drawn as ``valid`` is a finding; other exceptions propagate."""
    try:
        return thunk()
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if not message.startswith(f"{fn}: "):
            raise Finding(
                f"{type(exc).__name__} whose message does not start with {fn!r}: {message!r}"
            ) from exc
        if valid:
            raise Finding(f"valid arguments refused: {type(exc).__name__}: {message}") from exc
        return REFUSED


def assert_exact(got, expected, what: str) -> None:
    """Same type (ndarray), shape, dtype and values; NaN where the reference has NaN."""
    if not isinstance(got, np.ndarray):
        raise Finding(f"{what}: got a {type(got).__name__}, expected an ndarray")
    expected = np.asarray(expected)
    if got.shape != expected.shape or got.dtype != expected.dtype:
        raise Finding(
            f"{what}: got {got.dtype}{got.shape}, expected {expected.dtype}{expected.shape}"
        )
    same = got == expected
    if got.dtype.kind == "f":
        same |= np.isnan(got) & np.isnan(expected)
    if not same.all():
        i = tuple(int(v) for v in np.argwhere(~same)[0])
        raise Finding(
            f"{what}: {int((~same).sum())} of {same.size} values differ; first at {i}: "
            f"got {got[i]!r}, expected {expected[i]!r}"
        )


def assert_close(got, expected, dtype, scale: float, what: str) -> None:
    """A ``dtype`` array of the reference's shape; non-finite values exactly where the
    reference has them, the finite ones within ``rtol * max(1, scale)``."""
    dtype = np.dtype(dtype)
    if not isinstance(got, np.ndarray):
        raise Finding(f"{what}: got a {type(got).__name__}, expected an ndarray")
    expected = np.asarray(expected, np.float64)
    if got.shape != expected.shape or got.dtype != dtype:
        raise Finding(f"{what}: got {got.dtype}{got.shape}, expected {dtype}{expected.shape}")
    g = got.astype(np.float64)
    finite = np.isfinite(expected)
    odd = ~finite & ~((g == expected) | (np.isnan(g) & np.isnan(expected)))
    tol = RTOL[dtype] * max(1.0, float(scale))
    with np.errstate(invalid="ignore"):
        bad = odd | (finite & ~(np.abs(g - expected) <= tol))
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise Finding(
            f"{what}: {int(bad.sum())} of {bad.size} values off by more than {tol:.3g}; "
            f"first at {i}: got {g[i]!r}, expected {expected[i]!r}"
        )


# Byte -> float: multiples of 1/16 in [-8, 8) (exact in float32, sums of a few stay exact),
# the top three bytes NaN, +inf and -inf where non-finite values are wanted.
_GRID = (np.arange(256, dtype=np.float64) - 128.0) / 16.0
_SPECIALS = _GRID.copy()
_SPECIALS[253:] = (np.nan, np.inf, -np.inf)


class Draw:
    """Arguments drawn from the fuzzer's bytes. Once the bytes run out, sizes, choices and
    array data come from a generator seeded by the whole input, and every argument is valid:
    libFuzzer keeps its inputs short (the Python coverage it sees does not grow with sizes or
    values), so each short input still stands for a whole random call."""

    def __init__(self, data: bytes):
        self.fdp = atheris.FuzzedDataProvider(data)
        self.rest = np.random.default_rng(zlib.crc32(data))

    def int(self, lo: int, hi: int) -> int:
        if self.fdp.remaining_bytes() == 0:
            return int(self.rest.integers(lo, hi, endpoint=True))
        return self.fdp.ConsumeIntInRange(lo, hi)

    def bool(self) -> bool:
        if self.fdp.remaining_bytes() == 0:
            return bool(self.rest.integers(0, 1, endpoint=True))
        return self.fdp.ConsumeBool()

    def chance(self, p: float) -> bool:
        """True with probability about ``p`` (one byte); False once the bytes have run out
        (invalid arguments and rare paths are the input's choice only)."""
        return self.fdp.ConsumeIntInRange(0, 255) >= 256 - p * 256

    def pick(self, choices):
        return choices[self.int(0, len(choices) - 1)]

    def bytes(self, n: int) -> np.ndarray:
        """``n`` bytes as uint8 values, generated past the end of the input."""
        raw = np.frombuffer(self.fdp.ConsumeBytes(n), np.uint8)
        if raw.size == n:
            return raw
        return np.concatenate([raw, self.rest.integers(0, 256, n - raw.size, dtype=np.uint8)])

    def density(self) -> int:
        """Eighths of pixels set (half of them as the first choice)."""
        return self.pick((4, 1, 2, 3, 5, 6, 7, 0, 8))

    def floats(self, shape, dtype, *, specials: bool = False) -> np.ndarray:
        """Values on the 1/16 grid of [-8, 8), with NaN and +-inf if ``specials``."""
        codes = self.bytes(int(np.prod(shape, dtype=np.int64)))
        return (_SPECIALS if specials else _GRID)[codes].reshape(shape).astype(dtype)

    def image(self, shape, dtype, *, specials: bool = True) -> np.ndarray:
        """An image of ``dtype``: integers over their whole range (the extremes included),
        bools, or grid floats with NaN / +-inf if ``specials``."""
        dtype = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64))
        if dtype == np.bool_:
            return (self.bytes(n) & 1).astype(bool).reshape(shape)
        if dtype.kind == "f":
            return self.floats(shape, dtype, specials=specials)
        raw = self.bytes(n * dtype.itemsize)
        return raw.view(dtype.newbyteorder("<")).astype(dtype).reshape(shape)

    def layout(self, arr: np.ndarray) -> np.ndarray:
        """``arr``'s values in another memory layout: contiguous, F-order, rows or columns
        reversed, a step-2 slice of a larger buffer, or an offset view."""
        kind = self.pick(("contiguous", "fortran", "neg_rows", "neg_cols", "step2", "offset"))
        if kind == "fortran":
            return np.asfortranarray(arr)
        if kind == "neg_rows":
            return np.ascontiguousarray(arr[::-1])[::-1]
        if kind == "neg_cols" and arr.ndim >= 2:
            return np.ascontiguousarray(arr[:, ::-1])[:, ::-1]
        if kind == "step2":
            big = np.zeros((2 * arr.shape[0], *arr.shape[1:]), arr.dtype)
            big[::2] = arr
            if arr.ndim >= 2:
                wide = np.zeros((big.shape[0], 2 * arr.shape[1], *arr.shape[2:]), arr.dtype)
                wide[:, ::2] = big
                return wide[::2, ::2]
            return big[::2]
        if kind == "offset":
            big = np.zeros((arr.shape[0] + 2, *arr.shape[1:]), arr.dtype)
            big[1:-1] = arr
            return big[1:-1]
        return arr


def main(test_one_input) -> None:
    """Runs a harness under atheris with libFuzzer's command line (``-max_total_time=30``,
    corpus folders, or files to replay)."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

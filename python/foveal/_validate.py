"""Argument checks shared by every wrapper. Messages say function, argument, got, allowed."""

from __future__ import annotations

import numbers
import operator

import numpy as np

IMAGE_DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
IMAGE_DTYPES_BOOL = (*IMAGE_DTYPES, "bool")

# OpenCV's border names, with scipy.ndimage's and OpenCV's spellings accepted as aliases.
_BORDERS = {
    "constant": "constant",
    "replicate": "replicate",
    "nearest": "replicate",
    "reflect": "reflect",
    "reflect101": "reflect101",
    "reflect_101": "reflect101",
    "mirror": "reflect101",
    "wrap": "wrap",
    "default": "default",
}


def check_image(arr, fn: str, name: str = "image", dtypes=IMAGE_DTYPES):
    """An (H, W) or (H, W, C) image of a supported dtype with no empty dimension."""
    if arr.dtype.name not in dtypes or arr.dtype.kind == "V":
        raise TypeError(
            f"{fn}: {name} dtype {arr.dtype} is not supported (supported: {', '.join(dtypes)})"
        )
    if arr.ndim not in (2, 3):
        raise ValueError(
            f"{fn}: {name} must be 2-D (H, W) or 3-D (H, W, C), got {arr.ndim}-D "
            f"shape {tuple(arr.shape)}"
        )
    if arr.size == 0:
        raise ValueError(f"{fn}: {name} must not be empty, got shape {tuple(arr.shape)}")
    return arr


def as_bool(value, fn: str, name: str) -> bool:
    """A flag: a Python or NumPy bool, never a number or a string taken for one."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} must be a bool, got {type(value).__name__}")
    return bool(value)


def as_int(value, fn: str, name: str, *, minimum=None, maximum=None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        try:
            if isinstance(value, (bool, np.bool_)):
                raise TypeError
            value = operator.index(value)
        except TypeError:
            raise TypeError(
                f"{fn}: {name} must be an integer, got {type(value).__name__} {value!r}"
            ) from None
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{fn}: {name} must be <= {maximum}, got {value}")
    return value


def as_pair(value, fn: str, name: str, *, minimum=None, maximum=None) -> tuple[int, int]:
    """An int (used for both) or a pair of ints, as (rows, cols)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{fn}: {name} must be an int or a pair, got {len(value)} values")
        return (
            as_int(value[0], fn, name, minimum=minimum, maximum=maximum),
            as_int(value[1], fn, name, minimum=minimum, maximum=maximum),
        )
    v = as_int(value, fn, name, minimum=minimum, maximum=maximum)
    return v, v


def border_name(border, fn: str, *, allow_default: bool) -> str:
    if not isinstance(border, str):
        raise TypeError(f"{fn}: border must be a string, got {type(border).__name__}")
    key = border.lower()
    canonical = _BORDERS.get(key)
    if canonical is None or (canonical == "default" and not allow_default):
        allowed = [b for b in _BORDERS if allow_default or b != "default"]
        raise ValueError(f"{fn}: border must be one of {', '.join(allowed)}; got {border!r}")
    return canonical


def border_values(value, channels: int, dtype: np.dtype, fn: str) -> list[float]:
    """A scalar or one value per channel, as floats; NaN only for float images."""
    if isinstance(value, (tuple, list, np.ndarray)):
        try:
            values = [float(v) for v in np.asarray(value, dtype=np.float64).ravel()]
        except (TypeError, ValueError):
            raise TypeError(
                f"{fn}: border_value must be a number or a sequence of numbers, got {value!r}"
            ) from None
        if len(values) not in (1, channels):
            raise ValueError(
                f"{fn}: border_value must be a scalar or {channels} values, got {len(values)}"
            )
    else:
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{fn}: border_value must be a number, got {type(value).__name__}")
        values = [float(value)]
    if dtype.kind != "f" and any(np.isnan(v) for v in values):
        raise ValueError(f"{fn}: border_value must not be NaN for {dtype} images")
    return [float(v) for v in values]


def check_out(out, shape, dtype, fn: str):
    """``out`` of the result's shape and dtype, writeable."""
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{fn}: out must have shape {tuple(shape)}, got {tuple(out.shape)}")
    if out.dtype != dtype:
        raise TypeError(f"{fn}: out must have dtype {dtype}, got {out.dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{fn}: out is read-only")
    return out


def as_number(value, fn: str, name: str, *, minimum=None) -> float:
    """A real number: finite, or, with ``minimum``, not NaN and at least ``minimum`` (inf
    allowed)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{fn}: {name} must be a number, got {type(value).__name__}")
    v = float(value)
    if minimum is None:
        if not np.isfinite(v):
            raise ValueError(f"{fn}: {name} must be finite, got {v}")
    elif np.isnan(v) or v < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {v}")
    return v


def anchor(value, kh: int, kw: int, fn: str) -> tuple[int, int]:
    """(row, col) inside a kh x kw kernel; None (or -1) means the centre, returned as -1."""
    if value is None:
        return -1, -1
    ay, ax = as_pair(value, fn, "anchor", minimum=-1)
    if ay >= kh or ax >= kw:
        raise ValueError(f"{fn}: anchor {(ay, ax)} is outside the {kh}x{kw} kernel")
    return ay, ax

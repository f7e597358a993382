"""The names used in foveal's public signatures.

``Array``: what a function takes for an image, a tensor or a parameter array: a NumPy array, a
CuPy array, a torch tensor (CPU or CUDA), or any object that exports ``__dlpack__`` (with
``__dlpack_device__``), ``__cuda_array_interface__`` or ``__array_interface__``; Python lists
are refused. Array results come
back in the caller's kind (NumPy for NumPy, torch for torch, CuPy for CuPy), which a return type
cannot spell without importing the optional packages, so they are typed ``Any``.

``ArrayOrList``: an ``Array`` or nested lists of numbers, for small arguments such as a
filter's kernel or a contour's points.

``Size``: an int (used for both axes) or a (rows, cols) pair.

``DType``: an output dtype: a NumPy dtype, its name or scalar type, or a torch dtype (which
NumPy's ``DTypeLike`` does not cover, hence ``Any``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, SupportsIndex, TypeAlias

import numpy as np


class SupportsDLPack(Protocol):
    """An array that exports DLPack (CuPy arrays, torch tensors, JAX arrays, ...)."""

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any: ...

    def __dlpack_device__(self) -> Any: ...


class SupportsArrayInterface(Protocol):
    """An object NumPy reads without a copy through ``__array_interface__``."""

    @property
    def __array_interface__(self) -> Any: ...


class SupportsCudaArrayInterface(Protocol):
    """A device array CuPy reads without a copy through ``__cuda_array_interface__``."""

    @property
    def __cuda_array_interface__(self) -> Any: ...


Array: TypeAlias = (
    "np.ndarray | SupportsDLPack | SupportsArrayInterface | SupportsCudaArrayInterface"
)
Size: TypeAlias = "SupportsIndex | tuple[SupportsIndex, SupportsIndex] | list[SupportsIndex]"
DType: TypeAlias = Any
ArrayOrList: TypeAlias = "Array | Sequence[Any]"

"""Contours: the borders of the regions of a binary image, with cv2.findContours's points,
order and hierarchy, and the measures and drawing that go with them.

:func:`find_contours` follows borders by Suzuki and Abe's algorithm in C++, with OpenCV's
conventions (the image framed by background, outer borders followed down their left side first,
each border listed before its children, siblings latest first). Contours are (n, 2) int32 arrays
of (x, y) points (cv2 gives (n, 1, 2)); the hierarchy is (N, 4) int32 rows [next, previous,
first child, parent] (cv2 gives (1, N, 4), or None when there are no contours). The kernels run
on the CPU: CuPy input is copied to the host; the results are NumPy arrays for every input kind.

>>> import foveal, numpy as np
>>> img = np.zeros((6, 6), np.uint8); img[1:5, 1:5] = 1; img[2:4, 2:4] = 0
>>> contours, hierarchy = foveal.find_contours(img, "tree", "simple")
>>> contours[0].tolist(), contours[1].tolist()
([[1, 1], [1, 4], [4, 4], [4, 1]], [[1, 2], [2, 1], [3, 1], [4, 2], [4, 3], [3, 4], [2, 4], [1, 3]])
>>> hierarchy
array([[-1, -1,  1, -1],
       [-1, -1, -1,  0]], dtype=int32)
>>> foveal.contour_area(contours[0]), foveal.bounding_rect(contours[0])
(9.0, (1, 1, 4, 4))
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _dispatch as dsp
from . import _validate as val
from ._backend import _core
from ._binary import host_binary
from ._typing import Array, ArrayOrList

__all__ = ["arc_length", "bounding_rect", "contour_area", "draw_contours", "find_contours"]

_MODES = ("external", "list", "ccomp", "tree")
_METHODS = ("none", "simple")
_MAX_COORD = 1 << 20  # the drawing code's integer arithmetic is exact within this range


def _choice(value, allowed, fn: str, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{fn}: {name} must be a string, got {type(value).__name__}")
    if value.lower() not in allowed:
        raise ValueError(f"{fn}: {name} must be one of {', '.join(allowed)}; got {value!r}")
    return value.lower()


def find_contours(
    binary: Array, mode: str = "tree", method: str = "simple", *, offset: tuple[int, int] = (0, 0)
) -> tuple[list[npt.NDArray[np.int32]], npt.NDArray[np.int32]]:
    """The borders of the nonzero regions of ``binary``, as ``cv2.findContours(binary, mode,
    method, offset=offset)``: the same contours, points, order and hierarchy.

    Args:
        binary: (H, W) array of any image dtype or bool; nonzero pixels are foreground, and
            pixels outside the image count as background (regions on the edge have whole
            borders). CuPy input is copied to the host.
        mode: "external" (outer borders of the outermost regions only), "list" (every border, no
            hierarchy), "ccomp" (two levels: outer borders, and the holes inside each) or "tree"
            (the full nesting).
        method: "none" (every border pixel) or "simple" (only the ends of horizontal, vertical
            and diagonal runs).
        offset: (dx, dy) added to every point.

    Returns:
        ``(contours, hierarchy)``, NumPy arrays for every input kind: a list of (n, 2) int32
        (x, y) arrays (cv2 gives (n, 1, 2)) and an (N, 4) int32 array [next, previous, first
        child, parent], -1 for none ((0, 4) without contours; cv2 gives (1, N, 4) or None).

    >>> foveal.find_contours(np.eye(3), "external", "none")[0][0].tolist()
    [[0, 0], [1, 1], [2, 2], [1, 1]]
    """
    fn = "find_contours"
    arr, _, _ = host_binary(binary, fn)
    mode = _choice(mode, _MODES, fn, "mode")
    method = _choice(method, _METHODS, fn, "method")
    dx, dy = _offset(offset, fn)
    return _core.find_contours(arr, mode, method, dx, dy)


def _offset(offset, fn: str) -> tuple[int, int]:
    if not isinstance(offset, (tuple, list)) or len(offset) != 2:
        raise TypeError(f"{fn}: offset must be a pair (dx, dy), got {offset!r}")
    limit = _MAX_COORD
    dx, dy = (val.as_int(v, fn, "offset", minimum=-limit, maximum=limit) for v in offset)
    return dx, dy


def _points(contour, fn: str, name: str = "contour", *, integer: bool = False) -> np.ndarray:
    """An (n, 2) array of points from (n, 2) or cv2's (n, 1, 2); integer or float."""
    arr = np.asarray(dsp.to_host(contour, fn, name) if hasattr(contour, "dtype") else contour)
    if arr.dtype.kind not in ("iu" if integer else "iuf") or arr.dtype == np.uint64:
        kinds = "an integer dtype" if integer else "integer or float values"
        raise TypeError(f"{fn}: {name} must hold {kinds}, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[1] == 1:
        arr = arr[:, 0, :]
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(
            f"{fn}: {name} must be an (n, 2) or (n, 1, 2) array of points, "
            f"got shape {tuple(arr.shape)}"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{fn}: {name} must be finite (no NaN or inf)")
    return arr


def contour_area(contour: ArrayOrList, *, oriented: bool = False) -> float:
    """The area inside a closed polygon by the shoelace formula, as ``cv2.contourArea``.

    Args:
        contour: (n, 2) or (n, 1, 2) points (x, y), integer or float, finite (an array or nested
            lists).
        oriented: return the signed area: positive for points going clockwise on screen (y
            down; cv2's sign), so a hole from :func:`find_contours` is positive and an outer
            border negative.

    Returns:
        The area as a float (0.0 for fewer than 3 points).

    >>> foveal.contour_area([[0, 0], [4, 0], [4, 3]])
    6.0
    """
    fn = "contour_area"
    oriented = val.as_bool(oriented, fn, "oriented")
    pts = _points(contour, fn).astype(np.float64)
    if len(pts) < 3:
        return 0.0
    x, y = pts[:, 0], pts[:, 1]
    xp, yp = np.roll(x, 1), np.roll(y, 1)
    area = float(np.sum(xp * y - yp * x)) * 0.5
    return area if oriented else abs(area)


def arc_length(contour: ArrayOrList, *, closed: bool = True) -> float:
    """The length of a polyline, as ``cv2.arcLength``: each segment's length computed in float32,
    the sum in float64.

    Args:
        contour: (n, 2) or (n, 1, 2) points (x, y), integer or float, finite.
        closed: include the segment from the last point back to the first.

    Returns:
        The length as a float (0.0 for fewer than 2 points).

    >>> foveal.arc_length([[0, 0], [3, 0], [3, 4]])
    12.0
    """
    fn = "arc_length"
    closed = val.as_bool(closed, fn, "closed")
    pts = _points(contour, fn).astype(np.float32)
    if len(pts) < 2:
        return 0.0
    prev = np.roll(pts, 1, axis=0) if closed else pts[:-1]
    cur = pts if closed else pts[1:]
    d = cur - prev
    seg = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    return float(np.sum(seg.astype(np.float64)))


def bounding_rect(contour: ArrayOrList) -> tuple[int, int, int, int]:
    """The smallest upright rectangle holding every point, as ``cv2.boundingRect``.

    Args:
        contour: (n, 2) or (n, 1, 2) points (x, y), integer or float (floored), finite.

    Returns:
        ``(x, y, width, height)`` as ints; (0, 0, 0, 0) for no points.

    >>> foveal.bounding_rect(np.array([[2, 5], [7, 1]]))
    (2, 1, 6, 5)
    """
    fn = "bounding_rect"
    pts = _points(contour, fn)
    if len(pts) == 0:
        return (0, 0, 0, 0)
    if pts.dtype.kind == "f":
        pts = np.floor(pts)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    # Python ints: hi - lo in the points' dtype overflows (int8 points 100 apart, say)
    x0, y0, x1, y1 = int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])
    return (x0, y0, x1 - x0 + 1, y1 - y0 + 1)


def _selected(n: int, index: int, hierarchy, max_level, fn: str) -> list[int] | None:
    """The contours cv2.drawContours draws for this index, hierarchy and max_level: without a
    hierarchy (or with max_level 0), the one contour or all of them; with one, the subtree of
    the contour (of every top-level contour for index -1) down to depth max_level, counted from
    the top of the whole tree. None stands for all of them."""
    if hierarchy is None or max_level == 0:
        return None if index < 0 else [index]
    h = np.asarray(hierarchy)
    if h.ndim == 3 and h.shape[0] == 1:
        h = h[0]
    if h.shape != (n, 4) or h.dtype.kind not in "iu":
        raise ValueError(
            f"{fn}: hierarchy must be an (N, 4) integer array for the N = {n} contours, "
            f"got shape {h.shape}"
        )
    if n and (h.min() < -1 or h.max() >= n):
        raise ValueError(f"{fn}: hierarchy links must be -1 or contour indices below {n}")
    h = h.tolist()
    limit = np.iinfo(np.int32).max if max_level is None else max_level
    stack = [index] if index >= 0 else [i for i in range(n) if h[i][3] < 0]
    if n and not stack:  # every contour has a parent: the parents go round in a cycle
        raise ValueError(f"{fn}: hierarchy has a cycle of parents (no contour without one)")
    chosen, queued = [], set(stack)
    while stack:
        i = stack.pop()
        depth, p = 0, h[i][3]
        while p >= 0:
            depth, p = depth + 1, h[p][3]
            if depth > n:
                raise ValueError(f"{fn}: hierarchy has a cycle of parents through contour {i}")
        if depth <= limit:
            chosen.append(i)
        child = h[i][2]
        while child >= 0:
            if child in queued:
                raise ValueError(f"{fn}: hierarchy has a cycle through contour {child}")
            queued.add(child)
            stack.append(child)
            child = h[child][0]
    return sorted(chosen)


def _color(color, channels: int, dtype: np.dtype, fn: str) -> list[float]:
    """One value per channel (a scalar fills every channel), saturated to the dtype and rounded
    to the nearest integer for integer images, as cv2's saturate_cast."""
    if isinstance(color, numbers.Real):
        values = [color] * channels
    elif isinstance(color, (tuple, list, np.ndarray)):
        values = list(np.asarray(color).ravel()) if isinstance(color, np.ndarray) else list(color)
    else:
        raise TypeError(
            f"{fn}: color must be a number or a sequence of numbers, got {type(color).__name__}"
        )
    if len(values) != channels:
        raise ValueError(
            f"{fn}: color must be a number or {channels} values (one per channel), got {color!r}"
        )
    out = []
    for v in values:
        if not isinstance(v, numbers.Real) or isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{fn}: color values must be numbers, got {v!r}")
        f = float(v)
        if dtype.kind in "iu":
            if np.isnan(f):
                raise ValueError(f"{fn}: color must not be NaN for {dtype} images")
            info = np.iinfo(dtype)
            f = float(min(max(np.rint(f), info.min), info.max))
        out.append(f)
    return out


def draw_contours(
    image: Array,
    contours: Sequence[ArrayOrList],
    index: int = -1,
    color: float | Sequence[float] = 255,
    thickness: int = 1,
    *,
    hierarchy: ArrayOrList | None = None,
    max_level: int | None = None,
    offset: tuple[int, int] = (0, 0),
    out: Array | None = None,
) -> Any:
    """Draw contours onto a copy of ``image`` (or into ``out``, which may be ``image`` itself), as
    ``cv2.drawContours(image, contours, index, color, thickness, cv2.LINE_8, hierarchy,
    max_level, offset)``.

    Points may lie outside the image: what falls inside is drawn as on a larger canvas (cv2
    re-rounds the lines it clips to the image, so there the two may differ by a pixel).

    Args:
        image: (H, W) or (H, W, C) with C <= 4, of uint8, uint16, int16, float32 or float64.
        contours: a list of (n, 2) or (n, 1, 2) integer point arrays (as :func:`find_contours`
            gives), points within +-2**20.
        index: the contour to draw, -1 for all.
        color: a number (every channel) or one value per channel, saturated and rounded for
            integer images.
        thickness: -1 fills the contours (all of them together by the even-odd rule, edges
            included, so the contours of a binary image filled give it back); 1 draws
            8-connected lines; wider lines (up to 32767) sweep a disc of that diameter along the
            edges (cv2's round-capped lines, within a pixel at the ends of each segment).
        hierarchy: None, or the (N, 4) (or cv2's (1, N, 4)) hierarchy of :func:`find_contours`.
        max_level: with a hierarchy, draw the contour and its nested contours down to this depth
            of the whole tree; None means all.
        offset: (dx, dy) added to every point.
        out: an array of the image's shape and dtype to draw into.

    Returns:
        The drawn image, of the image's shape and dtype, in its kind, or ``out``.

    >>> img = np.zeros((5, 5), np.uint8)
    >>> foveal.draw_contours(img, [np.array([[1, 1], [1, 3], [3, 3], [3, 1]])], thickness=-1)[2]
    array([  0, 255, 255, 255,   0], dtype=uint8)
    """
    fn = "draw_contours"
    arr, kind = dsp.to_array(image, fn, "image")
    val.check_image(arr, fn, "image")
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if channels > 4:
        raise ValueError(f"{fn}: image must have at most 4 channels, got {channels}")
    if not isinstance(contours, (list, tuple)):
        raise TypeError(
            f"{fn}: contours must be a list of point arrays, got {type(contours).__name__}"
        )
    n = len(contours)
    index = val.as_int(index, fn, "index", minimum=-1)
    if index >= n:
        raise ValueError(f"{fn}: index must be -1 or below the {n} contours, got {index}")
    thickness = val.as_int(thickness, fn, "thickness", minimum=-1, maximum=32767)
    if thickness == 0:
        raise ValueError(f"{fn}: thickness must be -1 (fill) or 1..32767, got 0")
    if max_level is not None:
        max_level = val.as_int(max_level, fn, "max_level", minimum=0)
    dx, dy = _offset(offset, fn)
    rgb = _color(color, channels, arr.dtype, fn)

    chosen = _selected(n, index, hierarchy, max_level, fn)
    # Every chosen contour is checked here, before out= is written (an error must leave it as
    # it was); find_contours's arrays go to C++ as they are, anything else is converted.
    items = list(contours)
    for i in range(n) if chosen is None else chosen:
        c = items[i]
        fast = type(c) is np.ndarray and c.dtype == np.int32 and c.flags.c_contiguous
        if not fast or not (c.ndim == 2 and c.shape[1] == 2 or c.shape[1:] == (1, 2)):
            c = _points(c, fn, f"contours[{i}]", integer=True)
        if c.size:
            xy = c.reshape(-1, 2)
            lo = xy.min(axis=0).astype(np.int64) + (dx, dy)
            hi = xy.max(axis=0).astype(np.int64) + (dx, dy)
            if lo.min() < -_MAX_COORD or hi.max() > _MAX_COORD:
                raise ValueError(
                    f"{fn}: contours[{i}] has points (with offset) beyond +-{_MAX_COORD}"
                )
        items[i] = np.ascontiguousarray(c, dtype=np.int32)

    out_arr, target = dsp.output(fn, arr, arr.dtype, out)
    host = arr.get() if dsp.is_cupy(arr) else arr
    canvas = target if target is not None else np.empty(host.shape, host.dtype)
    # out= may be the image itself, which then holds it already; any other out= that shares
    # memory with the image (a shifted view, say) is not the image: copy (NumPy buffers the
    # overlap)
    in_place = canvas is out_arr and (canvas.ctypes.data, canvas.strides) == (
        host.ctypes.data,
        host.strides,
    )
    if not in_place:
        canvas[...] = host
    _core.draw_contours(canvas, items, chosen, rgb, thickness, dx, dy)
    result = dsp._cupy().asarray(canvas) if dsp.is_cupy(arr) else canvas
    return dsp.deliver(kind, out, out_arr, result)

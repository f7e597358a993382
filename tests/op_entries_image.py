"""The op table's entries for the image functions: morphology, filters and gradients, corners
and the frequency domain (see op_table.py for what an entry holds and the tolerance rules)."""

from __future__ import annotations

from typing import Any

import foveal
import numpy as np
from conftest import assert_rule, tolerance, working_dtype
from foveal import reference as R
from op_core import (
    E,
    ErrorInput,
    OpInfo,
    Picker,
    Sample,
    Skip,
    _amax,
    assert_close,
    assert_exact,
    check_exact,
    to_numpy,
)

# --------------------------------------------------------------------------------------------
# shared pieces of the image entries
# --------------------------------------------------------------------------------------------

IMAGE_DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
IMAGE_DTYPES_BOOL = (*IMAGE_DTYPES, "bool")
FLOAT_DTYPES = ("float32", "float64")
# 1x1, 1xN, Nx1; widths around the vector widths with AVX2 (32 uint8 / 16 int16 / 8 float32 /
# 4 float64 lanes; morphology's chunks of 4 vectors: 128 uint8 columns) and a few channels
IMAGE_SHAPES = (
    (1, 1),
    (1, 33),
    (33, 1),
    (5, 31),
    (4, 32),
    (3, 33),
    (6, 63),
    (2, 64),
    (7, 65),
    (3, 129),
    (9, 11, 3),
    (5, 6, 1),
    (4, 17, 4),
)
EDGE_WIDTHS = (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129)
FILTER_BORDERS = ("constant", "replicate", "reflect", "reflect101", "wrap")
BORDER_ALIASES = {"nearest": "replicate", "mirror": "reflect101", "reflect_101": "reflect101"}


def draw_image_shape(p: Picker, channels=(None, None, 1, 3, 4)) -> tuple:
    h = p.integer(1, 24)
    w = p.choice(EDGE_WIDTHS) if p.coin() else p.integer(1, 70)
    c = p.choice(channels)
    return (h, w) if c is None else (h, w, c)


def image_2d_shapes() -> tuple:
    return tuple(s for s in IMAGE_SHAPES if len(s) == 2)


def canonical(border: str) -> str:
    b = border.lower()
    return BORDER_ALIASES.get(b, b)


def channels_of(img) -> int:
    return img.shape[2] if img.ndim == 3 else 1


def pick_border_value(p: Picker, img: np.ndarray):
    """A scalar or one value per channel, in or beyond the dtype's range (saturated)."""
    dt = img.dtype
    if dt == np.bool_:
        one = lambda: p.choice((0, 1))  # noqa: E731
    elif dt.kind == "f":
        one = lambda: round(p.real(-300.0, 300.0), 2)  # noqa: E731
    else:
        info = np.iinfo(dt)
        one = lambda: p.integer(int(info.min) - 5, int(info.max) + 5)  # noqa: E731
    if img.ndim == 3 and p.coin(0.4):
        return [one() for _ in range(img.shape[2])]
    return one()


# --------------------------------------------------------------------------------------------
# morphology
# --------------------------------------------------------------------------------------------

MORPH_BORDERS = ("default", *FILTER_BORDERS, *BORDER_ALIASES)
MORPH_OPS = ("erode", "dilate", "open", "close", "gradient", "tophat", "blackhat")
SE_SHAPES = ("rect", "ellipse", "cross")


def pick_morph_kernel(p: Picker):
    """(kernel argument, anchor argument): an int, a (rows, cols) pair, a structuring element
    or a random 0/1 mask (uint8, bool or float); the anchor (default the centre) is always a
    member of the kernel, so that erode <= image <= dilate holds."""
    kind = p.choice(("int", "pair", "se", "mask"))
    if kind == "int":
        k = p.choice((1, 2, 3, 5))
        kernel, (h, w) = k, (k, k)
    elif kind == "pair":
        h, w = p.integer(1, 4), p.integer(1, 7)
        kernel = (h, w)
    else:
        h, w = p.integer(1, 5), p.integer(1, 5)
        if kind == "se":
            mask = R.structuring_element(p.choice(SE_SHAPES), (h, w))
        else:
            mask = (p.rng().random((h, w)) < 0.5).astype(np.uint8)
        kernel = mask.astype(p.choice((np.uint8, np.bool_, np.float64)))
    anchor = None
    if p.coin(0.4):
        anchor = (p.integer(0, h - 1), p.integer(0, w - 1))
    if isinstance(kernel, np.ndarray):
        ay, ax = anchor if anchor is not None else (h // 2, w // 2)
        kernel[ay, ax] = 1
    return kernel, anchor


def morph_mask(kernel) -> np.ndarray:
    if isinstance(kernel, (int, np.integer)):
        return np.ones((kernel, kernel), np.uint8)
    if isinstance(kernel, tuple):
        return np.ones(kernel, np.uint8)
    return (np.asarray(kernel) != 0).astype(np.uint8)


def make_morph(op: str | None):
    def make(p: Picker, dtype: str, shape) -> Sample:
        img = p.image(shape, dtype)
        if img.dtype.kind == "f" and img.size > 2 and p.coin(0.15):  # NaN propagates
            img.flat[p.integer(0, img.size - 1)] = np.nan
        kernel, anchor = pick_morph_kernel(p)
        border = p.choice(MORPH_BORDERS)
        kw = dict(kernel=kernel, anchor=anchor, iterations=p.choice((0, 1, 1, 1, 2, 3)))
        kw["border"] = border
        if canonical(border) == "constant":
            kw["border_value"] = pick_border_value(p, img)
        if op is None:
            return Sample((img,), kw)
        return Sample((img, p.choice(MORPH_OPS)), kw)

    return make


def ref_morph(fn: str):
    def ref(s: Sample):
        img = s.args[0]
        kw = s.kwargs
        rest = (
            morph_mask(kw["kernel"]),
            (-1, -1) if kw.get("anchor") is None else kw["anchor"],
            kw.get("iterations", 1),
            canonical(kw.get("border", "default")),
            kw.get("border_value", 0),
        )
        if fn == "morphology":
            return R.morphology(img, s.args[1], *rest)
        return getattr(R, fn)(img, *rest)

    return ref


def anchor_morph(fn: str):
    """cv2.erode / cv2.dilate / cv2.morphologyEx with the same border (cv2 has no bool, no
    wrap, orders NaN by position, and reads a scalar border value v as (v, 0, 0, 0): one value
    per channel is passed)."""

    def anchor(s: Sample):
        import cv2

        img, kw = s.args[0], s.kwargs
        border = canonical(kw.get("border", "default"))
        if (
            img.dtype == np.bool_
            or np.isnan(img.astype(np.float64)).any()
            or border == "wrap"
            or kw.get("iterations", 1) < 1
        ):
            raise Skip("cv2 covers NaN-free, non-bool images, borders but wrap")
        mask = morph_mask(kw["kernel"])
        ay, ax = kw.get("anchor") or (-1, -1)
        extra = {"iterations": kw.get("iterations", 1)}
        if border != "default":
            extra["borderType"] = {
                "constant": cv2.BORDER_CONSTANT,
                "replicate": cv2.BORDER_REPLICATE,
                "reflect": cv2.BORDER_REFLECT,
                "reflect101": cv2.BORDER_REFLECT_101,
            }[border]
        if border == "constant":
            value = np.broadcast_to(np.asarray(kw.get("border_value", 0), np.float64), (4,))
            if img.ndim == 3:
                value = np.resize(np.asarray(kw.get("border_value", 0), np.float64), 4)
            extra["borderValue"] = tuple(float(v) for v in value)
        if fn == "morphology":
            op = getattr(cv2, "MORPH_" + s.args[1].upper())
            res = cv2.morphologyEx(img, op, mask, anchor=(ax, ay), **extra)
        else:
            res = getattr(cv2, fn)(img, mask, anchor=(ax, ay), **extra)
        return res.reshape(img.shape)

    return anchor


def morph_errors(fn: str):
    def errors(base: Sample) -> list[ErrorInput]:
        img = base.args[0]
        e = [
            E("not_array", base, TypeError, "kernel", kernel=object()),
            E("dtype", base, TypeError, "kernel", kernel=np.ones((3, 3), np.complex64)),
            E("rank", base, ValueError, "kernel must be 2-D", kernel=np.ones((3, 3, 1))),
            E("empty", base, ValueError, "kernel must not be empty", kernel=np.ones((0, 3))),
            E("empty", base, ValueError, "kernel must have at least one", kernel=np.zeros((3, 3))),
            E(
                "nonfinite",
                base,
                ValueError,
                "kernel must not contain NaN",
                kernel=np.array([[1.0, np.nan]]),
            ),
            E("size", base, ValueError, "kernel", kernel=0),
            E("size", base, ValueError, "kernel", kernel=(3, -1)),
            E("size", base, ValueError, "kernel", kernel=(1 << 16) + 1),
            E("size", base, ValueError, "kernel of .* too large", kernel=(1 << 14, 1 << 13)),
            E("size", base, TypeError, "kernel", kernel=2.5),
            E("size", base, ValueError, "iterations", kernel=3, iterations=-1),
            E("size", base, ValueError, "iterations", kernel=3, iterations=(1 << 16) + 1),
            E("size", base, ValueError, "iterations", kernel=(1 << 15, 3), iterations=1 << 10),
            E("size", base, TypeError, "iterations", iterations=1.5),
            E("size", base, ValueError, "anchor", kernel=3, anchor=(3, 0)),
            E("size", base, ValueError, "anchor", kernel=3, anchor=(0, -2)),
            E("option", base, ValueError, "border must be one of", border="bogus"),
            E("option", base, TypeError, "border must be a string", border=1),
            E(
                "nonfinite",
                base.replace(args=(img.astype(np.uint8), *base.args[1:])),
                ValueError,
                "border_value must not be NaN",
                border="constant",
                border_value=float("nan"),
            ),
            E(
                "shape_mismatch",
                base,
                ValueError,
                "border_value must be a scalar or",
                border="constant",
                border_value=[1, 2, 3, 4, 5],
            ),
            E("kernel_too_large", base, None, kernel=(2 * img.shape[0] + 3, 2 * img.shape[1] + 1)),
            E(
                "kernel_too_large",
                base,
                None,
                kernel=np.eye(img.shape[0] + 4, dtype=np.uint8),
                border="reflect101",
            ),
        ]
        if fn == "morphology":
            e += [
                E("option", base, ValueError, "op must be one of", args={1: "thin"}),
                E("option", base, TypeError, "op must be a string", args={1: 3}),
            ]
        return e

    return errors


def morph_entry(fn: str) -> OpInfo:
    return OpInfo(
        name=fn,
        func=getattr(foveal, fn),
        dtypes=IMAGE_DTYPES_BOOL,
        make=make_morph("x" if fn == "morphology" else None),
        shapes=IMAGE_SHAPES,
        draw_shape=draw_image_shape,
        ref=ref_morph(fn),
        check=check_exact,
        anchor=anchor_morph(fn),
        anchor_name="cv2",
        anchor_dtypes=IMAGE_DTYPES,
        errors=morph_errors(fn),
        out="array",
        variants=2,
    )


def make_structuring_element(p: Picker, dtype: str, shape) -> Sample:
    se = p.choice(SE_SHAPES)
    ksize = shape if p.coin(0.7) else shape[0]
    h, w = (ksize, ksize) if isinstance(ksize, int) else ksize
    anchor = None
    if p.coin(0.5):
        anchor = (p.integer(-1, h - 1), p.integer(-1, w - 1))
    return Sample((se, ksize), {} if anchor is None else {"anchor": anchor})


def ref_structuring_element(s: Sample):
    se, ksize = s.args
    h, w = (ksize, ksize) if isinstance(ksize, int) else ksize
    return R.structuring_element(se, (h, w), s.kwargs.get("anchor") or (-1, -1))


def anchor_structuring_element(s: Sample):
    import cv2

    se, ksize = s.args
    h, w = (ksize, ksize) if isinstance(ksize, int) else ksize
    ay, ax = s.kwargs.get("anchor") or (-1, -1)
    kind = {"rect": cv2.MORPH_RECT, "ellipse": cv2.MORPH_ELLIPSE, "cross": cv2.MORPH_CROSS}[se]
    return cv2.getStructuringElement(kind, (w, h), (ax, ay))


def structuring_element_errors(base: Sample) -> list[ErrorInput]:
    return [
        E("option", base, ValueError, "shape must be one of", args={0: "disk"}),
        E("option", base, TypeError, "shape must be a string", args={0: None}),
        E("empty", base, ValueError, "ksize", args={1: (0, 3)}),
        E("size", base, ValueError, "ksize", args={1: -2}),
        E("size", base, ValueError, "ksize", args={1: (3, (1 << 16) + 1)}),
        E("size", base, TypeError, "ksize", args={1: 2.0}),
        E("size", base, ValueError, "ksize", args={1: (1, 2, 3)}),
        E("size", base, ValueError, "anchor", args={1: 3}, anchor=(1, 3)),
    ]


STRUCTURING_ELEMENT = OpInfo(
    name="structuring_element",
    func=foveal.structuring_element,
    dtypes=("uint8",),  # the mask's dtype; the function takes no array
    make=make_structuring_element,
    shapes=((1, 1), (1, 5), (5, 1), (3, 3), (4, 7), (7, 4), (9, 9), (6, 6), (31, 33), (65, 64)),
    draw_shape=lambda p: (p.integer(1, 70), p.integer(1, 70)),
    ref=ref_structuring_element,
    check=check_exact,
    anchor=anchor_structuring_element,
    anchor_name="cv2",
    errors=structuring_element_errors,
    arrays={},
    ranks=None,
    na={
        "not_array": "takes no array",
        "dtype": "takes no array",
        "rank": "takes no array",
        "shape_mismatch": "one size argument",
        "kernel_too_large": "no image",
        "nonfinite": "integer arguments only",
        "out_readonly": "no out=",
        "out_alias": "no out=",
        "huge_count": "sizes are capped at 2**16 per side (size class)",
        "no_partial_write": "no out=",
    },
)


# --------------------------------------------------------------------------------------------
# linear filters and gradients
# --------------------------------------------------------------------------------------------
#
# Their reference gives a dict: the expected value, the unrounded float64 value (for the tie
# rule of integer outputs), the scale (the largest magnitude reached: max |image| times the
# sum of |kernel| plus |delta|) and the working dtype (float64 when the image or the output is
# float64, else float32).

CV2_BORDERS = ("replicate", "reflect", "reflect101")  # cv2 filters: no wrap; constant = 0


def pick_filter_border(p: Picker, img, kw: dict) -> None:
    border = p.choice((*FILTER_BORDERS, *BORDER_ALIASES))
    kw["border"] = border
    if canonical(border) == "constant" and p.coin(0.7):
        kw["border_value"] = pick_border_value(p, img)


def pick_out_dtype(p: Picker, kw: dict) -> None:
    if p.coin(0.4):
        kw["dtype"] = p.choice(IMAGE_DTYPES)


def pick_anchor(p: Picker, kh: int, kw_: int):
    return (p.integer(-1, kh - 1), p.integer(-1, kw_ - 1)) if p.coin(0.4) else None


def pick_real_kernel(p: Picker, shape) -> np.ndarray:
    if p.coin():
        k = p.rng().integers(-3, 4, shape).astype(np.float64)
        if not k.any():
            k.flat[0] = 1
        return k.astype(p.choice((np.float64, np.int32, np.float32)))
    return p.normal(shape, np.float64)


def _border_args(s: Sample) -> tuple[str, Any]:
    return canonical(s.kwargs.get("border", "reflect101")), s.kwargs.get("border_value", 0)


def _saturated_max(img, border, value) -> float:
    """max |image| and |border value| (saturated to the dtype, as the border is)."""
    m = _amax(img)
    if border == "constant":
        m = max(m, _amax(R.filters.cast(value, img.dtype)))
    return m


def filter_spec(value, unrounded, scale, img, out_dtype) -> dict:
    return {
        "value": value,
        "unrounded": unrounded,
        "scale": scale,
        "working": working_dtype(img.dtype, out_dtype),
    }


def check_filter(got, spec: dict, s: Sample) -> None:
    got = to_numpy(got)
    atol = tolerance(spec["working"], spec["scale"])
    assert_rule(got, spec["value"], atol=atol, unrounded=spec["unrounded"], err_msg=s.desc)


def _cv2_filter_ok(s: Sample, floats_only: bool = True) -> str:
    img = s.args[0]
    border, value = _border_args(s)
    if border == "wrap" or (border == "constant" and np.any(np.asarray(value) != 0)):
        raise Skip("cv2's filters have no wrap and a zero constant border")
    if floats_only and (img.dtype.kind != "f" or s.kwargs.get("dtype") is not None):
        raise Skip("cv2's fixed-point integer paths round differently")
    import cv2

    return {
        "constant": cv2.BORDER_CONSTANT,
        "replicate": cv2.BORDER_REPLICATE,
        "reflect": cv2.BORDER_REFLECT,
        "reflect101": cv2.BORDER_REFLECT_101,
    }[border]


def as_cv2_anchor(spec: dict, value) -> dict:
    """cv2's result, compared within twice the tolerance (it rounds in its own order)."""
    return {**spec, "value": value.reshape(spec["value"].shape), "scale": 2 * spec["scale"]}


# filter2d


def make_filter2d(p: Picker, dtype: str, shape) -> Sample:
    img = p.image(shape, dtype)
    kshape = (p.integer(1, 5), p.integer(1, 5))
    kernel = pick_real_kernel(p, kshape)
    kw: dict = {"anchor": pick_anchor(p, *kshape)}
    if p.coin(0.3):
        kw["delta"] = round(p.real(-50, 50), 3)
    pick_filter_border(p, img, kw)
    pick_out_dtype(p, kw)
    return Sample((img, kernel), kw)


def ref_filter2d(s: Sample) -> dict:
    img, kernel = s.args
    kw = s.kwargs
    border, value = _border_args(s)
    delta = kw.get("delta", 0.0)
    expected = R.filter2d(img, kernel, kw.get("anchor"), delta, border, value, kw.get("dtype"))
    unrounded = R.filters.correlate(img, kernel, kw.get("anchor"), border, value) + delta
    k1 = float(np.abs(np.asarray(kernel, np.float64)).sum())
    scale = _saturated_max(img, border, value) * k1 + abs(delta)
    return filter_spec(expected, unrounded, scale, img, expected.dtype)


def anchor_filter2d(s: Sample) -> dict:
    import cv2

    b = _cv2_filter_ok(s)
    img, kernel = s.args
    kh, kw_ = kernel.shape
    ay, ax = s.kwargs.get("anchor") or (-1, -1)
    ax = ax if ax >= 0 else kw_ // 2
    ay = ay if ay >= 0 else kh // 2
    res = cv2.filter2D(
        img,
        -1,
        np.asarray(kernel, np.float64),
        anchor=(ax, ay),
        delta=s.kwargs.get("delta", 0.0),
        borderType=b,
    )
    return as_cv2_anchor(ref_filter2d(s), res)


def filter_common_errors(base: Sample, *, anchor_kernel: dict) -> list[ErrorInput]:
    """The errors every filter with border, border_value, dtype and anchor shares."""
    img = base.args[0]
    return [
        E("option", base, ValueError, "border must be one of", border="bogus"),
        E("option", base, ValueError, "border must be one of", border="default"),
        E("option", base, TypeError, "border must be a string", border=None),
        E(
            "nonfinite",
            base.with_arg(0, img.astype(np.uint8)),
            ValueError,
            "border_value must not be NaN",
            border="constant",
            border_value=np.nan,
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "border_value must be a scalar or",
            border="constant",
            border_value=[1.0, 2.0, 3.0, 4.0, 5.0],
        ),
        E("option", base, TypeError, "dtype", dtype="bogus"),
        E("dtype", base, TypeError, "dtype int32 is not supported", dtype=np.int32),
        E("size", base, ValueError, "anchor", anchor=(0, 99), **anchor_kernel),
        E("size", base, ValueError, "anchor", anchor=(-3, 0), **anchor_kernel),
    ]


def filter2d_errors(base: Sample) -> list[ErrorInput]:
    img = base.args[0]
    huge = np.broadcast_to(np.ones(1), (1100, 1000))  # 1.1M taps, no memory
    return [
        *filter_common_errors(base, anchor_kernel={"args": {1: np.ones((3, 3))}}),
        E("not_array", base, TypeError, "kernel", args={1: object()}),
        E("dtype", base, TypeError, "kernel must be a real array", args={1: np.ones((3, 3), "c8")}),
        E("rank", base, ValueError, "kernel must be 2-D", args={1: np.ones(3)}),
        E("empty", base, ValueError, "kernel must not be empty", args={1: np.ones((3, 0))}),
        E("nonfinite", base, ValueError, "kernel must be finite", args={1: np.array([[np.inf]])}),
        E("size", base, ValueError, "kernel of shape .* too large", args={1: huge}),
        E("nonfinite", base, ValueError, "delta must be finite", delta=np.nan),
        E("nonfinite", base, ValueError, "delta must be finite", delta=-np.inf),
        E(
            "kernel_too_large",
            base,
            None,
            args={
                1: np.arange(
                    (2 * img.shape[0] + 3) * (2 * img.shape[1] + 1), dtype=np.float64
                ).reshape(2 * img.shape[0] + 3, -1)
                % 7
                - 3
            },
        ),
    ]


def filter_entry(name, make, ref, anchor, errors, **extra) -> OpInfo:
    if name not in ("sobel", "scharr"):  # cv2's integer filters round by other rules
        extra.setdefault("anchor_dtypes", FLOAT_DTYPES)
    return OpInfo(
        name=name,
        func=getattr(foveal, name),
        dtypes=IMAGE_DTYPES,
        make=make,
        shapes=IMAGE_SHAPES,
        draw_shape=draw_image_shape,
        ref=ref,
        check=check_filter,
        anchor=anchor,
        anchor_name="cv2",
        errors=errors,
        out="array",
        **extra,
    )


# sep_filter2d


def _row_kernel(p: Picker):
    k = pick_real_kernel(p, (p.integer(1, 5),))
    form = p.choice(("1d", "row", "col", "list"))
    if form == "row":
        return k[None, :]
    if form == "col":
        return k[:, None]
    return k.tolist() if form == "list" else k


def make_sep_filter2d(p: Picker, dtype: str, shape) -> Sample:
    img = p.image(shape, dtype)
    kx, ky = _row_kernel(p), _row_kernel(p)
    kw: dict = {"anchor": pick_anchor(p, np.size(ky), np.size(kx))}
    if p.coin(0.3):
        kw["delta"] = round(p.real(-50, 50), 3)
    pick_filter_border(p, img, kw)
    pick_out_dtype(p, kw)
    return Sample((img, kx, ky), kw)


def ref_sep_filter2d(s: Sample) -> dict:
    img, kx, ky = s.args
    kw = s.kwargs
    border, value = _border_args(s)
    delta = kw.get("delta", 0.0)
    anchor = kw.get("anchor")
    expected = R.sep_filter2d(img, kx, ky, anchor, delta, border, value, kw.get("dtype"))
    unrounded = R.filters.correlate_separable(img, kx, ky, anchor, border, value) + delta
    l1 = float(np.abs(np.asarray(kx, np.float64)).sum() * np.abs(np.asarray(ky, np.float64)).sum())
    scale = _saturated_max(img, border, value) * l1 + abs(delta)
    return filter_spec(expected, unrounded, scale, img, expected.dtype)


def anchor_sep_filter2d(s: Sample) -> dict:
    import cv2

    b = _cv2_filter_ok(s)
    img, kx, ky = s.args
    kx, ky = (np.asarray(k, np.float64).ravel() for k in (kx, ky))
    ay, ax = s.kwargs.get("anchor") or (-1, -1)
    ax = ax if ax >= 0 else kx.size // 2
    ay = ay if ay >= 0 else ky.size // 2
    res = cv2.sepFilter2D(
        img, -1, kx, ky, anchor=(ax, ay), delta=s.kwargs.get("delta", 0.0), borderType=b
    )
    return as_cv2_anchor(ref_sep_filter2d(s), res)


def sep_filter2d_errors(base: Sample) -> list[ErrorInput]:
    return [
        *filter_common_errors(base, anchor_kernel={"args": {1: np.ones(3), 2: np.ones(3)}}),
        E("not_array", base, TypeError, "kernel_x", args={1: object()}),
        E("not_array", base, TypeError, "kernel_y", args={2: None}),
        E("dtype", base, TypeError, "kernel_y must be a real array", args={2: ["a", "b"]}),
        E("rank", base, ValueError, "kernel_x must be 1-D", args={1: np.ones((2, 2))}),
        E("empty", base, ValueError, "kernel_y must not be empty", args={2: np.ones(0)}),
        E("nonfinite", base, ValueError, "kernel_x must be finite", args={1: [1.0, np.nan]}),
        E(
            "size",
            base,
            ValueError,
            "kernel_x of shape .* too large",
            args={1: np.broadcast_to(np.ones(1), ((1 << 16) + 1,))},
        ),
        E("nonfinite", base, ValueError, "delta must be finite", delta=np.inf),
        E(
            "kernel_too_large",
            base,
            None,
            args={
                1: np.linspace(-1, 1, 3 * base.args[0].shape[1]),
                2: np.ones(2 * base.args[0].shape[0] + 1),
            },
        ),
    ]


# box_filter


def make_box_filter(p: Picker, dtype: str, shape) -> Sample:
    img = p.image(shape, dtype)
    kh, kw_ = p.integer(1, 7), p.integer(1, 7)
    ksize = (kh, kw_) if kh != kw_ or p.coin() else kh
    kw: dict = {"anchor": pick_anchor(p, kh, kw_), "normalize": p.coin(0.7)}
    pick_filter_border(p, img, kw)
    pick_out_dtype(p, kw)
    return Sample((img, ksize), kw)


def ref_box_filter(s: Sample) -> dict:
    img, ksize = s.args
    kw = s.kwargs
    border, value = _border_args(s)
    kh, kw_ = R.filters.as_size(ksize)
    anchor, normalize = kw.get("anchor"), kw.get("normalize", True)
    expected = R.box_filter(img, ksize, normalize, anchor, border, value, kw.get("dtype"))
    unrounded = R.filters.correlate_separable(img, np.ones(kw_), np.ones(kh), anchor, border, value)
    if normalize:
        unrounded = unrounded / (kh * kw_)
    scale = _saturated_max(img, border, value) * (1 if normalize else kh * kw_)
    return filter_spec(expected, unrounded, scale, img, expected.dtype)


def anchor_box_filter(s: Sample) -> dict:
    import cv2

    b = _cv2_filter_ok(s)
    img, ksize = s.args
    kh, kw_ = R.filters.as_size(ksize)
    ay, ax = s.kwargs.get("anchor") or (-1, -1)
    res = cv2.boxFilter(
        img,
        -1,
        (kw_, kh),
        anchor=(ax, ay),
        normalize=s.kwargs.get("normalize", True),
        borderType=b,
    )
    return as_cv2_anchor(ref_box_filter(s), res)


def box_filter_errors(base: Sample) -> list[ErrorInput]:
    return [
        *filter_common_errors(base, anchor_kernel={"args": {1: 3}}),
        E("size", base, ValueError, "ksize", args={1: 0}),
        E("size", base, ValueError, "ksize", args={1: (3, -3)}),
        E("size", base, ValueError, "ksize", args={1: (1 << 16) + 1}),
        E("size", base, TypeError, "ksize", args={1: 2.5}),
        E("option", base, TypeError, "normalize must be a bool", normalize="yes"),
        E(
            "kernel_too_large",
            base,
            None,
            args={1: (2 * base.args[0].shape[0] + 1, 3 * base.args[0].shape[1])},
        ),
    ]


# gaussian_blur


def make_gaussian_blur(p: Picker, dtype: str, shape) -> Sample:
    img = p.image(shape, dtype)
    kind = p.choice(("odd", "pair", "from_sigma"))
    sigma = round(p.real(0.3, 3.0), 3) if p.coin(0.6) else 0.0
    if kind == "from_sigma":
        ksize = 0
        sigma = sigma or 1.1
    elif kind == "pair":
        ksize = (p.choice((1, 3, 5, 7, 9)), p.choice((0, 1, 3, 5, 11)))
        if ksize[1] == 0:
            sigma = sigma or 0.8
    else:
        ksize = p.choice((1, 3, 5, 7, 9, 13))
    kw: dict = {}
    if p.coin(0.3):
        kw["sigma_y"] = p.choice((None, 0.0, round(p.real(0.3, 2.5), 3)))
    pick_filter_border(p, img, kw)
    return Sample((img, ksize, sigma), kw)


def ref_gaussian_blur(s: Sample) -> dict:
    img, ksize, sigma = s.args
    sigma_y = s.kwargs.get("sigma_y")
    border, value = _border_args(s)
    expected = R.gaussian_blur(img, ksize, sigma, sigma_y, border, value)
    # the reference's kernels, unrounded (as R.gaussian_blur builds them)
    kh, kw_ = R.filters.as_size(ksize)
    sy = sigma if sigma_y is None or sigma_y <= 0 else sigma_y
    kw_ = kw_ if kw_ > 0 else R.filters.gaussian_ksize(sigma, img.dtype)
    kh = kh if kh > 0 else R.filters.gaussian_ksize(sy, img.dtype)
    kx, ky = R.gaussian_kernel(kw_, max(sigma, 0.0)), R.gaussian_kernel(kh, max(sy, 0.0))
    unrounded = R.filters.correlate_separable(img, kx, ky, None, border, value)
    return filter_spec(expected, unrounded, _saturated_max(img, border, value), img, img.dtype)


def anchor_gaussian_blur(s: Sample) -> dict:
    import cv2

    b = _cv2_filter_ok(s)
    img, ksize, sigma = s.args
    kh, kw_ = R.filters.as_size(ksize)
    sy = s.kwargs.get("sigma_y") or 0.0
    res = cv2.GaussianBlur(img, (kw_, kh), sigma, sigmaY=sy, borderType=b)
    return as_cv2_anchor(ref_gaussian_blur(s), res)


def gaussian_blur_errors(base: Sample) -> list[ErrorInput]:
    c = [
        e
        for e in filter_common_errors(base, anchor_kernel={})
        if "dtype" not in e.match and "anchor" not in e.match
    ]
    return [
        *c,
        E("size", base, ValueError, "ksize must be odd", args={1: 4}),
        E("size", base, ValueError, "ksize", args={1: -3}),
        E("size", base, ValueError, "ksize", args={1: (1 << 16) + 3}),
        E("size", base, ValueError, "ksize 0 needs sigma", args={1: 0, 2: 0.0}),
        E("size", base, ValueError, "sigma must be at most", args={1: 0, 2: 1e9}),
        E("nonfinite", base, ValueError, "sigma must be finite", args={2: np.nan}),
        E("nonfinite", base, ValueError, "sigma_y must be finite", sigma_y=np.inf),
        E("size", base, TypeError, "sigma must be a number", args={2: "1"}),
        E("kernel_too_large", base, None, args={1: 2 * max(base.args[0].shape[:2]) + 7, 2: 0.0}),
    ]


# sobel and scharr

SOBEL_CASES = [
    (dx, dy, k)
    for k in (1, 3, 5, 7)
    for dx in range(3 if k == 1 else k)
    for dy in range(3 if k == 1 else k)
    if dx + dy > 0
]
SOBEL_CASES += [(1, 0, -1), (0, 1, -1)]


def make_sobel(p: Picker, dtype: str, shape, scharr: bool = False) -> Sample:
    img = p.image(shape, dtype)
    dx, dy, ksize = p.choice(SOBEL_CASES[-2:] if scharr else SOBEL_CASES)
    kw: dict = {} if scharr else {"ksize": ksize}
    if p.coin(0.3):
        kw["scale"] = round(p.real(-2, 2), 3)
    if p.coin(0.3):
        kw["delta"] = round(p.real(-50, 50), 3)
    pick_filter_border(p, img, kw)
    pick_out_dtype(p, kw)
    return Sample((img, dx, dy), kw)


def ref_sobel(s: Sample) -> dict:
    img, dx, dy = s.args
    return _sobel_spec(img, dx, dy, s.kwargs.get("ksize", 3), s.kwargs)


def ref_scharr(s: Sample) -> dict:
    img, dx, dy = s.args
    return _sobel_spec(img, dx, dy, -1, s.kwargs)


def _sobel_spec(img, dx, dy, ksize, kw) -> dict:
    border, value = canonical(kw.get("border", "reflect101")), kw.get("border_value", 0)
    scale, delta = kw.get("scale", 1.0), kw.get("delta", 0.0)
    expected = R.sobel(img, dx, dy, ksize, scale, delta, border, value, kw.get("dtype"))
    kx, ky = R.deriv_kernels(dx, dy, ksize)
    unrounded = R.filters.correlate_separable(img, kx, ky, None, border, value) * scale + delta
    l1 = float(np.abs(kx).sum() * np.abs(ky).sum())
    s = _saturated_max(img, border, value) * l1 * abs(scale) + abs(delta)
    return filter_spec(expected, unrounded, s, img, expected.dtype)


def anchor_sobel(s: Sample, ksize=None) -> dict:
    import cv2

    b = _cv2_filter_ok(s, floats_only=False)
    img, dx, dy = s.args
    kw = s.kwargs
    if kw.get("dtype") is not None:
        raise Skip("cv2's integer ddepth paths are covered by test_gradients")
    ksize = kw.get("ksize", 3) if ksize is None else ksize
    ddepth = cv2.CV_64F if img.dtype == np.float64 else cv2.CV_32F
    res = cv2.Sobel(
        img,
        ddepth,
        dx,
        dy,
        ksize=ksize,
        scale=kw.get("scale", 1.0),
        delta=kw.get("delta", 0.0),
        borderType=b,
    )
    return as_cv2_anchor(_sobel_spec(img, dx, dy, ksize, kw), res)


def sobel_errors(base: Sample) -> list[ErrorInput]:
    return [
        *[e for e in filter_common_errors(base, anchor_kernel={}) if "anchor" not in e.match],
        E("size", base, ValueError, "ksize must be 1, 3, 5, 7", ksize=4),
        E("size", base, ValueError, "ksize must be 1, 3, 5, 7", ksize=9),
        E("size", base, ValueError, "dx \\+ dy must be > 0", args={1: 0, 2: 0}),
        E("size", base, ValueError, "dx", args={1: -1}),
        E("size", base, ValueError, "dy=3 is too high", args={1: 0, 2: 3}, ksize=3),
        E("size", base, ValueError, "Scharr", args={1: 1, 2: 1}, ksize=-1),
        E("size", base, TypeError, "dx", args={1: 1.0}),
        E("nonfinite", base, ValueError, "scale must be finite", scale=np.nan),
        E("nonfinite", base, ValueError, "delta must be finite", delta=np.inf),
        tiny_image(base, ksize=7),
    ]


def tiny_image(base: Sample, **kwargs) -> ErrorInput:
    """A 2x2 image under a larger fixed kernel: the reference's answer."""
    img = base.args[0]
    return E("kernel_too_large", base, None, args={0: img.reshape(-1)[:4].reshape(2, 2)}, **kwargs)


def scharr_errors(base: Sample) -> list[ErrorInput]:
    return [
        *[e for e in filter_common_errors(base, anchor_kernel={}) if "anchor" not in e.match],
        E("size", base, ValueError, "Scharr", args={1: 1, 2: 1}),
        E("size", base, ValueError, "dx \\+ dy must be > 0", args={1: 0, 2: 0}),
        E("nonfinite", base, ValueError, "scale must be finite", scale=-np.inf),
        tiny_image(base),
    ]


# gradient


def make_gradient(p: Picker, dtype: str, shape) -> Sample:
    img = p.image(shape, dtype)
    kw: dict = {"ksize": p.choice((-1, 1, 3, 5, 7)), "angle_in_degrees": p.coin()}
    pick_filter_border(p, img, kw)
    return Sample((img,), kw)


def ref_gradient(s: Sample) -> dict:
    img, kw = s.args[0], s.kwargs
    border, value = _border_args(s)
    ksize = kw.get("ksize", 3)
    mag, ang = R.gradient(img, ksize, kw.get("angle_in_degrees", False), border, value)
    kx, _ = R.deriv_kernels(1, 0, ksize)
    ky, _ = R.deriv_kernels(0, 1, ksize)
    l1 = float(np.abs(kx).sum() * np.abs(ky).sum())
    return {
        "value": (mag, ang),
        "scale": _saturated_max(img, border, value) * l1,
        "working": working_dtype(img.dtype),
        "degrees": kw.get("angle_in_degrees", False),
    }


def check_gradient(got, spec: dict, s: Sample) -> None:
    """The magnitude within the tolerance of the derivatives' scale; the angle where the
    gradient is determined (magnitude > 4 atol) within atol / magnitude rad (the derivatives'
    error turned into an angle) plus 1e-5 rad (atan2 in float32) and one unit of rounding,
    modulo the full turn."""
    mag, ang = to_numpy(got)
    emag, eang = spec["value"]
    atol = tolerance(spec["working"], spec["scale"])
    assert_close(mag, emag, 2 * atol, f"{s.desc} magnitude")
    assert ang.dtype == eang.dtype and ang.shape == eang.shape, s.desc
    unit = 180 / np.pi if spec["degrees"] else 1.0
    full = 360.0 if spec["degrees"] else 2 * np.pi
    m = emag.astype(np.float64)
    determined = m > 4 * atol
    d = np.abs(ang.astype(np.float64) - eang.astype(np.float64)) % full
    d = np.minimum(d, full - d)
    tol = (2 * atol / np.maximum(m, 1e-300) + 1e-5) * unit + np.finfo(eang.dtype).eps * full
    bad = determined & ~(d <= tol)
    assert not bad.any(), f"{s.desc} angle: {int(bad.sum())} off, max {float(d[bad].max())}"
    assert ((ang >= 0) & (ang < full)).all(), f"{s.desc}: angle outside [0, full turn)"


def gradient_errors(base: Sample) -> list[ErrorInput]:
    img = base.args[0]
    shape, dt = img.shape, np.float64 if img.dtype == np.float64 else np.float32
    return [
        *[
            e
            for e in filter_common_errors(base, anchor_kernel={})
            if "anchor" not in e.match and "dtype" not in e.match
        ],
        E("size", base, ValueError, "ksize must be 1, 3, 5, 7", ksize=2),
        E("option", base, TypeError, "angle_in_degrees must be a bool", angle_in_degrees="deg"),
        E(
            "shape_mismatch",
            base,
            TypeError,
            "out must be a .magnitude, angle. pair",
            out=np.empty(shape, dt),
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "out\\[1\\]|out must have shape",
            out=(np.empty(shape, dt), np.empty((1, 1), dt)),
        ),
        E(
            "dtype",
            base,
            TypeError,
            "out must have dtype",
            out=(np.empty(shape, np.int16), np.empty(shape, dt)),
        ),
        tiny_image(base, ksize=7),
    ]


# canny


def make_canny(p: Picker, dtype: str, shape) -> Sample:
    img = p.image(shape, "uint8")
    if p.coin(0.6):  # smoothed: edges with structure rather than noise everywhere
        img = R.gaussian_blur(img, 5, 0.0, None, "reflect101")
    ksize = p.choice((3, 5, 7))
    top = {3: 400, 5: 3000, 7: 30000}[ksize]
    low, high = sorted((round(p.real(0, top), 1), round(p.real(0, top), 1)))
    if p.coin(0.2):
        low, high = high, low  # swapped thresholds are swapped back
    return Sample((img, low, high), {"ksize": ksize, "l2gradient": p.coin()})


def canny_errors(base: Sample) -> list[ErrorInput]:
    return [
        E("nonfinite", base, ValueError, "low must be finite", args={1: np.nan}),
        E("nonfinite", base, ValueError, "high must be finite", args={2: np.inf}),
        E("size", base, ValueError, "ksize must be 3, 5 or 7", ksize=1),
        E("size", base, TypeError, "ksize", ksize=3.0),
        E("option", base, TypeError, "l2gradient must be a bool", l2gradient=1),
        E("size", base, TypeError, "low must be a number", args={1: "10"}),
        tiny_image(base, ksize=7),
    ]


def anchor_canny(s: Sample):
    import cv2

    img, low, high = s.args
    return cv2.Canny(
        img, low, high, apertureSize=s.kwargs["ksize"], L2gradient=s.kwargs["l2gradient"]
    )


# --------------------------------------------------------------------------------------------
# corners
# --------------------------------------------------------------------------------------------

CORNER_SHAPES = (
    (1, 1),
    (1, 33),
    (33, 1),
    (5, 31),
    (4, 32),
    (3, 33),
    (6, 63),
    (9, 65),
    (17, 16, 1),
    (24, 29),
)
BLOCK_KSIZES = ((1, 3), (2, 3), (3, 3), (2, 1), (3, 5), (2, -1), (4, 7), (5, 3))


def smooth_image(p: Picker, shape, dtype) -> np.ndarray:
    """Noise blurred a few times (corners of many strengths, few exact ties), in ``dtype``."""
    x = p.image(shape, "uint8").astype(np.float64)
    for _ in range(3):
        x = (x + np.roll(x, 1, 0) + np.roll(x, 1, 1) + np.roll(x, -1, 1)) / 4
    return ((x - x.min()) * (255 / max(float(np.ptp(x)), 1.0))).astype(dtype)


def make_response(harris: bool):
    def make(p: Picker, dtype: str, shape) -> Sample:
        img = smooth_image(p, shape, dtype) if p.coin() else p.image(shape, dtype)
        block, ksize = p.choice(BLOCK_KSIZES)
        kw = {"border": p.choice((*FILTER_BORDERS, *BORDER_ALIASES))}
        if harris:
            return Sample((img, block, ksize, round(p.real(-0.05, 0.2), 3)), kw)
        return Sample((img, block, ksize), kw)

    return make


def _response_scales(img, block, ksize, border) -> tuple[float, float]:
    """The tolerance scales of the Harris and min-eigenvalue responses (test_corners's rule):
    max (a + c)^2 and max (a + c), at least what derivatives off by 1e-6 of their largest
    possible value give."""
    r0 = R.harris(img, block, ksize, 0.0, border).astype(np.float64)
    r1 = R.harris(img, block, ksize, 1.0, border).astype(np.float64)
    s = float(np.abs(r0 - r1).max())
    k = ksize if ksize > 0 else 3
    norm = 2.0 ** (k - 1) * block * (2 if ksize < 0 else 1) * (255 if img.dtype == np.uint8 else 1)
    l1 = 32.0 if ksize < 0 else 2.0 if ksize == 1 else 4.0 ** (k - 1)
    g = _amax(img) * l1 / norm
    floor = 2 * block**2 * (1e-6 * g) ** 2 / tolerance(working_dtype(img.dtype), 1.0)
    return max(s, floor**2), max(float(np.sqrt(s)), floor)


def make_ref_response(harris: bool):
    def ref(s: Sample) -> dict:
        img, block, ksize = s.args[:3]
        border = canonical(s.kwargs.get("border", "reflect101"))
        img2 = img.reshape(img.shape[:2])
        if harris:
            value = R.harris(img2, block, ksize, s.args[3], border)
        else:
            value = R.min_eigen(img2, block, ksize, border)
        sh, sm = _response_scales(img2, block, ksize, border)
        return {
            "value": value.reshape(img.shape),
            "scale": sh if harris else sm,
            "working": working_dtype(img.dtype),
        }

    return ref


def anchor_response(harris: bool):
    """cv2.cornerHarris / cv2.cornerMinEigenVal (uint8 and float32, cv2's borders), within
    twice the tolerance (test_corners's rule)."""

    def anchor(s: Sample) -> dict:
        import cv2

        img, block, ksize = s.args[:3]
        border = canonical(s.kwargs.get("border", "reflect101"))
        if img.dtype not in (np.uint8, np.float32) or border == "wrap":
            raise Skip("cv2 takes uint8 and float32 and has no wrap border")
        if harris and block % 2 == 0 and ksize in (3, 5) and border in ("replicate", "constant"):
            raise Skip("cv2 hands these to IPP, whose window anchor differs (test_corners)")
        b = {
            "constant": cv2.BORDER_CONSTANT,
            "replicate": cv2.BORDER_REPLICATE,
            "reflect": cv2.BORDER_REFLECT,
            "reflect101": cv2.BORDER_REFLECT_101,
        }[border]
        img2 = np.ascontiguousarray(img.reshape(img.shape[:2]))
        if harris:
            res = cv2.cornerHarris(img2, block, ksize, s.args[3], borderType=b)
        else:
            res = cv2.cornerMinEigenVal(img2, block, ksize=ksize, borderType=b)
        spec = make_ref_response(harris)(s)
        return {**spec, "value": res.reshape(img.shape), "scale": 2 * spec["scale"]}

    return anchor


def check_response(got, spec: dict, s: Sample) -> None:
    atol = tolerance(spec["working"], 1.0) * spec["scale"]
    assert_close(to_numpy(got), spec["value"], atol, s.desc)


def response_errors(harris: bool):
    def errors(base: Sample) -> list[ErrorInput]:
        img = base.args[0]
        three = np.repeat(img.reshape(img.shape[0], img.shape[1], 1), 3, axis=2)
        e = [
            E("size", base, ValueError, "block_size", args={1: 0}),
            E("size", base, ValueError, "block_size", args={1: (1 << 16) + 1}),
            E("size", base, TypeError, "block_size", args={1: 2.0}),
            E("size", base, ValueError, "ksize must be 1, 3, 5, 7", args={2: 2}),
            E("option", base, ValueError, "border must be one of", border="default"),
            E("rank", base, ValueError, "image must have one channel", args={0: three}),
            E("kernel_too_large", base, None, args={1: 2 * max(img.shape[:2]) + 3}),
        ]
        if harris:
            e.append(E("nonfinite", base, ValueError, "k must be finite", args={3: np.nan}))
        return e

    return errors


def response_entry(name: str) -> OpInfo:
    harris = name == "harris"
    return OpInfo(
        name=name,
        func=getattr(foveal, name),
        dtypes=IMAGE_DTYPES,
        make=make_response(harris),
        shapes=CORNER_SHAPES,
        draw_shape=lambda p: draw_image_shape(p, (None, None, 1)),
        ref=make_ref_response(harris),
        check=check_response,
        anchor=anchor_response(harris),
        anchor_name="cv2",
        anchor_dtypes=("uint8", "float32"),
        errors=response_errors(harris),
        out="array",
        na={"nonfinite": "no real parameter"} if not harris else {},
    )


def make_corners(p: Picker, dtype: str, shape) -> Sample:
    img = smooth_image(p, shape, dtype) if p.coin(0.7) else p.image(shape, dtype)
    block, ksize = p.choice(BLOCK_KSIZES)
    kw: dict = {"block_size": block, "ksize": ksize}
    if p.coin(0.4):
        kw["method"] = "harris"
        kw["k"] = round(p.real(0.0, 0.15), 3)
    if p.coin(0.3):
        kw["mask"] = p.binary(shape[:2]).astype(p.choice((np.uint8, np.bool_, np.int32)))
    args = (
        img,
        p.choice((0, 1, 5, 25)),
        p.choice((0.01, 0.05, 0.3)),
        p.choice((0, 0.5, 1, 2.5, 5)),
    )
    return Sample(args, kw)


def ref_corners(s: Sample):
    img, n, q, md = s.args
    img = img.reshape(img.shape[:2])
    kw = s.kwargs
    return R.corners(
        img,
        n,
        q,
        md,
        kw["block_size"],
        kw["ksize"],
        kw.get("method", "shi-tomasi"),
        kw.get("k", 0.04),
        kw.get("mask"),
    )


def check_corners(got, expected, s: Sample) -> None:
    """The response within the harris / min_eigen tolerance of the reference's; the points
    exactly those the reference's selection (threshold, 3x3 maxima, order, min_distance) picks
    from foveal's own response. (Against the reference's corners themselves no exact rule
    holds: its float32 responses round differently in the last bits, which reorders equal
    corners and changes which neighbours they suppress.)"""
    import importlib
    from unittest import mock

    rc = importlib.import_module("foveal.reference.corners")  # the module, not the function

    got = to_numpy(got)
    img, n, q, md = s.args
    kw = s.kwargs
    img2 = img.reshape(img.shape[:2])
    harris = kw.get("method") == "harris"
    k = kw.get("k", 0.04)
    if harris:
        resp = foveal.harris(img2, kw["block_size"], kw["ksize"], k)
    else:
        resp = foveal.min_eigen(img2, kw["block_size"], kw["ksize"])
    args = (img2, kw["block_size"], kw["ksize"]) + ((k,) if harris else ())
    check_response(resp, make_ref_response(harris)(Sample(args)), s)
    own = lambda *a, **k_: np.asarray(resp)  # noqa: E731
    with mock.patch.multiple(rc, _cv_response=own, harris=own, min_eigen=own):
        assert_exact(got, ref_corners(s), s.desc)


def corners_errors(base: Sample) -> list[ErrorInput]:
    img = base.args[0]
    return [
        E("option", base, ValueError, "method must be one of", method="fast"),
        E("option", base, TypeError, "method must be a string", method=1),
        E("size", base, TypeError, "max_corners", args={1: 2.5}),
        E("size", base, ValueError, "quality_level must be > 0", args={2: 0.0}),
        E("size", base, ValueError, "quality_level must be finite and >= 0", args={2: -0.1}),
        E("nonfinite", base, ValueError, "quality_level must be finite", args={2: np.nan}),
        E("size", base, ValueError, "min_distance", args={3: -1}),
        E("nonfinite", base, ValueError, "min_distance must be finite", args={3: np.inf}),
        E("size", base, ValueError, "block_size", block_size=0),
        E("size", base, ValueError, "ksize", ksize=4),
        E("nonfinite", base, ValueError, "k must be finite", k=np.nan),
        E("not_array", base, TypeError, "mask", mask=object()),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "mask must have shape",
            mask=np.ones((img.shape[0] + 1, img.shape[1]), np.uint8),
        ),
        E(
            "dtype",
            base,
            TypeError,
            "mask must be an integer or bool",
            mask=np.ones(img.shape[:2], np.float32),
        ),
        E(
            "rank",
            base,
            ValueError,
            "image must have one channel",
            args={0: np.stack([img] * 3, axis=2)},
        ),
        E("kernel_too_large", base, None, block_size=2 * max(img.shape[:2]) + 1),
    ]


CORNERS = OpInfo(
    name="corners",
    func=foveal.corners,
    dtypes=IMAGE_DTYPES,
    make=make_corners,
    shapes=CORNER_SHAPES,
    draw_shape=lambda p: (p.integer(1, 40), p.integer(1, 70)),
    ref=ref_corners,
    check=check_corners,
    errors=corners_errors,
    na={
        "out_readonly": "returns a new (N, 2) array: no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    },
)


# --------------------------------------------------------------------------------------------
# frequency domain
# --------------------------------------------------------------------------------------------


def _fft_rtol(img) -> float:
    return 1e-12 if img.dtype == np.float64 else 1e-5


def _fft_eps(img) -> float:
    return float(np.finfo(np.float64 if img.dtype == np.float64 else np.float32).eps)


def ref_spectrum(s: Sample) -> dict:
    """test_frequency's tolerance: the output's rounding, rtol of the largest value, and the
    FFT's error eps log2(N) ||x||_2 through log1p (divided by 1 + |F|)."""
    img = s.args[0]
    v = R.spectrum(img)
    n = img.shape[0] * img.shape[1]
    x = img.astype(np.float64).reshape(n, -1)
    norm2 = float(np.sqrt((x * x).sum(axis=0)).max())
    fft_err = 4 * _fft_eps(img) * max(1.0, np.log2(n)) * norm2
    e = v.astype(np.float64)
    tol = _fft_rtol(img) * max(1.0, float(e.max())) + fft_err / (1 + np.expm1(e))
    return {"value": v, "tol": tol}


def check_tol_array(got, spec: dict, s: Sample) -> None:
    """Elementwise |got - expected| <= tol + eps |expected|."""
    got, v = to_numpy(got), spec["value"]
    assert isinstance(got, np.ndarray) and got.dtype == v.dtype and got.shape == v.shape, s.desc
    e = v.astype(np.float64)
    tol = spec["tol"] + np.finfo(v.dtype).eps * np.abs(e)
    bad = ~(np.abs(got.astype(np.float64) - e) <= tol)
    assert not bad.any(), f"{s.desc}: {int(bad.sum())} of {bad.size} values off"


def make_bandpass(p: Picker, dtype: str, shape) -> Sample:
    img = p.image(shape, dtype)
    low = 0.0 if p.coin(0.3) else round(p.real(0.0, 6.0), 2)
    high = None if p.coin(0.3) else round(low + p.real(0.5, 20.0), 2)
    kw = {
        "kind": p.choice(("ideal", "gaussian", "butterworth", "Gaussian")),
        "order": p.integer(1, 6),
    }
    return Sample((img, low, high), kw)


def ref_bandpass(s: Sample) -> dict:
    img, low, high = s.args
    v = R.bandpass(img, low, high, s.kwargs["kind"].lower(), s.kwargs["order"])
    return {"value": v, "tol": _fft_rtol(img) * _amax(img)}


def bandpass_errors(base: Sample) -> list[ErrorInput]:
    return [
        E("option", base, ValueError, "kind must be one of", kind="box"),
        E("option", base, TypeError, "kind must be a string", kind=None),
        E("size", base, ValueError, "low must be >= 0", args={1: -1.0}),
        E("nonfinite", base, ValueError, "low must be >= 0", args={1: np.nan}),
        E("size", base, ValueError, "high must be > low", args={1: 5.0, 2: 5.0}),
        E("nonfinite", base, ValueError, "high must be >= 0", args={2: np.nan}),
        E("size", base, ValueError, "order must be >= 1", order=0),
        E("size", base, ValueError, "order must be <= 64", order=65),
        E("size", base, TypeError, "low must be a number", args={1: "1"}),
    ]


SPECTRUM = OpInfo(
    name="spectrum",
    func=foveal.spectrum,
    dtypes=IMAGE_DTYPES,
    make=lambda p, dtype, shape: Sample((p.image(shape, dtype),)),
    shapes=IMAGE_SHAPES,
    draw_shape=draw_image_shape,
    ref=ref_spectrum,
    check=check_tol_array,
    na={
        "shape_mismatch": "one argument",
        "size": "no size argument",
        "kernel_too_large": "no kernel",
        "nonfinite": "NaN / inf pixels are data (they propagate)",
        "option": "no option",
        "out_readonly": "no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    },
)

BANDPASS = OpInfo(
    name="bandpass",
    func=foveal.bandpass,
    dtypes=IMAGE_DTYPES,
    make=make_bandpass,
    shapes=IMAGE_SHAPES,
    draw_shape=draw_image_shape,
    ref=ref_bandpass,
    check=check_tol_array,
    errors=bandpass_errors,
    out="array",
    na={"kernel_too_large": "a frequency band, not a window: any low / high is valid"},
)


# --------------------------------------------------------------------------------------------
# the entries
# --------------------------------------------------------------------------------------------

ENTRIES = [
    STRUCTURING_ELEMENT,
    morph_entry("erode"),
    morph_entry("dilate"),
    morph_entry("morphology"),
    filter_entry("filter2d", make_filter2d, ref_filter2d, anchor_filter2d, filter2d_errors),
    filter_entry(
        "sep_filter2d",
        make_sep_filter2d,
        ref_sep_filter2d,
        anchor_sep_filter2d,
        sep_filter2d_errors,
    ),
    filter_entry(
        "box_filter", make_box_filter, ref_box_filter, anchor_box_filter, box_filter_errors
    ),
    filter_entry(
        "gaussian_blur",
        make_gaussian_blur,
        ref_gaussian_blur,
        anchor_gaussian_blur,
        gaussian_blur_errors,
    ),
    filter_entry(
        "sobel",
        make_sobel,
        ref_sobel,
        anchor_sobel,
        sobel_errors,
    ),
    filter_entry(
        "scharr",
        lambda p, d, s: make_sobel(p, d, s, scharr=True),
        ref_scharr,
        lambda s: anchor_sobel(s, ksize=-1),
        scharr_errors,
    ),
    OpInfo(
        name="gradient",
        func=foveal.gradient,
        dtypes=IMAGE_DTYPES,
        make=make_gradient,
        shapes=IMAGE_SHAPES,
        draw_shape=draw_image_shape,
        ref=ref_gradient,
        check=check_gradient,
        errors=gradient_errors,
        out="pair",
    ),
    OpInfo(
        name="canny",
        func=foveal.canny,
        dtypes=("uint8",),
        make=make_canny,
        shapes=IMAGE_SHAPES,
        draw_shape=draw_image_shape,
        ref=lambda s: R.canny(*s.args, **s.kwargs),
        check=check_exact,
        anchor=anchor_canny,
        anchor_name="cv2",
        errors=canny_errors,
        out="array",
    ),
    response_entry("harris"),
    response_entry("min_eigen"),
    CORNERS,
    SPECTRUM,
    BANDPASS,
]

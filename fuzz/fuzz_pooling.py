"""Fuzzes foveal.nn's pools: max_pool2d, avg_pool2d, lp_pool2d, adaptive_avg_pool2d and
adaptive_max_pool2d with every kernel, stride, padding (up to half the kernel), dilation,
ceil_mode, count_include_pad, divisor_override and return_indices, odd and 1-pixel sizes,
batches of zero, unbatched input, NaN and +-inf, and ``out=`` fresh, strided or overlapping
the input. Max-pool values and indices must equal ``foveal.reference`` exactly, the averages
within the tolerance of tests/test_nn.py (rtol * max(1, the same pool of |x|)). About one call
in eight gets an argument drawn invalid and must be refused by name.

    python fuzz/fuzz_pooling.py -max_total_time=60      (see fuzz/README.md)
"""

from __future__ import annotations

import numpy as np
from common import (
    REFUSED,
    Args,
    Draw,
    Finding,
    assert_close,
    assert_exact,
    call,
    foveal,
    main,
    reference,
)

rnn = reference.nn
fnn = foveal.nn


def pair(draw: Draw, lo: int, hi: int):
    """An int or a (rows, cols) pair in [lo, hi]."""
    if draw.bool():
        return draw.int(lo, hi)
    return (draw.int(lo, hi), draw.int(lo, hi))


def both(value) -> tuple[int, int]:
    return (value, value) if np.ndim(value) == 0 else tuple(value)


def scale_of(op, x, *args, **kwargs) -> float:
    """The largest finite value the same pool reaches on |x|: the scale of its rounding."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        s = np.asarray(op(np.abs(x), *args, **kwargs))
    s = s[np.isfinite(s)]
    return float(s.max(initial=0.0))


def draw_geometry(draw: Draw, args: Args, *, padded: bool, dilation: bool):
    """kernel_size, stride, padding (at most half the kernel; 0 unless ``padded``),
    dilation (1 unless ``dilation``)."""
    kernel = pair(draw, 1, draw.pick((3, 7)))
    k = both(kernel)
    stride = None if draw.chance(0.3) else pair(draw, 1, 5)
    if args.bad(draw):
        stride = 0
    padding = (draw.int(0, k[0] // 2), draw.int(0, k[1] // 2)) if padded else (0, 0)
    if draw.bool() and padding[0] == padding[1]:
        padding = padding[0]
    if padded and args.bad(draw):
        padding = (k[0] // 2 + 1, 0)
    dil = pair(draw, 1, 3) if dilation else 1
    return kernel, stride, padding, dil


def non_empty(h, w, kernel, stride, padding, dilation, ceil_mode) -> bool:
    """Whether torch's output (the reference's formula) has rows and columns."""
    k, s = both(kernel), both(kernel if stride is None else stride)
    p, d = both(padding), both(dilation)
    return all(
        rnn._pool_size(n, k[i], s[i], p[i], d[i], ceil_mode) >= 1 for i, n in enumerate((h, w))
    )


def draw_out(draw: Draw, args: Args, x: np.ndarray, shape):
    """(the input argument, the out argument): none, fresh, reversed, or sharing the input's
    buffer (the first values of the same array)."""
    kind = draw.pick(("none", "none", "fresh", "reversed", "overlap"))
    if kind == "fresh":
        return x, np.full(shape, 7.0, x.dtype if not args.bad(draw) else np.float16)
    if kind == "reversed" and len(shape):
        return x, np.full(shape, 7.0, x.dtype)[::-1]
    if kind == "overlap":
        size = int(np.prod(shape))
        buf = np.empty(max(size, x.size), x.dtype)
        buf[: x.size] = x.ravel()
        return buf[: x.size].reshape(x.shape), buf[:size].reshape(shape)
    return x, None


def test_one_input(data: bytes) -> None:
    draw = Draw(data)
    args = Args()
    fn = draw.pick(
        ("max_pool2d", "avg_pool2d", "lp_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d")
    )
    dtype = np.dtype(draw.pick(("float32", "float64")) if not args.bad(draw) else "float16")
    n, c = draw.pick((1, 1, 2, 0)), draw.int(1, 3)
    h = draw.pick((1, draw.int(1, 9), draw.int(1, 40)))
    w = draw.pick((1, draw.int(1, 9), draw.int(1, 40)))
    batched = n == 0 or draw.chance(0.8)
    x = draw.floats((n, c, h, w), np.float64, specials=draw.chance(0.2))
    ceil_mode = draw.bool()
    kw: dict = {}
    if fn in ("max_pool2d", "avg_pool2d", "lp_pool2d"):
        kernel, stride, padding, dil = draw_geometry(
            draw, args, padded=fn != "lp_pool2d", dilation=fn == "max_pool2d"
        )
        if fn != "avg_pool2d":
            kw["ceil_mode"] = ceil_mode
        if fn == "max_pool2d":
            kw.update(kernel_size=kernel, stride=stride, padding=padding, dilation=dil)
            kw["return_indices"] = draw.bool()
        elif fn == "avg_pool2d":
            kw.update(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
            kw["count_include_pad"] = draw.bool()
            if draw.bool():
                kw["divisor_override"] = draw.int(1, 20) if not args.bad(draw) else 0
        else:
            kw.update(kernel_size=kernel, stride=stride)
            p = draw.pick((1, 2, 1.5, 3, 0.5, 4.0))
            kw = {"norm_type": p if not args.bad(draw) else 0.0, **kw}
            if p not in (1, 2, 1.5):  # a p-th root of a cancelled sum is ill-conditioned
                x = np.abs(x)
        if args.valid and not non_empty(h, w, kernel, stride, padding, dil, ceil_mode):
            args.valid = False  # an empty output is refused
    else:
        size = draw.pick((draw.int(1, 12), (draw.int(1, 12), None), (None, draw.int(1, 12))))
        if draw.chance(0.3):
            size = (draw.int(1, 50), draw.int(1, 50))
        if args.bad(draw):
            size = 0
        kw["output_size"] = size
        if fn == "adaptive_max_pool2d":
            kw["return_indices"] = draw.bool()
    x = x.astype(dtype) if batched else x[0].astype(dtype)
    plain = x.copy()

    expected = None
    if args.valid:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            expected = getattr(rnn, fn)(plain, **kw)
    indices = kw.get("return_indices", False)
    values_ref = expected[0] if indices and expected is not None else expected
    arg, out = draw.layout(x), None
    if values_ref is not None:
        arg, out = draw_out(draw, args, arg, np.shape(values_ref))
    if out is not None:
        kw["out"] = out
    got = call(fn, lambda: getattr(fnn, fn)(arg, **kw), valid=args.valid)
    if got is REFUSED:
        return
    if not args.valid:
        raise Finding(f"{fn}: invalid arguments accepted: x{x.shape} {x.dtype} {kw}")
    what = f"{fn}(x{plain.shape} {dtype}, {kw})"
    values = got[0] if indices else got
    if out is not None and values is not out:
        raise Finding(f"{what}: the values are not out")
    if fn in ("max_pool2d", "adaptive_max_pool2d"):
        assert_exact(values, values_ref.astype(dtype), f"{what} values")
        if indices:
            assert_exact(got[1], expected[1], f"{what} indices")
    else:
        scale = scale_of(getattr(rnn, fn), plain, **{k: v for k, v in kw.items() if k != "out"})
        assert_close(values, values_ref, dtype, scale, what)
    if out is None or not np.may_share_memory(out, arg):
        assert_exact(np.asarray(arg), plain, f"{what}: the input changed")


if __name__ == "__main__":
    main(test_one_input)

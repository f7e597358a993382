"""Fuzzes erode, dilate, morphology and structuring_element: structuring elements of any
shape and size (larger than the image too), anchors anywhere in them, iterations, every border
and border value, every dtype, 2-D and 3-D images in any memory layout, and ``out=`` fresh,
strided, the image itself or overlapping it. Results must equal ``foveal.reference`` exactly;
about one call in eight gets an argument drawn invalid and must be refused by name.

    python fuzz/fuzz_morphology.py -max_total_time=60      (see fuzz/README.md)
"""

from __future__ import annotations

import numpy as np
from common import REFUSED, Args, Draw, Finding, assert_exact, call, foveal, main, reference

DTYPES = ("uint8", "uint16", "int16", "float32", "float64", "bool")
OPS = ("erode", "dilate", "open", "close", "gradient", "tophat", "blackhat")
BORDERS = {
    "default": "default",
    "constant": "constant",
    "replicate": "replicate",
    "reflect": "reflect",
    "reflect101": "reflect101",
    "wrap": "wrap",
    "nearest": "replicate",
    "mirror": "reflect101",
    "reflect_101": "reflect101",
    "REFLECT": "reflect",
}
SHAPES = ("rect", "ellipse", "cross")


def draw_kernel(draw: Draw, args: Args):
    """(the kernel argument, its 0/1 mask for the reference)."""
    kind = draw.pick(("int", "pair", "mask", "element", "nested", "bool", "float"))
    kh, kw = draw.int(1, 9 if draw.bool() else 21), draw.int(1, 9 if draw.bool() else 21)
    if kind == "int":
        k = 0 if args.bad(draw) else kh
        return k, np.ones((k, k), np.uint8)
    if kind == "pair":
        return (kh, kw), np.ones((kh, kw), np.uint8)
    if kind == "element":
        shape = draw.pick(SHAPES)
        anchor = (draw.int(-1, kh - 1), draw.int(-1, kw - 1)) if draw.bool() else None
        mask = foveal.structuring_element(shape, (kh, kw), anchor)
        expected = reference.structuring_element(shape, (kh, kw), anchor or (-1, -1))
        assert_exact(mask, expected, f"structuring_element({shape!r}, {(kh, kw)}, {anchor})")
        return mask, mask
    density = draw.int(1, 8)
    mask = (draw.bytes(kh * kw).reshape(kh, kw) % 8 < density).astype(np.uint8)
    if not mask.any() and not args.bad(draw, 1 / 4):
        mask[draw.int(0, kh - 1), draw.int(0, kw - 1)] = 1
    if kind == "nested":
        return mask.tolist(), mask
    if kind == "bool":
        return mask.astype(bool), mask
    if kind == "float":
        return mask * np.float32(draw.pick((1.0, 0.5, -2.0))), mask
    if args.bad(draw):
        return mask[None], mask
    return mask * np.uint8(draw.int(1, 255)), mask


def draw_border_value(draw: Draw, args: Args, dtype: np.dtype, channels: int):
    """(the border_value argument, the value the reference takes)."""
    if draw.bool():
        if dtype.kind == "f":
            v = float(draw.pick((0.0, -1.5, 7.25, np.inf, -np.inf, np.nan, 1e300)))
        else:
            v = draw.pick((0, 1, -1, 255, 256, 65535, 70000, -40000, 2.5, 3.5))
        if dtype.kind != "f" and args.bad(draw):
            v = float("nan")
        return v, v
    count = channels if not args.bad(draw) else channels + 1
    values = [float(draw.int(-300, 70000)) for _ in range(count)]
    return values, np.asarray(values, np.float64)


def draw_out(draw: Draw, args: Args, img: np.ndarray):
    """(the image argument, the out argument): out None, fresh, flipped, the image itself, or
    a view overlapping the image one row up."""
    kind = draw.pick(("none", "none", "fresh", "fortran", "flipped", "self", "overlap"))
    if kind == "fresh":
        dtype = img.dtype if not args.bad(draw) else np.dtype(np.int32)
        return img, np.zeros(img.shape, dtype)
    if kind == "fortran":
        return img, np.asfortranarray(np.zeros(img.shape, img.dtype))
    if kind == "flipped":
        return img, np.zeros(img.shape, img.dtype)[::-1]
    if kind == "self":
        if args.bad(draw):
            img.flags.writeable = False
        return img, img
    if kind == "overlap":
        buf = np.zeros((img.shape[0] + 1, *img.shape[1:]), img.dtype)
        buf[1:] = img
        return buf[1:], buf[:-1]
    return img, None


def test_one_input(data: bytes) -> None:
    draw = Draw(data)
    args = Args()
    fn = draw.pick(("erode", "dilate", "morphology"))
    op = fn if fn != "morphology" else draw.pick(OPS)
    dtype = np.dtype(draw.pick(DTYPES) if not args.bad(draw) else "int32")
    h = draw.int(1, 12 if draw.bool() else 40)
    w = draw.int(1, 12 if draw.bool() else 70)
    channels = draw.pick((0, 0, 1, 2, 3, 4, 5))
    shape = (h, w, channels) if channels else (h, w)
    kernel, mask = draw_kernel(draw, args)
    kh, kw = mask.shape
    anchor = None
    if draw.bool():
        anchor = (draw.int(-1, max(kh - 1, 0)), draw.int(-1, max(kw - 1, 0)))
        if args.bad(draw):
            anchor = (kh, anchor[1])
    iterations = draw.int(0, 3) if draw.chance(0.9) else draw.int(4, 7)
    if args.bad(draw):
        iterations = -1
    border_arg = draw.pick(tuple(BORDERS)) if not args.bad(draw) else "bogus"
    border = BORDERS.get(border_arg, "default")
    value_arg, value = draw_border_value(draw, args, dtype, max(channels, 1))
    original = draw.image(shape, dtype)
    image, out = draw_out(draw, args, draw.layout(original.copy()))

    expected = None
    if args.valid:
        with np.errstate(over="ignore", invalid="ignore"):
            expected = reference.morphology(
                original, op, mask, anchor or (-1, -1), iterations, border, value
            )
    kw = dict(anchor=anchor, iterations=iterations, border=border_arg, border_value=value_arg)
    if out is not None:
        kw["out"] = out
    if fn == "morphology":
        got = call(fn, lambda: foveal.morphology(image, op, kernel, **kw), valid=args.valid)
    else:
        got = call(fn, lambda: getattr(foveal, fn)(image, kernel, **kw), valid=args.valid)
    if got is REFUSED:
        return
    if expected is None:
        raise Finding(f"{fn}: invalid arguments accepted: {kw}, kernel {kernel!r}")
    what = f"{fn} {op} {dtype}{shape} kernel {mask.tolist()} {kw}"
    if out is not None and got is not out:
        raise Finding(f"{what}: returned a new array instead of out")
    assert_exact(np.asarray(got), expected, what)
    if out is None or not np.may_share_memory(out, image):
        assert_exact(image, original, f"{what}: the input changed")


if __name__ == "__main__":
    main(test_one_input)

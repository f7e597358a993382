"""Fuzzes find_contours (every mode and method, offsets), label (both connectivities, with
statistics, ``out=``), component_stats and draw_contours on arbitrary binary images of every
dtype and layout, 1xN and Nx1 included, and arbitrary contours, points outside the image
included.

Checks: find_contours, label and component_stats equal ``foveal.reference`` exactly; filling
the contours of a binary image (tree, list or ccomp) gives it back; draw_contours with
thickness 1 or -1 equals cv2.drawContours exactly when every point lies inside the image;
any drawing equals the same drawing on a larger canvas, cropped (documented for points outside
the image). About one call in eight gets an argument drawn invalid and must be refused by name.

    python fuzz/fuzz_contours.py -max_total_time=60      (see fuzz/README.md)
"""

from __future__ import annotations

import numpy as np
from common import REFUSED, Args, Draw, Finding, assert_exact, call, foveal, main, reference

try:
    import cv2
except ImportError:  # the anchor check is skipped without OpenCV
    cv2 = None

BINARY_DTYPES = ("bool", "uint8", "uint16", "int16", "float32", "float64")
IMAGE_DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
MODES = ("external", "list", "ccomp", "tree")
METHODS = ("none", "simple")
MAX_COORD = 1 << 20


def draw_binary(draw: Draw, args: Args) -> tuple[np.ndarray, np.ndarray]:
    """(the binary argument, the same values as a plain array): any size from 1x1 (1xN and Nx1
    often) to 40x40 or 12x140, a density from sparse to full, NaN and -0.0 in float images."""
    dtype = np.dtype(draw.pick(BINARY_DTYPES) if not args.bad(draw) else "int32")
    h = draw.pick((1, draw.int(1, 8), draw.int(1, 24), draw.int(1, 40)))
    w = draw.pick((1, draw.int(1, 8), draw.int(1, 24), draw.int(1, 40), draw.int(1, 140)))
    if w > 40:  # rows across several words and vectors of the kernels, few of them
        h = min(h, 12)
    density = draw.density()
    fg = draw.bytes(h * w).reshape(h, w) % 8 < density
    img = np.zeros((h, w), dtype)
    if dtype.kind == "f":
        img[fg] = draw.pick((1.0, np.nan, -3.5, np.inf))
        img[~fg] = draw.pick((0.0, -0.0))
    else:
        img[fg] = 1 if dtype == np.bool_ else draw.pick((1, 255, 7))
    return draw.layout(img.copy()), img


def check_find_contours(draw: Draw, args: Args) -> None:
    binary, plain = draw_binary(draw, args)
    mode, method = draw.pick(MODES), draw.pick(METHODS)
    offset = (draw.int(-40, 40), draw.int(-40, 40)) if draw.bool() else (0, 0)
    if args.bad(draw):
        offset = (0, MAX_COORD + 1)
    got = call(
        "find_contours",
        lambda: foveal.find_contours(binary, mode, method, offset=offset),
        valid=args.valid,
    )
    if got is REFUSED:
        return
    if not args.valid:
        raise Finding(f"find_contours: invalid arguments accepted ({plain.dtype}, {offset})")
    contours, hierarchy = got
    e_contours, e_hierarchy = reference.find_contours(plain, mode, method)
    what = f"find_contours({(plain != 0).astype(np.uint8).tolist()}, {mode}, {method}, {offset})"
    if len(contours) != len(e_contours):
        raise Finding(f"{what}: {len(contours)} contours, expected {len(e_contours)}")
    for i, (c, e) in enumerate(zip(contours, e_contours, strict=True)):
        assert_exact(c, e + np.array(offset, np.int32), f"{what} contour {i}")
    assert_exact(hierarchy, e_hierarchy, f"{what} hierarchy")
    if mode != "external" and plain.size <= 1600:
        canvas = np.zeros(plain.shape, np.uint8)
        moved = [c - np.array(offset, np.int32) for c in contours]
        filled = foveal.draw_contours(canvas, moved, color=1, thickness=-1)
        assert_exact(filled, (plain != 0).astype(np.uint8), f"{what}: filled contours")


def check_label(draw: Draw, args: Args) -> None:
    binary, plain = draw_binary(draw, args)
    connectivity = draw.pick((4, 8)) if not args.bad(draw) else 6
    stats = draw.bool()
    out_kind = draw.pick(("none", "fresh", "fortran", "flipped"))
    out = {
        "none": None,
        "fresh": np.full(plain.shape, -7, np.int32),
        "fortran": np.asfortranarray(np.full(plain.shape, -7, np.int32)),
        "flipped": np.full(plain.shape, -7, np.int32)[::-1],
    }[out_kind]
    got = call(
        "label",
        lambda: foveal.label(binary, connectivity, return_stats=stats, out=out),
        valid=args.valid,
    )
    if got is REFUSED:
        return
    if not args.valid:
        raise Finding(f"label: invalid arguments accepted ({plain.dtype}, {connectivity})")
    what = f"label({(plain != 0).astype(np.uint8).tolist()}, {connectivity}, out={out_kind})"
    labels, count = got[:2]
    e_labels, e_count = reference.label(plain, connectivity)
    if out is not None and labels is not out:
        raise Finding(f"{what}: the labels are not out")
    assert_exact(labels, e_labels, f"{what} labels")
    if count != e_count or not isinstance(count, int):
        raise Finding(f"{what}: count {count!r}, expected {e_count}")
    e_stats, e_centroids = reference.component_stats(e_labels)
    if stats:
        assert_exact(got[2], e_stats, f"{what} stats")
        assert_exact(got[3], e_centroids, f"{what} centroids")
    # component_stats on these labels, and on labels that skip numbers, of other dtypes
    assert_exact(foveal.component_stats(labels)[0], e_stats, f"{what} component_stats")
    sparse = (e_labels * draw.int(1, 5)).astype(draw.pick(("uint8", "int16", "int64")))
    s, c = foveal.component_stats(draw.layout(sparse))
    e_s, e_c = reference.component_stats(sparse)
    assert_exact(s, e_s, f"{what} component_stats of {sparse.dtype} labels x k")
    assert_exact(c, e_c, f"{what} component_stats centroids of {sparse.dtype} labels x k")


def draw_points(draw: Draw, h: int, w: int) -> np.ndarray:
    """1..10 points: inside the image, around it, or (rarely) far away."""
    n = draw.int(1, 10)
    reach = draw.pick((0, 0, 1, 2, 8, MAX_COORD // max(h, w) if draw.chance(0.1) else 3))
    lo_x, hi_x = -reach * w, (reach + 1) * w - 1
    lo_y, hi_y = -reach * h, (reach + 1) * h - 1
    xs = [draw.int(lo_x, hi_x) for _ in range(n)]
    ys = [draw.int(lo_y, hi_y) for _ in range(n)]
    # within the limit after any offset drawn below (|offset| <= 40): the limit holds for both
    limit = MAX_COORD - 64
    return np.array([xs, ys], np.int64).T.clip(-limit, limit)


def as_contour(draw: Draw, pts: np.ndarray):
    """The points in one of the forms draw_contours takes."""
    form = draw.pick(("int32", "int32_n12", "int64", "list", "int16", "fortran"))
    if form == "int32":
        return pts.astype(np.int32)
    if form == "int32_n12":
        return pts.astype(np.int32).reshape(-1, 1, 2)
    if form == "int64":
        return pts
    if form == "list":
        return pts.tolist()
    if form == "int16" and np.abs(pts).max(initial=0) < 1 << 15:
        return pts.astype(np.int16)
    return np.asfortranarray(pts.astype(np.int32))


def check_draw(draw: Draw, args: Args) -> None:
    dtype = np.dtype(draw.pick(IMAGE_DTYPES))
    h, w = draw.int(1, 40), draw.int(1, 40)
    channels = draw.pick((0, 0, 1, 2, 3, 4))
    shape = (h, w, channels) if channels else (h, w)
    image = draw.image(shape, dtype, specials=False)
    hierarchy = max_level = None
    if draw.bool():  # the contours of a binary image of the same size, with their hierarchy
        plain = draw.bytes(h * w).reshape(h, w) % 8 < draw.density()
        points, hierarchy = foveal.find_contours(plain, draw.pick(MODES), draw.pick(METHODS))
        contours = list(points)
        if draw.bool():
            max_level = draw.int(0, 3)
        if not draw.bool():
            hierarchy = None
    else:
        count = draw.int(0, 4)
        points = [draw_points(draw, h, w) for _ in range(count)]
        if count and args.bad(draw):  # a point past the limit on a contour that is drawn
            points[draw.int(0, count - 1)][0] = (MAX_COORD + 100, 0)
        contours = [as_contour(draw, p) for p in points]
    n = len(contours)
    index = draw.int(-1, n - 1)
    if args.bad(draw):
        index = n
    elif not args.valid and hierarchy is None:  # draw the contour with the bad point
        index = -1
    thickness = draw.pick((1, -1, 1, -1, draw.int(2, 6), draw.int(2, 40)))
    if draw.chance(0.02):
        thickness = draw.pick((32767, 1000))
    if args.bad(draw):
        thickness = draw.pick((0, -2, 32768))
    offset = (0, 0) if draw.bool() else (draw.int(-w, w), draw.int(-h, h))
    color = draw.pick((255, 1, 0.5, -3, 70000, (9, 8, 7, 6)[: max(channels, 1)]))
    if args.bad(draw):
        color = (1,) * (max(channels, 1) + 1)
    out_kind = draw.pick(("none", "fresh", "self", "flipped"))
    out = {"none": None, "fresh": np.zeros_like(image), "self": image}.get(out_kind)
    if out_kind == "flipped":
        out = np.zeros_like(image)[::-1]
    original = image.copy()
    kw = dict(hierarchy=hierarchy, max_level=max_level, offset=offset, out=out)
    got = call(
        "draw_contours",
        lambda: foveal.draw_contours(image, contours, index, color, thickness, **kw),
        valid=args.valid,
    )
    if got is REFUSED:
        return
    if not args.valid:
        raise Finding(f"draw_contours: invalid arguments accepted: {index}, {thickness}, {color}")
    what = (
        f"draw_contours({dtype}{shape}, {[np.asarray(p).tolist() for p in points]}, {index}, "
        f"{color}, {thickness}, offset={offset}, max_level={max_level})"
    )
    if out is not None and got is not out:
        raise Finding(f"{what}: the result is not out")
    if out is not image:
        assert_exact(image, original, f"{what}: the input changed")
    flat = [np.asarray(p, np.int64).reshape(-1, 2) + offset for p in points]
    span = np.concatenate(flat) if flat else np.zeros((0, 2), np.int64)
    inside = ((span >= 0) & (span < (w, h))).all()
    if cv2 is not None and inside and thickness in (1, -1) and n and dtype != np.float64:
        expected = original.copy()
        colors = (color,) * max(channels, 1) if np.ndim(color) == 0 else color
        extra = {} if hierarchy is None else {"hierarchy": hierarchy[None]}
        if hierarchy is not None:
            extra["maxLevel"] = (1 << 31) - 1 if max_level is None else max_level
        cv_contours = [np.asarray(p, np.int32).reshape(-1, 1, 2) for p in points]
        cv2.drawContours(
            expected, cv_contours, index, colors, thickness, cv2.LINE_8, offset=offset, **extra
        )
        assert_exact(got, expected.reshape(shape), f"{what} vs cv2")
    # The image is a window on an unbounded canvas: any larger canvas, cropped, is the same.
    if thickness <= 40:
        pad = draw.int(1, 24)
        big = np.zeros((h + 2 * pad, w + 2 * pad, *shape[2:]), dtype)
        big[pad : pad + h, pad : pad + w] = original
        moved = {**kw, "out": None, "offset": (offset[0] + pad, offset[1] + pad)}
        larger = foveal.draw_contours(big, contours, index, color, thickness, **moved)
        assert_exact(got, larger[pad : pad + h, pad : pad + w], f"{what} vs a larger canvas")


def test_one_input(data: bytes) -> None:
    draw = Draw(data)
    args = Args()
    target = draw.pick((check_find_contours, check_label, check_draw))
    target(draw, args)


if __name__ == "__main__":
    main(test_one_input)

"""The op table's entries for segmentation: k-means, colour segmentation, connected components,
contours and their measures and drawing (see op_table.py for what an entry holds)."""

from __future__ import annotations

import foveal
import numpy as np
from conftest import assert_rule
from foveal import reference as R
from op_core import (
    CANDIDATE_DTYPES,
    RTOL,
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
from op_entries_image import IMAGE_DTYPES, IMAGE_DTYPES_BOOL, image_2d_shapes

FLOAT_DTYPES = ("float32", "float64")

# --------------------------------------------------------------------------------------------
# k-means
# --------------------------------------------------------------------------------------------

# (n points, d dimensions, k clusters): the few-centers path (k <= 16, d <= 8) and the bounded
# general path (k > 16 or d > 8), points around the 6-row panels and 256-point blocks
KMEANS_SHAPES = (
    (1, 1, 1),
    (2, 1, 2),
    (5, 2, 3),
    (31, 3, 4),
    (32, 2, 8),
    (33, 9, 5),
    (64, 1, 3),
    (65, 17, 20),
    (200, 3, 8),
    (129, 8, 17),
    (257, 4, 6),
)


def blobs(p: Picker, n: int, d: int, k: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(points, blob of each): k blobs of spread 1 (each with a point) around distinct centers
    20 apart on a grid near the origin."""
    rng = p.rng()
    reach = 3 if d > 1 else max(3, k)
    centers = rng.integers(-reach, reach + 1, (k, d))
    while len(np.unique(centers, axis=0)) < k:
        centers = rng.integers(-reach, reach + 1, (k, d))
    which = rng.permutation(np.resize(np.arange(k), n))
    return (centers[which] * 20.0 + rng.standard_normal((n, d))).astype(dtype), which


def make_kmeans(p: Picker, dtype: str, shape) -> Sample:
    """Blobs and one initial center in each: every point lies far from the boundary between
    two clusters. (foveal computes float32 distances as |x|^2 - 2 x.c + |c|^2 in float32,
    as scikit-learn does, which can pick a center up to eps |x|^2 farther than the nearest:
    a point near a boundary would follow float32 rounding, and the reference computes in
    float64. Splitting a blob is test_segment's.)"""
    n, d, k = shape
    x, which = blobs(p, n, d, k, dtype)
    rng = p.rng()
    init = np.stack([x[rng.choice(np.flatnonzero(which == j))] for j in range(k)])
    kw: dict = {"init": init, "tol": p.choice((0.0, 1e-4)), "max_iter": p.choice((300, 2, 1))}
    if p.coin(0.3):
        # powers of two: w x is exact in float32, as the few-centers path computes it (its
        # float32 block sums would move a one-point cluster's center by an ulp, and with
        # tol_abs 0 the iteration count would then hang on that rounding)
        kw["sample_weight"] = 2.0 ** rng.integers(-2, 3, n).astype(dtype)
    data = x[:, 0] if d == 1 and p.coin(0.3) else x
    return Sample((data, k), kw)


def ref_kmeans(s: Sample):
    return R.kmeans(*s.args, **s.kwargs)


def check_kmeans(got, want, s: Sample) -> None:
    """Labels and iteration count exactly; centers within rtol of the data's scale; the
    inertia within 1e-5 (float32) or 1e-10 (float64) relative (sums of n squared distances
    in another order)."""
    got = to_numpy(got)
    assert isinstance(got, foveal.KMeansResult), s.desc
    assert_exact(got.labels, want.labels.astype(np.int32), f"{s.desc} labels")
    assert got.n_iter == want.n_iter, f"{s.desc}: n_iter {got.n_iter} != {want.n_iter}"
    x = s.args[0]
    rtol = 1e-5 if x.dtype == np.float32 else 1e-10
    assert abs(got.inertia - want.inertia) <= rtol * abs(want.inertia) + 1e-9, s.desc
    scale = _amax(x)
    assert_close(
        got.centers,
        np.asarray(want.centers, x.dtype),
        RTOL[x.dtype.name] * scale,
        f"{s.desc} centers",
    )


def anchor_kmeans(s: Sample):
    """scikit-learn's KMeans(algorithm="lloyd") from the same initial centers."""
    from sklearn.cluster import KMeans

    x, k = s.args
    kw = s.kwargs
    x2 = x.reshape(len(x), -1)
    km = KMeans(
        k, init=kw["init"], n_init=1, max_iter=kw["max_iter"], tol=kw["tol"], algorithm="lloyd"
    )
    km.fit(x2, sample_weight=kw.get("sample_weight"))
    return R.KMeansResult(km.cluster_centers_, km.labels_, float(km.inertia_), int(km.n_iter_))


def kmeans_errors(base: Sample) -> list[ErrorInput]:
    x, k = base.args
    n = len(x)
    return [
        E("size", base, ValueError, "k=", args={1: n + 1}),
        E("size", base, ValueError, "k must be >= 1", args={1: 0}),
        E("size", base, TypeError, "k must be an integer", args={1: 1.5}),
        E(
            "nonfinite",
            base,
            ValueError,
            "data must be finite",
            args={0: np.where(np.arange(x.size).reshape(x.shape) == 1, np.nan, x)},
        ),
        E("nonfinite", base, ValueError, "data must be finite", args={0: np.full_like(x, np.inf)}),
        E("shape_mismatch", base, ValueError, "init must have shape", init=np.ones((k + 1, 2))),
        E("option", base, ValueError, "init must be", init="best"),
        E("size", base, ValueError, "n_init must be 1", n_init=2),
        E("size", base, ValueError, "n_init", init="random", n_init=0),
        E("size", base, ValueError, "tol must be >= 0", tol=-1.0),
        E("nonfinite", base, ValueError, "tol must be finite", tol=np.nan),
        E("size", base, ValueError, "max_iter", max_iter=0),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "sample_weight must have",
            sample_weight=np.ones(n + 1, x.dtype),
        ),
        E(
            "nonfinite",
            base,
            ValueError,
            "sample_weight must be finite",
            sample_weight=np.full(n, np.nan, x.dtype),
        ),
        E(
            "size",
            base,
            ValueError,
            "sample_weight must be finite, >= 0",
            sample_weight=-np.ones(n, x.dtype),
        ),
        E("size", base, ValueError, "seed", init="random", seed=-1),
        E("dtype", base, TypeError, "init dtype", init=np.ones((k, x.shape[1]), np.int32)),
        E("not_array", base, TypeError, "init must be", init=object()),
    ]


KMEANS = OpInfo(
    name="kmeans",
    func=foveal.kmeans,
    dtypes=FLOAT_DTYPES,
    make=make_kmeans,
    shapes=KMEANS_SHAPES,
    draw_shape=lambda p: (lambda n, d: (n, d, p.integer(1, min(n, 24))))(
        p.integer(1, 150), p.integer(1, 20)
    ),
    ref=ref_kmeans,
    check=check_kmeans,
    anchor=anchor_kmeans,
    anchor_name="sklearn",
    errors=kmeans_errors,
    arrays={0: "data", "sample_weight": "sample_weight"},
    ranks=(1, 2),
    na={
        "kernel_too_large": "no window",
        "out_readonly": "returns new arrays: no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    },
)


def make_kmeans_predict(p: Picker, dtype: str, shape) -> Sample:
    n, d, k = shape
    x = p.normal((n, d), dtype, 5.0)
    c = p.normal((k, d), dtype, 5.0)
    if p.coin(0.2) and k > 1:
        c[1] = c[0]  # a tie: the lowest index wins
    return Sample((x[:, 0] if d == 1 and p.coin(0.3) else x, c))


def kmeans_predict_errors(base: Sample) -> list[ErrorInput]:
    x, c = base.args
    other = np.float32 if x.dtype == np.float64 else np.float64
    return [
        E(
            "shape_mismatch",
            base,
            ValueError,
            "centers must be",
            args={1: np.ones((3, x.shape[1] + 1), x.dtype)},
        ),
        E("dtype", base, ValueError, "centers must be .* dtype", args={1: c.astype(other)}),
        E(
            "nonfinite",
            base,
            ValueError,
            "centers must be finite",
            args={1: np.full_like(c, np.nan)},
        ),
        E("nonfinite", base, ValueError, "data must be finite", args={0: np.full_like(x, -np.inf)}),
        E(
            "empty",
            base,
            ValueError,
            "centers must not be empty",
            args={1: np.ones((0, x.shape[1]), x.dtype)},
        ),
        E("rank", base, ValueError, "centers must be", args={1: np.ones((2, 2, 2), x.dtype)}),
    ]


KMEANS_PREDICT = OpInfo(
    name="kmeans_predict",
    func=foveal.kmeans_predict,
    dtypes=FLOAT_DTYPES,
    make=make_kmeans_predict,
    shapes=KMEANS_SHAPES,
    draw_shape=KMEANS.draw_shape,
    ref=lambda s: R.kmeans_predict(*s.args),
    check=check_exact,
    errors=kmeans_predict_errors,
    arrays={0: "data", 1: "centers"},
    ranks=(1, 2),
    na={
        "size": "sizes come from the arrays",
        "kernel_too_large": "no window",
        "option": "no option",
        "out_readonly": "no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    },
)


def make_segment_colors(p: Picker, dtype: str, shape) -> Sample:
    """A palette image with a little noise (std 1), every colour present, colours at least 30
    apart, and the palette as the initial centers: every pixel lies far from the boundary
    between two clusters, so the float32 and float64 distances agree on each assignment."""
    rng = p.rng()
    c = shape[2] if len(shape) == 3 else 1
    k = min(p.integer(1, 4), shape[0] * shape[1])
    lo = -180 if dtype in ("int16", "float32", "float64") else 30
    levels = np.arange(lo, 250, 30, dtype=np.float64)
    palette = levels[rng.integers(0, len(levels), (k, c))]
    palette[:, 0] = levels[rng.choice(len(levels), k, replace=False)]  # distinct colours
    which = rng.permutation(np.resize(np.arange(k), shape[0] * shape[1])).reshape(shape[:2])
    img = palette[which] + rng.normal(0, 1.0, (*shape[:2], c))
    if np.dtype(dtype).kind in "iu":
        img = np.rint(img)
    img = img.astype(dtype).reshape(shape)
    work = np.float64 if dtype == "float64" else np.float32
    return Sample((img, k), {"init": palette.astype(work), "max_iter": p.choice((300, 2, 1))})


def ref_segment_colors(s: Sample) -> dict:
    img, k = s.args
    labels, quantized = R.segment_colors(img, k, **s.kwargs)
    work = np.float64 if img.dtype == np.float64 else np.float32
    c = img.shape[2] if img.ndim == 3 else 1
    r = R.kmeans(img.reshape(-1, c).astype(work), k, **s.kwargs)
    unrounded = r.centers.astype(np.float64)[r.labels].reshape(img.shape)
    return {"value": (labels, quantized), "unrounded": unrounded}


def check_segment_colors(got, spec: dict, s: Sample) -> None:
    """Labels exactly; the quantized image is each pixel's center, rounded (integers: the tie
    rule) or within float rounding of the reference's center."""
    labels, quantized = to_numpy(got)
    want_labels, want_q = spec["value"]
    assert_exact(labels, want_labels, f"{s.desc} labels")
    work = "float64" if want_q.dtype == np.float64 else "float32"
    atol = RTOL[work] * _amax(spec["unrounded"])
    assert_rule(quantized, want_q, atol=atol, unrounded=spec["unrounded"], err_msg=s.desc)


def segment_colors_errors(base: Sample) -> list[ErrorInput]:
    return [
        E("size", base, ValueError, "k must be >= 1", args={1: 0}),
        E("size", base, ValueError, "k=", args={1: base.args[0].size + 1}, init="random"),
        E("option", base, ValueError, "init must be", init="first"),
        E("size", base, ValueError, "max_iter", max_iter=-1),
    ]


SEGMENT_COLORS = OpInfo(
    name="segment_colors",
    func=foveal.segment_colors,
    dtypes=IMAGE_DTYPES,
    make=make_segment_colors,
    shapes=tuple(
        s for s in ((1, 1), (1, 33), (33, 1), (5, 31), (4, 32, 3), (7, 65, 3), (9, 11, 4))
    ),
    draw_shape=lambda p: (p.integer(1, 20), p.integer(1, 40), p.choice((1, 3)))[: p.choice((2, 3))],
    ref=ref_segment_colors,
    check=check_segment_colors,
    errors=segment_colors_errors,
    na={
        "shape_mismatch": "init shapes are kmeans's (tested there)",
        "kernel_too_large": "no window",
        "nonfinite": "NaN pixels: the data check of kmeans (tested there)",
        "out_readonly": "no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    },
)


# --------------------------------------------------------------------------------------------
# connected components
# --------------------------------------------------------------------------------------------

BINARY_SHAPES = (*image_2d_shapes(), (16, 16), (24, 40))


def binary_image(p: Picker, shape, dtype) -> np.ndarray:
    """Foreground (nonzero; NaN counts) where a random mask is set, of any image dtype."""
    fg = p.binary(shape)
    if dtype == "bool":
        return fg
    rng = p.rng()
    if np.dtype(dtype).kind == "f":
        vals = rng.standard_normal(shape) * 100 + 0.5
        vals[vals == 0] = 1
        if p.coin(0.2) and fg.any():
            vals[np.argwhere(fg)[0][0], np.argwhere(fg)[0][1]] = np.nan
    else:
        info = np.iinfo(dtype)
        vals = rng.integers(info.min, info.max, shape, endpoint=True)
        vals[vals == 0] = 1
    return np.where(fg, vals, 0).astype(dtype)


def make_label(p: Picker, dtype: str, shape) -> Sample:
    return Sample(
        (binary_image(p, shape, dtype),),
        {"connectivity": p.choice((4, 8)), "return_stats": p.coin(0.4)},
    )


def ref_label(s: Sample):
    binary = s.args[0] != 0
    labels, count = R.label(binary, s.kwargs["connectivity"])
    if not s.kwargs["return_stats"]:
        return (labels, count)
    return (labels, count, *R.component_stats(labels))


def anchor_label(s: Sample):
    import cv2

    binary = (s.args[0] != 0).astype(np.uint8)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(
        binary, connectivity=s.kwargs["connectivity"]
    )
    return (labels, n - 1)


def check_label_anchor(got, want, s: Sample) -> None:
    """cv2's labels and count (its empty-background row of stats is an artifact)."""
    assert_exact(tuple(to_numpy(got)[:2]), want, s.desc)


def label_errors(base: Sample) -> list[ErrorInput]:
    img = base.args[0]
    return [
        E("option", base, ValueError, "connectivity must be 4 or 8", connectivity=6),
        E("option", base, TypeError, "connectivity", connectivity="8"),
        E("option", base, TypeError, "return_stats must be a bool", return_stats=1),
        E("rank", base, ValueError, "binary must be 2-D", args={0: np.stack([img, img], 2)}),
        E("dtype", base, TypeError, "out", out=np.empty(img.shape, np.int64)),
    ]


LABEL = OpInfo(
    name="label",
    func=foveal.label,
    dtypes=IMAGE_DTYPES_BOOL,
    make=make_label,
    shapes=BINARY_SHAPES,
    draw_shape=lambda p: (p.integer(1, 30), p.integer(1, 70)),
    ref=ref_label,
    check=check_exact,
    anchor=anchor_label,
    anchor_name="cv2",
    anchor_check=check_label_anchor,
    errors=label_errors,
    arrays={0: "binary"},
    ranks=(2,),
    out="array",
    na={
        "size": "sizes come from the image",
        "kernel_too_large": "no window",
        "nonfinite": "NaN pixels are foreground (documented)",
    },
)


LABEL_DTYPES = tuple(d for d in CANDIDATE_DTYPES if d[0] in "iu" and d != "uint64")


def make_component_stats(p: Picker, dtype: str, shape) -> Sample:
    rng = p.rng()
    top = p.choice((0, 1, 3, 9, 40))
    labels = rng.integers(0, top + 1, shape)
    if top > 2 and p.coin():
        labels[labels == 2] = 0  # a label with no pixels
    return Sample((labels.astype(dtype),))


def component_stats_errors(base: Sample) -> list[ErrorInput]:
    labels = base.args[0]
    return [
        E("size", base, ValueError, "labels must be >= 0", args={0: labels.astype(np.int32) - 1}),
        E("size", base, ValueError, "labels must be >= 0", args={0: labels.astype(np.int16) - 1}),
        E(
            "size",
            base,
            ValueError,
            "labels must be < 2\\*\\*31",
            args={0: labels.astype(np.int64) + (1 << 31)},
        ),
        E(
            "size",
            base,
            ValueError,
            "highest label",
            args={0: np.full((2, 2), (1 << 31) - 1, np.int32)},
        ),
        E("dtype", base, TypeError, "labels dtype", args={0: labels.astype(np.float32)}),
        E("dtype", base, TypeError, "labels dtype", args={0: labels.astype(np.uint64)}),
    ]


COMPONENT_STATS = OpInfo(
    name="component_stats",
    func=foveal.component_stats,
    dtypes=LABEL_DTYPES,
    make=make_component_stats,
    shapes=BINARY_SHAPES,
    draw_shape=lambda p: (p.integer(1, 30), p.integer(1, 70)),
    ref=lambda s: R.component_stats(s.args[0]),
    check=check_exact,
    errors=component_stats_errors,
    arrays={0: "labels"},
    ranks=(2,),
    dtype_message="labels dtype .* not supported",
    wraps_kind=False,
    na={
        "shape_mismatch": "one argument",
        "kernel_too_large": "no window",
        "nonfinite": "integer labels",
        "option": "no option",
        "out_readonly": "returns new arrays: no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    },
)


# --------------------------------------------------------------------------------------------
# contours
# --------------------------------------------------------------------------------------------

CONTOUR_MODES = ("external", "list", "ccomp", "tree")


def make_find_contours(p: Picker, dtype: str, shape) -> Sample:
    kw: dict = {}
    if p.coin(0.3):
        kw["offset"] = (p.integer(-5, 5), p.integer(-5, 5))
    mode = p.choice((*CONTOUR_MODES, "TREE"))
    return Sample((binary_image(p, shape, dtype), mode, p.choice(("none", "simple"))), kw)


def ref_find_contours(s: Sample):
    binary, mode, method = s.args
    contours, hierarchy = R.find_contours(binary != 0, mode.lower(), method)
    dx, dy = s.kwargs.get("offset", (0, 0))
    return ([c + np.array([dx, dy], np.int32) for c in contours], hierarchy)


def anchor_find_contours(s: Sample):
    import cv2

    binary, mode, method = s.args
    cv_mode = getattr(cv2, "RETR_" + mode.upper())
    cv_method = cv2.CHAIN_APPROX_NONE if method == "none" else cv2.CHAIN_APPROX_SIMPLE
    contours, hierarchy = cv2.findContours(
        (binary != 0).astype(np.uint8), cv_mode, cv_method, offset=s.kwargs.get("offset", (0, 0))
    )
    h = np.zeros((0, 4), np.int32) if hierarchy is None else hierarchy[0].astype(np.int32)
    return ([c.reshape(-1, 2).astype(np.int32) for c in contours], h)


def check_contours(got, want, s: Sample) -> None:
    got = to_numpy(got)
    assert isinstance(got, tuple) and len(got) == 2, s.desc
    assert_exact(list(got[0]), list(want[0]), f"{s.desc} contours")
    assert_exact(got[1], want[1], f"{s.desc} hierarchy")


def find_contours_errors(base: Sample) -> list[ErrorInput]:
    img = base.args[0]
    return [
        E("option", base, ValueError, "mode must be one of", args={1: "all"}),
        E("option", base, TypeError, "mode must be a string", args={1: 0}),
        E("option", base, ValueError, "method must be one of", args={2: "tc89"}),
        E("size", base, TypeError, "offset must be a pair", offset=(1,)),
        E("size", base, ValueError, "offset", offset=(0, 1 << 21)),
        E("rank", base, ValueError, "binary must be 2-D", args={0: img[:, :, None]}),
    ]


FIND_CONTOURS = OpInfo(
    name="find_contours",
    func=foveal.find_contours,
    dtypes=IMAGE_DTYPES_BOOL,
    make=make_find_contours,
    shapes=BINARY_SHAPES,
    draw_shape=lambda p: (p.integer(1, 24), p.integer(1, 40)),
    ref=ref_find_contours,
    check=check_contours,
    anchor=anchor_find_contours,
    anchor_name="cv2",
    errors=find_contours_errors,
    arrays={0: "binary"},
    ranks=(2,),
    wraps_kind=False,
    na={
        "shape_mismatch": "one array",
        "kernel_too_large": "no window",
        "nonfinite": "NaN pixels are foreground (documented)",
        "out_readonly": "returns new arrays: no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    },
)

# every integer dtype but uint64, and every float: what the contour measures take
POINT_DTYPES = tuple(d for d in CANDIDATE_DTYPES if d[0] in "iuf" and d != "uint64")
POINT_COUNTS = ((0,), (1,), (2,), (3,), (4,), (31,), (32,), (33,), (65,))


def make_points(p: Picker, dtype: str, shape) -> np.ndarray:
    (n,) = shape
    rng = p.rng()
    dt = np.dtype(dtype)
    if dt.kind == "f":
        pts = rng.standard_normal((n, 2)) * 20
    else:
        lo = 0 if dt.kind == "u" else -50
        pts = rng.integers(lo, 100, (n, 2))
    pts = pts.astype(dt)
    form = p.choice(("n2", "n12", "list"))
    if form == "n12":
        return pts.reshape(n, 1, 2)
    return pts.tolist() if form == "list" and n else pts


def make_measure(flag: str | None):
    def make(p: Picker, dtype: str, shape) -> Sample:
        pts = make_points(p, dtype, shape)
        return Sample((pts,), {} if flag is None else {flag: p.coin()})

    return make


def _points64(contour) -> np.ndarray:
    return np.asarray(contour, np.float64).reshape(-1, 2)


def check_float_scalar(rel: float):
    def check(got, want, s: Sample) -> None:
        pts = _points64(s.args[0])
        # the sum of |terms| the measure adds up: rel of it covers another summation order
        scale = 1.0 + float(np.abs(pts).sum()) ** 2
        assert isinstance(got, float), f"{s.desc}: got a {type(got).__name__}"
        assert abs(got - want) <= rel * scale, f"{s.desc}: {got!r} vs {want!r}"

    return check


def anchor_measure(name: str):
    """cv2.contourArea / cv2.arcLength / cv2.boundingRect of int32 and float32 points."""

    def anchor(s: Sample):
        import cv2

        pts = np.asarray(s.args[0])
        if pts.dtype not in (np.int32, np.float32) or pts.size == 0:
            raise Skip("cv2 takes int32 and float32 points")
        pts = np.ascontiguousarray(pts.reshape(-1, 1, 2))
        if name == "contour_area":
            return float(cv2.contourArea(pts, oriented=s.kwargs.get("oriented", False)))
        if name == "arc_length":
            return float(cv2.arcLength(pts, s.kwargs.get("closed", True)))
        return tuple(int(v) for v in cv2.boundingRect(pts))

    return anchor


def measure_errors(flag: str | None):
    def errors(base: Sample) -> list[ErrorInput]:
        e = [
            E("rank", base, ValueError, "contour must be an .n, 2.", args={0: np.ones(3)}),
            E("rank", base, ValueError, "contour must be an .n, 2.", args={0: np.ones((3, 3))}),
            E(
                "nonfinite",
                base,
                ValueError,
                "contour must be finite",
                args={0: np.array([[0.0, 1.0], [np.nan, 2.0]])},
            ),
            E(
                "nonfinite",
                base,
                ValueError,
                "contour must be finite",
                args={0: np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 1.0]])},
            ),
        ]
        if flag:
            e.append(E("option", base, TypeError, f"{flag} must be a bool", **{flag: "yes"}))
        return e

    return errors


def measure_entry(name: str, flag: str | None, check) -> OpInfo:
    na = {
        "shape_mismatch": "one array",
        "size": "no size argument",
        "kernel_too_large": "no window",
        "out_readonly": "returns a number: no out=",
        "out_alias": "no out=",
        "no_partial_write": "no out=",
    }
    if flag is None:
        na["option"] = "no option"
    return OpInfo(
        name=name,
        func=getattr(foveal, name),
        dtypes=POINT_DTYPES,
        make=make_measure(flag),
        shapes=POINT_COUNTS,
        draw_shape=lambda p: (p.integer(0, 70),),
        ref=lambda s: getattr(R, name)(np.asarray(s.args[0]), **s.kwargs),
        check=check,
        anchor=anchor_measure(name),
        anchor_name="cv2",
        anchor_dtypes=("int32", "float32"),
        errors=measure_errors(flag),
        arrays={0: "contour"},
        ranks=(2, 3),
        dtype_message="contour must hold integer or float values",
        empty_ok_axes=(0,),
        wraps_kind=False,
        lists_ok=True,
        na=na,
    )


# draw_contours: no foveal.reference twin; the reference below draws what the contours of a
# binary image give by definition. find_contours's "none" points are 8-connected neighbours in
# turn, so 1-pixel lines between them are the points themselves; and the even-odd fill of all
# of a binary image's contours, edges included, is that image (draw_contours's docstring).


def make_draw_contours(p: Picker, dtype: str, shape) -> Sample:
    img = p.image(shape, dtype)
    binary = p.binary(shape[:2])
    contours, hierarchy = R.find_contours(binary, "tree", "none")
    c = img.shape[2] if img.ndim == 3 else 1
    if np.dtype(dtype).kind == "f":
        color = [round(p.real(-500, 500), 2) for _ in range(c)]
    else:
        color = [p.integer(-10, 70000) for _ in range(c)]
    kw: dict = {"color": color if c > 1 or p.coin() else color[0]}
    if p.coin(0.5) or not contours:
        kw["thickness"] = 1
        kw["index"] = p.integer(-1, len(contours) - 1)
        if p.coin(0.3):
            kw["offset"] = (p.integer(-2, 2), p.integer(-2, 2))
    else:
        kw["thickness"] = -1
        if p.coin():
            kw["hierarchy"] = hierarchy
    contours = [c.reshape(-1, 1, 2) if p.coin(0.2) else c for c in contours]
    return Sample((img, contours), {**kw, "_binary": binary})


def _call_sample(s: Sample) -> Sample:
    """The sample without its private keys (``_binary``: what the contours came from)."""
    return s.replace(kwargs={k: v for k, v in s.kwargs.items() if not k.startswith("_")})


def _saturated_color(color, img) -> list:
    c = img.shape[2] if img.ndim == 3 else 1
    vals = [color] * c if np.ndim(color) == 0 else list(color)
    if img.dtype.kind in "iu":
        info = np.iinfo(img.dtype)
        vals = [min(max(np.rint(v), info.min), info.max) for v in vals]
    return np.asarray(vals, np.float64).astype(img.dtype)


def ref_draw_contours(s: Sample):
    img, contours = s.args
    kw = s.kwargs
    out = img.copy()
    color = _saturated_color(kw["color"], img)
    value = color if img.ndim == 3 else color[0]
    if kw["thickness"] == -1:
        out[kw["_binary"]] = value
        return out
    dx, dy = kw.get("offset", (0, 0))
    chosen = range(len(contours)) if kw["index"] < 0 else [kw["index"]]
    h, w = img.shape[:2]
    for i in chosen:
        pts = np.asarray(contours[i]).reshape(-1, 2) + (dx, dy)
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        pts = pts[inside]
        out[pts[:, 1], pts[:, 0]] = value
    return out


def anchor_draw_contours(s: Sample):
    import cv2

    img, contours = s.args
    kw = s.kwargs
    if img.dtype != np.uint8 or img.ndim == 3 and img.shape[2] != 3:
        raise Skip("cv2 drawing compared on uint8 grey and RGB images")
    out = img.copy()
    color = [float(v) for v in _saturated_color(kw["color"], img)]
    cv_contours = [np.asarray(c, np.int32).reshape(-1, 1, 2) for c in contours]
    hierarchy = kw.get("hierarchy")
    cv2.drawContours(
        out,
        cv_contours,
        kw.get("index", -1),
        color,
        kw["thickness"],
        cv2.LINE_8,
        None if hierarchy is None else hierarchy[None],
        2**31 - 1 if hierarchy is not None else 0,
        kw.get("offset", (0, 0)),
    )
    return out


def draw_contours_errors(base: Sample) -> list[ErrorInput]:
    img = base.args[0]
    pt = np.array([[0, 0], [2, 3]], np.int32)
    base = Sample((img, [pt]), {"color": 7})  # the sampled index and hierarchy left out
    return [
        E("not_array", base, TypeError, "contours must be a list", args={1: pt}),
        E("size", base, ValueError, "index must be -1 or below", args={1: [pt]}, index=1),
        E("size", base, ValueError, "index must be >= -1", index=-2),
        E("size", base, ValueError, "thickness must be -1", thickness=0),
        E("size", base, ValueError, "thickness must be <= 32767", thickness=40000),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "color must be a number or",
            color=[1, 2, 3, 4, 5, 6],
        ),
        E("nonfinite", base, ValueError, "color must not be NaN", color=np.nan),
        E(
            "dtype",
            base,
            TypeError,
            "contours\\[0\\] must hold an integer",
            args={1: [pt.astype(np.float32)]},
        ),
        E(
            "rank",
            base,
            ValueError,
            "contours\\[0\\] must be a.* .n, 2.",
            args={1: [np.ones((2, 3), np.int32)]},
        ),
        E(
            "size",
            base,
            ValueError,
            "contours\\[0\\] has points .*beyond",
            args={1: [np.array([[0, 0], [1 << 22, 5]], np.int64)]},
        ),
        E(
            "size",
            base,
            ValueError,
            "contours\\[0\\] has points",
            args={1: [np.array([[0, 0], [(1 << 31) - 1, -(1 << 31)]], np.int32)]},
        ),
        E(
            "shape_mismatch",
            base,
            ValueError,
            "hierarchy must be an .N, 4.",
            args={1: [pt, pt]},
            hierarchy=np.zeros((1, 4), np.int32),
        ),
        E(
            "size",
            base,
            ValueError,
            "hierarchy has a cycle",
            args={1: [pt, pt]},
            hierarchy=np.array([[-1, -1, 1, 1], [-1, -1, 0, 0]], np.int32),
        ),
        E("size", base, ValueError, "max_level must be >= 0", max_level=-1),
        E("size", base, TypeError, "offset must be a pair", offset=(1, 2, 3)),
        E(
            "rank",
            base,
            ValueError,
            "at most 4 channels",
            args={0: np.zeros((*img.shape[:2], 5), img.dtype)},
        ),
        E(
            "kernel_too_large",
            base,
            None,
            args={1: [np.array([[-40, -40], [200, -40], [200, 300], [-40, 300]], np.int32)]},
            thickness=-1,
            _binary=np.ones(img.shape[:2], bool),
        ),
    ]


def _draw(image, contours, *args, _binary=None, **kwargs):
    return foveal.draw_contours(image, contours, *args, **kwargs)


DRAW_CONTOURS = OpInfo(
    name="draw_contours",
    func=_draw,
    dtypes=IMAGE_DTYPES,
    make=make_draw_contours,
    shapes=(*image_2d_shapes(), (9, 11, 3), (5, 6, 1), (4, 17, 4)),
    draw_shape=lambda p: (p.integer(1, 24), p.integer(1, 40), p.choice((1, 3)))[: p.choice((2, 3))],
    ref=ref_draw_contours,
    check=check_exact,
    anchor=anchor_draw_contours,
    anchor_name="cv2",
    anchor_dtypes=("uint8",),
    errors=draw_contours_errors,
    out="array",
    na={"option": "no option string"},
)


ENTRIES = [
    KMEANS,
    KMEANS_PREDICT,
    SEGMENT_COLORS,
    LABEL,
    COMPONENT_STATS,
    FIND_CONTOURS,
    measure_entry("contour_area", "oriented", check_float_scalar(1e-12)),
    measure_entry("arc_length", "closed", check_float_scalar(1e-12)),
    measure_entry("bounding_rect", None, check_exact),
]
ENTRIES.insert(6, DRAW_CONTOURS)

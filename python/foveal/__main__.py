"""``python -m foveal``: a demo and quick benchmark of every family built so far.

    python -m foveal [IMAGE] [--size HxW] [--repeat N] [--threads N] [--plot out.png] [--quick]
    python -m foveal bench [--family F] [--quick] ...      (the benchmark suites: foveal._bench)

It runs each demo case on a deterministic synthetic scene (or on IMAGE), checks every result
against ``foveal.reference`` (exactly, or to the case's tolerance where it has one) and prints,
per case, the median time of foveal and of the NumPy reference and the speedup. The exit
status is 0 when every result matches, 1 when one does not (or raises), 2 for a usage or
input error.

To add a family, append its cases to ``CASES``: a name, the foveal call and the reference call,
each taking the input image (the grayscale or the colour variant of the scene), and ``tol``
for float results that may differ in the last bits.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import foveal
from foveal import reference

DEFAULT_SIZE = (1080, 1920)
QUICK_SIZE = (270, 480)
# After its first (checked) run, the NumPy reference is run again only while its runs of a case
# have taken less than this many seconds in all: slow baselines get fewer repeats.
REFERENCE_BUDGET_S = 0.5


class DemoError(Exception):
    """A problem with the arguments or the input: reported in one line, exit status 2."""


# --- The demo cases -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One row of the table: ``run(image)`` (foveal) must equal ``reference(image)`` exactly,
    or, with ``tol`` > 0, to within ``tol`` times the reference's largest magnitude (float
    results summed in another order or through another FFT)."""

    name: str
    run: Callable[[np.ndarray], object]
    reference: Callable[[np.ndarray], np.ndarray]
    input: str = "gray"  # "gray": the (H, W) image; "color": the (H, W, 3) image
    family: str = ""
    plot: bool = False  # show this output in the --plot figure
    tol: float = 0.0  # 0: exact; else max |got - want| <= tol * max |want|
    # The fraction of values that must be equal (k-means: a pixel halfway between two centers
    # may go either way when float32 and float64 distances round differently).
    agree: float = 1.0


def _morphology_case(op: str, shape: str, k: int, *, input: str = "gray", plot=False) -> Case:
    kernel = foveal.structuring_element(shape, k)
    ref_kernel = reference.structuring_element(shape, (k, k))  # independent of foveal's own
    if op in ("erode", "dilate"):
        fov_fn, ref_fn = getattr(foveal, op), getattr(reference, op)

        def run(img):
            return fov_fn(img, kernel)

        def ref(img):
            return ref_fn(img, ref_kernel)
    else:

        def run(img):
            return foveal.morphology(img, op, kernel)

        def ref(img):
            return reference.morphology(img, op, ref_kernel)

    suffix = ", 3 channels" if input == "color" else ""
    return Case(f"{op} {shape} {k}x{k}{suffix}", run, ref, input, "morphology", plot)


def _filter_cases() -> list[Case]:
    """Edges, corners and a band-passed image (filters, corners and frequency families)."""
    return [
        Case(
            "canny 50/150",
            lambda img: foveal.canny(img, 50, 150),
            lambda img: reference.canny(img, 50, 150),
            family="gradients",
            plot=True,
        ),
        Case(
            "harris 2/3/0.04 (tol 1e-5)",
            lambda img: foveal.harris(img, 2, 3, 0.04),
            lambda img: reference.harris(img, 2, 3, 0.04),
            family="corners",
            tol=1e-5,
        ),
        Case(
            "corners 200 q0.01 d10",
            lambda img: foveal.corners(img, 200, 0.01, 10),
            lambda img: reference.corners(img, 200, 0.01, 10),
            family="corners",
        ),
        Case(
            "bandpass gaussian 4-60 (tol 1e-5)",
            lambda img: foveal.bandpass(img, 4, 60, kind="gaussian"),
            lambda img: reference.bandpass(img, 4, 60, "gaussian"),
            family="frequency",
            plot=True,
            tol=1e-5,
        ),
    ]


def _tensor(img: np.ndarray) -> np.ndarray:
    """The (H, W, 3) uint8 image as a (3, H, W) float32 tensor in [0, 1]."""
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32) / 255


def _heads(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queries, keys and values from the image: 8 heads of its first 512 rows of 16 x 16
    patches' means, as (8, L, 48) float32 (a toy sequence: one token per patch)."""
    t = _tensor(img)[:, : img.shape[0] // 16 * 16, : img.shape[1] // 16 * 16]
    c, h, w = t.shape
    tokens = t.reshape(c, h // 16, 16, w // 16, 16).transpose(1, 3, 0, 2, 4).reshape(-1, c * 256)
    tokens = tokens[:512, : 8 * 48].reshape(-1, 8, 48).transpose(1, 0, 2)
    q = np.ascontiguousarray(tokens)
    return q, np.ascontiguousarray(q[:, ::-1]), np.ascontiguousarray(q * 0.5)


def _nn_cases() -> list[Case]:
    """A convolution layer and pools on the colour image as a (3, H, W) tensor (nn family); the
    float64 references rounded to float32, the output dtype."""
    weight = np.random.default_rng(7).standard_normal((8, 3, 3, 3)).astype(np.float32)
    bias = np.linspace(-1, 1, 8, dtype=np.float32)
    return [
        Case(
            "attention 8 heads causal (tol 1e-5)",
            lambda img: foveal.nn.scaled_dot_product_attention(*_heads(img), is_causal=True),
            lambda img: reference.scaled_dot_product_attention(*_heads(img), is_causal=True).astype(
                np.float32
            ),
            input="color",
            family="attention",
            tol=1e-5,
        ),
        Case(
            "conv2d 3->8 3x3 pad 1 (tol 1e-5)",
            lambda img: foveal.nn.conv2d(_tensor(img), weight, bias, padding=1),
            lambda img: reference.conv2d(_tensor(img), weight, bias, padding=1).astype(np.float32),
            input="color",
            family="nn",
            tol=1e-5,
        ),
        Case(
            "max_pool2d 3x3 s2 p1",
            lambda img: foveal.nn.max_pool2d(_tensor(img), 3, 2, 1),
            lambda img: reference.max_pool2d(_tensor(img), 3, 2, 1).astype(np.float32),
            input="color",
            family="nn",
        ),
        Case(
            "avg_pool2d 3x3 s1 p1 (tol 1e-6)",
            lambda img: foveal.nn.avg_pool2d(_tensor(img), 3, 1, 1),
            lambda img: reference.avg_pool2d(_tensor(img), 3, 1, 1).astype(np.float32),
            input="color",
            family="nn",
            tol=1e-6,
        ),
    ]


def _binary(img: np.ndarray) -> np.ndarray:
    """The grayscale image thresholded at its mean: the regions the segmentation cases find."""
    return img > img.mean()


def _border_pixels(binary: np.ndarray) -> np.ndarray:
    """255 on every foreground pixel with a background pixel (or the image's edge) among its 4
    neighbours: the pixels on the borders Suzuki-Abe follows, so the contours drawn one pixel
    wide must cover exactly these."""
    padded = np.pad(binary, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return np.where(binary & ~inner, 255, 0).astype(np.uint8)


def _flat_contours(found) -> np.ndarray:
    """Every contour's points, then the hierarchy, as one int array to compare."""
    contours, hierarchy = found
    return np.concatenate([*(c.ravel() for c in contours), np.asarray(hierarchy).ravel()])


def _quantized(img: np.ndarray, run) -> np.ndarray:
    """Colour quantization to 8 colours by 20 k-means iterations from fixed initial centers
    (every 97th distinct colour), by ``run(pixels, init)`` returning (centers, labels)."""
    pixels = img.reshape(-1, 3).astype(np.float32)
    colours = np.unique(pixels, axis=0)
    init = colours[np.linspace(0, len(colours) - 1, 8).astype(int)]
    centers, labels = run(pixels, init)
    out = np.clip(np.rint(np.asarray(centers)[np.asarray(labels)]), 0, 255).astype(np.uint8)
    return out.reshape(img.shape)


def _segment_cases() -> list[Case]:
    """Colour segmentation by k-means, and the regions of the thresholded image: labels with
    statistics, contours, and the contours drawn (segmentation family)."""

    def fv_kmeans(x, init):
        r = foveal.kmeans(x, 8, init=init, max_iter=20)
        return r.centers, r.labels

    def ref_kmeans(x, init):
        r = reference.kmeans(x, 8, init=init, max_iter=20)
        return r.centers, r.labels

    return [
        Case(
            "segment_colors k=8 (>= 99.9% equal)",
            lambda img: _quantized(img, fv_kmeans),
            lambda img: _quantized(img, ref_kmeans),
            input="color",
            family="segmentation",
            plot=True,
            agree=0.999,
        ),
        Case(
            "label 8-conn with stats",
            lambda img: foveal.label(_binary(img), return_stats=True)[0],
            lambda img: reference.label(_binary(img))[0],
            family="segmentation",
        ),
        Case(
            "find_contours tree simple",
            lambda img: _flat_contours(foveal.find_contours(_binary(img))),
            lambda img: _flat_contours(reference.find_contours(_binary(img))),
            family="segmentation",
        ),
        Case(
            "draw_contours 1px (border pixels)",
            lambda img: foveal.draw_contours(
                np.zeros(img.shape, np.uint8), foveal.find_contours(_binary(img))[0]
            ),
            lambda img: _border_pixels(_binary(img)),
            family="segmentation",
            plot=True,
        ),
    ]


CASES: list[Case] = [
    _morphology_case("dilate", "rect", 5),
    _morphology_case("erode", "rect", 5),
    _morphology_case("dilate", "rect", 15, plot=True),
    _morphology_case("erode", "rect", 15),
    _morphology_case("open", "rect", 5),
    _morphology_case("close", "rect", 5),
    _morphology_case("gradient", "ellipse", 5, plot=True),
    _morphology_case("tophat", "rect", 9, plot=True),
    _morphology_case("blackhat", "rect", 9),
    _morphology_case("dilate", "rect", 5, input="color", plot=True),
    *_filter_cases(),
    *_nn_cases(),
    *_segment_cases(),
]


# --- The input ------------------------------------------------------------------------------


def synthetic_scene(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A deterministic (height, width, 3) uint8 RGB scene: gradients, filled circles and
    rectangles, lines, textured patches, bright specks and mild noise."""
    h, w = height, width
    y = (np.arange(h, dtype=np.float32) / max(h - 1, 1))[:, None]
    x = (np.arange(w, dtype=np.float32) / max(w - 1, 1))[None, :]
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 40 + 120 * x + 20 * y
    img[..., 1] = 30 + 110 * y
    img[..., 2] = 110 - 60 * x + 40 * x * y
    s = min(h, w)

    def box(y0, y1, x0, x1):
        """The slices of the pixel box [y0, y1) x [x0, x1) (fractions of the size) in range."""
        r0, r1 = max(int(y0 * h), 0), min(int(np.ceil(y1 * h)), h)
        c0, c1 = max(int(x0 * w), 0), min(int(np.ceil(x1 * w)), w)
        return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))

    def grid(rs, cs):
        return np.mgrid[rs, cs].astype(np.float32)

    # Filled rectangles.
    for y0, y1, x0, x1, colour in [
        (0.08, 0.30, 0.05, 0.25, (230, 200, 40)),
        (0.60, 0.92, 0.70, 0.95, (40, 90, 200)),
        (0.40, 0.55, 0.30, 0.62, (200, 60, 60)),
    ]:
        img[box(y0, y1, x0, x1)] = colour
    # Filled circles: centre and radius as fractions of the height / the shorter side.
    for cy, cx, r, colour in [
        (0.30, 0.50, 0.18, (250, 250, 250)),
        (0.75, 0.20, 0.15, (20, 160, 80)),
        (0.20, 0.85, 0.10, (180, 40, 180)),
        (0.78, 0.50, 0.06, (10, 10, 10)),
    ]:
        py, px, pr = cy * (h - 1), cx * (w - 1), r * s
        rs, cs = box((py - pr) / h, (py + pr + 1) / h, (px - pr) / w, (px + pr + 1) / w)
        yy, xx = grid(rs, cs)
        img[rs, cs][(yy - py) ** 2 + (xx - px) ** 2 <= pr * pr] = colour
    # Lines with a thickness: pixels within half of it of the segment.
    for y0, x0, y1, x1, thick, colour in [
        (0.05, 0.05, 0.95, 0.60, 0.006, (255, 255, 255)),
        (0.90, 0.10, 0.50, 0.98, 0.003, (0, 0, 0)),
        (0.50, 0.02, 0.50, 0.40, 0.010, (255, 140, 0)),
    ]:
        a = np.array([y0 * (h - 1), x0 * (w - 1)], np.float32)
        b = np.array([y1 * (h - 1), x1 * (w - 1)], np.float32)
        half = max(thick * s / 2, 0.5)
        lo, hi = np.minimum(a, b) - half, np.maximum(a, b) + half + 1
        rs, cs = box(lo[0] / h, hi[0] / h, lo[1] / w, hi[1] / w)
        yy, xx = grid(rs, cs)
        d = b - a
        t = ((yy - a[0]) * d[0] + (xx - a[1]) * d[1]) / max(float(d @ d), 1e-6)
        t = np.clip(t, 0, 1)
        dist2 = (yy - a[0] - t * d[0]) ** 2 + (xx - a[1] - t * d[1]) ** 2
        img[rs, cs][dist2 <= half * half] = colour
    # Textures: a checkerboard, diagonal stripes and a field of random dots.
    rs, cs = box(0.05, 0.35, 0.62, 0.78)
    yy, xx = grid(rs, cs)
    img[rs, cs] = np.where(((yy // 6 + xx // 6) % 2 == 0)[..., None], 220, 35)
    rs, cs = box(0.62, 0.95, 0.30, 0.45)
    yy, xx = grid(rs, cs)
    img[rs, cs] = (128 + 100 * np.sin((yy + xx) * 0.45))[..., None] * [1.0, 0.8, 0.5]
    rng = np.random.default_rng(seed)
    rs, cs = box(0.35, 0.60, 0.80, 0.98)
    patch = img[rs, cs]
    patch[rng.random(patch.shape[:2]) < 0.15] = (255, 230, 120)
    # Bright specks everywhere (what an opening removes and a top-hat finds), then noise.
    n = max(h * w // 4000, 1)
    img[rng.integers(0, h, n), rng.integers(0, w, n)] = 255
    img += rng.normal(0.0, 3.0, img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of an (H, W, 3) image, in its dtype (as cv2.COLOR_RGB2GRAY)."""
    luma = rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if rgb.dtype.kind == "f":
        return luma.astype(rgb.dtype)
    info = np.iinfo(rgb.dtype)
    return np.clip(np.rint(luma), info.min, info.max).astype(rgb.dtype)


def load_image(path: str) -> np.ndarray:
    """The image at ``path`` as (H, W) or (H, W, 3[+alpha]) RGB, by OpenCV or matplotlib."""
    if not os.path.exists(path):
        raise DemoError(f"cannot read image {path!r}: no such file")
    if not os.path.isfile(path):
        raise DemoError(f"cannot read image {path!r}: not a file")
    try:
        import cv2
    except ImportError:
        cv2 = None  # type: ignore[assignment]
    if cv2 is not None:
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if img is None:
            raise DemoError(f"cannot read image {path!r}: OpenCV cannot decode it")
        if img.ndim == 3 and img.shape[2] >= 3:  # OpenCV's BGR(A) to RGB(A)
            img = img[..., [2, 1, 0, *range(3, img.shape[2])]]
        return img
    try:
        import matplotlib.image
    except ImportError:
        raise DemoError(
            "reading an image needs OpenCV (pip install opencv-python-headless) or matplotlib "
            "(pip install matplotlib), and neither is installed; run without IMAGE for the "
            "synthetic scene"
        ) from None
    try:
        return matplotlib.image.imread(path)
    except Exception as exc:  # noqa: BLE001 - any decoder error is a bad input file
        raise DemoError(f"cannot read image {path!r}: {exc}") from None


def prepare(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (grayscale, colour) variants of an image: C-contiguous, in a dtype foveal takes."""
    if img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    elif img.dtype.kind == "f":
        finite = img[np.isfinite(img)]
        if finite.size and finite.min() >= 0 and finite.max() <= 1:  # matplotlib's PNGs
            img = np.rint(np.nan_to_num(img) * 255).astype(np.uint8)
        else:
            img = img.astype(np.float32)
    elif img.dtype not in (np.uint8, np.uint16, np.int16):
        raise DemoError(f"images of dtype {img.dtype} are not supported by the demo")
    if img.ndim == 3 and img.shape[2] >= 3:
        colour = np.ascontiguousarray(img[..., :3])
        gray = to_gray(colour)
    elif img.ndim == 3 and img.shape[2] in (1, 2):  # gray, gray + alpha
        gray = np.ascontiguousarray(img[..., 0])
        colour = None
    elif img.ndim == 2:
        gray, colour = np.ascontiguousarray(img), None
    else:
        raise DemoError(f"expected an (H, W) or (H, W, C) image, got shape {img.shape}")
    if colour is None:  # a gray image: give the multi-channel case three different channels
        colour = np.ascontiguousarray(np.stack([gray, gray[::-1], gray[:, ::-1]], axis=2))
    return gray, colour


def resize_nearest(img: np.ndarray, height: int, width: int) -> np.ndarray:
    rows = np.arange(height) * img.shape[0] // height
    cols = np.arange(width) * img.shape[1] // width
    return np.ascontiguousarray(img[rows][:, cols])


# --- Running, checking, timing ---------------------------------------------------------------


@dataclass
class Result:
    case: Case
    shape: tuple
    ok: bool
    detail: str = ""
    foveal_s: float = float("nan")
    reference_s: float = float("nan")
    reference_runs: int = 0
    output: np.ndarray | None = None


def _compare(got: np.ndarray, want: np.ndarray, tol: float = 0.0, agree: float = 1.0) -> str:
    """'' when ``got`` equals ``want`` exactly (NaN equal to NaN), or with ``tol`` > 0 to
    within ``tol`` * max |want|, or in at least the fraction ``agree`` of its values, else what
    differs."""
    if got.shape != want.shape:
        return f"shape {got.shape}, reference {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype}, reference {want.dtype}"
    if np.array_equal(got, want, equal_nan=got.dtype.kind == "f"):
        return ""
    if agree < 1.0 and float(np.mean(got == want)) >= agree:
        return ""
    if tol > 0 and np.isfinite(want).all() and np.isfinite(got).all():
        bound = tol * (float(np.abs(want).max()) or 1.0)
        if float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max()) <= bound:
            return ""
    differ = got != want
    if got.dtype.kind == "f":
        differ &= ~(np.isnan(got) & np.isnan(want))
    first = tuple(int(i) for i in np.argwhere(differ)[0])
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))[differ].max()
    return f"{int(differ.sum())} of {got.size} values differ (max {diff:g}), first at {first}"


def run_case(case: Case, image: np.ndarray, repeat: int) -> Result:
    result = Result(case, image.shape, ok=False)
    try:
        got = np.asarray(case.run(image))  # warm-up, and the result that is checked
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            case.run(image)
            times.append(time.perf_counter() - t0)
        result.foveal_s = statistics.median(times)
    except Exception as exc:  # noqa: BLE001 - a failing case is reported, not fatal
        result.detail = f"foveal raised {type(exc).__name__}: {exc}"
        return result
    times = []
    try:
        t0 = time.perf_counter()
        want = np.asarray(case.reference(image))
        times.append(time.perf_counter() - t0)
        while len(times) < repeat and sum(times) < REFERENCE_BUDGET_S:
            t0 = time.perf_counter()
            case.reference(image)
            times.append(time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001
        result.detail = f"the reference raised {type(exc).__name__}: {exc}"
        return result
    result.reference_s, result.reference_runs = statistics.median(times), len(times)
    result.detail = _compare(got, want, case.tol, case.agree)
    result.ok = not result.detail
    result.output = got
    return result


def header() -> str:
    info = foveal.show_config(file=io.StringIO())
    built = "/".join(info["cpu_isas_usable"])
    threads = f"{info['threads']} thread{'s' if info['threads'] != 1 else ''}"
    cuda = "built" if info["cuda_module_built"] else "not built"
    if info["cuda_module_built"]:
        cuda += f", {len(info['cuda_devices'])} device(s)"
    return (
        f"foveal {info['foveal']} | ISA {info['cpu_isa']} (detected {info['cpu_isa_detected']}, "
        f"usable {built}) | {threads} | CUDA module {cuda} | "
        f"NumPy {info['numpy']} | {info['compiler']}"
    )


def _shape(shape) -> str:
    return "x".join(map(str, shape))


class Table:
    """The results table, printed a row at a time as the cases run."""

    def __init__(self, cases: list[Case], inputs: dict[str, np.ndarray], repeat: int):
        self.repeat = repeat
        self.name_w = max(len("operation"), *(len(c.name) for c in cases))
        self.shape_w = max(len("input"), *(len(_shape(a.shape)) for a in inputs.values()))
        self.fewer = False
        self.width = 0

    def head(self) -> str:
        line = (
            f"{'operation':<{self.name_w}}  {'input':<{self.shape_w}}  {'foveal ms':>10}  "
            f"{'NumPy ms':>10}  {'speedup':>8}  check"
        )
        self.width = len(line)
        return f"{line}\n{'-' * len(line)}"

    def row(self, r: Result) -> str:
        fov = f"{r.foveal_s * 1e3:10.2f}" if r.foveal_s == r.foveal_s else f"{'-':>10}"
        if r.reference_runs:
            mark = "*" if r.reference_runs < self.repeat else " "
            self.fewer |= mark == "*"
            ref = f"{r.reference_s * 1e3:9.2f}{mark}"
        else:
            ref = f"{'-':>10}"
        if r.reference_runs and r.foveal_s > 0:
            speedup = f"{r.reference_s / r.foveal_s:7.1f}x"
        else:
            speedup = f"{'-':>8}"
        check = "OK" if r.ok else f"MISMATCH: {r.detail}"
        return (
            f"{r.case.name:<{self.name_w}}  {_shape(r.shape):<{self.shape_w}}  {fov}  {ref}  "
            f"{speedup}  {check}"
        )

    def foot(self) -> str:
        runs = f"{self.repeat} run{'s' if self.repeat > 1 else ''}"
        note = f"times: median of {runs} after a warm-up"
        if self.fewer:
            note += "; * NumPy reference timed with fewer runs because it is slow"
        return f"{'-' * self.width}\n{note}"


def write_plot(path: str, gray: np.ndarray, results: list[Result]) -> None:
    """The figure: the input, a few outputs and the speedups. Raises DemoError if it cannot be
    written; prints a note and returns if matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(f"--plot {path}: skipped, it needs matplotlib (pip install matplotlib)")
        return
    shown = [r for r in results if r.case.plot and r.output is not None][:4]
    timed = [r for r in results if r.reference_runs and r.foveal_s > 0]
    ncols = len(shown) + 1
    panel_h = 3.2 * min(max(gray.shape[0] / max(gray.shape[1], 1), 0.3), 2.0) + 0.4
    chart_h = 0.3 * len(timed) + 1.2
    fig = Figure(figsize=(3.2 * ncols, panel_h + chart_h), layout="constrained")
    grid = fig.add_gridspec(2, ncols, height_ratios=[panel_h, chart_h])
    panels = [("input (grayscale)", gray)]
    panels += [(r.case.name, r.output) for r in shown if r.output is not None]
    for i, (title, img) in enumerate(panels):
        ax = fig.add_subplot(grid[0, i])
        if img.ndim == 2:
            ax.imshow(img, cmap="gray", interpolation="nearest")
        else:
            ax.imshow(img, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    ax = fig.add_subplot(grid[1, :])
    names = [r.case.name for r in timed]
    speedups = [r.reference_s / r.foveal_s for r in timed]
    colours = ["tab:blue" if r.ok else "tab:red" for r in timed]
    ax.barh(names[::-1], speedups[::-1], color=colours[::-1])
    ax.axvline(1.0, color="black", linewidth=0.8)
    for y, s in enumerate(speedups[::-1]):
        ax.text(s, y, f" {s:.1f}x", va="center", fontsize=8)
    ax.set_xlabel("speedup over the NumPy reference (higher is better)")
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(header(), fontsize=8)
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as exc:  # a missing folder, an unknown extension...
        raise DemoError(f"cannot write the plot to {path!r}: {exc}") from None
    print(f"wrote {path}")


# --- Command line ---------------------------------------------------------------------------


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().replace(",", "x").split("x")
    try:
        h, w = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW such as 1080x1920, got {text!r}") from None
    if h < 1 or w < 1 or h * w > 1 << 28:
        raise argparse.ArgumentTypeError(f"size must be positive and at most 2^28 pixels: {text}")
    return h, w


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {n}")
    return n


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m foveal",
        description="Run every foveal kernel on a synthetic scene or an image, check each "
        "result against the NumPy reference exactly, and time both.",
        epilog="python -m foveal bench --help: the pytest-benchmark suites against NumPy and "
        "the anchor libraries.",
    )
    p.add_argument("image", nargs="?", help="an image file (default: a synthetic scene)")
    p.add_argument(
        "--size",
        type=_size,
        metavar="HxW",
        help=f"size of the synthetic scene (default {DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}); "
        "an IMAGE is resampled to it",
    )
    p.add_argument(
        "--repeat", type=_positive, default=5, metavar="N", help="timed runs (default 5)"
    )
    p.add_argument("--threads", type=_positive, metavar="N", help="CPU threads for foveal")
    p.add_argument("--plot", metavar="OUT.png", help="write a figure (needs matplotlib)")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"a {QUICK_SIZE[0]}x{QUICK_SIZE[1]} synthetic scene",
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from foveal import _bench

        return _bench.main(argv[1:])
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        if args.threads is not None:
            foveal.set_num_threads(args.threads)
        if args.image is not None:
            img = load_image(args.image)
            if args.size is not None:
                img = resize_nearest(img, *args.size)
            source = f"image {args.image}"
        else:
            size = args.size or (QUICK_SIZE if args.quick else DEFAULT_SIZE)
            img = synthetic_scene(*size)
            source = "synthetic scene"
        gray, colour = prepare(img)
    except DemoError as exc:
        print(f"python -m foveal: error: {exc}", file=sys.stderr)
        return 2
    inputs = {"gray": gray, "color": colour}

    print(header())
    print(f"input: {source}, {gray.shape[0]}x{gray.shape[1]} {gray.dtype}\n")
    table = Table(CASES, inputs, args.repeat)
    print(table.head())
    results = []
    for case in CASES:
        results.append(run_case(case, inputs[case.input], args.repeat))
        print(table.row(results[-1]), flush=True)
    print(table.foot())
    failed = [r for r in results if not r.ok]
    status = 1 if failed else 0
    if args.plot:
        try:
            write_plot(args.plot, gray, results)
        except DemoError as exc:
            print(f"python -m foveal: error: {exc}", file=sys.stderr)
            status = status or 2
    elapsed = time.perf_counter() - start
    if failed:
        print(
            f"\n{len(failed)} of {len(results)} results differ from foveal.reference "
            f"({elapsed:.1f} s)"
        )
        return status
    within = sum(1 for r in results if r.case.tol > 0)
    how = f", {within} marked 'tol' within tolerance" if within else ""
    print(f"\nall {len(results)} results equal foveal.reference exactly{how} ({elapsed:.1f} s)")
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into head and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)

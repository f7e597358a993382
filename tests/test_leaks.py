"""Leaks: 10,000 calls of each public function grow the process's resident memory by less than
5 MB, failing calls (bad input) included, since error paths are where buffers and references
are most often lost.

Each call gets a fresh input (a copy of a small base array, a few KB): a binding that kept a
reference to its input or its output, or a native buffer never freed, would grow memory by
that many KB per call (tens of MB over the loop), far past the limit. Reference counts of the
inputs are checked exactly as well. Every fifth call is a bad one that must raise TypeError or
ValueError. Under the sanitizer run (FOVEAL_SANITIZED=1: ASan's quarantine holds freed memory,
so RSS says nothing) the loops run 300 calls each, for ASan's own checks, and memory is not
measured.
"""

from __future__ import annotations

import gc
import os
import sys

import foveal
import foveal.nn as fnn
import numpy as np
import pytest

# FOVEAL_SANITIZED=1 is set by .ci/sanitize.sh; an ASan preload says the same.
SANITIZED = os.environ.get("FOVEAL_SANITIZED") == "1" or "libasan" in os.environ.get(
    "LD_PRELOAD", ""
)
CALLS = 300 if SANITIZED else 10_000
WARMUP = 200
LIMIT_MB = 5.0
BAD_EVERY = 5  # one call in five is a bad one

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE / 2**20


_rng = np.random.default_rng(4)
U8 = _rng.integers(0, 256, (64, 72), dtype=np.uint8)  # 4.5 KB
U8_SMALL = _rng.integers(0, 256, (32, 40), dtype=np.uint8)  # 1.3 KB
RGB = _rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
F32 = _rng.standard_normal((40, 36)).astype(np.float32)  # 5.6 KB
BIN = (foveal.gaussian_blur(_rng.random((64, 72)).astype(np.float32), 7, 2) > 0.5).astype(np.uint8)
CONTOURS, _ = foveal.find_contours(BIN, "list", "none")
CONTOUR = max(CONTOURS, key=len).astype(np.float64)
PTS = _rng.standard_normal((300, 3)).astype(np.float32)  # 3.6 KB
X = _rng.standard_normal((1, 3, 20, 20)).astype(np.float32)  # 4.8 KB
W = _rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
Q = _rng.standard_normal((1, 2, 40, 8)).astype(np.float32)  # 2.5 KB each
SEQ = _rng.standard_normal((2, 30, 8)).astype(np.float32)
IN_PROJ = _rng.standard_normal((24, 8)).astype(np.float32)
W6 = _rng.standard_normal((6, 8)).astype(np.float32)
V6 = _rng.standard_normal(6).astype(np.float32)
W_S2 = _rng.standard_normal((2, 6)).astype(np.float32)
BAD_IMAGE = U8.astype(np.int64)
RO_OUT = np.zeros_like(U8)
RO_OUT.flags.writeable = False


def _fresh(base):
    return base.copy()


# name -> (good call on a fresh input, [bad calls]); every public function has an entry
CASES = {
    "structuring_element": (
        lambda: foveal.structuring_element("ellipse", (25, 31)),
        [
            lambda: foveal.structuring_element("star", 3),
            lambda: foveal.structuring_element("rect", 0),
        ],
    ),
    "erode": (
        lambda: foveal.erode(_fresh(U8), 5),
        [lambda: foveal.erode(BAD_IMAGE, 3), lambda: foveal.erode(_fresh(U8), 3, out=RO_OUT)],
    ),
    "dilate": (
        lambda: foveal.dilate(_fresh(RGB), (3, 7), border="reflect", iterations=2),
        [lambda: foveal.dilate(_fresh(U8), 3, border="bogus"), lambda: foveal.dilate([1, 2], 3)],
    ),
    "morphology": (
        lambda: foveal.morphology(_fresh(F32), "tophat", 5),
        [
            lambda: foveal.morphology(_fresh(U8), "thin", 3),
            lambda: foveal.morphology(_fresh(U8), "open", 3, anchor=(9, 9)),
        ],
    ),
    "filter2d": (
        lambda: foveal.filter2d(_fresh(F32), np.ones((3, 4), np.float32)),
        [
            lambda: foveal.filter2d(_fresh(F32), np.ones((3, 3, 3))),
            lambda: foveal.filter2d(_fresh(U8), np.ones((3, 3)), out=np.zeros((2, 2), np.uint8)),
        ],
    ),
    "sep_filter2d": (
        lambda: foveal.sep_filter2d(_fresh(U8), [1.0, 2.0, 1.0], [1.0, 0.0, -1.0], dtype="float32"),
        [
            lambda: foveal.sep_filter2d(_fresh(U8), [], [1.0]),
            lambda: foveal.sep_filter2d(_fresh(U8), [1.0], [1.0], dtype="int64"),
        ],
    ),
    "box_filter": (
        lambda: foveal.box_filter(_fresh(U8), 5),
        [lambda: foveal.box_filter(_fresh(U8), -3), lambda: foveal.box_filter(BAD_IMAGE, 3)],
    ),
    "gaussian_blur": (
        lambda: foveal.gaussian_blur(_fresh(RGB), 5, 1.1),
        [
            lambda: foveal.gaussian_blur(_fresh(U8), 4, 1.0),
            lambda: foveal.gaussian_blur(U8, 5, float("nan")),
        ],
    ),
    "sobel": (
        lambda: foveal.sobel(_fresh(U8), 1, 0),
        [lambda: foveal.sobel(_fresh(U8), 0, 0), lambda: foveal.sobel(_fresh(U8), 1, 0, ksize=4)],
    ),
    "scharr": (
        lambda: foveal.scharr(_fresh(F32), 0, 1),
        [lambda: foveal.scharr(_fresh(F32), 1, 1)],
    ),
    "gradient": (
        lambda: foveal.gradient(_fresh(U8)),
        [
            lambda: foveal.gradient(_fresh(U8), ksize=2),
            lambda: foveal.gradient(np.zeros((0, 5), np.uint8)),
        ],
    ),
    "canny": (
        lambda: foveal.canny(_fresh(U8), 30, 90),
        [
            lambda: foveal.canny(_fresh(F32), 30, 90),
            lambda: foveal.canny(_fresh(U8), 30, 90, ksize=9),
        ],
    ),
    "harris": (
        lambda: foveal.harris(_fresh(U8), 3, 3, 0.04),
        [lambda: foveal.harris(_fresh(RGB), 3, 3), lambda: foveal.harris(_fresh(U8), 0, 3)],
    ),
    "min_eigen": (
        lambda: foveal.min_eigen(_fresh(F32)),
        [lambda: foveal.min_eigen(_fresh(F32), 3, 6)],
    ),
    "corners": (
        lambda: foveal.corners(_fresh(U8_SMALL), 8, 0.01, 3),
        [
            lambda: foveal.corners(_fresh(U8), 20, 0.0, 3),
            lambda: foveal.corners(_fresh(U8), 20, method="fast"),
        ],
    ),
    "spectrum": (
        lambda: foveal.spectrum(_fresh(F32)),
        [lambda: foveal.spectrum(np.zeros((4, 4), np.complex64))],
    ),
    "bandpass": (
        lambda: foveal.bandpass(_fresh(F32), 2, 10, kind="butterworth"),
        [
            lambda: foveal.bandpass(_fresh(F32), 5, 2),
            lambda: foveal.bandpass(_fresh(F32), 1, 5, kind="box"),
        ],
    ),
    "kmeans": (
        lambda: foveal.kmeans(_fresh(PTS), 4, init=PTS[:4], max_iter=2),
        [lambda: foveal.kmeans(_fresh(PTS), 0), lambda: foveal.kmeans(np.full((5, 2), np.nan), 2)],
    ),
    "kmeans_predict": (
        lambda: foveal.kmeans_predict(_fresh(PTS), PTS[:5]),
        [lambda: foveal.kmeans_predict(_fresh(PTS), PTS[:5, :2])],
    ),
    "segment_colors": (
        lambda: foveal.segment_colors(
            _fresh(RGB), 3, init=RGB[0, :3].astype(np.float32), max_iter=2
        ),
        [lambda: foveal.segment_colors(_fresh(RGB).astype(np.int64), 3)],
    ),
    "label": (
        lambda: foveal.label(_fresh(BIN), return_stats=True),
        [
            lambda: foveal.label(_fresh(BIN), 6),
            lambda: foveal.label(np.zeros((3, 3, 3, 3), np.uint8)),
        ],
    ),
    "component_stats": (
        lambda: foveal.component_stats(foveal.label(_fresh(BIN))[0]),
        [
            lambda: foveal.component_stats(_fresh(F32)),
            lambda: foveal.component_stats(np.array([[-1, 2]])),
        ],
    ),
    "find_contours": (
        lambda: foveal.find_contours(_fresh(BIN), "tree", "none"),
        [
            lambda: foveal.find_contours(_fresh(BIN), "forest"),
            lambda: foveal.find_contours(BIN, offset=(1,)),
        ],
    ),
    "contour_area": (
        lambda: foveal.contour_area(_fresh(CONTOUR), oriented=True),
        [lambda: foveal.contour_area(np.zeros((4, 3)))],
    ),
    "arc_length": (
        lambda: foveal.arc_length(_fresh(CONTOUR)),
        [lambda: foveal.arc_length(np.array([[0.0, np.inf], [1.0, 1.0]]))],
    ),
    "bounding_rect": (
        lambda: foveal.bounding_rect(_fresh(CONTOUR)),
        [lambda: foveal.bounding_rect("points")],
    ),
    "draw_contours": (
        lambda: foveal.draw_contours(_fresh(U8), CONTOURS, -1, 200, 2),
        [
            lambda: foveal.draw_contours(_fresh(U8), CONTOURS, len(CONTOURS) + 5),
            lambda: foveal.draw_contours(_fresh(U8), CONTOURS, -1, 255, 0),
        ],
    ),
    "nn.conv2d": (
        lambda: fnn.conv2d(_fresh(X), W, padding=1),
        [
            lambda: fnn.conv2d(_fresh(X), W[:, :2]),
            lambda: fnn.conv2d(_fresh(X).astype(np.float16), W),
        ],
    ),
    "nn.max_pool2d": (
        lambda: fnn.max_pool2d(_fresh(X), 3, 2, 1, ceil_mode=True, return_indices=True),
        [lambda: fnn.max_pool2d(_fresh(X), 3, padding=2), lambda: fnn.max_pool2d(_fresh(X), 0)],
    ),
    "nn.avg_pool2d": (
        lambda: fnn.avg_pool2d(_fresh(X), 2, ceil_mode=True, count_include_pad=False),
        [lambda: fnn.avg_pool2d(_fresh(X), 2, divisor_override=0)],
    ),
    "nn.lp_pool2d": (
        lambda: fnn.lp_pool2d(_fresh(X), 3.0, 2),
        [lambda: fnn.lp_pool2d(_fresh(X), 0.0, 2)],
    ),
    "nn.adaptive_avg_pool2d": (
        lambda: fnn.adaptive_avg_pool2d(_fresh(X), (3, 5)),
        [lambda: fnn.adaptive_avg_pool2d(_fresh(X), (0, 5))],
    ),
    "nn.adaptive_max_pool2d": (
        lambda: fnn.adaptive_max_pool2d(_fresh(X), 4, return_indices=True),
        [lambda: fnn.adaptive_max_pool2d(_fresh(X)[0, 0], 4)],
    ),
    "nn.patchify": (
        lambda: fnn.patchify(_fresh(X), 4),
        [lambda: fnn.patchify(_fresh(X), 3)],
    ),
    "nn.unpatchify": (
        lambda: fnn.unpatchify(fnn.patchify(_fresh(X), 5), 5, (20, 20)),
        [lambda: fnn.unpatchify(fnn.patchify(_fresh(X), 5), 5, (20, 21))],
    ),
    "nn.scaled_dot_product_attention": (
        lambda: fnn.scaled_dot_product_attention(_fresh(Q), _fresh(Q), _fresh(Q), is_causal=True),
        [
            lambda: fnn.scaled_dot_product_attention(Q, Q[..., :7], Q),
            lambda: fnn.scaled_dot_product_attention(Q, Q, Q, dropout_p=0.5),
        ],
    ),
    "nn.multi_head_attention": (
        lambda: fnn.multi_head_attention(
            _fresh(SEQ), SEQ, SEQ, 2, IN_PROJ, None, IN_PROJ[:8], None
        ),
        [lambda: fnn.multi_head_attention(SEQ, SEQ, SEQ, 3, IN_PROJ, None, IN_PROJ[:8], None)],
    ),
    "nn.additive_attention": (
        lambda: fnn.additive_attention(_fresh(SEQ[:, 0]), SEQ, SEQ, W6, W6, V6),
        [lambda: fnn.additive_attention(SEQ[:, 0], SEQ, SEQ, W6, W6[:, :5], V6)],
    ),
    "nn.luong_attention": (
        lambda: fnn.luong_attention(_fresh(SEQ[:, 0]), SEQ, SEQ),
        [lambda: fnn.luong_attention(SEQ[:, 0], SEQ, SEQ, "cosine")],
    ),
    "nn.self_attentive_pooling": (
        lambda: fnn.self_attentive_pooling(_fresh(SEQ), W6, W_S2),
        [lambda: fnn.self_attentive_pooling(SEQ, W6, W_S2[:, :4])],
    ),
}


def _public_functions() -> set[str]:
    names = {n for n in foveal.__all__ if callable(getattr(foveal, n))}
    names -= {"KMeansResult", "get_isa", "set_isa", "get_num_threads", "set_num_threads"}
    names -= {"num_threads", "show_config", "nn", "set_output_cache", "get_output_cache"}
    return names | {f"nn.{n}" for n in fnn.__all__}


def test_every_public_function_has_a_case():
    assert set(CASES) == _public_functions()


def _loop(name: str, calls: int) -> None:
    good, bad = CASES[name]
    for i in range(calls):
        if i % BAD_EVERY == BAD_EVERY - 1:
            try:
                bad[(i // BAD_EVERY) % len(bad)]()
            except (TypeError, ValueError):
                pass
            else:
                raise AssertionError(
                    f"{name}: bad call {(i // BAD_EVERY) % len(bad)} did not raise"
                )
        else:
            good()


@pytest.mark.parametrize("name", list(CASES))
def test_calls_do_not_grow_memory(name):
    _loop(name, WARMUP)
    gc.collect()
    before = rss_mb()
    _loop(name, CALLS)
    gc.collect()
    growth = rss_mb() - before
    print(f"leak {name}: {CALLS} calls, RSS {before:.1f} MB -> {before + growth:.1f} MB")
    if not SANITIZED:
        assert growth < LIMIT_MB, f"{name}: {CALLS} calls grew RSS by {growth:.1f} MB"


# Exact reference counts: an input, an out= array or a kernel kept alive by a binding.
REFCOUNT_CALLS = {
    "erode out=": lambda a, o: foveal.erode(a, 3, out=o),
    "filter2d": lambda a, o: foveal.filter2d(a, np.ones((3, 3), np.float32), out=o),
    "canny": lambda a, o: foveal.canny(a, 10, 30, out=o),
    "label": lambda a, o: foveal.label(a, out=o.view(np.int32)[:, : a.shape[1] // 4]),
    "box_filter error": lambda a, o: foveal.box_filter(a, 3, out=o[:2]),
    "dilate bad border": lambda a, o: foveal.dilate(a, 3, border="bogus", out=o),
}


@pytest.mark.parametrize("name", list(REFCOUNT_CALLS))
def test_reference_counts_unchanged(name):
    a = np.ascontiguousarray(U8[:, :64])
    o = np.zeros_like(a)
    fn = REFCOUNT_CALLS[name]
    ref_a, ref_o = sys.getrefcount(a), sys.getrefcount(o)
    for _ in range(100):
        try:
            result = fn(a, o)
        except (TypeError, ValueError):
            pass
        else:
            del result
    gc.collect()
    assert (sys.getrefcount(a), sys.getrefcount(o)) == (ref_a, ref_o)


def test_torch_inputs_do_not_leak():
    torch = pytest.importorskip("torch")
    img = torch.from_numpy(U8.copy())
    x, q = torch.from_numpy(X.copy()), torch.from_numpy(Q.copy())
    w = torch.from_numpy(W)

    def loop(n):
        for _ in range(n):
            foveal.dilate(img.clone(), 3)
            fnn.conv2d(x.clone(), w)
            fnn.scaled_dot_product_attention(q.clone(), q, q)
            try:
                fnn.conv2d(x.clone().to(torch.int32), w)
            except TypeError:
                pass

    loop(WARMUP)
    gc.collect()
    before = rss_mb()
    loop(CALLS // 10)
    gc.collect()
    growth = rss_mb() - before
    if not SANITIZED:
        assert growth < LIMIT_MB, (
            f"torch inputs: {CALLS // 10} x 4 calls grew RSS by {growth:.1f} MB"
        )

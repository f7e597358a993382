"""One call (or a few) of every family on fixed inputs, for the tests that run everything at
once: the thread stress test, the determinism test and the leak test.

``make_inputs()`` builds the shared inputs (read-only arrays: every caller reads the same
memory). ``CALLS`` maps a name to ``Call(run, out)``: ``run(inputs)`` returns the result;
``out``, when the function takes ``out=``, is ``out(inputs, array)`` calling it with that
array as ``out=`` (the array comes from :func:`empty_like_result`). ``same(a, b)`` compares
two results bit for bit, whatever their structure (arrays, tuples, lists, numbers);
``fingerprint`` hashes one (to compare across processes); ``misaligned`` moves the inputs to
addresses off every vector alignment.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple

import foveal
import foveal.nn as fnn
import numpy as np


class Call(NamedTuple):
    run: Callable
    out: Callable | None = None


def _blobs(rng, shape) -> np.ndarray:
    """A binary image with nested regions and holes (smoothed noise, thresholded)."""
    noise = rng.random(shape).astype(np.float32)
    smooth = foveal.gaussian_blur(noise, 9, 2.5)
    return (smooth > np.median(smooth)).astype(np.uint8)


def make_inputs(seed: int = 20240607, scale: int = 1) -> dict:
    """The shared inputs; ``scale`` multiplies the image sides (1: about 100 x 130 pixels)."""
    rng = np.random.default_rng(seed)
    h, w = 96 * scale, 128 * scale
    gray = rng.integers(0, 256, (h, w), dtype=np.uint8)
    gray = foveal.gaussian_blur(gray, 5, 1.5)  # some structure for canny and corners
    rgb = (rng.random((h // 2, w // 2, 3)) * 255).astype(np.uint8)
    f32 = (rng.standard_normal((h, w)) * 50).astype(np.float32)
    f64c = rng.standard_normal((h // 2 + 3, w // 2 + 5, 3))
    binary = _blobs(rng, (h, w))
    labels, _ = foveal.label(binary)
    contours, _ = foveal.find_contours(binary, "tree", "none")
    inp = {
        "gray": gray,
        "rgb": rgb,
        "f32": f32,
        "f64c": f64c,
        "binary": binary,
        "labels": labels,
        "contours": contours,
        "contour": max(contours, key=len),
        "se": foveal.structuring_element("ellipse", 7),
        "kernel": rng.standard_normal((5, 4)).astype(np.float32),
        "points": rng.standard_normal((3000, 5)).astype(np.float32),
        "points64": rng.standard_normal((2500, 3)),
        "centers": rng.standard_normal((7, 5)).astype(np.float32),
        "x": rng.standard_normal((2, 6, 23, 29)).astype(np.float32),
        "x64": rng.standard_normal((1, 4, 17, 19)),
        "weight": rng.standard_normal((8, 6, 3, 3)).astype(np.float32),
        "weight_dw": rng.standard_normal((6, 1, 5, 5)).astype(np.float32),
        "bias": rng.standard_normal(8).astype(np.float32),
        "q": rng.standard_normal((2, 4, 70, 16)).astype(np.float32),
        "k": rng.standard_normal((2, 4, 90, 16)).astype(np.float32),
        "v": rng.standard_normal((2, 4, 90, 12)).astype(np.float32),
        "kv_gqa": rng.standard_normal((2, 2, 90, 16)).astype(np.float32),
        "mask": rng.random((70, 90)) < 0.8,
        "q64": rng.standard_normal((3, 40, 8)),
        "seq": rng.standard_normal((2, 11, 8)).astype(np.float32),
        "in_proj": (rng.standard_normal((24, 8)) / 3).astype(np.float32),
        "in_bias": rng.standard_normal(24).astype(np.float32),
        "out_proj": (rng.standard_normal((8, 8)) / 3).astype(np.float32),
        "wq": rng.standard_normal((6, 8)).astype(np.float32),
        "wk": rng.standard_normal((6, 8)).astype(np.float32),
        "va": rng.standard_normal(6).astype(np.float32),
        "w_s2": rng.standard_normal((3, 6)).astype(np.float32),
        "seq_mask": rng.random((2, 11)) < 0.7,
    }
    for value in inp.values():  # shared inputs: a call that writes to one fails loudly
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return inp


def _gqa(i, out=None):
    return fnn.scaled_dot_product_attention(
        i["q"], i["kv_gqa"], i["kv_gqa"], is_causal=True, enable_gqa=True, out=out
    )


CALLS: dict[str, Call] = {
    # morphology
    "erode_u8": Call(
        lambda i: foveal.erode(i["gray"], i["se"]),
        lambda i, o: foveal.erode(i["gray"], i["se"], out=o),
    ),
    "dilate_rgb_reflect": Call(
        lambda i: foveal.dilate(i["rgb"], (5, 3), iterations=2, border="reflect"),
        lambda i, o: foveal.dilate(i["rgb"], (5, 3), iterations=2, border="reflect", out=o),
    ),
    "morphology_gradient_f32": Call(
        lambda i: foveal.morphology(i["f32"], "gradient", (9, 7), border="wrap"),
        lambda i, o: foveal.morphology(i["f32"], "gradient", (9, 7), border="wrap", out=o),
    ),
    "morphology_open_bool": Call(lambda i: foveal.morphology(i["binary"] > 0, "open", i["se"])),
    # filters
    "filter2d_f32": Call(
        lambda i: foveal.filter2d(i["f32"], i["kernel"], border="replicate"),
        lambda i, o: foveal.filter2d(i["f32"], i["kernel"], border="replicate", out=o),
    ),
    "sep_filter2d_rgb": Call(
        lambda i: foveal.sep_filter2d(i["rgb"], [1.0, 2.0, 1.0], [0.25, 0.5, 0.25]),
        lambda i, o: foveal.sep_filter2d(i["rgb"], [1.0, 2.0, 1.0], [0.25, 0.5, 0.25], out=o),
    ),
    "box_filter_u8": Call(
        lambda i: foveal.box_filter(i["gray"], (7, 5)),
        lambda i, o: foveal.box_filter(i["gray"], (7, 5), out=o),
    ),
    "gaussian_blur_f64c": Call(
        lambda i: foveal.gaussian_blur(i["f64c"], 7, 1.3),
        lambda i, o: foveal.gaussian_blur(i["f64c"], 7, 1.3, out=o),
    ),
    # gradients
    "sobel_u8": Call(
        lambda i: foveal.sobel(i["gray"], 1, 1, ksize=5),
        lambda i, o: foveal.sobel(i["gray"], 1, 1, ksize=5, out=o),
    ),
    "scharr_f32": Call(lambda i: foveal.scharr(i["f32"], 0, 1)),
    "gradient_rgb": Call(lambda i: foveal.gradient(i["rgb"], angle_in_degrees=True)),
    "canny_u8": Call(
        lambda i: foveal.canny(i["gray"], 20, 60),
        lambda i, o: foveal.canny(i["gray"], 20, 60, out=o),
    ),
    "canny_rgb_l2": Call(lambda i: foveal.canny(i["rgb"], 30, 90, l2gradient=True)),
    # corners
    "harris_u8": Call(
        lambda i: foveal.harris(i["gray"], 3, 3, 0.05),
        lambda i, o: foveal.harris(i["gray"], 3, 3, 0.05, out=o),
    ),
    "min_eigen_f32": Call(lambda i: foveal.min_eigen(i["f32"], 5, 3)),
    "corners_u8": Call(lambda i: foveal.corners(i["gray"], 50, 0.01, 5)),
    # frequency
    "spectrum_u8": Call(lambda i: foveal.spectrum(i["gray"])),
    "bandpass_gaussian": Call(
        lambda i: foveal.bandpass(i["f32"], 4, 30, kind="gaussian"),
        lambda i, o: foveal.bandpass(i["f32"], 4, 30, kind="gaussian", out=o),
    ),
    # segmentation
    "kmeans_seeded": Call(lambda i: foveal.kmeans(i["points"], 7, seed=3, n_init=2)),
    "kmeans_f64_init": Call(lambda i: foveal.kmeans(i["points64"], 4, init=i["points64"][:4])),
    "kmeans_predict": Call(lambda i: foveal.kmeans_predict(i["points"], i["centers"])),
    "segment_colors": Call(lambda i: foveal.segment_colors(i["rgb"], 5, seed=1)),
    "label_stats": Call(
        lambda i: foveal.label(i["binary"], return_stats=True),
        lambda i, o: foveal.label(i["binary"], return_stats=True, out=o),
    ),
    "label_4": Call(lambda i: foveal.label(i["binary"], 4)),
    "component_stats": Call(lambda i: foveal.component_stats(i["labels"])),
    "find_contours_tree": Call(lambda i: foveal.find_contours(i["binary"], "tree", "simple")),
    "find_contours_ccomp": Call(lambda i: foveal.find_contours(i["binary"] > 0, "ccomp", "none")),
    "contour_measures": Call(
        lambda i: (
            foveal.contour_area(i["contour"], oriented=True),
            foveal.arc_length(i["contour"]),
            foveal.bounding_rect(i["contour"]),
        )
    ),
    "draw_contours": Call(
        lambda i: foveal.draw_contours(i["rgb"], i["contours"][:40], -1, (255, 0, 9), 2),
    ),
    # CNN ops
    "conv2d": Call(
        lambda i: fnn.conv2d(i["x"], i["weight"], i["bias"], stride=(1, 2), padding=1),
        lambda i, o: fnn.conv2d(i["x"], i["weight"], i["bias"], stride=(1, 2), padding=1, out=o),
    ),
    "conv2d_depthwise_f32": Call(
        lambda i: fnn.conv2d(i["x"], i["weight_dw"], padding="same", dilation=2, groups=6)
    ),
    "max_pool2d_indices": Call(
        lambda i: fnn.max_pool2d(i["x"], 3, 2, 1, ceil_mode=True, return_indices=True)
    ),
    "avg_pool2d": Call(
        lambda i: fnn.avg_pool2d(i["x64"], (3, 2), 2, 1, ceil_mode=True, count_include_pad=False),
        lambda i, o: fnn.avg_pool2d(
            i["x64"], (3, 2), 2, 1, ceil_mode=True, count_include_pad=False, out=o
        ),
    ),
    "lp_pool2d": Call(lambda i: fnn.lp_pool2d(i["x"], 2.0, 3, 2)),
    "adaptive_avg_pool2d": Call(lambda i: fnn.adaptive_avg_pool2d(i["x"], (5, 7))),
    "adaptive_max_pool2d": Call(lambda i: fnn.adaptive_max_pool2d(i["x"], 6, True)),
    "patchify": Call(
        lambda i: fnn.unpatchify(fnn.patchify(i["x"][:, :, :20, :28], 4), 4, (20, 28))
    ),
    # attention
    "sdpa_mask": Call(
        lambda i: fnn.scaled_dot_product_attention(i["q"], i["k"], i["v"], i["mask"]),
        lambda i, o: fnn.scaled_dot_product_attention(i["q"], i["k"], i["v"], i["mask"], out=o),
    ),
    "sdpa_causal_gqa": Call(_gqa, lambda i, o: _gqa(i, o)),
    "sdpa_f64_causal": Call(
        lambda i: fnn.scaled_dot_product_attention(i["q64"], i["q64"], i["q64"], is_causal=True)
    ),
    "multi_head_attention": Call(
        lambda i: fnn.multi_head_attention(
            i["seq"],
            i["seq"],
            i["seq"],
            2,
            i["in_proj"],
            i["in_bias"],
            i["out_proj"],
            None,
            key_padding_mask=~i["seq_mask"],
            need_weights=True,
        )
    ),
    "additive_attention": Call(
        lambda i: fnn.additive_attention(
            i["seq"][:, 0], i["seq"], i["seq"], i["wq"], i["wk"], i["va"], i["seq_mask"]
        )
    ),
    "luong_attention": Call(
        lambda i: fnn.luong_attention(i["seq"][:, 0], i["seq"], i["seq"], "general", i["out_proj"])
    ),
    "self_attentive_pooling": Call(
        lambda i: fnn.self_attentive_pooling(i["seq"], i["wq"], i["w_s2"], i["seq_mask"])
    ),
}


def first_array(result):
    """The array a call with ``out=`` writes: the result itself or its first element."""
    return result if isinstance(result, np.ndarray) else result[0]


def empty_like_result(result) -> np.ndarray:
    """A fresh array for ``out=``, shaped like the array that ``out=`` receives."""
    return np.full_like(first_array(result), 7)


def same(a, b) -> bool:
    """Bit-for-bit equality of two results (arrays by dtype, shape and bytes; NaN equal to the
    same NaN; floats by their 64 bits)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        return (
            a.dtype == b.dtype
            and a.shape == b.shape
            and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
        )
    if isinstance(a, (tuple, list)):
        return (
            isinstance(b, (tuple, list))
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is type(b) and struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


def difference(a, b, path: str = "result") -> str:
    """Where two results first differ, for an assertion message ('' when they are the same)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            where = difference(x, y, f"{path}[{n}]")
            if where:
                return where
        return ""
    if same(a, b):
        return ""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape:
        bits_a = np.ascontiguousarray(a).view(np.uint8).reshape(a.shape + (-1,))
        bits_b = np.ascontiguousarray(b).view(np.uint8).reshape(b.shape + (-1,))
        off = (bits_a != bits_b).any(axis=-1)
        at = tuple(int(c) for c in np.argwhere(off)[0])
        count = int(off.sum())
        return f"{path}: {count} of {a.size} values differ; first at {at}: {a[at]!r} vs {b[at]!r}"
    return f"{path}: {a!r:.200} vs {b!r:.200}"


def fingerprint(result, h=None) -> str:
    """A SHA-256 of a result's structure, dtypes, shapes and bytes: equal fingerprints mean
    :func:`same` results, across processes too."""
    import hashlib

    top = h is None
    h = hashlib.sha256() if top else h
    if isinstance(result, np.ndarray):
        h.update(f"array {result.dtype.str} {result.shape}".encode())
        h.update(np.ascontiguousarray(result).tobytes())
    elif isinstance(result, (tuple, list)):
        h.update(f"seq {len(result)}".encode())
        for item in result:
            fingerprint(item, h)
    elif isinstance(result, float):
        h.update(b"float" + struct.pack("<d", result))
    else:
        h.update(f"{type(result).__name__} {result!r}".encode())
    return h.hexdigest() if top else ""


def misaligned(inputs: dict) -> dict:
    """Copies of the inputs whose data start one element past a 64-byte boundary: the same
    values at addresses that no vector load finds aligned."""

    def move(arr):
        if not isinstance(arr, np.ndarray):
            return arr
        raw = np.empty(arr.nbytes + 128, np.uint8)
        start = (-raw.ctypes.data) % 64 + arr.itemsize
        moved = raw[start : start + arr.nbytes].view(arr.dtype).reshape(arr.shape)
        moved[...] = arr
        moved.flags.writeable = False
        return moved

    return {
        key: [move(a) for a in value] if isinstance(value, list) else move(value)
        for key, value in inputs.items()
    }

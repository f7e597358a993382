"""Borders with OpenCV's meaning, by np.pad (OpenCV's names for NumPy's modes)."""

from __future__ import annotations

from typing import Literal

import numpy as np

_NP_MODES: dict[str, Literal["edge", "symmetric", "reflect", "wrap"]] = {
    "replicate": "edge",
    "reflect": "symmetric",  # fedcba|abcdef: the edge pixel repeats
    "reflect101": "reflect",  # gfedcb|abcdefgh: it does not
    "wrap": "wrap",
}


def pad(image: np.ndarray, top: int, bottom: int, left: int, right: int, border: str, value=0):
    """``image`` with rows and columns added by ``border``; ``value`` (a scalar or one value per
    channel) fills a constant border."""
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (image.ndim - 2)
    if border != "constant":
        return np.pad(image, widths, mode=_NP_MODES[border])
    out = np.empty(
        (image.shape[0] + top + bottom, image.shape[1] + left + right, *image.shape[2:]),
        dtype=image.dtype,
    )
    out[...] = np.asarray(value, dtype=image.dtype)
    out[top : top + image.shape[0], left : left + image.shape[1]] = image
    return out

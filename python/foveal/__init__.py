"""foveal: fast vision and attention kernels for NumPy, CuPy and PyTorch arrays.

>>> import foveal, numpy as np
>>> img = (np.random.default_rng(0).random((480, 640)) * 255).astype(np.uint8)
>>> edges = foveal.morphology(img, "gradient", foveal.structuring_element("ellipse", 5))
"""

from . import nn
from ._backend import _core
from ._config import get_isa, get_num_threads, num_threads, set_isa, set_num_threads, show_config
from .imgproc import (
    bandpass,
    box_filter,
    canny,
    corners,
    dilate,
    erode,
    filter2d,
    gaussian_blur,
    gradient,
    harris,
    min_eigen,
    morphology,
    scharr,
    sep_filter2d,
    sobel,
    spectrum,
    structuring_element,
)
from .segment import KMeansResult, kmeans, kmeans_predict, segment_colors

__version__ = _core.version()

__all__ = [
    "KMeansResult",
    "bandpass",
    "box_filter",
    "canny",
    "corners",
    "dilate",
    "erode",
    "filter2d",
    "gaussian_blur",
    "gradient",
    "get_isa",
    "get_num_threads",
    "harris",
    "kmeans",
    "kmeans_predict",
    "min_eigen",
    "morphology",
    "nn",
    "num_threads",
    "set_isa",
    "scharr",
    "segment_colors",
    "sep_filter2d",
    "set_num_threads",
    "show_config",
    "sobel",
    "spectrum",
    "structuring_element",
]

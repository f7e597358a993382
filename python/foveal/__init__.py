"""foveal: fast vision and attention kernels for NumPy, CuPy and PyTorch arrays.

>>> import foveal, numpy as np
>>> img = (np.random.default_rng(0).random((480, 640)) * 255).astype(np.uint8)
>>> edges = foveal.morphology(img, "gradient", foveal.structuring_element("ellipse", 5))
>>> edges.shape, edges.dtype
((480, 640), dtype('uint8'))
"""

from . import nn
from ._backend import _core
from ._config import (
    get_isa,
    get_num_threads,
    get_output_cache,
    num_threads,
    set_isa,
    set_num_threads,
    set_output_cache,
    show_config,
)
from .components import component_stats, label
from .contours import arc_length, bounding_rect, contour_area, draw_contours, find_contours
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
    "arc_length",
    "bandpass",
    "bounding_rect",
    "box_filter",
    "canny",
    "component_stats",
    "contour_area",
    "corners",
    "dilate",
    "draw_contours",
    "erode",
    "filter2d",
    "find_contours",
    "gaussian_blur",
    "gradient",
    "get_isa",
    "get_num_threads",
    "get_output_cache",
    "harris",
    "kmeans",
    "kmeans_predict",
    "label",
    "min_eigen",
    "morphology",
    "nn",
    "num_threads",
    "set_isa",
    "set_output_cache",
    "scharr",
    "segment_colors",
    "sep_filter2d",
    "set_num_threads",
    "show_config",
    "sobel",
    "spectrum",
    "structuring_element",
]

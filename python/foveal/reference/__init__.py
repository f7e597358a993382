"""Plain, vectorized NumPy implementations of every foveal function.

They are the executable specification (the tests compare every kernel with them) and the
NumPy baseline that the benchmarks time. Each takes the same arguments as its foveal
counterpart, already validated, and returns a new NumPy array.
"""

from .attention import (
    additive_attention,
    luong_attention,
    multi_head_attention,
    scaled_dot_product_attention,
    self_attentive_pooling,
)
from .border import pad
from .components import component_stats, label
from .contours import arc_length, bounding_rect, contour_area, find_contours
from .corners import corners, harris, min_eigen
from .filters import box_filter, filter2d, gaussian_blur, gaussian_kernel, sep_filter2d
from .frequency import bandpass, spectrum
from .gradients import canny, deriv_kernels, gradient, scharr, sobel
from .morphology import dilate, erode, morphology, structuring_element
from .nn import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    conv2d,
    lp_pool2d,
    max_pool2d,
    patchify,
    unpatchify,
)
from .segment import KMeansResult, kmeans, kmeans_predict, segment_colors

__all__ = [
    "KMeansResult",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "additive_attention",
    "arc_length",
    "avg_pool2d",
    "bandpass",
    "bounding_rect",
    "box_filter",
    "canny",
    "component_stats",
    "contour_area",
    "conv2d",
    "corners",
    "deriv_kernels",
    "dilate",
    "erode",
    "filter2d",
    "find_contours",
    "gaussian_blur",
    "gaussian_kernel",
    "gradient",
    "harris",
    "kmeans",
    "kmeans_predict",
    "label",
    "lp_pool2d",
    "luong_attention",
    "max_pool2d",
    "min_eigen",
    "morphology",
    "multi_head_attention",
    "pad",
    "patchify",
    "scaled_dot_product_attention",
    "scharr",
    "segment_colors",
    "self_attentive_pooling",
    "sep_filter2d",
    "sobel",
    "spectrum",
    "structuring_element",
    "unpatchify",
]

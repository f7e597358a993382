"""Type stubs for foveal's compiled CPU module (private: use the foveal package).

One stub per binding in cpp/bindings/*.cpp, with the binding's argument names and defaults
(tests/test_typing.py compares them with the compiled module). The bindings take arrays the
wrappers have already validated; ``border_value`` and ``color`` are any sequence of numbers.
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# runtime (bind_runtime.cpp)
def version() -> str: ...
def compiler() -> str: ...
def set_num_threads(n: int) -> None: ...
def set_local_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def default_num_threads() -> int: ...
def active_isa() -> str: ...
def detected_isa() -> str: ...
def supported_isas() -> list[str]: ...
def set_isa(isa: str) -> None: ...

# the output cache (output_pool.cpp)
def pooled_empty(shape: Sequence[int], dtype: np.dtype[np.generic]) -> npt.NDArray[np.generic]: ...
def set_output_cache(limit: int) -> None: ...
def output_cache_info() -> dict[str, int]: ...

# morphology (bind_morphology.cpp)
def structuring_element(
    shape: str, height: int, width: int, anchor_y: int = -1, anchor_x: int = -1
) -> npt.NDArray[np.uint8]: ...
def morphology(
    op: str,
    src: np.ndarray,
    dst: np.ndarray,
    kernel: npt.ArrayLike,
    anchor_y: int,
    anchor_x: int,
    iterations: int,
    border: str,
    border_value: Sequence[float],
    binary: bool,
) -> None: ...

# filters and gradients (bind_filters.cpp)
def filter2d(
    src: np.ndarray,
    dst: np.ndarray,
    kernel: npt.ArrayLike,
    anchor_y: int,
    anchor_x: int,
    delta: float,
    border: str,
    border_value: Sequence[float],
) -> None: ...
def sep_filter2d(
    src: np.ndarray,
    dst: np.ndarray,
    kernel_x: npt.ArrayLike,
    kernel_y: npt.ArrayLike,
    anchor_y: int,
    anchor_x: int,
    delta: float,
    border: str,
    border_value: Sequence[float],
) -> None: ...
def box_filter(
    src: np.ndarray,
    dst: np.ndarray,
    rows: int,
    cols: int,
    normalize: bool,
    anchor_y: int,
    anchor_x: int,
    border: str,
    border_value: Sequence[float],
) -> None: ...
def gaussian_kernel(ksize: int, sigma: float) -> npt.NDArray[np.float64]: ...
def gaussian_blur(
    src: np.ndarray,
    dst: np.ndarray,
    rows: int,
    cols: int,
    sigma_x: float,
    sigma_y: float,
    border: str,
    border_value: Sequence[float],
) -> None: ...
def deriv_kernels(
    dx: int, dy: int, ksize: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def sobel(
    src: np.ndarray,
    dst: np.ndarray,
    dx: int,
    dy: int,
    ksize: int,
    scale: float,
    delta: float,
    border: str,
    border_value: Sequence[float],
) -> None: ...
def gradient(
    src: np.ndarray,
    magnitude: np.ndarray | None,
    angle: np.ndarray | None,
    ksize: int,
    degrees: bool,
    border: str,
    border_value: Sequence[float],
) -> None: ...
def corner_response(
    method: str,
    src: np.ndarray,
    dst: np.ndarray,
    block_size: int,
    ksize: int,
    k: float,
    border: str,
) -> None: ...
def good_features(
    response: np.ndarray,
    threshold: float,
    mask: np.ndarray | None,
    max_corners: int,
    min_distance: float,
) -> np.ndarray: ...
def canny(
    src: np.ndarray, dst: np.ndarray, low: float, high: float, ksize: int, l2: bool
) -> None: ...

# neural-network ops (bind_nn.cpp)
def conv_output_size(n: int, k: int, stride: int, pad_total: int, dilation: int) -> int: ...
def pool_output_size(
    n: int, k: int, stride: int, pad: int, dilation: int, ceil_mode: bool
) -> int: ...
def conv2d(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    out: np.ndarray,
    stride_h: int,
    stride_w: int,
    pad_top: int,
    pad_bottom: int,
    pad_left: int,
    pad_right: int,
    dilation_h: int,
    dilation_w: int,
    groups: int,
) -> None: ...
def max_pool2d(
    input: np.ndarray,
    out: np.ndarray,
    indices: npt.NDArray[np.int64] | None,
    kernel_h: int,
    kernel_w: int,
    stride_h: int,
    stride_w: int,
    pad_h: int,
    pad_w: int,
    dilation_h: int,
    dilation_w: int,
    ceil_mode: bool,
) -> None: ...
def avg_pool2d(
    input: np.ndarray,
    out: np.ndarray,
    kernel_h: int,
    kernel_w: int,
    stride_h: int,
    stride_w: int,
    pad_h: int,
    pad_w: int,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int,
) -> None: ...
def lp_pool2d(
    input: np.ndarray,
    out: np.ndarray,
    norm_type: float,
    kernel_h: int,
    kernel_w: int,
    stride_h: int,
    stride_w: int,
    ceil_mode: bool,
) -> None: ...
def adaptive_avg_pool2d(input: np.ndarray, out: np.ndarray) -> None: ...
def adaptive_max_pool2d(
    input: np.ndarray, out: np.ndarray, indices: npt.NDArray[np.int64] | None
) -> None: ...
def patchify(images: np.ndarray, out: np.ndarray, patch_h: int, patch_w: int) -> None: ...
def unpatchify(patches: np.ndarray, out: np.ndarray, patch_h: int, patch_w: int) -> None: ...

# attention (bind_attention.cpp)
def scaled_dot_product_attention(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    out: np.ndarray,
    mask: np.ndarray | None,
    scale: float,
    causal: bool,
    empty_row: float,
) -> None: ...

# segmentation (bind_segment.cpp)
def kmeans_assign(
    data: np.ndarray,
    centers: np.ndarray,
    weights: np.ndarray | None,
    labels: npt.NDArray[np.int32],
    sums: npt.NDArray[np.float64],
    counts: npt.NDArray[np.float64],
    distances: npt.NDArray[np.float64] | None,
    want_inertia: bool = True,
    changes_only: bool = False,
    upper: npt.NDArray[np.float64] | None = None,
    lower: npt.NDArray[np.float64] | None = None,
    norms: npt.NDArray[np.float64] | None = None,
    shift: npt.NDArray[np.float64] | None = None,
) -> tuple[float, int]: ...
def kmeans_inertia(
    data: np.ndarray,
    centers: np.ndarray,
    weights: np.ndarray | None,
    labels: npt.NDArray[np.int32],
    distances: npt.NDArray[np.float64] | None = None,
) -> float: ...
def label(
    binary: np.ndarray, connectivity: int, labels: npt.NDArray[np.int32], with_stats: bool
) -> tuple[int] | tuple[int, npt.NDArray[np.int32], npt.NDArray[np.float64]]: ...
def component_stats(
    labels: npt.NDArray[np.int32],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]: ...
def find_contours(
    binary: np.ndarray, mode: str, method: str, offset_x: int, offset_y: int
) -> tuple[list[npt.NDArray[np.int32]], npt.NDArray[np.int32]]: ...
def draw_contours(
    image: np.ndarray,
    contours: list[npt.NDArray[np.int32]],
    chosen: Sequence[int] | None,
    color: Sequence[float],
    thickness: int,
    dx: int,
    dy: int,
) -> None: ...

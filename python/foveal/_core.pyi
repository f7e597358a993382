"""Type stubs for foveal's compiled CPU module (private: use the foveal package)."""

import numpy as np
import numpy.typing as npt

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
def structuring_element(
    shape: str, height: int, width: int, anchor_y: int = -1, anchor_x: int = -1
) -> npt.NDArray[np.uint8]: ...
def morphology(
    op: str,
    src: np.ndarray,
    dst: np.ndarray,
    kernel: npt.NDArray[np.uint8],
    anchor_y: int,
    anchor_x: int,
    iterations: int,
    border: str,
    border_value: list[float],
    binary: bool,
) -> None: ...
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
    chosen: list[int] | None,
    color: list[float],
    thickness: int,
    dx: int,
    dy: int,
) -> None: ...

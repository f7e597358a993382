"""Type stubs for foveal's optional CUDA module (private: use the foveal package).

The kernel launchers take device addresses and the stream as integers (CuPy's ``data.ptr``,
the stream's ``ptr``); foveal._gpu calls them with arguments the wrappers have checked.
"""

emulated: bool

def device_count() -> int: ...
def runtime_version() -> int: ...
def driver_version() -> int: ...
def device_info(device: int = 0) -> dict[str, object]: ...
def pool2d(
    kind: str,
    adaptive: bool,
    dtype: str,
    input: int,
    output: int,
    indices: int,
    planes: int,
    h: int,
    w: int,
    oh: int,
    ow: int,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    count_include_pad: bool,
    divisor_override: int,
    norm_type: float,
    stream: int,
) -> None: ...
def bandpass_mask(
    dtype: str,
    spectrum: int,
    planes: int,
    h: int,
    w: int,
    kind: str,
    low: float,
    high: object,
    order: int,
    stream: int,
) -> None: ...
def conv2d(
    dtype: str,
    tf32: bool,
    input: int,
    in_sn: int,
    in_sc: int,
    in_sh: int,
    in_sw: int,
    weight: int,
    bias: int,
    output: int,
    n: int,
    c_in: int,
    h: int,
    w: int,
    c_out: int,
    kh: int,
    kw: int,
    oh: int,
    ow: int,
    sh: int,
    sw: int,
    pad_top: int,
    pad_left: int,
    dh: int,
    dw: int,
    groups: int,
    stream: int,
) -> None: ...
def kmeans_assign(
    dtype: str,
    data: int,
    centers: int,
    weights: int,
    labels: int,
    sums: int,
    counts: int,
    result: int,
    n: int,
    d: int,
    k: int,
    want_inertia: bool,
    path: str,
    shared_limit: int,
    stream: int,
) -> None: ...
def kmeans_distances(
    dtype: str,
    data: int,
    centers: int,
    weights: int,
    labels: int,
    distances: int,
    result: int,
    n: int,
    d: int,
    k: int,
    stream: int,
) -> None: ...

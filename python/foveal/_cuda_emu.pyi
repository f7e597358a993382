"""Type stubs for _cuda_emu: the CUDA kernels run by the SIMT emulator on the CPU (tests only).

The kernel launchers take device addresses and the stream as integers (host addresses here,
``ndarray.ctypes.data``; the stream is ignored).
"""

emulated: bool

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

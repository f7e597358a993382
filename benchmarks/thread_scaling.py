"""Throughput of 2 Python threads against 1, per family: does foveal release the GIL?

For each family, N calls run in one Python thread, then the same N calls split over two Python
threads started together; every foveal call uses one internal thread (``foveal.num_threads(1)``)
so that only the Python threads run in parallel. The ratio is (time for N calls in 1 thread) /
(time for N calls in 2 threads): 2.0 is perfect scaling on two free cores, 1.0 means the calls
run one at a time (the GIL, or a lock, is held). The issue's goal is >= 1.7.

The best of ``--repeats`` rounds is kept for each side (the least disturbed by other processes);
the load average before and after is written beside the table, since a shared machine's other
work lowers the two-thread side first.

    python benchmarks/thread_scaling.py                      # prints the table
    python benchmarks/thread_scaling.py --output benchmarks/results/thread-scaling-cpu-2core-epyc.md
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import threading
import time

import foveal
import foveal.nn as fnn
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402


def _workloads():
    """family -> (description, call): each call takes a few milliseconds."""
    rng = np.random.default_rng(0)
    gray = foveal.gaussian_blur(rng.integers(0, 256, (480, 640), dtype=np.uint8), 5, 1.5)
    f32 = rng.standard_normal((480, 640)).astype(np.float32)
    binary = (foveal.gaussian_blur(rng.random((480, 640)).astype(np.float32), 15, 4) > 0.5).astype(
        np.uint8
    )
    pts = rng.standard_normal((20000, 3)).astype(np.float32)
    init = pts[:8].copy()
    x = rng.standard_normal((1, 32, 56, 56)).astype(np.float32)
    w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
    xp = rng.standard_normal((4, 64, 56, 56)).astype(np.float32)
    q = rng.standard_normal((1, 4, 256, 64)).astype(np.float32)
    se = foveal.structuring_element("ellipse", 7)
    return {
        "morphology": ("dilate 480x640 uint8, 7x7 ellipse", lambda: foveal.dilate(gray, se)),
        "filters": (
            "gaussian_blur 480x640 float32, 7x7",
            lambda: foveal.gaussian_blur(f32, 7, 1.5),
        ),
        "gradients": ("sobel 480x640 uint8 -> float32", lambda: foveal.sobel(gray, 1, 0)),
        "canny": ("canny 480x640 uint8", lambda: foveal.canny(gray, 30, 90)),
        "corners": ("harris 480x640 uint8", lambda: foveal.harris(gray, 3, 3, 0.04)),
        "bandpass": ("bandpass 480x640 float32", lambda: foveal.bandpass(f32, 5, 60)),
        "kmeans": (
            "kmeans 20000x3 float32, k=8, 10 iterations",
            lambda: foveal.kmeans(pts, 8, init=init, max_iter=10, tol=0),
        ),
        "label": ("label 480x640 blobs", lambda: foveal.label(binary)),
        "find_contours": ("find_contours 480x640 blobs", lambda: foveal.find_contours(binary)),
        "conv2d": ("conv2d 1x32x56x56, 32x32x3x3", lambda: fnn.conv2d(x, w, padding=1)),
        "pools": ("max_pool2d 4x64x56x56, 3x3/2", lambda: fnn.max_pool2d(xp, 3, 2, 1)),
        "attention": (
            "sdpa 1x4x256x64 causal",
            lambda: fnn.scaled_dot_product_attention(q, q, q, is_causal=True),
        ),
    }


def _one_thread(call, n: int) -> float:
    with foveal.num_threads(1):
        t0 = time.perf_counter()
        for _ in range(n):
            call()
        return time.perf_counter() - t0


def _two_threads(call, n: int) -> float:
    """Wall time for n calls split over two Python threads that start together."""
    barrier = threading.Barrier(3)
    done = []

    def work(count):
        with foveal.num_threads(1):
            call()  # warm this thread's first call outside the timing
            barrier.wait()
            for _ in range(count):
                call()
        done.append(time.perf_counter())

    threads = [threading.Thread(target=work, args=(c,)) for c in (n // 2, n - n // 2)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return max(done) - t0


def measure(call, n: int, repeats: int) -> tuple[float, float, float]:
    """(per-call ms in 1 thread, per-call ms of wall time in 2 threads, ratio), best rounds."""
    _one_thread(call, 2)
    one = min(_one_thread(call, n) for _ in range(repeats))
    two = min(_two_threads(call, n) for _ in range(repeats))
    return one / n * 1e3, two / n * 1e3, one / two


def _calls_for(call, target_s: float) -> int:
    """Enough calls that one thread runs about ``target_s`` seconds (even, at least 8)."""
    t = _one_thread(call, 3) / 3
    n = max(8, int(target_s / max(t, 1e-6)))
    return n + n % 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=0.6, help="one-thread time per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds per side (best kept)")
    parser.add_argument("--only", nargs="*", help="families to run (default: all)")
    parser.add_argument("--output", type=pathlib.Path, help="write the markdown table here")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    rows = []
    for family, (what, call) in _workloads().items():
        if args.only and family not in args.only:
            continue
        n = _calls_for(call, args.seconds)
        one, two, ratio = measure(call, n, args.repeats)
        rows.append((family, what, n, one, two, ratio))
        print(f"{family:14s} {one:8.3f} ms  {two:8.3f} ms  x{ratio:4.2f}  ({what}, {n} calls)")
    load_after = os.getloadavg()

    ratios = [r[5] for r in rows]
    lines = [
        "# Thread scaling: 2 Python threads against 1 (each call at foveal.num_threads(1))",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; foveal {foveal.__version__}, "
        f"ISA {foveal.get_isa()}; Python {sys.version.split()[0]}; {started}.",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in load_before)}; "
        f"after: {', '.join(f'{v:.2f}' for v in load_after)}.",
        f"Best of {args.repeats} rounds per side, about {args.seconds} s of one-thread time "
        "per round. Ratio = time of N calls in 1 thread / wall time of the same N calls split "
        "over 2 threads (2.0 ideal on 2 free cores; goal >= 1.7).",
        "",
        "| family | workload | calls | 1 thread, ms/call | 2 threads, ms/call | ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for family, what, n, one, two, ratio in rows:
        lines.append(f"| {family} | {what} | {n} | {one:.3f} | {two:.3f} | {ratio:.2f} |")
    if ratios:
        lines += [
            "",
            f"Lowest ratio {min(ratios):.2f}, median {float(np.median(ratios)):.2f}; "
            f"{sum(r >= 1.7 for r in ratios)} of {len(ratios)} families at >= 1.7.",
        ]
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

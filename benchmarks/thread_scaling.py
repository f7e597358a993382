"""Throughput of 2 Python threads against 1, per family: does foveal release the GIL?

For each family, N calls run in one Python thread, then the same N calls split over two Python
threads started together; every foveal call uses one internal thread (``foveal.num_threads(1)``)
so that only the Python threads run in parallel. The ratio is (time for N calls in 1 thread) /
(time for N calls in 2 threads): 2.0 is perfect scaling on two free cores, 1.0 means the calls
run one at a time (the GIL, or a lock, is held). The issue's goal is >= 1.7.

Rounds of the two sides alternate and the fastest of ``--repeats`` is kept for each (the least
disturbed by other processes). Beside each ratio the table gives the CPU this process used in
the 2-thread round (2.0 = both threads ran throughout; near 1.0 = they took turns, the GIL or a
lock) and the CPU other processes took meanwhile (from /proc/stat), since on a shared 2-core
machine any other work lowers the 2-thread side first; and the share of time the two threads
spent blocked (asleep on the GIL or a lock, from each thread's schedstat). Two control rows
(a pure-Python loop that holds the GIL, np.sort that releases it) calibrate the columns for
the load of the moment.

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
    """family -> (description, call): each call takes a few milliseconds on one core, so that
    the wrapper's Python work (tens of microseconds, under the GIL) is a small part of it."""
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (1080, 1920), dtype=np.uint8)
    gray = foveal.gaussian_blur(big, 5, 1.5)
    f32 = rng.standard_normal((1080, 1920)).astype(np.float32)
    f32_small = f32[:480, :640].copy()
    blobs = foveal.gaussian_blur(rng.random((1080, 1920)).astype(np.float32), 15, 4) > 0.5
    binary = blobs.astype(np.uint8)
    pts = rng.standard_normal((50000, 3)).astype(np.float32)
    init = pts[:8].copy()
    x = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)
    w = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
    xp = rng.standard_normal((8, 64, 112, 112)).astype(np.float32)
    q = rng.standard_normal((1, 8, 512, 64)).astype(np.float32)
    se = foveal.structuring_element("ellipse", 7)
    values = rng.standard_normal(400_000)

    def python_loop():
        total = 0
        for i in range(40_000):
            total += i
        return total

    return {
        # Calibration: what the columns read for code that holds the GIL throughout, and for
        # a NumPy call that releases it, on the machine as loaded during this run.
        "control: GIL held": ("a pure-Python loop", python_loop),
        "control: GIL released": ("np.sort of 400000 float64", lambda: np.sort(values)),
        "morphology": ("dilate 1080x1920 uint8, 7x7 ellipse", lambda: foveal.dilate(gray, se)),
        "filters": (
            "gaussian_blur 1080x1920 float32, 7x7",
            lambda: foveal.gaussian_blur(f32, 7, 1.5),
        ),
        "gradients": ("sobel 1080x1920 uint8 -> float32", lambda: foveal.sobel(gray, 1, 0)),
        "canny": ("canny 1080x1920 uint8", lambda: foveal.canny(gray, 30, 90)),
        "corners": ("harris 1080x1920 uint8", lambda: foveal.harris(gray, 3, 3, 0.04)),
        "bandpass": ("bandpass 480x640 float32", lambda: foveal.bandpass(f32_small, 5, 60)),
        "kmeans": (
            "kmeans 50000x3 float32, k=8, 10 iterations",
            lambda: foveal.kmeans(pts, 8, init=init, max_iter=10, tol=0),
        ),
        "label": ("label 1080x1920 blobs", lambda: foveal.label(binary)),
        "find_contours": ("find_contours 1080x1920 blobs", lambda: foveal.find_contours(binary)),
        "conv2d": ("conv2d 1x64x56x56, 64x64x3x3", lambda: fnn.conv2d(x, w, padding=1)),
        "pools": ("max_pool2d 8x64x112x112, 3x3/2", lambda: fnn.max_pool2d(xp, 3, 2, 1)),
        "attention": (
            "sdpa 1x8x512x64 causal",
            lambda: fnn.scaled_dot_product_attention(q, q, q, is_causal=True),
        ),
    }


def _busy_jiffies() -> int:
    """Non-idle CPU time of the whole machine so far, in clock ticks (/proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # minus idle and iowait


_TICK = os.sysconf("SC_CLK_TCK")


class Round:
    """Wall time, this process's CPU time and the machine's busy CPU time of one round."""

    def __enter__(self):
        self.t, self.cpu, self.busy = time.perf_counter(), time.process_time(), _busy_jiffies()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t
        self.cpu = time.process_time() - self.cpu
        self.busy = (_busy_jiffies() - self.busy) / _TICK
        # cores' worth of CPU that other processes used meanwhile
        self.others = max(0.0, self.busy - self.cpu) / self.wall


def _one_thread(call, n: int) -> Round:
    with foveal.num_threads(1), Round() as r:
        for _ in range(n):
            call()
    return r


def _schedstat() -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of the calling thread."""
    with open("/proc/thread-self/schedstat") as fh:
        run, wait = fh.read().split()[:2]
    return int(run) / 1e9, int(wait) / 1e9


def _two_threads(call, n: int) -> Round:
    """n calls split over two Python threads started together; the round covers the calls
    only (each thread's first call is made before the start line). ``r.blocked`` is the
    share of the round the threads spent neither running nor waiting for a CPU: asleep on the
    GIL or a lock (0 when the calls never wait for each other, whatever the machine's load)."""
    ready = threading.Barrier(3)
    go = threading.Event()
    blocked = []

    def work(count):
        with foveal.num_threads(1):
            call()
            ready.wait()
            go.wait()
            t0, (run0, wait0) = time.perf_counter(), _schedstat()
            for _ in range(count):
                call()
            run1, wait1 = _schedstat()
            wall = time.perf_counter() - t0
            blocked.append(max(0.0, wall - (run1 - run0) - (wait1 - wait0)) / wall)

    threads = [threading.Thread(target=work, args=(c,)) for c in (n // 2, n - n // 2)]
    for t in threads:
        t.start()
    ready.wait()
    with Round() as r:
        go.set()
        for t in threads:
            t.join()
    r.blocked = sum(blocked) / len(blocked)
    return r


def measure(call, n: int, repeats: int) -> dict:
    """Rounds of 1 and 2 threads interleaved (so that the machine's other load hits both
    alike); the fastest round of each side is kept."""
    one, two = [], []
    for _ in range(repeats):
        one.append(_one_thread(call, n))
        two.append(_two_threads(call, n))
    b1 = min(one, key=lambda r: r.wall)
    b2 = min(two, key=lambda r: r.wall)
    result = {
        "one_ms": b1.wall / n * 1e3,
        "two_ms": b2.wall / n * 1e3,
        "ratio": b1.wall / b2.wall,
        "two_cpu": b2.cpu / b2.wall,  # cores this process kept busy with 2 threads (max 2)
        "others": float(np.median([r.others for r in two])),
        "blocked": float(np.median([r.blocked for r in two])),
        # CPU time per call, 2 threads over 1: above 1.0 when the threads slow each other's
        # work down (shared caches, memory bandwidth, a spinning lock)
        "cpu_per_call": b2.cpu / b1.cpu,
    }
    # What two free cores would give: each thread loses its blocked share, and its work costs
    # cpu_per_call times as much. A projection, not a measurement.
    result["projected"] = 2 * (1 - result["blocked"]) / result["cpu_per_call"]
    return result


def _calls_for(call, target_s: float) -> int:
    """Enough calls that one thread runs about ``target_s`` seconds (even, at least 8)."""
    _one_thread(call, 2)  # imports, plans and caches out of the way
    t = _one_thread(call, 3).wall / 3
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
        if args.only and family not in args.only and not family.startswith("control"):
            continue
        n = _calls_for(call, args.seconds)
        m = measure(call, n, args.repeats)
        rows.append((family, what, n, m))
        print(
            f"{family:22s} {m['one_ms']:8.3f} ms  {m['two_ms']:8.3f} ms  x{m['ratio']:4.2f}  "
            f"cpu {m['two_cpu']:4.2f}  others {m['others']:4.2f}  blocked {m['blocked']:4.2f}  "
            f"cpu/call {m['cpu_per_call']:4.2f}  projected x{m['projected']:4.2f}  "
            f"({what}, {n} calls)",
            flush=True,
        )
    load_after = os.getloadavg()

    ratios = [r[3]["ratio"] for r in rows if not r[0].startswith("control")]
    lines = [
        "# Thread scaling: 2 Python threads against 1 (each call at foveal.num_threads(1))",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; foveal {foveal.__version__}, "
        f"ISA {foveal.get_isa()}; Python {sys.version.split()[0]}; {started}.",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in load_before)}; "
        f"after: {', '.join(f'{v:.2f}' for v in load_after)}.",
        f"{args.repeats} rounds per side, interleaved, the fastest kept; about {args.seconds} s "
        "of one-thread time per round. Ratio = time of N calls in 1 thread / wall time of the "
        "same N calls split over 2 threads (2.0 ideal on 2 free cores; goal >= 1.7). "
        "CPU = cores this process kept busy in the fastest 2-thread round (2.0: both threads "
        "ran all the time). Others = cores' worth of CPU that other processes took during the "
        "2-thread rounds (median, from /proc/stat): on 2 cores, anything above ~0.1 takes "
        "time from the 2-thread side and lowers the ratio. Blocked = share of the 2-thread "
        "rounds each thread spent asleep, neither running nor waiting for a CPU "
        "(/proc/thread-self/schedstat; median of the rounds): the time lost to the GIL or a "
        "lock. Under heavy load a thread woken to take the GIL waits in the run queue "
        "instead, so blocked then underestimates GIL waits: read it against the two control "
        "rows, measured in the same run. CPU/call = CPU time per call with 2 threads over "
        "1 thread (1.0: the threads do not slow each other's work). Projected = 2 x (1 - "
        "blocked) / (CPU/call): the ratio two free cores would give if nothing else changed "
        "(a projection from this run, not a measurement).",
        "",
        "| family | workload | calls | 1 thread, ms/call | 2 threads, ms/call | ratio | CPU "
        "| others | blocked | CPU/call | projected |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for family, what, n, m in rows:
        lines.append(
            f"| {family} | {what} | {n} | {m['one_ms']:.3f} | {m['two_ms']:.3f} | "
            f"{m['ratio']:.2f} | {m['two_cpu']:.2f} | {m['others']:.2f} | {m['blocked']:.2f} | "
            f"{m['cpu_per_call']:.2f} | {m['projected']:.2f} |"
        )
    if ratios:
        projected = [r[3]["projected"] for r in rows if not r[0].startswith("control")]
        lines += [
            "",
            f"Measured ratio: lowest {min(ratios):.2f}, median {float(np.median(ratios)):.2f}; "
            f"{sum(r >= 1.7 for r in ratios)} of {len(ratios)} families at >= 1.7. Projected: "
            f"lowest {min(projected):.2f}, median {float(np.median(projected)):.2f}.",
        ]
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

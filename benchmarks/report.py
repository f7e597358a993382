"""Turn a pytest-benchmark JSON into a markdown table of medians and speed ratios.

    python benchmarks/report.py RESULTS.json [--out results.md] [--plot out.png]

One row per workload x thread count; columns: the median time (ms) of each library, then
"numpy/foveal", "cv2/foveal", "scipy/foveal", "skimage/foveal", "torch/foveal",
"torch-math/foveal", "sklearn/foveal" (> 1: foveal is faster), for the libraries present.
NumPy, scipy and scikit-image are single-threaded and are timed once, at threads=1; their
1-thread median is the one compared with foveal in every row. Benchmarks are matched by the
``extra_info`` {library, threads, workload} that benchmarks/conftest.py records. When workloads
carry ``extra_info["gflop"]`` (the work of one call, in 10^9 floating-point operations), each
library also gets a GFLOP/s column (gflop / median time; "—" for rows without it). When
benchmarks record ``extra_info["n_iter"]`` (the iterations one call ran, k-means), each library
that records it also gets a "ms/iter" column (its median / its own n_iter; "—" for rows
without it). When workloads record ``extra_info["bytes"]`` (what one call must read and
write at the least) and ``extra_info["copy_gbps"]`` (a device-to-device copy's bandwidth
measured in the same run, the GPU suites), foveal also gets "GB/s" and "% of copy" columns.

The header names the machine that ran the benchmarks (from the JSON's machine_info; from the
machine making the report if the JSON has none), the date, and foveal's instruction set.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
from collections import OrderedDict

from machine import cpu_model

LIBRARIES = (
    "foveal",
    "numpy",
    "cv2",
    "scipy",
    "skimage",
    "torch",
    "torch-math",
    "sklearn",
    "dask-image",
    "cupyx",
    "cupy",
)
ANCHORS = LIBRARIES[1:]
SINGLE_THREADED = ("numpy", "scipy", "skimage")


# --------------------------------------------------------------------------- reading


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def collect(data: dict):
    """{workload: {(library, threads): median seconds}} in the run's order, the thread counts
    seen, and the input shapes seen."""
    table: OrderedDict[str, dict] = OrderedDict()
    threads_seen: set[int] = set()
    shapes: set[tuple] = set()
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        library = info.get("library")
        if library is None:
            continue
        workload = info.get("workload") or bench.get("group") or bench["name"]
        threads = int(info.get("threads", 1))
        table.setdefault(workload, {})[(library, threads)] = bench["stats"]["median"]
        threads_seen.add(threads)
        if info.get("shape"):
            shapes.add(tuple(info["shape"]))
    return table, sorted(threads_seen), shapes


def gflop_per_workload(data: dict) -> dict[str, float]:
    """{workload: gflop} for the workloads whose benchmarks record ``extra_info["gflop"]``."""
    out: dict[str, float] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        if info.get("library") is None or info.get("gflop") is None:
            continue
        workload = info.get("workload") or bench.get("group") or bench["name"]
        out[workload] = float(info["gflop"])
    return out


def bandwidth_per_workload(data: dict) -> dict[str, tuple[float, float]]:
    """{workload: (bytes, copy GB/s)} for the benchmarks that record both."""
    out: dict[str, tuple[float, float]] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        if info.get("library") is None or not info.get("bytes") or not info.get("copy_gbps"):
            continue
        workload = info.get("workload") or bench.get("group") or bench["name"]
        out[workload] = (float(info["bytes"]), float(info["copy_gbps"]))
    return out


def iterations_per_result(data: dict) -> dict[str, dict]:
    """{workload: {(library, threads): n_iter}} for the benchmarks that record
    ``extra_info["n_iter"]``."""
    out: dict[str, dict] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        if info.get("library") is None or not info.get("n_iter"):
            continue
        workload = info.get("workload") or bench.get("group") or bench["name"]
        key = (info["library"], int(info.get("threads", 1)))
        out.setdefault(workload, {})[key] = int(info["n_iter"])
    return out


def median_for(results: dict, library: str, threads: int):
    if (library, threads) in results:
        return results[(library, threads)]
    if library in SINGLE_THREADED:  # timed once, at 1 thread
        return results.get((library, 1))
    return None


# --------------------------------------------------------------------------- machine header


def _local_machine() -> dict:
    info = {
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cores_usable": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cores_total": os.cpu_count(),
    }
    try:
        import io

        import foveal

        config = foveal.show_config(file=io.StringIO())
        info.update(foveal_version=config["foveal"], foveal_isa=config["cpu_isa"])
    except Exception:  # noqa: BLE001 - the report must work without foveal importable
        info.update(foveal_version="?", foveal_isa="?")
    return info


def _names(libs) -> str:
    libs = list(libs)
    return libs[0] if len(libs) == 1 else ", ".join(libs[:-1]) + " and " + libs[-1]


def header_lines(data: dict, path: str, shapes: set, threads: list[int], present=None) -> list[str]:
    mi = data.get("machine_info") or {}
    fv = mi.get("foveal")
    note = ""
    if not fv:
        fv = _local_machine()
        note = " (machine info taken from the machine making this report)"
    cpu = mi.get("cpu") or {}
    cpu_model = fv.get("cpu_model") or cpu.get("brand_raw") or "?"
    date = data.get("datetime") or _dt.datetime.now(_dt.timezone.utc).isoformat()
    commit = data.get("commit_info") or {}
    commit_text = ""
    if commit.get("id"):
        commit_text = f", commit {commit['id'][:10]}{' (dirty)' if commit.get('dirty') else ''}"
    shape_text = ", ".join(" x ".join(map(str, s)) for s in sorted(shapes)) or "?"
    lines = [
        f"# foveal benchmarks: {os.path.basename(path)}",
        "",
        f"- machine: {cpu_model}; processor {fv.get('processor') or mi.get('processor') or '?'}; "
        f"{fv.get('cores_usable', '?')} usable cores of {fv.get('cores_total', '?')}; "
        f"{mi.get('system', platform.system())} {mi.get('release', '')}".rstrip()
        + note,
        f"- date: {date[:19].replace('T', ' ')} UTC",
        f"- foveal {fv.get('foveal_version', '?')}, ISA {fv.get('foveal_isa', '?')}"
        + (f", {fv['foveal_compiler']}" if fv.get("foveal_compiler") else "")
        + commit_text,
        f"- input: {shape_text}"
        + ("  **(--fv-quick smoke run, not 4K)**" if fv.get("quick") else ""),
        _threads_line(threads, present),
        "- times are pytest-benchmark medians in ms; ratios are anchor / foveal: > 1 means "
        "foveal is faster",
    ]
    return lines


def _threads_line(threads: list[int], present=None) -> str:
    """Which of the libraries ``present`` (default: all) ran at each thread count."""
    present = LIBRARIES if present is None else present
    threaded = [lib for lib in present if lib not in SINGLE_THREADED]
    single = [lib for lib in present if lib in SINGLE_THREADED]
    line = f"- threads: {', '.join(map(str, threads))}"
    if threaded:
        line += f" ({_names(threaded)})"
    if len(single) == 1:
        line += f"; {single[0]} is single-threaded and its 1-thread median is used in every row"
    elif single:
        line += (
            f"; {_names(single)} are single-threaded and their 1-thread median is used in every row"
        )
    return line


# --------------------------------------------------------------------------- table


def _fmt_ms(seconds) -> str:
    if seconds is None:
        return "—"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def _fmt_rate(gflop, seconds) -> str:
    if gflop is None or not seconds:
        return "—"
    rate = gflop / seconds
    return f"{rate:.0f}" if rate >= 100 else f"{rate:.1f}" if rate >= 10 else f"{rate:.2f}"


def _fmt_per_iter(n_iters: dict, library: str, threads: int, seconds) -> str:
    n_iter = median_for(n_iters, library, threads)
    return _fmt_ms(seconds / n_iter) if n_iter and seconds is not None else "—"


def _fmt_bandwidth(moved, seconds) -> list[str]:
    """[GB/s, % of the copy's GB/s] of a call that moves ``moved[0]`` bytes."""
    if moved is None or not seconds:
        return ["—", "—"]
    gbps = moved[0] / seconds / 1e9
    return [f"{gbps:.0f}", f"{100 * gbps / moved[1]:.0f}%"]


def _fmt_ratio(r) -> str:
    if r is None:
        return "—"
    return f"{r:.1f}×" if r >= 10 else f"{r:.2f}×"


def rows(table: dict, threads: list[int]):
    """(workload, threads, {library: median s}, {anchor: ratio}) per workload x threads."""
    out = []
    for workload, results in table.items():
        for n in threads:
            if not any(k == n for (_, k) in results) and n != 1:
                continue
            medians = {lib: median_for(results, lib, n) for lib in LIBRARIES}
            base = medians["foveal"]
            ratios = {
                a: (medians[a] / base if medians[a] is not None and base else None) for a in ANCHORS
            }
            out.append((workload, n, medians, ratios))
    return out


def markdown(data: dict, path: str) -> tuple[str, list]:
    table, threads, shapes = collect(data)
    if not table:
        raise SystemExit(f"{path}: no benchmarks with extra_info library/threads/workload")
    body = rows(table, threads)
    present = [lib for lib in LIBRARIES if any(m[lib] is not None for _, _, m, _ in body)]
    anchors = [a for a in ANCHORS if a in present]
    gflop = gflop_per_workload(data)
    n_iters = iterations_per_result(data)
    head = ["workload", "threads", *(f"{lib} ms" for lib in present)]
    head += [f"{a}/foveal" for a in anchors]
    if gflop:
        head += [f"{lib} GFLOP/s" for lib in present]
    iter_libs = [lib for lib in present if any(k[0] == lib for i in n_iters.values() for k in i)]
    head += [f"{lib} ms/iter" for lib in iter_libs]
    bandwidth = bandwidth_per_workload(data)
    if bandwidth:
        head += ["foveal GB/s", "% of copy"]
    lines = header_lines(data, path, shapes, threads, present) + [""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("| " + " | ".join(["---", "---:"] + ["---:"] * (len(head) - 2)) + " |")
    for workload, n, medians, ratios in body:
        cells = [workload, str(n)]
        cells += [_fmt_ms(medians[lib]) for lib in present]
        cells += [_fmt_ratio(ratios[a]) for a in anchors]
        if gflop:
            cells += [_fmt_rate(gflop.get(workload), medians[lib]) for lib in present]
        its = n_iters.get(workload, {})
        cells += [_fmt_per_iter(its, lib, n, medians[lib]) for lib in iter_libs]
        if bandwidth:
            cells += _fmt_bandwidth(bandwidth.get(workload), medians["foveal"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n", body


# --------------------------------------------------------------------------- chart


def plot(body: list, out: str, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report.py: matplotlib is not installed; no chart written", file=sys.stderr)
        return False
    anchors = [a for a in ANCHORS if any(r[a] is not None for *_, r in body)]
    labels = [f"{w}  (t={n})" for w, n, _, _ in body]
    height = 0.8 / max(len(anchors), 1)
    fig, ax = plt.subplots(figsize=(10, 0.13 * len(body) * max(len(anchors), 1) + 1.5))
    for i, a in enumerate(anchors):
        ys = [j + (i - (len(anchors) - 1) / 2) * height for j in range(len(body))]
        vals = [r[a] if r[a] is not None else float("nan") for *_, r in body]
        ax.barh(ys, vals, height=height, label=f"{a} / foveal")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(body)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("anchor time / foveal time  (> 1: foveal faster; log scale)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="pytest-benchmark JSON (from --benchmark-json)")
    parser.add_argument("--out", help="write the markdown here (default: stdout)")
    parser.add_argument("--plot", help="write a bar chart of the ratios here (needs matplotlib)")
    args = parser.parse_args(argv)

    data = load(args.results)
    text, body = markdown(data, args.results)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if args.plot:
        plot(body, args.plot, f"foveal speed-up: {os.path.basename(args.results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

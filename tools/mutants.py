"""Plant deliberate faults (mutants) in foveal and check that the test suite catches them.

Each mutant is one textual change (a find/replace that must match exactly once) in a C++ source
or a Python wrapper. The script works in a separate git worktree (default /tmp/mutants/wt,
never the main checkout) with its own CMake build directory: it configures once, and each C++
mutant rebuilds only the changed file (``cmake --build``). A copy of the package with that
worktree's _core is put first on PYTHONPATH (as .ci/sanitize.sh does; a sitecustomize.py there
also takes a development checkout's editable-install finder out of the way), the mutant's test
files run with ``pytest -x``, the result (caught by which test, or survived) is recorded and the
file is restored.

    python tools/mutants.py                          # baseline, then every mutant
    python tools/mutants.py --only sdpa-causal-diagonal pool-ceil-window
    python tools/mutants.py --record tools/MUTANTS.md
    python tools/mutants.py --extra                  # and the subtler probes (EXTRA)

A baseline run (no mutant) of every test file involved must pass first, or the results would
mean nothing. Compiles and tests run under ``nice -n 10``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    family: str
    path: str  # relative to the repository root
    find: str
    replace: str
    tests: tuple[str, ...]
    fault: str  # what the change does, in words

    @property
    def native(self) -> bool:
        return self.path.startswith("cpp/")


MUTANTS = (
    Mutant(
        "morph-right-border",
        "morphology",
        "cpp/src/morphology/morphology.cpp",
        "i < static_cast<std::int64_t>(pass.col_map.size()); ++i)",
        "i < static_cast<std::int64_t>(pass.col_map.size()) - 1; ++i)",
        ("tests/test_morphology.py",),
        "off-by-one at the right border: the last entry of the column border map is never "
        "filled, so windows past the last column read column 0 instead of the border",
    ),
    Mutant(
        "filter2d-tap-stride",
        "filters",
        "cpp/src/filters/filter_simd.cpp",
        "ptrs[t] = rows[i] + j * C;",
        "ptrs[t] = rows[i] + j;",
        ("tests/test_filters.py",),
        "wrong stride in a filter row: filter2d's horizontal taps step one value instead of one "
        "pixel (C values), wrong for multichannel images only",
    ),
    Mutant(
        "morph-border-value-channel",
        "morphology",
        "python/foveal/imgproc.py",
        "    channels = arr.shape[2] if arr.ndim == 3 else 1\n    values = val.border_values(",
        "    channels = 1\n    values = val.border_values(",
        ("tests/test_morphology.py",),
        "dropped channels in (H, W, C) handling (Python wrapper): the border constant is built "
        "for one channel, so a per-channel border_value is refused or mis-read",
    ),
    Mutant(
        "sdpa-causal-diagonal",
        "attention",
        "cpp/src/attention/attention_simd.cpp",
        "if (plan.causal) live = min_of(live, q0 + i - s0 + 1);",
        "if (plan.causal) live = min_of(live, q0 + i - s0);",
        ("tests/test_attention.py",),
        "wrong causal index: query i sees keys j < i instead of j <= i (the diagonal is masked)",
    ),
    Mutant(
        "pool-ceil-window",
        "nn",
        "cpp/src/nn/pool.cpp",
        "if (ceil_mode && (o - 1) * stride >= n + pad) --o;",
        "if (ceil_mode && (o - 1) * stride > n + pad) --o;",
        ("tests/test_nn.py",),
        "wrong ceil_mode window: a last window that starts at n + padding, past the input "
        "(wholly in the right padding), is kept; torch drops it",
    ),
    Mutant(
        "kmeans-argmin-tie",
        "segmentation",
        "cpp/src/segment/kmeans_simd.cpp",
        "const I take = dist < best[u];",
        "const I take = dist <= best[u];",
        ("tests/test_segment.py",),
        "wrong tie-break in the k-means argmin (few-centers path): equidistant centers give the "
        "highest index instead of the lowest",
    ),
    Mutant(
        "contour-area-orientation",
        "contours",
        "python/foveal/contours.py",
        "xp, yp = np.roll(x, 1), np.roll(y, 1)",
        "xp, yp = np.roll(x, -1), np.roll(y, -1)",
        ("tests/test_contours.py",),
        "wrong contour direction (Python wrapper): contour_area walks the points backwards, so "
        "the oriented area has the wrong sign",
    ),
    Mutant(
        "gradient-y-sign",
        "gradients",
        "cpp/src/filters/filters.cpp",
        "deriv_kernels(0, 1, ksize, gyx, gyy);",
        "deriv_kernels(0, 1, ksize, gyx, gyy), gyy.assign(gyy.rbegin(), gyy.rend());",
        ("tests/test_gradients.py", "tests/test_corners.py"),
        "wrong Sobel sign: the fused gradient plan (gradient, corners, canny) reverses the y "
        "derivative's kernel, so gy changes sign",
    ),
    Mutant(
        "sdpa-gqa-heads",
        "attention",
        "cpp/src/attention/attention_simd.cpp",
        "const i64 g = h / (plan.hq / plan.hkv);",
        "const i64 g = h % plan.hkv;",
        ("tests/test_attention.py",),
        "wrong GQA head mapping: query head h reads key/value head h mod Hkv (interleaved) "
        "instead of h // (Hq / Hkv) (torch's blocks)",
    ),
    Mutant(
        "label-union-root",
        "segmentation",
        "cpp/src/segment/components.cpp",
        "  else if (b < a)\n    parent[a] = b;",
        "  else if (b < a)\n    parent[b] = a;",
        ("tests/test_components.py",),
        "wrong label merge in union-find: when the second root is the smaller it is hung under "
        "the larger, so a component's root is not its first run and labels come out of cv2's "
        "order",
    ),
)


# Subtler faults, beyond the ten: probes for gaps in the tests (``--extra``).
EXTRA = (
    Mutant(
        "pool-avg-right-pad-divisor",
        "nn",
        "cpp/src/nn/pool_simd.cpp",
        "return static_cast<double>(sp.end - sp.start);",
        "return static_cast<double>(sp.hi - sp.start);",
        ("tests/test_nn.py",),
        "avg_pool2d with count_include_pad counts the left padding in the divisor but not the "
        "right padding",
    ),
    Mutant(
        "corners-min-distance-edge",
        "corners",
        "python/foveal/_corner_selection.py",
        "if d < md2:",
        "if d <= md2:",
        ("tests/test_corners.py", "tests/test_mutant_gaps.py"),
        "corners rejects a corner at exactly min_distance from a kept one (cv2 keeps it)",
    ),
    Mutant(
        "bandpass-ideal-high-edge",
        "frequency",
        "python/foveal/_cupy/frequency.py",
        "keep &= r2 <= high * high",
        "keep &= r2 < high * high",
        ("tests/test_frequency.py",),
        "the ideal band-pass drops the frequencies at radius exactly high (documented: kept)",
    ),
    Mutant(
        "kmeans-near-list-tie",
        "segmentation",
        "cpp/src/segment/kmeans_simd.cpp",
        "if (dist < best || (dist == best && j < label)) {",
        "if (dist < best || (dist == best && j > label)) {",
        ("tests/test_segment.py",),
        "wrong tie-break in k-means' bounded path (many centers): a point equidistant from two "
        "centers takes the higher index",
    ),
    Mutant(
        "label-diagonal-gap",
        "segmentation",
        "cpp/src/segment/components.cpp",
        "if (a.begin < b.end + reach && b.begin < a.end + reach)",
        "if (a.begin <= b.end + reach && b.begin < a.end + reach)",
        ("tests/test_components.py",),
        "label joins a run to one of the row above that ends one pixel short of diagonal contact",
    ),
    Mutant(
        "contour-follow-start",
        "contours",
        "cpp/src/segment/contours.cpp",
        "const int s_first = hole ? 0 : 4;",
        "const int s_first = hole ? 4 : 0;",
        ("tests/test_contours.py",),
        "border following starts its first neighbour search from the wrong side (outer borders "
        "and holes swapped)",
    ),
    Mutant(
        "conv-same-pad-side",
        "nn",
        "python/foveal/nn.py",
        "return th // 2, th - th // 2, tw // 2, tw - tw // 2",
        "return th - th // 2, th // 2, tw // 2, tw - tw // 2",
        ("tests/test_nn.py",),
        "conv2d padding='same' puts the odd row of padding on top (torch: at the bottom)",
    ),
    Mutant(
        "canny-dropped-channel",
        "gradients",
        "cpp/src/filters/canny_simd.cpp",
        "for (i64 c = 0; c < C; ++c) {",
        "for (i64 c = 0; c < C - 1; ++c) {",
        ("tests/test_gradients.py",),
        "canny on (H, W, C) images ignores the last channel when picking the strongest gradient",
    ),
    Mutant(
        "sobel-shared-kernels",
        "threads",
        "cpp/src/filters/filters.cpp",
        "  std::vector<double> kx, ky;\n  deriv_kernels(dx, dy, ksize, kx, ky);",
        "  static std::vector<double> kx, ky;\n  deriv_kernels(dx, dy, ksize, kx, ky);",
        ("tests/test_stress.py",),
        "a data race: sobel's kernels in a static vector shared by every thread (fine from one "
        "thread; concurrent sobel and scharr calls overwrite each other's)",
    ),
)


def run(cmd, *, cwd=None, env=None, timeout=None, log=None) -> tuple[int, str, float]:
    """(return code, combined output, seconds); code 124 on timeout."""
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        code, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:
        code, out = 124, (exc.stdout or b"").decode(errors="replace") + "\n[timed out]"
    if log is not None:
        log.write_text(out)
    return code, out, time.monotonic() - t0


class Workspace:
    """The worktree, its build directory and the package copy the tests import."""

    def __init__(self, worktree: pathlib.Path, build: pathlib.Path, jobs: int):
        self.wt = worktree.resolve()
        self.build = build.resolve()
        self.pkg = self.build.parent / "pkg"
        self.jobs = jobs
        if self.wt == REPO or REPO in self.wt.parents or self.wt in REPO.parents:
            sys.exit(f"mutants: the worktree {self.wt} must lie outside the checkout {REPO}")

    def prepare(self, commit: str) -> None:
        if not (self.wt / ".git").exists():
            self.wt.parent.mkdir(parents=True, exist_ok=True)
            code, out, _ = run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", str(self.wt), commit]
            )
            if code:
                sys.exit(f"mutants: git worktree add failed:\n{out}")
        # The worktree is ours alone: bring it to the commit, dropping any leftover mutant.
        code, out, _ = run(["git", "-C", str(self.wt), "checkout", "--force", "--detach", commit])
        if code:
            sys.exit(f"mutants: could not check out {commit} in {self.wt}:\n{out}")
        if not (self.build / "build.ninja").exists():
            pybind11_dir = subprocess.check_output(
                [sys.executable, "-m", "pybind11", "--cmakedir"], text=True
            ).strip()
            cmd = ["cmake", "-S", str(self.wt), "-B", str(self.build), "-G", "Ninja"]
            cmd += ["-DFOVEAL_PYTHON=ON", "-DFOVEAL_CUDA=OFF", "-DCMAKE_BUILD_TYPE=Release"]
            cmd += [f"-Dpybind11_DIR={pybind11_dir}"]
            code, out, _ = run(cmd)
            if code:
                sys.exit(f"mutants: cmake configure failed:\n{out}")

    def compile(self, log: pathlib.Path) -> tuple[bool, float]:
        cmd = ["nice", "-n", "10", "cmake", "--build", str(self.build), "-j", str(self.jobs)]
        code, _, seconds = run(cmd + ["--target", "_core"], log=log)
        return code == 0, seconds

    def package(self) -> None:
        """pkg/foveal = the worktree's Python package + the freshly built _core."""
        target = self.pkg / "foveal"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(self.wt / "python" / "foveal", target)
        for old in list(target.glob("_core*.so")) + list(target.glob("_cuda*.so")):
            old.unlink()
        for so in self.build.glob("_core*.so"):
            shutil.copy2(so, target)
        # A development venv's editable install hooks `import foveal` before PYTHONPATH is
        # searched; take that finder out so that the copy above is the one imported.
        (self.pkg / "sitecustomize.py").write_text(
            "import sys\n"
            "sys.meta_path[:] = [f for f in sys.meta_path\n"
            "                    if type(f).__name__ != 'ScikitBuildRedirectingFinder']\n"
        )

    def pytest(self, tests, timeout: float, log: pathlib.Path) -> tuple[int, str, float]:
        env = dict(os.environ, PYTHONPATH=str(self.pkg), PYTHONDONTWRITEBYTECODE="1")
        cmd = ["nice", "-n", "10", sys.executable, "-m", "pytest", "-x", "-q", "-rfE"]
        cmd += ["-p", "no:cacheprovider", *tests]
        return run(cmd, cwd=self.wt, env=env, timeout=timeout, log=log)

    def imported_from(self) -> str:
        env = dict(os.environ, PYTHONPATH=str(self.pkg))
        code = "import foveal, foveal._core as c; print(foveal.__file__, c.__file__)"
        return subprocess.check_output([sys.executable, "-c", code], env=env, text=True).strip()


def first_failure(output: str) -> str:
    for line in output.splitlines():
        m = re.match(r"^(FAILED|ERROR) (\S+)", line)
        if m:
            return m.group(2)
    return ""


def locate(ws: Workspace, m: Mutant) -> tuple[pathlib.Path, str, int]:
    """(file, its text, line number of the change); exits unless the text occurs once."""
    path = ws.wt / m.path
    original = path.read_text()
    count = original.count(m.find)
    if count != 1:
        sys.exit(f"mutants: {m.name}: the text to replace occurs {count} times in {m.path}")
    return path, original, original[: original.index(m.find)].count("\n") + 1


def apply(ws: Workspace, m: Mutant) -> tuple[pathlib.Path, str, int]:
    """Writes the mutant; returns (file, original text, line number of the change)."""
    path, original, line = locate(ws, m)
    path.write_text(original.replace(m.find, m.replace))
    return path, original, line


def try_mutant(ws: Workspace, m: Mutant, logs: pathlib.Path, timeout: float) -> dict:
    path, original, line = apply(ws, m)
    result = dict(mutant=m, line=line, build_s=0.0, test_s=0.0, caught_by="", status="")
    try:
        if m.native:
            ok, result["build_s"] = ws.compile(logs / f"{m.name}.build.log")
            if not ok:
                result["status"] = "build failed"
                return result
        ws.package()
        code, out, result["test_s"] = ws.pytest(m.tests, timeout, logs / f"{m.name}.test.log")
        if code == 124:
            result["status"], result["caught_by"] = "caught", "(timeout: the tests hung)"
        elif code == 0:
            result["status"] = "SURVIVED"
        else:
            result["status"] = "caught"
            result["caught_by"] = first_failure(out) or f"(pytest exit {code})"
        return result
    finally:
        path.write_text(original)


def _rows(results) -> list[str]:
    rows = [
        "| # | mutant | family | where | fault | tests run | result | first failing test | "
        "build s | test s |",
        "| ---: | --- | --- | --- | --- | --- | --- | --- | ---: | ---: |",
    ]
    for n, r in enumerate(results, 1):
        m = r["mutant"]
        tests = ", ".join(t.removeprefix("tests/") for t in m.tests)
        rows.append(
            f"| {n} | `{m.name}` | {m.family} | `{m.path}:{r['line']}` | {m.fault} | {tests} | "
            f"{r['status']} | `{r['caught_by']}` | {r['build_s']:.0f} | {r['test_s']:.0f} |"
        )
    return rows


def write_record(path: pathlib.Path, results, baseline_s: float, commit: str) -> None:
    """The ten and the extra probes, each in its own table."""
    lines = [
        "# Mutants: faults planted on purpose, and the tests that catch them",
        "",
        "Written by `python tools/mutants.py --extra --record tools/MUTANTS.md` (see its "
        "docstring): each fault is one find/replace in a separate git worktree, rebuilt "
        "incrementally and tested with `pytest -x` on the files listed; then reverted.",
        "",
        f"Commit {commit[:10]}; {time.strftime('%Y-%m-%d')}; baseline (no fault) of the same "
        f"test files passed in {baseline_s:.0f} s.",
    ]
    for title, group in (("The ten", MUTANTS), ("Extra probes (subtler)", EXTRA)):
        chosen = [r for r in results if r["mutant"] in group]
        if chosen:
            caught = sum(r["status"] == "caught" for r in chosen)
            lines += ["", f"## {title}: caught {caught} of {len(chosen)}", "", *_rows(chosen)]
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="mutant names (default: all)")
    parser.add_argument("--worktree", type=pathlib.Path, default=pathlib.Path("/tmp/mutants/wt"))
    parser.add_argument("--build", type=pathlib.Path, default=pathlib.Path("/tmp/mutants/build"))
    parser.add_argument("--commit", default="HEAD", help="the commit to test (default HEAD)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1200, help="per pytest run, seconds")
    parser.add_argument("--no-baseline", action="store_true", help="skip the clean run")
    parser.add_argument("--record", type=pathlib.Path, help="write the markdown record here")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--extra", action="store_true", help="also the subtler EXTRA mutants")
    args = parser.parse_args(argv)

    pool = MUTANTS + EXTRA if args.extra or args.only else MUTANTS
    chosen = [m for m in pool if not args.only or m.name in args.only]
    if args.only and len(chosen) != len(set(args.only)):
        known = ", ".join(m.name for m in MUTANTS + EXTRA)
        sys.exit(f"mutants: unknown name in {args.only}; known: {known}")
    if args.list:
        for m in chosen:
            print(f"{m.name:28s} {m.path}: {m.fault}")
        return 0
    commit = subprocess.check_output(
        ["git", "-C", str(REPO), "rev-parse", args.commit], text=True
    ).strip()
    ws = Workspace(args.worktree, args.build, args.jobs)
    logs = ws.build.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ws.prepare(commit)
    for m in chosen:  # every patch must apply before anything is built
        locate(ws, m)

    ok, seconds = ws.compile(logs / "clean.build.log")
    if not ok:
        sys.exit(f"mutants: the clean build failed; see {logs / 'clean.build.log'}")
    ws.package()
    print(f"clean build {seconds:.0f} s; tests import {ws.imported_from()}", flush=True)
    tests = sorted({t for m in chosen for t in m.tests})
    baseline_s = 0.0
    if not args.no_baseline:
        code, out, baseline_s = ws.pytest(tests, args.timeout, logs / "baseline.test.log")
        if code:
            print(out[-5000:])
            sys.exit("mutants: the tests fail without any mutant; fix that first")
        print(f"baseline: {len(tests)} test files pass in {baseline_s:.0f} s", flush=True)

    results = []
    for m in chosen:
        r = try_mutant(ws, m, logs, args.timeout)
        results.append(r)
        print(
            f"{m.name:28s} {r['status']:12s} {r['caught_by']}  "
            f"(build {r['build_s']:.0f} s, tests {r['test_s']:.0f} s)",
            flush=True,
        )
    ws.compile(logs / "restore.build.log")  # leave the build matching the clean sources
    caught = sum(r["status"] == "caught" for r in results)
    print(f"caught {caught} of {len(results)}")
    if args.record:
        write_record(args.record, results, baseline_s, commit)
    return 0 if all(r["status"] != "build failed" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m foveal bench``: run the benchmark suites and print the comparison tables.

    python -m foveal bench [--family F] [--quick] [-k EXPR] [--json PATH] [--out PATH]
                           [--benchmarks DIR]

The suites are the pytest-benchmark files ``benchmarks/test_<family>.py`` of a foveal source
checkout (they are not installed with the package): found beside the sources of an editable
install, in ./benchmarks, or where ``--benchmarks`` says. They run in a pytest subprocess; a
line is printed as each benchmark finishes (family, workload, library, threads, median), then,
per family, the markdown table of ``benchmarks/report.py`` (medians, and each anchor's time over
foveal's). ``--quick`` runs the suites' small inputs (``--fv-quick``) with one timed round each.

Exit status: pytest's (0 when every benchmark ran, 1 when one failed), 2 for a usage error, a
missing benchmarks folder or a missing pytest-benchmark.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import foveal

from ._bench_plugin import EVENTS_ENV

PROG = "python -m foveal bench"
#: Options of a full run (benchmarks/README.md's) and of a --quick one.
FULL_OPTIONS = ("--benchmark-min-rounds=5", "--benchmark-max-time=0.5")
QUICK_OPTIONS = ("--fv-quick", "--benchmark-min-rounds=1", "--benchmark-max-time=0")
POLL_S = 0.2
LOG_TAIL_LINES = 30
MAX_SKIP_REASONS = 5  # the summary lists this many reasons for skips, the most common first


class BenchError(Exception):
    """A usage or setup problem: reported in one line, exit status 2."""


# --- Where the suites are ---------------------------------------------------------------------


def _is_benchmarks_dir(path: Path) -> bool:
    return (path / "conftest.py").is_file() and (path / "report.py").is_file()


def find_benchmarks(explicit: str | None = None) -> Path:
    """The benchmarks folder: ``explicit`` if given, else the one of the source checkout that
    foveal is imported from (an editable install), else ./benchmarks."""
    if explicit is not None:
        path = Path(explicit).expanduser().resolve()
        if not _is_benchmarks_dir(path):
            raise BenchError(f"--benchmarks {explicit}: no conftest.py and report.py there")
        return path
    checkout = Path(foveal.__file__).resolve().parents[2] / "benchmarks"
    for path in (checkout, Path.cwd() / "benchmarks"):
        if _is_benchmarks_dir(path):
            return path
    raise BenchError(
        "no benchmarks folder: the suites come with a foveal source checkout "
        "(pip install -e . there), or name one with --benchmarks DIR"
    )


def discover_families(bench_dir: Path) -> list[str]:
    """The suites of ``bench_dir``: F for every ``test_F.py``, sorted."""
    return sorted(p.stem.removeprefix("test_") for p in bench_dir.glob("test_*.py"))


def family_of(nodeid: str) -> str:
    """``benchmarks/test_morphology.py::test_x[...]`` -> ``morphology``."""
    match = re.search(r"(?:^|/)test_([^/]+?)\.py(?:::|$)", nodeid)
    return match.group(1) if match else "?"


def check_pytest_benchmark() -> None:
    for module, package in (("pytest", "pytest"), ("pytest_benchmark", "pytest-benchmark")):
        if importlib.util.find_spec(module) is None:
            raise BenchError(f"{package} is not installed (pip install 'foveal[bench]')")


# --- Command line -----------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Run foveal's pytest-benchmark suites (foveal beside NumPy and every "
        "installed anchor library) and print each family's table of medians and ratios.",
    )
    p.add_argument(
        "--family",
        metavar="F",
        help="run one suite, benchmarks/test_F.py (default: all of them)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small inputs (--fv-quick) and one timed round per benchmark",
    )
    p.add_argument("-k", metavar="EXPR", dest="keyword", help="pytest -k: select benchmarks")
    p.add_argument("--json", metavar="PATH", help="keep pytest-benchmark's JSON here")
    p.add_argument("--out", metavar="PATH", help="write the markdown tables here")
    p.add_argument("--benchmarks", metavar="DIR", help="the benchmarks folder to run")
    return p.parse_args(argv)


def pytest_command(
    bench_dir: Path, families: list[str], *, quick: bool, keyword: str | None, json_path: str
) -> list[str]:
    """The pytest command line that runs the suites of ``families``."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    cmd += ["-p", "foveal._bench_plugin", f"--benchmark-json={json_path}"]
    cmd += QUICK_OPTIONS if quick else FULL_OPTIONS
    if keyword:
        cmd += ["-k", keyword]
    cmd += [str(bench_dir / f"test_{f}.py") for f in families]
    return cmd


# --- Progress ---------------------------------------------------------------------------------


class Progress:
    """Turns the plugin's events into lines: one per finished benchmark or failed test.
    ``fmt_ms(seconds)`` writes a median in ms (report.py's ``_fmt_ms``, as in its tables)."""

    def __init__(self, families: list[str], fmt_ms: Callable[[float], str]):
        self.fmt_ms = fmt_ms
        self.family_w = max(len("family"), *(len(f) for f in families))
        self.total = 0
        self.done = 0
        self.timed = 0
        self.failed: list[str] = []
        self.skipped: dict[str, int] = {}  # reason -> tests

    def line(self, event: dict) -> str | None:
        """The line to print for ``event``, or None."""
        kind = event.get("event")
        if kind == "collected":
            self.total = int(event["count"])
            return f"{self.total} benchmark tests collected"
        if kind == "benchmark":  # its test's "test" event comes after it
            self.timed += 1
            width = len(str(self.total))
            return (
                f"[{self.done + 1:>{width}}/{self.total}] "
                f"{family_of(event['nodeid']):<{self.family_w}}  {event['workload']:<32}  "
                f"{event['library']:<10}  t{event['threads']:<3}  "
                f"{self.fmt_ms(event['median']):>7} ms"
            )
        if kind != "test":
            return None
        self.done += 1
        reason = event.get("reason") or ""
        if event.get("outcome") == "failed":
            self.failed.append(event["nodeid"])
            return f"[{self.done}/{self.total}] FAILED {event['nodeid']}: {reason}".rstrip(": ")
        if event.get("outcome") == "skipped":
            reason = reason or "no reason given"
            self.skipped[reason] = self.skipped.get(reason, 0) + 1
        return None

    def summary(self) -> list[str]:
        skipped = sum(self.skipped.values())
        lines = [f"{self.timed} benchmarks timed, {len(self.failed)} failed, {skipped} skipped"]
        reasons = sorted(self.skipped.items(), key=lambda kv: -kv[1])
        for reason, n in reasons[:MAX_SKIP_REASONS]:
            lines.append(f"  {n} skipped: {reason}")
        if len(reasons) > MAX_SKIP_REASONS:
            rest = sum(n for _, n in reasons[MAX_SKIP_REASONS:])
            lines.append(f"  {rest} skipped for {len(reasons) - MAX_SKIP_REASONS} other reasons")
        return lines


def _follow(path: Path, proc: subprocess.Popen, on_event: Callable[[dict], None]) -> None:
    """Call ``on_event`` for each JSON line appended to ``path`` until ``proc`` exits."""
    pending = ""
    with open(path, encoding="utf-8") as f:
        while True:
            finished = proc.poll() is not None
            pending += f.read()
            *complete, pending = pending.split("\n")
            for text in complete:
                if text.strip():
                    on_event(json.loads(text))
            if finished:
                return
            time.sleep(POLL_S)


# --- Tables -----------------------------------------------------------------------------------


def load_report(bench_dir: Path) -> ModuleType:
    """benchmarks/report.py as a module (it imports benchmarks/machine.py as ``machine``)."""
    if str(bench_dir) not in sys.path:
        sys.path.insert(0, str(bench_dir))
    spec = importlib.util.spec_from_file_location("_foveal_bench_report", bench_dir / "report.py")
    if spec is None or spec.loader is None:
        raise BenchError(f"cannot load {bench_dir / 'report.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split_by_family(data: dict) -> dict[str, dict]:
    """pytest-benchmark's JSON cut into one JSON per family (the test file each benchmark came
    from), in the order the families ran."""
    parts: dict[str, dict] = {}
    for bench in data.get("benchmarks", []):
        family = family_of(bench.get("fullname") or bench.get("name", ""))
        parts.setdefault(family, {**data, "benchmarks": []})["benchmarks"].append(bench)
    return parts


def tables(data: dict, report: ModuleType, label: str) -> str:
    """report.py's markdown, one section per family found in ``data``."""
    sections = []
    for family, part in split_by_family(data).items():
        text, _ = report.markdown(part, f"{family} ({label})")
        sections.append(text)
    return "\n".join(sections)


# --- Running ----------------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    """This process's environment, with the foveal imported here first on the path so that the
    subprocess imports the same one (and its plugin)."""
    env = dict(os.environ)
    package_root = str(Path(foveal.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


def _tail(path: Path, n: int = LOG_TAIL_LINES) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-n:])


def run(args: argparse.Namespace) -> int:
    check_pytest_benchmark()
    bench_dir = find_benchmarks(args.benchmarks)
    families = discover_families(bench_dir)
    if not families:
        raise BenchError(f"no test_<family>.py suites in {bench_dir}")
    if args.family is not None:
        if args.family not in families:
            raise BenchError(
                f"--family {args.family}: no such suite in {bench_dir}; "
                f"the families are {', '.join(families)}"
            )
        families = [args.family]
    report = load_report(bench_dir)

    with tempfile.TemporaryDirectory(prefix="foveal-bench-") as tmp:
        work = Path(tmp)
        json_path = Path(args.json).resolve() if args.json else work / "benchmarks.json"
        events, log = work / "events.jsonl", work / "pytest.log"
        events.touch()
        cmd = pytest_command(
            bench_dir, families, quick=args.quick, keyword=args.keyword, json_path=str(json_path)
        )
        env = _child_env()
        env[EVENTS_ENV] = str(events)
        mode = "quick (small inputs, one round)" if args.quick else "full"
        print(f"foveal {foveal.__version__}: {', '.join(families)} from {bench_dir}, {mode}")
        progress = Progress(families, report._fmt_ms)

        def show(event: dict) -> None:
            text = progress.line(event)
            if text is not None:
                print(text, flush=True)

        with open(log, "w", encoding="utf-8") as log_file:
            proc = subprocess.Popen(
                cmd, stdout=log_file, stderr=subprocess.STDOUT, cwd=bench_dir.parent, env=env
            )
            try:
                _follow(events, proc, show)
            except KeyboardInterrupt:
                proc.terminate()
                proc.wait()
                raise
        status = proc.returncode
        for line in progress.summary():
            print(line)
        if status not in (0, 1):
            print(f"\npytest exited with status {status}; the end of its output:\n{_tail(log)}")
            return status if status != 5 else 1  # 5: nothing collected (-k matched nothing)
        if progress.failed:
            print(f"\nthe end of pytest's output:\n{_tail(log)}")
        if not json_path.is_file():
            print(f"{PROG}: error: pytest wrote no JSON ({json_path})", file=sys.stderr)
            return 1
        data = json.loads(json_path.read_text(encoding="utf-8"))
        if not data.get("benchmarks"):
            print("no benchmark was timed: no table")
            return status
        text = tables(data, report, json_path.name if args.json else "this run")
    print()
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"\nwrote {args.out}")
    if args.json:
        print(f"wrote {args.json}")
    return status


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2

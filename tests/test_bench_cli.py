"""``python -m foveal bench``: arguments, finding the suites, the progress lines and the tables,
the error exits, and (when pytest-benchmark is installed) one real quick run."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import foveal
import pytest
from foveal import _bench
from foveal.__main__ import main as foveal_main

_HAVE_PYTEST_BENCHMARK = importlib.util.find_spec("pytest_benchmark") is not None
_CHECKOUT_BENCHMARKS = Path(foveal.__file__).resolve().parents[2] / "benchmarks"
_needs_checkout = pytest.mark.skipif(
    not (_CHECKOUT_BENCHMARKS / "report.py").is_file(),
    reason="not run from a foveal source checkout (no benchmarks/ beside python/foveal)",
)


def _fake_benchmarks(tmp_path: Path, families=("morphology", "nn")) -> Path:
    """A folder that looks like benchmarks/: conftest.py, report.py and test_<F>.py files."""
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    for name in ("conftest.py", "report.py", "machine.py", "helpers.py"):
        (bench / name).write_text("")
    for family in families:
        (bench / f"test_{family}.py").write_text("")
    return bench


def _bench_record(family: str, workload: str, library: str, threads: int, median: float) -> dict:
    """One benchmark as pytest-benchmark writes it, with benchmarks/conftest.py's labels."""
    return {
        "name": f"test_{family}[{library}-t{threads}-{workload}]",
        "fullname": f"benchmarks/test_{family}.py::test_{family}[{library}-t{threads}]",
        "group": workload,
        "extra_info": {
            "library": library,
            "threads": threads,
            "workload": workload,
            "shape": [540, 960],
        },
        "stats": {"median": median},
    }


def _fake_run() -> dict:
    """A tiny pytest-benchmark JSON: two families, foveal against numpy and cv2 / torch."""
    return {
        "machine_info": {
            "system": "Linux",
            "release": "6.0",
            "foveal": {
                "cpu_model": "Test CPU",
                "processor": "x86_64",
                "cores_usable": 2,
                "cores_total": 2,
                "foveal_version": "0.1.0",
                "foveal_isa": "avx2",
                "quick": True,
            },
        },
        "datetime": "2026-01-02T03:04:05.000000+00:00",
        "benchmarks": [
            _bench_record("morphology", "uint8 dilate rect 3x3", "foveal", 1, 0.002),
            _bench_record("morphology", "uint8 dilate rect 3x3", "numpy", 1, 0.010),
            _bench_record("morphology", "uint8 dilate rect 3x3", "cv2", 1, 0.001),
            _bench_record("nn", "conv2d 3x3", "foveal", 1, 0.020),
            _bench_record("nn", "conv2d 3x3", "torch", 1, 0.030),
        ],
    }


# --- Arguments and routing --------------------------------------------------------------------


def test_parse_args_defaults():
    args = _bench.parse_args([])
    assert (args.family, args.quick, args.keyword, args.json, args.out, args.benchmarks) == (
        None,
        False,
        None,
        None,
        None,
        None,
    )


def test_parse_args_everything():
    args = _bench.parse_args(
        ["--family", "nn", "--quick", "-k", "cv2", "--json", "a.json", "--out", "a.md"]
        + ["--benchmarks", "somewhere"]
    )
    assert (args.family, args.quick, args.keyword) == ("nn", True, "cv2")
    assert (args.json, args.out, args.benchmarks) == ("a.json", "a.md", "somewhere")


def test_main_routes_bench_to_the_runner(capsys):
    with pytest.raises(SystemExit) as exc:
        foveal_main(["bench", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m foveal bench")
    assert "--family" in out and "--benchmarks" in out


def test_demo_arguments_are_unchanged(capsys):
    with pytest.raises(SystemExit):
        foveal_main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m foveal [-h]") and "--plot" in out


# --- Finding the suites -----------------------------------------------------------------------


def test_discover_families(tmp_path):
    bench = _fake_benchmarks(tmp_path, families=("segment", "attention", "dask"))
    assert _bench.discover_families(bench) == ["attention", "dask", "segment"]


def test_find_benchmarks_explicit(tmp_path):
    bench = _fake_benchmarks(tmp_path)
    assert _bench.find_benchmarks(str(bench)) == bench.resolve()
    with pytest.raises(_bench.BenchError, match="--benchmarks"):
        _bench.find_benchmarks(str(tmp_path / "nowhere"))


@_needs_checkout
def test_find_benchmarks_in_the_checkout():
    found = _bench.find_benchmarks()
    assert found == _CHECKOUT_BENCHMARKS.resolve()
    assert {"morphology", "filters", "nn", "attention", "segment"} <= set(
        _bench.discover_families(found)
    )


def test_find_benchmarks_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(foveal, "__file__", str(tmp_path / "a" / "b" / "foveal" / "__init__.py"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(_bench.BenchError, match="no benchmarks folder"):
        _bench.find_benchmarks()


@pytest.mark.parametrize(
    ("nodeid", "family"),
    [
        ("benchmarks/test_morphology.py::test_morphology[cv2-t1-uint8-dilate-rect3]", "morphology"),
        ("test_nn.py::test_conv2d[foveal-t2]", "nn"),
        ("/abs/path/benchmarks/test_segment.py::test_label", "segment"),
        ("benchmarks/test_dask.py", "dask"),
        ("benchmarks/conftest.py::x", "?"),
    ],
)
def test_family_of(nodeid, family):
    assert _bench.family_of(nodeid) == family


def test_pytest_command(tmp_path):
    bench = tmp_path / "benchmarks"
    quick = _bench.pytest_command(
        bench, ["nn", "segment"], quick=True, keyword="cv2", json_path="r.json"
    )
    assert quick[:3] == [sys.executable, "-m", "pytest"]
    assert "--fv-quick" in quick and "--benchmark-min-rounds=1" in quick
    assert "--benchmark-json=r.json" in quick
    plugins = [quick[i + 1] for i, arg in enumerate(quick) if arg == "-p"]
    assert plugins == ["no:cacheprovider", "foveal._bench_plugin"]
    assert quick[quick.index("-k") + 1] == "cv2"
    assert quick[-2:] == [str(bench / "test_nn.py"), str(bench / "test_segment.py")]
    full = _bench.pytest_command(bench, ["nn"], quick=False, keyword=None, json_path="r.json")
    assert "--fv-quick" not in full and "-k" not in full
    assert "--benchmark-min-rounds=5" in full


# --- Errors: one line, exit status 2 ---------------------------------------------------------


def _one_line_error(capsys, argv) -> str:
    assert _bench.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m foveal bench: error: ")
    return err


@pytest.mark.skipif(not _HAVE_PYTEST_BENCHMARK, reason="pytest-benchmark is not installed")
def test_unknown_family(tmp_path, capsys):
    bench = _fake_benchmarks(tmp_path, families=("morphology", "nn"))
    err = _one_line_error(capsys, ["--benchmarks", str(bench), "--family", "optics"])
    assert "optics" in err and "morphology, nn" in err


@pytest.mark.skipif(not _HAVE_PYTEST_BENCHMARK, reason="pytest-benchmark is not installed")
def test_missing_benchmarks_folder(tmp_path, capsys):
    err = _one_line_error(capsys, ["--benchmarks", str(tmp_path / "nowhere")])
    assert "nowhere" in err


def test_missing_pytest_benchmark(tmp_path, capsys, monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "pytest_benchmark" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    bench = _fake_benchmarks(tmp_path)
    err = _one_line_error(capsys, ["--benchmarks", str(bench)])
    assert "pytest-benchmark is not installed" in err


# --- Progress lines ---------------------------------------------------------------------------


def test_progress_lines():
    progress = _bench.Progress(["morphology", "nn"], lambda s: f"{s * 1e3:.2f}")
    assert progress.line({"event": "collected", "count": 3}) == "3 benchmark tests collected"
    nodeid = "benchmarks/test_morphology.py::test_morphology[foveal-t2-uint8-dilate-rect3]"
    line = progress.line(
        {
            "event": "benchmark",
            "nodeid": nodeid,
            "workload": "uint8 dilate rect 3x3",
            "library": "foveal",
            "threads": 2,
            "median": 0.00123,
        }
    )
    assert line is not None
    assert line.startswith("[1/3] morphology  uint8 dilate rect 3x3")
    assert line.split()[-4:] == ["foveal", "t2", "1.23", "ms"]
    assert progress.line({"event": "test", "nodeid": nodeid, "outcome": "passed"}) is None
    skipped = {"event": "test", "nodeid": "n2", "outcome": "skipped", "reason": "no cv2"}
    assert progress.line(skipped) is None
    failed = {"event": "test", "nodeid": "n3", "outcome": "failed", "reason": "AssertionError"}
    assert progress.line(failed) == "[3/3] FAILED n3: AssertionError"
    assert progress.summary() == [
        "1 benchmarks timed, 1 failed, 1 skipped",
        "  1 skipped: no cv2",
    ]


def test_progress_summary_keeps_the_common_skip_reasons():
    progress = _bench.Progress(["nn"], str)
    reasons = ["no torch"] * 3 + [f"no anchor {i}" for i in range(_bench.MAX_SKIP_REASONS + 2)]
    for reason in reasons:
        progress.line({"event": "test", "nodeid": "n", "outcome": "skipped", "reason": reason})
    summary = progress.summary()
    assert summary[0] == f"0 benchmarks timed, 0 failed, {len(reasons)} skipped"
    assert summary[1] == "  3 skipped: no torch"
    assert len(summary) == 2 + _bench.MAX_SKIP_REASONS
    assert summary[-1] == "  3 skipped for 3 other reasons"


def test_follow_reads_lines_as_they_come(tmp_path):
    """Records are handed over whole, in order, also when a line arrives in two writes."""
    events = tmp_path / "events.jsonl"
    events.touch()
    writer = textwrap.dedent(
        f"""
        import time
        path = {str(events)!r}
        def write(text):
            with open(path, "a") as f:
                f.write(text)
        write('{{"event": "collected", "count": 2}}\\n{{"event": "te')
        time.sleep(0.5)
        write('st", "outcome": "passed"}}\\n')
        time.sleep(0.3)
        write('{{"event": "test", "outcome": "skipped"}}\\n')
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", writer])
    seen: list[dict] = []
    _bench._follow(events, proc, seen.append)
    assert proc.returncode == 0
    assert seen == [
        {"event": "collected", "count": 2},
        {"event": "test", "outcome": "passed"},
        {"event": "test", "outcome": "skipped"},
    ]


# --- Tables -----------------------------------------------------------------------------------


def test_split_by_family():
    parts = _bench.split_by_family(_fake_run())
    assert list(parts) == ["morphology", "nn"]
    assert [len(p["benchmarks"]) for p in parts.values()] == [3, 2]
    assert parts["nn"]["machine_info"]["foveal"]["cpu_model"] == "Test CPU"


@_needs_checkout
def test_tables_from_report_py():
    report = _bench.load_report(_CHECKOUT_BENCHMARKS)
    text = _bench.tables(_fake_run(), report, "fake.json")
    morphology, nn = text.split("# foveal benchmarks: ")[1:]
    assert morphology.startswith("morphology (fake.json)")
    assert "Test CPU" in morphology and "--fv-quick" in morphology
    assert "| uint8 dilate rect 3x3 | 1 | 2.00 | 10.0 | 1.00 | 5.00× | 0.50× |" in morphology
    assert "torch" not in morphology
    assert "| conv2d 3x3 | 1 | 20.0 | 30.0 | 1.50× |" in nn


# --- A real run -------------------------------------------------------------------------------


@pytest.mark.slow
@_needs_checkout
@pytest.mark.skipif(not _HAVE_PYTEST_BENCHMARK, reason="pytest-benchmark is not installed")
def test_quick_morphology_run(tmp_path):
    """``bench --quick --family morphology`` (about 10 s): a progress line per benchmark, one
    table, the JSON and the markdown kept."""
    out_json, out_md = tmp_path / "run.json", tmp_path / "run.md"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(foveal.__file__).resolve().parent.parent), env.get("PYTHONPATH")])
    )
    proc = subprocess.run(
        [sys.executable, "-m", "foveal", "bench", "--quick", "--family", "morphology"]
        + ["--json", str(out_json), "--out", str(out_md)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out_json.read_text())
    libraries = {b["extra_info"]["library"] for b in data["benchmarks"]}
    assert {"foveal", "numpy"} <= libraries
    assert data["machine_info"]["foveal"]["quick"] is True
    progress = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == len(data["benchmarks"])
    assert all(" morphology  " in line and line.endswith(" ms") for line in progress)
    markdown = out_md.read_text()
    assert markdown.count("# foveal benchmarks: ") == 1
    assert "| uint8 dilate rect 3x3 | 1 |" in markdown
    assert markdown in proc.stdout

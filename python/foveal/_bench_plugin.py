"""The pytest plugin behind ``python -m foveal bench``'s progress display.

``python -m foveal bench`` runs the benchmark suites in a pytest subprocess with ``-p
foveal._bench_plugin`` and the environment variable ``FOVEAL_BENCH_EVENTS`` naming a file. As
the run goes, this plugin appends one JSON object per line to that file, which the parent
process reads while it waits:

- ``{"event": "collected", "count": N}`` once the tests are collected;
- ``{"event": "benchmark", "nodeid", "workload", "library", "threads", "median"}`` for each
  benchmark a test timed (``median`` in seconds; the labels are the ``extra_info`` that
  benchmarks/conftest.py records);
- ``{"event": "test", "nodeid", "outcome", "reason"}`` when a test has finished, after its
  benchmarks: ``outcome`` is "passed", "failed" or "skipped", ``reason`` the skip's reason or
  the last line of the failure.

Without ``FOVEAL_BENCH_EVENTS`` the plugin does nothing.
"""

from __future__ import annotations

import json
import os

EVENTS_ENV = "FOVEAL_BENCH_EVENTS"


class _Progress:
    def __init__(self, config, path: str):
        self.config = config
        self.path = path
        self.seen = 0  # benchmarks of pytest-benchmark's session already reported
        self.failed: dict[str, str] = {}
        self.skipped: dict[str, str] = {}

    def _emit(self, **record) -> None:
        # Opened per record: each line reaches the file when it is written (the reader still
        # copes with a line it finds half-written).
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def _new_benchmarks(self) -> list:
        session = getattr(self.config, "_benchmarksession", None)  # pytest-benchmark's
        if session is None:
            return []
        fresh = session.benchmarks[self.seen :]
        self.seen = len(session.benchmarks)
        return [b for b in fresh if b]  # a Metadata is false until it holds a timing

    def pytest_collection_finish(self, session) -> None:
        self._emit(event="collected", count=len(session.items))

    def pytest_runtest_logreport(self, report) -> None:
        nodeid = report.nodeid
        if report.failed:
            lines = [line.strip() for line in report.longreprtext.splitlines() if line.strip()]
            self.failed.setdefault(nodeid, lines[-1][:200] if lines else "")
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            self.skipped[nodeid] = str(reason).removeprefix("Skipped: ")
        if report.when != "teardown":
            return
        for bench in self._new_benchmarks():
            info = bench.extra_info or {}
            self._emit(
                event="benchmark",
                nodeid=nodeid,
                workload=info.get("workload") or bench.group or bench.name,
                library=info.get("library", "?"),
                threads=info.get("threads", 1),
                median=bench.stats.median,
            )
        if nodeid in self.failed:
            outcome, reason = "failed", self.failed.pop(nodeid)
        elif nodeid in self.skipped:
            outcome, reason = "skipped", self.skipped.pop(nodeid)
        else:
            outcome, reason = "passed", ""
        self._emit(event="test", nodeid=nodeid, outcome=outcome, reason=reason)


def pytest_configure(config) -> None:
    path = os.environ.get(EVENTS_ENV)
    if path:
        config.pluginmanager.register(_Progress(config, path), "foveal-bench-progress")

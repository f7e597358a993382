#!/usr/bin/env bash
# Everything a lent GPU should check, in one call of the device tool (about 10 minutes on an
# H100/H200 with 16 cores): build foveal with the CUDA module, run every GPU test on the real
# device (the emulated variants, which CI runs, are left out), then time the GPU benchmark
# suites. Logs, the pytest-benchmark JSON and its markdown table go to $OUT; the end of the
# output is a short summary.
#
#   bash tools/gpu_check.sh                          # build, tests, benchmarks
#   STAGES="build tests" bash tools/gpu_check.sh     # a subset
#   then, on a machine with compute-sanitizer support: bash tools/gpu_sanitize.sh
set -uo pipefail
cd "$(dirname "$0")/.."

OUT="${OUT:-$(mktemp -d)}"
STAGES="${STAGES:-build tests benchmarks}"
PYTHON="${PYTHON:-python3}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
export PYTHONUNBUFFERED=1
start=$SECONDS
summary=()

stage() { [[ " $STAGES " == *" $1 "* ]]; }
note() { echo "== $* ($((SECONDS - start)) s)"; }

if stage build; then
  note "build"
  if ! "$PYTHON" -m pip install --no-build-isolation --no-deps -v . > "$OUT/build.log" 2>&1; then
    tail -40 "$OUT/build.log"
    echo "gpu_check: the build failed (log: $OUT/build.log)"
    exit 1
  fi
  grep -E "ptxas (info|warning)|spill" "$OUT/build.log" > "$OUT/ptxas.log" || true
  summary+=("build: ok")
fi

"$PYTHON" -c "import foveal; foveal.show_config()" | tee "$OUT/config.txt"

if stage tests; then
  note "tests"
  timeout 420 "$PYTHON" -m pytest -q -p no:cacheprovider -k "not emulated" \
    tests/test_gpu_*.py tests/test_cupy_*.py tests/test_dispatch.py \
    --junitxml="$OUT/gpu-tests.xml" > "$OUT/gpu-tests.log" 2>&1
  rc=$?
  tail -25 "$OUT/gpu-tests.log"
  summary+=("tests: exit $rc, $(tail -1 "$OUT/gpu-tests.log")")
fi

if stage benchmarks; then
  note "benchmarks"
  (cd benchmarks && timeout 420 "$PYTHON" -m pytest -q -p no:cacheprovider \
    test_gpu.py test_gpu_attention.py --benchmark-json="$OUT/gpu-bench.json" \
    > "$OUT/gpu-bench.log" 2>&1)
  rc=$?
  if [ -s "$OUT/gpu-bench.json" ]; then
    "$PYTHON" benchmarks/report.py "$OUT/gpu-bench.json" --out "$OUT/gpu-bench.md" \
      --plot "$OUT/gpu-bench.png" || true
    cat "$OUT/gpu-bench.md" 2> /dev/null
  fi
  summary+=("benchmarks: exit $rc, $(tail -1 "$OUT/gpu-bench.log")")
fi

note "done"
printf '%s\n' "${summary[@]}"

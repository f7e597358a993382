#!/usr/bin/env bash
# The GPU tests under NVIDIA's compute-sanitizer, once per tool: memcheck (out-of-bounds and
# misaligned device accesses, bad frees), racecheck (shared-memory hazards), initcheck (reads
# of uninitialized device memory) and synccheck (invalid __syncthreads / warp syncs). Any
# report, or any failing test, fails the script. Run it on a machine with a CUDA device, CuPy
# and foveal installed (e.g. the venv of .ci/run plus `pip install cupy-cuda12x`):
#
#   bash tools/gpu_sanitize.sh                 # all four tools
#   TOOLS="memcheck initcheck" bash tools/gpu_sanitize.sh
#   TIMEOUT=900 bash tools/gpu_sanitize.sh     # seconds per tool (default 1200)
#
# What runs: every test marked `gpu` (pytest -m gpu) and the CuPy test files
# (tests/test_cupy_*.py, tests/test_nn_cupy_route.py). CuPy's memory pool is switched off
# (a pytest plugin calls cupy.cuda.set_allocator(None)) so that every array is its own
# cudaMalloc: memcheck then sees the true bounds of each array instead of a pooled block's.
# Logs go to $LOG_DIR (default: a new temporary directory), one per tool.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${TOOLS:-memcheck racecheck initcheck synccheck}"
TIMEOUT="${TIMEOUT:-1200}"
LOG_DIR="${LOG_DIR:-$(mktemp -d)}"
PYTHON="${PYTHON:-python}"

fail() {
  echo "gpu_sanitize: $*" >&2
  exit 2
}

# --- what must be there -------------------------------------------------------------------
sanitizer="${COMPUTE_SANITIZER:-$(command -v compute-sanitizer || true)}"
if [[ -z "$sanitizer" && -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/compute-sanitizer" ]]; then
  sanitizer="$CUDA_HOME/bin/compute-sanitizer"
fi
if [[ -z "$sanitizer" && -x /usr/local/cuda/bin/compute-sanitizer ]]; then
  sanitizer=/usr/local/cuda/bin/compute-sanitizer
fi
[[ -n "$sanitizer" ]] || fail "compute-sanitizer not found (install the CUDA toolkit, or set COMPUTE_SANITIZER=/path/to/it)"
command -v nvidia-smi > /dev/null || fail "nvidia-smi not found: no NVIDIA driver on this machine"
nvidia-smi -L > /dev/null 2>&1 || fail "nvidia-smi sees no GPU"
"$PYTHON" - << 'EOF' || fail "CuPy cannot see a CUDA device (pip install cupy-cuda12x?); the GPU tests would only skip"
import cupy
assert cupy.cuda.runtime.getDeviceCount() > 0
cupy.arange(4).sum()  # a first kernel launch works
EOF
"$PYTHON" -c "import foveal" || fail "foveal does not import with $PYTHON"

# --- the pytest plugin that turns off CuPy's memory pool ----------------------------------
plugin_dir="$(mktemp -d)"
cat > "$plugin_dir/foveal_no_cupy_pool.py" << 'EOF'
"""Every CuPy array its own cudaMalloc, so compute-sanitizer sees exact bounds."""


def pytest_configure(config):
    import cupy

    cupy.cuda.set_allocator(None)
    cupy.cuda.set_pinned_memory_allocator(None)
EOF
export PYTHONPATH="$plugin_dir${PYTHONPATH:+:$PYTHONPATH}"

shopt -s nullglob
cupy_files=(tests/test_cupy_*.py tests/test_nn_cupy_route.py)
shopt -u nullglob

run_tool() {
  local tool="$1" log="$LOG_DIR/$1.log" status=0 selection code
  case "$tool" in
    memcheck | racecheck | initcheck | synccheck) ;;
    *) fail "unknown tool '$tool' (memcheck, racecheck, initcheck, synccheck)" ;;
  esac
  echo "== $tool (log: $log)"
  # Two pytest runs per tool: the gpu-marked tests of the whole suite, then the CuPy files.
  for selection in gpu cupy-files; do
    local -a args=(-q -p no:cacheprovider -p foveal_no_cupy_pool -o addopts=-ra)
    if [[ "$selection" == gpu ]]; then
      args+=(-m gpu tests)
    elif ((${#cupy_files[@]})); then
      args+=("${cupy_files[@]}")
    else
      continue
    fi
    set +e
    timeout "$TIMEOUT" "$sanitizer" --tool "$tool" --target-processes all \
      --error-exitcode 86 --print-limit 100 "$PYTHON" -m pytest "${args[@]}" >> "$log" 2>&1
    code=$?
    set -e
    if ((code == 86)); then
      echo "   $selection: compute-sanitizer reported errors" | tee -a "$log"
      status=1
    elif ((code == 124)); then
      echo "   $selection: timed out after $TIMEOUT s" | tee -a "$log"
      status=1
    elif ((code == 5)); then
      echo "   $selection: no test selected: nothing ran" | tee -a "$log"
      status=1
    elif ((code != 0)); then
      echo "   $selection: exit code $code (failing tests?)" | tee -a "$log"
      status=1
    fi
  done
  # Belt and braces: any non-zero error summary in the log fails the tool.
  if grep -E "ERROR SUMMARY: [1-9][0-9]* error" "$log" > /dev/null; then
    grep -E "ERROR SUMMARY" "$log" | sort | uniq -c
    status=1
  fi
  grep -E "[0-9]+ (passed|failed|skipped|error)" "$log" | tail -n 2 | sed 's/^/   /' || true
  return "$status"
}

failed=()
for tool in $TOOLS; do
  run_tool "$tool" || failed+=("$tool")
done

if ((${#failed[@]})); then
  echo "gpu_sanitize: FAILED: ${failed[*]} (logs in $LOG_DIR)" >&2
  exit 1
fi
echo "gpu_sanitize: no reports from $TOOLS (logs in $LOG_DIR)"

#!/usr/bin/env bash
# The test suite against a _core built with AddressSanitizer and UBSan: any out-of-bounds
# access, use-after-free or undefined behaviour in the kernels fails the run. Output is
# captured at the Python level only (--capture=sys), so that a sanitizer's report, written to
# file descriptor 2 just before it stops the process, reaches the log. Needs the venv of
# .ci/run (foveal's test dependencies installed).
set -euo pipefail
cd "$(dirname "$0")/.."

pip install -q pybind11 ninja
build="$(mktemp -d)"
cmake -S . -B "$build/asan" -G Ninja -DFOVEAL_PYTHON=ON -DFOVEAL_CUDA=OFF -DFOVEAL_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" > /dev/null
cmake --build "$build/asan" -j2 --target _core

# A copy of the package with the sanitized module in it.
mkdir -p "$build/pkg"
cp -r python/foveal "$build/pkg/"
rm -f "$build"/pkg/foveal/_core*.so "$build"/pkg/foveal/_cuda*.so
cp "$build"/asan/_core*.so "$build/pkg/foveal/"

# FOVEAL_SANITIZED tells the leak test to make fewer calls (ASan's quarantine makes RSS
# meaningless) and the Dask cluster test not to start worker processes. foveal.dask's tests
# run the same kernels as the others through Dask's scheduler: skipped here for time.
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
FOVEAL_SANITIZED=1 \
PYTHONPATH="$build/pkg" \
  python -m pytest -q -p no:cacheprovider --capture=sys tests --ignore=tests/test_demo.py \
    --ignore=tests/test_dask.py

# The fuzz harnesses, a bounded run (30 s each) against the same sanitized package.
bash .ci/fuzz.sh "$build/pkg"

#!/usr/bin/env bash
# Build foveal's C++ core from scratch, install it into a private prefix, then build and run
# the example consumer in examples/cpp against that installation.
#
#   examples/cpp/run.sh [WORKDIR]      (default: a new temporary directory)
#
# Environment: JOBS (parallel build jobs, default 2), CMAKE_GENERATOR (as cmake reads it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/foveal-example.XXXXXX")}"
jobs="${JOBS:-2}"
mkdir -p "${work}"
work="$(cd "${work}" && pwd)"
echo "== foveal C++ example: working in ${work}"

echo "== configure the core (no Python)"
cmake -S "${repo}" -B "${work}/core" -DFOVEAL_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release
echo "== build the core"
cmake --build "${work}/core" -j"${jobs}"
echo "== install the core into ${work}/prefix"
cmake --install "${work}/core" --prefix "${work}/prefix"

echo "== configure the example against the installed package"
cmake -S "${here}" -B "${work}/example" -DCMAKE_PREFIX_PATH="${work}/prefix" \
  -DCMAKE_BUILD_TYPE=Release
echo "== build the example"
cmake --build "${work}/example" -j"${jobs}"

echo "== run it"
exe="${work}/example/foveal_example"
[[ -x "${exe}" ]] || exe="${work}/example/Release/foveal_example"
"${exe}"

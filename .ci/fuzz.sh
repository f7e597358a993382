#!/usr/bin/env bash
# Runs each atheris harness in fuzz/ for a fixed time against a foveal package folder, by
# default the ASan + UBSan copy that .ci/sanitize.sh builds:
#
#   bash .ci/fuzz.sh PKG                     PKG holds foveal/ (with its compiled _core)
#   FUZZ_SECONDS=900 bash .ci/fuzz.sh PKG    longer, by hand (default 30 s per harness)
#
# FUZZ_HARNESSES picks some ("morphology pooling"; default all), FUZZ_WORK keeps the corpora
# grown between runs (default a temporary folder), FUZZ_TIMEOUT is the seconds one input may
# take (default 30). A sanitized _core (linked to libasan) gets libasan and libubsan preloaded.
# A finding (a crash, a sanitizer report, a breach of the contract in fuzz/common.py) fails
# the run; its input is kept as WORK/<harness>-crash-* to replay with
# `python fuzz/fuzz_<harness>.py FILE`. Needs the venv of .ci/run (numpy, opencv).
set -euo pipefail
cd "$(dirname "$0")/.."

pkg="$(cd "${1:?usage: bash .ci/fuzz.sh PKG  (a folder holding the foveal package)}" && pwd)"
seconds="${FUZZ_SECONDS:-30}"
harnesses="${FUZZ_HARNESSES:-morphology contours pooling attention}"
work="${FUZZ_WORK:-$(mktemp -d)}"
mkdir -p "$work"

python -c "import atheris" 2> /dev/null || pip install -q atheris

# A sanitized _core needs GCC's ASan and UBSan runtimes preloaded. They define the coverage
# callbacks too (as no-ops), and would take them from atheris's libFuzzer, which would then
# see no Python coverage; so libFuzzer goes first, as a shared library linked from the archive
# the atheris wheel installs, and ASan is told not to insist on being first.
preload=""
asan_options=detect_leaks=0:halt_on_error=1:allocator_may_return_null=1
# (grep without -q: its early exit would fail ldd with SIGPIPE, and the pipe with pipefail)
if ldd "$pkg"/foveal/_core*.so | grep libasan > /dev/null; then
  archive="$(python -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
  archive="$archive/libclang_rt.fuzzer_no_main.a"
  if [ -f "$archive" ]; then
    g++ -shared -o "$work/libfuzzer.so" -Wl,--whole-archive "$archive" -Wl,--no-whole-archive \
      -lpthread -ldl
    preload="$work/libfuzzer.so "
    asan_options="$asan_options:verify_asan_link_order=0"
  else
    echo "warning: $archive not found: libFuzzer will not see Python coverage"
  fi
  preload="$preload$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
fi

failed=()
for name in $harnesses; do
  corpus="$work/$name"
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  log="$work/$name.log"
  echo "fuzz_$name: ${seconds}s against $pkg"
  # New inputs go to the first corpus folder (the work folder), never into the repository.
  if LD_PRELOAD="$preload" \
    ASAN_OPTIONS="$asan_options" \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    PYTHONPATH="$pkg" \
    python "fuzz/fuzz_$name.py" "$corpus" "${seeds[@]}" \
    -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-30}" -rss_limit_mb=4096 \
    -max_len=4096 -len_control=0 \
    -artifact_prefix="$work/$name-" -print_final_stats=1 > "$log" 2>&1; then
    grep -E "^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units" "$log" || true
  else
    failed+=("$name")
    grep -v "^INFO: Instrumenting" "$log" | tail -60
    echo "fuzz_$name: FINDING (log $log; inputs $work/$name-*)"
  fi
done

if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}"
  exit 1
fi
echo "fuzzing: no findings (${seconds}s per harness; corpora in $work)"

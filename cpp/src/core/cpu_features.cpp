// Instruction-set detection and the switch that tests use to run every kernel path.
#include "foveal/cpu_features.hpp"

#include <strings.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "foveal/error.hpp"

namespace foveal {
namespace {

bool cpu_has(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Baseline:
      return true;
    case Isa::AVX2:
#ifdef FOVEAL_HAVE_AVX2
      // The AVX2 kernels are also built with BMI1/2 and POPCNT (CMakeLists.txt) and use them;
      // every CPU with AVX2 and FMA has them (and F16C), but a virtual CPU may hide them.
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
             __builtin_cpu_supports("popcnt");
#else
      return false;
#endif
    case Isa::AVX512:
#ifdef FOVEAL_HAVE_AVX512
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
             __builtin_cpu_supports("popcnt");
#else
      return false;
#endif
  }
  return false;
#else
  return isa == Isa::Baseline;
#endif
}

Isa best_supported() {
  Isa best = Isa::Baseline;
  if (cpu_has(Isa::AVX2)) best = Isa::AVX2;
  if (cpu_has(Isa::AVX512)) best = Isa::AVX512;
  return best;
}

Isa initial_isa() {
  Isa best = best_supported();
  if (const char* env = std::getenv("FOVEAL_ISA")) {
    // Case-insensitive; an unknown name leaves the choice alone (foveal's Python package warns).
    Isa cap = best;
    if (strcasecmp(env, "baseline") == 0) cap = Isa::Baseline;
    if (strcasecmp(env, "avx2") == 0) cap = Isa::AVX2;
    if (strcasecmp(env, "avx512") == 0) cap = Isa::AVX512;
    if (static_cast<int>(cap) < static_cast<int>(best)) best = cap;
  }
  return best;
}

std::atomic<int>& active() {
  static std::atomic<int> isa{static_cast<int>(initial_isa())};
  return isa;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Baseline:
      return "baseline";
    case Isa::AVX2:
      return "avx2";
    case Isa::AVX512:
      return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  return cpu_has(isa);
}

Isa detected_isa() {
  return best_supported();
}

Isa active_isa() {
  return static_cast<Isa>(active().load(std::memory_order_relaxed));
}

void set_active_isa(Isa isa) {
  if (!cpu_has(isa)) {
    throw ValueError(std::string("set_isa: instruction set ") + isa_name(isa) +
                     " is not supported by this CPU or build");
  }
  active().store(static_cast<int>(isa));
}

}  // namespace foveal

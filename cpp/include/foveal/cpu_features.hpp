// Run-time choice of the instruction set for the hot kernels. Each kernel is compiled once per
// instruction set (baseline, AVX2, AVX-512); the best one the CPU reports is used, never one it
// lacks. The environment variable FOVEAL_ISA=baseline|avx2|avx512 caps the choice at start-up.
#pragma once

namespace foveal {

enum class Isa { Baseline = 0, AVX2 = 1, AVX512 = 2 };

const char* isa_name(Isa isa);

// Whether this build carries kernels for `isa` and this CPU can run them.
bool isa_supported(Isa isa);

// The best supported instruction set.
Isa detected_isa();

// The instruction set the kernels use now.
Isa active_isa();

// Use `isa` from now on (for testing every path); throws ValueError if it is not supported.
void set_active_isa(Isa isa);

}  // namespace foveal

// Run-time choice of the instruction set for the hot kernels. Each kernel is compiled once per
// instruction set (baseline, AVX2, AVX-512); the best one the CPU reports is used, never one it
// lacks. The environment variable FOVEAL_ISA=baseline|avx2|avx512 caps the choice at start-up
// (read once, at the first call; an unknown name is ignored). ATEN_CPU_CAPABILITY plays this
// part for torch, cv::setUseOptimized for OpenCV. Builds for other CPUs than x86-64 carry the
// baseline kernels alone.
//
// Thread-safety: the choice is one atomic shared by all threads; switching while another
// thread's call runs is safe (each kernel pass reads the choice as it starts).
#pragma once

namespace foveal {

// Baseline: what the compiler targets by default (SSE2 on x86-64). AVX2: with FMA. AVX512: F,
// BW, VL and DQ.
enum class Isa { Baseline = 0, AVX2 = 1, AVX512 = 2 };

// "baseline", "avx2" or "avx512".
const char* isa_name(Isa isa);

// Whether this build carries kernels for `isa` and this CPU can run them.
bool isa_supported(Isa isa);

// The best supported instruction set.
Isa detected_isa();

// The instruction set the kernels use now.
Isa active_isa();

// Use `isa` from now on, in every thread (for testing every path; foveal.set_isa in Python,
// whose name the error carries); throws ValueError if it is not supported.
void set_active_isa(Isa isa);

}  // namespace foveal

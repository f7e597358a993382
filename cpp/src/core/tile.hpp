// The register tile of the matrix-product micro-kernels (convolution, attention), for the
// kernels compiled once per instruction set (internal linkage, like simd.hpp): MR rows by two
// of the widest vectors this instruction set has, 12 accumulators, which leaves registers for
// the two vectors of B and a broadcast of A on AVX2 (16 registers) and AVX-512 (32).
#pragma once

#include <cstring>

#ifndef FOVEAL_ISA
#error "FOVEAL_ISA must name the instruction-set namespace"
#endif

namespace foveal {
namespace FOVEAL_ISA {
namespace {

#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
#elif defined(__AVX__)
constexpr int kVectorBytes = 32;
#else
constexpr int kVectorBytes = 16;
#endif

template <typename T>
struct Tile {
  typedef T V __attribute__((vector_size(kVectorBytes)));
  static constexpr int L = kVectorBytes / static_cast<int>(sizeof(T));  // lanes of V
  static constexpr int MR = 6;
  static constexpr int NR = 2 * L;
  static V load(const T* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
  }
  static void store(T* p, V v) { std::memcpy(p, &v, sizeof(V)); }
};

}  // namespace
}  // namespace FOVEAL_ISA
}  // namespace foveal

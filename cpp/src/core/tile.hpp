// The register tile of the matrix-product micro-kernels (convolution, attention, k-means), for the
// kernels compiled once per instruction set (internal linkage, like simd.hpp): MR rows by two
// of the widest vectors this instruction set has, 12 accumulators, which leaves registers for
// the two vectors of B and a broadcast of A on AVX2 (16 registers) and AVX-512 (32).
#pragma once

#include <cstdint>
#include <cstring>

#include "foveal/image.hpp"
#include "simd.hpp"

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

// The register tile's inner loop: lo[r], hi[r] (the two vectors of row r) += A * B over kc
// values of k; A's rows are lda apart, B is a packed kc x NR panel.
template <typename T>
inline void tile_accumulate(i64 kc, const T* __restrict a, i64 lda, const T* __restrict b,
                            typename Tile<T>::V* lo, typename Tile<T>::V* hi) {
  using Tl = Tile<T>;
  using V = typename Tl::V;
  constexpr int L = Tl::L, MR = Tl::MR, NR = Tl::NR;
#pragma GCC unroll 4
  for (i64 k = 0; k < kc; ++k) {
    const V b0 = Tl::load(b + k * NR), b1 = Tl::load(b + k * NR + L);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const V ar = a[r * lda + k] - V{};  // a broadcast (see Lanes::splat)
      lo[r] += ar * b0;
      hi[r] += ar * b1;
    }
  }
}

// C[MR x NR] (row stride ldc) = (accumulate ? C : 0) + A * B over kc values of k: A's rows
// are lda apart, B is a packed kc x NR panel.
template <typename T>
void tile_product(i64 kc, const T* __restrict a, i64 lda, const T* __restrict b, T* __restrict c,
                  i64 ldc, bool accumulate) {
  using Tl = Tile<T>;
  using V = typename Tl::V;
  constexpr int L = Tl::L, MR = Tl::MR;
  V lo[MR], hi[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    lo[r] = accumulate ? Tl::load(c + r * ldc) : V{};
    hi[r] = accumulate ? Tl::load(c + r * ldc + L) : V{};
  }
  tile_accumulate(kc, a, lda, b, lo, hi);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    Tl::store(c + r * ldc, lo[r]);
    Tl::store(c + r * ldc + L, hi[r]);
  }
}

}  // namespace
}  // namespace FOVEAL_ISA
}  // namespace foveal

// Strided windows made contiguous, for the kernels compiled once per instruction set
// (everything here has internal linkage, like simd.hpp).
//
// A window tap j of output column x reads padded column x*s + j*d. Split the padded row into s
// phases, phase r holding columns r, r + s, r + 2s, ...; then that column is element
// x + (j*d) / s of phase (j*d) % s, so every tap of every output column is a contiguous run
// that vector loads can read, whatever the stride.
#pragma once

#include <cstdint>

#include "foveal/image.hpp"
#include "simd.hpp"

#ifndef FOVEAL_ISA
#error "FOVEAL_ISA must name the instruction-set namespace"
#endif

namespace foveal {
namespace FOVEAL_ISA {
namespace {

// Phases of `s` values each `q` long (q = ceil(n / s)) for a row of n padded values.
struct Phases {
  std::int64_t s = 1, q = 0;
  static Phases of(std::int64_t n, std::int64_t s) { return Phases{s, (n + s - 1) / s}; }
  // Where tap offset `o` (= j*d, in padded columns) of output column 0 starts.
  std::int64_t start(std::int64_t o) const { return (o % s) * q + o / s; }
};

#if defined(__GNUC__) && !defined(__clang__)
// The lane selectors of __builtin_shuffle that take the even and the odd lanes of two vectors.
template <typename T>
struct EvenOdd;
template <>
struct EvenOdd<float> {
  typedef std::int32_t M __attribute__((vector_size(32)));
  static M even() { return M{0, 2, 4, 6, 8, 10, 12, 14}; }
  static M odd() { return M{1, 3, 5, 7, 9, 11, 13, 15}; }
};
template <>
struct EvenOdd<double> {
  typedef std::int64_t M __attribute__((vector_size(32)));
  static M even() { return M{0, 2, 4, 6}; }
  static M odd() { return M{1, 3, 5, 7}; }
};
#endif

// out[r*q + i] = row[r + i*s] for the n values of row (a plain copy when s == 1).
template <typename T>
void split_phases(const T* __restrict row, std::int64_t n, const Phases& ph, T* __restrict out) {
  if (ph.s == 1) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = row[i];
    return;
  }
  if (ph.s == 2) {
    const std::int64_t half = n / 2;
    T* even = out;
    T* odd = out + ph.q;
    std::int64_t i = 0;
#if defined(__GNUC__) && !defined(__clang__)
    // Two vectors of the row at a time, split into their even and odd lanes.
    using Ln = Lanes<T>;
    constexpr std::int64_t L = Ln::N;
    const auto even_lanes = EvenOdd<T>::even(), odd_lanes = EvenOdd<T>::odd();
    for (; i + L <= half; i += L) {
      const typename Ln::W a = Ln::load(row + 2 * i), b = Ln::load(row + 2 * i + L);
      Ln::store(even + i, __builtin_shuffle(a, b, even_lanes));
      Ln::store(odd + i, __builtin_shuffle(a, b, odd_lanes));
    }
#endif
    for (; i < half; ++i) {
      even[i] = row[2 * i];
      odd[i] = row[2 * i + 1];
    }
    if (n % 2) even[half] = row[n - 1];
    return;
  }
  for (std::int64_t r = 0; r < ph.s; ++r) {
    T* o = out + r * ph.q;
    for (std::int64_t i = 0; r + i * ph.s < n; ++i) o[i] = row[r + i * ph.s];
  }
}

}  // namespace
}  // namespace FOVEAL_ISA
}  // namespace foveal

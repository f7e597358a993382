// exp(x) over a vector (Lanes<T>), for the kernels compiled once per instruction set
// (internal linkage, like simd.hpp).
//
// x = n*ln2 + r with n = round(x / ln2) and |r| <= ln2/2 (ln2 split in two parts so that r is
// exact enough), exp(r) by its Taylor polynomial (degree 6 for float, relative error < 2e-7;
// degree 12 for double, < 1e-15), times 2^n built in the exponent bits. Inputs below the
// smallest normal result give 0 (so -inf gives 0), above the largest give +inf; NaN stays NaN.
#pragma once

#include <cstdint>
#include <cstring>

#include "simd.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

template <typename T>
struct ExpTraits;

template <>
struct ExpTraits<float> {
  using Int = std::int32_t;
  static constexpr int degree = 6;
  static constexpr int mantissa = 23;
  static constexpr Int bias = 127;
  static constexpr float lo = -87.33f;  // exp(lo) is about the smallest normal float
  static constexpr float hi = 88.72f;
  static constexpr float round = 12582912.0f;          // 1.5 * 2^23: adding it rounds to an integer
  static constexpr float ln2_hi = 0.693145751953125f;  // few bits: n * ln2_hi is exact
  static constexpr float ln2_lo = 1.428606820309417e-06f;
};

template <>
struct ExpTraits<double> {
  using Int = std::int64_t;
  static constexpr int degree = 12;
  static constexpr int mantissa = 52;
  static constexpr Int bias = 1023;
  static constexpr double lo = -708.39;
  static constexpr double hi = 709.78;
  static constexpr double round = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr double ln2_hi = 0.6931471803691238;
  static constexpr double ln2_lo = 1.9082149292705877e-10;
};

// exp(x) for x <= hi (the callers' inputs are at most 0, or NaN): inputs below lo give 0.
template <typename T>
typename Lanes<T>::W exp_bounded(typename Lanes<T>::W x) {
  using Ln = Lanes<T>;
  using V = typename Ln::W;
  using Tr = ExpTraits<T>;
  using I = typename Tr::Int;
  typedef I IV __attribute__((vector_size(32)));
  const V xc = x < Tr::lo ? Ln::splat(Tr::lo) : x;
  const V n = (xc * T(1.4426950408889634) + Tr::round) - Tr::round;
  const V r = (xc - n * Tr::ln2_hi) - n * Tr::ln2_lo;
  // Horner on the Taylor coefficients 1/k!, highest first: one fused multiply-add per degree.
  T coef = T(1);
  for (int k = 2; k <= Tr::degree; ++k) coef /= T(k);
  V p = Ln::splat(coef);
#pragma GCC unroll 16
  for (int k = Tr::degree - 1; k >= 0; --k) {
    coef *= T(k + 1);
    p = p * r + coef;
  }
  const IV bits = (__builtin_convertvector(n, IV) + Tr::bias) << Tr::mantissa;
  V scale;
  std::memcpy(&scale, &bits, sizeof(V));
  const V result = p * scale;
  return x < Tr::lo ? V{} : result;
}

// 2^x for x at most a few units above 0 (or NaN): x = n + r with n = round(x), |r| <= 1/2,
// 2^r = exp(r ln2) by its Taylor polynomial (degree 6 for float: relative error < 2e-7;
// degree 12 for double), times 2^n in the exponent bits; inputs below the smallest normal power
// give 0 (so -inf gives 0). Cheaper than exp_of: the reduction needs no multiplication by ln 2.
template <typename T>
typename Lanes<T>::W exp2_nonpositive(typename Lanes<T>::W x) {
  using Ln = Lanes<T>;
  using V = typename Ln::W;
  using Tr = ExpTraits<T>;
  using I = typename Tr::Int;
  typedef I IV __attribute__((vector_size(32)));
  constexpr T lo = -static_cast<T>(Tr::bias - 1);
  // No clamp: lanes below lo (-inf included) make garbage of n's bits, and are replaced by 0
  // at the end; NaN stays NaN through r.
  const V n = (x + Tr::round) - Tr::round;
  const V r = x - n;
  // Coefficients ln2^k / k!, highest first.
  constexpr int degree = Tr::degree;
  T coef[degree + 1];
  coef[0] = T(1);
  for (int k = 1; k <= degree; ++k) coef[k] = coef[k - 1] * T(0.6931471805599453) / T(k);
  V p = Ln::splat(coef[degree]);
#pragma GCC unroll 16
  for (int k = degree - 1; k >= 0; --k) p = p * r + coef[k];
  const IV bits = (__builtin_convertvector(n, IV) + Tr::bias) << Tr::mantissa;
  V scale;
  std::memcpy(&scale, &bits, sizeof(V));
  const V result = p * scale;
  return x < lo ? V{} : result;
}

// exp(x) for any x: above hi gives +inf.
template <typename T>
typename Lanes<T>::W exp_of(typename Lanes<T>::W x) {
  using Ln = Lanes<T>;
  using Tr = ExpTraits<T>;
  const auto xc = x > Tr::hi ? Ln::splat(Tr::hi) : x;
  const auto result = exp_bounded<T>(xc);
  return x > Tr::hi ? Ln::splat(T(__builtin_inf())) : result;
}

}  // namespace
}  // namespace FOVEAL_ISA
}  // namespace foveal

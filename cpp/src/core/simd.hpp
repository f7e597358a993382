// Helpers shared by the kernel files that are compiled once per instruction set (FOVEAL_ISA
// names the namespace: baseline, avx2 or avx512). Everything here has internal linkage, so no
// code built with one file's instruction set can be picked by the linker for another's.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FOVEAL_HAVE_STREAM 1
#endif

#ifndef FOVEAL_ISA
#error "FOVEAL_ISA must name the instruction-set namespace"
#endif

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using i64 = std::int64_t;

// One 32-byte vector of T (GCC vector extensions, lowered to this file's instruction set: one
// AVX2 register, or two SSE2 ones), loaded and stored unaligned.
template <typename T>
struct Lanes {
  typedef T W __attribute__((vector_size(32)));
  static constexpr i64 N = static_cast<i64>(32 / sizeof(T));
  static W load(const T* p) {
    W v;
    std::memcpy(&v, p, sizeof(W));
    return v;
  }
  static void store(T* p, W v) { std::memcpy(p, &v, sizeof(W)); }
  // x - 0 is x for every x (x + 0 is not, for x = -0), so this folds to one broadcast.
  static W splat(T x) { return x - W{}; }
  // A non-temporal store to a 32-byte aligned address: the line goes to memory without being
  // read first, for outputs that are written once and too large to stay in cache.
  static void stream(T* p, W v) {
#if defined(FOVEAL_HAVE_STREAM) && defined(__AVX__)
    __m256i x;
    std::memcpy(&x, &v, sizeof(x));
    _mm256_stream_si256(reinterpret_cast<__m256i*>(p), x);
#elif defined(FOVEAL_HAVE_STREAM)
    __m128i x[2];
    std::memcpy(x, &v, sizeof(x));
    _mm_stream_si128(reinterpret_cast<__m128i*>(p), x[0]);
    _mm_stream_si128(reinterpret_cast<__m128i*>(p) + 1, x[1]);
#else
    store(p, v);
#endif
  }
};

// Keeps v in a register: the compiler otherwise folds a load that feeds several products into
// each of them as a memory operand, loading it again per product (an unaligned load that
// crosses a cache line costs two load slots, and the loads, not the products, become the
// limit). An empty asm statement that claims to change v forbids re-reading it from memory.
template <typename V>
inline void keep_in_register(V& v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__AVX__)
  __asm__("" : "+x"(v));
#else
  (void)v;
#endif
}

// Lane-wise max(a, b), min(a, b) and sqrt(a) of float vectors: one instruction each where the
// instruction set has it (GCC lowers `a > b ? a : b` to a compare and a blend). max and min
// return b where either lane is NaN, as `a > b ? a : b` does.
inline Lanes<float>::W max_lanes(Lanes<float>::W a, Lanes<float>::W b) {
#if defined(FOVEAL_HAVE_STREAM) && defined(__AVX__)
  return reinterpret_cast<Lanes<float>::W>(
      _mm256_max_ps(reinterpret_cast<__m256>(a), reinterpret_cast<__m256>(b)));
#else
  return a > b ? a : b;
#endif
}
inline Lanes<float>::W min_lanes(Lanes<float>::W a, Lanes<float>::W b) {
#if defined(FOVEAL_HAVE_STREAM) && defined(__AVX__)
  return reinterpret_cast<Lanes<float>::W>(
      _mm256_min_ps(reinterpret_cast<__m256>(a), reinterpret_cast<__m256>(b)));
#else
  return a < b ? a : b;
#endif
}
inline Lanes<double>::W min_lanes(Lanes<double>::W a, Lanes<double>::W b) {
#if defined(FOVEAL_HAVE_STREAM) && defined(__AVX__)
  return reinterpret_cast<Lanes<double>::W>(
      _mm256_min_pd(reinterpret_cast<__m256d>(a), reinterpret_cast<__m256d>(b)));
#else
  return a < b ? a : b;
#endif
}
inline Lanes<float>::W sqrt_lanes(Lanes<float>::W a) {
#if defined(FOVEAL_HAVE_STREAM) && defined(__AVX__)
  return reinterpret_cast<Lanes<float>::W>(_mm256_sqrt_ps(reinterpret_cast<__m256>(a)));
#else
  Lanes<float>::W r;
  for (int i = 0; i < 8; ++i) r[i] = __builtin_sqrtf(a[i]);
  return r;
#endif
}
// |a| lane-wise: the sign bit cleared (so -0 gives +0 and NaN stays NaN).
inline Lanes<float>::W abs_lanes(Lanes<float>::W a) {
  typedef std::int32_t I __attribute__((vector_size(32)));
  return reinterpret_cast<Lanes<float>::W>(reinterpret_cast<I>(a) & 0x7fffffff);
}

// a * b + c as the vector products round it: fused where the instruction set fuses them
// (-ffp-contract=fast turns the vector loops' a * b + c into FMA instructions), so that a
// scalar tail loop gives the bits its vector body would.
template <typename T>
inline T fused_multiply_add(T a, T b, T c) {
#if defined(__FMA__)
  if constexpr (sizeof(T) == sizeof(float))
    return __builtin_fmaf(a, b, c);
  else
    return __builtin_fma(a, b, c);
#else
  return c + a * b;
#endif
}

// std::min / std::max are library templates with external linkage; these are this file's own.
template <typename T>
inline T min_of(T a, T b) {
  return b < a ? b : a;
}
template <typename T>
inline T max_of(T a, T b) {
  return a < b ? b : a;
}

// Asks for the n values at p ahead of their use, one request per 64-byte line: the hardware
// prefetchers alone leave a streaming read well short of the memory bandwidth. (A prefetch
// never faults, so p may run past the end of the data.)
template <typename T>
inline void prefetch_values(const T* p, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += 64 / static_cast<std::int64_t>(sizeof(T)))
    __builtin_prefetch(p + i);
}

// Orders this thread's streaming stores before whatever follows (the end of a task).
inline void stream_fence() {
#ifdef FOVEAL_HAVE_STREAM
  _mm_sfence();
#endif
}

// A plain vector loop, not memcpy: glibc's memcpy takes `rep movsb` for rows of a few KiB,
// which is several times slower on some CPUs (these files are built with
// -fno-tree-loop-distribute-patterns so the loop stays a loop).
template <typename T>
void copy_row(T* o, const T* a, i64 n) {
  if (o == a) return;
  T* __restrict to = o;
  const T* __restrict from = a;
  for (i64 i = 0; i < n; ++i) to[i] = from[i];
}

// Scratch memory of one task, freed when the task is done.
struct Scratch {
  void* p = nullptr;
  explicit Scratch(std::size_t bytes) {
    p = std::malloc(bytes > 0 ? bytes : 1);
    if (!p) throw std::bad_alloc();
  }
  ~Scratch() { std::free(p); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// Calls f with a value of the C++ type that `dtype` names.
template <typename F>
void with_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::u8:
      return f(std::uint8_t{});
    case DType::u16:
      return f(std::uint16_t{});
    case DType::s16:
      return f(std::int16_t{});
    case DType::f32:
      return f(float{});
    case DType::f64:
      return f(double{});
  }
}

}  // namespace
}  // namespace FOVEAL_ISA
}  // namespace foveal

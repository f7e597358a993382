// Tensor-core building blocks for sm_80 and later, with an exact emulation for the SIMT
// emulator: 16-bit float types, warp-level matrix multiply-accumulate (mma.sync), matrix loads
// from shared memory (ldmatrix) and asynchronous copies (cp.async). A kernel uses only these
// wrappers, never the PTX itself, so the same source runs on the GPU and in the tests.
//
// Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k16 / m16n8k8"): with
// g = lane / 4 and t = lane % 4,
//   A 16x16 (f16/bf16, row): a[r] holds two elements; r = 0: (g, 2t..2t+1), 1: (g + 8, 2t..),
//     2: (g, 2t + 8..), 3: (g + 8, 2t + 8..);
//   B 16x8 (col): b[r] holds (k = 2t + 8r .. +1, n = g);
//   C/D 16x8 (f32): c[0..1] = (g, 2t..2t+1), c[2..3] = (g + 8, 2t..2t+1);
//   A 16x8 tf32: a0 (g, t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4);
//   B 8x8 tf32: b0 (k = t, n = g), b1 (k = t + 4, n = g).
// ldmatrix .m8n8 .x4: lanes 8j..8j+7 give the row addresses of matrix j; lane l receives, in
// register j, matrix j's elements (row g, columns 2t, 2t + 1) — or with .trans (rows 2t, 2t + 1,
// column g).
#pragma once

#include <cstdint>
#include <type_traits>

#include "simt.hpp"

#if defined(FOVEAL_SIMT_EMU)
#include <cmath>
#include <cstring>
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

namespace foveal {
namespace gpu {

#if defined(FOVEAL_SIMT_EMU)
// IEEE binary16 and bfloat16, converted with round-to-nearest-even as the device does.
struct Half {
  std::uint16_t bits;
};
struct BFloat16 {
  std::uint16_t bits;
};

inline float to_float(Half h) {
  const std::uint32_t sign = (h.bits & 0x8000u) << 16;
  std::uint32_t exp = (h.bits >> 10) & 0x1fu, man = h.bits & 0x3ffu, out;
  if (exp == 0) {
    if (man == 0) {
      out = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        man <<= 1;
        ++e;
      } while ((man & 0x400u) == 0);
      out = sign | static_cast<std::uint32_t>(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    out = sign | 0x7f800000u | man << 13;
  } else {
    out = sign | (exp + 112) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

inline Half to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return Half{static_cast<std::uint16_t>(sign | 0x7e00u)};  // NaN
  if (abs >= 0x477ff000u) return Half{static_cast<std::uint16_t>(sign | 0x7c00u)};  // inf
  if (abs < 0x38800000u) {  // subnormal or zero: scale by 2^24 and round
    float a;
    std::memcpy(&a, &abs, 4);
    const float scaled = std::nearbyint(a * 16777216.0f);  // ties to even
    return Half{static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(scaled))};
  }
  const std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);  // nearest, ties to even
  return Half{static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13))};
}

inline float to_float(BFloat16 b) {
  const std::uint32_t x = static_cast<std::uint32_t>(b.bits) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

inline BFloat16 to_bfloat16(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return BFloat16{static_cast<std::uint16_t>((x >> 16) | 0x40u)};
  x += 0x7fffu + ((x >> 16) & 1u);
  return BFloat16{static_cast<std::uint16_t>(x >> 16)};
}
#else
using Half = __half;
using BFloat16 = __nv_bfloat16;
__host__ __device__ __forceinline__ float to_float(Half h) { return __half2float(h); }
__host__ __device__ __forceinline__ Half to_half(float f) { return __float2half_rn(f); }
__host__ __device__ __forceinline__ float to_float(BFloat16 b) { return __bfloat162float(b); }
__host__ __device__ __forceinline__ BFloat16 to_bfloat16(float f) { return __float2bfloat16_rn(f); }
#endif

// Kernels templated on the element type accumulate in Wide<T> (float; double for double) and
// convert with widen() / narrow<T>() (to nearest even for the 16-bit types).
template <class T>
struct WideOf {
  using type = float;
};
template <>
struct WideOf<double> {
  using type = double;
};
template <class T>
using Wide = typename WideOf<T>::type;

__host__ __device__ __forceinline__ float widen(Half v) { return to_float(v); }
__host__ __device__ __forceinline__ float widen(BFloat16 v) { return to_float(v); }
__host__ __device__ __forceinline__ float widen(float v) { return v; }
__host__ __device__ __forceinline__ double widen(double v) { return v; }

template <class T>
__host__ __device__ __forceinline__ T narrow(Wide<T> v) {
  if constexpr (std::is_same<T, Half>::value)
    return to_half(v);
  else if constexpr (std::is_same<T, BFloat16>::value)
    return to_bfloat16(v);
  else
    return v;
}

// Two 16-bit values in one register, the lower one first (as the fragments hold them).
template <class T>
__device__ __forceinline__ std::uint32_t pack2(T lo, T hi) {
  std::uint16_t a, b;
  std::memcpy(&a, &lo, 2);
  std::memcpy(&b, &hi, 2);
  return static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b) << 16;
}

// Two floats rounded to nearest (even) into one register of two 16-bit values (Half or
// BFloat16), the lower one first: cvt.rn.f16x2.f32 / cvt.rn.bf16x2.f32 on sm_80 (one
// instruction for both), narrow() under the emulator.
template <class T>
__device__ __forceinline__ std::uint32_t pack2_rn(float lo, float hi) {
#if defined(FOVEAL_SIMT_EMU)
  return pack2(narrow<T>(lo), narrow<T>(hi));
#else
  std::uint32_t r;
  if constexpr (std::is_same<T, Half>::value) {
    const __half2 h = __floats2half2_rn(lo, hi);
    std::memcpy(&r, &h, 4);
  } else {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    std::memcpy(&r, &h, 4);
  }
  return r;
#endif
}

// 2^x by the special-function unit: ex2.approx.ftz.f32 (relative error about 2^-22, results
// below 2^-126 flushed to 0; 2^-inf = 0). The emulator computes it exactly (it differs from
// the device only in those last bits and the flushed subnormals).
__device__ __forceinline__ float exp2_approx(float x) {
#if defined(FOVEAL_SIMT_EMU)
  return std::exp2(x);
#else
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#endif
}

// A float rounded to tf32 (10 mantissa bits, to nearest, ties away from zero: cvt.rna.tf32).
__device__ __forceinline__ std::uint32_t to_tf32(float f) {
#if defined(FOVEAL_SIMT_EMU)
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7f800000u) != 0x7f800000u) x = (x + 0x1000u) & 0xffffe000u;
  return x;
#else
  std::uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(f));
  return r;
#endif
}

enum class MmaType { f16, bf16 };

#if defined(FOVEAL_SIMT_EMU)
namespace emu_detail {

inline float element(std::uint32_t reg, int half, MmaType type) {
  const std::uint16_t bits = static_cast<std::uint16_t>(half ? reg >> 16 : reg & 0xffffu);
  return type == MmaType::f16 ? to_float(Half{bits}) : to_float(BFloat16{bits});
}

struct Fragments {
  std::uint32_t a[4];
  std::uint32_t b[2];
  float c[4];
};

// D = A B + C over a warp, from every lane's fragments (m16n8k16, 16-bit inputs).
inline void mma_m16n8k16(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                         const float (&c)[4], MmaType type) {
  Fragments mine;
  std::memcpy(mine.a, a, sizeof mine.a);
  std::memcpy(mine.b, b, sizeof mine.b);
  std::memcpy(mine.c, c, sizeof mine.c);
  Fragments all[32];
  simt_emu::warp_gather(0xffffffffu, &mine, all, sizeof mine);
  float A[16][16], B[16][8], C[16][8];
  for (int l = 0; l < 32; ++l) {
    const int g = l / 4, t = l % 4;
    for (int r = 0; r < 4; ++r)
      for (int h = 0; h < 2; ++h)
        A[g + (r & 1) * 8][2 * t + h + (r >> 1) * 8] = element(all[l].a[r], h, type);
    for (int r = 0; r < 2; ++r)
      for (int h = 0; h < 2; ++h) B[2 * t + h + 8 * r][g] = element(all[l].b[r], h, type);
    for (int r = 0; r < 4; ++r) C[g + (r >> 1) * 8][2 * t + (r & 1)] = all[l].c[r];
  }
  const int lane = static_cast<int>(simt_emu::lane_id()), g = lane / 4, t = lane % 4;
  for (int r = 0; r < 4; ++r) {
    const int row = g + (r >> 1) * 8, col = 2 * t + (r & 1);
    float acc = C[row][col];
    for (int k = 0; k < 16; ++k) acc += A[row][k] * B[k][col];
    d[r] = acc;
  }
}

inline float tf32_value(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

struct Tf32Fragments {
  std::uint32_t a[4];
  std::uint32_t b[2];
  float c[4];
};

inline void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4],
                             const std::uint32_t (&b)[2], const float (&c)[4]) {
  Tf32Fragments mine;
  std::memcpy(mine.a, a, sizeof mine.a);
  std::memcpy(mine.b, b, sizeof mine.b);
  std::memcpy(mine.c, c, sizeof mine.c);
  Tf32Fragments all[32];
  simt_emu::warp_gather(0xffffffffu, &mine, all, sizeof mine);
  float A[16][8], B[8][8], C[16][8];
  for (int l = 0; l < 32; ++l) {
    const int g = l / 4, t = l % 4;
    for (int r = 0; r < 4; ++r) A[g + (r & 1) * 8][t + (r >> 1) * 4] = tf32_value(all[l].a[r]);
    for (int r = 0; r < 2; ++r) B[t + 4 * r][g] = tf32_value(all[l].b[r]);
    for (int r = 0; r < 4; ++r) C[g + (r >> 1) * 8][2 * t + (r & 1)] = all[l].c[r];
  }
  const int lane = static_cast<int>(simt_emu::lane_id()), g = lane / 4, t = lane % 4;
  for (int r = 0; r < 4; ++r) {
    const int row = g + (r >> 1) * 8, col = 2 * t + (r & 1);
    float acc = C[row][col];
    for (int k = 0; k < 8; ++k) acc += A[row][k] * B[k][col];
    d[r] = acc;
  }
}

// ldmatrix .m8n8 with ``count`` matrices (1, 2 or 4) of 16-bit elements.
inline void ldmatrix(std::uint32_t* r, const void* row_address, int count, bool trans) {
  const void* mine = row_address;
  const void* rows[32];
  simt_emu::warp_gather(0xffffffffu, &mine, rows, sizeof mine);
  const int lane = static_cast<int>(simt_emu::lane_id()), g = lane / 4, t = lane % 4;
  for (int j = 0; j < count; ++j) {
    std::uint16_t v[2];
    for (int h = 0; h < 2; ++h) {
      const int row = trans ? 2 * t + h : g, col = trans ? g : 2 * t + h;
      std::memcpy(&v[h], static_cast<const char*>(rows[8 * j + row]) + 2 * col, 2);
    }
    r[j] = static_cast<std::uint32_t>(v[0]) | static_cast<std::uint32_t>(v[1]) << 16;
  }
}

}  // namespace emu_detail
#endif

// d = A B + c for one m16n8k16 tile (f16 or bf16 inputs, f32 accumulators); the whole warp.
template <MmaType type>
__device__ __forceinline__ void mma_m16n8k16(float (&d)[4], const std::uint32_t (&a)[4],
                                             const std::uint32_t (&b)[2], const float (&c)[4]) {
#if defined(FOVEAL_SIMT_EMU)
  emu_detail::mma_m16n8k16(d, a, b, c, type);
#else
  if constexpr (type == MmaType::f16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%10,%11,%12,%13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]),
          "f"(c[1]), "f"(c[2]), "f"(c[3]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%10,%11,%12,%13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]),
          "f"(c[1]), "f"(c[2]), "f"(c[3]));
  }
#endif
}

// d = A B + c for one m16n8k8 tile of tf32 inputs (to_tf32's bits) and f32 accumulators.
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4],
                                                 const std::uint32_t (&b)[2], const float (&c)[4]) {
#if defined(FOVEAL_SIMT_EMU)
  emu_detail::mma_m16n8k8_tf32(d, a, b, c);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]),
        "f"(c[2]), "f"(c[3]));
#endif
}

#if !defined(FOVEAL_SIMT_EMU)
__device__ __forceinline__ std::uint32_t shared_address(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}
#endif

// ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16: ``row`` is this lane's row address.
__device__ __forceinline__ void ldmatrix_x4(std::uint32_t (&r)[4], const void* row,
                                            bool trans = false) {
#if defined(FOVEAL_SIMT_EMU)
  emu_detail::ldmatrix(r, row, 4, trans);
#else
  if (trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(shared_address(row)));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(shared_address(row)));
#endif
}

// ldmatrix .x2 (lanes 0..15 give the row addresses; the others' are ignored).
__device__ __forceinline__ void ldmatrix_x2(std::uint32_t (&r)[2], const void* row,
                                            bool trans = false) {
#if defined(FOVEAL_SIMT_EMU)
  emu_detail::ldmatrix(r, row, 2, trans);
#else
  if (trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1])
                 : "r"(shared_address(row)));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1])
                 : "r"(shared_address(row)));
#endif
}

// cp.async of 16 bytes from global to shared memory (bypassing registers), grouped by
// cp_async_commit() and waited for by cp_async_wait<N>() (all but the N latest groups
// complete); the emulator copies at once. ``bytes`` < 16 copies that many and zero-fills.
__device__ __forceinline__ void cp_async_16(void* shared, const void* global, int bytes = 16) {
#if defined(FOVEAL_SIMT_EMU)
  std::memset(shared, 0, 16);
  if (bytes > 0) std::memcpy(shared, global, static_cast<std::size_t>(bytes));
#else
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(shared)),
               "l"(global), "r"(bytes));
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if !defined(FOVEAL_SIMT_EMU)
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if !defined(FOVEAL_SIMT_EMU)
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

}  // namespace gpu
}  // namespace foveal

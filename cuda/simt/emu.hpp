// SIMT on the CPU: enough of the CUDA programming model to run foveal's kernels on the host,
// for tests on machines without a GPU. A launch runs its blocks one after another; the threads
// of a block are coroutines (ucontext) on the calling thread, switched only at barriers
// (__syncthreads, __syncwarp and the warp-wide shuffles and votes), so every barrier's
// semantics hold exactly and a kernel that would deadlock on a GPU (a barrier not reached by
// every thread, a shuffle whose mask names a lane that never comes) is reported as an error.
// Memory is host memory; streams are ignored; atomics are plain read-modify-writes (threads
// never switch inside one). Not emulated: timing, warp-synchronous code without an explicit
// __syncwarp, and the tensor-core instructions (kernels wrap those in functions that have an
// emulated twin).
//
// Kernels include this through simt.hpp, never directly.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

// --- CUDA's keywords and built-in variables ---------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __restrict__ __restrict
#define __launch_bounds__(...)
// Shared memory: one copy per emulating thread, reused by the blocks it runs in turn.
#define __shared__ static thread_local

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
  unsigned x, y, z;
};

namespace foveal {
namespace simt_emu {
struct Indices {
  uint3 thread{0, 0, 0};
  uint3 block{0, 0, 0};
  dim3 block_dim;
  dim3 grid_dim;
};
extern thread_local Indices indices;

// The barriers; each switches to the next runnable thread of the block.
void sync_block();
void sync_warp(unsigned mask);
// Warp exchange: every lane in ``mask`` publishes ``bytes`` of its value and, once all have,
// copies lane ``source``'s (for shuffles) into ``out``. Returns the ballot of ``predicate``.
unsigned warp_exchange(unsigned mask, const void* value, void* out, int source, std::size_t bytes,
                       bool predicate);
// Warp all-gather: every lane in ``mask`` publishes ``bytes`` of its value; once all have, each
// copies all 32 lanes' values (lane l at ``all + l * bytes``; lanes outside the mask left as
// they are) — what tensor-core and ldmatrix emulation need in one step.
void warp_gather(unsigned mask, const void* value, void* all, std::size_t bytes);
unsigned lane_id();
void* dynamic_shared();

using Body = std::function<void()>;
// Runs ``body`` as every thread of every block of the grid; rethrows what a thread threw.
void run(dim3 grid, dim3 block, std::size_t dynamic_shared_bytes, const Body& body);
}  // namespace simt_emu
}  // namespace foveal

#define threadIdx (::foveal::simt_emu::indices.thread)
#define blockIdx (::foveal::simt_emu::indices.block)
#define blockDim (::foveal::simt_emu::indices.block_dim)
#define gridDim (::foveal::simt_emu::indices.grid_dim)
static constexpr int warpSize = 32;

inline void __syncthreads() { ::foveal::simt_emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { ::foveal::simt_emu::sync_warp(mask); }
inline void __threadfence() {}
inline void __threadfence_block() {}

template <class T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  const unsigned lane = ::foveal::simt_emu::lane_id();
  const int source = static_cast<int>(lane / width * width) + (src % width + width) % width;
  T out{};
  ::foveal::simt_emu::warp_exchange(mask, &v, &out, source, sizeof(T), false);
  return out;
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = static_cast<int>(::foveal::simt_emu::lane_id());
  const int d = static_cast<int>(delta);
  const int source = lane % width + d < width ? lane + d : lane;
  T out{};
  ::foveal::simt_emu::warp_exchange(mask, &v, &out, source, sizeof(T), false);
  return out;
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = static_cast<int>(::foveal::simt_emu::lane_id());
  const int source = lane % width >= static_cast<int>(delta) ? lane - static_cast<int>(delta) : lane;
  T out{};
  ::foveal::simt_emu::warp_exchange(mask, &v, &out, source, sizeof(T), false);
  return out;
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const int lane = static_cast<int>(::foveal::simt_emu::lane_id());
  int source = lane ^ lane_mask;
  if (source / width != lane / width) source = lane;
  T out{};
  ::foveal::simt_emu::warp_exchange(mask, &v, &out, source, sizeof(T), false);
  return out;
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  char dummy = 0;
  return ::foveal::simt_emu::warp_exchange(mask, &dummy, &dummy, 0, 1, predicate != 0);
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) {
  return (__ballot_sync(mask, predicate) & mask) == mask;
}
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz(static_cast<unsigned>(v)); }

// --- atomics: a thread never switches inside one, so plain operations are atomic ---------
template <class T>
inline T atomicAdd(T* p, T v) {
  const T old = *p;
  *p = old + v;
  return old;
}
template <class T>
inline T atomicMax(T* p, T v) {
  const T old = *p;
  *p = old < v ? v : old;
  return old;
}
template <class T>
inline T atomicMin(T* p, T v) {
  const T old = *p;
  *p = v < old ? v : old;
  return old;
}
template <class T>
inline T atomicExch(T* p, T v) {
  const T old = *p;
  *p = v;
  return old;
}
template <class T>
inline T atomicCAS(T* p, T compare, T v) {
  const T old = *p;
  if (old == compare) *p = v;
  return old;
}

// --- math and loads as the device has them ------------------------------------------------
// The float overloads of the math functions, as device code has them (C's pow(float, float)
// would compute in double).
using std::ceil;
using std::exp;
using std::fabs;
using std::floor;
using std::fma;
using std::log;
using std::pow;
using std::round;
using std::sqrt;

template <class T>
inline T __ldg(const T* p) {
  return *p;
}
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
// Multiplies and adds that nvcc never fuses into multiply-adds; the host compiler fuses none
// here either, as the emulator is built without FMA instructions.
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __double2int_rn(double x) { return static_cast<int>(std::nearbyint(x)); }
inline float __int_as_float(int v) {
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline int __float_as_int(float f) {
  int v;
  std::memcpy(&v, &f, 4);
  return v;
}
// CUDA's global min / max overloads.
#define FOVEAL_EMU_MINMAX(T)                   \
  inline T min(T a, T b) { return b < a ? b : a; } \
  inline T max(T a, T b) { return a < b ? b : a; }
FOVEAL_EMU_MINMAX(int)
FOVEAL_EMU_MINMAX(unsigned)
FOVEAL_EMU_MINMAX(long long)
FOVEAL_EMU_MINMAX(unsigned long long)
FOVEAL_EMU_MINMAX(long)
FOVEAL_EMU_MINMAX(unsigned long)
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
#undef FOVEAL_EMU_MINMAX

// SIMD within a 32-bit word (CUDA's __v*4 on bytes, __v*2 on halfwords) and the funnel shift.
namespace foveal {
namespace simt_emu {
template <int kBits, class F>
inline unsigned per_lane(unsigned a, unsigned b, F f) {
  constexpr unsigned mask = (1u << kBits) - 1;
  unsigned out = 0;
  for (int s = 0; s < 32; s += kBits) out |= (f((a >> s) & mask, (b >> s) & mask) & mask) << s;
  return out;
}
inline int s16(unsigned v) {
  return static_cast<short>(static_cast<unsigned short>(v));
}
}  // namespace simt_emu
}  // namespace foveal
#define FOVEAL_EMU_SIMD(name, bits, expr)                                          \
  inline unsigned name(unsigned a, unsigned b) {                                   \
    using ::foveal::simt_emu::s16;                                                 \
    return ::foveal::simt_emu::per_lane<bits>(                                     \
        a, b, [](unsigned x, unsigned y) { return static_cast<unsigned>(expr); }); \
  }
FOVEAL_EMU_SIMD(__vmaxu4, 8, x > y ? x : y)
FOVEAL_EMU_SIMD(__vminu4, 8, x < y ? x : y)
FOVEAL_EMU_SIMD(__vsubus4, 8, x > y ? x - y : 0u)
FOVEAL_EMU_SIMD(__vmaxu2, 16, x > y ? x : y)
FOVEAL_EMU_SIMD(__vminu2, 16, x < y ? x : y)
FOVEAL_EMU_SIMD(__vsubus2, 16, x > y ? x - y : 0u)
FOVEAL_EMU_SIMD(__vmaxs2, 16, s16(x) > s16(y) ? x : y)
FOVEAL_EMU_SIMD(__vmins2, 16, s16(x) < s16(y) ? x : y)
FOVEAL_EMU_SIMD(__vsubss2, 16,
                s16(x) - s16(y) < -32768 ? -32768
                                         : (s16(x) - s16(y) > 32767 ? 32767 : s16(x) - s16(y)))
#undef FOVEAL_EMU_SIMD
// (hi:lo) >> (shift & 31), the low 32 bits.
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned shift) {
  const unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
  return static_cast<unsigned>(v >> (shift & 31));
}

// --- vector types -------------------------------------------------------------------------
#define FOVEAL_EMU_VEC4(name, T, align)                                  \
  struct alignas(align) name {                                           \
    T x, y, z, w;                                                        \
  };                                                                     \
  inline name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }
#define FOVEAL_EMU_VEC2(name, T, align)                      \
  struct alignas(align) name {                               \
    T x, y;                                                  \
  };                                                         \
  inline name make_##name(T x, T y) { return name{x, y}; }
FOVEAL_EMU_VEC4(float4, float, 16)
FOVEAL_EMU_VEC4(int4, int, 16)
FOVEAL_EMU_VEC4(uint4, unsigned, 16)
FOVEAL_EMU_VEC4(uchar4, unsigned char, 4)
FOVEAL_EMU_VEC4(char4, signed char, 4)
FOVEAL_EMU_VEC4(short4, short, 8)
FOVEAL_EMU_VEC4(ushort4, unsigned short, 8)
FOVEAL_EMU_VEC2(float2, float, 8)
FOVEAL_EMU_VEC2(double2, double, 16)
FOVEAL_EMU_VEC2(int2, int, 8)
#undef FOVEAL_EMU_VEC4
#undef FOVEAL_EMU_VEC2

// The runtime's types and calls the launch helpers use.
using cudaError_t = int;
constexpr cudaError_t cudaSuccess = 0;
using cudaStream_t = void*;

// Pooling on the GPU: max (with the index of each maximum), average, power-average (lp) and
// the adaptive forms, with torch.nn.functional's windows, padding, ceil_mode and divisors, and
// the CPU kernels' numbers (cpp/src/nn/pool_simd.cpp): NaN wins a max, the first maximum in
// row-major window order gives the index (the last NaN where there is one), padding never wins
// and adds zeros to sums.
//
// One thread per output value, threads along an output row reading consecutive windows: the
// loads of a warp are one or two cache lines per window row, and overlapping windows (3x3
// stride 1, say) hit in L1. The pools of the standard workloads are memory-bound, so the
// window is read straight from global memory through the read-only path.
#include "pool.hpp"
#include "simt.hpp"

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;

struct Span {
  i64 start, end, lo, hi;  // the window [start, end) and its part inside the input [lo, hi)
};

__device__ __forceinline__ Span span_of(const PoolArgs& a, bool rows, i64 o) {
  const i64 n = rows ? a.h : a.w;
  if (a.adaptive) {
    const i64 m = rows ? a.oh : a.ow;
    const i64 lo = o * n / m, hi = ((o + 1) * n + m - 1) / m;
    return Span{lo, hi, lo, hi};
  }
  const i64 k = rows ? a.kh : a.kw, s = rows ? a.sh : a.sw;
  const i64 p = rows ? a.ph : a.pw, d = rows ? a.dh : a.dw;
  const i64 start = o * s - p;
  i64 end = start + (k - 1) * d + 1;
  if (end > n + p) end = n + p;
  return Span{start, end, start < 0 ? 0 : start, end < n ? end : n};
}

// The first in-input position of a dilated window starting at ``start``.
__device__ __forceinline__ i64 first_inside(i64 start, i64 step) {
  while (start < 0) start += step;
  return start;
}

template <typename T>
__device__ __forceinline__ T power(T v, double p) {
  if (p == 2.0) return v * v;
  if (p == 1.0) return v;
  return pow(v, static_cast<T>(p));
}

template <typename T>
__device__ __forceinline__ T root(T v, double p) {
  if (p == 2.0) return sqrt(v);
  if (p == 1.0) return v;
  return pow(v, static_cast<T>(1.0 / p));
}

template <typename T>
__global__ void pool_kernel(PoolArgs a) {
  const T* in = static_cast<const T*>(a.input);
  T* out = static_cast<T*>(a.output);
  const i64 total = a.planes * a.oh * a.ow;
  const i64 dh = a.adaptive ? 1 : a.dh, dw = a.adaptive ? 1 : a.dw;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 x = i % a.ow, y = i / a.ow % a.oh, plane = i / (a.ow * a.oh);
    const T* src = in + plane * a.h * a.w;
    const Span r = span_of(a, true, y), c = span_of(a, false, x);
    const i64 y0 = first_inside(r.start, dh), x0 = first_inside(c.start, dw);
    if (a.kind == PoolKind::max) {
      T best = -static_cast<T>(INFINITY);
      i64 where = y0 * a.w + x0;
      for (i64 iy = y0; iy < r.hi; iy += dh)
        for (i64 ix = x0; ix < c.hi; ix += dw) {
          const T v = __ldg(src + iy * a.w + ix);
          if (v > best || v != v) {
            best = v;
            where = iy * a.w + ix;
          }
        }
      out[i] = best;
      if (a.indices != nullptr) a.indices[i] = where;
      continue;
    }
    T sum = 0;
    for (i64 iy = y0; iy < r.hi; iy += dh)
      for (i64 ix = x0; ix < c.hi; ix += dw) {
        const T v = __ldg(src + iy * a.w + ix);
        sum += a.kind == PoolKind::lp ? power(v, a.norm_type) : v;
      }
    if (a.divisor_override > 0) {
      out[i] = sum / static_cast<T>(a.divisor_override);
      continue;
    }
    const bool whole = a.kind == PoolKind::avg && !a.adaptive && a.count_include_pad;
    const T rows = static_cast<T>(whole ? r.end - r.start : r.hi - r.lo);
    const T cols = static_cast<T>(whole ? c.end - c.start : c.hi - c.lo);
    if (a.kind == PoolKind::avg) {
      out[i] = sum / (rows * cols);
    } else {
      const T area = static_cast<T>(a.kh * a.kw);
      out[i] = root(sum / (rows * cols) * area, a.norm_type);
    }
  }
}

}  // namespace

void pool2d(const PoolArgs& a, void* stream) {
  const i64 total = a.planes * a.oh * a.ow;
  if (total == 0) return;
  constexpr unsigned kThreads = 256;
  const i64 blocks = (total + kThreads - 1) / kThreads;
  const dim3 grid(static_cast<unsigned>(blocks < 65535 * 8 ? blocks : 65535 * 8));
  const Stream s = static_cast<Stream>(stream);
  if (a.dtype == Real::f64)
    launch("pool_kernel<double>", pool_kernel<double>, grid, dim3(kThreads), 0, s, a);
  else
    launch("pool_kernel<float>", pool_kernel<float>, grid, dim3(kThreads), 0, s, a);
}

}  // namespace gpu
}  // namespace foveal

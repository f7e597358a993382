// The band-pass filter's mask, fused into one pass over the half-plane spectrum: element
// (row, col) of rfft2's output has the signed frequency indices ky = row (row < ceil(h / 2)) or
// row - h, kx = col, and r^2 = ky^2 + kx^2; it is multiplied by
//   ideal        1 where low^2 <= r^2 <= high^2, else 0
//   gaussian     exp(-r^2 / (2 high^2)) * (1 - exp(-r^2 / (2 low^2)))
//   butterworth  1 / (1 + (r^2 / high^2)^order) * (1 - 1 / (1 + (r^2 / low^2)^order))
// (low = 0 drops the high-pass factor, no high the low-pass one), in the spectrum's precision
// with the CPU path's formulas and constants (foveal._cupy.frequency.transfer_rows), so that the
// numbers agree with foveal.bandpass on the CPU to the transforms' rounding. The transforms
// themselves are cuFFT's, through CuPy (foveal._gpu.frequency). One thread per complex value,
// consecutive threads along a row: a memory-bound pass at the copy's speed, with no mask array
// written or read.
#include <cmath>

#include "frequency.hpp"
#include "simt.hpp"

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;

template <typename T>
struct Transfer {
  BandKind kind;
  T low2, high2;  // the squared cut-offs in T (as NumPy rounds the Python floats it compares)
  T neg_half_over_low2, neg_half_over_high2, over_low2, over_high2, order;
  bool has_low, has_high;

  __device__ __forceinline__ T operator()(T r2) const {
    if (kind == BandKind::ideal) return (r2 >= low2 && (!has_high || r2 <= high2)) ? T(1) : T(0);
    T res = 1;
    if (kind == BandKind::gaussian) {
      if (has_high) res = exp(r2 * neg_half_over_high2);
      if (has_low) res *= T(1) - exp(r2 * neg_half_over_low2);
      return res;
    }
    if (has_high) res = T(1) / (T(1) + pow(r2 * over_high2, order));
    if (has_low) res *= T(1) - T(1) / (T(1) + pow(r2 * over_low2, order));
    return res;
  }
};

template <typename T>
__global__ void bandpass_kernel(T* spectrum, i64 planes, i64 h, i64 half, Transfer<T> f) {
  const i64 total = planes * h * half;
  const i64 positive_rows = (h + 1) / 2;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 col = i % half, row = i / half % h;
    const T ky = static_cast<T>(row < positive_rows ? row : row - h);
    const T kx = static_cast<T>(col);
    const T gain = f(ky * ky + kx * kx);
    spectrum[2 * i] *= gain;
    spectrum[2 * i + 1] *= gain;
  }
}

template <typename T>
Transfer<T> transfer(const BandpassArgs& a) {
  Transfer<T> f;
  f.kind = a.kind;
  f.has_low = a.low > 0;
  f.has_high = a.high >= 0 && std::isfinite(a.high);
  f.low2 = static_cast<T>(a.low * a.low);
  f.high2 = f.has_high ? static_cast<T>(a.high * a.high) : T(0);
  f.neg_half_over_low2 = f.has_low ? static_cast<T>(-0.5 / (a.low * a.low)) : T(0);
  f.neg_half_over_high2 = f.has_high ? static_cast<T>(-0.5 / (a.high * a.high)) : T(0);
  f.over_low2 = f.has_low ? static_cast<T>(1.0 / (a.low * a.low)) : T(0);
  f.over_high2 = f.has_high ? static_cast<T>(1.0 / (a.high * a.high)) : T(0);
  f.order = static_cast<T>(a.order);
  return f;
}

}  // namespace

void bandpass_mask(const BandpassArgs& a, void* stream) {
  const i64 half = a.w / 2 + 1;
  const i64 total = a.planes * a.h * half;
  if (total == 0) return;
  constexpr unsigned kThreads = 256;
  const i64 blocks = (total + kThreads - 1) / kThreads;
  const dim3 grid(static_cast<unsigned>(blocks < 65535 * 8 ? blocks : 65535 * 8));
  const Stream s = static_cast<Stream>(stream);
  if (a.dtype == Real::f64)
    launch("bandpass_kernel<double>", bandpass_kernel<double>, grid, dim3(kThreads), 0, s,
           static_cast<double*>(a.spectrum), a.planes, a.h, half, transfer<double>(a));
  else
    launch("bandpass_kernel<float>", bandpass_kernel<float>, grid, dim3(kThreads), 0, s,
           static_cast<float*>(a.spectrum), a.planes, a.h, half, transfer<float>(a));
}

}  // namespace gpu
}  // namespace foveal

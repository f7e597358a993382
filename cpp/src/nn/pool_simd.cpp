// Max, average and power-average (Lp) pooling over the (h, w) planes of an NCHW tensor,
// sliding or adaptive windows, compiled once per instruction set. torch's numbers:
//
//   max:  out[y, x] = max over the window (padding never wins; NaN wins), index = the flat
//         y*w + x of the first maximum in row-major window order (of the last NaN, if any);
//   avg:  out[y, x] = sum over the window / divisor (avg_pool2d's divisor rules, PoolPlan);
//   lp:   out[y, x] = (sum of in^p / divisor * kh*kw) ^ (1/p), as lp_pool2d builds it from
//         avg_pool2d (so ceil_mode edge windows are scaled, not plain sums).
//
// Windows are separable, so each output row reduces its window's input rows into one padded
// row first (vectors along the row), then reduces along the row: the padded row is split into
// stride phases (phase_rows.hpp) so that every column tap is a contiguous run. Index outputs
// follow torch's row-major scan per window instead, as ties and NaN order depend on it.
// One task per plane.
#include <cstdint>
#include <limits>

#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "nn_plan.hpp"
#include "phase_rows.hpp"
#include "simd.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::PoolKind;
using detail::PoolPlan;

// Input rows are prefetched this many rows ahead of their reduction.
constexpr i64 kPrefetchRows = 8;

// The first and one-past-last input index of window `o` of an adaptive pool along an axis of
// n inputs and m outputs: [floor(o*n/m), ceil((o+1)*n/m)).
inline i64 adaptive_start(i64 o, i64 n, i64 m) {
  return o * n / m;
}
inline i64 adaptive_end(i64 o, i64 n, i64 m) {
  return ((o + 1) * n + m - 1) / m;
}

// The window of output o along one axis: [start, end) before clipping (the padded extent) and
// the clipped [lo, hi) inside the input. Sliding windows: start = o*s - p, end = min(start +
// (k-1)*d + 1, n + p).
struct Span {
  i64 start, end, lo, hi;
};

inline Span span_of(const PoolPlan& plan, bool rows, i64 o) {
  const i64 n = rows ? plan.h : plan.w;
  if (plan.adaptive) {
    const i64 m = rows ? plan.oh : plan.ow;
    const i64 a = adaptive_start(o, n, m), b = adaptive_end(o, n, m);
    return Span{a, b, a, b};
  }
  const i64 k = rows ? plan.kh : plan.kw, s = rows ? plan.sh : plan.sw;
  const i64 p = rows ? plan.ph : plan.pw, d = rows ? plan.dh : plan.dw;
  const i64 start = o * s - p;
  const i64 end = min_of(start + (k - 1) * d + 1, n + p);
  return Span{start, end, max_of<i64>(start, 0), min_of(end, n)};
}

// avg_pool2d's divisor along one axis (the product of both axes' is the divisor).
inline double axis_divisor(const PoolPlan& plan, const Span& sp) {
  if (plan.kind == PoolKind::avg && !plan.adaptive && plan.count_include_pad)
    return static_cast<double>(sp.end - sp.start);
  return static_cast<double>(sp.hi - sp.lo);
}

// The C library's pow and sqrt (not <cmath>'s inline overloads, library code with external
// linkage); sqrt is one instruction here (-fno-math-errno).
inline float pow_of(float a, float b) {
  return __builtin_powf(a, b);
}
inline double pow_of(double a, double b) {
  return __builtin_pow(a, b);
}
inline float sqrt_value(float a) {
  return __builtin_sqrtf(a);
}
inline double sqrt_value(double a) {
  return __builtin_sqrt(a);
}

template <typename T>
T power(T v, double p) {
  if (p == 2.0) return v * v;
  if (p == 1.0) return v;
  return pow_of(v, static_cast<T>(p));
}

template <typename T>
T root(T v, double p) {
  if (p == 2.0) return sqrt_value(v);
  if (p == 1.0) return v;
  return pow_of(v, static_cast<T>(1.0 / p));
}

template <typename T>
struct PoolJob {
  const PoolPlan* plan;
  const Span* rows;    // oh spans
  const Span* cols;    // ow spans
  const T* col_scale;  // ow: each column's divisor (avg, lp)
  i64 wp;              // padded row length (sliding pools)
  Phases ph;
};

// max with NaN winning: torch takes a value when it is greater or NaN.
template <typename V>
inline V max_nan(V m, V v) {
  return (v > m) | (v != v) ? v : m;
}

// Index outputs: torch's scan of each window, row-major.
template <typename T>
void max_indexed_plane(const PoolJob<T>& job, const T* src, T* out, i64* idx) {
  const PoolPlan& plan = *job.plan;
  const i64 dh = plan.adaptive ? 1 : plan.dh, dw = plan.adaptive ? 1 : plan.dw;
  for (i64 y = 0; y < plan.oh; ++y) {
    const Span& r = job.rows[y];
    // The first row and column of the window inside the input (dilation steps from start).
    i64 y0 = r.start;
    while (y0 < 0) y0 += dh;
    for (i64 x = 0; x < plan.ow; ++x) {
      const Span& c = job.cols[x];
      i64 x0 = c.start;
      while (x0 < 0) x0 += dw;
      T best = -std::numeric_limits<T>::infinity();
      i64 where = y0 * plan.w + x0;
      for (i64 iy = y0; iy < r.hi; iy += dh) {
        const T* row = src + iy * plan.w;
        for (i64 ix = x0; ix < c.hi; ix += dw) {
          const T v = row[ix];
          if (v > best || v != v) {
            best = v;
            where = iy * plan.w + ix;
          }
        }
      }
      out[y * plan.ow + x] = best;
      idx[y * plan.ow + x] = where;
    }
  }
}

// Sliding windows without indices: rows, then phases, then column taps.
template <typename T>
void sliding_plane(const PoolJob<T>& job, const T* src, T* out, T* padded, T* phases, T* acc) {
  using Ln = Lanes<T>;
  constexpr i64 L = Ln::N;
  const PoolPlan& plan = *job.plan;
  const bool is_max = plan.kind == PoolKind::max;
  const T fill = is_max ? -std::numeric_limits<T>::infinity() : T(0);
  const i64 W = plan.w, OW = plan.ow, pw = plan.pw;
  const Phases& ph = job.ph;
  for (i64 y = 0; y < plan.oh; ++y) {
    const Span& r = job.rows[y];
    // Reduce the window's rows into the padded row (pw fill values, then the w columns).
    T* row = padded + pw;
    bool any = false;
    i64 iy = r.start;
    while (iy < 0) iy += plan.dh;
    for (; iy < r.hi; iy += plan.dh) {
      const T* s = src + iy * W;
      prefetch_values(s + kPrefetchRows * W, W);
      if (!any) {
        if (plan.kind == PoolKind::lp)
          for (i64 i = 0; i < W; ++i) row[i] = power(s[i], plan.norm_type);
        else
          copy_row(row, s, W);
        any = true;
      } else if (is_max) {
        i64 i = 0;
        for (; i + L <= W; i += L) Ln::store(row + i, max_nan(Ln::load(row + i), Ln::load(s + i)));
        for (; i < W; ++i) row[i] = (s[i] > row[i] || s[i] != s[i]) ? s[i] : row[i];
      } else if (plan.kind == PoolKind::lp) {
        for (i64 i = 0; i < W; ++i) row[i] += power(s[i], plan.norm_type);
      } else {
        for (i64 i = 0; i < W; ++i) row[i] += s[i];
      }
    }
    if (!any)
      for (i64 i = 0; i < W; ++i) row[i] = fill;
    split_phases(padded, job.wp, ph, phases);

    // Column taps.
    T* o = out + y * OW;
    T* a = is_max ? o : acc;
    const T* first = phases + ph.start(0);
    copy_row(a, first, OW);
    for (i64 j = 1; j < plan.kw; ++j) {
      const T* s = phases + ph.start(j * plan.dw);
      i64 x = 0;
      if (is_max) {
        for (; x + L <= OW; x += L) Ln::store(a + x, max_nan(Ln::load(a + x), Ln::load(s + x)));
        for (; x < OW; ++x) a[x] = (s[x] > a[x] || s[x] != s[x]) ? s[x] : a[x];
      } else {
        for (; x < OW; ++x) a[x] += s[x];
      }
    }
    if (is_max) continue;
    // Divide: divisor_override, or the row's divisor times each column's (1 / col_scale).
    if (plan.divisor_override > 0) {
      const T d = static_cast<T>(plan.divisor_override);
      for (i64 x = 0; x < OW; ++x) o[x] = a[x] / d;
      continue;
    }
    const T rdiv = static_cast<T>(axis_divisor(plan, r));
    if (plan.kind == PoolKind::avg) {
      for (i64 x = 0; x < OW; ++x) o[x] = a[x] / (rdiv * job.col_scale[x]);
    } else {
      const T area = static_cast<T>(plan.kh * plan.kw);
      for (i64 x = 0; x < OW; ++x)
        o[x] = root(a[x] / (rdiv * job.col_scale[x]) * area, plan.norm_type);
    }
  }
}

// Adaptive windows without indices: the window's rows summed (or maxed) into one row, then each
// output column's range of it.
template <typename T>
void adaptive_plane(const PoolJob<T>& job, const T* src, T* out, T* row) {
  using Ln = Lanes<T>;
  constexpr i64 L = Ln::N;
  const PoolPlan& plan = *job.plan;
  const bool is_max = plan.kind == PoolKind::max;
  const i64 W = plan.w;
  for (i64 y = 0; y < plan.oh; ++y) {
    const Span& r = job.rows[y];
    copy_row(row, src + r.lo * W, W);
    for (i64 iy = r.lo + 1; iy < r.hi; ++iy) {
      const T* s = src + iy * W;
      prefetch_values(s + kPrefetchRows * W, W);
      i64 i = 0;
      if (is_max) {
        for (; i + L <= W; i += L) Ln::store(row + i, max_nan(Ln::load(row + i), Ln::load(s + i)));
        for (; i < W; ++i) row[i] = (s[i] > row[i] || s[i] != s[i]) ? s[i] : row[i];
      } else {
        for (; i < W; ++i) row[i] += s[i];
      }
    }
    T* o = out + y * plan.ow;
    for (i64 x = 0; x < plan.ow; ++x) {
      const Span& c = job.cols[x];
      T v = row[c.lo];
      if (is_max) {
        for (i64 i = c.lo + 1; i < c.hi; ++i) v = (row[i] > v || row[i] != row[i]) ? row[i] : v;
        o[x] = v;
      } else {
        for (i64 i = c.lo + 1; i < c.hi; ++i) v += row[i];
        o[x] = v / static_cast<T>((r.hi - r.lo) * (c.hi - c.lo));
      }
    }
  }
}

template <typename T>
void pool_task(void* context, i64 plane) {
  const PoolJob<T>& job = *static_cast<const PoolJob<T>*>(context);
  const PoolPlan& plan = *job.plan;
  const T* src = static_cast<const T*>(plan.input) + plane * plan.h * plan.w;
  T* out = static_cast<T*>(plan.output) + plane * plan.oh * plan.ow;
  if (plan.indices) {
    max_indexed_plane(job, src, out, plan.indices + plane * plan.oh * plan.ow);
    return;
  }
  if (plan.adaptive) {
    Scratch scratch(static_cast<std::size_t>(plan.w) * sizeof(T));
    adaptive_plane(job, src, out, static_cast<T*>(scratch.p));
    return;
  }
  const i64 phase_len = job.ph.s * job.ph.q;
  Scratch scratch(static_cast<std::size_t>(job.wp + phase_len + plan.ow) * sizeof(T));
  T* padded = static_cast<T*>(scratch.p);
  T* phases = padded + job.wp;
  T* acc = phases + phase_len;
  const T fill = plan.kind == PoolKind::max ? -std::numeric_limits<T>::infinity() : T(0);
  for (i64 i = 0; i < job.wp; ++i) padded[i] = fill;
  sliding_plane(job, src, out, padded, phases, acc);
}

template <typename T>
void pool_typed(const PoolPlan& plan) {
  // (Scratch, not std::vector: no library template may be instantiated with this file's flags.)
  Scratch tables(static_cast<std::size_t>(plan.oh + plan.ow) * sizeof(Span) +
                 static_cast<std::size_t>(plan.ow) * sizeof(T));
  Span* rows = static_cast<Span*>(tables.p);
  Span* cols = rows + plan.oh;
  T* col_scale = reinterpret_cast<T*>(cols + plan.ow);
  for (i64 y = 0; y < plan.oh; ++y) rows[y] = span_of(plan, true, y);
  for (i64 x = 0; x < plan.ow; ++x) cols[x] = span_of(plan, false, x);
  for (i64 x = 0; x < plan.ow; ++x) col_scale[x] = static_cast<T>(axis_divisor(plan, cols[x]));
  PoolJob<T> job{&plan, rows, cols, col_scale, 0, Phases{}};
  if (!plan.adaptive) {
    // Padded row: pw fill values, the w columns, fill up to the last column any tap reads.
    job.wp = max_of(plan.pw + plan.w, (plan.ow - 1) * plan.sw + (plan.kw - 1) * plan.dw + 1);
    job.ph = Phases::of(job.wp, plan.sw);
  }
  parallel_for_raw(plan.planes, pool_task<T>, &job);
}

}  // namespace

void pool2d(const PoolPlan& plan) {
  if (plan.wide)
    pool_typed<double>(plan);
  else
    pool_typed<float>(plan);
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

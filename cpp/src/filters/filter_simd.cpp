// Linear filter kernels, compiled once per instruction set and chosen at run time by
// filters.cpp: separable filters (Gaussian, Sobel, sepFilter2D), general 2-D correlation, box
// sums by running sums, and the fused gradient (both derivatives, magnitude and angle).
//
// Every kernel works band by band (row_engine.hpp): a source row is converted and filtered
// along x once into a cache of rows; output rows combine cached rows with the vertical taps,
// with four vectors of accumulators in registers, and are converted straight into the
// destination (streaming stores for outputs larger than the cache).
#include <cmath>
#include <cstdint>

#include "filter_plan.hpp"
#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "row_engine.hpp"
#include "simd.hpp"
#include "sobel3.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::BoxPlan;
using detail::FilterPlan;
using detail::GradientPlan;

// --- separable filters ------------------------------------------------------------------

template <typename W>
void sep_band(void* context, i64 index) {
  const Job& job = *static_cast<const Job*>(context);
  const FilterPlan& plan = *static_cast<const FilterPlan*>(job.plan);
  const ConstImageView& src = job.src;
  const i64 C = src.channels, n = src.cols * C;
  const i64 left = plan.ax, right = plan.kw - 1 - plan.ax;
  const i64 padded = (src.cols + plan.kw - 1) * C;
  const int slots = plan.kh + 1;
  i64 y0, y1;
  band_range(job, index, y0, y1);

  const int kmax = plan.kw > plan.kh ? plan.kw : plan.kh;
  Scratch scratch(RowCache<W>::bytes(slots, n) + (padded + n + 2 * kmax) * sizeof(W) +
                  kmax * (2 * sizeof(int) + 2 * sizeof(W*)) + 7 * 64);
  Carve carve{static_cast<char*>(scratch.p)};
  RowCache<W> cache;
  cache.init(carve.take<char>(static_cast<i64>(RowCache<W>::bytes(slots, n))), slots, n);
  W* pad = carve.take<W>(padded);
  W* acc = carve.take<W>(n);
  W* kx = carve.take<W>(kmax);
  W* ky = carve.take<W>(kmax);
  int* xpos = carve.take<int>(kmax);
  int* ypos = carve.take<int>(kmax);
  const W** ptrs = carve.take<const W*>(kmax);   // vertical taps' rows
  const W** xptrs = carve.take<const W*>(kmax);  // horizontal taps' (filling a cache slot)
  const int nx = nonzero_taps<W>(plan.kernel_x, plan.kw, kx, xpos);
  const int ny = nonzero_taps<W>(plan.kernel_y, plan.kh, ky, ypos);

  auto fill_row = [&](i64 r, W* out) {
    load_padded_row<W>(src, r, plan.col_map, left, right, plan.border_pixel, pad);
    for (int t = 0; t < nx; ++t) xptrs[t] = pad + xpos[t] * C;
    dot_rows<W>(out, xptrs, kx, nx, n);
  };
  const W delta = static_cast<W>(plan.delta);
  for (i64 y = y0; y < y1; ++y) {
    cache.begin_row();
    for (int t = 0; t < ny; ++t) ptrs[t] = cache.get(plan.row_map[y + ypos[t]], fill_row);
    dot_rows<W>(acc, ptrs, ky, ny, n);
    store_row<W>(job.dst, y, acc, delta, job.stream);
  }
  if (job.stream) stream_fence();
}

// --- 2-D correlation --------------------------------------------------------------------

constexpr int kRowBlock = 2;  // output rows per dot_rows_block

template <typename W>
void filter2d_band(void* context, i64 index) {
  const Job& job = *static_cast<const Job*>(context);
  const FilterPlan& plan = *static_cast<const FilterPlan*>(job.plan);
  const ConstImageView& src = job.src;
  const i64 C = src.channels, n = src.cols * C;
  const i64 left = plan.ax, right = plan.kw - 1 - plan.ax;
  const i64 padded = (src.cols + plan.kw - 1) * C;
  const int slots = plan.kh + kRowBlock;  // a block of output rows holds kh + R - 1
  const i64 taps = static_cast<i64>(plan.kh) * plan.kw;
  i64 y0, y1;
  band_range(job, index, y0, y1);

  Scratch scratch(RowCache<W>::bytes(slots, padded) + ((kRowBlock + 1) * n + taps) * sizeof(W) +
                  taps * (sizeof(int) + sizeof(W*)) + (plan.kh + kRowBlock) * sizeof(W*) +
                  (7 + kRowBlock) * 64);
  Carve carve{static_cast<char*>(scratch.p)};
  RowCache<W> cache;
  cache.init(carve.take<char>(static_cast<i64>(RowCache<W>::bytes(slots, padded))), slots, padded);
  W* acc[kRowBlock];
  for (int q = 0; q < kRowBlock; ++q) acc[q] = carve.take<W>(n);
  W* k = carve.take<W>(taps);
  int* pos = carve.take<int>(taps);
  const W** ptrs = carve.take<const W*>(taps);
  const W** rows = carve.take<const W*>(plan.kh + kRowBlock);
  const int nt = nonzero_taps<W>(plan.kernel, static_cast<int>(taps), k, pos);
  // A kernel without zero taps makes output rows in blocks (dot_rows_block); one with zeros skips
  // them, as cv2 does (a zero tap on an infinite pixel would make NaN).
  const bool dense = nt == taps;
  // Rows already in the working type are read in place for the columns whose taps all fall in
  // the image (no copy into the cache); the few border columns are summed one at a time, in
  // the same order, so the bits are those of the padded rows.
  const bool in_place =
      dense && src.dtype == (sizeof(W) == 4 ? DType::f32 : DType::f64) && src.cols >= plan.kw;
  const i64 inner = (src.cols - plan.kw + 1) * C;  // outputs whose taps are all inside
  W* constant_row = carve.take<W>(n);              // the border constant's row, read in place
  if (in_place)
    for (i64 i = 0; i < n; ++i) constant_row[i] = static_cast<W>(plan.border_pixel[i % C]);
  auto border_column = [&](i64 y, i64 x, W* out) {
    for (i64 c = 0; c < C; ++c) {
      W a = 0;
      for (int t = 0; t < plan.kh; ++t) {
        const i64 r = plan.row_map[y + t];
        const W* row = r >= 0 ? src.row<const W>(r) : nullptr;
        for (int j = 0; j < plan.kw; ++j) {
          const i64 m = plan.col_map[x + j];
          const W v = row && m >= 0 ? row[m * C + c] : static_cast<W>(plan.border_pixel[c]);
          a = fused_multiply_add(k[t * plan.kw + j], v, a);
        }
      }
      out[x * C + c] = a;
    }
  };

  auto fill_row = [&](i64 r, W* out) {
    load_padded_row<W>(src, r, plan.col_map, left, right, plan.border_pixel, out);
  };
  const W delta = static_cast<W>(plan.delta);
  for (i64 y = y0; y < y1; ++y) {
    cache.begin_row();
    if (dense && y + kRowBlock <= y1) {
      W* out[kRowBlock];
      for (int t = 0; t < plan.kh + kRowBlock - 1; ++t) {
        const i64 r = plan.row_map[y + t];
        rows[t] = !in_place ? cache.get(r, fill_row) : r >= 0 ? src.row<const W>(r) : constant_row;
      }
      for (int q = 0; q < kRowBlock; ++q) out[q] = in_place ? acc[q] + left * C : acc[q];
      dot_rows_block<W, kRowBlock>(out, rows, k, plan.kh, plan.kw, C, in_place ? inner : n);
      for (int q = 0; q < kRowBlock; ++q) {
        if (in_place) {
          for (i64 x = 0; x < left; ++x) border_column(y + q, x, acc[q]);
          for (i64 x = src.cols - right; x < src.cols; ++x) border_column(y + q, x, acc[q]);
        }
        store_row<W>(job.dst, y + q, acc[q], delta, job.stream);
      }
      y += kRowBlock - 1;
      continue;
    }
    for (int t = 0; t < plan.kh; ++t) rows[t] = nullptr;
    for (int t = 0; t < nt; ++t) {
      const int i = pos[t] / plan.kw, j = pos[t] % plan.kw;
      if (!rows[i]) rows[i] = cache.get(plan.row_map[y + i], fill_row);
      ptrs[t] = rows[i] + j * C;
    }
    dot_rows<W>(acc[0], ptrs, k, nt, n);
    store_row<W>(job.dst, y, acc[0], delta, job.stream);
  }
  if (job.stream) stream_fence();
}

// --- box sums ---------------------------------------------------------------------------

// col[i] += row a's values[i] - row s's values[i], where a row is a source row, -1 for the
// border constant, or -2 for none.
template <typename A>
void update_columns(const ConstImageView& src, i64 a, i64 s, const double* bp, A* col) {
  const i64 C = src.channels, n = src.cols * C;
  with_dtype(src.dtype, [&](auto t) {
    using S = decltype(t);
    A* __restrict o = col;
    if (a >= 0 && s >= 0) {
      const S* __restrict pa = src.row<const S>(a);
      const S* __restrict ps = src.row<const S>(s);
      for (i64 i = 0; i < n; ++i) o[i] += static_cast<A>(pa[i]) - static_cast<A>(ps[i]);
      return;
    }
    if (a >= 0) {
      const S* __restrict pa = src.row<const S>(a);
      for (i64 i = 0; i < n; ++i) o[i] += static_cast<A>(pa[i]);
    } else if (a == -1) {
      for (i64 i = 0; i < n; ++i) o[i] += static_cast<A>(bp[i % C]);
    }
    if (s >= 0) {
      const S* __restrict ps = src.row<const S>(s);
      for (i64 i = 0; i < n; ++i) o[i] -= static_cast<A>(ps[i]);
    } else if (s == -1) {
      for (i64 i = 0; i < n; ++i) o[i] -= static_cast<A>(bp[i % C]);
    }
  });
}

// out[x C + c] = sum over j < kw of in[(x + j) C + c]: running sums, one chain per channel (four
// interleaved chains over quarters of the row for one channel, so they overlap in time).
template <typename A>
void running_sums(const A* __restrict in, A* __restrict out, i64 cols, i64 C, int kw) {
  const i64 parts = (C == 1 && cols >= 64) ? 4 : 1;
  const i64 span = (cols + parts - 1) / parts;
  for (i64 c = 0; c < C; ++c) {
    A s[4];
    i64 x0[4], x1[4];
    for (i64 q = 0; q < parts; ++q) {
      x0[q] = q * span;
      x1[q] = x0[q] + span < cols ? x0[q] + span : cols;
      A v = 0;
      for (int j = 0; j < kw; ++j) v += in[(x0[q] + j) * C + c];
      s[q] = v;
    }
    if (parts == 4) {
      const i64 common = x1[3] - x0[3];  // the last quarter is the shortest
      for (i64 d = 0; d < common; ++d) {
        for (int q = 0; q < 4; ++q) {
          const i64 x = x0[q] + d;
          if (d > 0) s[q] += in[x + kw - 1] - in[x - 1];
          out[x] = s[q];
        }
      }
      for (int q = 0; q < 3; ++q)
        for (i64 x = x0[q] + common; x < x1[q]; ++x) {
          if (x > x0[q]) s[q] += in[x + kw - 1] - in[x - 1];
          out[x] = s[q];
        }
    } else {
      A v = s[0];
      out[c] = v;
      for (i64 x = 1; x < cols; ++x) {
        v += in[(x + kw - 1) * C + c] - in[(x - 1) * C + c];
        out[x * C + c] = v;
      }
    }
  }
}

// Row y of dst from window sums: the exactly rounded mean (or the sum) for integer outputs,
// sum / area for floating ones.
template <typename A>
void store_sums(const ImageView& dst, i64 y, const A* sums, const BoxPlan& plan, bool exact_f32,
                bool stream) {
  const i64 n = dst.cols * dst.channels;
  const double area = static_cast<double>(plan.kh) * plan.kw;
  with_dtype(dst.dtype, [&](auto t) {
    using D = decltype(t);
    D* __restrict o = dst.row<D>(y);
    if constexpr (std::is_floating_point<D>::value) {
      const double scale = plan.normalize ? 1.0 / area : 1.0;
      if constexpr (std::is_same<D, double>::value) {
        if (stream && std::is_same<A, double>::value && scale == 1.0) {
          return stream_values<double>(reinterpret_cast<const double*>(sums), 0.0, o, n);
        }
      }
      for (i64 i = 0; i < n; ++i) o[i] = static_cast<D>(static_cast<double>(sums[i]) * scale);
    } else if (!plan.normalize) {
      store_values<A, D>(sums, A(0), o, n);
    } else if (exact_f32) {
      // sum < 2^24 and area < 2^15: float32 division is exactly rounded, so its halves are
      // exact and rint rounds them to even; no other quotient is within rounding of a half.
      const float fa = static_cast<float>(area);
      const float lo = static_cast<float>(Range<D>::lo), hi = static_cast<float>(Range<D>::hi);
      for (i64 i = 0; i < n; ++i) {
        float q = rint_of(static_cast<float>(sums[i]) / fa);
        q = q < lo ? lo : q;
        q = q > hi ? hi : q;
        o[i] = static_cast<D>(static_cast<std::int32_t>(q));
      }
    } else {
      const double lo = Range<D>::lo, hi = Range<D>::hi;
      for (i64 i = 0; i < n; ++i) {
        double q = rint_of(static_cast<double>(sums[i]) / area);
        q = q < lo ? lo : q;
        q = q > hi ? hi : q;
        q = q == q ? q : 0.0;
        o[i] = static_cast<D>(static_cast<std::int32_t>(q));
      }
    }
  });
}

template <typename A>
void box_band(void* context, i64 index) {
  const Job& job = *static_cast<const Job*>(context);
  const BoxPlan& plan = *static_cast<const BoxPlan*>(job.plan);
  const ConstImageView& src = job.src;
  const i64 C = src.channels, cols = src.cols, n = cols * C;
  const i64 padded = (cols + plan.kw - 1) * C;
  i64 y0, y1;
  band_range(job, index, y0, y1);
  Scratch scratch((padded + n + C) * sizeof(A) + 3 * 64);
  Carve carve{static_cast<char*>(scratch.p)};
  A* pad = carve.take<A>(padded);  // column sums, with the border columns around them
  A* col = pad + plan.ax * C;
  A* sums = carve.take<A>(n);
  A* constant = carve.take<A>(C);  // a column of kh border constants
  for (i64 c = 0; c < C; ++c) constant[c] = static_cast<A>(plan.border_pixel[c] * plan.kh);

  // Exact float32 quotients: integer sums below 2^24 and areas below 2^15.
  const double area = static_cast<double>(plan.kh) * plan.kw;
  const double peak = src.dtype == DType::u8 ? 255.0 : 65535.0;
  const bool exact_f32 = std::is_integral<A>::value && area * peak < 16777216.0 && area < 32768.0;

  for (i64 i = 0; i < n; ++i) col[i] = 0;
  for (int t = 0; t < plan.kh; ++t)
    update_columns<A>(src, plan.row_map[y0 + t], -2, plan.border_pixel, col);
  for (i64 y = y0; y < y1; ++y) {
    if (y > y0) {
      update_columns<A>(src, plan.row_map[y + plan.kh - 1], plan.row_map[y - 1], plan.border_pixel,
                        col);
    }
    // Columns outside the image hold the sums of the columns they mirror (or kh constants).
    fill_edges(pad, cols, C, plan.ax, plan.kw - 1 - plan.ax, plan.col_map, constant);
    running_sums<A>(pad, sums, cols, C, plan.kw);
    store_sums<A>(job.dst, y, sums, plan, exact_f32, job.stream);
  }
  if (job.stream) stream_fence();
}

// --- the fused gradient -------------------------------------------------------------------

// atan(a) for a in [0, 1]: a least-squares odd polynomial of degree 15, within 4e-8, in s = a^2
// by Estrin's scheme (pairs of terms, then pairs of pairs): a chain of three FMAs where Horner's
// has seven, so that more angles are in flight at once. V is float or a vector of floats;
// cuda/gradients.cu evaluates it FMA for FMA.
template <typename V>
V atan_unit(V a) {
  const V s = a * a;
  const V s2 = s * s;
  const V s4 = s2 * s2;
  const V p01 = s * -0.33330106645107449f + 0.99999943683630044f;
  const V p23 = s * -0.13915799995605238f + 0.1994850856970837f;
  const V p45 = s * -0.056063087001095149f + 0.096562502669021277f;
  const V p67 = s * -0.0040732905486115106f + 0.021946545625293537f;
  const V p03 = s2 * p23 + p01;
  const V p47 = s2 * p67 + p45;
  const V p = s4 * p47 + p03;
  return p * a;
}

// The float32 magnitude and angle of 8 (gx, gy) pairs; the angle in [0, 2 pi) (or [0, 360)
// with unit 180 / pi, full 360), 0 at (0, 0), within 1e-6 rad. (A reciprocal estimate with a
// Newton step in place of the division measured slower on Zen 3, and its bits would depend on
// the CPU's estimate, where these equal the CUDA kernel's.)
struct PolarLanes {
  using L = Lanes<float>;
  using V = L::W;
  V zero{}, one, half_pi, pi, two_pi, unit, full;
  PolarLanes(bool degrees) {
    constexpr double kPi = 3.14159265358979323846;
    one = L::splat(1.0f);
    half_pi = L::splat(float(kPi / 2));
    pi = L::splat(float(kPi));
    two_pi = L::splat(float(2 * kPi));
    unit = L::splat(degrees ? float(180 / kPi) : 1.0f);
    full = L::splat(degrees ? 360.0f : float(2 * kPi));
  }
  V magnitude(V x, V y) const { return sqrt_lanes(x * x + y * y); }
  V angle(V x, V y) const {
    const V ax = abs_lanes(x), ay = abs_lanes(y);
    // operands in this order give the selects of ax > ay exactly, NaN included
    const V hi = max_lanes(ax, ay), lo = min_lanes(ay, ax);
    const V r = atan_unit<V>(lo / (hi > zero ? hi : one));
    // The octant turns r into a + r or a - r: pi / 2 - r past the diagonal, then pi - that for
    // x < 0, then 2 pi - that for y < 0. a and the sign come from the comparisons alone, while
    // the quotient and polynomial are computed, and one FMA applies them (with the unit).
    typedef std::int32_t I __attribute__((vector_size(32)));
    const I past = ay > ax, left = x < zero, below = y < zero;
    V a = reinterpret_cast<V>(past & reinterpret_cast<I>(half_pi));
    a = left ? pi - a : a;
    a = below ? two_pi - a : a;
    const I flip = (past ^ left ^ below) & std::int32_t(0x80000000u);
    const V signed_unit = reinterpret_cast<V>(reinterpret_cast<I>(unit) ^ flip);
    V base = a * unit;
    keep_in_register(base);  // a rounded product: the FMA is signed_unit * r + base, as on GPUs
    const V angle = signed_unit * r + base;
    return angle >= full ? zero : angle;
  }
};

// magnitude and angle of (gx, gy) for n values (either output may be null); angle in
// [0, 2 pi) or [0, 360), 0 at (0, 0).
template <typename W>
void polar_values(const W* __restrict gx, const W* __restrict gy, W* __restrict mag,
                  W* __restrict ang, i64 n, bool degrees) {
  if constexpr (std::is_same<W, double>::value) {
    constexpr double kPi = 3.14159265358979323846;
    if (mag)
      for (i64 i = 0; i < n; ++i) mag[i] = sqrt_of(gx[i] * gx[i] + gy[i] * gy[i]);
    if (!ang) return;
    const double full = degrees ? 360.0 : 2 * kPi, to_unit = degrees ? 180 / kPi : 1.0;
    for (i64 i = 0; i < n; ++i) {
      double r = (gx[i] == 0 && gy[i] == 0) ? 0.0 : std::atan2(gy[i], gx[i]);
      r = r < 0 ? r + 2 * kPi : r;
      r *= to_unit;
      ang[i] = r >= full ? 0.0 : r;
    }
  } else {
    // Explicit vectors, both outputs from one load (the square root's unit works while the
    // angle's arithmetic does); the last values go through the same code zero-padded, for the
    // same bits.
    using L = Lanes<float>;
    const PolarLanes polar(degrees);
    auto both = [&](const float* x, const float* y, float* m, float* a) {
      const L::W vx = L::load(x), vy = L::load(y);
      if (m) L::store(m, polar.magnitude(vx, vy));
      if (a) L::store(a, polar.angle(vx, vy));
    };
    i64 i = 0;
    for (; i + L::N <= n; i += L::N)
      both(gx + i, gy + i, mag ? mag + i : nullptr, ang ? ang + i : nullptr);
    if (i < n) {
      float x[L::N] = {}, y[L::N] = {}, m[L::N], a[L::N];
      for (i64 j = 0; j < n - i; ++j) x[j] = gx[i + j], y[j] = gy[i + j];
      both(x, y, m, a);
      for (i64 j = 0; j < n - i; ++j) {
        if (mag) mag[i + j] = m[j];
        if (ang) ang[i + j] = a[j];
      }
    }
  }
}

template <typename W>
void gradient_band(void* context, i64 index) {
  const Job& job = *static_cast<const Job*>(context);
  const GradientPlan& plan = *static_cast<const GradientPlan*>(job.plan);
  const i64 n = job.src.cols * job.src.channels;
  i64 y0, y1;
  band_range(job, index, y0, y1);
  // Magnitudes and angles go through chunks that stay in L1 on their way to the outputs.
  constexpr i64 kChunk = 1024;
  const std::size_t engine = plan.sobel3 ? 0 : GradientRows<W>::bytes(plan, job.src);
  Scratch scratch(engine + (2 * n + 2 * kChunk) * sizeof(W) + n + 5 * 64);
  Carve carve{static_cast<char*>(scratch.p)};
  GradientRows<W> grad;  // the float row engine, unless the derivatives are in integers
  if (!plan.sobel3) grad.init(plan, job.src, carve);
  W* gx = carve.take<W>(n);
  W* gy = carve.take<W>(n);
  W* mag = job.dst.data ? carve.take<W>(kChunk) : nullptr;
  W* ang = job.dst2.data ? carve.take<W>(kChunk) : nullptr;
  // The outputs have the working type (the driver's check).
  auto put = [&](const ImageView& out, i64 y, i64 i0, const W* v, i64 len) {
    W* o = out.row<W>(y) + i0;
    if (job.stream)
      stream_values<W>(v, W(0), o, len);
    else
      store_values<W, W>(v, W(0), o, len);
  };
  std::uint8_t* border_row = nullptr;
  if (plan.sobel3) {
    border_row = carve.take<std::uint8_t>(n);
    fill_border_row(plan, job.src.cols, job.src.channels, border_row);
  }
  for (i64 y = y0; y < y1; ++y) {
    if (plan.sobel3)
      sobel3_row<W>(plan, job.src, border_row, y, gx, gy);
    else
      grad.row(y, gx, gy);
    for (i64 i0 = 0; i0 < n; i0 += kChunk) {
      const i64 len = min_of(kChunk, n - i0);
      polar_values<W>(gx + i0, gy + i0, mag, ang, len, plan.degrees);
      if (mag) put(job.dst, y, i0, mag, len);
      if (ang) put(job.dst2, y, i0, ang, len);
    }
  }
  if (job.stream) stream_fence();
}

// One first derivative of a uint8 image (ksize 3), in integers (sobel3.hpp), stored through
// the working type W (float, or double for float64 outputs): exact either way.
template <typename W, int Which>
void sobel3_band(void* context, i64 index) {
  const Job& job = *static_cast<const Job*>(context);
  const GradientPlan& plan = *static_cast<const GradientPlan*>(job.plan);
  const i64 n = job.src.cols * job.src.channels;
  i64 y0, y1;
  band_range(job, index, y0, y1);
  Scratch scratch(n * sizeof(W) + n + 2 * 64);
  Carve carve{static_cast<char*>(scratch.p)};
  W* row = carve.take<W>(n);
  std::uint8_t* border_row = carve.take<std::uint8_t>(n);
  fill_border_row(plan, job.src.cols, job.src.channels, border_row);
  for (i64 y = y0; y < y1; ++y) {
    sobel3_row<W, Which>(plan, job.src, border_row, y, Which == 0 ? row : nullptr,
                         Which == 1 ? row : nullptr);
    store_row<W>(job.dst, y, row, W(0), job.stream);
  }
  if (job.stream) stream_fence();
}

}  // namespace

void sobel3(const detail::GradientPlan& plan, const ConstImageView& src, const ImageView& dst,
            int order) {
  Job job{&plan, src, dst, ImageView{}, 0, stream_output(dst)};
  const bool wide = dst.dtype == DType::f64;
  if (order == 0)
    run_bands(job, 2, wide ? &sobel3_band<double, 0> : &sobel3_band<float, 0>);
  else
    run_bands(job, 2, wide ? &sobel3_band<double, 1> : &sobel3_band<float, 1>);
}

void sep_filter(const detail::FilterPlan& plan, const ConstImageView& src, const ImageView& dst) {
  Job job{&plan, src, dst, ImageView{}, 0, stream_output(dst)};
  run_bands(job, plan.kh - 1, plan.wide ? &sep_band<double> : &sep_band<float>);
}

void filter2d(const detail::FilterPlan& plan, const ConstImageView& src, const ImageView& dst) {
  Job job{&plan, src, dst, ImageView{}, 0, stream_output(dst)};
  run_bands(job, plan.kh - 1, plan.wide ? &filter2d_band<double> : &filter2d_band<float>);
}

void box_filter(const detail::BoxPlan& plan, const ConstImageView& src, const ImageView& dst) {
  Job job{&plan, src, dst, ImageView{}, 0, stream_output(dst)};
  const double area = static_cast<double>(plan.kh) * plan.kw;
  // Integer sums are exact in int32 while the area times the largest value stays below 2^31.
  const bool integer_sums =
      (src.dtype == DType::u8 && area * 256.0 < 2147483648.0) ||
      ((src.dtype == DType::u16 || src.dtype == DType::s16) && area * 65536.0 < 2147483648.0);
  run_bands(job, plan.kh - 1, integer_sums ? &box_band<std::int32_t> : &box_band<double>);
}

void gradient(const detail::GradientPlan& plan, const ConstImageView& src,
              const ImageView& magnitude, const ImageView& angle) {
  const ImageView& any = magnitude.data ? magnitude : angle;
  Job job{&plan, src, magnitude, angle, 0, stream_output(any)};
  run_bands(job, 2 * plan.radius, plan.wide ? &gradient_band<double> : &gradient_band<float>);
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

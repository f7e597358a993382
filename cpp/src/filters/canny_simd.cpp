// Canny's parallel stage, compiled once per instruction set: per band of rows, int16 Sobel
// derivatives (row_engine.hpp), their magnitude, non-maximum suppression and the thresholds,
// written as a map of 0 / 1 / 2 (no edge, candidate, edge). The hysteresis that follows
// (canny.cpp) is serial and touches only candidates.
//
// Non-maximum suppression is OpenCV's, in Q15 fixed point: the gradient is horizontal when
// |dy| 2^15 < |dx| tan(22.5 deg) 2^15, vertical when |dy| 2^15 > |dx| tan(67.5 deg) 2^15, and
// diagonal otherwise; a pixel must beat its first neighbour along the gradient (the one
// before) and tie or beat the second, except on diagonals where it must beat both.
// Magnitudes outside the image are 0.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "filter_plan.hpp"
#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "row_engine.hpp"
#include "simd.hpp"
#include "sobel3.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::CannyPlan;

// tan(22.5 deg) in Q15, rounded.
constexpr std::uint32_t kTan22 = 13573;

inline std::int32_t to_short(float v) {
  v = rint_of(v);
  v = v < -32768.0f ? -32768.0f : v;
  v = v > 32767.0f ? 32767.0f : v;
  return static_cast<std::int32_t>(v);
}

// A row's magnitudes from its derivatives: from dx and dy when C is 1; else from the values'
// derivatives ex and ey, keeping each pixel's channel of the largest magnitude (the first on
// ties) and writing its derivatives to dx and dy.
template <typename M>
void row_magnitudes(const std::int32_t* ex, const std::int32_t* ey, i64 cols, i64 C, bool l2,
                    std::int32_t* dx, std::int32_t* dy, M* mag) {
  auto magnitude = [l2](std::int32_t u, std::int32_t v) {
    return l2 ? static_cast<M>(u) * u + static_cast<M>(v) * v
              : static_cast<M>((u < 0 ? -u : u) + (v < 0 ? -v : v));
  };
  if (C == 1) {
    for (i64 i = 0; i < cols; ++i) mag[i] = magnitude(dx[i], dy[i]);
    return;
  }
  for (i64 x = 0; x < cols; ++x) {
    M best = -1;
    for (i64 c = 0; c < C; ++c) {
      const std::int32_t u = ex[x * C + c], v = ey[x * C + c];
      const M m = magnitude(u, v);
      if (m > best) {
        best = m;
        dx[x] = u;
        dy[x] = v;
      }
    }
    mag[x] = best;
  }
}

// Derivatives and magnitudes of row y through the float row engine (ksize 5 and 7).
template <typename M>
void magnitude_row(GradientRows<float>& grad, i64 y, i64 cols, i64 C, bool l2, float* gx, float* gy,
                   std::int32_t* ex, std::int32_t* ey, std::int32_t* dx, std::int32_t* dy, M* mag) {
  grad.row(y, gx, gy);
  std::int32_t* u = C == 1 ? dx : ex;
  std::int32_t* v = C == 1 ? dy : ey;
  for (i64 i = 0; i < cols * C; ++i) {
    u[i] = to_short(gx[i]);
    v[i] = to_short(gy[i]);
  }
  row_magnitudes<M>(ex, ey, cols, C, l2, dx, dy, mag);
}

// The map value of one pixel: 2 for an edge, 1 for a candidate, 0 otherwise. The neighbours
// are read unconditionally and selected, so that the loops over pixels run as vector selects
// (with loads under conditions, the compiler emits masked loads).
template <typename M>
inline std::uint8_t classify(M m, std::int32_t gx, std::int32_t gy, M ul, M u, M ur, M l, M r, M dl,
                             M d, M dr, M low, M high) {
  const std::uint32_t ax = static_cast<std::uint32_t>(gx < 0 ? -gx : gx);
  const std::uint32_t ay = static_cast<std::uint32_t>(gy < 0 ? -gy : gy) << 15;
  const std::uint32_t tg22 = ax * kTan22;
  const std::uint32_t tg67 = tg22 + (ax << 16);
  const bool horizontal = ay < tg22;
  const bool vertical = ay > tg67;  // never with horizontal: tg67 >= tg22
  const bool same_sign = (gx ^ gy) >= 0;
  const M diag1 = same_sign ? ul : ur;
  const M diag2 = same_sign ? dr : dl;
  const M first = horizontal ? l : (vertical ? u : diag1);
  const M second = horizontal ? r : (vertical ? d : diag2);
  const bool straight = horizontal | vertical;
  const bool beats = (m > first) & ((m > second) | (straight & (m == second)));
  const bool candidate = (m > low) & beats;
  return static_cast<std::uint8_t>(candidate + (candidate & (m > high)));
}

// Map row: 2 for an edge, 1 for a candidate, 0 otherwise. up, mid, down have a 0 at index -1
// and at index cols.
template <typename M>
void suppress_row(const M* up, const M* mid, const M* down, const std::int32_t* __restrict dx,
                  const std::int32_t* __restrict dy, i64 cols, M low, M high,
                  std::uint8_t* __restrict out) {
  i64 x = 0;
  if constexpr (sizeof(M) == sizeof(std::int32_t)) {
    // 8 pixels a step; most steps of a photograph hold no magnitude above low and end at the
    // first test.
    using Ln = Lanes<std::int32_t>;
    using V = Ln::W;
    typedef std::uint32_t U __attribute__((vector_size(32)));
    typedef std::uint8_t Bytes __attribute__((vector_size(8)));
    const V lowv = Ln::splat(low), highv = Ln::splat(high), one = Ln::splat(1);
    const U tan22 = U{} + kTan22;
    for (; x + 8 <= cols; x += 8) {
      const V m = Ln::load(mid + x);
      const V above = m > lowv;
      std::int64_t words[4];
      std::memcpy(words, &above, sizeof(words));
      if ((words[0] | words[1] | words[2] | words[3]) == 0) {
        std::memset(out + x, 0, 8);
        continue;
      }
      const V gx = Ln::load(dx + x), gy = Ln::load(dy + x);
      const U ax = (U)(gx < 0 ? -gx : gx);
      const U ay = (U)(gy < 0 ? -gy : gy) << 15;
      const U tg22 = ax * tan22;
      const U tg67 = tg22 + (ax << 16);
      const V horizontal = (V)(ay < tg22), vertical = (V)(ay > tg67);
      const V same_sign = (gx ^ gy) >= 0;
      const V diag1 = same_sign ? Ln::load(up + x - 1) : Ln::load(up + x + 1);
      const V diag2 = same_sign ? Ln::load(down + x + 1) : Ln::load(down + x - 1);
      const V first = horizontal ? Ln::load(mid + x - 1) : (vertical ? Ln::load(up + x) : diag1);
      const V second = horizontal ? Ln::load(mid + x + 1) : (vertical ? Ln::load(down + x) : diag2);
      const V beats = (m > first) & ((m > second) | ((horizontal | vertical) & (m == second)));
      const V candidate = above & beats;
      const V value = (candidate & one) + (candidate & (m > highv) & one);
      const Bytes packed = __builtin_convertvector(value, Bytes);
      std::memcpy(out + x, &packed, 8);
    }
  }
  for (; x < cols; ++x)
    out[x] = classify<M>(mid[x], dx[x], dy[x], up[x - 1], up[x], up[x + 1], mid[x - 1], mid[x + 1],
                         down[x - 1], down[x], down[x + 1], low, high);
}

// Derivatives and magnitudes of row y for ksize 3, in integers.
template <typename M>
void magnitude_row3(const detail::GradientPlan& g, const ConstImageView& src, i64 y, bool l2,
                    std::int32_t* ex, std::int32_t* ey, std::int32_t* dx, std::int32_t* dy,
                    M* mag) {
  const i64 C = src.channels;
  // canny's border is replicate: no row or column maps to the constant.
  if (C == 1)
    sobel3_row<std::int32_t>(g, src, nullptr, y, dx, dy);
  else
    sobel3_row<std::int32_t>(g, src, nullptr, y, ex, ey);
  row_magnitudes<M>(ex, ey, src.cols, C, l2, dx, dy, mag);
}

template <typename M>
void canny_band(void* context, i64 index) {
  const Job& job = *static_cast<const Job*>(context);
  const CannyPlan& plan = *static_cast<const CannyPlan*>(job.plan);
  const ConstImageView& src = job.src;
  const i64 H = src.rows, cols = src.cols, C = src.channels, n = cols * C;
  i64 y0, y1;
  band_range(job, index, y0, y1);
  // ksize 3 in integers, 5 and 7 through the float row engine.
  const bool small = plan.gradient.sobel3;
  const std::size_t engine =
      small ? 0 : GradientRows<float>::bytes(plan.gradient, src) + 2 * n * sizeof(float) + 2 * 64;
  Scratch scratch(engine + 2 * n * sizeof(std::int32_t) +
                  3 * (cols + 2) * (sizeof(M) + 2 * sizeof(std::int32_t)) + 12 * 64);
  Carve carve{static_cast<char*>(scratch.p)};
  GradientRows<float> grad;
  float *gx = nullptr, *gy = nullptr;
  if (!small) {
    grad.init(plan.gradient, src, carve);
    gx = carve.take<float>(n);
    gy = carve.take<float>(n);
  }
  std::int32_t* ex = carve.take<std::int32_t>(n);
  std::int32_t* ey = carve.take<std::int32_t>(n);
  // Three rows of magnitudes (with a zero on each side) and derivatives, rotated.
  M* mag[3];
  std::int32_t* dx[3];
  std::int32_t* dy[3];
  for (int r = 0; r < 3; ++r) {
    mag[r] = carve.take<M>(cols + 2) + 1;
    dx[r] = carve.take<std::int32_t>(cols);
    dy[r] = carve.take<std::int32_t>(cols);
    mag[r][-1] = mag[r][cols] = 0;
  }
  auto load = [&](i64 y, int r) {
    if (y < 0 || y >= H) {
      for (i64 x = 0; x < cols; ++x) mag[r][x] = 0;
      return;
    }
    if (small)
      magnitude_row3<M>(plan.gradient, src, y, plan.l2, ex, ey, dx[r], dy[r], mag[r]);
    else
      magnitude_row<M>(grad, y, cols, C, plan.l2, gx, gy, ex, ey, dx[r], dy[r], mag[r]);
  };
  int up = 0, mid = 1, down = 2;
  load(y0 - 1, up);
  load(y0, mid);
  const M low = static_cast<M>(plan.low), high = static_cast<M>(plan.high);
  for (i64 y = y0; y < y1; ++y) {
    load(y + 1, down);
    suppress_row<M>(mag[up], mag[mid], mag[down], dx[mid], dy[mid], cols, low, high,
                    job.dst.row<std::uint8_t>(y));
    const int t = up;
    up = mid;
    mid = down;
    down = t;
  }
}

}  // namespace

void canny_classify(const detail::CannyPlan& plan, const ConstImageView& src,
                    const ImageView& dst) {
  Job job{&plan, src, dst, ImageView{}, 0, false};
  run_bands(job, 2 + 2 * plan.gradient.radius,
            plan.l2 ? &canny_band<std::int64_t> : &canny_band<std::int32_t>);
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

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
#include <cstdint>

#include "filter_plan.hpp"
#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "row_engine.hpp"
#include "simd.hpp"

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

// Derivatives and magnitude of row y: the channel of the largest magnitude (first on ties).
template <typename M>
void magnitude_row(GradientRows<float>& grad, i64 y, i64 cols, i64 C, bool l2, float* gx, float* gy,
                   std::int32_t* dx, std::int32_t* dy, M* mag) {
  grad.row(y, gx, gy);
  if (C == 1) {
    for (i64 i = 0; i < cols; ++i) {
      dx[i] = to_short(gx[i]);
      dy[i] = to_short(gy[i]);
    }
    if (l2) {
      for (i64 i = 0; i < cols; ++i)
        mag[i] = static_cast<M>(dx[i]) * dx[i] + static_cast<M>(dy[i]) * dy[i];
    } else {
      for (i64 i = 0; i < cols; ++i)
        mag[i] = static_cast<M>((dx[i] < 0 ? -dx[i] : dx[i]) + (dy[i] < 0 ? -dy[i] : dy[i]));
    }
    return;
  }
  for (i64 x = 0; x < cols; ++x) {
    M best = -1;
    for (i64 c = 0; c < C; ++c) {
      const std::int32_t a = to_short(gx[x * C + c]), b = to_short(gy[x * C + c]);
      const M m = l2 ? static_cast<M>(a) * a + static_cast<M>(b) * b
                     : static_cast<M>((a < 0 ? -a : a) + (b < 0 ? -b : b));
      if (m > best) {
        best = m;
        dx[x] = a;
        dy[x] = b;
      }
    }
    mag[x] = best;
  }
}

// Map row: 2 for an edge, 1 for a candidate, 0 otherwise. up, mid, down have a 0 at index -1
// and at index cols.
template <typename M>
void suppress_row(const M* up, const M* mid, const M* down, const std::int32_t* __restrict dx,
                  const std::int32_t* __restrict dy, i64 cols, M low, M high,
                  std::uint8_t* __restrict out) {
  // Branch-free, so that it runs as vector selects.
  for (i64 x = 0; x < cols; ++x) {
    const std::int32_t gx = dx[x], gy = dy[x];
    const std::uint32_t ax = static_cast<std::uint32_t>(gx < 0 ? -gx : gx);
    const std::uint32_t ay = static_cast<std::uint32_t>(gy < 0 ? -gy : gy) << 15;
    const std::uint32_t tg22 = ax * kTan22;
    const std::uint32_t tg67 = tg22 + (ax << 16);
    const bool horizontal = ay < tg22;
    const bool vertical = ay > tg67;  // never with horizontal: tg67 >= tg22
    const bool same_sign = (gx ^ gy) >= 0;
    const M m = mid[x];
    const M diag1 = same_sign ? up[x - 1] : up[x + 1];
    const M diag2 = same_sign ? down[x + 1] : down[x - 1];
    const M first = horizontal ? mid[x - 1] : (vertical ? up[x] : diag1);
    const M second = horizontal ? mid[x + 1] : (vertical ? down[x] : diag2);
    const bool straight = horizontal | vertical;
    const bool beats = (m > first) & ((m > second) | (straight & (m == second)));
    const bool candidate = (m > low) & beats;
    out[x] = static_cast<std::uint8_t>(candidate + (candidate & (m > high)));
  }
}

template <typename M>
void canny_band(void* context, i64 index) {
  const Job& job = *static_cast<const Job*>(context);
  const CannyPlan& plan = *static_cast<const CannyPlan*>(job.plan);
  const ConstImageView& src = job.src;
  const i64 H = src.rows, cols = src.cols, C = src.channels, n = cols * C;
  i64 y0, y1;
  band_range(job, index, y0, y1);
  Scratch scratch(GradientRows<float>::bytes(plan.gradient, src) + 2 * n * sizeof(float) +
                  3 * (cols + 2) * (sizeof(M) + 2 * sizeof(std::int32_t)) + 12 * 64);
  Carve carve{static_cast<char*>(scratch.p)};
  GradientRows<float> grad;
  grad.init(plan.gradient, src, carve);
  float* gx = carve.take<float>(n);
  float* gy = carve.take<float>(n);
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
    magnitude_row<M>(grad, y, cols, C, plan.l2, gx, gy, dx[r], dy[r], mag[r]);
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

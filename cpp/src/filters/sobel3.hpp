// Both 3x3 Sobel derivatives of a uint8 image in 16-bit integers, for the kernel files compiled
// once per instruction set (internal linkage, like simd.hpp). For ksize 3 and scale 1 this is
// what the float row engine computes (every partial sum is an integer below 2^11, exact in
// either), at twice the lanes and without the per-row conversion to float; canny and gradient
// take it for uint8 images with GradientPlan::sobel3, and sobel for one first derivative.
#pragma once

#include <cstdint>

#include "filter_plan.hpp"
#include "foveal/image.hpp"
#include "simd.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

// A row of the border constant (one value per channel, repeated), for rows outside the image
// under the constant border.
inline void fill_border_row(const detail::GradientPlan& g, i64 cols, i64 C, std::uint8_t* row) {
  for (i64 x = 0; x < cols; ++x)
    for (i64 c = 0; c < C; ++c) row[x * C + c] = static_cast<std::uint8_t>(g.border_pixel[c]);
}

// dx and dy of every value of row y (cols x C), written as D: rows and columns through the
// plan's border maps (radius 1), `border_row` standing for the rows and columns they map to -1.
// Which: 2 for both, 0 for dx alone (ey unused), 1 for dy alone (ex unused).
template <typename D, int Which = 2>
void sobel3_row(const detail::GradientPlan& g, const ConstImageView& src,
                const std::uint8_t* border_row, i64 y, D* __restrict ex, D* __restrict ey) {
  using S = std::int16_t;
  const i64 cols = src.cols, C = src.channels, n = cols * C;
  auto row = [&](i64 r) { return r < 0 ? border_row : src.row<const std::uint8_t>(r); };
  const std::uint8_t* __restrict a = row(g.row_map[y]);
  const std::uint8_t* __restrict b = row(g.row_map[y + 1]);
  const std::uint8_t* __restrict c = row(g.row_map[y + 2]);
  // The first and last pixel: their neighbours through the column map.
  for (i64 x : {i64(0), cols - 1}) {
    const i64 left = g.col_map[x], right = g.col_map[x + 2];
    for (i64 ch = 0; ch < C; ++ch) {
      const i64 e = x * C + ch;
      auto at = [&](const std::uint8_t* r, i64 col) -> int {
        return col < 0 ? border_row[ch] : r[col * C + ch];
      };
      const int al = at(a, left), ar = at(a, right), bl = at(b, left), br = at(b, right);
      const int cl = at(c, left), cr = at(c, right);
      if (Which != 1) ex[e] = static_cast<D>((ar - al) + 2 * (br - bl) + (cr - cl));
      if (Which != 0) ey[e] = static_cast<D>((cl + 2 * c[e] + cr) - (al + 2 * a[e] + ar));
    }
  }
  for (i64 e = C; e < n - C; ++e) {
    const i64 l = e - C, r = e + C;
    if (Which != 1)
      ex[e] = static_cast<D>(static_cast<S>(
          static_cast<S>(static_cast<S>(a[r]) - static_cast<S>(a[l])) +
          static_cast<S>(2 * static_cast<S>(b[r] - b[l])) + static_cast<S>(c[r] - c[l])));
    if (Which != 0)
      ey[e] = static_cast<D>(static_cast<S>(static_cast<S>(c[l] + 2 * c[e] + c[r]) -
                                            static_cast<S>(a[l] + 2 * a[e] + a[r])));
  }
}

}  // namespace
}  // namespace FOVEAL_ISA
}  // namespace foveal

// What the filter drivers hand to the per-instruction-set kernels: plain data only, so that
// nothing with external linkage is compiled twice with different instruction sets.
//
// Border maps: the kernels read virtual rows and columns outside the image through maps that
// the driver fills with border_index(): the real index, or -1 for the border constant.
#pragma once

#include <cstdint>

#include "foveal/image.hpp"

namespace foveal {
namespace detail {

// filter2d (kernel) or a separable filter (kernel_x, kernel_y); only non-zero taps are used.
struct FilterPlan {
  int kh = 1, kw = 1;                // kernel rows and columns
  int ay = 0, ax = 0;                // anchor
  const double* kernel = nullptr;    // kh x kw, row-major (filter2d), or null
  const double* kernel_x = nullptr;  // kw taps (separable)
  const double* kernel_y = nullptr;  // kh taps (separable)
  double delta = 0.0;
  bool wide = false;  // arithmetic in float64 (else float32)
  // Output row y reads virtual rows y - ay + t (t < kh) at row_map[y + t]; output column x
  // reads virtual columns x - ax + j (j < kw) at col_map[x + j].
  const std::int64_t* row_map = nullptr;
  const std::int64_t* col_map = nullptr;
  const double* border_pixel = nullptr;  // one value per channel, in the source's range
};

// box_filter: the same maps as FilterPlan.
struct BoxPlan {
  int kh = 1, kw = 1;
  int ay = 0, ax = 0;
  bool normalize = true;
  const std::int64_t* row_map = nullptr;
  const std::int64_t* col_map = nullptr;
  const double* border_pixel = nullptr;
};

// Both first derivatives of the image, each a separable kernel of odd lengths centred on the
// pixel: gx = rows by x_of_gx, then columns by y_of_gx; gy likewise. Virtual rows and columns
// reach `radius` past the image: output row y reads row_map[y + radius + d] for offsets
// d in [-radius, radius], and columns likewise.
struct GradientPlan {
  const double* x_of_gx = nullptr;
  const double* y_of_gx = nullptr;
  const double* x_of_gy = nullptr;
  const double* y_of_gy = nullptr;
  int nx_of_gx = 1, ny_of_gx = 1, nx_of_gy = 1, ny_of_gy = 1;
  int radius = 1;
  double scale = 1.0;  // applied to gx and gy
  bool wide = false;   // float64 arithmetic and outputs
  bool degrees = false;
  // uint8 source, ksize 3, scale 1: the derivatives in integers (sobel3.hpp)
  bool sobel3 = false;
  const std::int64_t* row_map = nullptr;
  const std::int64_t* col_map = nullptr;
  const double* border_pixel = nullptr;
};

// Corner responses from the gradient products summed over block x block windows: the
// gradient as in GradientPlan (single channel), then a, b, c = window sums of gx^2, gx gy, gy^2
// with the same border applied to the products (cv2.boxFilter on them), then the response.
struct CornerPlan {
  GradientPlan gradient;
  int block = 2;
  int anchor = 1;  // block / 2
  bool harris = true;
  double k = 0.04;
  // Output row y sums the products of virtual rows y - anchor + t (t < block) at
  // product_rows[y + t]; columns likewise through product_cols.
  const std::int64_t* product_rows = nullptr;
  const std::int64_t* product_cols = nullptr;
};

// Canny's first stage: int16 Sobel derivatives (GradientPlan, replicate border), the
// magnitude (|dx| + |dy|, or dx^2 + dy^2 with l2), non-maximum suppression and the two
// thresholds, into a map of 0 (no edge), 1 (a candidate) and 2 (an edge).
struct CannyPlan {
  GradientPlan gradient;
  bool l2 = false;
  std::int64_t low = 0, high = 0;  // magnitudes above low are candidates, above high edges
};

// cv2.goodFeaturesToTrack's candidates in the middle row of three, by the active instruction
// set's kernel (filters.cpp): see corner_maxima_row below.
void corner_maxima_row(const void* up, const void* mid, const void* down, bool wide,
                       double threshold, std::int64_t cols, void* colmax, std::uint8_t* hit);

}  // namespace detail
}  // namespace foveal

// Declares the kernels of one instruction-set namespace.
#define FOVEAL_DECLARE_FILTER_KERNELS(isa)                                                        \
  namespace foveal {                                                                              \
  namespace isa {                                                                                 \
  void filter2d(const detail::FilterPlan& plan, const ConstImageView& src, const ImageView& dst); \
  void sep_filter(const detail::FilterPlan& plan, const ConstImageView& src,                      \
                  const ImageView& dst);                                                          \
  void box_filter(const detail::BoxPlan& plan, const ConstImageView& src, const ImageView& dst);  \
  /* magnitude and angle: float32 (float64 when plan.wide); either may have null data */          \
  void gradient(const detail::GradientPlan& plan, const ConstImageView& src,                      \
                const ImageView& magnitude, const ImageView& angle);                              \
  /* one first derivative of a uint8 image, ksize 3 (order 0: dx, 1: dy); dst any float or */     \
  /* int16 dtype */                                                                               \
  void sobel3(const detail::GradientPlan& plan, const ConstImageView& src, const ImageView& dst,  \
              int order);                                                                         \
  void corner_response(const detail::CornerPlan& plan, const ConstImageView& src,                 \
                       const ImageView& dst);                                                     \
  /* cv2.goodFeaturesToTrack's candidates in the middle row of three (float, or double when */    \
  /* wide): hit[x] = 1 for x in [1, cols - 1) where mid[x] > threshold is the maximum of its */   \
  /* 3x3 window, values not above the threshold taken as 0; colmax: scratch of cols values */     \
  void corner_maxima_row(const void* up, const void* mid, const void* down, bool wide,            \
                         double threshold, std::int64_t cols, void* colmax, std::uint8_t* hit);   \
  /* dst: uint8, one channel, of 0 / 1 / 2 (no edge, candidate, edge) */                          \
  void canny_classify(const detail::CannyPlan& plan, const ConstImageView& src,                   \
                      const ImageView& dst);                                                      \
  }                                                                                               \
  }

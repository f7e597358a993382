// Linear filters and image gradients with OpenCV's semantics: filter2D, sepFilter2D,
// boxFilter, GaussianBlur, Sobel / Scharr, and the gradient's magnitude and direction.
//
//   filter2d: dst(y, x) = sum over (i, j) of kernel(i, j) * src(y + i - anchor_y, x + j - anchor_x)
//             + delta: a correlation, per channel, with the border applied outside the image.
//
// The destination may have another dtype than the source (OpenCV's ddepth). Arithmetic is in
// float32, or float64 when the source or the destination is float64; integer results are
// rounded half to even and saturated (NaN becomes 0).
#pragma once

#include <vector>

#include "foveal/border.hpp"
#include "foveal/image.hpp"

namespace foveal {

struct FilterOptions {
  int anchor_y = -1;  // -1: the kernel's centre, size / 2
  int anchor_x = -1;
  double delta = 0.0;
  Border border = Border::Reflect101;  // Border::Default is not allowed here
  // One value for all channels or one per channel, saturated to the source's dtype; used
  // with Border::Constant.
  std::vector<double> border_value = {0.0};
};

// Correlation with a kernel of kernel_rows x kernel_cols values, row-major.
void filter2d(const ConstImageView& src, const ImageView& dst, const std::vector<double>& kernel,
              int kernel_rows, int kernel_cols, const FilterOptions& options = {});

// Correlation with the separable kernel outer(kernel_y, kernel_x): rows first, then columns.
void sep_filter2d(const ConstImageView& src, const ImageView& dst,
                  const std::vector<double>& kernel_x, const std::vector<double>& kernel_y,
                  const FilterOptions& options = {});

// The sum over a rows x cols window (divided by its area when `normalize`), in a constant
// number of operations per pixel. Integer sources are summed exactly; a normalized integer
// result is the exactly rounded quotient. options.delta is ignored.
void box_filter(const ConstImageView& src, const ImageView& dst, int rows, int cols,
                bool normalize = true, const FilterOptions& options = {});

// cv2.getGaussianKernel(ksize, sigma) (float64): OpenCV's fixed kernels for ksize <= 9 and
// sigma <= 0, else exp(-x^2 / (2 sigma^2)) normalized; sigma <= 0 means
// 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8.
std::vector<double> gaussian_kernel(int ksize, double sigma);

// cv2.GaussianBlur: ksize 0 takes it from sigma (round(sigma * (3 for uint8, else 4) * 2 + 1),
// made odd); sigma_y <= 0 means sigma_x. dst has src's dtype.
void gaussian_blur(const ConstImageView& src, const ImageView& dst, int ksize_rows, int ksize_cols,
                   double sigma_x, double sigma_y = 0.0, const FilterOptions& options = {});

// cv2.getDerivKernels(dx, dy, ksize) without normalization: kernel_x has order dx and
// kernel_y order dy; ksize 1, 3, 5, 7 (1 means 3 along a direction with a derivative, and no
// smoothing along the other) or -1 for Scharr's 3x3.
void deriv_kernels(int dx, int dy, int ksize, std::vector<double>& kernel_x,
                   std::vector<double>& kernel_y);

// cv2.Sobel: the (dx, dy) derivative, times scale, plus delta.
void sobel(const ConstImageView& src, const ImageView& dst, int dx, int dy, int ksize = 3,
           double scale = 1.0, const FilterOptions& options = {});

// Both first derivatives in one pass: magnitude = sqrt(gx^2 + gy^2), angle = atan2(gy, gx) in
// [0, 2 pi) (or [0, 360) degrees), 0 where both are 0; cv2.Sobel twice and cv2.cartToPolar.
// magnitude and angle are float32, or float64 for float64 sources; either may be empty (data
// null) when not wanted.
void gradient(const ConstImageView& src, const ImageView& magnitude, const ImageView& angle,
              int ksize = 3, bool angle_in_degrees = false, const FilterOptions& options = {});

// cv2.Canny on 8-bit images: int16 Sobel derivatives (ksize 3, 5, 7; replicate border; ksize 7
// scaled by 1/16 and the thresholds with it), the magnitude |dx| + |dy| (or dx^2 + dy^2 with
// l2_gradient, the thresholds squared), per pixel the channel of the largest magnitude,
// non-maximum suppression, and hysteresis: magnitudes above `high` are edges, and so are
// candidates above `low` 8-connected to an edge. dst: uint8, one channel, 0 or 255.
void canny(const ConstImageView& src, const ImageView& dst, double low, double high, int ksize = 3,
           bool l2_gradient = false);

}  // namespace foveal

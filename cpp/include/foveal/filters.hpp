// Linear filters and image gradients with OpenCV's semantics: filter2D, sepFilter2D,
// boxFilter, GaussianBlur, Sobel / Scharr, and the gradient's magnitude and direction.
//
//   filter2d: dst(y, x) = sum over (i, j) of kernel(i, j) * src(y + i - anchor_y, x + j - anchor_x)
//             + delta: a correlation, per channel, with the border applied outside the image.
//
// Images: uint8, uint16, int16, float32 or float64, any number of channels (each filtered on
// its own). The destination has the source's rows, cols and channels and may have another
// dtype (OpenCV's ddepth; any of the five here) unless a function says otherwise. Arithmetic
// is in float32, or float64 when the source or the destination is float64; integer results
// are rounded half to even and saturated (NaN becomes 0).
//
// Errors (every function): ValueError for an empty image, a destination of another shape,
// Border::Default, an anchor outside the kernel, a non-finite kernel value or delta, a
// border_value of neither 1 nor `channels` values (or NaN, for an integer source), and the
// sizes each function names; TypeError where a function requires a dtype. Nothing is written
// before the checks pass.
//
// Threads: the foveal pool, over bands of rows, each band reading the source rows it needs;
// src and dst may overlap (the source is then copied once first).
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

// cv2.filter2D(src, ddepth, kernel, anchor, delta, borderType): correlation with a kernel of
// kernel_rows x kernel_cols values, row-major (kernel.size() must be their product).
void filter2d(const ConstImageView& src, const ImageView& dst, const std::vector<double>& kernel,
              int kernel_rows, int kernel_cols, const FilterOptions& options = {});

// cv2.sepFilter2D: correlation with the separable kernel outer(kernel_y, kernel_x) (a
// kernel_y.size() x kernel_x.size() window): along rows first, then columns.
void sep_filter2d(const ConstImageView& src, const ImageView& dst,
                  const std::vector<double>& kernel_x, const std::vector<double>& kernel_y,
                  const FilterOptions& options = {});

// cv2.boxFilter(src, ddepth, (cols, rows), anchor, normalize, borderType): the sum over a
// rows x cols window (divided by its area when `normalize`), in a constant number of
// operations per pixel (running sums). Integer sources are summed exactly; a normalized
// integer result is the exactly rounded quotient. options.delta is ignored. ValueError for
// rows or cols < 1.
void box_filter(const ConstImageView& src, const ImageView& dst, int rows, int cols,
                bool normalize = true, const FilterOptions& options = {});

// cv2.getGaussianKernel(ksize, sigma) (float64): OpenCV's fixed kernels for ksize <= 9 and
// sigma <= 0, else exp(-x^2 / (2 sigma^2)) normalized; sigma <= 0 means
// 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8. ValueError unless ksize is odd and positive.
std::vector<double> gaussian_kernel(int ksize, double sigma);

// cv2.GaussianBlur: ksize 0 takes it from sigma (round(sigma * (3 for uint8, else 4) * 2 + 1),
// made odd); sigma_y <= 0 means sigma_x. dst has src's dtype (TypeError otherwise). The
// options' anchor and delta are ignored. ValueError for a non-finite sigma, or a ksize that is
// even, or <= 0 with no sigma > 0 to derive it from.
void gaussian_blur(const ConstImageView& src, const ImageView& dst, int ksize_rows, int ksize_cols,
                   double sigma_x, double sigma_y = 0.0, const FilterOptions& options = {});

// cv2.getDerivKernels(dx, dy, ksize) without normalization: kernel_x has order dx and
// kernel_y order dy; ksize 1, 3, 5, 7 (1 means 3 along a direction with a derivative, and no
// smoothing along the other) or -1 for Scharr's 3x3 (dx + dy = 1 only). The kernels are
// written into kernel_x and kernel_y. ValueError for negative orders, another ksize, or an
// order >= the kernel's size; the messages of the functions below that use it (sobel,
// gradient, harris, min_eigen) then name deriv_kernels.
void deriv_kernels(int dx, int dy, int ksize, std::vector<double>& kernel_x,
                   std::vector<double>& kernel_y);

// cv2.Sobel(src, ddepth, dx, dy, ksize, scale, delta, borderType) (and cv2.Scharr with
// ksize -1): the (dx, dy) derivative, times scale, plus delta, with the kernels of
// deriv_kernels. options' anchor is ignored. ValueError for dx + dy = 0 or a non-finite scale.
void sobel(const ConstImageView& src, const ImageView& dst, int dx, int dy, int ksize = 3,
           double scale = 1.0, const FilterOptions& options = {});

// Both first derivatives in one pass: magnitude = sqrt(gx^2 + gy^2), angle = atan2(gy, gx) in
// [0, 2 pi) (or [0, 360) degrees), 0 where both are 0; cv2.Sobel twice and cv2.cartToPolar.
// magnitude and angle are float32, or float64 for float64 sources; either may be empty (data
// null) when not wanted, not both (ValueError); a wanted output of another dtype is a
// TypeError. The derivatives are deriv_kernels' (ksize as sobel's), unscaled; options' anchor
// and delta are ignored.
void gradient(const ConstImageView& src, const ImageView& magnitude, const ImageView& angle,
              int ksize = 3, bool angle_in_degrees = false, const FilterOptions& options = {});

// cv2.Canny on 8-bit images: int16 Sobel derivatives (ksize 3, 5, 7; replicate border; ksize 7
// scaled by 1/16 and the thresholds with it), the magnitude |dx| + |dy| (or dx^2 + dy^2 with
// l2_gradient, the thresholds squared), per pixel the channel of the largest magnitude,
// non-maximum suppression, and hysteresis: magnitudes above `high` are edges, and so are
// candidates above `low` 8-connected to an edge. dst: uint8, one channel, 0 or 255. The
// source may have any number of channels. TypeError for a non-uint8 source; ValueError for a
// dst that is not uint8 of one channel and the source's size (a ValueError even when only the
// dtype is wrong), another ksize, or a NaN threshold; low > high are swapped, as OpenCV does.
// The derivatives and suppression run on the pool; the hysteresis on the calling thread.
void canny(const ConstImageView& src, const ImageView& dst, double low, double high, int ksize = 3,
           bool l2_gradient = false);

}  // namespace foveal

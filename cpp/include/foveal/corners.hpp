// Corner responses with OpenCV's semantics: cv2.cornerHarris and cv2.cornerMinEigenVal.
//
// gx, gy = Sobel derivatives (ksize 1, 3, 5, 7 or -1 for Scharr) scaled by
// 1 / (2^(ksize - 1) * block_size) (twice that for Scharr, and 255 times for 8-bit images);
// a, b, c = sums of gx^2, gx gy, gy^2 over block_size x block_size windows (the border applied
// to the products too); then
//   harris:    a c - b^2 - k (a + c)^2
//   min_eigen: (a + c) / 2 - sqrt(((a - c) / 2)^2 + b^2), the smaller eigenvalue.
// Single-channel sources; dst is float32, or float64 for float64 sources. Computed in one pass
// over row bands, with no full-size intermediate.
#pragma once

#include "foveal/border.hpp"
#include "foveal/image.hpp"

namespace foveal {

void harris(const ConstImageView& src, const ImageView& dst, int block_size = 2, int ksize = 3,
            double k = 0.04, Border border = Border::Reflect101);

void min_eigen(const ConstImageView& src, const ImageView& dst, int block_size = 3, int ksize = 3,
               Border border = Border::Reflect101);

}  // namespace foveal

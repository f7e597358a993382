// Corner responses with OpenCV's semantics: cv2.cornerHarris and cv2.cornerMinEigenVal.
//
// gx, gy = Sobel derivatives (ksize 1, 3, 5, 7 or -1 for Scharr; deriv_kernels in
// filters.hpp) scaled by 1 / (2^(ksize - 1) * block_size) (1 / (8 * block_size) for Scharr),
// and by 1/255 more for uint8 images, the border applied to the source; a, b, c = sums of
// gx^2, gx gy, gy^2 over the block_size x block_size window anchored at
// (block_size / 2, block_size / 2), the border applied to the products too (cv2.boxFilter
// of them, unnormalized); then
//   harris:    a c - b^2 - k (a + c)^2
//   min_eigen: (a + c) / 2 - sqrt(((a - c) / 2)^2 + b^2), the smaller eigenvalue.
// Border::Constant reads 0 outside (there is no border value); Border::Default is a
// ValueError.
//
// src: one channel of uint8, uint16, int16, float32 or float64, any row stride. dst: the same
// rows and cols, float32, or float64 for float64 sources; computed in that precision (a c and
// b^2 cancel, so the error is relative to (a + c)^2, not to the response). src and dst may
// overlap.
//
// Errors: ValueError for an empty image, more than one channel, a dst of another size,
// block_size outside [1, 65536], a non-finite k, Border::Default, or a ksize other than 1, 3,
// 5, 7, -1 (that one reported by deriv_kernels); TypeError for a dst of the wrong dtype.
//
// Threads: the foveal pool, over bands of rows, in one pass from pixels to response per band:
// no full-size gradient or product image is ever made.
#pragma once

#include <cstdint>
#include <vector>

#include "foveal/border.hpp"
#include "foveal/image.hpp"

namespace foveal {

// cv2.cornerHarris(src, block_size, ksize, k, borderType); foveal.harris in Python.
void harris(const ConstImageView& src, const ImageView& dst, int block_size = 2, int ksize = 3,
            double k = 0.04, Border border = Border::Reflect101);

// cv2.cornerMinEigenVal(src, block_size, ksize, borderType); foveal.min_eigen in Python.
void min_eigen(const ConstImageView& src, const ImageView& dst, int block_size = 3, int ksize = 3,
               Border border = Border::Reflect101);

// cv2.goodFeaturesToTrack's selection from a response (one channel, float32 or float64),
// as positions y * cols + x, strongest first. Candidates are the pixels off the outermost rows
// and columns whose value is above `threshold`, not 0, and no smaller than any of its 8
// neighbours (a neighbour not above the threshold counts as 0; NaN is never above it), and,
// with `mask` (uint8, the response's size; null for none), where it is nonzero. They are taken
// by value, then position, both descending (cv2 breaks ties by address), and one is kept unless
// a kept corner lies closer than min_distance (squared distances summed in float32 as cv2
// does), until max_corners are kept (all, for max_corners <= 0). The threshold is usually
// quality_level times the response's maximum (over the mask), in its dtype.
//
// Errors: ValueError for a response with more than one channel, a mask of another size or
// dtype, or min_distance negative or not finite; TypeError for a response that is not float32
// or float64.
std::vector<std::int64_t> good_features(const ConstImageView& response, double threshold,
                                        const ConstImageView* mask, std::int64_t max_corners,
                                        double min_distance);

}  // namespace foveal

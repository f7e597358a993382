// The whole public C++ API of foveal::core: link foveal::core (find_package(foveal)) and
// include this header, or only the headers of the families you use. Plain C++17, no Python,
// no CUDA. examples/cpp/ is a complete consumer.
//
// Families (one header each), and what each mirrors:
//   morphology.hpp  structuring_element, erode, dilate, morphology (open, close, gradient,
//                   top-hat, black-hat): cv2.getStructuringElement, erode, dilate, morphologyEx
//   filters.hpp     filter2d, sep_filter2d, box_filter, gaussian_kernel, gaussian_blur,
//                   deriv_kernels, sobel, gradient, canny: cv2.filter2D, sepFilter2D,
//                   boxFilter, getGaussianKernel, GaussianBlur, getDerivKernels, Sobel /
//                   Scharr, cartToPolar, Canny
//   corners.hpp     harris, min_eigen: cv2.cornerHarris, cornerMinEigenVal
//   nn.hpp          conv2d, max / avg / lp / adaptive pooling, patchify: torch.nn.functional
//   attention.hpp   scaled_dot_product_attention: torch.nn.functional's
//   segment.hpp     kmeans_assign, kmeans_inertia (a Lloyd step, scikit-learn's numbers),
//                   label_components, component_stats, find_contours, draw_polygons:
//                   cv2.connectedComponentsWithStats, findContours, drawContours
// and what they share: image.hpp (DType, image views), border.hpp (Border, border_index),
// error.hpp (the exceptions), parallel.hpp (the thread pool), cpu_features.hpp (the
// instruction set chosen at run time), version.hpp.
//
// Conventions:
// - Images are non-owning views (image.hpp): ConstImageView for what a function reads,
//   ImageView for what it writes. A view is `rows` rows of `cols` pixels of `channels`
//   interleaved values of one DType; the values of a row are contiguous, and row y starts
//   row_stride BYTES after row y - 1 (any count, negative for a flipped image, larger than a
//   row for a window of a bigger image). Value c of pixel (y, x) is row<T>(y)[x * channels + c].
//   This is OpenCV's Mat and a C-ordered NumPy (H, W[, C]) array.
// - Sizes and positions are (rows, cols) = (y, x) = (height, width), as NumPy shapes and
//   OpenCV's Mat(rows, cols), never cv::Size's (width, height): kernel_rows before kernel_cols,
//   anchor_y before anchor_x. An anchor of -1 means the kernel's centre, size / 2.
// - Tensors (nn.hpp, attention.hpp) are contiguous (n, c, h, w) views, torch's NCHW; attention
//   reads them as (batch, heads, length, head size).
// - The caller allocates every output with the shape and dtype the function's comment gives;
//   the function checks the views' shapes and dtypes and never allocates the result. Inputs
//   (const views and pointers) are never modified. Views and pointers are trusted to describe
//   valid memory: null data and short buffers are not detected.
// - Borders (border.hpp) have OpenCV's meanings. The defaults are Border::Reflect101
//   (OpenCV's BORDER_DEFAULT) for filters and corners and Border::Default (the outside never
//   wins) for morphology; a border_value is saturated to the image's dtype, as OpenCV does.
// - Errors: a bad dtype throws foveal::TypeError, a bad shape, size or value foveal::ValueError
//   (both foveal::Error, a std::runtime_error). The message names the function (as the Python
//   API names it: "label:" for label_components), the argument, what it got and what is
//   allowed. Allocation failure is std::bad_alloc. Checks run before any output is written
//   unless a function's comment says otherwise.
// - Threads: the functions that work per pixel, row or head run on foveal's CPU pool
//   (parallel.hpp) with get_num_threads() threads, the caller among them, and return when the
//   work is done; find_contours and draw_polygons run on the calling thread alone. Calls from
//   several threads at once are safe as long as they do not write to the same memory.
// - Instruction sets: hot kernels are compiled for several (baseline, AVX2, AVX-512) and the
//   best one this CPU supports is used (cpu_features.hpp); the tests hold every one to the same
//   reference.
#pragma once

#include "foveal/attention.hpp"
#include "foveal/border.hpp"
#include "foveal/corners.hpp"
#include "foveal/cpu_features.hpp"
#include "foveal/error.hpp"
#include "foveal/filters.hpp"
#include "foveal/image.hpp"
#include "foveal/morphology.hpp"
#include "foveal/nn.hpp"
#include "foveal/parallel.hpp"
#include "foveal/segment.hpp"
#include "foveal/version.hpp"

// The linear filters' launchers (filters.cu): filter2d, the separable filters (sep_filter2d,
// gaussian_blur, sobel, scharr) and box_filter on contiguous (H, W, C) images, with the CPU
// kernels' numbers (cpp/src/filters). Plain C++ like every launcher header of cuda/, so that
// the bindings compile with the host compiler and serve the SIMT emulator's build too.
// Pointers are device pointers (host pointers under the emulator); ``stream`` is a
// cudaStream_t.
#pragma once

#include <cstddef>
#include <cstdint>

#include "foveal/border.hpp"
#include "foveal/image.hpp"

namespace foveal {
namespace gpu {

// filter2d and the separable filters. The taps and the border pixel are arrays on the device
// in the working type (float32, or float64 when ``wide``): the caller converts them as the CPU
// does (each double tap rounded once; the border value saturated to the image's dtype first).
struct LinearArgs {
  DType src_type = DType::f32, dst_type = DType::f32;
  bool wide = false;          // float64 arithmetic (the image or the output is float64)
  const void* src = nullptr;  // rows x cols x channels values, rows `pitch` values apart
  std::int64_t pitch = 0;     // (negative for a flipped image)
  void* dst = nullptr;        // contiguous
  std::int64_t rows = 0, cols = 0, channels = 1;
  int kh = 1, kw = 1, ay = 0, ax = 0;  // the window and its anchor
  const void* kernel = nullptr;        // filter2d: kh x kw taps, row-major; else null
  const void* kernel_x = nullptr;      // separable: kw taps along rows
  const void* kernel_y = nullptr;      // separable: kh taps along columns
  double delta = 0.0;
  Border border = Border::Reflect101;  // never Border::Default
  const void* border_pixel = nullptr;  // ``channels`` values
};

// box_filter: window sums, exact for integer images (int32, or int64 where int32 could
// overflow), float64 for float images; the border pixel in float64 on the device.
struct BoxArgs {
  DType src_type = DType::u8, dst_type = DType::u8;
  const void* src = nullptr;  // rows x cols x channels values, rows `pitch` values apart
  std::int64_t pitch = 0;     // (negative for a flipped image)
  void* dst = nullptr;        // contiguous
  std::int64_t rows = 0, cols = 0, channels = 1;
  int kh = 1, kw = 1, ay = 0, ax = 0;
  bool normalize = true;
  Border border = Border::Reflect101;
  const double* border_pixel = nullptr;
};

// Whether the kernels cover these sizes (their tiles fit in shared memory, or in a bounded
// scratch buffer on the device); the Python route takes the CuPy fallback where not.
bool filter2d_fits(const LinearArgs& args);
bool sep_filter_fits(const LinearArgs& args);
bool box_filter_fits(const BoxArgs& args);

void filter2d(const LinearArgs& args, void* stream);
void sep_filter(const LinearArgs& args, void* stream);
void box_filter(const BoxArgs& args, void* stream);

}  // namespace gpu
}  // namespace foveal

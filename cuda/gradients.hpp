// The launchers of the fused gradient and corner-response kernels (gradients.cu): both Sobel /
// Scharr derivatives of an image and, from them, the gradient's magnitude and angle
// (foveal.gradient) or the Harris / smallest-eigenvalue response of the windowed structure
// tensor (foveal.harris, foveal.min_eigen), each from pixels to result in one kernel. Plain
// C++; see pool.hpp. The numbers are the CPU path's (cpp/src/filters/filter_simd.cpp,
// corner_simd.cpp); the wrappers have checked the arguments.
#pragma once

#include <cstdint>

#include "foveal/border.hpp"
#include "foveal/image.hpp"

namespace foveal {
namespace gpu {

// What one launch covers: at most this many channels for the gradient, with channels x the
// derivative's radius at most half the block's threads (the halo of a row); block sizes up to
// kMaxCornerBlock for the corners. Other cases take the CuPy fallback (foveal._gpu.gradients).
constexpr int kMaxGradientChannels = 128;
constexpr int kMaxCornerBlock = 7;
// Rows and columns (pixels) below this: the kernels index them in 32 bits.
constexpr std::int64_t kMaxSide = (std::int64_t{1} << 31) - (std::int64_t{1} << 16);

struct GradientArgs {
  DType dtype = DType::u8;
  const void* src = nullptr;  // rows x cols x channels values; rows `pitch` values apart
  std::int64_t pitch = 0;     // values between row starts (negative for a flipped image)
  void* magnitude = nullptr;  // rows x cols x channels, contiguous: float32 (float64 for f64)
  void* angle = nullptr;      // likewise
  std::int64_t rows = 0, cols = 0, channels = 1;
  int ksize = 3;  // 1, 3, 5, 7, or -1 (Scharr)
  bool degrees = false;
  Border border = Border::Reflect101;
  const double* border_pixel = nullptr;  // channels values, already saturated to the dtype
  int threads = 0;                       // threads per block (0: the default); for tests
  std::int64_t strip = 0;                // output rows per block (0: chosen from the size)
};

struct CornerArgs {
  DType dtype = DType::u8;
  const void* src = nullptr;  // rows x cols values, one channel; rows `pitch` values apart
  std::int64_t pitch = 0;
  void* dst = nullptr;  // rows x cols, contiguous: float32 (float64 for f64)
  std::int64_t rows = 0, cols = 0;
  int block = 2;  // the summing window's side, 1 .. kMaxCornerBlock
  int ksize = 3;
  bool harris = true;  // else the smaller eigenvalue
  double k = 0.04;
  Border border = Border::Reflect101;
  int threads = 0;
  std::int64_t strip = 0;
};

void gradient(const GradientArgs& args, void* stream);
void corner_response(const CornerArgs& args, void* stream);

}  // namespace gpu
}  // namespace foveal

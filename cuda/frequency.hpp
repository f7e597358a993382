// The band-pass mask's launcher (frequency.cu): the half-plane spectrum of a real 2-D
// transform multiplied in place by the band-pass transfer function, computed on the fly from
// each element's frequency indices (no mask array). Plain C++; see pool.hpp.
#pragma once

#include <cstdint>

#include "gpu_types.hpp"

namespace foveal {
namespace gpu {

enum class BandKind { ideal, gaussian, butterworth };

struct BandpassArgs {
  Real dtype = Real::f32;                 // of the spectrum's real and imaginary parts
  void* spectrum = nullptr;               // planes x h x (w / 2 + 1) complex values, C-contiguous
  std::int64_t planes = 0, h = 0, w = 0;  // w: the image width (the half plane is w / 2 + 1)
  BandKind kind = BandKind::ideal;
  double low = 0;
  double high = -1;  // < 0: no low-pass factor
  int order = 2;
};

void bandpass_mask(const BandpassArgs& args, void* stream);

}  // namespace gpu
}  // namespace foveal

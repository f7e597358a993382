// foveal::border_index (cpp/include/foveal/border.hpp, cv::borderInterpolate) for the kernels:
// the index in [0, n) that position p reads, or -1 where the border is a constant. ``border``
// is foveal::Border's value as an int (Constant 0, Replicate 1, Reflect 2, Reflect101 3,
// Wrap 4). I is the index type: int where the launcher keeps sizes below 2^31 (the device does
// 32-bit division inline; 64-bit division is a subroutine call), std::int64_t otherwise.
#pragma once

#include "simt.hpp"

namespace foveal {
namespace gpu {

template <typename I>
__device__ __forceinline__ I border_source(I p, I n, int border) {
  if (p >= 0 && p < n) return p;
  switch (border) {
    case 1:  // replicate
      return p < 0 ? 0 : n - 1;
    case 4: {  // wrap
      const I r = p % n;
      return r < 0 ? r + n : r;
    }
    case 2:    // reflect: fedcba|abcdef
    case 3: {  // reflect101: fedcb|abcdef
      if (n == 1) return 0;
      const bool edge_twice = border == 2;
      const I period = edge_twice ? 2 * n : 2 * n - 2;
      I r = p % period;
      if (r < 0) r += period;
      if (r < n) return r;
      return edge_twice ? period - 1 - r : period - r;
    }
    default:
      return -1;
  }
}

}  // namespace gpu
}  // namespace foveal

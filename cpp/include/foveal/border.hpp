// Border modes: how a kernel sees pixels outside the image. One definition for every family,
// with OpenCV's meaning of each mode (abcdefgh is a row, | the image edge):
//   constant    iiiiii|abcdefgh|iiiiiii   a given value i
//   replicate   aaaaaa|abcdefgh|hhhhhhh
//   reflect     fedcba|abcdefgh|hgfedcb
//   reflect101  gfedcb|abcdefgh|gfedcba
//   wrap        cdefgh|abcdefgh|abcdefg
//   default     morphology only: the outside never wins (the dtype's largest value for erode,
//               its lowest for dilate: OpenCV's default, finite for floats)
// The first five are cv::BORDER_CONSTANT, BORDER_REPLICATE, BORDER_REFLECT, BORDER_REFLECT_101
// (BORDER_DEFAULT) and BORDER_WRAP; scipy.ndimage calls replicate "nearest" and reflect101
// "mirror". Filters and corners reject Border::Default with foveal::ValueError.
#pragma once

#include <cstdint>

namespace foveal {

enum class Border { Constant, Replicate, Reflect, Reflect101, Wrap, Default };

// The index inside [0, n) that position p reads from, or -1 where the border is a constant
// (Constant and Default): cv::borderInterpolate. Reflections and wraps repeat periodically,
// so any p is valid, however far outside. n must be >= 1 (not checked). Pure, inline, no
// errors, safe from any thread.
inline std::int64_t border_index(std::int64_t p, std::int64_t n, Border border) {
  if (p >= 0 && p < n) return p;
  switch (border) {
    case Border::Replicate:
      return p < 0 ? 0 : n - 1;
    case Border::Wrap: {
      std::int64_t r = p % n;
      return r < 0 ? r + n : r;
    }
    case Border::Reflect:
    case Border::Reflect101: {
      if (n == 1) return 0;
      const bool edge_twice = border == Border::Reflect;
      const std::int64_t period = edge_twice ? 2 * n : 2 * n - 2;
      std::int64_t r = p % period;
      if (r < 0) r += period;
      if (r < n) return r;
      return edge_twice ? period - 1 - r : period - r;
    }
    case Border::Constant:
    case Border::Default:
      break;
  }
  return -1;
}

}  // namespace foveal

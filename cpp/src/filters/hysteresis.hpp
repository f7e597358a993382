// Canny's hysteresis on the classification map (0 no edge, 1 candidate, 2 edge).
#pragma once

#include <cstdint>

#include "foveal/image.hpp"

namespace foveal {
namespace detail {

// A rows x cols map of 0 / 1 / 2 inside a frame of zeros one pixel wide: `map` points at pixel
// (0, 0), `stride` bytes apart rows, and map[-stride - 1] .. map[rows * stride + cols] are
// readable (the frame is what lets every pixel read its 8 neighbours without a bounds check).
struct FramedMap {
  std::uint8_t* map;
  std::int64_t rows, cols, stride;
};

// Promotes every candidate 8-connected to an edge, then writes 255 for edges and 0 elsewhere
// into `dst` (uint8, the map's size). The frame stays 0.
void hysteresis(const FramedMap& m, const ImageView& dst);

}  // namespace detail
}  // namespace foveal

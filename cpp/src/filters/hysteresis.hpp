// Canny's hysteresis on the classification map (0 no edge, 1 candidate, 2 edge).
#pragma once

#include <cstdint>
#include <memory>

#include "foveal/image.hpp"

namespace foveal {
namespace detail {

// A rows x cols map of 0 / 1 / 2 inside a frame of zeros one pixel wide, which lets every
// pixel read its 8 neighbours without a bounds check: `map` points at pixel (0, 0), rows are
// `stride` bytes apart. Only the frame is cleared; whoever fills the map writes every pixel
// inside it (through view()).
class FramedMap {
 public:
  FramedMap(std::int64_t rows, std::int64_t cols);
  ImageView view() const { return ImageView{map, rows, cols, 1, stride, DType::u8}; }

  std::int64_t rows, cols, stride;
  std::unique_ptr<std::uint8_t[]> memory;
  std::uint8_t* map;
};

// Promotes every candidate 8-connected to an edge, then writes 255 for edges and 0 elsewhere
// into `dst` (uint8, the map's size). The frame stays 0.
void hysteresis(const FramedMap& m, const ImageView& dst);

}  // namespace detail
}  // namespace foveal

// What the morphology driver hands to the per-instruction-set kernels: plain data only, so that
// nothing with external linkage is compiled twice with different instruction sets.
#pragma once

#include <cstdint>

#include "foveal/image.hpp"

namespace foveal {
namespace detail {

// One horizontal run of the structuring element: row dy, columns dx .. dx + len - 1;
// lengths[length_index] == len.
struct MorphRun {
  int dy;
  int dx;
  int len;
  int length_index;
};

struct MorphPlan {
  bool dilate = true;
  bool rect = true;                // the SE is a full kh x kw rectangle: separable passes
  int kh = 1, kw = 1;              // SE size
  int ay = 0, ax = 0;              // anchor
  const MorphRun* runs = nullptr;  // non-rect SEs: every run, any order
  int n_runs = 0;
  const int* lengths = nullptr;  // the distinct run lengths: one horizontal window each
  int n_lengths = 0;
  // Source row (col) read at virtual row y (col x) is row_map[y + ay] (col_map[x + ax]), or the
  // border constant where the map holds -1. Rows span [-ay, rows + kh - 1 - ay).
  const std::int64_t* row_map = nullptr;
  const std::int64_t* col_map = nullptr;
  // The border constant, one value per channel, in the image's dtype.
  const void* border_pixel = nullptr;
};

}  // namespace detail
}  // namespace foveal

// Declares the kernels of one instruction-set namespace.
#define FOVEAL_DECLARE_MORPH_KERNELS(isa)                                                 \
  namespace foveal {                                                                      \
  namespace isa {                                                                         \
  void erode_dilate(const detail::MorphPlan& plan, const ConstImageView& src,             \
                    const ImageView& dst);                                                \
  /* dst = second(first(src)), band by band: the intermediate is never whole */           \
  void erode_dilate_pair(const detail::MorphPlan& first, const detail::MorphPlan& second, \
                         const ConstImageView& src, const ImageView& dst);                \
  /* dst = dilate(src) - erode(src) (saturating), band by band */                         \
  void gradient(const detail::MorphPlan& dilate, const detail::MorphPlan& erode,          \
                const ConstImageView& src, const ImageView& dst);                         \
  /* dst = a - b, saturating for integers (a, b, dst may alias elementwise) */            \
  void subtract(const ConstImageView& a, const ConstImageView& b, const ImageView& dst);  \
  }                                                                                       \
  }

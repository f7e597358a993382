// Mathematical morphology with OpenCV's semantics: erode, dilate, and the compositions
// open, close, gradient, top-hat and black-hat.
//
//   dilate: dst(y, x) = max over (i, j) in SE of src(y + i - anchor_y, x + j - anchor_x)
//   erode:  the same with min
//
// Structuring elements are 0/1 masks. Rectangles run in a constant number of comparisons per
// pixel whatever their size; any other shape is decomposed into horizontal runs.
#pragma once

#include <cstdint>
#include <vector>

#include "foveal/border.hpp"
#include "foveal/image.hpp"

namespace foveal {

enum class MorphShape { Rect, Ellipse, Cross };

enum class MorphOp { Erode, Dilate, Open, Close, Gradient, TopHat, BlackHat };

// A 0/1 mask of height x width, row-major.
struct StructuringElement {
  int height = 0;
  int width = 0;
  std::vector<std::uint8_t> mask;

  bool at(int y, int x) const { return mask[static_cast<std::size_t>(y) * width + x] != 0; }
  // Whether every element is set (the separable, constant-time case).
  bool is_full() const;
};

// cv2.getStructuringElement's shapes; anchor (-1 = centre) only places a cross's bar.
StructuringElement structuring_element(MorphShape shape, int height, int width, int anchor_y = -1,
                                       int anchor_x = -1);

struct MorphOptions {
  int anchor_y = -1;  // -1: the centre, height / 2
  int anchor_x = -1;
  int iterations = 1;
  Border border = Border::Default;
  // One value for all channels or one per channel; used with Border::Constant, saturated to
  // the image's dtype as OpenCV does.
  std::vector<double> border_value = {0.0};
  // Images of 1-byte values holding only 0 and 1 (NumPy's bool) take the values 0/1 here.
  bool binary = false;
};

// dst gets op applied to src; both have the same rows, cols, channels and dtype. src and dst
// may be the same image (the result is as if src were copied first).
void morphology(MorphOp op, const ConstImageView& src, const ImageView& dst,
                const StructuringElement& se, const MorphOptions& options = {});

inline void erode(const ConstImageView& src, const ImageView& dst, const StructuringElement& se,
                  const MorphOptions& options = {}) {
  morphology(MorphOp::Erode, src, dst, se, options);
}

inline void dilate(const ConstImageView& src, const ImageView& dst, const StructuringElement& se,
                   const MorphOptions& options = {}) {
  morphology(MorphOp::Dilate, src, dst, se, options);
}

}  // namespace foveal

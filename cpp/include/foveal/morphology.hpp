// Mathematical morphology with OpenCV's semantics: erode, dilate, and the compositions
// open, close, gradient, top-hat and black-hat (cv2.erode, cv2.dilate, cv2.morphologyEx,
// cv2.getStructuringElement).
//
//   dilate: dst(y, x) = max over (i, j) in SE of src(y + i - anchor_y, x + j - anchor_x)
//   erode:  the same with min
//   open = dilate(erode(src)), close = erode(dilate(src)), gradient = dilate(src) - erode(src),
//   tophat = src - open(src), blackhat = close(src) - src; the differences saturate for
//   integer dtypes (cv2.subtract).
//
// Images: any number of channels (each on its own) of uint8, uint16, int16, float32 or float64;
// the output has the source's shape and dtype. For floats, a NaN in a window gives NaN
// (numpy.maximum's rule). Structuring elements are 0/1 masks. Rectangles run in a constant
// number of comparisons per pixel whatever their size (van Herk / Gil-Werman); any other shape
// is decomposed into horizontal runs.
//
// Threads: the foveal pool, over bands of rows; a thread keeps one scratch image between calls
// (thread_local), so concurrent calls from several threads are safe.
#pragma once

#include <cstdint>
#include <vector>

#include "foveal/border.hpp"
#include "foveal/image.hpp"

namespace foveal {

// cv::MORPH_RECT, MORPH_ELLIPSE, MORPH_CROSS.
enum class MorphShape { Rect, Ellipse, Cross };

// cv::MORPH_ERODE ... MORPH_BLACKHAT.
enum class MorphOp { Erode, Dilate, Open, Close, Gradient, TopHat, BlackHat };

// A 0/1 mask of height x width, row-major: element (i, j) is mask[i * width + j]. Any mask
// with at least one set element is valid; it need not come from structuring_element.
struct StructuringElement {
  int height = 0;
  int width = 0;
  std::vector<std::uint8_t> mask;

  // Whether element (y, x) is set; no bounds check.
  bool at(int y, int x) const { return mask[static_cast<std::size_t>(y) * width + x] != 0; }
  // Whether every element is set (the separable, constant-time case).
  bool is_full() const;
};

// cv2.getStructuringElement(shape, (width, height), (anchor_x, anchor_y)): the same masks.
// The anchor (-1 = centre) only places a cross's bar; 1 x 1 is always a rectangle. Throws
// ValueError for a size < 1, more than 2^26 elements, or an anchor outside the mask.
StructuringElement structuring_element(MorphShape shape, int height, int width, int anchor_y = -1,
                                       int anchor_x = -1);

struct MorphOptions {
  int anchor_y = -1;  // -1: the centre, height / 2
  int anchor_x = -1;
  // erode / dilate applied this many times (open: all the erosions, then all the dilations,
  // as OpenCV); 0 copies the image.
  int iterations = 1;
  Border border = Border::Default;  // any Border; Wrap too, which OpenCV lacks here
  // One value for all channels or one per channel; used with Border::Constant, saturated to
  // the image's dtype as OpenCV does.
  std::vector<double> border_value = {0.0};
  // Images of 1-byte values holding only 0 and 1 (NumPy's bool) take the values 0/1 here.
  bool binary = false;
};

// dst gets op applied to src; both have the same rows, cols, channels and dtype. src and dst
// may be the same image or overlap (the result is as if src were copied first).
// Throws ValueError for an empty image, a dst of another shape, an empty or all-zero mask (or
// one whose size is not height x width), an anchor outside the mask, iterations < 0 or so many
// that a rectangle would grow past 2^24, or a border_value of neither 1 nor `channels` values;
// TypeError when dst's dtype differs from src's.
void morphology(MorphOp op, const ConstImageView& src, const ImageView& dst,
                const StructuringElement& se, const MorphOptions& options = {});

// morphology(MorphOp::Erode / Dilate, ...): cv2.erode / cv2.dilate.
inline void erode(const ConstImageView& src, const ImageView& dst, const StructuringElement& se,
                  const MorphOptions& options = {}) {
  morphology(MorphOp::Erode, src, dst, se, options);
}

inline void dilate(const ConstImageView& src, const ImageView& dst, const StructuringElement& se,
                   const MorphOptions& options = {}) {
  morphology(MorphOp::Dilate, src, dst, se, options);
}

}  // namespace foveal

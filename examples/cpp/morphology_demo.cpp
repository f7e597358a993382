// Morphology from C++: foveal::dilate on an 8-bit image (whole, and a window of it read in
// place through the row stride) against the definition written out as a loop, and the
// exception a bad argument raises.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "demos.hpp"
#include "foveal/foveal.hpp"

namespace example {
namespace {

// The definition: dst(y, x) = max of src(y + i - ay, x + j - ax) over the set elements (i, j)
// of the kernel, with the anchor (ay, ax) at the kernel's centre. Pixels outside the image
// never win (Border::Default) or repeat the nearest edge (Border::Replicate).
std::vector<std::uint8_t> dilate_loop(const std::uint8_t* src, int rows, int cols, int stride,
                                      const foveal::StructuringElement& se, foveal::Border border) {
  std::vector<std::uint8_t> dst(static_cast<std::size_t>(rows) * cols);
  const int ay = se.height / 2, ax = se.width / 2;
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      int best = 0;  // the smallest uint8: never beats a real pixel
      for (int i = 0; i < se.height; ++i) {
        for (int j = 0; j < se.width; ++j) {
          if (!se.at(i, j)) continue;
          int sy = y + i - ay, sx = x + j - ax;
          if (border == foveal::Border::Replicate) {
            sy = std::clamp(sy, 0, rows - 1);
            sx = std::clamp(sx, 0, cols - 1);
          } else if (sy < 0 || sy >= rows || sx < 0 || sx >= cols) {
            continue;
          }
          best = std::max(best, static_cast<int>(src[static_cast<std::size_t>(sy) * stride + sx]));
        }
      }
      dst[static_cast<std::size_t>(y) * cols + x] = static_cast<std::uint8_t>(best);
    }
  }
  return dst;
}

// foveal::dilate of the rows x cols image at `src` (rows `stride` bytes apart) against
// dilate_loop: uint8 in, uint8 out, so the two must agree exactly (tolerance 0).
int check(const char* what, const std::uint8_t* src, int rows, int cols, int stride,
          const foveal::StructuringElement& se, foveal::Border border) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(rows) * cols);
  // A view is rows of interleaved pixels: data, rows, cols, channels, row stride (bytes), dtype.
  const foveal::ConstImageView in{src, rows, cols, 1, stride, foveal::DType::u8};
  const foveal::ImageView dst{out.data(), rows, cols, 1, cols, foveal::DType::u8};
  foveal::MorphOptions options;
  options.border = border;
  foveal::dilate(in, dst, se, options);

  const std::vector<std::uint8_t> expected = dilate_loop(src, rows, cols, stride, se, border);
  MaxDiff diff;
  for (std::size_t k = 0; k < out.size(); ++k) diff.add(out[k], expected[k]);
  return report(what, diff.value, 0.0);
}

}  // namespace

int morphology_demo(const TestImage& image) {
  const std::uint8_t* pixels = image.pixels.data();
  const int rows = image.rows, cols = image.cols;
  const auto rect = foveal::structuring_element(foveal::MorphShape::Rect, 7, 5);
  const auto ellipse = foveal::structuring_element(foveal::MorphShape::Ellipse, 5, 5);
  const auto cross = foveal::structuring_element(foveal::MorphShape::Cross, 3, 3);
  int failed = 0;
  failed += check("dilate 7x5 rect", pixels, rows, cols, cols, rect, foveal::Border::Default);
  failed += check("dilate 5x5 ellipse", pixels, rows, cols, cols, ellipse, foveal::Border::Default);
  failed += check("dilate 3x3 cross, replicate border", pixels, rows, cols, cols, cross,
                  foveal::Border::Replicate);
  // A 50x70 window from (20, 30), read in place: its rows are still `cols` bytes apart.
  failed += check("dilate 7x5 rect on a 50x70 window", pixels + 20 * cols + 30, 50, 70, cols, rect,
                  foveal::Border::Default);

  // Bad arguments throw foveal::ValueError / foveal::TypeError (both are foveal::Error).
  try {
    std::vector<std::uint8_t> out(image.pixels.size());
    foveal::MorphOptions options;
    options.anchor_y = 9;  // outside a 7-row kernel
    foveal::dilate(foveal::ConstImageView{pixels, rows, cols, 1, cols, foveal::DType::u8},
                   foveal::ImageView{out.data(), rows, cols, 1, cols, foveal::DType::u8}, rect,
                   options);
    std::printf("  bad anchor: no error raised\n");
    ++failed;
  } catch (const foveal::ValueError& e) {
    std::printf("  bad anchor raised foveal::ValueError: %s\n", e.what());
  }
  return failed;
}

}  // namespace example

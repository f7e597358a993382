// A C++ consumer of foveal::core: dilate an 8-bit image, check it against a plain loop, and
// show how argument errors are reported. Build it with examples/cpp/CMakeLists.txt
// (find_package(foveal) + foveal::core); examples/cpp/run.sh does everything from scratch.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "foveal/foveal.hpp"

namespace {

// The definition, written out: dst(y, x) = max of src(y + i - ay, x + j - ax) over the set
// elements (i, j) of the kernel, with the anchor (ay, ax) at the kernel's centre. Pixels
// outside the image never win (Border::Default) or repeat the nearest edge (Border::Replicate).
std::vector<std::uint8_t> dilate_loop(const std::vector<std::uint8_t>& src, int rows, int cols,
                                      int stride, const foveal::StructuringElement& se,
                                      foveal::Border border) {
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

// Runs foveal::dilate on a rows x cols window of `src` (rows `stride` bytes apart) and compares
// it with dilate_loop; returns the number of differing pixels.
long check(const char* what, const std::vector<std::uint8_t>& src, int rows, int cols, int stride,
           const foveal::StructuringElement& se, foveal::Border border) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(rows) * cols);
  // A view is rows of interleaved pixels: data, rows, cols, channels, row stride (bytes), dtype.
  const foveal::ConstImageView in{src.data(), rows, cols, 1, stride, foveal::DType::u8};
  const foveal::ImageView dst{out.data(), rows, cols, 1, cols, foveal::DType::u8};
  foveal::MorphOptions options;
  options.border = border;
  foveal::dilate(in, dst, se, options);

  const std::vector<std::uint8_t> expected = dilate_loop(src, rows, cols, stride, se, border);
  long bad = 0;
  for (std::size_t k = 0; k < out.size(); ++k) bad += out[k] != expected[k];
  std::printf("  %-40s %s\n", what, bad == 0 ? "ok" : "MISMATCH");
  if (bad != 0) std::printf("    %ld of %zu pixels differ\n", bad, out.size());
  return bad;
}

}  // namespace

int main() {
  // A deterministic 8-bit test image: a gradient, a bright square, a few specks and some noise.
  const int rows = 120, cols = 160;
  std::vector<std::uint8_t> image(static_cast<std::size_t>(rows) * cols);
  std::uint32_t state = 12345u;
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      state = state * 1664525u + 1013904223u;  // a small LCG: the same image everywhere
      int v = (x + y) / 2 + static_cast<int>(state >> 28);
      if (y >= 40 && y < 70 && x >= 60 && x < 100) v = 220;
      if ((x * 7 + y * 13) % 97 == 0) v = 255;
      image[static_cast<std::size_t>(y) * cols + x] = static_cast<std::uint8_t>(std::min(v, 255));
    }
  }

  std::printf("foveal %s, isa %s, %d threads\n", foveal::version(),
              foveal::isa_name(foveal::active_isa()), foveal::get_num_threads());

  long bad = 0;
  const auto rect = foveal::structuring_element(foveal::MorphShape::Rect, 7, 5);
  const auto ellipse = foveal::structuring_element(foveal::MorphShape::Ellipse, 5, 5);
  const auto cross = foveal::structuring_element(foveal::MorphShape::Cross, 3, 3);
  bad += check("dilate 7x5 rect", image, rows, cols, cols, rect, foveal::Border::Default);
  bad += check("dilate 5x5 ellipse", image, rows, cols, cols, ellipse, foveal::Border::Default);
  bad += check("dilate 3x3 cross, replicate border", image, rows, cols, cols, cross,
               foveal::Border::Replicate);
  // A 50x70 window inside the image: same data, rows still `cols` bytes apart.
  const std::vector<std::uint8_t> window(image.begin() + 20 * cols + 30, image.end());
  bad += check("dilate 7x5 rect on a 50x70 window", window, 50, 70, cols, rect,
               foveal::Border::Default);

  // Bad arguments throw foveal::ValueError / foveal::TypeError (both are foveal::Error).
  try {
    std::vector<std::uint8_t> out(image.size());
    foveal::MorphOptions options;
    options.anchor_y = 9;  // outside a 7-row kernel
    foveal::dilate(foveal::ConstImageView{image.data(), rows, cols, 1, cols, foveal::DType::u8},
                   foveal::ImageView{out.data(), rows, cols, 1, cols, foveal::DType::u8}, rect,
                   options);
    std::printf("  bad anchor: no error raised\n");
    ++bad;
  } catch (const foveal::ValueError& e) {
    std::printf("  bad anchor raised foveal::ValueError: %s\n", e.what());
  }

  std::printf("%s: %s\n", foveal::isa_name(foveal::active_isa()), bad == 0 ? "ok" : "FAILED");
  return bad == 0 ? 0 : 1;
}

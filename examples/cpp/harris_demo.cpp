// Harris corners from C++: foveal::harris (cv2.cornerHarris's numbers) against the
// computation written out as loops in double, on an 8-bit image and on a float64 one.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "demos.hpp"
#include "foveal/foveal.hpp"

namespace example {
namespace {

// The source index that position p reads: Border::Replicate repeats the edge pixel,
// Border::Reflect101 mirrors about it (gfedcb|abcdefgh|gfedcba).
int border_at(int p, int n, foveal::Border border) {
  if (border == foveal::Border::Replicate) return std::clamp(p, 0, n - 1);
  if (n == 1) return 0;
  while (p < 0 || p >= n) p = p < 0 ? -p : 2 * (n - 1) - p;
  return p;
}

struct Expected {
  std::vector<double> response;  // rows x cols
  double scale = 0;              // the largest (a + c)^2: the size of the terms cancelling
};

// cv2.cornerHarris(src, block, 3, k, border), written out in double:
//   gx, gy   3x3 Sobel derivatives (gx: [-1 0 1] across times [1 2 1] down; gy: the
//            transpose), the border applied to the source; both scaled by 1 / (4 * block),
//            as OpenCV scales them (1 / (2^(ksize - 1) * block)), and by 1/255 more for 8-bit
//            sources
//   a, b, c  sums of gx^2, gx gy, gy^2 over the block x block window whose anchor
//            (block / 2, block / 2) sits on the pixel, the border applied to the products
//   R        a c - b^2 - k (a + c)^2
template <typename T>
Expected harris_loop(const std::vector<T>& src, int rows, int cols, int block, double k,
                     foveal::Border border, bool eight_bit) {
  const double scale = 1.0 / (4.0 * block * (eight_bit ? 255.0 : 1.0));
  auto at = [&](int y, int x) {
    return static_cast<double>(src[static_cast<std::size_t>(border_at(y, rows, border)) * cols +
                                   border_at(x, cols, border)]);
  };
  const std::size_t n = static_cast<std::size_t>(rows) * cols;
  std::vector<double> xx(n), xy(n), yy(n);
  const double smooth[3] = {1, 2, 1}, deriv[3] = {-1, 0, 1};
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      double gx = 0, gy = 0;
      for (int i = -1; i <= 1; ++i) {
        for (int j = -1; j <= 1; ++j) {
          gx += smooth[i + 1] * deriv[j + 1] * at(y + i, x + j);
          gy += deriv[i + 1] * smooth[j + 1] * at(y + i, x + j);
        }
      }
      gx *= scale;
      gy *= scale;
      const std::size_t p = static_cast<std::size_t>(y) * cols + x;
      xx[p] = gx * gx, xy[p] = gx * gy, yy[p] = gy * gy;
    }
  }
  Expected e;
  e.response.resize(n);
  const int anchor = block / 2;
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      double a = 0, b = 0, c = 0;
      for (int i = 0; i < block; ++i) {
        for (int j = 0; j < block; ++j) {
          const std::size_t p =
              static_cast<std::size_t>(border_at(y + i - anchor, rows, border)) * cols +
              border_at(x + j - anchor, cols, border);
          a += xx[p], b += xy[p], c += yy[p];
        }
      }
      e.response[static_cast<std::size_t>(y) * cols + x] = a * c - b * b - k * (a + c) * (a + c);
      e.scale = std::max(e.scale, (a + c) * (a + c));
    }
  }
  return e;
}

// foveal::harris (ksize 3) of a one-channel image of T against harris_loop. The response is
// float32 (float64 for float64 sources), computed in that precision: a c - b^2 cancels, so
// the tolerance is relative to the largest (a + c)^2 rather than to each response.
template <typename T, typename Out>
int check(const char* what, const std::vector<T>& src, int rows, int cols, foveal::DType dtype,
          foveal::DType out_dtype, int block, double k, foveal::Border border,
          double relative_tolerance) {
  std::vector<Out> out(src.size());
  const foveal::ConstImageView in{
      src.data(), rows, cols, 1, static_cast<std::int64_t>(cols * sizeof(T)), dtype};
  const foveal::ImageView dst{
      out.data(), rows, cols, 1, static_cast<std::int64_t>(cols * sizeof(Out)), out_dtype};
  foveal::harris(in, dst, block, /*ksize=*/3, k, border);

  const Expected e = harris_loop(src, rows, cols, block, k, border, dtype == foveal::DType::u8);
  MaxDiff diff;
  for (std::size_t p = 0; p < out.size(); ++p) diff.add(out[p], e.response[p]);
  return report(what, diff.value, relative_tolerance * e.scale);
}

}  // namespace

int harris_demo(const TestImage& image) {
  const int rows = image.rows, cols = image.cols;
  int failed = 0;
  // 8-bit in, float32 out; cv2.cornerHarris's defaults in foveal: block 2, k 0.04.
  failed += check<std::uint8_t, float>("harris uint8 -> float32, block 2, reflect101", image.pixels,
                                       rows, cols, foveal::DType::u8, foveal::DType::f32, 2, 0.04,
                                       foveal::Border::Reflect101, 1e-6);
  // float64 in and out: the same image plus a fraction, no 1/255 in the scale.
  std::vector<double> wide(image.pixels.size());
  Random random(7u);
  for (std::size_t p = 0; p < wide.size(); ++p) wide[p] = image.pixels[p] + random.uniform(0, 1);
  failed += check<double, double>("harris float64 -> float64, block 3, replicate", wide, rows, cols,
                                  foveal::DType::f64, foveal::DType::f64, 3, 0.05,
                                  foveal::Border::Replicate, 1e-14);
  return failed;
}

}  // namespace example

// cv2.goodFeaturesToTrack's selection from a response (foveal/corners.hpp): one pass over the
// response for the thresholded 3x3 local maxima, then the greedy walk over them strongest
// first, taken from a heap (the walk usually stops after a few thousand of them, so most are
// never ordered), each checked against the corners kept in its 3x3 cells of a grid.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bytes.hpp"
#include "filter_plan.hpp"
#include "foveal/corners.hpp"
#include "foveal/error.hpp"

namespace foveal {
namespace {

using i64 = std::int64_t;
using detail::load8;

template <typename T>
std::vector<std::pair<T, i64>> candidates(const ConstImageView& r, T threshold,
                                          const ConstImageView* mask) {
  const i64 H = r.rows, W = r.cols;
  std::vector<std::pair<T, i64>> found;
  if (H < 3 || W < 3) return found;  // no pixel off the outermost rows and columns
  // Each row's candidates as one byte per pixel (the active instruction set's kernel: the
  // thresholded values' 3x3 maxima), then the nonzero bytes eight at a time.
  std::vector<T> colmax(static_cast<std::size_t>(W));
  std::vector<std::uint8_t> hit(static_cast<std::size_t>(W + 8), 0);
  for (i64 y = 1; y + 1 < H; ++y) {
    const T* mid = r.row<const T>(y);
    detail::corner_maxima_row(r.row<const T>(y - 1), mid, r.row<const T>(y + 1),
                              sizeof(T) == sizeof(double), static_cast<double>(threshold), W,
                              colmax.data(), hit.data());
    const std::uint8_t* h = hit.data();
    const std::uint8_t* m = mask ? mask->row<const std::uint8_t>(y) : nullptr;
    for (i64 x = 1; x + 1 < W; x += 8) {
      if (load8(h + x) == 0) continue;
      for (i64 j = x; j < x + 8 && j + 1 < W; ++j)
        if (h[j] && (!m || m[j] != 0)) found.emplace_back(mid[j], y * W + j);
    }
  }
  return found;
}

// The greedy walk: a candidate is kept unless a kept corner lies at squared distance below
// min_distance^2. Kept corners are filed in a grid of round(min_distance)-pixel cells; one
// closer than min_distance is at most floor(min_distance) <= round(min_distance) pixels away
// along each axis (positions are integers), so in the 3x3 cells around the candidate's.
template <typename T>
std::vector<i64> walk(std::vector<std::pair<T, i64>> heap, i64 W, i64 H, i64 max_corners,
                      double min_distance) {
  const std::size_t limit = max_corners > 0 ? static_cast<std::size_t>(max_corners) : heap.size();
  // Largest value first, then largest position (cv2 breaks ties by address, descending).
  std::make_heap(heap.begin(), heap.end());
  auto next = [&heap]() {
    std::pop_heap(heap.begin(), heap.end());
    const i64 p = heap.back().second;
    heap.pop_back();
    return p;
  };
  std::vector<i64> kept;
  if (min_distance < 1) {
    while (kept.size() < limit && !heap.empty()) kept.push_back(next());
    return kept;
  }
  const i64 cell = static_cast<i64>(std::nearbyint(min_distance));  // half to even, as np.rint
  const i64 gw = (W + cell - 1) / cell, gh = (H + cell - 1) / cell;
  const double md2 = min_distance * min_distance;
  std::unordered_map<i64, std::vector<i64>> grid;  // cell -> kept positions
  while (kept.size() < limit && !heap.empty()) {
    const i64 p = next(), y = p / W, x = p % W, cx = x / cell, cy = y / cell;
    bool good = true;
    for (i64 yy = std::max<i64>(cy - 1, 0); good && yy <= std::min(cy + 1, gh - 1); ++yy) {
      for (i64 xx = std::max<i64>(cx - 1, 0); good && xx <= std::min(cx + 1, gw - 1); ++xx) {
        const auto it = grid.find(yy * gw + xx);
        if (it == grid.end()) continue;
        for (const i64 q : it->second) {
          const i64 dx = x - q % W, dy = y - q / W;
          double d = static_cast<double>(dx * dx + dy * dy);
          if (d >= 16777216.0)  // cv2 sums the squares in float32: exact below 2^24
            d = static_cast<double>(static_cast<float>(dx * dx) + static_cast<float>(dy * dy));
          if (d < md2) {
            good = false;
            break;
          }
        }
      }
    }
    if (!good) continue;
    grid[cy * gw + cx].push_back(p);
    kept.push_back(p);
  }
  return kept;
}

}  // namespace

std::vector<i64> good_features(const ConstImageView& response, double threshold,
                               const ConstImageView* mask, i64 max_corners, double min_distance) {
  const char* fn = "corners";
  if (response.channels != 1)
    throw ValueError(std::string(fn) + ": response must have one channel, got " +
                     std::to_string(response.channels));
  if (mask && (mask->dtype != DType::u8 || mask->channels != 1 || mask->rows != response.rows ||
               mask->cols != response.cols))
    throw ValueError(std::string(fn) + ": mask must be uint8 of the response's size");
  if (!(min_distance >= 0) || !std::isfinite(min_distance))
    throw ValueError(std::string(fn) + ": min_distance must be finite and >= 0");
  const i64 W = response.cols, H = response.rows;
  if (response.dtype == DType::f32)
    return walk(candidates<float>(response, static_cast<float>(threshold), mask), W, H, max_corners,
                min_distance);
  if (response.dtype == DType::f64)
    return walk(candidates<double>(response, threshold, mask), W, H, max_corners, min_distance);
  throw TypeError(std::string(fn) + ": response dtype " + dtype_name(response.dtype) +
                  " is not supported (float32, float64)");
}

}  // namespace foveal

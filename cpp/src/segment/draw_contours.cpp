// Drawing closed polygons (contours) into an image, as cv2.drawContours does: edges as
// 8-connected lines, wider edges as the sweep of a disc along them, and filling by the even-odd
// rule over all the polygons at once, edges included, so that the contours of a binary image
// filled together give the image back.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "foveal/error.hpp"
#include "foveal/segment.hpp"

namespace foveal {
namespace {

template <typename T>
class Canvas {
 public:
  Canvas(ImageView image, const double* color) : image_(image) {
    for (int c = 0; c < image.channels; ++c) color_[c] = static_cast<T>(color[c]);
  }

  void plot(std::int64_t x, std::int64_t y) {
    if (x < 0 || y < 0 || x >= image_.cols || y >= image_.rows) return;
    T* p = image_.row<T>(y) + x * image_.channels;
    for (int c = 0; c < image_.channels; ++c) p[c] = color_[c];
  }

  std::int64_t rows() const { return image_.rows; }

  // Pixels x0..x1 of row y, clipped.
  void span(std::int64_t x0, std::int64_t x1, std::int64_t y) {
    if (y < 0 || y >= image_.rows) return;
    x0 = std::max<std::int64_t>(x0, 0);
    x1 = std::min<std::int64_t>(x1, image_.cols - 1);
    if (x0 > x1) return;  // wholly left or right of the image: no pointer past the row
    T* p = image_.row<T>(y) + x0 * image_.channels;
    for (std::int64_t x = x0; x <= x1; ++x, p += image_.channels)
      for (int c = 0; c < image_.channels; ++c) p[c] = color_[c];
  }

 private:
  ImageView image_;
  T color_[4] = {};
};

// The pixels of a disc around a point, as the half-width of each of its rows: radius
// (thickness + 1) / 2 in whole pixels (OpenCV's rounding: thickness 2 and 3 reach one and two
// pixels out), the rows within that distance.
// Each half-width is the integer square root of r^2 - dy^2 (one sqrt, corrected by a step),
// so that the widest disc (thickness 32767) costs O(r), not O(r^2).
std::vector<std::int32_t> disc_half_widths(int thickness) {
  const std::int64_t r = (thickness + 1) / 2;
  std::vector<std::int32_t> half(static_cast<std::size_t>(2 * r + 1));
  for (std::int64_t dy = -r; dy <= r; ++dy) {
    const std::int64_t rest = r * r - dy * dy;
    auto h = static_cast<std::int64_t>(std::sqrt(static_cast<double>(rest)));
    while (h * h > rest) --h;
    while ((h + 1) * (h + 1) <= rest) ++h;
    half[static_cast<std::size_t>(dy + r)] = static_cast<std::int32_t>(h);
  }
  return half;
}

template <typename T>
class Painter {
 public:
  Painter(ImageView image, const double* color, int thickness)
      : canvas_(image, color),
        disc_(thickness > 1 ? disc_half_widths(thickness) : std::vector<std::int32_t>{}) {}

  // An 8-connected line from (x0, y0) to (x1, y1), both ends included: one pixel per step
  // along the longer axis, the other coordinate rounded to the nearest, halves toward the end
  // with the smaller x (OpenCV walks its lines from there). Steps outside the image (and the
  // disc's reach) are skipped, not walked. Coordinates are within +-2**20, so the products
  // below stay far inside 64 bits.
  void line(std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1, std::int64_t rows,
            std::int64_t cols) {
    if (x1 < x0) std::swap(x0, x1), std::swap(y0, y1);
    const std::int64_t dx = std::abs(x1 - x0), dy = std::abs(y1 - y0);
    const bool x_major = dx >= dy;
    const std::int64_t n = x_major ? dx : dy, m = x_major ? dy : dx;
    const std::int64_t a0 = x_major ? x0 : y0, b0 = x_major ? y0 : x0;
    const std::int64_t sa = (x_major ? x1 >= x0 : y1 >= y0) ? 1 : -1;
    const std::int64_t sb = (x_major ? y1 >= y0 : x1 >= x0) ? 1 : -1;
    const auto reach = static_cast<std::int64_t>(disc_.size() / 2);
    const std::int64_t lo = -reach, hi = (x_major ? cols : rows) - 1 + reach;
    const std::int64_t i_from = std::max<std::int64_t>(0, sa > 0 ? lo - a0 : a0 - hi);
    const std::int64_t i_to = std::min(n, sa > 0 ? hi - a0 : a0 - lo);
    for (std::int64_t i = i_from; i <= i_to; ++i) {
      const std::int64_t a = a0 + sa * i;
      const std::int64_t b = b0 + sb * (n == 0 ? 0 : (2 * m * i + n - 1) / (2 * n));
      if (x_major)
        dot(a, b);
      else
        dot(b, a);
    }
  }

  Canvas<T>& canvas() { return canvas_; }

 private:
  // The disc's rows that fall on the image only: a wide disc near a small image costs that
  // image's rows, not the disc's.
  void dot(std::int64_t x, std::int64_t y) {
    if (disc_.empty()) return canvas_.plot(x, y);
    const auto reach = static_cast<std::int64_t>(disc_.size() / 2);
    const std::int64_t dy_from = std::max(-reach, -y);
    const std::int64_t dy_to = std::min(reach, canvas_.rows() - 1 - y);
    for (std::int64_t dy = dy_from; dy <= dy_to; ++dy) {
      const std::int64_t h = disc_[dy + reach];
      canvas_.span(x - h, x + h, y + dy);
    }
  }

  Canvas<T> canvas_;
  std::vector<std::int32_t> disc_;
};

struct Edge {
  std::int64_t y_top, y_end;   // rows y_top <= y < y_end cross it
  std::int64_t x_top, dx, dy;  // x = x_top + (y - y_top) * dx / dy on row y
};

// Even-odd filling of every polygon together: on each row, the spans between the first and
// second crossing, the third and fourth, and so on (rows through a vertex count the edge
// below it, never the one above, so a vertex is crossed once or twice as it should).
template <typename T>
void fill(Painter<T>& painter, const std::int32_t* xy, const std::int64_t* starts,
          std::int64_t count, std::int64_t rows) {
  std::vector<Edge> edges;
  for (std::int64_t c = 0; c < count; ++c) {
    const std::int64_t n = starts[c + 1] - starts[c];
    const std::int32_t* p = xy + 2 * starts[c];
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t j = i + 1 == n ? 0 : i + 1;
      std::int64_t xa = p[2 * i], ya = p[2 * i + 1], xb = p[2 * j], yb = p[2 * j + 1];
      if (ya == yb) continue;
      if (ya > yb) std::swap(xa, xb), std::swap(ya, yb);
      edges.push_back({ya, yb, xa, xb - xa, yb - ya});
    }
  }
  std::sort(edges.begin(), edges.end(),
            [](const Edge& a, const Edge& b) { return a.y_top < b.y_top; });
  // The edges crossing the row, ordered by where: kept from row to row, where their order
  // barely changes, and re-sorted by insertion. Doubles order the crossings faithfully: two
  // crossings (fractions with denominators below 2**21 and values within 2**20) that round to
  // the same double cannot have an integer between them, so their order moves no pixel; the
  // span ends themselves are exact.
  struct Crossing {
    const Edge* edge;
    std::int64_t numerator;  // x = numerator / edge->dy
    double x;
  };
  std::vector<Crossing> active;
  std::size_t next = 0;
  std::int64_t y = edges.empty() ? 0 : std::max<std::int64_t>(edges.front().y_top, 0);
  for (; y < rows && (next < edges.size() || !active.empty()); ++y) {
    active.erase(std::remove_if(active.begin(), active.end(),
                                [y](const Crossing& c) { return c.edge->y_end <= y; }),
                 active.end());
    for (; next < edges.size() && edges[next].y_top <= y; ++next)
      if (edges[next].y_end > y) active.push_back({&edges[next], 0, 0.0});
    for (Crossing& c : active) {
      const Edge& e = *c.edge;
      c.numerator = e.x_top * e.dy + (y - e.y_top) * e.dx;
      c.x = static_cast<double>(c.numerator) / static_cast<double>(e.dy);
    }
    for (std::size_t i = 1; i < active.size(); ++i) {
      const Crossing c = active[i];
      std::size_t j = i;
      for (; j > 0 && active[j - 1].x > c.x; --j) active[j] = active[j - 1];
      active[j] = c;
    }
    for (std::size_t k = 0; k + 1 < active.size(); k += 2) {
      const std::int64_t na = active[k].numerator, da = active[k].edge->dy;
      const std::int64_t nb = active[k + 1].numerator, db = active[k + 1].edge->dy;
      // ceil(na / da) .. floor(nb / db)
      const std::int64_t x0 = na >= 0 ? (na + da - 1) / da : -((-na) / da);
      const std::int64_t x1 = nb >= 0 ? nb / db : -((-nb + db - 1) / db);
      if (x0 <= x1) painter.canvas().span(x0, x1, y);
    }
  }
}

template <typename T>
void draw(ImageView image, const std::int32_t* xy, const std::int64_t* starts, std::int64_t count,
          const double* color, int thickness) {
  Painter<T> painter(image, color, thickness);
  if (thickness < 0) fill(painter, xy, starts, count, image.rows);
  for (std::int64_t c = 0; c < count; ++c) {
    const std::int64_t n = starts[c + 1] - starts[c];
    const std::int32_t* p = xy + 2 * starts[c];
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t j = i + 1 == n ? 0 : i + 1;
      painter.line(p[2 * i], p[2 * i + 1], p[2 * j], p[2 * j + 1], image.rows, image.cols);
    }
  }
}

}  // namespace

void draw_polygons(ImageView image, const std::int32_t* xy, const std::int64_t* starts,
                   std::int64_t count, const double* color, int thickness) {
  if (image.channels < 1 || image.channels > 4)
    throw ValueError("draw_contours: image must have 1 to 4 channels, got " +
                     std::to_string(image.channels));
  if (thickness == 0 || thickness < -1 || thickness > 32767)
    throw ValueError("draw_contours: thickness must be -1 (fill) or 1..32767, got " +
                     std::to_string(thickness));
  switch (image.dtype) {
    case DType::u8:
      return draw<std::uint8_t>(image, xy, starts, count, color, thickness);
    case DType::u16:
      return draw<std::uint16_t>(image, xy, starts, count, color, thickness);
    case DType::s16:
      return draw<std::int16_t>(image, xy, starts, count, color, thickness);
    case DType::f32:
      return draw<float>(image, xy, starts, count, color, thickness);
    case DType::f64:
      return draw<double>(image, xy, starts, count, color, thickness);
  }
}

}  // namespace foveal

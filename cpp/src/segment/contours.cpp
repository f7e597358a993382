// Contours by Suzuki-Abe border following (Suzuki and Abe, "Topological structural analysis of
// digitized binary images by border following", 1985), with OpenCV's conventions so that the
// points, their order and the hierarchy are cv2.findContours's:
// - the image is framed by one pixel of background, so regions on the image's edge are whole;
// - chain-code directions 0..7 are E, NE, N, NW, W, SW, S, SE (y down); an outer border is
//   followed down its left side first, a hole border up its left side first;
// - the last marked border pixel left of the scan (LNBD) is remembered by position and read
//   when a border starts, and each border is put first among its parent's children, the
//   contours then listed depth first.
// Marks live in a byte per pixel (0 background, 1 unvisited, +2 / -2 Suzuki's NBD / -NBD);
// which border marked a pixel is kept beside it, only where the mode needs parents.
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "foveal/error.hpp"
#include "foveal/segment.hpp"

namespace foveal {
namespace {

constexpr std::int8_t kUnvisited = 1;
constexpr std::int8_t kMarked = 2;        // a border pixel (Suzuki's NBD)
constexpr std::int8_t kMarkedRight = -2;  // one whose east neighbour is outside it (-NBD)
constexpr std::int32_t kFrame = -1;

struct Border {
  bool hole;
  std::int32_t parent;
  std::int32_t first_child = -1, next_sibling = -1;
  std::int64_t start = 0, count = 0;  // its points in the follower's point list
};

std::uint64_t load_word(const std::int8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

class BorderFollower {
 public:
  BorderFollower(ConstImageView binary, ContourMode mode, ContourMethod method,
                 std::int32_t offset_x, std::int32_t offset_y)
      : mode_(mode),
        method_(method),
        rows_(binary.rows),
        cols_(binary.cols),
        width_(binary.cols + 2),
        offset_x_(offset_x - 1),
        offset_y_(offset_y - 1),
        marks_(static_cast<std::size_t>((rows_ + 2) * width_)) {
    if (mode == ContourMode::tree || mode == ContourMode::ccomp)
      owner_.reset(new std::int32_t[marks_.size()]);  // read only where a mark was written
    std::int8_t* f = marks_.data();
    std::memset(f, 0, static_cast<std::size_t>(width_));
    std::memset(f + (rows_ + 1) * width_, 0, static_cast<std::size_t>(width_));
    for (std::int64_t y = 0; y < rows_; ++y) {
      const auto* src = binary.row<const std::uint8_t>(y);
      std::int8_t* dst = f + (y + 1) * width_;
      dst[0] = 0;
      for (std::int64_t x = 0; x < cols_; ++x) dst[x + 1] = src[x] != 0;
      dst[cols_ + 1] = 0;
    }
    const std::int64_t w = width_;
    const std::int64_t steps[8] = {1, 1 - w, -w, -1 - w, -1, w - 1, w, w + 1};
    for (int s = 0; s < 16; ++s) step_[s] = steps[s & 7];
  }

  void scan() {
    std::int8_t* f = marks_.data();
    for (std::int64_t y = 1; y <= rows_; ++y) {
      const std::int64_t row = y * width_;
      std::int64_t last_marked = row;  // the frame, at column 0
      std::int8_t prev = 0;
      std::int64_t x = 1;
      while (x < width_) {
        if (f[row + x] == prev) {
          const std::uint64_t same = 0x0101010101010101ull * static_cast<std::uint8_t>(prev);
          while (x + 8 <= width_ && load_word(f + row + x) == same) x += 8;
          while (x < width_ && f[row + x] == prev) ++x;
          if (x == width_) break;
        }
        // A change of value between x - 1 and x.
        if (prev != 0 && prev != kUnvisited) last_marked = row + x - 1;
        const std::int8_t p = f[row + x];
        if (prev == 0 && p == kUnvisited) {
          if (mode_ != ContourMode::external || f[last_marked] <= 0) {
            start_border(row + x, false, last_marked);
            last_marked = row + x;
          }
        } else if (p == 0 && (prev == kUnvisited || prev == kMarked) &&
                   mode_ != ContourMode::external) {
          start_border(row + x - 1, true, last_marked);
          last_marked = row + x - 1;
        }
        prev = f[row + x];
        ++x;
      }
    }
  }

  Contours result() const {
    Contours out;
    // Depth first from the frame's children: a border, its children, then its next sibling.
    std::vector<std::int32_t> order;
    order.reserve(borders_.size());
    std::vector<std::int32_t> stack;
    if (frame_first_child_ >= 0) stack.push_back(frame_first_child_);
    while (!stack.empty()) {
      const std::int32_t b = stack.back();
      stack.pop_back();
      order.push_back(b);
      if (borders_[b].next_sibling >= 0) stack.push_back(borders_[b].next_sibling);
      if (borders_[b].first_child >= 0) stack.push_back(borders_[b].first_child);
    }
    std::vector<std::int32_t> position(borders_.size(), -1);
    for (std::size_t i = 0; i < order.size(); ++i)
      position[order[i]] = static_cast<std::int32_t>(i);
    auto at = [&](std::int32_t b) { return b < 0 ? -1 : position[b]; };

    out.xy.resize(xy_.size());
    out.starts.resize(order.size() + 1);
    out.hierarchy.assign(order.size(), {-1, -1, -1, -1});
    std::int64_t n = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
      const Border& b = borders_[order[i]];
      std::memcpy(out.xy.data() + 2 * n, xy_.data() + 2 * b.start,
                  static_cast<std::size_t>(b.count) * 2 * sizeof(std::int32_t));
      n += b.count;
      out.starts[i + 1] = n;
      auto& h = out.hierarchy[i];
      h[0] = at(b.next_sibling);
      h[2] = at(b.first_child);
      h[3] = at(b.parent);
      if (h[0] >= 0) out.hierarchy[h[0]][1] = static_cast<std::int32_t>(i);
    }
    return out;
  }

 private:
  // The parent of a new border from the border that marked the LNBD pixel (Suzuki's table 1):
  // a border of the same kind shares its parent, one of the other kind is the parent.
  std::int32_t parent_of(bool hole, std::int64_t last_marked) const {
    if (mode_ == ContourMode::list || mode_ == ContourMode::external) return kFrame;
    if (mode_ == ContourMode::ccomp && !hole) return kFrame;
    if (last_marked % width_ == 0) return kFrame;  // the frame, a hole border
    const std::int32_t near = owner_[last_marked];
    return borders_[near].hole == hole ? borders_[near].parent : near;
  }

  void start_border(std::int64_t i0, bool hole, std::int64_t last_marked) {
    const std::int32_t parent = parent_of(hole, last_marked);
    const auto id = static_cast<std::int32_t>(borders_.size());
    if (id == std::numeric_limits<std::int32_t>::max())
      throw ValueError("find_contours: too many contours");
    Border b;
    b.hole = hole;
    b.parent = parent;
    b.start = static_cast<std::int64_t>(xy_.size() / 2);
    // Put it first among its parent's children.
    std::int32_t& first = parent == kFrame ? frame_first_child_ : borders_[parent].first_child;
    b.next_sibling = first;
    first = id;
    borders_.push_back(b);
    if (owner_)
      follow<true>(i0, hole, id);
    else
      follow<false>(i0, hole, id);
    borders_[id].count = static_cast<std::int64_t>(xy_.size() / 2) - borders_[id].start;
  }

  template <bool kOwners>
  void mark(std::int64_t i, std::int8_t value, std::int32_t id) {
    marks_[i] = value;
    if (kOwners) owner_[i] = id;
  }

  void emit(std::int64_t x, std::int64_t y) {
    xy_.push_back(static_cast<std::int32_t>(x + offset_x_));
    xy_.push_back(static_cast<std::int32_t>(y + offset_y_));
  }

  template <bool kOwners>
  void follow(std::int64_t i0, bool hole, std::int32_t id) {
    static constexpr int kDx[8] = {1, 1, 0, -1, -1, -1, 0, 1};
    static constexpr int kDy[8] = {0, -1, -1, -1, 0, 1, 1, 1};
    const std::int8_t* f = marks_.data();
    std::int64_t x = i0 % width_, y = i0 / width_;
    // The first neighbour clockwise from the background pixel that started the border.
    const int s_first = hole ? 0 : 4;
    int s = s_first;
    std::int64_t i1;
    do {
      s = (s - 1) & 7;
      i1 = i0 + step_[s];
    } while (f[i1] == 0 && s != s_first);
    if (f[i1] == 0) {  // a lone pixel
      mark<kOwners>(i0, kMarkedRight, id);
      emit(x, y);
      return;
    }
    std::int64_t i3 = i0;
    int prev_s = s ^ 4;
    const bool every_point = method_ == ContourMethod::none;
    for (;;) {
      // Counter-clockwise from the pixel we came from (s, at most 7) to the next border pixel.
      // The pixel we came from is nonzero, so the search stops within eight steps.
      std::int64_t i4;
      do {
        i4 = i3 + step_[++s];
      } while (f[i4] == 0);
      // The east neighbour (direction 8) was passed over as background.
      const bool east_outside = s > 8;
      s &= 7;
      if (east_outside)
        mark<kOwners>(i3, kMarkedRight, id);
      else if (f[i3] == kUnvisited)
        mark<kOwners>(i3, kMarked, id);
      if (every_point || s != prev_s) {
        emit(x, y);
        prev_s = s;
      }
      x += kDx[s], y += kDy[s];
      if (i4 == i0 && i3 == i1) break;
      i3 = i4;
      s = (s + 4) & 7;
    }
  }

  ContourMode mode_;
  ContourMethod method_;
  std::int64_t rows_, cols_, width_;
  std::int64_t offset_x_, offset_y_;  // from padded to output coordinates
  std::vector<std::int8_t> marks_;
  std::unique_ptr<std::int32_t[]> owner_;
  std::int64_t step_[16];
  std::vector<Border> borders_;
  std::int32_t frame_first_child_ = -1;
  std::vector<std::int32_t> xy_;
};

}  // namespace

Contours find_contours(ConstImageView binary, ContourMode mode, ContourMethod method,
                       std::int32_t offset_x, std::int32_t offset_y) {
  if (binary.dtype != DType::u8 || binary.channels != 1)
    throw TypeError("find_contours: binary must be a one-channel uint8 image");
  if (binary.rows < 1 || binary.cols < 1)
    throw ValueError("find_contours: the image must not be empty");
  if (binary.rows >= std::numeric_limits<std::int32_t>::max() - 2 ||
      binary.cols >= std::numeric_limits<std::int32_t>::max() - 2)
    throw ValueError("find_contours: the image is too large");
  BorderFollower follower(binary, mode, method, offset_x, offset_y);
  follower.scan();
  return follower.result();
}

}  // namespace foveal

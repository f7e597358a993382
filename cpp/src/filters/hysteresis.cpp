// Canny's hysteresis. Serial, like OpenCV's. A scan of the map, 8 pixels per step, finds the
// edges that touch a candidate; from each, a depth-first flood turns the candidates connected
// to it into edges. The stack only ever holds pixels just promoted (not every edge, which on
// a textured image is a third of the pixels), and each candidate is pushed at most once.
#include "hysteresis.hpp"

#include <cstring>
#include <vector>

#include "bytes.hpp"

namespace foveal {
namespace detail {
namespace {

using i64 = std::int64_t;

// 2 = 0b10 and 1 = 0b01: bit 0 of a byte marks a candidate, bit 1 an edge.
constexpr std::uint64_t kLowBits = 0x0101010101010101ull;
// Byte i of an 8-byte load is bits 8i..8i+7 of the word.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the map scan assumes little-endian");

// The depth-first flood from one edge. Out of line, so that the scan keeps its registers.
class Flood {
 public:
  explicit Flood(i64 stride)
      : offsets_{-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1} {
    stack_.reserve(1024);
  }

  __attribute__((noinline)) void from(std::uint8_t* p) {
    promote(p);
    while (!stack_.empty()) {
      std::uint8_t* q = stack_.back();
      stack_.pop_back();
      promote(q);
    }
  }

 private:
  // Marks p's candidate neighbours as edges and pushes them.
  void promote(std::uint8_t* p) {
    for (const i64 o : offsets_) {
      if (p[o] == 1) {
        p[o] = 2;
        stack_.push_back(p + o);
      }
    }
  }

  i64 offsets_[8];
  std::vector<std::uint8_t*> stack_;
};

}  // namespace

FramedMap::FramedMap(i64 rows_, i64 cols_)
    : rows(rows_),
      cols(cols_),
      stride((cols_ + 2 + 63) / 64 * 64),
      memory(new std::uint8_t[static_cast<std::size_t>((rows_ + 2) * stride)]),
      map(memory.get() + stride + 1) {
  std::memset(memory.get(), 0, static_cast<std::size_t>(stride));
  std::memset(memory.get() + (rows + 1) * stride, 0, static_cast<std::size_t>(stride));
  for (i64 y = 0; y < rows; ++y) map[y * stride - 1] = map[y * stride + cols] = 0;
}

void hysteresis(const FramedMap& m, const ImageView& dst) {
  const i64 H = m.rows, W = m.cols, s = m.stride;
  Flood flood(s);
  for (i64 y = 0; y < H; ++y) {
    std::uint8_t* row = m.map + y * s;
    i64 x = 0;
    // 8 pixels at a time (32 where none is an edge): the edges among them that have a
    // candidate among their 8 neighbours, as one bit per byte. Pixels the floods turn into
    // edges meanwhile have been flooded from already, and an edge cannot gain a candidate
    // neighbour later.
    while (x + 8 <= W) {
      const std::uint8_t* p = row + x;
      if (x + 32 <= W &&
          ((load8(p) | load8(p + 8) | load8(p + 16) | load8(p + 24)) & (kLowBits << 1)) == 0) {
        x += 32;
        continue;
      }
      const std::uint64_t edges = (load8(p) >> 1) & kLowBits;
      if (edges != 0) {
        const std::uint64_t near = load8(p - s - 1) | load8(p - s) | load8(p - s + 1) |
                                   load8(p - 1) | load8(p + 1) | load8(p + s - 1) | load8(p + s) |
                                   load8(p + s + 1);
        for (std::uint64_t hits = edges & near; hits != 0; hits &= hits - 1)
          flood.from(row + x + __builtin_ctzll(hits) / 8);
      }
      x += 8;
    }
    for (; x < W; ++x)
      if (row[x] == 2) flood.from(row + x);
  }
  for (i64 y = 0; y < H; ++y) {
    const std::uint8_t* row = m.map + y * s;
    std::uint8_t* out = dst.row<std::uint8_t>(y);
    for (i64 x = 0; x < W; ++x) out[x] = row[x] == 2 ? 255 : 0;
  }
}

}  // namespace detail
}  // namespace foveal

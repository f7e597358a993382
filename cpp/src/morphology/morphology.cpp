// Morphology driver: checks arguments, turns an SE and its options into a MorphPlan (border
// maps, border pixel, runs), picks the kernels of the active instruction set, and composes
// erode and dilate into open, close, gradient, top-hat and black-hat with OpenCV's rules
// (iterations of a full rectangle become one pass with a larger rectangle; 1x1 SEs and zero
// iterations copy).
#include "foveal/morphology.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "foveal/error.hpp"
#include "isa_table.hpp"
#include "morph_plan.hpp"

FOVEAL_FOR_EACH_ISA(FOVEAL_DECLARE_MORPH_KERNELS)

namespace foveal {
namespace {

using detail::MorphPlan;
using detail::MorphRun;

// The kernels of one instruction set, and those of the set in use.
struct MorphKernels {
  decltype(&baseline::erode_dilate) erode_dilate;
  decltype(&baseline::erode_dilate_pair) pair;
  decltype(&baseline::gradient) gradient;
  decltype(&baseline::subtract) subtract;
};

#define FOVEAL_MORPH_KERNELS(isa)                                               \
  MorphKernels {                                                                \
    &isa::erode_dilate, &isa::erode_dilate_pair, &isa::gradient, &isa::subtract \
  }

FOVEAL_KERNEL_TABLE(MorphKernels, FOVEAL_MORPH_KERNELS)

// Scratch images for compositions (open, close, gradient, ...) and repeated passes. A thread
// keeps its last one between calls: a fresh multi-megabyte block costs a page fault per 4 KiB
// on first touch, as much as a whole pass of the kernels. Uninitialized: callers overwrite it.
struct ScratchCache {
  void* block = nullptr;
  std::size_t size = 0;
  bool in_use = false;
  ~ScratchCache() { std::free(block); }
};
thread_local ScratchCache scratch_cache;

class OwnedImage {
 public:
  ImageView view;

  explicit OwnedImage(const ConstImageView& like) {
    const std::int64_t row_bytes =
        like.cols * like.channels * static_cast<std::int64_t>(dtype_size(like.dtype));
    const std::size_t bytes = static_cast<std::size_t>(row_bytes * like.rows);
    ScratchCache& cache = scratch_cache;
    if (!cache.in_use) {
      if (cache.size < bytes) {
        std::free(cache.block);
        cache.block = nullptr;
        cache.size = 0;
        cache.block = std::malloc(bytes);
        if (!cache.block) throw std::bad_alloc();
        cache.size = bytes;
      }
      cache.in_use = true;
      cached_ = true;
      data_ = cache.block;
    } else {
      data_ = std::malloc(bytes > 0 ? bytes : 1);
      if (!data_) throw std::bad_alloc();
    }
    view = ImageView{data_, like.rows, like.cols, like.channels, row_bytes, like.dtype};
  }
  ~OwnedImage() {
    if (cached_)
      scratch_cache.in_use = false;
    else
      std::free(data_);
  }
  OwnedImage(const OwnedImage&) = delete;
  OwnedImage& operator=(const OwnedImage&) = delete;

 private:
  void* data_ = nullptr;
  bool cached_ = false;
};

void copy_image(const ConstImageView& src, const ImageView& dst) {
  const std::size_t row_bytes =
      static_cast<std::size_t>(src.cols * src.channels) * dtype_size(src.dtype);
  for (std::int64_t y = 0; y < src.rows; ++y)
    std::memmove(dst.row<unsigned char>(y), src.row<const unsigned char>(y), row_bytes);
}

// The address range [lo, hi) an image touches.
void byte_range(const ConstImageView& v, std::uintptr_t& lo, std::uintptr_t& hi) {
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(v.data);
  const std::int64_t row_bytes =
      v.cols * v.channels * static_cast<std::int64_t>(dtype_size(v.dtype));
  const std::int64_t last = (v.rows - 1) * v.row_stride;
  lo = base + static_cast<std::uintptr_t>(std::min<std::int64_t>(0, last));
  hi = base + static_cast<std::uintptr_t>(std::max<std::int64_t>(0, last) + row_bytes);
}

bool overlaps(const ConstImageView& a, const ConstImageView& b) {
  std::uintptr_t alo, ahi, blo, bhi;
  byte_range(a, alo, ahi);
  byte_range(b, blo, bhi);
  return alo < bhi && blo < ahi;
}

// OpenCV's saturate_cast from double: round half to even, then clamp to T's range.
template <typename T>
T saturate(double v) {
  if (std::is_floating_point<T>::value) return static_cast<T>(v);
  if (std::isnan(v)) return 0;
  const double r = std::nearbyint(v);
  const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  const double hi = static_cast<double>(std::numeric_limits<T>::max());
  return static_cast<T>(r < lo ? lo : (r > hi ? hi : r));
}

template <typename T>
void fill_border_pixel(std::vector<unsigned char>& out, int channels, bool dilate, Border border,
                       const std::vector<double>& values, bool binary) {
  out.resize(sizeof(T) * channels);
  T* px = reinterpret_cast<T*>(out.data());
  for (int c = 0; c < channels; ++c) {
    T v;
    if (border == Border::Default) {
      // The outside never wins: the dtype's extreme, as OpenCV's default border value
      // (DBL_MAX saturated to T) gives; for floats that is the largest finite value, not inf.
      if (binary)
        v = static_cast<T>(dilate ? 0 : 1);
      else
        v = dilate ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    } else {
      const double value = values.size() == 1 ? values[0] : values[static_cast<std::size_t>(c)];
      v = binary ? static_cast<T>(value != 0.0) : saturate<T>(value);
    }
    px[c] = v;
  }
}

struct Pass {
  MorphPlan plan;
  std::vector<MorphRun> runs;
  std::vector<int> lengths;
  std::vector<std::int64_t> row_map, col_map;
  std::vector<unsigned char> border_pixel;
};

// Builds the plan of one erode or dilate pass over an image of src's geometry.
void build_pass(Pass& pass, bool dilate, const StructuringElement& se, int ay, int ax, bool rect,
                const ConstImageView& src, const MorphOptions& opt) {
  MorphPlan& p = pass.plan;
  p.dilate = dilate;
  p.rect = rect;
  p.kh = se.height;
  p.kw = se.width;
  p.ay = ay;
  p.ax = ax;
  if (!rect) {
    for (int y = 0; y < se.height; ++y) {
      int x = 0;
      while (x < se.width) {
        if (!se.at(y, x)) {
          ++x;
          continue;
        }
        int x1 = x;
        while (x1 < se.width && se.at(y, x1)) ++x1;
        const int len = x1 - x;
        auto at = std::find(pass.lengths.begin(), pass.lengths.end(), len);
        if (at == pass.lengths.end()) at = pass.lengths.insert(at, len);
        pass.runs.push_back(MorphRun{y, x, len, static_cast<int>(at - pass.lengths.begin())});
        x = x1;
      }
    }
    p.runs = pass.runs.data();
    p.n_runs = static_cast<int>(pass.runs.size());
    p.lengths = pass.lengths.data();
    p.n_lengths = static_cast<int>(pass.lengths.size());
  }
  const Border border = opt.border;
  pass.row_map.resize(static_cast<std::size_t>(src.rows + se.height - 1));
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(pass.row_map.size()); ++i)
    pass.row_map[static_cast<std::size_t>(i)] = border_index(i - ay, src.rows, border);
  pass.col_map.resize(static_cast<std::size_t>(src.cols + se.width - 1));
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(pass.col_map.size()); ++i)
    pass.col_map[static_cast<std::size_t>(i)] = border_index(i - ax, src.cols, border);
  p.row_map = pass.row_map.data();
  p.col_map = pass.col_map.data();
  switch (src.dtype) {
    case DType::u8:
      fill_border_pixel<std::uint8_t>(pass.border_pixel, src.channels, dilate, border,
                                      opt.border_value, opt.binary);
      break;
    case DType::u16:
      fill_border_pixel<std::uint16_t>(pass.border_pixel, src.channels, dilate, border,
                                       opt.border_value, opt.binary);
      break;
    case DType::s16:
      fill_border_pixel<std::int16_t>(pass.border_pixel, src.channels, dilate, border,
                                      opt.border_value, opt.binary);
      break;
    case DType::f32:
      fill_border_pixel<float>(pass.border_pixel, src.channels, dilate, border, opt.border_value,
                               opt.binary);
      break;
    case DType::f64:
      fill_border_pixel<double>(pass.border_pixel, src.channels, dilate, border, opt.border_value,
                                opt.binary);
      break;
  }
  p.border_pixel = pass.border_pixel.data();
}

// A rectangle's window [y - a, y - a + k - 1] along an axis of n pixels, shrunk to one that
// reads the same pixels: past the image, more border adds nothing once the window already
// reaches n pixels out (constant, replicate) or spans a whole period (wrap, reflections). Many
// iterations of a rectangle on a small image would otherwise cost their full size.
void clamp_window(std::int64_t n, Border border, std::int64_t& k, std::int64_t& a) {
  std::int64_t below = k - 1 - a;
  std::int64_t period = 0;
  switch (border) {
    case Border::Constant:
    case Border::Default:
      a = std::min(a, n);
      below = std::min(below, n);
      break;
    case Border::Replicate:
      a = std::min(a, n - 1);
      below = std::min(below, n - 1);
      break;
    case Border::Wrap:
      period = n;
      break;
    case Border::Reflect:
      period = 2 * n;
      break;
    case Border::Reflect101:
      period = n == 1 ? 1 : 2 * n - 2;
      break;
  }
  if (period > 0 && k >= period) {
    // Every window covers every row (column) of the period: anchor it at its start.
    a = 0;
    below = period - 1;
  }
  k = a + below + 1;
}

class Morphology {
 public:
  Morphology(const StructuringElement& se, const MorphOptions& opt) : se_(se), opt_(opt) {
    ay_ = opt.anchor_y < 0 ? se.height / 2 : opt.anchor_y;
    ax_ = opt.anchor_x < 0 ? se.width / 2 : opt.anchor_x;
  }

  // The single pass that one erode or dilate call makes, where it makes one: a rectangle
  // (its iterations folded into a larger one) or any SE with one iteration. False for copies
  // (no iterations, 1x1 SE) and for repeated passes of other SEs.
  bool single_pass(Pass& pass, bool dilate, const ConstImageView& src) const {
    const int iterations = opt_.iterations;
    if (iterations == 0 || se_.height * se_.width == 1) return false;
    if (se_.is_full()) {
      // n passes of a k-rectangle are one pass of a (n (k - 1) + 1)-rectangle.
      std::int64_t kh = se_.height + static_cast<std::int64_t>(iterations - 1) * (se_.height - 1);
      std::int64_t kw = se_.width + static_cast<std::int64_t>(iterations - 1) * (se_.width - 1);
      std::int64_t ay = static_cast<std::int64_t>(ay_) * iterations;
      std::int64_t ax = static_cast<std::int64_t>(ax_) * iterations;
      clamp_window(src.rows, opt_.border, kh, ay);
      clamp_window(src.cols, opt_.border, kw, ax);
      StructuringElement big;
      big.height = static_cast<int>(kh);
      big.width = static_cast<int>(kw);
      build_pass(pass, dilate, big, static_cast<int>(ay), static_cast<int>(ax), true, src, opt_);
      return true;
    }
    if (iterations != 1) return false;
    build_pass(pass, dilate, se_, ay_, ax_, false, src, opt_);
    return true;
  }

  // One erode or dilate with all its iterations, src -> dst (distinct memory).
  void erode_dilate(bool dilate, const ConstImageView& src, const ImageView& dst) const {
    const int iterations = opt_.iterations;
    if (iterations == 0 || se_.height * se_.width == 1) {
      copy_image(src, dst);
      return;
    }
    Pass pass;
    if (single_pass(pass, dilate, src)) {
      kernels().erode_dilate(pass.plan, src, dst);
      return;
    }
    build_pass(pass, dilate, se_, ay_, ax_, false, src, opt_);
    OwnedImage tmp(src);
    ConstImageView cur = src;
    for (int i = 0; i < iterations; ++i) {
      const ImageView& target = ((iterations - 1 - i) % 2 == 0) ? dst : tmp.view;
      kernels().erode_dilate(pass.plan, cur, target);
      cur = as_const(target);
    }
  }

  // Open (erode then dilate) or close (the reverse). When each is a single pass and the border
  // does not wrap around, the kernels run them band by band and the intermediate image never
  // exists whole; otherwise through one temporary image.
  void open_close(bool first_dilates, const ConstImageView& src, const ImageView& dst) const {
    Pass first, second;
    if (opt_.border != Border::Wrap && single_pass(first, first_dilates, src) &&
        single_pass(second, !first_dilates, src)) {
      kernels().pair(first.plan, second.plan, src, dst);
      return;
    }
    OwnedImage tmp(src);
    erode_dilate(first_dilates, src, tmp.view);
    erode_dilate(!first_dilates, as_const(tmp.view), dst);
  }

  void apply(MorphOp op, const ConstImageView& src, const ImageView& dst) const {
    switch (op) {
      case MorphOp::Erode:
        return erode_dilate(false, src, dst);
      case MorphOp::Dilate:
        return erode_dilate(true, src, dst);
      case MorphOp::Open:
        return open_close(false, src, dst);
      case MorphOp::Close:
        return open_close(true, src, dst);
      case MorphOp::Gradient: {
        Pass up, down;
        if (single_pass(up, true, src) && single_pass(down, false, src)) {
          kernels().gradient(up.plan, down.plan, src, dst);
          return;
        }
        OwnedImage tmp(src);
        erode_dilate(true, src, dst);
        erode_dilate(false, src, tmp.view);
        kernels().subtract(as_const(dst), as_const(tmp.view), dst);
        return;
      }
      case MorphOp::TopHat:
        apply(MorphOp::Open, src, dst);
        kernels().subtract(src, as_const(dst), dst);
        return;
      case MorphOp::BlackHat:
        apply(MorphOp::Close, src, dst);
        kernels().subtract(as_const(dst), src, dst);
        return;
    }
  }

 private:
  const StructuringElement& se_;
  const MorphOptions& opt_;
  int ay_ = 0, ax_ = 0;
};

void check_args(const ConstImageView& src, const ImageView& dst, const StructuringElement& se,
                const MorphOptions& opt) {
  if (src.rows < 1 || src.cols < 1 || src.channels < 1)
    throw ValueError("morphology: image must have at least one row, column and channel, got " +
                     std::to_string(src.rows) + "x" + std::to_string(src.cols) + "x" +
                     std::to_string(src.channels));
  if (dst.rows != src.rows || dst.cols != src.cols || dst.channels != src.channels)
    throw ValueError("morphology: out must have the image's shape");
  if (dst.dtype != src.dtype)
    throw TypeError(std::string("morphology: out must have the image's dtype ") +
                    dtype_name(src.dtype) + ", got " + dtype_name(dst.dtype));
  if (se.height < 1 || se.width < 1 ||
      se.mask.size() != static_cast<std::size_t>(se.height) * static_cast<std::size_t>(se.width))
    throw ValueError("morphology: kernel must be a non-empty 2-D mask");
  if (std::none_of(se.mask.begin(), se.mask.end(), [](std::uint8_t v) { return v != 0; }))
    throw ValueError("morphology: kernel must have at least one non-zero element");
  if (opt.anchor_y >= se.height || opt.anchor_x >= se.width || opt.anchor_y < -1 ||
      opt.anchor_x < -1)
    throw ValueError("morphology: anchor (" + std::to_string(opt.anchor_y) + ", " +
                     std::to_string(opt.anchor_x) + ") is outside the " +
                     std::to_string(se.height) + "x" + std::to_string(se.width) + " kernel");
  if (opt.iterations < 0)
    throw ValueError("morphology: iterations must be >= 0, got " + std::to_string(opt.iterations));
  // The enlarged rectangle of many iterations must stay a sane size.
  const std::int64_t grown_h = 1 + static_cast<std::int64_t>(opt.iterations) * (se.height - 1);
  const std::int64_t grown_w = 1 + static_cast<std::int64_t>(opt.iterations) * (se.width - 1);
  if (grown_h > (1 << 24) || grown_w > (1 << 24))
    throw ValueError("morphology: iterations x kernel size is too large (" +
                     std::to_string(opt.iterations) + " iterations)");
  if (opt.border_value.size() != 1 &&
      opt.border_value.size() != static_cast<std::size_t>(src.channels))
    throw ValueError("morphology: border_value must have 1 or " + std::to_string(src.channels) +
                     " values, got " + std::to_string(opt.border_value.size()));
}

}  // namespace

bool StructuringElement::is_full() const {
  return !mask.empty() &&
         std::all_of(mask.begin(), mask.end(), [](std::uint8_t v) { return v != 0; });
}

StructuringElement structuring_element(MorphShape shape, int height, int width, int anchor_y,
                                       int anchor_x) {
  if (height < 1 || width < 1)
    throw ValueError("structuring_element: ksize must be positive, got (" + std::to_string(height) +
                     ", " + std::to_string(width) + ")");
  if (static_cast<std::int64_t>(height) * width > (1 << 26))
    throw ValueError("structuring_element: ksize is too large");
  if (anchor_y >= height || anchor_x >= width || anchor_y < -1 || anchor_x < -1)
    throw ValueError("structuring_element: anchor is outside the kernel");
  const int cy = anchor_y < 0 ? height / 2 : anchor_y;
  const int cx = anchor_x < 0 ? width / 2 : anchor_x;
  if (height == 1 && width == 1) shape = MorphShape::Rect;
  StructuringElement se;
  se.height = height;
  se.width = width;
  se.mask.assign(static_cast<std::size_t>(height) * width, 0);
  // The ellipse inscribed in the box, row by row: half-width c * sqrt(1 - dy^2 / r^2) rounded.
  const int r = height / 2, c = width / 2;
  const double inv_r2 = r > 0 ? 1.0 / (static_cast<double>(r) * r) : 0.0;
  for (int y = 0; y < height; ++y) {
    int x0 = 0, x1 = 0;
    if (shape == MorphShape::Rect || (shape == MorphShape::Cross && y == cy)) {
      x1 = width;
    } else if (shape == MorphShape::Cross) {
      x0 = cx;
      x1 = cx + 1;
    } else {
      const int dy = y - r;
      if (std::abs(dy) <= r) {
        const int dx = static_cast<int>(std::nearbyint(c * std::sqrt((r * r - dy * dy) * inv_r2)));
        x0 = std::max(c - dx, 0);
        x1 = std::min(c + dx + 1, width);
      }
    }
    for (int x = x0; x < x1; ++x) se.mask[static_cast<std::size_t>(y) * width + x] = 1;
  }
  return se;
}

void morphology(MorphOp op, const ConstImageView& src, const ImageView& dst,
                const StructuringElement& se, const MorphOptions& options) {
  check_args(src, dst, se, options);
  const Morphology morph(se, options);
  if (overlaps(src, as_const(dst))) {
    OwnedImage copy(src);
    copy_image(src, copy.view);
    morph.apply(op, as_const(copy.view), dst);
    return;
  }
  morph.apply(op, src, dst);
}

}  // namespace foveal

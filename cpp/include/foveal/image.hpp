// Non-owning views of images as the kernels see them: rows of interleaved pixels.
//
// A view is `rows` rows of `cols` pixels with `channels` interleaved values each; the values of
// one row are contiguous, and consecutive rows are `row_stride` bytes apart (negative for a
// flipped image). This is the layout of OpenCV's Mat and of a C-ordered NumPy (H, W[, C]) array
// whose last one or two axes are contiguous; anything else is copied once by the caller.
#pragma once

#include <cstddef>
#include <cstdint>

namespace foveal {

enum class DType { u8, u16, s16, f32, f64 };

inline std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::u8:
      return 1;
    case DType::u16:
    case DType::s16:
      return 2;
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::u8:
      return "uint8";
    case DType::u16:
      return "uint16";
    case DType::s16:
      return "int16";
    case DType::f32:
      return "float32";
    case DType::f64:
      return "float64";
  }
  return "?";
}

template <typename Ptr>
struct BasicImageView {
  Ptr data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  int channels = 1;
  std::int64_t row_stride = 0;  // bytes between the starts of consecutive rows
  DType dtype = DType::u8;

  std::int64_t row_elems() const { return cols * channels; }
  template <typename T>
  T* row(std::int64_t y) const {
    return reinterpret_cast<T*>(reinterpret_cast<std::uintptr_t>(data) + y * row_stride);
  }
};

using ImageView = BasicImageView<void*>;
using ConstImageView = BasicImageView<const void*>;

inline ConstImageView as_const(const ImageView& v) {
  return ConstImageView{v.data, v.rows, v.cols, v.channels, v.row_stride, v.dtype};
}

}  // namespace foveal

// Non-owning views of images as the kernels see them: rows of interleaved pixels.
//
// A view is `rows` rows of `cols` pixels with `channels` interleaved values each; the values of
// one row are contiguous, and consecutive rows are `row_stride` bytes apart (negative for a
// flipped image). This is the layout of OpenCV's Mat and of a C-ordered NumPy (H, W[, C]) array
// whose last one or two axes are contiguous; anything else is copied once by the caller.
//
// Example: the 50 x 70 window at row 20, column 30 of a 120 x 160 float32 image `img`, read in
// place, is ConstImageView{img + 20 * 160 + 30, 50, 70, 1, 160 * sizeof(float), DType::f32}.
//
// Views own nothing and check nothing: the memory they describe must stay valid for the call,
// and the functions that take them check only their sizes and dtypes. Everything here is
// inline, allocation-free and safe to use from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace foveal {

// The value types of images: std::uint8_t, std::uint16_t, std::int16_t, float, double
// (OpenCV's CV_8U, CV_16U, CV_16S, CV_32F, CV_64F). A bool image is u8 holding 0 and 1.
enum class DType { u8, u16, s16, f32, f64 };

// The size of one value in bytes (0 for a value outside the enum).
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

// NumPy's name of the dtype ("uint8", ..., "float64"), as error messages spell it.
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

// An image view; Ptr is void* (ImageView, written) or const void* (ConstImageView, read).
template <typename Ptr>
struct BasicImageView {
  Ptr data = nullptr;           // the first value of row 0
  std::int64_t rows = 0;        // height
  std::int64_t cols = 0;        // width, in pixels
  int channels = 1;             // values per pixel, interleaved
  std::int64_t row_stride = 0;  // bytes between the starts of consecutive rows
  DType dtype = DType::u8;

  // The number of values in one row.
  std::int64_t row_elems() const { return cols * channels; }
  // Row y (0 <= y < rows, not checked) as values of T, which must match dtype: value c of
  // pixel x is row<T>(y)[x * channels + c]. Nothing keeps constness: read a ConstImageView
  // through row<const T>.
  template <typename T>
  T* row(std::int64_t y) const {
    return reinterpret_cast<T*>(reinterpret_cast<std::uintptr_t>(data) + y * row_stride);
  }
};

using ImageView = BasicImageView<void*>;
using ConstImageView = BasicImageView<const void*>;

// The same image, read-only.
inline ConstImageView as_const(const ImageView& v) {
  return ConstImageView{v.data, v.rows, v.cols, v.channels, v.row_stride, v.dtype};
}

}  // namespace foveal

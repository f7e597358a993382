// NumPy arrays to foveal image views, shared by every binding file. The Python wrappers hand
// in (H, W) or (H, W, C) arrays whose rows are contiguous (they copy anything else once); the
// row stride may be anything, negative included.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "foveal/error.hpp"
#include "foveal/image.hpp"

namespace foveal {
namespace bindings {

namespace py = pybind11;

inline DType dtype_of(const py::array& a, const char* fn, const char* arg) {
  const py::dtype dt = a.dtype();
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if ((kind == 'u' && size == 1) || kind == 'b') return DType::u8;
  if (kind == 'u' && size == 2) return DType::u16;
  if (kind == 'i' && size == 2) return DType::s16;
  if (kind == 'f' && size == 4) return DType::f32;
  if (kind == 'f' && size == 8) return DType::f64;
  throw TypeError(std::string(fn) + ": " + arg + " dtype " + std::string(py::str(dt)) +
                  " is not supported (uint8, uint16, int16, float32, float64, bool)");
}

template <typename View, typename Array>
View image_view(Array& a, const char* fn, const char* arg) {
  View v;
  v.dtype = dtype_of(a, fn, arg);
  const auto item = static_cast<std::int64_t>(a.itemsize());
  if (a.ndim() != 2 && a.ndim() != 3)
    throw ValueError(std::string(fn) + ": " + arg + " must be 2-D or 3-D, got " +
                     std::to_string(a.ndim()) + "-D");
  v.rows = a.shape(0);
  v.cols = a.shape(1);
  v.channels = a.ndim() == 3 ? static_cast<int>(a.shape(2)) : 1;
  v.row_stride = a.strides(0);
  const bool rows_contiguous = (a.ndim() == 2 && (a.strides(1) == item || v.cols == 1)) ||
                               (a.ndim() == 3 && (a.strides(2) == item || v.channels == 1) &&
                                (a.strides(1) == item * v.channels || v.cols == 1));
  if (!rows_contiguous) throw ValueError(std::string(fn) + ": " + arg + " rows must be contiguous");
  return v;
}

inline ConstImageView const_view(const py::array& a, const char* fn, const char* arg) {
  ConstImageView v = image_view<ConstImageView>(a, fn, arg);
  v.data = a.data();
  return v;
}

inline ImageView mutable_view(py::array& a, const char* fn, const char* arg) {
  if (!a.writeable()) throw ValueError(std::string(fn) + ": " + arg + " is read-only");
  ImageView v = image_view<ImageView>(a, fn, arg);
  v.data = a.mutable_data();
  return v;
}

}  // namespace bindings
}  // namespace foveal

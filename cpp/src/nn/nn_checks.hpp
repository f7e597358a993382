// Checks shared by the neural-network drivers.
#pragma once

#include <string>

#include "foveal/error.hpp"
#include "foveal/image.hpp"

namespace foveal {
namespace detail {

inline void check_float(const char* fn, const char* arg, DType t) {
  if (t != DType::f32 && t != DType::f64)
    throw TypeError(std::string(fn) + ": " + arg + " dtype " + dtype_name(t) +
                    " is not supported (float32, float64)");
}

inline void check_same_dtype(const char* fn, const char* arg, DType t, DType expected) {
  if (t != expected)
    throw TypeError(std::string(fn) + ": " + arg + " dtype " + dtype_name(t) +
                    " differs from the input's " + dtype_name(expected));
}

}  // namespace detail
}  // namespace foveal

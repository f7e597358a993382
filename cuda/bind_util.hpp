// What the bind_*.cpp files of cuda/ share: addresses from Python integers, dtype names, and a
// check that raises ValueError naming the function.
#pragma once

#include <cstdint>
#include <string>

#include "foveal/error.hpp"
#include "gpu_types.hpp"

namespace foveal {
namespace gpu {

using i64 = std::int64_t;

inline void* address(std::uintptr_t p) { return reinterpret_cast<void*>(p); }

inline Real real_of(const std::string& dtype, const char* fn) {
  if (dtype == "float32") return Real::f32;
  if (dtype == "float64") return Real::f64;
  throw TypeError(std::string(fn) + ": dtype must be float32 or float64, got " + dtype);
}

inline void require(bool ok, const char* fn, const char* what) {
  if (!ok) throw ValueError(std::string(fn) + ": " + what);
}

}  // namespace gpu
}  // namespace foveal

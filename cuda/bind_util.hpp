// What the bind_*.cpp files of cuda/ share: addresses from Python integers, dtype names, a
// check that raises ValueError naming the function, and the registry through which each family
// adds its functions to the module (so that adding a family touches no shared source: its
// files go in cuda/CMakeLists.txt's lists and nowhere else).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "foveal/error.hpp"
#include "foveal/image.hpp"
#include "gpu_types.hpp"

namespace foveal {
namespace gpu {

using i64 = std::int64_t;

inline void* address(std::uintptr_t p) {
  return reinterpret_cast<void*>(p);
}

inline Real real_of(const std::string& dtype, const char* fn) {
  if (dtype == "float32") return Real::f32;
  if (dtype == "float64") return Real::f64;
  throw TypeError(std::string(fn) + ": dtype must be float32 or float64, got " + dtype);
}

// The image dtypes of the image families (foveal::DType), by NumPy name.
inline DType image_dtype(const std::string& name, const char* fn) {
  if (name == "uint8") return DType::u8;
  if (name == "uint16") return DType::u16;
  if (name == "int16") return DType::s16;
  if (name == "float32") return DType::f32;
  if (name == "float64") return DType::f64;
  throw TypeError(std::string(fn) +
                  ": dtype must be uint8, uint16, int16, float32 or float64, got " + name);
}

inline void require(bool ok, const char* fn, const char* what) {
  if (!ok) throw ValueError(std::string(fn) + ": " + what);
}

using Binder = void (*)(pybind11::module_&);

inline std::vector<Binder>& families() {
  static std::vector<Binder> registered;
  return registered;
}

// ``static const Family family(&bind_x);`` in bind_x.cpp adds bind_x to the module.
struct Family {
  explicit Family(Binder bind) { families().push_back(bind); }
};

inline void bind_families(pybind11::module_& m) {
  for (Binder bind : families()) bind(m);
}

}  // namespace gpu
}  // namespace foveal

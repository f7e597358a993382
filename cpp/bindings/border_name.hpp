// Border names as the Python wrappers pass them (already canonical: foveal._validate maps
// aliases), shared by every binding file.
#pragma once

#include <string>

#include "foveal/border.hpp"
#include "foveal/error.hpp"

namespace foveal {
namespace bindings {

inline Border border_from_name(const std::string& b, const char* fn) {
  if (b == "constant") return Border::Constant;
  if (b == "replicate") return Border::Replicate;
  if (b == "reflect") return Border::Reflect;
  if (b == "reflect101") return Border::Reflect101;
  if (b == "wrap") return Border::Wrap;
  if (b == "default") return Border::Default;
  throw ValueError(std::string(fn) + ": unknown border '" + b + "'");
}

}  // namespace bindings
}  // namespace foveal

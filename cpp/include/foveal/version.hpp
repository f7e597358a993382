#pragma once

#define FOVEAL_VERSION_MAJOR 0
#define FOVEAL_VERSION_MINOR 1
#define FOVEAL_VERSION_PATCH 0
#define FOVEAL_VERSION_STRING "0.1.0"

namespace foveal {
inline const char* version() {
  return FOVEAL_VERSION_STRING;
}
}  // namespace foveal

// foveal's version. The three numbers below are the only place it is written: CMake reads them
// (cmake/FovealVersion.cmake: project(VERSION), the package's fovealConfigVersion.cmake) and so
// does the Python build (pyproject.toml: scikit-build-core's regex provider, the wheel's
// metadata). Keep each one a plain `#define NAME number` line so that both can parse it.
#pragma once

#define FOVEAL_VERSION_MAJOR 0
#define FOVEAL_VERSION_MINOR 1
#define FOVEAL_VERSION_PATCH 0

// One integer for `#if FOVEAL_VERSION >= 10200` style checks: major * 10000 + minor * 100 + patch.
#define FOVEAL_VERSION \
  (FOVEAL_VERSION_MAJOR * 10000 + FOVEAL_VERSION_MINOR * 100 + FOVEAL_VERSION_PATCH)

// "MAJOR.MINOR.PATCH", spelled from the numbers above by the preprocessor.
#define FOVEAL_VERSION_TEXT_(x) #x
#define FOVEAL_VERSION_TEXT(x) FOVEAL_VERSION_TEXT_(x)
#define FOVEAL_VERSION_STRING               \
  FOVEAL_VERSION_TEXT(FOVEAL_VERSION_MAJOR) \
  "." FOVEAL_VERSION_TEXT(FOVEAL_VERSION_MINOR) "." FOVEAL_VERSION_TEXT(FOVEAL_VERSION_PATCH)

namespace foveal {
inline const char* version() {
  return FOVEAL_VERSION_STRING;
}
}  // namespace foveal

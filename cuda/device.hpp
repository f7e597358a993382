// CUDA runtime facts and error checking for the _cuda module. Every CUDA call goes through
// check(), which turns a failure into foveal::Error naming the call (a RuntimeError in Python).
#pragma once

#include <string>

namespace foveal {
namespace cuda {

struct DeviceInfo {
  std::string name;
  int major = 0;
  int minor = 0;
  int multiprocessors = 0;
  long long total_memory = 0;
};

// Devices the runtime sees; 0 where there is no driver or no device (never throws).
int device_count();
DeviceInfo device_info(int device);
int runtime_version();
// 0 where no driver is installed.
int driver_version();

}  // namespace cuda
}  // namespace foveal

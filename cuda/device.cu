// CUDA runtime queries behind foveal.show_config() and the GPU dispatch.
#include <cuda_runtime.h>

#include <string>

#include "device.hpp"
#include "foveal/error.hpp"

namespace foveal {
namespace cuda {
namespace {

void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess)
    throw Error(std::string("CUDA error in ") + call + ": " + cudaGetErrorName(status) + " (" +
                cudaGetErrorString(status) + ")");
}

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" status
    return 0;
  }
  return n;
}

DeviceInfo device_info(int device) {
  const int n = device_count();
  if (device < 0 || device >= n)
    throw ValueError("device_info: device must be in [0, " + std::to_string(n) + "), got " +
                     std::to_string(device));
  cudaDeviceProp prop;
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  DeviceInfo info;
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  info.total_memory = static_cast<long long>(prop.totalGlobalMem);
  return info;
}

int runtime_version() {
  int v = 0;
  check(cudaRuntimeGetVersion(&v), "cudaRuntimeGetVersion");
  return v;
}

int driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) return 0;
  return v;
}

}  // namespace cuda
}  // namespace foveal

// The one header a foveal kernel file includes: CUDA itself under nvcc, the SIMT emulator
// (emu.hpp) in a host build with FOVEAL_SIMT_EMU, so that the same kernels and launchers
// compile for the GPU and run on the CPU in tests. Launches and every runtime call go through
// the helpers below, which check the status and throw foveal::Error naming the call.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "foveal/error.hpp"

#if defined(FOVEAL_SIMT_EMU)
#include "emu.hpp"
#define FOVEAL_DYNAMIC_SHARED(T, name) \
  T* name = reinterpret_cast<T*>(::foveal::simt_emu::dynamic_shared())
#else
#include <cuda_runtime.h>
#define FOVEAL_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

namespace foveal {
namespace gpu {

using Stream = cudaStream_t;

// Device memory ran out: Python's MemoryError (pybind11 maps std::bad_alloc), with the call.
class OutOfDeviceMemory : public std::bad_alloc {
 public:
  explicit OutOfDeviceMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

#if defined(FOVEAL_SIMT_EMU)
inline void check(cudaError_t, const char*) {}
#else
inline void check(cudaError_t status, const char* call) {
  if (status == cudaSuccess) return;
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw OutOfDeviceMemory(std::string("CUDA error in ") + call + ": out of device memory");
  }
  throw Error(std::string("CUDA error in ") + call + ": " + cudaGetErrorName(status) + " (" +
              cudaGetErrorString(status) + ")");
}
#endif

// kernel<<<grid, block, shared_bytes, stream>>>(args...), checked; ``name`` names the kernel
// in an error.
template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block,
            std::size_t shared_bytes, Stream stream, Args... args) {
#if defined(FOVEAL_SIMT_EMU)
  (void)name;
  (void)stream;
  ::foveal::simt_emu::run(grid, block, shared_bytes, [&] { kernel(args...); });
#else
  kernel<<<grid, block, shared_bytes, stream>>>(args...);
  check(cudaGetLastError(), name);
#endif
}

// A device buffer for a launch's temporaries, allocated and freed in stream order.
class Buffer {
 public:
  Buffer(std::size_t bytes, Stream stream) : stream_(stream) {
    if (bytes == 0) return;
#if defined(FOVEAL_SIMT_EMU)
    data_ = ::operator new(bytes);
#else
    check(cudaMallocAsync(&data_, bytes, stream), "cudaMallocAsync");
#endif
  }
  ~Buffer() {
    if (data_ == nullptr) return;
#if defined(FOVEAL_SIMT_EMU)
    ::operator delete(data_);
#else
    cudaFreeAsync(data_, stream_);
#endif
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  Stream stream_;
};

inline void memset_async(void* p, int value, std::size_t bytes, Stream stream) {
#if defined(FOVEAL_SIMT_EMU)
  (void)stream;
  std::memset(p, value, bytes);
#else
  check(cudaMemsetAsync(p, value, bytes, stream), "cudaMemsetAsync");
#endif
}

// Copies ``bytes`` between device buffers, or from host memory to the device (``to_device``);
// the host source must stay alive until the stream reaches the copy (pass pinned or
// long-lived memory) unless ``wait`` is set.
inline void copy_async(void* dst, const void* src, std::size_t bytes, Stream stream, bool from_host,
                       bool wait) {
#if defined(FOVEAL_SIMT_EMU)
  (void)stream;
  (void)from_host;
  (void)wait;
  std::memcpy(dst, src, bytes);
#else
  check(cudaMemcpyAsync(dst, src, bytes, from_host ? cudaMemcpyHostToDevice : cudaMemcpyDefault,
                        stream),
        "cudaMemcpyAsync");
  if (wait) check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
#endif
}

}  // namespace gpu
}  // namespace foveal

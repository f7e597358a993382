// The pooling kernels' launcher (pool.cu): torch.nn.functional's pools on contiguous NCHW
// planes. Like every launcher header of cuda/, plain C++ (no CUDA types), so that the bindings
// compile with the host compiler and serve the SIMT emulator's build too. Pointers are device
// pointers (host pointers under the emulator); ``stream`` is a cudaStream_t.
#pragma once

#include <cstdint>

#include "gpu_types.hpp"

namespace foveal {
namespace gpu {

enum class PoolKind { max, avg, lp };

struct PoolArgs {
  PoolKind kind = PoolKind::max;
  bool adaptive = false;  // adaptive_*_pool2d: windows [floor(o n / m), ceil((o + 1) n / m))
  Real dtype = Real::f32;
  const void* input = nullptr;
  void* output = nullptr;
  std::int64_t* indices = nullptr;  // max pools: flat y * W + x of each maximum, or null
  std::int64_t planes = 0, h = 0, w = 0, oh = 0, ow = 0;
  std::int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  bool count_include_pad = true;
  std::int64_t divisor_override = 0;  // 0: none
  double norm_type = 2.0;
};

void pool2d(const PoolArgs& args, void* stream);

}  // namespace gpu
}  // namespace foveal

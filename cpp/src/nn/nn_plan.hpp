// What the neural-network drivers (conv.cpp, pool.cpp) hand to the kernels compiled once per
// instruction set: plain data only, so that nothing with external linkage is compiled twice
// with different instruction sets. Every tensor is contiguous NCHW, float32 or float64.
#pragma once

#include <cstdint>

namespace foveal {
namespace detail {

// A 2-D convolution (torch's conv2d: cross-correlation). For image n and group g,
//   out[n, g*Mg + m, y, x] = bias[g*Mg + m]
//       + sum_{c < C_in/groups, i < kh, j < kw} weight[g*Mg + m, c, i, j]
//                                               * in[n, g*C_in/groups + c, y*sh - pad_top + i*dh,
//                                                    x*sw - pad_left + j*dw]
// with Mg = C_out / groups and zeros outside the input.
struct ConvPlan {
  bool wide = false;             // float64 (else float32)
  const void* input = nullptr;   // (n, c_in, h, w)
  const void* weight = nullptr;  // (c_out, c_in / groups, kh, kw)
  const void* bias = nullptr;    // (c_out,) or null
  void* output = nullptr;        // (n, c_out, oh, ow)
  std::int64_t n = 0, c_in = 0, h = 0, w = 0;
  std::int64_t c_out = 0, kh = 1, kw = 1, oh = 0, ow = 0;
  std::int64_t sh = 1, sw = 1, dh = 1, dw = 1, pad_top = 0, pad_left = 0;
  std::int64_t groups = 1;
};

enum class PoolKind { max, avg, lp };

// A pooling over each of `planes` (h, w) planes: window (kh, kw) with stride, padding and
// dilation, output (oh, ow) (torch's sizes, ceil_mode included, computed by the driver).
// Adaptive pools set `adaptive`: output (y, x) pools rows [floor(y*h/oh), ceil((y+1)*h/oh))
// and columns likewise, and the window fields are unused.
struct PoolPlan {
  bool wide = false;
  PoolKind kind = PoolKind::max;
  bool adaptive = false;
  const void* input = nullptr;      // (planes, h, w)
  void* output = nullptr;           // (planes, oh, ow)
  std::int64_t* indices = nullptr;  // max only: (planes, oh, ow) flat y*w + x, or null
  std::int64_t planes = 0, h = 0, w = 0, oh = 0, ow = 0;
  std::int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  bool count_include_pad = true;      // avg
  std::int64_t divisor_override = 0;  // avg: 0 for none
  double norm_type = 2.0;             // lp
};

}  // namespace detail
}  // namespace foveal

// The kernels of instruction set `isa` (see isa_table.hpp).
#define FOVEAL_DECLARE_NN_KERNELS(isa)                                                  \
  namespace foveal {                                                                    \
  namespace isa {                                                                       \
  /* the general case: implicit-im2col packed GEMM, threads over images, groups and */  \
  /* column blocks */                                                                   \
  void conv_gemm(const detail::ConvPlan& plan);                                         \
  /* groups == c_in (each output channel reads one input channel): direct, per plane */ \
  void conv_depthwise(const detail::ConvPlan& plan);                                    \
  void pool2d(const detail::PoolPlan& plan);                                            \
  }                                                                                     \
  }

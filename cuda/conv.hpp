// conv2d's launcher (conv.cu) and the implicit-GEMM kernels it runs (conv_gemm.cu): torch's
// conv2d (cross-correlation) on NCHW tensors in float16, bfloat16, float32 and float64. Plain
// C++ like every launcher header of cuda/ (see pool.hpp); pointers are device pointers (host
// pointers under the emulator), ``stream`` a cudaStream_t.
#pragma once

#include <cstdint>

namespace foveal {
namespace gpu {

enum class ConvType { f16, bf16, f32, f64 };

// out[n, g*og + o, y, x] = bias[g*og + o] + sum_{c < cg, i < kh, j < kw}
//     weight[g*og + o, c, i, j] * input[n, g*cg + c, y*sh - pad_top + i*dh, x*sw - pad_left + j*dw]
// with cg = c_in / groups, og = c_out / groups and zeros outside the input (the bottom and
// right padding are implied by oh, ow).
struct ConvArgs {
  ConvType dtype = ConvType::f32;
  bool tf32 = true;             // float32 through tf32 tensor cores (else plain float32 FMA)
  const void* input = nullptr;  // (n, c_in, h, w) with element strides below (any sign)
  std::int64_t in_sn = 0, in_sc = 0, in_sh = 0, in_sw = 0;
  const void* weight = nullptr;  // (c_out, cg, kh, kw), contiguous
  const void* bias = nullptr;    // (c_out,) or null
  void* output = nullptr;        // (n, c_out, oh, ow), contiguous
  std::int64_t n = 0, c_in = 0, h = 0, w = 0, c_out = 0, kh = 1, kw = 1, oh = 0, ow = 0;
  std::int64_t sh = 1, sw = 1, dh = 1, dw = 1, pad_top = 0, pad_left = 0, groups = 1;
};

void conv2d(const ConvArgs& args, void* stream);

namespace detail {

// The implicit GEMM's view of the problem (conv.cu has packed both operands): the input as
// (n, h, w, groups * cgp) and the weight as (c_out, kh * kw * cgp), each group's channels
// zero-padded to cgp, a multiple of 16 bytes' worth of elements.
struct ConvGemm {
  ConvType dtype = ConvType::f32;
  bool tf32 = true;
  const void* input = nullptr;   // packed (n, h, w, groups * cgp)
  const void* weight = nullptr;  // packed (c_out, kh * kw * cgp)
  const void* bias = nullptr;
  void* output = nullptr;  // (n, c_out, oh, ow)
  std::int64_t n = 0, h = 0, w = 0, oh = 0, ow = 0, c_out = 0, groups = 1;
  std::int64_t cgp = 0, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pad_top = 0, pad_left = 0;
};

void conv_gemm(const ConvGemm& plan, void* stream);

}  // namespace detail
}  // namespace gpu
}  // namespace foveal

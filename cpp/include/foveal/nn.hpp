// Neural-network operations on NCHW tensors (torch.nn.functional's semantics): 2-D
// convolution, pooling and ViT patch sequences. Every tensor is contiguous, float32 or float64,
// all of one dtype; outputs are preallocated by the caller with the sizes the *_output_size
// functions give.
#pragma once

#include <cstdint>

#include "foveal/image.hpp"

namespace foveal {

// A contiguous (n, c, h, w) tensor.
template <typename Ptr>
struct BasicTensorView {
  Ptr data = nullptr;
  DType dtype = DType::f32;
  std::int64_t n = 0, c = 0, h = 0, w = 0;
  std::int64_t size() const { return n * c * h * w; }
};

using TensorView = BasicTensorView<void*>;
using ConstTensorView = BasicTensorView<const void*>;

struct Conv2dOptions {
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t groups = 1;
};

// (n + pad_total - dilation*(k-1) - 1) / stride + 1, or 0 when the kernel does not fit.
std::int64_t conv_output_size(std::int64_t n, std::int64_t k, std::int64_t stride,
                              std::int64_t pad_total, std::int64_t dilation);

// out[n, m] = bias[m] + cross-correlation of the group's input channels with weight[m]:
// input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW), bias C_out values or null,
// out (N, C_out, OH, OW). Depthwise convolutions (groups == C_in) run a direct kernel, the rest
// a packed matrix product with implicit im2col.
void conv2d(const ConstTensorView& input, const ConstTensorView& weight, const void* bias,
            const TensorView& out, const Conv2dOptions& options);

struct Pool2dOptions {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  bool ceil_mode = false;
};

// torch's pooling output size: floor (or ceil) of (n + 2p - d*(k-1) - 1) / s, plus one, less
// one when ceil_mode would start the last window inside the right padding.
std::int64_t pool_output_size(std::int64_t n, std::int64_t k, std::int64_t stride, std::int64_t pad,
                              std::int64_t dilation, bool ceil_mode);

// Padding counts as -inf; indices (null, or out.size() values) get the flat h*W + w of each
// maximum in its input plane.
void max_pool2d(const ConstTensorView& input, const TensorView& out, std::int64_t* indices,
                const Pool2dOptions& options);
// divisor_override 0: none. Dilation must be 1.
void avg_pool2d(const ConstTensorView& input, const TensorView& out, const Pool2dOptions& options,
                bool count_include_pad, std::int64_t divisor_override);
// (avg_pool2d of input^p, unpadded, times kh*kw)^(1/p), as torch defines it.
void lp_pool2d(const ConstTensorView& input, const TensorView& out, double norm_type,
               const Pool2dOptions& options);
// Output (y, x) pools rows [floor(y*H/OH), ceil((y+1)*H/OH)) and columns likewise.
void adaptive_avg_pool2d(const ConstTensorView& input, const TensorView& out);
void adaptive_max_pool2d(const ConstTensorView& input, const TensorView& out,
                         std::int64_t* indices);

// images (N, C, H, W) to patches (N, L, C*ph*pw): patch l = (H/ph)-row-major (py, px), its
// values in (c, i, j) order; unpatchify is the inverse. H and W are multiples of ph and pw.
void patchify(const ConstTensorView& images, void* patches, std::int64_t ph, std::int64_t pw);
void unpatchify(const void* patches, const TensorView& images, std::int64_t ph, std::int64_t pw);

}  // namespace foveal

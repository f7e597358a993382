// Neural-network operations on NCHW tensors (torch.nn.functional's semantics): 2-D
// convolution, pooling and ViT patch sequences. Every tensor is contiguous, float32 or float64,
// all of one dtype; outputs are preallocated by the caller with the sizes the *_output_size
// functions give. Arithmetic is in that dtype (float32 accumulates in float32).
//
// Errors: TypeError for a dtype other than float32 / float64 or a tensor whose dtype differs
// from the input's; ValueError for the sizes and values each function names, and for an
// output of the wrong shape. Pointers beside the views (bias, indices, patches) are not
// checked: they must hold the number of values the comment gives.
//
// Threads: the foveal pool (over images, channels, planes or blocks of output columns);
// concurrent calls are safe. Inputs and outputs must not overlap.
#pragma once

#include <cstdint>

#include "foveal/image.hpp"

namespace foveal {

// A contiguous (n, c, h, w) tensor: element (i, j, y, x) is value ((i * c + j) * h + y) * w + x
// of data, in dtype (f32 or f64). Ptr is void* (TensorView, written) or const void*
// (ConstTensorView, read).
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
  // Zeros around the input; each side on its own (torch's padding=(ph, pw) is ph on top and
  // bottom, pw left and right; padding="same" may need one more on the bottom or right).
  std::int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t groups = 1;
};

// A convolution's output size along one axis of n values (pad_total = both sides' padding):
// (n + pad_total - dilation*(k-1) - 1) / stride + 1, or 0 when the kernel does not fit.
// stride must be >= 1 (not checked here).
std::int64_t conv_output_size(std::int64_t n, std::int64_t k, std::int64_t stride,
                              std::int64_t pad_total, std::int64_t dilation);

// torch.nn.functional.conv2d: out[n, m] = bias[m] + cross-correlation of the group's input
// channels with weight[m], zeros outside the input:
//   out[n, m, y, x] = bias[m] + sum over c < C_in/groups, i < kH, j < kW of weight[m, c, i, j]
//       * input[n, g*C_in/groups + c, y*stride_h - pad_top + i*dilation_h,
//               x*stride_w - pad_left + j*dilation_w],   g = m / (C_out/groups).
// input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW), bias C_out values of the input's
// dtype or null, out (N, C_out, OH, OW) with OH, OW from conv_output_size. Depthwise
// convolutions (groups == C_in) run a direct kernel, the rest a packed matrix product with
// implicit im2col. ValueError for a stride or dilation < 1, negative padding, groups that do
// not divide C_in and C_out, a weight of the wrong channel count or empty, or a wrong out; an
// empty out returns at once.
void conv2d(const ConstTensorView& input, const ConstTensorView& weight, const void* bias,
            const TensorView& out, const Conv2dOptions& options);

// torch's pooling arguments (stride is not defaulted to the kernel size here: set it).
struct Pool2dOptions {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  bool ceil_mode = false;
};

// torch's pooling output size: floor (or ceil) of (n + 2p - d*(k-1) - 1) / s, plus one, less
// one when ceil_mode would start the last window inside the right padding; 0 when the dilated
// window is longer than the padded input (by the stride or more, with ceil_mode).
std::int64_t pool_output_size(std::int64_t n, std::int64_t k, std::int64_t stride, std::int64_t pad,
                              std::int64_t dilation, bool ceil_mode);

// The sliding pools check, with ValueError: a non-empty input, out with the input's N and C and
// pool_output_size's OH x OW (which must be >= 1), kernel, stride and dilation >= 1, and
// 0 <= padding <= kernel / 2 (torch's rule).
//
// torch.nn.functional.max_pool2d(return_indices=indices != null): padding counts as -inf and a
// NaN in a window wins; indices (null, or out.size() values) get the flat h*W + w of each
// maximum in its input plane (the first in row-major window order; the last NaN, if any).
void max_pool2d(const ConstTensorView& input, const TensorView& out, std::int64_t* indices,
                const Pool2dOptions& options);
// torch.nn.functional.avg_pool2d: the window's sum divided by divisor_override (0: none;
// negative is a ValueError) or else by its size, counting the padding when count_include_pad
// (ceil_mode's extra windows never count what lies past the padding). Dilation must be 1
// (ValueError).
void avg_pool2d(const ConstTensorView& input, const TensorView& out, const Pool2dOptions& options,
                bool count_include_pad, std::int64_t divisor_override);
// torch.nn.functional.lp_pool2d(norm_type = p): (avg_pool2d of input^p, unpadded, times
// kh*kw)^(1/p), as torch defines it (so ceil_mode's edge windows are scaled, not plain sums).
// ValueError unless p is finite and > 0, the padding 0 and the dilation 1.
void lp_pool2d(const ConstTensorView& input, const TensorView& out, double norm_type,
               const Pool2dOptions& options);
// torch.nn.functional.adaptive_avg_pool2d / adaptive_max_pool2d(return_indices): output
// (y, x) pools rows [floor(y*H/OH), ceil((y+1)*H/OH)) and columns likewise; out may have any
// OH, OW >= 1 (ValueError otherwise) and the input's N and C. indices as max_pool2d's.
void adaptive_avg_pool2d(const ConstTensorView& input, const TensorView& out);
void adaptive_max_pool2d(const ConstTensorView& input, const TensorView& out,
                         std::int64_t* indices);

// images (N, C, H, W) to patches (N, L, C*ph*pw): patch l = (H/ph)-row-major (py, px), its
// values in (c, i, j) order; unpatchify is the inverse. H and W are multiples of ph and pw.
// patches holds N * (H/ph * W/pw) * C*ph*pw values of the images' dtype. This is
// torch.nn.functional.unfold(images, (ph, pw), stride=(ph, pw)).transpose(1, 2), a pure
// permutation (exact). TypeError for a dtype other than float32 / float64; ValueError for a
// patch size < 1 or one that does not divide H and W.
void patchify(const ConstTensorView& images, void* patches, std::int64_t ph, std::int64_t pw);
void unpatchify(const void* patches, const TensorView& images, std::int64_t ph, std::int64_t pw);

}  // namespace foveal

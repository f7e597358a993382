// conv2d's driver: argument checks, the plan, and the choice between the depthwise kernel and
// the packed matrix product of the active instruction set.
#include <string>

#include "foveal/error.hpp"
#include "foveal/nn.hpp"
#include "isa_table.hpp"
#include "nn_checks.hpp"
#include "nn_plan.hpp"

FOVEAL_FOR_EACH_ISA(FOVEAL_DECLARE_NN_KERNELS)

namespace foveal {
namespace {

using i64 = std::int64_t;

struct ConvKernels {
  decltype(&baseline::conv_gemm) conv_gemm;
  decltype(&baseline::conv_depthwise) conv_depthwise;
};

#define FOVEAL_CONV_KERNELS(isa)          \
  ConvKernels {                           \
    &isa::conv_gemm, &isa::conv_depthwise \
  }

FOVEAL_KERNEL_TABLE(ConvKernels, FOVEAL_CONV_KERNELS)

}  // namespace

i64 conv_output_size(i64 n, i64 k, i64 stride, i64 pad_total, i64 dilation) {
  const i64 span = n + pad_total - dilation * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

void conv2d(const ConstTensorView& input, const ConstTensorView& weight, const void* bias,
            const TensorView& out, const Conv2dOptions& o) {
  const char* fn = "conv2d";
  detail::check_float(fn, "input", input.dtype);
  detail::check_same_dtype(fn, "weight", weight.dtype, input.dtype);
  detail::check_same_dtype(fn, "out", out.dtype, input.dtype);
  if (o.stride_h < 1 || o.stride_w < 1) throw ValueError("conv2d: stride must be >= 1");
  if (o.dilation_h < 1 || o.dilation_w < 1) throw ValueError("conv2d: dilation must be >= 1");
  if (o.pad_top < 0 || o.pad_bottom < 0 || o.pad_left < 0 || o.pad_right < 0)
    throw ValueError("conv2d: padding must be >= 0");
  if (o.groups < 1 || input.c % o.groups || weight.n % o.groups)
    throw ValueError("conv2d: groups must divide the input and output channels");
  if (weight.c * o.groups != input.c)
    throw ValueError("conv2d: weight has " + std::to_string(weight.c) +
                     " input channels per group, expected " + std::to_string(input.c / o.groups));
  if (weight.h < 1 || weight.w < 1 || weight.n < 1) throw ValueError("conv2d: weight is empty");
  const i64 oh =
      conv_output_size(input.h, weight.h, o.stride_h, o.pad_top + o.pad_bottom, o.dilation_h);
  const i64 ow =
      conv_output_size(input.w, weight.w, o.stride_w, o.pad_left + o.pad_right, o.dilation_w);
  if (out.n != input.n || out.c != weight.n || out.h != oh || out.w != ow)
    throw ValueError("conv2d: out must have shape (" + std::to_string(input.n) + ", " +
                     std::to_string(weight.n) + ", " + std::to_string(oh) + ", " +
                     std::to_string(ow) + ")");
  if (out.size() == 0) return;

  detail::ConvPlan plan;
  plan.wide = input.dtype == DType::f64;
  plan.input = input.data;
  plan.weight = weight.data;
  plan.bias = bias;
  plan.output = out.data;
  plan.n = input.n, plan.c_in = input.c, plan.h = input.h, plan.w = input.w;
  plan.c_out = weight.n, plan.kh = weight.h, plan.kw = weight.w, plan.oh = oh, plan.ow = ow;
  plan.sh = o.stride_h, plan.sw = o.stride_w, plan.dh = o.dilation_h, plan.dw = o.dilation_w;
  plan.pad_top = o.pad_top, plan.pad_left = o.pad_left;
  plan.groups = o.groups;
  if (o.groups == input.c) {
    kernels().conv_depthwise(plan);
    return;
  }
  if (plan.kh == 1 && plan.kw == 1 && plan.sh == 1 && plan.sw == 1 && o.pad_top == 0 &&
      o.pad_bottom == 0 && o.pad_left == 0 && o.pad_right == 0) {
    // A 1 x 1 convolution reads each plane as one row: its im2col is the plane itself.
    plan.w = plan.ow = plan.h * plan.w;
    plan.h = plan.oh = 1;
  }
  kernels().conv_gemm(plan);
}

}  // namespace foveal

// Pooling drivers: torch's output sizes and argument rules, the plan, and the pooling kernel of
// the active instruction set.
#include <cmath>
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

struct PoolKernels {
  decltype(&baseline::pool2d) pool2d;
};

#define FOVEAL_POOL_KERNELS(isa) \
  PoolKernels {                  \
    &isa::pool2d                 \
  }

FOVEAL_KERNEL_TABLE(PoolKernels, FOVEAL_POOL_KERNELS)

std::string str(i64 v) {
  return std::to_string(v);
}

void check_pair(const char* fn, const char* arg, i64 a, i64 b, i64 min) {
  if (a < min || b < min)
    throw ValueError(std::string(fn) + ": " + arg + " must be >= " + str(min) + ", got (" + str(a) +
                     ", " + str(b) + ")");
}

detail::PoolPlan base_plan(const char* fn, const ConstTensorView& input, const TensorView& out) {
  detail::check_float(fn, "input", input.dtype);
  detail::check_same_dtype(fn, "out", out.dtype, input.dtype);
  if (input.size() == 0) throw ValueError(std::string(fn) + ": input must not be empty");
  if (out.n != input.n || out.c != input.c)
    throw ValueError(std::string(fn) + ": out must have the input's batch and channel sizes");
  detail::PoolPlan plan;
  plan.wide = input.dtype == DType::f64;
  plan.input = input.data;
  plan.output = out.data;
  plan.planes = input.n * input.c;
  plan.h = input.h, plan.w = input.w;
  plan.oh = out.h, plan.ow = out.w;
  return plan;
}

// A sliding-window plan: checks torch's rules and the output size.
detail::PoolPlan sliding_plan(const char* fn, const ConstTensorView& input, const TensorView& out,
                              const Pool2dOptions& o) {
  detail::PoolPlan plan = base_plan(fn, input, out);
  check_pair(fn, "kernel_size", o.kernel_h, o.kernel_w, 1);
  check_pair(fn, "stride", o.stride_h, o.stride_w, 1);
  check_pair(fn, "dilation", o.dilation_h, o.dilation_w, 1);
  check_pair(fn, "padding", o.pad_h, o.pad_w, 0);
  // torch's rule, on the undilated kernel size.
  if (o.pad_h > o.kernel_h / 2 || o.pad_w > o.kernel_w / 2)
    throw ValueError(std::string(fn) + ": padding must be at most half the kernel size, got (" +
                     str(o.pad_h) + ", " + str(o.pad_w) + ") for kernel (" + str(o.kernel_h) +
                     ", " + str(o.kernel_w) + ")");
  const i64 oh =
      pool_output_size(input.h, o.kernel_h, o.stride_h, o.pad_h, o.dilation_h, o.ceil_mode);
  const i64 ow =
      pool_output_size(input.w, o.kernel_w, o.stride_w, o.pad_w, o.dilation_w, o.ceil_mode);
  if (oh < 1 || ow < 1)
    throw ValueError(std::string(fn) + ": the output would be empty (" + str(oh) + " x " + str(ow) +
                     ") for input " + str(input.h) + " x " + str(input.w));
  if (out.h != oh || out.w != ow)
    throw ValueError(std::string(fn) + ": out must be " + str(oh) + " x " + str(ow) + ", got " +
                     str(out.h) + " x " + str(out.w));
  plan.kh = o.kernel_h, plan.kw = o.kernel_w;
  plan.sh = o.stride_h, plan.sw = o.stride_w;
  plan.ph = o.pad_h, plan.pw = o.pad_w;
  plan.dh = o.dilation_h, plan.dw = o.dilation_w;
  return plan;
}

detail::PoolPlan adaptive_plan(const char* fn, const ConstTensorView& input,
                               const TensorView& out) {
  detail::PoolPlan plan = base_plan(fn, input, out);
  if (out.h < 1 || out.w < 1) throw ValueError(std::string(fn) + ": output_size must be >= 1");
  plan.adaptive = true;
  return plan;
}

}  // namespace

i64 pool_output_size(i64 n, i64 k, i64 stride, i64 pad, i64 dilation, bool ceil_mode) {
  // torch's floor((span [+ stride - 1]) / stride) + 1: with ceil_mode a window longer than the
  // padded input still gives one output (a 1-row input, kernel 3, stride 3: one row out).
  const i64 span = n + 2 * pad - dilation * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  if (span < 0) return 0;
  i64 o = span / stride + 1;
  // The last window must start inside the input or its left padding.
  if (ceil_mode && (o - 1) * stride >= n + pad) --o;
  return o;
}

void max_pool2d(const ConstTensorView& input, const TensorView& out, i64* indices,
                const Pool2dOptions& o) {
  detail::PoolPlan plan = sliding_plan("max_pool2d", input, out, o);
  plan.kind = detail::PoolKind::max;
  plan.indices = indices;
  kernels().pool2d(plan);
}

void avg_pool2d(const ConstTensorView& input, const TensorView& out, const Pool2dOptions& o,
                bool count_include_pad, i64 divisor_override) {
  if (o.dilation_h != 1 || o.dilation_w != 1) throw ValueError("avg_pool2d: dilation must be 1");
  if (divisor_override < 0) throw ValueError("avg_pool2d: divisor_override must be > 0");
  detail::PoolPlan plan = sliding_plan("avg_pool2d", input, out, o);
  plan.kind = detail::PoolKind::avg;
  plan.count_include_pad = count_include_pad;
  plan.divisor_override = divisor_override;
  kernels().pool2d(plan);
}

void lp_pool2d(const ConstTensorView& input, const TensorView& out, double norm_type,
               const Pool2dOptions& o) {
  if (!(norm_type > 0) || !std::isfinite(norm_type))
    throw ValueError("lp_pool2d: norm_type must be a finite number > 0, got " +
                     std::to_string(norm_type));
  if (o.dilation_h != 1 || o.dilation_w != 1 || o.pad_h != 0 || o.pad_w != 0)
    throw ValueError("lp_pool2d: padding must be 0 and dilation 1");
  detail::PoolPlan plan = sliding_plan("lp_pool2d", input, out, o);
  plan.kind = detail::PoolKind::lp;
  plan.norm_type = norm_type;
  kernels().pool2d(plan);
}

void adaptive_avg_pool2d(const ConstTensorView& input, const TensorView& out) {
  detail::PoolPlan plan = adaptive_plan("adaptive_avg_pool2d", input, out);
  plan.kind = detail::PoolKind::avg;
  kernels().pool2d(plan);
}

void adaptive_max_pool2d(const ConstTensorView& input, const TensorView& out, i64* indices) {
  detail::PoolPlan plan = adaptive_plan("adaptive_max_pool2d", input, out);
  plan.kind = detail::PoolKind::max;
  plan.indices = indices;
  kernels().pool2d(plan);
}

}  // namespace foveal

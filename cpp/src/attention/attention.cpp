// The attention driver: argument checks, the plan, and the kernel of the active instruction set.
#include "foveal/attention.hpp"

#include <string>

#include "attention_plan.hpp"
#include "foveal/error.hpp"
#include "isa_table.hpp"
#include "nn_checks.hpp"

FOVEAL_FOR_EACH_ISA(FOVEAL_DECLARE_ATTENTION_KERNELS)

namespace foveal {
namespace {

struct AttentionKernels {
  decltype(&baseline::attention) attention;
};

#define FOVEAL_ATTENTION_KERNELS(isa) \
  AttentionKernels {                  \
    &isa::attention                   \
  }

FOVEAL_KERNEL_TABLE(AttentionKernels, FOVEAL_ATTENTION_KERNELS)

std::string shape(const BasicTensorView<const void*>& t) {
  return "(" + std::to_string(t.n) + ", " + std::to_string(t.c) + ", " + std::to_string(t.h) +
         ", " + std::to_string(t.w) + ")";
}

}  // namespace

void scaled_dot_product_attention(const ConstTensorView& q, const ConstTensorView& k,
                                  const ConstTensorView& v, const TensorView& out,
                                  const AttentionMask& mask, const AttentionOptions& o) {
  const char* fn = "scaled_dot_product_attention";
  detail::check_float(fn, "query", q.dtype);
  detail::check_same_dtype(fn, "key", k.dtype, q.dtype);
  detail::check_same_dtype(fn, "value", v.dtype, q.dtype);
  detail::check_same_dtype(fn, "out", out.dtype, q.dtype);
  if (k.n != q.n || v.n != q.n || v.c != k.c || v.h != k.h || k.w != q.w)
    throw ValueError(std::string(fn) + ": key " + shape(k) + " and value " + shape(v) +
                     " do not match query " + shape(q));
  if (k.c < 1 || q.c % k.c)
    throw ValueError(std::string(fn) + ": the key heads (" + std::to_string(k.c) +
                     ") must divide the query heads (" + std::to_string(q.c) + ")");
  if (out.n != q.n || out.c != q.c || out.h != q.h || out.w != v.w)
    throw ValueError(std::string(fn) + ": out must have shape (" + std::to_string(q.n) + ", " +
                     std::to_string(q.c) + ", " + std::to_string(q.h) + ", " + std::to_string(v.w) +
                     ")");
  if (q.h < 1 || k.h < 1 || q.w < 1 || v.w < 1)
    throw ValueError(std::string(fn) + ": sequence lengths and head sizes must be >= 1");
  if (out.size() == 0) return;
  detail::AttentionPlan plan;
  plan.wide = q.dtype == DType::f64;
  plan.q = q.data, plan.k = k.data, plan.v = v.data, plan.out = out.data;
  plan.mask = mask.data;
  plan.mask_b = mask.stride_b, plan.mask_h = mask.stride_h;
  plan.mask_l = mask.stride_l, plan.mask_s = mask.stride_s;
  plan.b = q.n, plan.hq = q.c, plan.hkv = k.c, plan.l = q.h, plan.s = k.h;
  plan.e = q.w, plan.ev = v.w;
  plan.scale = o.scale, plan.causal = o.causal, plan.empty_row = o.empty_row;
  kernels().attention(plan);
}

}  // namespace foveal

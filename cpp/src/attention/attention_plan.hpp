// What the attention driver hands to the kernels compiled once per instruction set: plain data.
#pragma once

#include <cstdint>

namespace foveal {
namespace detail {

// Scaled dot-product attention over b batches of hq query heads, each query head h reading
// key/value head h / (hq / hkv):
//   out[b, h, i] = sum_j softmax_j(scale * q[b, h, i] . k[b, g, j] + mask[b, h, i, j]) v[b, g, j]
// q (b, hq, l, e), k (b, hkv, s, e), v (b, hkv, s, ev), out (b, hq, l, ev), all contiguous.
// mask: additive, element (b, h, i, j) at mask + b*mask_b + h*mask_h + i*mask_l + j*mask_s
// (strides in values, 0 along broadcast dimensions), or null. causal: key j takes part for
// query i only when j <= i. Rows with no key taking part give empty_row (NaN or 0).
struct AttentionPlan {
  bool wide = false;  // float64 (else float32)
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* out = nullptr;
  const void* mask = nullptr;
  std::int64_t mask_b = 0, mask_h = 0, mask_l = 0, mask_s = 0;
  std::int64_t b = 0, hq = 0, hkv = 0, l = 0, s = 0, e = 0, ev = 0;
  double scale = 1.0;
  bool causal = false;
  double empty_row = 0.0;
};

}  // namespace detail
}  // namespace foveal

#define FOVEAL_DECLARE_ATTENTION_KERNELS(isa)        \
  namespace foveal {                                 \
  namespace isa {                                    \
  void attention(const detail::AttentionPlan& plan); \
  }                                                  \
  }

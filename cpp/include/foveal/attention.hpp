// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention's numbers),
// fused flash-attention style: memory grows with the sequence lengths times the head sizes,
// never with l x s.
#pragma once

#include <cstdint>

#include "foveal/nn.hpp"

namespace foveal {

// An additive mask indexed (b, h, i, j): element at data + b*stride_b + h*stride_h + i*stride_l
// + j*stride_s (strides in values, 0 along broadcast dimensions), of the queries' dtype.
struct AttentionMask {
  const void* data = nullptr;
  std::int64_t stride_b = 0, stride_h = 0, stride_l = 0, stride_s = 0;
};

struct AttentionOptions {
  double scale = 1.0;      // applied to q . k before the mask is added
  bool causal = false;     // key j takes part for query i only when j <= i
  double empty_row = 0.0;  // the output of a row none of whose keys takes part
};

// query (b, hq, l, e), key (b, hkv, s, e), value (b, hkv, s, ev), out (b, hq, l, ev), all
// contiguous and of one dtype (float32 or float64); hkv divides hq and query head h reads
// key/value head h / (hq / hkv).
void scaled_dot_product_attention(const ConstTensorView& query, const ConstTensorView& key,
                                  const ConstTensorView& value, const TensorView& out,
                                  const AttentionMask& mask, const AttentionOptions& options);

}  // namespace foveal

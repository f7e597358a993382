// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention's numbers),
// fused flash-attention style: memory grows with the sequence lengths times the head sizes,
// never with l x s.
//
// For batch b, query head h (reading key/value head g = h / (hq / hkv), torch's enable_gqa)
// and query row i:
//   x_ij = scale * q[b, h, i] . k[b, g, j] + mask(b, h, i, j)     (-inf where causal and j > i)
//   out[b, h, i] = sum_j exp(x_ij - max_j x_ij) v[b, g, j] / sum_j exp(x_ij - max_j x_ij)
// by an online softmax over tiles of keys. A row whose every x_ij is -inf (all masked) gets
// options.empty_row in every column: 0 is what torch's scaled_dot_product_attention gives,
// NaN what softmax(x) @ v gives.
//
// Threads: the foveal pool, one task per (batch, query head, tile of 48 query rows), after
// the keys and values are packed once per (batch, kv head) into a scratch copy (about
// b * hkv * s * (e + ev) values). Concurrent calls are safe. Arithmetic is in the inputs'
// dtype (float32 accumulates in float32, as torch does on the CPU).
#pragma once

#include <cstdint>

#include "foveal/nn.hpp"

namespace foveal {

// An additive mask indexed (b, h, i, j): element at data + b*stride_b + h*stride_h + i*stride_l
// + j*stride_s (strides in values, 0 along broadcast dimensions), of the queries' dtype; -inf
// hides a key. data null: no mask. A torch boolean mask (True = take part) is 0 / -inf here.
// Neither the strides nor the values are checked.
struct AttentionMask {
  const void* data = nullptr;
  std::int64_t stride_b = 0, stride_h = 0, stride_l = 0, stride_s = 0;
};

struct AttentionOptions {
  // Applied to q . k before the mask is added. Unlike torch, there is no default of
  // 1 / sqrt(e): pass it.
  double scale = 1.0;
  // Key j takes part for query i only when j <= i: torch's is_causal, aligned top-left
  // (tril(ones(l, s))) when l != s.
  bool causal = false;
  double empty_row = 0.0;  // the output of a row none of whose keys takes part
};

// query (b, hq, l, e), key (b, hkv, s, e), value (b, hkv, s, ev), out (b, hq, l, ev), all
// contiguous and of one dtype (float32 or float64); hkv divides hq and query head h reads
// key/value head h / (hq / hkv). Throws TypeError for a query dtype other than float32 /
// float64 or another tensor of a different dtype; ValueError when the batch sizes differ, key
// and value differ in heads or length, key's head size is not query's, hkv does not divide
// hq, out is not (b, hq, l, ev), or a length or head size is 0. out must not overlap the
// inputs.
void scaled_dot_product_attention(const ConstTensorView& query, const ConstTensorView& key,
                                  const ConstTensorView& value, const TensorView& out,
                                  const AttentionMask& mask, const AttentionOptions& options);

}  // namespace foveal

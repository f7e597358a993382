// The fused scaled dot-product attention launcher (attention.cu): torch's
// scaled_dot_product_attention on tensor cores for float16, bfloat16 and float32 (3xTF32).
// Like every launcher header of cuda/, plain C++ (no CUDA types), so that the bindings compile
// with the host compiler and serve the SIMT emulator's build too. Pointers are device pointers
// (host pointers under the emulator); ``stream`` is a cudaStream_t.
#pragma once

#include <cstdint>

namespace foveal {
namespace gpu {

enum class AttentionDtype { f16, bf16, f32 };

// How the mask is read: not at all, as bytes (nonzero: the key takes part) or as values of the
// inputs' dtype added to the scaled scores.
enum class AttentionMaskKind { none, boolean, additive };

// The widest query/key (E) and value (Ev) head the kernels take: they are compiled for head
// tiles of 64, 128 and 256 and run any narrower head on the next tile up.
constexpr std::int64_t kAttentionMaxHead = 256;

// out[b, h, i] = sum_j softmax_j(scale q[b, h, i] . k[b, g, j] + mask[b, h, i, j]) v[b, g, j]
// with g = h / (hq / hkv): q (b, hq, l, e), k (b, hkv, s, e), v (b, hkv, s, ev),
// out (b, hq, l, ev). Every tensor's last dimension is contiguous; the others are strided:
// ``*_stride`` holds the (batch, head, row) strides in elements, any sign, 0 for a broadcast
// dimension of an input. The mask's element (b, h, i, j) is at
// mask + b*mask_stride[0] + h*mask_stride[1] + i*mask_stride[2] + j*mask_stride[3]. causal:
// key j takes part for query i only when j <= i (torch's top-left alignment). A row none of
// whose keys takes part gives ``empty_row``. lse, when not null: float32 (b, hq, l),
// contiguous, receives log sum_j exp(x_ij) per row (+inf for a row with no key), for a
// backward pass.
struct AttentionArgs {
  AttentionDtype dtype = AttentionDtype::f16;
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* out = nullptr;
  const void* mask = nullptr;
  AttentionMaskKind mask_kind = AttentionMaskKind::none;
  float* lse = nullptr;
  std::int64_t b = 0, hq = 0, hkv = 0, l = 0, s = 0, e = 0, ev = 0;
  std::int64_t q_stride[3] = {0, 0, 0};
  std::int64_t k_stride[3] = {0, 0, 0};
  std::int64_t v_stride[3] = {0, 0, 0};
  std::int64_t out_stride[3] = {0, 0, 0};
  std::int64_t mask_stride[4] = {0, 0, 0, 0};
  float scale = 1.0f;
  bool causal = false;
  float empty_row = 0.0f;
  // Set by the launcher: every row of q, k, v and out starts on 16 bytes and holds whole
  // 16-byte chunks, so tiles move by cp.async (else element by element).
  bool vectorized = false;
};

void scaled_dot_product_attention(AttentionArgs args, void* stream);

namespace attention_detail {
// One kernel instantiation's launch (attention_kernel.cuh), compiled in its own file per
// dtype (attention_f16.cu, attention_bf16.cu, attention_f32.cu) so that builds run in
// parallel: head tile D, additive mask or not.
template <AttentionDtype dtype, int D, bool additive>
void launch(const AttentionArgs& args, void* stream);
}  // namespace attention_detail

}  // namespace gpu
}  // namespace foveal

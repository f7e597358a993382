// The fused attention launcher: checks what could reach memory out of bounds, decides whether
// tiles move by cp.async (16-byte rows) or element by element, and picks the kernel
// instantiation (attention_kernel.cuh) by dtype, head tile and mask kind.
//
// Every device from sm_80 on runs the mma.sync kernel, sm_90 (H100/H200) included. The seam
// for a Hopper kernel (warpgroup MMA fed by the tensor-memory accelerator, built for
// compute_90a) is here: it would be chosen by the device's compute capability before the
// dispatch below, with the same AttentionArgs. It is not written: it needs a GPU to develop.
#include <cstdint>
#include <string>

#include "attention.hpp"
#include "foveal/error.hpp"

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;

int element_bytes(AttentionDtype dtype) {
  return dtype == AttentionDtype::f32 ? 4 : 2;
}

// Whether every row of the tensor starts on 16 bytes and holds whole 16-byte chunks.
bool rows_of_chunks(const void* p, const i64 (&stride)[3], i64 cols, int bytes) {
  const i64 per = 16 / bytes;
  if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0 || cols % per != 0) return false;
  for (i64 s : stride)
    if (s % per != 0) return false;
  return true;
}

template <AttentionDtype dtype, int D>
void dispatch_mask(const AttentionArgs& a, void* stream) {
  if (a.mask_kind == AttentionMaskKind::additive)
    attention_detail::launch<dtype, D, true>(a, stream);
  else
    attention_detail::launch<dtype, D, false>(a, stream);
}

template <AttentionDtype dtype>
void dispatch_head(const AttentionArgs& a, void* stream) {
  const i64 d = a.e > a.ev ? a.e : a.ev;
  if (d <= 64)
    dispatch_mask<dtype, 64>(a, stream);
  else if (d <= 128)
    dispatch_mask<dtype, 128>(a, stream);
  else
    dispatch_mask<dtype, 256>(a, stream);
}

}  // namespace

void scaled_dot_product_attention(AttentionArgs a, void* stream) {
  const char* fn = "scaled_dot_product_attention";
  if (a.b < 0 || a.hq < 1 || a.hkv < 1 || a.hq % a.hkv != 0 || a.l < 1 || a.s < 1)
    throw ValueError(std::string(fn) + ": bad sizes");
  if (a.e < 1 || a.ev < 1 || a.e > kAttentionMaxHead || a.ev > kAttentionMaxHead)
    throw ValueError(std::string(fn) + ": head sizes must be 1.." +
                     std::to_string(kAttentionMaxHead));
  if (!a.q || !a.k || !a.v || !a.out || (a.mask_kind != AttentionMaskKind::none && !a.mask))
    throw ValueError(std::string(fn) + ": null pointer");
  const int bytes = element_bytes(a.dtype);
  a.vectorized = rows_of_chunks(a.q, a.q_stride, a.e, bytes) &&
                 rows_of_chunks(a.k, a.k_stride, a.e, bytes) &&
                 rows_of_chunks(a.v, a.v_stride, a.ev, bytes) &&
                 rows_of_chunks(a.out, a.out_stride, a.ev, bytes);
  if (a.b == 0) return;
  switch (a.dtype) {
    case AttentionDtype::f16:
      dispatch_head<AttentionDtype::f16>(a, stream);
      break;
    case AttentionDtype::bf16:
      dispatch_head<AttentionDtype::bf16>(a, stream);
      break;
    case AttentionDtype::f32:
      dispatch_head<AttentionDtype::f32>(a, stream);
      break;
  }
}

}  // namespace gpu
}  // namespace foveal

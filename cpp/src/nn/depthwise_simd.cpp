// Depthwise 2-D convolution (groups == C_in: each output channel reads one input channel),
// compiled once per instruction set. For output channel m of image n, reading input channel
// c = m / (C_out / C_in):
//
//   out[n, m, y, x] = bias[m] + sum_{i, j} weight[m, 0, i, j] * in[n, c, y*sh - pt + i*dh, x*sw -
//   pl + j*dw]
//
// With one input channel per output there is no reduction over channels to share, so a GEMM
// would be a product of width one. Direct instead, one task per (image, output channel): the
// input plane is padded with zeros on the left and right and split into stride phases once
// (phase_rows.hpp), so that each tap of an output row is one contiguous run; output rows are
// accumulated in registers, four vectors at a time, over the taps whose input row exists.
#include <cstdint>
#include <cstring>

#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "nn_plan.hpp"
#include "phase_rows.hpp"
#include "simd.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::ConvPlan;

template <typename T>
void depthwise_task(void* context, i64 index) {
  using Ln = Lanes<T>;
  using V = typename Ln::W;
  constexpr i64 L = Ln::N;
  const ConvPlan& plan = *static_cast<const ConvPlan*>(context);
  const i64 m = index % plan.c_out, n = index / plan.c_out;
  const i64 c = m / (plan.c_out / plan.c_in);
  const i64 H = plan.h, W = plan.w, OH = plan.oh, OW = plan.ow;
  const i64 pl = plan.pad_left;
  // Padded row: pl zeros, the W values, zeros up to the last column any tap reads.
  const i64 wp = max_of(pl + W, (OW - 1) * plan.sw + (plan.kw - 1) * plan.dw + 1);
  const Phases ph = Phases::of(wp, plan.sw);
  const i64 row_len = ph.s * ph.q;
  const i64 taps = plan.kh * plan.kw;
  Scratch scratch(static_cast<std::size_t>(H * row_len + wp) * sizeof(T) +
                  static_cast<std::size_t>(taps) * (sizeof(T) + sizeof(const T*)));
  T* planes = static_cast<T*>(scratch.p);
  T* padded = planes + H * row_len;
  T* tap_w = padded + wp;
  const T** tap_src = reinterpret_cast<const T**>(tap_w + taps);

  const T* src = static_cast<const T*>(plan.input) + (n * plan.c_in + c) * H * W;
  for (i64 i = 0; i < wp; ++i) padded[i] = T(0);
  for (i64 y = 0; y < H; ++y) {
    // Stride 1 has one phase: the padded row itself, written in place.
    T* row = ph.s == 1 ? planes + y * row_len : padded;
    if (ph.s == 1) {
      for (i64 i = 0; i < pl; ++i) row[i] = T(0);
      for (i64 i = pl + W; i < wp; ++i) row[i] = T(0);
    }
    copy_row(row + pl, src + y * W, W);
    if (ph.s != 1) split_phases(padded, wp, ph, planes + y * row_len);
  }

  const T* weight = static_cast<const T*>(plan.weight) + m * taps;
  const T b = plan.bias ? static_cast<const T*>(plan.bias)[m] : T(0);
  T* out = static_cast<T*>(plan.output) + (n * plan.c_out + m) * OH * OW;
  for (i64 y = 0; y < OH; ++y) {
    // The taps of this output row whose input row exists.
    int count = 0;
    for (i64 i = 0; i < plan.kh; ++i) {
      const i64 iy = y * plan.sh - plan.pad_top + i * plan.dh;
      if (iy < 0 || iy >= H) continue;
      for (i64 j = 0; j < plan.kw; ++j) {
        tap_w[count] = weight[i * plan.kw + j];
        tap_src[count] = planes + iy * row_len + ph.start(j * plan.dw);
        ++count;
      }
    }
    T* o = out + y * OW;
    i64 x = 0;
    for (; x + 4 * L <= OW; x += 4 * L) {
      V a0 = Ln::splat(b), a1 = a0, a2 = a0, a3 = a0;
      for (int t = 0; t < count; ++t) {
        const V w = Ln::splat(tap_w[t]);
        const T* s = tap_src[t] + x;
        a0 += w * Ln::load(s);
        a1 += w * Ln::load(s + L);
        a2 += w * Ln::load(s + 2 * L);
        a3 += w * Ln::load(s + 3 * L);
      }
      Ln::store(o + x, a0);
      Ln::store(o + x + L, a1);
      Ln::store(o + x + 2 * L, a2);
      Ln::store(o + x + 3 * L, a3);
    }
    for (; x + L <= OW; x += L) {
      V a = Ln::splat(b);
      for (int t = 0; t < count; ++t) a += Ln::splat(tap_w[t]) * Ln::load(tap_src[t] + x);
      Ln::store(o + x, a);
    }
    for (; x < OW; ++x) {
      T a = b;
      for (int t = 0; t < count; ++t) a += tap_w[t] * tap_src[t][x];
      o[x] = a;
    }
  }
}

}  // namespace

void conv_depthwise(const ConvPlan& plan) {
  const i64 tasks = plan.n * plan.c_out;
  if (plan.wide)
    parallel_for_raw(tasks, depthwise_task<double>, const_cast<ConvPlan*>(&plan));
  else
    parallel_for_raw(tasks, depthwise_task<float>, const_cast<ConvPlan*>(&plan));
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

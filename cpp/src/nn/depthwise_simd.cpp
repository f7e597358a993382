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
// (phase_rows.hpp), so that each tap of an output row is one contiguous run; two output rows by
// up to four vectors are accumulated in registers at a time over every tap.
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

// R output rows by NV vectors at column x: R * NV independent accumulators, enough of them
// (eight) to keep both FMA pipes busy through the FMA latency. Each row r has its own list of
// `taps` source pointers (a zero row where the tap's input row is outside the image).
template <typename T, int R, int NV>
void depthwise_block(int taps, const T* tap_w, const T* const* const* tap_src, T b, i64 x,
                     T* const* out) {
  using Ln = Lanes<T>;
  using V = typename Ln::W;
  constexpr i64 L = Ln::N;
  V acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = Ln::splat(b);
  for (int t = 0; t < taps; ++t) {
    const V w = Ln::splat(tap_w[t]);
    for (int r = 0; r < R; ++r) {
      const T* s = tap_src[r][t] + x;
      for (int v = 0; v < NV; ++v) acc[r][v] += w * Ln::load(s + v * L);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) Ln::store(out[r] + x + v * L, acc[r][v]);
}

// One output row pair (or the last single row): blocks of four vectors, then the vectors
// left, then the last partial vector recomputed as the row's final full one (outputs are pure
// functions of the input, so overlapping writes agree); rows narrower than a vector, scalar.
template <typename T, int R>
void depthwise_rows(int taps, const T* tap_w, const T* const* const* tap_src, T b, i64 ow,
                    T* const* out) {
  constexpr i64 L = Lanes<T>::N;
  if (ow < L) {
    for (int r = 0; r < R; ++r)
      for (i64 x = 0; x < ow; ++x) {
        T a = b;
        for (int t = 0; t < taps; ++t) a += tap_w[t] * tap_src[r][t][x];
        out[r][x] = a;
      }
    return;
  }
  i64 x = 0;
  for (; x + 4 * L <= ow; x += 4 * L) depthwise_block<T, R, 4>(taps, tap_w, tap_src, b, x, out);
  switch ((ow - x) / L) {
    case 3:
      depthwise_block<T, R, 3>(taps, tap_w, tap_src, b, x, out);
      break;
    case 2:
      depthwise_block<T, R, 2>(taps, tap_w, tap_src, b, x, out);
      break;
    case 1:
      depthwise_block<T, R, 1>(taps, tap_w, tap_src, b, x, out);
      break;
    default:
      break;
  }
  if (ow % L) depthwise_block<T, R, 1>(taps, tap_w, tap_src, b, ow - L, out);
}

template <typename T>
void depthwise_task(void* context, i64 index) {
  const ConvPlan& plan = *static_cast<const ConvPlan*>(context);
  const i64 m = index % plan.c_out, n = index / plan.c_out;
  const i64 c = m / (plan.c_out / plan.c_in);
  const i64 H = plan.h, W = plan.w, OH = plan.oh, OW = plan.ow;
  const i64 pl = plan.pad_left;
  // Padded row: pl zeros, the W values, zeros up to the last column any tap reads.
  const i64 wp = max_of(pl + W, (OW - 1) * plan.sw + (plan.kw - 1) * plan.dw + 1);
  const Phases ph = Phases::of(wp, plan.sw);
  const i64 row_len = ph.s * ph.q;
  const int taps = static_cast<int>(plan.kh * plan.kw);
  // Two rows' tap pointers and the column taps' offsets (8-byte values first, for their
  // alignment), then the planes, a zero row, one padded row for splitting and the tap weights.
  Scratch scratch(static_cast<std::size_t>(2 * taps) * sizeof(const T*) +
                  static_cast<std::size_t>(plan.kw) * sizeof(i64) +
                  static_cast<std::size_t>((H + 1) * row_len + wp + taps) * sizeof(T));
  const T** tap_ptr = static_cast<const T**>(scratch.p);
  const T* const* tap_src[2] = {tap_ptr, tap_ptr + taps};
  // Where column tap j of output column 0 starts in a row of phases.
  i64* tap_col = reinterpret_cast<i64*>(tap_ptr + 2 * taps);
  for (i64 j = 0; j < plan.kw; ++j) tap_col[j] = ph.start(j * plan.dw);
  T* planes = reinterpret_cast<T*>(tap_col + plan.kw);
  T* zeros = planes + H * row_len;
  T* padded = zeros + row_len;
  T* tap_w = padded + wp;

  const T* src = static_cast<const T*>(plan.input) + (n * plan.c_in + c) * H * W;
  for (i64 i = 0; i < row_len; ++i) zeros[i] = T(0);
  for (i64 i = 0; i < wp; ++i) padded[i] = T(0);
  for (i64 y = 0; y < H; ++y) {
    // Stride 1 has one phase: the padded row itself, written in place.
    T* row = ph.s == 1 ? planes + y * row_len : padded;
    if (ph.s == 1) {
      for (i64 i = 0; i < pl; ++i) row[i] = T(0);
      for (i64 i = pl + W; i < wp; ++i) row[i] = T(0);
    }
    prefetch_values(src + (y + 8) * W, W);
    copy_row(row + pl, src + y * W, W);
    if (ph.s != 1) split_phases(padded, wp, ph, planes + y * row_len);
  }

  const T* weight = static_cast<const T*>(plan.weight) + m * taps;
  for (int t = 0; t < taps; ++t) tap_w[t] = weight[t];
  const T b = plan.bias ? static_cast<const T*>(plan.bias)[m] : T(0);
  T* out = static_cast<T*>(plan.output) + (n * plan.c_out + m) * OH * OW;
  for (i64 y = 0; y < OH; y += 2) {
    const int rows = OH - y >= 2 ? 2 : 1;
    T* out_rows[2] = {out + y * OW, out + (y + rows - 1) * OW};
    for (int r = 0; r < rows; ++r) {
      for (i64 i = 0; i < plan.kh; ++i) {
        const i64 iy = (y + r) * plan.sh - plan.pad_top + i * plan.dh;
        const T* row = iy < 0 || iy >= H ? zeros : planes + iy * row_len;
        for (i64 j = 0; j < plan.kw; ++j) tap_ptr[r * taps + i * plan.kw + j] = row + tap_col[j];
      }
    }
    if (rows == 2)
      depthwise_rows<T, 2>(taps, tap_w, tap_src, b, OW, out_rows);
    else
      depthwise_rows<T, 1>(taps, tap_w, tap_src, b, OW, out_rows);
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

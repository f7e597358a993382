// Fused scaled dot-product attention (flash-attention style), compiled once per instruction
// set. For each batch b, query head h (key/value head g = h / (hq / hkv)) and query row i:
//
//   out[i] = sum_j p_ij v[j] / sum_j p_ij,   p_ij = exp(x_ij - max_j x_ij),
//   x_ij = scale * q[i] . k[j] + mask[i, j]   (-inf where j is masked or, causal, j > i)
//
// One task per (b, h, tile of BR query rows). The task walks the keys in tiles of BC: the
// BR x BC scores by a register-tiled product (tile.hpp) against K packed in NR-key panels,
// then the online softmax (running maximum m and sum l per row: when the maximum rises, the
// row's output so far and its sum are rescaled by exp(m_old - m_new)), then the output
// accumulated by a second register-tiled product of the probabilities with V packed in
// NR-column panels. Memory is O(rows x (e + ev)) per task, never l x s; causal tiles that lie
// entirely above the diagonal are never visited. Arithmetic is in the input's precision
// (float32 with float32 accumulation, as torch does).
#include <cstdint>
#include <cstring>
#include <limits>

#include "attention_plan.hpp"
#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "simd.hpp"
#include "tile.hpp"
#include "vec_exp.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::AttentionPlan;

constexpr i64 kRows = 48;   // BR: query rows per task (a multiple of MR)
constexpr i64 kKeys = 128;  // BC: keys per tile (a multiple of every NR)
constexpr double kLog2e = 1.4426950408889634;

template <typename T>
struct AttentionJob {
  const AttentionPlan* plan;
  i64 s_pad, ev_pad, row_tiles;
  T* k_panels;  // per (b, g): s_pad / NR panels of e x NR keys
  T* v_panels;  // per (b, g): ev_pad / NR panels of s_pad x NR values
};

// Packs the keys and values of one (b, g): K by NR keys, V by NR columns, zero-padded.
template <typename T>
void pack_kv(void* context, i64 index) {
  constexpr i64 NR = Tile<T>::NR;
  const AttentionJob<T>& job = *static_cast<const AttentionJob<T>*>(context);
  const AttentionPlan& plan = *job.plan;
  const i64 S = plan.s, E = plan.e, Ev = plan.ev;
  const T* k = static_cast<const T*>(plan.k) + index * S * E;
  const T* v = static_cast<const T*>(plan.v) + index * S * Ev;
  T* kp = job.k_panels + index * job.s_pad * E;
  T* vp = job.v_panels + index * job.s_pad * job.ev_pad;
  for (i64 p = 0; p < job.s_pad / NR; ++p) {
    // A transpose by panel: NR key rows (in L1) read across, each panel row written whole.
    T* panel = kp + p * E * NR;
    const i64 keys = max_of<i64>(0, min_of<i64>(NR, S - p * NR));
    for (i64 d = 0; d < E; ++d) {
      T* dst = panel + d * NR;
      for (i64 lane = 0; lane < keys; ++lane) dst[lane] = k[(p * NR + lane) * E + d];
      for (i64 lane = keys; lane < NR; ++lane) dst[lane] = T(0);
    }
  }
  for (i64 c = 0; c < job.ev_pad / NR; ++c) {
    T* panel = vp + c * job.s_pad * NR;
    const i64 cols = min_of<i64>(NR, Ev - c * NR);
    for (i64 j = 0; j < job.s_pad; ++j) {
      T* dst = panel + j * NR;
      i64 lane = 0;
      if (j < S) {
        copy_row(dst, v + j * Ev + c * NR, cols);
        lane = cols;
      }
      for (; lane < NR; ++lane) dst[lane] = T(0);
    }
  }
}

// The online-softmax step of one row of a (scaled) score tile: mask, new maximum, probabilities
// written over the scores, returns the factor by which the row's previous output and sum
// shrink. `live` keys of the tile take part in principle (the rest are past s or, causal, past
// the row) of the `width` computed; mask_row is the row's mask at the tile's first key, or
// null.
template <typename T>
T softmax_step(T* x, i64 width, i64 live, const T* mask_row, i64 mask_s, T& m, T& l) {
  using Ln = Lanes<T>;
  using V = typename Ln::W;
  constexpr i64 L = Ln::N;
  constexpr T inf = std::numeric_limits<T>::infinity();
  // exp(x - shift) = 2^((x - shift) log2 e): the difference first, so that huge finite
  // scores and masks (finfo.min as padding) compare and cancel as they do in torch.
  constexpr T log2e = static_cast<T>(kLog2e);
  i64 j = 0;
  if (mask_row && mask_s == 1) {
    for (; j + L <= live; j += L) Ln::store(x + j, Ln::load(x + j) + Ln::load(mask_row + j));
    for (; j < live; ++j) x[j] += mask_row[j];
  } else if (mask_row) {
    for (; j < live; ++j) x[j] += mask_row[j * mask_s];
  }
  // Past `live` the probabilities are 0: the vectors that hold only such keys are written as
  // zeros rather than exponentiated (the causal diagonal's tiles), the one straddling `live`
  // gets -inf in its dead lanes.
  const i64 lo = live < 0 ? 0 : live;
  const i64 used = (lo + L - 1) / L * L;
  for (j = lo; j < used; ++j) x[j] = -inf;
  for (j = used; j < width; ++j) x[j] = T(0);
  V mv0 = Ln::splat(-inf), mv1 = mv0;
  for (j = 0; j + 2 * L <= used; j += 2 * L) {
    const V a = Ln::load(x + j), b = Ln::load(x + j + L);
    mv0 = a > mv0 ? a : mv0;
    mv1 = b > mv1 ? b : mv1;
  }
  if (j < used) {
    const V a = Ln::load(x + j);
    mv0 = a > mv0 ? a : mv0;
  }
  const V mv = mv0 > mv1 ? mv0 : mv1;
  T tile_max = -inf;
  for (i64 t = 0; t < L; ++t) tile_max = mv[t] > tile_max ? mv[t] : tile_max;
  const T m_new = tile_max > m ? tile_max : m;
  // With every score so far -inf, subtract 0: the probabilities are exactly 0.
  const T shift = m_new == -inf ? T(0) : m_new;
  const T alpha = m_new == m ? T(1) : exp2_nonpositive<T>(Ln::splat((m - shift) * log2e))[0];
  V sum0 = V{}, sum1 = V{};
  for (j = 0; j + 2 * L <= used; j += 2 * L) {
    const V p0 = exp2_nonpositive<T>((Ln::load(x + j) - shift) * log2e);
    const V p1 = exp2_nonpositive<T>((Ln::load(x + j + L) - shift) * log2e);
    Ln::store(x + j, p0);
    Ln::store(x + j + L, p1);
    sum0 += p0;
    sum1 += p1;
  }
  for (; j < used; j += L) {
    const V p = exp2_nonpositive<T>((Ln::load(x + j) - shift) * log2e);
    Ln::store(x + j, p);
    sum0 += p;
  }
  const V sum = sum0 + sum1;
  T total = 0;
  for (i64 t = 0; t < L; ++t) total += sum[t];
  l = l * alpha + total;
  m = m_new;
  return alpha;
}

template <typename T>
void attention_task(void* context, i64 index) {
  constexpr i64 MR = Tile<T>::MR, NR = Tile<T>::NR;
  const AttentionJob<T>& job = *static_cast<const AttentionJob<T>*>(context);
  const AttentionPlan& plan = *job.plan;
  const i64 E = plan.e, Ev = plan.ev, S = plan.s, ev_pad = job.ev_pad;
  const i64 tile = index % job.row_tiles, bh = index / job.row_tiles;
  const i64 h = bh % plan.hq, b = bh / plan.hq;
  const i64 g = h / (plan.hq / plan.hkv);
  const i64 q0 = tile * kRows, q1 = min_of(plan.l, q0 + kRows), rows = q1 - q0;
  const i64 rows_pad = (rows + MR - 1) / MR * MR;

  Scratch scratch(static_cast<std::size_t>(rows_pad * (E + kKeys + ev_pad) + 2 * kRows) *
                  sizeof(T));
  T* qt = static_cast<T*>(scratch.p);
  T* scores = qt + rows_pad * E;
  T* acc = scores + rows_pad * kKeys;
  T* m = acc + rows_pad * ev_pad;
  T* l = m + kRows;
  const T* q = static_cast<const T*>(plan.q) + (bh * plan.l + q0) * E;
  // The scale folded into the queries: the scores come out scaled.
  const T scale = static_cast<T>(plan.scale);
  for (i64 i = 0; i < rows * E; ++i) qt[i] = q[i] * scale;
  for (i64 i = rows * E; i < rows_pad * E; ++i) qt[i] = T(0);
  for (i64 i = 0; i < rows_pad * ev_pad; ++i) acc[i] = T(0);
  for (i64 i = 0; i < rows; ++i) {
    m[i] = -std::numeric_limits<T>::infinity();
    l[i] = T(0);
  }
  const i64 kv = b * plan.hkv + g;
  const T* kp = job.k_panels + kv * job.s_pad * E;
  const T* vp = job.v_panels + kv * job.s_pad * ev_pad;
  const T* mask =
      plan.mask ? static_cast<const T*>(plan.mask) + b * plan.mask_b + h * plan.mask_h : nullptr;

  for (i64 s0 = 0; s0 < S; s0 += kKeys) {
    // The tile's computed keys: up to s (rounded up to a panel), and, causal, up to the last
    // row's diagonal.
    i64 width = min_of(kKeys, S - s0);
    if (plan.causal) width = min_of(width, q1 - s0);
    width = (width + NR - 1) / NR * NR;
    if (plan.causal && s0 > q1 - 1) break;  // every key of the tile is past every row
    // Causal: each panel of MR rows computes only the key panels up to its own last row's
    // diagonal (the rows' later keys are set to -inf by the softmax step, never read).
    auto panel_keys = [&](i64 r0) {
      if (!plan.causal) return width;
      const i64 reach = q0 + r0 + MR - s0;
      return reach <= 0 ? i64(0) : min_of(width, (reach + NR - 1) / NR * NR);
    };
    for (i64 jt = 0; jt < width / NR; ++jt) {
      const T* panel = kp + (s0 / NR + jt) * E * NR;
      for (i64 r0 = 0; r0 < rows_pad; r0 += MR)
        if (jt * NR < panel_keys(r0))
          tile_product(E, qt + r0 * E, E, panel, scores + r0 * kKeys + jt * NR, kKeys, false);
    }
    for (i64 i = 0; i < rows; ++i) {
      i64 live = min_of(kKeys, S - s0);
      if (plan.causal) live = min_of(live, q0 + i - s0 + 1);
      const T* mask_row = mask ? mask + (q0 + i) * plan.mask_l + s0 * plan.mask_s : nullptr;
      const T alpha =
          softmax_step(scores + i * kKeys, width, live, mask_row, plan.mask_s, m[i], l[i]);
      if (alpha != T(1)) {
        T* row = acc + i * ev_pad;
        for (i64 c = 0; c < ev_pad; ++c) row[c] *= alpha;
      }
    }
    for (i64 ct = 0; ct < ev_pad / NR; ++ct) {
      const T* panel = vp + (ct * job.s_pad + s0) * NR;
      for (i64 r0 = 0; r0 < rows_pad; r0 += MR) {
        const i64 keys = panel_keys(r0);
        if (keys > 0)
          tile_product(keys, scores + r0 * kKeys, kKeys, panel, acc + r0 * ev_pad + ct * NR, ev_pad,
                       true);
      }
    }
  }

  T* out = static_cast<T*>(plan.out) + (bh * plan.l + q0) * Ev;
  const T empty = static_cast<T>(plan.empty_row);
  for (i64 i = 0; i < rows; ++i) {
    const T* row = acc + i * ev_pad;
    T* o = out + i * Ev;
    if (l[i] == T(0)) {
      for (i64 c = 0; c < Ev; ++c) o[c] = empty;
      continue;
    }
    const T inv = T(1) / l[i];
    for (i64 c = 0; c < Ev; ++c) o[c] = row[c] * inv;
  }
}

template <typename T>
void attention_typed(const AttentionPlan& plan) {
  constexpr i64 NR = Tile<T>::NR;
  AttentionJob<T> job{&plan, 0, 0, 0, nullptr, nullptr};
  job.s_pad = (plan.s + kKeys - 1) / kKeys * kKeys;
  job.ev_pad = (plan.ev + NR - 1) / NR * NR;
  job.row_tiles = (plan.l + kRows - 1) / kRows;
  const i64 heads = plan.b * plan.hkv;
  Scratch panels(static_cast<std::size_t>(heads * job.s_pad * (plan.e + job.ev_pad)) * sizeof(T) +
                 64);
  job.k_panels = static_cast<T*>(panels.p);
  job.v_panels = job.k_panels + heads * job.s_pad * plan.e;
  parallel_for_raw(heads, pack_kv<T>, &job);
  parallel_for_raw(plan.b * plan.hq * job.row_tiles, attention_task<T>, &job);
}

}  // namespace

void attention(const AttentionPlan& plan) {
  if (plan.wide)
    attention_typed<double>(plan);
  else
    attention_typed<float>(plan);
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

// Fused scaled dot-product attention on tensor cores (FlashAttention-2's forward pass,
// written for mma.sync: sm_80 and later). For each batch b, query head h (key/value head
// g = h / (hq / hkv)) and query row i:
//
//   out[i] = sum_j p_ij v[j] / sum_j p_ij,   p_ij = exp(x_ij - max_j x_ij),
//   x_ij = scale q[i] . k[j] + mask[i, j]    (-inf where key j is masked, past s, or,
//                                             causal, j > i)
//
// One CTA per (b, h, tile of Br query rows); each warp owns 16 * kMTiles rows. The CTA's query
// tile stays in shared memory for the whole pass; the keys and values stream through it in
// tiles of Bc rows, double buffered: cp.async brings tile j + 1 while tile j is computed. Per
// key tile a warp
//   1. forms its rows' scores S = Q K^T with mma (m16n8k16 for f16/bf16; 3xTF32 m16n8k8 for
//      float32), the operands loaded by ldmatrix from shared memory;
//   2. scales and masks them in registers (S's C fragments) and runs the online softmax: the
//      running maximum m and sum l per row; when the maximum rises, the row's output so far
//      and its sum shrink by 2^(m_old - m_new) (exponents in base 2, the scale's log2 e folded
//      into the scores' multiplier; with an additive mask the scores stay in natural units so
//      that masks near the dtype's lowest value cancel exactly as they do in torch);
//   3. converts P to the input type in registers (the C fragments of S become the A fragments
//      of the second product, no shared memory) and accumulates O += P V, V's fragments
//      loaded by ldmatrix .trans.
// After the last tile each row is divided by its sum, written through shared memory as
// 16-byte stores, and its log-sum-exp written for a backward pass when asked for.
//
// Causal (torch's top-left alignment, for L != S too): the key tiles past the CTA's last row
// are never loaded; a warp skips a tile past its own last row; only tiles crossing a warp's
// diagonal (and the partial last tile, and masked calls) take the per-element masking branch.
// Boolean and additive masks are read from global memory through their strides (0 on a
// broadcast dimension). Grouped-query attention maps query head h to key/value head
// h / (hq / hkv). L and S are any size: partial tiles are zero-filled and masked, rows past L
// are never written. Any head width up to 256 runs on the tile D of 64, 128 or 256 above it:
// columns past E and Ev are zero in shared memory and their products skipped.
//
// Precision: float16 and bfloat16 products accumulate in float32 (P rounded to the input type
// before P V, as in FlashAttention); float32 runs 3xTF32: each operand x is split into
// big = tf32(x) and small = tf32(x - big) and a b ~ big_a big_b + big_a small_b + small_a big_b,
// which keeps float32's accuracy (relative error ~1e-6, against ~1e-3 for plain tf32) at
// three tensor-core products per product.
//
// Rows none of whose keys takes part: the sum is 0 and the row gets ``empty_row`` (torch's CPU
// rule, 0); a NaN or +inf score makes its row NaN, as in torch.
//
// The tile shapes live in Config (one place per dtype and head tile). Shared memory rows are
// 16-byte chunks XOR-swizzled by the row's low three bits, so that the eight rows an ldmatrix
// phase reads, and the chunks cp.async writes, fall in distinct banks without padding.
#pragma once

#include <cstddef>
#include <cstdint>

#include "attention.hpp"
#include "mma.hpp"
#include "simt.hpp"

namespace foveal {
namespace gpu {
namespace attention_detail {

using i64 = std::int64_t;
using u32 = std::uint32_t;

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// The element types: the storage type, which tensor-core product a 16-bit type takes, and P's
// conversion to it.
template <class T16, MmaType kMma>
struct Element16 {
  using T = T16;
  static constexpr MmaType mma = kMma;
  __device__ static u32 pack(float lo, float hi) { return pack2_rn<T>(lo, hi); }
};

template <AttentionDtype dtype>
struct Element;
template <>
struct Element<AttentionDtype::f16> : Element16<Half, MmaType::f16> {};
template <>
struct Element<AttentionDtype::bf16> : Element16<BFloat16, MmaType::bf16> {};
template <>
struct Element<AttentionDtype::f32> {
  using T = float;
};

// The tile shapes of one (dtype, head tile D): kWarps warps of 16 * kMTiles query rows each,
// key tiles of kBc rows. Shared memory holds the query tile and two key and two value tiles,
// (Br + 4 Bc) rows of D values: 48 KiB or 96 KiB, within every sm_80+ device's limit (99 KiB
// on sm_86/sm_89). Two m-tiles per warp for 16-bit heads up to 128 (each K/V fragment loaded
// feeds two products; O and S take 64 + 128 registers at D = 128); one for D = 256 and for
// float32, whose fragments are twice as wide.
template <AttentionDtype dtype, int D>
struct Config {
  using T = typename Element<dtype>::T;
  static constexpr bool k16 = sizeof(T) == 2;
  static constexpr int kWarps = (!k16 && D == 256) ? 2 : 4;
  static constexpr int kMTiles = (k16 && D <= 128) ? 2 : 1;
  static constexpr int kBc = k16 ? (D <= 64 ? 64 : 32) : (D <= 128 ? 32 : 16);
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kWarpRows = 16 * kMTiles;
  static constexpr int kBr = kWarpRows * kWarps;
  static constexpr int kPer = 16 / static_cast<int>(sizeof(T));  // values per 16-byte chunk
  static constexpr int kChunks = D / kPer;                       // chunks per row
  static constexpr int kStep = k16 ? 16 : 8;                     // k of one mma
  static constexpr std::size_t kSmem = std::size_t(kBr + 4 * kBc) * kChunks * 16;
  static_assert(kChunks % 8 == 0, "the swizzle needs rows of a multiple of 8 chunks");
  static_assert(kBc % 16 == 0, "key tiles are loaded 16 keys per ldmatrix");
  static_assert(kSmem <= 99 * 1024, "sm_86/sm_89 allow 99 KiB of shared memory per block");
};

// A row's chunk c in a swizzled tile of kChunks chunks per row.
template <int kChunks>
__device__ __forceinline__ uint4* chunk_at(uint4* tile, int row, int c) {
  return tile + row * kChunks + (c ^ (row & 7));
}

// One thread's view of one row of a swizzled tile, for fragment loads in unrolled loops: chunk
// 2k + lo of the row (lo = 0 or 1, the thread's) lies at byte offset[k % 4] + 128 (k / 4)
// (the swizzle only moves a chunk within its group of 8), so that with k known at compile
// time an address is a register plus an immediate, and rows 8 apart share the offsets (the
// tile's base moves instead). ``extra`` adds bytes within the chunk.
struct SwizzledRow {
  u32 offset[4];
  __device__ __forceinline__ SwizzledRow(int row, int lo, int chunks, int extra = 0) {
#pragma unroll
    for (int i = 0; i < 4; ++i)
      offset[i] = static_cast<u32>((row * chunks + ((2 * i + lo) ^ (row & 7))) * 16 + extra);
  }
  template <int k>
  __device__ __forceinline__ const void* at(const uint4* tile) const {
    return reinterpret_cast<const char*>(tile) + offset[k % 4] + 128 * (k / 4);
  }
  __device__ __forceinline__ const void* at(const uint4* tile, int k) const {
    return reinterpret_cast<const char*>(tile) + offset[k % 4] + 128 * (k / 4);
  }
};

// Copies rows [0, R) of a strided matrix (row r at src + r * stride, ``cols`` values) into a
// swizzled tile, zero-filling rows past ``rows`` and columns past ``cols``: by cp.async when
// ``vectorized`` (the caller commits and waits), else through registers. A thread copies one
// chunk column of every kRowStep-th row, walking the rows by a pointer increment (so that no
// per-row offset is kept live across the caller's loop).
template <class T, int R, int kChunks, int kThreads>
__device__ __forceinline__ void load_tile(uint4* tile, const T* src, i64 stride, int rows, int cols,
                                          bool vectorized, int tid) {
  constexpr int kPer = 16 / static_cast<int>(sizeof(T));
  constexpr int kRowStep = kThreads / kChunks;
  static_assert(kThreads % kChunks == 0 && R % kRowStep == 0, "whole rounds of the CTA");
  const int row0 = tid / kChunks, c = tid % kChunks, col = c * kPer;
  int n = cols - col;  // this chunk's values inside a row
  n = n < 0 ? 0 : (n > kPer ? kPer : n);
  const T* from = src + row0 * stride + col;
  const i64 step = kRowStep * stride;
#pragma unroll
  for (int it = 0; it < R / kRowStep; ++it, from += step) {
    const int row = row0 + it * kRowStep;
    uint4* dst = chunk_at<kChunks>(tile, row, c);
    const int count = row < rows ? n : 0;
    if (vectorized) {
      cp_async_16(dst, count > 0 ? from : src, count * static_cast<int>(sizeof(T)));
    } else {
      uint4 chunk = make_uint4(0u, 0u, 0u, 0u);
      T* values = reinterpret_cast<T*>(&chunk);
      for (int e = 0; e < count; ++e) values[e] = from[e];
      *dst = chunk;
    }
  }
}

// 3xTF32 operands: each value x of a fragment (float bits) as big = tf32(x) and
// small = tf32(x - big).
template <int N>
struct Split {
  u32 big[N], small[N];
};

template <int N>
__device__ __forceinline__ Split<N> split_tf32(const u32 (&x)[N]) {
  Split<N> r;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const float f = __int_as_float(static_cast<int>(x[i]));
    r.big[i] = to_tf32(f);
    r.small[i] = to_tf32(f - __int_as_float(static_cast<int>(r.big[i])));
  }
  return r;
}

// d += a b in float32 accuracy from three tf32 products (small_a small_b, ~2^-22 of it, left
// out): a 16x8, b 8x8.
__device__ __forceinline__ void mma_3xtf32(float (&d)[4], const Split<4>& a, const Split<2>& b) {
  mma_m16n8k8_tf32(d, a.small, b.big, d);  // the small terms first: they round away least
  mma_m16n8k8_tf32(d, a.big, b.small, d);
  mma_m16n8k8_tf32(d, a.big, b.big, d);
}

template <AttentionDtype dtype, int D, bool kAdditive>
__global__ void __launch_bounds__(Config<dtype, D>::kThreads)
    attention_kernel(const AttentionArgs a) {
  using Cfg = Config<dtype, D>;
  using T = typename Cfg::T;
  using El = Element<dtype>;
  constexpr bool k16 = Cfg::k16;
  constexpr int MT = Cfg::kMTiles, Bc = Cfg::kBc, Br = Cfg::kBr, KC = Cfg::kChunks;
  constexpr int NT = Bc / 8;  // score n-tiles (8 keys each) per key tile
  constexpr int DT = D / 8;   // output n-tiles (8 columns each)
  constexpr int kThreads = Cfg::kThreads;
  // Scores in base-2 units unless an additive mask is added in natural units (see the top).
  constexpr float kToExp2 = kAdditive ? kLog2e : 1.0f;

  FOVEAL_DYNAMIC_SHARED(uint4, smem);
  uint4* const sQ = smem;
  uint4* const sK = sQ + Br * KC;      // two stages of Bc rows
  uint4* const sV = sK + 2 * Bc * KC;  // two stages of Bc rows

  const int tid = static_cast<int>(threadIdx.x);
  const int warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;

  // The CTA's (b, h, query tile); causal CTAs run the longest (last) tiles first.
  const i64 m_blocks = (a.l + Br - 1) / Br;
  const i64 block = blockIdx.x;
  const i64 bh = block / m_blocks;
  i64 mb = block % m_blocks;
  if (a.causal) mb = m_blocks - 1 - mb;
  const i64 b = bh / a.hq, h = bh % a.hq, hk = h / (a.hq / a.hkv);
  const i64 q0 = mb * Br;
  const int rows = static_cast<int>(a.l - q0 < Br ? a.l - q0 : Br);
  const int E = static_cast<int>(a.e), Ev = static_cast<int>(a.ev);

  const T* const Q =
      static_cast<const T*>(a.q) + b * a.q_stride[0] + h * a.q_stride[1] + q0 * a.q_stride[2];
  const T* const K = static_cast<const T*>(a.k) + b * a.k_stride[0] + hk * a.k_stride[1];
  const T* const V = static_cast<const T*>(a.v) + b * a.v_stride[0] + hk * a.v_stride[1];
  const i64 mask_base = b * a.mask_stride[0] + h * a.mask_stride[1];

  // Keys past the CTA's last row take part in none of its rows (causal).
  const i64 kv_end = a.causal && q0 + Br < a.s ? q0 + Br : a.s;
  const int tiles = static_cast<int>((kv_end + Bc - 1) / Bc);

  auto load_kv = [&](int j, int stage) {
    const i64 k0 = static_cast<i64>(j) * Bc;
    const int keys = static_cast<int>(a.s - k0 < Bc ? a.s - k0 : Bc);
    load_tile<T, Bc, KC, kThreads>(sK + stage * Bc * KC, K + k0 * a.k_stride[2], a.k_stride[2],
                                   keys, E, a.vectorized, tid);
    load_tile<T, Bc, KC, kThreads>(sV + stage * Bc * KC, V + k0 * a.v_stride[2], a.v_stride[2],
                                   keys, Ev, a.vectorized, tid);
  };
  load_tile<T, Br, KC, kThreads>(sQ, Q, a.q_stride[2], rows, E, a.vectorized, tid);
  load_kv(0, 0);
  cp_async_commit();

  // This warp's rows [wr0, wr0 + kWarpRows) of the tile; rows past L compute nothing.
  const int wr0 = warp * Cfg::kWarpRows;
  const i64 first_row = q0 + wr0, last_row = first_row + Cfg::kWarpRows - 1;
  const bool warp_live = first_row < a.l;

  float o[MT][DT][4];
  float m[MT][2], l[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int dt = 0; dt < DT; ++dt)
#pragma unroll
      for (int r = 0; r < 4; ++r) o[mt][dt][r] = 0.0f;
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      m[mt][hr] = -INFINITY;
      l[mt][hr] = 0.0f;
    }
  }
  const float multiplier = kAdditive ? a.scale : a.scale * kLog2e;
  // The fragments' rows (see ldmatrix's lane-to-row map in mma.hpp): Q's A fragments (rows
  // 0-15 of an m-tile, chunk 2 ks + lane / 16), K's B fragments (keys 0-7 then 8-15 of a
  // 16-key pair of n-tiles, chunks 2 ks and 2 ks + 1), V's B fragments (.trans: keys 0-15 of a
  // k-step, chunk 2 dp + lane / 16); float32's V is read value by value: keys 2t and 2t + 1
  // of an n-tile, column g of an output n-tile.
  const SwizzledRow q_row(wr0 + (lane & 15), lane >> 4, KC);
  const SwizzledRow k_row(((lane >> 4) << 3) + (lane & 7), (lane >> 3) & 1, KC);
  [[maybe_unused]] const SwizzledRow v_row(lane & 15, lane >> 4, KC);
  [[maybe_unused]] const SwizzledRow v_even(2 * t, g >> 2, KC, 4 * (g & 3));
  [[maybe_unused]] const SwizzledRow v_odd(2 * t + 1, g >> 2, KC, 4 * (g & 3));

  for (int j = 0; j < tiles; ++j) {
    if (j + 1 < tiles) load_kv(j + 1, (j + 1) & 1);
    cp_async_commit();  // possibly empty: the wait below always leaves exactly the next tile
    cp_async_wait<1>();
    __syncthreads();
    const i64 k0 = static_cast<i64>(j) * Bc;
    if (warp_live && !(a.causal && k0 > last_row)) {
      const uint4* const tK = sK + (j & 1) * Bc * KC;
      const uint4* const tV = sV + (j & 1) * Bc * KC;

      // 1. S = Q K^T over the head's k-steps (those past E are zero: skipped).
      float s[MT][NT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
          for (int r = 0; r < 4; ++r) s[mt][nt][r] = 0.0f;
#pragma unroll
      for (int ks = 0; ks < D / Cfg::kStep; ++ks) {
        if (ks * Cfg::kStep >= E) break;
        u32 qa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) ldmatrix_x4(qa[mt], q_row.at(sQ + mt * 16 * KC, ks));
        [[maybe_unused]] Split<4> qs[MT];
        if constexpr (!k16) {
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) qs[mt] = split_tf32(qa[mt]);
        }
#pragma unroll
        for (int np = 0; np < NT / 2; ++np) {
          u32 kb[4];
          ldmatrix_x4(kb, k_row.at(tK + np * 16 * KC, ks));
          const u32 b0[2] = {kb[0], kb[1]}, b1[2] = {kb[2], kb[3]};
          if constexpr (k16) {
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
              mma_m16n8k16<El::mma>(s[mt][2 * np], qa[mt], b0, s[mt][2 * np]);
              mma_m16n8k16<El::mma>(s[mt][2 * np + 1], qa[mt], b1, s[mt][2 * np + 1]);
            }
          } else {
            const Split<2> c0 = split_tf32(b0), c1 = split_tf32(b1);
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
              mma_3xtf32(s[mt][2 * np], qs[mt], c0);
              mma_3xtf32(s[mt][2 * np + 1], qs[mt], c1);
            }
          }
        }
      }

      // 2. Scale, mask, online softmax. Fragment element r of n-tile nt is row
      //    g + 8 (r >> 1) of the m-tile, key k0 + 8 nt + 2 t + (r & 1).
      const bool interior = a.mask_kind == AttentionMaskKind::none && k0 + Bc <= a.s &&
                            !(a.causal && k0 + Bc - 1 > first_row);
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            float x = s[mt][nt][r] * multiplier;
            if (!interior) {
              const i64 row = first_row + mt * 16 + g + 8 * (r >> 1);
              const i64 col = k0 + nt * 8 + 2 * t + (r & 1);
              bool keep = col < a.s && !(a.causal && col > row) && row < a.l;
              if (keep && a.mask_kind != AttentionMaskKind::none) {
                const i64 at = mask_base + row * a.mask_stride[2] + col * a.mask_stride[3];
                if constexpr (kAdditive)
                  x += widen(static_cast<const T*>(a.mask)[at]);
                else
                  keep = static_cast<const unsigned char*>(a.mask)[at] != 0;
              }
              x = keep ? x : -INFINITY;
            }
            s[mt][nt][r] = x;
          }
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
          float mx = -INFINITY;
#pragma unroll
          for (int nt = 0; nt < NT; ++nt)
            mx = fmaxf(mx, fmaxf(s[mt][nt][2 * hr], s[mt][nt][2 * hr + 1]));
          // The row's four lanes (t = 0..3) share it.
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
          mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
          const float m_old = m[mt][hr];
          const float m_new = fmaxf(m_old, mx);
          // With every score so far -inf, subtract 0: the probabilities are exactly 0.
          const float shift = m_new == -INFINITY ? 0.0f : m_new;
          const float alpha = m_new == m_old ? 1.0f : exp2_approx((m_old - shift) * kToExp2);
          m[mt][hr] = m_new;
          float sum = 0.0f;
#pragma unroll
          for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int c = 0; c < 2; ++c) {
              const float p = exp2_approx((s[mt][nt][2 * hr + c] - shift) * kToExp2);
              s[mt][nt][2 * hr + c] = p;
              sum += p;
            }
          l[mt][hr] = l[mt][hr] * alpha + sum;  // this lane's columns: summed across at the end
#pragma unroll
          for (int dt = 0; dt < DT; ++dt) {
            o[mt][dt][2 * hr] *= alpha;
            o[mt][dt][2 * hr + 1] *= alpha;
          }
        }
      }

      // 3. O += P V.
      if constexpr (k16) {
        // The C fragments of n-tiles 2kk and 2kk + 1 are the A fragment of k-step kk.
#pragma unroll
        for (int kk = 0; kk < Bc / 16; ++kk) {
          u32 pa[MT][4];
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            pa[mt][0] = El::pack(s[mt][2 * kk][0], s[mt][2 * kk][1]);
            pa[mt][1] = El::pack(s[mt][2 * kk][2], s[mt][2 * kk][3]);
            pa[mt][2] = El::pack(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
            pa[mt][3] = El::pack(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
          }
#pragma unroll
          for (int dp = 0; dp < DT / 2; ++dp) {
            if (dp * 16 >= Ev) break;
            u32 vb[4];
            ldmatrix_x4(vb, v_row.at(tV + kk * 16 * KC, dp), true);
            const u32 b0[2] = {vb[0], vb[1]}, b1[2] = {vb[2], vb[3]};
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
              mma_m16n8k16<El::mma>(o[mt][2 * dp], pa[mt], b0, o[mt][2 * dp]);
              mma_m16n8k16<El::mma>(o[mt][2 * dp + 1], pa[mt], b1, o[mt][2 * dp + 1]);
            }
          }
        }
      } else {
        // tf32's A fragment wants columns t and t + 4 where the C fragment holds 2t and
        // 2t + 1: the k-step's keys are taken in the order (0, 2, 4, 6, 1, 3, 5, 7), V's rows
        // in the same order, so the C fragment is the A fragment as it stands.
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
          Split<4> pa[MT];
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            const u32 c[4] = {static_cast<u32>(__float_as_int(s[mt][nt][0])),
                              static_cast<u32>(__float_as_int(s[mt][nt][2])),
                              static_cast<u32>(__float_as_int(s[mt][nt][1])),
                              static_cast<u32>(__float_as_int(s[mt][nt][3]))};
            pa[mt] = split_tf32(c);
          }
#pragma unroll
          for (int dt = 0; dt < DT; ++dt) {
            if (dt * 8 >= Ev) break;
            const u32 vb[2] = {*static_cast<const u32*>(v_even.at(tV + nt * 8 * KC, dt)),
                               *static_cast<const u32*>(v_odd.at(tV + nt * 8 * KC, dt))};
            const Split<2> vs = split_tf32(vb);
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) mma_3xtf32(o[mt][dt], pa[mt], vs);
          }
        }
      }
    }
    __syncthreads();  // every warp is done with this stage before it is loaded again
  }

  // The epilogue: full row sums, the output through this warp's own rows of the query tile
  // (no other warp reads them any more), then 16-byte stores.
  T* const O =
      static_cast<T*>(a.out) + b * a.out_stride[0] + h * a.out_stride[1] + q0 * a.out_stride[2];
  if (warp_live) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        float sum = l[mt][hr];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        const bool empty = sum == 0.0f;
        const float inv = empty ? 0.0f : 1.0f / sum;
        const int row = wr0 + mt * 16 + g + 8 * hr;
        if (a.lse != nullptr && t == 0 && row < rows) {
          const float lse =
              empty ? INFINITY
                    : (kAdditive ? m[mt][hr] + logf(sum) : (m[mt][hr] + log2f(sum)) * kLn2);
          a.lse[bh * a.l + q0 + row] = lse;
        }
#pragma unroll
        for (int dt = 0; dt < DT; ++dt) {
          const float lo = empty ? a.empty_row : o[mt][dt][2 * hr] * inv;
          const float hi = empty ? a.empty_row : o[mt][dt][2 * hr + 1] * inv;
          const int col = dt * 8 + 2 * t;
          uint4* chunk = chunk_at<KC>(sQ, row, col / Cfg::kPer);
          if constexpr (k16) {
            reinterpret_cast<u32*>(chunk)[(col % Cfg::kPer) / 2] = El::pack(lo, hi);
          } else {
            float* f = reinterpret_cast<float*>(chunk) + col % Cfg::kPer;
            f[0] = lo;
            f[1] = hi;
          }
        }
      }
    __syncwarp();
    const int chunks = (Ev + Cfg::kPer - 1) / Cfg::kPer;
    for (int i = lane; i < Cfg::kWarpRows * KC; i += 32) {
      const int row = wr0 + i / KC, c = i % KC;
      if (row >= rows || c >= chunks) continue;
      T* dst = O + static_cast<i64>(row) * a.out_stride[2] + c * Cfg::kPer;
      const uint4 chunk = *chunk_at<KC>(sQ, row, c);
      if (a.vectorized) {
        *reinterpret_cast<uint4*>(dst) = chunk;
      } else {
        const T* values = reinterpret_cast<const T*>(&chunk);
        const int n = Ev - c * Cfg::kPer < Cfg::kPer ? Ev - c * Cfg::kPer : Cfg::kPer;
        for (int e = 0; e < n; ++e) dst[e] = values[e];
      }
    }
  }
}

template <AttentionDtype dtype, int D, bool kAdditive>
void launch(const AttentionArgs& a, void* stream) {
  using Cfg = Config<dtype, D>;
  const i64 m_blocks = (a.l + Cfg::kBr - 1) / Cfg::kBr;
  const i64 blocks = a.b * a.hq * m_blocks;
  if (blocks == 0) return;
  if (blocks > 0x7fffffff)
    throw ValueError("scaled_dot_product_attention: more than 2^31 - 1 query tiles");
  auto kernel = &attention_kernel<dtype, D, kAdditive>;
#if !defined(FOVEAL_SIMT_EMU)
  // More than the default 48 KiB of dynamic shared memory must be asked for per kernel.
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(Cfg::kSmem)),
        "cudaFuncSetAttribute");
#endif
  gpu::launch("attention_kernel", kernel, dim3(static_cast<unsigned>(blocks)), dim3(Cfg::kThreads),
              Cfg::kSmem, static_cast<Stream>(stream), a);
}

}  // namespace attention_detail
}  // namespace gpu
}  // namespace foveal

// Instantiates the launches of one dtype and head tile, with and without an additive mask
// (the attention_<dtype>.cu files).
#define FOVEAL_ATTENTION_INSTANTIATE(dtype, D)                                 \
  namespace foveal {                                                           \
  namespace gpu {                                                              \
  namespace attention_detail {                                                 \
  template void launch<dtype, D, false>(const AttentionArgs& a, void* stream); \
  template void launch<dtype, D, true>(const AttentionArgs& a, void* stream);  \
  }                                                                            \
  }                                                                            \
  }

// 2-D convolution as a packed matrix product (GEMM), compiled once per instruction set.
//
// For image n and group g (ConvPlan), with Mg = C_out / groups output channels,
// K = C_in/groups * kh * kw and P = oh * ow output pixels:
//
//   out[m, p] = bias[m] + sum_k A[m, k] * B[k, p]        (m < Mg, p < P, the group's slice)
//
// A is the group's weights as torch stores them (Mg x K, row-major); B is the im2col matrix,
// B[(c, i, j), (y, x)] = in[c, y*sh - pad_top + i*dh, x*sw - pad_left + j*dw], 0 outside.
//
// Goto / BLIS blocking. A is packed once per call into panels of MR rows for each block of KC
// values of k. A task owns one image, one group and NC output pixels, and runs the micro-kernel
// over every (A panel, B panel) pair of each KC block, B panel outermost so it stays in L1
// while the A panels stream from L2. The micro-kernel keeps an MR x NR tile of the output in 12
// vector registers (MR = 6 rows by two vectors) and does 12 fused multiply-adds per k from one
// broadcast of A per row and two vector loads of B. B is found one of two ways:
// - shifted products (the path of every kernel but a plain 1 x 1): B's rows are read in place
//   from stride phases of the zero-padded input (see ShiftedJob): no im2col at all;
// - packed panels ("implicit im2col": B is never built whole): each task packs the KC x NC
//   block it needs straight from the image into panels of NR columns. A 1 x 1 convolution with
//   stride 1 and no padding sees each image plane as one long row (the driver's plan), so its
//   packing is a plain copy.
//
// Why a GEMM of our own rather than a BLAS from PyPI (measured on a 2-core EPYC, one thread,
// float32 FMA peak 102 GFLOP/s): explicit im2col + OpenBLAS sgemm (NumPy's) runs the 3 x 3
// ResNet layer (8,64,56,56) at 47 GFLOP/s, the im2col copy costing more than the product;
// this file runs it at 83 by never building the im2col matrix, which a BLAS interface cannot
// do. On a 1 x 1 layer, a plain product, OpenBLAS gives 84 and this file 88. And a BLAS would
// be one more build dependency for `pip install .`.
#include <cstdint>
#include <cstring>

#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "nn_plan.hpp"
#include "simd.hpp"
#include "tile.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::ConvPlan;

// Cache budgets (bytes): a packed KC x NR panel of B stays in L1, the block of A panels one
// task sweeps and the block of B panels stay in L2.
constexpr i64 kPanelBytes = 16 << 10;
constexpr i64 kABlockBytes = 160 << 10;
constexpr i64 kBBlockBytes = 512 << 10;
// A shifted-product task's accumulators (Mpad x its pixels), read and written per KC block.
constexpr i64 kAccBytes = 192 << 10;
// The stride phases of the padded input are built for this much of the batch at a time.
constexpr i64 kPhaseBytes = 32 << 20;

// Where the micro-kernel finds row k of its B panel (NR values): a packed panel, row after row,
// or the zero-padded image itself at a per-k offset from the tile's first pixel (ShiftedB).
template <typename T>
struct PackedB {
  const T* b;
  const T* row(i64 k) const { return b + k * Tile<T>::NR; }
};

template <typename T>
struct ShiftedB {
  const T* base;
  const i64* offset;
  const T* row(i64 k) const { return base + offset[k]; }
};

// C[rows x cols] (row stride ldc) = (first ? bias : C) + A_panel * B_panel over kc values of k:
// a is kc x MR (k-major), B's rows NR wide. Full tiles store straight from registers; edge
// tiles (rows < MR or cols < NR, padded with zeros in the packed panels) go through a buffer.
template <typename T, typename B>
void micro_kernel(i64 kc, const T* __restrict a, const B b, T* __restrict c, i64 ldc, const T* bias,
                  bool first, int rows, int cols) {
  using Tl = Tile<T>;
  using V = typename Tl::V;
  constexpr int L = Tl::L, MR = Tl::MR, NR = Tl::NR;
  // The tile's output lines, for writing, while the products run (they are often cold).
#pragma GCC unroll 6
  for (int r = 0; r < rows; ++r) {
    __builtin_prefetch(c + r * ldc, 1);
    __builtin_prefetch(c + r * ldc + NR - 1, 1);
  }
  V lo[MR], hi[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) lo[r] = hi[r] = V{};
#pragma GCC unroll 4
  for (i64 k = 0; k < kc; ++k) {
    const T* bk = b.row(k);
    const V b0 = Tl::load(bk), b1 = Tl::load(bk + L);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const V ar = a[r] - V{};  // a broadcast (x - 0 is x, see Lanes::splat)
      lo[r] += ar * b0;
      hi[r] += ar * b1;
    }
    a += MR;
  }
  if (rows == MR && cols == NR) {
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      T* cr = c + r * ldc;
      V x0 = lo[r], x1 = hi[r];
      if (!first) {
        x0 += Tl::load(cr);
        x1 += Tl::load(cr + L);
      } else if (bias) {
        x0 += bias[r];
        x1 += bias[r];
      }
      Tl::store(cr, x0);
      Tl::store(cr + L, x1);
    }
    return;
  }
  alignas(64) T tile[MR * NR];
  for (int r = 0; r < MR; ++r) {
    Tl::store(tile + r * NR, lo[r]);
    Tl::store(tile + r * NR + L, hi[r]);
  }
  for (int r = 0; r < rows; ++r) {
    T* cr = c + r * ldc;
    const T base = bias ? bias[r] : T(0);
    for (int j = 0; j < cols; ++j) cr[j] = (first ? base : cr[j]) + tile[r * NR + j];
  }
}

// How one call is cut into blocks and tasks.
struct Blocking {
  i64 K = 0, Mg = 0, Mpad = 0, P = 0;
  i64 kc = 0;          // values of k per block
  i64 nc = 0;          // output pixels per task (a multiple of NR)
  i64 mc = 0;          // rows of A per sweep (a multiple of MR)
  i64 col_blocks = 0;  // tasks per (image, group)
};

template <typename T>
Blocking blocking(const ConvPlan& plan) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  constexpr i64 size = sizeof(T);
  Blocking b;
  b.K = plan.c_in / plan.groups * plan.kh * plan.kw;
  b.Mg = plan.c_out / plan.groups;
  b.Mpad = (b.Mg + MR - 1) / MR * MR;
  b.P = plan.oh * plan.ow;
  // Equal KC blocks, each as deep as the L1 panel budget allows.
  const i64 kc_max = max_of<i64>(8, kPanelBytes / (NR * size));
  const i64 k_blocks = (b.K + kc_max - 1) / kc_max;
  b.kc = (b.K + k_blocks - 1) / k_blocks;
  b.mc = max_of<i64>(MR, kABlockBytes / (b.kc * size) / MR * MR);
  const i64 panels = (b.P + NR - 1) / NR;
  i64 nc_panels = max_of<i64>(1, kBBlockBytes / (b.kc * NR * size));
  // Enough tasks for every thread to have a few (balance), unless panels run out.
  const i64 want = 4 * static_cast<i64>(get_num_threads());
  const i64 outer = plan.n * plan.groups;
  while (nc_panels > 4 && outer * ((panels + nc_panels - 1) / nc_panels) < want) nc_panels /= 2;
  nc_panels = min_of(nc_panels, panels);
  b.nc = nc_panels * NR;
  b.col_blocks = (b.P + b.nc - 1) / b.nc;
  return b;
}

// A (the weights of every group) in panels: for group g and the KC block starting at k0, the
// panel of rows [r0, r0 + MR) holds weight[g*Mg + r0 + r, k0 + k] at [k*MR + r], zero for rows
// past Mg. Panel (g, k0, r0) starts at g*Mpad*K + k0*Mpad + r0*kc_of_block.
template <typename T>
void pack_weights(const ConvPlan& plan, const Blocking& b, T* apack) {
  constexpr int MR = Tile<T>::MR;
  const T* weight = static_cast<const T*>(plan.weight);
  for (i64 g = 0; g < plan.groups; ++g) {
    for (i64 k0 = 0; k0 < b.K; k0 += b.kc) {
      const i64 kc = min_of(b.kc, b.K - k0);
      T* block = apack + g * b.Mpad * b.K + k0 * b.Mpad;
      for (i64 r0 = 0; r0 < b.Mpad; r0 += MR) {
        T* panel = block + r0 * kc;
        for (int r = 0; r < MR; ++r) {
          const i64 m = r0 + r;
          const T* row = weight + (g * b.Mg + m) * b.K + k0;
          for (i64 k = 0; k < kc; ++k) panel[k * MR + r] = m < b.Mg ? row[k] : T(0);
        }
      }
    }
  }
}

// The KC x (j1 - j0) block of B for values k0 + [0, kc) and output pixels [j0, j1) of one
// image's group (`image` points at its first input channel), packed as panels of NR pixels:
// B[k0 + k, j0 + t] goes to bpack[(t / NR) * kc * NR + k * NR + t % NR]; the last panel's
// unused lanes are zero.
template <typename T>
void pack_columns(const ConvPlan& plan, const T* image, i64 k0, i64 kc, i64 j0, i64 j1, T* bpack) {
  constexpr int NR = Tile<T>::NR;
  const i64 H = plan.h, W = plan.w, OW = plan.ow, sw = plan.sw;
  const i64 taps = plan.kh * plan.kw;
  const i64 panel_stride = kc * NR;
  for (i64 k = 0; k < kc; ++k) {
    const i64 kk = k0 + k;
    const i64 c = kk / taps, i = kk % taps / plan.kw, j = kk % plan.kw;
    const T* plane = image + c * H * W;
    const i64 y_off = i * plan.dh - plan.pad_top, x_off = j * plan.dw - plan.pad_left;
    // Output columns whose input column x*sw + x_off lies inside [0, W).
    const i64 x_lo = x_off >= 0 ? 0 : (-x_off + sw - 1) / sw;
    const i64 x_hi = W - x_off <= 0 ? 0 : (W - x_off + sw - 1) / sw;  // exclusive
    T* dst = bpack + k * NR;
    int lane = 0;
    i64 p = j0;
    while (p < j1) {
      const i64 y = p / OW, x0 = p - y * OW;
      const i64 len = min_of(OW - x0, j1 - p);
      const i64 iy = y * plan.sh + y_off;
      const T* row = (iy >= 0 && iy < H) ? plane + iy * W + x_off : nullptr;
      for (i64 t = 0; t < len;) {
        const i64 n = min_of<i64>(len - t, NR - lane);
        T* d = dst + lane;
        const i64 x = x0 + t;
        if (!row) {
          for (i64 u = 0; u < n; ++u) d[u] = T(0);
        } else if (x >= x_lo && x + n <= x_hi) {
          const T* s = row + x * sw;
          if (sw == 1) {
            for (i64 u = 0; u < n; ++u) d[u] = s[u];
          } else {
            for (i64 u = 0; u < n; ++u) d[u] = s[u * sw];
          }
        } else {
          for (i64 u = 0; u < n; ++u) {
            const i64 xu = x + u;
            d[u] = (xu >= x_lo && xu < x_hi) ? row[xu * sw] : T(0);
          }
        }
        lane += static_cast<int>(n);
        t += n;
        if (lane == NR) {
          lane = 0;
          dst += panel_stride;
        }
      }
      p += len;
    }
    for (; lane > 0 && lane < NR; ++lane) dst[lane] = T(0);
  }
}

template <typename T>
struct ConvJob {
  const ConvPlan* plan;
  Blocking b;
  const T* apack;
};

template <typename T>
void conv_task(void* context, i64 index) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  const ConvJob<T>& job = *static_cast<const ConvJob<T>*>(context);
  const ConvPlan& plan = *job.plan;
  const Blocking& b = job.b;
  const i64 jb = index % b.col_blocks, ng = index / b.col_blocks;
  const i64 g = ng % plan.groups, n = ng / plan.groups;
  const i64 j0 = jb * b.nc, j1 = min_of(b.P, j0 + b.nc);
  const i64 panels = (j1 - j0 + NR - 1) / NR;
  Scratch scratch(static_cast<std::size_t>(b.kc * panels * NR) * sizeof(T) + 64);
  T* bpack = reinterpret_cast<T*>((reinterpret_cast<std::uintptr_t>(scratch.p) + 63) & ~63ull);
  const i64 c_in_g = plan.c_in / plan.groups;
  const T* image =
      static_cast<const T*>(plan.input) + (n * plan.c_in + g * c_in_g) * plan.h * plan.w;
  T* out = static_cast<T*>(plan.output) + (n * plan.c_out + g * b.Mg) * b.P;
  const T* bias = plan.bias ? static_cast<const T*>(plan.bias) + g * b.Mg : nullptr;
  for (i64 k0 = 0; k0 < b.K; k0 += b.kc) {
    const i64 kc = min_of(b.kc, b.K - k0);
    pack_columns(plan, image, k0, kc, j0, j1, bpack);
    const T* ablock = job.apack + g * b.Mpad * b.K + k0 * b.Mpad;
    for (i64 m0 = 0; m0 < b.Mg; m0 += b.mc) {
      const i64 m1 = min_of(b.Mg, m0 + b.mc);
      for (i64 jr = 0; jr < panels; ++jr) {
        const int cols = static_cast<int>(min_of<i64>(NR, j1 - j0 - jr * NR));
        const T* bp = bpack + jr * kc * NR;
        T* c = out + j0 + jr * NR;
        for (i64 r0 = m0; r0 < m1; r0 += MR) {
          const int rows = static_cast<int>(min_of<i64>(MR, b.Mg - r0));
          micro_kernel(kc, ablock + r0 * kc, PackedB<T>{bp}, c + r0 * b.P, b.P,
                       bias ? bias + r0 : nullptr, k0 == 0, rows, cols);
        }
      }
    }
  }
}

// Shifted products (any stride): split the zero-padded image into stride phases, phase (r, c)
// holding padded pixels (r + a*sh, c + b*sw) on an hq x wq grid. Output pixel (y, x) reads
// padded (y*sh + i*dh, x*sw + j*dw), which is pixel (y + (i*dh)/sh, x + (j*dw)/sw) of phase
// ((i*dh) % sh, (j*dw) % sw). Number output pixels on the phase grid, q = y*wq + x; then
//   B[(c, i, j), q] = phases[c, phase(i, j), q + ((i*dh)/sh)*wq + (j*dw)/sw]
// and each row of a B panel is NR consecutive values of one phase, read in place at offset[k]
// from the tile's first pixel: no im2col, not even a packed one. The price is computing the
// wq - ow columns past each row's end too (3% for a 56-wide 3 x 3 layer), into a task buffer
// from which the valid ones are copied out; only the phases some tap reads are built.
template <typename T>
struct ShiftedJob {
  const ConvPlan* plan;
  Blocking b;
  const T* apack;
  T* phases;            // (images, c_in, slots, hq, wq) for the images from n0, then slack
  i64 n0, images;       // the batch is run a chunk of images at a time
  const i64* offset;    // K: c*channel + slot*hq*wq + ((i*dh)/sh)*wq + (j*dw)/sw
  i64 hq, wq, tiles;    // tiles: NR-pixel tiles covering oh * wq
  i64 slots, channel;   // phases built per channel, values per channel
  const i64* slot_row;  // per slot: its phase (r, c)
  const i64* slot_col;
};

// Builds the phases of one (image, channel) plane.
template <typename T>
void phase_plane(void* context, i64 index) {
  const ShiftedJob<T>& job = *static_cast<const ShiftedJob<T>*>(context);
  const ConvPlan& plan = *job.plan;
  const T* src = static_cast<const T*>(plan.input) + (job.n0 * plan.c_in + index) * plan.h * plan.w;
  const i64 sh = plan.sh, sw = plan.sw;
  for (i64 slot = 0; slot < job.slots; ++slot) {
    T* dst = job.phases + index * job.channel + slot * job.hq * job.wq;
    const i64 r = job.slot_row[slot], c = job.slot_col[slot];
    // Phase columns b whose input column c + b*sw - pad_left lies in [0, w).
    const i64 first = c - plan.pad_left;
    const i64 b_lo = first >= 0 ? 0 : min_of(job.wq, (-first + sw - 1) / sw);
    const i64 b_hi = plan.w - first <= 0 ? 0 : min_of(job.wq, (plan.w - first + sw - 1) / sw);
    for (i64 a = 0; a < job.hq; ++a) {
      T* row = dst + a * job.wq;
      const i64 iy = r + a * sh - plan.pad_top;
      if (iy < 0 || iy >= plan.h || b_hi <= b_lo) {
        for (i64 b = 0; b < job.wq; ++b) row[b] = T(0);
        continue;
      }
      const T* in = src + iy * plan.w + first;
      for (i64 b = 0; b < b_lo; ++b) row[b] = T(0);
      if (sw == 1)
        copy_row(row + b_lo, in + b_lo, b_hi - b_lo);
      else
        for (i64 b = b_lo; b < b_hi; ++b) row[b] = in[b * sw];
      for (i64 b = b_hi; b < job.wq; ++b) row[b] = T(0);
    }
  }
}

template <typename T>
void shifted_task(void* context, i64 index) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  const ShiftedJob<T>& job = *static_cast<const ShiftedJob<T>*>(context);
  const ConvPlan& plan = *job.plan;
  const Blocking& b = job.b;
  const i64 jb = index % b.col_blocks, ng = index / b.col_blocks;
  const i64 g = ng % plan.groups, n = job.n0 + ng / plan.groups;
  const i64 q0 = jb * b.nc, q1 = min_of(job.tiles * NR, q0 + b.nc);
  const i64 width = q1 - q0, tiles = width / NR;
  Scratch scratch(static_cast<std::size_t>(b.Mpad * width) * sizeof(T));
  T* acc = static_cast<T*>(scratch.p);
  const i64 c_in_g = plan.c_in / plan.groups;
  const T* image = job.phases + ((n - job.n0) * plan.c_in + g * c_in_g) * job.channel + q0;
  for (i64 k0 = 0; k0 < b.K; k0 += b.kc) {
    const i64 kc = min_of(b.kc, b.K - k0);
    const T* ablock = job.apack + g * b.Mpad * b.K + k0 * b.Mpad;
    for (i64 m0 = 0; m0 < b.Mpad; m0 += b.mc) {
      const i64 m1 = min_of(b.Mpad, m0 + b.mc);
      for (i64 t = 0; t < tiles; ++t) {
        const ShiftedB<T> bt{image + t * NR, job.offset + k0};
        for (i64 r0 = m0; r0 < m1; r0 += MR)
          micro_kernel<T>(kc, ablock + r0 * kc, bt, acc + r0 * width + t * NR, width, nullptr,
                          k0 == 0, MR, NR);
      }
    }
  }
  // The valid pixels (x < ow) of each grid row the block touches, plus the bias.
  T* out = static_cast<T*>(plan.output) + (n * plan.c_out + g * b.Mg) * b.P;
  const T* bias = plan.bias ? static_cast<const T*>(plan.bias) + g * b.Mg : nullptr;
  for (i64 y = q0 / job.wq; y < plan.oh && y * job.wq < q1; ++y) {
    const i64 x0 = max_of<i64>(0, q0 - y * job.wq);
    const i64 x1 = min_of(plan.ow, q1 - y * job.wq);
    if (x1 <= x0) continue;
    for (i64 m = 0; m < b.Mg; ++m) {
      const T* from = acc + m * width + (y * job.wq + x0 - q0);
      T* to = out + m * b.P + y * plan.ow + x0;
      const T add = bias ? bias[m] : T(0);
      for (i64 x = 0; x < x1 - x0; ++x) to[x] = from[x] + add;
    }
  }
}

// The phase grid's columns past ow, as a fraction of its width: the work the shifted
// products waste.
inline double shifted_waste(const ConvPlan& plan) {
  const i64 wq = plan.ow + (plan.kw - 1) * plan.dw / plan.sw;
  return static_cast<double>(wq - plan.ow) / static_cast<double>(wq);
}

template <typename T>
void conv_shifted(const ConvPlan& plan, Blocking b, const T* apack) {
  constexpr int NR = Tile<T>::NR;
  const i64 sh = plan.sh, sw = plan.sw, taps = plan.kh * plan.kw;
  ShiftedJob<T> job{&plan, b, apack, nullptr, 0, 0, nullptr, 0, 0, 0, 0, 0, nullptr, nullptr};
  job.hq = plan.oh + (plan.kh - 1) * plan.dh / sh;
  job.wq = plan.ow + (plan.kw - 1) * plan.dw / sw;
  job.tiles = (plan.oh * job.wq + NR - 1) / NR;
  // A task's accumulators (Mpad x nc) stay within the L2 budget of a B block.
  const i64 acc_tiles = kAccBytes / (b.Mpad * NR * static_cast<i64>(sizeof(T)));
  const i64 tiles_per_task = max_of<i64>(1, min_of(b.nc / NR, acc_tiles));
  job.b.nc = tiles_per_task * NR;
  job.b.col_blocks = (job.tiles + tiles_per_task - 1) / tiles_per_task;
  // The phases some tap reads, each given a slot.
  Scratch tables(static_cast<std::size_t>(sh * sw + 2 * sh * sw + taps) * sizeof(i64));
  i64* slot_of = static_cast<i64*>(tables.p);
  i64* slot_row = slot_of + sh * sw;
  i64* slot_col = slot_row + sh * sw;
  i64* offset_of_tap = slot_col + sh * sw;
  for (i64 i = 0; i < sh * sw; ++i) slot_of[i] = -1;
  for (i64 i = 0; i < plan.kh; ++i) {
    for (i64 j = 0; j < plan.kw; ++j) {
      const i64 r = i * plan.dh % sh, c = j * plan.dw % sw;
      i64& slot = slot_of[r * sw + c];
      if (slot < 0) {
        slot = job.slots++;
        slot_row[slot] = r;
        slot_col[slot] = c;
      }
      offset_of_tap[i * plan.kw + j] =
          slot * job.hq * job.wq + i * plan.dh / sh * job.wq + j * plan.dw / sw;
    }
  }
  job.slot_row = slot_row;
  job.slot_col = slot_col;
  job.channel = job.slots * job.hq * job.wq;
  // The last tile reads up to NR - 1 pixels past the grid, and taps up to a row further.
  const i64 slack = job.wq + 2 * NR + 16;
  // Phases for a chunk of images at a time, about kPhaseBytes (at least one image).
  const i64 image_values = plan.c_in * job.channel;
  const i64 chunk =
      min_of(plan.n, max_of<i64>(1, kPhaseBytes / (image_values * static_cast<i64>(sizeof(T)))));
  Scratch phases(static_cast<std::size_t>(chunk * image_values + slack) * sizeof(T));
  job.phases = static_cast<T*>(phases.p);
  T* tail = job.phases + chunk * image_values;
  for (i64 i = 0; i < slack; ++i) tail[i] = T(0);
  Scratch offsets(static_cast<std::size_t>(b.K) * sizeof(i64));
  i64* offset = static_cast<i64*>(offsets.p);
  for (i64 k = 0; k < b.K; ++k) offset[k] = k / taps * job.channel + offset_of_tap[k % taps];
  job.offset = offset;
  for (job.n0 = 0; job.n0 < plan.n; job.n0 += chunk) {
    job.images = min_of(chunk, plan.n - job.n0);
    parallel_for_raw(job.images * plan.c_in, phase_plane<T>, &job);
    parallel_for_raw(job.images * plan.groups * job.b.col_blocks, shifted_task<T>, &job);
  }
}

template <typename T>
void conv_gemm_typed(const ConvPlan& plan) {
  ConvJob<T> job{&plan, blocking<T>(plan), nullptr};
  const Blocking& b = job.b;
  Scratch apack(static_cast<std::size_t>(plan.groups * b.Mpad * b.K) * sizeof(T));
  pack_weights(plan, b, static_cast<T*>(apack.p));
  job.apack = static_cast<const T*>(apack.p);
  // Shifted products read B in place, unless the kernel is a plain 1 x 1 (its plan reads planes
  // as one row already) or the phase grid would waste more than packing costs.
  const bool plain = plan.kh * plan.kw == 1 && plan.sh == 1 && plan.sw == 1;
  if (!plain && shifted_waste(plan) < 0.25) {
    conv_shifted(plan, b, job.apack);
    return;
  }
  parallel_for_raw(plan.n * plan.groups * b.col_blocks, conv_task<T>, &job);
}

}  // namespace

void conv_gemm(const ConvPlan& plan) {
  if (plan.wide)
    conv_gemm_typed<double>(plan);
  else
    conv_gemm_typed<float>(plan);
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

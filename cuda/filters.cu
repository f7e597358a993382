// Linear filters on the GPU with the CPU kernels' numbers (cpp/src/filters/filter_simd.cpp,
// row_engine.hpp), on (H, W, C) images of uint8, uint16, int16, float32 or float64, any
// output dtype, the five borders (the border supplies the values outside the image):
//
//   filter2d   dst(y, x, c) = sum over (i, j) of k[i][j] src(y + i - ay, x + j - ax, c) + delta
//   separable  t(y', x, c) = sum over j of kx[j] src(y', x + j - ax, c)                 (rows)
//              dst(y, x, c) = sum over i of ky[i] t(y + i - ay, x, c) + delta           (columns)
//   box        dst(y, x, c) = the sum over the kh x kw window at the anchor (/ kh kw)
//
// The numbers. The CPU adds the non-zero taps in order (row-major for filter2d; along the row,
// then down the column for separable kernels) from 0, each term by a fused multiply-add in the
// working type (float32; float64 when the image or the output is float64), then adds delta and
// converts (integers rounded half to even and saturated, NaN to 0). The kernels here do the same
// operations in the same order with explicit fma(), so their results are the CPU's bit for bit
// where the CPU build fuses a * b + c (its AVX2 and AVX-512 kernels; the baseline build rounds
// the product first and can differ in the last bit). A tap whose float64 value is 0 is skipped,
// as on the CPU (0 * inf would be NaN): the caller marks it NaN, which no real tap is. Box sums
// are exact for integer images (int32, int64 where int32 could overflow) and a normalized
// integer result is the exactly rounded quotient, as on the CPU; float images are summed in
// float64 (within float64's rounding of the CPU's running sums, whose order depends on its
// bands), NaN and infinities counted apart so that they reach only the windows holding them.
//
// Separable and 2-D filters work on tiles. A block reads its tile's input rows and halo once
// into shared memory, 16-byte loads where the rows allow, converting to the working type and
// splitting the channels into planes (so every plane is filtered as a one-channel image); then
//   - separable: the row pass filters every input row of the tile into a second shared tile
//     and the column pass writes the outputs: the intermediate never leaves the chip;
//   - filter2d: a direct correlation from the tile.
// Along a row a thread makes V consecutive outputs (V = 4 floats or 2 doubles: one 16-byte
// word) from a window of two words slid along the row, so each shared read serves V taps of V
// outputs; down a column a thread makes 4 consecutive outputs from a window of 4 values slid
// down, one shared read per tap. Kernels of at most 16 taps (8 in float64) along a direction
// keep them in registers (loops fully unrolled); longer ones read them from global memory,
// uniformly. Tiles too large for shared memory (long kernels) live in a scratch buffer in global
// memory, one per block of a launch of at most 256 blocks striding over the tiles (there the
// intermediate goes through L2); larger still is refused (*_fits), and the Python route takes
// the CuPy fallback.
//
// Box sums take a constant number of operations per pixel whatever the window: a block owns a
// strip of columns (with the halo) and a run of rows; it keeps the column sums over the kh
// window rows in shared memory, moves them down one row per output row (a row in, a row out,
// as the CPU does), and each thread makes 8 consecutive outputs of a row by a running sum. Only
// the first row of a run sums its kh rows outright (runs of 32 rows).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "border.cuh"
#include "filters.hpp"
#include "foveal/error.hpp"
#include "simt.hpp"

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;

constexpr int kThreads = 256;     // separable and 2-D filters
constexpr int kBoxThreads = 128;  // box sums
// Resident blocks asked of ptxas (at most 128 registers a thread): without it, ptxas picks
// tighter budgets for some instantiations and spills.
constexpr int kBlocksPerSM = 2;
constexpr std::size_t kSharedBytes = 48 * 1024;  // a block's shared tile, without opt-in
constexpr unsigned kScratchBlocks = 256;         // blocks of a launch with global tiles
constexpr std::size_t kScratchBytes = std::size_t{256} << 20;  // their tiles together
constexpr int kRegisterTapBytes = 64;                          // taps held in registers: 16 or 8
constexpr int kColumnRun = 4;  // outputs a thread makes down a column
constexpr int kBoxRun = 8;     // box outputs a thread makes along a row
constexpr int kBoxRows = 32;   // output rows of a box block

// ---------------------------------------------------------------------------- borders, values

// cv::borderInterpolate (foveal/border.hpp's border_index, on the device).
__device__ __forceinline__ i64 border_at(i64 p, i64 n, Border border) {
  return border_source<i64>(p, n, static_cast<int>(border));
}

__device__ __forceinline__ int nearest_int(float v) {
  return __float2int_rn(v);
}
__device__ __forceinline__ int nearest_int(double v) {
  return __double2int_rn(v);
}

// A working value as an output value: cast for floats; for integers NaN to 0, saturated, then
// rounded half to even (the order does not matter: the bounds are integers).
template <typename D, typename W>
__device__ __forceinline__ D to_output(W v) {
  if constexpr (std::is_floating_point<D>::value) {
    return static_cast<D>(v);
  } else {
    if (v != v) return D(0);
    const W lo = static_cast<W>(std::numeric_limits<D>::lowest());
    const W hi = static_cast<W>(std::numeric_limits<D>::max());
    v = v < lo ? lo : (v > hi ? hi : v);
    return static_cast<D>(nearest_int(v));
  }
}

// P values in one aligned store (P * sizeof(D) is 2, 4, 8 or 16 bytes).
template <typename D, int P>
struct alignas(P * sizeof(D)) Pack {
  D v[P];
};

// out[0 .. count) to dst[idx + r * step]: one or two vector stores when the run is whole,
// contiguous and aligned, else value by value.
template <typename D, int N>
__device__ __forceinline__ void write_values(void* dst, i64 idx, i64 step, const D* out,
                                             int count) {
  D* p = static_cast<D*>(dst) + idx;
  constexpr int P = N * sizeof(D) <= 16 ? N : static_cast<int>(16 / sizeof(D));
  if (step == 1 && count == N && reinterpret_cast<std::uintptr_t>(p) % (P * sizeof(D)) == 0) {
#pragma unroll
    for (int s = 0; s < N; s += P) {
      Pack<D, P> pack;
#pragma unroll
      for (int r = 0; r < P; ++r) pack.v[r] = out[s + r];
      *reinterpret_cast<Pack<D, P>*>(p + s) = pack;
    }
    return;
  }
#pragma unroll
  for (int r = 0; r < N; ++r)  // unrolled so that out stays in registers
    if (r < count) p[r * step] = out[r];
}

template <typename D, typename W, int N>
__device__ __forceinline__ void store_linear(void* dst, i64 idx, i64 step, const W* v, int count,
                                             W delta) {
  D out[N];
#pragma unroll
  for (int r = 0; r < N; ++r) out[r] = to_output<D>(v[r] + delta);
  write_values<D, N>(dst, idx, step, out, count);
}

// The outputs v[r] + delta (r < count) at dst[idx + r * step], in the output's dtype.
template <typename W, int N>
__device__ __forceinline__ void store_run(DType dtype, void* dst, i64 idx, i64 step, const W* v,
                                          int count, W delta) {
  switch (dtype) {
    case DType::u8:
      return store_linear<std::uint8_t, W, N>(dst, idx, step, v, count, delta);
    case DType::u16:
      return store_linear<std::uint16_t, W, N>(dst, idx, step, v, count, delta);
    case DType::s16:
      return store_linear<std::int16_t, W, N>(dst, idx, step, v, count, delta);
    case DType::f32:
      return store_linear<float, W, N>(dst, idx, step, v, count, delta);
    case DType::f64:
      return store_linear<double, W, N>(dst, idx, step, v, count, delta);
  }
}

// ------------------------------------------------------------------ words of the working type

template <typename W>
struct Word;
template <>
struct Word<float> {
  static constexpr int N = 4;
};
template <>
struct Word<double> {
  static constexpr int N = 2;
};

__device__ __forceinline__ void load_word(const float* p, float* v) {
  const float4 w = *reinterpret_cast<const float4*>(p);
  v[0] = w.x, v[1] = w.y, v[2] = w.z, v[3] = w.w;
}
__device__ __forceinline__ void load_word(const double* p, double* v) {
  const double2 w = *reinterpret_cast<const double2*>(p);
  v[0] = w.x, v[1] = w.y;
}
__device__ __forceinline__ void store_word(float* p, const float* v) {
  *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
}
__device__ __forceinline__ void store_word(double* p, const double* v) {
  *reinterpret_cast<double2*>(p) = make_double2(v[0], v[1]);
}

// 16 bytes of source values from a 16-byte aligned address.
template <typename S>
__device__ __forceinline__ void load16(const S* p, S* v) {
  const uint4 w = __ldg(reinterpret_cast<const uint4*>(p));
  memcpy(v, &w, 16);
}

// ------------------------------------------------------------------------------------ taps

// Taps held in registers (at most kMax: 16 floats or 8 doubles): loops over them unroll fully,
// so every index is a constant. A NaN tap is a zero tap of the caller's kernel: skipped.
template <typename W>
struct RegisterTaps {
  static constexpr int kMax = static_cast<int>(kRegisterTapBytes / sizeof(W));
  W k[kMax];
  int n;
  __device__ __forceinline__ RegisterTaps(const W* taps, int count) : n(count) {
#pragma unroll
    for (int j = 0; j < kMax; ++j) k[j] = j < count ? __ldg(taps + j) : W(0);
  }
  __device__ __forceinline__ W operator[](int j) const { return k[j]; }
};

// Taps read from global memory where they are used (the same address in every thread).
template <typename W>
struct MemoryTaps {
  static constexpr int kMax = 0;
  const W* k;
  int n;
  __device__ __forceinline__ MemoryTaps(const W* taps, int count) : k(taps), n(count) {}
  __device__ __forceinline__ W operator[](int j) const { return __ldg(k + j); }
};

// One word's worth of taps j0 .. j0 + V - 1 of row_taps.
template <typename W, class Taps>
__device__ __forceinline__ void row_word(const W* p, const Taps& k, int j0, W* win, W* acc) {
  constexpr int V = Word<W>::N;
  load_word(p + j0 + V, win + V);
#pragma unroll
  for (int e = 0; e < V; ++e) {
    const int j = j0 + e;
    if (j < k.n) {
      const W kj = k[j];
      if (kj == kj) {
#pragma unroll
        for (int r = 0; r < V; ++r) acc[r] = fma(kj, win[e + r], acc[r]);
      }
    }
  }
#pragma unroll
  for (int e = 0; e < V; ++e) win[e] = win[V + e];
}

// acc[r] += k[j] p[r + j] for the V outputs r < V of one word, over the taps j in order: a
// window of two words slides along the row (p 16-byte aligned; reads reach p[V ceil(n / V) +
// V - 1]).
template <typename W, class Taps>
__device__ __forceinline__ void row_taps(const W* p, const Taps& k, W* acc) {
  constexpr int V = Word<W>::N;
  W win[2 * V];
  load_word(p, win);
  if constexpr (Taps::kMax > 0) {
#pragma unroll
    for (int j0 = 0; j0 < Taps::kMax; j0 += V) {
      if (j0 >= k.n) break;
      row_word(p, k, j0, win, acc);
    }
  } else {
    for (int j0 = 0; j0 < k.n; j0 += V) row_word(p, k, j0, win, acc);
  }
}

template <typename W, class Taps>
__device__ __forceinline__ void column_step(const W* p, int pitch, const Taps& k, int i, W* win,
                                            W* acc) {
  const W ki = k[i];
  if (ki == ki) {
#pragma unroll
    for (int r = 0; r < kColumnRun; ++r) acc[r] = fma(ki, win[r], acc[r]);
  }
  if (i + 1 < k.n) {
#pragma unroll
    for (int r = 0; r + 1 < kColumnRun; ++r) win[r] = win[r + 1];
    win[kColumnRun - 1] = p[(i + kColumnRun) * pitch];
  }
}

// acc[r] += k[i] p[(r + i) pitch] for the kColumnRun outputs r down a column, over the taps i
// in order: a window of kColumnRun values slides down.
template <typename W, class Taps>
__device__ __forceinline__ void column_taps(const W* p, int pitch, const Taps& k, W* acc) {
  W win[kColumnRun];
#pragma unroll
  for (int r = 0; r < kColumnRun; ++r) win[r] = p[r * pitch];
  if constexpr (Taps::kMax > 0) {
#pragma unroll
    for (int i = 0; i < Taps::kMax; ++i) {
      if (i >= k.n) break;
      column_step(p, pitch, k, i, win, acc);
    }
  } else {
    for (int i = 0; i < k.n; ++i) column_step(p, pitch, k, i, win, acc);
  }
}

// ------------------------------------------------------------------------------------ tiles

// The tiles of filter2d and the separable filters: th output rows by tw output pixels, read
// from rin = th + kh - 1 input rows of lw pixels (tw + kw - 1, rounded up for the row window),
// one plane per channel (and as many planes of the row-filtered tile, separable filters).
struct Tile {
  int th = 0, tw = 0, rin = 0, lw = 0;
  int in_plane = 0, mid_plane = 0;  // values per plane of the input and row-filtered tiles
  i64 tiles_x = 0, tiles = 0;
  std::size_t bytes = 0;  // one block's tiles
  bool scratch = false;   // in global memory, not shared
  unsigned grid = 0;
};

// Fills the input tile whose row 0 is virtual row vy0 and column 0 virtual pixel vx0: values
// inside the image with 16-byte loads (rows' own alignment), then the border's.
template <typename S, typename W>
__device__ void fill_tile(const LinearArgs& a, const Tile& t, i64 vy0, i64 vx0, W* in) {
  const S* src = static_cast<const S*>(a.src);
  const W* pixel = static_cast<const W*>(a.border_pixel);
  const int C = static_cast<int>(a.channels);
  const int lw = t.lw;
  // The tile's columns [ul, ur) lie inside the image.
  const i64 left = -vx0 < 0 ? 0 : (-vx0 > lw ? lw : -vx0);
  const i64 right_end = a.cols - vx0;
  const int ul = static_cast<int>(left);
  const int ur = static_cast<int>(right_end < left ? left : (right_end > lw ? lw : right_end));
  const int count = (ur - ul) * C;  // values of a row inside the image
  constexpr int VS = static_cast<int>(16 / sizeof(S));
  if (count > 0) {
    const int chunks = (count + VS - 1) / VS + 1;
    const i64 g0 = (vx0 + ul) * C;
    for (int item = threadIdx.x; item < t.rin * chunks; item += blockDim.x) {
      const int row = item / chunks, k = item % chunks;
      const i64 r = border_at(vy0 + row, a.rows, a.border);
      if (r < 0) continue;
      const S* line = src + r * a.pitch + g0;
      const int mis = static_cast<int>(reinterpret_cast<std::uintptr_t>(line) % 16 / sizeof(S));
      const int first = k * VS - mis;
      if (first >= count) continue;
      // The chunk's values [lo, hi) lie inside; loops unrolled over the chunk so that v stays
      // in registers.
      const int lo = first < 0 ? 0 : first;
      const int hi = first + VS > count ? count : first + VS;
      S v[VS];
      if (lo == first && hi == first + VS) {
        load16(line + first, v);
      } else {
#pragma unroll
        for (int e = 0; e < VS; ++e)
          if (first + e >= lo && first + e < hi) v[e] = __ldg(line + first + e);
      }
      int u = ul + lo / C, c = lo % C;
      W* base = in + row * lw;
#pragma unroll
      for (int e = 0; e < VS; ++e) {
        if (first + e < lo || first + e >= hi) continue;
        base[c * t.in_plane + u] = static_cast<W>(v[e]);
        if (++c == C) c = 0, ++u;
      }
    }
  }
  // Rows of the border constant, and the columns outside the image.
  const bool edges = ul > 0 || ur < lw;
  for (int row = 0; row < t.rin; ++row) {
    const i64 r = border_at(vy0 + row, a.rows, a.border);
    if (r >= 0 && !edges) continue;
    const int outside = r < 0 ? lw : lw - (ur - ul);
    W* base = in + row * lw;
    for (int item = threadIdx.x; item < outside * C; item += blockDim.x) {
      int u = item / C;
      const int c = item % C;
      if (r >= 0 && u >= ul) u += ur - ul;
      W v = __ldg(pixel + c);
      if (r >= 0) {
        const i64 sp = border_at(vx0 + u, a.cols, a.border);
        if (sp >= 0) v = static_cast<W>(__ldg(src + r * a.pitch + sp * C + c));
      }
      base[c * t.in_plane + u] = v;
    }
  }
}

template <typename W>
__device__ __forceinline__ W* tile_memory(W* scratch, const Tile& t) {
  FOVEAL_DYNAMIC_SHARED(float4, filter_shared);
  if (t.scratch) return scratch + static_cast<i64>(blockIdx.x) * (t.bytes / sizeof(W));
  return reinterpret_cast<W*>(filter_shared);
}

template <typename S, typename W, class Taps>
__global__ void __launch_bounds__(kThreads, kBlocksPerSM)
    sep_kernel(LinearArgs a, Tile t, W* scratch) {
  constexpr int V = Word<W>::N;
  W* in = tile_memory(scratch, t);
  const int C = static_cast<int>(a.channels);
  W* mid = in + static_cast<i64>(C) * t.in_plane;
  const W delta = static_cast<W>(a.delta);
  const i64 n = a.cols * C;
  const int words = t.tw / V, groups = t.th / kColumnRun;
  for (i64 tile = blockIdx.x; tile < t.tiles; tile += gridDim.x) {
    const i64 y0 = tile / t.tiles_x * t.th, p0 = tile % t.tiles_x * t.tw;
    fill_tile<S, W>(a, t, y0 - a.ay, p0 - a.ax, in);
    __syncthreads();
    // Rows: every input row of the tile, plane by plane (row index `line` = plane * rin + row).
    // The taps of one pass at a time are in registers (loaded per tile, from cache).
    const Taps kx(static_cast<const W*>(a.kernel_x), a.kw);
    for (int item = threadIdx.x; item < C * t.rin * words; item += blockDim.x) {
      const int k = item % words, line = item / words;
      W acc[V] = {};
      row_taps<W>(in + line * t.lw + k * V, kx, acc);
      store_word(mid + line * t.tw + k * V, acc);
    }
    __syncthreads();
    // Columns: kColumnRun output rows per thread; consecutive threads take consecutive values
    // of a row, so that the stores of a warp are contiguous.
    const Taps ky(static_cast<const W*>(a.kernel_y), a.kh);
    for (int item = threadIdx.x; item < groups * t.tw * C; item += blockDim.x) {
      const int c = item % C, rest = item / C;
      const int q = rest % t.tw, g = rest / t.tw;
      const i64 p = p0 + q, y = y0 + g * kColumnRun;
      if (p >= a.cols || y >= a.rows) continue;
      W acc[kColumnRun] = {};
      column_taps<W>(mid + c * t.mid_plane + g * kColumnRun * t.tw + q, t.tw, ky, acc);
      const int count = static_cast<int>(a.rows - y < kColumnRun ? a.rows - y : kColumnRun);
      store_run<W, kColumnRun>(a.dst_type, a.dst, y * n + p * C + c, n, acc, count, delta);
    }
    __syncthreads();
  }
}

template <typename S, typename W, class Taps>
__global__ void __launch_bounds__(kThreads, kBlocksPerSM)
    filter2d_kernel(LinearArgs a, Tile t, W* scratch) {
  constexpr int V = Word<W>::N;
  W* in = tile_memory(scratch, t);
  const int C = static_cast<int>(a.channels);
  const W* kernel = static_cast<const W*>(a.kernel);
  const W delta = static_cast<W>(a.delta);
  const i64 n = a.cols * C;
  const int words = t.tw / V;
  for (i64 tile = blockIdx.x; tile < t.tiles; tile += gridDim.x) {
    const i64 y0 = tile / t.tiles_x * t.th, p0 = tile % t.tiles_x * t.tw;
    fill_tile<S, W>(a, t, y0 - a.ay, p0 - a.ax, in);
    __syncthreads();
    for (int item = threadIdx.x; item < C * t.th * words; item += blockDim.x) {
      const int c = item % C, rest = item / C;
      const int k = rest % words, row = rest / words;
      const i64 p = p0 + k * V, y = y0 + row;
      if (p >= a.cols || y >= a.rows) continue;
      const W* base = in + c * t.in_plane + row * t.lw + k * V;
      W acc[V] = {};
      for (int i = 0; i < a.kh; ++i) {
        const Taps ki(kernel + i * a.kw, a.kw);
        row_taps<W>(base + i * t.lw, ki, acc);
      }
      const int count = static_cast<int>(a.cols - p < V ? a.cols - p : V);
      store_run<W, V>(a.dst_type, a.dst, y * n + p * C + c, C, acc, count, delta);
    }
    __syncthreads();
  }
}

// The tile shape with the least memory per output that fits shared memory (or, failing that, a
// block's share of the scratch buffer); tiles == 0 when none does.
Tile plan_tile(const LinearArgs& a, bool separable) {
  const int V = a.wide ? Word<double>::N : Word<float>::N;
  const double size = a.wide ? sizeof(double) : sizeof(float);
  const i64 C = a.channels;
  i64 widest = V;
  while (widest * 2 * C <= 128) widest *= 2;  // about 128 values per tile row
  const i64 kw_words = (a.kw + V - 1) / V * V;
  Tile best;
  for (int pass = 0; pass < 2 && best.tiles == 0; ++pass) {
    const double budget =
        pass == 0 ? static_cast<double>(kSharedBytes) : double(kScratchBytes / kScratchBlocks);
    double best_cost = 0;
    for (i64 th = kColumnRun; th <= 32; th *= 2)
      for (i64 tw = V; tw <= widest; tw *= 2) {
        if ((th > kColumnRun && th / 2 >= a.rows) || (tw > V && tw / 2 >= a.cols)) continue;
        const double rin = double(th + a.kh - 1), lw = double(tw + kw_words);
        const double bytes = double(C) * (rin * lw + (separable ? rin * double(tw) : 0)) * size;
        if (bytes > budget) continue;
        const double cost = bytes / double(th * tw);
        if (best.tiles != 0 && cost >= best_cost) continue;
        best_cost = cost;
        best.th = static_cast<int>(th);
        best.tw = static_cast<int>(tw);
        best.rin = static_cast<int>(th + a.kh - 1);
        best.lw = static_cast<int>(tw + kw_words);
        best.in_plane = best.rin * best.lw;
        best.mid_plane = separable ? best.rin * best.tw : 0;
        best.bytes = (static_cast<std::size_t>(bytes) + 15) / 16 * 16;
        best.scratch = pass == 1;
        best.tiles_x = (a.cols + tw - 1) / tw;
        best.tiles = best.tiles_x * ((a.rows + th - 1) / th);
      }
  }
  if (best.tiles == 0) return best;
  const i64 cap = best.scratch ? kScratchBlocks : (i64{1} << 30);
  best.grid = static_cast<unsigned>(best.tiles < cap ? best.tiles : cap);
  return best;
}

// Calls f(S{}) with S the C++ type of ``dtype``.
template <class F>
void with_source(DType dtype, F&& f) {
  switch (dtype) {
    case DType::u8:
      return f(std::uint8_t{});
    case DType::u16:
      return f(std::uint16_t{});
    case DType::s16:
      return f(std::int16_t{});
    case DType::f32:
      return f(float{});
    case DType::f64:
      return f(double{});
  }
}

template <typename S, typename W>
void launch_linear(const LinearArgs& a, const Tile& t, bool separable, Stream stream) {
  Buffer scratch(t.scratch ? std::size_t{t.grid} * t.bytes : 0, stream);
  const std::size_t shared = t.scratch ? 0 : t.bytes;
  W* tiles = scratch.as<W>();
  const dim3 grid(t.grid), block(kThreads);
  if (separable) {
    if (a.kw <= RegisterTaps<W>::kMax && a.kh <= RegisterTaps<W>::kMax)
      launch("sep_kernel", sep_kernel<S, W, RegisterTaps<W>>, grid, block, shared, stream, a, t,
             tiles);
    else
      launch("sep_kernel", sep_kernel<S, W, MemoryTaps<W>>, grid, block, shared, stream, a, t,
             tiles);
  } else {
    if (a.kw <= RegisterTaps<W>::kMax)
      launch("filter2d_kernel", filter2d_kernel<S, W, RegisterTaps<W>>, grid, block, shared, stream,
             a, t, tiles);
    else
      launch("filter2d_kernel", filter2d_kernel<S, W, MemoryTaps<W>>, grid, block, shared, stream,
             a, t, tiles);
  }
}

void run_linear(const LinearArgs& a, bool separable, void* stream, const char* fn) {
  if (a.rows <= 0 || a.cols <= 0) return;
  const Tile t = plan_tile(a, separable);
  if (t.tiles == 0)
    throw ValueError(std::string(fn) + ": the kernel is too large for the GPU tiles");
  const Stream s = static_cast<Stream>(stream);
  with_source(a.src_type, [&](auto tag) {
    using S = decltype(tag);
    if (a.wide)
      launch_linear<S, double>(a, t, separable, s);
    else if constexpr (!std::is_same<S, double>::value)
      launch_linear<S, float>(a, t, separable, s);
  });
}

// ---------------------------------------------------------------------------------- box sums

// A float64 window sum that keeps NaN and infinities apart: the finite values' sum and how
// many of each non-finite value, so that a running sum (add a row, subtract a row) never turns
// a NaN or an infinity that has left the window into a NaN of a later one.
struct FloatSum {
  double sum;
  i64 nan, pos, neg;
};
__device__ __forceinline__ FloatSum operator+(FloatSum a, FloatSum b) {
  return FloatSum{a.sum + b.sum, a.nan + b.nan, a.pos + b.pos, a.neg + b.neg};
}
__device__ __forceinline__ FloatSum operator-(FloatSum a, FloatSum b) {
  return FloatSum{a.sum - b.sum, a.nan - b.nan, a.pos - b.pos, a.neg - b.neg};
}
__device__ __forceinline__ FloatSum& operator+=(FloatSum& a, FloatSum b) {
  return a = a + b;
}

template <typename A>
__device__ __forceinline__ A sum_of(double v) {
  if constexpr (std::is_same<A, FloatSum>::value) {
    if (v != v) return FloatSum{0, 1, 0, 0};
    if (v - v != 0) return v > 0 ? FloatSum{0, 0, 1, 0} : FloatSum{0, 0, 0, 1};
    return FloatSum{v, 0, 0, 0};
  } else {
    return static_cast<A>(v);
  }
}

__device__ __forceinline__ double total(FloatSum s) {
  if (s.nan > 0 || (s.pos > 0 && s.neg > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (s.pos > 0) return std::numeric_limits<double>::infinity();
  if (s.neg > 0) return -std::numeric_limits<double>::infinity();
  return s.sum;
}

// round_half_even(s / area) of an exact integer sum.
__device__ __forceinline__ i64 rounded_quotient(i64 s, i64 area) {
  i64 q = s / area, r = s % area;
  if (r < 0) q -= 1, r += area;
  if (2 * r > area || (2 * r == area && (q & 1) != 0)) ++q;
  return q;
}

// A window sum as the output: the CPU's store_sums (filter_simd.cpp).
template <typename D, typename A>
__device__ __forceinline__ D box_output(A s, bool normalize, i64 area) {
  if constexpr (std::is_same<A, FloatSum>::value) {
    const double v = total(s);
    if constexpr (std::is_floating_point<D>::value)
      return static_cast<D>(v * (normalize ? 1.0 / static_cast<double>(area) : 1.0));
    else
      return to_output<D>(normalize ? v / static_cast<double>(area) : v);
  } else {
    if constexpr (std::is_floating_point<D>::value) {
      return static_cast<D>(static_cast<double>(s) *
                            (normalize ? 1.0 / static_cast<double>(area) : 1.0));
    } else {
      i64 q = normalize ? rounded_quotient(s, area) : static_cast<i64>(s);
      const i64 lo = std::numeric_limits<D>::lowest(), hi = std::numeric_limits<D>::max();
      q = q < lo ? lo : (q > hi ? hi : q);
      return static_cast<D>(q);
    }
  }
}

template <typename D, typename A>
__device__ __forceinline__ void store_box_as(const BoxArgs& a, i64 idx, i64 step, const A* s,
                                             int count) {
  const i64 area = static_cast<i64>(a.kh) * a.kw;
  D out[kBoxRun];
#pragma unroll
  for (int r = 0; r < kBoxRun; ++r) out[r] = box_output<D>(s[r], a.normalize, area);
  write_values<D, kBoxRun>(a.dst, idx, step, out, count);
}

template <typename A>
__device__ __forceinline__ void store_box(const BoxArgs& a, i64 idx, i64 step, const A* s,
                                          int count) {
  switch (a.dst_type) {
    case DType::u8:
      return store_box_as<std::uint8_t>(a, idx, step, s, count);
    case DType::u16:
      return store_box_as<std::uint16_t>(a, idx, step, s, count);
    case DType::s16:
      return store_box_as<std::int16_t>(a, idx, step, s, count);
    case DType::f32:
      return store_box_as<float>(a, idx, step, s, count);
    case DType::f64:
      return store_box_as<double>(a, idx, step, s, count);
  }
}

// A box block: tw output pixels (a multiple of kBoxRun) of kBoxRows rows; its column sums span
// lw = tw + kw - 1 pixels, one plane per channel, stored at skew(u) so that the runs of
// consecutive threads (kBoxRun apart) fall in different banks.
struct BoxTile {
  int tw = 0, lw = 0, plane = 0;
  i64 tiles_x = 0, tiles = 0;
  std::size_t bytes = 0;
  bool scratch = false;
  unsigned grid = 0;
};

__host__ __device__ __forceinline__ int skew(int u) {
  return u + (u >> 3);
}

// Value c of virtual pixel vp of source row r (-1: the border constant's row), as a sum.
template <typename S, typename A>
__device__ __forceinline__ A box_value(const BoxArgs& a, i64 r, i64 vp, int c) {
  if (r >= 0) {
    const i64 sp = border_at(vp, a.cols, a.border);
    if (sp >= 0) {
      const S* src = static_cast<const S*>(a.src);
      return sum_of<A>(static_cast<double>(__ldg(src + r * a.pitch + sp * a.channels + c)));
    }
  }
  return sum_of<A>(__ldg(a.border_pixel + c));
}

template <typename S, typename A>
__global__ void __launch_bounds__(kBoxThreads, 2 * kBlocksPerSM)
    box_kernel(BoxArgs a, BoxTile t, A* scratch) {
  FOVEAL_DYNAMIC_SHARED(float4, box_shared);
  A* sums = t.scratch ? scratch + static_cast<i64>(blockIdx.x) * (t.bytes / sizeof(A))
                      : reinterpret_cast<A*>(box_shared);
  const int C = static_cast<int>(a.channels);
  const i64 n = a.cols * C;
  const int runs = t.tw / kBoxRun;
  for (i64 tile = blockIdx.x; tile < t.tiles; tile += gridDim.x) {
    const i64 y_first = tile / t.tiles_x * kBoxRows, p0 = tile % t.tiles_x * t.tw;
    const i64 y_end = a.rows - y_first < kBoxRows ? a.rows : y_first + kBoxRows;
    const i64 vx0 = p0 - a.ax;
    // The column sums of the first row's window, rows added in order as on the CPU.
    for (int item = threadIdx.x; item < t.lw * C; item += blockDim.x) {
      const int u = item / C, c = item % C;
      A s = sum_of<A>(0.0);
      for (int i = 0; i < a.kh; ++i)
        s += box_value<S, A>(a, border_at(y_first - a.ay + i, a.rows, a.border), vx0 + u, c);
      sums[c * t.plane + skew(u)] = s;
    }
    __syncthreads();
    for (i64 y = y_first; y < y_end; ++y) {
      if (y > y_first) {
        const i64 in = border_at(y - a.ay + a.kh - 1, a.rows, a.border);
        const i64 out = border_at(y - 1 - a.ay, a.rows, a.border);
        for (int item = threadIdx.x; item < t.lw * C; item += blockDim.x) {
          const int u = item / C, c = item % C;
          A& s = sums[c * t.plane + skew(u)];
          s += box_value<S, A>(a, in, vx0 + u, c) - box_value<S, A>(a, out, vx0 + u, c);
        }
        __syncthreads();
      }
      for (int item = threadIdx.x; item < runs * C; item += blockDim.x) {
        const int c = item % C, q0 = item / C * kBoxRun;
        const i64 p = p0 + q0;
        if (p >= a.cols) continue;
        const A* line = sums + c * t.plane;
        A s = sum_of<A>(0.0);
        for (int j = 0; j < a.kw; ++j) s += line[skew(q0 + j)];
        A out[kBoxRun];
        out[0] = s;
#pragma unroll
        for (int r = 1; r < kBoxRun; ++r) {
          s += line[skew(q0 + r + a.kw - 1)] - line[skew(q0 + r - 1)];
          out[r] = s;
        }
        const int count = static_cast<int>(a.cols - p < kBoxRun ? a.cols - p : kBoxRun);
        store_box<A>(a, y * n + p * C + c, C, out, count);
      }
      __syncthreads();
    }
  }
}

BoxTile plan_box(const BoxArgs& a, std::size_t sum_size) {
  const i64 C = a.channels;
  // About one run of kBoxRun outputs per thread and row, no more than the image needs.
  i64 runs = kBoxThreads / C;
  if (runs > (a.cols + kBoxRun - 1) / kBoxRun) runs = (a.cols + kBoxRun - 1) / kBoxRun;
  if (runs < 1) runs = 1;
  BoxTile best;
  for (int pass = 0; pass < 2 && best.tiles == 0; ++pass) {
    const double budget =
        pass == 0 ? static_cast<double>(kSharedBytes) : double(kScratchBytes / kScratchBlocks);
    for (i64 m = runs; m >= 1 && best.tiles == 0; m /= 2) {
      const double lw = double(m * kBoxRun + a.kw - 1);
      const double plane = lw + std::floor((lw - 1) / 8);  // skew(lw - 1) + 1
      const double bytes = double(C) * plane * double(sum_size);
      if (bytes > budget) continue;
      best.tw = static_cast<int>(m * kBoxRun);
      best.lw = best.tw + a.kw - 1;
      best.plane = skew(best.lw - 1) + 1;
      best.bytes = (static_cast<std::size_t>(bytes) + 15) / 16 * 16;
      best.scratch = pass == 1;
      best.tiles_x = (a.cols + best.tw - 1) / best.tw;
      best.tiles = best.tiles_x * ((a.rows + kBoxRows - 1) / kBoxRows);
    }
  }
  if (best.tiles == 0) return best;
  const i64 cap = best.scratch ? kScratchBlocks : (i64{1} << 30);
  best.grid = static_cast<unsigned>(best.tiles < cap ? best.tiles : cap);
  return best;
}

// Whether int32 holds every window sum of an integer image (the CPU's test).
bool int32_sums(const BoxArgs& a) {
  const double area = double(a.kh) * double(a.kw);
  return (a.src_type == DType::u8 ? area * 256.0 : area * 65536.0) < 2147483648.0;
}

std::size_t box_sum_size(const BoxArgs& a) {
  if (a.src_type == DType::f32 || a.src_type == DType::f64) return sizeof(FloatSum);
  return int32_sums(a) ? sizeof(std::int32_t) : sizeof(i64);
}

template <typename S, typename A>
void launch_box(const BoxArgs& a, const BoxTile& t, Stream stream) {
  Buffer scratch(t.scratch ? std::size_t{t.grid} * t.bytes : 0, stream);
  launch("box_kernel", box_kernel<S, A>, dim3(t.grid), dim3(kBoxThreads), t.scratch ? 0 : t.bytes,
         stream, a, t, scratch.as<A>());
}

}  // namespace

bool filter2d_fits(const LinearArgs& args) {
  return plan_tile(args, false).tiles != 0;
}

bool sep_filter_fits(const LinearArgs& args) {
  return plan_tile(args, true).tiles != 0;
}

bool box_filter_fits(const BoxArgs& args) {
  return plan_box(args, box_sum_size(args)).tiles != 0;
}

void filter2d(const LinearArgs& args, void* stream) {
  run_linear(args, false, stream, "filter2d");
}

void sep_filter(const LinearArgs& args, void* stream) {
  run_linear(args, true, stream, "sep_filter2d");
}

void box_filter(const BoxArgs& a, void* stream) {
  if (a.rows <= 0 || a.cols <= 0) return;
  const BoxTile t = plan_box(a, box_sum_size(a));
  if (t.tiles == 0) throw ValueError("box_filter: the window is too large for the GPU tiles");
  const Stream s = static_cast<Stream>(stream);
  with_source(a.src_type, [&](auto tag) {
    using S = decltype(tag);
    if constexpr (std::is_floating_point<S>::value)
      launch_box<S, FloatSum>(a, t, s);
    else if (int32_sums(a))
      launch_box<S, std::int32_t>(a, t, s);
    else
      launch_box<S, i64>(a, t, s);
  });
}

}  // namespace gpu
}  // namespace foveal

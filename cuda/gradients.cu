// The fused gradient and corner kernels: from pixels to result in one pass, with the CPU path's
// numbers (cpp/src/filters/filter_simd.cpp, corner_simd.cpp, row_engine.hpp).
//
// Math. gx and gy are cv2.getDerivKernels' separable Sobel (ksize 1, 3, 5, 7) or Scharr (-1)
// derivatives of an (H, W) or (H, W, C) image, each channel on its own, the image's border
// applied to the pixels:
//   gx = column taps ky0 (smoothing) over rows of [row taps kx1 (derivative) over pixels],
//   gy = column taps ky1 (derivative) over rows of [row taps kx0 (smoothing) over pixels].
// gradient: magnitude sqrt(gx^2 + gy^2), angle atan2(gy, gx) in [0, 2 pi) (or degrees), 0 where
// both are 0: the CPU's polynomial in float32 (within 1e-6 rad of atan2), atan2 in float64.
// harris / min_eigen (one channel): the column taps scaled by cv2's 1 / (2^(ksize-1) block
// [x 2 for Scharr] [x 255 for uint8]); the products gx^2, gx gy, gy^2 at every pixel, with the
// border applied again to the products (cv2.boxFilter on them: constant means 0); a, b, c their
// block x block sums anchored at block / 2; the response a c - b^2 - k (a + c)^2, or
// (a + c) / 2 - sqrt(((a - c) / 2)^2 + b^2).
//
// Arithmetic is the CPU's, operation for operation: float32 (float64 for float64 images), each
// filter an FMA chain over its non-zero taps in order starting from 0 (the CPU's AVX2 / AVX-512
// kernels: -ffp-contract=fast), block sums down the window then across it, in order, and the
// final expressions fused as GCC fuses them there. Products that the CPU rounds on their own
// are written __fmul_rn (mul_rn) so that nvcc cannot fuse them. Every result is then the
// CPU's to the bit, magnitude, angle and responses, for every dtype (tests/test_gpu_gradients.py
// checks it against the AVX2 kernels), but for the float64 angle on a GPU, where CUDA's atan2
// and the C library's may differ in the last bit or two.
//
// Algorithm. A block owns a tile of columns and a strip of rows and walks down the strip: one
// thread per column (flattened x C + c values for the gradient; derivative columns for the
// corners, so a tile of T threads gives T - block + 1 outputs). The block first lists the
// source rows its strip reads (RowPlan, below) in shared memory. Source rows come in chunks of
// K rows: every thread loads its column of the next chunk into registers (K loads in flight
// per thread) while the block works on the current one from shared memory, where each row has
// its halo of radius (x C) columns, the border applied while loading. For each row a thread
// filters along x from shared memory (the row taps, 2 radius + 1 loads) into a register window
// of the last 2 radius + 1 rows; each completed derivative row takes the column taps over that
// window. The gradient then writes magnitude and angle; the corners push the three products
// into register windows of `block` rows, sum them down into a shared row, and after the chunk
// each output thread sums `block` of those across and writes the response. Nothing full-size
// is written but the result, and every global access is a row segment read or written by
// consecutive threads.
//
// Instantiations: one kernel per working type (float for every dtype but float64, whose dtype
// the kernel reads at run time), derivative radius (1, 2, 3) and, for the corners, block-size
// class (windows of 2, 4 or 7 rows: the sums take the last `block` of them), 24 in all, so
// that nvcc builds the file in minutes.
//
// Borders of the products (corners). A derivative row or column outside the image is, for
// reflect / reflect101 / replicate, the product at the row or column it maps to, which lies in
// the same tile (2 (block / 2) >= block - 1); the block feeds the source rows of that row again
// (2 radius + 1 of them) and threads of such columns filter at the column they map to. For
// wrap the products outside are those of the wrapped rows, which the source rows' own wrap
// gives; for constant they are 0. The rows a strip feeds are a fixed list (RowPlan) that every
// thread walks the same way, so every barrier is reached by all.
#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "border.cuh"
#include "gradients.hpp"
#include "simt.hpp"

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;

constexpr int kConstant = static_cast<int>(Border::Constant);
constexpr int kWrap = static_cast<int>(Border::Wrap);

constexpr int kMaxTaps = 7;            // 2 radius + 1 for ksize 7
constexpr int kGradientThreads = 256;  // a tile of 256 values: two 1 KiB rows out per row
constexpr int kCornerThreads = 128;    // 128 - block + 1 outputs; shared memory stays < 48 KiB

#if defined(FOVEAL_SIMT_EMU)
// Under the emulator, a wrong shared-memory index is an error rather than a silent read.
#define FOVEAL_GRADIENT_CHECK(cond)                                               \
  do {                                                                            \
    if (!(cond)) throw std::logic_error("gradients.cu: " #cond " does not hold"); \
  } while (0)
// A product rounded on its own: the host compiler fuses nothing here (no FMA in its target).
inline float mul_rn(float a, float b) {
  return a * b;
}
inline double mul_rn(double a, double b) {
  return a * b;
}
#else
#define FOVEAL_GRADIENT_CHECK(cond) ((void)sizeof(cond))  // checked under the emulator
// A product rounded on its own, which nvcc may not fuse into a following addition.
__device__ __forceinline__ float mul_rn(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ __forceinline__ double mul_rn(double a, double b) {
  return __dmul_rn(a, b);
}
#endif

__device__ __forceinline__ float fma_of(float a, float b, float c) {
  return fmaf(a, b, c);
}
__device__ __forceinline__ double fma_of(double a, double b, double c) {
  return fma(a, b, c);
}

// Source rows per chunk: K loads in flight per thread; float64 halves it to keep the shared
// memory of a block under 48 KiB.
template <typename W>
constexpr int chunk_rows() {
  return sizeof(W) == 4 ? 8 : 4;
}

// foveal::border_index on the device: the index in [0, n) that position p reads, or -1 for
// the constant border. 32-bit: rows and columns are below 2^31 - 2^16 (bind_gradients.cpp).
__device__ __forceinline__ int border_at(int p, int n, int border) {
  return border_source<int>(p, n, border);
}

// The derivative kernels, each centred in 2 radius + 1 taps (index R + offset); zero taps are
// skipped, as the CPU skips them. The column taps carry the scale.
template <typename W>
struct Taps {
  W x_of_gx[kMaxTaps], y_of_gx[kMaxTaps], x_of_gy[kMaxTaps], y_of_gy[kMaxTaps];
};

// sum over t of k[t] v[t], an FMA chain over the non-zero taps from 0 (the CPU's dot_rows).
template <int F, typename W>
__device__ __forceinline__ W tap_chain(const W* k, const W* v) {
  W acc = W(0);
#pragma unroll
  for (int t = 0; t < F; ++t)
    if (k[t] != W(0)) acc = fma_of(k[t], v[t], acc);
  return acc;
}

template <int F, typename W>
__device__ __forceinline__ void push(W (&window)[F], W v) {
#pragma unroll
  for (int t = 0; t + 1 < F; ++t) window[t] = window[t + 1];
  window[F - 1] = v;
}

// The source rows a strip of derivative rows reads, as one list of "feeds" that every thread
// of the block walks alike. Derivative row i (virtual row v0 + i) is one of:
//   inside    (v in the image, or any v with wrap): its source rows border(v + d), d in
//             [-R, R]; consecutive inside rows share 2 R of them, so the first takes 2 R + 1
//             feeds and each next one feed;
//   remapped  (outside, reflect / reflect101 / replicate): the products of row border(v), so
//             the 2 R + 1 rows border(border(v) + d) are fed again;
//   zero      (outside, constant): no feeds, products 0.
// The register window of a thread always holds the last 2 R + 1 feeds, so a derivative row is
// complete after its last feed. Rows outside come first (P of them) and last (S); Q inside
// rows lie between (Q >= 1: a strip's first output row is one of its derivative rows).
struct RowPlan {
  int v0, rows, P, Q, S, F, R, Fp, nf_pre, nf_mid, nf;
  int border;

  __device__ RowPlan(int first, int count, int n, int radius, int border_mode) {
    v0 = first, rows = n, R = radius, F = 2 * radius + 1, border = border_mode;
    if (border == kWrap) {
      P = 0, Q = count;
    } else {
      P = -v0 < 0 ? 0 : (-v0 > count ? count : -v0);
      const int hi = v0 + count < n ? v0 + count : n;
      const int lo = v0 > 0 ? v0 : 0;
      Q = hi > lo ? hi - lo : 0;
    }
    S = count - P - Q;
    Fp = border == kConstant ? 0 : F;
    nf_pre = P * Fp;
    nf_mid = F + Q - 1;
    nf = nf_pre + nf_mid + S * Fp;
  }

  // The source row of feed f (-1: the constant border's row).
  __device__ int source_row(int f) const {
    if (f < nf_pre) {
      const int i = f / F;
      return border_at(border_at(v0 + i, rows, border) + (f - i * F - R), rows, border);
    }
    f -= nf_pre;
    if (f < nf_mid) return border_at(v0 + P + (f < F ? f - R : f - F + 1 + R), rows, border);
    f -= nf_mid;
    const int i = f / F;
    return border_at(border_at(v0 + P + Q + i, rows, border) + (f - i * F - R), rows, border);
  }

  // The feed after which derivative row i is complete (-1: before any).
  __device__ int last_feed(int i) const {
    if (i < P) return Fp ? i * F + F - 1 : -1;
    if (i < P + Q) return nf_pre + F - 1 + (i - P);
    return Fp ? nf_pre + nf_mid + (i - P - Q) * F + F - 1 : nf_pre + nf_mid - 1;
  }

  __device__ bool zero_row(int i) const { return border == kConstant && (i < P || i >= P + Q); }
};

// The most feeds a strip of `strip` output rows takes: 2 R + 1 for its first inside row, one
// for each next, 2 R + 1 for each of the (block - 1) rows outside at most.
constexpr i64 max_feeds(i64 strip, int block, int radius) {
  return (2 * radius + 1) + strip + block - 2 + (block - 1) * (2 * radius + 1);
}

// The plan's source rows, one per feed, into the block's shared table (the border arithmetic
// done once per feed, not per thread and feed); the caller synchronizes before reading it.
__device__ __forceinline__ void fill_feed_rows(const RowPlan& plan, int* table, int l,
                                               int threads) {
  for (int f = l; f < plan.nf; f += threads) table[f] = plan.source_row(f);
}

// The block's tile and strip: blocks run along a strip's tiles first (grid.x = tiles x strips,
// so that any number of strips fits).
struct BlockPlace {
  int tile, y0, y1;
};

__device__ __forceinline__ BlockPlace block_place(int tiles, int strip, int rows) {
  const unsigned b = blockIdx.x, t = static_cast<unsigned>(tiles);
  const int y0 = static_cast<int>(b / t) * strip;
  return BlockPlace{static_cast<int>(b % t), y0, rows - y0 > strip ? y0 + strip : rows};
}

// Filters shared row `row` along x (values `step` apart, 2 R + 1 of them) by both row kernels
// and pushes the results into the register windows of the last 2 R + 1 rows.
template <int F, typename W>
__device__ __forceinline__ void filter_row(const W* row, int step, const Taps<W>& taps, W (&wgx)[F],
                                           W (&wgy)[F]) {
  W v[F];
#pragma unroll
  for (int t = 0; t < F; ++t) v[t] = row[t * step];
  push(wgx, tap_chain<F>(taps.x_of_gx, v));
  push(wgy, tap_chain<F>(taps.x_of_gy, v));
}

// The image as the working type W reads it. float serves the four dtypes below float64 in one
// kernel (the dtype is known at run time: a branch the whole grid takes alike), double serves
// float64. Between load and conversion a value travels as Raw: a 32-bit word (an integer zero-
// or sign-extended, or a float's bits) or a double.
template <typename W>
struct Source;

constexpr int kU8 = static_cast<int>(DType::u8);
constexpr int kU16 = static_cast<int>(DType::u16);
constexpr int kS16 = static_cast<int>(DType::s16);

template <>
struct Source<float> {
  using Raw = int;
  const void* data;
  i64 pitch;  // values between rows
  int dtype;

  __device__ Raw load(i64 row, i64 col) const {
    const i64 at = row * pitch + col;
    switch (dtype) {
      case kU8:
        return __ldg(static_cast<const unsigned char*>(data) + at);
      case kU16:
        return __ldg(static_cast<const unsigned short*>(data) + at);
      case kS16:
        return __ldg(static_cast<const short*>(data) + at);
      default:
        return __float_as_int(__ldg(static_cast<const float*>(data) + at));
    }
  }
  __device__ float value(Raw r) const {
    return dtype == kU8 || dtype == kU16 || dtype == kS16 ? static_cast<float>(r)
                                                          : __int_as_float(r);
  }
};

template <>
struct Source<double> {
  using Raw = double;
  const void* data;
  i64 pitch;
  int dtype;

  __device__ Raw load(i64 row, i64 col) const {
    return __ldg(static_cast<const double*>(data) + row * pitch + col);
  }
  __device__ double value(Raw r) const { return r; }
};

// The next chunk of source rows, held in registers between its loads and its store into shared
// memory: thread l owns shared columns l and l + threads (the halo, for the first few threads).
template <typename W, int K>
struct Prefetch {
  typename Source<W>::Raw raw[K][2];
  unsigned constant = 0;  // bit 2 k + s: value (k, s) is the border constant

  __device__ void load(const Source<W>& src, const int* feed_rows, int nf, int base,
                       const i64 (&col)[2], bool two) {
    constant = 0;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int f = base + k;
      const int r = f < nf ? feed_rows[f] : -1;
#pragma unroll
      for (int s = 0; s < 2; ++s) {
        raw[k][s] = 0;
        if (s == 1 && !two) continue;
        if (r >= 0 && col[s] >= 0)
          raw[k][s] = src.load(r, col[s]);
        else
          constant |= 1u << (2 * k + s);
      }
    }
  }

  __device__ void store(const Source<W>& src, W* buf, int width, int l, int threads, int base,
                        int nf, const W (&border_pixel)[2], bool two) const {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      if (base + k >= nf) break;
#pragma unroll
      for (int s = 0; s < 2; ++s) {
        if (s == 1 && !two) continue;
        const bool c = (constant >> (2 * k + s)) & 1u;
        buf[k * width + l + s * threads] = c ? border_pixel[s] : src.value(raw[k][s]);
      }
    }
  }
};

// ---------------------------------------------------------------------------- gradient

template <typename W>
struct GradientParams {
  Source<W> src;
  W* magnitude;
  W* angle;
  int rows, cols, channels, strip, tiles;
  int border;
  bool degrees;
  Taps<W> taps;
  W border_pixel[kMaxGradientChannels];
};

// atan(a) for a in [0, 1]: the CPU's odd polynomial of degree 15 (within 4e-8) by the CPU's
// Estrin scheme, FMA for FMA.
__device__ __forceinline__ float atan_unit(float a) {
  const float s = mul_rn(a, a);
  const float s2 = mul_rn(s, s);
  const float s4 = mul_rn(s2, s2);
  const float p01 = fma_of(s, -0.33330106645107449f, 0.99999943683630044f);
  const float p23 = fma_of(s, -0.13915799995605238f, 0.1994850856970837f);
  const float p45 = fma_of(s, -0.056063087001095149f, 0.096562502669021277f);
  const float p67 = fma_of(s, -0.0040732905486115106f, 0.021946545625293537f);
  const float p03 = fma_of(s2, p23, p01);
  const float p47 = fma_of(s2, p67, p45);
  const float p = fma_of(s4, p47, p03);
  return mul_rn(p, a);
}

constexpr double kPi = 3.14159265358979323846;

__device__ __forceinline__ void polar(float gx, float gy, bool degrees, float& mag, float& ang) {
  mag = sqrtf(fma_of(gx, gx, mul_rn(gy, gy)));
  const float ax = gx < 0.0f ? -gx : gx, ay = gy < 0.0f ? -gy : gy;
  const float hi = ax > ay ? ax : ay, lo = ax > ay ? ay : ax;
  const float r = atan_unit(lo / (hi > 0.0f ? hi : 1.0f));
  // the CPU's octant: a +- r, a and the sign from the comparisons, one FMA with the unit
  const bool past = ay > ax, left = gx < 0.0f, below = gy < 0.0f;
  float a = past ? static_cast<float>(kPi / 2) : 0.0f;
  a = left ? static_cast<float>(kPi) - a : a;
  a = below ? static_cast<float>(2 * kPi) - a : a;
  const float unit = degrees ? static_cast<float>(180 / kPi) : 1.0f;
  const float angle = fma_of(past != left != below ? -unit : unit, r, mul_rn(a, unit));
  ang = angle >= (degrees ? 360.0f : static_cast<float>(2 * kPi)) ? 0.0f : angle;
}

__device__ __forceinline__ void polar(double gx, double gy, bool degrees, double& mag,
                                      double& ang) {
  mag = sqrt(fma_of(gx, gx, mul_rn(gy, gy)));
  double r = (gx == 0 && gy == 0) ? 0.0 : atan2(gy, gx);
  r = r < 0 ? r + 2 * kPi : r;
  r = mul_rn(r, degrees ? 180 / kPi : 1.0);
  ang = r >= (degrees ? 360.0 : 2 * kPi) ? 0.0 : r;
}

template <typename W, int R>
__global__ void __launch_bounds__(kGradientThreads) gradient_kernel(const GradientParams<W> p) {
  constexpr int F = 2 * R + 1;
  constexpr int K = chunk_rows<W>();
  FOVEAL_DYNAMIC_SHARED(double, shared);
  const int threads = static_cast<int>(blockDim.x), l = static_cast<int>(threadIdx.x);
  const int C = p.channels;
  const i64 n = static_cast<i64>(p.cols) * C;  // values per row
  const int halo = R * C;
  const int width = threads + 2 * halo;  // a shared row: the tile and its halo, in values
  W* rows_buf = reinterpret_cast<W*>(shared);
  int* feed_rows = reinterpret_cast<int*>(rows_buf + 2 * K * width);
  const bool two = l + threads < width;
  const BlockPlace place = block_place(p.tiles, p.strip, p.rows);
  const int y0 = place.y0, y1 = place.y1;
  // The tile's first value x0 = tile x threads is channel x0 % C of pixel x0 / C, found in
  // 32-bit arithmetic (tiles < 2^31, checked by the binding; threads x C < 2^15).
  const i64 x0 = static_cast<i64>(place.tile) * threads;
  const int tile = place.tile, rest = tile % C * threads;
  const int tile_pixel = tile / C * threads + rest / C;
  const int tile_channel = rest % C;

  // The source columns of this thread's two shared values, and their channels' constants.
  i64 col[2];
  W border_pixel[2];
#pragma unroll
  for (int s = 0; s < 2; ++s) {
    const int h = tile_channel - halo + l + s * threads;  // a value index from the tile's pixel
    const int dx = h >= 0 ? h / C : -((-h + C - 1) / C);
    const int c = h - dx * C;
    const int bx = border_at(tile_pixel + dx, p.cols, p.border);
    col[s] = bx < 0 ? -1 : static_cast<i64>(bx) * C + c;
    border_pixel[s] = p.border_pixel[c];
  }

  const RowPlan plan(y0, y1 - y0, p.rows, R, p.border);
  FOVEAL_GRADIENT_CHECK(plan.nf <= max_feeds(p.strip, 1, R));
  fill_feed_rows(plan, feed_rows, l, threads);
  __syncthreads();
  Prefetch<W, K> next;
  next.load(p.src, feed_rows, plan.nf, 0, col, two);
  W wgx[F], wgy[F];
#pragma unroll
  for (int t = 0; t < F; ++t) wgx[t] = wgy[t] = W(0);
  int buffer = 0;
  for (int base = 0; base < plan.nf; base += K) {
    // Double-buffered: the chunk before last, which used this buffer, was read before the
    // barrier of the last one.
    W* buf = rows_buf + buffer * K * width;
    next.store(p.src, buf, width, l, threads, base, plan.nf, border_pixel, two);
    if (base + K < plan.nf) next.load(p.src, feed_rows, plan.nf, base + K, col, two);
    __syncthreads();
#pragma unroll 1
    for (int k = 0; k < K; ++k) {
      const int f = base + k;
      if (f >= plan.nf) break;
      filter_row(buf + k * width + l, C, p.taps, wgx, wgy);
      if (f < 2 * R) continue;
      const i64 x = x0 + l;
      if (x >= n) continue;
      const W gx = tap_chain<F>(p.taps.y_of_gx, wgx);
      const W gy = tap_chain<F>(p.taps.y_of_gy, wgy);
      W mag, ang;
      polar(gx, gy, p.degrees, mag, ang);
      const i64 at = static_cast<i64>(y0 + f - 2 * R) * n + x;
      p.magnitude[at] = mag;
      p.angle[at] = ang;
    }
    buffer ^= 1;
  }
}

// ----------------------------------------------------------------------------- corners

template <typename W>
struct CornerParams {
  Source<W> src;
  W* dst;
  int rows, cols, strip, block, tiles;
  int border;
  bool harris;
  W k;
  Taps<W> taps;
};

// BM: the block sizes' class, the most a thread keeps in its windows (2, 4 or 7); the block
// size itself, p.block <= BM, is a run-time value, so the windows' sums take the last
// p.block of the BM rows.
template <typename W, int R, int BM>
__global__ void __launch_bounds__(kCornerThreads) corner_kernel(const CornerParams<W> p) {
  constexpr int F = 2 * R + 1;
  constexpr int K = chunk_rows<W>();
  constexpr int V = K + BM - 1;  // output rows a chunk can complete (zero rows add block - 1)
  FOVEAL_DYNAMIC_SHARED(double, shared);
  const int B = p.block, A = B / 2;  // the window and its anchor
  const int threads = static_cast<int>(blockDim.x), l = static_cast<int>(threadIdx.x);
  const int width = threads + 2 * R;
  const int tile = threads - (B - 1);  // outputs per row
  W* src_buf = reinterpret_cast<W*>(shared);
  W* sums = src_buf + K * width;  // V rows of (a, b, c) x threads: the sums down the window
  int* feed_rows = reinterpret_cast<int*>(sums + V * 3 * threads);
  const bool two = l + threads < width;
  const BlockPlace place = block_place(p.tiles, p.strip, p.rows);
  const int y0 = place.y0, y1 = place.y1;
  const int x0 = place.tile * tile;
  const int u0 = x0 - A;  // derivative column of thread 0

  // This thread's derivative column: its own (inside, or wrapped), the one it maps to
  // (reflections, replicate), or none (constant: products 0; or past what the outputs read).
  const int xe = p.cols - x0 > tile ? x0 + tile : p.cols;
  const int needed = xe - x0 + B - 1;
  const int u = u0 + l;
  int at = l;
  bool zero_col = l >= needed;
  if (!zero_col && (u < 0 || u >= p.cols)) {
    if (p.border == kConstant)
      zero_col = true;
    else if (p.border != kWrap)
      at = border_at(u, p.cols, p.border) - u0;
  }
  FOVEAL_GRADIENT_CHECK(zero_col || (at >= 0 && at < threads));

  i64 col[2];
  const W zero_pixel[2] = {W(0), W(0)};
#pragma unroll
  for (int s = 0; s < 2; ++s) col[s] = border_at(u0 - R + l + s * threads, p.cols, p.border);

  const int nd = (y1 - y0) + B - 1;  // derivative rows of the strip
  const RowPlan plan(y0 - A, nd, p.rows, R, p.border);
  FOVEAL_GRADIENT_CHECK(plan.nf <= max_feeds(p.strip, B, R));
  fill_feed_rows(plan, feed_rows, l, threads);
  __syncthreads();
  Prefetch<W, K> next;
  next.load(p.src, feed_rows, plan.nf, 0, col, two);
  W wgx[F], wgy[F], pa[BM], pb[BM], pc[BM];
#pragma unroll
  for (int t = 0; t < F; ++t) wgx[t] = wgy[t] = W(0);
#pragma unroll
  for (int t = 0; t < BM; ++t) pa[t] = pb[t] = pc[t] = W(0);
  int emitted = 0, outputs = 0;

  for (int base = 0; base < plan.nf; base += K) {
    // One buffer each: the barrier after the walk keeps this store behind the last chunk's
    // reads, and the one before it keeps the walk's sums behind the last chunk's outputs.
    next.store(p.src, src_buf, width, l, threads, base, plan.nf, zero_pixel, two);
    if (base + K < plan.nf) next.load(p.src, feed_rows, plan.nf, base + K, col, two);
    __syncthreads();
    const int first_output = outputs;
    int slot = 0;
    // Emits every derivative row complete after feed f: its products into the windows and,
    // once the windows hold `block` rows, their sums down (oldest first) into the next slot.
    auto emit_until = [&](int f) {
      while (emitted < nd && plan.last_feed(emitted) <= f) {
        W gx = W(0), gy = W(0);
        if (!zero_col && !plan.zero_row(emitted)) {
          gx = tap_chain<F>(p.taps.y_of_gx, wgx);
          gy = tap_chain<F>(p.taps.y_of_gy, wgy);
        }
        push(pa, mul_rn(gx, gx));
        push(pb, mul_rn(gx, gy));
        push(pc, mul_rn(gy, gy));
        ++emitted;
        if (emitted < B) continue;
        FOVEAL_GRADIENT_CHECK(slot < V);
        W sa = W(0), sb = W(0), sc = W(0);
#pragma unroll
        for (int t = 0; t < BM; ++t)
          if (t >= BM - B) sa += pa[t], sb += pb[t], sc += pc[t];
        W* row = sums + slot * 3 * threads;
        row[l] = sa;
        row[threads + l] = sb;
        row[2 * threads + l] = sc;
        ++slot;
        ++outputs;
      }
    };
    if (base == 0) emit_until(-1);
#pragma unroll 1
    for (int k = 0; k < K; ++k) {
      const int f = base + k;
      if (f >= plan.nf) break;
      filter_row(src_buf + k * width + at, 1, p.taps, wgx, wgy);
      emit_until(f);
    }
    __syncthreads();
    // Across the window, then the response: threads of the tile's outputs.
    if (l < tile && x0 + l < p.cols) {
      for (int s = 0; s < slot; ++s) {
        const W* row = sums + s * 3 * threads;
        W a = W(0), b = W(0), c = W(0);
#pragma unroll
        for (int t = 0; t < BM; ++t) {
          if (t >= B) break;
          a += row[l + t];
          b += row[threads + l + t];
          c += row[2 * threads + l + t];
        }
        W r;
        if (p.harris) {
          const W trace = a + c;
          r = fma_of(-mul_rn(p.k, trace), trace, fma_of(a, c, -mul_rn(b, b)));
        } else {
          const W ha = mul_rn(a, W(0.5)), hc = mul_rn(c, W(0.5)), d = ha - hc;
          r = (ha + hc) - sqrt(fma_of(d, d, mul_rn(b, b)));
        }
        p.dst[static_cast<i64>(y0 + first_output + s) * p.cols + x0 + l] = r;
      }
    }
  }
}

// ---------------------------------------------------------------------------- launchers

// cv2.getDerivKernels' kernel of order `order` for ksize: (n - 1 - order) factors [1, 1] and
// `order` factors [-1, 1] for n = ksize (3 for ksize 1 with order 1, 1 with order 0), or
// Scharr's [3, 10, 3] / [-1, 0, 1] for ksize -1; written centred into kMaxTaps values around
// index `radius`.
void deriv_kernel(int ksize, int order, int radius, double (&out)[kMaxTaps]) {
  for (double& v : out) v = 0;
  if (ksize == -1) {
    const double smooth[3] = {3, 10, 3}, deriv[3] = {-1, 0, 1};
    for (int t = 0; t < 3; ++t) out[radius - 1 + t] = order ? deriv[t] : smooth[t];
    return;
  }
  const int n = ksize == 1 ? (order ? 3 : 1) : ksize;
  double k[kMaxTaps] = {1};
  for (int f = 0; f < n - 1; ++f) {
    const double a = f < n - 1 - order ? 1.0 : -1.0;  // the factor [a, 1]
    for (int i = f + 1; i > 0; --i) k[i] = a * k[i] + k[i - 1];
    k[0] *= a;
  }
  for (int t = 0; t < n; ++t) out[radius - (n - 1) / 2 + t] = k[t];
}

int radius_of(int ksize) {
  return ksize > 1 ? ksize / 2 : 1;
}

// The taps in W, the column taps times `scale` rounded in W as the CPU rounds them.
template <typename W>
Taps<W> make_taps(int ksize, double scale) {
  const int R = radius_of(ksize);
  double d[4][kMaxTaps];
  deriv_kernel(ksize, 1, R, d[0]);  // x of gx
  deriv_kernel(ksize, 0, R, d[1]);  // y of gx
  deriv_kernel(ksize, 0, R, d[2]);  // x of gy
  deriv_kernel(ksize, 1, R, d[3]);  // y of gy
  Taps<W> t{};
  const W s = static_cast<W>(scale);
  for (int i = 0; i < kMaxTaps; ++i) {
    t.x_of_gx[i] = static_cast<W>(d[0][i]);
    t.y_of_gx[i] = static_cast<W>(d[1][i]) * s;
    t.x_of_gy[i] = static_cast<W>(d[2][i]);
    t.y_of_gy[i] = static_cast<W>(d[3][i]) * s;
  }
  return t;
}

// How many blocks of `kernel` the device holds at once (its multiprocessors times the blocks
// each fits); the emulator has no such limit, so a nominal 1024.
template <class Kernel>
i64 resident_blocks(Kernel kernel, int threads, std::size_t shared) {
#if defined(FOVEAL_SIMT_EMU)
  (void)kernel, (void)threads, (void)shared;
  return 1024;
#else
  int device = 0, sms = 0, per_sm = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, shared),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  return static_cast<i64>(sms) * (per_sm > 0 ? per_sm : 1);
#endif
}

// Output rows per block: strips of 16 to 128 rows, as many blocks as whole waves of the
// resident ones (`slots`) need, so that no wave runs a few blocks on an idle device.
i64 strip_rows(i64 rows, i64 tiles, i64 requested, i64 slots) {
  if (requested > 0) return requested;
  const i64 least_blocks = tiles * ((rows + 127) / 128);
  const i64 waves = (least_blocks + slots - 1) / slots;
  const i64 per_column = waves * slots >= tiles ? waves * slots / tiles : 1;
  const i64 strip = (rows + per_column - 1) / per_column;
  return strip < 16 ? 16 : (strip > 128 ? 128 : strip);
}

// Launches `kernel` over tiles x strips of rows (p.tiles, p.strip: strip_rows' choice), with
// shared(strip) bytes of shared memory.
template <class Params, class Shared>
void launch_strips(const char* name, void (*kernel)(Params), Params& p, i64 rows, i64 tiles,
                   int threads, Shared shared, i64 requested, Stream stream) {
  const i64 slots = resident_blocks(kernel, threads, shared(requested > 128 ? requested : 128));
  p.tiles = static_cast<int>(tiles);
  p.strip = static_cast<int>(strip_rows(rows, tiles, requested, slots));
  const i64 blocks = tiles * ((rows + p.strip - 1) / p.strip);
  launch(name, kernel, dim3(static_cast<unsigned>(blocks)), dim3(threads), shared(p.strip), stream,
         p);
}

template <typename W, int R>
void launch_gradient(const GradientArgs& a, Stream stream) {
  GradientParams<W> p{};
  p.src = Source<W>{a.src, a.pitch, static_cast<int>(a.dtype)};
  p.magnitude = static_cast<W*>(a.magnitude);
  p.angle = static_cast<W*>(a.angle);
  p.rows = static_cast<int>(a.rows), p.cols = static_cast<int>(a.cols);
  p.channels = static_cast<int>(a.channels);
  p.border = static_cast<int>(a.border);
  p.degrees = a.degrees;
  p.taps = make_taps<W>(a.ksize, 1.0);
  for (i64 c = 0; c < a.channels; ++c) p.border_pixel[c] = static_cast<W>(a.border_pixel[c]);
  const int threads = a.threads > 0 ? a.threads : kGradientThreads;
  const i64 n = a.cols * a.channels;
  const i64 tiles = (n + threads - 1) / threads;
  const std::size_t width = threads + 2 * R * a.channels;
  auto shared = [&](i64 strip) {
    return 2 * chunk_rows<W>() * width * sizeof(W) + max_feeds(strip, 1, R) * sizeof(int);
  };
  launch_strips("gradient_kernel", gradient_kernel<W, R>, p, a.rows, tiles, threads, shared,
                a.strip, stream);
}

template <typename W, int R, int BM>
void launch_corners(const CornerArgs& a, Stream stream) {
  CornerParams<W> p{};
  p.src = Source<W>{a.src, a.pitch, static_cast<int>(a.dtype)};
  p.dst = static_cast<W*>(a.dst);
  p.rows = static_cast<int>(a.rows), p.cols = static_cast<int>(a.cols);
  p.block = a.block;
  p.border = static_cast<int>(a.border);
  p.harris = a.harris;
  p.k = static_cast<W>(a.k);
  // cv2's normalization of the derivatives (cpp/src/filters/filters.cpp).
  double scale = static_cast<double>(1 << ((a.ksize > 0 ? a.ksize : 3) - 1)) * a.block;
  if (a.ksize < 0) scale *= 2.0;
  if (a.dtype == DType::u8) scale *= 255.0;
  p.taps = make_taps<W>(a.ksize, 1.0 / scale);
  const int threads = a.threads > 0 ? a.threads : kCornerThreads;
  const i64 tile = threads - (a.block - 1);
  const i64 tiles = (a.cols + tile - 1) / tile;
  constexpr int K = chunk_rows<W>();
  auto shared = [&](i64 strip) {
    return (static_cast<std::size_t>(K) * (threads + 2 * R) + (K + BM - 1) * 3 * threads) *
               sizeof(W) +
           max_feeds(strip, a.block, R) * sizeof(int);
  };
  launch_strips("corner_kernel", corner_kernel<W, R, BM>, p, a.rows, tiles, threads, shared,
                a.strip, stream);
}

// Block sizes in three classes (the windows' length), so that a build compiles 18 corner
// kernels rather than one per size: 1-2, 3-4, 5-7.
template <typename W, int R>
void corners_for_radius(const CornerArgs& a, Stream stream) {
  if (a.block <= 2) return launch_corners<W, R, 2>(a, stream);
  if (a.block <= 4) return launch_corners<W, R, 4>(a, stream);
  return launch_corners<W, R, 7>(a, stream);
}

// f(std::integral_constant<int, R>) for the derivative radius R of ksize.
template <class F>
void with_radius(int ksize, F&& f) {
  switch (radius_of(ksize)) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    default:
      return f(std::integral_constant<int, 3>{});
  }
}

template <typename W>
void gradient_for(const GradientArgs& a, Stream stream) {
  with_radius(a.ksize, [&](auto r) { launch_gradient<W, decltype(r)::value>(a, stream); });
}

template <typename W>
void corners_for(const CornerArgs& a, Stream stream) {
  with_radius(a.ksize, [&](auto r) { corners_for_radius<W, decltype(r)::value>(a, stream); });
}

}  // namespace

void gradient(const GradientArgs& a, void* stream) {
  if (a.rows <= 0 || a.cols <= 0) return;
  if (a.dtype == DType::f64) return gradient_for<double>(a, static_cast<Stream>(stream));
  gradient_for<float>(a, static_cast<Stream>(stream));
}

void corner_response(const CornerArgs& a, void* stream) {
  if (a.rows <= 0 || a.cols <= 0) return;
  if (a.dtype == DType::f64) return corners_for<double>(a, static_cast<Stream>(stream));
  corners_for<float>(a, static_cast<Stream>(stream));
}

}  // namespace gpu
}  // namespace foveal

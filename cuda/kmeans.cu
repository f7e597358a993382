// k-means on the GPU: the fused assignment pass of Lloyd's algorithm and the distance pass, with
// the CPU pass's labels (cpp/src/segment/kmeans_simd.cpp). For points x_i (n x d) and centers c_j
// (k x d), float32 or float64, weights w_i (1 when none):
//
//   label_i = argmin_j (|c_j|^2 - 2 x_i . c_j)          in the data's precision, ties: lowest j
//   sums[j] = sum_{label_i = j} w_i x_i,  counts[j] = sum_{label_i = j} w_i       (float64)
//   inertia = sum_i w_i |x_i - c_label_i|^2   (float64, from exact differences)
//   changed = #{i : label_i differs from the label the array held}
//
// The distance is the CPU's, operation for operation, so that the labels are the CPU's even
// where two centers are nearly as close: x.c is a chain of fused multiply-adds over the
// coordinates in order from 0 (as the CPU's register tile and few-centers loop compute it in
// their FMA builds), |c|^2 one too, then |c|^2 - 2 x.c in the data's precision. One difference:
// the CPU's AVX2 build (GCC 12) rounds the squares of |c|^2's first 4 floor(d / 4) coordinates
// before adding them (its compiler vectorizes those multiplies) and fuses the rest, so for
// d >= 4 a norm can differ in its last bit, and a label only where a point's two nearest
// centers are that close (tests/test_gpu_kmeans.py's near ties: d <= 3 any centers, larger d
// centers with exact norms). Never an n x k matrix: each block takes tiles of points,
// finds their labels and adds them into its own partial sums at once (one read of the data per
// pass); a second kernel adds the blocks' partials in block order.
//
// Determinism: no floating-point atomics anywhere. Within a block every partial sum has one
// owner thread that adds its points in a fixed order; the blocks' partials are summed in block
// order by a fixed tree. The result depends on the grid (chosen from n, k, d and the device's
// multiprocessor count and shared memory), never on scheduling: one device, one answer.
//
// Two assignment kernels, as the CPU has two paths:
// - few centers (d <= 16 and k (d + 1) <= 256: colour quantization, the 1M x 3, K = 8 row): the
//   centers and their norms sit in shared memory, one point per thread; a tile of 256 points is
//   staged in shared memory by coalesced loads, and the k (d + 1) sums are owned by threads in
//   registers, each summing its cluster's coordinate over a fixed slice of every tile's points.
//   Memory-bound: the data is read once.
// - many centers (the 100k x 64, K = 256 row): the products x.c by a register-tiled GEMM, 256
//   threads as 16 x 16 each holding TM x TN products of a BM x BN (points x centers) tile, the
//   centers streamed through shared memory in BN x BK panels (so any k and d fit), read by
//   16-byte loads that no two lanes of a quarter warp take from one bank; a running
//   (distance, index) minimum per point and thread, then the lexicographic minimum over the 16
//   threads that share a point by shuffles. The tile's points are then sorted by label in
//   shared memory (a stable rank sort) and each (cluster, coordinate) run of the tile is summed
//   by one thread into the block's partials: in shared memory where k (d + 1) doubles fit,
//   else in the block's own slot of global memory. Compute-bound: tiled products.
//
// The distance pass (foveal.segment's _inertia and _relocate) is the CPU's kmeans_inertia: the
// squared distance to the labelled center in the data's precision by separate multiplies and
// adds (that file is built without fused multiply-adds), the weighted sum in float64.
#include <climits>

#include "kmeans.hpp"
#include "simt.hpp"

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;

constexpr int kThreads = 256;  // every kernel here: one-dimensional blocks of 256
constexpr int kFewMaxD = 16;
constexpr int kFewMaxSums = kThreads;  // k (d + 1) partial sums, one owner thread each at least
constexpr int kNoLabel = INT_MAX;      // past-the-end points of a tile: sorted last, never summed

template <typename T>
__device__ __forceinline__ T infinity() {
  return static_cast<T>(INFINITY);
}

// a * b + c rounded once: the CPU's contracted multiply-add.
template <typename T>
__device__ __forceinline__ T fused(T a, T b, T c) {
  return fma(a, b, c);
}

// a * b and a + b rounded separately, never fused (the CPU's kmeans_inertia).
__device__ __forceinline__ float mul_rn(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ __forceinline__ double mul_rn(double a, double b) {
  return __dmul_rn(a, b);
}
__device__ __forceinline__ float add_rn(float a, float b) {
  return __fadd_rn(a, b);
}
__device__ __forceinline__ double add_rn(double a, double b) {
  return __dadd_rn(a, b);
}

// The sum of every thread's v, by a fixed tree (the same total every run). ``red`` holds
// kThreads doubles of shared memory; every thread of the block must call it.
__device__ double block_sum(double v, double* red) {
  const int t = static_cast<int>(threadIdx.x);
  __syncthreads();  // red may still be read by a previous use
  red[t] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (t < s) red[t] += red[t + s];
    __syncthreads();
  }
  return red[0];
}

struct AssignParams {
  const void* data;
  const void* centers;
  const void* weights;
  i64 n, d, k;
  std::int32_t* labels;
  double* partials;  // per block: k (d + 1) sums (cluster-major, the weight last), inertia, changed
  i64 tiles;         // tiles of points; block b takes b, b + gridDim.x, ...
  bool want_inertia;
  bool sums_in_shared;  // many-centers kernel: the block's sums in shared memory (else partials)
};

// The partials of every block of the pass, one row of width k (d + 1) + 2 each, into the
// outputs.
struct Outputs {
  double* sums;
  double* counts;
  double* result;  // inertia, changed
  i64 k, d;
};

// ---------------------------------------------------------------------------- few centers

template <typename T>
struct FewLayout {  // dynamic shared memory of assign_few, doubles first
  double* red;      // kThreads
  double* wts;      // kThreads: the tile's weights
  T* cs;            // k x d centers
  T* cn;            // k norms
  T* xs;            // kThreads x d: the tile's points
  int* lab;         // kThreads: their labels

  __device__ FewLayout(double* base, int k, int d) {
    red = base;
    wts = red + kThreads;
    cs = reinterpret_cast<T*>(wts + kThreads);
    cn = cs + k * d;
    xs = cn + k;
    lab = reinterpret_cast<int*>(xs + kThreads * d);
  }
  static std::size_t bytes(int k, int d) {
    return 2 * kThreads * sizeof(double) + sizeof(T) * (k * d + k + kThreads * d) +
           kThreads * sizeof(int);
  }
};

// DMAX: the dimension rounded up to 4 or 16, so that a point's coordinates stay in registers.
template <typename T, int DMAX>
__global__ void __launch_bounds__(kThreads) assign_few(AssignParams p) {
  FOVEAL_DYNAMIC_SHARED(double, smem);
  const int t = static_cast<int>(threadIdx.x);
  const int d = static_cast<int>(p.d), k = static_cast<int>(p.k);
  const FewLayout<T> sh(smem, k, d);
  const T* x = static_cast<const T*>(p.data);
  const T* c = static_cast<const T*>(p.centers);
  const T* w = static_cast<const T*>(p.weights);
  for (int i = t; i < k * d; i += kThreads) sh.cs[i] = c[i];
  __syncthreads();
  if (t < k) {
    T norm = T(0);
    for (int e = 0; e < d; ++e) norm = fused(sh.cs[t * d + e], sh.cs[t * d + e], norm);
    sh.cn[t] = norm;
  }
  // Thread t < slices * width owns sum (j, e) = (a / (d + 1), a % (d + 1)), a = t % width, over
  // the points s, s + slices, ... of each tile (s = t / width); e = d is the weight.
  const int width = k * (d + 1), slices = kThreads / width;
  const bool owner = t < slices * width;
  const int a = t % width, s = t / width, own_j = a / (d + 1), own_e = a % (d + 1);
  double own_sum = 0.0, inertia = 0.0, changed = 0.0;

  for (i64 tile = blockIdx.x; tile < p.tiles; tile += gridDim.x) {
    const i64 p0 = tile * kThreads;
    const int m = static_cast<int>(p.n - p0 < kThreads ? p.n - p0 : kThreads);
    __syncthreads();  // the previous tile is summed (and the norms written)
    const T* src = x + p0 * p.d;
    for (int i = t; i < m * d; i += kThreads) sh.xs[i] = src[i];  // coalesced
    if (t < m) sh.wts[t] = w ? static_cast<double>(w[p0 + t]) : 1.0;
    __syncthreads();
    if (t < m) {
      T xr[DMAX];
#pragma unroll
      for (int e = 0; e < DMAX; ++e) xr[e] = e < d ? sh.xs[t * d + e] : T(0);
      T best = infinity<T>();
      int label = 0;
      for (int j = 0; j < k; ++j) {
        T dot = T(0);
#pragma unroll
        for (int e = 0; e < DMAX; ++e)
          if (e < d) dot = fused(xr[e], sh.cs[j * d + e], dot);
        const T dist = sh.cn[j] - T(2) * dot;
        if (dist < best) {
          best = dist;
          label = j;
        }
      }
      const i64 i = p0 + t;
      changed += p.labels[i] != label;
      p.labels[i] = label;
      sh.lab[t] = label;
      if (p.want_inertia) {
        double sq = 0.0;
#pragma unroll
        for (int e = 0; e < DMAX; ++e)
          if (e < d) {
            const double diff =
                static_cast<double>(xr[e]) - static_cast<double>(sh.cs[label * d + e]);
            sq = fused(diff, diff, sq);
          }
        inertia = fused(sh.wts[t], sq, inertia);
      }
    }
    __syncthreads();
    if (owner)
      for (int q = s; q < m; q += slices)
        if (sh.lab[q] == own_j)
          own_sum += own_e < d ? sh.wts[q] * static_cast<double>(sh.xs[q * d + own_e]) : sh.wts[q];
  }

  __syncthreads();
  sh.red[t] = owner ? own_sum : 0.0;
  __syncthreads();
  double* part = p.partials + static_cast<i64>(blockIdx.x) * (width + 2);
  if (t < width) {
    double v = 0.0;
    for (int q = 0; q < slices; ++q) v += sh.red[q * width + t];
    part[t] = v;
  }
  const double inertia_sum = block_sum(inertia, sh.red);
  const double changed_sum = block_sum(changed, sh.red);
  if (t == 0) {
    part[width] = inertia_sum;
    part[width + 1] = changed_sum;
  }
}

// --------------------------------------------------------------------------- many centers

// Tile shapes: BM points x BN centers per block, TM x TN per thread (16 x 16 threads), the
// coordinates BK at a time.
template <typename T>
struct ManyTile;
template <>
struct ManyTile<float> {
  static constexpr int BM = 128, BN = 128, TM = 8, TN = 8, BK = 8;
};
template <>
struct ManyTile<double> {
  static constexpr int BM = 64, BN = 64, TM = 4, TN = 4, BK = 8;
};
constexpr int kPad = 4;  // panel rows padded: the transposed stores of a warp hit distinct banks

// 16 bytes of T: what one shared-memory load of a thread's fragment takes.
template <typename T>
struct Vec;
template <>
struct Vec<float> {
  using type = float4;
  static constexpr int n = 4;
  __device__ static void unpack(const float4& v, float* out) {
    out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
  }
};
template <>
struct Vec<double> {
  using type = double2;
  static constexpr int n = 2;
  __device__ static void unpack(const double2& v, double* out) { out[0] = v.x, out[1] = v.y; }
};

// A thread's i-th point (or center) of a tile, for its 16-group g (ty or tx): runs of V = Vec::n
// consecutive rows, 16 V apart, so that a quarter warp's 16-byte loads cover consecutive
// banks. Increasing in i (a thread meets its centers in index order).
template <typename T>
__device__ __forceinline__ int fragment_row(int i, int g) {
  constexpr int V = Vec<T>::n;
  return i / V * 16 * V + g * V + i % V;
}

// The COUNT values of a thread's fragment from a panel row (16-byte aligned).
template <typename T, int COUNT>
__device__ __forceinline__ void load_fragment(const T* row, int g, T (&out)[COUNT]) {
  using Vt = Vec<T>;
#pragma unroll
  for (int h = 0; h < COUNT / Vt::n; ++h)
    Vt::unpack(*reinterpret_cast<const typename Vt::type*>(row + h * 16 * Vt::n + g * Vt::n),
               out + h * Vt::n);
}

template <typename T>
struct ManyLayout {  // dynamic shared memory of assign_many, doubles first
  using Tl = ManyTile<T>;
  // The sums take an even number of doubles: the panels after them stay 16-byte aligned.
  __host__ __device__ static i64 sums_doubles(i64 width) { return (width + 1) / 2 * 2; }
  double* sums;  // k (d + 1), when they fit (else null)
  double* red;   // kThreads
  double* wts;   // BM: the tile's weights
  T* xs;         // BK x (BM + kPad): a panel of the tile's points, transposed
  T* cs;         // BK x (BN + kPad): a panel of centers, transposed
  T* cn;         // BN: their norms (+inf past k)
  int* lab;      // BM: the tile's labels
  int* order;    // BM: the tile's points sorted by label (stable)

  __device__ ManyLayout(double* base, i64 width, bool sums_in_shared) {
    sums = sums_in_shared ? base : nullptr;
    red = base + (sums_in_shared ? sums_doubles(width) : 0);
    wts = red + kThreads;
    xs = reinterpret_cast<T*>(wts + Tl::BM);
    cs = xs + Tl::BK * (Tl::BM + kPad);
    cn = cs + Tl::BK * (Tl::BN + kPad);
    lab = reinterpret_cast<int*>(cn + Tl::BN);
    order = lab + Tl::BM;
  }
  static std::size_t bytes(i64 width, bool sums_in_shared) {
    return (sums_in_shared ? static_cast<std::size_t>(sums_doubles(width)) * sizeof(double) : 0) +
           (kThreads + Tl::BM) * sizeof(double) +
           sizeof(T) * (Tl::BK * (Tl::BM + kPad) + Tl::BK * (Tl::BN + kPad) + Tl::BN) +
           2 * Tl::BM * sizeof(int);
  }
};

template <typename T>
__global__ void __launch_bounds__(kThreads, 1) assign_many(AssignParams p) {
  using Tl = ManyTile<T>;
  constexpr int BM = Tl::BM, BN = Tl::BN, TM = Tl::TM, TN = Tl::TN, BK = Tl::BK;
  static_assert(BM == 16 * TM && BN == 16 * TN && BM <= kThreads && BN <= kThreads, "tile");
  static_assert(TM % Vec<T>::n == 0 && TN % Vec<T>::n == 0 && (BM + kPad) % Vec<T>::n == 0 &&
                    (BN + kPad) % Vec<T>::n == 0,
                "fragments are whole 16-byte loads");
  FOVEAL_DYNAMIC_SHARED(double, smem);
  const int t = static_cast<int>(threadIdx.x);
  const int tx = t % 16, ty = t / 16;  // centers fragment_row(nn, tx), points (mm, ty)
  const i64 d = p.d, k = p.k, width = k * (d + 1);
  const ManyLayout<T> sh(smem, width, p.sums_in_shared);
  double* part = p.partials + static_cast<i64>(blockIdx.x) * (width + 2);
  double* sums = p.sums_in_shared ? sh.sums : part;  // this block's alone: no atomics
  const T* x = static_cast<const T*>(p.data);
  const T* c = static_cast<const T*>(p.centers);
  const T* w = static_cast<const T*>(p.weights);
  for (i64 i = t; i < width; i += kThreads) sums[i] = 0.0;
  double inertia = 0.0, changed = 0.0;

  for (i64 tile = blockIdx.x; tile < p.tiles; tile += gridDim.x) {
    const i64 p0 = tile * BM;
    const int m = static_cast<int>(p.n - p0 < BM ? p.n - p0 : BM);
    T best[TM];
    int best_at[TM];
#pragma unroll
    for (int mm = 0; mm < TM; ++mm) best[mm] = infinity<T>(), best_at[mm] = 0;

    for (i64 c0 = 0; c0 < k; c0 += BN) {
      __syncthreads();  // cn, lab, order and the sums of the previous tile are done with
      if (t < BN) {
        const i64 j = c0 + t;
        T norm = T(0);
        if (j < k)
          for (i64 e = 0; e < d; ++e) norm = fused(c[j * d + e], c[j * d + e], norm);
        sh.cn[t] = j < k ? norm : infinity<T>();
      }
      T dot[TM][TN];
#pragma unroll
      for (int mm = 0; mm < TM; ++mm)
#pragma unroll
        for (int nn = 0; nn < TN; ++nn) dot[mm][nn] = T(0);
      for (i64 e0 = 0; e0 < d; e0 += BK) {
        // Panels, zero past the points, centers and coordinates (a zero term leaves a
        // multiply-add chain's value as it is).
        for (int i = t; i < BM * BK; i += kThreads) {
          const int row = i / BK, kk = i % BK;
          const i64 e = e0 + kk;
          sh.xs[kk * (BM + kPad) + row] = row < m && e < d ? x[(p0 + row) * d + e] : T(0);
        }
        for (int i = t; i < BN * BK; i += kThreads) {
          const int row = i / BK, kk = i % BK;
          const i64 j = c0 + row, e = e0 + kk;
          sh.cs[kk * (BN + kPad) + row] = j < k && e < d ? c[j * d + e] : T(0);
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
          T xa[TM], cb[TN];
          load_fragment(sh.xs + kk * (BM + kPad), ty, xa);
          load_fragment(sh.cs + kk * (BN + kPad), tx, cb);
#pragma unroll
          for (int mm = 0; mm < TM; ++mm)
#pragma unroll
            for (int nn = 0; nn < TN; ++nn) dot[mm][nn] = fused(xa[mm], cb[nn], dot[mm][nn]);
        }
        __syncthreads();
      }
      // Centers in increasing index per thread: a strict < keeps the lowest among equals.
#pragma unroll
      for (int nn = 0; nn < TN; ++nn) {
        const int col = fragment_row<T>(nn, tx);
        const T norm = sh.cn[col];
        const int j = static_cast<int>(c0 + col);
#pragma unroll
        for (int mm = 0; mm < TM; ++mm) {
          const T dist = norm - T(2) * dot[mm][nn];
          if (dist < best[mm]) {
            best[mm] = dist;
            best_at[mm] = j;
          }
        }
      }
    }
    // The smallest (distance, index) over the 16 threads of a point (lanes tx of a half warp).
#pragma unroll
    for (int mm = 0; mm < TM; ++mm) {
      for (int off = 8; off > 0; off >>= 1) {
        const T other = __shfl_xor_sync(0xffffffffu, best[mm], off, 16);
        const int other_at = __shfl_xor_sync(0xffffffffu, best_at[mm], off, 16);
        if (other < best[mm] || (other == best[mm] && other_at < best_at[mm])) {
          best[mm] = other;
          best_at[mm] = other_at;
        }
      }
      const int row = fragment_row<T>(mm, ty);
      if (tx == 0) sh.lab[row] = row < m ? best_at[mm] : kNoLabel;
    }
    __syncthreads();
    if (t < m) {
      const i64 i = p0 + t;
      const int label = sh.lab[t];
      changed += p.labels[i] != label;
      p.labels[i] = label;
      const double wi = w ? static_cast<double>(w[i]) : 1.0;
      sh.wts[t] = wi;
      if (p.want_inertia) {
        const T* xi = x + i * d;
        const T* ci = c + static_cast<i64>(label) * d;
        double sq = 0.0;
        for (i64 e = 0; e < d; ++e) {
          const double diff = static_cast<double>(xi[e]) - static_cast<double>(ci[e]);
          sq = fused(diff, diff, sq);
        }
        inertia = fused(wi, sq, inertia);
      }
    }
    __syncthreads();
    // Stable sort by label: a point's rank is the number of points before it in (label,
    // position) order.
    if (t < BM) {
      const int mine = sh.lab[t];
      int rank = 0;
      for (int q = 0; q < BM; ++q) {
        const int other = sh.lab[q];
        rank += other < mine || (other == mine && q < t);
      }
      sh.order[rank] = t;
    }
    __syncthreads();
    // Item (s, e): if sorted position s starts a run of one label, the run's sum of coordinate
    // e (e = d: of the weights) into the block's sums. Consecutive items read consecutive
    // coordinates of a point; each (label, e) has one item per tile: no two threads collide.
    const i64 row_width = d + 1;
    for (i64 item = t; item < BM * row_width; item += kThreads) {
      const int s = static_cast<int>(item / row_width);
      const i64 e = item - s * row_width;
      const int label = sh.lab[sh.order[s]];
      if (label == kNoLabel || (s > 0 && sh.lab[sh.order[s - 1]] == label)) continue;
      double run = 0.0;
      for (int r = s; r < BM; ++r) {
        const int q = sh.order[r];
        if (sh.lab[q] != label) break;
        run += e < d ? sh.wts[q] * static_cast<double>(x[(p0 + q) * d + e]) : sh.wts[q];
      }
      sums[label * row_width + e] += run;
    }
  }

  __syncthreads();
  if (p.sums_in_shared)
    for (i64 i = t; i < width; i += kThreads) part[i] = sums[i];
  const double inertia_sum = block_sum(inertia, sh.red);
  const double changed_sum = block_sum(changed, sh.red);
  if (t == 0) {
    part[width] = inertia_sum;
    part[width + 1] = changed_sum;
  }
}

// ------------------------------------------------------------------------------ reduction

constexpr int kReduceCols = 32, kReduceSlices = 16;

// Column a of the partials (rows of ``width``), summed over the ``rows`` blocks: 16 slices of
// rows per column, each in row order, then the slices in order.
__global__ void __launch_bounds__(kReduceCols* kReduceSlices)
    reduce_partials(const double* partials, i64 width, i64 rows, Outputs out) {
  __shared__ double slice_sum[kReduceSlices][kReduceCols + 1];
  const int col = static_cast<int>(threadIdx.x), slice = static_cast<int>(threadIdx.y);
  const i64 a = static_cast<i64>(blockIdx.x) * kReduceCols + col;
  double v = 0.0;
  if (a < width)
    for (i64 r = slice; r < rows; r += kReduceSlices) v += partials[r * width + a];
  slice_sum[slice][col] = v;
  __syncthreads();
  if (slice != 0 || a >= width) return;
  double total = 0.0;
  for (int q = 0; q < kReduceSlices; ++q) total += slice_sum[q][col];
  const i64 sums_width = out.k * (out.d + 1);
  if (a < sums_width) {
    const i64 j = a / (out.d + 1), e = a % (out.d + 1);
    if (e < out.d)
      out.sums[j * out.d + e] = total;
    else
      out.counts[j] = total;
  } else {
    out.result[a - sums_width] = total;
  }
}

// ------------------------------------------------------------------------- distance pass

struct DistanceParams {
  const void* data;
  const void* centers;
  const void* weights;
  i64 n, d, k;
  const std::int32_t* labels;
  double* distances;
  double* partials;  // per block: inertia, bad labels
};

template <typename T>
__global__ void __launch_bounds__(kThreads) distances_kernel(DistanceParams p) {
  __shared__ double red[kThreads];
  const T* x = static_cast<const T*>(p.data);
  const T* c = static_cast<const T*>(p.centers);
  const T* w = static_cast<const T*>(p.weights);
  double inertia = 0.0, bad = 0.0;
  for (i64 i = static_cast<i64>(blockIdx.x) * kThreads + threadIdx.x; i < p.n;
       i += static_cast<i64>(gridDim.x) * kThreads) {
    const std::int32_t label = p.labels[i];
    if (label < 0 || label >= p.k) {
      bad += 1.0;
      continue;
    }
    const T* xi = x + i * p.d;
    const T* ci = c + static_cast<i64>(label) * p.d;
    T dist = T(0);
    for (i64 e = 0; e < p.d; ++e) {
      const T diff = xi[e] - ci[e];
      dist = add_rn(dist, mul_rn(diff, diff));
    }
    if (p.distances) p.distances[i] = static_cast<double>(dist);
    inertia = fused(static_cast<double>(dist), w ? static_cast<double>(w[i]) : 1.0, inertia);
  }
  const double inertia_sum = block_sum(inertia, red);
  const double bad_sum = block_sum(bad, red);
  if (threadIdx.x == 0) {
    p.partials[2 * blockIdx.x] = inertia_sum;
    p.partials[2 * blockIdx.x + 1] = bad_sum;
  }
}

// ---------------------------------------------------------------------------- launchers

struct DeviceFacts {
  int multiprocessors;
  i64 shared_optin;  // the most dynamic shared memory a block may ask for
};

DeviceFacts device_facts() {
#if defined(FOVEAL_SIMT_EMU)
  return DeviceFacts{1, 48 * 1024};  // one multiprocessor: every block takes several tiles
#else
  int device = 0, sms = 0, optin = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute");
  check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute");
  return DeviceFacts{sms, optin};
#endif
}

// Lets ``kernel`` take ``bytes`` of dynamic shared memory (past the default 48 KiB).
template <class Kernel>
void allow_shared(Kernel kernel, std::size_t bytes) {
#if defined(FOVEAL_SIMT_EMU)
  (void)kernel;
  (void)bytes;
#else
  if (bytes > 48 * 1024)
    check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(bytes)),
          "cudaFuncSetAttribute");
#endif
}

// Blocks of ``kernel`` one multiprocessor holds at once (at least 1).
template <class Kernel>
i64 resident_blocks(Kernel kernel, std::size_t bytes) {
#if defined(FOVEAL_SIMT_EMU)
  (void)kernel;
  (void)bytes;
  return 2;
#else
  int blocks = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, kThreads, bytes),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  return blocks > 0 ? blocks : 1;
#endif
}

void reduce(const double* partials, i64 width, i64 rows, const Outputs& out, Stream s) {
  const i64 blocks = (width + kReduceCols - 1) / kReduceCols;
  launch("kmeans reduce_partials", reduce_partials, dim3(static_cast<unsigned>(blocks)),
         dim3(kReduceCols, kReduceSlices), 0, s, partials, width, rows, out);
}

// The partial sums of the global-memory variant take at most this much device memory; fewer
// blocks beyond it.
constexpr i64 kMaxPartialBytes = i64{256} << 20;

template <typename T>
void assign_typed(const KMeansAssignArgs& a, bool few, Stream s) {
  const DeviceFacts dev = device_facts();
  const i64 width = a.k * (a.d + 1);
  AssignParams p{a.data,  a.centers, a.weights,      a.n,  a.d, a.k, a.labels,
                 nullptr, 0,         a.want_inertia, false};
  i64 blocks = 0;
  std::size_t bytes = 0;
  void (*kernel)(AssignParams) = nullptr;
  const char* name = nullptr;
  if (few) {
    p.tiles = (a.n + kThreads - 1) / kThreads;
    blocks = p.tiles < 8 * i64{dev.multiprocessors} ? p.tiles : 8 * i64{dev.multiprocessors};
    bytes = FewLayout<T>::bytes(static_cast<int>(a.k), static_cast<int>(a.d));
    kernel = a.d <= 4 ? assign_few<T, 4> : assign_few<T, kFewMaxD>;
    name = "kmeans assign_few";
  } else {
    p.tiles = (a.n + ManyTile<T>::BM - 1) / ManyTile<T>::BM;
    const i64 limit = a.shared_limit >= 0 ? a.shared_limit : dev.shared_optin;
    p.sums_in_shared = static_cast<i64>(ManyLayout<T>::bytes(width, true)) <= limit;
    bytes = ManyLayout<T>::bytes(width, p.sums_in_shared);
    kernel = assign_many<T>;
    name = "kmeans assign_many";
    allow_shared(kernel, bytes);
    blocks = i64{dev.multiprocessors} * resident_blocks(kernel, bytes);
    if (blocks > p.tiles) blocks = p.tiles;
    const i64 fit = kMaxPartialBytes / ((width + 2) * static_cast<i64>(sizeof(double)));
    if (!p.sums_in_shared && blocks > fit) blocks = fit > 0 ? fit : 1;
  }
  Buffer partials(static_cast<std::size_t>(blocks * (width + 2)) * sizeof(double), s);
  p.partials = partials.as<double>();
  launch(name, kernel, dim3(static_cast<unsigned>(blocks)), dim3(kThreads), bytes, s, p);
  // Without want_inertia every block's inertia is 0, and so is the total.
  reduce(p.partials, width + 2, blocks, Outputs{a.sums, a.counts, a.result, a.k, a.d}, s);
}

template <typename T>
void distances_typed(const KMeansDistanceArgs& a, Stream s) {
  const DeviceFacts dev = device_facts();
  const i64 needed = (a.n + kThreads - 1) / kThreads;
  const i64 blocks = needed < 8 * i64{dev.multiprocessors} ? needed : 8 * i64{dev.multiprocessors};
  Buffer partials(static_cast<std::size_t>(blocks * 2) * sizeof(double), s);
  DistanceParams p{
      a.data, a.centers, a.weights, a.n, a.d, a.k, a.labels, a.distances, partials.as<double>()};
  launch("kmeans distances_kernel", distances_kernel<T>, dim3(static_cast<unsigned>(blocks)),
         dim3(kThreads), 0, s, p);
  reduce(p.partials, 2, blocks, Outputs{nullptr, nullptr, a.result, 0, 0}, s);
}

}  // namespace

void kmeans_assign(const KMeansAssignArgs& a, void* stream) {
  if (a.n < 1 || a.d < 1 || a.k < 1) throw ValueError("kmeans: data and centers must not be empty");
  const bool few_fits = a.d <= kFewMaxD && a.k * (a.d + 1) <= kFewMaxSums;
  if (a.path == KMeansPath::few && !few_fits)
    throw ValueError("kmeans: the few-centers kernel needs d <= 16 and k (d + 1) <= 256");
  const bool few = a.path == KMeansPath::few || (a.path == KMeansPath::automatic && few_fits);
  const Stream s = static_cast<Stream>(stream);
  if (a.dtype == Real::f64)
    assign_typed<double>(a, few, s);
  else
    assign_typed<float>(a, few, s);
}

void kmeans_distances(const KMeansDistanceArgs& a, void* stream) {
  if (a.n < 1 || a.d < 1 || a.k < 1) throw ValueError("kmeans: data and centers must not be empty");
  const Stream s = static_cast<Stream>(stream);
  if (a.dtype == Real::f64)
    distances_typed<double>(a, s);
  else
    distances_typed<float>(a, s);
}

}  // namespace gpu
}  // namespace foveal

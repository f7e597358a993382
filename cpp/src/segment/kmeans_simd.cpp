// The fused assignment step of Lloyd's k-means, compiled once per instruction set. For every
// point x_i of data (n x d):
//
//   label_i = argmin_j |x_i - c_j|^2 = argmin_j (|c_j|^2 - 2 x_i . c_j)   (ties: lowest j)
//   sums[label_i] += w_i x_i,  counts[label_i] += w_i,  inertia += w_i |x_i - c_label_i|^2
//
// The dot products come from the register-tiled micro-kernel (tile.hpp): blocks of MR points
// against the centers packed in panels of NR (padded centers get |c|^2 = +inf, never chosen),
// the running minimum and its index kept per lane in vectors and reduced per point at the end.
// No n x k matrix is formed. The points are cut into a fixed number of chunks, each with its
// own float64 partial sums, added in chunk order afterwards: the result depends on the thread
// count (the chunking), never on the scheduling.
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "kmeans_plan.hpp"
#include "simd.hpp"
#include "tile.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::KMeansPlan;

template <typename T>
struct KMeansJob {
  KMeansPlan* plan;
  i64 chunk;        // points per chunk
  i64 panels;       // center panels of NR
  const T* packed;  // panels x d x NR centers
  const T* norms;   // panels x NR: |c|^2, +inf past k
  double* partial;  // per chunk: k x d sums, k counts, 1 inertia
};

// One chunk's points [p0, p1) and its float64 partials (k x d sums, k weights, the inertia,
// the number of changed labels), zeroed.
template <typename T>
struct Chunk {
  i64 p0, p1;
  const T* data;
  const T* centers;
  const T* weights;
  double* sums;
  double* counts;
  double* inertia;
  double* changed;
  Chunk(const KMeansJob<T>& job, i64 index) {
    const KMeansPlan& plan = *job.plan;
    const i64 k = plan.k, d = plan.d;
    p0 = index * job.chunk;
    p1 = min_of(plan.n, p0 + job.chunk);
    data = static_cast<const T*>(plan.data);
    centers = static_cast<const T*>(plan.centers);
    weights = static_cast<const T*>(plan.weights);
    sums = job.partial + index * (k * d + k + 2);
    counts = sums + k * d;
    inertia = counts + k;
    changed = inertia + 1;
    for (i64 i = 0; i < k * d + k + 2; ++i) sums[i] = 0.0;
  }
};

template <typename T>
void assign_chunk(void* context, i64 index) {
  using Tl = Tile<T>;
  constexpr i64 MR = Tl::MR, NR = Tl::NR;
  const KMeansJob<T>& job = *static_cast<const KMeansJob<T>*>(context);
  KMeansPlan& plan = *job.plan;
  const i64 d = plan.d;
  const Chunk<T> ch(job, index);
  const i64 p0 = ch.p0, p1 = ch.p1;
  const T* data = ch.data;
  const T* centers = ch.centers;
  const T* weights = ch.weights;
  double* sums = ch.sums;
  double* counts = ch.counts;
  double& inertia = *ch.inertia;

  Scratch scratch(static_cast<std::size_t>(MR * d + MR * NR + 2 * MR * NR) * sizeof(T) +
                  static_cast<std::size_t>(MR * NR) * sizeof(std::int32_t));
  T* block = static_cast<T*>(scratch.p);  // the last partial block, zero-padded
  T* dots = block + MR * d;
  T* best = dots + MR * NR;  // per row and lane: smallest |c|^2 - 2 x.c so far
  std::int32_t* best_at = reinterpret_cast<std::int32_t*>(best + MR * NR);
  constexpr T inf = std::numeric_limits<T>::infinity();

  for (i64 r0 = p0; r0 < p1; r0 += MR) {
    const i64 rows = min_of(MR, p1 - r0);
    const T* x = data + r0 * d;
    if (rows < MR) {
      copy_row(block, x, rows * d);
      for (i64 i = rows * d; i < MR * d; ++i) block[i] = T(0);
      x = block;
    }
    for (i64 i = 0; i < MR * NR; ++i) {
      best[i] = inf;
      best_at[i] = 0;
    }
    for (i64 p = 0; p < job.panels; ++p) {
      tile_product(d, x, d, job.packed + p * d * NR, dots, NR, false);
      const T* norm = job.norms + p * NR;
      for (i64 r = 0; r < MR; ++r) {
        T* b = best + r * NR;
        std::int32_t* at = best_at + r * NR;
        const T* dr = dots + r * NR;
        for (i64 j = 0; j < NR; ++j) {
          const T dist = norm[j] - 2 * dr[j];
          const bool take = dist < b[j];
          b[j] = take ? dist : b[j];
          at[j] = take ? static_cast<std::int32_t>(p * NR + j) : at[j];
        }
      }
    }
    for (i64 r = 0; r < rows; ++r) {
      // The lowest distance, the lowest index among equals (lanes hold increasing indices).
      const T* b = best + r * NR;
      const std::int32_t* at = best_at + r * NR;
      T v = b[0];
      std::int32_t label = at[0];
      for (i64 j = 1; j < NR; ++j)
        if (b[j] < v || (b[j] == v && at[j] < label)) v = b[j], label = at[j];
      const i64 point = r0 + r;
      *ch.changed += plan.labels[point] != label;
      plan.labels[point] = label;
      const T* xp = data + point * d;
      const T* c = centers + static_cast<i64>(label) * d;
      const double w = weights ? static_cast<double>(weights[point]) : 1.0;
      double dist = 0.0;
      double* s = sums + static_cast<i64>(label) * d;
      for (i64 e = 0; e < d; ++e) {
        const double xe = static_cast<double>(xp[e]);
        const double diff = xe - static_cast<double>(c[e]);
        dist += diff * diff;
        s[e] += w * xe;
      }
      counts[label] += w;
      inertia += w * dist;
      if (plan.distances) plan.distances[point] = dist;
    }
  }
}

// Few centers in few dimensions (the colour-quantization case): the register tile would be
// mostly padding, so points go a vector of them at a time instead. A block of points is first
// turned from rows into one array per coordinate (a loop the compiler vectorizes for a fixed
// dimension), then per vector of points: the distances to each center by multiply-adds (the
// same expanded |c|^2 - 2 x.c as the general path), the argmin by compare and select, the
// chosen center's coordinates selected alongside for the inertia from exact differences, and
// the sums and weights by per-cluster masked adds, flushed into the chunk's float64 sums after
// each block. D is the dimension when fixed at compile time (0: any up to kSmallD).
constexpr i64 kSmallK = 16;
constexpr i64 kSmallD = 8;
constexpr i64 kBlock = 256;  // points per block; float32 sums of a block stay exact enough

template <typename T, int D, bool kExact>
void assign_chunk_small(void* context, i64 index) {
  using Ln = Lanes<T>;
  using V = typename Ln::W;
  constexpr i64 L = Ln::N;
  using I = decltype(V{} < V{});
  using Int = decltype(I{}[0] + 0);
  const KMeansJob<T>& job = *static_cast<const KMeansJob<T>*>(context);
  KMeansPlan& plan = *job.plan;
  const i64 d = D ? D : plan.d, k = plan.k;
  const Chunk<T> ch(job, index);
  const T* centers = ch.centers;
  const T* norm = job.norms;  // center j's |c|^2 at j (panels are consecutive)
  alignas(32) T coords[kSmallD][kBlock];
  alignas(32) T wts[kBlock];
  alignas(32) Int block_labels[kBlock];
  alignas(32) T block_sq[kBlock];
  V acc_sum[kSmallK][kSmallD] = {}, acc_count[kSmallK] = {}, acc_inertia = {};
  auto clear = [&]() {
    for (i64 j = 0; j < k; ++j) {
      for (i64 e = 0; e < d; ++e) acc_sum[j][e] = V{};
      acc_count[j] = V{};
    }
    acc_inertia = V{};
  };
  auto flush = [&]() {
    for (i64 j = 0; j < k; ++j) {
      for (i64 e = 0; e < d; ++e)
        for (i64 t = 0; t < L; ++t) ch.sums[j * d + e] += static_cast<double>(acc_sum[j][e][t]);
      for (i64 t = 0; t < L; ++t) ch.counts[j] += static_cast<double>(acc_count[j][t]);
    }
    for (i64 t = 0; t < L; ++t) *ch.inertia += static_cast<double>(acc_inertia[t]);
    clear();
  };
  clear();
  for (i64 b0 = ch.p0; b0 < ch.p1; b0 += kBlock) {
    const i64 m = min_of(kBlock, ch.p1 - b0);
    const i64 padded = (m + L - 1) / L * L;
    const T* src = ch.data + b0 * d;
    for (i64 i = 0; i < m; ++i)
      for (i64 e = 0; e < d; ++e) coords[e][i] = src[i * d + e];
    for (i64 i = 0; i < m; ++i) wts[i] = ch.weights ? ch.weights[b0 + i] : T(1);
    for (i64 i = m; i < padded; ++i) {  // padding lanes weigh nothing
      for (i64 e = 0; e < d; ++e) coords[e][i] = T(0);
      wts[i] = T(0);
    }
    for (i64 i = 0; i < padded; i += L) {
      V x[kSmallD], chosen[kSmallD];
      for (i64 e = 0; e < d; ++e) x[e] = Ln::load(coords[e] + i), chosen[e] = V{};
      const V w = Ln::load(wts + i);
      V best = Ln::splat(std::numeric_limits<T>::infinity());
      I label = I{};
      for (i64 j = 0; j < k; ++j) {
        V dot = V{};
        for (i64 e = 0; e < d; ++e) dot += x[e] * centers[j * d + e];
        const V dist = norm[j] - 2 * dot;
        const I take = dist < best;
        best = take ? dist : best;
        label = take ? I{} + static_cast<Int>(j) : label;
        if (kExact)  // the chosen center, for the inertia from exact differences
          for (i64 e = 0; e < d; ++e) chosen[e] = take ? centers[j * d + e] - V{} : chosen[e];
      }
      V sq = V{};
      for (i64 e = 0; e < d; ++e) {
        const V diff = x[e] - chosen[e];
        sq += diff * diff;
        x[e] *= w;
      }
      acc_inertia += sq * w;  // garbage without kExact, and then not reported
      for (i64 j = 0; j < k; ++j) {
        const I mine = label == static_cast<Int>(j);
        for (i64 e = 0; e < d; ++e) acc_sum[j][e] += mine ? x[e] : V{};
        acc_count[j] += mine ? w : V{};
      }
      std::memcpy(block_labels + i, &label, sizeof(label));
      Ln::store(block_sq + i, sq);
    }
    i64 changed = 0;
    for (i64 i = 0; i < m; ++i) {
      const auto label = static_cast<std::int32_t>(block_labels[i]);
      changed += plan.labels[b0 + i] != label;
      plan.labels[b0 + i] = label;
    }
    *ch.changed += static_cast<double>(changed);
    if (plan.distances)
      for (i64 i = 0; i < m; ++i) plan.distances[b0 + i] = static_cast<double>(block_sq[i]);
    flush();
  }
}

template <typename T>
void assign_typed(KMeansPlan& plan) {
  constexpr i64 NR = Tile<T>::NR;
  const i64 d = plan.d, k = plan.k;
  KMeansJob<T> job{&plan, 0, (k + NR - 1) / NR, nullptr, nullptr, nullptr};
  // A fixed chunking by the thread count: four chunks a thread, at least 2048 points each.
  const i64 threads = get_num_threads();
  const i64 chunks = max_of<i64>(1, min_of<i64>(4 * threads, (plan.n + 2047) / 2048));
  job.chunk = (plan.n + chunks - 1) / chunks;
  const i64 count = (plan.n + job.chunk - 1) / job.chunk;
  Scratch tables(static_cast<std::size_t>(job.panels * NR * (d + 1)) * sizeof(T) +
                 static_cast<std::size_t>(count * (k * d + k + 2)) * sizeof(double));
  T* packed = static_cast<T*>(tables.p);
  T* norms = packed + job.panels * d * NR;
  job.partial = reinterpret_cast<double*>(norms + job.panels * NR);
  const T* centers = static_cast<const T*>(plan.centers);
  for (i64 p = 0; p < job.panels; ++p) {
    for (i64 lane = 0; lane < NR; ++lane) {
      const i64 j = p * NR + lane;
      T norm = T(0);
      for (i64 e = 0; e < d; ++e) {
        const T v = j < k ? centers[j * d + e] : T(0);
        packed[(p * d + e) * NR + lane] = v;
        norm += v * v;
      }
      norms[p * NR + lane] = j < k ? norm : std::numeric_limits<T>::infinity();
    }
  }
  job.packed = packed;
  job.norms = norms;
  if (k <= kSmallK && d <= kSmallD) {
    // The distance to the chosen center costs a select per center and coordinate: only when
    // the inertia or the distances are asked for.
    const bool exact = plan.want_inertia || plan.distances;
    void (*small)(void*, i64) =
        d == 1   ? (exact ? assign_chunk_small<T, 1, true> : assign_chunk_small<T, 1, false>)
        : d == 2 ? (exact ? assign_chunk_small<T, 2, true> : assign_chunk_small<T, 2, false>)
        : d == 3 ? (exact ? assign_chunk_small<T, 3, true> : assign_chunk_small<T, 3, false>)
        : d == 4 ? (exact ? assign_chunk_small<T, 4, true> : assign_chunk_small<T, 4, false>)
                 : (exact ? assign_chunk_small<T, 0, true> : assign_chunk_small<T, 0, false>);
    parallel_for_raw(count, small, &job);
  } else
    parallel_for_raw(count, assign_chunk<T>, &job);
  for (i64 i = 0; i < k * d; ++i) plan.sums[i] = 0.0;
  for (i64 j = 0; j < k; ++j) plan.counts[j] = 0.0;
  plan.inertia = 0.0;
  double changed = 0.0;  // exact: counts below 2**53
  for (i64 c = 0; c < count; ++c) {
    const double* part = job.partial + c * (k * d + k + 2);
    for (i64 i = 0; i < k * d; ++i) plan.sums[i] += part[i];
    for (i64 j = 0; j < k; ++j) plan.counts[j] += part[k * d + j];
    plan.inertia += part[k * d + k];
    changed += part[k * d + k + 1];
  }
  plan.changed = static_cast<i64>(changed);
}

}  // namespace

void kmeans_assign(KMeansPlan& plan) {
  if (plan.wide)
    assign_typed<double>(plan);
  else
    assign_typed<float>(plan);
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

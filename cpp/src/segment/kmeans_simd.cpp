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
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
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
  i64 chunk;               // points per chunk
  i64 panels;              // center panels of NR
  const T* packed;         // panels x d x NR centers
  const T* norms;          // panels x NR: |c|^2, +inf past k
  double* partial;         // per chunk: k x d sums, k counts, 1 inertia, 1 changed count
  double center_norm_max;  // the largest |c|
  // When pruning: each center's nearest other centers, nearest first (kNearKept of them, or
  // all k - 1 if fewer), and their distances, for the search among near centers.
  std::int32_t* near_index;
  double* near_dist;
  // And, when they fit (kNearPackedBytes), each center's own coordinates and its near
  // centers', lane-major like the tile's panels: center a's groups of Lanes<T>::N lanes hold
  // a itself then near_index's list, d rows each (null: not kept).
  T* near_packed;
  // Per center: kNearNone, kNearMaking or kNearReady (see ensure_near).
  std::atomic<std::uint8_t>* near_state;
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

// One panel of NR centers against MR points: the products x.c by the register tile (as
// tile_product), then, still in registers, |c|^2 - 2 x.c against each lane's running nearest
// and second nearest (best, second: MR x NR values; best_at: their center indices).
template <typename T, typename Int>
void search_panel(i64 kc, const T* __restrict a, i64 lda, const T* __restrict b,
                  const T* __restrict norm, T* __restrict best, T* __restrict second,
                  Int* __restrict best_at, i64 first_center) {
  using Tl = Tile<T>;
  using V = typename Tl::V;
  using I = decltype(V{} < V{});
  constexpr int L = Tl::L, MR = Tl::MR, NR = Tl::NR;
  V lo[MR], hi[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) lo[r] = V{}, hi[r] = V{};
  tile_accumulate(kc, a, lda, b, lo, hi);
  const V n0 = Tl::load(norm), n1 = Tl::load(norm + L);
  I index0, index1;
  for (int t = 0; t < L; ++t) {
    index0[t] = static_cast<Int>(first_center + t);
    index1[t] = static_cast<Int>(first_center + L + t);
  }
  auto update = [&](T* bp, T* sp, Int* ap, V dist, I index) {
    const V b_old = Tl::load(bp), s_old = Tl::load(sp);
    I at;
    std::memcpy(&at, ap, sizeof(I));
    const I closer = dist < b_old;
    const V s_new = closer ? b_old : (dist < s_old ? dist : s_old);
    Tl::store(bp, closer ? dist : b_old);
    Tl::store(sp, s_new);
    at = closer ? index : at;
    std::memcpy(ap, &at, sizeof(I));
  };
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    update(best + r * NR, second + r * NR, best_at + r * NR, n0 - 2 * lo[r], index0);
    update(best + r * NR + L, second + r * NR + L, best_at + r * NR + L, n1 - 2 * hi[r], index1);
  }
}

// Sums of squares in float64 over eight interleaved partial sums: a fixed order (the same
// result every time) whose chains are short enough to keep the adders busy, which one running
// sum (a floating-point reduction the compiler may not reorder) would not. Of x - c, or of x
// alone when c is null. The eight sums are two vectors of four doubles, coordinate e going to
// sum e % 8 (the coordinates past the last whole eight too), so the vector body and a scalar
// loop over the same sums give the same bits.
typedef double D4 __attribute__((vector_size(32)));

// Four values from p, in float64.
template <typename T>
D4 widen4(const T* p) {
  if constexpr (std::is_same_v<T, float>) {
    typedef float F4 __attribute__((vector_size(16)));
    F4 v;
    std::memcpy(&v, p, sizeof(v));
    return __builtin_convertvector(v, D4);
  } else {
    D4 v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
}

template <typename T>
double sum_of_squares(const T* __restrict x, const T* __restrict c, i64 d) {
  auto widen = [](const T* p) { return widen4(p); };
  D4 lo = {}, hi = {};
  i64 e = 0;
  if (c) {
    for (; e + 8 <= d; e += 8) {
      const D4 a = widen(x + e) - widen(c + e), b = widen(x + e + 4) - widen(c + e + 4);
      lo += a * a;
      hi += b * b;
    }
  } else {
    for (; e + 8 <= d; e += 8) {
      const D4 a = widen(x + e), b = widen(x + e + 4);
      lo += a * a;
      hi += b * b;
    }
  }
  double acc[8];
  std::memcpy(acc, &lo, sizeof(lo));
  std::memcpy(acc + 4, &hi, sizeof(hi));
  for (int t = 0; e < d; ++e, ++t) {
    const double v = static_cast<double>(x[e]) - (c ? static_cast<double>(c[e]) : 0.0);
    acc[t] += v * v;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <typename T>
double squared_distance(const T* x, const T* c, i64 d) {
  return sum_of_squares(x, c, d);
}

template <typename T>
double squared_norm(const T* x, i64 d) {
  return sum_of_squares<T>(x, nullptr, d);
}

// A point whose bounds do not settle it is compared with the centers near its own alone when
// fewer than kNearKept are near enough; the nearest kNearKept are listed per center each pass.
// A point with more near centers is searched in full by the register tile, which does the
// work of many near searches per product: on 100,000 blobs in 64 dimensions with k = 256,
// lists of 7, 9 or 15 ran the 20 iterations in the same time, 17 some 10% slower, 33 some
// 20% and 64 some 50% (the lists themselves and the longer near searches).
constexpr i64 kNearKept = 15;
// The near centers' packed copies are made when they take at most this much memory.
constexpr std::size_t kNearPackedBytes = std::size_t(64) << 20;
template <typename T>
constexpr i64 near_groups() {
  return (kNearKept + 1 + Lanes<T>::N - 1) / Lanes<T>::N;
}

// Points waiting for a search among near centers, at most.
constexpr i64 kNearBatch = 32;
// A point waiting for its search among the centers near its own a (n_near of them, with a).
struct NearWait {
  i64 point;
  std::int32_t a;
  i64 n_near;
  double u, outside, dist_a;
};
// One of its products: the point's coordinates against a group of lanes of a's packed panel.
template <typename T>
struct NearPair {
  const T* x;
  const T* panel;
  T* out;
};

constexpr std::uint8_t kNearNone = 0, kNearMaking = 1, kNearReady = 2;

// Center a's near list: the kNearKept centers nearest to it (fewer if k is smaller), nearest
// first, equals in index order, and their distances. The distances to a panel of centers come
// at once, in float64 lanes (one sum of squares per lane, coordinates in order), from the
// centers packed as the full search reads them; then insertion into a short sorted list, where
// most centers are farther than its last.
template <typename T>
void make_near_list(const KMeansJob<T>& job, i64 a) {
  constexpr i64 NR = Tile<T>::NR;
  constexpr int kQuads = static_cast<int>(NR / 4);
  const KMeansPlan& plan = *job.plan;
  const i64 k = plan.k, d = plan.d;
  double* dist = job.near_dist + a * kNearKept;
  std::int32_t* index = job.near_index + a * kNearKept;
  const T* own = static_cast<const T*>(plan.centers) + a * d;
  i64 held = 0;
  for (i64 p = 0; p < job.panels; ++p) {
    D4 acc[kQuads] = {};
    const T* panel = job.packed + p * d * NR;
    for (i64 e = 0; e < d; ++e) {
      const D4 mine = static_cast<double>(own[e]) - D4{};
      for (int h = 0; h < kQuads; ++h) {
        const D4 diff = mine - widen4(panel + e * NR + 4 * h);
        acc[h] += diff * diff;
      }
    }
    double squares[NR];
    std::memcpy(squares, acc, sizeof(squares));
    // Past this, a square's root is at least the list's last distance (the bound's own
    // rounding covered): most centers are turned away without a root taken.
    double far_square = std::numeric_limits<double>::infinity();
    if (held == kNearKept)
      far_square =
          dist[held - 1] * dist[held - 1] * (1.0 + 4.0 * std::numeric_limits<double>::epsilon());
    for (i64 lane = 0; lane < NR; ++lane) {
      const i64 j = p * NR + lane;
      if (j >= k) break;
      if (j == a || squares[lane] > far_square) continue;
      const double v = __builtin_sqrt(squares[lane]);
      if (held == kNearKept && v >= dist[held - 1]) continue;
      i64 at = held < kNearKept ? held++ : held - 1;
      for (; at > 0 && dist[at - 1] > v; --at) dist[at] = dist[at - 1], index[at] = index[at - 1];
      dist[at] = v;
      index[at] = static_cast<std::int32_t>(j);
    }
  }
}

// Center a's packed near centers (see KMeansJob::near_packed): lane 0 is a itself, lane t + 1
// its near center t, lanes past the list zeros. A group's lanes are read row by row and
// written a whole vector at a time.
template <typename T>
void pack_near_centers(const KMeansJob<T>& job, i64 a) {
  constexpr i64 kLanes = Lanes<T>::N;
  const KMeansPlan& plan = *job.plan;
  const i64 k = plan.k, d = plan.d;
  const T* centers = static_cast<const T*>(plan.centers);
  const i64 listed = min_of<i64>(k - 1, kNearKept);
  T* out = job.near_packed + a * near_groups<T>() * d * kLanes;
  for (i64 g = 0; g < near_groups<T>(); ++g, out += d * kLanes) {
    const T* row[kLanes];
    for (i64 t = 0; t < kLanes; ++t) {
      const i64 lane = g * kLanes + t;
      const i64 j = lane == 0 ? a : lane <= listed ? job.near_index[a * kNearKept + lane - 1] : -1;
      row[t] = j < 0 ? nullptr : centers + j * d;
    }
    for (i64 e = 0; e < d; ++e)
      for (i64 t = 0; t < kLanes; ++t) out[e * kLanes + t] = row[t] ? row[t][e] : T(0);
  }
}

// Makes center a's near list (and packed near centers) unless this pass already has: the
// first thread to ask makes them, one that asks meanwhile waits for it.
template <typename T>
void ensure_near(const KMeansJob<T>& job, i64 a) {
  std::atomic<std::uint8_t>& state = job.near_state[a];
  if (state.load(std::memory_order_acquire) == kNearReady) return;
  std::uint8_t expected = kNearNone;
  if (state.compare_exchange_strong(expected, kNearMaking, std::memory_order_acq_rel)) {
    make_near_list(job, a);
    if (job.near_packed) pack_near_centers(job, a);
    state.store(kNearReady, std::memory_order_release);
    return;
  }
  while (state.load(std::memory_order_acquire) != kNearReady) std::this_thread::yield();
}

// The slack the pruning test leaves for rounding. The search compares float distances
// |c|^2 - 2 x.c, each off by at most about (d + 1) u (|x| + |c|)^2 (u the unit roundoff, half
// of epsilon); if the true distances to two centers differ by m, their squares differ by more
// than m^2, so a margin m with m^2 above twice that error (plus the error the float lower bound
// itself carries) leaves the search no room to pick another center. A point is kept unsearched
// only beyond this margin, so pruning never changes a label.
template <typename T>
double prune_margin(i64 d, double x_norm, double c_norm_max) {
  const double eps = std::numeric_limits<T>::epsilon();
  return 3.0 * __builtin_sqrt(static_cast<double>(d + 2) * eps) * (x_norm + c_norm_max);
}

// The general path: blocks of MR points against all centers by the register-tiled product,
// the nearest and second-nearest center per point from per-lane running minima. With Hamerly's
// bounds (plan.upper), a point whose bounds, moved by how far the centers moved, still keep
// every other center farther than its own (by prune_margin) keeps its label without a
// search; the others are gathered into blocks and searched.
template <typename T>
void assign_chunk(void* context, i64 index) {
  using Tl = Tile<T>;
  using Mask = decltype(typename Tl::V{} < typename Tl::V{});
  using Int = decltype(Mask{}[0] + 0);
  constexpr i64 MR = Tl::MR, NR = Tl::NR;
  const KMeansJob<T>& job = *static_cast<const KMeansJob<T>*>(context);
  KMeansPlan& plan = *job.plan;
  const i64 d = plan.d;
  const Chunk<T> ch(job, index);
  const T* data = ch.data;
  const T* centers = ch.centers;
  const T* weights = ch.weights;
  constexpr T inf = std::numeric_limits<T>::infinity();
  const bool bounded = plan.upper != nullptr;
  const bool pruning = bounded && plan.shift != nullptr;

  // Points to search are gathered kBatch at a time.
  constexpr i64 kBatch = 170 * MR;
  Scratch scratch(static_cast<std::size_t>(MR * d + 2 * MR * NR) * sizeof(T) +
                  static_cast<std::size_t>(MR * NR) * sizeof(Int) +
                  static_cast<std::size_t>(kBatch) * sizeof(i64));
  T* block = static_cast<T*>(scratch.p);  // gathered points, zero-padded
  T* best = block + MR * d;               // per row and lane: smallest |c|^2 - 2 x.c so far
  T* second = best + MR * NR;             // and the next smallest
  Int* best_at = reinterpret_cast<Int*>(second + MR * NR);
  i64* search = reinterpret_cast<i64*>(best_at + MR * NR);  // points to search

  // Point i's new label (and squared distance to its center) into the chunk's partials: its
  // weight and weighted coordinates to the label's sums; with changes_only, only if the label
  // changed, and then out of the old one too.
  auto take = [&](i64 i, std::int32_t label, double dist) {
    const std::int32_t old = plan.labels[i];
    const double w = weights ? static_cast<double>(weights[i]) : 1.0;
    *ch.inertia += w * dist;
    if (plan.distances) plan.distances[i] = dist;
    *ch.changed += old != label;
    plan.labels[i] = label;
    // A previous label outside [0, k) (none yet) counts as a new point.
    const bool had = plan.changes_only && old >= 0 && old < plan.k;
    if (had && old == label) return;
    const T* __restrict x = data + i * d;
    double* __restrict s = ch.sums + static_cast<i64>(label) * d;
    for (i64 e = 0; e < d; ++e) s[e] += w * static_cast<double>(x[e]);
    ch.counts[label] += w;
    if (had) {
      double* __restrict s_old = ch.sums + static_cast<i64>(old) * d;
      for (i64 e = 0; e < d; ++e) s_old[e] -= w * static_cast<double>(x[e]);
      ch.counts[old] -= w;
    }
  };
  auto exact_distance = [&](i64 i, std::int32_t label) {
    return squared_distance(data + i * d, centers + static_cast<i64>(label) * d, d);
  };

  // A point d(x, c_a) = u from its center a can only be nearer to centers within 2u of c_a
  // (the triangle inequality); with the rounding margin on top, the others are out of reach
  // of the full search too. So when few centers lie within 2u + margin of c_a, the point is
  // compared with those alone, each distance computed exactly as the full search computes it
  // (the same products in the same order), the ties resolved the same way: the same label.
  // The lower bound then covers the centers out of reach by their distance to c_a minus u.
  // The nearest of the centers near[0, n_near) whose distances |c|^2 - 2 x.c are dists (the
  // smallest, the lowest index among equals, as the full search picks), and point i's bounds:
  // the second nearest of them, or the nearest center out of reach (outside) minus u.
  auto finish_near = [&](i64 i, std::int32_t a, const std::int32_t* near, const T* dists,
                         i64 n_near, double u, double outside, double dist_a) {
    T best = inf, second = inf;
    std::int32_t label = -1;
    for (i64 t = 0; t < n_near; ++t) {
      const std::int32_t j = near[t];
      const T dist = dists[t];
      if (dist < best || (dist == best && j < label)) {
        second = best;
        best = dist, label = j;
      } else {
        second = min_of(second, dist);
      }
    }
    const double dist = label == a ? dist_a : exact_distance(i, label);
    const double x_norm = plan.norms[i];
    const double d2 = static_cast<double>(second) + x_norm * x_norm;
    const double second_near = second == inf ? inf : __builtin_sqrt(d2 > 0.0 ? d2 : 0.0);
    plan.upper[i] = __builtin_sqrt(dist);
    plan.lower[i] = min_of(second_near, outside - u);
    take(i, label, dist);
  };

  // With the packed near centers, near searches wait in a queue and run a few points at a
  // time: each (point, center) distance is one chain of dependent multiply-adds, and a vector
  // of centers for one point is one chain, which alone would wait on every multiply-add's
  // latency; four points' chains side by side keep the multiply-adders busy. The waiting
  // points are taken in the order they came, before anything that came after them (run_near
  // runs first wherever a point is taken), so the sums add up in the order they always did.
  using Ln = Lanes<T>;
  using W = typename Ln::W;
  constexpr i64 kLanes = Ln::N, kGroups = near_groups<T>();
  NearWait waiting[kNearBatch];
  alignas(32) T waiting_dists[kNearBatch][kGroups * kLanes];
  i64 n_waiting = 0;
  auto run_near = [&]() {
    // The products, four (point, lane group) pairs at a time; a short last set repeats its
    // last pair (recomputing the same values).
    NearPair<T> pairs[kNearBatch * near_groups<T>()];
    i64 n_pairs = 0;
    for (i64 w = 0; w < n_waiting; ++w) {
      const NearWait& q = waiting[w];
      const T* panel = job.near_packed + static_cast<i64>(q.a) * kGroups * d * kLanes;
      for (i64 g = 0; g * kLanes < q.n_near; ++g)
        pairs[n_pairs++] = {data + q.point * d, panel + g * d * kLanes,
                            waiting_dists[w] + g * kLanes};
    }
    for (i64 p = 0; p < n_pairs; p += 4) {
      const NearPair<T>& p0 = pairs[p];
      const NearPair<T>& p1 = pairs[min_of(p + 1, n_pairs - 1)];
      const NearPair<T>& p2 = pairs[min_of(p + 2, n_pairs - 1)];
      const NearPair<T>& p3 = pairs[min_of(p + 3, n_pairs - 1)];
      W acc0{}, acc1{}, acc2{}, acc3{};
      for (i64 e = 0; e < d; ++e) {
        // tile_accumulate's operation: acc += broadcast(x_e) * c_e
        acc0 += (p0.x[e] - W{}) * Ln::load(p0.panel + e * kLanes);
        acc1 += (p1.x[e] - W{}) * Ln::load(p1.panel + e * kLanes);
        acc2 += (p2.x[e] - W{}) * Ln::load(p2.panel + e * kLanes);
        acc3 += (p3.x[e] - W{}) * Ln::load(p3.panel + e * kLanes);
      }
      Ln::store(p0.out, acc0);
      Ln::store(p1.out, acc1);
      Ln::store(p2.out, acc2);
      Ln::store(p3.out, acc3);
    }
    for (i64 w = 0; w < n_waiting; ++w) {
      const NearWait& q = waiting[w];
      std::int32_t near[kNearKept + 1];
      near[0] = q.a;
      const std::int32_t* which = job.near_index + static_cast<i64>(q.a) * kNearKept;
      for (i64 t = 1; t < q.n_near; ++t) near[t] = which[t - 1];
      T* dists = waiting_dists[w];
      for (i64 t = 0; t < q.n_near; ++t) dists[t] = job.norms[near[t]] - 2 * dists[t];
      finish_near(q.point, q.a, near, dists, q.n_near, q.u, q.outside, q.dist_a);
    }
    n_waiting = 0;
  };

  // A point d(x, c_a) = u from its center a can only be nearer to centers within 2u of c_a
  // (the triangle inequality); with the rounding margin on top, the others are out of reach
  // of the full search too. So when few centers lie within 2u + margin of c_a, the point is
  // compared with those alone, each distance computed exactly as the full search computes it
  // (the same products in the same order), the ties resolved the same way: the same label.
  // The lower bound then covers the centers out of reach by their distance to c_a minus u.
  auto search_near = [&](i64 i, std::int32_t a, double u, double margin, double dist_a) {
    ensure_near(job, a);
    const double reach = 2.0 * u + margin;
    const double* around = job.near_dist + static_cast<i64>(a) * kNearKept;
    const std::int32_t* which = job.near_index + static_cast<i64>(a) * kNearKept;
    const i64 listed = min_of<i64>(plan.k - 1, kNearKept);
    i64 n_near = 0;
    while (n_near < listed && around[n_near] < reach) ++n_near;
    if (n_near == kNearKept) return false;  // more near centers than kept: search them all
    // The nearest center out of reach (the list holds every center nearer than its last).
    const double outside =
        n_near < listed ? around[n_near] : std::numeric_limits<double>::infinity();
    if (job.near_packed) {
      waiting[n_waiting++] = {i, a, n_near + 1, u, outside, dist_a};
      if (n_waiting == kNearBatch) run_near();
      return true;
    }
    std::int32_t near[kNearKept + 1];
    for (i64 t = 0; t < n_near; ++t) near[t] = which[t];
    near[n_near++] = a;  // its own center too (n_near was below kNearKept)
    // tile_accumulate's operations in its order, one fused multiply-add per coordinate where
    // the instruction set has them (the vector loop is contracted to them there); eight
    // centers at a time, so that eight independent chains keep the multiply-adders busy.
    const T* x = data + i * d;
    T dists[kNearKept + 1];
    for (i64 t0 = 0; t0 < n_near; t0 += 8) {
      const i64 m = min_of<i64>(8, n_near - t0);
      const T* c[8];
      T dot[8] = {};
      for (i64 t = 0; t < 8; ++t)
        c[t] = centers + static_cast<i64>(near[t0 + min_of(t, m - 1)]) * d;
      for (i64 e = 0; e < d; ++e)
        for (i64 t = 0; t < 8; ++t) dot[t] = fused_multiply_add(x[e], c[t][e], dot[t]);
      for (i64 t = 0; t < m; ++t) dists[t0 + t] = job.norms[near[t0 + t]] - 2 * dot[t];
    }
    finish_near(i, a, near, dists, n_near, u, outside, dist_a);
    return true;
  };

  i64 n_search = 0;
  auto run_search = [&]() {
    run_near();
    for (i64 g = 0; g < n_search; g += MR) {
      const i64 rows = min_of(MR, n_search - g);
      const T* x;
      if (rows == MR && search[g + MR - 1] - search[g] == MR - 1) {
        x = data + search[g] * d;  // consecutive points: read in place
      } else {
        for (i64 r = 0; r < rows; ++r) copy_row(block + r * d, data + search[g + r] * d, d);
        for (i64 i = rows * d; i < MR * d; ++i) block[i] = T(0);
        x = block;
      }
      for (i64 i = 0; i < MR * NR; ++i) {
        best[i] = inf;
        second[i] = inf;
        best_at[i] = 0;
      }
      for (i64 p = 0; p < job.panels; ++p)
        search_panel(d, x, d, job.packed + p * d * NR, job.norms + p * NR, best, second, best_at,
                     p * NR);
      for (i64 r = 0; r < rows; ++r) {
        // The lowest distance, the lowest index among equals (lanes hold increasing indices).
        const T* b = best + r * NR;
        const T* b2 = second + r * NR;
        const Int* at = best_at + r * NR;
        T v = b[0];
        auto label = static_cast<std::int32_t>(at[0]);
        i64 lane = 0;
        for (i64 j = 1; j < NR; ++j)
          if (b[j] < v || (b[j] == v && at[j] < label))
            v = b[j], label = static_cast<std::int32_t>(at[j]), lane = j;
        const i64 point = search[g + r];
        const double dist = exact_distance(point, label);
        if (bounded) {
          T v2 = b2[lane];  // the second nearest: another lane's nearest, or this lane's second
          for (i64 j = 0; j < NR; ++j)
            if (j != lane) v2 = min_of(v2, b[j]);
          // |x|^2: measured the first time the point is labelled, then from the |x| kept
          // then (the bound's margin dwarfs the root's rounding).
          double x_norm;
          const std::int32_t old = plan.labels[point];
          if (pruning && old >= 0 && old < plan.k) {
            x_norm = plan.norms[point] * plan.norms[point];
          } else {
            x_norm = squared_norm(data + point * d, d);
            plan.norms[point] = __builtin_sqrt(x_norm);
          }
          plan.upper[point] = __builtin_sqrt(dist);
          const double d2 = static_cast<double>(v2) + x_norm;
          plan.lower[point] = v2 == inf ? inf : __builtin_sqrt(d2 > 0.0 ? d2 : 0.0);
        }
        take(point, label, dist);
      }
    }
    n_search = 0;
  };
  if (!pruning) {
    for (i64 i = ch.p0; i < ch.p1; ++i) {
      search[n_search++] = i;
      if (n_search == kBatch) run_search();
    }
  } else {
    // How far the other centers can have come: the largest shift, or for the points of the
    // center that moved most, the second largest (Hamerly's bound keeps the distance to
    // every center but the point's own).
    double max_shift = 0.0, second_shift = 0.0;
    i64 moved_most = -1;
    for (i64 j = 0; j < plan.k; ++j) {
      const double v = plan.shift[j];
      if (v > max_shift)
        second_shift = max_shift, max_shift = v, moved_most = j;
      else
        second_shift = max_of(second_shift, v);
    }
    auto others_shift = [&](std::int32_t label) {
      return label == moved_most ? second_shift : max_shift;
    };
    const bool want_distance = plan.want_inertia || plan.distances;
    constexpr i64 kAhead = 12;
    for (i64 i = ch.p0; i < ch.p1; ++i) {
      const std::int32_t label = plan.labels[i];
      if (label < 0 || label >= plan.k) {  // no previous label: search
        search[n_search++] = i;
        if (n_search == kBatch) run_search();
        continue;
      }
      // The point kAhead places on is asked for from memory now if its bounds will not keep
      // it: those reads are scattered, and the hardware prefetchers would not see them
      // coming.
      if (i + kAhead < ch.p1) {
        const i64 ahead = i + kAhead;
        const std::int32_t label_ahead = plan.labels[ahead];
        if (label_ahead < 0 || label_ahead >= plan.k ||
            plan.upper[ahead] + plan.shift[label_ahead] +
                    prune_margin<T>(d, plan.norms[ahead], job.center_norm_max) >=
                plan.lower[ahead] - others_shift(label_ahead))
          prefetch_values(data + ahead * d, d);
      }
      const double margin = prune_margin<T>(d, plan.norms[i], job.center_norm_max);
      const double lower = plan.lower[i] - others_shift(label);
      double upper = plan.upper[i] + plan.shift[label];
      double dist = -1.0;
      if (upper + margin >= lower) {  // tighten: the exact distance to its own center
        dist = exact_distance(i, label);
        upper = __builtin_sqrt(dist);
      }
      if (upper + margin < lower) {  // kept, unsearched (and, unless asked for, unread)
        plan.upper[i] = upper;
        plan.lower[i] = lower;
        if (want_distance) {
          if (dist < 0.0) dist = exact_distance(i, label);
          run_near();
          take(i, label, dist);
        }
      } else if (!search_near(i, label, upper, margin, dist)) {
        search[n_search++] = i;
        if (n_search == kBatch) run_search();
      }
    }
  }

  run_search();
}

// Few centers in few dimensions (the colour-quantization case): the register tile would be
// mostly padding, so points go a vector of them at a time instead. A block of points is first
// turned from rows into one array per coordinate (a loop the compiler vectorizes for a fixed
// dimension), then per vector of points: the distances to each center by multiply-adds (the
// same expanded |c|^2 - 2 x.c as the general path), the argmin by compare and select, the
// chosen center's coordinates selected alongside for the inertia from exact differences, and
// the sums and weights by per-cluster masked adds, flushed into the chunk's float64 sums after
// each block. D is the dimension when fixed at compile time (0: any up to kSmallD).
// A count as a type, for generic lambdas unrolled by it.
template <int N>
struct Count {
  static constexpr int value = N;
};

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
  alignas(32) Int old_labels[kBlock];  // with plan.changes_only: the labels of the last pass
  alignas(32) T block_sq[kBlock];
  V acc_sum[kSmallK][kSmallD] = {}, acc_count[kSmallK] = {}, acc_inertia = {};
  auto clear = [&]() {
    for (i64 j = 0; j < k; ++j) {
      for (i64 e = 0; e < d; ++e) acc_sum[j][e] = V{};
      acc_count[j] = V{};
    }
    acc_inertia = V{};
  };
  // Each block's float sums go into float64 ones lane by lane (vectors of doubles: a
  // conversion and an add per vector, where adding the lanes into one sum would chain
  // several hundred dependent adds a block), and their lanes into the chunk's sums at the end
  // in a fixed order.
  constexpr int kHalves = static_cast<int>(sizeof(V) / sizeof(T) / 4);  // D4s per V
  D4 wide_sum[kSmallK][kSmallD][kHalves] = {}, wide_count[kSmallK][kHalves] = {},
     wide_inertia[kHalves] = {};
  auto widen_into = [](D4* to, const V& v) {
    if constexpr (std::is_same_v<T, float>) {
      typedef float F4 __attribute__((vector_size(16)));
      F4 half[2];
      std::memcpy(half, &v, sizeof(half));
      for (int h = 0; h < kHalves; ++h) to[h] += __builtin_convertvector(half[h], D4);
    } else {
      D4 x;
      std::memcpy(&x, &v, sizeof(x));
      to[0] += x;
    }
  };
  auto flush = [&]() {
    for (i64 j = 0; j < k; ++j) {
      for (i64 e = 0; e < d; ++e) widen_into(wide_sum[j][e], acc_sum[j][e]);
      widen_into(wide_count[j], acc_count[j]);
    }
    widen_into(wide_inertia, acc_inertia);
    clear();
  };
  auto lanes_total = [](const D4* v) {
    double lane[4 * kHalves];
    std::memcpy(lane, v, sizeof(lane));
    double total = 0.0;
    for (int t = 0; t < 4 * kHalves; ++t) total += lane[t];
    return total;
  };
  clear();
  for (i64 b0 = ch.p0; b0 < ch.p1; b0 += kBlock) {
    const i64 m = min_of(kBlock, ch.p1 - b0);
    const i64 padded = (m + L - 1) / L * L;
    const T* src = ch.data + b0 * d;
    // The next block's points and labels are asked for now (a streaming read the hardware
    // prefetchers alone keep well short of the memory bandwidth).
    if (b0 + kBlock < ch.p1) {
      const i64 next = min_of(kBlock, ch.p1 - b0 - kBlock);
      prefetch_values(src + kBlock * d, next * d);
      prefetch_values(plan.labels + b0 + kBlock, next);
    }
    for (i64 i = 0; i < m; ++i)
      for (i64 e = 0; e < d; ++e) coords[e][i] = src[i * d + e];
    for (i64 i = 0; i < m; ++i) wts[i] = ch.weights ? ch.weights[b0 + i] : T(1);
    for (i64 i = m; i < padded; ++i) {  // padding lanes weigh nothing
      for (i64 e = 0; e < d; ++e) coords[e][i] = T(0);
      wts[i] = T(0);
    }
    if (plan.changes_only) {
      for (i64 i = 0; i < m; ++i) old_labels[i] = static_cast<Int>(plan.labels[b0 + i]);
      for (i64 i = m; i < padded; ++i) old_labels[i] = -1;
    }
    // The nearest centers, U vectors of points at a time: U independent chains of compares
    // and selects keep the vector units busy where one would wait on each select.
    auto nearest = [&](i64 i, auto vectors) {
      constexpr int U = decltype(vectors)::value;
      V x[U][kSmallD], chosen[U][kSmallD], best[U];
      I label[U];
      for (int u = 0; u < U; ++u) {
        for (i64 e = 0; e < d; ++e) x[u][e] = Ln::load(coords[e] + i + u * L), chosen[u][e] = V{};
        best[u] = Ln::splat(std::numeric_limits<T>::infinity());
        label[u] = I{};
      }
      for (i64 j = 0; j < k; ++j) {
        const I index = I{} + static_cast<Int>(j);
        for (int u = 0; u < U; ++u) {
          V dot = V{};
          for (i64 e = 0; e < d; ++e) dot += x[u][e] * centers[j * d + e];
          const V dist = norm[j] - 2 * dot;
          const I take = dist < best[u];
          // min, not a select on take: the same lanes (dist < best ? dist : best), but one
          // instruction of one cycle where the compare and blend chain from center to center
          // took four.
          best[u] = min_lanes(dist, best[u]);
          label[u] = take ? index : label[u];
          if (kExact)  // the chosen center, for the inertia from exact differences
            for (i64 e = 0; e < d; ++e)
              chosen[u][e] = take ? centers[j * d + e] - V{} : chosen[u][e];
        }
      }
      for (int u = 0; u < U; ++u) {
        V sq = V{};
        for (i64 e = 0; e < d; ++e) {
          const V diff = x[u][e] - chosen[u][e];
          sq += diff * diff;
        }
        std::memcpy(block_labels + i + u * L, &label[u], sizeof(I));
        Ln::store(block_sq + i + u * L, sq);
      }
    };
    i64 i = 0;
    for (; i + 2 * L <= padded; i += 2 * L) nearest(i, Count<2>{});
    for (; i < padded; i += L) nearest(i, Count<1>{});

    // The sums, weights and inertia. Flushing them is a few hundred scalar adds in fixed
    // chains, as many as the block's points: only when something was added (once the labels
    // settle, most blocks of a changes_only pass add nothing).
    bool dirty = kExact || !plan.changes_only;
    for (i64 i = 0; i < padded; i += L) {
      V x[kSmallD];
      const V w = Ln::load(wts + i);
      for (i64 e = 0; e < d; ++e) x[e] = Ln::load(coords[e] + i) * w;
      I label;
      std::memcpy(&label, block_labels + i, sizeof(label));
      if (kExact) acc_inertia += Ln::load(block_sq + i) * w;
      if (!plan.changes_only) {
        for (i64 j = 0; j < k; ++j) {
          const I mine = label == static_cast<Int>(j);
          for (i64 e = 0; e < d; ++e) acc_sum[j][e] += mine ? x[e] : V{};
          acc_count[j] += mine ? w : V{};
        }
      } else {
        // Only the points whose label changed move the sums: in to the new cluster, out of
        // the old. Most vectors of points have none, and are skipped whole.
        I old;
        std::memcpy(&old, old_labels + i, sizeof(old));
        // A lane without a previous label (none in [0, k), or padding, which weighs nothing)
        // only goes in.
        if (std::memcmp(&old, &label, sizeof(old)) != 0) {
          dirty = true;
          for (i64 j = 0; j < k; ++j) {
            const I into = (label == static_cast<Int>(j)) & (old != label);
            const I out_of = (old == static_cast<Int>(j)) & (old != label);
            for (i64 e = 0; e < d; ++e)
              acc_sum[j][e] += (into ? x[e] : V{}) - (out_of ? x[e] : V{});
            acc_count[j] += (into ? w : V{}) - (out_of ? w : V{});
          }
        }
      }
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
    if (dirty) flush();
  }
  for (i64 j = 0; j < k; ++j) {
    for (i64 e = 0; e < d; ++e) ch.sums[j * d + e] = lanes_total(wide_sum[j][e]);
    ch.counts[j] = lanes_total(wide_count[j]);
  }
  *ch.inertia = lanes_total(wide_inertia);
}

template <typename T>
void assign_typed(KMeansPlan& plan) {
  constexpr i64 NR = Tile<T>::NR;
  const i64 d = plan.d, k = plan.k;
  KMeansJob<T> job{&plan, 0,       (k + NR - 1) / NR, nullptr, nullptr, nullptr,
                   0.0,   nullptr, nullptr,           nullptr, nullptr};
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
        norm = fused_multiply_add(v, v, norm);  // one rule for every term (the GPU's too)
      }
      norms[p * NR + lane] = j < k ? norm : std::numeric_limits<T>::infinity();
    }
  }
  job.packed = packed;
  job.norms = norms;
  for (i64 j = 0; j < k; ++j)
    job.center_norm_max = max_of(job.center_norm_max, static_cast<double>(norms[j]));
  job.center_norm_max = __builtin_sqrt(job.center_norm_max);
  // When pruning: each center's near list (and packed near centers) is made the first time
  // a point of its asks for it, in this pass: centers whose points all keep their bounds never
  // need one.
  constexpr i64 kLanes = Lanes<T>::N;
  const std::size_t near_bytes =
      static_cast<std::size_t>(k * near_groups<T>() * kLanes * d) * sizeof(T);
  const bool packing = plan.shift && near_bytes <= kNearPackedBytes;
  Scratch near(plan.shift ? static_cast<std::size_t>(k * kNearKept) *
                                    (sizeof(double) + sizeof(std::int32_t)) +
                                static_cast<std::size_t>(k)
                          : 1);
  Scratch near_packed(packing ? near_bytes : 1);
  if (plan.shift) {
    job.near_dist = static_cast<double*>(near.p);
    job.near_index = reinterpret_cast<std::int32_t*>(job.near_dist + k * kNearKept);
    auto* state = reinterpret_cast<std::atomic<std::uint8_t>*>(job.near_index + k * kNearKept);
    for (i64 j = 0; j < k; ++j) new (state + j) std::atomic<std::uint8_t>(kNearNone);
    job.near_state = state;
    if (packing) job.near_packed = static_cast<T*>(near_packed.p);
  }
  if (k <= kSmallK && d <= kSmallD && !plan.upper) {
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

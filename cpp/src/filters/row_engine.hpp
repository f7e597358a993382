// The row machinery of the linear filters, for the kernel files compiled once per instruction
// set (see simd.hpp): source rows converted to the working type with their border columns,
// a small cache of filtered rows keyed by source row, products of many rows with a kernel's
// taps, and results converted, rounded and saturated to the destination's dtype.
//
// A task makes a band of output rows; each source row it reaches is read, converted and
// filtered along x once into the cache, however many output rows (and border reflections)
// read it, and the vertical taps combine cached rows. Everything has internal linkage.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "filter_plan.hpp"
#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "simd.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

inline float rint_of(float x) {
  return __builtin_rintf(x);
}
inline double rint_of(double x) {
  return __builtin_rint(x);
}
inline float sqrt_of(float x) {
  return __builtin_sqrtf(x);
}
inline double sqrt_of(double x) {
  return __builtin_sqrt(x);
}

// The `left` and `right` border columns of a padded row whose (cols x C values) middle is
// filled: padded column j repeats middle column col_map[j], or holds `constant` (one value per
// channel) where col_map[j] is -1.
template <typename T, typename K>
void fill_edges(T* padded, i64 cols, i64 C, i64 left, i64 right, const i64* col_map,
                const K* constant) {
  auto edge = [&](i64 j) {
    const i64 m = col_map[j];
    for (i64 c = 0; c < C; ++c)
      padded[j * C + c] = m < 0 ? static_cast<T>(constant[c]) : padded[(left + m) * C + c];
  };
  for (i64 j = 0; j < left; ++j) edge(j);
  for (i64 j = left + cols; j < left + cols + right; ++j) edge(j);
}

// Values of src row r (or of the border constant, r = -1) converted to W, with `left` and
// `right` border columns read through col_map (col_map[j] for padded column j, any column
// of the row itself included): out holds (left + cols + right) * C values.
template <typename W>
void load_padded_row(const ConstImageView& src, i64 r, const i64* col_map, i64 left, i64 right,
                     const double* border_pixel, W* out) {
  const i64 C = src.channels;
  const i64 cols = src.cols;
  if (r < 0) {
    for (i64 x = 0; x < left + cols + right; ++x)
      for (i64 c = 0; c < C; ++c) out[x * C + c] = static_cast<W>(border_pixel[c]);
    return;
  }
  with_dtype(src.dtype, [&](auto t) {
    using S = decltype(t);
    const S* __restrict p = src.row<const S>(r);
    W* __restrict o = out + left * C;
    const i64 n = cols * C;
    for (i64 i = 0; i < n; ++i) o[i] = static_cast<W>(p[i]);
  });
  fill_edges(out, cols, C, left, right, col_map, border_pixel);
}

// out[i] = sum over t < nt of k[t] * rows[t][i], for i < n (out aliases none of the rows).
// Four vectors of accumulators stay in registers across all taps.
template <typename W>
void dot_rows(W* __restrict out, const W* const* rows, const W* k, int nt, i64 n) {
  using L = Lanes<W>;
  using V = typename L::W;
  constexpr i64 N = L::N;
  i64 i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    V a0{}, a1{}, a2{}, a3{};
    for (int t = 0; t < nt; ++t) {
      const V kk = L::splat(k[t]);
      const W* p = rows[t] + i;
      a0 += kk * L::load(p);
      a1 += kk * L::load(p + N);
      a2 += kk * L::load(p + 2 * N);
      a3 += kk * L::load(p + 3 * N);
    }
    L::store(out + i, a0);
    L::store(out + i + N, a1);
    L::store(out + i + 2 * N, a2);
    L::store(out + i + 3 * N, a3);
  }
  for (; i + N <= n; i += N) {
    V a{};
    for (int t = 0; t < nt; ++t) a += L::splat(k[t]) * L::load(rows[t] + i);
    L::store(out + i, a);
  }
  for (; i < n; ++i) {  // rounded as the vector body rounds
    W a = 0;
    for (int t = 0; t < nt; ++t) a = fused_multiply_add(k[t], rows[t][i], a);
    out[i] = a;
  }
}

// acc[q] += source row `p`'s taps for output rows q in [Lo, Hi], whose kernel row is s - q;
// each loaded vector stays in a register for all of them (keep_in_register).
template <typename W, int R, int Lo, int Hi>
__attribute__((always_inline)) inline void block_taps(typename Lanes<W>::W (&acc)[R][4], const W* p,
                                                      const W* k, int s, int kw, i64 C) {
  using L = Lanes<W>;
  using V = typename L::W;
  constexpr i64 N = L::N;
  for (int j = 0; j < kw; ++j, p += C) {
    V kq[R];
    for (int q = Lo; q <= Hi; ++q) kq[q] = L::splat(k[(s - q) * kw + j]);
    for (int m = 0; m < 4; ++m) {
      V v = L::load(p + m * N);
      keep_in_register(v);
      for (int q = Lo; q <= Hi; ++q) acc[q][m] += kq[q] * v;
    }
  }
}

// R output rows at once from kh + R - 1 source rows, for one dense kh x kw kernel (k
// row-major, every tap used; C channels): out[q][i] = sum over t, j of k[t][j] *
// src[q + t][i + j C]. Each source vector is loaded once for all the rows it feeds, so a tap
// costs 1 / R of dot_rows' loads; each output sums its taps in dot_rows' order (row-major),
// so the bits are the same.
template <typename W, int R>
void dot_rows_block(W* const* out, const W* const* src, const W* k, int kh, int kw, i64 C, i64 n) {
  // Two rows: three (12 accumulators and 3 coefficients in 16 registers) measured no faster.
  static_assert(R == 2, "dot_rows_block: two rows");
  using L = Lanes<W>;
  using V = typename L::W;
  constexpr i64 N = L::N;
  i64 i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    V acc[R][4] = {};
    for (int s = 0; s < kh + R - 1; ++s) {
      // source row s feeds output rows q in [s - kh + 1, s] (and in [0, R))
      const W* p = src[s] + i;
      if (s == 0)
        block_taps<W, R, 0, 0>(acc, p, k, s, kw, C);
      else if (s < kh)
        block_taps<W, R, 0, 1>(acc, p, k, s, kw, C);
      else
        block_taps<W, R, 1, 1>(acc, p, k, s, kw, C);
    }
    for (int q = 0; q < R; ++q)
      for (int m = 0; m < 4; ++m) L::store(out[q] + i + m * N, acc[q][m]);
  }
  for (; i < n; ++i) {  // rounded as the vector body rounds
    for (int q = 0; q < R; ++q) {
      W a = 0;
      for (int t = 0; t < kh; ++t)
        for (int j = 0; j < kw; ++j)
          a = fused_multiply_add(k[t * kw + j], src[q + t][i + j * C], a);
      out[q][i] = a;
    }
  }
}

template <typename D>
struct Range {
  static constexpr double lo = static_cast<double>(std::numeric_limits<D>::lowest());
  static constexpr double hi = static_cast<double>(std::numeric_limits<D>::max());
};

// o[i] = saturate(v[i] + delta): rounded half to even and clamped for integers, NaN to 0.
template <typename W, typename D>
void store_values(const W* __restrict v, W delta, D* __restrict o, i64 n) {
  if constexpr (std::is_floating_point<D>::value) {
    for (i64 i = 0; i < n; ++i) o[i] = static_cast<D>(v[i] + delta);
  } else if constexpr (std::is_integral<W>::value) {
    const W lo = static_cast<W>(Range<D>::lo), hi = static_cast<W>(Range<D>::hi);
    for (i64 i = 0; i < n; ++i) {
      W x = v[i] + delta;
      x = x < lo ? lo : x;
      o[i] = static_cast<D>(x > hi ? hi : x);
    }
  } else {
    const W lo = static_cast<W>(Range<D>::lo), hi = static_cast<W>(Range<D>::hi);
    for (i64 i = 0; i < n; ++i) {
      W x = rint_of(v[i] + delta);
      x = x < lo ? lo : x;
      x = x > hi ? hi : x;
      x = x == x ? x : W(0);
      o[i] = static_cast<D>(static_cast<std::int32_t>(x));
    }
  }
}

// The same with non-temporal stores once o is 32-byte aligned (W == D only).
template <typename W>
void stream_values(const W* __restrict v, W delta, W* __restrict o, i64 n) {
  using L = Lanes<W>;
  i64 i = 0;
  for (; i < n && (reinterpret_cast<std::uintptr_t>(o + i) & 31) != 0; ++i) o[i] = v[i] + delta;
  const typename L::W d = L::splat(delta);
  for (; i + L::N <= n; i += L::N) L::stream(o + i, L::load(v + i) + d);
  for (; i < n; ++i) o[i] = v[i] + delta;
}

// Row y of dst = saturate(v + delta), in dst's dtype; `stream` for outputs too large to stay in
// cache (the caller fences at the end of its task).
template <typename W>
void store_row(const ImageView& dst, i64 y, const W* v, W delta, bool stream) {
  const i64 n = dst.cols * dst.channels;
  with_dtype(dst.dtype, [&](auto t) {
    using D = decltype(t);
    D* o = dst.row<D>(y);
    if constexpr (std::is_same<D, W>::value) {
      if (stream) return stream_values<W>(v, delta, o, n);
    }
    store_values<W, D>(v, delta, o, n);
  });
}

// Whether an output of this many bytes is written with streaming stores: when it cannot stay
// in the last-level cache anyway.
inline bool stream_output(const ImageView& dst) {
  const i64 bytes = dst.rows * dst.cols * dst.channels * static_cast<i64>(dtype_size(dst.dtype));
  return bytes >= (i64{8} << 20);
}

// Filtered rows of one band, keyed by source row (-1 = the border constant's row). A miss
// fills the least recently used slot; rows handed out for the current output row (`begin_row`
// starts one) are never evicted before the next, so a task may hold up to slots - 1 of them.
template <typename W>
struct RowCache {
  W* data = nullptr;
  i64 len = 0;  // values per slot
  int slots = 0;
  i64* key = nullptr;
  i64* used = nullptr;
  i64 now = 0;

  // Carves `slots` slots of `len` values from `memory` (bytes()).
  void init(void* memory, int n_slots, i64 values) {
    slots = n_slots;
    len = values;
    key = static_cast<i64*>(memory);
    used = key + slots;
    data = reinterpret_cast<W*>(used + slots);
    for (int s = 0; s < slots; ++s) {
      key[s] = std::numeric_limits<i64>::min();
      used[s] = -1;
    }
  }
  static std::size_t bytes(int n_slots, i64 values) {
    return static_cast<std::size_t>(n_slots) * (2 * sizeof(i64) + values * sizeof(W)) + 64;
  }
  void begin_row() { ++now; }

  template <typename Fill>
  const W* get(i64 r, Fill&& fill) {
    int victim = 0;
    for (int s = 0; s < slots; ++s) {
      if (key[s] == r) {
        used[s] = now;
        return data + s * len;
      }
      if (used[s] < used[victim]) victim = s;
    }
    W* slot = data + victim * len;
    fill(r, slot);
    key[victim] = r;
    used[victim] = now;
    return slot;
  }
};

// The non-zero taps of a kernel, as working-type coefficients and their positions.
template <typename W>
int nonzero_taps(const double* k, int n, W* coef, int* pos) {
  int m = 0;
  for (int i = 0; i < n; ++i) {
    if (k[i] == 0.0) continue;
    coef[m] = static_cast<W>(k[i]);
    pos[m++] = i;
  }
  return m;
}

// Rows of `rows` output rows per task, so that a task's halo (kernel rows - 1, recomputed by
// its neighbour) stays small and every thread gets several tasks.
inline i64 band_rows(i64 rows, i64 halo, i64 threads) {
  i64 band = (rows + 4 * threads - 1) / (4 * threads);
  const i64 least = 8 * (halo > 2 ? halo : 2);
  if (band < least) band = least;
  return band < rows ? band : rows;
}

// What a band task gets: the family's plan, the images, and the rows of a band.
struct Job {
  const void* plan;
  ConstImageView src;
  ImageView dst;
  ImageView dst2;  // a second output (the gradient's angle), or empty
  i64 band;
  bool stream;  // write outputs with streaming stores (stream_output)
};

// Runs band_fn(job, index) over bands of output rows on the pool; a band's neighbours
// recompute `halo` of its source rows.
inline void run_bands(Job& job, i64 halo, void (*band_fn)(void*, i64)) {
  job.band = band_rows(job.src.rows, halo, get_num_threads());
  parallel_for_raw((job.src.rows + job.band - 1) / job.band, band_fn, &job);
}

// The rows [y0, y1) of band `index`.
inline void band_range(const Job& job, i64 index, i64& y0, i64& y1) {
  y0 = index * job.band;
  y1 = y0 + job.band < job.src.rows ? y0 + job.band : job.src.rows;
}

// Bump allocation from one scratch block, 64-byte aligned pieces.
struct Carve {
  char* p;
  template <typename T>
  T* take(i64 count) {
    T* r = reinterpret_cast<T*>(p);
    p += (static_cast<std::size_t>(count) * sizeof(T) + 63) & ~std::size_t{63};
    return r;
  }
};

// Both first derivatives of a band's rows (GradientPlan): each source row is converted, padded
// and filtered along x by gx's and gy's row kernels once into the cache; row(y) combines the
// cached rows with the column kernels (scale folded in).
template <typename W>
struct GradientRows {
  const detail::GradientPlan* plan = nullptr;
  const ConstImageView* src = nullptr;
  i64 C = 1, n = 0, R = 0;
  RowCache<W> cache;
  W* pad = nullptr;
  W* k[4];      // x of gx, y of gx, x of gy, y of gy: non-zero taps
  int* pos[4];  // their positions
  int nt[4];
  int off[4];  // where each kernel's first tap sits relative to the radius
  const W** rows = nullptr;
  const W** taps = nullptr;

  static std::size_t bytes(const detail::GradientPlan& p, const ConstImageView& s) {
    const i64 n = s.cols * s.channels, R = p.radius, kmax = 2 * R + 1;
    const int slots = static_cast<int>(2 * R + 2);
    return RowCache<W>::bytes(slots, 2 * n) + ((s.cols + 2 * R) * s.channels) * sizeof(W) +
           4 * kmax * (sizeof(W) + sizeof(int)) + 2 * kmax * sizeof(W*) + 12 * 64;
  }

  void init(const detail::GradientPlan& p, const ConstImageView& s, Carve& carve) {
    plan = &p;
    src = &s;
    C = s.channels;
    n = s.cols * C;
    R = p.radius;
    const i64 kmax = 2 * R + 1;
    const int slots = static_cast<int>(2 * R + 2);
    cache.init(carve.take<char>(static_cast<i64>(RowCache<W>::bytes(slots, 2 * n))), slots, 2 * n);
    pad = carve.take<W>((s.cols + 2 * R) * C);
    const double* kernels[4] = {p.x_of_gx, p.y_of_gx, p.x_of_gy, p.y_of_gy};
    const int sizes[4] = {p.nx_of_gx, p.ny_of_gx, p.nx_of_gy, p.ny_of_gy};
    for (int i = 0; i < 4; ++i) {
      k[i] = carve.take<W>(kmax);
      pos[i] = carve.take<int>(kmax);
      nt[i] = nonzero_taps<W>(kernels[i], sizes[i], k[i], pos[i]);
      off[i] = static_cast<int>(R) - (sizes[i] - 1) / 2;
    }
    for (int t = 0; t < nt[1]; ++t) k[1][t] *= static_cast<W>(p.scale);
    for (int t = 0; t < nt[3]; ++t) k[3][t] *= static_cast<W>(p.scale);
    rows = carve.take<const W*>(kmax);
    taps = carve.take<const W*>(kmax);
  }

  // gx and gy of source row y (0 <= y < rows), n values each.
  void row(i64 y, W* gx, W* gy) {
    auto fill = [&](i64 r, W* out) {
      load_padded_row<W>(*src, r, plan->col_map, R, R, plan->border_pixel, pad);
      for (int t = 0; t < nt[0]; ++t) taps[t] = pad + (off[0] + pos[0][t]) * C;
      dot_rows<W>(out, taps, k[0], nt[0], n);
      for (int t = 0; t < nt[2]; ++t) taps[t] = pad + (off[2] + pos[2][t]) * C;
      dot_rows<W>(out + n, taps, k[2], nt[2], n);
    };
    cache.begin_row();
    for (int t = 0; t < nt[1]; ++t)
      rows[t] = cache.get(plan->row_map[y + off[1] + pos[1][t]], fill);
    dot_rows<W>(gx, rows, k[1], nt[1], n);
    for (int t = 0; t < nt[3]; ++t)
      rows[t] = cache.get(plan->row_map[y + off[3] + pos[3][t]], fill) + n;
    dot_rows<W>(gy, rows, k[3], nt[3], n);
  }
};

}  // namespace
}  // namespace FOVEAL_ISA
}  // namespace foveal

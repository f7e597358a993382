// Erosion and dilation kernels, compiled once per instruction set (FOVEAL_ISA names the
// namespace: baseline, avx2 or avx512) and chosen at run time by morphology.cpp.
//
//   dilate: out(y, x) = max over SE members (i, j) of in(y + i - ay, x + j - ax); erode: min.
//
// Shapes: rows of W pixels x C interleaved channels, any dtype of uint8/uint16/int16/f32/f64.
// Tasks are chunks of rows (and column ranges only for very wide rows); a task computes each
// input row's horizontal windows once, into a ring of rows that stays in cache, and makes its
// output rows from the ring band by band.
//
// Rectangles are separable. Horizontally, windows of up to 8 pixels take one pass of 8 shifted
// loads; wider ones grow by fours (windows of 4, 16, 64 ... pixels) and a last pass joins at
// most four of them: every pass is a straight loop that the compiler vectorizes for this file's
// instruction set, for any channel count. Vertically, up to 8 rows take one pass; more use
// van Herk/Gil-Werman (blocks of kh rows, suffix ops within a block, prefix ops within the
// next, one op to join: 3 ops per value whatever kh is) with the running ops in registers.
//
// Any other SE is decomposed into horizontal runs: each distinct run length gets its
// horizontal window as above, and the output is the op over runs of the shifted run windows.
// Open, close and gradient run band by band so that no whole intermediate image is written.
// Outputs larger than a few MiB are written with streaming stores.
//
// Floating-point min/max propagate NaN (as numpy.maximum and torch do), so a NaN in a window
// always gives NaN. Everything here has internal linkage: see morph_plan.hpp.
#include <cstdint>
#include <type_traits>

#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "morph_plan.hpp"
#include "simd.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::MorphPlan;
using detail::MorphRun;

// min and max, on one value (f) and on a 32-byte vector of values (fv: GCC vector extensions,
// lowered to this file's instruction set: one AVX2 instruction, or two SSE2 ones).
template <typename T>
struct MaxOp {
  static T f(T a, T b) { return a > b ? a : b; }
  template <typename W>
  static W fv(W a, W b) {
    return a > b ? a : b;
  }
};
template <typename T>
struct MinOp {
  static T f(T a, T b) { return a < b ? a : b; }
  template <typename W>
  static W fv(W a, W b) {
    return a < b ? a : b;
  }
};
template <typename T>
struct MaxOpF {
  static T f(T a, T b) { return (a > b || a != a) ? a : b; }
  template <typename W>
  static W fv(W a, W b) {
    return ((a > b) | (a != a)) ? a : b;
  }
};
template <typename T>
struct MinOpF {
  static T f(T a, T b) { return (a < b || a != a) ? a : b; }
  template <typename W>
  static W fv(W a, W b) {
    return ((a < b) | (a != a)) ? a : b;
  }
};
template <>
struct MaxOp<float> : MaxOpF<float> {};
template <>
struct MaxOp<double> : MaxOpF<double> {};
template <>
struct MinOp<float> : MinOpF<float> {};
template <>
struct MinOp<double> : MinOpF<double> {};

// o[i] = op(a[i], b[i]).
template <typename T, typename Op>
void op_rows(T* __restrict o, const T* __restrict a, const T* __restrict b, i64 n) {
  for (i64 i = 0; i < n; ++i) o[i] = Op::f(a[i], b[i]);
}

// g[i] = op(g[i], b[i]); o[i] = op(h[i], g[i]).
template <typename T, typename Op>
void op_prefix_join(T* __restrict o, T* __restrict g, const T* __restrict b, const T* __restrict h,
                    i64 n) {
  for (i64 i = 0; i < n; ++i) {
    const T gi = Op::f(g[i], b[i]);
    g[i] = gi;
    o[i] = Op::f(h[i], gi);
  }
}

// Values per column strip of the vertical van Herk pass: 512 bytes.
template <typename T>
constexpr i64 vh_strip() {
  return static_cast<i64>(512 / sizeof(T));
}

// o[i] = op over j < K of a[i + shift[j]]: one pass, K loads per value.
template <typename T, typename Op, int K>
void op_shifts(T* __restrict o, const T* __restrict a, const i64* shift, i64 n) {
  i64 sh[K];
  for (int j = 0; j < K; ++j) sh[j] = shift[j];
  for (i64 i = 0; i < n; ++i) {
    T v = a[i + sh[0]];
    for (int j = 1; j < K; ++j) v = Op::f(v, a[i + sh[j]]);
    o[i] = v;
  }
}

// Calls f(std::integral_constant<int, K>{}) with K = k for k in 1..7, and K = 8 above: the
// passes below take their load count as a template parameter so their loops unroll.
template <typename F>
void with_k(int k, F&& f) {
  switch (k) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 3:
      return f(std::integral_constant<int, 3>{});
    case 4:
      return f(std::integral_constant<int, 4>{});
    case 5:
      return f(std::integral_constant<int, 5>{});
    case 6:
      return f(std::integral_constant<int, 6>{});
    case 7:
      return f(std::integral_constant<int, 7>{});
    default:
      return f(std::integral_constant<int, 8>{});
  }
}

template <typename T, typename Op>
void op_shifts_n(T* o, const T* a, const i64* shift, int k, i64 n) {
  with_k(k, [&](auto K) { op_shifts<T, Op, decltype(K)::value>(o, a, shift, n); });
}

// o[i] = op over j < K of rows[j][i] (rows may alias each other, never o). With `stream`, o
// is written with non-temporal stores.
template <typename T, typename Op, int K>
void op_rows_k(T* o, const T* const* rows, i64 n, bool stream) {
  const T* r[K];
  for (int j = 0; j < K; ++j) r[j] = rows[j];
  i64 i = 0;
  if (stream) {
    using L = Lanes<T>;
    using W = typename L::W;
    for (; i < n && (reinterpret_cast<std::uintptr_t>(o + i) & 31) != 0; ++i) {
      T v = r[0][i];
      for (int j = 1; j < K; ++j) v = Op::f(v, r[j][i]);
      o[i] = v;
    }
    for (; i + L::N <= n; i += L::N) {
      W v = L::load(r[0] + i);
      for (int j = 1; j < K; ++j) v = Op::fv(v, L::load(r[j] + i));
      L::stream(o + i, v);
    }
  }
#pragma GCC ivdep
  for (; i < n; ++i) {
    T v = r[0][i];
    for (int j = 1; j < K; ++j) v = Op::f(v, r[j][i]);
    o[i] = v;
  }
}

// o = op over `count` rows, eight at a time; with `into`, o itself takes part. With `stream`,
// the last group writes o with non-temporal stores.
template <typename T, typename Op>
void op_rows_n(T* o, const T* const* rows, int count, i64 n, bool into, bool stream = false) {
  const T* group[8];
  int j = 0;
  while (j < count) {
    int g = 0;
    if (into) group[g++] = o;
    while (g < 8 && j < count) group[g++] = rows[j++];
    const bool last = j == count;
    with_k(g, [&](auto K) { op_rows_k<T, Op, decltype(K)::value>(o, group, n, stream && last); });
    into = true;
  }
}

// Horizontal windows. `in` holds n + (w - 1) C values (C = step); afterwards
// out[i] = op(in[i], in[i + C], ..., in[i + (w - 1) C]) for i < n. Windows of up to 8 pixels
// take one pass of w loads; wider ones grow by fours (windows of 4, 16, 64 ... pixels, each
// the op of four shifted copies of the last: one pass each), and a last pass joins at most
// four overlapping power-of-four windows into w. ping/pong hold as many values as `in`.
template <typename T, typename Op>
void horizontal_window(const T* in, T* out, i64 n, int w, int step, T* ping, T* pong) {
  i64 shift[8];
  if (w <= 8) {
    for (int j = 0; j < w; ++j) shift[j] = static_cast<i64>(j) * step;
    op_shifts_n<T, Op>(out, in, shift, w, n);
    return;
  }
  const T* cur = in;
  i64 len = n + static_cast<i64>(w - 1) * step;
  i64 p = 1;  // cur holds windows of p pixels
  T* bufs[2] = {ping, pong};
  int which = 0;
  while (4 * p <= w) {
    for (int j = 0; j < 4; ++j) shift[j] = j * p * step;
    len -= 3 * p * step;
    T* dst = (4 * p == w) ? out : bufs[which];
    op_shifts<T, Op, 4>(dst, cur, shift, len);
    cur = dst;
    which ^= 1;
    p *= 4;
  }
  if (p == w) return;
  const int q = static_cast<int>((w + p - 1) / p);  // windows of p that cover w, <= 4
  for (int j = 0; j < q - 1; ++j) shift[j] = j * p * step;
  shift[q - 1] = (w - p) * step;
  op_shifts_n<T, Op>(out, cur, shift, q, n);
}

// van Herk for one block [s, s + k) of rows and U vectors of columns from x, with the running
// suffix and prefix ops in registers: per value, one load and one store (to L1) for the suffix
// and two loads and one store for the join. suf holds k * U vectors.
template <typename T, typename Op, int U>
void van_herk_chunk(const T* const* rows, T* const* out, i64 s, i64 e, int k, i64 x, T* suf) {
  using L = Lanes<T>;
  using W = typename L::W;
  constexpr i64 N = L::N;
  constexpr i64 S = U * N;  // values per row of suf
  W acc[U];
  const T* p = rows[s + k - 1] + x;
  T* q = suf + (k - 1) * S;
  for (int u = 0; u < U; ++u) {
    acc[u] = L::load(p + u * N);
    L::store(q + u * N, acc[u]);
  }
  for (i64 j = k - 2; j >= 0; --j) {
    p = rows[s + j] + x;
    q = suf + j * S;
    for (int u = 0; u < U; ++u) {
      acc[u] = Op::fv(acc[u], L::load(p + u * N));
      L::store(q + u * N, acc[u]);
    }
  }
  T* o = out[s] + x;  // a window aligned with the block is its suffix
  for (int u = 0; u < U; ++u) L::store(o + u * N, acc[u]);
  if (s + 1 >= e) return;
  W g[U];
  p = rows[s + k] + x;
  o = out[s + 1] + x;
  for (int u = 0; u < U; ++u) {
    g[u] = L::load(p + u * N);
    L::store(o + u * N, Op::fv(L::load(suf + S + u * N), g[u]));
  }
  for (i64 r = s + 2; r < e; ++r) {
    p = rows[r + k - 1] + x;
    q = suf + (r - s) * S;
    o = out[r] + x;
    for (int u = 0; u < U; ++u) {
      g[u] = Op::fv(g[u], L::load(p + u * N));
      L::store(o + u * N, Op::fv(L::load(q + u * N), g[u]));
    }
  }
}

// van Herk for one block [s, s + k) of rows over columns [xa, xb), in strips of vh_strip<T>()
// values: a strip's suffix ops for the block (k rows) stay in L1; g holds (k + 1) strips.
template <typename T, typename Op>
void van_herk_strips(const T* const* rows, T* const* out, i64 s, i64 e, int k, i64 xa, i64 xb,
                     T* g) {
  constexpr i64 kStrip = vh_strip<T>();
  T* suffix = g;               // k rows of kStrip values
  T* prefix = g + k * kStrip;  // one row of kStrip values
  for (i64 x = xa; x < xb; x += kStrip) {
    const i64 w = (x + kStrip < xb) ? kStrip : xb - x;
    // suffix[j] = op(rows[s + j .. s + k - 1]) for j < k.
    copy_row(suffix + (k - 1) * kStrip, rows[s + k - 1] + x, w);
    for (i64 j = k - 2; j >= 0; --j)
      op_rows<T, Op>(suffix + j * kStrip, rows[s + j] + x, suffix + (j + 1) * kStrip, w);
    copy_row(out[s] + x, suffix, w);  // a window aligned with the block is its suffix
    if (s + 1 >= e) continue;
    // Prefix ops of the next block complete each window: out[r] covers rows r .. r + k - 1.
    copy_row(prefix, rows[s + k] + x, w);
    op_rows<T, Op>(out[s + 1] + x, suffix + kStrip, prefix, w);
    for (i64 r = s + 2; r < e; ++r)
      op_prefix_join<T, Op>(out[r] + x, prefix, rows[r + k - 1] + x, suffix + (r - s) * kStrip, w);
  }
}

// out[r] = op(rows[r], ..., rows[r + k - 1]) for r < m, over n values; rows holds m + k - 1
// pointers. g holds (k + 1) vh_strip<T>() values of scratch.
template <typename T, typename Op>
void vertical_window(const T* const* rows, T* const* out, i64 m, int k, i64 n, T* g, bool stream) {
  if (k <= 8) {  // k loads and one store per value beat van Herk's passes
    for (i64 r = 0; r < m; ++r) op_rows_n<T, Op>(out[r], rows + r, k, n, false, stream);
    return;
  }
  // van Herk/Gil-Werman over blocks [s, s + k) of rows, in chunks of columns whose suffix and
  // prefix ops stay in registers; the last columns go through L1-sized strips. (Streaming
  // stores lose here, 25% measured: the chunks write 128 bytes to each of k rows in turn.)
  constexpr int kUnroll = 4;
  constexpr i64 kChunk = kUnroll * Lanes<T>::N;
  for (i64 s = 0; s < m; s += k) {
    const i64 e = (s + k < m) ? s + k : m;
    i64 x0 = 0;
    for (; x0 + kChunk <= n; x0 += kChunk)
      van_herk_chunk<T, Op, kUnroll>(rows, out, s, e, k, x0, g);
    van_herk_strips<T, Op>(rows, out, s, e, k, x0, n, g);
  }
}

// How the image is split: tasks are chunks of rows (times column ranges, only when a row is so
// wide that the ring of horizontal windows would spill out of L2). A task walks its rows in
// bands; each input row's horizontal windows are computed once, into a ring buffer that holds
// one band plus the kh - 1 rows the next band shares with it.
struct Tiling {
  i64 band = 0;        // output rows per vertical pass
  i64 chunk_rows = 0;  // output rows per task
  i64 n_chunks = 0;
  i64 col_width = 0;  // output pixels per task
  i64 n_cols = 0;
};

Tiling choose_tiling(const MorphPlan& p, i64 H, i64 W, int C, i64 elem, int row_sets) {
  Tiling t;
  // Up to 8 rows the vertical window is one pass per output row, so a band of one row keeps
  // the ring (kh rows) in L1; van Herk works on blocks of kh rows and wants bands of several.
  i64 band = p.kh <= 8 ? 1 : 2 * static_cast<i64>(p.kh);
  if (p.kh > 8 && band < 32) band = 32;
  if (band > H) band = H;
  t.band = band;
  const i64 ring_rows = band + p.kh - 1;
  const i64 budget = 512 * 1024;
  i64 width = budget / (elem * C * ring_rows * (row_sets > 0 ? row_sets : 1));
  if (width < 256) width = 256;
  if (width > W) width = W;
  t.col_width = width;
  t.n_cols = (W + width - 1) / width;
  const i64 threads = get_num_threads();
  i64 chunks = 1;
  if (threads > 1) {
    // A few tasks per thread for balance, but not so many that the kh - 1 rows each task
    // recomputes matter.
    chunks = (4 * threads + t.n_cols - 1) / t.n_cols;
    const i64 max_chunks = H / (2 * band) > 0 ? H / (2 * band) : 1;
    if (chunks > max_chunks) chunks = max_chunks;
    if (chunks < 1) chunks = 1;
  }
  t.chunk_rows = (H + chunks - 1) / chunks;
  t.n_chunks = (H + t.chunk_rows - 1) / t.chunk_rows;
  return t;
}

template <typename T, typename Op>
class Morph {
 public:
  Morph(const MorphPlan& plan, const ConstImageView& src, const ImageView& dst)
      : p_(plan), src_(src), dst_(dst), H_(src.rows), W_(src.cols), C_(src.channels) {}

  // Splits the work; `stream` allows streaming stores when the output is large.
  void prepare(bool stream) {
    tiling_ =
        choose_tiling(p_, H_, W_, C_, static_cast<i64>(sizeof(T)), p_.rect ? 1 : p_.n_lengths);
    // Outputs much larger than L2 are written once and not read back here: stream them.
    const i64 out_bytes = H_ * W_ * C_ * static_cast<i64>(sizeof(T));
    stream_ = stream && out_bytes >= kStreamBytes;
  }

  // The whole image, tasks across the thread pool.
  void run() {
    prepare(true);
    parallel_for_raw(
        tiling_.n_chunks * tiling_.n_cols,
        [](void* self, i64 t) { static_cast<Morph*>(self)->task(t); }, this);
  }

  // Output rows [r0, r1) on the calling thread (after prepare()).
  void run_rows(i64 r0, i64 r1) const {
    for (i64 ci = 0; ci < tiling_.n_cols; ++ci) chunk(r0, r1, ci);
    if (stream_) stream_fence();
  }

  // Source row y lives at row y - src_row0 of src's memory, output row y at y - dst_row0 of
  // dst's: a band buffer can stand for the rows of a whole image that a band touches.
  void set_row_origins(i64 src_row0, i64 dst_row0) {
    src_row0_ = src_row0;
    dst_row0_ = dst_row0;
  }

 private:
  const T* src_row(i64 y) const {
    return reinterpret_cast<const T*>(static_cast<const char*>(src_.data) +
                                      (y - src_row0_) * src_.row_stride);
  }
  T* dst_row(i64 y) const {
    return reinterpret_cast<T*>(static_cast<char*>(dst_.data) + (y - dst_row0_) * dst_.row_stride);
  }

  // `count` copies of the border pixel.
  void fill_border(T* row, i64 count) const {
    const T* px = static_cast<const T*>(p_.border_pixel);
    for (int c = 0; c < C_; ++c) row[c] = px[c];
    i64 have = 1;
    while (have < count) {
      const i64 take = (have < count - have) ? have : count - have;
      std::memcpy(row + have * C_, row, static_cast<std::size_t>(take * C_) * sizeof(T));
      have += take;
    }
  }

  // Per-task buffers for horizontal windows: a padded copy of a few edge pixels and the two
  // ping-pong rows of the doubling.
  struct Work {
    T* pad;
    T* ping;
    T* pong;
  };

  // out[(x - xb) C + c] = op over pixels x .. x + w - 1 of source row `row` (border applied),
  // for x in [xb, xe). Windows inside the image read the source directly (the source is read
  // once, by the window pass itself); only the few windows that reach past an edge go through a
  // small padded copy.
  void hwindow(const T* row, i64 xb, i64 xe, int w, T* out, const Work& wk) const {
    i64 mid0 = xb > 0 ? xb : 0;
    i64 mid1 = W_ - w + 1;
    if (xe < mid1) mid1 = xe;
    if (mid1 <= mid0) {  // no window lies inside: the whole range is an edge
      edge_window(row, xb, xe, w, out, wk);
      return;
    }
    if (xb < mid0) edge_window(row, xb, mid0, w, out, wk);
    horizontal_window<T, Op>(row + mid0 * C_, out + (mid0 - xb) * C_, (mid1 - mid0) * C_, w, C_,
                             wk.ping, wk.pong);
    if (mid1 < xe) edge_window(row, mid1, xe, w, out + (mid1 - xb) * C_, wk);
  }

  // Windows at x in [a, b) through a padded copy of pixels [a, b + w - 1).
  void edge_window(const T* row, i64 a, i64 b, int w, T* out, const Work& wk) const {
    const T* px = static_cast<const T*>(p_.border_pixel);
    const i64 x1 = b + w - 1;
    const i64 in0 = a > 0 ? a : 0;
    const i64 in1 = x1 < W_ ? x1 : W_;
    for (i64 x = a; x < x1; ++x) {
      if (x == in0 && in1 > in0) {
        copy_row(wk.pad + (in0 - a) * C_, row + in0 * C_, (in1 - in0) * C_);
        x = in1 - 1;
        continue;
      }
      const i64 sx = p_.col_map[x + p_.ax];
      const T* from = sx >= 0 ? row + sx * C_ : px;
      T* to = wk.pad + (x - a) * C_;
      for (int c = 0; c < C_; ++c) to[c] = from[c];
    }
    horizontal_window<T, Op>(wk.pad, out, (b - a) * C_, w, C_, wk.ping, wk.pong);
  }

  void task(i64 t) const {
    const i64 ri = t / tiling_.n_cols, ci = t % tiling_.n_cols;
    const i64 r0 = ri * tiling_.chunk_rows;
    const i64 r1 = (r0 + tiling_.chunk_rows < H_) ? r0 + tiling_.chunk_rows : H_;
    chunk(r0, r1, ci);
    if (stream_) stream_fence();
  }

  // Output rows [r0, r1) of column tile ci.
  void chunk(i64 r0, i64 r1, i64 ci) const {
    const i64 c0 = ci * tiling_.col_width;
    const i64 c1 = (c0 + tiling_.col_width < W_) ? c0 + tiling_.col_width : W_;
    if (p_.rect)
      rect_chunk(r0, r1, c0, c1);
    else
      runs_chunk(r0, r1, c0, c1);
  }

  void rect_chunk(i64 r0, i64 r1, i64 c0, i64 c1) const {
    const int kh = p_.kh, kw = p_.kw;
    const i64 n = (c1 - c0) * C_;                        // values per output row
    const i64 plen = n + static_cast<i64>(kw - 1) * C_;  // values per padded input row
    const i64 band = tiling_.band;
    const i64 cap = band + kh - 1;    // ring rows
    const bool direct_h = (kh == 1);  // the horizontal pass writes the output itself
    // Source rows go through the ring even when kw == 1 for van Herk's strips, which read
    // kh rows at a time: from L2 that is fast, from memory it defeats the prefetchers.
    const bool ring = !direct_h && (kw > 1 || kh > 8);
    // pad, ping, pong, vertical scratch, border row
    const i64 gsize = (static_cast<i64>(kh) + 1) * vh_strip<T>();
    std::size_t values = static_cast<std::size_t>(3 * plen + gsize + n);
    if (ring) values += static_cast<std::size_t>(cap * n);
    // van Herk writes each band row in pieces, which streaming stores handle badly: when the
    // output is to be streamed, the band goes to an L2 buffer first and then out row by row.
    const bool band_out = stream_ && kh > 8;
    if (band_out) values += static_cast<std::size_t>(band * n);
    const std::size_t ptr_bytes = static_cast<std::size_t>(2 * cap + band) * sizeof(T*);
    Scratch scratch(ptr_bytes + values * sizeof(T));
    T** out = static_cast<T**>(scratch.p);  // pointers first: aligned
    const T** slot = const_cast<const T**>(out + band);
    const T** rows = slot + cap;
    Work wk;
    wk.pad = reinterpret_cast<T*>(static_cast<char*>(scratch.p) + ptr_bytes);
    wk.ping = wk.pad + plen;
    wk.pong = wk.ping + plen;
    T* g = wk.pong + plen;
    T* border_row = g + gsize;
    T* ring_rows = border_row + n;
    T* band_rows = ring_rows + (ring ? cap * n : 0);
    fill_border(border_row, c1 - c0);
    const i64 xb = c0 - p_.ax, xe = c1 - p_.ax;

    if (direct_h) {
      for (i64 r = r0; r < r1; ++r) {
        const i64 sy = p_.row_map[r];
        T* o = dst_row(r) + c0 * C_;
        if (sy < 0)
          copy_row(o, border_row, n);
        else
          hwindow(src_row(sy), xb, xe, kw, o, wk);
      }
      return;
    }
    i64 have = r0;  // rows [r0, have) of the ring are computed
    for (i64 r = r0; r < r1; r += band) {
      const i64 m = (r + band < r1) ? band : r1 - r;
      const i64 need = r + m + kh - 1;
      for (i64 idx = have; idx < need; ++idx) {
        const i64 sy = p_.row_map[idx];  // virtual row idx - ay
        const i64 s = idx % cap;
        if (sy < 0) {
          slot[s] = border_row;  // a constant row stays constant
        } else if (!ring) {
          slot[s] = src_row(sy) + c0 * C_;  // kw == 1: the source row itself
        } else {
          T* h = ring_rows + s * n;
          hwindow(src_row(sy), xb, xe, kw, h, wk);
          slot[s] = h;
        }
      }
      have = need;
      for (i64 b = 0; b < m + kh - 1; ++b) rows[b] = slot[(r + b) % cap];
      for (i64 b = 0; b < m; ++b) out[b] = band_out ? band_rows + b * n : dst_row(r + b) + c0 * C_;
      vertical_window<T, Op>(rows, out, m, kh, n, g, stream_);
      for (i64 b = 0; band_out && b < m; ++b) {
        const T* from = band_rows + b * n;
        op_rows_k<T, Op, 1>(dst_row(r + b) + c0 * C_, &from, n, true);  // a streamed copy
      }
    }
  }

  void runs_chunk(i64 r0, i64 r1, i64 c0, i64 c1) const {
    const int kh = p_.kh, kw = p_.kw;
    const i64 n = (c1 - c0) * C_;
    const i64 plen = n + static_cast<i64>(kw - 1) * C_;
    const int nl = p_.n_lengths;
    const i64 cap = kh;  // rows r .. r + kh - 1 make output row r
    std::size_t values = static_cast<std::size_t>(4 * plen);  // pad, ping, pong, border
    values += static_cast<std::size_t>(nl) * static_cast<std::size_t>(cap * plen);
    const std::size_t ptr_bytes = static_cast<std::size_t>(nl * cap + p_.n_runs) * sizeof(T*);
    Scratch scratch(ptr_bytes + values * sizeof(T));
    const T** slot = static_cast<const T**>(scratch.p);
    const T** run_rows = slot + nl * cap;
    Work wk;
    wk.pad = reinterpret_cast<T*>(static_cast<char*>(scratch.p) + ptr_bytes);
    wk.ping = wk.pad + plen;
    wk.pong = wk.ping + plen;
    T* border_row = wk.pong + plen;
    T* win = border_row + plen;
    fill_border(border_row, (c1 - c0) + kw - 1);
    const i64 xb = c0 - p_.ax;
    const bool inside = xb >= 0 && c1 - p_.ax + kw - 1 <= W_;

    i64 have = r0;
    for (i64 r = r0; r < r1; ++r) {
      for (i64 idx = have; idx < r + kh; ++idx) {
        const i64 sy = p_.row_map[idx];
        const i64 s = idx % cap;
        for (int li = 0; li < nl; ++li) {
          const int len = p_.lengths[li];
          if (sy < 0) {
            slot[li * cap + s] = border_row;
          } else if (len == 1 && inside) {
            slot[li * cap + s] = src_row(sy) + xb * C_;  // the source row itself
          } else {
            T* w = win + (static_cast<i64>(li) * cap + s) * plen;
            hwindow(src_row(sy), xb, c1 - p_.ax + kw - len, len, w, wk);
            slot[li * cap + s] = w;
          }
        }
      }
      have = r + kh;
      T* o = dst_row(r) + c0 * C_;
      for (int k = 0; k < p_.n_runs; ++k) {
        const MorphRun& run = p_.runs[k];
        run_rows[k] =
            slot[run.length_index * cap + (r + run.dy) % cap] + static_cast<i64>(run.dx) * C_;
      }
      op_rows_n<T, Op>(o, run_rows, p_.n_runs, n, false, stream_);
    }
  }

  const MorphPlan& p_;
  ConstImageView src_;
  ImageView dst_;
  i64 H_, W_;
  int C_;
  Tiling tiling_;
  bool stream_ = false;
  i64 src_row0_ = 0, dst_row0_ = 0;
  static constexpr i64 kStreamBytes = i64{4} << 20;
};

// a - b, saturated to the integer type's range as OpenCV's subtract does.
inline std::uint8_t sub_sat(std::uint8_t a, std::uint8_t b) {
  return static_cast<std::uint8_t>(a > b ? a - b : 0);
}
inline std::uint16_t sub_sat(std::uint16_t a, std::uint16_t b) {
  return static_cast<std::uint16_t>(a > b ? a - b : 0);
}
inline std::int16_t sub_sat(std::int16_t a, std::int16_t b) {
  const int d = static_cast<int>(a) - static_cast<int>(b);
  return static_cast<std::int16_t>(d < -32768 ? -32768 : (d > 32767 ? 32767 : d));
}
inline float sub_sat(float a, float b) {
  return a - b;
}
inline double sub_sat(double a, double b) {
  return a - b;
}

// One pass over output rows [r0, r1), on the calling thread. Source row y is at row
// y - src_row0 of src's memory and output row y at row y - dst_row0 of dst's, so a buffer that
// holds a band of rows can stand for a whole image (whose geometry src and dst still carry).
template <typename T, typename Op>
void pass_rows(const MorphPlan& plan, const ConstImageView& src, i64 src_row0, const ImageView& dst,
               i64 dst_row0, i64 r0, i64 r1, bool stream) {
  Morph<T, Op> m(plan, src, dst);
  m.prepare(stream);
  m.set_row_origins(src_row0, dst_row0);
  m.run_rows(r0, r1);
}

// `values` laid out as rows of `like`'s width, standing for `like`'s whole image.
ImageView band_view(void* values, const ConstImageView& like, i64 elem) {
  return ImageView{values,    like.rows, like.cols, like.channels, like.cols * like.channels * elem,
                   like.dtype};
}

// Compositions of two passes run band by band, each band's intermediate rows in a buffer of
// its own (about `budget` bytes, and at least four kernel heights): it stays in cache, and no
// whole intermediate image is written and read back.
struct BandJob {
  const MorphPlan* a;
  const MorphPlan* b;
  ConstImageView src;
  ImageView dst;
  i64 band;
};

template <typename T>
void run_bands(BandJob job, i64 budget, void (*band_fn)(void*, i64)) {
  const ConstImageView& src = job.src;
  const i64 row_bytes = src.cols * src.channels * static_cast<i64>(sizeof(T));
  i64 band = budget / (row_bytes > 0 ? row_bytes : 1);
  const i64 kh = job.a->kh > job.b->kh ? job.a->kh : job.b->kh;
  if (band < 4 * kh) band = 4 * kh;
  const i64 threads = get_num_threads();
  if (threads > 1 && src.rows / (4 * threads) < band) band = src.rows / (4 * threads);
  if (band < 16) band = 16;
  if (band > src.rows) band = src.rows;
  job.band = band;
  parallel_for_raw((src.rows + band - 1) / band, band_fn, &job);
}

// dst = b(a(src)) (open: a erodes, b dilates; close: the reverse). A band's second pass reads
// the intermediate rows its windows reach through the second pass's border map; the first pass
// computes exactly those rows.
template <typename T, typename OpA, typename OpB>
void pair_band(void* context, i64 index) {
  const BandJob& job = *static_cast<const BandJob*>(context);
  const i64 H = job.src.rows;
  const i64 r0 = index * job.band;
  const i64 r1 = (r0 + job.band < H) ? r0 + job.band : H;
  i64 e0 = H, e1 = 0;  // the hull of the intermediate rows this band reads
  for (i64 idx = r0; idx < r1 + job.b->kh - 1; ++idx) {
    const i64 y = job.b->row_map[idx];
    if (y < 0) continue;
    if (y < e0) e0 = y;
    if (y + 1 > e1) e1 = y + 1;
  }
  const i64 elem = static_cast<i64>(sizeof(T));
  const i64 rows = e1 > e0 ? e1 - e0 : 1;
  Scratch buffer(static_cast<std::size_t>(rows * job.src.cols * job.src.channels * elem));
  const ImageView mid = band_view(buffer.p, job.src, elem);
  if (e1 > e0) pass_rows<T, OpA>(*job.a, job.src, 0, mid, e0, e0, e1, false);
  const ConstImageView mid_in{mid.data,     mid.rows,       mid.cols,
                              mid.channels, mid.row_stride, mid.dtype};
  pass_rows<T, OpB>(*job.b, mid_in, e0, job.dst, 0, r0, r1, true);
}

// dst = dilate(src) - erode(src) (a dilates, b erodes): both passes of a band go to buffers of
// its own, their difference to dst.
template <typename T>
void gradient_band(void* context, i64 index) {
  const BandJob& job = *static_cast<const BandJob*>(context);
  const i64 H = job.src.rows;
  const i64 r0 = index * job.band;
  const i64 r1 = (r0 + job.band < H) ? r0 + job.band : H;
  const i64 n = job.src.cols * job.src.channels;
  const i64 elem = static_cast<i64>(sizeof(T));
  Scratch buffer(static_cast<std::size_t>(2 * (r1 - r0) * n * elem));
  T* hi = static_cast<T*>(buffer.p);
  T* lo = hi + (r1 - r0) * n;
  pass_rows<T, MaxOp<T>>(*job.a, job.src, 0, band_view(hi, job.src, elem), r0, r0, r1, false);
  pass_rows<T, MinOp<T>>(*job.b, job.src, 0, band_view(lo, job.src, elem), r0, r0, r1, false);
  for (i64 y = r0; y < r1; ++y) {
    T* o = reinterpret_cast<T*>(static_cast<char*>(job.dst.data) + y * job.dst.row_stride);
    const T* x = hi + (y - r0) * n;
    const T* z = lo + (y - r0) * n;
    for (i64 i = 0; i < n; ++i) o[i] = sub_sat(x[i], z[i]);
  }
}

template <typename T>
void erode_dilate_typed(const MorphPlan& plan, const ConstImageView& src, const ImageView& dst) {
  if (plan.dilate) {
    Morph<T, MaxOp<T>> m(plan, src, dst);
    m.run();
  } else {
    Morph<T, MinOp<T>> m(plan, src, dst);
    m.run();
  }
}

template <typename T>
void pair_typed(const MorphPlan& first, const MorphPlan& second, const ConstImageView& src,
                const ImageView& dst) {
  run_bands<T>(BandJob{&first, &second, src, dst, 0}, 256 * 1024,
               first.dilate ? pair_band<T, MaxOp<T>, MinOp<T>> : pair_band<T, MinOp<T>, MaxOp<T>>);
}

template <typename T>
void gradient_typed(const MorphPlan& dilate, const MorphPlan& erode, const ConstImageView& src,
                    const ImageView& dst) {
  run_bands<T>(BandJob{&dilate, &erode, src, dst, 0}, 128 * 1024, gradient_band<T>);
}

struct SubtractJob {
  ConstImageView a, b;
  ImageView dst;
};

template <typename T>
void subtract_typed(const ConstImageView& a, const ConstImageView& b, const ImageView& dst) {
  SubtractJob job{a, b, dst};
  constexpr i64 kRowsPerTask = 16;
  parallel_for_raw(
      (a.rows + kRowsPerTask - 1) / kRowsPerTask,
      [](void* ctx, i64 t) {
        const SubtractJob& j = *static_cast<SubtractJob*>(ctx);
        const i64 n = j.a.cols * j.a.channels;
        const i64 y1 = (t + 1) * kRowsPerTask < j.a.rows ? (t + 1) * kRowsPerTask : j.a.rows;
        for (i64 y = t * kRowsPerTask; y < y1; ++y) {
          const T* ra =
              reinterpret_cast<const T*>(static_cast<const char*>(j.a.data) + y * j.a.row_stride);
          const T* rb =
              reinterpret_cast<const T*>(static_cast<const char*>(j.b.data) + y * j.b.row_stride);
          T* ro = reinterpret_cast<T*>(static_cast<char*>(j.dst.data) + y * j.dst.row_stride);
          for (i64 i = 0; i < n; ++i) ro[i] = sub_sat(ra[i], rb[i]);
        }
      },
      &job);
}

}  // namespace

void erode_dilate(const detail::MorphPlan& plan, const ConstImageView& src, const ImageView& dst) {
  with_dtype(src.dtype, [&](auto t) { erode_dilate_typed<decltype(t)>(plan, src, dst); });
}

void erode_dilate_pair(const detail::MorphPlan& first, const detail::MorphPlan& second,
                       const ConstImageView& src, const ImageView& dst) {
  with_dtype(src.dtype, [&](auto t) { pair_typed<decltype(t)>(first, second, src, dst); });
}

void gradient(const detail::MorphPlan& dilate, const detail::MorphPlan& erode,
              const ConstImageView& src, const ImageView& dst) {
  with_dtype(src.dtype, [&](auto t) { gradient_typed<decltype(t)>(dilate, erode, src, dst); });
}

void subtract(const ConstImageView& a, const ConstImageView& b, const ImageView& dst) {
  with_dtype(a.dtype, [&](auto t) { subtract_typed<decltype(t)>(a, b, dst); });
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

// Erosion and dilation on the GPU, and open / close fused into one launch, with the CPU
// kernels' numbers (cpp/src/morphology): cv2's definition, NaN propagating through min and max.
//
//   dilate: out(y, x, c) = max over SE members (i, j) of src(y + i - ay, x + j - ax, c); erode: min
//   outside the image: the border (constant pixel, replicate, reflect, reflect101, wrap)
//
// Images: (H, W, C) interleaved, one row = W * C elements, uint8 (bool as 0/1), uint16, int16,
// float32 or float64, at most 2^30 rows and row elements. A block makes one output tile of th
// rows x twe elements of a row (a tile need not start at a pixel: an element's channel is its
// index mod C).
//
//   load     the tile's source window, th + kh - 1 rows x (twe + (kw - 1) C) elements, into
//            shared memory through the border maps; 16-byte loads where a chunk lies inside the
//            image and rows are 16-byte aligned. Shared position ``lead + i + j C`` of a row
//            holds window column j of output element i; lead puts position 0 on a 16-byte
//            boundary of global memory.
//   words    the passes over shared memory move 32-bit words: 4 uint8 or 2 uint16 / int16
//            values per access, with the device's SIMD-in-a-word min, max and saturating
//            subtraction (an unaligned word is a funnel shift of two); 4- and 8-byte types
//            move one value. One byte per access would make the uint8 kernels bound by
//            shared-memory instructions instead of by DRAM.
//   rect     columns, then rows. Columns over whole words of every row (aligned): up to 5
//            rows directly, taller windows by van Herk / Gil-Werman (blocks of kh rows, a
//            prefix op and a suffix op per value within its block, one op to join: three ops
//            per value whatever kh is). Rows on the column windows, stored as they are made:
//            up to 8 pixels (5 for 4- and 8-byte types) directly, a word of outputs from kw
//            unaligned word reads; wider by van Herk / Gil-Werman on values (blocks of kw
//            pixels per channel).
//   runs     any other SE, as its rows' runs of ones: the runs sorted by length, the windows
//            of the current length grown from the last ones by doubling steps
//            (w(q)[k] = op(w(p)[k], w(p)[k + (q - p) C]), q <= 2 p), each run folded into an
//            accumulator tile in shared memory: the SE's runs plus a few steps per value.
//   pair     open and close (and top-hat, black-hat through the epilogue): the second pass's
//            source window is the intermediate image seen through the border maps; the block
//            computes the first pass over the hull of the rows and elements that window maps
//            to (never more than the window: borders other than wrap fold it onto itself),
//            into shared memory, and the second pass reads its window from there. The
//            intermediate image is never written.
//   epilogue what is stored: r, other - r or r - other, saturating for integers (gradient,
//            top-hat, black-hat), with ``other`` read at the output's position.
//
// Tiles are chosen by the launcher to fit 48 KiB of shared memory (no opt-in needed, four
// blocks per SM), minimising the loaded elements per output; a rectangle whose one-pass tile
// would hold too much halo runs as a row pass and a column pass through a temporary. Windows
// beyond that and SEs of more than kMaxRuns runs are not taken (the Python route sends them
// to the CuPy fallback); border pixels wider than 256 bytes travel in a device buffer.
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <vector>

#include "border.cuh"
#include "morphology.hpp"
#include "simt.hpp"

// A kernel parameter whose address is taken (the border pixels, indexed by channel) stays in
// constant memory when it is __grid_constant__ instead of being copied to each thread.
#if defined(FOVEAL_SIMT_EMU)
#define FOVEAL_GRID_CONSTANT
#else
#define FOVEAL_GRID_CONSTANT __grid_constant__
#endif

// An invariant the launcher guarantees, checked where the kernels run on the CPU.
#if defined(FOVEAL_SIMT_EMU)
#include <stdexcept>
#define FOVEAL_EMU_CHECK(cond, what) \
  if (!(cond)) throw std::logic_error(what)
#else
#define FOVEAL_EMU_CHECK(cond, what)
#endif

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;

constexpr int kMaxRuns = 512;                      // runs of both passes together
constexpr int kBorderBytes = 256;                  // border pixels up to this size travel inline
constexpr std::size_t kSharedBudget = 48 * 1024;   // dynamic shared memory per block
constexpr int kMaxTileRows = 64;                   // output rows per tile, at most
constexpr int kDirectHeight = 5;                   // column windows up to this tall: direct
constexpr int kTileWidths[] = {256, 128, 64, 32};  // elements per tile row, tried in turn
constexpr i64 kMaxAxis = i64{1} << 30;             // rows, and elements per row, at most
constexpr int kBlockThreads = 256;                 // runs and pairs; rectangles: one per column

enum : int { kConstant, kReplicate, kReflect, kReflect101, kWrap };  // MorphBorder's order
enum : int { kStoreR, kOtherMinusR, kRMinusOther };                  // MorphEpilogue's order

struct Run16 {
  unsigned short dy, dx, len, pad;
};

// One pass's window as the kernel sees it; n_runs == 0 is a full rectangle.
struct Win {
  int kh, kw, ay, ax;
  int run0, n_runs;
};

struct Params {
  const void* src;
  void* dst;
  const void* other;
  int epilogue;
  int h, w, c, wc;  // image rows, pixels per row, channels, elements per row (< 2^30 each)
  int border;
  int vec;      // 16-byte loads: rows and the source 16-byte aligned
  int word_io;  // 4-byte stores (and reads of other): rows, dst and other 4-byte aligned
  int elem_size;
  Win win[2];          // win[0]: the pass (or the pair's first), win[1]: the pair's second
  int th, twe;         // output tile
  int tiles_x;         // tiles across a row
  int lrow[2];         // elements per shared row of each pass's source window
  int y_rows, y_cols;  // the pair's intermediate tile, at most
  const unsigned char* border_big;  // device copy of both border pixels, when not inline
  alignas(16) unsigned char pixels[2 * kBorderBytes];  // pass p's border pixel at p * kBorderBytes
  Run16 runs[kMaxRuns];
};

// ---------------------------------------------------------------------------- element ops

template <typename T, bool kMax>
__device__ __forceinline__ T pick(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) {
    return ((kMax ? a > b : a < b) || a != a) ? a : b;  // NaN wins, as on the CPU
  } else {
    return (kMax ? a > b : a < b) ? a : b;
  }
}

// a - b, saturated as cv2.subtract (bool images are u8 0/1, where it is a & ~b).
template <typename T>
__device__ __forceinline__ T sub_sat(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) {
    return a - b;
  } else if constexpr (std::is_unsigned<T>::value) {
    return a > b ? static_cast<T>(a - b) : static_cast<T>(0);
  } else {
    const int d = static_cast<int>(a) - static_cast<int>(b);
    return static_cast<T>(d < -32768 ? -32768 : (d > 32767 ? 32767 : d));
  }
}

// A word: what one 32-bit shared-memory access moves, N elements of a 1- or 2-byte type
// (min, max and the saturating difference of words are the device's SIMD-in-a-word
// instructions), or one element of a 4- or 8-byte type. The passes over shared memory move
// words: one access per 4 uint8 values instead of 4.
template <typename T>
struct Word {
  using W = T;
  static constexpr int N = 1;
  template <bool kMax>
  __device__ static W pick(W a, W b) {
    return ::foveal::gpu::pick<T, kMax>(a, b);
  }
  __device__ static W sub(W a, W b) { return sub_sat(a, b); }
  __device__ static T lane(W w, int) { return w; }
};
// 1- and 2-byte types: 4 / sizeof(T) lanes in a 32-bit word.
template <typename T>
struct PackedWord {
  using W = unsigned;
  static constexpr int N = 4 / sizeof(T);
  template <bool kMax>
  __device__ static W pick(W a, W b) {
    if constexpr (std::is_same<T, std::uint8_t>::value) {
      return kMax ? __vmaxu4(a, b) : __vminu4(a, b);
    } else if constexpr (std::is_same<T, std::uint16_t>::value) {
      return kMax ? __vmaxu2(a, b) : __vminu2(a, b);
    } else {
      static_assert(std::is_same<T, std::int16_t>::value, "1- and 2-byte types only");
      return kMax ? __vmaxs2(a, b) : __vmins2(a, b);
    }
  }
  __device__ static W sub(W a, W b) {
    if constexpr (std::is_same<T, std::uint8_t>::value) {
      return __vsubus4(a, b);
    } else if constexpr (std::is_same<T, std::uint16_t>::value) {
      return __vsubus2(a, b);
    } else {
      return __vsubss2(a, b);
    }
  }
  __device__ static T lane(W w, int k) {
    using U = typename std::make_unsigned<T>::type;
    return static_cast<T>(static_cast<U>(w >> (8 * sizeof(T) * k)));
  }
};
template <>
struct Word<std::uint8_t> : PackedWord<std::uint8_t> {};
template <>
struct Word<std::uint16_t> : PackedWord<std::uint16_t> {};
template <>
struct Word<std::int16_t> : PackedWord<std::int16_t> {};

// The word of elements pos .. pos + N - 1 of a 16-byte aligned shared row, at any pos >= 0:
// an unaligned word joins two aligned ones (a funnel shift; little-endian lanes). Within a
// warp pos differs by multiples of N, so the branch is uniform.
template <typename T>
__device__ __forceinline__ typename Word<T>::W word_at(const T* row, int pos) {
  constexpr int N = Word<T>::N;
  if constexpr (N == 1) {
    return row[pos];
  } else {
    const unsigned* w = reinterpret_cast<const unsigned*>(row);
    const int a = pos / N, lane = pos - a * N;
    if (lane == 0) return w[a];
    return __funnelshift_r(w[a], w[a + 1], static_cast<unsigned>(8 * sizeof(T) * lane));
  }
}

// A 16-byte aligned row of elements (const or not) as words.
template <typename T>
__device__ __forceinline__ auto words(T* row) {
  using W = typename Word<typename std::remove_const<T>::type>::W;
  return reinterpret_cast<typename std::conditional<std::is_const<T>::value, const W*, W*>::type>(
      row);
}

// Row windows up to this many pixels wide are made directly: a word of outputs from kw
// (unaligned) word reads, cheaper than van Herk's scalar passes for the packed types.
template <typename T>
constexpr int kDirectWidth = Word<T>::N > 1 ? 8 : 5;

// The index in [0, n) that position p reads, or -1 for the constant border (border.hpp's
// border_index, for the device). Positions and sizes stay below 2^31 (the launcher takes
// images of at most 2^30 rows and row elements, and windows that fit a tile): 32-bit
// arithmetic, which the device does inline (64-bit division is a subroutine whose calls spill).
__device__ __forceinline__ int source_index(int p, int n, int border) {
  return border_source<int>(p, n, border);
}

__device__ __forceinline__ int floor_div(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// Element g of a row (any position) as the element it reads inside the row, or -1 for the
// border pixel; ``ch`` gets its channel.
__device__ __forceinline__ int source_element(const Params& p, int g, int& ch) {
  const int x = floor_div(g, p.c);
  ch = g - x * p.c;
  if (g >= 0 && g < p.wc) return g;
  const int sx = source_index(x, p.w, p.border);
  return sx < 0 ? -1 : sx * p.c + ch;
}

template <typename T>
__device__ __forceinline__ const T* border_pixel(const Params& p, int pass) {
  const unsigned char* base = p.border_big != nullptr
                                  ? p.border_big + static_cast<i64>(pass) * p.c * sizeof(T)
                                  : p.pixels + pass * kBorderBytes;
  return reinterpret_cast<const T*>(base);
}

__device__ __forceinline__ int thread_rank() {
  return static_cast<int>(threadIdx.y * blockDim.x + threadIdx.x);
}
__device__ __forceinline__ int block_threads() {
  return static_cast<int>(blockDim.x * blockDim.y);
}

// Visits the cells (r, i) of a grid ``cols`` wide, the block's threads in row-major order
// (a warp on consecutive cells: coalesced, free of bank conflicts), stepping without a
// division. ``wrapped`` says whether the last step crossed into a further row.
struct Walk {
  int r, i, dr, di, cols;
  bool wrapped = false;
  __device__ explicit Walk(int cols_) : cols(cols_) {
    const int t = thread_rank(), nt = block_threads();
    r = t / cols;
    i = t - r * cols;
    dr = nt / cols;
    di = nt - dr * cols;
  }
  __device__ void next() {
    i += di;
    r += dr;
    wrapped = i >= cols;
    if (wrapped) {
      i -= cols;
      ++r;
    }
  }
};

// x mod m, kept along a Walk without dividing: add(d) for 0 <= d < m.
struct Mod {
  int v, m;
  __device__ void add(int d) {
    v += d;
    if (v >= m) v -= m;
  }
};

// ------------------------------------------------------------------------------ one stage

// A pass over one tile: the output region (th rows x twe elements, from row y0 and element
// e0) and its source window in shared memory (rows x lrow, position 0 = element g0).
struct Stage {
  int kh, kw, ay, ax, c;
  int th, twe;
  int rows, lrow, lead;
  int y0, e0;
  int v0, g0;  // the virtual row and element at the window's (0, 0)
};

template <typename T>
__device__ Stage make_stage(const Params& p, const Win& w, int lrow, int y0, int e0, int th,
                            int twe) {
  constexpr int V = 16 / sizeof(T);
  Stage s;
  s.kh = w.kh, s.kw = w.kw, s.ay = w.ay, s.ax = w.ax, s.c = p.c;
  s.th = th, s.twe = twe;
  s.rows = th + w.kh - 1;
  s.lrow = lrow;
  const int first = e0 - w.ax * p.c;  // element of window column 0
  s.lead = first - floor_div(first, V) * V;
  s.y0 = y0, s.e0 = e0;
  s.v0 = y0 - w.ay;
  s.g0 = first - s.lead;
  return s;
}

// The stage's source window from the image, through the border maps.
template <typename T>
__device__ void load_image(const Params& p, const Stage& s, const T* px, T* X) {
  constexpr int V = 16 / sizeof(T);
  const T* src = static_cast<const T*>(p.src);
  for (Walk w(s.lrow / V); w.r < s.rows; w.next()) {
    const int k = w.i * V;
    const int sy = source_index(s.v0 + w.r, p.h, p.border);
    const int g = s.g0 + k;
    T* to = X + w.r * s.lrow + k;
    const T* row = src + static_cast<i64>(sy) * p.wc;
    if (sy >= 0 && g >= 0 && g + V <= p.wc) {
      const T* from = row + g;
      if (p.vec) {
        *reinterpret_cast<uint4*>(to) = __ldg(reinterpret_cast<const uint4*>(from));
      } else {
#pragma unroll
        for (int v = 0; v < V; ++v) to[v] = __ldg(from + v);
      }
      continue;
    }
    for (int v = 0; v < V; ++v) {
      int ch;
      const int e = source_element(p, g + v, ch);
      to[v] = (sy < 0 || e < 0) ? px[ch] : __ldg(row + e);
    }
  }
}

// The hull of the rows and elements that the stage's window reads (through the border maps),
// as [lo, hi) pairs; an empty row range when every row or element is the constant border.
struct Hull {
  int y_lo, y_hi, e_lo, e_hi;
};

__device__ Hull window_hull(const Params& p, const Stage& s, int* shared4) {
  if (thread_rank() == 0) {
    shared4[0] = p.h, shared4[1] = -1, shared4[2] = p.wc, shared4[3] = -1;
  }
  __syncthreads();
  const int used = s.twe + (s.kw - 1) * s.c;  // positions lead .. lead + used - 1
  for (int idx = thread_rank(); idx < s.rows + used; idx += block_threads()) {
    if (idx < s.rows) {
      const int m = source_index(s.v0 + idx, p.h, p.border);
      if (m >= 0) {
        atomicMin(shared4, m);
        atomicMax(shared4 + 1, m);
      }
    } else {
      int ch;
      const int e = source_element(p, s.g0 + s.lead + (idx - s.rows), ch);
      if (e >= 0) {
        atomicMin(shared4 + 2, e);
        atomicMax(shared4 + 3, e);
      }
    }
  }
  __syncthreads();
  Hull hull{shared4[0], shared4[1] + 1, shared4[2], shared4[3] + 1};
  if (hull.y_hi <= hull.y_lo || hull.e_hi <= hull.e_lo) hull.y_lo = hull.y_hi = 0;
  return hull;
}

// The second pass's source window from the first pass's results in Y (rows from hull.y_lo,
// elements from hull.e_lo, ``ystride`` per row), through the border maps.
template <typename T>
__device__ void load_intermediate(const Params& p, const Stage& s, const T* px, const T* Y,
                                  int ystride, const Hull& hull, T* X) {
  for (Walk w(s.lrow); w.r < s.rows; w.next()) {
    const int m = source_index(s.v0 + w.r, p.h, p.border);
    const int g = s.g0 + w.i;
    T& to = X[w.r * s.lrow + w.i];
    if (m >= 0 && m < hull.y_hi && g >= hull.e_lo && g < hull.e_hi) {  // inside the image
      to = Y[(m - hull.y_lo) * ystride + (g - hull.e_lo)];
      continue;
    }
    int ch;
    const int e = source_element(p, g, ch);
    // Positions outside lead .. lead + used - 1 are alignment padding that nothing reads;
    // they may map outside the hull.
    const bool inside = m >= 0 && m < hull.y_hi && e >= hull.e_lo && e < hull.e_hi;
    to = inside ? Y[(m - hull.y_lo) * ystride + (e - hull.e_lo)] : px[ch];
  }
}

// Column windows of a rectangle over whole words of every position of the source window's
// rows: C[y] = op(X[y .. y + kh - 1]) for y < th. Returns the buffer that holds them: P for
// the direct windows of up to kDirectHeight rows, X for van Herk / Gil-Werman (blocks of kh
// rows from the tile's first; a block's prefix ops go to P, its suffix ops in place, and a
// window starting inside block b joins b's suffix with b + 1's prefix: three ops per value).
template <typename T, bool kMax>
__device__ T* column_windows(const Stage& s, T* X, T* P) {
  using Wd = Word<T>;
  using W = typename Wd::W;
  const int kh = s.kh;
  if (kh == 1) return X;
  const int L = s.lrow / Wd::N;  // words per row
  W* x = words(X);
  W* pre = words(P);
  if (kh <= kDirectHeight) {
    for (Walk w(L); w.r < s.th; w.next()) {
      const W* col = x + w.r * L + w.i;
      W v = col[0];
      for (int j = 1; j < kh; ++j) v = Wd::template pick<kMax>(v, col[j * L]);
      pre[w.r * L + w.i] = v;
    }
    __syncthreads();
    return P;
  }
  const int blocks = (s.rows + kh - 1) / kh;
  for (Walk w(L); w.r < blocks; w.next()) {
    const int r0 = w.r * kh, r1 = min(r0 + kh, s.rows);
    W* col = x + w.i;
    W* pcol = pre + w.i;
    W v = col[r0 * L];
    pcol[r0 * L] = v;
    for (int r = r0 + 1; r < r1; ++r) {
      v = Wd::template pick<kMax>(v, col[r * L]);
      pcol[r * L] = v;
    }
    if (r0 >= s.th) continue;   // no window starts here: its suffixes are not needed
    W suf = col[(r1 - 1) * L];  // (such a block is whole: r0 + kh <= th + kh - 1 = rows)
    for (int r = r1 - 2; r >= r0; --r) {
      suf = Wd::template pick<kMax>(col[r * L], suf);
      col[r * L] = suf;
    }
  }
  __syncthreads();
  Walk w(L);
  Mod row_in_block{w.r % kh, kh};
  const int step = w.dr % kh;
  for (; w.r < s.th; w.next(), row_in_block.add(step), row_in_block.add(w.wrapped ? 1 : 0)) {
    if (row_in_block.v == 0) continue;  // a window that starts a block is its suffix
    W& out = x[w.r * L + w.i];
    out = Wd::template pick<kMax>(out, pre[(w.r + kh - 1) * L + w.i]);
  }
  __syncthreads();
  return X;
}

// Row windows of a rectangle over the column windows in C (rows y < n_rows), emitted:
// emit(y, i, value) or emit.word(y, i, word) for output element i of row y. Windows up to
// kDirectWidth<T> pixels wide directly, a word of outputs at a time; wider ones by van Herk /
// Gil-Werman on elements (blocks of kw pixels per channel, i.e. chunks of kw C positions from
// lead, each channel a block; prefix ops to O, suffix ops in place, one op to join).
template <typename T, bool kMax, class Emit>
__device__ void row_windows(const Stage& s, T* C, T* O, int n_rows, const Emit& emit) {
  using Wd = Word<T>;
  constexpr int N = Wd::N;
  const int c = s.c, kw = s.kw;
  if (kw <= kDirectWidth<T>) {
    // A tile whose width is not a multiple of N (the pair's first pass) ends in a partial
    // word: its lanes past the tile read past their rows, and the sink keeps only live ones.
    for (Walk w((s.twe + N - 1) / N); w.r < n_rows; w.next()) {
      const int i = w.i * N;
      if (!emit.live(i)) continue;
      const T* row = C + w.r * s.lrow;
      auto v = word_at(row, s.lead + i);
      for (int j = 1; j < kw; ++j) v = Wd::template pick<kMax>(v, word_at(row, s.lead + i + j * c));
      emit.word(w.r, i, v);
    }
    return;
  }
  const int K = kw * c, span = s.twe + (kw - 1) * c;
  const int per_row = (span + K - 1) / K * c;
  for (Walk w(per_row); w.r < n_rows; w.next()) {
    const int q0 = w.i / c * K + w.i % c;  // a division per block of kw values
    if (q0 >= span) continue;
    T* x = C + w.r * s.lrow + s.lead;
    T* pre = O + w.r * s.lrow + s.lead;
    const int last = min(kw - 1, (span - 1 - q0) / c);
    T v = x[q0];
    pre[q0] = v;
    for (int m = 1; m <= last; ++m) {
      v = pick<T, kMax>(v, x[q0 + m * c]);
      pre[q0 + m * c] = v;
    }
    if (q0 >= s.twe) continue;  // no window starts in this block
    T suf = x[q0 + last * c];
    for (int m = last - 1; m >= 0; --m) {
      suf = pick<T, kMax>(x[q0 + m * c], suf);
      x[q0 + m * c] = suf;
    }
  }
  __syncthreads();
  Walk w(s.twe);
  Mod in_chunk{w.i % K, K};  // i mod K: windows with in_chunk < c start a block
  const int step = w.di % K, wrap = (K - s.twe % K) % K;
  for (; w.r < n_rows; w.next(), in_chunk.add(step), in_chunk.add(w.wrapped ? wrap : 0)) {
    if (!emit.live(w.i)) continue;
    const int at = w.r * s.lrow + s.lead + w.i;
    T v = C[at];
    if (in_chunk.v >= c) v = pick<T, kMax>(v, O[at + (kw - 1) * c]);
    emit(w.r, w.i, v);
  }
}

// The runs of a non-rectangular SE folded into A (th x twe, ``astride`` per row, a multiple
// of the word), a word at a time. X holds the source window; X and P are overwritten with
// the windows of growing run lengths.
template <typename T, bool kMax>
__device__ void run_windows(const Params& p, const Win& w, const Stage& s, T* X, T* P, T* A,
                            int astride) {
  using Wd = Word<T>;
  constexpr int N = Wd::N;
  T* cur = X;
  T* next = P;
  int have = 1;  // cur holds windows of ``have`` pixels
  for (int k = 0; k < w.n_runs; ++k) {
    const Run16 run = p.runs[w.run0 + k];
    const int len = run.len;
    while (have < len) {
      const int grow = min(2 * have, len);
      const int shift = (grow - have) * s.c;
      // Whole words up to the row's end: the last may read a few elements of the next row
      // (or the buffer's pad), which only windows past the row's valid ones use.
      const int n_words = (s.lrow - shift + N - 1) / N;
      for (Walk g(n_words); g.r < s.rows; g.next()) {
        const T* row = cur + g.r * s.lrow;
        words(next + g.r * s.lrow)[g.i] =
            Wd::template pick<kMax>(words(row)[g.i], word_at(row, g.i * N + shift));
      }
      __syncthreads();
      T* t = cur;
      cur = next;
      next = t;
      have = grow;
    }
    // The same thread owns the same outputs in every run: no barrier between runs.
    const int from = s.lead + run.dx * s.c;
    for (Walk g((s.twe + N - 1) / N); g.r < s.th; g.next()) {
      const auto v = word_at(cur + (g.r + run.dy) * s.lrow, from + g.i * N);
      auto& a = words(A + g.r * astride)[g.i];
      a = k == 0 ? v : Wd::template pick<kMax>(a, v);
    }
  }
  __syncthreads();
}

// Stores to the image, with the epilogue; words where the rows keep them aligned.
template <typename T>
struct ImageSink {
  using Wd = Word<T>;
  T* dst;
  const T* other;
  int epilogue;
  int wc, y0, e0;
  bool word_io;  // dst, other and rows 4-byte aligned
  __device__ bool live(int i) const { return e0 + i < wc; }
  __device__ void operator()(int y, int i, T v) const {
    const i64 at = static_cast<i64>(y0 + y) * wc + (e0 + i);
    if (epilogue == kOtherMinusR) v = sub_sat(__ldg(other + at), v);
    if (epilogue == kRMinusOther) v = sub_sat(v, __ldg(other + at));
    dst[at] = v;
  }
  __device__ void word(int y, int i, typename Wd::W v) const {
    const int n = wc - (e0 + i);
    if (Wd::N > 1 && word_io && n >= Wd::N) {
      const i64 at = (static_cast<i64>(y0 + y) * wc + (e0 + i)) / Wd::N;
      using W = typename Wd::W;
      if (epilogue == kOtherMinusR) v = Wd::sub(__ldg(reinterpret_cast<const W*>(other) + at), v);
      if (epilogue == kRMinusOther) v = Wd::sub(v, __ldg(reinterpret_cast<const W*>(other) + at));
      reinterpret_cast<W*>(dst)[at] = v;
      return;
    }
    for (int k = 0; k < Wd::N && k < n; ++k) (*this)(y, i + k, Wd::lane(v, k));
  }
};

// Stores to the pair's intermediate tile (rows ``stride`` elements, a multiple of the word).
template <typename T>
struct TileSink {
  T* Y;
  int stride, cols;
  __device__ bool live(int i) const { return i < cols; }
  __device__ void operator()(int y, int i, T v) const { Y[y * stride + i] = v; }
  __device__ void word(int y, int i, typename Word<T>::W v) const {
    words(Y + y * stride)[i / Word<T>::N] = v;
  }
};

// One pass over a stage whose source window is in X: into ``emit`` (rectangles), or into A
// and then emit (runs); with ``into_a``, A is the sink's own tile and nothing is emitted.
template <typename T, bool kMax, class Emit>
__device__ void compute(const Params& p, const Win& w, const Stage& s, int n_rows, T* X, T* P, T* A,
                        int astride, bool into_a, const Emit& emit) {
  if (w.n_runs == 0) {
    T* C = column_windows<T, kMax>(s, X, P);
    row_windows<T, kMax>(s, C, C == X ? P : X, n_rows, emit);
    return;
  }
  run_windows<T, kMax>(p, w, s, X, P, A, astride);
  if (into_a) return;
  constexpr int N = Word<T>::N;
  for (Walk g((s.twe + N - 1) / N); g.r < n_rows; g.next()) {
    const int i = g.i * N;
    if (emit.live(i)) emit.word(g.r, i, words(A + g.r * astride)[g.i]);
  }
}

// Shared memory is carved in 16-byte multiples, each piece followed by 16 bytes of pad (an
// unaligned word read at a row's end may touch it); the launcher's shared_bytes() agrees.
template <typename T>
__device__ __forceinline__ T* carve(unsigned char*& at, i64 values) {
  T* p = reinterpret_cast<T*>(at);
  at += (values * static_cast<i64>(sizeof(T)) + 15) / 16 * 16 + 16;
  return p;
}

// Four blocks of 256 threads per SM: 64 registers, which every instantiation fits unspilled.
// One pass (kPair false) or open / close (kPair: the first pass kFirstMax, the second its
// opposite) over one output tile per block.
template <typename T, bool kFirstMax, bool kPair>
__global__ void __launch_bounds__(256, 4) morph_kernel(const FOVEAL_GRID_CONSTANT Params p) {
  FOVEAL_DYNAMIC_SHARED(uint4, smem);
  __shared__ int hull_scratch[4];
  const int tile = static_cast<int>(blockIdx.x);
  const int e0 = tile % p.tiles_x * p.twe;
  const int y0 = tile / p.tiles_x * p.th;
  const int n_rows = p.h - y0 < p.th ? p.h - y0 : p.th;
  const ImageSink<T> sink{
      static_cast<T*>(p.dst), static_cast<const T*>(p.other), p.epilogue, p.wc, y0, e0,
      p.word_io != 0};
  unsigned char* at = reinterpret_cast<unsigned char*>(smem);
  const Win& last = p.win[kPair ? 1 : 0];
  const Stage s2 = make_stage<T>(p, last, p.lrow[kPair ? 1 : 0], y0, e0, p.th, p.twe);
  constexpr bool kLastMax = kPair ? !kFirstMax : kFirstMax;
  if (!kPair) {
    T* X = carve<T>(at, static_cast<i64>(s2.rows) * s2.lrow);
    T* P = carve<T>(at, static_cast<i64>(s2.rows) * s2.lrow);
    T* A = carve<T>(at, static_cast<i64>(s2.th) * s2.twe);
    load_image<T>(p, s2, border_pixel<T>(p, 0), X);
    __syncthreads();
    compute<T, kLastMax>(p, last, s2, n_rows, X, P, A, s2.twe, false, sink);
    return;
  }
  // The first pass over the hull of what the second pass's window reads.
  const Hull hull = window_hull(p, s2, hull_scratch);
  T* Y = carve<T>(at, static_cast<i64>(p.y_rows) * p.y_cols);
  unsigned char* work = at;
  const int h_rows = hull.y_hi - hull.y_lo;
  // The host sized Y for the hull's bound (see pair_shape); the emulator checks it.
  FOVEAL_EMU_CHECK(h_rows <= p.y_rows && hull.e_hi - hull.e_lo <= p.y_cols,
                   "morph_kernel: the first pass's hull outgrew its tile");
  if (h_rows > 0) {
    const Stage s1 =
        make_stage<T>(p, p.win[0], p.lrow[0], hull.y_lo, hull.e_lo, h_rows, hull.e_hi - hull.e_lo);
    T* X = carve<T>(at, static_cast<i64>(s1.rows) * s1.lrow);
    T* P = carve<T>(at, static_cast<i64>(s1.rows) * s1.lrow);
    load_image<T>(p, s1, border_pixel<T>(p, 0), X);
    __syncthreads();
    const TileSink<T> into_y{Y, p.y_cols, s1.twe};
    compute<T, kFirstMax>(p, p.win[0], s1, s1.th, X, P, Y, p.y_cols, true, into_y);
  }
  __syncthreads();
  at = work;
  T* X = carve<T>(at, static_cast<i64>(s2.rows) * s2.lrow);
  T* P = carve<T>(at, static_cast<i64>(s2.rows) * s2.lrow);
  T* A = carve<T>(at, static_cast<i64>(s2.th) * s2.twe);
  load_intermediate<T>(p, s2, border_pixel<T>(p, 1), Y, p.y_cols, hull, X);
  __syncthreads();
  compute<T, kLastMax>(p, last, s2, n_rows, X, P, A, s2.twe, false, sink);
}

// --------------------------------------------------------------------------- the launcher

int elem_size(MorphElem e) {
  switch (e) {
    case MorphElem::u8:
      return 1;
    case MorphElem::u16:
    case MorphElem::s16:
      return 2;
    case MorphElem::f32:
      return 4;
    case MorphElem::f64:
      return 8;
  }
  return 1;
}

i64 round_up(i64 v, i64 m) {
  return (v + m - 1) / m * m;
}
// A piece of shared memory as the kernel carves it (carve()): 16-byte multiples and a pad.
i64 piece_bytes(i64 values, int es) {
  return round_up(values * es, 16) + 16;
}

// Elements per shared row of a window kw wide for tiles twe elements wide.
i64 row_len(int twe, int kw, i64 c, int es) {
  const int V = 16 / es;
  return round_up((V - 1) + twe + static_cast<i64>(kw - 1) * c, V);
}

struct Geometry {
  int es;
  i64 h, wc, c;
};

// A tile and what it costs: loaded elements per output element (halo included).
struct TilePlan {
  bool ok = false;
  int th = 0, twe = 0;
  std::size_t shared = 0;
  double cost = 0;
};

bool better(const TilePlan& a, const TilePlan& b) {
  return a.ok && (!b.ok || a.cost < b.cost);
}

double tile_cost(const Geometry& g, int th, int twe, i64 loaded) {
  const double outs =
      static_cast<double>(std::min<i64>(th, g.h)) * static_cast<double>(std::min<i64>(twe, g.wc));
  return static_cast<double>(loaded) / outs;
}

i64 single_shared(const Geometry& g, int kh, int kw, bool rect, int th, int twe) {
  const i64 rows = th + static_cast<i64>(kh) - 1;
  const i64 win = piece_bytes(rows * row_len(twe, kw, g.c, g.es), g.es);
  const i64 acc = rect ? 0 : piece_bytes(static_cast<i64>(th) * twe, g.es);  // runs only
  return 2 * win + acc;
}

TilePlan plan_single(const Geometry& g, int kh, int kw, bool rect) {
  TilePlan best;
  for (int twe : kTileWidths) {
    const i64 lrow = row_len(twe, kw, g.c, g.es);
    for (int th = static_cast<int>(std::min<i64>(kMaxTileRows, g.h)); th >= 1; --th) {
      const i64 bytes = single_shared(g, kh, kw, rect, th, twe);
      if (bytes > static_cast<i64>(kSharedBudget)) continue;
      TilePlan t;
      t.ok = true, t.th = th, t.twe = twe, t.shared = static_cast<std::size_t>(bytes);
      t.cost = tile_cost(g, th, twe, (th + static_cast<i64>(kh) - 1) * lrow);
      if (better(t, best)) best = t;
      break;  // the tallest tile that fits is the cheapest of this width
    }
  }
  return best;
}

// The pair's shared memory: the intermediate tile, then the larger of the first pass's
// window (over the hull) and the second pass's window and accumulator.
//
// The intermediate tile holds the hull of what the second pass's window (th + kh - 1 rows,
// used = twe + (kw - 1) C elements) maps to. That window contains an image pixel (the tile's
// first output under the anchor), so, narrower than the image, it crosses at most one edge,
// and replicate or a reflection folds the part beyond the edge onto pixels no farther from
// it than that part is long: the hull has at most as many rows as the window, and at most as
// many pixels as the window touches (used / C + 2), i.e. used + 2 C elements. A window wider
// than the image has a hull no wider than the image. (Wrap maps across the image: no pair.)
struct PairShape {
  i64 y_rows, y_cols, lrow1, lrow2, bytes;
};

PairShape pair_shape(const Geometry& g, const MorphWindow& a, const MorphWindow& b, int th,
                     int twe) {
  PairShape ps;
  ps.y_rows = th + static_cast<i64>(b.kh) - 1;
  ps.y_cols = round_up(twe + static_cast<i64>(b.kw - 1) * g.c + 2 * g.c, 16 / g.es);
  ps.lrow1 = row_len(static_cast<int>(ps.y_cols), a.kw, g.c, g.es);
  ps.lrow2 = row_len(twe, b.kw, g.c, g.es);
  const i64 rows1 = ps.y_rows + a.kh - 1;
  const i64 first = 2 * piece_bytes(rows1 * ps.lrow1, g.es);
  const i64 rows2 = th + static_cast<i64>(b.kh) - 1;
  const i64 second =
      2 * piece_bytes(rows2 * ps.lrow2, g.es) + piece_bytes(static_cast<i64>(th) * twe, g.es);
  ps.bytes = piece_bytes(ps.y_rows * ps.y_cols, g.es) + std::max(first, second);
  return ps;
}

TilePlan plan_pair(const Geometry& g, const MorphWindow& a, const MorphWindow& b) {
  TilePlan best;
  for (int twe : kTileWidths) {
    for (int th = static_cast<int>(std::min<i64>(kMaxTileRows, g.h)); th >= 1; --th) {
      const PairShape ps = pair_shape(g, a, b, th, twe);
      if (ps.bytes > static_cast<i64>(kSharedBudget)) continue;
      TilePlan t;
      t.ok = true, t.th = th, t.twe = twe, t.shared = static_cast<std::size_t>(ps.bytes);
      t.cost = tile_cost(g, th, twe, (ps.y_rows + a.kh - 1) * ps.lrow1);
      if (better(t, best)) best = t;
      break;
    }
  }
  return best;
}

bool is_rect(const MorphWindow& w) {
  return w.runs.empty();
}

// How one pass runs: one launch, or (rectangles) a row pass and a column pass.
struct PassPlan {
  bool ok = false, split = false;
  TilePlan one, rows, cols;
};

PassPlan plan_pass(const Geometry& g, int kh, int kw, bool rect) {
  PassPlan pp;
  pp.one = plan_single(g, kh, kw, rect);
  if (rect && kh > 1 && kw > 1) {
    pp.rows = plan_single(g, 1, kw, true);
    pp.cols = plan_single(g, kh, 1, true);
    // Split: both passes load their windows and store, and the column pass reads the
    // intermediate back: one store more than the single pass.
    const bool can_split = pp.rows.ok && pp.cols.ok;
    if (can_split && (!pp.one.ok || pp.rows.cost + pp.cols.cost + 1 < pp.one.cost)) {
      pp.ok = pp.split = true;
      return pp;
    }
  }
  pp.ok = pp.one.ok;
  return pp;
}

double pass_cost(const PassPlan& pp) {
  return pp.split ? pp.rows.cost + pp.cols.cost + 2 : pp.one.cost + 1;
}

Geometry geometry(const MorphImage& im) {
  return Geometry{elem_size(im.elem), im.h, im.w * im.c, im.c};
}

int count_runs(const MorphWindow& w) {
  return static_cast<int>(w.runs.size());
}

// The kernel's view of a window; its runs are appended to p.runs, sorted by length.
Win kernel_window(const MorphWindow& w, Params& p, int& used_runs) {
  Win k{w.kh, w.kw, w.ay, w.ax, used_runs, count_runs(w)};
  std::vector<MorphRun> runs = w.runs;
  std::stable_sort(runs.begin(), runs.end(),
                   [](const MorphRun& a, const MorphRun& b) { return a.len < b.len; });
  for (const MorphRun& r : runs) {
    p.runs[used_runs++] =
        Run16{static_cast<unsigned short>(r.dy), static_cast<unsigned short>(r.dx),
              static_cast<unsigned short>(r.len), 0};
  }
  return k;
}

void base_params(Params& p, const MorphImage& im, const void* src, void* dst,
                 MorphEpilogue epilogue, const void* other) {
  std::memset(&p, 0, sizeof(p));
  p.src = src;
  p.dst = dst;
  p.other = other;
  p.epilogue = static_cast<int>(epilogue);
  p.h = static_cast<int>(im.h), p.w = static_cast<int>(im.w), p.c = static_cast<int>(im.c);
  p.wc = static_cast<int>(im.w * im.c);
  p.border = static_cast<int>(im.border);
  p.elem_size = elem_size(im.elem);
  p.vec = (reinterpret_cast<std::uintptr_t>(src) % 16 == 0) && (p.wc * p.elem_size) % 16 == 0;
  p.word_io = (reinterpret_cast<std::uintptr_t>(dst) % 4 == 0) &&
              (reinterpret_cast<std::uintptr_t>(other) % 4 == 0) && (p.wc * p.elem_size) % 4 == 0;
}

void set_tile(Params& p, const TilePlan& t) {
  p.th = t.th;
  p.twe = t.twe;
  p.tiles_x = (p.wc + t.twe - 1) / t.twe;
}

// Copies the border pixels of the windows (the pass's, or the pair's two) inline, or, when
// they are wider than kBorderBytes, to a device buffer, returned (stream-ordered: it may be
// freed once the launch is queued). The host copy then waits for the stream: rare (more than
// 32 float64 channels, 256 uint8 ones).
std::unique_ptr<Buffer> set_border(Params& p, std::initializer_list<const MorphWindow*> wins,
                                   Stream stream) {
  const std::size_t bytes = static_cast<std::size_t>(p.c) * static_cast<std::size_t>(p.elem_size);
  std::vector<unsigned char> all;
  for (const MorphWindow* w : wins) {
    if (w->border_pixel.size() != bytes)
      throw Error("morphology: a border pixel of the wrong size reached the launcher");
    all.insert(all.end(), w->border_pixel.begin(), w->border_pixel.end());
  }
  if (bytes <= static_cast<std::size_t>(kBorderBytes)) {
    for (std::size_t i = 0; i < wins.size(); ++i)
      std::memcpy(p.pixels + i * kBorderBytes, all.data() + i * bytes, bytes);
    return nullptr;
  }
  auto big = std::make_unique<Buffer>(all.size(), stream);
  copy_async(big->as<void>(), all.data(), all.size(), stream, true, true);
  p.border_big = big->as<unsigned char>();
  return big;
}

template <typename T>
void launch_typed(const Params& p, bool first_max, bool pair, std::size_t shared, Stream s) {
  const i64 tiles = static_cast<i64>(p.tiles_x) * ((p.h + p.th - 1) / p.th);
  // A rectangle's heavy phase is the column walk, one thread per column of the tile.
  const bool rect = p.win[pair ? 1 : 0].n_runs == 0;
  const int threads = pair || !rect ? kBlockThreads : p.twe;
  const dim3 grid(static_cast<unsigned>(tiles));
  const dim3 block(static_cast<unsigned>(threads));
  auto kernel = pair ? (first_max ? morph_kernel<T, true, true> : morph_kernel<T, false, true>)
                     : (first_max ? morph_kernel<T, true, false> : morph_kernel<T, false, false>);
  launch("morph_kernel", kernel, grid, block, shared, s, p);
}

void launch_params(const Params& p, MorphElem elem, bool first_max, bool pair, std::size_t shared,
                   Stream s) {
  if (p.h == 0 || p.wc == 0) return;
  if ((p.h + p.th - 1) / p.th * static_cast<i64>(p.tiles_x) > 0x7fffffff)
    throw ValueError("morphology: image too large for the GPU kernels' grid");
  switch (elem) {
    case MorphElem::u8:
      return launch_typed<std::uint8_t>(p, first_max, pair, shared, s);
    case MorphElem::u16:
      return launch_typed<std::uint16_t>(p, first_max, pair, shared, s);
    case MorphElem::s16:
      return launch_typed<std::int16_t>(p, first_max, pair, shared, s);
    case MorphElem::f32:
      return launch_typed<float>(p, first_max, pair, shared, s);
    case MorphElem::f64:
      return launch_typed<double>(p, first_max, pair, shared, s);
  }
}

// One launch of one pass with the given window geometry (a rectangle's row or column pass
// has kh or kw 1).
void run_single(const MorphImage& im, const MorphWindow& w, int kh, int kw, int ay, int ax,
                const TilePlan& t, const void* src, void* dst, MorphEpilogue epilogue,
                const void* other, Stream stream) {
  static thread_local Params p;  // about 5 KiB: not on the stack of every caller
  base_params(p, im, src, dst, epilogue, other);
  MorphWindow geo = w;
  geo.kh = kh, geo.kw = kw, geo.ay = ay, geo.ax = ax;
  int used = 0;
  p.win[0] = kernel_window(geo, p, used);
  p.lrow[0] = static_cast<int>(row_len(t.twe, kw, im.c, elem_size(im.elem)));
  set_tile(p, t);
  const auto big = set_border(p, {&w}, stream);
  launch_params(p, im.elem, w.dilate, false, t.shared, stream);
}

}  // namespace

int morph_max_runs() {
  return kMaxRuns;
}

bool morph_pass_supported(const MorphImage& im, const MorphWindow& w) {
  if (im.h < 1 || im.w < 1 || im.c < 1 || w.kh < 1 || w.kw < 1) return false;
  if (im.h > kMaxAxis || im.w * im.c > kMaxAxis) return false;
  const i64 tiles = (im.w * im.c + kTileWidths[3] - 1) / kTileWidths[3] * im.h;
  if (tiles > 0x7fffffff) return false;  // one block per tile, at most
  if (count_runs(w) > kMaxRuns) return false;
  return plan_pass(geometry(im), w.kh, w.kw, is_rect(w)).ok;
}

void morph_pass(const MorphImage& im, const MorphWindow& w, const void* src, void* dst,
                MorphEpilogue epilogue, const void* other, void* stream) {
  const Stream s = static_cast<Stream>(stream);
  const Geometry g = geometry(im);
  const bool rect = is_rect(w);
  if (!rect && count_runs(w) > kMaxRuns) throw ValueError("morphology: too many runs for the GPU");
  const PassPlan pp = plan_pass(g, w.kh, w.kw, rect);
  if (!pp.ok) throw ValueError("morphology: window too large for the GPU kernels' tiles");
  if (!pp.split) {
    run_single(im, w, w.kh, w.kw, w.ay, w.ax, pp.one, src, dst, epilogue, other, s);
    return;
  }
  const std::size_t bytes =
      static_cast<std::size_t>(im.h * im.w * im.c) * static_cast<std::size_t>(g.es);
  Buffer rows(bytes, s);
  run_single(im, w, 1, w.kw, 0, w.ax, pp.rows, src, rows.as<void>(), MorphEpilogue::none, nullptr,
             s);
  run_single(im, w, w.kh, 1, w.ay, 0, pp.cols, rows.as<void>(), dst, epilogue, other, s);
}

bool morph_pair_supported(const MorphImage& im, const MorphWindow& a, const MorphWindow& b) {
  if (im.border == MorphBorder::wrap) return false;  // the hull would span the image
  if (count_runs(a) + count_runs(b) > kMaxRuns) return false;
  const Geometry g = geometry(im);
  const TilePlan t = plan_pair(g, a, b);
  if (!t.ok) return false;
  const PassPlan pa = plan_pass(g, a.kh, a.kw, is_rect(a));
  const PassPlan pb = plan_pass(g, b.kh, b.kw, is_rect(b));
  if (!pa.ok || !pb.ok) return true;
  // Fused: one load of the first window and one store; apart: two passes and a temporary.
  return t.cost + 1 <= pass_cost(pa) + pass_cost(pb);
}

MorphPlanInfo morph_plan_info(const MorphImage& im, const MorphWindow& w) {
  MorphPlanInfo info;
  if (!morph_pass_supported(im, w)) return info;
  const PassPlan pp = plan_pass(geometry(im), w.kh, w.kw, is_rect(w));
  info.supported = true;
  info.split = pp.split;
  info.th = pp.split ? pp.cols.th : pp.one.th;
  info.twe = pp.split ? pp.cols.twe : pp.one.twe;
  info.pair = morph_pair_supported(im, w, w);
  if (info.pair) {
    const TilePlan t = plan_pair(geometry(im), w, w);
    info.pair_th = t.th;
    info.pair_twe = t.twe;
  }
  return info;
}

void morph_pair(const MorphImage& im, const MorphWindow& a, const MorphWindow& b, const void* src,
                void* dst, MorphEpilogue epilogue, const void* other, void* stream) {
  if (im.border == MorphBorder::wrap) throw ValueError("morphology: no fused pair for wrap");
  if (count_runs(a) + count_runs(b) > kMaxRuns)
    throw ValueError("morphology: too many runs for the GPU");
  const Stream s = static_cast<Stream>(stream);
  const Geometry g = geometry(im);
  const TilePlan t = plan_pair(g, a, b);
  if (!t.ok) throw ValueError("morphology: windows too large for the GPU kernels' tiles");
  static thread_local Params p;
  base_params(p, im, src, dst, epilogue, other);
  int used = 0;
  p.win[0] = kernel_window(a, p, used);
  p.win[1] = kernel_window(b, p, used);
  const PairShape ps = pair_shape(g, a, b, t.th, t.twe);
  p.lrow[0] = static_cast<int>(ps.lrow1);
  p.lrow[1] = static_cast<int>(ps.lrow2);
  p.y_rows = static_cast<int>(ps.y_rows);
  p.y_cols = static_cast<int>(ps.y_cols);
  set_tile(p, t);
  const auto big = set_border(p, {&a, &b}, s);
  launch_params(p, im.elem, a.dilate, true, t.shared, s);
}

}  // namespace gpu
}  // namespace foveal

// conv2d as an implicit GEMM on the GPU: for each group g,
//   out[n, g*og + o, y, x] = bias[g*og + o] + sum_k A[m, k] B[k, o]
// with M = N*OH*OW output pixels m = (n, y, x) as the rows, the group's og output channels as
// the columns, and K = kh*kw*cgp taps k = (i, j, c) as the depth:
//   A[m, k] = in[n, y*sh - pad_top + i*dh, x*sw - pad_left + j*dw, g*cgp + c] (0 outside),
//   B[k, o] = weight[g*og + o, i, j, c].
// conv.cu has packed the operands for this kernel: the input channels-last, (N, H, W, G*cgp),
// and the weight (C_out, kh, kw, cgp), each group's channels zero-padded to cgp, a multiple of
// 16 bytes' worth. So every 16 bytes of a row of A is 16 contiguous, aligned bytes of the
// packed input (or zeros, outside the image or past K): the im2col matrix is never formed,
// each block gathers its tiles straight into shared memory with 16-byte cp.async copies,
// double buffered so the next tile's gather overlaps this tile's products.
//
// Tiles: a block of 4 warps computes 64 pixels x 64 channels, K in steps of 128 bytes (64
// halves, 32 floats, 16 doubles); shared rows are padded by 16 bytes (row stride 144 B) so
// that ldmatrix's eight 16-byte rows and the 32-bit fragment loads hit distinct banks.
//   - float16 / bfloat16: each warp a 32x32 quarter, mma.m16n8k16 with float accumulators,
//     A and B fragments by ldmatrix (A rows are pixels, B rows are channels, both K-contiguous:
//     the "row.col" layouts of mma, no transposes);
//   - float32 with tf32 (torch's default for convolutions, cudnn.allow_tf32): the same with
//     mma.m16n8k8.tf32, fragments by 32-bit shared loads, the operands rounded to tf32 (to
//     nearest) by the packing;
//   - float32 without tf32, and float64: each thread a 4x8 block of FMAs.
// The epilogue stages the accumulators in shared memory (channel-major) so that each output
// channel's pixels are written by consecutive threads (NCHW rows), adds the bias and rounds.
#include "conv.hpp"
#include "mma.hpp"
#include "simt.hpp"

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;
using u32 = std::uint32_t;

constexpr int kThreads = 128;
constexpr int kBM = 64, kBN = 64;         // pixels x channels per block
constexpr int kRowBytes = 128;            // the K extent of a tile, in bytes
constexpr int kLdBytes = kRowBytes + 16;  // a shared row, padded against bank conflicts
constexpr int kStageBytes = (kBM + kBN) * kLdBytes;
constexpr int kRowsPerPass = kThreads / (kRowBytes / 16);  // 16: tile rows one copy pass fills
constexpr int kPasses = kBM / kRowsPerPass;                // 4 copies per thread per operand
constexpr int kLdC = kBM + 4;                              // the epilogue's staging row

static_assert(kBM == kBN, "the loader fills A and B rows alike");

enum class Math { mma16, tf32, fma };

template <class T>
struct Tile {
  static constexpr int kChunk = 16 / static_cast<int>(sizeof(T));  // elements per copy
  static constexpr int kBK = kRowBytes / static_cast<int>(sizeof(T));
  static constexpr int kLd = kLdBytes / static_cast<int>(sizeof(T));
};

// What the kernel reads: the plan with its products precomputed.
struct Gemm {
  const void* input;
  const void* weight;
  const void* bias;
  void* output;
  i64 m;    // n * oh * ow
  i64 ohw;  // oh * ow
  i64 cp;   // groups * cgp: the packed input's channels
  i64 c_out;
  int h, w, ow, og, cgp, k, kw, sh, sw, dh, dw, pad_top, pad_left;
  int n_tiles;  // channel tiles per group
  int tiles;    // groups * n_tiles
};

// The A rows (pixels) this thread copies: rows tid / 8 + 16 r, r < kPasses.
struct Rows {
  i64 base[kPasses];  // the pixel's image in the packed input
  int iy0[kPasses], ix0[kPasses];
  unsigned valid;  // bit r: row r is a pixel (m < M)
};

__device__ __forceinline__ Rows rows_of(const Gemm& p, i64 m0, int tid) {
  Rows rows;
  rows.valid = 0;
#pragma unroll
  for (int r = 0; r < kPasses; ++r) {
    const i64 m = m0 + tid / 8 + kRowsPerPass * r;
    const i64 img = m / p.ohw, pix = m - img * p.ohw;
    const int oy = static_cast<int>(pix / p.ow), ox = static_cast<int>(pix - oy * i64{p.ow});
    rows.base[r] = img * p.h * p.w * p.cp;
    rows.iy0[r] = oy * p.sh - p.pad_top;
    rows.ix0[r] = ox * p.sw - p.pad_left;
    if (m < p.m) rows.valid |= 1u << r;
  }
  return rows;
}

// Starts the copies of K tile [k0, k0 + kBK) of A and B into ``stage``: thread tid copies the
// 16 bytes at column tid % 8 of rows tid / 8 + 16 r; what lies outside the image, past K or
// past the group's channels is zero-filled.
template <class T>
__device__ __forceinline__ void load_tile(const Gemm& p, const Rows& rows, int g, int n0, int k0,
                                          unsigned char* stage, int tid) {
  constexpr int C = Tile<T>::kChunk, L = Tile<T>::kLd;
  const T* in = static_cast<const T*>(p.input);
  const T* wt = static_cast<const T*>(p.weight);
  T* as = reinterpret_cast<T*>(stage);
  T* bs = reinterpret_cast<T*>(stage + kBM * kLdBytes);
  const int col = (tid % 8) * C, k = k0 + col;
  const bool k_ok = k < p.k;
  int c = 0, dy = 0, dx = 0;
  if (k_ok) {
    const int tap = k / p.cgp, i = tap / p.kw;
    c = k - tap * p.cgp + g * p.cgp;
    dy = i * p.dh;
    dx = (tap - i * p.kw) * p.dw;
  }
#pragma unroll
  for (int r = 0; r < kPasses; ++r) {
    const int row = tid / 8 + kRowsPerPass * r;
    const int iy = rows.iy0[r] + dy, ix = rows.ix0[r] + dx;
    const bool ok = k_ok && (rows.valid >> r & 1u) && iy >= 0 && iy < p.h && ix >= 0 && ix < p.w;
    const T* src = ok ? in + rows.base[r] + (i64{iy} * p.w + ix) * p.cp + c : in;
    cp_async_16(as + row * L + col, src, ok ? 16 : 0);
  }
#pragma unroll
  for (int r = 0; r < kPasses; ++r) {
    const int row = tid / 8 + kRowsPerPass * r, o = n0 + row;
    const bool ok = k_ok && o < p.og;
    const T* src = ok ? wt + (i64{g} * p.og + o) * p.k + k : wt;
    cp_async_16(bs + row * L + col, src, ok ? 16 : 0);
  }
}

template <class T>
struct MmaKind;
template <>
struct MmaKind<Half> {
  static constexpr MmaType value = MmaType::f16;
};
template <>
struct MmaKind<BFloat16> {
  static constexpr MmaType value = MmaType::bf16;
};

// A warp's 32x32 quarter of the block's tile on tensor cores: 2 x 4 m16n8 accumulators.
template <class T, Math kMath>
struct TensorCoreTile {
  float acc[2][4][4];

  __device__ __forceinline__ void clear() {
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;
  }

  // acc += the stage's A rows wm*32.. times its B rows wn*32.. over the tile's K.
  __device__ __forceinline__ void multiply(const unsigned char* stage, int wm, int wn, int lane) {
    constexpr int L = Tile<T>::kLd;
    const T* as = reinterpret_cast<const T*>(stage) + wm * 32 * L;
    const T* bs = reinterpret_cast<const T*>(stage + kBM * kLdBytes) + wn * 32 * L;
    if constexpr (kMath == Math::mma16) {
#pragma unroll
      for (int ks = 0; ks < Tile<T>::kBK; ks += 16) {
        u32 a[2][4], b[4][2];
        // ldmatrix x4: lanes 0-15 give rows 0-15 at column ks, lanes 16-31 the same rows at
        // ks + 8: registers a0..a3 of the m16k16 fragment.
#pragma unroll
        for (int i = 0; i < 2; ++i)
          ldmatrix_x4(a[i], as + (i * 16 + lane % 16) * L + ks + lane / 16 * 8);
        // B rows are channels: matrices (channels 0-7, k 0-7), (0-7, 8-15), (8-15, 0-7),
        // (8-15, 8-15) are b0, b1 of two n8 tiles.
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          u32 r[4];
          ldmatrix_x4(r, bs + (j * 16 + lane / 16 * 8 + lane % 8) * L + ks + lane / 8 % 2 * 8);
          b[2 * j][0] = r[0], b[2 * j][1] = r[1], b[2 * j + 1][0] = r[2], b[2 * j + 1][1] = r[3];
        }
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j)
            mma_m16n8k16<MmaKind<T>::value>(acc[i][j], a[i], b[j], acc[i][j]);
      }
    } else {
      // tf32 fragments by lane (g, t) = (lane / 4, lane % 4): A (g, t), (g + 8, t), (g, t + 4),
      // (g + 8, t + 4); B (k = t, n = g), (t + 4, g). The values hold tf32 already.
      const u32* a32 = reinterpret_cast<const u32*>(as);
      const u32* b32 = reinterpret_cast<const u32*>(bs);
      const int g = lane / 4, t = lane % 4;
#pragma unroll
      for (int ks = 0; ks < Tile<T>::kBK; ks += 8) {
        u32 a[2][4], b[4][2];
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          const u32* row = a32 + (i * 16 + g) * L + ks + t;
          a[i][0] = row[0], a[i][1] = row[8 * L], a[i][2] = row[4], a[i][3] = row[8 * L + 4];
        }
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const u32* row = b32 + (j * 8 + g) * L + ks + t;
          b[j][0] = row[0], b[j][1] = row[4];
        }
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) mma_m16n8k8_tf32(acc[i][j], a[i], b[j], acc[i][j]);
      }
    }
  }

  // The accumulators into cs[channel][pixel]: c0, c1 at (g, 2t..2t+1), c2, c3 at (g + 8, ..).
  __device__ __forceinline__ void stage(float* cs, int wm, int wn, int lane) const {
    const int g = lane / 4, t = lane % 4;
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int m = wm * 32 + i * 16 + g + r / 2 * 8, o = wn * 32 + j * 8 + 2 * t + r % 2;
          cs[o * kLdC + m] = acc[i][j][r];
        }
  }
};

// The block's tile by FMAs: thread (tx, ty) = (tid % 8, tid / 8) owns pixels ty + 16 i and
// channels tx + 8 j (strided, so that a warp's shared loads hit distinct banks).
template <class T>
struct FmaTile {
  using Acc = Wide<T>;
  Acc acc[4][8];

  __device__ __forceinline__ void clear() {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[i][j] = 0;
  }

  __device__ __forceinline__ void multiply(const unsigned char* stage, int tid) {
    constexpr int L = Tile<T>::kLd;
    const T* as = reinterpret_cast<const T*>(stage) + tid / 8 * L;
    const T* bs = reinterpret_cast<const T*>(stage + kBM * kLdBytes) + tid % 8 * L;
#pragma unroll 4
    for (int k = 0; k < Tile<T>::kBK; ++k) {
      Acc a[4], b[8];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = as[16 * i * L + k];
#pragma unroll
      for (int j = 0; j < 8; ++j) b[j] = bs[8 * j * L + k];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
  }

  __device__ __forceinline__ void stage(Acc* cs, int tid) const {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 8; ++j) cs[(tid % 8 + 8 * j) * kLdC + tid / 8 + 16 * i] = acc[i][j];
  }
};

// Writes the staged tile: thread tid owns pixel tid % 64 and channels tid / 64 + 2 j, so each
// channel's 64 pixels go out as consecutive addresses (an NCHW row, unless an image ends).
template <class T, class Acc>
__device__ __forceinline__ void store_tile(const Gemm& p, const Acc* cs, int g, int n0, i64 m0,
                                           int tid) {
  const int ml = tid % kBM;
  const i64 m = m0 + ml;
  if (m >= p.m) return;
  const i64 img = m / p.ohw, pix = m - img * p.ohw;
  T* out = static_cast<T*>(p.output) + img * p.c_out * p.ohw + pix;
  const T* bias = static_cast<const T*>(p.bias);
  for (int nl = tid / kBM; nl < kBN && n0 + nl < p.og; nl += kThreads / kBM) {
    const i64 o = i64{g} * p.og + n0 + nl;
    Acc v = cs[nl * kLdC + ml];
    if (bias != nullptr) v += widen(bias[o]);
    out[o * p.ohw] = narrow<T>(v);
  }
}

template <class T, Math kMath>
__global__ void __launch_bounds__(kThreads) conv_gemm_kernel(Gemm p) {
  using Acc = Wide<T>;
  static_assert(2 * kStageBytes >= kBN * kLdC * static_cast<int>(sizeof(Acc)),
                "the epilogue's staging fits in the stages");
  alignas(16) __shared__ unsigned char smem[2 * kStageBytes];
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  const int wm = warp % 2, wn = warp / 2;
  const i64 m0 = static_cast<i64>(blockIdx.x) * kBM;
  const Rows rows = rows_of(p, m0, tid);
  const int k_tiles = (p.k + Tile<T>::kBK - 1) / Tile<T>::kBK;
  Acc* cs = reinterpret_cast<Acc*>(smem);
  for (int y = static_cast<int>(blockIdx.y); y < p.tiles; y += static_cast<int>(gridDim.y)) {
    const int g = y / p.n_tiles, n0 = (y - g * p.n_tiles) * kBN;
    // A warp whose quarter lies wholly past M or the group's channels skips its products
    // (warp-uniform, so mma.sync's full-warp rule holds).
    [[maybe_unused]] const bool busy = m0 + wm * 32 < p.m && n0 + wn * 32 < p.og;
    std::conditional_t<kMath == Math::fma, FmaTile<T>, TensorCoreTile<T, kMath>> tile;
    tile.clear();
    load_tile<T>(p, rows, g, n0, 0, smem, tid);
    cp_async_commit();
    for (int kt = 0; kt < k_tiles; ++kt) {
      if (kt + 1 < k_tiles) {
        load_tile<T>(p, rows, g, n0, (kt + 1) * Tile<T>::kBK, smem + (kt + 1) % 2 * kStageBytes,
                     tid);
        cp_async_commit();
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
      __syncthreads();  // tile kt has landed for every thread
      if constexpr (kMath == Math::fma)
        tile.multiply(smem + kt % 2 * kStageBytes, tid);
      else if (busy)
        tile.multiply(smem + kt % 2 * kStageBytes, wm, wn, lane);
      __syncthreads();  // every warp is done with the stage the next copies overwrite
    }
    if constexpr (kMath == Math::fma)
      tile.stage(cs, tid);
    else
      tile.stage(cs, wm, wn, lane);
    __syncthreads();
    store_tile<T>(p, cs, g, n0, m0, tid);
    __syncthreads();  // the staging is read before the next tile's copies overwrite it
  }
}

template <class T, Math kMath>
void run(const char* name, const Gemm& p, unsigned blocks_x, unsigned blocks_y, Stream s) {
  launch(name, conv_gemm_kernel<T, kMath>, dim3(blocks_x, blocks_y), dim3(kThreads), 0, s, p);
}

}  // namespace

namespace detail {

void conv_gemm(const ConvGemm& c, void* stream) {
  Gemm p;
  p.input = c.input, p.weight = c.weight, p.bias = c.bias, p.output = c.output;
  p.m = c.n * c.oh * c.ow;
  p.ohw = c.oh * c.ow;
  p.cp = c.groups * c.cgp;
  p.c_out = c.c_out;
  const i64 og = c.c_out / c.groups;
  // conv.cu has checked that these fit an int (taps, offsets and K).
  p.h = static_cast<int>(c.h), p.w = static_cast<int>(c.w), p.ow = static_cast<int>(c.ow);
  p.og = static_cast<int>(og), p.cgp = static_cast<int>(c.cgp);
  p.k = static_cast<int>(c.kh * c.kw * c.cgp), p.kw = static_cast<int>(c.kw);
  p.sh = static_cast<int>(c.sh), p.sw = static_cast<int>(c.sw);
  p.dh = static_cast<int>(c.dh), p.dw = static_cast<int>(c.dw);
  p.pad_top = static_cast<int>(c.pad_top), p.pad_left = static_cast<int>(c.pad_left);
  p.n_tiles = static_cast<int>((og + kBN - 1) / kBN);
  p.tiles = static_cast<int>(c.groups * p.n_tiles);
  if (p.m == 0) return;
  const unsigned bx = static_cast<unsigned>((p.m + kBM - 1) / kBM);
  const unsigned by = static_cast<unsigned>(p.tiles < 65535 ? p.tiles : 65535);
  const Stream s = static_cast<Stream>(stream);
  switch (c.dtype) {
    case ConvType::f16:
      run<Half, Math::mma16>("conv_gemm<f16>", p, bx, by, s);
      break;
    case ConvType::bf16:
      run<BFloat16, Math::mma16>("conv_gemm<bf16>", p, bx, by, s);
      break;
    case ConvType::f32:
      if (c.tf32)
        run<float, Math::tf32>("conv_gemm<tf32>", p, bx, by, s);
      else
        run<float, Math::fma>("conv_gemm<f32>", p, bx, by, s);
      break;
    case ConvType::f64:
      run<double, Math::fma>("conv_gemm<f64>", p, bx, by, s);
      break;
  }
}

}  // namespace detail
}  // namespace gpu
}  // namespace foveal

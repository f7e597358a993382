// conv2d on the GPU: torch.nn.functional.conv2d (cross-correlation) of an NCHW input with any
// strides by a (C_out, C_in / groups, kh, kw) weight, with stride, zero padding, dilation,
// groups and bias; float16, bfloat16, float32 and float64; the output NCHW, contiguous:
//   out[n, g*og + o, y, x] = bias[g*og + o] + sum_{c, i, j} weight[g*og + o, c, i, j]
//                            * in[n, g*cg + c, y*sh - pad_top + i*dh, x*sw - pad_left + j*dw].
//
// Two algorithms, as on the CPU (cpp/src/nn/conv.cpp):
//   - groups == C_in (depthwise: each output channel reads one input channel): a direct kernel,
//     one thread per output value, consecutive threads on consecutive output pixels of one
//     plane, the window read through the read-only cache (its rows overlap between
//     neighbours, so most reads hit L1); memory-bound, a few FMAs per value read. Every dtype
//     accumulates in float (double for float64) with plain FMAs: no tensor cores, as cuDNN's
//     depthwise kernels.
//   - otherwise an implicit GEMM (conv_gemm.cu) on tensor cores for float16 / bfloat16 and
//     float32 with tf32, FMAs for float32 without tf32 and for float64. Its operands are packed
//     first, here: the input channels-last, (N, H, W, groups * cgp), and the weight
//     (C_out, kh, kw, cgp), each group's channels zero-padded to cgp (a multiple of 16 bytes).
//     In that layout every 16 bytes of a row of the im2col matrix are 16 contiguous, aligned
//     bytes of the packed input, which the GEMM gathers with cp.async; gathering from NCHW
//     would take one 2-byte load per element. The packing is one tiled transpose (32 x 32
//     tiles through shared memory: coalesced reads along the plane, coalesced writes along the
//     channels) and reads the input through its strides, so a non-contiguous view costs
//     nothing extra. For tf32 it also rounds the operands to tf32 (to nearest), once.
#include <climits>
#include <cstring>

#include "conv.hpp"
#include "foveal/error.hpp"
#include "mma.hpp"
#include "simt.hpp"

namespace foveal {
namespace gpu {
namespace {

using i64 = std::int64_t;

__device__ __forceinline__ float tf32_round(float v) {
  const std::uint32_t bits = to_tf32(v);
  float r;
  std::memcpy(&r, &bits, 4);
  return r;
}

// ------------------------------------------------------------------------------- packing

struct PackInput {
  const void* input;
  i64 sn, sc, sh, sw;  // element strides
  void* output;        // (n, h, w, groups * cgp)
  i64 n, h, w, groups, cg, cgp;
  bool tf32;
};

// T: std::uint16_t (a 16-bit type's bits: the packing only moves them), float or double.
// Channels and pixels of a plane are ints (conv2d checked that they fit), offsets 64-bit.
template <class T>
__global__ void pack_input_kernel(PackInput a) {
  __shared__ T tile[32][33];
  const T* in = static_cast<const T*>(a.input);
  T* out = static_cast<T*>(a.output);
  const int hw = static_cast<int>(a.h * a.w), cp = static_cast<int>(a.groups * a.cgp);
  const int cg = static_cast<int>(a.cg), cgp = static_cast<int>(a.cgp);
  const int q_blocks = (cp + 31) / 32;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int p0 = static_cast<int>(blockIdx.x) * 32;
  // This thread reads pixel p0 + tx of every plane.
  const int y = (p0 + tx) / static_cast<int>(a.w), x = p0 + tx - y * static_cast<int>(a.w);
  const i64 pixel = y * a.sh + x * a.sw;
  for (i64 img = blockIdx.z; img < a.n; img += gridDim.z)
    for (int qb = static_cast<int>(blockIdx.y); qb < q_blocks; qb += static_cast<int>(gridDim.y)) {
      const int q0 = qb * 32;
      // Read: row r of the tile is packed channel q0 + r, threads along the plane's pixels.
      for (int r = ty; r < 32; r += 8) {
        const int q = q0 + r, g = q / cgp, c = q - g * cgp;
        T v = T(0);
        if (q < cp && p0 + tx < hw && c < cg) {
          v = in[img * a.sn + (i64{g} * cg + c) * a.sc + pixel];
          if constexpr (std::is_same<T, float>::value)
            if (a.tf32) v = tf32_round(v);
        }
        tile[r][tx] = v;
      }
      __syncthreads();
      // Write: row r is pixel p0 + r, threads along its packed channels.
      for (int r = ty; r < 32; r += 8) {
        const int p = p0 + r, q = q0 + tx;
        if (p < hw && q < cp) out[(img * hw + p) * cp + q] = tile[tx][r];
      }
      __syncthreads();
    }
}

struct PackWeight {
  const void* weight;  // (c_out, cg, taps)
  void* output;        // (c_out, taps, cgp)
  i64 c_out, cg, taps, cgp;
  bool tf32;
};

template <class T>
__global__ void pack_weight_kernel(PackWeight a) {
  const T* w = static_cast<const T*>(a.weight);
  T* out = static_cast<T*>(a.output);
  const i64 total = a.c_out * a.taps * a.cgp;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 c = i % a.cgp, tap = i / a.cgp % a.taps, o = i / (a.cgp * a.taps);
    T v = T(0);
    if (c < a.cg) {
      v = w[(o * a.cg + c) * a.taps + tap];
      if constexpr (std::is_same<T, float>::value)
        if (a.tf32) v = tf32_round(v);
    }
    out[i] = v;
  }
}

// ----------------------------------------------------------------------------- depthwise

// One thread per output pixel of a plane (blockIdx.y walks the planes); positions are ints
// (conv2d checked that they fit), offsets 64-bit.
template <class T>
__global__ void depthwise_kernel(ConvArgs a) {
  using Acc = Wide<T>;
  const T* in = static_cast<const T*>(a.input);
  const T* weight = static_cast<const T*>(a.weight);
  const T* bias = static_cast<const T*>(a.bias);
  T* out = static_cast<T*>(a.output);
  const int h = static_cast<int>(a.h), w = static_cast<int>(a.w), ow = static_cast<int>(a.ow);
  const int kh = static_cast<int>(a.kh), kw = static_cast<int>(a.kw);
  const int ohw = static_cast<int>(a.oh) * ow;
  const i64 planes = a.n * a.c_out, mult = a.c_out / a.c_in;
  for (i64 plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const i64 img = plane / a.c_out, o = plane - img * a.c_out;
    const T* src = in + img * a.in_sn + o / mult * a.in_sc;
    const T* wt = weight + o * kh * kw;
    const Acc b = bias != nullptr ? widen(bias[o]) : Acc(0);
    for (int p = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); p < ohw;
         p += static_cast<int>(gridDim.x * blockDim.x)) {
      const int y = p / ow, x = p - y * ow;
      const int iy0 = y * static_cast<int>(a.sh) - static_cast<int>(a.pad_top);
      const int ix0 = x * static_cast<int>(a.sw) - static_cast<int>(a.pad_left);
      Acc acc = 0;
      for (int i = 0; i < kh; ++i) {
        const int iy = iy0 + i * static_cast<int>(a.dh);
        if (iy < 0 || iy >= h) continue;
        const T* row = src + iy * a.in_sh;
        for (int j = 0; j < kw; ++j) {
          const int ix = ix0 + j * static_cast<int>(a.dw);
          if (ix < 0 || ix >= w) continue;
          acc = fma(widen(__ldg(row + ix * a.in_sw)), widen(__ldg(wt + i * kw + j)), acc);
        }
      }
      out[plane * ohw + p] = narrow<T>(acc + b);
    }
  }
}

unsigned clamp_blocks(i64 blocks, i64 limit) {
  return static_cast<unsigned>(blocks < limit ? blocks : limit);
}

void depthwise(const ConvArgs& a, Stream s) {
  // Small planes (7 x 7, say) get a block of a warp or two rather than mostly idle lanes.
  const i64 ohw = a.oh * a.ow;
  const unsigned threads = ohw >= 128 ? 128 : static_cast<unsigned>((ohw + 31) / 32 * 32);
  const dim3 grid(clamp_blocks((ohw + threads - 1) / threads, 65535),
                  clamp_blocks(a.n * a.c_out, 65535));
  const dim3 block(threads);
  switch (a.dtype) {
    case ConvType::f16:
      launch("conv_depthwise<f16>", depthwise_kernel<Half>, grid, block, 0, s, a);
      break;
    case ConvType::bf16:
      launch("conv_depthwise<bf16>", depthwise_kernel<BFloat16>, grid, block, 0, s, a);
      break;
    case ConvType::f32:
      launch("conv_depthwise<f32>", depthwise_kernel<float>, grid, block, 0, s, a);
      break;
    case ConvType::f64:
      launch("conv_depthwise<f64>", depthwise_kernel<double>, grid, block, 0, s, a);
      break;
  }
}

template <class T>
void pack(const PackInput& in, const PackWeight& wt, Stream s) {
  const i64 hw = in.h * in.w, cp = in.groups * in.cgp;
  const dim3 grid(clamp_blocks((hw + 31) / 32, INT_MAX), clamp_blocks((cp + 31) / 32, 65535),
                  clamp_blocks(in.n, 65535));
  launch("conv_pack_input", pack_input_kernel<T>, grid, dim3(32, 8), 0, s, in);
  const i64 total = wt.c_out * wt.taps * wt.cgp;
  launch("conv_pack_weight", pack_weight_kernel<T>, dim3(clamp_blocks((total + 255) / 256, 4096)),
         dim3(256), 0, s, wt);
}

int element_size(ConvType t) {
  switch (t) {
    case ConvType::f16:
    case ConvType::bf16:
      return 2;
    case ConvType::f32:
      return 4;
    case ConvType::f64:
      break;
  }
  return 8;
}

// Under the emulator, temporaries start as NaN (all bits set, in every dtype), so that an
// element the packing fails to write shows in the result.
void poison(const Buffer& b, i64 bytes) {
#if defined(FOVEAL_SIMT_EMU)
  std::memset(b.as<void>(), 0xff, static_cast<std::size_t>(bytes));
#else
  (void)b;
  (void)bytes;
#endif
}

}  // namespace

void conv2d(const ConvArgs& a, void* stream) {
  const Stream s = static_cast<Stream>(stream);
  if (a.n == 0 || a.c_out == 0 || a.oh == 0 || a.ow == 0) return;
  const int size = element_size(a.dtype);
  const i64 chunk = 16 / size, cg = a.c_in / a.groups, cgp = (cg + chunk - 1) / chunk * chunk;
  const i64 taps = a.kh * a.kw, cp = a.groups * cgp;
  // The kernels index taps, channels and positions in a plane with ints (fewer registers,
  // cheaper divisions); offsets are 64-bit. Past that a plane or a window would span 2^31.
  const bool fits = taps * cgp < INT_MAX && cp < INT_MAX && a.h * a.w < INT_MAX &&
                    a.oh * a.ow < INT_MAX && a.c_out < INT_MAX &&
                    (a.oh - 1) * a.sh + (a.kh - 1) * a.dh < INT_MAX &&
                    (a.ow - 1) * a.sw + (a.kw - 1) * a.dw < INT_MAX && a.pad_top < INT_MAX &&
                    a.pad_left < INT_MAX && (a.n * a.oh * a.ow + 63) / 64 < INT_MAX;
  if (!fits) throw ValueError("conv2d: the shapes pass the GPU kernels' 2^31 index limits");
  if (a.groups == a.c_in) {
    depthwise(a, s);
    return;
  }
  const i64 in_bytes = a.n * a.h * a.w * cp * size, w_bytes = a.c_out * taps * cgp * size;
  Buffer packed_in(static_cast<std::size_t>(in_bytes), s);
  Buffer packed_w(static_cast<std::size_t>(w_bytes), s);
  poison(packed_in, in_bytes);
  poison(packed_w, w_bytes);
  const bool tf32 = a.dtype == ConvType::f32 && a.tf32;
  const PackInput pin{a.input, a.in_sn,  a.in_sc, a.in_sh, a.in_sw, packed_in.as<void>(), a.n, a.h,
                      a.w,     a.groups, cg,      cgp,     tf32};
  const PackWeight pw{a.weight, packed_w.as<void>(), a.c_out, cg, taps, cgp, tf32};
  if (size == 2)
    pack<std::uint16_t>(pin, pw, s);
  else if (size == 4)
    pack<float>(pin, pw, s);
  else
    pack<double>(pin, pw, s);

  detail::ConvGemm plan;
  plan.dtype = a.dtype;
  plan.tf32 = a.tf32;
  plan.input = packed_in.as<void>();
  plan.weight = packed_w.as<void>();
  plan.bias = a.bias;
  plan.output = a.output;
  plan.n = a.n, plan.h = a.h, plan.w = a.w, plan.oh = a.oh, plan.ow = a.ow;
  plan.c_out = a.c_out, plan.groups = a.groups, plan.cgp = cgp, plan.kh = a.kh, plan.kw = a.kw;
  plan.sh = a.sh, plan.sw = a.sw, plan.dh = a.dh, plan.dw = a.dw;
  plan.pad_top = a.pad_top, plan.pad_left = a.pad_left;
  detail::conv_gemm(plan, stream);
}

}  // namespace gpu
}  // namespace foveal

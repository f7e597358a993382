// Corner responses (Harris, and the smaller eigenvalue of Shi-Tomasi), compiled once per
// instruction set. Fused band by band: gradient rows (row_engine.hpp), their products gx^2,
// gx gy, gy^2 cached per source row, block sums down and across, and the response, with no
// full-size intermediate.
#include <cstdint>
#include <cstring>

#include "filter_plan.hpp"
#include "foveal/image.hpp"
#include "foveal/parallel.hpp"
#include "row_engine.hpp"
#include "simd.hpp"

namespace foveal {
namespace FOVEAL_ISA {
namespace {

using detail::CornerPlan;

template <typename W>
void corner_band(void* context, i64 index) {
  const Job& job = *static_cast<const Job*>(context);
  const CornerPlan& plan = *static_cast<const CornerPlan*>(job.plan);
  const ConstImageView& src = job.src;
  const i64 n = src.cols;  // one channel
  const int B = plan.block;
  i64 y0, y1;
  band_range(job, index, y0, y1);
  const int slots = B + 1;
  const i64 padded = n + B - 1;
  Scratch scratch(GradientRows<W>::bytes(plan.gradient, src) + RowCache<W>::bytes(slots, 3 * n) +
                  (6 * n + 3 * padded + B) * sizeof(W) + 2 * B * sizeof(W*) + 14 * 64);
  Carve carve{static_cast<char*>(scratch.p)};
  GradientRows<W> grad;
  grad.init(plan.gradient, src, carve);
  RowCache<W> products;
  products.init(carve.take<char>(static_cast<i64>(RowCache<W>::bytes(slots, 3 * n))), slots, 3 * n);
  W* gx = carve.take<W>(n);
  W* gy = carve.take<W>(n);
  W* sums = carve.take<W>(3 * n);  // a, b, c: the block sums
  W* across = carve.take<W>(3 * padded);
  W* resp = carve.take<W>(n);
  W* ones = carve.take<W>(B);
  const W** rows = carve.take<const W*>(B);
  const W** taps = carve.take<const W*>(B);
  for (int t = 0; t < B; ++t) ones[t] = W(1);
  const W zero[1] = {W(0)};

  // A product row: gx^2, gx gy, gy^2 of source row r; zeros for the constant border.
  auto fill = [&](i64 r, W* out) {
    if (r < 0) {
      for (i64 i = 0; i < 3 * n; ++i) out[i] = W(0);
      return;
    }
    grad.row(r, gx, gy);
    W* __restrict a = out;
    W* __restrict b = out + n;
    W* __restrict c = out + 2 * n;
    for (i64 i = 0; i < n; ++i) {
      a[i] = gx[i] * gx[i];
      b[i] = gx[i] * gy[i];
      c[i] = gy[i] * gy[i];
    }
  };
  const W k = static_cast<W>(plan.k);
  for (i64 y = y0; y < y1; ++y) {
    products.begin_row();
    for (int t = 0; t < B; ++t) rows[t] = products.get(plan.product_rows[y + t], fill);
    // Each product summed down the block, straight into the middle of its padded row; then
    // its border columns, and the sums across.
    for (int p = 0; p < 3; ++p) {
      W* q = across + p * padded;
      for (int t = 0; t < B; ++t) taps[t] = rows[t] + p * n;
      dot_rows<W>(q + plan.anchor, taps, ones, B, n);
      fill_edges(q, n, 1, plan.anchor, B - 1 - plan.anchor, plan.product_cols, zero);
      for (int t = 0; t < B; ++t) taps[t] = q + t;
      dot_rows<W>(sums + p * n, taps, ones, B, n);
    }
    const W* __restrict a = sums;
    const W* __restrict b = sums + n;
    const W* __restrict c = sums + 2 * n;
    if (plan.harris) {
      for (i64 i = 0; i < n; ++i)
        resp[i] = a[i] * c[i] - b[i] * b[i] - k * (a[i] + c[i]) * (a[i] + c[i]);
    } else {
      for (i64 i = 0; i < n; ++i) {
        const W ha = a[i] * W(0.5), hc = c[i] * W(0.5);
        resp[i] = (ha + hc) - sqrt_of((ha - hc) * (ha - hc) + b[i] * b[i]);
      }
    }
    store_row<W>(job.dst, y, resp, W(0), job.stream);
  }
  if (job.stream) stream_fence();
}

// The value a pixel has after cv2's THRESH_TOZERO: itself above the threshold, else 0 (NaN too).
// V is a vector or a scalar.
template <typename V>
inline V above(V v, V threshold) {
  return v > threshold ? v : V{};
}

// out[i] = 1 where lane i of the comparison result `is` (all ones or 0) is set, else 0: one
// movemask and one bit deposit where AVX2 is there (GCC's generic narrowing of the lanes
// takes a dozen extracts and shifts).
template <typename W, typename M>
inline void store_lane_bytes(M is, std::uint8_t* out) {
  constexpr int N = static_cast<int>(Lanes<W>::N);
#if defined(__AVX2__) && defined(__BMI2__)
  unsigned bits;
  if constexpr (sizeof(W) == 4)
    bits = static_cast<unsigned>(_mm256_movemask_ps(reinterpret_cast<__m256>(is)));
  else
    bits = static_cast<unsigned>(_mm256_movemask_pd(reinterpret_cast<__m256d>(is)));
  const std::uint64_t bytes = _pdep_u64(bits, 0x0101010101010101ull);
  std::memcpy(out, &bytes, N);
#else
  for (int i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(is[i] & 1);
#endif
}

template <typename W>
void corner_maxima_row_of(const W* up, const W* mid, const W* down, W threshold, i64 cols,
                          W* colmax, std::uint8_t* hit) {
  using L = Lanes<W>;
  using V = typename L::W;
  constexpr i64 N = L::N;
  const V th = L::splat(threshold);
  // column maxima of the three thresholded rows
  i64 x = 0;
  for (; x + N <= cols; x += N) {
    const V a = above(L::load(up + x), th), b = above(L::load(mid + x), th);
    const V c = above(L::load(down + x), th);
    const V ab = a > b ? a : b;
    L::store(colmax + x, ab > c ? ab : c);
  }
  for (; x < cols; ++x)
    colmax[x] = max_of(max_of(above(up[x], threshold), above(mid[x], threshold)),
                       above(down[x], threshold));
  // a pixel off the first and last columns that is not 0 and is its window's maximum
  x = 1;
  for (; x + N + 1 <= cols; x += N) {
    const V l = L::load(colmax + x - 1), c = L::load(colmax + x), r = L::load(colmax + x + 1);
    const V lc = l > c ? l : c;
    const V window = lc > r ? lc : r;
    const V m = above(L::load(mid + x), th);
    store_lane_bytes<W>((m != V{}) & (m >= window), hit + x);
  }
  for (; x + 1 < cols; ++x) {
    const W window = max_of(max_of(colmax[x - 1], colmax[x]), colmax[x + 1]);
    const W m = above(mid[x], threshold);
    hit[x] = static_cast<std::uint8_t>((m != W(0)) & (m >= window));
  }
}

}  // namespace

void corner_maxima_row(const void* up, const void* mid, const void* down, bool wide,
                       double threshold, i64 cols, void* colmax, std::uint8_t* hit) {
  if (wide)
    corner_maxima_row_of<double>(static_cast<const double*>(up), static_cast<const double*>(mid),
                                 static_cast<const double*>(down), threshold, cols,
                                 static_cast<double*>(colmax), hit);
  else
    corner_maxima_row_of<float>(static_cast<const float*>(up), static_cast<const float*>(mid),
                                static_cast<const float*>(down), static_cast<float>(threshold),
                                cols, static_cast<float*>(colmax), hit);
}

void corner_response(const detail::CornerPlan& plan, const ConstImageView& src,
                     const ImageView& dst) {
  Job job{&plan, src, dst, ImageView{}, 0, stream_output(dst)};
  run_bands(job, plan.block + 2 * plan.gradient.radius,
            plan.gradient.wide ? &corner_band<double> : &corner_band<float>);
}

}  // namespace FOVEAL_ISA
}  // namespace foveal

// Scaled dot-product attention from C++: foveal::scaled_dot_product_attention
// (torch.nn.functional.scaled_dot_product_attention's numbers) against
// softmax(Q K^T * scale + mask) V written naively in double, with grouped key/value heads, a
// mask broadcast over batch and heads, and causal rows.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "demos.hpp"
#include "foveal/foveal.hpp"

namespace example {
namespace {

using i64 = std::int64_t;

// query (b, hq, l, e), key (b, hkv, s, e), value (b, hkv, s, ev), out (b, hq, l, ev).
struct Shape {
  i64 b, hq, hkv, l, s, e, ev;
};

template <typename T>
std::vector<T> random_values(i64 n, double lo, double hi, Random& random) {
  std::vector<T> v(static_cast<std::size_t>(n));
  for (T& x : v) x = static_cast<T>(random.uniform(lo, hi));
  return v;
}

// The definition, row by row in double: query head h reads key/value head g = h / (hq / hkv);
//   x_j = scale * q_i . k_j + mask(b, h, i, j)   (-inf for j > i when causal)
//   out_i = sum_j exp(x_j - max x) v_j / sum_j exp(x_j - max x)
// and a row none of whose keys takes part (every x_j = -inf) gets empty_row.
template <typename T>
std::vector<double> attention_loop(const Shape& d, const std::vector<T>& q, const std::vector<T>& k,
                                   const std::vector<T>& v, const foveal::AttentionMask& mask,
                                   const foveal::AttentionOptions& options) {
  const double inf = std::numeric_limits<double>::infinity();
  const T* m = static_cast<const T*>(mask.data);
  std::vector<double> out(static_cast<std::size_t>(d.b * d.hq * d.l * d.ev));
  std::vector<double> x(static_cast<std::size_t>(d.s));
  for (i64 b = 0; b < d.b; ++b) {
    for (i64 h = 0; h < d.hq; ++h) {
      const i64 g = h / (d.hq / d.hkv);
      const T* kh = k.data() + (b * d.hkv + g) * d.s * d.e;
      const T* vh = v.data() + (b * d.hkv + g) * d.s * d.ev;
      for (i64 i = 0; i < d.l; ++i) {
        const T* qi = q.data() + ((b * d.hq + h) * d.l + i) * d.e;
        double top = -inf;
        for (i64 j = 0; j < d.s; ++j) {
          double dot = 0;
          for (i64 t = 0; t < d.e; ++t) dot += static_cast<double>(qi[t]) * kh[j * d.e + t];
          double xj = options.scale * dot;
          if (m)
            xj += m[b * mask.stride_b + h * mask.stride_h + i * mask.stride_l + j * mask.stride_s];
          if (options.causal && j > i) xj = -inf;
          x[static_cast<std::size_t>(j)] = xj;
          top = std::max(top, xj);
        }
        double* o = out.data() + ((b * d.hq + h) * d.l + i) * d.ev;
        if (top == -inf) {
          for (i64 c = 0; c < d.ev; ++c) o[c] = options.empty_row;
          continue;
        }
        double sum = 0;
        for (i64 j = 0; j < d.s; ++j) {
          const double p = std::exp(x[static_cast<std::size_t>(j)] - top);
          sum += p;
          for (i64 c = 0; c < d.ev; ++c) o[c] += p * vh[j * d.ev + c];
        }
        for (i64 c = 0; c < d.ev; ++c) o[c] /= sum;
      }
    }
  }
  return out;
}

// foveal's attention on random q, k, v of T (float32 or float64) against attention_loop;
// `mask` holds the mask's values (or nothing) and `strides` where element (b, h, i, j) lies.
template <typename T>
int check(const char* what, const Shape& d, const std::vector<T>& mask,
          foveal::AttentionMask strides, const foveal::AttentionOptions& options,
          double tolerance) {
  const foveal::DType dtype = sizeof(T) == 4 ? foveal::DType::f32 : foveal::DType::f64;
  Random random(2024u);
  const std::vector<T> q = random_values<T>(d.b * d.hq * d.l * d.e, -3, 3, random);
  const std::vector<T> k = random_values<T>(d.b * d.hkv * d.s * d.e, -1, 1, random);
  const std::vector<T> v = random_values<T>(d.b * d.hkv * d.s * d.ev, -1, 1, random);
  std::vector<T> out(static_cast<std::size_t>(d.b * d.hq * d.l * d.ev));
  strides.data = mask.empty() ? nullptr : mask.data();

  // Tensor views are contiguous (n, c, h, w): here (batch, heads, length, head size).
  foveal::scaled_dot_product_attention(
      foveal::ConstTensorView{q.data(), dtype, d.b, d.hq, d.l, d.e},
      foveal::ConstTensorView{k.data(), dtype, d.b, d.hkv, d.s, d.e},
      foveal::ConstTensorView{v.data(), dtype, d.b, d.hkv, d.s, d.ev},
      foveal::TensorView{out.data(), dtype, d.b, d.hq, d.l, d.ev}, strides, options);

  const std::vector<double> expected = attention_loop(d, q, k, v, strides, options);
  MaxDiff diff;
  for (std::size_t p = 0; p < out.size(); ++p) diff.add(out[p], expected[p]);
  return report(what, diff.value, tolerance);
}

}  // namespace

int attention_demo() {
  int failed = 0;

  // float32, no mask; 4 query heads share 2 key/value heads (grouped-query attention); 70
  // queries and 150 keys cross foveal's query and key tiles. The outputs are weighted averages
  // of values in [-1, 1], computed in float32 (eps 6e-8): 2e-6 is some 30 roundings.
  {
    const Shape d{2, 4, 2, 70, 150, 64, 48};
    foveal::AttentionOptions options;
    options.scale = 1.0 / std::sqrt(static_cast<double>(d.e));  // torch's default
    failed += check<float>("float32, 4 query / 2 kv heads, l 70, s 150", d, {}, {}, options, 2e-6);
  }

  // float32 with an additive (l, s) bias, -0.05 |i - j|, broadcast over batch and heads by
  // zero strides.
  {
    const Shape d{2, 3, 3, 40, 90, 32, 32};
    std::vector<float> bias(static_cast<std::size_t>(d.l * d.s));
    for (i64 i = 0; i < d.l; ++i)
      for (i64 j = 0; j < d.s; ++j)
        bias[static_cast<std::size_t>(i * d.s + j)] = -0.05f * static_cast<float>(std::abs(i - j));
    foveal::AttentionMask strides;
    strides.stride_l = d.s;
    strides.stride_s = 1;  // stride_b = stride_h = 0: one (l, s) plane for every (b, h)
    foveal::AttentionOptions options;
    options.scale = 1.0 / std::sqrt(static_cast<double>(d.e));
    failed += check<float>("float32, (l, s) bias mask broadcast", d, bias, strides, options, 2e-6);
  }

  // float64, causal, with a (b, s) key-padding mask (b, 1, 1, s) broadcast over heads and
  // rows: batch 1 hides its first 3 keys (-inf), so its causal rows 0..2 see no key at all and
  // get empty_row (0, what torch's scaled_dot_product_attention gives there).
  {
    const Shape d{2, 2, 1, 60, 60, 16, 24};
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> padding(static_cast<std::size_t>(d.b * d.s), 0.0);
    for (i64 j = 0; j < 3; ++j) padding[static_cast<std::size_t>(d.s + j)] = -inf;
    foveal::AttentionMask strides;
    strides.stride_b = d.s;
    strides.stride_s = 1;
    foveal::AttentionOptions options;
    options.scale = 0.3;
    options.causal = true;
    options.empty_row = 0.0;
    failed += check<double>("float64, causal, key padding, empty rows", d, padding, strides,
                            options, 1e-13);
  }
  return failed;
}

}  // namespace example

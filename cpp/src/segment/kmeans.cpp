// The k-means driver: argument checks and the kernel of the active instruction set.
#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "foveal/error.hpp"
#include "foveal/parallel.hpp"
#include "foveal/segment.hpp"
#include "isa_table.hpp"
#include "kmeans_plan.hpp"

FOVEAL_FOR_EACH_ISA(FOVEAL_DECLARE_KMEANS_KERNELS)

namespace foveal {
namespace {

struct KMeansKernels {
  decltype(&baseline::kmeans_assign) kmeans_assign;
};

#define FOVEAL_KMEANS_KERNELS(isa) \
  KMeansKernels {                  \
    &isa::kmeans_assign            \
  }

FOVEAL_KERNEL_TABLE(KMeansKernels, FOVEAL_KMEANS_KERNELS)

}  // namespace

double kmeans_assign(const void* data, const void* centers, const void* weights, DType dtype,
                     std::int64_t n, std::int64_t d, std::int64_t k, std::int32_t* labels,
                     double* sums, double* counts, double* distances, std::int64_t* changed,
                     bool want_inertia, bool changes_only, double* upper, double* lower,
                     double* norms, const double* shift) {
  if (dtype != DType::f32 && dtype != DType::f64)
    throw TypeError(std::string("kmeans: data dtype ") + dtype_name(dtype) +
                    " is not supported (float32, float64)");
  if (n < 1 || d < 1 || k < 1) throw ValueError("kmeans: data and centers must not be empty");
  if (k > 2147483647) throw ValueError("kmeans: too many centers");
  detail::KMeansPlan plan;
  plan.wide = dtype == DType::f64;
  plan.data = data, plan.centers = centers, plan.weights = weights;
  plan.n = n, plan.d = d, plan.k = k;
  plan.labels = labels, plan.sums = sums, plan.counts = counts, plan.distances = distances;
  plan.want_inertia = want_inertia;
  if ((upper == nullptr) != (lower == nullptr) || (upper == nullptr) != (norms == nullptr) ||
      (shift && !upper))
    throw ValueError("kmeans: the bounds need upper, lower and norms together, shift all three");
  if (shift && !changes_only)
    throw ValueError("kmeans: pruning with shift needs the sums as changes (changes_only)");
  plan.changes_only = changes_only;
  plan.upper = upper, plan.lower = lower, plan.norms = norms, plan.shift = shift;
  kernels().kmeans_assign(plan);
  if (changed) *changed = plan.changed;
  return want_inertia ? plan.inertia : 0.0;
}

namespace {

template <typename T>
double inertia_of(const T* data, const T* centers, const T* weights, std::int64_t n, std::int64_t d,
                  std::int64_t k, const std::int32_t* labels, double* distances) {
  // Fixed chunks summed in order: the same total for any thread count.
  constexpr std::int64_t kChunk = 16384;
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
  std::atomic<bool> bad_label{false};
  parallel_for(chunks, [&](std::int64_t c) {
    double sum = 0.0;
    for (std::int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) {
      const std::int32_t label = labels[i];
      if (label < 0 || label >= k) {
        bad_label = true;
        return;
      }
      const T* x = data + i * d;
      const T* ctr = centers + static_cast<std::int64_t>(label) * d;
      T dist = T(0);  // in the data's precision, as scikit-learn's
      for (std::int64_t e = 0; e < d; ++e) {
        const T diff = x[e] - ctr[e];
        dist += diff * diff;
      }
      if (distances) distances[i] = static_cast<double>(dist);
      sum += static_cast<double>(dist) * (weights ? static_cast<double>(weights[i]) : 1.0);
    }
    partial[static_cast<std::size_t>(c)] = sum;
  });
  if (bad_label) throw ValueError("kmeans: labels must lie in [0, k)");
  double total = 0.0;
  for (const double v : partial) total += v;
  return total;
}

}  // namespace

double kmeans_inertia(const void* data, const void* centers, const void* weights, DType dtype,
                      std::int64_t n, std::int64_t d, std::int64_t k, const std::int32_t* labels,
                      double* distances) {
  if (dtype == DType::f32)
    return inertia_of(static_cast<const float*>(data), static_cast<const float*>(centers),
                      static_cast<const float*>(weights), n, d, k, labels, distances);
  if (dtype == DType::f64)
    return inertia_of(static_cast<const double*>(data), static_cast<const double*>(centers),
                      static_cast<const double*>(weights), n, d, k, labels, distances);
  throw TypeError(std::string("kmeans: data dtype ") + dtype_name(dtype) +
                  " is not supported (float32, float64)");
}

}  // namespace foveal

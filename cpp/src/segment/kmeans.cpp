// The k-means driver: argument checks and the kernel of the active instruction set.
#include <string>

#include "foveal/error.hpp"
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
                     double* sums, double* counts, double* distances) {
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
  kernels().kmeans_assign(plan);
  return plan.inertia;
}

}  // namespace foveal

// Segmentation: k-means clustering (the assignment and accumulation step of Lloyd's algorithm;
// the iterations, initialisation and convergence live in the Python layer, foveal.segment).
#pragma once

#include <cstdint>

#include "foveal/image.hpp"

namespace foveal {

// One Lloyd step, fused: every point of data (n x d, contiguous, float32 or float64) is
// assigned to its nearest center (k x d, same dtype; ties go to the lowest index) into
// labels, and the weighted sums of the points of each cluster (k x d) and their weights (k) are
// accumulated in float64 without an n x k matrix. weights: n values of the data's dtype or null
// (all 1). distances (n values, or null) gets each point's squared distance to its center.
// Returns the inertia, sum_i w_i |x_i - c_label|^2. Deterministic for a given thread count.
double kmeans_assign(const void* data, const void* centers, const void* weights, DType dtype,
                     std::int64_t n, std::int64_t d, std::int64_t k, std::int32_t* labels,
                     double* sums, double* counts, double* distances);

}  // namespace foveal

// The k-means kernels' launchers (kmeans.cu): the fused assignment pass of Lloyd's algorithm
// and the distance pass behind foveal.segment's inertia and empty-cluster relocation, with the
// CPU pass's labels (cpp/src/segment/kmeans*.cpp). Plain C++ (no CUDA types), as every launcher
// header of cuda/; pointers are device pointers (host pointers under the emulator), ``stream``
// a cudaStream_t.
#pragma once

#include <cstdint>

#include "gpu_types.hpp"

namespace foveal {
namespace gpu {

// Which assignment kernel runs: automatic picks by k and d; the others are for tests (few
// needs d <= 16 and k * (d + 1) <= 256, else the call throws ValueError).
enum class KMeansPath { automatic, few, many };

// One Lloyd step (foveal::kmeans_assign without the incremental and pruning modes): each point
// of data (n x d, contiguous) to its nearest center (k x d, the data's dtype; ties to the lowest
// index) in labels, whose previous values count the changed labels; the weighted per-cluster
// sums (k x d) and weights (k) in float64; result[0] the inertia (0 unless want_inertia),
// result[1] the number of changed labels. sums, counts and result are overwritten.
struct KMeansAssignArgs {
  Real dtype = Real::f32;
  const void* data = nullptr;
  const void* centers = nullptr;
  const void* weights = nullptr;  // n values of the data's dtype, or null (all 1)
  std::int64_t n = 0, d = 0, k = 0;
  std::int32_t* labels = nullptr;  // n, read and written
  double* sums = nullptr;          // k x d
  double* counts = nullptr;        // k
  double* result = nullptr;        // 2
  bool want_inertia = true;
  KMeansPath path = KMeansPath::automatic;
  // The shared memory the many-centers kernel may keep its per-block sums in, in bytes; -1:
  // the device's limit. Tests pass a small value to run the sums in global memory instead.
  std::int64_t shared_limit = -1;
};

void kmeans_assign(const KMeansAssignArgs& a, void* stream);

// foveal::kmeans_inertia: each point's squared distance to its labelled center in the data's
// precision (into distances, n float64 values, unless null), and result[0] = sum_i w_i
// dist_i in float64; result[1] the number of labels outside [0, k) (those points are
// skipped: the caller raises).
struct KMeansDistanceArgs {
  Real dtype = Real::f32;
  const void* data = nullptr;
  const void* centers = nullptr;
  const void* weights = nullptr;  // n or null
  std::int64_t n = 0, d = 0, k = 0;
  const std::int32_t* labels = nullptr;  // n
  double* distances = nullptr;           // n or null
  double* result = nullptr;              // 2
};

void kmeans_distances(const KMeansDistanceArgs& a, void* stream);

}  // namespace gpu
}  // namespace foveal

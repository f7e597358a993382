// What the k-means driver hands to the kernels compiled once per instruction set.
#pragma once

#include <cstdint>

namespace foveal {
namespace detail {

struct KMeansPlan {
  bool wide = false;  // float64 (else float32)
  const void* data = nullptr;
  const void* centers = nullptr;
  const void* weights = nullptr;
  std::int64_t n = 0, d = 0, k = 0;
  std::int32_t* labels = nullptr;  // read (the previous labels) and written
  double* sums = nullptr;          // k x d, written
  double* counts = nullptr;        // k, written
  double* distances = nullptr;     // n or null
  bool want_inertia = true;        // false: the inertia may be left 0 (Lloyd's inner passes)
  double inertia = 0.0;            // written
  std::int64_t changed = 0;        // written: points whose label differs from the previous one
  // Hamerly's bounds (general path only; null: none). upper[i] bounds the distance from point
  // i to its center from above, lower[i] its distance to every other center from below, and
  // norms[i] is |x_i|; all three are written by a first pass (shift null) and upper and lower
  // by every pass. shift (k values) is how far each center moved since the bounds were
  // written; it needs changes_only (the points it keeps are not even read).
  bool changes_only = false;  // sums and counts receive the changes to the last pass's (see
                              // kmeans_assign); labels must hold that pass's labels
  double* upper = nullptr;
  double* lower = nullptr;
  double* norms = nullptr;
  const double* shift = nullptr;
};

}  // namespace detail
}  // namespace foveal

#define FOVEAL_DECLARE_KMEANS_KERNELS(isa)      \
  namespace foveal {                            \
  namespace isa {                               \
  void kmeans_assign(detail::KMeansPlan& plan); \
  }                                             \
  }

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
  double* sums = nullptr;       // k x d, written
  double* counts = nullptr;     // k, written
  double* distances = nullptr;  // n or null
  bool want_inertia = true;     // false: the inertia may be left 0 (Lloyd's inner passes)
  double inertia = 0.0;         // written
  std::int64_t changed = 0;     // written: points whose label differs from the previous one
};

}  // namespace detail
}  // namespace foveal

#define FOVEAL_DECLARE_KMEANS_KERNELS(isa)      \
  namespace foveal {                            \
  namespace isa {                               \
  void kmeans_assign(detail::KMeansPlan& plan); \
  }                                             \
  }

// The k-means launchers in the GPU modules (_cuda, and _cuda_emu under the SIMT emulator):
// device pointers and the stream arrive as integers; the Python route (foveal._gpu.segment)
// has checked shapes, dtypes and contiguity, and the sizes are checked again here.
#include <pybind11/pybind11.h>

#include <climits>
#include <cstdint>
#include <string>

#include "bind_util.hpp"
#include "kmeans.hpp"

namespace py = pybind11;

namespace foveal {
namespace gpu {
namespace {

KMeansPath kmeans_path(const std::string& path) {
  if (path == "auto") return KMeansPath::automatic;
  if (path == "few") return KMeansPath::few;
  if (path == "many") return KMeansPath::many;
  throw ValueError("kmeans: path must be auto, few or many, got " + path);
}

void check_sizes(i64 n, i64 d, i64 k) {
  require(n > 0 && d > 0 && k > 0, "kmeans", "data and centers must not be empty");
  require(k < INT_MAX && d < INT_MAX && n <= LLONG_MAX / d, "kmeans", "too many values");
}

void bind_kmeans(py::module_& m) {
  m.def(
      "kmeans_assign",
      [](const std::string& dtype, std::uintptr_t data, std::uintptr_t centers,
         std::uintptr_t weights, std::uintptr_t labels, std::uintptr_t sums, std::uintptr_t counts,
         std::uintptr_t result, i64 n, i64 d, i64 k, bool want_inertia, const std::string& path,
         i64 shared_limit, std::uintptr_t stream) {
        KMeansAssignArgs a;
        a.dtype = real_of(dtype, "kmeans");
        check_sizes(n, d, k);
        require(data != 0 && centers != 0 && labels != 0 && sums != 0 && counts != 0 && result != 0,
                "kmeans", "null pointer");
        a.data = address(data), a.centers = address(centers), a.weights = address(weights);
        a.n = n, a.d = d, a.k = k;
        a.labels = static_cast<std::int32_t*>(address(labels));
        a.sums = static_cast<double*>(address(sums));
        a.counts = static_cast<double*>(address(counts));
        a.result = static_cast<double*>(address(result));
        a.want_inertia = want_inertia;
        a.path = kmeans_path(path);
        a.shared_limit = shared_limit;
        py::gil_scoped_release release;
        kmeans_assign(a, address(stream));
      },
      py::arg("dtype"), py::arg("data"), py::arg("centers"), py::arg("weights"), py::arg("labels"),
      py::arg("sums"), py::arg("counts"), py::arg("result"), py::arg("n"), py::arg("d"),
      py::arg("k"), py::arg("want_inertia"), py::arg("path"), py::arg("shared_limit"),
      py::arg("stream"));

  m.def(
      "kmeans_distances",
      [](const std::string& dtype, std::uintptr_t data, std::uintptr_t centers,
         std::uintptr_t weights, std::uintptr_t labels, std::uintptr_t distances,
         std::uintptr_t result, i64 n, i64 d, i64 k, std::uintptr_t stream) {
        KMeansDistanceArgs a;
        a.dtype = real_of(dtype, "kmeans");
        check_sizes(n, d, k);
        require(data != 0 && centers != 0 && labels != 0 && result != 0, "kmeans", "null pointer");
        a.data = address(data), a.centers = address(centers), a.weights = address(weights);
        a.n = n, a.d = d, a.k = k;
        a.labels = static_cast<const std::int32_t*>(address(labels));
        a.distances = static_cast<double*>(address(distances));
        a.result = static_cast<double*>(address(result));
        py::gil_scoped_release release;
        kmeans_distances(a, address(stream));
      },
      py::arg("dtype"), py::arg("data"), py::arg("centers"), py::arg("weights"), py::arg("labels"),
      py::arg("distances"), py::arg("result"), py::arg("n"), py::arg("d"), py::arg("k"),
      py::arg("stream"));
}

const Family family(&bind_kmeans);

}  // namespace
}  // namespace gpu
}  // namespace foveal

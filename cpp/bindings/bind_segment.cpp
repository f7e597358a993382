// Segmentation bindings. The Python wrappers (foveal.segment) have validated the arguments and
// hand in C-contiguous arrays of one dtype.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "array_view.hpp"
#include "foveal/segment.hpp"

namespace py = pybind11;
using foveal::bindings::dtype_of;

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw foveal::ValueError(std::string("kmeans: ") + what);
}

}  // namespace

void bind_segment(py::module_& m) {
  m.def(
      "kmeans_assign",
      [](const py::array& data, const py::array& centers, py::object weights, py::array& labels,
         py::array& sums, py::array& counts, py::object distances) {
        const auto dt = dtype_of(data, "kmeans", "data");
        require(data.ndim() == 2 && (data.flags() & py::array::c_style),
                "data must be a C-contiguous (n, d) array");
        require(centers.ndim() == 2 && (centers.flags() & py::array::c_style) &&
                    centers.shape(1) == data.shape(1) &&
                    dtype_of(centers, "kmeans", "centers") == dt,
                "centers must be a C-contiguous (k, d) array of the data's dtype");
        const std::int64_t n = data.shape(0), d = data.shape(1), k = centers.shape(0);
        const void* w = nullptr;
        py::array warr;
        if (!weights.is_none()) {
          warr = weights.cast<py::array>();
          require(warr.ndim() == 1 && warr.shape(0) == n && (warr.flags() & py::array::c_style) &&
                      dtype_of(warr, "kmeans", "sample_weight") == dt,
                  "sample_weight must be n contiguous values of the data's dtype");
          w = warr.data();
        }
        require(labels.ndim() == 1 && labels.shape(0) == n && labels.dtype().kind() == 'i' &&
                    labels.itemsize() == 4 && labels.writeable() &&
                    (labels.flags() & py::array::c_style),
                "labels must be a writeable int32 array of n values");
        require(sums.ndim() == 2 && sums.shape(0) == k && sums.shape(1) == d &&
                    sums.dtype().kind() == 'f' && sums.itemsize() == 8 && sums.writeable() &&
                    (sums.flags() & py::array::c_style),
                "sums must be a writeable float64 (k, d) array");
        require(counts.ndim() == 1 && counts.shape(0) == k && counts.dtype().kind() == 'f' &&
                    counts.itemsize() == 8 && counts.writeable() &&
                    (counts.flags() & py::array::c_style),
                "counts must be a writeable float64 array of k values");
        double* dist = nullptr;
        py::array darr;
        if (!distances.is_none()) {
          darr = distances.cast<py::array>();
          require(darr.ndim() == 1 && darr.shape(0) == n && darr.dtype().kind() == 'f' &&
                      darr.itemsize() == 8 && darr.writeable() &&
                      (darr.flags() & py::array::c_style),
                  "distances must be a writeable float64 array of n values");
          dist = static_cast<double*>(darr.mutable_data());
        }
        const void* x = data.data();
        const void* c = centers.data();
        auto* lab = static_cast<std::int32_t*>(labels.mutable_data());
        auto* s = static_cast<double*>(sums.mutable_data());
        auto* cnt = static_cast<double*>(counts.mutable_data());
        py::gil_scoped_release release;
        return foveal::kmeans_assign(x, c, w, dt, n, d, k, lab, s, cnt, dist);
      },
      py::arg("data"), py::arg("centers"), py::arg("weights"), py::arg("labels"), py::arg("sums"),
      py::arg("counts"), py::arg("distances"));
}

// The _cuda extension module. Built only when nvcc is found (FOVEAL_CUDA=AUTO|ON).
#include <pybind11/pybind11.h>

#include "device.hpp"
#include "errors.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "foveal's CUDA kernels (private: use the foveal package)";
  foveal::bindings::register_errors();
  m.def("device_count", &foveal::cuda::device_count);
  m.def("runtime_version", &foveal::cuda::runtime_version);
  m.def("driver_version", &foveal::cuda::driver_version);
  m.def(
      "device_info",
      [](int device) {
        const foveal::cuda::DeviceInfo info = foveal::cuda::device_info(device);
        py::dict d;
        d["name"] = info.name;
        d["compute_capability"] = py::make_tuple(info.major, info.minor);
        d["multiprocessors"] = info.multiprocessors;
        d["total_memory"] = info.total_memory;
        return d;
      },
      py::arg("device") = 0);
}

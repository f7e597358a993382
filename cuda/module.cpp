// The GPU extension modules. _cuda (built when nvcc is found, FOVEAL_CUDA=AUTO|ON) holds the
// device queries and the kernels compiled for sm_80 and sm_90; _cuda_emu (FOVEAL_CUDA_EMU)
// holds the same kernels built for the SIMT emulator (cuda/simt), so that tests run them on
// the CPU of a machine without a GPU.
#include <pybind11/pybind11.h>

#include "errors.hpp"

#ifndef FOVEAL_SIMT_EMU
#include "device.hpp"
#endif

namespace py = pybind11;

#include "bind_util.hpp"

#ifdef FOVEAL_SIMT_EMU
PYBIND11_MODULE(_cuda_emu, m) {
  m.doc() = "foveal's CUDA kernels run by the SIMT emulator on the CPU (private: for tests)";
  foveal::bindings::register_errors();
  m.attr("emulated") = true;
  foveal::gpu::bind_families(m);
}
#else
PYBIND11_MODULE(_cuda, m) {
  m.doc() = "foveal's CUDA kernels (private: use the foveal package)";
  foveal::bindings::register_errors();
  m.attr("emulated") = false;
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
  foveal::gpu::bind_families(m);
}
#endif

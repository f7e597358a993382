// Threads, instruction sets and build facts, for foveal.set_num_threads and show_config.
#include <pybind11/pybind11.h>

#include "foveal/cpu_features.hpp"
#include "foveal/error.hpp"
#include "foveal/parallel.hpp"
#include "foveal/version.hpp"

namespace py = pybind11;

namespace {

foveal::Isa isa_from_name(const std::string& name) {
  if (name == "baseline") return foveal::Isa::Baseline;
  if (name == "avx2") return foveal::Isa::AVX2;
  if (name == "avx512") return foveal::Isa::AVX512;
  throw foveal::ValueError("set_isa: isa must be 'baseline', 'avx2' or 'avx512', got '" + name +
                           "'");
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

void bind_runtime(py::module_& m) {
  m.def("version", &foveal::version);
  m.def("compiler", &compiler);
  m.def("set_num_threads", &foveal::set_num_threads, py::arg("n"));
  m.def("set_local_num_threads", &foveal::set_local_num_threads, py::arg("n"));
  m.def("get_num_threads", &foveal::get_num_threads);
  m.def("default_num_threads", &foveal::default_num_threads);
  m.def("active_isa", [] { return std::string(foveal::isa_name(foveal::active_isa())); });
  m.def("detected_isa", [] { return std::string(foveal::isa_name(foveal::detected_isa())); });
  m.def("supported_isas", [] {
    py::list out;
    for (auto isa : {foveal::Isa::Baseline, foveal::Isa::AVX2, foveal::Isa::AVX512})
      if (foveal::isa_supported(isa)) out.append(foveal::isa_name(isa));
    return out;
  });
  m.def(
      "set_isa", [](const std::string& name) { foveal::set_active_isa(isa_from_name(name)); },
      py::arg("isa"));
}

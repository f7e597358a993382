// The _core extension module: one bind_* function per family, and the translation of
// foveal's C++ errors into Python's built-in exceptions.
#include <pybind11/pybind11.h>

#include "errors.hpp"

namespace py = pybind11;

void bind_runtime(py::module_& m);
void bind_morphology(py::module_& m);
void bind_filters(py::module_& m);
void bind_nn(py::module_& m);
void bind_attention(py::module_& m);
void bind_segment(py::module_& m);
void bind_output_pool(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "foveal's CPU kernels (private: use the foveal package)";
  foveal::bindings::register_errors();
  bind_runtime(m);
  bind_morphology(m);
  bind_filters(m);
  bind_nn(m);
  bind_attention(m);
  bind_segment(m);
  bind_output_pool(m);
}

// The _core extension module: one bind_* function per family, and the translation of
// foveal's C++ errors into Python's built-in exceptions.
#include <pybind11/pybind11.h>

#include "foveal/error.hpp"

namespace py = pybind11;

void bind_runtime(py::module_& m);
void bind_morphology(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "foveal's CPU kernels (private: use the foveal package)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const foveal::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const foveal::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const foveal::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  bind_runtime(m);
  bind_morphology(m);
}

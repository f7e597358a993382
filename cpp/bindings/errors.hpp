// foveal's C++ errors as Python's built-in exceptions, for every extension module.
#pragma once

#include <pybind11/pybind11.h>

#include "foveal/error.hpp"

namespace foveal {
namespace bindings {

inline void register_errors() {
  pybind11::register_exception_translator([](std::exception_ptr p) {
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
}

}  // namespace bindings
}  // namespace foveal

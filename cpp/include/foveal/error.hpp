// Errors thrown by foveal's C++ core. The Python bindings turn each class into the matching
// built-in exception (TypeError, ValueError, MemoryError, RuntimeError), so argument checks
// written once here read the same from C++ and from Python.
//
// Every function of the API checks its arguments and throws TypeError or ValueError, with a
// message "function: argument ... got ..., expected ...", naming the function as the Python API
// does. Allocation failure is std::bad_alloc, not a foveal::Error (Python's MemoryError).
// Catch foveal::Error to handle both kinds of bad argument at once.
#pragma once

#include <stdexcept>
#include <string>

namespace foveal {

// The base of foveal's exceptions; what() is the message. The bindings map an Error that is
// neither of the classes below to RuntimeError.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A wrong type or dtype: "dilate: image dtype int32 is not supported (uint8, ...)".
class TypeError : public Error {
 public:
  using Error::Error;
};

// A wrong shape, size or value: "erode: iterations must be >= 0, got -1".
class ValueError : public Error {
 public:
  using Error::Error;
};

}  // namespace foveal

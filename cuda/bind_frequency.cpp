// The band-pass mask's launcher in the GPU modules (see bind_pool.cpp for the conventions).
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "bind_util.hpp"
#include "frequency.hpp"

namespace py = pybind11;

namespace foveal {
namespace gpu {
namespace {

BandKind band_kind(const std::string& kind) {
  if (kind == "ideal") return BandKind::ideal;
  if (kind == "gaussian") return BandKind::gaussian;
  if (kind == "butterworth") return BandKind::butterworth;
  throw ValueError("bandpass: kind must be ideal, gaussian or butterworth, got " + kind);
}

void bind_frequency(py::module_& m) {
  m.def(
      "bandpass_mask",
      [](const std::string& dtype, std::uintptr_t spectrum, i64 planes, i64 h, i64 w,
         const std::string& kind, double low, py::object high, int order, std::uintptr_t stream) {
        BandpassArgs a;
        a.dtype = real_of(dtype, "bandpass");
        a.spectrum = address(spectrum);
        a.planes = planes, a.h = h, a.w = w;
        a.kind = band_kind(kind);
        a.low = low;
        a.high = high.is_none() ? -1.0 : high.cast<double>();
        a.order = order;
        require(planes >= 0 && h > 0 && w > 0, "bandpass", "bad sizes");
        require(std::isfinite(low) && low >= 0, "bandpass", "low must be finite and >= 0");
        require(high.is_none() || a.high > low, "bandpass", "high must be > low");
        require(order >= 1, "bandpass", "order must be >= 1");
        require(spectrum != 0, "bandpass", "null pointer");
        py::gil_scoped_release release;
        bandpass_mask(a, address(stream));
      },
      py::arg("dtype"), py::arg("spectrum"), py::arg("planes"), py::arg("h"), py::arg("w"),
      py::arg("kind"), py::arg("low"), py::arg("high"), py::arg("order"), py::arg("stream"));
}

const Family family(&bind_frequency);

}  // namespace
}  // namespace gpu
}  // namespace foveal
